"""Procedural remote-sensing-like scenes with referring expressions.

The embedded default dataset: anyone can run the whole pipeline without
downloading a benchmark. Scenes are seen from above: textured ground with
fields, roads, and 3-7 objects of four kinds

* ``vehicle``: small oriented rectangles with a windshield,
* ``building``: larger rectangles with a two-tone (gabled) roof and a shadow,
* ``storage tank``: discs with a rim and a shadow,
* ``pond``: water blobs.

Every object has a colour (red, white, blue, green, yellow, black, grey;
each kind has its own palette), a size and a position. An expression is
built from a query over these attributes (colour, kind, coarse position in a
3x3 grid, largest/smallest of its kind, a relation to a landmark: next to,
left of, right of, above, below; or a group: "all red vehicles") and is
kept only when the query, evaluated on the scene, selects exactly the
target objects, with a safety margin (no object near a grid line or a
relation threshold), so every expression refers unambiguously to its mask.

Some colour-kind pairs (:data:`HELD_OUT_COMBOS`) never appear in the train
and val scenes; a share of the test expressions refer to objects of exactly
those pairs, to measure generalisation to unseen attribute combinations.

The files are written in the RefSegRS layout (``images/<id>.tif``,
``masks/<id>.tif`` with 0/255, ``output_phrase_{train,val,test}.txt``) and
are read back through :class:`RefSegRSDataset`. ``synthetic_info.json`` in
the root records the parameters, the held-out pairs and statistics; it is
written last and marks a complete dataset.
"""
import json
import os
import os.path as osp
import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log

GENERATOR_VERSION = 3
INFO_FILE = 'synthetic_info.json'
KINDS = ('vehicle', 'building', 'storage tank', 'pond')
KIND_WEIGHTS = (0.4, 0.25, 0.2, 0.15)
KIND_WORDS = {
    'vehicle': ('vehicle', 'car'),
    'building': ('building', ),
    'storage tank': ('storage tank', 'tank'),
    'pond': ('pond', ),
}
COLOURS = {  # RGB
    'red': (195, 35, 35),
    'white': (238, 238, 232),
    'blue': (40, 75, 195),
    'green': (40, 140, 60),
    'yellow': (228, 198, 40),
    'black': (28, 28, 30),
    'grey': (150, 150, 152),
}
WATER = {'blue': (35, 75, 160), 'green': (35, 115, 65)}
KIND_COLOURS = {
    'vehicle': ('red', 'white', 'blue', 'yellow', 'black', 'grey'),
    'building': ('red', 'white', 'grey', 'blue', 'yellow'),
    'storage tank': ('white', 'grey', 'red', 'blue'),
    'pond': ('blue', 'green'),
}
#: (colour, kind) pairs absent from train/val scenes, targeted in test.
HELD_OUT_COMBOS = (('yellow', 'building'), ('red', 'storage tank'))
HELD_OUT_TEST_SHARE = 0.2
EXPRESSION_TYPE_WEIGHTS = {
    'colour_kind': 0.38,
    'kind': 0.12,
    'position': 0.16,
    'size': 0.07,
    'relation': 0.12,
    'group': 0.15,
}
GROUND_COLOURS = ((112, 108, 74), (126, 114, 88), (94, 108, 66),
                  (138, 128, 102))
SPLIT_CODES = {'train': 0, 'val': 1, 'test': 2}
COUNT_WORDS = {2: 'two', 3: 'three', 4: 'four'}
POS_MARGIN = 0.045
H_NAMES = ('left', 'centre', 'right')
V_NAMES = ('top', 'middle', 'bottom')


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


def _thirds(value: float, size: int) -> Tuple[int, ...]:
    """Thirds (0..2) that may hold ``value``: two when it is near a border."""
    t = value / size
    cells = set()
    for delta in (-POS_MARGIN, 0.0, POS_MARGIN):
        cells.add(min(2, max(0, int((t + delta) * 3))))
    return tuple(sorted(cells))


def _bbox(mask: np.ndarray) -> Optional[Tuple[int, int, int, int]]:
    """Inclusive (x0, y0, x1, y1) of a boolean mask; None if it is empty."""
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8))
    return None if w == 0 else (x, y, x + w - 1, y + h - 1)


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
            fits = [
                _thirds(c, image_size) for c in objects[i].centre
            ]
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


def _noun(kind: str, colour: Optional[str], rng: np.random.Generator,
          plural: bool = False) -> str:
    word = KIND_WORDS[kind][rng.integers(len(KIND_WORDS[kind]))]
    word = word + 's' if plural else word
    return f'{colour} {word}' if colour else word


def _position_phrase(cell: Tuple[Optional[int], Optional[int]],
                     rng: np.random.Generator) -> str:
    h, v = cell
    if h is None:
        return (f'at the {V_NAMES[v]}',
                f'at the {V_NAMES[v]} of the image')[rng.integers(2)]
    if v is None:
        return (f'on the {H_NAMES[h]}',
                f'on the {H_NAMES[h]} side')[rng.integers(2)]
    if (h, v) == (1, 1):
        return ('in the centre', 'in the middle of the image')[rng.integers(2)]
    return (f'at the {V_NAMES[v]} {H_NAMES[h]}',
            f'in the {V_NAMES[v]} {H_NAMES[h]} corner')[rng.integers(2)]


def render(query: Query,
           rng: np.random.Generator,
           count: Optional[int] = None) -> str:
    """Write a query as an English expression.

    Args:
        query (Query): The description.
        rng (np.random.Generator): Picks among synonyms and phrasings.
        count (int, optional): Number of selected objects, used by group
            phrasings ("the two red vehicles"). Defaults to None.

    Returns:
        str: The expression.
    """
    if query.group:
        nouns = _noun(query.kind, query.colour, rng, plural=True)
        if count in COUNT_WORDS and rng.random() < 0.3:
            return f'the {COUNT_WORDS[count]} {nouns}'
        return (f'all {nouns}', f'all the {nouns}')[rng.integers(2)]
    noun = _noun(query.kind, query.colour, rng)
    if query.size is not None:
        return f'the {query.size} {noun}'
    text = f'the {noun}'
    if query.cell is not None:
        text += ' ' + _position_phrase(query.cell, rng)
    if query.relation is not None:
        rel = query.relation
        if rel in ('left of', 'right of') and rng.random() < 0.5:
            rel = 'to the ' + rel
        text += f' {rel} {render(query.landmark, rng)}'
    return text


def _candidates(objects: Sequence[SceneObject],
                image_size: int) -> List[Tuple[str, Query, Tuple[int, ...]]]:
    """All verified (type, query, targets) of a scene."""
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
        hs, vs = (_thirds(c, image_size) for c in o.centre)
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

    def _free(self, box: Tuple[int, int, int, int], margin: int,
              avoid_road: bool) -> bool:
        x0, y0, x1, y1 = box
        if x0 < 2 or y0 < 2 or x1 > self.size - 3 or y1 > self.size - 3:
            return False
        sl = (slice(max(0, y0 - margin), y1 + margin + 1),
              slice(max(0, x0 - margin), x1 + margin + 1))
        if self.occupied[sl].any():
            return False
        return not (avoid_road and self.road[sl].any())

    def _commit(self, mask: np.ndarray, index: int) -> Tuple[Tuple[int, ...],
                                                            int]:
        self.labels[mask] = index
        self.occupied |= mask
        return _bbox(mask), int(np.count_nonzero(mask))

    def _colour(self, name: str, water: bool = False) -> np.ndarray:
        rgb = np.array((WATER if water else COLOURS)[name], np.float32)
        return np.clip(rgb * self.rng.uniform(0.92, 1.06), 0, 255)

    def _shadow(self, mask: np.ndarray, box: Tuple[int, int, int, int],
                offset: int) -> None:
        x0, y0 = box[0], box[1]
        x1, y1 = min(self.size, box[2] + offset + 1), min(
            self.size, box[3] + offset + 1)
        shifted = mask[y0 - offset:y1 - offset, x0 - offset:x1 - offset] \
            if x0 >= offset and y0 >= offset else None
        if shifted is None:
            return
        window = (slice(y0, y1), slice(x0, x1))
        shadow = shifted & ~self.occupied[window] & ~mask[window]
        self.image[window][shadow] *= 0.55

    def place(self, kind: str, colour: str, index: int) -> Optional[
            SceneObject]:
        """Try to place one object; None if no free spot was found."""
        draw = getattr(self, '_draw_' + kind.replace(' ', '_'))
        for _ in range(30):
            result = draw(colour, index)
            if result is not None:
                box, area = result
                return SceneObject(kind, colour, box, area)
        return None

    def _poly_mask(self, pts: np.ndarray) -> np.ndarray:
        canvas = np.zeros((self.size, self.size), np.uint8)
        cv2.fillPoly(canvas, [np.round(pts).astype(np.int32)], 1)
        return canvas.astype(bool)

    def _draw_vehicle(self, colour: str, index: int):
        rng, sc = self.rng, self.scale
        length, width = rng.uniform(12, 18) * sc, rng.uniform(7, 10) * sc
        if self.roads and rng.random() < 0.6:
            axis, pos, rw = self.roads[rng.integers(len(self.roads))]
            along = rng.uniform(8, self.size - 8)
            across = pos + rw / 2 + rng.choice((-1, 1)) * rw / 4
            cx, cy = (along, across) if axis == 'h' else (across, along)
            angle = (0.0 if axis == 'h' else np.pi / 2) + rng.normal(0, 0.05)
        else:
            cx, cy = rng.uniform(8, self.size - 8, 2)
            angle = rng.uniform(0, np.pi)
        d = np.array([np.cos(angle), np.sin(angle)])
        n = np.array([-d[1], d[0]])
        c = np.array([cx, cy])
        corners = np.array([c + sa * d * length / 2 + sb * n * width / 2
                            for sa, sb in ((1, 1), (1, -1), (-1, -1),
                                           (-1, 1))])
        mask = self._poly_mask(corners)
        box = _bbox(mask)
        if box is None or not self._free(box, int(3 * sc), avoid_road=False):
            return None
        self._shadow(mask, box, max(1, int(2 * sc)))
        self.image[mask] = self._colour(colour)
        glass = self._poly_mask(
            np.array([c + sa * d * length / 2 + sb * n * width * 0.38
                      for sa, sb in ((0.45, 1), (0.45, -1), (0.2, -1),
                                     (0.2, 1))])) & mask
        self.image[glass] = self.image[glass] * 0.35 + 20
        return self._commit(mask, index)

    def _draw_building(self, colour: str, index: int):
        rng, sc = self.rng, self.scale
        w, h = rng.uniform(18, 34, 2) * sc
        x0, y0 = rng.uniform(3, self.size - 3 - w), rng.uniform(
            3, self.size - 3 - h)
        box = (int(x0), int(y0), int(x0 + w), int(y0 + h))
        if not self._free(box, int(4 * sc), avoid_road=True):
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

    def _draw_storage_tank(self, colour: str, index: int):
        rng, sc = self.rng, self.scale
        r = rng.uniform(6, 12) * sc
        cx, cy = rng.uniform(r + 3, self.size - r - 3, 2)
        box = (int(cx - r), int(cy - r), int(cx + r), int(cy + r))
        if not self._free(box, int(4 * sc), avoid_road=True):
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

    def _draw_pond(self, colour: str, index: int):
        rng, sc = self.rng, self.scale
        r = rng.uniform(8, 14) * sc
        cx, cy = rng.uniform(r + 4, self.size - r - 4, 2)
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
        if not self._free(box, int(4 * sc), avoid_road=True):
            return None
        water = self._colour(colour, water=True)
        self.image[mask] = water
        edge = mask & ~cv2.erode(canvas, np.ones((3, 3), np.uint8)).astype(
            bool)
        self.image[edge] = water * 0.8
        return self._commit(mask, index)

    def finish(self) -> np.ndarray:
        """Add sensor noise and return the uint8 RGB image."""
        noise = self.rng.integers(-8, 9, self.image.shape, dtype=np.int16)
        return cv2.add(self.image, noise.astype(np.float32)).clip(
            0, 255).astype(np.uint8)


def _sample_combo(rng: np.random.Generator,
                  banned: Sequence[Tuple[str, str]]) -> Tuple[str, str]:
    while True:
        kind = KINDS[rng.choice(len(KINDS), p=KIND_WEIGHTS)]
        colours = KIND_COLOURS[kind]
        colour = colours[rng.integers(len(colours))]
        if (colour, kind) not in banned:
            return colour, kind


def generate_scene(rng: np.random.Generator, image_size: int, split: str
                   ) -> Tuple[np.ndarray, np.ndarray, List[str], dict]:
    """Generate one scene, its target mask and 1-2 expressions.

    Args:
        rng (np.random.Generator): Random source of this scene.
        image_size (int): Image side in pixels.
        split (str): ``'train'``, ``'val'`` or ``'test'``; train and val
            never contain :data:`HELD_OUT_COMBOS`, and a share of the test
            scenes target one of them.

    Returns:
        tuple: RGB image (uint8), mask (uint8 0/255), expressions, and a
        record with the expression type, target and object combos.
    """
    banned = HELD_OUT_COMBOS if split != 'test' else ()
    force = None
    if split == 'test' and rng.random() < HELD_OUT_TEST_SHARE:
        force = HELD_OUT_COMBOS[rng.integers(len(HELD_OUT_COMBOS))]
    while True:
        scene = SceneRenderer(image_size, rng)
        scene.add_roads()
        objects: List[SceneObject] = []
        combos = [force] if force else []
        combos += [
            _sample_combo(rng, banned) for _ in range(rng.integers(3, 8))
        ][:7 - len(combos)]
        for colour, kind in combos:
            obj = scene.place(kind, colour, len(objects) + 1)
            if obj is not None:
                objects.append(obj)
        if len(objects) < 3 or (force and objects[0][:2] != force[::-1]):
            continue
        found = _candidates(objects, image_size)
        if force:
            found = [
                c for c in found if 0 in c[2] and c[1].kind == force[1]
                and c[1].colour == force[0]
            ]
        if found:
            break
    types = sorted(set(c[0] for c in found))
    weights = np.array([EXPRESSION_TYPE_WEIGHTS[t] for t in types])
    chosen_type = types[rng.choice(len(types), p=weights / weights.sum())]
    pool = [c for c in found if c[0] == chosen_type]
    _, query, targets = pool[rng.integers(len(pool))]
    texts = [render(query, rng, len(targets))]
    if rng.random() < 0.5:
        others = [c for c in found if c[2] == targets and c[1] != query]
        if others:
            extra = render(others[rng.integers(len(others))][1], rng,
                           len(targets))
            if extra not in texts:
                texts.append(extra)
    mask = np.isin(scene.labels, [t + 1 for t in targets])
    record = dict(
        type=chosen_type,
        num_targets=len(targets),
        target_combos=sorted(
            set((objects[t].colour, objects[t].kind) for t in targets)),
        object_combos=sorted(set((o.colour, o.kind) for o in objects)))
    return scene.finish(), mask.astype(np.uint8) * 255, texts, record


def _write_pair(path_img: str, path_mask: str, image: np.ndarray,
                mask: np.ndarray) -> None:
    # images uncompressed (noise compresses badly and slowly), masks LZW
    if not cv2.imwrite(path_img, cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                       [cv2.IMWRITE_TIFF_COMPRESSION, 1]):
        raise OSError(f'cannot write {path_img}')
    if not cv2.imwrite(path_mask, mask, [cv2.IMWRITE_TIFF_COMPRESSION, 5]):
        raise OSError(f'cannot write {path_mask}')


def _params(num_train: int, num_val: int, num_test: int, image_size: int,
            seed: int) -> dict:
    return dict(
        num_train=int(num_train),
        num_val=int(num_val),
        num_test=int(num_test),
        image_size=int(image_size),
        seed=int(seed),
        version=GENERATOR_VERSION)


def generate_synthetic_dataset(root: str,
                               num_train: int = 3000,
                               num_val: int = 300,
                               num_test: int = 300,
                               image_size: int = 128,
                               seed: int = 0) -> dict:
    """Generate the synthetic dataset in the RefSegRS layout under ``root``.

    Deterministic: the same arguments give the same files. Ids are
    consecutive integers over train, val and test; each image has one
    target mask (one or several objects) and one or two expressions
    (lines sharing the id).

    Args:
        root (str): Output folder (created if needed).
        num_train (int): Train images. Defaults to 3000.
        num_val (int): Val images. Defaults to 300.
        num_test (int): Test images. Defaults to 300.
        image_size (int): Image side in pixels. Defaults to 128.
        seed (int): Random seed. Defaults to 0.

    Returns:
        dict: The content written to ``synthetic_info.json``.
    """
    if image_size < 64:
        raise ValueError(f'image_size must be >= 64, got {image_size}')
    info_path = osp.join(root, INFO_FILE)
    if osp.exists(info_path):
        os.remove(info_path)
    for sub in ('images', 'masks'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    counts = dict(train=num_train, val=num_val, test=num_test)
    stats: Dict[str, dict] = dict()
    next_id = 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        for split, num in counts.items():
            lines, types = [], Counter()
            object_combos, target_combos = set(), set()
            held_out_ids = []
            jobs = []
            for i in range(num):
                rng = np.random.default_rng([seed, SPLIT_CODES[split], i])
                image, mask, texts, record = generate_scene(
                    rng, image_size, split)
                name = str(next_id)
                next_id += 1
                jobs.append(
                    pool.submit(_write_pair,
                                osp.join(root, 'images', name + '.tif'),
                                osp.join(root, 'masks', name + '.tif'), image,
                                mask))
                lines += [f'{name} {t}' for t in texts]
                types[record['type']] += 1
                object_combos.update(record['object_combos'])
                target_combos.update(record['target_combos'])
                if set(record['target_combos']) & set(HELD_OUT_COMBOS):
                    held_out_ids.append(name)
            for job in jobs:
                job.result()
            with open(
                    osp.join(root, f'output_phrase_{split}.txt'),
                    'w',
                    encoding='utf-8') as f:
                f.write('\n'.join(lines) + ('\n' if lines else ''))
            stats[split] = dict(
                images=num,
                expressions=len(lines),
                expression_types=dict(sorted(types.items())),
                object_combos=sorted(map(list, object_combos)),
                target_combos=sorted(map(list, target_combos)),
                held_out_target_ids=held_out_ids)
    info = dict(
        params=_params(num_train, num_val, num_test, image_size, seed),
        layout='RefSegRS',
        kinds=list(KINDS),
        kind_colours={k: list(v)
                      for k, v in KIND_COLOURS.items()},
        held_out_combos=[list(c) for c in HELD_OUT_COMBOS],
        splits=stats)
    with open(info_path, 'w', encoding='utf-8') as f:
        json.dump(info, f, indent=1)
    return info


def ensure_synthetic_dataset(root: str,
                             num_train: int = 3000,
                             num_val: int = 300,
                             num_test: int = 300,
                             image_size: int = 128,
                             seed: int = 0) -> dict:
    """Generate the synthetic dataset unless ``root`` already holds it.

    The dataset is reused when ``synthetic_info.json`` records the same
    parameters (and generator version); otherwise the previously generated
    images and masks are removed and everything is generated again.

    Args:
        root (str): Dataset folder.
        num_train (int): Train images. Defaults to 3000.
        num_val (int): Val images. Defaults to 300.
        num_test (int): Test images. Defaults to 300.
        image_size (int): Image side in pixels. Defaults to 128.
        seed (int): Random seed. Defaults to 0.

    Returns:
        dict: The dataset's ``synthetic_info.json`` content.
    """
    info_path = osp.join(root, INFO_FILE)
    wanted = _params(num_train, num_val, num_test, image_size, seed)
    if osp.isfile(info_path):
        with open(info_path, encoding='utf-8') as f:
            info = json.load(f)
        if info.get('params') == wanted:
            return info
        for sub in ('images', 'masks'):
            shutil.rmtree(osp.join(root, sub), ignore_errors=True)
    print_log(
        f'generating the synthetic dataset in {root} ({num_train} train, '
        f'{num_val} val, {num_test} test images of {image_size} px)',
        logger='current')
    return generate_synthetic_dataset(root, num_train, num_val, num_test,
                                      image_size, seed)
