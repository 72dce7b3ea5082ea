"""Generate the embedded synthetic dataset (RefSegRS layout).

``python tools/misc/generate_synthetic.py ROOT [--num-train 3000]
[--num-val 300] [--num-test 300] [--image-size 128] [--seed 0] [--force]``

Without ``--force`` an existing dataset with the same parameters is kept.
"""
import argparse
import os.path as osp
import sys
import time
from typing import Optional, Sequence

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import sgsrf_mmseg  # noqa: E402,F401
from sgsrf_mmseg.datasets import (ensure_synthetic_dataset,  # noqa: E402
                                  generate_synthetic_dataset)


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Generate the synthetic referring segmentation dataset')
    parser.add_argument('root', help='output folder')
    parser.add_argument('--num-train', type=int, default=3000)
    parser.add_argument('--num-val', type=int, default=300)
    parser.add_argument('--num-test', type=int, default=300)
    parser.add_argument('--image-size', type=int, default=128)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--force',
        action='store_true',
        help='generate even if the same dataset is already there')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    kwargs = dict(
        num_train=args.num_train,
        num_val=args.num_val,
        num_test=args.num_test,
        image_size=args.image_size,
        seed=args.seed)
    start = time.time()
    if args.force:
        info = generate_synthetic_dataset(args.root, **kwargs)
    else:
        info = ensure_synthetic_dataset(args.root, **kwargs)
    for split, stats in info['splits'].items():
        print(f'{split}: {stats["images"]} images, '
              f'{stats["expressions"]} expressions, '
              f'types {stats["expression_types"]}')
    print(f'held-out colour-kind pairs (test only): '
          f'{info["held_out_combos"]}')
    print(f'{args.root} ready in {time.time() - start:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
