"""Outputs never replace an input, and replace an old file only if asked.

The rule of every tool and API that writes files:

* an output is never one of the run's inputs (a config, a checkpoint, an
  image, a list of pairs), with or without ``overwrite``: that is a
  :class:`~sgsrf_mmseg.utils.command_line.UsageError`;
* an output that exists is kept unless the caller asks to overwrite it
  (``--overwrite``): an :class:`~sgsrf_mmseg.utils.atomic_file.
  OutputExistsError` naming the files;
* a folder of outputs holds only what its run writes: a folder that holds
  files already is refused the same way (see :func:`check_output_folder`).
"""
import os
import os.path as osp
from typing import Iterable, List, Sequence

from .atomic_file import OutputExistsError, is_partial_name
from .command_line import UsageError

_SHOWN = 5


def same_file(a: str, b: str) -> bool:
    """Whether two paths name the same file (existing or not)."""
    try:
        return osp.samefile(a, b)
    except OSError:
        return osp.realpath(a) == osp.realpath(b)


def _listed(paths: Sequence[str]) -> str:
    more = (f' and {len(paths) - _SHOWN} more' if len(paths) > _SHOWN else '')
    return ', '.join(paths[:_SHOWN]) + more


def check_not_inputs(outputs: Iterable[str], inputs: Iterable[str]) -> None:
    """Refuse an output that is one of the inputs (or inside none of them).

    Args:
        outputs (Iterable[str]): Files or folders about to be written.
        inputs (Iterable[str]): Files read by the same run.

    Raises:
        UsageError: An output is an input.
    """
    inputs = [path for path in inputs if path]
    for output in outputs:
        for source in inputs:
            if same_file(output, source):
                raise UsageError(
                    f'the output {output} is the input {source}; refusing to '
                    'replace an input: choose another output path')


def check_outputs(outputs: Sequence[str],
                  inputs: Iterable[str],
                  overwrite: bool = False) -> None:
    """Refuse outputs that would replace an input, each other or old files.

    Args:
        outputs (Sequence[str]): Files about to be written.
        inputs (Iterable[str]): Files read by the same run.
        overwrite (bool): Whether existing outputs may be replaced.
            Defaults to False.

    Raises:
        UsageError: An output is an input or appears twice.
        OutputExistsError: Outputs exist and ``overwrite`` is False.
    """
    check_not_inputs(outputs, inputs)
    real = [osp.realpath(path) for path in outputs]
    twice = sorted({p for p in real if real.count(p) > 1})
    if twice:
        raise UsageError(f'two outputs of this run are the same file: '
                         f'{", ".join(twice)}; give them different names')
    existing = [path for path in outputs if osp.lexists(path)]
    if existing and not overwrite:
        raise OutputExistsError(
            f'{len(existing)} output file(s) already exist: '
            f'{_listed(existing)}; they are kept: choose another output '
            'folder, or ask to overwrite them (--overwrite)')


def files_in_folder(folder: str, own: Iterable[str] = ()) -> List[str]:
    """The entries of ``folder`` a user may have put there.

    Args:
        folder (str): A folder (missing: none).
        own (Iterable[str]): Names of the run's own bookkeeping (a lock
            file), left out; so are temporary files of killed writers.

    Returns:
        list[str]: Sorted paths.
    """
    if not osp.isdir(folder):
        return []
    own = set(own)
    return [
        osp.join(folder, name) for name in sorted(os.listdir(folder))
        if name not in own and not is_partial_name(name)
    ]


def check_output_folder(folder: str,
                        inputs: Iterable[str],
                        overwrite: bool = False,
                        own: Iterable[str] = (),
                        option: str = '--out') -> None:
    """Refuse a folder of outputs that is an input, a file, or not empty.

    Args:
        folder (str): The folder a run writes its files into.
        inputs (Iterable[str]): Files read by the same run.
        overwrite (bool): Whether files of the same names may be replaced
            (other files there are kept). Defaults to False.
        own (Iterable[str]): Names in the folder that are the run's own
            bookkeeping (see :func:`files_in_folder`). Defaults to none.
        option (str): The option that names the folder, for the message.
            Defaults to '--out'.

    Raises:
        UsageError: The folder is an input or a file.
        OutputExistsError: It holds files and ``overwrite`` is False.
    """
    check_not_inputs([folder], inputs)
    if osp.lexists(folder) and not osp.isdir(folder):
        raise UsageError(f'{option} {folder} exists and is not a folder; '
                         'choose a new or empty folder')
    existing = files_in_folder(folder, own)
    if existing and not overwrite:
        raise OutputExistsError(
            f'{option} {folder} already holds {len(existing)} file(s) '
            f'({_listed(existing)}); they are kept: choose a new or empty '
            'folder, or --overwrite to replace the files this run writes '
            '(others are kept)')
