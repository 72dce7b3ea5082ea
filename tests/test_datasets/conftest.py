"""Tiny datasets in the released layouts, built inside ``tmp_path``."""
import json
import os
import os.path as osp
import pickle
import warnings

import cv2
import numpy as np
import pytest
from pycocotools import mask as coco_mask

import sgsrf_mmseg  # noqa: F401

SIZE = 32


def make_image(seed: int, h: int = SIZE, w: int = SIZE) -> np.ndarray:
    return np.random.default_rng(seed).integers(
        0, 255, (h, w, 3), dtype=np.uint8)


def box_mask(x0, y0, x1, y1, h=SIZE, w=SIZE, value=255) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    mask[y0:y1, x0:x1] = value
    return mask


def write_lines(path, lines):
    with open(path, 'w', encoding='utf-8') as f:
        f.write(''.join(lines))


@pytest.fixture
def refsegrs_root(tmp_path):
    """RefSegRS: ids 0, 1, 2 (train), 3 (val), 4 (test).

    id 0 has two expressions (one with trailing spaces/CRLF), id 1 has an
    empty expression line and one normal, id 2's mask has values 40/60
    around the > 50 threshold.
    """
    root = tmp_path / 'refsegrs'
    os.makedirs(root / 'images')
    os.makedirs(root / 'masks')
    for i in range(5):
        cv2.imwrite(str(root / 'images' / f'{i}.tif'), make_image(i))
        mask = box_mask(2 + i, 3, 12 + i, 20)
        if i == 2:
            mask = np.zeros((SIZE, SIZE), np.uint8)
            mask[:, :10] = 40
            mask[:, 10:20] = 60
        cv2.imwrite(str(root / 'masks' / f'{i}.tif'), mask)
    write_lines(root / 'output_phrase_train.txt', [
        '0 the car on the left   \r\n', '0 vehicle  near\tthe road\n', '1 \n',
        '1 the large building\n', '\n', '2 road along the river\n'
    ])
    write_lines(root / 'output_phrase_val.txt', ['3 a pond at the top\n'])
    write_lines(root / 'output_phrase_test.txt', ['4 the white tank\n'])
    return str(root)


@pytest.fixture
def risbench_root(tmp_path):
    root = tmp_path / 'risbench'
    os.makedirs(root / 'img_rgb')
    os.makedirs(root / 'mask')
    names = ['a_001.png', 'b_002.png', 'c_003.png']
    for i, name in enumerate(names):
        cv2.imwrite(str(root / 'img_rgb' / name), make_image(10 + i))
        cv2.imwrite(str(root / 'mask' / name), box_mask(0, 0, 8 + i, 8))
    write_lines(root / 'output_phrase_train.txt', [
        'a_001.png the ship at the top left\n',
        'a_001.png a ship in the harbour\n',
        'b_002.png the bridge over the river\n'
    ])
    write_lines(root / 'output_phrase_val.txt', ['c_003.png the stadium\n'])
    write_lines(root / 'output_phrase_test.txt',
                ['c_003.png the stadium\n', 'c_003.png the round field\n'])
    return str(root)


def rle_of(mask: np.ndarray) -> dict:
    """Compressed RLE as stored in json (counts as str)."""
    rle = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return rle


def build_rrsisd(root, image_sizes=None, refs_override=None):
    """RRSIS-D with 3 images; returns the expected masks per ref_id.

    ref 10 (train): annotation with two RLE parts (union), 2 sentences.
    ref 11 (train): polygon annotation, 1 sentence + 1 empty sentence.
    ref 12 (val), ref 13 (test, 2 sentences): plain RLE.
    """
    image_sizes = image_sizes or {}
    img_dir = osp.join(root, 'images', 'rrsisd', 'JPEGImages')
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(osp.join(root, 'rrsisd'), exist_ok=True)
    h = w = SIZE
    images, anns, expected = [], [], {}
    for img_id in (1, 2, 3):
        ih, iw = image_sizes.get(img_id, (h, w))
        name = f'{img_id:05d}.jpg'
        cv2.imwrite(osp.join(img_dir, name), make_image(img_id, ih, iw))
        images.append(dict(id=img_id, file_name=name, height=h, width=w))
    part1, part2 = box_mask(
        0, 0, 6, 6, value=1), box_mask(
            4, 4, 12, 12, value=1)
    anns.append(
        dict(
            id=100,
            image_id=1,
            categories_id=2,
            segmentation=[rle_of(part1), rle_of(part2)]))
    expected[10] = part1 | part2
    poly = [2.0, 2.0, 20.0, 2.0, 20.0, 10.0, 2.0, 10.0]
    anns.append(dict(id=101, image_id=2, categories_id=1, segmentation=[poly]))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        expected[11] = coco_mask.decode(
            [coco_mask.merge(coco_mask.frPyObjects([poly], h, w))])[..., 0]
    m3 = box_mask(10, 10, 30, 30, value=1)
    anns.append(
        dict(id=102, image_id=3, categories_id=1, segmentation=[rle_of(m3)]))
    expected[12] = expected[13] = m3
    categories = [dict(id=1, name='airplane'), dict(id=2, name='vehicle')]
    with open(osp.join(root, 'rrsisd', 'instances.json'), 'w') as f:
        json.dump(
            dict(images=images, annotations=anns, categories=categories), f)

    def sents(texts, base):
        return [
            dict(
                raw=t,
                sent=t.strip().lower(),
                tokens=t.split(),
                sent_id=base + k) for k, t in enumerate(texts)
        ]

    refs = [
        dict(
            image_id=1,
            split='train',
            file_name='00001_100.jpg',
            category_id=2,
            ann_id=100,
            ref_id=10,
            sent_ids=[1000, 1001],
            sentences=sents(['The vehicle on the left\n', 'small car'], 1000)),
        dict(
            image_id=2,
            split='train',
            file_name='00002_101.jpg',
            category_id=1,
            ann_id=101,
            ref_id=11,
            sent_ids=[1100, 1101],
            sentences=sents(['an airplane at the top', '   '], 1100)),
        dict(
            image_id=3,
            split='val',
            file_name='00003_102.jpg',
            category_id=1,
            ann_id=102,
            ref_id=12,
            sent_ids=[1200],
            sentences=sents(['the plane'], 1200)),
        dict(
            image_id=3,
            split='test',
            file_name='00003_102.jpg',
            category_id=1,
            ann_id=102,
            ref_id=13,
            sent_ids=[1300, 1301],
            sentences=sents(['the plane', 'the airplane below'], 1300)),
    ]
    if refs_override is not None:
        refs = refs_override
    with open(osp.join(root, 'rrsisd', 'refs(unc).p'), 'wb') as f:
        pickle.dump(refs, f, protocol=2)
    return expected


@pytest.fixture
def rrsisd_root(tmp_path):
    root = str(tmp_path / 'rrsisd_root')
    expected = build_rrsisd(root)
    return root, expected


@pytest.fixture
def rrsisd_builder():
    """The :func:`build_rrsisd` function, for layouts with variations."""
    return build_rrsisd
