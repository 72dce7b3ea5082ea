"""Curves of a training run: losses and validation metrics over iterations.

Training and validation lines come from the run's ``scalars.json`` files
(:mod:`.training_log`). In epoch-based runs a validation line's ``step`` is
the epoch; it is mapped to the last training iteration of that epoch so
that all curves share one x axis (the iteration).
"""
import fnmatch
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Tuple

from ..utils.atomic_file import atomic_output
from .training_log import training_records, validation_records

Series = Dict[str, List[Tuple[float, float]]]


def load_curves(path: str) -> Tuple[List[dict], List[dict]]:
    """Training and validation records of a run, each with its ``x``.

    Args:
        path (str): A work dir, a session folder or a ``scalars.json``.

    Returns:
        tuple[list[dict], list[dict]]: Training and validation records.
    """
    train = [
        dict(r, x=r.get('step', r.get('iter'))) for r in training_records(path)
    ]
    val = [dict(r, x=r.get('step')) for r in validation_records(path)]
    epoch_end: Dict[int, int] = {}
    for record in train:
        if 'epoch' in record and record['x'] is not None:
            epoch = int(record['epoch'])
            epoch_end[epoch] = max(epoch_end.get(epoch, 0), record['x'])
    if epoch_end:
        for record in val:
            record['x'] = epoch_end.get(record['x'], record['x'])
    return train, val


def collect_series(records: List[dict], patterns: List[str]) -> Series:
    """Gather (x, value) points of every key matching one of the patterns.

    Args:
        records (list[dict]): Records with an ``x`` entry.
        patterns (list[str]): Keys or shell-style patterns (``loss_*``).

    Returns:
        dict[str, list[tuple]]: Key -> points, in pattern order.
    """
    series: Series = OrderedDict()
    for pattern in patterns:
        for record in records:
            if record.get('x') is None:
                continue
            for key, value in record.items():
                if key == 'x' or not isinstance(value, (int, float)):
                    continue
                name = key.split('/')[-1]
                if fnmatch.fnmatchcase(key, pattern) or \
                        fnmatch.fnmatchcase(name, pattern):
                    series.setdefault(key, []).append((record['x'], value))
    return series


def plot_curves(path: str,
                keys: List[str],
                out: str,
                overwrite: bool = True) -> Tuple[List[str], List[str]]:
    """Plot the chosen keys, one panel per key pattern, to a PNG.

    Args:
        path (str): A work dir, a session folder or a ``scalars.json``.
        keys (list[str]): Keys or patterns; training keys (losses, lr) and
            validation keys (metrics) may be mixed.
        out (str): Output image path (its extension names the format).
        overwrite (bool): Replace an existing ``out``. Defaults to True.

    Returns:
        tuple[list[str], list[str]]: The keys plotted and the patterns that
        matched nothing.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    train, val = load_curves(path)
    panels, missing = [], []
    for pattern in keys:
        series = collect_series(train, [pattern])
        series.update(collect_series(val, [pattern]))
        if series:
            panels.append((pattern, series))
        else:
            missing.append(pattern)
    if not panels:
        raise ValueError(f'none of the keys {keys} is in {path}')
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(8, 3 * len(panels)), squeeze=False)
    plotted = []
    for ax, (pattern, series) in zip(axes[:, 0], panels):
        for key, points in series.items():
            xs, ys = zip(*sorted(points))
            ax.plot(
                xs,
                ys,
                marker='o' if len(xs) < 30 else None,
                markersize=3,
                label=key)
            plotted.append(key)
        ax.set_title(pattern)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        ax.legend(fontsize='small')
    fig.tight_layout()
    image_format = osp.splitext(out)[1][1:].lower() or 'png'
    with atomic_output(out, overwrite) as partial:
        fig.savefig(partial, dpi=100, format=image_format)
    plt.close(fig)
    return plotted, missing
