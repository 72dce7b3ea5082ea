"""Where a scene's objects go: a plan, look-alike distractors and clutter.

A scene follows one of three plans:

* ``'role_reversal'``: two objects A (colour ca, kind ka) and B (cb, kb) of
  different kinds side by side, so that "the ca ka next to the cb kb"
  selects A and "the cb kb next to the ca ka" selects B. Often a look-alike
  of A (same colour and kind) stands elsewhere, next to nothing of B's
  description, so that A's expression needs the relation; sometimes one of
  B as well.
* ``'between'``: two landmarks apart and a target between them; often a
  look-alike of the target outside their corridor.
* ``'plain'``: objects placed at random.

The rest of the 3-7 objects are drawn at random (clutter); in a plain scene
one of them often repeats the colour and kind of an object already there
(a look-alike distractor). The plan's objects come first; a held-out
colour-kind pair forced on the scene is the first object's.
"""
from typing import List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from .queries import Query
from .relations import (APART_GAP, NEXT_TO_GAP, SceneObject, between_state,
                        box_gap)
from .renderer import HALF_EXTENT, SceneRenderer, Spot
from .vocabulary import KIND_COLOURS, KIND_WEIGHTS, KINDS

#: Plans of a scene.
PLANS = ('role_reversal', 'between', 'plain')
#: How often a role-reversal pair has a look-alike of A, and of B.
ROLE_REVERSAL_LOOK_ALIKES = (0.6, 0.3)
#: How often a between target has a look-alike outside the corridor.
BETWEEN_LOOK_ALIKE = 0.5
#: How often a plain scene's clutter repeats an object's colour and kind.
PLAIN_LOOK_ALIKE = 0.5
#: Distance between the two landmarks' boxes of a between plan.
BETWEEN_GAP = (24, 70)

Combo = Tuple[str, str]  # (colour, kind)


class Requirement(NamedTuple):
    """A referent the plan needs.

    Attributes:
        target (int): Index of its one target object.
        query (Query, optional): The query that must describe it; None:
            any candidate of ``type``.
        type (str, optional): Expression type the candidate must have;
            None: any.
    """
    target: int
    query: Optional[Query] = None
    type: Optional[str] = None


class Arrangement(NamedTuple):
    """The placed objects and what the plan needs of them.

    Attributes:
        objects (list[SceneObject]): The objects; object ``i`` is drawn
            with label ``i + 1``.
        requirements (list[Requirement]): Referents the plan needs.
        role_reversal (bool): Whether the requirements are a role-reversal
            pair.
    """
    objects: List[SceneObject]
    requirements: List[Requirement]
    role_reversal: bool


def sample_combo(rng: np.random.Generator,
                 banned: Sequence[Combo],
                 kinds: Sequence[str] = KINDS) -> Combo:
    """A random (colour, kind) pair, not banned, of one of ``kinds``."""
    while True:
        kind = KINDS[rng.choice(len(KINDS), p=KIND_WEIGHTS)]
        colours = KIND_COLOURS[kind]
        colour = colours[rng.integers(len(colours))]
        if (colour, kind) not in banned and kind in kinds:
            return colour, kind


def _other_kinds(kind: str) -> Tuple[str, ...]:
    return tuple(k for k in KINDS if k != kind)


def _beside(box: Tuple[int, ...], kind: str, scale: float) -> Spot:
    """Surely next to ``box``: the centre drawn near it, the gap checked."""
    reach = (HALF_EXTENT[kind] + NEXT_TO_GAP) * scale
    window = (box[0] - reach, box[1] - reach, box[2] + reach, box[3] + reach)
    return Spot(window, lambda b: box_gap(b, box) <=
                (NEXT_TO_GAP - 0.5) * scale)


def _away_from(boxes: Sequence[Tuple[int, ...]], scale: float) -> Spot:
    """Surely not next to any of ``boxes``."""
    return Spot(accept=lambda b: all(
        box_gap(b, other) >= (APART_GAP + 2) * scale for other in boxes))


def _role_reversal(scene: SceneRenderer, rng: np.random.Generator,
                   banned: Sequence[Combo],
                   force: Optional[Combo]) -> Optional[Arrangement]:
    ca, ka = force or sample_combo(rng, banned)
    cb, kb = sample_combo(rng, banned, kinds=_other_kinds(ka))
    a = scene.place(ka, ca, 1)
    if a is None:
        return None
    b = scene.place(kb, cb, 2, _beside(a.box, kb, scene.scale), 60)
    if b is None:
        return None
    objects = [a, b]
    pairs = ((ca, ka), (cb, kb))
    for combo, other, share in zip(pairs, pairs[::-1],
                                   ROLE_REVERSAL_LOOK_ALIKES):
        if rng.random() < share:
            # next to nothing of the other's description
            others = [o.box for o in objects if (o.colour, o.kind) == other]
            twin = scene.place(combo[1], combo[0],
                               len(objects) + 1,
                               _away_from(others, scene.scale))
            if twin is not None:
                objects.append(twin)
    about_a = Query(ka, ca, relation='next to', landmark=Query(kb, cb))
    about_b = Query(kb, cb, relation='next to', landmark=Query(ka, ca))
    return Arrangement(objects,
                       [Requirement(0, about_a),
                        Requirement(1, about_b)], True)


def _between(scene: SceneRenderer, rng: np.random.Generator,
             banned: Sequence[Combo],
             force: Optional[Combo]) -> Optional[Arrangement]:
    ct, kt = force or sample_combo(rng, banned)
    c1, k1 = sample_combo(rng, banned, kinds=_other_kinds(kt))
    c2, k2 = sample_combo(
        rng, list(banned) + [(c1, k1)], kinds=_other_kinds(kt))
    scale = scene.scale
    first = scene.place(k1, c1, 2)
    if first is None:
        return None
    lo, hi = (g * scale for g in BETWEEN_GAP)
    second = scene.place(
        k2, c2, 3, Spot(accept=lambda b: lo <= box_gap(b, first.box) <= hi),
        60)
    if second is None:
        return None
    (x1, y1), (x2, y2) = first.centre, second.centre
    reach = HALF_EXTENT[kt] * scale
    window = (min(x1, x2) - reach, min(y1, y2) - reach, max(x1, x2) + reach,
              max(y1, y2) + reach)

    def state(box: Tuple[int, ...]) -> Optional[bool]:
        probe = SceneObject(kt, ct, tuple(box), 0)
        return between_state(probe, first, second, scale)

    target = scene.place(kt, ct, 1, Spot(window, lambda b: state(b) is True),
                         60)
    if target is None:
        return None
    objects = [target, first, second]
    if rng.random() < BETWEEN_LOOK_ALIKE:
        twin = scene.place(kt, ct, 4, Spot(accept=lambda b: state(b) is False))
        if twin is not None:
            objects.append(twin)
    return Arrangement(objects, [Requirement(0, type='between')], False)


def arrange(scene: SceneRenderer, rng: np.random.Generator, plan: str,
            banned: Sequence[Combo],
            force: Optional[Combo]) -> Optional[Arrangement]:
    """Place a scene's objects by a plan, then clutter.

    Args:
        scene (SceneRenderer): The scene being drawn (roads already there).
        rng (np.random.Generator): Random source.
        plan (str): One of :data:`PLANS`.
        banned (Sequence[tuple[str, str]]): (colour, kind) pairs never
            drawn.
        force (tuple[str, str], optional): (colour, kind) of the first
            object (the plan's target).

    Returns:
        Arrangement | None: The objects and requirements; None when the
        plan could not be placed (draw the scene again).
    """
    total = int(rng.integers(3, 8))
    if plan == 'role_reversal':
        arrangement = _role_reversal(scene, rng, banned, force)
    elif plan == 'between':
        arrangement = _between(scene, rng, banned, force)
    else:
        colour, kind = force or sample_combo(rng, banned)
        first = scene.place(kind, colour, 1)
        if first is None:
            return None
        arrangement = Arrangement([first], [], False)
    if arrangement is None:
        return None
    objects = arrangement.objects
    # clutter keeps clear of the plan's pairs: its look-alikes are placed
    avoid = list(banned) + ([] if plan == 'plain' else sorted(
        set((o.colour, o.kind) for o in objects)))
    repeat = plan == 'plain' and rng.random() < PLAIN_LOOK_ALIKE
    for _ in range(total - len(objects)):
        if repeat:
            twin_of = objects[rng.integers(len(objects))]
            colour, kind = twin_of.colour, twin_of.kind
            repeat = False
        else:
            colour, kind = sample_combo(rng, avoid)
        placed = scene.place(kind, colour, len(objects) + 1)
        if placed is not None:
            objects.append(placed)
    return arrangement if len(objects) >= 3 else None
