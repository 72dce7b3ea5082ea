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
import shlex
import sys
from typing import Optional, Sequence

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import DictAction

from sgsrf_mmseg.analysis.text_swap import (SPLITS, format_text_swap,
                                            text_swap_test)
from sgsrf_mmseg.evaluation import write_results_json
from sgsrf_mmseg.utils.command_line import (add_debug_option, int_range,
                                            run_tool)
from sgsrf_mmseg.utils.output_paths import check_outputs


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--num', type=int_range(2, 100000), default=50, help='scenes')
    parser.add_argument('--split', default='val', choices=SPLITS)
    parser.add_argument(
        '--seed',
        type=int_range(0),
        default=0,
        help='seed of the scene choice and the derangement')
    parser.add_argument('--batch-size', type=int_range(1, 1024), default=8)
    parser.add_argument(
        '--device',
        help='torch device (default: cuda if '
        'available, else cpu)')
    parser.add_argument(
        '--out',
        help='JSON file (default: text_swap_<split>.json beside '
        'the checkpoint)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace an existing output JSON')
    add_debug_option(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Command-line entry point; returns the result."""
    args = parse_args(argv)
    out = args.out or osp.join(
        osp.dirname(osp.abspath(args.checkpoint)),
        f'text_swap_{args.split}.json')
    check_outputs([out], [args.config, args.checkpoint], args.overwrite)
    result = text_swap_test(
        args.config,
        args.checkpoint,
        num=args.num,
        split=args.split,
        seed=args.seed,
        batch_size=args.batch_size,
        device=args.device,
        cfg_options=args.cfg_options)
    result['command'] = shlex.join(['python'] + sys.argv)
    write_results_json(out, result)
    print(format_text_swap(result))
    print(f'written to {out}')
    return result


if __name__ == '__main__':
    run_tool(main)
