import errno
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest
import torch
from toy_training import build_runner

from sgsrf_mmseg.utils.compat import load_local_checkpoint

SCRIPT = osp.join(osp.dirname(__file__), 'toy_training.py')


def _weights(path):
    return load_local_checkpoint(str(path))['state_dict']


def test_keeps_newest_and_points_last_checkpoint_to_it(tmp_path):
    build_runner(str(tmp_path), max_keep_ckpts=1).train()
    names = sorted(os.listdir(tmp_path))
    assert 'iter_6.pth' in names
    assert not any(n.startswith('iter_') and n != 'iter_6.pth' for n in names)
    assert not any(n.endswith('.partial') for n in names)
    assert open(tmp_path / 'last_checkpoint').read() == str(tmp_path /
                                                            'iter_6.pth')


def test_never_removes_the_checkpoint_it_just_wrote(tmp_path):
    """A stale list of kept steps (e.g. left in a shared message hub)."""
    runner = build_runner(str(tmp_path))
    runner.message_hub.update_info('keep_ckpt_ids', [2, 4])
    runner.train()
    names = [n for n in os.listdir(tmp_path) if n.startswith('iter_')]
    assert sorted(names) == ['iter_4.pth', 'iter_6.pth']


def test_refuses_to_save_non_finite_weights(tmp_path):
    runner = build_runner(str(tmp_path))
    with torch.no_grad():
        runner.model.linear.weight[0, 0] = float('nan')
    hook = [
        h for h in runner.hooks if type(h).__name__ == 'AtomicCheckpointHook'
    ][0]
    with pytest.raises(FloatingPointError, match='linear.weight'):
        hook._save_checkpoint_with_step(runner, 1, dict(iter=1))
    assert not [n for n in os.listdir(tmp_path) if n.endswith('.pth')]


@pytest.mark.slow
def test_sigkill_during_save_then_resume_matches_uninterrupted(tmp_path):
    reference = tmp_path / 'reference'
    subprocess.run([sys.executable, SCRIPT, str(reference)], check=True)

    killed = tmp_path / 'killed'
    proc = subprocess.run(
        [sys.executable, SCRIPT,
         str(killed), '--kill-at-save', '4'])
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / 'iter_4.pth').exists()
    assert open(killed / 'last_checkpoint').read().endswith('iter_2.pth')
    # The half-written file is left under its temporary name only.
    assert [
        n for n in os.listdir(killed)
        if n.startswith('.iter_4.pth.') and n.endswith('.partial')
    ]

    subprocess.run([sys.executable, SCRIPT,
                    str(killed), '--resume'],
                   check=True)
    expected = _weights(reference / 'iter_6.pth')
    resumed = _weights(killed / 'iter_6.pth')
    for name, tensor in expected.items():
        torch.testing.assert_close(resumed[name], tensor)


def test_failed_save_removes_its_partial_file(tmp_path, monkeypatch):
    """A full disk fails the save and leaves no hidden file behind."""
    from mmengine.fileio.backends.local_backend import LocalBackend
    original_put = LocalBackend.put

    def put_until_full(self, obj, filepath):
        if 'iter_4.pth' in str(filepath):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise OSError(errno.ENOSPC, 'No space left on device')
        original_put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', put_until_full)
    runner = build_runner(str(tmp_path))
    with pytest.raises(OSError, match='No space left'):
        runner.train()
    names = os.listdir(tmp_path)
    assert 'iter_2.pth' in names and 'iter_4.pth' not in names
    assert not [n for n in names if n.endswith('.partial')], names
    assert open(tmp_path / 'last_checkpoint').read().endswith('iter_2.pth')
