"""Generate the embedded synthetic dataset (RefSegRS layout).

``python tools/misc/generate_synthetic.py ROOT [--num-train 3000]
[--num-val 300] [--num-test 300] [--image-size 128] [--seed 0] [--force]``

ROOT must be missing, empty, or a folder this generator wrote; anything else
is refused (exit status 1) and nothing is written. Parameters out of range
are refused at once (exit status 2). Without ``--force`` an
existing dataset with the same parameters is kept.
"""
import argparse
import math
import os.path as osp
import sys
import time
from dataclasses import fields
from typing import Optional, Sequence

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from sgsrf_mmseg.datasets.synthetic import (GeneratorParams,
                                            ensure_synthetic_dataset,
                                            generate_synthetic_dataset)
from sgsrf_mmseg.utils.command_line import (add_debug_option, int_range,
                                            run_tool)
from sgsrf_mmseg.utils.image_header import DEFAULT_MAX_PIXELS


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Generate the synthetic referring segmentation dataset')
    parser.add_argument(
        'root', help='output folder: missing, empty or written by this tool')
    for param in fields(GeneratorParams):
        parser.add_argument(
            '--' + param.name.replace('_', '-'),
            type=int_range(0),
            default=param.default,
            help=f'{param.metadata["help"]} (default: {param.default})')
    parser.add_argument(
        '--force',
        action='store_true',
        help='generate even if the same dataset is already there')
    add_debug_option(parser)
    args = parser.parse_args(argv)
    try:
        params = GeneratorParams(**generator_params(args))
    except ValueError as err:
        parser.error(str(err))
    if params.image_size**2 > DEFAULT_MAX_PIXELS:
        parser.error(f'--image-size {params.image_size} gives images over the '
                     f'pixel limit of the loaders ({DEFAULT_MAX_PIXELS:,}); '
                     f'at most {math.isqrt(DEFAULT_MAX_PIXELS)}')
    return args


def generator_params(args: argparse.Namespace) -> dict:
    """The generator's parameters among the options."""
    return {
        param.name: getattr(args, param.name)
        for param in fields(GeneratorParams)
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    params = generator_params(args)
    start = time.time()
    generate = (
        generate_synthetic_dataset if args.force else ensure_synthetic_dataset)
    info = generate(args.root, **params)
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
    run_tool(main)
