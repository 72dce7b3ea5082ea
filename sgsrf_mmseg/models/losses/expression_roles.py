"""What each word of an expression does, read from its dependency tree.

The structural terms of SCR need to know, for every word, whether it names
the target, says where the target is in the image, names a landmark the
target is related to, or carries the direction of that relation:

* **head**: the root noun and its modifiers (``amod``, ``compound``,
  ``nummod``, ``poss``, ``conj`` ...): "the *red car* next to the tank";
* **position**: content words of a phrase attached to the head that names
  no object, only a place in the image: "the car *at the top left*";
* **relations**: a phrase attached to the head that names an object (its
  ``pobj``/``dobj`` is not a position noun) is a relation to that
  *landmark*: "the car *next to the white tank*". Its direction comes from
  the direction word on the way to the landmark (:data:`DIRECTIONS`:
  "left of", "to the left of", "above", "below", ...; "next to", "near"
  have none), and "between" takes two landmarks (the object and its
  ``conj``). A landmark's own phrases ("the tank *on the right*") belong to
  it and are not read.

Words of relations and function words (:data:`FUNCTION_DEPS`) take no role.
The reading is conservative: what it cannot place gets no role, so an
unusual parse weakens the constraint instead of asserting a wrong one.
"""
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Optional, Sequence, Tuple

from ...utils.dependency_parse import DependencyParse
from ..clip.tokenizer import align_words

#: Dependency labels of function words (determiners, prepositions,
#: particles, ...): they take no role; paths still run through them.
FUNCTION_DEPS = frozenset({
    'det', 'predet', 'prep', 'case', 'punct', 'cc', 'aux', 'auxpass', 'mark',
    'advmod', 'neg', 'prt', 'cop', 'expl', 'dep'
})
#: Labels that attach a modifier to a noun within its own phrase.
NOUN_PHRASE_DEPS = frozenset({
    'det', 'predet', 'amod', 'compound', 'nummod', 'poss', 'nmod', 'quantmod',
    'case', 'cc', 'conj', 'appos', 'punct', 'nn'
})
#: Labels of the object of a relation phrase.
OBJECT_DEPS = frozenset({'pobj', 'dobj', 'obj'})
#: Nouns that name a place in the image, not an object.
POSITION_NOUNS = frozenset({
    'left', 'right', 'top', 'bottom', 'middle', 'centre', 'center', 'side',
    'sides', 'corner', 'corners', 'edge', 'edges', 'part', 'parts', 'area',
    'region', 'half', 'quarter', 'end', 'border', 'image', 'picture', 'photo',
    'scene', 'view', 'map', 'frame', 'north', 'south', 'east', 'west'
})
#: Direction of a relation word: the unit vector (x right, y down) from the
#: target to its landmark. "the car left of the tank": the tank lies to the
#: right of the car. None: no direction ("next to", "near").
DIRECTIONS: Dict[str, Optional[Tuple[float, float]]] = {
    'left': (1.0, 0.0),
    'west': (1.0, 0.0),
    'right': (-1.0, 0.0),
    'east': (-1.0, 0.0),
    'above': (0.0, 1.0),
    'over': (0.0, 1.0),
    'north': (0.0, 1.0),
    'below': (0.0, -1.0),
    'under': (0.0, -1.0),
    'beneath': (0.0, -1.0),
    'underneath': (0.0, -1.0),
    'south': (0.0, -1.0),
    'next': None,
    'near': None,
    'beside': None,
    'besides': None,
    'by': None,
    'close': None,
    'adjacent': None,
    'along': None,
    'alongside': None,
    'nearby': None,
    'around': None,
}
BETWEEN = 'between'


@dataclass(frozen=True)
class Relation:
    """A relation of the target to one or two landmarks.

    Attributes:
        landmarks (tuple[tuple[int, ...], ...]): Content words of each
            landmark phrase (two for "between").
        direction (tuple[float, float], optional): Unit vector (x right, y
            down) from the target to the landmark; None when undirected.
        between (bool): The target lies between the two landmarks.
    """
    landmarks: Tuple[Tuple[int, ...], ...]
    direction: Optional[Tuple[float, float]] = None
    between: bool = False


@dataclass(frozen=True)
class ExpressionRoles:
    """Roles of the words of one expression (word indices).

    Attributes:
        head (tuple[int, ...]): Content words naming the target.
        position (tuple[int, ...]): Content words placing it in the image.
        relations (tuple[Relation, ...]): Its relations to landmarks.
    """
    head: Tuple[int, ...] = ()
    position: Tuple[int, ...] = ()
    relations: Tuple[Relation, ...] = ()


def _children(parse: DependencyParse) -> List[List[int]]:
    children: List[List[int]] = [[] for _ in parse.words]
    for child, head in enumerate(parse.heads):
        if head != child:
            children[head].append(child)
    return children


def _is_content(parse: DependencyParse, i: int) -> bool:
    return parse.deps[i] not in FUNCTION_DEPS and any(c.isalnum()
                                                      for c in parse.words[i])


def _noun_phrase(i: int, parse: DependencyParse,
                 children: List[List[int]]) -> List[int]:
    """``i`` and its modifiers within the noun phrase, in word order."""
    found, stack = [], [i]
    while stack:
        node = stack.pop()
        found.append(node)
        stack += [
            c for c in children[node] if parse.deps[c] in NOUN_PHRASE_DEPS
        ]
    return sorted(found)


def _landmark_heads(start: int, parse: DependencyParse,
                    children: List[List[int]]) -> Tuple[List[int], List[int]]:
    """Objects named in the phrase at ``start`` and the words on the way.

    Returns:
        tuple[list[int], list[int]]: Landmark nouns (the first object noun
        on each branch, and the ``conj`` nouns of one), and the words
        passed on the way to them.
    """
    landmarks, path, stack = [], [], [start]
    while stack:
        node = stack.pop()
        word = parse.words[node].lower()
        if parse.deps[node] in OBJECT_DEPS and word not in POSITION_NOUNS \
                and node != start:
            landmarks.append(node)
            landmarks += [
                c for c in children[node] if parse.deps[c] == 'conj'
                and parse.words[c].lower() not in POSITION_NOUNS
            ]
            continue
        path.append(node)
        stack += children[node]
    return sorted(landmarks), path


def _landmark_phrases(
        landmarks: Sequence[int], parse: DependencyParse,
        children: List[List[int]]) -> Tuple[Tuple[int, ...], ...]:
    """Content words of each landmark's phrase, without the phrases of the
    landmarks conjoined to it ("the building and the pond")."""
    spans = {m: set(_noun_phrase(m, parse, children)) for m in landmarks}
    phrases = []
    for m in landmarks:
        others = set().union(*(spans[o] for o in landmarks
                               if o != m and o in spans[m]))
        phrases.append(
            tuple(
                i for i in sorted(spans[m] - others) if _is_content(parse, i)))
    return tuple(phrases)


def expression_roles(parse: DependencyParse) -> ExpressionRoles:
    """Read the roles of an expression's words from its tree.

    Args:
        parse (DependencyParse): The parse (empty: no roles).

    Returns:
        ExpressionRoles: Head, position and relations (word indices).
    """
    roots = [i for i, h in enumerate(parse.heads) if h == i]
    if not roots:
        return ExpressionRoles()
    children = _children(parse)
    head_phrase = _noun_phrase(roots[0], parse, children)
    position: List[int] = []
    relations: List[Relation] = []
    for word in head_phrase:
        for start in children[word]:
            if start in head_phrase:
                continue
            landmarks, path = _landmark_heads(start, parse, children)
            if not landmarks:
                position += [i for i in path if _is_content(parse, i)]
                continue
            cues = [parse.words[i].lower() for i in sorted(path)]
            between = BETWEEN in cues
            direction = next((DIRECTIONS[c] for c in cues if c in DIRECTIONS),
                             None)
            phrases = _landmark_phrases(landmarks, parse, children)
            if between and len(phrases) < 2:
                between = False
            relations.append(
                Relation(phrases, None if between else direction, between))
    head = tuple(i for i in head_phrase if _is_content(parse, i))
    return ExpressionRoles(head, tuple(sorted(set(position))),
                           tuple(relations))


@dataclass(frozen=True)
class TokenRoles:
    """:class:`ExpressionRoles` on the text tower's token positions.

    Positions are the tower's: 0 is SOT, the expression's BPE tokens
    follow (cut where the tower cut the text).

    Attributes:
        head (tuple[int, ...]): Token positions of the head words.
        describe (tuple[int, ...]): Head and position words: what a patch
            of the target should read.
        relations (tuple): Per relation, ``(landmark positions per
            landmark, direction, between)``; landmarks cut away entirely
            are left out.
    """
    head: Tuple[int, ...]
    describe: Tuple[int, ...]
    relations: Tuple[Tuple[Tuple[Tuple[int, ...], ...],
                           Optional[Tuple[float, float]], bool], ...]

    @property
    def landmark_tokens(self) -> Tuple[int, ...]:
        """Every landmark token position of the expression."""
        return tuple(
            sorted({
                t
                for landmarks, _, _ in self.relations
                for landmark in landmarks
                for t in landmark
            }))


@lru_cache(maxsize=16384)
def token_roles(parse: DependencyParse, num_tokens: int) -> TokenRoles:
    """The roles of an expression on its token positions.

    Args:
        parse (DependencyParse): The parse.
        num_tokens (int): BPE tokens of the expression in the tower's input
            (the tower may have cut the text).

    Returns:
        TokenRoles: The positions of each role.
    """
    roles = expression_roles(parse)
    owners = align_words(parse.words, parse.spaces)[:num_tokens]

    def positions(words: Sequence[int]) -> Tuple[int, ...]:
        chosen = set(words)
        return tuple(k + 1 for k, w in enumerate(owners) if w in chosen)

    relations = []
    for relation in roles.relations:
        landmarks = tuple(
            p for p in (positions(m) for m in relation.landmarks) if p)
        if relation.between and len(landmarks) < 2:
            continue
        if landmarks:
            relations.append((landmarks, relation.direction, relation.between))
    return TokenRoles(
        head=positions(roles.head),
        describe=positions(roles.head + roles.position),
        relations=tuple(relations))
