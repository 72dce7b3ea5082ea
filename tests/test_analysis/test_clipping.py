"""The clipping report and the training-log reader, on hand-written files."""
import json
import os
import os.path as osp

import pytest

from sgsrf_mmseg.analysis.clipping import (clipping_report,
                                           format_clipping_report)
from sgsrf_mmseg.analysis.training_log import (best_checkpoint_score,
                                               training_records)

CONFIG = """
optim_wrapper = dict(type='OptimWrapper', clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=4),
    dict(type='PolyLR', by_epoch=False, begin=4, end=100),
]
default_hooks = dict(logger=dict(type='LoggerHook', interval=2))
log_processor = dict(by_epoch=False, window_size=1)
"""
#: iterations 2..12 every 2; norms above 1.0 at 2, 4 (warm-up) and 10.
NORMS = {2: 5.0, 4: 1.5, 6: 0.9, 8: 1.0, 10: 2.5, 12: 0.3}


def write_session(work, name, norms, config=CONFIG, val=()):
    folder = osp.join(work, name, 'vis_data')
    os.makedirs(folder)
    with open(osp.join(folder, 'config.py'), 'w') as f:
        f.write(config)
    with open(osp.join(folder, 'scalars.json'), 'w') as f:
        for it, norm in norms.items():
            f.write(
                json.dumps(
                    dict(lr=0.1, grad_norm=norm, loss=1.0, iter=it, step=it)) +
                '\n')
        for line in val:
            f.write(json.dumps(line) + '\n')
    return folder


def test_share_of_clipped_iterations_overall_and_after_warmup(tmp_path):
    write_session(str(tmp_path), '20260101_000000', NORMS)
    report = clipping_report(str(tmp_path))
    assert report['max_norm'] == 1.0 and report['warmup_iters'] == 4
    assert report['overall'] == dict(
        logged=6, clipped=3, fraction=0.5, median=1.25, max=5.0)
    after = report['after_warmup']
    assert (after['logged'], after['clipped']) == (4, 1)
    assert after['fraction'] == 0.25
    text = format_clipping_report(report)
    assert '3 of 6 logged iterations clipped (50.0%)' in text
    assert 'after warm-up (iter > 4): 1 of 4' in text
    assert 'mean of the last' not in text  # window_size=1: exact counts


def test_a_resumed_session_replaces_the_iterations_it_logs_again(tmp_path):
    write_session(str(tmp_path), '20260101_000000', NORMS)
    write_session(str(tmp_path), '20260102_000000', {10: 0.5, 14: 3.0})
    records = training_records(str(tmp_path))
    assert [r['iter'] for r in records] == [2, 4, 6, 8, 10, 12, 14]
    assert records[4]['grad_norm'] == 0.5
    report = clipping_report(str(tmp_path), warmup=0)
    assert report['overall']['clipped'] == 3  # 2, 4 and 14
    assert report['after_warmup']['logged'] == 7


def test_window_note_and_explicit_config(tmp_path):
    config = tmp_path / 'run.py'
    config.write_text(CONFIG.replace('window_size=1', 'window_size=10'))
    folder = write_session(str(tmp_path / 'work'), 's', NORMS)
    report = clipping_report(folder, str(config))
    assert report['config'] == str(config) and report['window_size'] == 10
    assert 'mean of the last 10 iterations, every 2' in \
        format_clipping_report(report)


@pytest.mark.parametrize('config, message', [
    ("optim_wrapper = dict(type='OptimWrapper')\n",
     'has no optim_wrapper.clip_grad.max_norm'),
    ("optim_wrapper = dict(clip_grad=dict(type='value', clip_value=1))\n",
     'clips gradients by value'),
    ("optim_wrapper = dict(clip_grad=dict(max_norm=1.0))\n"
     "param_scheduler = dict(type='LinearLR', begin=0, end=2)\n",
     'counted in epochs'),
])
def test_config_errors_name_the_file(tmp_path, config, message):
    folder = write_session(str(tmp_path), 's', NORMS, config=config)
    with pytest.raises(ValueError, match=message) as error:
        clipping_report(str(tmp_path))
    assert osp.join(folder, 'config.py') in str(error.value)


def test_log_errors_name_the_file_and_line(tmp_path):
    folder = write_session(str(tmp_path), 's', NORMS)
    with open(osp.join(folder, 'scalars.json'), 'a') as f:
        f.write('{"iter": 3, "step"\n')
    with pytest.raises(ValueError, match=r'scalars.json, line 7: not JSON'):
        clipping_report(str(tmp_path))
    os.makedirs(tmp_path / 'empty')
    with pytest.raises(FileNotFoundError, match='no vis_data/scalars.json'):
        clipping_report(str(tmp_path / 'empty'))


def test_val_score_of_the_best_checkpoint(tmp_path):
    work = str(tmp_path)
    write_session(
        work,
        's1', {1: 1.0},
        val=[dict(mIoU=40.0, step=2),
             dict(mIoU=55.0, step=4)])
    write_session(work, 's2', {5: 1.0}, val=[dict(mIoU=50.0, step=6)])
    with pytest.raises(FileNotFoundError, match='has no best_checkpoint'):
        best_checkpoint_score(work)
    pointer = osp.join(work, 'best_checkpoint')
    with open(pointer, 'w') as f:
        f.write(osp.join(work, 'best_mIoU_iter_4.pth'))
    assert best_checkpoint_score(work) == dict(
        checkpoint=osp.join(work, 'best_mIoU_iter_4.pth'),
        metric='mIoU',
        iter=4,
        score=55.0)
    with open(pointer, 'w') as f:
        f.write(osp.join(work, 'best_oIoU_iter_4.pth'))
    with pytest.raises(ValueError, match="no validation line with 'oIoU'"):
        best_checkpoint_score(work)
    with open(pointer, 'w') as f:
        f.write(osp.join(work, 'iter_4.pth'))
    with pytest.raises(ValueError, match='not a best_<metric>_iter_<n>'):
        best_checkpoint_score(work)
