import logging
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import sgsrf_mmseg.datasets.referring_dataset as referring_dataset
from sgsrf_mmseg.datasets import LoadReferringMask, RefSegRSDataset

init_default_scope('mmseg')


def test_counts_texts_and_ids(refsegrs_root):
    train = RefSegRSDataset(data_root=refsegrs_root, split='train')
    assert len(train) == 3  # one item per reference (id)
    test_mode = RefSegRSDataset(
        data_root=refsegrs_root, split='train', test_mode=True)
    assert len(test_mode) == 4  # one item per non-empty expression
    texts = [test_mode.get_data_info(i)['text'] for i in range(4)]
    assert texts == [
        'the car on the left', 'vehicle near the road', 'the large building',
        'road along the river'
    ]
    info = test_mode.get_data_info(0)
    assert info['ref_id'] == info['image_id'] == '0'
    assert info['sent_id'] == 1
    assert info['category'] is None
    assert info['img_path'] == osp.join(refsegrs_root, 'images', '0.tif')
    assert info['seg_map_path'] == osp.join(refsegrs_root, 'masks', '0.tif')
    assert info['seg_fields'] == [] and info['reduce_zero_label'] is False
    assert test_mode.metainfo['classes'] == ('background', 'target')
    for split, n in (('val', 1), ('test', 1)):
        assert len(
            RefSegRSDataset(
                data_root=refsegrs_root, split=split, test_mode=True)) == n


def test_registered_and_training_sentence_sampling(refsegrs_root):
    ds = DATASETS.build(
        dict(type='RefSegRSDataset', data_root=refsegrs_root, split='train'))
    np.random.seed(0)
    seen = {ds.get_data_info(0)['text'] for _ in range(30)}
    assert seen == {'the car on the left', 'vehicle near the road'}
    np.random.seed(1)
    first = [ds.get_data_info(0)['sent_id'] for _ in range(10)]
    np.random.seed(1)
    assert first == [ds.get_data_info(0)['sent_id'] for _ in range(10)]


def test_empty_expression_skipped_with_warning(refsegrs_root, monkeypatch):
    logged = []
    monkeypatch.setattr(referring_dataset, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    RefSegRSDataset(data_root=refsegrs_root, split='train')
    assert len(logged) == 1
    msg, kw = logged[0]
    assert 'output_phrase_train.txt' in msg and 'line 3' in msg
    assert '1 empty' in msg and kw['level'] == logging.WARNING


def test_mask_threshold(refsegrs_root):
    ds = RefSegRSDataset(
        data_root=refsegrs_root, split='train', test_mode=True)
    info = ds.get_data_info(3)  # id 2: values 40 (<= 50) and 60 (> 50)
    mask = LoadReferringMask()(info)['gt_seg_map']
    assert mask.dtype == np.uint8
    assert mask[:, :10].max() == 0 and mask[:, 10:20].min() == 1
    ds = RefSegRSDataset(
        data_root=refsegrs_root,
        split='train',
        test_mode=True,
        mask_threshold=30)
    assert LoadReferringMask()(ds.get_data_info(3))['gt_seg_map'][:, :10].all()


def test_malformed_line_names_file_and_line(refsegrs_root):
    with open(osp.join(refsegrs_root, 'output_phrase_val.txt'), 'a') as f:
        f.write('3 ok\nno-id-here the car\n')
    with pytest.raises(ValueError, match=r'output_phrase_val.txt, line 3'):
        RefSegRSDataset(data_root=refsegrs_root, split='val')


def test_missing_annotation_file(refsegrs_root):
    os.remove(osp.join(refsegrs_root, 'output_phrase_test.txt'))
    with pytest.raises(FileNotFoundError, match='output_phrase_test.txt'):
        RefSegRSDataset(data_root=refsegrs_root, split='test')
    with pytest.raises(ValueError, match='split'):
        RefSegRSDataset(data_root=refsegrs_root, split='testA')


def _pipeline_dataset(root, split='test'):
    return RefSegRSDataset(
        data_root=root,
        split=split,
        test_mode=True,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadReferringMask'),
            dict(type='PackReferringInputs')
        ])


def test_missing_files_fail_at_construction(refsegrs_root):
    for path in ('images/1.tif', 'masks/0.tif', 'masks/2.tif'):
        os.remove(osp.join(refsegrs_root, path))
    with pytest.raises(FileNotFoundError) as err:
        RefSegRSDataset(data_root=refsegrs_root, split='train')
    message = str(err.value)
    assert message.startswith(
        osp.join(refsegrs_root, 'output_phrase_train.txt') +
        ': 3 of the 6 image and mask files it names do not exist '
        '(images: 1, masks: 2):\n')
    assert message.splitlines()[1:] == [
        '  ' + osp.join(refsegrs_root, path)
        for path in ('images/1.tif', 'masks/0.tif', 'masks/2.tif')
    ]
    # the check runs with the data list: a lazy dataset fails when it loads
    lazy = RefSegRSDataset(
        data_root=refsegrs_root, split='train', lazy_init=True)
    with pytest.raises(FileNotFoundError, match='3 of the 6'):
        lazy.full_init()


def test_files_removed_later_fail_at_load_time(refsegrs_root):
    ds = _pipeline_dataset(refsegrs_root)
    os.remove(osp.join(refsegrs_root, 'masks', '4.tif'))
    with pytest.raises(FileNotFoundError, match=r'masks[/\\]4.tif'):
        ds[0]
    os.remove(osp.join(refsegrs_root, 'images', '4.tif'))
    with pytest.raises(Exception, match=r'images[/\\]4.tif'):
        ds[0]


def test_unreadable_mask_and_size_mismatch(refsegrs_root):
    mask_path = osp.join(refsegrs_root, 'masks', '4.tif')
    cv2.imwrite(mask_path, np.zeros((20, 32), np.uint8))
    ds = _pipeline_dataset(refsegrs_root)
    with pytest.raises(ValueError, match=r'masks[/\\]4.tif.*images[/\\]4.tif'):
        ds[0]
    with open(mask_path, 'wb') as f:
        f.write(b'not an image')
    with pytest.raises(ValueError, match=r'4.tif cannot be decoded'):
        ds[0]


def test_empty_mask_warns(refsegrs_root, monkeypatch):
    import sgsrf_mmseg.datasets.transforms.loading as loading
    cv2.imwrite(
        osp.join(refsegrs_root, 'masks', '4.tif'), np.zeros((32, 32),
                                                            np.uint8))
    logged = []
    monkeypatch.setattr(loading, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    ds = _pipeline_dataset(refsegrs_root)
    out = ds[0]
    out = ds[0]
    assert out['data_samples'].gt_sem_seg.data.sum() == 0
    assert len(logged) == 1 and 'empty' in logged[0]


def test_find_missing_files(refsegrs_root, tmp_path):
    assert RefSegRSDataset.find_missing_files(
        data_root=refsegrs_root, split='val', test_mode=True,
        unknown_key=1) == []
    missing = str(tmp_path / 'nowhere')
    assert RefSegRSDataset.find_missing_files(data_root=missing) == [
        f'data_root {missing} does not exist'
    ]
    os.remove(osp.join(refsegrs_root, 'output_phrase_test.txt'))
    assert RefSegRSDataset.find_missing_files(
        data_root=refsegrs_root, split='test') == [
            f'data_root {refsegrs_root} has no output_phrase_test.txt '
            '(ann_file)'
        ]
    empty = str(tmp_path / 'empty')
    os.makedirs(empty)
    problems = RefSegRSDataset.find_missing_files(data_root=empty)
    assert len(problems) == 3
    assert 'has no folder images (data_prefix.img_path)' in problems[1]
    assert 'has no folder masks (data_prefix.seg_map_path)' in problems[2]
    assert RefSegRSDataset.find_missing_files(
        data_root=refsegrs_root, split='testA') == [
            "split='testA' is not one of ('train', 'val', 'test')"
        ]


def test_byte_order_mark_is_read(refsegrs_root):
    path = osp.join(refsegrs_root, 'output_phrase_val.txt')
    with open(path, 'w', encoding='utf-8-sig') as f:
        f.write('3 a pond at the top\n3 the pond\n')
    with open(path, 'rb') as f:
        assert f.read(4) == b'\xef\xbb\xbf3'
    ds = RefSegRSDataset(data_root=refsegrs_root, split='val', test_mode=True)
    assert [ds.get_data_info(i)['text']
            for i in range(2)] == ['a pond at the top', 'the pond']
    assert ds.get_data_info(0)['ref_id'] == '3'
