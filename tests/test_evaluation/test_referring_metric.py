import csv
import math
import os.path as osp

import cv2
import numpy as np
import pytest
from metric_samples import make_sample, masks_with_iou
from mmengine.config import Config
from mmseg.registry import METRICS

from sgsrf_mmseg.evaluation import (EXPRESSIONS_FILE, ReferringRecord,
                                    ReferringSegMetric, summarize_records)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_metric(samples, **kwargs):
    metric = ReferringSegMetric(**kwargs)
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_three_expressions_by_hand():
    # IoUs 3/4, 1/2 and 0/4.
    records = [(3, 4, 4, 16), (1, 2, 2, 16), (0, 4, 2, 16)]
    m = summarize_records(records, size_bins={}, by_category=False)
    assert m.expressions == 3 and m.groups == {}
    assert m.overall == {
        'mIoU': 41.67,  # (0.75 + 0.5 + 0) / 3
        'oIoU': 40.0,  # 4 / 10
        'Prec@0.5': 66.67,
        'Prec@0.6': 33.33,
        'Prec@0.7': 33.33,
        'Prec@0.8': 0.0,
        'Prec@0.9': 0.0,
    }
    strict = summarize_records(
        records, prec_rule='>', size_bins={}, by_category=False)
    assert strict.overall['Prec@0.5'] == 33.33


def test_metric_class_with_masks_and_prec_rule():
    # IoU exactly 0.7 (7/10) and exactly 0.5 (4/8) from integer masks.
    samples = [
        make_sample(*masks_with_iou(7, 10), ref_id=1, sent_id=1),
        make_sample(*masks_with_iou(4, 8), ref_id=2, sent_id=2),
    ]
    ge = run_metric(samples, size_bins={})
    assert ge['mIoU'] == 60.0
    assert ge['oIoU'] == pytest.approx(round(11 / 18 * 100, 2))
    assert (ge['Prec@0.5'], ge['Prec@0.7'], ge['Prec@0.8']) == (100, 50, 0)
    gt_rule = run_metric(samples, prec_rule='>', size_bins={})
    assert (gt_rule['Prec@0.5'], gt_rule['Prec@0.6'],
            gt_rule['Prec@0.7']) == (50.0, 50.0, 0.0)


def test_ignore_index_excluded():
    gt = np.array([[1, 1], [255, 0]])
    pred = np.array([[1, 0], [1, 1]])  # the pixel under 255 is not scored
    metric = ReferringSegMetric()
    metric.process({}, [make_sample(pred, gt)])
    rec = ReferringRecord(*metric.results[0])
    assert (rec.intersection, rec.union, rec.gt_area, rec.image_area,
            rec.pred_area) == (1, 3, 2, 3, 2)


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


def test_size_and_category_breakdown_counted_once():
    records = [
        ReferringRecord(25, 50, 50, 10000, 'vehicle'),  # 0.5%: small, 0.5
        ReferringRecord(100, 100, 100, 10000, 'vehicle'),  # 1%: medium, 1.0
        ReferringRecord(250, 1000, 500, 10000, 'tank'),  # 5%: medium, 0.25
        ReferringRecord(5000, 5000, 5000, 10000, None),  # 50%: large, 1.0
        ReferringRecord(0, 10, 0, 10000, 'tank'),  # empty gt, 0.0
    ]
    summary = summarize_records(records)
    assert {
        k: g.count
        for k, g in summary.groups.items()
    } == {
        'small': 1,
        'medium': 2,
        'large': 1,
        'empty': 1,
        '@tank': 2,
        '@vehicle': 2
    }
    m = summary.to_metrics()
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
    custom = summarize_records(
        records, size_bins=dict(tiny=(0, 0.02), big=(0.02, 1.0)))
    assert custom.groups['tiny'].mIoU == 75.0
    assert 'small' not in custom.groups
    with pytest.raises(ValueError, match='reserved'):
        summarize_records(records, size_bins={'empty': (0, 1)})


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
    assert metric.summary.groups['large'].count == 2


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


def test_unknown_argument_is_a_type_error():
    with pytest.raises(TypeError, match='keep_result'):
        ReferringSegMetric(keep_result=True)
    with pytest.raises(TypeError, match='iou_thresholds'):
        METRICS.build(dict(type='ReferringSegMetric', iou_thresholds=[0.5]))
    with pytest.raises(ValueError, match='keep_results=True needs output_dir'):
        ReferringSegMetric(keep_results=True)


def test_mmseg_test_tool_out_keeps_expression_records(tmp_path):
    # What MMSegmentation's tools/test.py --out does to the test evaluator.
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/_base_/datasets/refsegrs.py'))
    cfg.test_evaluator['output_dir'] = str(tmp_path)
    cfg.test_evaluator['keep_results'] = True
    metric = METRICS.build(cfg.test_evaluator)
    pred, gt = masks_with_iou(3, 4)
    empty = np.zeros((4, 4), np.int64)
    metric.process({}, [
        make_sample(
            pred,
            gt,
            ref_id='a',
            sent_id=1,
            category='ship',
            img_path='x/a.tif'),
        make_sample(empty, empty, ref_id='b', sent_id=2, img_path='x/b.tif'),
    ])
    metric.evaluate(2)
    with open(tmp_path / EXPRESSIONS_FILE, newline='') as f:
        rows = list(csv.DictReader(f))
    assert [(r['ref_id'], r['sent_id'], r['category'], r['img_path'],
             float(r['iou']), int(r['intersection']), int(r['union']),
             int(r['pred_area']), int(r['gt_area']), int(r['image_area']),
             r['size_bin']) for r in rows] == [
                 ('a', '1', 'ship', 'x/a.tif', 0.75, 3, 4, 3, 4, 16, 'large'),
                 ('b', '2', '', 'x/b.tif', 0.0, 0, 0, 0, 0, 16, 'empty'),
             ]
    assert sorted(p.name
                  for p in tmp_path.glob('*.png')) == ['a_1.png', 'b_2.png']


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
    with pytest.raises(ValueError, match='no expressions'):
        ReferringSegMetric().evaluate(1)
