import glob
import logging
import os.path as osp

import numpy as np
import pytest
import torch
from metric_samples import make_sample
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmseg.registry import METRICS
from PIL import Image
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

from sgsrf_mmseg.evaluation import (PROTOCOLS, ReferringRecord,
                                    ReferringSegMetric, resolve_protocol)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def two_expressions():
    """Samples whose scores differ under each preset.

    A: a 480 x 480 image; the ground truth is 2 pixels, the prediction one
    of them: IoU 1/2 at any resolution (480 is its own size).
    B: a 960 x 960 image; ground truth and prediction are the same single
    pixel (0, 0): IoU 1 at the original size. At 480 x 480, PIL's nearest
    filter samples source pixel 1 for output pixel 0, so the ground truth is
    empty, and the bilinear probability at (0, 0) is 1/4 (halfway between
    pixels 0 and 1 in both directions), under 0.5: the union is empty and
    the IoU is 0.
    """
    gt_a = np.zeros((480, 480), np.int64)
    gt_a[0, :2] = 1
    prob_a = np.zeros((480, 480), np.float32)
    prob_a[0, 0] = 1.0
    gt_b = np.zeros((960, 960), np.int64)
    gt_b[0, 0] = 1
    prob_b = gt_b.astype(np.float32)
    return [
        make_sample(prob_a > 0.5, gt_a, prob_a, ref_id='a', sent_id=0),
        make_sample(prob_b > 0.5, gt_b, prob_b, ref_id='b', sent_id=0),
    ]


@pytest.mark.parametrize(
    'protocol, expected',
    [
        # IoUs (0.5, 1): mIoU 75, oIoU (1 + 1) / (2 + 1); Prec@0.5 >=: both.
        ('original',
         dict(mIoU=75.0, oIoU=66.67, **{
             'Prec@0.5': 100.0,
             'Prec@0.6': 50.0
         })),
        # Same IoUs; Prec@0.5 >: only B.
        ('rsrefseg',
         dict(mIoU=75.0, oIoU=66.67, **{
             'Prec@0.5': 50.0,
             'Prec@0.6': 50.0
         })),
        # IoUs (0.5, 0): mIoU 25, oIoU 1 / 2; Prec@0.5: A only.
        ('lavt-480',
         dict(mIoU=25.0, oIoU=50.0, **{
             'Prec@0.5': 50.0,
             'Prec@0.6': 0.0
         })),
    ])
def test_presets_score_by_hand(protocol, expected):
    metric = ReferringSegMetric(protocol=protocol, size_bins={})
    metric.process({}, two_expressions())
    scores = metric.evaluate(2)
    assert {k: scores[k] for k in expected} == expected
    assert metric.summary.expressions == 2


def test_lavt_ground_truth_resize_is_torchvision_on_pil():
    # LAVT/RMSIN resize the PIL mask with torchvision's resize (NEAREST);
    # at 512 -> 480 this differs from torch's nearest and nearest-exact.
    rng = np.random.default_rng(0)
    gt = (rng.random((512, 512)) > 0.7).astype(np.int64)
    reference = np.asarray(
        TF.resize(
            Image.fromarray(gt.astype(np.uint8)), [480, 480],
            interpolation=InterpolationMode.NEAREST))
    exact = torch.nn.functional.interpolate(
        torch.from_numpy(gt)[None, None].float(),
        size=(480, 480),
        mode='nearest-exact')[0, 0].numpy()
    assert (exact != reference).any()
    metric = ReferringSegMetric(protocol='lavt-480')
    metric.process({}, [make_sample(np.zeros_like(gt), gt)])
    record = ReferringRecord(*metric.results[0])
    assert (record.gt_area, record.image_area) == (int(reference.sum()),
                                                   480 * 480)


def test_resampled_prediction_reads_probabilities():
    # MMSegmentation stores sigmoid probabilities in seg_logits for one
    # channel: 0.1 is background, not a logit whose sigmoid (0.52) passes.
    gt = np.zeros((4, 4), np.int64)
    gt[:2, :2] = 1
    probs = np.where(gt == 1, 0.9, 0.1)
    sample = make_sample(gt, gt, probs, img_shape=(8, 8))
    metric = ReferringSegMetric(resolution='input')
    metric.process({}, [sample])
    assert ReferringRecord(*metric.results[0])[:4] == (16, 16, 16, 64)
    # At (3, 3) of 8 x 8 the bilinear probability is 0.1 + 0.8 * 0.75 *
    # 0.75 = 0.55: kept at threshold 0.5, dropped at 0.6.
    strict = ReferringSegMetric(resolution='input', threshold=0.6)
    strict.process({}, [sample])
    assert ReferringRecord(*strict.results[0])[:4] == (15, 16, 16, 64)
    # Several channels are logits: argmax == 1.
    two = np.stack([1 - probs, probs])
    multi = make_sample(gt, gt, img_shape=(8, 8))
    multi['seg_logits'] = dict(data=torch.as_tensor(two).float())
    argmax = ReferringSegMetric(resolution=(8, 8))
    argmax.process({}, [multi])
    assert ReferringRecord(*argmax.results[0])[:4] == (16, 16, 16, 64)
    # Without seg_logits the binary prediction is resized like the truth.
    no_probs = ReferringSegMetric(resolution='input')
    no_probs.process({}, [make_sample(gt, gt, img_shape=(8, 8))])
    assert ReferringRecord(*no_probs.results[0])[:4] == (16, 16, 16, 64)


def test_overrides_are_named_and_described():
    assert resolve_protocol('lavt-480') is PROTOCOLS['lavt-480']
    assert resolve_protocol('original', prec_rule='>=') is \
        PROTOCOLS['original']
    custom = resolve_protocol('lavt-480', prec_rule='>', resolution=512)
    assert custom.name == "lavt-480 (resolution=(512, 512), prec_rule='>')"
    assert custom.to_dict()['resolution'] == [512, 512]
    text = PROTOCOLS['lavt-480'].describe()
    for part in ("'lavt-480'", '480x480', 'PIL nearest', 'bilinearly', '> 0.5',
                 'IoU >= X', 'scores IoU 0'):
        assert part in text
    assert 'IoU > X' in PROTOCOLS['rsrefseg'].describe()
    assert 'original image size' in PROTOCOLS['original'].describe()
    with pytest.raises(ValueError, match='no effect at the original'):
        ReferringSegMetric(threshold=0.6)
    with pytest.raises(ValueError, match="unknown scoring protocol 'lavt'"):
        ReferringSegMetric(protocol='lavt')


def test_protocol_is_printed_with_the_table():
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        metric = ReferringSegMetric(protocol='rsrefseg', size_bins={})
        metric.process({}, two_expressions()[:1])
        metric.evaluate(1)
    finally:
        logger.removeHandler(handler)
    out = '\n'.join(lines)
    assert PROTOCOLS['rsrefseg'].describe() in out
    assert out.index('rsrefseg') < out.index('Prec@0.5')


@pytest.mark.parametrize(
    'path',
    sorted(glob.glob(osp.join(REPO, 'configs/sgsrf/sgsrf_vit-b16-*.py'))),
    ids=osp.basename)
def test_benchmark_configs_state_their_protocol(path):
    cfg = Config.fromfile(path)
    for stage in ('val', 'test'):
        metric = METRICS.build(cfg[f'{stage}_evaluator'])
        assert metric.protocol is PROTOCOLS['lavt-480']
    assert "protocol='lavt-480'" in open(path).read()
