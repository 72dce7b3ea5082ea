"""A small picture of a GeoTIFF scene with its GeoJSON polygons drawn on it."""
import json

import numpy as np

from ..utils.image_io import to_rgb_uint8
from ..visualization import draw_referring_overlay


def read_scene_preview(scene_path: str, max_side: int = 1024):
    """Read a scene decimated to at most ``max_side`` pixels, as RGB uint8.

    Bands and stretch follow :mod:`sgsrf_mmseg.utils.image_io` (nodata
    pixels left out of the stretch), as the tiled segmentation reads them.

    Args:
        scene_path (str): A raster readable by rasterio.
        max_side (int): Longer side of the preview. Defaults to 1024.

    Returns:
        tuple: (H', W', 3) uint8 RGB preview and the affine transform from
        preview pixels (column, row) to the scene's coordinates.
    """
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.transform import Affine
    with rasterio.open(scene_path) as src:
        scale = min(1.0, max_side / max(src.height, src.width))
        shape = (src.count, max(1, round(src.height * scale)),
                 max(1, round(src.width * scale)))
        data = src.read(
            out_shape=shape, resampling=Resampling.nearest, masked=True)
        # One preview pixel spans (sx, sy) scene pixels.
        sx, sy = src.width / shape[2], src.height / shape[1]
        t = src.transform
        transform = Affine(t.a * sx, t.b * sy, t.c, t.d * sx, t.e * sy, t.f)
    if data.dtype == np.uint8:
        array = data.filled(0)
    else:
        array = data.astype(np.float64).filled(np.nan)
    return to_rgb_uint8(np.moveaxis(array, 0, -1)), transform


def polygon_mask(geojson_path: str, transform, shape) -> np.ndarray:
    """Rasterise a GeoJSON file's polygons onto preview pixels.

    A pixel is inside when its centre is (``rasterio.features.rasterize``),
    so holes stay empty.

    Args:
        geojson_path (str): FeatureCollection of Polygon / MultiPolygon
            features in the coordinates of ``transform``.
        transform (affine.Affine): Preview pixel -> coordinates.
        shape (tuple): (H', W') of the preview.

    Returns:
        np.ndarray: (H', W') uint8 mask, 1 inside a polygon.
    """
    from rasterio.features import rasterize
    with open(geojson_path, encoding='utf-8') as f:
        features = json.load(f)['features']
    if not features:
        return np.zeros(shape, np.uint8)
    return rasterize([(feature['geometry'], 1) for feature in features],
                     out_shape=shape,
                     transform=transform,
                     fill=0,
                     dtype='uint8')


def draw_scene_preview(scene_path: str,
                       geojson_path: str,
                       text: str,
                       max_side: int = 1024) -> np.ndarray:
    """The scene, decimated, with the polygons filled and outlined.

    Drawn as :func:`~sgsrf_mmseg.visualization.draw_referring_overlay`
    draws a mask: filled and outlined in red, the expression on a banner.

    Args:
        scene_path (str): The segmented scene.
        geojson_path (str): Its polygons (in the scene's coordinates).
        text (str): The expression.
        max_side (int): Longer side of the picture (without the banner).
            Defaults to 1024.

    Returns:
        np.ndarray: RGB uint8 picture.
    """
    preview, transform = read_scene_preview(scene_path, max_side)
    mask = polygon_mask(geojson_path, transform, preview.shape[:2])
    return draw_referring_overlay(preview, mask, text)
