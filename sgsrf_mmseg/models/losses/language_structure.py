"""Token-token structure of an expression from its dependency parse."""
from collections import deque
from typing import List, Sequence, Tuple

import numpy as np
import torch

from ...utils.dependency_parse import DependencyParse
from ..clip.tokenizer import align_words

#: Dependency labels of function words (determiners, prepositions,
#: particles, adverbial modifiers such as "next" in "next to", ...), whose
#: tokens take no part in the structure term; paths still run through them.
FUNCTION_DEPS = frozenset({
    'det', 'predet', 'prep', 'case', 'punct', 'cc', 'aux', 'auxpass', 'mark',
    'advmod', 'neg', 'prt', 'cop', 'expl', 'dep'
})


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


def token_structure(parse: dict, num_tokens: int, num_positions: int,
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
        parse (dict): ``words``, ``spaces``, ``heads``, ``deps``.
        num_tokens (int): BPE tokens of the expression in the tower's input.
        num_positions (int): ``L``, the tower's output length.
        decay (float): Decay of the target with the distance.

    Returns:
        tuple[Tensor, Tensor]: ``(L, L)`` target and ``(L, L)`` bool mask of
        the constrained pairs (content-word tokens, ``i != j``).
    """
    parse = DependencyParse.from_dict(parse)
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


def batch_structure(parses: List[dict], lengths: torch.Tensor,
                    num_positions: int,
                    decay: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """:func:`token_structure` of a batch, stacked: ``(B, L, L)`` twice.

    Args:
        parses (list[dict]): One parse per expression.
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
