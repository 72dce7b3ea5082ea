"""A generated GeoTIFF scene for timing ``segment_geotiff``."""
import cv2
import numpy as np

#: Ground sampling distance and origin of the generated scene (UTM 33N).
SCENE_CRS = 'EPSG:32633'
SCENE_ORIGIN = (500000.0, 4500000.0)
SCENE_GSD = 0.5


def write_scene(path: str, size: int, seed: int = 0) -> None:
    """Write a ``size`` x ``size`` RGB uint8 GeoTIFF of textured ground.

    Smooth colour variation plus pixel noise and a scatter of bright
    rectangles (roof- or tank-like); the content only has to keep every
    tile busy, the timing does not depend on it.

    Args:
        path (str): Output file.
        size (int): Side in pixels.
        seed (int): Seed of the content. Defaults to 0.
    """
    import rasterio
    from rasterio.transform import from_origin
    rng = np.random.RandomState(seed)
    coarse = rng.randint(40, 200, (max(size // 256, 2), ) * 2 + (3, ))
    rgb = cv2.resize(
        coarse.astype(np.uint8), (size, size), interpolation=cv2.INTER_CUBIC)
    rgb = np.clip(
        rgb.astype(np.int16) + rng.randint(-20, 21, rgb.shape), 0,
        255).astype(np.uint8)
    for _ in range(size * size // 40000):
        y, x = rng.randint(0, size - 8, 2)
        h, w = rng.randint(4, 40, 2)
        rgb[y:y + h, x:x + w] = rng.randint(180, 256, 3)
    with rasterio.open(
            path,
            'w',
            driver='GTiff',
            height=size,
            width=size,
            count=3,
            dtype='uint8',
            crs=SCENE_CRS,
            transform=from_origin(*SCENE_ORIGIN, SCENE_GSD, SCENE_GSD)) as dst:
        dst.write(rgb.transpose(2, 0, 1))
