"""The structural term of each stage: CCR, GPG and GMS.

Each term compares what a stage attends to or predicts with the roles of
the expression's words (:mod:`.expression_roles`, from the dependency
tree) and with the grounding of the stage before it. Every term is a mean
of parts in [0, 1] over the samples that have parts; a sample without any
(an empty expression, a parse with no content word) adds nothing, and a
batch without any gives 0 (still in the graph), never NaN.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from ...utils.cue_region import upsample_cells
from ..utils.grid_cells import cell_centres
from .expression_roles import TokenRoles

#: Share of a target patch's attention that should go to the words that
#: describe the target (head and position words).
READ_SHARE = 0.5
EPS = 1e-6


def written_where(attn: Tensor,
                  positions: Sequence[int],
                  floor: float = EPS) -> Tensor:
    """Where a group of words is written, ``(N,)``: the mean over its words
    of each word's attention column divided by ``max(column sum, floor)``
    (a distribution over the patches unless the column carries less than
    ``floor``)."""
    cols = attn[:, list(positions)]
    return (cols / cols.sum(0, keepdim=True).clamp(min=floor)).mean(1)


def centroid(where: Tensor, centres: Tensor) -> Tensor:
    """``(2,)`` centroid of a distribution over the cells."""
    return (where[:, None] * centres).sum(0) / where.sum().clamp(min=EPS)


def direction_part(towards: Tensor, offset: Tensor, margin: float) -> Tensor:
    """0 when ``offset`` (landmark minus target) goes at least ``margin``
    along ``towards``; 1 when it is 0 or points the other way:
    ``relu(m - u.d) / (m + |d|)``."""
    along = (towards * offset).sum()
    return (margin - along).clamp(min=0) / (margin + offset.norm())


def between_part(first: Tensor, second: Tensor, margin: float) -> Tensor:
    """0 when the two landmark offsets point to opposite sides of the
    target, 1 when they coincide or point the same way:
    ``relu(d1.d2 + m^2) / (|d1| |d2| + m^2)``."""
    dot = (first * second).sum()
    return (dot + margin**2).clamp(min=0) / (
        first.norm() * second.norm() + margin**2)


def ccr_sample_parts(attn: Tensor,
                     roles: TokenRoles,
                     target: Tensor,
                     centres: Tensor,
                     margin: float,
                     sentence: Optional[Tensor] = None) -> List[List[Tensor]]:
    """The parts of the CCR term for one expression and one block.

    Args:
        attn (Tensor): ``(N, L)`` patch->word attention (rows sum to 1).
        roles (TokenRoles): The roles of its tokens.
        target (Tensor): ``(N,)`` target cells (1) of the mask.
        centres (Tensor): ``(N, 2)`` cell centres.
        margin (float): Direction margin (one cell).
        sentence (Tensor, optional): ``(L,)`` how much the refined sentence
            reads each word. Defaults to None.

    Returns:
        list[list[Tensor]]: Groups of parts: the target's (anchor, read),
        the sentence's (given ``sentence``), and when the expression has
        relations the separation of each landmark and the direction of each
        directed relation; empty without head words or without a target
        cell.
    """
    if not roles.head or float(target.sum()) == 0:
        return []
    owed = READ_SHARE * float(target.sum()) / len(roles.describe)
    head = written_where(attn, roles.head, floor=owed)
    read = attn[target > 0][:, list(roles.describe)].sum(1)
    groups = [[
        1 - (head * target).sum(),
        (READ_SHARE - read).clamp(min=0).mean() / READ_SHARE
    ]]
    if sentence is not None:
        reads = sentence[list(roles.describe)].sum()
        groups.append([(READ_SHARE - reads).clamp(min=0) / READ_SHARE])
    centre_head = centroid(head, centres)
    separations, directions = [], []
    for landmarks, direction, between in roles.relations:
        lands = [written_where(attn, landmark) for landmark in landmarks]
        separations += [(land * target).sum() for land in lands]
        offsets = [centroid(land, centres) - centre_head for land in lands]
        if between:
            directions.append(between_part(*offsets[:2], margin))
        elif direction is not None:
            towards = centres.new_tensor(direction)
            directions += [
                direction_part(towards, offset, margin) for offset in offsets
            ]
    return groups + [g for g in (separations, directions) if g]


def mean_of_samples(groups: Sequence[List[List[Tensor]]],
                    like: Tensor) -> Tensor:
    """Mean over samples of the mean over each sample's groups of the mean
    of the group's parts (0, in the graph, when no sample has any)."""
    means = [
        torch.stack([torch.stack(g).mean() for g in sample]).mean()
        for sample in groups if sample
    ]
    if not means:
        return like.sum() * 0
    return torch.stack(means).mean()


def ccr_structure_loss(patch_word_attn: Sequence[Tensor],
                       roles: Sequence[TokenRoles],
                       target: Tensor,
                       grid: Tuple[int, int],
                       sentence_weights: Optional[Tensor] = None) -> Tensor:
    """The CCR term: where each word is written must follow its role.

    For every CCR block ``P`` (``(N, L)`` patch->word attention, rows
    summing to 1) and expression, with ``t`` its target cells, ``a_g`` where
    the words of group ``g`` are written (each word's attention column
    divided by its sum, averaged over the group's words) and ``c(a)`` the
    centroid of ``a``::

        anchor    = 1 - <a_head, t>          the head words go to the target
        read      = mean_{n in t} relu(0.5 - sum_{i in describe} P[n, i])
                    / 0.5                    target patches read the words
                                             that describe it (head and
                                             position words)
        separate  = <a_landmark, t>          landmark words stay out of it
        direction = relu(m - u.d) / (m + |d|),   d = c(a_landmark) - c(a_head)
        between   = relu(d1.d2 + m^2) / (|d1| |d2| + m^2)
        sentence  = relu(0.5 - sum_{i in describe} s[i]) / 0.5
                                             the refined sentence (which the
                                             cue is read with) reads them

    ``u`` is the relation's direction from the target to its landmark
    ("left of": the landmark lies to the right), "between" asks the two
    landmarks' offsets to point to opposite sides, and ``m`` is one cell.
    For the anchor a head word's column is divided by at least the mass the
    target patches owe it (``0.5 |t| / |describe|``), so words that carry
    almost nothing (attention on SOT/EOT or function words) do not meet it
    by their shape alone. ``s`` is how the refined sentence s' pools the
    words (CCR's ``sentence_word_weights``): read from the target's words,
    s' names the head, not the landmark ("the white building next to the
    red car"). An expression's term is the mean of up to four groups, each
    the mean of its parts: the target's (anchor, read), the sentence's,
    the landmarks' separations and the relations' directions (the last two
    when it has them); then the mean over expressions and blocks. Uniform
    attention fails the anchor and every direction; attention that does
    not read the content words fails the read and the anchor; attention
    blind to direction words fails the direction of every directed
    relation.

    Args:
        patch_word_attn (Sequence[Tensor]): ``(B, N, L)`` per block.
        roles (Sequence[TokenRoles]): Per expression.
        target (Tensor): ``(B, N)`` target cells.
        grid (tuple[int, int]): ``(h, w)`` with ``h * w = N``.
        sentence_weights (Tensor, optional): ``(B, L)`` the sentence's
            pooling of the words. Defaults to None (no sentence part).

    Returns:
        Tensor: The term (0 when no expression has parts).
    """
    centres = cell_centres(*grid, target)
    margin = 1.0 / max(grid)
    losses = []
    for attn in patch_word_attn:
        attn = attn.float()
        losses.append(
            mean_of_samples([
                ccr_sample_parts(
                    attn[i], roles[i], target[i], centres, margin, None if
                    sentence_weights is None else sentence_weights[i].float())
                for i in range(attn.shape[0])
            ], attn))
    return torch.stack(losses).mean()


def prompt_structure_loss(query_attn: Sequence[Tensor],
                          roles: Sequence[TokenRoles],
                          region: Tensor) -> Tensor:
    """The GPG term: the sparse queries read the grounded region and the
    words that describe the target, not the landmarks.

    For every decoder layer, query ``k`` and expression, with ``p_k`` its
    attention over the patches and ``w_k`` over the words of the memory
    ``[patches; words]`` and ``R`` the cue's region (CCR's grounding)::

        region  = 1 - sum_{n in R} p_k[n] / sum_n p_k[n]
        head    = 1 - w_k[describe] / (w_k[describe] + w_k[landmarks])

    (``head`` only for expressions with a landmark), averaged over the
    queries, parts, expressions and layers.

    Args:
        query_attn (Sequence[Tensor]): ``(B, K, N + L)`` per layer.
        roles (Sequence[TokenRoles]): Per expression.
        region (Tensor): ``(B, N)`` bool cue region.

    Returns:
        Tensor: The term.
    """
    num = region.shape[1]
    region = region.float()
    losses = []
    for attn in query_attn:
        attn = attn.float()
        parts = []
        for i in range(attn.shape[0]):
            patches, words = attn[i, :, :num], attn[i, :, num:]
            sample = [[
                1 - ((patches * region[i]).sum(1) /
                     patches.sum(1).clamp(min=EPS)).mean()
            ]]
            landmarks = roles[i].landmark_tokens
            if landmarks and roles[i].describe:
                own = words[:, list(roles[i].describe)].sum(1)
                other = words[:, list(landmarks)].sum(1)
                sample.append(
                    [1 - (own / (own + other).clamp(min=EPS)).mean()])
            parts.append(sample)
        losses.append(mean_of_samples(parts, attn))
    return torch.stack(losses).mean()


def mask_drift_loss(mask_logits: Tensor, region: Tensor) -> Tensor:
    """The GMS term: the mask stays where the grounding pointed.

    The soft share of the predicted mask outside the cue's region ``R``
    (upsampled to the mask's grid)::

        drift = sum_p sigmoid(m_p) (1 - R_p) / (sum_p sigmoid(m_p) + 1)

    averaged over the images (the 1 keeps an empty mask at 0).

    Args:
        mask_logits (Tensor): ``(B, 1, H, W)`` mask logits.
        region (Tensor): ``(B, h, w)`` bool cue region.

    Returns:
        Tensor: The term.
    """
    prob = mask_logits.float().sigmoid()
    outside = 1 - upsample_cells(region[:, None].float(), prob.shape[-2:])
    return ((prob * outside).flatten(1).sum(1) /
            (prob.flatten(1).sum(1) + 1)).mean()
