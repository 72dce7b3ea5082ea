"""Hand-written dependency trees of expressions in the synthetic grammar.

Each tree is written ``word/head/label ...`` (head: absolute word index; a
root is its own head), in spaCy's English label set.
"""
from typing import Dict, Sequence

from sgsrf_mmseg.utils.dependency_parse import DependencyParse

TRAIN_TREES = (
    'the/1/det car/1/ROOT',
    'the/2/det red/2/amod car/2/ROOT',
    'the/2/det white/2/amod building/2/ROOT',
    'the/2/det large/2/amod building/2/ROOT',
    'the/2/det small/2/amod vehicle/2/ROOT',
    'the/2/det blue/2/amod pond/2/ROOT',
    'the/3/det grey/3/amod storage/3/compound tank/3/ROOT',
    'the/2/det red/2/amod car/2/ROOT at/2/prep the/6/det top/6/amod '
    'left/3/pobj',
    'the/2/det yellow/2/amod vehicle/2/ROOT at/2/prep the/6/det '
    'bottom/6/amod right/3/pobj',
    'the/1/det building/1/ROOT at/1/prep the/4/det top/2/pobj',
    'the/1/det tank/1/ROOT at/1/prep the/4/det bottom/2/pobj of/4/prep '
    'the/7/det image/5/pobj',
    'the/1/det car/1/ROOT on/1/prep the/4/det left/2/pobj',
    'the/2/det white/2/amod car/2/ROOT on/2/prep the/6/det right/6/amod '
    'side/3/pobj',
    'the/1/det pond/1/ROOT in/1/prep the/4/det centre/2/pobj',
    'the/1/det vehicle/1/ROOT in/1/prep the/4/det middle/2/pobj of/4/prep '
    'the/7/det image/5/pobj',
    'the/2/det green/2/amod pond/2/ROOT in/2/prep the/7/det top/7/amod '
    'right/7/compound corner/3/pobj',
    'all/1/predet vehicles/1/ROOT',
    'all/2/predet red/2/amod cars/2/ROOT',
    'all/3/predet white/3/amod storage/3/compound tanks/3/ROOT',
    'all/3/predet the/3/det blue/3/amod buildings/3/ROOT',
    'all/2/predet the/2/det ponds/2/ROOT',
    'the/3/det two/3/nummod grey/3/amod vehicles/3/ROOT',
    'the/3/det three/3/nummod red/3/amod buildings/3/ROOT',
    'the/1/det building/1/ROOT next/1/advmod to/2/prep the/6/det '
    'blue/6/amod pond/3/pobj',
    'the/1/det car/1/ROOT next/1/advmod to/2/prep the/5/det building/3/pobj',
    'the/1/det vehicle/1/ROOT left/1/advmod of/2/prep the/6/det '
    'white/6/amod building/3/pobj',
    'the/1/det tank/1/ROOT right/1/advmod of/2/prep the/5/det pond/3/pobj',
    'the/1/det pond/1/ROOT to/1/prep the/4/det right/2/pobj of/4/prep '
    'the/8/det red/8/amod car/5/pobj',
    'the/1/det building/1/ROOT to/1/prep the/4/det left/2/pobj of/4/prep '
    'the/7/det tank/5/pobj',
    'the/1/det building/1/ROOT above/1/prep the/5/det grey/5/amod '
    'car/2/pobj',
    'the/1/det car/1/ROOT below/1/prep the/5/det white/5/amod '
    'building/2/pobj',
    'the/3/det white/3/amod storage/3/compound tank/3/ROOT at/3/prep '
    'the/6/det bottom/4/pobj',
)

HELD_OUT_TREES = (
    'the/2/det black/2/amod car/2/ROOT at/2/prep the/6/det bottom/6/amod '
    'left/3/pobj',
    'all/3/predet grey/3/amod storage/3/compound tanks/3/ROOT',
    'the/1/det tank/1/ROOT next/1/advmod to/2/prep the/6/det green/6/amod '
    'pond/3/pobj',
    'the/2/det blue/2/amod building/2/ROOT on/2/prep the/5/det left/3/pobj',
    'the/3/det two/3/nummod white/3/amod cars/3/ROOT',
    'the/1/det pond/1/ROOT above/1/prep the/5/det yellow/5/amod '
    'vehicle/2/pobj',
    'the/1/det car/1/ROOT to/1/prep the/4/det left/2/pobj of/4/prep '
    'the/8/det blue/8/amod pond/5/pobj',
    'the/2/det large/2/amod tank/2/ROOT',
    'all/2/predet the/2/det vehicles/2/ROOT',
    'the/1/det building/1/ROOT at/1/prep the/4/det top/2/pobj of/4/prep '
    'the/7/det image/5/pobj',
)


def tree_parse(tree: str) -> dict:
    """A ``word/head/label`` tree as a parse dict (single spaces)."""
    words, heads, deps = [], [], []
    for item in tree.split():
        word, head, dep = item.split('/')
        words.append(word)
        heads.append(int(head))
        deps.append(dep)
    spaces = [True] * (len(words) - 1) + [False]
    return dict(words=words, spaces=spaces, heads=heads, deps=deps)


def gold_parses(trees: Sequence[str]) -> Dict[str, DependencyParse]:
    """Parses by text of hand-written trees."""
    parses = [DependencyParse.from_dict(tree_parse(tree)) for tree in trees]
    return {p.text: p for p in parses}
