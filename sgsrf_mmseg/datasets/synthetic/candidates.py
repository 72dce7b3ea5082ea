"""Every unambiguous description of a scene's objects, by expression type.

The types (keys of the scene's expression type weights): ``'kind'``,
``'colour_kind'``, ``'position'``, ``'size'``, ``'group'``, ``'relation'``
(next to, left of, right of, above, below a landmark; the target named by
its kind, or its colour and kind) and ``'between'`` (between two
landmarks).
"""
from itertools import combinations
from typing import List, Sequence

from .queries import Candidate, Query, resolve, thirds
from .relations import BETWEEN, RELATIONS, SceneObject, between_state


def candidate_queries(objects: Sequence[SceneObject],
                      image_size: int) -> List[Candidate]:
    """Every unambiguous query of a scene, with its type and targets.

    Args:
        objects (Sequence[SceneObject]): The scene's objects.
        image_size (int): Side of the square image.

    Returns:
        list[Candidate]: The queries that select at least one object, in a
        fixed order (the same scene gives the same list).
    """
    found: List[Candidate] = []

    def add(type_: str, query: Query) -> None:
        selected = resolve(query, objects, image_size)
        if selected:
            found.append(Candidate(type_, query, tuple(selected)))

    kinds = sorted(set(o.kind for o in objects))
    combos = sorted(set((o.kind, o.colour) for o in objects))
    for kind in kinds:
        add('kind', Query(kind))
        add('group', Query(kind, group=True))
        add('size', Query(kind, size='large'))
        add('size', Query(kind, size='small'))
    for kind, colour in combos:
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
    singles = [c for c in found if c.type in ('kind', 'colour_kind')]
    plain = [Query(k) for k in kinds] + [Query(k, c) for k, c in combos]
    for target in plain:
        for land in plain:
            if land.kind != target.kind:
                add('relation',
                    target._replace(relation='next to', landmark=land))
        for land in singles:
            if land.query.kind == target.kind:
                continue
            for relation in RELATIONS[1:]:
                add('relation',
                    target._replace(relation=relation, landmark=land.query))
    scale = image_size / 128
    for first, second in combinations(singles, 2):
        ends = (first.targets[0], second.targets[0])
        if ends[0] == ends[1]:
            continue
        inside = set(
            objects[i].kind
            for i in range(len(objects)) if i not in ends and between_state(
                objects[i], objects[ends[0]], objects[ends[1]], scale))
        for target in plain:
            if target.kind in inside and target.kind not in (
                    first.query.kind, second.query.kind):
                add(
                    'between',
                    target._replace(
                        relation=BETWEEN,
                        landmark=first.query,
                        landmark2=second.query))
    return found
