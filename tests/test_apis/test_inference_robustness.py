import unicodedata

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgsrf_mmseg.apis import clean_expression
from sgsrf_mmseg.models.clip import tokenizer as clip_tokenizer


def check_result(result, shape):
    mask = result['mask']
    assert mask.shape == shape and mask.dtype == np.uint8
    assert set(np.unique(mask)) <= {0, 1}
    if 'probability' in result:
        assert np.isfinite(result['probability']).all()
    assert np.isfinite(result['score']) and 0 <= result['score'] <= 1


def test_clean_expression_rule():
    assert clean_expression('  the red\tcar\n') == 'the red car'
    assert clean_expression('the\x00 red\x1b car\u200b\ufeff') == \
        'the red car'
    assert clean_expression('le vélo rouge 红色的车') == 'le vélo rouge 红色的车'
    assert clean_expression('a\ud800b') == 'ab'  # unpaired surrogate
    for bad in (None, 3, b'car', ['car']):
        with pytest.raises(TypeError, match='expression'):
            clean_expression(bad)
    for empty in ('', '   ', '\t\n\r', '\x00\x07', '\u200b'):
        with pytest.raises(ValueError, match='expression.*nothing to ground'):
            clean_expression(empty)
    with pytest.raises(ValueError, match='text'):
        clean_expression(' ', field='text')


def test_band_layouts(inferencer):
    rng = np.random.RandomState(1)
    rgb = rng.randint(0, 256, (40, 56, 3), np.uint8)
    float_img = rng.rand(40, 56, 3).astype(np.float32)
    float_img[0, 0] = np.nan
    arrays = [
        rgb,
        rgb[..., 0],  # grey (H, W)
        rgb[..., :1],  # grey (H, W, 1)
        np.dstack([rgb, np.full((40, 56), 7, np.uint8)]),  # RGBA
        rng.randint(0, 65536, (40, 56, 3)).astype(np.uint16),
        rng.randint(0, 4096, (40, 56, 5)).astype(np.uint16),
        float_img,
    ]
    results = inferencer(arrays, 'the grey roof', batch_size=len(arrays))
    for result in results:
        check_result(result, (40, 56))
    # Alpha is dropped: RGBA gives the RGB mask.
    np.testing.assert_array_equal(results[3]['mask'], results[0]['mask'])
    # The fourth and fifth bands are ignored unless chosen.
    five = arrays[5]
    picked = inferencer(five, 'the grey roof', bands=(4, 3, 0))
    same = inferencer(five[..., [4, 3, 0]], 'the grey roof')
    np.testing.assert_array_equal(picked['mask'], same['mask'])


def test_band_layout_files(inferencer, tmp_path):
    rng = np.random.RandomState(2)
    files = {
        'grey.png': rng.randint(0, 256, (30, 44), np.uint8),
        'rgba.png': rng.randint(0, 256, (30, 44, 4), np.uint8),
        'deep.png': rng.randint(0, 65536, (30, 44, 3)).astype(np.uint16),
    }
    paths = []
    for name, array in files.items():
        path = str(tmp_path / name)
        assert cv2.imwrite(path, array)
        paths.append(path)
    rasterio = pytest.importorskip('rasterio')
    cube = rng.randint(0, 4096, (5, 30, 44)).astype(np.uint16)
    paths.append(str(tmp_path / 'five.tif'))
    from rasterio.transform import from_origin
    with rasterio.open(
            paths[-1],
            'w',
            driver='GTiff',
            height=30,
            width=44,
            count=5,
            dtype='uint16',
            crs='EPSG:32633',
            transform=from_origin(0.0, 0.0, 1.0, 1.0)) as dst:
        dst.write(cube)
    results = inferencer(paths, 'a pond', batch_size=len(paths))
    for result in results:
        check_result(result, (30, 44))


def test_unreadable_images_name_the_file(inferencer, tmp_path):
    missing = str(tmp_path / 'missing.png')
    with pytest.raises(FileNotFoundError, match='missing.png'):
        inferencer(missing, 'a car')
    corrupt = tmp_path / 'corrupt.png'
    corrupt.write_bytes(b'\x89PNG\r\n\x1a\n not really')
    with pytest.raises(ValueError, match='corrupt.png'):
        inferencer(str(corrupt), 'a car')
    good = np.random.RandomState(3).randint(0, 256, (64, 64, 3), np.uint8)
    truncated = tmp_path / 'truncated.jpg'
    ok, data = cv2.imencode('.jpg', good)
    truncated.write_bytes(data.tobytes()[:len(data) // 2])
    with pytest.raises(ValueError, match='truncated.jpg'):
        inferencer(str(truncated), 'a car')
    empty = tmp_path / 'empty.tif'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match='empty.tif'):
        inferencer(str(empty), 'a car')
    with pytest.raises(ValueError, match=r'image\[1\].*empty'):
        inferencer([good, np.zeros((0, 5), np.uint8)], 'a car')
    with pytest.raises(ValueError, match='image'):
        inferencer(np.zeros((2, 4, 4, 3), np.uint8), 'a car')


def test_expression_errors_name_the_field(inferencer):
    image = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(TypeError, match='expression'):
        inferencer(image, None)
    with pytest.raises(TypeError, match=r'expression\[1\]'):
        inferencer([image, image], ['a car', 7])
    for empty in ('', '  \t\n'):
        with pytest.raises(ValueError, match='expression'):
            inferencer(image, empty)


def test_control_non_ascii_and_long_expressions(inferencer, monkeypatch):
    image = np.random.RandomState(4).randint(0, 256, (48, 48, 3), np.uint8)
    texts = [
        'the red car', 'the\x00 red\x1b\tcar\n', 'le véhicule rouge à gauche',
        '红色汽车 🚗', ' '.join(['the large white storage tank'] * 20)
    ]
    messages = []
    monkeypatch.setattr(clip_tokenizer, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    results = inferencer(
        image,
        texts,
        batch_size=len(texts),
        return_probability=True,
        return_vis=True)
    for result in results:
        check_result(result, (48, 48))
    assert results[1]['text'] == 'the red car'
    np.testing.assert_array_equal(results[1]['mask'], results[0]['mask'])
    assert results[3]['text'] == texts[3]
    assert len(messages) == 1 and 'truncated' in messages[0]
    assert 'storage tank' in messages[0]


def test_tiny_and_large_images(inferencer):
    rng = np.random.RandomState(5)
    shapes = [(1, 1), (8, 8), (3, 257), (700, 20)]
    images = [rng.randint(0, 256, shape + (3, ), np.uint8) for shape in shapes]
    results = inferencer(
        images, 'a small boat', batch_size=len(images), return_vis=True)
    for shape, result in zip(shapes, results):
        check_result(result, shape)
        assert result['visualization'].shape[1:] == (shape[1], 3)


CONTROL = st.sampled_from([
    '\x00', '\x07', '\x1b', '\x7f', '\u200b', '\ufeff', '\n', '\t', '\u2028',
    '\ud800'
])
EXPRESSIONS = st.text(
    alphabet=st.one_of(st.characters(), CONTROL, st.sampled_from('abcdefgh ')),
    min_size=0,
    max_size=300)
IMAGES = st.tuples(
    st.integers(1, 300), st.integers(1, 300), st.sampled_from([0, 1, 3, 4]),
    st.sampled_from([np.uint8, np.uint16]), st.integers(0, 2**31 - 1))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(expression=EXPRESSIONS)
def test_clean_expression_properties(expression):
    try:
        cleaned = clean_expression(expression)
    except ValueError:
        assert not ''.join(
            ch for ch in expression
            if unicodedata.category(ch) not in ('Cc', 'Cf', 'Cs')).strip()
        return
    assert cleaned == cleaned.strip() and '  ' not in cleaned
    assert all(
        unicodedata.category(ch) not in ('Cc', 'Cf', 'Cs') for ch in cleaned)
    assert not any(ch.isspace() and ch != ' ' for ch in cleaned)
    assert clean_expression(cleaned) == cleaned


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expression=EXPRESSIONS, image=IMAGES)
def test_fuzz_expressions_and_images(inferencer, expression, image):
    height, width, channels, dtype, seed = image
    shape = (height, width) if channels == 0 else (height, width, channels)
    array = np.random.RandomState(seed).randint(0,
                                                np.iinfo(dtype).max + 1,
                                                shape).astype(dtype)
    try:
        clean_expression(expression)
    except ValueError:
        with pytest.raises(ValueError, match='expression'):
            inferencer(array, expression)
        return
    result = inferencer(
        array, expression, return_probability=True, return_vis=True)
    check_result(result, (height, width))
    assert result['visualization'].shape[1:] == (width, 3)


def test_exif_orientation_gives_the_mask_of_the_photo_as_seen(
        inferencer, tmp_path):
    """Issue 23 item 12: a JPEG with EXIF orientation 6 gave a 256 x 128
    mask for a photo every viewer shows as 128 x 256."""
    from PIL import Image
    path = str(tmp_path / 'photo.jpg')
    exif = Image.Exif()
    exif[0x0112] = 6  # turned 90 degrees clockwise to view
    stored = np.random.RandomState(3).randint(0, 256, (128, 256, 3), np.uint8)
    Image.fromarray(stored).save(path, exif=exif.tobytes())
    result = inferencer(path, 'the red car', return_vis=True)
    assert result['mask'].shape == (256, 128)
    assert result['visualization'].shape[1] == 128
