"""Hand-written parses and attention maps for the structural terms' tests.

An 8 x 8 grid; the target occupies cells of rows 3-4, columns 3-4 (the
middle); a landmark sits on one side of it. Attention maps are built for
what a parse asks (:func:`follow`) and for the trivial or wrong
alternatives the terms must score worse.
"""
from typing import Dict, List, Sequence, Tuple

import torch

from sgsrf_mmseg.models.losses.expression_roles import TokenRoles, token_roles
from sgsrf_mmseg.utils.dependency_parse import DependencyParse

GRID = (8, 8)
N = GRID[0] * GRID[1]


def tree(text: str, heads: Sequence[int],
         deps: Sequence[str]) -> DependencyParse:
    words = text.split(' ')
    return DependencyParse(words, [True] * (len(words) - 1) + [False], heads,
                           deps)


#: Expressions with two or more content words, with their trees.
PARSES: Dict[str, DependencyParse] = {
    'the red car':
    tree('the red car', [2, 2, 2], ['det', 'amod', 'ROOT']),
    'all white tanks':
    tree('all white tanks', [2, 2, 2], ['predet', 'amod', 'ROOT']),
    'the red car at the top left':
    tree('the red car at the top left', [2, 2, 2, 2, 6, 6, 3],
         ['det', 'amod', 'ROOT', 'prep', 'det', 'amod', 'pobj']),
    'the car left of the white building':
    tree('the car left of the white building', [1, 1, 1, 2, 6, 6, 3],
         ['det', 'ROOT', 'advmod', 'prep', 'det', 'amod', 'pobj']),
    'the car above the building':
    tree('the car above the building', [1, 1, 1, 4, 2],
         ['det', 'ROOT', 'prep', 'det', 'pobj']),
    'the car below the building':
    tree('the car below the building', [1, 1, 1, 4, 2],
         ['det', 'ROOT', 'prep', 'det', 'pobj']),
    'the car between the white building and the blue pond':
    tree('the car between the white building and the blue pond',
         [1, 1, 1, 5, 5, 2, 5, 9, 9, 5], [
             'det', 'ROOT', 'prep', 'det', 'amod', 'pobj', 'cc', 'det', 'amod',
             'conj'
         ]),
    'the white building next to the red car':
    tree('the white building next to the red car', [2, 2, 2, 2, 3, 7, 7, 4],
         ['det', 'amod', 'ROOT', 'advmod', 'prep', 'det', 'amod', 'pobj']),
}


def cells(rows: Sequence[int], cols: Sequence[int]) -> List[int]:
    return [r * GRID[1] + c for r in rows for c in cols]


TARGET = cells([3, 4], [3, 4])
#: Landmark cells by the side of the target they are on.
SIDES = {
    'right': cells([3, 4], [6, 7]),
    'left': cells([3, 4], [0, 1]),
    'below': cells([6, 7], [3, 4]),
    'above': cells([0, 1], [3, 4]),
    'above right': cells([0, 1], [6, 7]),
}
#: The side the expression puts its landmark(s) on (None: none or any).
LANDMARK_SIDES: Dict[str, Tuple[str, ...]] = {
    'the car left of the white building': ('right', ),
    'the car above the building': ('below', ),
    'the car below the building': ('above', ),
    'the car between the white building and the blue pond': ('left', 'right'),
    'the white building next to the red car': ('right', ),
}


def roles_of(text: str) -> TokenRoles:
    parse = PARSES[text]
    return token_roles(parse, len(parse.words))


def num_positions(text: str) -> int:
    """SOT, one token per word (these words are single BPE tokens), EOT."""
    return len(PARSES[text].words) + 2


def target_cells() -> torch.Tensor:
    target = torch.zeros(N)
    target[TARGET] = 1
    return target


def follow(text: str, sides=None) -> torch.Tensor:
    """Attention ``(N, L)`` that does what the parse asks: target patches
    read the words describing the target, landmark patches read the
    landmark's words (on ``sides``, by default the expression's), every
    other patch reads SOT."""
    roles = roles_of(text)
    attn = torch.zeros(N, num_positions(text))
    attn[:, 0] = 1
    attn[TARGET] = 0
    for row in TARGET:
        attn[row, list(roles.describe)] = 1 / len(roles.describe)
    sides = sides or LANDMARK_SIDES.get(text, ())
    landmarks = [lm for relation in roles.relations for lm in relation[0]]
    for side, landmark in zip(sides, landmarks):
        rows = SIDES[side]
        attn[rows] = 0
        for row in rows:
            attn[row, list(landmark)] = 1 / len(landmark)
    return attn


def uniform(text: str) -> torch.Tensor:
    num = num_positions(text)
    return torch.full((N, num), 1 / num)


def mostly_on(text: str, positions: Sequence[int]) -> torch.Tensor:
    """:func:`follow` with all but 1e-6 of every row moved onto
    ``positions`` (SOT/EOT or function words): the content words' columns
    keep the parse's layout but carry (almost) nothing."""
    attn = follow(text) * 1e-6
    attn[:, list(positions)] += (1 - 1e-6) / len(positions)
    return attn


def function_positions(text: str) -> List[int]:
    """Token positions of the determiners, prepositions and conjunctions."""
    parse = PARSES[text]
    return [
        k + 1 for k, dep in enumerate(parse.deps)
        if dep in ('det', 'predet', 'prep', 'cc')
    ]
