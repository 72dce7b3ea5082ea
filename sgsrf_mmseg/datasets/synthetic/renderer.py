"""Drawing of a scene seen from above: ground, roads and the four kinds.

* ``vehicle``: small oriented rectangles with a windshield,
* ``building``: larger rectangles with a two-tone (gabled) roof and a shadow,
* ``storage tank``: discs with a rim and a shadow,
* ``pond``: water blobs.

An object goes where it is free of the others (and of roads, except
vehicles); a :class:`Spot` narrows where its centre is drawn and adds a
test of its box, to place objects next to, away from, or between others.
"""
from typing import Callable, List, NamedTuple, Optional, Tuple

import cv2
import numpy as np

from .relations import Box, SceneObject
from .vocabulary import COLOURS, WATER

GROUND_COLOURS = ((112, 108, 74), (126, 114, 88), (94, 108, 66), (138, 128,
                                                                  102))
#: Largest half extent of each kind in a 128-pixel image.
HALF_EXTENT = {'vehicle': 9, 'building': 17, 'storage tank': 12, 'pond': 14}


class Spot(NamedTuple):
    """Where an object may go.

    Attributes:
        window (tuple[float, float, float, float], optional): ``(x0, y0,
            x1, y1)`` the centre is drawn in (within the image's own
            limits); None: anywhere.
        accept (Callable[[Box], bool], optional): Test of the object's box
            (inclusive ``x0, y0, x1, y1``); None: any free box.
    """
    window: Optional[Tuple[float, float, float, float]] = None
    accept: Optional[Callable[[Box], bool]] = None


ANYWHERE = Spot()


def _bbox(mask: np.ndarray) -> Optional[Tuple[int, int, int, int]]:
    """Inclusive (x0, y0, x1, y1) of a boolean mask; None if it is empty."""
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8))
    return None if w == 0 else (x, y, x + w - 1, y + h - 1)


class SceneRenderer:
    """Draws objects into an image and a label map with identical pixels.

    Args:
        size (int): Image side.
        rng (np.random.Generator): Random source.
    """

    def __init__(self, size: int, rng: np.random.Generator) -> None:
        self.size = size
        self.scale = size / 128
        self.rng = rng
        self.image = self._ground()
        self.labels = np.zeros((size, size), np.uint8)
        self.occupied = np.zeros((size, size), bool)
        self.road = np.zeros((size, size), bool)
        self.roads: List[Tuple[str, int, int]] = []

    def _ground(self) -> np.ndarray:
        rng, s = self.rng, self.size
        base = np.array(GROUND_COLOURS[rng.integers(len(GROUND_COLOURS))],
                        np.float32)
        low = cv2.resize(
            rng.normal(0, 10, (6, 6, 1)).astype(np.float32), (s, s),
            interpolation=cv2.INTER_CUBIC)
        img = base + low[..., None] * np.array([1.0, 0.9, 0.7], np.float32)
        for _ in range(rng.integers(2, 5)):  # fields
            x0, y0 = rng.integers(0, s, 2)
            w, h = rng.integers(s // 5, s // 2, 2)
            tone = rng.normal(0, 12, 3).astype(np.float32)
            img[y0:y0 + h, x0:x0 + w] += tone
            if rng.random() < 0.5:  # crop rows
                step = max(3, int(4 * self.scale))
                img[y0:y0 + h:step, x0:x0 + w] -= 8
        return img

    def add_roads(self) -> None:
        """Zero to two straight roads with a dashed centre line."""
        rng, s = self.rng, self.size
        for _ in range(rng.choice(3, p=(0.3, 0.45, 0.25))):
            horizontal = bool(rng.integers(2))
            width = int(rng.integers(10, 14) * self.scale)
            pos = int(rng.integers(s // 6, s - s // 6 - width))
            sl = (slice(pos, pos + width), slice(None)) if horizontal else \
                (slice(None), slice(pos, pos + width))
            self.image[sl] = np.array((78, 78, 82), np.float32)
            self.road[sl] = True
            mid = pos + width // 2
            dash = max(4, int(6 * self.scale))
            for k in range(0, s, 2 * dash):
                if horizontal:
                    self.image[mid, k:k + dash] = (205, 205, 195)
                else:
                    self.image[k:k + dash, mid] = (205, 205, 195)
            self.roads.append(('h' if horizontal else 'v', pos, width))

    def _free(self, box: Box, margin: int, avoid_road: bool,
              spot: Spot) -> bool:
        x0, y0, x1, y1 = box
        if x0 < 2 or y0 < 2 or x1 > self.size - 3 or y1 > self.size - 3:
            return False
        sl = (slice(max(0, y0 - margin), y1 + margin + 1),
              slice(max(0, x0 - margin), x1 + margin + 1))
        if self.occupied[sl].any():
            return False
        if avoid_road and self.road[sl].any():
            return False
        return spot.accept is None or spot.accept(box)

    def _centre(self, half_w: float, half_h: float,
                spot: Spot) -> Optional[Tuple[float, float]]:
        """A centre drawn so that the object stays ``half_*`` inside."""
        lo = [half_w, half_h]
        hi = [self.size - half_w, self.size - half_h]
        if spot.window is not None:
            lo = [max(lo[0], spot.window[0]), max(lo[1], spot.window[1])]
            hi = [min(hi[0], spot.window[2]), min(hi[1], spot.window[3])]
        if hi[0] <= lo[0] or hi[1] <= lo[1]:
            return None
        return (float(self.rng.uniform(lo[0], hi[0])),
                float(self.rng.uniform(lo[1], hi[1])))

    def _commit(self, mask: np.ndarray,
                index: int) -> Tuple[Tuple[int, ...], int]:
        self.labels[mask] = index
        self.occupied |= mask
        return _bbox(mask), int(np.count_nonzero(mask))

    def _colour(self, name: str, water: bool = False) -> np.ndarray:
        rgb = np.array((WATER if water else COLOURS)[name], np.float32)
        return np.clip(rgb * self.rng.uniform(0.92, 1.06), 0, 255)

    def _shadow(self, mask: np.ndarray, box: Tuple[int, int, int, int],
                offset: int) -> None:
        x0, y0 = box[0], box[1]
        x1, y1 = min(self.size,
                     box[2] + offset + 1), min(self.size, box[3] + offset + 1)
        shifted = mask[y0 - offset:y1 - offset, x0 - offset:x1 - offset] \
            if x0 >= offset and y0 >= offset else None
        if shifted is None:
            return
        window = (slice(y0, y1), slice(x0, x1))
        shadow = shifted & ~self.occupied[window] & ~mask[window]
        self.image[window][shadow] *= 0.55

    def place(self,
              kind: str,
              colour: str,
              index: int,
              spot: Spot = ANYWHERE,
              attempts: int = 30) -> Optional[SceneObject]:
        """Try to place one object; None if no free spot was found.

        Args:
            kind (str): The object's kind.
            colour (str): Its colour word.
            index (int): Its value in the label map (1-255).
            spot (Spot): Where it may go. Defaults to anywhere.
            attempts (int): Positions tried. Defaults to 30.

        Returns:
            SceneObject | None: The object drawn.
        """
        draw = getattr(self, '_draw_' + kind.replace(' ', '_'))
        for _ in range(attempts):
            result = draw(colour, index, spot)
            if result is not None:
                box, area = result
                return SceneObject(kind, colour, box, area)
        return None

    def _poly_mask(self, pts: np.ndarray) -> np.ndarray:
        canvas = np.zeros((self.size, self.size), np.uint8)
        cv2.fillPoly(canvas, [np.round(pts).astype(np.int32)], 1)
        return canvas.astype(bool)

    def _draw_vehicle(self, colour: str, index: int, spot: Spot):
        rng, sc = self.rng, self.scale
        length, width = rng.uniform(12, 18) * sc, rng.uniform(7, 10) * sc
        if spot.window is None and self.roads and rng.random() < 0.6:
            axis, pos, rw = self.roads[rng.integers(len(self.roads))]
            along = rng.uniform(8, self.size - 8)
            across = pos + rw / 2 + rng.choice((-1, 1)) * rw / 4
            cx, cy = (along, across) if axis == 'h' else (across, along)
            angle = (0.0 if axis == 'h' else np.pi / 2) + rng.normal(0, 0.05)
        else:
            centre = self._centre(8, 8, spot)
            if centre is None:
                return None
            cx, cy = centre
            angle = rng.uniform(0, np.pi)
        d = np.array([np.cos(angle), np.sin(angle)])
        n = np.array([-d[1], d[0]])
        c = np.array([cx, cy])
        corners = np.array([
            c + sa * d * length / 2 + sb * n * width / 2
            for sa, sb in ((1, 1), (1, -1), (-1, -1), (-1, 1))
        ])
        mask = self._poly_mask(corners)
        box = _bbox(mask)
        if box is None or not self._free(box, int(3 * sc), False, spot):
            return None
        self._shadow(mask, box, max(1, int(2 * sc)))
        self.image[mask] = self._colour(colour)
        glass = self._poly_mask(
            np.array([
                c + sa * d * length / 2 + sb * n * width * 0.38
                for sa, sb in ((0.45, 1), (0.45, -1), (0.2, -1), (0.2, 1))
            ])) & mask
        self.image[glass] = self.image[glass] * 0.35 + 20
        return self._commit(mask, index)

    def _draw_building(self, colour: str, index: int, spot: Spot):
        rng, sc = self.rng, self.scale
        w, h = rng.uniform(18, 34, 2) * sc
        centre = self._centre(w / 2 + 3, h / 2 + 3, spot)
        if centre is None:
            return None
        x0, y0 = centre[0] - w / 2, centre[1] - h / 2
        box = (int(x0), int(y0), int(x0 + w), int(y0 + h))
        if not self._free(box, int(4 * sc), True, spot):
            return None
        mask = np.zeros((self.size, self.size), bool)
        mask[box[1]:box[3] + 1, box[0]:box[2] + 1] = True
        self._shadow(mask, box, max(2, int(4 * sc)))
        roof = self._colour(colour)
        self.image[mask] = roof
        half = mask.copy()
        if w >= h:
            half[(box[1] + box[3] + 1) // 2:] = False
        else:
            half[:, (box[0] + box[2] + 1) // 2:] = False
        self.image[half] = roof * 0.78
        return self._commit(mask, index)

    def _draw_storage_tank(self, colour: str, index: int, spot: Spot):
        rng, sc = self.rng, self.scale
        r = rng.uniform(6, 12) * sc
        centre = self._centre(r + 3, r + 3, spot)
        if centre is None:
            return None
        cx, cy = centre
        box = (int(cx - r), int(cy - r), int(cx + r), int(cy + r))
        if not self._free(box, int(4 * sc), True, spot):
            return None
        canvas = np.zeros((self.size, self.size), np.uint8)
        centre = (int(round(cx)), int(round(cy)))
        cv2.circle(canvas, centre, int(round(r)), 1, -1)
        mask = canvas.astype(bool)
        self._shadow(mask, _bbox(mask), max(2, int(3 * sc)))
        fill = self._colour(colour)
        self.image[mask] = fill * 0.72
        inner = np.zeros_like(canvas)
        cv2.circle(inner, centre, max(1, int(round(r - 2 * sc))), 1, -1)
        inner = inner.astype(bool) & mask
        self.image[inner] = fill
        cv2.circle(self.image, centre, max(1, int(r / 4)),
                   tuple(float(v) for v in fill * 0.85), -1)
        return self._commit(mask, index)

    def _draw_pond(self, colour: str, index: int, spot: Spot):
        rng, sc = self.rng, self.scale
        r = rng.uniform(8, 14) * sc
        centre = self._centre(r + 4, r + 4, spot)
        if centre is None:
            return None
        cx, cy = centre
        canvas = np.zeros((self.size, self.size), np.uint8)
        for _ in range(3):
            off = rng.normal(0, r / 3, 2)
            axes = (int(r * rng.uniform(0.5, 0.9)),
                    int(r * rng.uniform(0.4, 0.8)))
            centre = (int(np.clip(cx + off[0], r, self.size - r)),
                      int(np.clip(cy + off[1], r, self.size - r)))
            cv2.ellipse(canvas, centre, axes, float(rng.uniform(0, 180)), 0,
                        360, 1, -1)
        mask = canvas.astype(bool)
        box = _bbox(mask)
        if box is None or not self._free(box, int(4 * sc), True, spot):
            return None
        water = self._colour(colour, water=True)
        self.image[mask] = water
        edge = mask & ~cv2.erode(canvas, np.ones(
            (3, 3), np.uint8)).astype(bool)
        self.image[edge] = water * 0.8
        return self._commit(mask, index)

    def finish(self) -> np.ndarray:
        """Add sensor noise and return the uint8 RGB image."""
        noise = self.rng.integers(-8, 9, self.image.shape, dtype=np.int16)
        return cv2.add(self.image,
                       noise.astype(np.float32)).clip(0, 255).astype(np.uint8)
