"""Train a spaCy dependency parser from gold parse files, offline.

``python tools/misc/train_parser.py GOLD [GOLD ...] --out FOLDER
[--eval GOLD ...] [--seed 0] [--epochs 10] [--batch-size 16]
[--dropout 0.1] [--overwrite]``

GOLD files hold gold trees in the parse-file format (``"parser": "gold"``),
such as the synthetic dataset's ``output_phrase_train.gold_parses.json``.
The pipeline is saved to FOLDER (the same data, settings and seed give the
same parser); use it with ``text_parser=dict(model='FOLDER')`` in a dataset
config or ``--parser FOLDER`` with ``tools/misc/parse_expressions.py``.
With ``--eval``, the attachment scores on those gold trees are printed.
FOLDER may be new or empty; files of the pipeline's names in an existing
folder are replaced only with ``--overwrite`` (other files are kept).
"""
import argparse
import os.path as osp
import sys
import time
from typing import Optional, Sequence

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import sgsrf_mmseg  # noqa: F401
from sgsrf_mmseg.datasets.text_parse import (evaluate_parser,
                                             load_spacy_pipeline,
                                             read_gold_parses,
                                             train_dependency_parser)
from sgsrf_mmseg.utils.command_line import (add_debug_option, float_range,
                                            int_range, run_tool)
from sgsrf_mmseg.utils.output_paths import check_not_inputs


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Train a spaCy dependency parser from gold parses')
    parser.add_argument('gold', nargs='+', help='gold parse files')
    parser.add_argument(
        '--out', required=True, help='folder to save the pipeline to')
    parser.add_argument(
        '--eval', nargs='+', default=[], help='gold parse files to score')
    parser.add_argument('--seed', type=int_range(0), default=0)
    parser.add_argument('--epochs', type=int_range(1), default=10)
    parser.add_argument('--batch-size', type=int_range(1), default=16)
    parser.add_argument('--dropout', type=float_range(0, 0.99), default=0.1)
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace the files of a pipeline in an existing --out folder '
        '(other files there are kept)')
    add_debug_option(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    check_not_inputs([args.out], args.gold + args.eval)
    gold = read_gold_parses(args.gold)
    start = time.time()
    losses = train_dependency_parser(
        gold,
        args.out,
        seed=args.seed,
        epochs=args.epochs,
        batch_size=args.batch_size,
        dropout=args.dropout,
        overwrite=args.overwrite)
    print(f'trained on {len(gold)} gold trees in {time.time() - start:.1f} '
          f's (loss {losses[0]:.2f} -> {losses[-1]:.2f}); saved to '
          f'{args.out}')
    if args.eval:
        scores = evaluate_parser(
            load_spacy_pipeline(args.out), read_gold_parses(args.eval))
        print(f'{scores["num_texts"]} held-out trees: UAS '
              f'{100 * scores["uas"]:.2f}, LAS {100 * scores["las"]:.2f}')
    return 0


if __name__ == '__main__':
    run_tool(main)
