import os
import os.path as osp

import cv2
import numpy as np
import pytest

from sgsrf_mmseg.datasets import LoadReferringMask, RISBenchDataset


def test_layout_counts_and_masks(risbench_root):
    train = RISBenchDataset(data_root=risbench_root, split='train')
    assert len(train) == 2
    test = RISBenchDataset(
        data_root=risbench_root, split='test', test_mode=True)
    assert len(test) == 2
    info = test.get_data_info(1)
    assert info['text'] == 'the round field'
    assert info['img_path'] == osp.join(risbench_root, 'img_rgb', 'c_003.png')
    assert info['seg_map_path'] == osp.join(risbench_root, 'mask', 'c_003.png')
    assert info['ref_id'] == info['image_id'] == 'c_003'
    mask = LoadReferringMask()(info)['gt_seg_map']
    assert mask.sum() == 10 * 8 and set(np.unique(mask)) == {0, 1}


def test_line_without_extension_is_malformed(risbench_root):
    with open(osp.join(risbench_root, 'output_phrase_val.txt'), 'a') as f:
        f.write('c_003 the stadium\n')
    with pytest.raises(ValueError, match=r'output_phrase_val.txt, line 2'):
        RISBenchDataset(data_root=risbench_root, split='val')


def test_find_missing_files(risbench_root, tmp_path):
    assert RISBenchDataset.find_missing_files(
        data_root=risbench_root, split='test') == []
    missing = str(tmp_path / 'nowhere')
    assert RISBenchDataset.find_missing_files(data_root=missing) == [
        f'data_root {missing} does not exist'
    ]
    os.remove(osp.join(risbench_root, 'output_phrase_val.txt'))
    os.rename(osp.join(risbench_root, 'mask'), osp.join(risbench_root, 'm'))
    assert RISBenchDataset.find_missing_files(
        data_root=risbench_root, split='val') == [
            f'data_root {risbench_root} has no output_phrase_val.txt '
            '(ann_file)', f'data_root {risbench_root} has no folder mask '
            '(data_prefix.seg_map_path)'
        ]
    assert RISBenchDataset.find_missing_files(
        data_root=risbench_root,
        split='train',
        data_prefix=dict(img_path='img_rgb', seg_map_path='m')) == []


def test_missing_mask_fails_at_construction(risbench_root):
    os.remove(osp.join(risbench_root, 'mask', 'b_002.png'))
    with pytest.raises(
            FileNotFoundError,
            match=r'1 of the 4 .*masks: 1\):\n'
            r'  .*mask[/\\]b_002.png$'):
        RISBenchDataset(data_root=risbench_root, split='train')


@pytest.mark.parametrize('foreground', [1, 255])
def test_zero_one_and_zero_255_masks_agree(risbench_root, foreground):
    # the reference RISBench readers take every non-zero pixel
    mask = np.zeros((32, 32), np.uint8)
    mask[:4, :5] = foreground
    cv2.imwrite(osp.join(risbench_root, 'mask', 'c_003.png'), mask)
    ds = RISBenchDataset(data_root=risbench_root, split='val', test_mode=True)
    mask = LoadReferringMask()(ds.get_data_info(0))['gt_seg_map']
    assert mask.sum() == 5 * 4


def test_mask_file_of_a_huge_declared_size_is_never_decoded(
        risbench_root, monkeypatch):
    """The decoder guard on a case not in issue 23: a mask PNG whose header
    claims 30000 x 30000 is refused from its header, before decoding."""
    import struct
    import zlib

    from sgsrf_mmseg.datasets.transforms import loading
    header = struct.pack('>IIBBBBB', 30000, 30000, 8, 0, 0, 0, 0)
    crc = struct.pack('>I', zlib.crc32(b'IHDR' + header) & 0xffffffff)
    path = osp.join(risbench_root, 'mask', 'c_003.png')
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + struct.pack('>I', 13) + b'IHDR' +
                header + crc)
    monkeypatch.setattr(loading.mmcv, 'imfrombytes', None)  # no decoding
    test = RISBenchDataset(
        data_root=risbench_root, split='test', test_mode=True)
    info = test.get_data_info(0)
    info['ori_shape'] = (32, 32)
    with pytest.raises(ValueError) as error:
        LoadReferringMask()(info)
    assert str(
        error.value) == (f'mask file {path} has size (30000, 30000) but image '
                         f'{info["img_path"]} has size (32, 32)')
