"""Tiny datasets in the on-disk formats of the reuse configs' datasets."""
import os
import os.path as osp
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np

#: Colour of each ADE20K label the generated scenes use (RGB).
ADE_COLOURS = {
    1: (70, 130, 180),
    2: (120, 120, 70),
    3: (200, 180, 160),
    5: (30, 140, 40)
}


def _write(path: str, array: np.ndarray) -> None:
    """Write an RGB image (H, W, 3) or a label map (H, W) with OpenCV."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    if array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    if not cv2.imwrite(path, array):
        raise OSError(f'could not write {path}')


def _rectangles(rng: np.random.Generator, size: Tuple[int, int],
                count: int) -> Sequence[Tuple[slice, slice]]:
    """``count`` random axis-aligned rectangles inside ``size`` (h, w)."""
    h, w = size
    boxes = []
    for _ in range(count):
        bh, bw = rng.integers(h // 6, h // 2), rng.integers(w // 6, w // 2)
        y, x = rng.integers(0, h - bh), rng.integers(0, w - bw)
        boxes.append((slice(y, y + bh), slice(x, x + bw)))
    return boxes


def _write_dataset(root: str, layout: Tuple[str,
                                            str], splits: Sequence[Tuple[str,
                                                                         int]],
                   size: Tuple[int, int], colours: Dict[int, tuple],
                   ground: tuple, boxes: int, seed: int) -> str:
    """Write ``count`` scenes of each ``(split, count)`` under ``root``.

    Each scene has ``boxes`` rectangles, each of a random label of
    ``colours`` drawn in its colour, on noisy ``ground`` (label 0).

    Args:
        layout (tuple[str, str]): Image and label paths relative to
            ``root``, formatted with ``split`` and ``i``.

    Returns:
        str: ``root``.
    """
    rng = np.random.default_rng(seed)
    for split, count in splits:
        for i in range(count):
            label = np.zeros(size, np.uint8)
            image = np.clip(
                np.array(ground) + rng.integers(-20, 20, (*size, 3)), 0,
                255).astype(np.uint8)
            for box in _rectangles(rng, size, boxes):
                value = int(rng.choice(list(colours)))
                label[box] = value
                image[box] = colours[value]
            image_path, label_path = (
                osp.join(root, p.format(split=split, i=i)) for p in layout)
            _write(image_path, image)
            _write(label_path, label)
    return root


def write_ade20k(root: str,
                 size: Tuple[int, int] = (50, 80),
                 num_train: int = 4,
                 num_val: int = 2,
                 seed: int = 0) -> str:
    """Scenes in ADE20K's layout (``ADEChallengeData2016``).

    ``images/{training,validation}/<name>.jpg`` and ``annotations/...
    /<name>.png`` with 0 (other, ignored through ``reduce_zero_label``)
    and a few of the 150 class labels, each drawn in its own colour.

    Returns:
        str: The dataset root to give as ``data_root``.
    """
    return _write_dataset(root,
                          ('images/{split}/ADE_{split}_{i:08d}.jpg',
                           'annotations/{split}/ADE_{split}_{i:08d}.png'),
                          (('training', num_train), ('validation', num_val)),
                          size, ADE_COLOURS, (30, 30, 30), 3, seed)


def write_building(root: str,
                   size: Tuple[int, int] = (64, 64),
                   num_train: int = 4,
                   num_val: int = 2,
                   seed: int = 0) -> str:
    """Tiles in the building-extraction layout of mmseg's BaseSegDataset.

    ``img_dir/{train,val}/<name>.png`` (grey roofs on green-brown ground)
    and ``ann_dir/{train,val}/<name>.png`` with 0 background, 1 building.

    Returns:
        str: The dataset root to give as ``data_root``.
    """
    return _write_dataset(root, ('img_dir/{split}/tile_{i:03d}.png',
                                 'ann_dir/{split}/tile_{i:03d}.png'),
                          (('train', num_train), ('val', num_val)), size,
                          {1: (200, 200, 195)}, (90, 110, 60), 2, seed)
