"""Mask agreement of precision runs with the fp32 run."""
import os.path as osp

import cv2
import numpy as np
import pytest

from sgsrf_mmseg.analysis.precision_agreement import compare_runs, mask_ious


def write_masks(folder, masks):
    folder.mkdir()
    for name, mask in masks.items():
        assert cv2.imwrite(str(folder / name), mask.astype(np.uint8) * 255)
    return str(folder)


def test_mask_ious(tmp_path):
    a = np.zeros((8, 8), bool)
    a[:4, :4] = True
    b = np.zeros((8, 8), bool)
    b[:4, :2] = True
    empty = np.zeros((8, 8), bool)
    ref = write_masks(tmp_path / 'fp32', {
        '1_0.png': a,
        '2_0.png': empty,
        '3_0.png': a
    })
    other = write_masks(tmp_path / 'int8', {
        '1_0.png': b,
        '2_0.png': empty,
        '3_0.png': a
    })
    assert mask_ious(ref, other) == [0.5, 1.0, 1.0]
    assert mask_ious(other, ref) == [0.5, 1.0, 1.0]


def test_missing_masks_are_named(tmp_path):
    ref = write_masks(tmp_path / 'fp32', {'1_0.png': np.ones((4, 4), bool)})
    other = write_masks(tmp_path / 'bf16', {})
    with pytest.raises(FileNotFoundError, match=osp.join('bf16', '1_0.png')):
        mask_ious(ref, other)
    with pytest.raises(FileNotFoundError, match='holds no predicted masks'):
        mask_ious(other, ref)


def test_one_run_is_not_a_comparison():
    with pytest.raises(ValueError, match='at least one other'):
        compare_runs([('fp32', 'a.json', 'a')])
