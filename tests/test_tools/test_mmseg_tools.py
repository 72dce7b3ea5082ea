"""The configs under MMSegmentation's own shipped tools (``mmseg/.mim/tools``).

mmseg's ``train.py`` and ``test.py`` of the installed wheel run in
subprocesses on the short-run tiny config; ``sgsrf_mmseg`` is found through
the config's ``custom_imports``.
"""
import json
import os
import os.path as osp
import re
import sys

import mmseg
import pytest
import torch
from tool_runner import REPO, run_tool

#: Runs the repository's tools as subprocesses.
pytestmark = pytest.mark.slow

MMSEG_TOOLS = osp.join(osp.dirname(mmseg.__file__), '.mim', 'tools')
ENV = dict(
    PYTHONPATH=os.pathsep.join(
        p for p in (REPO, os.environ.get('PYTHONPATH')) if p))


def _mmseg_tool(name, *args, cwd):
    result = run_tool(
        [sys.executable, osp.join(MMSEG_TOOLS, name), *args], cwd=cwd, env=ENV)
    return result, result.stdout + result.stderr


def _train_iters(log):
    """``(iteration, loss)`` of each training log line."""
    return [(int(i), float(loss)) for i, loss in re.findall(
        r'Iter\(train\) \[\s*(\d+)/\d+\].*? loss: ([0-9.]+)', log)]


def _test_metrics(work_dir):
    """The metrics mmseg's test.py wrote to its JSON log."""
    logs = [
        osp.join(root, f) for root, _, files in os.walk(work_dir)
        for f in files if f.endswith('.json') and not f.startswith('scalars')
    ]
    with open(sorted(logs)[-1]) as f:
        return json.loads(f.read().strip().splitlines()[-1])


def test_mmseg_train_resume_and_test(tmp_path, write_config, synthetic_root):
    assert osp.isfile(osp.join(MMSEG_TOOLS, 'train.py'))
    config = write_config(max_iters=4, interval=2)
    work_dir = str(tmp_path / 'work')
    train, log = _mmseg_tool(
        'train.py', config, '--work-dir', work_dir, cwd=str(tmp_path))
    assert train.returncode == 0, log[-3000:]
    assert [i for i, _ in _train_iters(log)] == [1, 2, 3, 4]
    assert 'mIoU' in open(osp.join(work_dir, 'best_checkpoint')).read()

    resumed, log = _mmseg_tool(
        'train.py',
        config,
        '--work-dir',
        work_dir,
        '--resume',
        '--cfg-options',
        'train_cfg.max_iters=6',
        'train_cfg.val_interval=6',
        cwd=str(tmp_path))
    assert resumed.returncode == 0, log[-3000:]
    assert 'resumed epoch: 0, iter: 4' in log
    assert [i for i, _ in _train_iters(log)] == [5, 6]
    assert osp.isfile(osp.join(work_dir, 'iter_6.pth'))

    tested, log = _mmseg_tool(
        'test.py',
        config,
        osp.join(work_dir, 'iter_6.pth'),
        '--work-dir',
        str(tmp_path / 'test'),
        '--out',
        str(tmp_path / 'masks'),
        cwd=str(tmp_path))
    assert tested.returncode == 0, log[-3000:]
    metrics = _test_metrics(str(tmp_path / 'test'))
    for key in ('mIoU', 'oIoU', 'Prec@0.5', 'Prec@0.9'):
        assert 0.0 <= metrics[key] <= 100.0
    with open(osp.join(synthetic_root, 'output_phrase_test.txt')) as f:
        expressions = len(f.read().splitlines())
    written = os.listdir(tmp_path / 'masks')
    assert len([f for f in written if f.endswith('.png')]) == expressions
    # mmseg's --out also asks the metric to keep its per-expression records
    assert 'expressions.csv' in written


@pytest.mark.parametrize(
    'options,message',
    [((), r'non-finite training loss \(inf\) at iteration 0; samples: '
      r"\['[^']+\.tif \(ref \d+, sent \d+\)'"),
     (('--cfg-options', 'custom_hooks.0.nonfinite=skip',
       'custom_hooks.0.max_skips=2'),
      r'non-finite training loss \(inf\) at iteration 2; .*; '
      r'3 steps in a row')])
def test_mmseg_train_keeps_the_nonfinite_guard(tmp_path, write_config, options,
                                               message):
    config = write_config(
        max_iters=4,
        interval=2,
        extra="model = dict(structural_loss=dict(ground_weight=float('inf')))"
        '\n')
    work_dir = str(tmp_path / 'work')
    train, log = _mmseg_tool(
        'train.py',
        config,
        '--work-dir',
        work_dir,
        *options,
        cwd=str(tmp_path))
    assert train.returncode != 0
    assert re.search('NonFiniteLossError: ' + message, log), log[-3000:]


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU behaviour')
def test_mmseg_amp_config_is_ours_to_accept_until_mmengine_refuses_the_cpu(
        tmp_path, write_config):
    config = write_config(max_iters=2, interval=2)
    train, log = _mmseg_tool(
        'train.py',
        config,
        '--work-dir',
        str(tmp_path / 'work'),
        '--amp',
        cwd=str(tmp_path))
    assert train.returncode != 0
    # mmseg switched our optimizer wrapper to mmengine's AMP wrapper ...
    assert "type='AmpOptimWrapper'" in log and "loss_scale='dynamic'" in log
    # ... the runner was built with the guard in place for before_train ...
    hooks = log[log.index('before_train:'):log.index('before_train_epoch:')]
    assert 'NonFiniteLossGuardHook' in hooks
    # ... and what stops it is mmengine's accelerator check, nothing of ours.
    traceback = log[log.index('Traceback'):]
    frames = re.findall(r'File "([^"]+)", line \d+, in (\w+)', traceback)
    assert frames[-1][0].endswith(
        osp.join('mmengine', 'optim', 'optimizer', 'amp_optimizer_wrapper.py'))
    assert ('runner.py', 'build_optim_wrapper') in [(osp.basename(path), func)
                                                    for path, func in frames]
    # nothing of ours refuses it (StrictRunner.train only passes through)
    assert not any(
        'sgsrf_mmseg' in path and not path.endswith('strict_runner.py')
        for path, _ in frames)
    assert traceback.strip().splitlines()[-1] == (
        'AssertionError: ``AmpOptimizerWrapper`` is only available training '
        'on gpu, npu, mlu or musa')


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason="mmengine's AMP wrapper needs CUDA")
def test_mmseg_amp_trains_on_gpu(tmp_path, write_config):
    config = write_config(max_iters=2, interval=2)
    train, log = _mmseg_tool(
        'train.py',
        config,
        '--work-dir',
        str(tmp_path / 'work'),
        '--amp',
        cwd=str(tmp_path))
    assert train.returncode == 0, log[-3000:]
    assert [i for i, _ in _train_iters(log)] == [1, 2]


def test_project_train_amp_on_this_machine(tmp_path, write_config):
    """Our own tools/train.py --amp: AmpOptimWrapper on CUDA, bf16 on CPU."""
    config = write_config(max_iters=2, interval=2)
    train = run_tool([
        sys.executable,
        osp.join(REPO, 'tools/train.py'), config, '--work-dir',
        str(tmp_path / 'work'), '--amp'
    ],
                     cwd=str(tmp_path),
                     env=ENV)
    log = train.stdout + train.stderr
    assert train.returncode == 0, log[-3000:]
    wrapper = ('AmpOptimWrapper'
               if torch.cuda.is_available() else 'AutocastOptimWrapper')
    assert f"type='{wrapper}'" in log
    assert [i for i, _ in _train_iters(log)] == [1, 2]
