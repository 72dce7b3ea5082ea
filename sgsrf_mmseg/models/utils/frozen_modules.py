"""Keep the frozen parts of a module in eval mode."""
from typing import List

import torch.nn as nn


class FrozenInEvalMixin:
    """``train()`` that leaves the modules of ``frozen_modules()`` in eval.

    Frozen parts (``frozen_stages``) must not update normalisation
    statistics nor use dropout while the rest of the model trains.
    """

    def frozen_modules(self) -> List[nn.Module]:
        """The modules to keep in eval mode."""
        raise NotImplementedError

    def train(self, mode: bool = True):
        """Set train/eval mode; frozen parts stay in eval mode."""
        super().train(mode)
        for module in self.frozen_modules():
            module.eval()
        return self
