"""How far test runs in bf16 or int8 are from the fp32 run of a checkpoint.

Each run is one ``tools/test.py CONFIG CKPT --precision P --out DIR
--results FILE``: its scores (``FILE``) and its predicted masks (``DIR/
<ref_id>_<sent_id>.png``). :func:`compare_runs` reads them, the first run
being the reference (fp32), and gives per run the test scores, their
difference to the reference and the agreement of its masks with the
reference's, expression by expression (IoU; two empty masks agree with
IoU 1). The JSON it returns (``kind: sgsrf-precision-agreement``) is
rendered by :func:`render_agreement_block`
(``tools/analysis/render_results.py agreement``).
"""
import glob
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..utils.portable_paths import PortablePaths
from .results_tables import (config_name, fmt, load_json, load_test_results,
                             markdown_table, metric_value)

AGREEMENT_KIND = 'sgsrf-precision-agreement'
#: Masks agreeing at least this well count as agreeing (the issue's rule).
AGREEMENT_IOU = 0.97
METRICS = ('mIoU', 'oIoU')

#: (name, test results file, folder of predicted masks) of one run.
RunFiles = Tuple[str, str, str]


def read_predicted_mask(path: str) -> np.ndarray:
    """A predicted 0/255 PNG of ``tools/test.py --out`` as a boolean map."""
    mask = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise FileNotFoundError(f'cannot read predicted mask {path}')
    return mask > 127


def mask_ious(reference_dir: str, other_dir: str) -> List[float]:
    """IoU of each mask of ``reference_dir`` with its namesake in
    ``other_dir`` (1.0 where both are empty).

    Args:
        reference_dir (str): Masks of the reference run.
        other_dir (str): Masks of the other run.

    Returns:
        list[float]: One IoU per expression, in file name order.
    """
    names = sorted(
        osp.basename(p) for p in glob.glob(osp.join(reference_dir, '*.png')))
    if not names:
        raise FileNotFoundError(f'{reference_dir} holds no predicted masks '
                                '(run tools/test.py with --out)')
    ious = []
    for name in names:
        ref = read_predicted_mask(osp.join(reference_dir, name))
        other = read_predicted_mask(osp.join(other_dir, name))
        if ref.shape != other.shape:
            raise ValueError(f'{name}: mask shapes differ between '
                             f'{reference_dir} and {other_dir}')
        union = np.logical_or(ref, other).sum()
        ious.append(1.0 if union ==
                    0 else float(np.logical_and(ref, other).sum() / union))
    return ious


def compare_runs(runs: Sequence[RunFiles]) -> dict:
    """Scores and mask agreement of each run against the first.

    Args:
        runs (Sequence[tuple[str, str, str]]): ``(name, results file, mask
            folder)`` of each run, the reference (fp32) first.

    Returns:
        dict: ``kind``, ``config``, ``agreement_iou`` and ``runs``: per run
        ``name``, ``results``, ``command``, ``expressions``, the
        :data:`METRICS` and their ``delta_*`` to the reference, and (other
        runs) ``mask_iou_mean``, ``mask_iou_min`` and ``agreeing`` (the
        share of expressions at IoU >= ``agreement_iou``).
    """
    if len(runs) < 2:
        raise ValueError('give the reference run and at least one other')
    entries = []
    for name, results_path, _ in runs:
        results = load_test_results(results_path)
        entry = dict(
            name=name,
            results=results_path,
            command=results['command'],
            expressions=results['expressions'],
            config=results['config'])
        entry.update(
            {m: metric_value(results, m, results_path)
             for m in METRICS})
        entries.append(entry)
    reference = entries[0]
    for entry, (_, _, masks) in zip(entries[1:], runs[1:]):
        if entry['expressions'] != reference['expressions']:
            raise ValueError(f"{entry['results']} scored "
                             f"{entry['expressions']} expressions, the "
                             f"reference {reference['expressions']}")
        ious = mask_ious(runs[0][2], masks)
        entry.update(
            mask_iou_mean=round(float(np.mean(ious)), 4),
            mask_iou_min=round(float(np.min(ious)), 4),
            agreeing=round(float(np.mean(np.array(ious) >= AGREEMENT_IOU)), 4))
    for entry in entries:
        entry.update(
            {f'delta_{m}': round(entry[m] - reference[m], 2)
             for m in METRICS})
    return dict(
        kind=AGREEMENT_KIND,
        config=reference['config'],
        agreement_iou=AGREEMENT_IOU,
        runs=entries)


def load_agreement(path: str) -> dict:
    """Read the JSON of :func:`compare_runs`; errors name the file."""
    data = load_json(path)
    if data.get('kind') != AGREEMENT_KIND:
        raise ValueError(f'{path} is not a precision agreement file (kind '
                         f'{data.get("kind")!r})')
    return data


def render_agreement_block(path: str,
                           data: dict,
                           paths: Optional[PortablePaths] = None) -> str:
    """The scores and the mask agreement of each run, in markdown.

    Args:
        path (str): The agreement file, named under the table.
        data (dict): Its content (:func:`compare_runs`).
        paths (PortablePaths, optional): How paths are written. Defaults to
            relative to this repository (or ``$WORK``).

    Returns:
        str: The table and the command lines of the test runs.
    """
    paths = paths or PortablePaths()
    rule = data['agreement_iou']
    rows = [[
        r['name'], r['expressions'], *[fmt(r[m]) for m in METRICS],
        *[fmt(r[f'delta_{m}']) for m in METRICS],
        fmt(r.get('mask_iou_mean'), 4),
        fmt(r.get('mask_iou_min'), 4),
        fmt(r.get('agreeing') and 100 * r['agreeing'], 1)
    ] for r in data['runs']]
    table = markdown_table([
        f'precision (`{config_name(data["config"])}`)', 'expressions',
        *METRICS, *[f'{m} - fp32' for m in METRICS],
        'mask IoU with fp32 (mean)', 'min', f'% at IoU >= {rule}'
    ], rows)
    commands = '\n'.join(f'- `{paths.command(r["command"])}`'
                         for r in data['runs'])
    block = (f'{table}\n\nMeasured with:\n\n{commands}\n\ncompared by '
             f'`tools/analysis/precision_agreement.py` '
             f'(`{paths.path(path)}`)')
    return paths.refuse_absolute(block, 'the agreement block')
