import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from tool_runner import REPO, run_tool

from sgsrf_mmseg.utils.compat import load_local_checkpoint

#: Runs the repository's tools as subprocesses.
pytestmark = pytest.mark.slow


def _train_cmd(config, work_dir, *extra):
    return [
        sys.executable,
        osp.join(REPO, 'tools/train.py'), config, '--work-dir', work_dir,
        *extra
    ]


def _val_metrics(work_dir):
    """The last validation metrics logged in ``work_dir`` (no timings)."""
    logs = sorted(
        osp.join(work_dir, d, 'vis_data', 'scalars.json')
        for d in os.listdir(work_dir)
        if osp.isfile(osp.join(work_dir, d, 'vis_data', 'scalars.json')))
    for path in reversed(logs):
        lines = [json.loads(line) for line in open(path) if '"mIoU"' in line]
        if lines:
            return {
                k: v
                for k, v in lines[-1].items() if 'IoU' in k or 'Prec' in k
            }
    raise AssertionError(f'no validation metrics in {work_dir}')


def test_sigkill_then_resume_matches_uninterrupted(tmp_path, write_config):
    config = write_config(max_iters=12, interval=4)
    reference = str(tmp_path / 'reference')
    done = run_tool(_train_cmd(config, reference), cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]

    killed = str(tmp_path / 'killed')
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.Popen(
        _train_cmd(config, killed),
        cwd=str(tmp_path),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not osp.exists(osp.join(killed, 'iter_4.pth')):
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert not osp.exists(osp.join(killed, 'iter_12.pth'))

    resumed = run_tool(
        _train_cmd(config, killed, '--resume'), cwd=str(tmp_path))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'resumed' in (resumed.stdout + resumed.stderr).lower()

    expected = load_local_checkpoint(osp.join(reference, 'iter_12.pth'))
    actual = load_local_checkpoint(osp.join(killed, 'iter_12.pth'))
    for name, tensor in expected['state_dict'].items():
        torch.testing.assert_close(actual['state_dict'][name], tensor)
    assert _val_metrics(killed) == _val_metrics(reference)
