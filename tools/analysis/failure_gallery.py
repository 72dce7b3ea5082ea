"""Write an HTML page of the worst expressions of a split, with their stages.

Example::

    python tools/test.py CONFIG CKPT --out work_dirs/test_out
    python tools/analysis/failure_gallery.py CONFIG CKPT \\
        --results work_dirs/test_out --worst 24 [--group held_out_pair] \\
        --out work_dirs/failure_gallery.html

The expressions are ranked by the IoU the metric computed, read from the
``expressions.csv`` that ``tools/test.py --out`` writes; without
``--results`` the test runs first (its files kept in
``<out without .html>_results/``). Each shown expression runs once more for
its stage panels. The page is one file; pictures are embedded.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from sgsrf_mmseg.utils.command_line import add_debug_option, run_tool


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Failure gallery: the worst expressions of a split with '
        'their stage panels, as one HTML page')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--split',
        default='test',
        choices=['train', 'val', 'test'],
        help='split (default: test)')
    parser.add_argument(
        '--worst', type=int, default=24, help='expressions shown')
    parser.add_argument(
        '--group',
        help='only this group (e.g. held_out_pair, small, relation)')
    parser.add_argument(
        '--results',
        help='expressions.csv of tools/test.py --out for this checkpoint '
        'and split (or its folder); default: run the test first')
    parser.add_argument(
        '--out',
        help='the HTML page (default: work_dirs/failure_gallery/'
        '<config>_<split>.html)')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace an existing page')
    parser.add_argument(
        '--parser',
        help="spaCy pipeline parsing the expressions (default: the "
        "dataset's text_parser)")
    parser.add_argument(
        '--device', help="torch device; default 'cuda' if available")
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    add_debug_option(parser)
    args = parser.parse_args(argv)
    if args.worst < 1:
        parser.error(f'--worst must be at least 1, got {args.worst}')
    if args.out is None:
        stem = osp.splitext(osp.basename(args.config))[0]
        args.out = osp.join('work_dirs', 'failure_gallery',
                            f'{stem}_{args.split}.html')
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from sgsrf_mmseg.analysis.failure_gallery import write_failure_gallery
    entries = write_failure_gallery(
        args.config,
        args.checkpoint,
        args.out,
        split=args.split,
        worst=args.worst,
        group=args.group,
        results=args.results,
        parser=args.parser,
        device=args.device,
        cfg_options=args.cfg_options,
        overwrite=args.overwrite)
    print(f'{len(entries)} expressions (IoU {100 * entries[0].result.iou:.1f}'
          f' to {100 * entries[-1].result.iou:.1f}) -> {args.out}')
    return 0


if __name__ == '__main__':
    run_tool(main)
