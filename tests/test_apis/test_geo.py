import json
import os

import numpy as np
import pytest

rasterio = pytest.importorskip('rasterio')
shapely = pytest.importorskip('shapely')
from rasterio.transform import from_origin
from shapely.geometry import shape
from shapely.ops import unary_union

from sgsrf_mmseg.apis.geo import blend_window, segment_geotiff, tile_starts
from sgsrf_mmseg.utils.atomic_file import OutputExistsError
from sgsrf_mmseg.utils.image_io import to_rgb_uint8

HEIGHT, WIDTH, PIXEL = 200, 300, 10.0
TRANSFORM = from_origin(500000.0, 4500000.0, PIXEL, PIXEL)


def make_scene(path):
    """A 4-band uint16 scene whose band 1 is 3000 on the targets."""
    rng = np.random.RandomState(0)
    yy, xx = np.mgrid[:HEIGHT, :WIDTH]
    target = np.zeros((HEIGHT, WIDTH), bool)
    target[50:150, 90:140] = True  # crosses tile borders at x=96, x=128
    target[(yy - 150)**2 + (xx - 250)**2 < 30**2] = True  # in edge tiles
    target[10:20, 180:260] = True
    target[199, 299] = True  # the padded corner
    cube = rng.randint(0, 60000, (4, HEIGHT, WIDTH)).astype(np.uint16)
    cube[0] = np.where(target, 3000, 1000)
    with rasterio.open(
            path,
            'w',
            driver='GTiff',
            height=HEIGHT,
            width=WIDTH,
            count=4,
            dtype='uint16',
            crs='EPSG:32633',
            transform=TRANSFORM) as dst:
        dst.write(cube)
    return cube, target


def test_tiles_and_window():
    assert tile_starts(300, 128, 32) == [0, 96, 192]
    assert tile_starts(200, 128, 32) == [0, 96]
    assert tile_starts(100, 128, 32) == [0]
    window = blend_window(128, 32)
    assert window.shape == (128, 128) and window.min() > 0
    assert window[64, 64] == 1.0 and window[0, 64] < 0.05
    # In an overlap the ramps of two neighbours sum to one.
    ramp = window[64]
    np.testing.assert_allclose(ramp[96:] + ramp[:32], 1.0, atol=1e-6)


def test_segment_geotiff(tmp_path):
    src = str(tmp_path / 'scene.tif')
    cube, target = make_scene(src)
    calls = []

    def predict_fn(tiles, text):
        calls.append(len(tiles))
        assert text == 'the storage tanks'
        for tile in tiles:
            assert tile.shape == (128, 128, 3) and tile.dtype == np.uint8
        return [(t[..., 0] > 127).astype(np.float32) for t in tiles]

    out_tif = str(tmp_path / 'out' / 'mask.tif')
    out_json = str(tmp_path / 'out' / 'mask.geojson')
    info = segment_geotiff(
        src,
        'the storage tanks',
        predict_fn,
        out_tif,
        out_json,
        tile_size=128,
        overlap=32,
        batch_size=2)
    assert info['num_tiles'] == 6 and sum(calls) == 6 and max(calls) == 2
    with rasterio.open(src) as a, rasterio.open(out_tif) as b:
        assert b.crs == a.crs and b.transform == a.transform
        assert (b.width, b.height, b.count) == (WIDTH, HEIGHT, 1)
        assert b.dtypes[0] == 'uint8'
        mask = b.read(1)
    np.testing.assert_array_equal(mask, np.where(target, 255, 0))
    assert info['target_pixels'] == target.sum()

    with open(out_json) as f:
        collection = json.load(f)
    assert collection['type'] == 'FeatureCollection'
    assert 'EPSG::32633' in collection['crs']['properties']['name']
    assert collection['properties']['text'] == 'the storage tanks'
    polygons = [shape(feat['geometry']) for feat in collection['features']]
    assert len(polygons) == info['num_polygons'] == 4
    covered = unary_union(polygons)
    assert abs(covered.area - target.sum() * PIXEL**2) <= \
        len(polygons) * PIXEL**2
    rows, cols = np.nonzero(target)
    xs, ys = rasterio.transform.xy(TRANSFORM, rows, cols)  # pixel centres
    assert shapely.contains_xy(covered, np.asarray(xs), np.asarray(ys)).all()
    rows, cols = np.nonzero(~target)
    xs, ys = rasterio.transform.xy(TRANSFORM, rows, cols)
    assert not shapely.contains_xy(covered, np.asarray(xs),
                                   np.asarray(ys)).any()


def test_progress_counts_tiles_row_by_row(tmp_path):
    src = str(tmp_path / 'scene.tif')
    make_scene(src)
    seen = []
    segment_geotiff(
        src,
        'x',
        lambda tiles, text: [np.zeros((128, 128))] * len(tiles),
        str(tmp_path / 'm.tif'),
        tile_size=128,
        overlap=32,
        progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 6), (3, 6), (6, 6)]  # 2 rows of 3 tiles


def test_soft_probabilities_merge_without_seams(tmp_path):
    src = str(tmp_path / 'scene.tif')
    cube, _ = make_scene(src)
    # One stretch for the whole scene: the tiles see the same RGB values.
    rgb = to_rgb_uint8(np.moveaxis(cube[:3], 0, -1))

    def predict_fn(tiles, text):
        return [t[..., 1] / 255.0 for t in tiles]

    out_tif = str(tmp_path / 'soft.tif')
    segment_geotiff(
        src, 'x', predict_fn, out_tif, tile_size=128, overlap=32, bands=None)
    with rasterio.open(out_tif) as b:
        mask = b.read(1)
    np.testing.assert_array_equal(mask, np.where(rgb[..., 1] >= 128, 255, 0))


def test_bad_inputs(tmp_path):
    src = str(tmp_path / 'scene.tif')
    make_scene(src)
    with pytest.raises(ValueError, match='shape'):
        segment_geotiff(
            src,
            'x',
            lambda tiles, text: [np.zeros((4, 4))] * len(tiles),
            str(tmp_path / 'm.tif'),
            tile_size=64,
            overlap=16)
    with pytest.raises(ValueError, match='bands'):
        segment_geotiff(
            src, 'x', None, str(tmp_path / 'm.tif'), bands=(0, 1, 7))
    with pytest.raises(ValueError, match='overlap'):
        segment_geotiff(
            src, 'x', None, str(tmp_path / 'm.tif'), tile_size=64, overlap=64)
    with pytest.raises(FileNotFoundError, match='nope.tif'):
        segment_geotiff(str(tmp_path / 'nope.tif'), 'x', None, 'm.tif')


def _all_ones(tiles, text):
    return [np.ones(t.shape[:2], np.float32) for t in tiles]


def test_outputs_never_replace_the_input_or_old_results(tmp_path):
    src = str(tmp_path / 'scene.tif')
    make_scene(src)
    before = open(src, 'rb').read()
    with pytest.raises(ValueError) as info:
        segment_geotiff(src, 'x', _all_ones, src, tile_size=128, overlap=32)
    assert str(info.value) == (f'the output {src} is the input {src}; '
                               'refusing to replace an input: choose '
                               'another output path')
    with pytest.raises(ValueError, match='is the input'):
        segment_geotiff(
            src,
            'x',
            _all_ones,
            src,
            tile_size=128,
            overlap=32,
            overwrite=True)
    with pytest.raises(ValueError, match='is the input'):
        segment_geotiff(
            src,
            'x',
            _all_ones,
            str(tmp_path / 'm.tif'),
            str(tmp_path / '.' / 'scene.tif'),
            tile_size=128,
            overlap=32)
    with pytest.raises(
            ValueError, match='two outputs of this run are the '
            'same file'):
        segment_geotiff(
            src,
            'x',
            _all_ones,
            str(tmp_path / 'm.tif'),
            str(tmp_path / 'm.tif'),
            tile_size=128,
            overlap=32)
    assert open(src, 'rb').read() == before
    assert sorted(os.listdir(tmp_path)) == ['scene.tif']

    out = str(tmp_path / 'mask.tif')
    segment_geotiff(src, 'x', _all_ones, out, tile_size=128, overlap=32)
    earlier = open(out, 'rb').read()
    with pytest.raises(OutputExistsError, match='mask.tif'):
        segment_geotiff(
            src,
            'x',
            lambda t, x: [np.zeros((128, 128))] * len(t),
            out,
            tile_size=128,
            overlap=32)
    assert open(out, 'rb').read() == earlier
    segment_geotiff(
        src,
        'x',
        lambda t, x: [np.zeros((128, 128))] * len(t),
        out,
        tile_size=128,
        overlap=32,
        overwrite=True)
    with rasterio.open(out) as written:
        assert not written.read(1).any()


def test_failed_run_leaves_no_partial_file(tmp_path):
    src = str(tmp_path / 'scene.tif')
    make_scene(src)
    calls = []

    def fail_on_third_call(tiles, text):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(28, 'No space left on device')
        return _all_ones(tiles, text)

    with pytest.raises(OSError, match='No space'):
        segment_geotiff(
            src,
            'x',
            fail_on_third_call,
            str(tmp_path / 'out' / 'mask.tif'),
            str(tmp_path / 'out' / 'mask.geojson'),
            tile_size=128,
            overlap=32,
            batch_size=1)
    assert os.listdir(tmp_path / 'out') == []


def test_nodata_tiles_are_black_and_left_out_of_the_stretch(tmp_path):
    src = str(tmp_path / 'nodata.tif')
    rng = np.random.RandomState(1)
    band = rng.randint(1000, 3000, (1, 100, 120)).astype(np.uint16)
    band[:, :, :50] = 65535  # nodata over 42% of the scene
    with rasterio.open(
            src,
            'w',
            driver='GTiff',
            height=100,
            width=120,
            count=1,
            dtype='uint16',
            crs='EPSG:32633',
            transform=TRANSFORM,
            nodata=65535) as dst:
        dst.write(band)
    seen = []

    def record(tiles, text):
        seen.extend(tiles)
        return [np.zeros(t.shape[:2], np.float32) for t in tiles]

    segment_geotiff(
        src, 'x', record, str(tmp_path / 'm.tif'), tile_size=128, overlap=32)
    tile = seen[0][:100, :120, 0]
    assert (tile[:, :50] == 0).all()
    valid = band[0, :, 50:]
    low, high = np.percentile(valid, [2, 98])
    expected = np.clip(np.round((valid - low) / (high - low) * 255), 0, 255)
    np.testing.assert_array_equal(tile[:, 50:], expected)
