"""A scene's referents: disjoint targets, their expressions and test tags.

Each referent is one target set (one object, or a group), disjoint from the
scene's other referents, with one or two expressions (paraphrases). Each
expression carries the test groups it belongs to (:data:`TAGS`):

* ``'relation'``: it relates its target to a landmark (``between``
  included);
* ``'role_reversal'``: another referent of its scene has an expression
  with the same words ("the red car next to the white building" / "the
  white building next to the red car");
* ``'same_image_other_referent'``: its scene has another referent;
* ``'look_alike'``: its scene holds a non-target object of the colour and
  kind of one of its targets.
"""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from .composition import Arrangement, Combo, Requirement
from .phrasing import Phrase, phrase
from .queries import Candidate, Query
from .relations import SceneObject
from .vocabulary import KIND_WORDS

#: The test groups an expression may belong to.
TAGS = ('relation', 'role_reversal', 'same_image_other_referent', 'look_alike')
#: How often each expression type is chosen among a referent's candidates.
EXPRESSION_TYPE_WEIGHTS = {
    'colour_kind': 0.28,
    'kind': 0.10,
    'position': 0.16,
    'size': 0.06,
    'relation': 0.20,
    'between': 0.08,
    'group': 0.12,
}
#: How often a referent gets a second expression (when it has one).
SECOND_EXPRESSION = 0.5


class Expression(NamedTuple):
    """An expression of a referent.

    Attributes:
        phrase (Phrase): Its words and gold tree.
        query (Query): The query it writes (it selects the referent's
            targets).
        type (str): Its expression type.
        tags (tuple[str, ...]): Its test groups, in the order of
            :data:`TAGS`.
    """
    phrase: Phrase
    query: Query
    type: str
    tags: Tuple[str, ...]


class Referent(NamedTuple):
    """A target set of a scene and its one or two expressions."""
    targets: Tuple[int, ...]
    expressions: List[Expression]


def _meets(candidate: Candidate, requirement: Requirement) -> bool:
    return (candidate.targets == (requirement.target, )
            and requirement.query in (None, candidate.query)
            and requirement.type in (None, candidate.type))


def _names(candidate: Candidate, combo: Combo) -> bool:
    """Whether a candidate names the pair and selects the first object."""
    query = candidate.query
    return (0 in candidate.targets and query.colour == combo[0]
            and query.kind == combo[1])


def _weighted(rng: np.random.Generator,
              pool: Sequence[Candidate]) -> Candidate:
    """A candidate: its type drawn by weight, then one of that type."""
    types = sorted(set(c.type for c in pool))
    weights = np.array([EXPRESSION_TYPE_WEIGHTS[t] for t in types])
    chosen = types[rng.choice(len(types), p=weights / weights.sum())]
    of_type = [c for c in pool if c.type == chosen]
    return of_type[rng.integers(len(of_type))]


def choose_referents(rng: np.random.Generator, candidates: Sequence[Candidate],
                     arrangement: Arrangement, count: int,
                     force: Optional[Combo]) -> Optional[List[Candidate]]:
    """The query of each referent: the plan's first, then drawn by type.

    Args:
        rng (np.random.Generator): Random source.
        candidates (Sequence[Candidate]): The scene's unambiguous queries.
        arrangement (Arrangement): The objects and the plan's needs.
        count (int): Number of referents.
        force (tuple[str, str], optional): (colour, kind) the first
            referent must name (a held-out pair).

    Returns:
        list[Candidate] | None: One candidate per referent, with disjoint
        targets; None when the scene cannot give them.
    """
    chosen: List[Candidate] = []
    used: set = set()
    for n in range(count):
        pool = [c for c in candidates if not used & set(c.targets)]
        if n < len(arrangement.requirements):
            pool = [c for c in pool if _meets(c, arrangement.requirements[n])]
        if n == 0 and force is not None:
            pool = [c for c in pool if _names(c, force)]
        if not pool:
            return None
        pick = _weighted(rng, pool)
        chosen.append(pick)
        used |= set(pick.targets)
    return chosen


def _tags(picks: Sequence[Candidate], written: List[List[Tuple[Phrase,
                                                               Candidate]]],
          objects: Sequence[SceneObject]) -> List[List[Tuple[str, ...]]]:
    """The test groups of each expression of each referent."""
    words = [[sorted(p.words) for p, _ in phrases] for phrases in written]
    tags = []
    for n, (pick, phrases) in enumerate(zip(picks, written)):
        combos = set(
            (objects[t].colour, objects[t].kind) for t in pick.targets)
        look_alike = any((o.colour, o.kind) in combos
                         for i, o in enumerate(objects)
                         if i not in pick.targets)
        referent_tags = []
        for p, candidate in phrases:
            swapped = any(
                sorted(p.words) in words[m] for m in range(len(picks))
                if m != n)
            flags = (candidate.query.relation is not None, swapped, len(picks)
                     > 1, look_alike)
            referent_tags.append(
                tuple(tag for tag, on in zip(TAGS, flags) if on))
        tags.append(referent_tags)
    return tags


def write_referents(rng: np.random.Generator, picks: Sequence[Candidate],
                    candidates: Sequence[Candidate],
                    arrangement: Arrangement) -> List[Referent]:
    """Write each referent's expressions, with their types and tags.

    The first expression phrases the referent's query; a second, with
    probability :data:`SECOND_EXPRESSION`, phrases another query of the
    same targets (its type drawn by weight). A role-reversal pair (the
    first two referents of such a plan) takes one noun per kind, so that
    its two expressions have the same words.

    Args:
        rng (np.random.Generator): Picks phrasings.
        picks (Sequence[Candidate]): Each referent's query
            (:func:`choose_referents`).
        candidates (Sequence[Candidate]): The scene's unambiguous queries.
        arrangement (Arrangement): The objects and the plan.

    Returns:
        list[Referent]: The referents, in the order of ``picks``.
    """
    nouns: Dict[str, str] = {}
    if arrangement.role_reversal:
        for pick in picks[:2]:
            words = KIND_WORDS[pick.query.kind]
            nouns[pick.query.kind] = words[rng.integers(len(words))]
    written: List[List[Tuple[Phrase, Candidate]]] = []
    for n, pick in enumerate(picks):
        pair = arrangement.role_reversal and n < 2
        first = phrase(pick.query, rng, len(pick.targets),
                       nouns if pair else None)
        phrases = [(first, pick)]
        if rng.random() < SECOND_EXPRESSION:
            others = [
                c for c in candidates
                if c.targets == pick.targets and c.query != pick.query
            ]
            if others:
                other = _weighted(rng, others)
                extra = phrase(other.query, rng, len(other.targets))
                if extra.text != first.text:
                    phrases.append((extra, other))
        written.append(phrases)
    tags = _tags(picks, written, arrangement.objects)
    return [
        Referent(pick.targets, [
            Expression(p, candidate.query, candidate.type, t)
            for (p, candidate), t in zip(phrases, referent_tags)
        ]) for pick, phrases, referent_tags in zip(picks, written, tags)
    ]
