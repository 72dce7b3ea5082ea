import numpy as np
import pytest
import torch

from sgsrf_mmseg.datasets import (PackReferringInputs, TextAwareRandomFlip,
                                  swap_direction_words)


@pytest.mark.parametrize('text,direction,expected', [
    ('the car on the left', 'horizontal', 'the car on the right'),
    ('Left tank, RIGHT pond', 'horizontal', 'Right tank, LEFT pond'),
    ('the leftmost building west of the road', 'horizontal',
     'the rightmost building east of the road'),
    ('the cleft rock and bright roof', 'horizontal',
     'the cleft rock and bright roof'),
    ('the top-left tank', 'horizontal', 'the top-right tank'),
    ('the top-left tank above the upper road', 'vertical',
     'the bottom-left tank below the lower road'),
    ('stop at the bottom', 'vertical', 'stop at the top'),
    ('the northwest field', 'vertical', 'the southwest field'),
    ('the northwest field', 'horizontal', 'the northeast field'),
    ('the top left car north of the lake', 'diagonal',
     'the bottom right car south of the lake'),
    ('the northwest field', 'diagonal', 'the southeast field'),
])
def test_swap_direction_words(text, direction, expected):
    assert swap_direction_words(text, direction) == expected


def _results(text='the car on the left at the top'):
    img = np.zeros((4, 6, 3), np.uint8)
    img[0, 0] = 255
    mask = np.zeros((4, 6), np.uint8)
    mask[0, 0] = 1
    return dict(
        img=img,
        gt_seg_map=mask,
        seg_fields=['gt_seg_map'],
        text=text,
        img_shape=(4, 6),
        ori_shape=(4, 6))


@pytest.mark.parametrize('direction,pixel,text', [
    ('horizontal', (0, 5), 'the car on the right at the top'),
    ('vertical', (3, 0), 'the car on the left at the bottom'),
    ('diagonal', (3, 5), 'the car on the right at the bottom'),
])
def test_text_aware_flip(direction, pixel, text):
    out = TextAwareRandomFlip(prob=1.0, direction=direction)(_results())
    assert out['flip'] and out['flip_direction'] == direction
    assert out['gt_seg_map'][pixel] == 1 and out['img'][pixel][0] == 255
    assert out['text'] == text


def test_no_flip_keeps_text():
    out = TextAwareRandomFlip(prob=0.0)(_results())
    assert not out['flip'] and out['text'] == 'the car on the left at the top'


def test_pack_referring_inputs():
    results = _results()
    results.update(
        ref_id=3,
        sent_id=7,
        image_id='x',
        category='vehicle',
        img_path='a.tif',
        seg_map_path='b.tif',
        pad_shape=(4, 6),
        scale_factor=(1.0, 1.0),
        flip=False,
        flip_direction=None,
        reduce_zero_label=False)
    packed = PackReferringInputs()(results)
    assert packed['inputs'].shape == (3, 4, 6)
    sample = packed['data_samples']
    assert sample.gt_sem_seg.data.shape == (1, 4, 6)
    assert sample.gt_sem_seg.data.dtype == torch.int64
    meta = sample.metainfo
    assert meta['text'] == 'the car on the left at the top'
    for key in ('ref_id', 'sent_id', 'image_id', 'category', 'img_path',
                'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
                'scale_factor', 'flip', 'flip_direction'):
        assert key in meta, key
