"""Referring segmentation of large georeferenced scenes (GeoTIFF).

A scene is cut into overlapping square tiles, each tile is segmented by a
model-independent ``predict_fn(tiles, text)``, the tile probabilities are
blended back into one map and thresholded; the mask is written as a GeoTIFF
with the scene's CRS and transform, and optionally as GeoJSON polygons.

Rules:

* Bands: the band choice of :mod:`sgsrf_mmseg.utils.image_io` (1 or 2 bands
  -> the first as grey; 3 or more -> bands 1-3 as RGB; ``bands`` picks
  0-based indices). Non-uint8 bands are stretched between their 2nd and
  98th percentiles computed once for the whole scene, over a decimated
  nearest-neighbour read whose longer side is at most ``sample_size``
  pixels (the full raster when it is smaller), so that every tile gets the
  same stretch and neighbouring tiles agree. Pixels equal to the raster's
  ``nodata`` are left out of the percentiles and shown as 0, whatever the
  dtype (the nodata rule of :mod:`sgsrf_mmseg.utils.image_io`).
* Tiles: ``tile_size`` squares with stride ``tile_size - overlap`` from the
  top-left corner; tiles that run past the right or bottom edge are padded
  with 0 (black) and the padded part of their prediction is discarded.
* Merge: each tile's probabilities are weighted by a separable 2-D
  trapezoid window, which rises linearly from ~0 to 1 over the first
  ``overlap`` pixels from each tile edge and is 1 inside, and the weighted
  sum is divided by the sum of weights. In an overlap the two tiles cross-fade
  linearly, so tile borders (where context is missing) count least and no
  seams appear; a pixel seen by one tile keeps that tile's value.
* Output: a single-band uint8 GeoTIFF, 255 = target, 0 = background (the
  RefSegRS mask convention), same size, CRS and transform as the input;
  target where the blended probability ``> threshold``.
* Files: the outputs may not be the input (nor each other), existing
  outputs are kept unless ``overwrite=True``, and each output is written
  under a temporary name and renamed when complete: a failed run leaves no
  truncated file (see :mod:`sgsrf_mmseg.apis.output_files`).
* Polygons: ``rasterio.features.shapes`` on the mask (4-connectivity), in the
  raster's CRS, written as a GeoJSON FeatureCollection with a ``crs`` member
  (``urn:ogc:def:crs:EPSG::<code>`` when the CRS has an EPSG code, plus its
  WKT) and the expression in the properties. Coordinates are not
  reprojected to WGS 84; GDAL and QGIS read the ``crs`` member.

Position words: the model sees one tile at a time, so "at the top left" or
"the leftmost building" is judged within each tile, not the whole scene;
the same holds for superlatives and counts ("the largest pond", "two
tanks"). Use tiles as large as the model allows, or expressions that do not
depend on the scene layout.
"""
import json
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..utils.atomic_file import atomic_output, write_text_atomic
from ..utils.image_io import band_ranges, to_rgb_uint8
from ..utils.output_paths import check_outputs

PredictFn = Callable[[List[np.ndarray], str], Sequence[np.ndarray]]
ProgressFn = Callable[[int, int], None]


def _rasterio():
    try:
        import rasterio
        import rasterio.features  # noqa: F401
        import rasterio.windows  # noqa: F401
    except ImportError as err:
        raise ImportError('segment_geotiff needs rasterio: pip install '
                          'rasterio (see requirements/optional.txt)') from err
    return rasterio


def tile_starts(length: int, tile_size: int, overlap: int) -> List[int]:
    """Start offsets of overlapping tiles covering ``length`` pixels.

    Args:
        length (int): Extent to cover.
        tile_size (int): Tile extent.
        overlap (int): Overlap of neighbouring tiles.

    Returns:
        list[int]: Offsets 0, stride, 2 * stride, ... until the end is covered.
    """
    stride = tile_size - overlap
    starts = [0]
    while starts[-1] + tile_size < length:
        starts.append(starts[-1] + stride)
    return starts


def blend_window(tile_size: int, overlap: int) -> np.ndarray:
    """The 2-D trapezoid weight window of the tile merge.

    Args:
        tile_size (int): Tile extent.
        overlap (int): Ramp length in pixels; 0 gives a flat window.

    Returns:
        np.ndarray: (tile_size, tile_size) float32 weights in (0, 1].
    """
    if overlap == 0:
        return np.ones((tile_size, tile_size), np.float32)
    i = np.arange(tile_size, dtype=np.float64) + 0.5
    ramp = np.minimum(1.0, np.minimum(i, tile_size - i) / overlap)
    return np.outer(ramp, ramp).astype(np.float32)


def _display_bands(count: int, bands: Optional[Sequence[int]],
                   src_path: str) -> List[int]:
    """1-based band indexes to read."""
    if bands is None:
        return [1] if count < 3 else [1, 2, 3]
    bands = [int(b) for b in bands]
    if len(bands) not in (1, 3) or not all(0 <= b < count for b in bands):
        raise ValueError(f'bands={bands} invalid for {src_path} with {count} '
                         'bands: give 1 or 3 0-based indices')
    return [b + 1 for b in bands]


def _scene_ranges(src, indexes: List[int], sample_size: int) -> list:
    """Scene-wide 2-98 percentile ranges from a decimated read."""
    from rasterio.enums import Resampling
    scale = min(1.0, sample_size / max(src.height, src.width))
    shape = (len(indexes), max(1, round(src.height * scale)),
             max(1, round(src.width * scale)))
    sample = src.read(indexes, out_shape=shape, resampling=Resampling.nearest)
    return band_ranges(np.moveaxis(sample, 0, -1), nodata=src.nodata)


def check_raster(src_path: str,
                 bands: Optional[Sequence[int]] = None) -> Tuple[int, int]:
    """Fail now if :func:`segment_geotiff` could not read ``src_path``.

    Reads only the header: the file opens with rasterio, has a size, and
    ``bands`` exist in it.

    Args:
        src_path (str): The raster.
        bands (Sequence[int], optional): 0-based band indices.
            Defaults to None.

    Returns:
        tuple[int, int]: The scene's (height, width).
    """
    rasterio = _rasterio()
    if osp.isdir(src_path):
        raise IsADirectoryError(f'raster {src_path} is a folder, not a file')
    if not osp.isfile(src_path):
        raise FileNotFoundError(f'raster not found: {src_path}')
    try:
        src = rasterio.open(src_path)
    except rasterio.errors.RasterioError as err:
        raise ValueError(f'cannot read raster {src_path}: {err}') from err
    with src:
        if src.height == 0 or src.width == 0:
            raise ValueError(f'raster {src_path} has zero size')
        _display_bands(src.count, bands, src_path)
        return src.height, src.width


def _geojson(mask: np.ndarray, transform, crs, text: str, src_path: str,
             threshold: float) -> dict:
    from rasterio.features import shapes
    features = [
        dict(
            type='Feature',
            geometry=geometry,
            properties=dict(text=text, value=int(value)))
        for geometry, value in shapes(
            mask, mask=mask > 0, connectivity=4, transform=transform)
    ]
    collection = dict(
        type='FeatureCollection',
        name=osp.splitext(osp.basename(src_path))[0],
        properties=dict(
            text=text, source=osp.abspath(src_path), threshold=threshold),
        features=features)
    if crs is not None:
        epsg = crs.to_epsg()
        name = f'urn:ogc:def:crs:EPSG::{epsg}' if epsg else crs.to_wkt()
        collection['crs'] = dict(
            type='name', properties=dict(name=name, wkt=crs.to_wkt()))
    return collection


def _predict(predict_fn: PredictFn, tiles: List[np.ndarray], text: str,
             tile_size: int, src_path: str) -> List[np.ndarray]:
    probs = list(predict_fn(tiles, text))
    if len(probs) != len(tiles):
        raise ValueError(f'predict_fn returned {len(probs)} maps for '
                         f'{len(tiles)} tiles of {src_path}')
    out = []
    for prob in probs:
        prob = np.asarray(prob, dtype=np.float32).squeeze()
        if prob.shape != (tile_size, tile_size):
            raise ValueError(
                f'predict_fn returned a map of shape {prob.shape} for a '
                f'{tile_size}x{tile_size} tile of {src_path}')
        out.append(prob)
    return out


def _segment_tiles(src, dst, indexes: List[int], ranges: Optional[list],
                   predict_fn: PredictFn, text: str, tile_size: int,
                   overlap: int, threshold: float, batch_size: int,
                   progress: Optional[ProgressFn]) -> int:
    """Segment ``src`` row of tiles by row into ``dst``; target pixels."""
    from rasterio.windows import Window
    height, width = src.height, src.width
    ys = tile_starts(height, tile_size, overlap)
    xs = tile_starts(width, tile_size, overlap)
    stride = tile_size - overlap
    padded_width = xs[-1] + tile_size
    window = blend_window(tile_size, overlap)
    acc = np.zeros((tile_size, padded_width), np.float32)
    weight = np.zeros_like(acc)
    target_pixels = 0
    num_tiles = len(ys) * len(xs)
    if progress is not None:
        progress(0, num_tiles)
    for row, y0 in enumerate(ys):
        h = min(tile_size, height - y0)
        tiles = []
        for x0 in xs:
            w = min(tile_size, width - x0)
            data = src.read(indexes, window=Window(x0, y0, w, h))
            tile = np.zeros((tile_size, tile_size, 3), np.uint8)
            tile[:h, :w] = to_rgb_uint8(
                np.moveaxis(data, 0, -1), ranges=ranges, nodata=src.nodata)
            tiles.append(tile)
        probs = []
        for i in range(0, len(tiles), batch_size):
            probs += _predict(predict_fn, tiles[i:i + batch_size], text,
                              tile_size, src.name)
        for x0, prob in zip(xs, probs):
            acc[:, x0:x0 + tile_size] += prob * window
            weight[:, x0:x0 + tile_size] += window
        last = row == len(ys) - 1
        done = min(height - y0, tile_size if last else stride)
        prob = acc[:done, :width] / weight[:done, :width]
        mask = np.where(prob > threshold, 255, 0).astype(np.uint8)
        dst.write(mask, 1, window=Window(0, y0, width, done))
        target_pixels += int((mask > 0).sum())
        if progress is not None:
            progress((row + 1) * len(xs), num_tiles)
        acc = np.concatenate(
            [acc[stride:],
             np.zeros((stride, padded_width), np.float32)])
        weight = np.concatenate(
            [weight[stride:],
             np.zeros((stride, padded_width), np.float32)])
    return target_pixels


def segment_geotiff(src_path: str,
                    text: str,
                    predict_fn: PredictFn,
                    out_mask_path: str,
                    out_geojson_path: Optional[str] = None,
                    tile_size: int = 512,
                    overlap: int = 128,
                    threshold: float = 0.5,
                    bands: Optional[Sequence[int]] = None,
                    batch_size: int = 4,
                    sample_size: int = 2048,
                    overwrite: bool = False,
                    progress: Optional[ProgressFn] = None) -> Dict:
    """Segment what ``text`` refers to in a GeoTIFF scene, tile by tile.

    See the module docstring for the band, tiling, merge, file and output
    rules. Tiles are read with windowed reads and the probabilities are
    merged one row of tiles at a time, so memory grows with the scene width,
    not its area; only the polygonisation reads the whole (uint8) mask.

    Args:
        src_path (str): Input raster readable by rasterio.
        text (str): The referring expression.
        predict_fn (Callable): ``predict_fn(tiles, text)`` with ``tiles`` a
            list of (tile_size, tile_size, 3) RGB uint8 arrays, returning one
            (tile_size, tile_size) float target probability map per tile.
        out_mask_path (str): Output GeoTIFF mask (0/255).
        out_geojson_path (str, optional): Output GeoJSON polygons.
            Defaults to None (no polygons).
        tile_size (int): Tile side in pixels. Defaults to 512.
        overlap (int): Overlap of neighbouring tiles. Defaults to 128.
        threshold (float): Probability above which a pixel is target.
            Defaults to 0.5.
        bands (Sequence[int], optional): 0-based (r, g, b) band indices, or
            one index for grey. Defaults to None (the image_io rule).
        batch_size (int): Tiles per ``predict_fn`` call. Defaults to 4.
        sample_size (int): Longer side of the decimated read used for the
            scene-wide stretch. Defaults to 2048.
        overwrite (bool): Replace existing output files (never the input).
            Defaults to False.
        progress (Callable, optional): ``progress(done, total)``, called
            with the numbers of tiles segmented so far and in all, once
            before the first tile and after each row of tiles. Defaults to
            None.

    Returns:
        dict: ``mask_path``, ``geojson_path``, ``num_tiles``,
        ``num_polygons`` (None without GeoJSON) and ``target_pixels``.
    """
    rasterio = _rasterio()
    if tile_size <= 0 or not 0 <= overlap < tile_size:
        raise ValueError(f'need tile_size > 0 and 0 <= overlap < tile_size, '
                         f'got tile_size={tile_size}, overlap={overlap}')
    check_raster(src_path, bands)
    outputs = [p for p in (out_mask_path, out_geojson_path) if p is not None]
    check_outputs(outputs, [src_path], overwrite)
    for path in outputs:
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with rasterio.open(src_path) as src:
        indexes = _display_bands(src.count, bands, src_path)
        ranges = None
        if np.dtype(src.dtypes[indexes[0] - 1]) != np.uint8:
            ranges = _scene_ranges(src, indexes, sample_size)
            if len(ranges) == 1:
                ranges = ranges * 3
        profile = dict(
            driver='GTiff',
            height=src.height,
            width=src.width,
            count=1,
            dtype='uint8',
            crs=src.crs,
            transform=src.transform,
            compress='deflate')
        with atomic_output(out_mask_path, overwrite) as partial:
            with rasterio.open(partial, 'w', **profile) as dst:
                target_pixels = _segment_tiles(src, dst, indexes, ranges,
                                               predict_fn, text, tile_size,
                                               overlap, threshold, batch_size,
                                               progress)
        num_tiles = len(tile_starts(src.height, tile_size, overlap)) * len(
            tile_starts(src.width, tile_size, overlap))
        crs, transform = src.crs, src.transform

    num_polygons = None
    if out_geojson_path is not None:
        with rasterio.open(out_mask_path) as written:
            mask = written.read(1)
        collection = _geojson(mask, transform, crs, text, src_path, threshold)
        num_polygons = len(collection['features'])
        write_text_atomic(out_geojson_path, json.dumps(collection), overwrite)
    return dict(
        mask_path=out_mask_path,
        geojson_path=out_geojson_path,
        num_tiles=num_tiles,
        num_polygons=num_polygons,
        target_pixels=target_pixels)
