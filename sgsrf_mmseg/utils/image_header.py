"""What an image file's header says (size, nodata), and the pixel limit.

A file with more than ``max_pixels`` pixels (default
:data:`DEFAULT_MAX_PIXELS`, 2**25 = 33,554,432, e.g. 5792 x 5792 or
8192 x 4096) is refused from its header, before it is decoded: an image
costs memory in proportion to its pixels on its way to a mask and an
overlay (``tools/infer.py --image`` on the tiny model peaked at 2.0 GB for
a 5792 x 5792 PNG, 4.9 GB for 8192 x 8192, 1.0 GB for 64 x 64), and a
scene that large loses its detail when it is resized to the model input
anyway. Such scenes are segmented tile by tile at full resolution
(``tools/infer.py --geotiff``, ``ReferringSegInferencer.segment_geotiff``).
"""
import os.path as osp
import warnings
from typing import Optional, Tuple

Header = Tuple[int, int, Optional[float]]
DEFAULT_MAX_PIXELS = 2**25
_TIFF = ('.tif', '.tiff')
_GDAL_NODATA_TAG = 42113
_LARGE_SCENE_HINT = (
    'resized to the model input it would lose its detail: segment it tile '
    'by tile at full resolution with --geotiff '
    '(ReferringSegInferencer.segment_geotiff), or raise the limit')


def _parse_nodata(value) -> Optional[float]:
    """A GDAL_NODATA tag value ('-9999', 'nan', ...) as a float."""
    try:
        return None if value is None else float(str(value).strip('\x00 '))
    except ValueError:
        return None


def _rasterio_header(path: str) -> Optional[Header]:
    try:
        import rasterio
    except ImportError:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # plain images are not georeferenced
        try:
            with rasterio.open(path) as src:
                return src.height, src.width, src.nodata
        except rasterio.errors.RasterioError:
            return None


def _pillow_header(path: str, max_pixels: Optional[int]) -> Optional[Header]:
    from PIL import Image
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                tags = getattr(image, 'tag_v2', {})
                return image.height, image.width, _parse_nodata(
                    tags.get(_GDAL_NODATA_TAG))
        except Image.DecompressionBombError:
            bomb = 2 * Image.MAX_IMAGE_PIXELS
        except (OSError, SyntaxError, ValueError):
            return None
    header = _rasterio_header(path)
    if header is None and max_pixels is not None and max_pixels < bomb:
        raise ValueError(
            f'image file {path} has more than {bomb:,} pixels, over the '
            f'limit of {max_pixels:,} (--max-pixels): {_LARGE_SCENE_HINT}')
    return header


def read_header(path: str,
                max_pixels: Optional[int] = None) -> Optional[Header]:
    """Size and nodata value of an image file, without decoding it.

    TIFFs are read with rasterio when it is installed (the GeoTIFF
    ``nodata``), other files and TIFFs without rasterio with Pillow (its
    GDAL_NODATA tag).

    Args:
        path (str): Image file.
        max_pixels (int, optional): The caller's pixel limit, used only to
            refuse files whose header Pillow will not read for their size.
            Defaults to None.

    Returns:
        tuple | None: ``(height, width, nodata)`` (nodata None when the file
        has none), or None when neither library reads the header.
    """
    header = None
    if osp.splitext(path)[1].lower() in _TIFF:
        header = _rasterio_header(path)
    return header or _pillow_header(path, max_pixels)


def check_pixel_limit(path: str, height: int, width: int,
                      max_pixels: Optional[int]) -> None:
    """Refuse an image of more than ``max_pixels`` pixels (None: no limit).

    Args:
        path (str): The file, for the message.
        height (int): Its height.
        width (int): Its width.
        max_pixels (int, optional): The limit.
    """
    if max_pixels is not None and height * width > max_pixels:
        raise ValueError(
            f'image file {path} is {width} x {height} = {width * height:,} '
            f'pixels, over the limit of {max_pixels:,} (--max-pixels): '
            f'{_LARGE_SCENE_HINT}')
