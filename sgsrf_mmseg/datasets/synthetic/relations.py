"""Spatial relations between a target and its landmarks, with safety margins.

A relation holds (True), does not hold (False), or is too close to call
(None): a description that depends on a relation too close to call is
refused, so that every kept expression refers unambiguously to its mask.
Distances are in pixels of a 128-pixel image, scaled by ``scale`` (the
image side over 128).

* ``next to``: the gap between the two boxes is at most
  :data:`NEXT_TO_GAP` (True), or at least :data:`APART_GAP` (False).
* ``left of``, ``right of``, ``above``, ``below``: the target's box lies
  wholly on that side of the landmark's box and the two boxes share a band
  across that axis (True); the target's centre is on the other side, or
  the bands are clearly apart (False).
* ``between``: along the axis joining the two landmarks' centres, the
  target's box lies in the gap between their boxes (with a margin of
  :data:`BETWEEN_MARGIN`), and the target's centre is within the corridor
  as wide as the wider landmark (True); its centre lies outside the gap,
  or further than :data:`BETWEEN_CLEARANCE` outside the corridor (False).
"""
import math
from functools import lru_cache
from typing import NamedTuple, Optional, Tuple

#: Relations of a target to one landmark.
RELATIONS = ('next to', 'left of', 'right of', 'above', 'below')
#: The relation of a target to two landmarks.
BETWEEN = 'between'
#: Largest gap between boxes that is surely "next to".
NEXT_TO_GAP = 7
#: Smallest gap between boxes that is surely not "next to".
APART_GAP = 16
#: Room left between the target and each landmark along their axis.
BETWEEN_MARGIN = 2
#: Distance outside the corridor from which a target is surely not between.
BETWEEN_CLEARANCE = 8

Box = Tuple[int, int, int, int]  # x0, y0, x1, y1 (inclusive)


class SceneObject(NamedTuple):
    """An object of a scene: attributes, bounding box and pixel area."""
    kind: str
    colour: str
    box: Box
    area: int

    @property
    def centre(self) -> Tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2,
                (self.box[1] + self.box[3]) / 2)


def box_gap(a: Box, b: Box) -> float:
    """Euclidean gap between two boxes (0 when they touch or overlap)."""
    dx = max(0, b[0] - a[2], a[0] - b[2])
    dy = max(0, b[1] - a[3], a[1] - b[3])
    return math.hypot(dx, dy)


@lru_cache(maxsize=8192)
def relation_state(obj: SceneObject, land: SceneObject, relation: str,
                   scale: float) -> Optional[bool]:
    """Whether ``obj <relation> land``: True, False or None (too close).

    Args:
        obj (SceneObject): The target.
        land (SceneObject): The landmark.
        relation (str): One of :data:`RELATIONS`.
        scale (float): Image side over 128.

    Returns:
        bool | None: The state.
    """
    if relation == 'next to':
        gap = box_gap(obj.box, land.box)
        if gap <= NEXT_TO_GAP * scale:
            return True
        return False if gap >= APART_GAP * scale else None
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


def _extent(box: Box, origin: Tuple[float, float],
            direction: Tuple[float, float]) -> Tuple[float, float]:
    """Range of a box's corners projected on a direction from an origin."""
    xs = ((box[0] - origin[0]) * direction[0],
          (box[2] - origin[0]) * direction[0])
    ys = ((box[1] - origin[1]) * direction[1],
          (box[3] - origin[1]) * direction[1])
    return min(xs) + min(ys), max(xs) + max(ys)


@lru_cache(maxsize=8192)
def between_state(obj: SceneObject, first: SceneObject, second: SceneObject,
                  scale: float) -> Optional[bool]:
    """Whether ``obj`` lies between two landmarks: True, False or None.

    Args:
        obj (SceneObject): The target.
        first (SceneObject): One landmark.
        second (SceneObject): The other landmark.
        scale (float): Image side over 128.

    Returns:
        bool | None: The state (False when the landmarks share a centre).
    """
    origin = first.centre
    axis = (second.centre[0] - origin[0], second.centre[1] - origin[1])
    length = math.hypot(*axis)
    if length < 1:
        return False
    along = (axis[0] / length, axis[1] / length)
    across = (-along[1], along[0])
    first_end = _extent(first.box, origin, along)[1]
    second_start = _extent(second.box, origin, along)[0]
    lo, hi = _extent(obj.box, origin, along)
    rel = (obj.centre[0] - origin[0], obj.centre[1] - origin[1])
    centre_along = rel[0] * along[0] + rel[1] * along[1]
    offset = abs(rel[0] * across[0] + rel[1] * across[1])
    half_width = max(
        _extent(land.box, land.centre, across)[1] for land in (first, second))
    margin = BETWEEN_MARGIN * scale
    if (lo >= first_end + margin and hi <= second_start - margin
            and offset <= half_width):
        return True
    if (centre_along <= first_end or centre_along >= second_start
            or offset >= half_width + BETWEEN_CLEARANCE * scale):
        return False
    return None
