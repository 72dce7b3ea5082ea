"""The query model: descriptions of scene objects and their resolution.

A :class:`Query` describes objects by kind, colour, coarse position in a 3x3
grid, largest/smallest of their kind, a relation to a landmark (next to,
left of, right of, above, below) or as a group. :func:`resolve` evaluates it
on a scene with a safety margin (no object near a grid line or a relation
threshold) and refuses ambiguous descriptions, so that every kept
expression refers unambiguously to its mask.
"""
from typing import List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

#: Share of the image side around a grid line where a position is unsure.
POS_MARGIN = 0.045


class SceneObject(NamedTuple):
    """An object of a scene: attributes, bounding box and pixel area."""
    kind: str
    colour: str
    box: Tuple[int, int, int, int]  # x0, y0, x1, y1 (inclusive)
    area: int

    @property
    def centre(self) -> Tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2,
                (self.box[1] + self.box[3]) / 2)


class Query(NamedTuple):
    """A description to resolve on a scene."""
    kind: str
    colour: Optional[str] = None
    # (h, v) thirds of the image (0..2); None leaves that axis free
    cell: Optional[Tuple[Optional[int], Optional[int]]] = None
    size: Optional[str] = None  # 'large' | 'small'
    relation: Optional[str] = None  # 'next to' | 'left of' | ...
    landmark: Optional['Query'] = None
    group: bool = False


def thirds(value: float, size: int) -> Tuple[int, ...]:
    """Thirds (0..2) that may hold ``value``: two when it is near a border."""
    t = value / size
    cells = set()
    for delta in (-POS_MARGIN, 0.0, POS_MARGIN):
        cells.add(min(2, max(0, int((t + delta) * 3))))
    return tuple(sorted(cells))


def _gap(a: SceneObject, b: SceneObject) -> float:
    dx = max(0, b.box[0] - a.box[2], a.box[0] - b.box[2])
    dy = max(0, b.box[1] - a.box[3], a.box[1] - b.box[3])
    return float(np.hypot(dx, dy))


def _relation_state(obj: SceneObject, land: SceneObject, relation: str,
                    scale: float) -> Optional[bool]:
    """True / False / None (ambiguous) for ``obj <relation> land``."""
    if relation == 'next to':
        gap = _gap(obj, land)
        if gap <= 7 * scale:
            return True
        return False if gap >= 16 * scale else None
    horizontal = relation in ('left of', 'right of')
    a0, a1 = (1, 3) if horizontal else (0, 2)  # band axis
    overlap = min(obj.box[a1], land.box[a1]) - max(obj.box[a0], land.box[a0])
    axis = 0 if horizontal else 1
    c_obj, c_land = obj.centre[axis], land.centre[axis]
    before = relation in ('left of', 'above')
    lo, hi = (0, 2) if horizontal else (1, 3)
    strictly = (obj.box[hi] < land.box[lo]) if before else \
        (obj.box[lo] > land.box[hi])
    wrong_side = c_obj >= c_land if before else c_obj <= c_land
    if strictly and overlap >= 2:
        return True
    if wrong_side or overlap < -4 * scale:
        return False
    return None


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
    scale = image_size / 128
    idx = [
        i for i, o in enumerate(objects) if o.kind == query.kind and (
            query.colour is None or o.colour == query.colour)
    ]
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
        land = resolve(query.landmark, objects, image_size)
        if land is None or len(land) != 1:
            return None
        chosen = []
        for i in idx:
            if i == land[0]:
                continue
            state = _relation_state(objects[i], objects[land[0]],
                                    query.relation, scale)
            if state is None:
                return None
            if state:
                chosen.append(i)
        idx = chosen
    return idx if len(idx) == 1 else None


def candidate_queries(
        objects: Sequence[SceneObject],
        image_size: int) -> List[Tuple[str, Query, Tuple[int, ...]]]:
    """Every unambiguous query of a scene, with its expression type.

    Args:
        objects (Sequence[SceneObject]): The scene's objects.
        image_size (int): Side of the square image.

    Returns:
        list[tuple[str, Query, tuple[int, ...]]]: ``(type, query,
        targets)``; the type is a key of the expression type weights
        (``'kind'``, ``'colour_kind'``, ``'position'``, ``'size'``,
        ``'relation'``, ``'group'``).
    """
    found = []

    def add(kind_of: str, query: Query) -> None:
        sel = resolve(query, objects, image_size)
        if sel:
            found.append((kind_of, query, tuple(sel)))

    for kind in sorted(set(o.kind for o in objects)):
        add('kind', Query(kind))
        add('group', Query(kind, group=True))
        add('size', Query(kind, size='large'))
        add('size', Query(kind, size='small'))
    for kind, colour in sorted(set((o.kind, o.colour) for o in objects)):
        add('colour_kind', Query(kind, colour))
        add('group', Query(kind, colour, group=True))
    for o in objects:
        hs, vs = (thirds(c, image_size) for c in o.centre)
        cells = []
        if hs in ((0, ), (2, )):
            cells.append((hs[0], None))
        if vs in ((0, ), (2, )):
            cells.append((None, vs[0]))
        if len(cells) == 2 or hs == vs == (1, ):
            cells.append((hs[0], vs[0]))
        for cell in cells:
            add('position', Query(o.kind, cell=cell))
            add('position', Query(o.kind, o.colour, cell=cell))
    landmarks = [c[1] for c in found if c[0] in ('kind', 'colour_kind')]
    for land in landmarks:
        for kind in sorted(set(o.kind for o in objects)):
            if kind == land.kind:
                continue
            for rel in ('next to', 'left of', 'right of', 'above', 'below'):
                add('relation', Query(kind, relation=rel, landmark=land))
    return found
