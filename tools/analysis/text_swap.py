"""Text-swap test: mIoU with each scene's own expression and with another's.

For N scenes of a split, the model segments each scene with its own
expression and with the expression of another of the N scenes (a seeded
derangement); both are scored against the scene's own target. Prints both
means and their difference in points, and writes the JSON described in
``sgsrf_mmseg/analysis/text_swap.py``. Example::

    python tools/analysis/text_swap.py configs/sgsrf/sgsrf_tiny_synthetic.py \
        $(cat work_dirs/sgsrf_tiny_synthetic/best_checkpoint) --num 50
"""
import argparse
import os.path as osp
import sys
from functools import partial
from typing import Optional, Sequence

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from sgsrf_mmseg.analysis.model_check_tool import (model_check_parser,
                                                   run_model_check)
from sgsrf_mmseg.analysis.text_swap import (SPLITS, format_text_swap,
                                            text_swap_test)
from sgsrf_mmseg.utils.command_line import int_range, run_tool

OUT_NAME = 'text_swap'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = model_check_parser(
        __doc__.split('\n')[0], SPLITS, 'val', OUT_NAME)
    parser.add_argument(
        '--num', type=int_range(2, 100000), default=50, help='scenes')
    parser.add_argument(
        '--seed',
        type=int_range(0),
        default=0,
        help='seed of the scene choice and the derangement')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Command-line entry point; returns the result."""
    args = parse_args(argv)
    check = partial(text_swap_test, num=args.num, seed=args.seed)
    return run_model_check(args, check, format_text_swap, OUT_NAME, argv)


if __name__ == '__main__':
    run_tool(main)
