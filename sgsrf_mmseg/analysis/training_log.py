"""What a training run logged: mmengine's ``vis_data/scalars.json`` files.

A work dir holds one folder per session (``WORK_DIR/<timestamp>/``; a run
resumed with ``--resume`` adds one), each with ``vis_data/scalars.json``
(one JSON object per line, written by ``LocalVisBackend``) and
``vis_data/config.py`` (the config of that session). Training lines carry
``iter`` and ``step`` (the global iteration) with the losses, ``lr`` and
``grad_norm``; validation lines carry the metrics and ``step`` (the
iteration after which validation ran), and no ``iter``.
"""
import glob
import json
import os.path as osp
import re
from typing import Dict, List

SCALARS = osp.join('vis_data', 'scalars.json')
_BEST_NAME = re.compile(r'best_(?P<key>.+)_iter_(?P<iter>\d+)\.pth')


def scalars_files(path: str) -> List[str]:
    """The ``scalars.json`` files of a run, oldest session first.

    Args:
        path (str): A ``scalars.json`` file, its ``vis_data`` folder, a
            session folder (``WORK_DIR/<timestamp>``) or a work dir (all
            its sessions).

    Returns:
        list[str]: The files.
    """
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise FileNotFoundError(f'no such file or folder: {path}')
    files = glob.glob(osp.join(path, 'scalars.json')) or glob.glob(
        osp.join(path, SCALARS)) or sorted(
            glob.glob(osp.join(path, '*', SCALARS)))
    if not files:
        raise FileNotFoundError(
            f'no {SCALARS} in {path} or its session folders (the visualizer '
            'needs LocalVisBackend among its vis_backends)')
    return files


def read_scalars(path: str) -> List[dict]:
    """The records of one ``scalars.json``; errors name file and line."""
    records = []
    with open(path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(
                    f'{path}, line {line_no}: not JSON: {error}') from None
            if not isinstance(record, dict) or 'step' not in record:
                raise ValueError(f'{path}, line {line_no}: expected a JSON '
                                 'object with a "step"')
            records.append(record)
    return records


def training_records(path: str) -> List[dict]:
    """The training lines of a run, one per logged iteration.

    Sessions are read oldest first; where a resumed session logs an
    iteration again, its line replaces the earlier one.

    Args:
        path (str): As in :func:`scalars_files`.

    Returns:
        list[dict]: The lines, by iteration.
    """
    by_iter: Dict[int, dict] = {}
    for file in scalars_files(path):
        for record in read_scalars(file):
            if 'iter' in record:
                by_iter[int(record['iter'])] = record
    return [by_iter[i] for i in sorted(by_iter)]


def validation_records(path: str) -> List[dict]:
    """The validation lines of a run (no ``iter``), in logged order."""
    return [
        record for file in scalars_files(path) for record in read_scalars(file)
        if 'iter' not in record
    ]


def session_config(scalars_path: str) -> str:
    """The ``config.py`` that mmengine saved beside a ``scalars.json``."""
    path = osp.join(osp.dirname(scalars_path), 'config.py')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'no config.py beside {scalars_path}; give the config file')
    return path


def best_checkpoint_score(work_dir: str) -> dict:
    """The checkpoint a run chose on val, and its val score.

    Reads ``WORK_DIR/best_checkpoint`` (written by the checkpoint hook with
    ``save_best``); the file name (``best_<metric>_iter_<n>.pth``) names the
    metric and the iteration, whose validation line holds the score.

    Args:
        work_dir (str): The run's work dir.

    Returns:
        dict: ``checkpoint`` (path), ``metric``, ``iter`` and ``score``.
    """
    pointer = osp.join(work_dir, 'best_checkpoint')
    if not osp.isfile(pointer):
        raise FileNotFoundError(
            f'{work_dir} has no best_checkpoint: the run did not validate, '
            'or default_hooks.checkpoint.save_best is not set')
    with open(pointer, encoding='utf-8') as f:
        checkpoint = f.read().strip()
    match = _BEST_NAME.fullmatch(osp.basename(checkpoint))
    if match is None:
        raise ValueError(f'{pointer} names {checkpoint!r}, not a '
                         'best_<metric>_iter_<n>.pth checkpoint')
    key, step = match.group('key'), int(match.group('iter'))
    for record in reversed(validation_records(work_dir)):
        scores = {
            name.replace('/', '_'): value
            for name, value in record.items()
        }
        if record['step'] == step and key in scores:
            return dict(
                checkpoint=checkpoint,
                metric=key,
                iter=step,
                score=scores[key])
    raise ValueError(f'no validation line with {key!r} at step {step} in '
                     f'the scalars.json files of {work_dir}')
