"""Pointing and drift: the cue's cells laid over the original image."""
import numpy as np
import torch
from metric_samples import make_sample
from mmengine.structures import PixelData

from sgsrf_mmseg.evaluation import ReferringSegMetric
from sgsrf_mmseg.evaluation.metrics import cue_on_original, grounding_measures
from sgsrf_mmseg.evaluation.metrics.referring_scores import summarize_records


def cue_with_peak(row, col, grid=4, high=None):
    """``(1, grid, grid)`` logits: -5 everywhere, 5 at the peak, 1 at
    ``high`` cells (the region above 0.5 besides the peak)."""
    cue = torch.full((1, grid, grid), -5.0)
    for r, c in high or []:
        cue[0, r, c] = 1.0
    cue[0, row, col] = 5.0
    return cue


def with_cue(sample, cue):
    sample['pred_cue_logits'] = PixelData(data=cue).to_dict()
    return sample


def test_cells_map_through_padding_flip_and_resize():
    cue = cue_with_peak(0, 3)
    meta = dict(img_shape=(8, 8), ori_shape=(16, 16))
    image = cue_on_original(cue, meta)
    assert image.shape == (16, 16)
    assert (image[:4, 12:] == 5).all() and (image[4:, :] == -5).all()
    # a horizontal test-time flip is undone
    flipped = cue_on_original(
        cue, dict(meta, flip=True, flip_direction='horizontal'))
    assert (flipped[:4, :4] == 5).all()
    # bottom/right padding: the last cell column lies in the padding
    padded = cue_on_original(
        cue,
        dict(img_shape=(8, 6), padding_size=(0, 2, 0, 0), ori_shape=(8, 6)))
    assert padded.shape == (8, 6) and (padded != 5).all()


def test_pointing_and_drift_by_hand():
    gt = torch.zeros(16, 16, dtype=torch.bool)
    gt[0:2, 12:14] = True  # a small target inside the top-right cell
    valid = torch.ones_like(gt)
    meta = dict(img_shape=(16, 16), ori_shape=(16, 16))
    pred = torch.zeros_like(gt)
    pred[0:4, 8:16] = True  # 32 pixels: the peak cell and its left
    hit, drift = grounding_measures(cue_with_peak(0, 3), meta, pred, gt, valid)
    assert hit and drift == 0.5
    hit, drift = grounding_measures(
        cue_with_peak(0, 3, high=[(0, 2)]), meta, pred, gt, valid)
    assert hit and drift == 0.0
    # the peak elsewhere: a miss, and the mask lies outside the region
    hit, drift = grounding_measures(cue_with_peak(3, 0), meta, pred, gt, valid)
    assert not hit and drift == 1.0
    # an empty prediction has no drift
    assert grounding_measures(
        cue_with_peak(0, 3), meta, torch.zeros_like(gt), gt, valid)[1] is None


def test_metric_reports_pointing_drift_and_tag_groups(tmp_path):
    gt = np.zeros((16, 16), np.int64)
    gt[0:2, 12:14] = 1
    samples = [
        with_cue(
            make_sample(
                gt,
                gt,
                category='seen_pair',
                tags=['relation'],
                ref_id=0,
                sent_id=0), cue_with_peak(0, 3)),
        with_cue(
            make_sample(
                gt,
                gt,
                category='held_out_pair',
                tags=['relation', 'role_reversal'],
                ref_id=1,
                sent_id=1), cue_with_peak(3, 3)),
    ]
    metric = ReferringSegMetric(keep_results=True, output_dir=str(tmp_path))
    metric.dataset_meta = {}
    metric.process({}, samples)
    metrics = metric.evaluate(2)
    assert metrics['pointing'] == 50.0
    assert metrics['drift'] == 50.0  # 0 and 1
    assert metrics['pointing@relation'] == 50.0
    assert metrics['pointing@role_reversal'] == 0.0
    assert metrics['drift@seen_pair'] == 0.0
    assert metrics['mIoU@role_reversal'] == 100.0
    assert metric.summary.groups['@relation'].count == 2
    rows = (tmp_path / 'expressions.csv').read_text().splitlines()
    assert rows[0].endswith('size_bin,groups,pointing,drift')
    assert rows[2].endswith('held_out_pair;relation;role_reversal,0,1.0')


def test_no_cue_no_grounding_measures():
    summary = summarize_records([(3, 4, 4, 16, None, 0, 0, None)])
    assert 'pointing' not in summary.overall
    assert summary.groups['large'].pointing is None  # 4 of 16 pixels
