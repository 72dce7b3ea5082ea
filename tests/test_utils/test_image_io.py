import cv2
import numpy as np
import pytest

from sgsrf_mmseg.utils.image_io import (band_ranges, read_image_rgb,
                                        to_rgb_uint8)


def test_gray_replicated():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    for arr in (gray, gray[..., None]):
        out = to_rgb_uint8(arr)
        assert out.shape == (3, 4, 3) and out.dtype == np.uint8
        for c in range(3):
            np.testing.assert_array_equal(out[..., c], gray)


def test_rgba_alpha_dropped_and_bgr_order():
    rgba = np.random.RandomState(0).randint(0, 256, (5, 6, 4)).astype('u1')
    np.testing.assert_array_equal(to_rgb_uint8(rgba), rgba[..., :3])
    bgra = rgba[..., [2, 1, 0, 3]]
    np.testing.assert_array_equal(
        to_rgb_uint8(bgra, channel_order='bgr'), rgba[..., :3])


def test_uint16_percentile_stretch():
    band = np.arange(100, dtype=np.uint16).reshape(10, 10) * 100
    out = to_rgb_uint8(np.stack([band, band, np.full_like(band, 7)], -1))
    low, high = np.percentile(band, [2, 98])
    assert out[..., 0].min() == 0 and out[..., 0].max() == 255
    mid = band[5, 0]
    assert out[5, 0, 0] == round((mid - low) / (high - low) * 255)
    assert (out[..., 2] == 0).all()  # constant band -> zeros


def test_five_bands_and_explicit_bands():
    rng = np.random.RandomState(1)
    cube = rng.randint(0, 256, (4, 4, 5)).astype(np.uint8)
    np.testing.assert_array_equal(to_rgb_uint8(cube), cube[..., :3])
    np.testing.assert_array_equal(
        to_rgb_uint8(cube, bands=(4, 2, 0)), cube[..., [4, 2, 0]])
    np.testing.assert_array_equal(
        to_rgb_uint8(cube, bands=(3, ))[..., 1], cube[..., 3])
    with pytest.raises(ValueError, match='out of range'):
        to_rgb_uint8(cube, bands=(0, 1, 5))


def test_float_with_nan_and_shared_ranges():
    arr = np.linspace(0, 1, 48, dtype=np.float32).reshape(4, 4, 3)
    arr[0, 0, 0] = np.nan
    out = to_rgb_uint8(arr)
    assert out.dtype == np.uint8 and out[0, 0, 0] == 0
    ranges = [(0.0, 1.0)] * 3
    np.testing.assert_array_equal(
        to_rgb_uint8(arr[1:], ranges=ranges),
        to_rgb_uint8(arr, ranges=ranges)[1:])
    assert band_ranges(np.ones((3, 3)))[0] == (1.0, 1.0)


def test_zero_sized_array():
    with pytest.raises(ValueError, match='empty'):
        to_rgb_uint8(np.zeros((0, 5, 3), np.uint8))


def test_read_files(tmp_path):
    rgb = np.random.RandomState(2).randint(0, 256, (8, 9, 3)).astype('u1')
    png = str(tmp_path / 'x.png')
    cv2.imwrite(png, rgb[..., ::-1])
    np.testing.assert_array_equal(read_image_rgb(png), rgb)
    np.testing.assert_array_equal(
        read_image_rgb(png, bands=(2, 1, 0)), rgb[..., ::-1])
    gray16 = str(tmp_path / 'g16.png')
    cv2.imwrite(gray16, (np.arange(72).reshape(8, 9) * 900).astype('u2'))
    out = read_image_rgb(gray16)
    assert out.shape == (8, 9, 3) and out.max() == 255


def test_read_five_band_geotiff(tmp_path):
    rasterio = pytest.importorskip('rasterio')
    cube = np.random.RandomState(3).randint(0, 256, (5, 6, 7)).astype('u1')
    path = str(tmp_path / 'five.tif')
    with rasterio.open(
            path, 'w', driver='GTiff', width=7, height=6, count=5,
            dtype='uint8') as dst:
        dst.write(cube)
    out = read_image_rgb(path, bands=(3, 4, 0))
    np.testing.assert_array_equal(out, cube[[3, 4, 0]].transpose(1, 2, 0))


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.png'):
        read_image_rgb(str(tmp_path / 'missing.png'))
    garbage = tmp_path / 'garbage.png'
    garbage.write_bytes(b'not an image at all')
    with pytest.raises(ValueError, match='garbage.png'):
        read_image_rgb(str(garbage))
    empty = tmp_path / 'empty.png'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match='empty.png'):
        read_image_rgb(str(empty))
    img = np.random.RandomState(4).randint(0, 256, (32, 32, 3)).astype('u1')
    for ext in ('.jpg', '.png'):
        ok, buf = cv2.imencode(ext, img)
        cut = tmp_path / f'cut{ext}'
        cut.write_bytes(buf.tobytes()[:len(buf) // 2])
        with pytest.raises(ValueError, match=f'cut{ext}'):
            read_image_rgb(str(cut))


def _geotiff(path, cube, nodata):
    rasterio = pytest.importorskip('rasterio')
    from rasterio.transform import from_origin
    with rasterio.open(
            path,
            'w',
            driver='GTiff',
            height=cube.shape[1],
            width=cube.shape[2],
            count=cube.shape[0],
            dtype=cube.dtype.name,
            crs='EPSG:32633',
            transform=from_origin(0.0, 0.0, 1.0, 1.0),
            nodata=nodata) as dst:
        dst.write(cube)
    return str(path)


def test_float_nodata_left_out_of_the_stretch(tmp_path):
    """-9999 over 39% of a float scene: the valid area keeps its contrast."""
    rng = np.random.RandomState(5)
    cube = rng.uniform(100, 200, (3, 40, 50)).astype(np.float32)
    invalid = np.zeros((40, 50), bool)
    invalid[:, :20] = True  # 40% of the pixels
    invalid[0, 20] = False
    cube[:, invalid] = -9999
    path = _geotiff(tmp_path / 'float.tif', cube, -9999)
    rgb = read_image_rgb(path)
    assert (rgb[invalid] == 0).all()
    expected = to_rgb_uint8(np.moveaxis(cube[:, :, 20:], 0, -1))
    np.testing.assert_array_equal(rgb[:, 20:], expected)
    assert rgb[:, 20:].std() > 50  # not a flat 255


def test_uint16_nodata_is_black_not_white(tmp_path):
    rng = np.random.RandomState(6)
    cube = rng.randint(1000, 3000, (1, 30, 30)).astype(np.uint16)
    cube[:, 10:20, 10:20] = 65535
    path = _geotiff(tmp_path / 'u16.tif', cube, 65535)
    rgb = read_image_rgb(path)
    assert (rgb[10:20, 10:20] == 0).all()
    valid = np.ones((30, 30), bool)
    valid[10:20, 10:20] = False
    low, high = np.percentile(cube[0][valid], [2, 98])
    assert rgb[..., 0][valid].max() == 255 and rgb[valid].min() == 0
    assert rgb[0, 0, 0] == np.clip(
        np.round((cube[0, 0, 0] - low) / (high - low) * 255), 0, 255)


def test_nodata_rule_for_arrays_and_loader(tmp_path):
    arr = np.full((4, 4, 3), 7, np.uint8)
    arr[0, 0] = 255
    out = to_rgb_uint8(arr, nodata=255)
    assert (out[0, 0] == 0).all() and (out[1:] == 7).all()
    cube = np.linspace(0, 1, 2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8)
    cube[:, 0] = np.nan
    path = _geotiff(tmp_path / 'nan.tif', cube, float('nan'))
    from sgsrf_mmseg.datasets.transforms import LoadRasterImage
    loaded = LoadRasterImage().transform(dict(img_path=path))['img']
    np.testing.assert_array_equal(loaded[..., ::-1], read_image_rgb(path))
    assert (loaded[0] == 0).all()


def _png_header_only(path, width, height):
    """A PNG whose header claims width x height (its data is cut short)."""
    import struct
    import zlib

    def chunk(kind, data):
        crc = zlib.crc32(kind + data) & 0xffffffff
        return struct.pack('>I', len(data)) + kind + data + struct.pack(
            '>I', crc)

    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) +
                     chunk(b'IDAT', zlib.compress(bytes(width))) +
                     chunk(b'IEND', b''))
    return str(path)


def test_pixel_limit_is_checked_before_decoding(tmp_path, monkeypatch):
    huge = _png_header_only(tmp_path / 'zeros.png', 30000, 30000)
    with pytest.raises(ValueError) as info:
        read_image_rgb(huge)
    message = str(info.value)
    assert message.startswith(
        f'image file {huge} is 30000 x 30000 = 900,000,000 pixels, over the '
        'limit of 33,554,432 (--max-pixels)')
    assert '--geotiff' in message
    small = str(tmp_path / 'small.png')
    cv2.imwrite(small, np.zeros((30, 40, 3), np.uint8))
    monkeypatch.setattr(cv2, 'imread', None)  # nothing may be decoded
    with pytest.raises(ValueError, match='40 x 30 = 1,200 pixels'):
        read_image_rgb(small, max_pixels=1000)


def test_decoder_errors_name_the_file(tmp_path):
    huge = _png_header_only(tmp_path / 'giant.png', 40000, 30000)
    with pytest.raises(
            ValueError, match='could not decode image file .*'
            'giant.png'):
        read_image_rgb(huge, max_pixels=None)  # OpenCV's own limit
    with pytest.raises(IsADirectoryError, match='is a folder'):
        read_image_rgb(str(tmp_path))


def _with_broken_text_chunk(png: bytes) -> bytes:
    """The PNG with a tEXt chunk of a wrong CRC after its header: Pillow
    refuses the file, OpenCV decodes it."""
    import struct
    text = b'Comment\x00made by hand'
    chunk = struct.pack('>I', len(text)) + b'tEXt' + text + b'\0\0\0\0'
    return png[:33] + chunk + png[33:]


def test_size_is_checked_before_decoding_a_png_pillow_refuses(
        tmp_path, monkeypatch):
    """Issue 23 item 14: when Pillow refused a PNG that OpenCV decodes (a
    tEXt chunk with a bad CRC), the pixel limit was checked after decoding
    (9.4 GB peak for a 4.2 MB file)."""
    from PIL import Image
    path = tmp_path / 'bad_crc.png'
    ok, png = cv2.imencode('.png', np.zeros((30, 40, 3), np.uint8))
    path.write_bytes(_with_broken_text_chunk(png.tobytes()))
    with pytest.raises(OSError, match='cannot identify image file'):
        Image.open(str(path))
    assert cv2.imread(str(path)).shape == (30, 40, 3)
    monkeypatch.setattr(cv2, 'imread', None)  # nothing may be decoded
    with pytest.raises(ValueError) as info:
        read_image_rgb(str(path), max_pixels=1000)
    assert str(info.value).startswith(
        f'image file {path} is 40 x 30 = 1,200 pixels, over the limit of '
        '1,000 (--max-pixels)')


def test_files_of_unknown_size_are_never_decoded(tmp_path, monkeypatch):
    """The decoder guard on a case not in the issue: a file whose size no
    header tells is refused without being decoded."""
    garbage = tmp_path / 'scan.png'
    garbage.write_bytes(b'\x89PNG\r\n\x1a\n not really a png')
    monkeypatch.setattr(cv2, 'imread', None)
    with pytest.raises(ValueError) as info:
        read_image_rgb(str(garbage))
    assert str(info.value) == (
        f'could not decode image file {garbage}: corrupt, truncated or an '
        'unsupported format (its size cannot be read from its header, so it '
        'is not decoded)')


@pytest.mark.parametrize('ext', ['jpg', 'png'])
def test_exif_orientation_as_every_viewer_shows_it(tmp_path, ext):
    """The orientation rule on every EXIF orientation (Pillow's
    exif_transpose is the reference)."""
    from PIL import Image, ImageOps
    stored = np.random.RandomState(0).randint(0, 256, (16, 24, 3), np.uint8)
    for orientation in range(1, 9):
        path = str(tmp_path / f'o{orientation}.{ext}')
        exif = Image.Exif()
        exif[0x0112] = orientation
        Image.fromarray(stored).save(path, exif=exif.tobytes(), quality=100)
        expected = np.asarray(ImageOps.exif_transpose(Image.open(path)))
        np.testing.assert_array_equal(read_image_rgb(path), expected)
