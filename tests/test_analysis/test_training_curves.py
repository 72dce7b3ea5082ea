import json
import os.path as osp
import subprocess
import sys

import cv2
import pytest

from sgsrf_mmseg.analysis import training_curves
from sgsrf_mmseg.analysis.training_log import scalars_files

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def train_line(step, loss, dice, bce):
    """One training record of mmengine's ``scalars.json``."""
    return dict(
        lr=1e-4,
        data_time=0.1,
        loss=loss,
        loss_dice=dice,
        loss_mask_bce=bce,
        time=0.5,
        iter=step,
        memory=100,
        step=step)


def val_line(step, miou, oiou, prec):
    """One validation record of mmengine's ``scalars.json``."""
    return dict(
        mIoU=miou,
        oIoU=oiou,
        **{'Prec@0.5': prec},
        data_time=0.1,
        time=0.2,
        step=step)


ITER_LINES = [
    train_line(10, 2.0, 0.9, 1.1),
    train_line(20, 1.5, 0.7, 0.8),
    val_line(20, 30.5, 40.1, 20.0),
    train_line(30, 1.0, 0.5, 0.5),
    val_line(30, 35.0, 45.0, 30.0),
]


def write_run(work_dir, lines):
    vis = work_dir / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    path = vis / 'scalars.json'
    path.write_text(''.join(json.dumps(line) + '\n' for line in lines))
    return path


def test_load_and_collect(tmp_path):
    path = write_run(tmp_path, ITER_LINES)
    assert scalars_files(str(tmp_path)) == [str(path)]
    train, val = training_curves.load_curves(str(path))
    assert len(train) == 3 and len(val) == 2
    losses = training_curves.collect_series(train, ['loss_*'])
    assert list(losses) == ['loss_dice', 'loss_mask_bce']
    assert losses['loss_dice'] == [(10, 0.9), (20, 0.7), (30, 0.5)]
    assert training_curves.collect_series(val,
                                          ['mIoU'])['mIoU'] == [(20, 30.5),
                                                                (30, 35.0)]


def test_epoch_based_validation_steps(tmp_path):
    lines = [
        dict(lr=0.1, loss=1.0, epoch=1, iter=5, step=5),
        dict(lr=0.1, loss=0.8, epoch=1, iter=10, step=10),
        dict(mIoU=20.0, step=1),
    ]
    _, val = training_curves.load_curves(str(write_run(tmp_path, lines)))
    assert val[0]['x'] == 10


@pytest.mark.slow
def test_cli_writes_png(tmp_path):
    write_run(tmp_path, ITER_LINES)
    out = tmp_path / 'curves.png'
    result = subprocess.run([
        sys.executable,
        osp.join('tools', 'analysis', 'plot_curves.py'),
        str(tmp_path), '--keys', 'loss', 'loss_*', 'mIoU', 'oIoU', 'missing',
        '--out',
        str(out)
    ],
                            cwd=REPO,
                            capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert "no values for 'missing'" in result.stderr
    image = cv2.imread(str(out))
    assert image is not None and image.shape[0] > image.shape[1]  # 4 panels
    with pytest.raises(ValueError, match='none of the keys'):
        training_curves.plot_curves(
            str(tmp_path), ['nothing'], str(tmp_path / 'x.png'))
