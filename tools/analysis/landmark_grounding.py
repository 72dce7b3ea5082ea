"""Does CCR's landmark relation term look at the landmark an expression names?

For a model trained with ``model.refiner.relation_prior=True``, runs the
split of its synthetic dataset and compares CCR's landmark map with the
landmark boxes the generator wrote: per test group, the map's mass on the
landmark cells, that of a uniform map, and how often its peak is on the
landmark (``sgsrf_mmseg/analysis/landmark_grounding.py``). Example::

    python tools/analysis/landmark_grounding.py \\
        configs/sgsrf/sgsrf_tiny_synthetic_landmark.py \\
        $(cat work_dirs/sgsrf_tiny_synthetic_landmark/best_checkpoint)
"""
import argparse
import os.path as osp
import shlex
import sys
from typing import Optional, Sequence

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import DictAction

from sgsrf_mmseg.analysis.landmark_grounding import (format_landmark_grounding,
                                                     landmark_grounding)
from sgsrf_mmseg.evaluation import write_results_json
from sgsrf_mmseg.utils.command_line import (add_debug_option, int_range,
                                            run_tool)
from sgsrf_mmseg.utils.output_paths import check_outputs


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--split', default='test', choices=('val', 'test'))
    parser.add_argument('--batch-size', type=int_range(1, 1024), default=8)
    parser.add_argument(
        '--device', help='torch device (default: cuda if available, else cpu)')
    parser.add_argument(
        '--out',
        help='JSON file (default: landmark_grounding_<split>.json beside '
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
        f'landmark_grounding_{args.split}.json')
    check_outputs([out], [args.config, args.checkpoint], args.overwrite)
    result = landmark_grounding(
        args.config,
        args.checkpoint,
        split=args.split,
        batch_size=args.batch_size,
        device=args.device,
        cfg_options=args.cfg_options)
    result['command'] = shlex.join(['python'] + sys.argv)
    write_results_json(out, result)
    print(format_landmark_grounding(result))
    print(f'written to {out}')
    return result


if __name__ == '__main__':
    run_tool(main)
