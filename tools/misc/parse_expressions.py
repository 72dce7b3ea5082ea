"""Parse the expressions of dataset splits into their parse caches.

``python tools/misc/parse_expressions.py CONFIG [--split train val test]
[--parser en_core_web_sm | --parser PIPELINE_FOLDER] [--cache-file PATH]
[--cfg-options KEY=VALUE ...]``

The dataset comes from the config's dataloaders (``data_root`` and the
other fields as configured; override them with ``--cfg-options``). Each
split's expressions are parsed with spaCy (a progress bar shows) into the
parse cache beside its annotation file (``output_phrase_{split}.parses.json``
or ``rrsisd/refs(unc).parses.json``), or ``--cache-file``; expressions
already in the cache for the same parser are kept. ``--parser`` defaults to
the split's ``text_parser`` in the config, else the training dataset's
(the one the structural loss reads; ``text_parser=dict(train_on_gold=True)``
of the synthetic dataset included). Run it once before a distributed
training so that the ranks find the caches complete.
"""
import argparse
import os.path as osp
import sys
import time
from typing import Optional, Sequence

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import Config, DictAction

import sgsrf_mmseg  # noqa: F401
from sgsrf_mmseg.datasets.text_parse import parse_dataset_split
from sgsrf_mmseg.utils.command_line import add_debug_option, run_tool


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Parse the expressions of dataset splits with spaCy')
    parser.add_argument(
        'config', help='config whose dataloaders name the '
        'dataset')
    parser.add_argument(
        '--split',
        nargs='+',
        default=['train', 'val', 'test'],
        choices=['train', 'val', 'test'])
    parser.add_argument(
        '--parser',
        help='spaCy pipeline: an installed package (en_core_web_sm) or a '
        'pipeline folder (tools/misc/train_parser.py); defaults to the '
        "split's text_parser in the config, else the training dataset's")
    parser.add_argument(
        '--cache-file',
        help='parse cache to read and write (one file for the splits '
        'given); defaults to the file beside each annotation file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. '
        'train_dataloader.dataset.data_root=data/RefSegRS')
    add_debug_option(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    for split in args.split:
        start = time.time()
        dataset = parse_dataset_split(cfg, split, args.parser, args.cache_file)
        texts = {dataset.get_data_info(i)['text'] for i in range(len(dataset))}
        print(f'{split}: {len(dataset)} expressions ({len(texts)} distinct) '
              f'parsed in {dataset.text_parse_file} '
              f'({time.time() - start:.1f} s)')
    return 0


if __name__ == '__main__':
    run_tool(main)
