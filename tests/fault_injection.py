"""Run a Python script whose write to a chosen file is answered by SIGKILL.

``python tests/fault_injection.py PATTERN SKIP SCRIPT [ARGS ...]`` runs
SCRIPT (as ``python SCRIPT ARGS``) with every file opened for writing
through Python's ``open`` / ``io.open`` / ``os.fdopen`` counted when its
base name matches the glob PATTERN (``'*expressions.csv*'`` matches the
file and the atomic writer's temporary names for it). The first ``write``
to the matching file after SKIP others kills the process with SIGKILL
before a byte of it is written: a ``kill -9`` that arrives while the file
is being written, the fault injection of the hostile run of issue 23.
"""
import builtins
import fnmatch
import io
import os
import os.path as osp
import runpy
import signal
import sys

_MODES_THAT_WRITE = set('wax+')


class _KillOnWrite:
    """A file object whose first write kills the process."""

    def __init__(self, file):
        self._file = file

    def write(self, data):
        os.kill(os.getpid(), signal.SIGKILL)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._file.close()

    def __getattr__(self, name):
        return getattr(self._file, name)


def install(pattern: str, skip: int) -> None:
    """Patch ``open`` so that the (SKIP+1)-th matching file kills on write."""
    real_open = io.open
    seen = []

    def name_of(file) -> str:
        if isinstance(file, int):
            return os.readlink(f'/proc/self/fd/{file}')
        return os.fspath(file) if not isinstance(file, bytes) else ''

    def patched(file, mode='r', *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        name = osp.basename(name_of(file))
        if set(mode) & _MODES_THAT_WRITE and fnmatch.fnmatch(name, pattern):
            seen.append(name)
            if len(seen) > skip:
                return _KillOnWrite(handle)
        return handle

    builtins.open = io.open = patched


if __name__ == '__main__':
    pattern, skip, script = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    install(pattern, skip)
    sys.argv = sys.argv[3:]
    sys.path.insert(0, osp.dirname(osp.abspath(script)))
    runpy.run_path(script, run_name='__main__')
