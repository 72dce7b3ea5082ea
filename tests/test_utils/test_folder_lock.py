import os
import signal
import subprocess
import sys
import time

import pytest

from sgsrf_mmseg.utils.folder_lock import (LOCK_NAME, FolderInUseError,
                                           FolderLock)

HOLD = '''
import sys, time
from sgsrf_mmseg.utils.folder_lock import FolderLock
lock = FolderLock(sys.argv[1], role='work dir')
lock.acquire()
print('locked', flush=True)
time.sleep(300)
'''

# The same lock taken the way FolderLock takes it, without importing the
# package (fast): flock on the lock file.
HOLD_FLOCK = f'''
import fcntl, os, sys, time
f = open(os.path.join(sys.argv[1], {LOCK_NAME!r}), 'a+')
fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
print('locked', flush=True)
time.sleep(300)
'''


def _holder(folder, script=HOLD):
    """A process that holds the folder's lock until it is killed."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, '-c', script,
                             str(folder)],
                            stdout=subprocess.PIPE,
                            text=True,
                            env=env)
    assert proc.stdout.readline().strip() == 'locked'
    return proc


@pytest.mark.slow
def test_second_holder_is_refused_with_who_holds_it(tmp_path):
    proc = _holder(tmp_path)
    try:
        with pytest.raises(FolderInUseError) as info:
            FolderLock(str(tmp_path), role='work dir').acquire()
        message = str(info.value)
        assert f'the work dir {tmp_path} is in use by another run' in message
        assert f'pid {proc.pid}' in message
        assert 'choose another work dir' in message
    finally:
        proc.kill()
        proc.wait()


def test_kill_9_leaves_no_stuck_lock(tmp_path):
    proc = _holder(tmp_path, HOLD_FLOCK)
    with pytest.raises(FolderInUseError):
        FolderLock(str(tmp_path)).acquire()
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert (tmp_path / LOCK_NAME).exists()  # the file stays, the lock not
    lock = FolderLock(str(tmp_path))
    lock.acquire()
    assert lock.held
    lock.release()
    assert not (tmp_path / LOCK_NAME).exists()


def test_release_lets_the_next_run_in_and_clears_partials(tmp_path):
    (tmp_path / '.iter_4.pth.123.abcd1234.partial').write_bytes(b'half')
    (tmp_path / 'iter_2.pth').write_bytes(b'whole')
    (tmp_path / '.notes.partial').write_bytes(b'a file of the user')
    first = FolderLock(str(tmp_path / 'new'))
    assert first.acquire() == []
    with pytest.raises(FolderInUseError):
        FolderLock(str(tmp_path / 'new')).acquire()
    first.release()
    with FolderLock(str(tmp_path / 'new')) as second:
        assert second.held
    removed = FolderLock(str(tmp_path)).acquire()
    assert removed == [str(tmp_path / '.iter_4.pth.123.abcd1234.partial')]
    assert sorted(os.listdir(tmp_path)) == [
        '.notes.partial', LOCK_NAME, 'iter_2.pth', 'new'
    ]


def test_lock_survives_its_file_being_replaced(tmp_path):
    """A lock file removed by its last holder is not trusted."""
    lock = FolderLock(str(tmp_path))
    lock.acquire()
    stale = open(lock.path, encoding='utf-8')
    lock.release()
    time.sleep(0.01)
    assert not os.path.exists(lock.path)
    again = FolderLock(str(tmp_path))
    again.acquire()
    assert os.path.samestat(
        os.fstat(again._file.fileno()), os.stat(again.path))
    stale.close()
    again.release()


@pytest.mark.slow
def test_forked_children_do_not_keep_the_lock(tmp_path):
    """A data loader worker that outlives its killed parent."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    parent = subprocess.Popen([
        sys.executable, '-c',
        HOLD.replace(
            "print('locked', flush=True)", "pid = os.fork()\n"
            "if pid == 0:\n"
            "    time.sleep(300)\n"
            "print('locked', pid, flush=True)").replace(
                'import sys, time', 'import os, sys, time'),
        str(tmp_path)
    ],
                              stdout=subprocess.PIPE,
                              text=True,
                              env=env)
    word, child = parent.stdout.readline().split()
    assert word == 'locked'
    try:
        with pytest.raises(FolderInUseError):
            FolderLock(str(tmp_path)).acquire()
        parent.kill()
        parent.wait()
        os.kill(int(child), 0)  # the child still runs
        with FolderLock(str(tmp_path)) as lock:
            assert lock.held
    finally:
        os.kill(int(child), signal.SIGKILL)


def test_planted_link_at_the_lock_is_never_followed(tmp_path):
    """Issue 23 item 6: a link planted at OUT/.sgsrf_mmseg.lock made
    tools/infer.py --out-dir OUT truncate the link's target."""
    target = tmp_path / 'precious.txt'
    target.write_text('precious')
    out = tmp_path / 'out'
    out.mkdir()
    os.symlink(target, out / LOCK_NAME)
    with pytest.raises(OSError) as info:
        FolderLock(str(out), role='output folder').acquire()
    assert str(info.value) == (
        f'the lock file {out / LOCK_NAME} is a symbolic link, which is never '
        'followed (its target would be written); remove the link')
    assert target.read_text() == 'precious'
