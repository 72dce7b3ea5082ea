"""Turn any raster (gray, RGBA, multi-band, 16-bit, float) into RGB uint8.

The rule, applied in this order:

1. Layout: a (H, W) or (H, W, 1) array is grey and is replicated to three
   channels; (H, W, 2) is grey + alpha (the first channel is replicated);
   (H, W, 3) is RGB; (H, W, 4) is RGBA and the alpha (4th) channel is dropped;
   more than four bands keep the first three. ``bands=(r, g, b)`` (0-based
   indices into the input channels) overrides this choice; ``bands=(i,)``
   shows one band as grey.
2. Channel order: ``channel_order='bgr'`` (arrays read by OpenCV) reverses
   the first three channels of a 3- or 4-channel input before the choice
   above, so the output is always RGB. Explicit ``bands`` index the input
   as given.
3. Values: uint8 is kept as is; bool becomes 0/255; any other type (uint16,
   int, float) is stretched per band linearly from its 2nd to its 98th
   percentile onto 0..255 and clipped. NaN and infinite values are left out
   of the percentiles and become 0. If the two percentiles coincide the band's
   min and max are used; a constant band becomes zeros. Precomputed
   ``ranges`` (one (low, high) per output band, see :func:`band_ranges`)
   replace the percentiles, so that tiles of one scene share one stretch.
4. Nodata: pixels equal to the raster's nodata value (the GeoTIFF's
   ``nodata``, or ``nodata=`` for arrays) are left out of the percentiles and
   become 0 in every band where they occur, whatever the dtype (uint8
   included). Files, ``LoadRasterImage``, the inferencer and the GeoTIFF
   tiling all follow this rule.

5. Orientation: a JPEG, PNG or WebP file whose EXIF orientation tag says
   the camera was turned (a photo taken upright) is turned the way every
   image viewer shows it, before anything else; masks then come back in
   that orientation. TIFFs (whose geometry a georeference defines) are read
   as stored.

Files are checked against a pixel limit from their header before they are
decoded (see :mod:`sgsrf_mmseg.utils.image_header`); a file whose size
cannot be read from its header is not decoded while a limit applies.
"""
import os.path as osp
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from .image_header import DEFAULT_MAX_PIXELS, check_pixel_limit, read_header

Range = Tuple[float, float]
# Formats OpenCV reads fully; no rasterio fallback for these (GDAL would
# return a partly decoded truncated file without error).
_CV2_ONLY = ('.png', '.jpg', '.jpeg', '.bmp')
#: Formats whose EXIF orientation tag is applied (step 5).
_ORIENTED = ('.jpg', '.jpeg', '.png', '.webp')
_EXIF_ORIENTATION = 0x0112


def nodata_mask(array: np.ndarray,
                nodata: Optional[float]) -> Optional[np.ndarray]:
    """Where ``array`` holds the nodata value (NaN nodata matches NaN).

    Args:
        array (np.ndarray): A raster of any shape.
        nodata (float, optional): The nodata value; None means none.

    Returns:
        np.ndarray | None: A bool array of ``array``'s shape, or None when
        there is no nodata value.
    """
    if nodata is None:
        return None
    nodata = float(nodata)
    if np.isnan(nodata):
        return np.isnan(array) if array.dtype.kind == 'f' else None
    return array == nodata


def _as_hwc(array: np.ndarray) -> np.ndarray:
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3:
        raise ValueError('expected an image of shape (H, W) or (H, W, C), '
                         f'got shape {array.shape}')
    if array.size == 0:
        raise ValueError(f'the image is empty (shape {array.shape})')
    return array


def select_bands(array: np.ndarray,
                 bands: Optional[Sequence[int]] = None,
                 channel_order: str = 'rgb') -> np.ndarray:
    """Choose the three display channels of a raster (steps 1-2 above).

    Args:
        array (np.ndarray): (H, W) or (H, W, C) raster of any dtype.
        bands (Sequence[int], optional): 0-based indices of the red, green
            and blue bands (or one band for grey). Defaults to None.
        channel_order (str): 'rgb' or 'bgr', the order of the input's
            colour channels. Defaults to 'rgb'.

    Returns:
        np.ndarray: (H, W, 3) array with the input's dtype.
    """
    if channel_order not in ('rgb', 'bgr'):
        raise ValueError(
            f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
    array = _as_hwc(np.asarray(array))
    channels = array.shape[2]
    if bands is not None:
        bands = [int(b) for b in bands]
        if len(bands) not in (1, 3):
            raise ValueError(f'bands must name 1 or 3 bands, got {bands}')
        bad = [b for b in bands if not 0 <= b < channels]
        if bad:
            raise ValueError(f'bands {bad} out of range for an image with '
                             f'{channels} bands (indices are 0-based)')
        picked = array[..., bands]
    else:
        if channel_order == 'bgr' and channels in (3, 4):
            array = np.concatenate([array[..., 2::-1], array[..., 3:]], axis=2)
        picked = array[..., :1] if channels <= 2 else array[..., :3]
    if picked.shape[2] == 1:
        picked = np.repeat(picked, 3, axis=2)
    return picked


def band_ranges(array: np.ndarray,
                percentiles: Tuple[float, float] = (2, 98),
                nodata: Optional[float] = None) -> list:
    """Per-band stretch limits of an (H, W, C) array.

    Args:
        array (np.ndarray): (H, W) or (H, W, C) raster.
        percentiles (tuple[float, float]): Low and high percentiles.
            Defaults to (2, 98).
        nodata (float, optional): Value left out. Defaults to None.

    Returns:
        list[tuple[float, float]]: (low, high) per band; finite values that
        are not nodata only, min/max when the percentiles coincide, (0, 0)
        for a band without such values.
    """
    array = _as_hwc(np.asarray(array))
    invalid = nodata_mask(array, nodata)
    ranges = []
    for c in range(array.shape[2]):
        band = array[..., c].astype(np.float64)
        valid = np.isfinite(band)
        if invalid is not None:
            valid &= ~invalid[..., c]
        band = band[valid]
        if band.size == 0:
            ranges.append((0.0, 0.0))
            continue
        low, high = np.percentile(band, percentiles)
        if high <= low:
            low, high = band.min(), band.max()
        ranges.append((float(low), float(high)))
    return ranges


def stretch_to_uint8(array: np.ndarray,
                     ranges: Optional[Sequence[Range]] = None,
                     nodata: Optional[float] = None) -> np.ndarray:
    """Map every band linearly from (low, high) onto 0..255 (steps 3-4).

    Args:
        array (np.ndarray): (H, W, C) raster.
        ranges (Sequence[tuple], optional): (low, high) per band. Defaults to
            None (the 2-98 percentiles of ``array`` itself).
        nodata (float, optional): Value that becomes 0 and is left out of
            the percentiles. Defaults to None.

    Returns:
        np.ndarray: (H, W, C) uint8 array.
    """
    invalid = nodata_mask(array, nodata)
    if array.dtype == np.uint8:
        out = array
    elif array.dtype == np.bool_:
        out = array.astype(np.uint8) * 255
    else:
        out = _stretch(array, ranges, nodata)
    if invalid is not None and invalid.any():
        out = np.where(invalid, np.uint8(0), out)
    return out


def _stretch(array: np.ndarray, ranges: Optional[Sequence[Range]],
             nodata: Optional[float]) -> np.ndarray:
    if ranges is None:
        ranges = band_ranges(array, nodata=nodata)
    if len(ranges) != array.shape[2]:
        raise ValueError(f'got {len(ranges)} stretch ranges for '
                         f'{array.shape[2]} bands')
    out = np.zeros(array.shape, np.uint8)
    for c, (low, high) in enumerate(ranges):
        if high <= low:
            continue  # constant band: zeros
        band = array[..., c].astype(np.float64)
        scaled = (band - low) / (high - low) * 255.0
        scaled = np.nan_to_num(scaled, nan=0.0, posinf=0.0, neginf=0.0)
        out[..., c] = np.clip(np.round(scaled), 0, 255).astype(np.uint8)
    return out


def to_rgb_uint8(array: np.ndarray,
                 bands: Optional[Sequence[int]] = None,
                 channel_order: str = 'rgb',
                 ranges: Optional[Sequence[Range]] = None,
                 nodata: Optional[float] = None) -> np.ndarray:
    """Turn a raster into an RGB uint8 image by the module's rule.

    Args:
        array (np.ndarray): (H, W) or (H, W, C) raster of any dtype.
        bands (Sequence[int], optional): 0-based (r, g, b) band indices, or
            one index for grey. Defaults to None (the layout rule).
        channel_order (str): 'rgb' or 'bgr' order of the input's colour
            channels. Defaults to 'rgb'.
        ranges (Sequence[tuple], optional): (low, high) stretch limits of
            the three selected bands, for non-uint8 input. Defaults to None
            (per-band 2-98 percentiles of this array).
        nodata (float, optional): The raster's nodata value (step 4).
            Defaults to None.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB image.
    """
    return stretch_to_uint8(
        select_bands(array, bands, channel_order), ranges, nodata)


def _check_complete(path: str) -> None:
    """Raise for a truncated JPEG, which OpenCV decodes partially."""
    if osp.splitext(path)[1].lower() not in ('.jpg', '.jpeg'):
        return
    from PIL import Image
    try:
        with Image.open(path) as image:
            image.load()
    except (OSError, SyntaxError) as err:
        raise ValueError(
            f'image file {path} is corrupt or truncated: {err}') from err


def exif_orientation(path: str) -> int:
    """The EXIF orientation tag of an image file (1, upright, if none).

    Args:
        path (str): Image file.

    Returns:
        int: 1-8 as in the EXIF standard.
    """
    if osp.splitext(path)[1].lower() not in _ORIENTED:
        return 1
    from PIL import Image
    try:
        with Image.open(path) as image:
            orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
    except (OSError, SyntaxError, ValueError):
        return 1
    return orientation if orientation in range(1, 9) else 1


def apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Turn a decoded (H, W[, C]) array as EXIF ``orientation`` says.

    Args:
        array (np.ndarray): The image as stored.
        orientation (int): 1-8; 6 (turned 90 degrees clockwise to view)
            and 8 (counter-clockwise) swap height and width.

    Returns:
        np.ndarray: The image as a viewer shows it.
    """
    transposed = array.swapaxes(0, 1)
    turned = {
        2: lambda: array[:, ::-1],
        3: lambda: array[::-1, ::-1],
        4: lambda: array[::-1],
        5: lambda: transposed,
        6: lambda: transposed[:, ::-1],
        7: lambda: transposed[::-1, ::-1],
        8: lambda: transposed[::-1],
    }.get(orientation)
    return array if turned is None else np.ascontiguousarray(turned())


def _read_rasterio(path: str) -> Optional[np.ndarray]:
    try:
        import rasterio
    except ImportError:
        return None
    try:
        with rasterio.open(path) as src:
            return np.transpose(src.read(), (1, 2, 0))
    except rasterio.errors.RasterioError:
        return None


def _decode(path: str) -> Tuple[np.ndarray, str]:
    """The decoded raster and its channel order ('bgr' from OpenCV)."""
    try:
        array = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    except cv2.error as err:
        raise ValueError(f'could not decode image file {path}: {err}') from err
    channel_order = 'bgr'
    if array is None and osp.splitext(path)[1].lower() not in _CV2_ONLY:
        array = _read_rasterio(path)
        channel_order = 'rgb'
    if array is None:
        raise ValueError(f'could not decode image file {path}: corrupt, '
                         'truncated or an unsupported format')
    _check_complete(path)
    if array.size == 0:
        raise ValueError(f'image file {path} has zero size ({array.shape})')
    return array, channel_order


def read_image_rgb(
        path: str,
        bands: Optional[Sequence[int]] = None,
        max_pixels: Optional[int] = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file as RGB uint8 by the module's rule.

    The header is read first (:func:`read_header`): its size is checked
    against ``max_pixels`` and its nodata value applies (step 4). The file
    is then read with ``cv2.IMREAD_UNCHANGED`` (bit depth and alpha kept,
    colour channels in BGR order); other files OpenCV cannot decode (not
    PNG, JPEG or BMP), such as GeoTIFFs with more than four bands, are read
    with rasterio when it is installed (bands in file order). A truncated
    JPEG, which OpenCV decodes partly, is an error. The EXIF orientation is
    applied (step 5).

    Args:
        path (str): Image file.
        bands (Sequence[int], optional): 0-based (r, g, b) band indices in
            the file's band order. Defaults to None.
        max_pixels (int, optional): Refuse files with more pixels, before
            decoding them; None for no limit. Defaults to
            :data:`DEFAULT_MAX_PIXELS`.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB image.
    """
    path = str(path)
    if osp.isdir(path):
        raise IsADirectoryError(
            f'image path {path} is a folder, not an image file')
    if not osp.isfile(path):
        raise FileNotFoundError(f'image file not found: {path}')
    if osp.getsize(path) == 0:
        raise ValueError(f'image file {path} is empty (0 bytes)')
    header = read_header(path, max_pixels)
    if header is None and max_pixels is not None:
        raise ValueError(
            f'could not decode image file {path}: corrupt, truncated or an '
            'unsupported format (its size cannot be read from its header, '
            'so it is not decoded)')
    nodata = None
    if header is not None:
        height, width, nodata = header
        check_pixel_limit(path, height, width, max_pixels)
    array, channel_order = _decode(path)
    array = apply_orientation(array, exif_orientation(path))
    if bands is not None and channel_order == 'bgr' and array.ndim == 3 \
            and array.shape[2] in (3, 4):
        # Let explicit band indices follow the file's band order.
        array = np.concatenate([array[..., 2::-1], array[..., 3:]], axis=2)
    try:
        return to_rgb_uint8(
            array, bands=bands, channel_order=channel_order, nodata=nodata)
    except ValueError as err:
        raise ValueError(f'image file {path}: {err}') from err
