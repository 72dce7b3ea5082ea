"""Gradient norm of every loss term on every trainable part of a model.

``python tools/analysis/gradient_shares.py CONFIG [--checkpoint CKPT]
[--batches 4] [--out report.json] [--cfg-options k=v ...]``
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

import sgsrf_mmseg  # noqa: F401
from sgsrf_mmseg.analysis.gradient_shares import gradient_shares  # noqa
from sgsrf_mmseg.analysis.gradient_shares import render_table
from sgsrf_mmseg.utils.atomic_file import write_text_atomic
from sgsrf_mmseg.utils.command_line import (add_debug_option, int_range,
                                            run_tool)
from sgsrf_mmseg.utils.output_paths import check_outputs


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--checkpoint', help='weights to measure at')
    parser.add_argument('--batches', type=int_range(1, 1000), default=4)
    parser.add_argument('--seed', type=int_range(0), default=0)
    parser.add_argument('--out', help='also write the report as JSON')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace an existing --out')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    add_debug_option(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.out:
        check_outputs([args.out], [args.config, args.checkpoint],
                      args.overwrite)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    report = gradient_shares(cfg, args.checkpoint, args.batches, args.seed)
    print(render_table(report))
    if args.out:
        write_text_atomic(args.out, json.dumps(report, indent=1))
    return 0


if __name__ == '__main__':
    run_tool(main)
