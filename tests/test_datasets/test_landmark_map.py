"""LoadLandmarkMap: the landmark boxes drawn, moved with the mask, packed."""
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.registry import init_default_scope

from sgsrf_mmseg.datasets.transforms import (LoadLandmarkMap,
                                             PackReferringInputs,
                                             TextAwareRandomFlip)

init_default_scope('mmseg')


def _results(boxes=((1, 0, 2, 1), )):
    mask = np.zeros((4, 6), np.uint8)
    mask[3, 5] = 1
    return dict(
        img=np.zeros((4, 6, 3), np.uint8),
        gt_seg_map=mask,
        seg_fields=['gt_seg_map'],
        text='the car next to the building',
        img_path='a.tif',
        img_shape=(4, 6),
        ori_shape=(4, 6),
        landmark_boxes=boxes)


def test_boxes_are_drawn_inclusive():
    out = LoadLandmarkMap()(_results(((1, 0, 2, 1), (5, 3, 5, 3))))
    expected = np.zeros((4, 6), np.uint8)
    expected[0:2, 1:3] = 1
    expected[3, 5] = 1
    np.testing.assert_array_equal(out['gt_landmark_map'], expected)
    assert out['seg_fields'] == ['gt_seg_map', 'gt_landmark_map']


def test_no_relation_gives_an_empty_map():
    out = LoadLandmarkMap()(_results(()))
    assert out['gt_landmark_map'].shape == (4, 6)
    assert not out['gt_landmark_map'].any()


@pytest.mark.parametrize('direction,cells', [
    ('horizontal', (slice(0, 2), slice(3, 5))),
    ('vertical', (slice(2, 4), slice(1, 3))),
])
def test_the_map_flips_with_the_mask(direction, cells):
    out = TextAwareRandomFlip(
        prob=1.0, direction=direction)(
            LoadLandmarkMap()(_results()))
    expected = np.zeros((4, 6), np.uint8)
    expected[cells] = 1
    np.testing.assert_array_equal(out['gt_landmark_map'], expected)


def test_resize_and_pack_keep_it_beside_the_mask():
    pipeline = Compose([
        dict(type='LoadLandmarkMap'),
        dict(type='Resize', scale=(12, 8), keep_ratio=False),
        dict(type='PackReferringInputs'),
    ])
    sample = pipeline(_results())['data_samples']
    landmark = sample.gt_landmark_map.data
    assert landmark.shape == sample.gt_sem_seg.data.shape == (1, 8, 12)
    assert landmark.dtype == sample.gt_sem_seg.data.dtype
    expected = np.zeros((8, 12), np.int64)
    expected[0:4, 2:6] = 1
    np.testing.assert_array_equal(landmark[0].numpy(), expected)


def test_without_the_step_nothing_is_packed():
    results = _results()
    results.update(
        pad_shape=(4, 6),
        scale_factor=(1.0, 1.0),
        flip=False,
        flip_direction=None,
        reduce_zero_label=False)
    assert 'gt_landmark_map' not in PackReferringInputs()(
        results)['data_samples']


@pytest.mark.parametrize('change,message', [
    (dict(landmark_boxes=None), 'has no landmark_boxes'),
    (dict(scale_factor=(2.0, 2.0)), 'put LoadLandmarkMap before Resize'),
    (dict(flip=True), 'put LoadLandmarkMap before Resize'),
    (dict(landmark_boxes=((0, 0, 6, 1), )), 'outside its 6x4 image'),
])
def test_bad_items_are_refused_naming_the_image(change, message):
    results = _results()
    results.update(change)
    with pytest.raises(ValueError) as info:
        LoadLandmarkMap()(results)
    assert message in str(info.value) and 'a.tif' in str(info.value)
