"""Train a model: ``python tools/train.py CONFIG [--work-dir DIR]
[--resume]``."""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from sgsrf_mmseg.engine.launch import (add_common_arguments, build_runner,
                                       load_config, prepare_train_config)
from sgsrf_mmseg.utils.command_line import run_tool


def parse_args():
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    resume = parser.add_mutually_exclusive_group()
    resume.add_argument(
        '--resume',
        nargs='?',
        const='latest',
        metavar='CHECKPOINT',
        help='resume from the checkpoint the work dir\'s last_checkpoint '
        'names, or from the checkpoint given; an error when there is none')
    resume.add_argument(
        '--auto-resume',
        dest='resume',
        action='store_const',
        const='auto',
        help='resume from the latest checkpoint in the work dir when there '
        'is one, else train from scratch')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision training (bf16 on CPU and on GPUs that have '
        'it, else fp16 with loss scaling)')
    add_common_arguments(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = prepare_train_config(
        load_config(args),
        config_path=args.config,
        work_dir=args.work_dir,
        launcher=args.launcher,
        amp=args.amp,
        resume=args.resume)
    build_runner(cfg).train()


if __name__ == '__main__':
    run_tool(main)
