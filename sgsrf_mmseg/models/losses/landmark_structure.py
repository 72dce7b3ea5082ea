"""The landmark term: CCR's relation term must find the landmark the parse
names: on the landmark's cells where the data gives them, else off the
target and on the side the relation says."""
from typing import List, Optional, Sequence, Tuple

import torch.nn.functional as F
from torch import Tensor

from ..utils.grid_cells import cell_centres
from ..utils.stage_outputs import Landmark
from .expression_roles import TokenRoles
from .stage_structure import centroid, direction_part, mean_of_samples


def landmark_cells(landmark_map: Tensor, grid: Tuple[int, int]) -> Tensor:
    """``(B, h * w)`` landmark cells of ``(B, H, W)`` landmark maps: 1 where
    a cell holds a landmark pixel (value 1)."""
    return F.adaptive_max_pool2d((landmark_map == 1).float()[:, None],
                                 grid)[:, 0].flatten(1)


def landmark_sample_parts(
        words: Tensor,
        patches: Tensor,
        roles: TokenRoles,
        target: Tensor,
        centres: Tensor,
        margin: float,
        landmark_cells: Optional[Tensor] = None) -> List[List[Tensor]]:
    """The parts of the landmark term for one expression.

    Args:
        words (Tensor): ``(L,)`` the landmark's pooling of the words.
        patches (Tensor): ``(N,)`` its map over the patches.
        roles (TokenRoles): The roles of the expression's tokens.
        target (Tensor): ``(N,)`` target cells (1) of the mask.
        centres (Tensor): ``(N, 2)`` cell centres.
        margin (float): Direction margin (one cell).
        landmark_cells (Tensor, optional): ``(N,)`` cells (1) of the
            landmarks the expression names. Defaults to None.

    Returns:
        list[list[Tensor]]: Groups of parts: the words, then the map's mass
        off the landmark cells when some are given, else the separation
        and, for directed relations to one landmark, the directions; empty
        without a landmark token or without a target cell.
    """
    tokens = roles.landmark_tokens
    if not tokens or float(target.sum()) == 0:
        return []
    found = [1 - words[list(tokens)].sum()]
    if landmark_cells is not None and float(landmark_cells.sum()) > 0:
        return [found, [1 - (patches * landmark_cells).sum()]]
    groups = [found, [(patches * target).sum()]]
    offset = centroid(patches, centres) - centroid(target, centres)
    directions = [
        direction_part(offset.new_tensor(direction), offset, margin)
        for landmarks, direction, between in roles.relations
        if direction is not None and not between and len(landmarks) == 1
    ]
    return groups + [directions] if directions else groups


def landmark_structure_loss(landmark: Landmark,
                            roles: Sequence[TokenRoles],
                            target: Tensor,
                            grid: Tuple[int, int],
                            landmark_cells: Optional[Tensor] = None) -> Tensor:
    """Where CCR's landmark relation term looks must follow the parse.

    For every expression with a landmark, with ``a`` the term's pooling of
    the words, ``m`` its map over the patches (summing to 1), ``t`` the
    target cells, ``l`` the landmark cells, ``c(.)`` a centroid, ``u`` the
    relation's direction from the target to its landmark and ``margin``
    one cell::

        words     = 1 - sum_{i in landmark tokens} a_i
        on        = 1 - <m, l>              where the data gives l, else:
        separate  = <m, t>                  the landmark is not the target
        direction = relu(margin - u.d) / (margin + |d|),  d = c(m) - c(t)

    The term of an expression is the mean of its groups (words, then
    ``on``, or separate and the directions of its directed relations to one
    landmark), then the mean over expressions (0, in the graph, when none
    has a landmark). A map that stays on the target, or on the wrong side
    of it, fails; one that pools the target's words instead of the
    landmark's fails the words. Without ``l``, a map on background on the
    right side meets the term; ``on`` holds the map to the landmark itself.

    Args:
        landmark (Landmark): CCR's landmark (words ``(B, L)``, patches
            ``(B, N)``).
        roles (Sequence[TokenRoles]): Per expression.
        target (Tensor): ``(B, N)`` target cells.
        grid (tuple[int, int]): ``(h, w)`` with ``h * w = N``.
        landmark_cells (Tensor, optional): ``(B, N)`` landmark cells (1);
            an expression whose row is all 0 falls back to separate and
            direction. Defaults to None.

    Returns:
        Tensor: The term.
    """
    centres = cell_centres(*grid, target)
    margin = 1.0 / max(grid)
    words = landmark.word_weights.float()
    patches = landmark.patch_weights.float()
    return mean_of_samples([
        landmark_sample_parts(
            words[i], patches[i], roles[i], target[i].float(), centres, margin,
            None if landmark_cells is None else landmark_cells[i].float())
        for i in range(patches.shape[0])
    ], patches)
