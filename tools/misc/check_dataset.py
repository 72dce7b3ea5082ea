"""Check a referring segmentation dataset for defects, optionally preview it.

``python tools/misc/check_dataset.py {refsegrs,rrsisd,risbench} DATA_ROOT
[--split train val test] [--preview-dir DIR --num-preview N] [--overwrite]``

The dataset is read as the loaders read it (see
:mod:`sgsrf_mmseg.analysis.dataset_check`). Every defect is reported with
its count and where it is; fatal defects (what the loaders refuse, and
splits whose targets are mostly empty) make the exit status 1. The preview
folder must be new or empty unless ``--overwrite`` is given.
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from sgsrf_mmseg.analysis.dataset_check import (DATASETS, check_dataset,
                                                write_previews)
from sgsrf_mmseg.utils.command_line import (add_debug_option, float_range,
                                            int_range, run_tool)
from sgsrf_mmseg.utils.output_paths import check_output_folder


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Check a referring segmentation dataset for defects')
    parser.add_argument('dataset', choices=sorted(DATASETS))
    parser.add_argument('data_root', help='dataset root (released layout)')
    parser.add_argument(
        '--split',
        nargs='+',
        default=['train', 'val', 'test'],
        choices=['train', 'val', 'test'])
    parser.add_argument('--preview-dir', help='write preview PNGs here')
    parser.add_argument(
        '--num-preview',
        type=int_range(0, 1000),
        default=8,
        help='previews per split')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace previews of the same names in --preview-dir')
    parser.add_argument(
        '--context-length',
        type=int_range(3),
        default=77,
        help='text context of the text encoder, in tokens')
    parser.add_argument(
        '--max-size-mismatch',
        type=int_range(0),
        default=16,
        help='largest RRSIS-D annotation/image size difference the loader '
        'repairs (LoadReferringMask max_size_mismatch)')
    parser.add_argument(
        '--max-empty-fraction',
        type=float_range(0, 1),
        default=0.5,
        help='a split with a larger share of empty targets is fatal')
    parser.add_argument(
        '--skip-pixels',
        action='store_true',
        help='only check that files exist (do not read them)')
    parser.add_argument(
        '--max-listed',
        type=int_range(-1),
        default=20,
        help='places listed per defect (-1: all)')
    add_debug_option(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if not osp.isdir(args.data_root):
        raise FileNotFoundError(
            f'data root {args.data_root} is not a folder; give the folder of '
            f'the released {args.dataset} files')
    if args.preview_dir:
        check_output_folder(
            args.preview_dir, [args.data_root],
            args.overwrite,
            option='--preview-dir')
    report, splits = check_dataset(
        args.dataset,
        args.data_root,
        args.split,
        context_length=args.context_length,
        max_size_mismatch=args.max_size_mismatch,
        read_pixels=not args.skip_pixels,
        max_empty_fraction=args.max_empty_fraction,
        num_preview=args.num_preview if args.preview_dir else 0)
    for split in splits:
        print(f'{split.split}: {split.usable} usable expressions')
        if args.preview_dir:
            write_previews(split.previews, split.split, args.preview_dir,
                           args.overwrite)
    print(report.summary(args.max_listed))
    return 1 if report.has_fatal else 0


if __name__ == '__main__':
    run_tool(main)
