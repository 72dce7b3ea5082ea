import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from sgsrf_mmseg.analysis.dataset_check import (DefectReport, check_dataset,
                                                write_previews)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tests', 'test_tools'))
from tool_runner import run_tool

TOOL = osp.join('tools', 'misc', 'check_dataset.py')


def _check(dataset, root, splits=('train', 'val', 'test'), **options):
    report, checked = check_dataset(dataset, root, splits, **options)
    return report, {split.split: split for split in checked}


def test_clean_dataset_passes_and_previews(risbench_root, tmp_path):
    preview = str(tmp_path / 'preview')
    report, splits = _check('risbench', risbench_root, num_preview=1)
    assert not report.has_fatal
    assert report.summary() == 'no defects found'
    assert {
        k: s.usable
        for k, s in splits.items()
    } == dict(
        train=3, val=1, test=2)
    for name, split in splits.items():
        write_previews(split.previews, name, preview)
    assert sorted(os.listdir(preview)) == [
        'test_0000_c_003.png', 'train_0000_a_001.png', 'val_0000_c_003.png'
    ]
    drawn = cv2.imread(osp.join(preview, 'val_0000_c_003.png'))
    assert drawn.shape[1] == 32 and drawn.shape[0] > 32  # banner on top


def test_defects_reported(refsegrs_root):
    root = refsegrs_root
    os.remove(osp.join(root, 'images', '3.tif'))
    cv2.imwrite(osp.join(root, 'masks', '4.tif'), np.zeros((32, 32), np.uint8))
    with open(osp.join(root, 'output_phrase_test.txt'), 'a') as f:
        f.write('x7 bad id\n4 ' + ' '.join(['word'] * 90) + '\n')
    report, _ = _check('refsegrs', root)
    out = report.summary()
    assert report.has_fatal
    assert '[FATAL] missing image: 1' in out and '3.tif' in out
    assert '[FATAL] malformed line: 1' in out
    assert 'output_phrase_test.txt:2' in out
    assert 'empty expression (skipped): 1' in out
    assert 'output_phrase_train.txt:3' in out
    assert 'extra whitespace (cleaned): 2' in out
    assert 'longer than 77 tokens' in out
    assert 'mask not strictly 0/255' in out and '2.tif' in out
    assert 'empty mask: 1' in out


def test_rrsisd_size_mismatch(tmp_path, rrsisd_builder):
    root = str(tmp_path / 'r')
    rrsisd_builder(root, image_sizes={1: (33, 32), 3: (32, 64)})
    report, splits = _check('rrsisd', root, ('train', 'test'))
    out = report.summary()
    assert report.has_fatal, out
    assert 'size mismatch (repaired by the loader): 1' in out
    assert 'size mismatch beyond repair: 1' in out
    assert 'empty expression (skipped): 1' in out
    # ref 10 (two sentences) is repaired and served, like ref 11
    assert splits['train'].usable == 3
    assert splits['test'].usable == 0


def test_missing_annotations_fatal(tmp_path):
    os.makedirs(tmp_path / 'empty')
    report, _ = _check('rrsisd', str(tmp_path / 'empty'))
    out = report.summary()
    assert report.has_fatal
    assert 'missing annotation file' in out and 'instances.json' in out


def test_truncated_rrsisd_jpeg_fatal_and_named(rrsisd_root):
    root, _ = rrsisd_root
    path = osp.join(root, 'images', 'rrsisd', 'JPEGImages', '00002.jpg')
    noise = np.random.default_rng(0).integers(0, 255, (32, 32, 3), np.uint8)
    Image.fromarray(noise).save(path)
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) * 4 // 5])
    assert cv2.imread(path) is not None  # OpenCV decodes it partly
    report, splits = _check('rrsisd', root, ('train', ))
    assert report.fatal == {'unreadable image'}
    place, = report.places['unreadable image']
    assert place.startswith(f'image file {path} is corrupt or truncated')
    assert splits['train'].usable == 2  # ref 10 only


def test_five_band_geotiff_read_like_the_loader(refsegrs_root):
    rasterio = pytest.importorskip('rasterio')
    path = osp.join(refsegrs_root, 'images', '3.tif')
    cube = np.random.default_rng(0).integers(0, 256, (5, 32, 32), np.uint8)
    with rasterio.open(
            path, 'w', driver='GTiff', width=32, height=32, count=5,
            dtype='uint8') as dst:
        dst.write(cube)
    assert cv2.imread(path, cv2.IMREAD_UNCHANGED) is None
    with pytest.warns(rasterio.errors.NotGeoreferencedWarning):
        report, splits = _check('refsegrs', refsegrs_root, ('val', ))
    assert report.summary() == 'no defects found'
    assert splits['val'].usable == 1


def test_duplicate_lines_reported(risbench_root):
    with open(osp.join(risbench_root, 'output_phrase_train.txt'), 'a') as f:
        f.write('a_001.png a ship in the  harbour\n'
                'b_002.png a ship in the harbour\n')
    report, splits = _check('risbench', risbench_root, ('train', ))
    assert not report.has_fatal
    place, = report.places['duplicate expression (same key and text)']
    assert place.endswith('output_phrase_train.txt:4 (as line 2)')
    assert splits['train'].usable == 5


def test_byte_order_mark_is_not_a_malformed_line(risbench_root):
    path = osp.join(risbench_root, 'output_phrase_val.txt')
    with open(path, 'w', encoding='utf-8-sig') as f:
        f.write('c_003.png the stadium\n')
    report, splits = _check('risbench', risbench_root, ('val', ))
    assert report.summary() == 'no defects found'
    assert splits['val'].usable == 1


def test_zero_one_masks(risbench_root, refsegrs_root):
    for name in ('a_001.png', 'b_002.png', 'c_003.png'):
        mask = cv2.imread(osp.join(risbench_root, 'mask', name), 0)
        cv2.imwrite(
            osp.join(risbench_root, 'mask', name), (mask > 0).astype(np.uint8))
    report, _ = _check('risbench', risbench_root)
    assert report.summary() == 'no defects found'
    # RefSegRS keeps its > 50 rule: 0/1 masks are empty targets, fatal
    for i in (0, 1, 2):
        path = osp.join(refsegrs_root, 'masks', f'{i}.tif')
        cv2.imwrite(path, (cv2.imread(path, 0) > 50).astype(np.uint8))
    report, _ = _check('refsegrs', refsegrs_root, ('train', ))
    assert report.fatal == {'split with mostly empty targets'}
    assert report.places['split with mostly empty targets'] == [
        'train: 3 of 3 target masks are empty (more than 50%); check the '
        'mask threshold and the mask files'
    ]
    assert report.places['empty mask'][0].endswith(
        '0.tif (non-zero values all <= 50)')


def test_missing_files_all_reported(rrsisd_root):
    root, _ = rrsisd_root
    img_dir = osp.join(root, 'images', 'rrsisd', 'JPEGImages')
    os.remove(osp.join(img_dir, '00001.jpg'))
    os.remove(osp.join(img_dir, '00003.jpg'))
    report, splits = _check('rrsisd', root)
    # each file once, though val and test both name 00003.jpg
    assert report.places['missing image'] == [
        osp.join(img_dir, '00001.jpg'),
        osp.join(img_dir, '00003.jpg')
    ]
    assert [s.usable for s in splits.values()] == [1, 0, 0]


def test_report_lists_fatal_first():
    report = DefectReport()
    report.add('empty mask', 'a')
    report.add('missing image', 'b', fatal=True)
    report.add('missing image', 'c', fatal=True)
    assert report.summary(max_listed=1) == (
        '[FATAL] missing image: 2\n    b\n    ... and 1 more\n'
        '[warning] empty mask: 1\n    a')


@pytest.mark.slow
def test_tool_end_to_end(risbench_root, tmp_path):
    preview = str(tmp_path / 'preview')
    missing = osp.join(risbench_root, 'img_rgb', 'b_002.png')
    os.remove(missing)
    proc = run_tool([
        sys.executable, TOOL, 'risbench', risbench_root, '--preview-dir',
        preview, '--num-preview', '1'
    ])
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == [
        'train: 2 usable expressions', 'val: 1 usable expressions',
        'test: 2 usable expressions', '[FATAL] missing image: 1',
        f'    {missing}'
    ]
    assert sorted(os.listdir(preview)) == [
        'test_0000_c_003.png', 'train_0000_a_001.png', 'val_0000_c_003.png'
    ]
