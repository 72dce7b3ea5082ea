"""Report how often a training run clipped its gradients.

Reads the run's ``vis_data/scalars.json`` (``grad_norm`` of each logged
iteration) and its config (``optim_wrapper.clip_grad.max_norm``, the
warm-up of ``param_scheduler``); counts the logged iterations whose norm
exceeded the threshold, overall and after the warm-up. What a logged norm
is (a mean over ``log_processor.window_size`` iterations):
``sgsrf_mmseg/analysis/clipping.py``. Example::

    python tools/analysis/clipping_report.py work_dirs/sgsrf_tiny_synthetic
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from sgsrf_mmseg.analysis.clipping import (clipping_report,
                                           format_clipping_report)
from sgsrf_mmseg.evaluation import write_results_json
from sgsrf_mmseg.utils.command_line import (add_debug_option, int_range,
                                            run_tool)
from sgsrf_mmseg.utils.output_paths import check_outputs


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'path',
        help='work dir (all its sessions), one session folder or a '
        'vis_data/scalars.json file')
    parser.add_argument(
        '--config',
        help='the run\'s config (default: the config.py saved '
        'beside scalars.json)')
    parser.add_argument(
        '--warmup-iters',
        type=int_range(0),
        help='warm-up length (default: read from param_scheduler)')
    parser.add_argument('--out', help='also write the report as JSON here')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace an existing --out')
    add_debug_option(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Command-line entry point; returns the report."""
    args = parse_args(argv)
    if args.out:
        check_outputs([args.out], [args.path, args.config], args.overwrite)
    report = clipping_report(args.path, args.config, args.warmup_iters)
    print(format_clipping_report(report))
    if args.out:
        write_results_json(args.out, report)
    return report


if __name__ == '__main__':
    run_tool(main)
