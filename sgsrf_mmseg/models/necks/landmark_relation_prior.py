"""A cue term for an object's position relative to a landmark."""
import math
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ..utils.grid_cells import cell_centres
from ..utils.stage_outputs import Landmark
from .attention import pool_words


class LandmarkRelationPrior(nn.Module):
    """Where a relation to a landmark puts the target ("the car *left of the
    white building*"), as a term of the grounding cue.

    The sentence picks the landmark's words, the landmark's words pick its
    patches, and their soft-argmax is the landmark's position ``mu``. Each
    patch then gets a term linear in an embedding of its offset from ``mu``,
    with weights read from the sentence::

        a   = softmax_l(W_l . (Q s) / sqrt(D))      (padded words excluded)
        m   = softmax_j(t * cos(V_j, sum_l a_l W_l))
        mu  = sum_j m_j xy_j                         (xy in [-1, 1]^2)
        G_i += (R s) . E(xy_i - mu)

    with ``E(d) = [sin(pi k d / 2), cos(pi k d / 2)]`` for ``k = 1..F``, on
    each axis. ``R`` is zero at initialisation, so the cue starts unchanged.
    Two objects of the same colour and kind get different terms when they lie
    on different sides of the landmark, which a score of each patch against
    the sentence alone cannot give them.

    Args:
        dims (int): Channels D of the patches, words and sentence.
        frequencies (int): F, the frequencies of ``E`` per axis.
            Defaults to 4.
        landmark_scale_init (float): Initial ``t``. Defaults to 10.
    """

    def __init__(self,
                 dims: int,
                 frequencies: int = 4,
                 landmark_scale_init: float = 10.0):
        super().__init__()
        if frequencies < 1:
            raise ValueError(f'frequencies must be >= 1, got {frequencies}')
        self.landmark_query = nn.Linear(dims, dims)
        self.landmark_scale = nn.Parameter(
            torch.tensor(float(landmark_scale_init)))
        self.register_buffer(
            'freqs',
            math.pi / 2 * torch.arange(1, frequencies + 1).float(),
            persistent=False)
        self.relation = nn.Linear(dims, 4 * frequencies)
        nn.init.zeros_(self.relation.weight)
        nn.init.zeros_(self.relation.bias)

    def locate(self, v: Tensor, w: Tensor, s: Tensor, pad_mask: Tensor,
               xy: Tensor) -> Landmark:
        """The landmark's words, patches and position ``mu``."""
        landmark, words = pool_words(w, self.landmark_query(s), pad_mask)
        cos = F.normalize(v, dim=-1) @ F.normalize(landmark, dim=-1)[..., None]
        patches = (self.landmark_scale * cos.squeeze(-1)).softmax(-1)
        return Landmark(words, patches, patches @ xy)

    def forward(self, v: Tensor, w: Tensor, s: Tensor, pad_mask: Tensor,
                height: int, width: int) -> Tuple[Tensor, Landmark]:
        """The term ``(B, height * width)`` of the cue, and the landmark it
        was placed from.

        Args:
            v (Tensor): Patches ``(B, height * width, D)``, row-major.
            w (Tensor): Words ``(B, L, D)``.
            s (Tensor): Sentence ``(B, D)``.
            pad_mask (Tensor): ``(B, L)``, True at padded words.
            height (int): Patch rows.
            width (int): Patch columns.
        """
        xy = 2 * cell_centres(height, width, v) - 1
        landmark = self.locate(v, w, s, pad_mask, xy)
        offset = xy[None] - landmark.position[:, None]
        angles = offset[..., None] * self.freqs.to(v.dtype)
        embedding = torch.cat([angles.sin(), angles.cos()], dim=-1).flatten(2)
        term = (embedding @ self.relation(s)[..., None]).squeeze(-1)
        return term, landmark
