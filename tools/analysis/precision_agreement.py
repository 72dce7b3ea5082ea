"""Compare test runs of one checkpoint in several precisions with fp32.

Run ``tools/test.py`` once per precision with ``--out`` (the predicted
masks) and ``--results`` (the scores), then::

    python tools/analysis/precision_agreement.py \\
        --run fp32 work_dirs/precision/fp32.json work_dirs/precision/fp32 \\
        --run bf16 work_dirs/precision/bf16.json work_dirs/precision/bf16 \\
        --run int8 work_dirs/precision/int8.json work_dirs/precision/int8 \\
        --out work_dirs/precision/agreement.json

The first ``--run`` is the reference. Per run: mIoU and oIoU and their
difference to the reference, and the IoU of each expression's mask with
the reference's (mean, minimum, share at IoU >= 0.97); the JSON is
rendered by ``tools/analysis/render_results.py agreement``. See
``sgsrf_mmseg/analysis/precision_agreement.py``.
"""
import argparse
import json
import os.path as osp
import sys
from typing import Optional, Sequence

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from sgsrf_mmseg.analysis.precision_agreement import METRICS, compare_runs
from sgsrf_mmseg.utils.atomic_file import write_text_atomic
from sgsrf_mmseg.utils.command_line import add_debug_option, run_tool
from sgsrf_mmseg.utils.output_paths import check_outputs


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--run',
        nargs=3,
        action='append',
        required=True,
        metavar=('NAME', 'RESULTS', 'MASKS'),
        help='a test run: its name, its --results file and its --out folder '
        '(the first run is the reference)')
    parser.add_argument('--out', required=True, help='the JSON to write')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace an existing --out')
    add_debug_option(parser)
    args = parser.parse_args(argv)
    if len(args.run) < 2:
        parser.error('give at least two --run (the reference first)')
    return args


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Command-line entry point; returns the comparison."""
    args = parse_args(argv)
    inputs = [path for run in args.run for path in run[1:]]
    check_outputs([args.out], inputs, args.overwrite)
    data = compare_runs([tuple(run) for run in args.run])
    write_text_atomic(args.out, json.dumps(data, indent=2), args.overwrite)
    for run in data['runs']:
        scores = ', '.join(f'{m} {run[m]:.2f} ({run[f"delta_{m}"]:+.2f})'
                           for m in METRICS)
        agreement = '' if 'mask_iou_mean' not in run else (
            f"; masks vs {data['runs'][0]['name']}: mean IoU "
            f"{run['mask_iou_mean']:.4f}, min {run['mask_iou_min']:.4f}")
        print(f"{run['name']}: {scores}{agreement}")
    print(f'written to {args.out}')
    return data


if __name__ == '__main__':
    run_tool(main)
