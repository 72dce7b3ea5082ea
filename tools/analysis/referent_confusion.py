"""Did a failed expression segment another referent of its scene?

Reads the ``--out`` folder of ``tools/test.py`` (``expressions.csv`` and
the predicted masks) and the dataset in the RefSegRS layout; for each
expression whose scene has another referent, compares the prediction with
its own target and with the other referents' masks, and prints per group
the share of ``right``, ``other_referent`` (a grounding error) and
``poor_mask`` (a segmentation error); the rule is in
``sgsrf_mmseg/analysis/referent_confusion.py``. Example::

    python tools/analysis/referent_confusion.py work_dirs/demo/test_out \\
        --target configs/sgsrf/README.md:referent-confusion
"""
import argparse
import json
import os.path as osp
import sys
from dataclasses import asdict
from functools import partial
from typing import Optional, Sequence

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from sgsrf_mmseg.analysis.document_blocks import (replace_marker_block,
                                                  update_document)
from sgsrf_mmseg.analysis.failure_gallery import EXPRESSIONS_CSV
# yapf: disable
from sgsrf_mmseg.analysis.referent_confusion import (
    HIT_IOU, ReferentConfusion, referent_confusion, referent_confusion_table,
    render_referent_confusion_block)
from sgsrf_mmseg.utils.atomic_file import write_text_atomic
from sgsrf_mmseg.utils.command_line import (add_debug_option, file_and_name,
                                            run_tool)
from sgsrf_mmseg.utils.output_paths import check_not_inputs, check_outputs
from sgsrf_mmseg.utils.portable_paths import PortablePaths

# yapf: enable


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'results',
        help='the --out folder of tools/test.py (expressions.csv '
        'and the predicted masks)')
    parser.add_argument(
        '--data-root',
        help='the dataset in the RefSegRS layout (default: the folder above '
        'the images named in expressions.csv)')
    parser.add_argument('--out', help='JSON file of the results')
    parser.add_argument(
        '--target',
        type=file_and_name,
        metavar='FILE.md:NAME',
        help='markdown file and block name to replace with the table')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace an existing --out')
    add_debug_option(parser)
    return parser.parse_args(argv)


def as_json(result: ReferentConfusion, command: str) -> dict:
    """The results and the command line, as the ``--out`` JSON."""
    return dict(
        kind='sgsrf-referent-confusion',
        command=command,
        hit_iou=HIT_IOU,
        **asdict(result))


def main(argv: Optional[Sequence[str]] = None) -> ReferentConfusion:
    """Command-line entry point; returns the analysis."""
    args = parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)
    command = ['python', osp.abspath(__file__)] + argv
    inputs = [args.results, osp.join(args.results, EXPRESSIONS_CSV)]
    if args.out:
        check_outputs([args.out], inputs, args.overwrite)
    if args.target:
        check_not_inputs([args.target[0]], inputs)
    result = referent_confusion(args.results, args.data_root)
    print(referent_confusion_table(result))
    print(f'{len(result.expressions)} expressions of scenes with another '
          f'referent; {result.single_referent} of single-referent scenes '
          'left out')
    if args.out:
        data = as_json(result, PortablePaths().command(command))
        write_text_atomic(args.out,
                          json.dumps(data, indent=2) + '\n', args.overwrite)
        print(f'written to {args.out}')
    if args.target:
        path, name = args.target
        block = render_referent_confusion_block(result, command)
        changed = update_document(
            path,
            partial(replace_marker_block, name=name, block=block, source=path))
        print(
            f"{path}: results:{name} {'updated' if changed else 'unchanged'}")
    return result


if __name__ == '__main__':
    run_tool(main)
