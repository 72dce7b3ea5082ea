"""The landmark term: CCR's relation term must find the landmark the parse
names, off the target and on the side the relation says."""
from typing import List, Sequence, Tuple

from torch import Tensor

from ..utils.grid_cells import cell_centres
from ..utils.stage_outputs import Landmark
from .expression_roles import TokenRoles
from .stage_structure import centroid, direction_part, mean_of_samples


def landmark_sample_parts(words: Tensor, patches: Tensor, roles: TokenRoles,
                          target: Tensor, centres: Tensor,
                          margin: float) -> List[List[Tensor]]:
    """The parts of the landmark term for one expression.

    Args:
        words (Tensor): ``(L,)`` the landmark's pooling of the words.
        patches (Tensor): ``(N,)`` its map over the patches.
        roles (TokenRoles): The roles of the expression's tokens.
        target (Tensor): ``(N,)`` target cells (1) of the mask.
        centres (Tensor): ``(N, 2)`` cell centres.
        margin (float): Direction margin (one cell).

    Returns:
        list[list[Tensor]]: Groups of parts: the words, the separation and,
        for directed relations to one landmark, the directions; empty
        without a landmark token or without a target cell.
    """
    tokens = roles.landmark_tokens
    if not tokens or float(target.sum()) == 0:
        return []
    groups = [[1 - words[list(tokens)].sum()], [(patches * target).sum()]]
    offset = centroid(patches, centres) - centroid(target, centres)
    directions = [
        direction_part(offset.new_tensor(direction), offset, margin)
        for landmarks, direction, between in roles.relations
        if direction is not None and not between and len(landmarks) == 1
    ]
    return groups + [directions] if directions else groups


def landmark_structure_loss(landmark: Landmark, roles: Sequence[TokenRoles],
                            target: Tensor, grid: Tuple[int, int]) -> Tensor:
    """Where CCR's landmark relation term looks must follow the parse.

    For every expression with a landmark, with ``a`` the term's pooling of
    the words, ``m`` its map over the patches, ``t`` the target cells,
    ``c(.)`` a centroid, ``u`` the relation's direction from the target to
    its landmark and ``margin`` one cell::

        words     = 1 - sum_{i in landmark tokens} a_i
        separate  = <m, t>                  the landmark is not the target
        direction = relu(margin - u.d) / (margin + |d|),  d = c(m) - c(t)

    The term of an expression is the mean of its groups (words, separate,
    and the directions of its directed relations to one landmark), then the
    mean over expressions (0, in the graph, when none has a landmark). A
    map that stays on the target, or on the wrong side of it, fails; one
    that pools the target's words instead of the landmark's fails the
    words.

    Args:
        landmark (Landmark): CCR's landmark (words ``(B, L)``, patches
            ``(B, N)``).
        roles (Sequence[TokenRoles]): Per expression.
        target (Tensor): ``(B, N)`` target cells.
        grid (tuple[int, int]): ``(h, w)`` with ``h * w = N``.

    Returns:
        Tensor: The term.
    """
    centres = cell_centres(*grid, target)
    margin = 1.0 / max(grid)
    words = landmark.word_weights.float()
    patches = landmark.patch_weights.float()
    return mean_of_samples([
        landmark_sample_parts(words[i], patches[i], roles[i],
                              target[i].float(), centres, margin)
        for i in range(patches.shape[0])
    ], patches)
