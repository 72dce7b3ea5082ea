"""A cue term for an object's position relative to a landmark."""
import math
from typing import Dict, Optional, Sequence, Tuple

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

    Two options read "next to" and a landmark with look-alikes better:

    * ``radial_widths`` (``sigma_r``) add distance features to ``E``:
      ``exp(-|d|^2 / (2 sigma_r^2))``, a bump around the landmark, which
      the per-axis waves can only give as a cross;
    * ``over_map`` takes the term over the landmark's map instead of at its
      mean position, ``G_i += (R s) . sum_j m_j E(xy_i - xy_j)``: with two
      candidate landmarks the term is near either, not between them.

    A third reads the landmark where the target's words are not:

    * ``locate_on='projected'`` matches the landmark's words against the
      patches and words *before* CCR's refinement (``V0``, ``W0``). The
      refined patches ``V'`` have read the whole sentence, the target's
      words with the landmark's, so the target's own patches also answer
      the landmark's query; ``V0`` holds what each patch looks like only.

    A fourth reads the landmark together with the target, as "the red car
    next to the pond" means it (with two ponds, the one a red car is next
    to):

    * ``joint`` (with ``over_map``) weighs each candidate landmark cell by
      the best patch for the target that stands in the named relation to
      it, given the cue ``c`` before the term (read, not trained through)::

          T_ij = (R s) . E(xy_i - xy_j)          (the term at i from j)
          m_j  = softmax_j(t * cos(V_j, sum_l a_l W_l)
                           + logsumexp_i(c_i + T_ij))
          G_i += sum_j m_j T_ij

      At initialisation ``T = 0`` and ``m`` is the plain map.

    Args:
        dims (int): Channels D of the patches, words and sentence.
        frequencies (int): F, the frequencies of ``E`` per axis.
            Defaults to 4.
        landmark_scale_init (float): Initial ``t``. Defaults to 10.
        radial_widths (Sequence[float]): ``sigma_r`` of the distance
            features, in the grid's [-1, 1] units. Defaults to () (none).
        over_map (bool): Take the term over the landmark's map. Defaults to
            False (at its mean position ``mu``).
        locate_on (str): ``'refined'`` (``V'``, ``W'``) or ``'projected'``
            (``V0``, ``W0``, see above). Defaults to ``'refined'``.
        joint (bool): Read the landmark together with the target (see
            above); needs ``over_map``. Defaults to False.
    """

    LOCATE_ON = ('refined', 'projected')

    def __init__(self,
                 dims: int,
                 frequencies: int = 4,
                 landmark_scale_init: float = 10.0,
                 radial_widths: Sequence[float] = (),
                 over_map: bool = False,
                 locate_on: str = 'refined',
                 joint: bool = False):
        super().__init__()
        if frequencies < 1:
            raise ValueError(f'frequencies must be >= 1, got {frequencies}')
        if any(width <= 0 for width in radial_widths):
            raise ValueError(
                f'radial_widths must be > 0, got {tuple(radial_widths)}')
        if locate_on not in self.LOCATE_ON:
            raise ValueError(f'locate_on must be one of {self.LOCATE_ON}, '
                             f'got {locate_on!r}')
        if joint and not over_map:
            raise ValueError('joint=True reads the term over the landmark '
                             'map: set over_map=True')
        self.locate_on = locate_on
        self.joint = joint
        self.landmark_query = nn.Linear(dims, dims)
        self.landmark_scale = nn.Parameter(
            torch.tensor(float(landmark_scale_init)))
        self.register_buffer(
            'freqs',
            math.pi / 2 * torch.arange(1, frequencies + 1).float(),
            persistent=False)
        self.register_buffer(
            'radial_widths',
            torch.tensor([float(width) for width in radial_widths]),
            persistent=False)
        self.over_map = over_map
        self._pairwise: Dict[tuple, Tensor] = {}
        self.relation = nn.Linear(dims, 4 * frequencies + len(radial_widths))
        nn.init.zeros_(self.relation.weight)
        nn.init.zeros_(self.relation.bias)

    def locate(self,
               v: Tensor,
               w: Tensor,
               s: Tensor,
               pad_mask: Tensor,
               xy: Tensor,
               support: Optional[Tensor] = None) -> Landmark:
        """The landmark's words, patches and position ``mu``; ``support``
        ``(B, N)`` is added to the map's logits (``joint``)."""
        landmark, words = pool_words(w, self.landmark_query(s), pad_mask)
        cos = F.normalize(v, dim=-1) @ F.normalize(landmark, dim=-1)[..., None]
        logits = self.landmark_scale * cos.squeeze(-1)
        if support is not None:
            logits = logits + support
        patches = logits.softmax(-1)
        return Landmark(words, patches, patches @ xy)

    def offset_features(self, offset: Tensor) -> Tensor:
        """``E(d)`` of offsets ``(..., 2)``: ``(..., 4F + len(radial))``."""
        angles = offset[..., None] * self.freqs.to(offset.dtype)
        features = [torch.cat([angles.sin(), angles.cos()], -1).flatten(-2)]
        if len(self.radial_widths):
            widths = self.radial_widths.to(offset.dtype)
            squared = offset.square().sum(-1, keepdim=True)
            features.append(torch.exp(-squared / (2 * widths.square())))
        return torch.cat(features, dim=-1)

    def pairwise_features(self, xy: Tensor, height: int, width: int) -> Tensor:
        """``E(xy_i - xy_j)`` of every pair of cells, ``(N, N, F')``:
        computed once per grid (it holds no parameter), then reused."""
        key = (height, width, xy.device, xy.dtype)
        if key not in self._pairwise:
            self._pairwise[key] = self.offset_features(xy[:, None] - xy[None])
        return self._pairwise[key]

    def forward(self,
                v: Tensor,
                w: Tensor,
                s: Tensor,
                pad_mask: Tensor,
                height: int,
                width: int,
                projected: Optional[Tuple[Tensor, Tensor]] = None,
                cue: Optional[Tensor] = None) -> Tuple[Tensor, Landmark]:
        """The term ``(B, height * width)`` of the cue, and the landmark it
        was placed from.

        Args:
            v (Tensor): Patches ``(B, height * width, D)``, row-major.
            w (Tensor): Words ``(B, L, D)``.
            s (Tensor): Sentence ``(B, D)``.
            pad_mask (Tensor): ``(B, L)``, True at padded words.
            height (int): Patch rows.
            width (int): Patch columns.
            projected (tuple[Tensor], optional): ``V0``, ``W0`` before
                refinement, shaped like ``v``, ``w``; needed by
                ``locate_on='projected'``.
            cue (Tensor, optional): ``(B, height * width)`` the cue before
                the term; needed by ``joint``.
        """
        xy = 2 * cell_centres(height, width, v) - 1
        if self.locate_on == 'projected':
            if projected is None:
                raise ValueError("LandmarkRelationPrior(locate_on='projected')"
                                 ' needs the patches and words before '
                                 'refinement (projected=(V0, W0))')
            v, w = projected
        if self.joint:
            return self.joint_term(v, w, s, pad_mask, xy, height, width, cue)
        landmark = self.locate(v, w, s, pad_mask, xy)
        if self.over_map:
            pairwise = self.pairwise_features(xy, height, width)
            embedding = torch.einsum('bj,ijf->bif', landmark.patch_weights,
                                     pairwise)
        else:
            embedding = self.offset_features(xy[None] -
                                             landmark.position[:, None])
        term = (embedding @ self.relation(s)[..., None]).squeeze(-1)
        return term, landmark

    def joint_term(self, v: Tensor, w: Tensor, s: Tensor, pad_mask: Tensor,
                   xy: Tensor, height: int, width: int,
                   cue: Optional[Tensor]) -> Tuple[Tensor, Landmark]:
        """The term and landmark of ``joint`` (see the class docstring)."""
        if cue is None:
            raise ValueError('LandmarkRelationPrior(joint=True) needs the cue '
                             'before the term (cue=...)')
        pairwise = self.pairwise_features(xy, height, width)
        pair_term = torch.einsum('ijf,bf->bij', pairwise, self.relation(s))
        support = torch.logsumexp(cue.detach()[:, :, None] + pair_term, 1)
        landmark = self.locate(v, w, s, pad_mask, xy, support)
        term = torch.einsum('bj,bij->bi', landmark.patch_weights, pair_term)
        return term, landmark
