"""The bundled example scenes of the web demo (see ``examples/README.md``)."""
import json
import os.path as osp
from typing import List, NamedTuple, Tuple

import cv2
import numpy as np

EXAMPLES_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'examples')
#: Expression of the GeoTIFF example (a mosaic of the image examples).
SCENE_EXPRESSION = 'all the vehicles'


class Example(NamedTuple):
    """A bundled image and expressions that refer to something in it."""
    image: str
    expressions: Tuple[str, ...]


def bundled_examples() -> List[Example]:
    """The examples listed in ``examples/examples.json``.

    Returns:
        list[Example]: Absolute image paths and their expressions.
    """
    with open(osp.join(EXAMPLES_DIR, 'examples.json'), encoding='utf-8') as f:
        entries = json.load(f)
    return [
        Example(
            osp.join(EXAMPLES_DIR, entry['image']),
            tuple(entry['expressions'])) for entry in entries
    ]


def write_example_scene(path: str) -> str:
    """Write the GeoTIFF example: a 2 x 2 mosaic of the first four images.

    The georeference is made up (UTM zone 33N, 0.3 m pixels), as a real
    aerial scene would carry one.

    Args:
        path (str): Output GeoTIFF.

    Returns:
        str: ``path``.
    """
    import rasterio
    from rasterio.transform import from_origin
    images = [
        cv2.cvtColor(cv2.imread(example.image), cv2.COLOR_BGR2RGB)
        for example in bundled_examples()[:4]
    ]
    mosaic = np.concatenate([
        np.concatenate(images[:2], axis=1),
        np.concatenate(images[2:], axis=1)
    ])
    with rasterio.open(
            path,
            'w',
            driver='GTiff',
            height=mosaic.shape[0],
            width=mosaic.shape[1],
            count=3,
            dtype='uint8',
            crs='EPSG:32633',
            transform=from_origin(500000.0, 4500000.0, 0.3, 0.3),
            compress='deflate') as dst:
        dst.write(np.moveaxis(mosaic, -1, 0))
    return path
