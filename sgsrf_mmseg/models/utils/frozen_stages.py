"""Frozen leading stages of a tower: one rule for CLIP and SAM encoders."""
from typing import List, Sequence, Union

import torch
import torch.nn as nn

Part = Union[nn.Module, nn.Parameter]


def requires_grad(part: Part) -> bool:
    """Whether a module has a trainable parameter (or a parameter is one)."""
    if isinstance(part, nn.Parameter):
        return part.requires_grad
    return any(p.requires_grad for p in part.parameters())


class FrozenStagesMixin:
    """Freezes the first ``frozen_stages`` stages of a tower.

    A tower lists its parts with :meth:`stages`: stage 0 is the embedding
    (patch or token embedding, position embedding, ...), stage ``i + 1``
    the ``i``-th block; :meth:`tail` lists what follows the last block
    (final norm, projection, neck). ``frozen_stages``:

    * ``-1``: everything trains;
    * ``k >= 0``: stage 0 and the first ``k`` blocks are frozen;
    * ``k >=`` the number of blocks: the whole tower, tail included.

    Frozen parts get ``requires_grad=False`` (:meth:`freeze_stages`), stay
    in eval mode when the model trains (:meth:`train`), and run without
    building an autograd graph (:class:`GradGate`).
    """
    frozen_stages: int

    def stages(self) -> List[List[Part]]:
        """Parts of each stage, in the order they run."""
        raise NotImplementedError

    def tail(self) -> List[Part]:
        """Parts after the last block. Defaults to none."""
        return []

    def whole_tower(self) -> List[Part]:
        """What a fully frozen tower freezes. Defaults to stages and tail."""
        return [p for stage in self.stages() for p in stage] + self.tail()

    @property
    def fully_frozen(self) -> bool:
        """Whether ``frozen_stages`` freezes the whole tower."""
        return self.frozen_stages >= len(self.stages()) - 1

    def frozen_parts(self) -> List[Part]:
        """The parts ``frozen_stages`` freezes."""
        if self.frozen_stages < 0:
            return []
        if self.fully_frozen:
            return self.whole_tower()
        return [
            p for stage in self.stages()[:self.frozen_stages + 1]
            for p in stage
        ]

    def freeze_stages(self) -> None:
        """Set ``requires_grad=False`` on the frozen parts."""
        for part in self.frozen_parts():
            part.requires_grad_(False)

    def train(self, mode: bool = True):
        """Set train/eval mode; frozen modules stay in eval mode."""
        super().train(mode)
        for part in self.frozen_parts():
            if isinstance(part, nn.Module):
                part.eval()
        return self


class GradGate:
    """Records autograd from the first stage that needs it on.

    Frozen leading stages run under ``no_grad`` unless the input itself
    requires grad; from the first trainable stage on, every stage records.

    Args:
        input_requires_grad (bool): Whether the tower's input needs a
            gradient (then every stage records).
    """

    def __init__(self, input_requires_grad: bool = False) -> None:
        self.enabled = torch.is_grad_enabled()
        self.active = self.enabled and input_requires_grad

    def stage(
        self, *parts: Part, inputs: Sequence[torch.Tensor] = ()
    ) -> torch.set_grad_enabled:
        """Context to run a stage made of ``parts`` (reading extra
        ``inputs`` besides the running features) in."""
        self.active = self.active or self.enabled and (any(
            requires_grad(p) for p in parts) or any(t.requires_grad
                                                    for t in inputs))
        return torch.set_grad_enabled(self.active)
