"""An exclusive lock on a folder that one run writes into.

The lock is an ``fcntl.flock`` on ``<folder>/.sgsrf_mmseg.lock``: the kernel
releases it when the holder exits, however it exits (``kill -9``
included), so a killed run never leaves a folder locked. Processes forked
from the holder (data loader workers) close their copy of the lock file at
once, so one that outlives a killed holder does not keep the lock. The file
holds who took the lock, for the message a second run gets; it is removed
when the lock is released. Where ``fcntl`` does not exist (Windows) no lock
is taken.

Every lock file of the project (this one, the synthetic generator's, the
parse cache's, the parser trainer's) is opened by :func:`open_lock_file`:
created if missing, never truncated, never through a symbolic link (a link
planted under its name is refused, so its target is never written), and
only when the caller is about to write where the lock is.
"""
import errno
import os
import os.path as osp
import socket
import stat
import sys
import time
import weakref
from contextlib import contextmanager
from typing import IO, Iterator, List, Optional

from .atomic_file import remove_partial_files

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK_NAME = '.sgsrf_mmseg.lock'
_HELD = weakref.WeakSet()  # the locks this process holds


def _drop_inherited_locks() -> None:
    """In a forked child: close the lock files without unlocking them."""
    for lock in list(_HELD):
        lock._file.close()
        lock._file = None
    _HELD.clear()


os.register_at_fork(after_in_child=_drop_inherited_locks)


class FolderInUseError(RuntimeError):
    """The folder is locked by another running process."""


def open_lock_file(path: str) -> IO[str]:
    """Open (create) a lock file without following a link or truncating it.

    Args:
        path (str): The lock file.

    Returns:
        IO[str]: The file, open for reading and writing (text, UTF-8).

    Raises:
        OSError: ``path`` is a symbolic link or not a regular file (the
            message says so and how to clear it).
    """
    flags = (
        os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
        | getattr(os, 'O_CLOEXEC', 0))
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as err:
        if err.errno != errno.ELOOP:
            raise
        raise OSError(f'the lock file {path} is a symbolic link, which is '
                      'never followed (its target would be written); remove '
                      'the link') from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f'the lock file {path} is not a regular file; remove '
                      'it')
    return os.fdopen(fd, 'r+', encoding='utf-8')


@contextmanager
def file_lock(path: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (waiting for it) in a block.

    Args:
        path (str): The lock file (see :func:`open_lock_file`); its folder
            must exist.
    """
    with open_lock_file(path) as lock_file:
        if fcntl is not None:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        yield


class FolderLock:
    """Exclusive use of a folder by this process.

    Args:
        folder (str): The folder (created if missing).
        role (str): What the folder is to the user, for messages, e.g.
            ``'work dir'`` or ``'output folder'``. Defaults to ``'folder'``.
    """

    def __init__(self, folder: str, role: str = 'folder') -> None:
        self.folder = osp.abspath(folder)
        self.role = role
        self.path = osp.join(self.folder, LOCK_NAME)
        self._file = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._file is not None

    def _holder(self, lock_file) -> str:
        lock_file.seek(0)
        return lock_file.read().strip() or 'a process that is starting'

    def _try_lock(self) -> Optional[object]:
        """The locked lock file, or None if its name went away meanwhile."""
        lock_file = open_lock_file(self.path)
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder(lock_file)
            lock_file.close()
            raise FolderInUseError(
                f'the {self.role} {self.folder} is in use by another run '
                f'({holder}); wait until it ends or choose another '
                f'{self.role}') from None
        try:
            same = os.path.samestat(
                os.fstat(lock_file.fileno()), os.stat(self.path))
        except FileNotFoundError:
            same = False
        if not same:  # its previous holder removed it as we opened it
            lock_file.close()
            return None
        return lock_file

    def acquire(self) -> List[str]:
        """Take the lock and clear what killed writers left in the folder.

        Returns:
            list[str]: Unfinished ``.partial`` files of an interrupted run,
            removed now that no other run writes here.

        Raises:
            FolderInUseError: Another live process holds the lock.
        """
        if self.held or fcntl is None:
            return []
        os.makedirs(self.folder, exist_ok=True)
        lock_file = None
        while lock_file is None:
            lock_file = self._try_lock()
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(
            f'pid {os.getpid()} on {socket.gethostname()} since '
            f"{time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(sys.argv)}")
        lock_file.flush()
        self._file = lock_file
        _HELD.add(self)
        return remove_partial_files(self.folder)

    def release(self) -> None:
        """Give the lock back (a no-op when not held)."""
        if not self.held:
            return
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()
        self._file = None
        _HELD.discard(self)

    def __enter__(self) -> 'FolderLock':
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()
