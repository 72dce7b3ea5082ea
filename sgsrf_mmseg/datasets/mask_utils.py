"""Binary referring masks: thresholding, COCO decoding, size repair."""
import warnings
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from pycocotools import mask as coco_mask

from ..utils.image_header import DEFAULT_MAX_PIXELS

Segmentation = Union[dict, list]


def binarize_mask(mask: np.ndarray, threshold: float) -> np.ndarray:
    """Turn a mask image into a uint8 0/1 map: foreground is ``> threshold``.

    A multi-channel mask is reduced with the maximum over its channels.

    Args:
        mask (np.ndarray): Mask image, (H, W) or (H, W, C).
        threshold (float): Values strictly above it are foreground.

    Returns:
        np.ndarray: (H, W) uint8 map of 0 and 1.
    """
    if mask.ndim == 3:
        mask = mask.max(axis=2)
    return (mask > threshold).astype(np.uint8)


def is_strictly_binary(mask: np.ndarray) -> bool:
    """Whether a mask image holds only the values 0 and 255 (or 0 and 1)."""
    values = np.unique(mask)
    return set(values.tolist()) <= {0, 255} or set(values.tolist()) <= {0, 1}


def _segmentation_to_rles(segmentation: Segmentation, height: int,
                          width: int) -> List[dict]:
    """Convert one COCO segmentation (RLE dicts and/or polygons) to RLEs."""
    parts = segmentation if isinstance(segmentation, list) else [segmentation]
    if parts and isinstance(parts[0], (int, float)):
        parts = [parts]
    rles = []
    polygons = []
    for part in parts:
        if isinstance(part, dict):
            counts = part['counts']
            if isinstance(counts, list):
                rles.append(coco_mask.frPyObjects(part, height, width))
            elif isinstance(counts, str):
                rles.append(dict(part, counts=counts.encode('ascii')))
            else:
                rles.append(part)
        elif isinstance(part, (list, tuple)) and len(part) >= 6:
            polygons.append([float(v) for v in part])
        else:
            raise ValueError('a segmentation part is neither a RLE dict nor '
                             f'a polygon of >= 3 points: {part!r:.80}')
    if polygons:
        rles.extend(coco_mask.frPyObjects(polygons, height, width))
    return rles


def decode_segmentations(
        segmentations: Sequence[Segmentation],
        size: Tuple[int, int],
        max_pixels: Optional[int] = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode COCO segmentations and merge them by union.

    The declared sizes are checked before anything is allocated: the size
    against ``max_pixels``, every RLE part's against ``size``.

    Args:
        segmentations (Sequence[dict | list]): One entry per annotation:
            a RLE dict, a list of RLE dicts, or a list of polygons
            (flat ``[x1, y1, x2, y2, ...]`` lists).
        size (tuple[int, int]): Mask size (h, w); RLE parts must match it.
        max_pixels (int, optional): Largest mask, in pixels; None for no
            limit. Defaults to the image pixel limit
            (:data:`~sgsrf_mmseg.utils.image_header.DEFAULT_MAX_PIXELS`).

    Returns:
        np.ndarray: (h, w) uint8 map of 0 and 1.
    """
    height, width = int(size[0]), int(size[1])
    if height <= 0 or width <= 0:
        raise ValueError(f'the annotation declares a {width} x {height} '
                         'mask; not decoded')
    if max_pixels is not None and height * width > max_pixels:
        raise ValueError(f'the annotation declares a {width} x {height} = '
                         f'{height * width:,} pixel mask, over the limit of '
                         f'{max_pixels:,}; not decoded')
    rles = [
        rle for segmentation in segmentations
        for rle in _segmentation_to_rles(segmentation, height, width)
    ]
    for rle in rles:
        rle_size = tuple(int(s) for s in rle['size'])
        if rle_size != (height, width):
            raise ValueError(f'RLE size {rle_size} differs from the '
                             f'annotation size {(height, width)}')
    merged = np.zeros((height, width), dtype=np.uint8)
    for rle in rles:
        with warnings.catch_warnings():
            # pycocotools' numpy-2 "copy keyword" notice, not ours
            warnings.simplefilter('ignore', DeprecationWarning)
            decoded = coco_mask.decode([rle])[:, :, 0]
        merged |= decoded.astype(np.uint8)
    return merged


def segmentation_size(
        segmentation: Segmentation) -> Union[Tuple[int, int], None]:
    """The (h, w) recorded in the first RLE of a segmentation, else None."""
    parts = segmentation if isinstance(segmentation, list) else [segmentation]
    for part in parts:
        if isinstance(part, dict) and 'size' in part:
            return int(part['size'][0]), int(part['size'][1])
    return None


def fit_mask_to_shape(mask: np.ndarray, shape: Tuple[int, int],
                      mode: str) -> np.ndarray:
    """Bring a mask to an image's (h, w).

    Args:
        mask (np.ndarray): (h, w) uint8 0/1 mask.
        shape (tuple[int, int]): Target (H, W).
        mode (str): ``'pad_crop'`` keeps the mask anchored at the top-left
            corner, cropping extra rows/columns at the bottom/right and
            padding missing ones with background; ``'resize'`` stretches it
            with nearest-neighbour interpolation.

    Returns:
        np.ndarray: (H, W) uint8 0/1 mask.
    """
    h, w = int(shape[0]), int(shape[1])
    if mode == 'resize':
        return cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
    if mode != 'pad_crop':
        raise ValueError(f"mode must be 'pad_crop' or 'resize', got {mode!r}")
    out = np.zeros((h, w), dtype=mask.dtype)
    ch, cw = min(h, mask.shape[0]), min(w, mask.shape[1])
    out[:ch, :cw] = mask[:ch, :cw]
    return out
