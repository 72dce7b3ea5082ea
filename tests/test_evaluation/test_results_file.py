import json
import os
from types import SimpleNamespace

import numpy as np
import pytest
from metric_samples import make_sample, masks_with_iou

from sgsrf_mmseg.evaluation import (TEST_RESULTS_KIND, ReferringSegMetric,
                                    collect_test_results, save_test_results)

DATASET = dict(
    type='RRSISDDataset', data_root='data/RRSIS-D', split='test', pipeline=[])


def scored_evaluator(**kwargs):
    metric = ReferringSegMetric(protocol='lavt-480', **kwargs)
    pred, gt = masks_with_iou(3, 4)
    metric.process({}, [
        make_sample(pred, gt, category='ship'),
        make_sample(gt, gt, category='ship'),
    ])
    metric.evaluate(2)
    return SimpleNamespace(metrics=[metric])


def test_results_file_fields(tmp_path):
    paths = [
        str(tmp_path / 'log' / 'test_results.json'),
        str(tmp_path / 'copy.json')
    ]
    results = save_test_results(
        scored_evaluator(),
        paths,
        command='python tools/test.py a.py b.pth',
        config='a.py',
        checkpoint='b.pth',
        dataset_cfg=DATASET)
    for path in paths:
        with open(path) as f:
            assert json.load(f) == results
    assert results['kind'] == TEST_RESULTS_KIND and results['version'] == 1
    assert results['dataset'] == dict(
        type='RRSISDDataset', data_root='data/RRSIS-D', split='test')
    assert (results['config'], results['checkpoint']) == ('a.py', 'b.pth')
    assert results['expressions'] == 2
    assert results['protocol']['name'] == 'lavt-480'
    assert results['protocol']['resolution'] == [480, 480]
    assert '480x480' in results['protocol']['description']
    # 4 x 4 masks at 480 x 480: IoUs 3/4 and 1.
    assert results['metrics']['mIoU'] == 87.5
    assert list(results['metrics'])[:3] == ['mIoU', 'oIoU', 'Prec@0.5']
    # no grounding cue in these samples: pointing and drift are not measured
    assert results['groups'] == {
        'large':
        dict(count=2, mIoU=87.5, oIoU=87.5, pointing=None, drift=None),
        '@ship':
        dict(count=2, mIoU=87.5, oIoU=87.5, pointing=None, drift=None),
    }
    assert 'pointing' not in results['metrics']


def test_nothing_scored_writes_nothing(tmp_path):
    metric = ReferringSegMetric(format_only=True, output_dir=str(tmp_path))
    metric.process({}, [make_sample(np.zeros((2, 2)), ref_id=1, sent_id=1)])
    metric.evaluate(1)
    path = str(tmp_path / 'results.json')
    for evaluator in (SimpleNamespace(metrics=[metric]),
                      SimpleNamespace(metrics=[])):
        assert save_test_results(evaluator, [path], 'cmd', 'a.py', 'b.pth',
                                 DATASET) is None
    assert not os.path.exists(path)
    two = SimpleNamespace(metrics=[metric, metric])
    with pytest.raises(ValueError, match='2 ReferringSegMetric'):
        collect_test_results(two, 'cmd', 'a.py', 'b.pth', DATASET)
