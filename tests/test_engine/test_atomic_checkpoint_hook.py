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


FAULT_INJECTION = osp.join(
    osp.dirname(osp.dirname(__file__)), 'fault_injection.py')


def _best(work_dir):
    """The best checkpoint named in ``best_checkpoint``, checked whole."""
    best = open(work_dir / 'best_checkpoint').read()
    assert osp.isfile(best)
    _weights(best)  # reads: a whole checkpoint
    return osp.basename(best)


@pytest.mark.slow
def test_sigkill_during_best_save_keeps_the_previous_best(tmp_path):
    """Issue 23 item 4: a write to the new best checkpoint answered by
    SIGKILL left no best (the previous one removed first, the new one empty
    under its final name, best_checkpoint naming the removed file)."""
    work_dir = tmp_path / 'work'
    proc = subprocess.run([
        sys.executable, FAULT_INJECTION, '*best_score_iter_4.pth*', '0',
        SCRIPT,
        str(work_dir), '--val'
    ])
    assert proc.returncode == -signal.SIGKILL
    assert _best(work_dir) == 'best_score_iter_2.pth'
    assert 'best_score_iter_4.pth' not in os.listdir(work_dir)


def test_full_disk_during_best_save_leaves_no_truncated_best(
        tmp_path, monkeypatch):
    """Issue 23 item 7: a best checkpoint cut short by a full disk stayed
    under its final name, unmarked."""
    from mmengine.fileio.backends.local_backend import LocalBackend
    original_put = LocalBackend.put

    def put_until_full(self, obj, filepath):
        if 'best_score_iter_4.pth' in str(filepath):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise OSError(errno.ENOSPC, 'No space left on device')
        original_put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', put_until_full)
    with pytest.raises(OSError, match='No space left'):
        build_runner(str(tmp_path), val=True).train()
    names = os.listdir(tmp_path)
    assert 'best_score_iter_4.pth' not in names
    assert not [n for n in names if n.endswith('.partial')], names
    assert _best(tmp_path) == 'best_score_iter_2.pth'


def test_best_save_keeps_one_best_and_refuses_non_finite(tmp_path):
    """The class guard on a case not in the issue: a best checkpoint of
    non-finite weights is never written (mmengine's save wrote it)."""
    runner = build_runner(str(tmp_path), val=True)
    runner.train()
    names = sorted(n for n in os.listdir(tmp_path) if n.startswith('best_s'))
    assert names == ['best_score_iter_6.pth'] and _best(tmp_path) == names[0]
    hook = [
        h for h in runner.hooks if type(h).__name__ == 'AtomicCheckpointHook'
    ][0]
    with torch.no_grad():
        runner.model.linear.weight[0, 0] = float('inf')
    with pytest.raises(FloatingPointError, match='linear.weight'):
        hook._save_best_checkpoint(runner, dict(score=10.0))
    assert _best(tmp_path) == 'best_score_iter_6.pth'
    for tensor in _weights(tmp_path / 'best_score_iter_6.pth').values():
        assert torch.isfinite(tensor).all()  # not replaced by inf weights
