"""Load an image file by the project's raster rule."""
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from sgsrf_mmseg.utils.image_io import read_image_rgb


@TRANSFORMS.register_module()
class LoadRasterImage(BaseTransform):
    """Load ``results['img_path']`` as a 3-channel uint8 image (BGR order).

    A drop-in replacement for :class:`mmcv.transforms.LoadImageFromFile`
    that reads through :func:`sgsrf_mmseg.utils.image_io.read_image_rgb`, so
    training, testing and :class:`~sgsrf_mmseg.apis.ReferringSegInferencer`
    see the same pixels: grey is replicated to three channels, alpha is
    dropped, more than four bands keep the first three (or ``bands``),
    non-uint8 data are stretched per band from the 2nd to the 98th
    percentile. The channels are then put in BGR order, mmseg's convention
    (the data preprocessor's ``bgr_to_rgb=True`` turns them back).

    A missing, empty, corrupt or truncated file raises an error naming it.

    Required Keys: ``img_path``.

    Added Keys: ``img``, ``img_shape``, ``ori_shape``.

    Args:
        bands (Sequence[int], optional): 0-based (r, g, b) band indices in
            the file's band order, or one index for grey. Defaults to None
            (the layout rule).
        to_float32 (bool): Return a float32 image instead of uint8.
            Defaults to False.
    """

    def __init__(self,
                 bands: Optional[Sequence[int]] = None,
                 to_float32: bool = False) -> None:
        self.bands = None if bands is None else tuple(int(b) for b in bands)
        self.to_float32 = to_float32

    def transform(self, results: dict) -> dict:
        """Load the image.

        Args:
            results (dict): Result dict with ``img_path``.

        Returns:
            dict: With ``img``, ``img_shape`` and ``ori_shape`` added.
        """
        rgb = read_image_rgb(results['img_path'], bands=self.bands)
        img = np.ascontiguousarray(rgb[..., ::-1])
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(bands={self.bands}, '
                f'to_float32={self.to_float32})')
