"""Queries written as English expressions, with their gold dependency trees.

The expression and its tree are built together, word by word, so the tree
is known rather than parsed. Words are split on single spaces (a two-word
kind such as "storage tank" is two words). Labels and attachments follow
spaCy's English (ClearNLP) conventions; the noun that names the target is
the root (its head is itself):

===============================  ============================================
example                          arcs (dependent -> head)
===============================  ============================================
the car                          det (the -> car), ROOT (car)
the red car, the large pond      amod (red -> car, large -> pond)
the storage tank                 compound (storage -> tank)
the two red vehicles             nummod (two -> vehicles)
all (the) red vehicles           predet (all -> vehicles)
the car at the top               prep (at -> car), pobj (top -> at); the
                                 same for on the left, in the centre
at the top of the image          prep (of -> top), pobj (image -> of)
at the top left                  amod (top -> left), pobj (left -> at)
in the top left corner           amod (top -> left), amod (left -> corner)
on the left side                 amod (left -> side), pobj (side -> on)
the car next to the tank         advmod (next -> car), prep (to -> next),
                                 pobj (tank -> to); the same for left of,
                                 right of
the car to the left of the tank  prep (to -> car), pobj (left -> to),
                                 prep (of -> left), pobj (tank -> of)
the car above the tank           prep (above -> car), pobj (tank -> above);
                                 the same for below
the car between the tank and     prep (between -> car), pobj (tank ->
the pond                         between), cc (and -> tank), conj (pond ->
                                 tank)
===============================  ============================================

A relation's target may be named by its colour too ("the red car left of
the white building": amod (red -> car)). The two expressions of a
role-reversal pair ("the red car next to the white building" / "the white
building next to the red car") take the same noun for each kind
(``nouns``), so that they have the same words.

The draws from the random generator (synonyms and phrasings) are part of the
dataset's definition: the same draws in the same order give the same
expressions.
"""
from typing import List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from ...utils.dependency_parse import DependencyParse
from .queries import Query
from .relations import BETWEEN
from .vocabulary import KIND_WORDS

COUNT_WORDS = {2: 'two', 3: 'three', 4: 'four'}
H_NAMES = ('left', 'centre', 'right')
V_NAMES = ('top', 'middle', 'bottom')


class Phrase(NamedTuple):
    """Words with their dependency tree.

    Attributes:
        words (tuple[str, ...]): The words, joined by single spaces in the
            expression.
        heads (tuple[int, ...]): Index of each word's head; the root's head
            is itself.
        deps (tuple[str, ...]): Label of each word's arc (``'ROOT'`` for
            the root).
        root (int): Index of the root.
    """
    words: Tuple[str, ...]
    heads: Tuple[int, ...]
    deps: Tuple[str, ...]
    root: int

    @property
    def text(self) -> str:
        """The expression: the words joined by single spaces."""
        return ' '.join(self.words)

    def to_parse(self) -> DependencyParse:
        """The tree as the dependency parse of :attr:`text`."""
        return DependencyParse(
            words=self.words,
            spaces=[True] * (len(self.words) - 1) + [False],
            heads=self.heads,
            deps=self.deps)


Dependent = Tuple[Union[str, Phrase], str]


def headed(
    word: Union[str, Phrase],
    before: Sequence[Dependent] = (),
    after: Sequence[Dependent] = ()
) -> Phrase:
    """A word (or a phrase) with its dependents, in the order written.

    Args:
        word (str | Phrase): The head word, or a phrase whose root gets
            the dependents.
        before (Sequence[tuple[str | Phrase, str]]): Dependents written
            before the head, each with the label of its arc to the head.
            Defaults to ().
        after (Sequence[tuple[str | Phrase, str]]): Dependents written after
            the head. Defaults to ().

    Returns:
        Phrase: The phrase, rooted at ``word`` (or at its root).
    """
    head = word if isinstance(word, Phrase) else Phrase((word, ), (0, ),
                                                        ('ROOT', ), 0)
    parts = [(p if isinstance(p, Phrase) else headed(p), label)
             for p, label in [*before, (head, 'ROOT'), *after]]
    root = sum(len(p.words) for p, _ in parts[:len(before)]) + head.root
    words: List[str] = []
    heads: List[int] = []
    deps: List[str] = []
    for part, label in parts:
        offset = len(words)
        words += part.words
        heads += [h + offset for h in part.heads]
        deps += part.deps
        heads[offset + part.root] = root
        deps[offset + part.root] = label
    return Phrase(tuple(words), tuple(heads), tuple(deps), root)


def _the(
    noun: str,
    modifiers: Sequence[Dependent] = (),
    after: Sequence[Dependent] = ()
) -> Phrase:
    return headed(noun, [('the', 'det'), *modifiers], after)


def _preposition(word: str, obj: Phrase) -> Phrase:
    return headed(word, after=[(obj, 'pobj')])


_OF_THE_IMAGE = (_preposition('of', _the('image')), 'prep')


def _noun(
        kind: str,
        rng: np.random.Generator,
        plural: bool = False,
        nouns: Optional[Mapping[str,
                                str]] = None) -> Tuple[str, List[Dependent]]:
    """A noun of the kind: its head word and its compound modifiers."""
    if nouns and kind in nouns:
        word = nouns[kind]
    else:
        word = KIND_WORDS[kind][rng.integers(len(KIND_WORDS[kind]))]
    *compounds, head = (word + 's' if plural else word).split(' ')
    return head, [(c, 'compound') for c in compounds]


def _position(cell: Tuple[Optional[int], Optional[int]],
              rng: np.random.Generator) -> Phrase:
    h, v = cell
    if h is None:
        places = (_the(V_NAMES[v]), _the(V_NAMES[v], after=[_OF_THE_IMAGE]))
        return _preposition('at', places[rng.integers(2)])
    if v is None:
        places = (_the(H_NAMES[h]), _the('side', [(H_NAMES[h], 'amod')]))
        return _preposition('on', places[rng.integers(2)])
    if (h, v) == (1, 1):
        places = (_the('centre'), _the('middle', after=[_OF_THE_IMAGE]))
        return _preposition('in', places[rng.integers(2)])
    corner = headed(H_NAMES[h], [(V_NAMES[v], 'amod')])
    phrases = (_preposition('at', _the(H_NAMES[h], [(V_NAMES[v], 'amod')])),
               _preposition('in', _the('corner', [(corner, 'amod')])))
    return phrases[rng.integers(2)]


def _relation(query: Query, rng: np.random.Generator,
              nouns: Optional[Mapping[str, str]]) -> Dependent:
    """The relation phrase and the label of its arc to the head noun."""
    relation = query.relation
    landmark = phrase(query.landmark, rng, nouns=nouns)
    if relation == BETWEEN:
        second = phrase(query.landmark2, rng, nouns=nouns)
        both = headed(landmark, after=[('and', 'cc'), (second, 'conj')])
        return _preposition('between', both), 'prep'
    if relation in ('left of', 'right of') and rng.random() < 0.5:
        side = relation.split(' ')[0]
        of_landmark = _preposition('of', landmark)
        to_side = _preposition('to', _the(side, after=[(of_landmark, 'prep')]))
        return to_side, 'prep'
    if relation in ('above', 'below'):
        return _preposition(relation, landmark), 'prep'
    adverb, word = relation.split(' ')  # next to, left of, right of
    to_landmark = _preposition(word, landmark)
    return headed(adverb, after=[(to_landmark, 'prep')]), 'advmod'


def phrase(query: Query,
           rng: np.random.Generator,
           count: Optional[int] = None,
           nouns: Optional[Mapping[str, str]] = None) -> Phrase:
    """Write a query as an English expression with its dependency tree.

    Args:
        query (Query): The description.
        rng (np.random.Generator): Picks among synonyms and phrasings.
        count (int, optional): Number of selected objects, used by group
            phrasings ("the two red vehicles"). Defaults to None.
        nouns (Mapping[str, str], optional): The noun (an entry of
            ``KIND_WORDS``) of each kind it names; kinds left out draw
            theirs. Defaults to None.

    Returns:
        Phrase: The expression (:attr:`Phrase.text`) and its tree.
    """
    colour = [(query.colour, 'amod')] if query.colour else []
    if query.group:
        noun, compounds = _noun(query.kind, rng, plural=True, nouns=nouns)
        if count in COUNT_WORDS and rng.random() < 0.3:
            return headed(
                noun, [('the', 'det'),
                       (COUNT_WORDS[count], 'nummod'), *colour, *compounds])
        determiners = ([('all', 'predet')], [('all', 'predet'),
                                             ('the', 'det')])
        return headed(noun, determiners[rng.integers(2)] + colour + compounds)
    noun, compounds = _noun(query.kind, rng, nouns=nouns)
    if query.size is not None:
        return _the(noun, [(query.size, 'amod'), *colour, *compounds])
    after = []
    if query.cell is not None:
        after.append((_position(query.cell, rng), 'prep'))
    if query.relation is not None:
        after.append(_relation(query, rng, nouns))
    return _the(noun, colour + compounds, after)
