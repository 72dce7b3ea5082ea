"""Plot training losses and validation metrics of a run.

Example::

    python tools/analysis/plot_curves.py work_dirs/sgsrf_tiny \
        --keys loss loss_dice mIoU oIoU --out curves.png
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from sgsrf_mmseg.analysis.training_curves import plot_curves


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
    plotted, missing = plot_curves(args.path, args.keys, args.out)
    for pattern in missing:
        print(f'warning: no values for {pattern!r}', file=sys.stderr)
    print(f'plotted {", ".join(plotted)} to {args.out}')


if __name__ == '__main__':
    main()
