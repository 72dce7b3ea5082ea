"""Plot training losses and validation metrics of a run.

Reads mmengine's ``vis_data/scalars.json`` (one JSON object per line, written
by ``LocalVisBackend``): training lines carry ``loss``, ``loss_*``, ``lr``,
``iter`` and ``step`` (the global iteration); validation lines carry the
metrics (``mIoU``, ``oIoU``, ``Prec@0.5`` ...) and ``step``. In epoch-based
runs a validation line's ``step`` is the epoch; it is mapped to the last
training iteration of that epoch so that all curves share one x axis.

Example::

    python tools/analysis/plot_curves.py work_dirs/sgsrf_tiny \
        --keys loss loss_dice mIoU oIoU --out curves.png
"""
import argparse
import fnmatch
import glob
import json
import os
import os.path as osp
import sys
from collections import OrderedDict
from typing import Dict, List, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

TRAIN_MARKERS = ('lr', 'iter')


def find_scalars(path: str) -> str:
    """Return the scalars.json of a work dir (latest run) or the file itself.

    Args:
        path (str): A ``scalars.json`` file or a work directory.

    Returns:
        str: Path of the file.
    """
    if osp.isfile(path):
        return path
    if not osp.isdir(path):
        raise FileNotFoundError(f'no such file or directory: {path}')
    candidates = glob.glob(osp.join(path, 'vis_data', 'scalars.json'))
    candidates += glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json'))
    if not candidates:
        raise FileNotFoundError(
            f'no vis_data/scalars.json under {path} (LocalVisBackend must be '
            'among the visualizer backends)')
    return max(candidates, key=osp.getmtime)


def load_scalars(path: str) -> Tuple[List[dict], List[dict]]:
    """Split scalars.json lines into training and validation records.

    Args:
        path (str): The scalars.json file.

    Returns:
        tuple[list[dict], list[dict]]: Training records and validation
        records, each with an ``x`` entry (global iteration).
    """
    train, val = [], []
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{lineno}: not JSON: {err}') from err
            if any(k in record for k in TRAIN_MARKERS):
                record['x'] = record.get('step', record.get('iter'))
                train.append(record)
            else:
                record['x'] = record.get('step')
                val.append(record)
    epoch_end: Dict[int, int] = {}
    for record in train:
        if 'epoch' in record and record['x'] is not None:
            epoch = int(record['epoch'])
            epoch_end[epoch] = max(epoch_end.get(epoch, 0), record['x'])
    if epoch_end:
        for record in val:
            if record['x'] in epoch_end:
                record['x'] = epoch_end[record['x']]
    return train, val


def collect_series(
        records: List[dict],
        patterns: List[str]) -> Dict[str, List[Tuple[float, float]]]:
    """Gather (x, value) points of every key matching one of the patterns.

    Args:
        records (list[dict]): Records with an ``x`` entry.
        patterns (list[str]): Keys or shell-style patterns (``loss_*``).

    Returns:
        dict[str, list[tuple]]: Key -> points, in pattern order.
    """
    series: Dict[str, List[Tuple[float, float]]] = OrderedDict()
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


def plot_curves(scalars_path: str, keys: List[str], out: str) -> List[str]:
    """Plot the chosen keys, one panel per key pattern, to a PNG.

    Args:
        scalars_path (str): scalars.json file or work directory.
        keys (list[str]): Keys or patterns; training keys (losses, lr) and
            validation keys (metrics) may be mixed.
        out (str): Output image path.

    Returns:
        list[str]: The keys that were plotted.
    """
    train, val = load_scalars(find_scalars(scalars_path))
    panels = []
    for pattern in keys:
        series = collect_series(train, [pattern])
        series.update(collect_series(val, [pattern]))
        if series:
            panels.append((pattern, series))
        else:
            print(f'warning: no values for {pattern!r}', file=sys.stderr)
    if not panels:
        raise ValueError(f'none of the keys {keys} is in {scalars_path}')
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
    out_dir = osp.dirname(osp.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return plotted


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Plot losses and metrics from vis_data/scalars.json')
    parser.add_argument(
        'path', help='work directory or a vis_data/scalars.json file')
    parser.add_argument(
        '--keys',
        nargs='+',
        default=['loss', 'mIoU', 'oIoU'],
        help='keys or patterns (e.g. "loss_*"), one panel each')
    parser.add_argument('--out', default='curves.png', help='output PNG file')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    plotted = plot_curves(args.path, args.keys, args.out)
    print(f'plotted {", ".join(plotted)} to {args.out}')


if __name__ == '__main__':
    main()
