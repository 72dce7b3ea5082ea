"""Generate the embedded synthetic dataset (RefSegRS layout).

``python tools/misc/generate_synthetic.py ROOT [--num-train 3000]
[--num-val 300] [--num-test 300] [--image-size 128] [--seed 0] [--force]``

ROOT must be missing, empty, or a folder this generator wrote; anything else
is refused (exit status 1) and nothing is written. Without ``--force`` an
existing dataset with the same parameters is kept.
"""
import argparse
import os.path as osp
import sys
import time
from dataclasses import fields
from typing import Optional, Sequence

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from sgsrf_mmseg.datasets.synthetic import (ForeignDataError, GeneratorParams,
                                            ensure_synthetic_dataset,
                                            generate_synthetic_dataset)


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Generate the synthetic referring segmentation dataset')
    parser.add_argument(
        'root', help='output folder: missing, empty or written by this tool')
    for param in fields(GeneratorParams):
        parser.add_argument(
            '--' + param.name.replace('_', '-'),
            type=int,
            default=param.default,
            help=f'{param.metadata["help"]} (default: {param.default})')
    parser.add_argument(
        '--force',
        action='store_true',
        help='generate even if the same dataset is already there')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    params = {
        param.name: getattr(args, param.name)
        for param in fields(GeneratorParams)
    }
    start = time.time()
    generate = (
        generate_synthetic_dataset if args.force else ensure_synthetic_dataset)
    try:
        info = generate(args.root, **params)
    except (ForeignDataError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    for split, stats in info['splits'].items():
        print(f'{split}: {stats["scenes"]} scenes, '
              f'{stats["referents"]} referents, '
              f'{stats["expressions"]} expressions, '
              f'types {stats["expression_types"]}, '
              f'groups {stats["expression_groups"]}, held-out pair '
              f'{stats["held_out_pair_expressions"]}')
    print(f'held-out colour-kind pairs (test only): '
          f'{info["held_out_combos"]}')
    print(f'{args.root} ready in {time.time() - start:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
