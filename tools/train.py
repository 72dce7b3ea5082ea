"""Train a model: ``python tools/train.py CONFIG [--work-dir DIR] [--resume]``."""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.runner import Runner  # noqa: E402

from sgsrf_mmseg.engine.launch import (add_common_arguments,  # noqa: E402
                                       load_config, prepare_train_config)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        help='resume from the latest checkpoint in the work dir, or from '
        'the checkpoint given')
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
    Runner.from_cfg(cfg).train()


if __name__ == '__main__':
    main()
