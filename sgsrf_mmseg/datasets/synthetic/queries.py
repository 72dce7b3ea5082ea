"""The query model: descriptions of scene objects and their resolution.

A :class:`Query` describes objects by kind, colour, coarse position in a 3x3
grid, largest/smallest of their kind, a relation to a landmark (next to,
left of, right of, above, below), a position between two landmarks, or as
a group. :func:`resolve` evaluates it on a scene with a safety margin (no
object near a grid line or a relation threshold, :mod:`.relations`) and
refuses ambiguous descriptions, so that every kept expression refers
unambiguously to its mask.

Landmarks are singular descriptions that must single out one object, except
for ``next to``: there the landmark may be a plain description (kind, maybe
colour) of several objects, and the target is the one object of its
description next to any of them ("the red car next to the white building"
with two white buildings, only one of which has a red car beside it).
"""
from typing import List, NamedTuple, Optional, Sequence, Tuple

from .relations import (BETWEEN, RELATIONS, SceneObject, between_state,
                        relation_state)

#: Share of the image side around a grid line where a position is unsure.
POS_MARGIN = 0.045


class Query(NamedTuple):
    """A description to resolve on a scene."""
    kind: str
    colour: Optional[str] = None
    # (h, v) thirds of the image (0..2); None leaves that axis free
    cell: Optional[Tuple[Optional[int], Optional[int]]] = None
    size: Optional[str] = None  # 'large' | 'small'
    relation: Optional[str] = None  # one of RELATIONS, or BETWEEN
    landmark: Optional['Query'] = None
    landmark2: Optional['Query'] = None  # the second landmark of BETWEEN
    group: bool = False

    @property
    def plain(self) -> bool:
        """Whether the query names only a kind and maybe a colour."""
        return (self.cell is None and self.size is None
                and self.relation is None and not self.group)


class Candidate(NamedTuple):
    """An unambiguous query of a scene, its expression type and targets."""
    type: str
    query: Query
    targets: Tuple[int, ...]


def thirds(value: float, size: int) -> Tuple[int, ...]:
    """Thirds (0..2) that may hold ``value``: two when it is near a border."""
    t = value / size
    cells = set()
    for delta in (-POS_MARGIN, 0.0, POS_MARGIN):
        cells.add(min(2, max(0, int((t + delta) * 3))))
    return tuple(sorted(cells))


def matching(query: Query, objects: Sequence[SceneObject]) -> List[int]:
    """Indices of the objects of the query's kind (and colour, if named)."""
    return [
        i for i, o in enumerate(objects) if o.kind == query.kind and (
            query.colour is None or o.colour == query.colour)
    ]


def _single(query: Optional[Query], objects: Sequence[SceneObject],
            image_size: int) -> Optional[int]:
    """The one object a landmark query selects, or None."""
    if query is None:
        return None
    selected = resolve(query, objects, image_size)
    return selected[0] if selected and len(selected) == 1 else None


def _related(query: Query, idx: List[int], objects: Sequence[SceneObject],
             image_size: int) -> Optional[List[int]]:
    """The objects of ``idx`` in the query's relation; None if unsure."""
    scale = image_size / 128
    if query.relation == BETWEEN:
        first = _single(query.landmark, objects, image_size)
        second = _single(query.landmark2, objects, image_size)
        if first is None or second is None or first == second:
            return None
        pairs = [(first, second)]

        def state(i: int, pair: Tuple[int, int]) -> Optional[bool]:
            return between_state(objects[i], objects[pair[0]],
                                 objects[pair[1]], scale)
    else:
        if query.relation not in RELATIONS:
            raise ValueError(f'unknown relation {query.relation!r}')
        if query.relation == 'next to' and query.landmark.plain:
            lands = matching(query.landmark, objects)
        else:
            single = _single(query.landmark, objects, image_size)
            lands = [] if single is None else [single]
        if not lands:
            return None
        pairs = [(land, land) for land in lands]

        def state(i: int, pair: Tuple[int, int]) -> Optional[bool]:
            return relation_state(objects[i], objects[pair[0]], query.relation,
                                  scale)

    chosen = []
    for i in idx:
        states = [state(i, pair) for pair in pairs if i not in pair]
        if True in states:
            chosen.append(i)
        elif None in states:
            return None
    return chosen


def resolve(query: Query, objects: Sequence[SceneObject],
            image_size: int) -> Optional[List[int]]:
    """Indices of the objects a query selects, or None if it is ambiguous.

    Args:
        query (Query): The description.
        objects (Sequence[SceneObject]): The scene's objects.
        image_size (int): Side of the square image.

    Returns:
        list[int] | None: Selected indices (empty if nothing matches);
        None when some object is too close to a decision border or a
        singular description matches several objects.
    """
    idx = matching(query, objects)
    if query.group:
        return idx if len(idx) >= 2 else None
    if query.size is not None:
        if len(idx) < 2:
            return None
        areas = sorted((objects[i].area, i) for i in idx)
        if query.size == 'large' and areas[-1][0] >= 1.6 * areas[-2][0]:
            return [areas[-1][1]]
        if query.size == 'small' and areas[1][0] >= 1.6 * areas[0][0]:
            return [areas[0][1]]
        return None
    if query.cell is not None:
        chosen = []
        for i in idx:
            fits = [thirds(c, image_size) for c in objects[i].centre]
            sure = all(w is None or f == (w, )
                       for w, f in zip(query.cell, fits))
            maybe = all(w is None or w in f for w, f in zip(query.cell, fits))
            if sure:
                chosen.append(i)
            elif maybe:
                return None
        idx = chosen
    if query.relation is not None:
        idx = _related(query, idx, objects, image_size)
        if idx is None:
            return None
    return idx if len(idx) == 1 else None


def landmark_objects(query: Query, targets: Sequence[int],
                     objects: Sequence[SceneObject],
                     image_size: int) -> List[int]:
    """The objects a resolved query's relation names as its landmarks.

    Args:
        query (Query): A query that :func:`resolve` resolved to
            ``targets``.
        targets (Sequence[int]): Its selected objects.
        objects (Sequence[SceneObject]): The scene's objects.
        image_size (int): Side of the square image.

    Returns:
        list[int]: Both landmarks of ``between``; for ``next to`` a plain
        landmark, the objects of its description next to a target; else
        the one landmark; empty for a query without a relation.
    """
    if query.relation is None or query.group:
        return []
    if query.relation == BETWEEN:
        return [
            _single(query.landmark, objects, image_size),
            _single(query.landmark2, objects, image_size)
        ]
    if query.relation == 'next to' and query.landmark.plain:
        scale = image_size / 128
        return [
            land for land in matching(query.landmark, objects)
            if any(t != land and relation_state(objects[t], objects[land],
                                                query.relation, scale)
                   for t in targets)
        ]
    return [_single(query.landmark, objects, image_size)]
