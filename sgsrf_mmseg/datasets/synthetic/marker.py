"""The generator's marker file: which folders and files are its own.

``synthetic_info.json`` in a dataset folder records the generator, its
version, the parameters, whether the dataset is complete, and every file
the generator writes there (relative paths), listed before they are
written: a generation that was interrupted leaves a marker with
``complete: false`` that names everything it may have written. The
generator writes only into a folder that is missing, empty, or has its
marker, and removes only the files its marker lists.
"""
import json
import os
import os.path as osp
from typing import List, Optional

from ...utils.atomic_file import is_partial_name, write_text_atomic
from ...utils.json_file import read_json
from .layout import dataset_files
from .params import GeneratorParams

INFO_FILE = 'synthetic_info.json'
#: Lock file that serialises generation between processes.
LOCK_FILE = '.generate.lock'
GENERATOR_NAME = 'sgsrf_mmseg synthetic scenes'
#: Files of the generator's own bookkeeping, ignored when a folder is
#: checked for other content (with the temporary files of a killed write,
#: and the temporary marker of earlier versions).
OWN_NAMES = (LOCK_FILE, INFO_FILE + '.tmp')


class ForeignDataError(FileExistsError):
    """A folder holds files that the synthetic generator did not write."""


def describe_folder(root: str, most: int = 8) -> str:
    """A short listing of a folder's entries (folders with their size).

    Args:
        root (str): The folder.
        most (int): Entries named at the most. Defaults to 8.

    Returns:
        str: E.g. ``'images/ (120 entries), output_phrase_train.txt'``.
    """
    names = sorted(
        n for n in os.listdir(root)
        if n not in OWN_NAMES and not is_partial_name(n))
    shown = []
    for name in names[:most]:
        path = osp.join(root, name)
        if osp.isdir(path):
            count = len(os.listdir(path))
            name += f'/ ({count} {"entry" if count == 1 else "entries"})'
        shown.append(name)
    if len(names) > most:
        shown.append(f'... ({len(names) - most} more)')
    return ', '.join(shown)


def _legacy_files(marker: dict) -> Optional[List[str]]:
    """What generator versions 1-3, whose marker has no file list, wrote."""
    params = marker.get('params')
    if marker.get('layout') != 'RefSegRS' or not isinstance(
            params, dict) or params.get('version', 4) > 3:
        return None
    params = {k: v for k, v in params.items() if k != 'version'}
    try:
        return dataset_files(
            GeneratorParams.from_dict(params), gold_parses=False)
    except ValueError:
        return None


def _inside(path: str) -> bool:
    """Whether a listed path stays inside the dataset folder."""
    return isinstance(path, str) and not osp.isabs(path) and not osp.normpath(
        path).startswith('..')


def read_marker(root: str) -> Optional[dict]:
    """The marker of a folder the generator may write into.

    Markers of generator versions 1-3 (no file list) get the list of what
    those versions wrote.

    Args:
        root (str): The dataset folder.

    Returns:
        dict | None: The marker, with its ``files``; None when the folder
        is missing or empty.

    Raises:
        ForeignDataError: The folder is not empty and has no marker of the
            generator (or is not a folder), so its files are not the
            generator's to replace.
    """
    if not osp.exists(root):
        return None
    if not osp.isdir(root):
        raise ForeignDataError(f'{root} is a file, not a folder')
    path = osp.join(root, INFO_FILE)
    if not osp.isfile(path):
        if not describe_folder(root):
            return None
        raise ForeignDataError(
            f'refusing to write the synthetic dataset into {root}: the '
            f'folder is not empty and has no {INFO_FILE} of the generator, '
            f'so its files are not the generator\'s to replace. It holds: '
            f'{describe_folder(root)}. Nothing was written; choose an empty '
            f'or new folder.')
    try:
        marker = read_json(path, 'marker')
    except (OSError, ValueError) as e:
        raise ForeignDataError(f'{e} (the synthetic generator\'s marker); '
                               'nothing was written') from None
    files = marker.get('files') if marker.get(
        'generator') == GENERATOR_NAME else _legacy_files(marker)
    if not isinstance(files, list) or not all(map(_inside, files)):
        raise ForeignDataError(
            f'{path} was not written by the synthetic generator (no '
            f'generator {GENERATOR_NAME!r} with a list of the files inside '
            f'the folder); nothing was written')
    return dict(marker, files=files)


def write_marker(root: str, marker: dict) -> None:
    """Write the marker in one step (a reader never sees half of it).

    Through the one atomic writer: a link planted in the folder is never
    followed.

    Args:
        root (str): The dataset folder.
        marker (dict): The marker.
    """
    write_text_atomic(osp.join(root, INFO_FILE), json.dumps(marker, indent=1))
