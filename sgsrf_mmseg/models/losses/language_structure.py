"""The pairwise forms of the CCR structure term (before the roles).

``'tree_distance'``: the Gram matrix of the column-normalised patch->word
attention of each CCR block, ``S_v = P̂ᵀP̂``, against
``S_l[i, j] = exp(-decay * max(d(w_i, w_j) - 1, 0))`` with ``d`` the
dependency-tree distance, over pairs of content-word tokens (mean squared
gap, averaged over blocks). ``'self_similarity'``: against
``relu(cos(sg(W'_i), sg(W'_j)))``, the model's own word similarity, over
all word tokens. Both are blind to how much attention a word gets, and
uniform attention meets ``'tree_distance'`` whenever every content-word
pair is adjacent in the tree: the roles form (:mod:`.stage_structure`)
replaces them as the default; they stay as options for comparison.
"""
from collections import deque
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ...utils.dependency_parse import DependencyParse
from ..clip.tokenizer import align_words
from .expression_roles import FUNCTION_DEPS


def tree_distances(heads: Sequence[int]) -> np.ndarray:
    """Number of edges between every two words of a dependency tree.

    Args:
        heads (Sequence[int]): Head index of each word; the root points to
            itself.

    Returns:
        np.ndarray: ``(n, n)`` int distances (a forest's unconnected pairs
        get ``n``).
    """
    n = len(heads)
    neighbours = [[] for _ in range(n)]
    for child, head in enumerate(heads):
        if not 0 <= head < n:
            raise ValueError(f'head {head} of word {child} is out of range '
                             f'for {n} words')
        if head != child:
            neighbours[child].append(head)
            neighbours[head].append(child)
    dist = np.full((n, n), n, dtype=np.int64)
    for start in range(n):
        dist[start, start] = 0
        queue = deque([start])
        while queue:
            node = queue.popleft()
            for nxt in neighbours[node]:
                if dist[start, nxt] == n:
                    dist[start, nxt] = dist[start, node] + 1
                    queue.append(nxt)
    return dist


def token_structure(parse: DependencyParse, num_tokens: int,
                    num_positions: int,
                    decay: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """The language-side target of the structure term for one expression.

    Token positions are the text tower's: 0 is SOT, the expression's BPE
    tokens follow, the first ``num_tokens`` of them are kept (the tower may
    have cut the text). For tokens ``i``, ``j`` of content words ``w_i``,
    ``w_j`` (dependency label not in :data:`FUNCTION_DEPS`)::

        S_l[i, j] = exp(-decay * max(d(w_i, w_j) - 1, 0))

    with ``d`` the tree distance (pieces of one word and head-dependent
    pairs: 1; two edges apart: ``exp(-decay)``; ...).

    Args:
        parse (DependencyParse): The parse.
        num_tokens (int): BPE tokens of the expression in the tower's input.
        num_positions (int): ``L``, the tower's output length.
        decay (float): Decay of the target with the distance.

    Returns:
        tuple[Tensor, Tensor]: ``(L, L)`` target and ``(L, L)`` bool mask of
        the constrained pairs (content-word tokens, ``i != j``).
    """
    owners = align_words(parse.words, parse.spaces)[:num_tokens]
    dist = tree_distances(parse.heads)
    content = np.array([d not in FUNCTION_DEPS for d in parse.deps],
                       dtype=bool)
    owners = np.asarray(owners, dtype=np.int64)
    target = np.zeros((num_positions, num_positions), np.float32)
    mask = np.zeros((num_positions, num_positions), bool)
    pos = np.arange(len(owners)) + 1
    word_dist = dist[owners[:, None], owners[None, :]]
    target[np.ix_(pos, pos)] = np.exp(-decay * np.maximum(word_dist - 1, 0))
    keep = content[owners]
    mask[np.ix_(pos, pos)] = keep[:, None] & keep[None, :]
    np.fill_diagonal(mask, False)
    return torch.from_numpy(target), torch.from_numpy(mask)


def batch_structure(parses: List[DependencyParse], lengths: torch.Tensor,
                    num_positions: int,
                    decay: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """:func:`token_structure` of a batch, stacked: ``(B, L, L)`` twice.

    Args:
        parses (list[DependencyParse]): One parse per expression.
        lengths (Tensor): ``(B,)`` positions the tower used per text, SOT
            and EOT included.
        num_positions (int): ``L``.
        decay (float): See :func:`token_structure`.
    """
    pairs = [
        token_structure(parse,
                        int(length) - 2, num_positions, decay)
        for parse, length in zip(parses, lengths.tolist())
    ]
    return (torch.stack([t for t, _ in pairs]),
            torch.stack([m for _, m in pairs]))


def pairwise_structure_loss(patch_word_attn: Sequence[Tensor],
                            pad_mask: Tensor, words: Tensor,
                            parses: Optional[List[DependencyParse]],
                            decay: float) -> Tensor:
    """Mean squared gap between the attention's word-word Gram matrix and
    the language structure (see the module).

    Args:
        patch_word_attn (Sequence[Tensor]): ``(B, N, L)`` per block.
        pad_mask (Tensor): ``(B, L)`` True at padded positions.
        words (Tensor): ``(B, L, D)`` refined words (``'self_similarity'``,
            when ``parses`` is None).
        parses (list[DependencyParse], optional): One per expression
            (``'tree_distance'``); None takes the self-similarity.
        decay (float): See :func:`token_structure`.

    Returns:
        Tensor: The term.
    """
    num = pad_mask.shape[1]
    if parses is None:
        w = F.normalize(words.detach().float(), dim=-1)
        valid = (~pad_mask).float()
        pairs = valid[:, :, None] * valid[:, None, :]
        pairs = pairs * (1 - torch.eye(num, device=pairs.device))
        language = (w @ w.transpose(1, 2)).clamp(min=0)
    else:
        language, pairs = batch_structure(parses, (~pad_mask).sum(1), num,
                                          decay)
        language = language.to(pad_mask.device)
        pairs = pairs.to(pad_mask.device).float()
    total = 0
    for attn in patch_word_attn:
        cols = F.normalize(attn.float(), dim=1)
        vision = cols.transpose(1, 2) @ cols
        total = total + ((vision - language)**2 * pairs).sum() / \
            pairs.sum().clamp(min=1)
    return total / len(patch_word_attn)
