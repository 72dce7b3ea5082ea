import math

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData

import sgsrf_mmseg  # noqa: F401
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample
from sgsrf_mmseg.evaluation import (ReferringRecord, ReferringSegMetric,
                                    compute_referring_metrics)


def make_sample(pred, gt=None, logits=None, **meta):
    """Build a model output dict like the evaluator receives it."""
    pred = torch.as_tensor(np.asarray(pred)).long()[None]
    meta.setdefault('img_path', 'data/img_0.png')
    meta.setdefault('ori_shape', tuple(pred.shape[1:]))
    meta.setdefault('img_shape', tuple(pred.shape[1:]))
    sample = SegDataSample(metainfo=meta)
    sample.pred_sem_seg = PixelData(data=pred)
    if gt is not None:
        sample.gt_sem_seg = PixelData(
            data=torch.as_tensor(np.asarray(gt)).long()[None])
    if logits is not None:
        sample.seg_logits = PixelData(
            data=torch.as_tensor(np.asarray(logits)).float()[None])
    return sample.to_dict()


def run_metric(samples, **kwargs):
    metric = ReferringSegMetric(**kwargs)
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def masks_with_iou(inter, union, size=4):
    """A (pred, gt) pair on a size x size grid with the given I and U."""
    flat_gt = np.zeros(size * size, np.int64)
    flat_pred = np.zeros(size * size, np.int64)
    flat_gt[:union] = 1  # gt covers the whole union
    flat_pred[:inter] = 1  # prediction is a subset of gt
    return flat_pred.reshape(size, size), flat_gt.reshape(size, size)


def test_three_expressions_by_hand():
    # IoUs 3/4, 1/2 and 0/4.
    records = [(3, 4, 4, 16), (1, 2, 2, 16), (0, 4, 2, 16)]
    m = compute_referring_metrics(records, size_bins={}, by_category=False)
    assert m['mIoU'] == 41.67  # (0.75 + 0.5 + 0) / 3
    assert m['oIoU'] == 40.0  # 4 / 10
    assert m['Prec@0.5'] == 66.67
    assert m['Prec@0.6'] == 33.33
    assert m['Prec@0.7'] == 33.33
    assert m['Prec@0.8'] == 0.0
    assert m['Prec@0.9'] == 0.0
    strict = compute_referring_metrics(
        records, prec_rule='>', size_bins={}, by_category=False)
    assert strict['Prec@0.5'] == 33.33
    assert set(m) == {
        'mIoU', 'oIoU', 'Prec@0.5', 'Prec@0.6', 'Prec@0.7', 'Prec@0.8',
        'Prec@0.9'
    }


def test_metric_class_with_masks_and_prec_rule():
    # IoU exactly 0.7 (7/10) and exactly 0.5 (4/8) from integer masks.
    samples = [
        make_sample(*masks_with_iou(7, 10), ref_id=1, sent_id=1),
        make_sample(*masks_with_iou(4, 8), ref_id=2, sent_id=2),
    ]
    ge = run_metric(samples, size_bins={})
    assert ge['mIoU'] == 60.0
    assert ge['oIoU'] == pytest.approx(round(11 / 18 * 100, 2))
    assert ge['Prec@0.5'] == 100.0
    assert ge['Prec@0.7'] == 50.0
    assert ge['Prec@0.8'] == 0.0
    gt_rule = run_metric(samples, prec_rule='>', size_bins={})
    assert gt_rule['Prec@0.5'] == 50.0
    assert gt_rule['Prec@0.7'] == 0.0
    assert gt_rule['Prec@0.6'] == 50.0


def test_ignore_index_excluded():
    gt = np.array([[1, 1], [255, 0]])
    pred = np.array([[1, 0], [1, 1]])  # the pixel under 255 is not scored
    metric = ReferringSegMetric()
    metric.process({}, [make_sample(pred, gt)])
    rec = ReferringRecord(*metric.results[0])
    assert (rec.intersection, rec.union, rec.gt_area, rec.image_area) == (1, 3,
                                                                          2, 3)


def test_empty_union():
    empty = np.zeros((4, 4), np.int64)
    samples = [make_sample(empty, empty), make_sample(*masks_with_iou(8, 8))]
    default = run_metric(samples, size_bins={})
    assert default['mIoU'] == 50.0  # (0 + 1) / 2, LAVT convention
    assert default['oIoU'] == 100.0
    assert default['Prec@0.5'] == 50.0
    lenient = run_metric(samples, empty_union_iou=1.0, size_bins={})
    assert lenient['mIoU'] == 100.0
    assert lenient['Prec@0.9'] == 100.0
    only_empty = run_metric([make_sample(empty, empty)],
                            empty_union_iou=1.0,
                            size_bins={})
    assert only_empty['oIoU'] == 100.0


def test_input_resolution():
    gt = np.zeros((4, 4), np.int64)
    gt[:2, :2] = 1
    logits = np.where(gt == 1, 10.0, -10.0)
    sample = make_sample(gt, gt, logits, img_shape=(8, 8))
    original = ReferringSegMetric()
    original.process({}, [sample])
    assert ReferringRecord(*original.results[0])[:4] == (4, 4, 4, 16)

    metric = ReferringSegMetric(resolution='input')
    metric.process({}, [sample])
    assert ReferringRecord(*metric.results[0])[:4] == (16, 16, 16, 64)
    # At (3, 3) the bilinear logit is 20 * 0.75 * 0.75 - 10 = 1.25: kept
    # at threshold 0.5, dropped at 0.95 (sigmoid(1.25) ~ 0.777).
    strict = ReferringSegMetric(resolution='input', threshold=0.95)
    strict.process({}, [sample])
    assert ReferringRecord(*strict.results[0])[:4] == (15, 16, 16, 64)
    assert strict.evaluate(1)['mIoU'] == pytest.approx(93.75)
    # Without logits the binary prediction is resized with nearest.
    no_logits = ReferringSegMetric(resolution='input')
    no_logits.process({}, [make_sample(gt, gt, img_shape=(8, 8))])
    assert ReferringRecord(*no_logits.results[0])[:4] == (16, 16, 16, 64)


def test_size_and_category_breakdown():
    records = [
        ReferringRecord(25, 50, 50, 10000, 'vehicle'),  # 0.5%: small, 0.5
        ReferringRecord(100, 100, 100, 10000, 'vehicle'),  # 1%: medium, 1.0
        ReferringRecord(250, 1000, 500, 10000, 'tank'),  # 5%: medium, 0.25
        ReferringRecord(5000, 5000, 5000, 10000, None),  # 50%: large, 1.0
        ReferringRecord(0, 10, 0, 10000, 'tank'),  # empty gt, 0.0
    ]
    m = compute_referring_metrics(records)
    assert m['mIoU_small'] == 50.0
    assert m['oIoU_small'] == 50.0
    assert m['mIoU_medium'] == 62.5
    assert m['oIoU_medium'] == round(350 / 1100 * 100, 2)
    assert m['mIoU_large'] == 100.0
    assert m['mIoU_empty'] == 0.0
    assert m['mIoU@vehicle'] == 75.0
    assert m['oIoU@vehicle'] == round(125 / 150 * 100, 2)
    assert m['mIoU@tank'] == 12.5
    assert m['oIoU@tank'] == round(250 / 1010 * 100, 2)
    assert not any(k.startswith('mIoU@None') for k in m)
    assert all(isinstance(v, float) for v in m.values())
    custom = compute_referring_metrics(
        records, size_bins=dict(tiny=(0, 0.02), big=(0.02, 1.0)))
    assert custom['mIoU_tiny'] == 75.0
    assert 'mIoU_small' not in custom


def test_metric_logs_tables_and_category_from_meta():
    pred, gt = masks_with_iou(3, 4)
    samples = [
        make_sample(pred, gt, category='ship', ref_id=1, sent_id=1),
        make_sample(gt, gt, category='harbor', ref_id=2, sent_id=2),
    ]
    metric = METRICS.build(dict(type='ReferringSegMetric', prefix='ref'))
    metric.process({}, samples)
    m = metric.evaluate(2)
    assert m['ref/mIoU@ship'] == 75.0
    assert m['ref/mIoU@harbor'] == 100.0
    assert m['ref/mIoU_large'] == 87.5  # 4 px of 16: 25%
    assert math.isclose(m['ref/mIoU'], 87.5)


def test_format_only_writes_masks(tmp_path):
    pred, gt = masks_with_iou(3, 4)
    samples = [
        make_sample(pred, ref_id=7, sent_id=70),
        make_sample(gt, ref_id=7, sent_id=71),
    ]
    out = tmp_path / 'preds'
    assert run_metric(samples, format_only=True, output_dir=str(out)) == {}
    assert sorted(p.name for p in out.iterdir()) == ['7_70.png', '7_71.png']
    saved = cv2.imread(str(out / '7_70.png'), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(saved, pred.astype(np.uint8) * 255)
    with pytest.raises(ValueError, match='output_dir'):
        ReferringSegMetric(format_only=True)


def test_bad_input_is_loud():
    metric = ReferringSegMetric()
    bad = make_sample(np.zeros((4, 4)), np.zeros((4, 5)), img_path='a/b.tif')
    with pytest.raises(ValueError, match='a/b.tif'):
        metric.process({}, [bad])
    with pytest.raises(KeyError, match='c.png'):
        metric.process({}, [make_sample(np.zeros((4, 4)), img_path='c.png')])
    with pytest.raises(ValueError, match='prec_rule'):
        ReferringSegMetric(prec_rule='=>')
    with pytest.raises(ValueError, match='resolution'):
        ReferringSegMetric(resolution='native')
