"""Load the binary target mask of a referring expression."""
import logging
import os.path as osp
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmengine.logging import print_log
from mmseg.registry import TRANSFORMS

from ...utils.image_header import (DEFAULT_MAX_PIXELS, check_pixel_limit,
                                   mask_header_size)
from ..mask_utils import binarize_mask, decode_segmentations, fit_mask_to_shape


@TRANSFORMS.register_module()
class LoadReferringMask(BaseTransform):
    """Load the target mask into ``results['gt_seg_map']`` (uint8, 0/1).

    Two sources, decided by the item:

    * ``mask_annotations`` + ``mask_size`` (RRSIS-D): COCO RLE dicts or
      polygons, decoded with pycocotools and merged by union.
    * ``seg_map_path`` (RefSegRS, RISBench): a mask image; pixels
      ``> threshold`` are the target (a multi-channel mask is reduced with
      the channel maximum). ``threshold`` defaults to the item's
      ``mask_threshold`` (RefSegRS 50, RISBench 0), else 127.

    Put it right after ``LoadRasterImage``: the mask must then have the
    image's size (``ori_shape``).

    * Declared sizes are checked before anything is decoded: a mask file's
      header and an annotation's ``mask_size`` against the image (or, with
      no image size known, against the image pixel limit), so a file or an
      RLE that claims a huge size is refused without allocating it.
    * A mask file whose size differs from its image raises an error naming
      both files.
    * An RRSIS-D annotation whose size differs from its image (the released
      data has 800x801 and 800x787 images with 800x800 RLEs) is repaired
      when neither side differs by more than ``max_size_mismatch`` pixels:
      with ``size_mismatch='pad_crop'`` the mask stays anchored at the
      top-left corner (extra rows/columns cropped, missing ones background);
      with ``'resize'`` it is stretched (nearest), which is what the
      LAVT/RMSIN loaders effectively do. Every repair logs a warning naming
      the image and both sizes. Larger differences, or
      ``size_mismatch='error'``, raise an error.
    * A missing or unreadable mask file raises an error naming it.
    * An empty mask (no target pixel) is kept and logged once per file when
      ``warn_empty`` is True.

    Required Keys: ``seg_map_path`` or (``mask_annotations``, ``mask_size``);
    optional ``ori_shape``/``img`` for the size check, ``mask_threshold``.

    Added Keys: ``gt_seg_map``; ``seg_fields`` gains ``'gt_seg_map'``.

    Args:
        threshold (float, optional): Foreground threshold of mask images.
            Defaults to None (the item's ``mask_threshold``).
        size_mismatch (str): ``'pad_crop'``, ``'resize'`` or ``'error'``
            for annotation/image size differences. Defaults to
            ``'pad_crop'``.
        max_size_mismatch (int): Largest repaired difference in pixels,
            per side. Defaults to 16.
        warn_empty (bool): Log masks without foreground. Defaults to True.
        imdecode_backend (str): Backend of :func:`mmcv.imfrombytes`.
            Defaults to ``'cv2'``.
        backend_args (dict, optional): File backend arguments. Defaults to
            None.
    """

    def __init__(self,
                 threshold: Optional[float] = None,
                 size_mismatch: str = 'pad_crop',
                 max_size_mismatch: int = 16,
                 warn_empty: bool = True,
                 imdecode_backend: str = 'cv2',
                 backend_args: Optional[dict] = None) -> None:
        if size_mismatch not in ('pad_crop', 'resize', 'error'):
            raise ValueError("size_mismatch must be 'pad_crop', 'resize' or "
                             f"'error', got {size_mismatch!r}")
        self.threshold = threshold
        self.size_mismatch = size_mismatch
        self.max_size_mismatch = max_size_mismatch
        self.warn_empty = warn_empty
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args
        self._warned = set()

    @staticmethod
    def _image_shape(results: dict) -> Optional[tuple]:
        if results.get('ori_shape') is not None:
            return tuple(results['ori_shape'][:2])
        if results.get('img') is not None:
            return tuple(results['img'].shape[:2])
        return None

    def read_mask_image(self, results: dict) -> np.ndarray:
        """Read ``results['seg_map_path']`` with its values as stored.

        Args:
            results (dict): The item, with ``seg_map_path`` (``img_path``
                is named in errors).

        Returns:
            np.ndarray: The mask image, (H, W) or (H, W, C).
        """
        path = results['seg_map_path']
        self._check_declared_size(path, results)
        try:
            mask_bytes = fileio.get(path, backend_args=self.backend_args)
        except (FileNotFoundError, OSError) as e:
            raise FileNotFoundError(
                f'mask file {path} (image {results.get("img_path")}) cannot '
                f'be read: {e}') from e
        mask = mmcv.imfrombytes(
            mask_bytes, flag='unchanged', backend=self.imdecode_backend)
        if mask is None:
            raise ValueError(f'mask file {path} cannot be decoded')
        return mask

    def _check_declared_size(self, path: str, results: dict) -> None:
        """Refuse a local mask file whose header is not the image's size."""
        if self.backend_args is not None or not osp.isfile(path):
            return  # read by a file backend: checked once decoded
        size = mask_header_size(path)
        if size is None:
            raise ValueError(f'mask file {path} cannot be decoded: its size '
                             'cannot be read from its header (corrupt or an '
                             'unsupported format; image '
                             f'{results.get("img_path")})')
        img_shape = self._image_shape(results)
        if img_shape is None:
            check_pixel_limit(path, size[0], size[1], DEFAULT_MAX_PIXELS)
        elif size != img_shape:
            raise ValueError(f'mask file {path} has size {size} but image '
                             f'{results.get("img_path")} has size {img_shape}')

    def mask_from_image(self, mask_image: np.ndarray,
                        results: dict) -> np.ndarray:
        """Threshold a mask image and check its size against the image.

        Args:
            mask_image (np.ndarray): As read by :meth:`read_mask_image`.
            results (dict): The item (``mask_threshold``, ``ori_shape`` or
                ``img``, the file names for errors).

        Returns:
            np.ndarray: (H, W) uint8 0/1 mask.
        """
        threshold = self.threshold
        if threshold is None:
            threshold = results.get('mask_threshold', 127)
        mask = binarize_mask(mask_image, threshold)
        img_shape = self._image_shape(results)
        if img_shape is not None and mask.shape != img_shape:
            raise ValueError(
                f'mask file {results["seg_map_path"]} has size {mask.shape} '
                f'but image {results.get("img_path")} has size {img_shape}')
        return mask

    def _decode_annotations(self, results: dict) -> np.ndarray:
        where = (f'annotation {results.get("ann_id")} of ref '
                 f'{results.get("ref_id")} (image {results.get("img_path")})')
        try:
            declared = tuple(int(s) for s in results['mask_size'])
        except (ValueError, TypeError, KeyError) as e:
            raise ValueError(f'cannot decode {where}: mask_size: {e}') from e
        img_shape = self._image_shape(results)
        if img_shape is not None and declared != img_shape:
            diff = max(
                abs(declared[0] - img_shape[0]),
                abs(declared[1] - img_shape[1]))
            if self.size_mismatch == 'error' or \
                    diff > self.max_size_mismatch:
                raise ValueError(
                    f'{where}: mask size {declared} differs from the image '
                    f'size {img_shape} (by {diff} px; repaired up to '
                    f'{self.max_size_mismatch} px unless '
                    'size_mismatch="error"); not decoded')
        try:
            mask = decode_segmentations(results['mask_annotations'], declared)
        except (ValueError, TypeError, KeyError) as e:
            raise ValueError(f'cannot decode {where}: {e}') from e
        if img_shape is None or mask.shape == img_shape:
            return mask
        self._warn_once(
            results['img_path'],
            f'{where}: mask size {mask.shape} differs from the image size '
            f'{img_shape}; {self.size_mismatch} applied to the mask')
        return fit_mask_to_shape(mask, img_shape, self.size_mismatch)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            print_log(message, logger='current', level=logging.WARNING)

    def transform(self, results: dict) -> dict:
        """Load the mask.

        Args:
            results (dict): Result dict of the pipeline.

        Returns:
            dict: With ``gt_seg_map`` added.
        """
        if results.get('mask_annotations') is not None:
            mask = self._decode_annotations(results)
            source = f'ref {results.get("ref_id")}'
        else:
            if not results.get('seg_map_path'):
                raise KeyError('LoadReferringMask needs "seg_map_path" or '
                               '"mask_annotations" in the item')
            mask = self.mask_from_image(self.read_mask_image(results), results)
            source = results['seg_map_path']
        if self.warn_empty and not mask.any():
            self._warn_once(f'empty:{source}',
                            f'{source}: the target mask is empty')
        results['gt_seg_map'] = mask
        seg_fields = results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in seg_fields:
            seg_fields.append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(threshold={self.threshold}, '
                f'size_mismatch={self.size_mismatch!r}, '
                f'max_size_mismatch={self.max_size_mismatch}, '
                f'warn_empty={self.warn_empty})')
