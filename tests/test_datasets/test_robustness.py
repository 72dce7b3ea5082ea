"""Unusual images and expressions through the real RefSegRS pipeline."""
import logging
import os
import os.path as osp

import cv2
import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from PIL import Image

import sgsrf_mmseg.datasets.referring_dataset as referring_dataset
from sgsrf_mmseg.datasets import LoadRasterImage, RefSegRSDataset
from sgsrf_mmseg.models.clip import tokenizer as clip_tokenizer
from sgsrf_mmseg.utils.image_io import to_rgb_uint8

init_default_scope('mmseg')
pytestmark = pytest.mark.filterwarnings(
    'ignore::rasterio.errors.NotGeoreferencedWarning')
SIZE = 24
LONG = ' '.join(['the small white car next to the road'] * 6)
PIPELINE = [
    dict(type='LoadRasterImage'),
    dict(type='LoadReferringMask'),
    dict(type='Resize', scale=(64, 64), keep_ratio=False),
    dict(type='PackReferringInputs'),
]
# Phrase file lines: blank (2) and control-only (8) lines are skipped.
LINES = [
    '0 the grey roof\n',
    '1 \t  \n',
    '1 the tank with an alpha channel\n',
    f'2 {LONG}\n',
    '3 le réservoir blanc près du 白色 bâtiment\n',
    '4 the\x00 small\x1b car\u200b\ufeff\n',
    '5 the corrupt image\n',
    '5 \x00\x1b\u200b\n',
]


def _five_band(path: str, cube: np.ndarray) -> None:
    rasterio = pytest.importorskip('rasterio')
    h, w, c = cube.shape
    with rasterio.open(
            path,
            'w',
            driver='GTiff',
            width=w,
            height=h,
            count=c,
            dtype=cube.dtype.name) as dst:
        dst.write(cube.transpose(2, 0, 1))


@pytest.fixture
def odd_root(tmp_path):
    """RefSegRS layout; returns the root and each id's source raster."""
    root = tmp_path / 'odd'
    os.makedirs(root / 'images')
    os.makedirs(root / 'masks')
    rng = np.random.default_rng(0)
    sources = {
        '0': rng.integers(0, 256, (SIZE, SIZE), dtype=np.uint8),
        '1': rng.integers(0, 256, (SIZE, SIZE, 4), dtype=np.uint8),
        '2': rng.integers(0, 65536, (SIZE, SIZE, 3), dtype=np.uint16),
        '3': rng.integers(0, 256, (SIZE, SIZE, 5), dtype=np.uint8),
        '4': rng.integers(0, 256, (8, 8, 3), dtype=np.uint8),
    }
    for key, src in sources.items():
        path = str(root / 'images' / f'{key}.tif')
        if src.ndim == 3 and src.shape[2] == 5:
            _five_band(path, src)
        elif src.ndim == 3:  # OpenCV writes BGR(A)
            cv2.imwrite(
                path, np.concatenate([src[..., 2::-1], src[..., 3:]], axis=2))
        else:
            cv2.imwrite(path, src)
    corrupt = str(root / 'images' / '5.tif')
    Image.fromarray(sources['1'][..., :3]).save(corrupt)
    with open(corrupt, 'rb') as f:
        data = f.read()
    with open(corrupt, 'wb') as f:
        f.write(data[:len(data) // 2])
    for key in '012345':
        h, w = sources.get(key, np.zeros((SIZE, SIZE))).shape[:2]
        mask = np.zeros((h, w), np.uint8)
        mask[:h // 2, :w // 2] = 255
        cv2.imwrite(str(root / 'masks' / f'{key}.tif'), mask)
    with open(root / 'output_phrase_test.txt', 'w', encoding='utf-8') as f:
        f.write(''.join(LINES))
    return str(root), sources


def _dataset(root):
    return RefSegRSDataset(
        data_root=root, split='test', test_mode=True, pipeline=PIPELINE)


def test_every_raster_gives_the_inference_pixels(odd_root):
    root, sources = odd_root
    ds = _dataset(root)
    by_key = {ds.get_data_info(i)['ref_id']: i for i in range(len(ds))}
    for key, src in sources.items():
        out = ds[by_key[key]]
        inputs = out['inputs']
        assert inputs.shape == (3, 64, 64) and inputs.dtype == torch.uint8
        # Packed in BGR order; the data preprocessor turns it to RGB.
        expected = mmcv.imresize(to_rgb_uint8(src)[..., ::-1], (64, 64))
        np.testing.assert_array_equal(
            inputs.numpy().transpose(1, 2, 0),
            expected,
            err_msg=f'image {key}')
        meta = out['data_samples'].metainfo
        assert meta['ori_shape'] == src.shape[:2]
        assert out['data_samples'].gt_sem_seg.data.shape == (1, 64, 64)
    with pytest.raises(ValueError, match=r'images[/\\]5\.tif'):
        ds[by_key['5']]


def test_bands_and_float32(odd_root):
    root, sources = odd_root
    info = dict(img_path=osp.join(root, 'images', '3.tif'))
    out = LoadRasterImage(bands=(4, 2, 0), to_float32=True)(info)
    assert out['img'].dtype == np.float32
    assert out['img_shape'] == out['ori_shape'] == (SIZE, SIZE)
    np.testing.assert_array_equal(out['img'], sources['3'][...,
                                                           [0, 2, 4]])  # BGR
    with pytest.raises(FileNotFoundError, match='missing.tif'):
        LoadRasterImage()(dict(img_path=osp.join(root, 'missing.tif')))
    empty = osp.join(root, 'empty.tif')
    open(empty, 'wb').close()
    with pytest.raises(ValueError, match='empty.tif'):
        LoadRasterImage()(dict(img_path=empty))


def test_expression_rules(odd_root, monkeypatch):
    root, _ = odd_root
    logged = []
    monkeypatch.setattr(referring_dataset, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    ds = RefSegRSDataset(data_root=root, split='test', test_mode=True)
    texts = {
        ds.get_data_info(i)['ref_id']: ds.get_data_info(i)['text']
        for i in range(len(ds))
    }
    assert texts == {
        '0': 'the grey roof',
        '1': 'the tank with an alpha channel',
        '2': LONG,  # kept whole; the text tower truncates it
        '3': 'le réservoir blanc près du 白色 bâtiment',
        '4': 'the small car',  # control and format characters removed
        '5': 'the corrupt image',
    }
    # whitespace-only and control-only lines are skipped with one warning
    assert len(logged) == 1
    msg, kw = logged[0]
    assert '2 empty' in msg and 'line 2, line 8' in msg
    assert kw['level'] == logging.WARNING
    from sgsrf_mmseg.apis import clean_expression
    assert texts['4'] == clean_expression(LINES[5][2:])


def test_long_and_non_ascii_through_the_tiny_text_tower(monkeypatch):
    messages = []
    monkeypatch.setattr(clip_tokenizer, 'print_log',
                        lambda msg, **kw: messages.append(msg))
    cfg = Config.fromfile('configs/_base_/models/sgsrf_tiny.py')
    tower = MODELS.build(cfg.model.text_encoder).eval()
    non_ascii = 'le réservoir blanc près du 白色 bâtiment'
    with torch.no_grad():
        out = tower([LONG, non_ascii])
    assert out.words.shape[:2] == (2, tower.context_length)
    assert len(messages) == 1 and LONG in messages[0]
    assert torch.isfinite(out.sentence).all()
    assert out.pad_mask[1].any() and not out.pad_mask[0].any()
