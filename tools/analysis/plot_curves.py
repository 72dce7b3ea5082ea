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
from sgsrf_mmseg.utils.command_line import add_debug_option, run_tool
from sgsrf_mmseg.utils.output_paths import check_outputs


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
    parser.add_argument(
        '--overwrite', action='store_true', help='replace an existing --out')
    add_debug_option(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    check_outputs([args.out], [args.path], args.overwrite)
    plotted, missing = plot_curves(args.path, args.keys, args.out,
                                   args.overwrite)
    for pattern in missing:
        print(f'warning: no values for {pattern!r}', file=sys.stderr)
    print(f'plotted {", ".join(plotted)} to {args.out}')


if __name__ == '__main__':
    run_tool(main)
