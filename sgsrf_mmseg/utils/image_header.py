"""What an image file's header says (size, nodata), and the pixel limit.

The size comes from the header, read by rasterio (TIFFs), Pillow, or, for
a PNG, JPEG, BMP or GIF that Pillow refuses (a damaged ancillary chunk,
which OpenCV decodes all the same), from the declared size in the file's
first bytes (:func:`declared_size`). A file whose size cannot be read this
way is not decoded while a pixel limit applies: every decoder is given a
file whose declared size was checked first.

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
import struct
import warnings
from typing import BinaryIO, Optional, Tuple

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


def _jpeg_size(f: BinaryIO) -> Optional[Tuple[int, int]]:
    """(height, width) of the first frame header (SOFn) of a JPEG."""
    f.seek(2)
    while True:
        marker = f.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        if marker[1] in (0x01, 0xFF) or 0xD0 <= marker[1] <= 0xD7:
            continue  # markers without a length
        length = f.read(2)
        if len(length) < 2:
            return None
        size = struct.unpack('>H', length)[0]
        if marker[1] in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA,
                         0xCB, 0xCD, 0xCE, 0xCF):
            frame = f.read(5)
            if len(frame) < 5:
                return None
            height, width = struct.unpack('>HH', frame[1:5])
            return height, width
        f.seek(size - 2, 1)


def declared_size(path: str) -> Optional[Tuple[int, int]]:
    """The (height, width) a PNG, JPEG, BMP or GIF file declares.

    Read from the file's first bytes without a decoding library, so that a
    file no library reads the header of is still checked before it is
    decoded.

    Args:
        path (str): Image file.

    Returns:
        tuple[int, int] | None: The declared size, or None for another
        format or a header cut short.
    """
    with open(path, 'rb') as f:
        head = f.read(26)
        if head[:8] == b'\x89PNG\r\n\x1a\n' and head[12:16] == b'IHDR' \
                and len(head) >= 24:
            width, height = struct.unpack('>II', head[16:24])
            return height, width
        if head[:2] == b'BM' and len(head) >= 26:
            width, height = struct.unpack('<ii', head[18:26])
            return abs(height), abs(width)
        if head[:4] == b'GIF8' and len(head) >= 10:
            width, height = struct.unpack('<HH', head[6:10])
            return height, width
        if head[:2] == b'\xff\xd8':
            return _jpeg_size(f)
    return None


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
        has none), or None when neither library reads the header and the
        file declares no size (:func:`declared_size`).
    """
    header = None
    if osp.splitext(path)[1].lower() in _TIFF:
        header = _rasterio_header(path)
    header = header or _pillow_header(path, max_pixels)
    if header is None:
        size = declared_size(path)
        header = None if size is None else (size[0], size[1], None)
    return header


def mask_header_size(path: str) -> Optional[Tuple[int, int]]:
    """The (height, width) of a mask file from its header (Pillow, else the
    declared size), without decoding it.

    Args:
        path (str): Mask file.

    Returns:
        tuple[int, int] | None: The size; None when it cannot be read.
    """
    header = _pillow_header(path, None)
    if header is not None:
        return header[0], header[1]
    return declared_size(path)


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
