"""Grounding modulation of SAM image-encoder tokens."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule


class GroundingAdapter(BaseModule):
    r"""FiLM from the sentence feature, gated in space by the grounding cue.

    For tokens :math:`x` (B, h, w, C), sentence feature :math:`s'` (B, D)
    and cue logits :math:`c` (B, 1, h_c, w_c):

    .. math::

        m &= \sigma(a \cdot \mathrm{resize}(c) + b) \\
        [\gamma, \beta] &= W s' + w_0 \\
        x' &= x + (1 + m) \odot (\gamma \odot \mathrm{LN}(x) + \beta)

    ``resize`` is bilinear to the token grid (on the logits), ``LN`` a
    LayerNorm without affine parameters, ``a``, ``b`` learnable scalars
    (the gate; start at 1 and 0, so ``m`` starts as the cue
    :math:`G = \sigma(c)`) and ``W``, ``w_0`` the FiLM projection, zero at
    initialisation: then :math:`x' = x` exactly, and the projection still
    receives a gradient (``LN(x)`` is not zero). The gate's gradient is
    zero until the projection moves. The spatial gate stresses the
    grounded region (factor up to 2) without erasing the modulation where
    the cue is low (factor at least 1), so a cue that misses a target does
    not cut the sentence off from SAM there.

    Args:
        embed_dims (int): Token channels C.
        cue_channels (int): Sentence feature channels D.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 embed_dims: int,
                 cue_channels: int,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.norm = nn.LayerNorm(embed_dims, elementwise_affine=False)
        self.film = nn.Linear(cue_channels, 2 * embed_dims)
        self.gate_scale = nn.Parameter(torch.ones(1))
        self.gate_bias = nn.Parameter(torch.zeros(1))
        self.init_weights()

    def init_weights(self) -> None:
        """Zero the FiLM projection and reset the gate."""
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)
        nn.init.ones_(self.gate_scale)
        nn.init.zeros_(self.gate_bias)

    def forward(self, x: torch.Tensor, sentence: torch.Tensor,
                cue_logits: torch.Tensor) -> torch.Tensor:
        """Modulate the tokens.

        Args:
            x (Tensor): Tokens (B, h, w, C).
            sentence (Tensor): Sentence feature s' (B, D).
            cue_logits (Tensor): Grounding cue before sigmoid (B, 1, h', w').

        Returns:
            Tensor: Modulated tokens (B, h, w, C).
        """
        h, w = x.shape[1:3]
        cue = F.interpolate(
            cue_logits.to(x.dtype),
            size=(h, w),
            mode='bilinear',
            align_corners=False)
        gate = torch.sigmoid(self.gate_scale * cue + self.gate_bias)
        gamma, beta = self.film(sentence).to(x.dtype)[:, None, None].chunk(
            2, dim=-1)
        return x + (1 + gate.permute(0, 2, 3, 1)) * (
            gamma * self.norm(x) + beta)
