"""The tile sizes a scene may be cut into for a model (GeoTIFF tiling).

Checked before anything is segmented, by ``tools/infer.py --geotiff``
(before the model is built), the inferencer's ``segment_geotiff`` and the
web demo's GeoTIFF tab.
"""
from typing import Tuple

from ..utils.command_line import UsageError


def tile_size_range(input_size: Tuple[int, int],
                    scene_size: Tuple[int, int]) -> Tuple[int, int]:
    """The tile sides a scene may be cut into for a model input.

    Every tile is resized to the model input. At the low end a quarter of
    the input's shorter side: a smaller tile is blown up more than four
    times and the number of tiles grows with the inverse square (tile size
    3 cut a 384 px scene into 16,384 tiles). At the high end the scene's
    longer side (or the input's, for a scene smaller than the input), and
    at most four times the input's longer side: a larger tile is mostly
    padding, or is shrunk more than four times, and its merge buffers cost
    memory in proportion to its area.

    Args:
        input_size (tuple[int, int]): The model input (height, width).
        scene_size (tuple[int, int]): The scene (height, width).

    Returns:
        tuple[int, int]: The smallest and the largest tile side allowed.
    """
    low = max(1, -(-min(input_size) // 4))
    high = min(4 * max(input_size), max(max(scene_size), max(input_size)))
    return low, max(low, high)


def check_tiling(tile_size: int, overlap: int, input_size: Tuple[int, int],
                 scene_size: Tuple[int, int]) -> None:
    """Refuse a tile size or an overlap out of their range.

    Args:
        tile_size (int): The tile side (see :func:`tile_size_range`).
        overlap (int): The overlap, in ``[0, tile_size)``.
        input_size (tuple[int, int]): The model input (height, width).
        scene_size (tuple[int, int]): The scene (height, width).

    Raises:
        UsageError: Either is out of range (the message gives the range).
    """
    low, high = tile_size_range(input_size, scene_size)
    if not low <= tile_size <= high:
        raise UsageError(
            f'tile size {tile_size} is out of range for a '
            f'{scene_size[1]} x {scene_size[0]} scene and a {input_size[1]} x '
            f'{input_size[0]} model input: choose {low} to {high} (tiles are '
            'resized to the model input)')
    if not 0 <= overlap < tile_size:
        raise UsageError(f'tile overlap {overlap} is out of range: choose 0 '
                         f'to {tile_size - 1} (smaller than the tile size)')
