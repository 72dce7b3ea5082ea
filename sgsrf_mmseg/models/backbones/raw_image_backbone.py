"""A backbone that hands the image itself to a head that encodes it."""
from typing import Tuple

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS


@MODELS.register_module()
class RawImageBackbone(BaseModule):
    """Return the input image as the only "feature".

    For a stock ``EncoderDecoder`` whose decode head runs its own image
    encoder, e.g. ``GroundingSAMHead`` (SAM's encoder on the image). It has
    no parameters.
    """

    def forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor]:
        """``(inputs,)``: the ``(B, 3, H, W)`` batch as given."""
        return (inputs, )
