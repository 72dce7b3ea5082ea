"""Write files so that they appear whole or not at all: the one writer.

Every file the project writes for a user (checkpoints, results, masks,
markers, caches, reports) goes through :func:`atomic_output` or its
shortcuts :func:`write_bytes_atomic` / :func:`write_text_atomic`:

1. the destination's folder is created if needed;
2. the content goes to a hidden temporary file beside the destination
   (``.<name>.<pid>.<random>.partial``), created with ``O_EXCL`` and
   ``O_NOFOLLOW`` (a link planted under that name is never followed);
3. the temporary file is flushed to disk (``fsync``) and takes the
   permissions of the file it replaces (else the usual ``0o666 & ~umask``);
4. it is renamed onto the destination: a reader sees the previous version
   until the new one is complete, never a truncated file.

If writing fails (disk full, an exception, an unwritable folder) the
temporary file is removed, so neither a truncated output nor a hidden
leftover stays behind. Only a process killed while writing can leave a
``.partial`` file; :func:`remove_partial_files` clears those once nothing
else writes there.
"""
import os
import os.path as osp
import re
import stat
import uuid
from contextlib import contextmanager
from typing import Iterator, List

# The names partial_path gives, and only those.
_PARTIAL_NAME = re.compile(r'\..+\.\d+\.[0-9a-f]{8}\.partial')


class OutputExistsError(FileExistsError):
    """An output file exists and replacing it was not asked for."""


def partial_path(path: str) -> str:
    """A fresh hidden temporary name beside ``path``."""
    folder, name = osp.split(osp.abspath(path))
    return osp.join(folder,
                    f'.{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial')


def _create_exclusively(path: str) -> int:
    """Create ``path`` for writing; fail if anything (a link) is there."""
    return os.open(
        path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        | getattr(os, 'O_CLOEXEC', 0), 0o666)


def _sync(partial: str, path: str) -> None:
    """Flush ``partial`` to disk; give it the mode of the file it replaces."""
    fd = os.open(partial, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        try:
            os.chmod(partial, stat.S_IMODE(os.stat(path).st_mode))
        except FileNotFoundError:
            pass
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(partial: str, path: str, overwrite: bool) -> None:
    """Rename ``partial`` onto ``path``; never replace it unless asked."""
    _sync(partial, path)
    if overwrite:
        os.replace(partial, path)
        return
    try:
        os.link(partial, path)  # fails if ``path`` exists, atomically
    except FileExistsError:
        raise OutputExistsError(
            f'{path} exists; not replacing it (ask to overwrite)') from None
    except OSError:  # a file system without hard links
        if osp.lexists(path):
            raise OutputExistsError(
                f'{path} exists; not replacing it (ask to overwrite)')
        os.replace(partial, path)
        return
    os.remove(partial)


@contextmanager
def atomic_output(path: str, overwrite: bool = True) -> Iterator[str]:
    """Give a temporary path to write; publish it as ``path`` on success.

    Example:
        >>> with atomic_output('out/mask.tif') as tmp:
        ...     write_geotiff(tmp)

    Args:
        path (str): The destination file.
        overwrite (bool): Replace an existing ``path``; when False an
            existing file is an :class:`OutputExistsError` and is kept.
            Defaults to True.

    Yields:
        str: The temporary path (in the destination's folder) to write; it
        exists (empty) already, created by this process.
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    partial = partial_path(path)
    os.close(_create_exclusively(partial))
    try:
        yield partial
        _publish(partial, path, overwrite)
    finally:
        if osp.lexists(partial):
            os.remove(partial)


def write_bytes_atomic(path: str, data: bytes, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_output`.

    Args:
        path (str): The destination file.
        data (bytes): Its content.
        overwrite (bool): Replace an existing file. Defaults to True.
    """
    with atomic_output(path, overwrite) as partial:
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_NOFOLLOW),
                       'wb') as f:
            f.write(data)


def write_text_atomic(path: str, text: str, overwrite: bool = True) -> None:
    """Write UTF-8 ``text`` to ``path`` through :func:`atomic_output`.

    Line endings are written as given.
    """
    if not isinstance(text, str):
        raise TypeError(f'text to write to {path} must be a str, got '
                        f'{type(text).__name__}')
    write_bytes_atomic(path, text.encode('utf-8'), overwrite)


def is_partial_name(name: str) -> bool:
    """Whether a file name is one :func:`partial_path` gives."""
    return _PARTIAL_NAME.fullmatch(name) is not None


def remove_partial_files(folder: str) -> List[str]:
    """Remove the temporary files that killed writers left in ``folder``.

    Only names :func:`partial_path` gives are removed; a user's own
    ``.something.partial`` is kept.

    Call it only while no other process writes into ``folder`` (e.g. while
    holding its :class:`~sgsrf_mmseg.utils.folder_lock.FolderLock`).

    Args:
        folder (str): The folder to clean (not its subfolders).

    Returns:
        list[str]: The removed files.
    """
    removed = []
    for name in sorted(os.listdir(folder)):
        path = osp.join(folder, name)
        if is_partial_name(name) and osp.isfile(path):
            os.remove(path)
            removed.append(path)
    return removed
