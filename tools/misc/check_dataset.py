"""Check a referring segmentation dataset for defects, optionally preview it.

``python tools/misc/check_dataset.py {refsegrs,rrsisd,risbench} DATA_ROOT
[--split train val test] [--preview-dir DIR --num-preview N]``

The dataset is read as the loaders read it (see
:mod:`sgsrf_mmseg.analysis.dataset_check`). Every defect is reported with
its count and where it is; fatal defects (what the loaders refuse, and
splits whose targets are mostly empty) make the exit status 1.
"""
import argparse
import os.path as osp
import sys
from typing import Optional, Sequence

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from sgsrf_mmseg.analysis.dataset_check import (DATASETS, check_dataset,
                                                write_previews)


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
        '--num-preview', type=int, default=8, help='previews per split')
    parser.add_argument(
        '--context-length',
        type=int,
        default=77,
        help='text context of the text encoder, in tokens')
    parser.add_argument(
        '--max-size-mismatch',
        type=int,
        default=16,
        help='largest RRSIS-D annotation/image size difference the loader '
        'repairs (LoadReferringMask max_size_mismatch)')
    parser.add_argument(
        '--max-empty-fraction',
        type=float,
        default=0.5,
        help='a split with a larger share of empty targets is fatal')
    parser.add_argument(
        '--skip-pixels',
        action='store_true',
        help='only check that files exist (do not read them)')
    parser.add_argument(
        '--max-listed',
        type=int,
        default=20,
        help='places listed per defect (-1: all)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if not osp.isdir(args.data_root):
        print(f'data root not found: {args.data_root}')
        return 1
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
            write_previews(split.previews, split.split, args.preview_dir)
    print(report.summary(args.max_listed))
    return 1 if report.has_fatal else 0


if __name__ == '__main__':
    sys.exit(main())
