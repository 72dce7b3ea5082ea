"""The web demo's requests, without a web page (no Gradio needed)."""
import importlib
import json
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch

from sgsrf_mmseg.apis import ReferringSegInferencer, clean_expression
from sgsrf_mmseg.utils.image_io import read_image_rgb
from sgsrf_mmseg.visualization import (LEGEND_COLORS, draw_referring_overlay,
                                       draw_referring_overlays)
from sgsrf_mmseg.webapp import (DemoInputError, DemoService, bundled_examples,
                                write_example_scene)
from sgsrf_mmseg.webapp.scene_preview import polygon_mask
from sgsrf_mmseg.webapp.service import GEOTIFF_TAB_HINT

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_CONFIG = osp.join(REPO, 'configs', 'sgsrf', 'sgsrf_tiny_synthetic.py')


@pytest.fixture(scope='module')
def service(tmp_path_factory):
    """The tiny model with random weights, on one CPU thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield DemoService(
        ReferringSegInferencer(TINY_CONFIG, device='cpu'),
        work_dir=str(tmp_path_factory.mktemp('requests')),
        keep_requests=3)
    torch.set_num_threads(threads)


@pytest.fixture
def scene(tmp_path):
    """A copy of the first bundled example in a folder of its own."""
    path = str(tmp_path / 'my scene.png')
    with open(bundled_examples()[0].image, 'rb') as src, \
            open(path, 'wb') as dst:
        dst.write(src.read())
    return path


def read_mask(path):
    mask = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert mask is not None and mask.dtype == np.uint8 and mask.ndim == 2
    assert set(np.unique(mask)) <= {0, 255}
    return mask


def test_bundled_examples_are_small_scenes_with_valid_expressions():
    examples = bundled_examples()
    assert len(examples) >= 3
    for example in examples:
        assert example.image.endswith('.png')
        assert os.path.getsize(example.image) < 64 * 1024
        assert read_image_rgb(example.image).shape == (128, 128, 3)
        assert example.expressions
        for text in example.expressions:
            assert clean_expression(text) == text
    assert any(len(e.expressions) > 1 for e in examples)


def test_one_expression_as_the_inferencer_draws_it(service, scene):
    inputs_before = sorted(os.listdir(osp.dirname(scene)))
    result = service.segment_image(scene, '  the black car \n\n')
    expected = service.inferencer(scene, 'the black car', return_vis=True)
    np.testing.assert_array_equal(result.overlay, expected['visualization'])
    [one] = result.expressions
    assert (one.text, one.color) == ('the black car', LEGEND_COLORS[0])
    assert one.score == pytest.approx(expected['score'])
    assert one.target_pixels == expected['mask'].sum()
    assert result.image_size == (128, 128)
    assert osp.basename(one.mask_path) == 'my_scene_mask.png'
    np.testing.assert_array_equal(
        read_mask(one.mask_path), expected['mask'] * 255)
    # Outputs go to a request folder of the service, never beside the input.
    assert osp.dirname(osp.dirname(one.mask_path)) == service.work_dir
    assert sorted(os.listdir(osp.dirname(scene))) == inputs_before


def test_several_expressions_one_colour_each(service, scene):
    texts = ['the black car', 'the two red buildings', 'the pond']
    result = service.segment_image(scene, '\n'.join(texts))
    expected = service.inferencer(scene, texts, batch_size=3)  # one pass
    assert [e.text for e in result.expressions] == texts
    assert [e.color for e in result.expressions] == list(LEGEND_COLORS[:3])
    np.testing.assert_array_equal(
        result.overlay,
        draw_referring_overlays(
            read_image_rgb(scene), [r['mask'] for r in expected], texts))
    assert result.overlay.shape != draw_referring_overlay(
        read_image_rgb(scene), expected[0]['mask'], texts[0]).shape
    for k, (output, want) in enumerate(zip(result.expressions, expected)):
        assert osp.basename(output.mask_path) == f'my_scene_{k + 1}_mask.png'
        np.testing.assert_array_equal(
            read_mask(output.mask_path), want['mask'] * 255)
    folders = {osp.dirname(e.mask_path) for e in result.expressions}
    assert len(folders) == 1


def message_of(call, *args):
    with pytest.raises(Exception) as info:
        call(*args)
    return str(info.value)


def test_bad_input_gets_the_inferencers_words(service, scene, tmp_path):
    for text in ('', '   \n \t', None):
        with pytest.raises(DemoInputError) as info:
            service.segment_image(scene, text)
        assert str(info.value) == message_of(clean_expression, text)
    with pytest.raises(DemoInputError, match=r'expression\[1\] is empty'):
        service.segment_image(scene, 'the car\n\x00\u200b')
    notes = tmp_path / 'upload' / 'notes.png'
    notes.parent.mkdir()
    notes.write_text('just some notes\n')
    with pytest.raises(DemoInputError) as info:
        service.segment_image(str(notes), 'the pond')
    # The inferencer's words, with the upload's name instead of its path.
    assert str(info.value) == message_of(read_image_rgb, str(notes)).replace(
        str(notes), 'notes.png')
    assert str(tmp_path) not in str(info.value)
    with pytest.raises(DemoInputError, match='no image'):
        service.segment_image(None, 'the pond')
    with pytest.raises(DemoInputError, match='at most 8 expressions'):
        service.segment_image(scene, '\n'.join(['the car'] * 9))


def test_old_request_folders_are_removed(service, scene):
    paths = [
        service.segment_image(scene, 'the pond').expressions[0].mask_path
        for _ in range(5)
    ]
    kept = [p for p in paths if osp.isfile(p)]
    assert kept == paths[-service.keep_requests:]


def test_geotiff_scene_tile_by_tile(service, tmp_path):
    rasterio = pytest.importorskip('rasterio')
    src = write_example_scene(str(tmp_path / 'mosaic.tif'))
    seen = []
    result = service.segment_scene(
        src, ' all the vehicles ', 64, lambda done, total: seen.append(
            (done, total)))
    # 256 px with 64 px tiles and 16 px overlap: 5 x 5 tiles, row by row.
    assert seen == [(5 * row, 25) for row in range(6)]
    assert result.num_tiles == 25 and result.text == 'all the vehicles'
    with rasterio.open(src) as a, rasterio.open(result.mask_path) as b:
        assert (b.width, b.height) == (a.width, a.height) == (256, 256)
        assert b.crs == a.crs and b.transform == a.transform
        mask = b.read(1)
    assert result.target_pixels == (mask > 0).sum()
    with open(result.geojson_path) as f:
        assert len(json.load(f)['features']) == result.num_polygons
    assert result.preview.shape[1:] == (256, 3)
    assert result.preview.shape[0] > 256  # the expression's banner


def test_geotiff_bad_input(service, tmp_path):
    pytest.importorskip('rasterio')
    notes = tmp_path / 'notes.tif'
    notes.write_text('not a raster')
    with pytest.raises(DemoInputError, match='cannot read raster notes.tif'):
        service.segment_scene(str(notes), 'the pond')
    with pytest.raises(DemoInputError) as info:
        service.segment_scene(str(notes), ' ')
    assert str(info.value) == message_of(clean_expression, ' ')
    with pytest.raises(DemoInputError, match='no scene'):
        service.segment_scene('', 'the pond')


def test_polygons_are_drawn_where_they_lie(tmp_path):
    pytest.importorskip('rasterio')
    from rasterio.transform import from_origin
    transform = from_origin(1000.0, 2000.0, 2.0, 2.0)  # 2 m pixels
    square = [[1004, 1996], [1024, 1996], [1024, 1976], [1004, 1976],
              [1004, 1996]]
    hole = [[1010, 1990], [1016, 1990], [1016, 1984], [1010, 1984],
            [1010, 1990]]
    path = tmp_path / 'p.geojson'
    path.write_text(
        json.dumps(
            dict(
                type='FeatureCollection',
                features=[
                    dict(
                        type='Feature',
                        geometry=dict(
                            type='Polygon', coordinates=[square, hole]))
                ])))
    mask = polygon_mask(str(path), transform, (20, 20))
    expected = np.zeros((20, 20), np.uint8)
    expected[2:12, 2:12] = 1  # pixel corners 2 and 12 in both directions
    expected[5:8, 5:8] = 0
    np.testing.assert_array_equal(mask, expected)


def test_scene_preview_is_decimated_with_its_transform(tmp_path):
    rasterio = pytest.importorskip('rasterio')
    from rasterio.transform import from_origin

    from sgsrf_mmseg.webapp.scene_preview import read_scene_preview
    path = str(tmp_path / 'grey16.tif')
    data = np.arange(300 * 200, dtype=np.uint16).reshape(1, 200, 300)
    transform = from_origin(500000.0, 4500000.0, 0.5, 0.5)
    with rasterio.open(
            path,
            'w',
            driver='GTiff',
            width=300,
            height=200,
            count=1,
            dtype='uint16',
            crs='EPSG:32633',
            transform=transform) as dst:
        dst.write(data)
    preview, preview_transform = read_scene_preview(path, max_side=100)
    assert preview.shape == (67, 100, 3) and preview.dtype == np.uint8
    assert (preview[..., 0] == preview[..., 2]).all()  # grey, by the rule
    assert preview[0, 0, 0] == 0 and preview[-1, -1, 0] == 255  # stretched

    def corner(t, col, row):
        return (t.c + col * t.a + row * t.b, t.f + col * t.d + row * t.e)

    for col, row in ((0, 0), (100, 67)):
        assert corner(preview_transform, col, row) == pytest.approx(
            corner(transform, col * 3, row * 200 / 67))


def test_large_image_advice_names_the_geotiff_tab(service, scene, monkeypatch):
    advice = (f'image file {scene} is 9000 x 9000 pixels, over the limit: '
              'segment it tile by tile with --geotiff')

    def refuse(*args, **kwargs):
        raise ValueError(advice)

    monkeypatch.setattr(service, 'inferencer', refuse)
    with pytest.raises(DemoInputError) as info:
        service.segment_image(scene, 'the pond')
    assert str(info.value) == advice.replace(
        scene, 'my scene.png') + '. ' + GEOTIFF_TAB_HINT


def test_only_the_page_needs_gradio(monkeypatch):
    for name in list(sys.modules):
        if name.startswith('sgsrf_mmseg.webapp'):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, 'gradio', None)  # not installed
    webapp = importlib.import_module('sgsrf_mmseg.webapp')
    assert webapp.DemoService.__module__ == 'sgsrf_mmseg.webapp.service'
    with pytest.raises(ImportError, match=r'pip install -e "\.\[demo\]"'):
        importlib.import_module('sgsrf_mmseg.webapp.page')


def test_multiband_16bit_tiff_by_the_band_rule(service, tmp_path):
    rasterio = pytest.importorskip('rasterio')
    path = str(tmp_path / 'five_bands.tif')
    cube = np.random.default_rng(0).integers(
        0, 4000, (5, 40, 60), dtype=np.uint16)
    with rasterio.open(
            path,
            'w',
            driver='GTiff',
            width=60,
            height=40,
            count=5,
            dtype='uint16') as dst:
        dst.write(cube)
    result = service.segment_image(path, 'the pond')
    assert result.image_size == (40, 60)
    assert read_mask(result.expressions[0].mask_path).shape == (40, 60)
    banner = result.overlay.shape[0] - 40
    # The first three bands, stretched, under the mask's colour.
    np.testing.assert_array_equal(
        result.overlay[banner:],
        draw_referring_overlay(
            read_image_rgb(path),
            read_mask(result.expressions[0].mask_path) // 255,
            'the pond')[banner:])


def test_explain_one_expression_of_a_result(service, scene):
    result = service.segment_image(scene, 'the black car\nthe white tank')
    panels, seconds = service.explain(scene, 'the white tank')
    assert seconds > 0 and panels.text == 'the white tank'
    assert (panels.mask
            != read_mask(result.expressions[1].mask_path) // 255).mean() < 1e-3
    assert panels.parse is None and panels.parse_source == 'no parser given'
    with pytest.raises(DemoInputError, match='no image'):
        service.explain(None, 'the white tank')
    with pytest.raises(DemoInputError, match='empty'):
        service.explain(scene, '   ')


def test_tile_size_and_expression_length_are_bounded(service, tmp_path):
    """Issue 23 items 16 and 17: the page's tile size had no upper bound
    (the server grew from 1.1 to 4.9 GB on the bundled 256 px scene) nor a
    lower one (tile size 3: 16,384 tiles); the text box had no length
    limit (a 4,000-character expression held the page for 99 s)."""
    pytest.importorskip('rasterio')
    src = str(tmp_path / 'mosaic.tif')
    write_example_scene(src)
    for tile in (3, 100000):
        with pytest.raises(DemoInputError) as info:
            service.segment_scene(src, 'all the vehicles', tile_size=tile)
        assert str(info.value) == (
            f'tile size {tile} is out of range for a 256 x 256 scene and a '
            '128 x 128 model input: choose 32 to 256 (tiles are resized to '
            'the model input)')
    long_text = 'a' * 4000
    with pytest.raises(DemoInputError) as info:
        service.segment_image(bundled_examples()[0].image, long_text)
    assert str(info.value) == (
        'expression is 4,000 characters long, over the limit of 1,000 (the '
        'text tower reads the first 77 tokens): shorten it')
    with pytest.raises(DemoInputError, match='over the limit of 1,000'):
        service.segment_scene(src, long_text)
