"""The command line of the tools that check a trained model on a split of
its dataset and write the result as JSON beside its checkpoint
(``tools/analysis/text_swap.py``, ``tools/analysis/landmark_grounding.py``).
"""
import argparse
import os.path as osp
import shlex
import sys
from typing import Callable, Optional, Sequence

from mmengine.config import DictAction

from ..evaluation import write_results_json
from ..utils.command_line import add_debug_option, int_range
from ..utils.output_paths import check_outputs


def model_check_parser(description: str, splits: Sequence[str],
                       default_split: str,
                       out_name: str) -> argparse.ArgumentParser:
    """A parser with the model, the split and the output options.

    Args:
        description (str): The tool's description.
        splits (Sequence[str]): The splits it checks.
        default_split (str): The split checked by default.
        out_name (str): The output JSON's name, ``<out_name>_<split>.json``
            beside the checkpoint unless ``--out`` is given.

    Returns:
        argparse.ArgumentParser: The parser; a tool adds its own options.
    """
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--split', default=default_split, choices=splits)
    parser.add_argument('--batch-size', type=int_range(1, 1024), default=8)
    parser.add_argument(
        '--device', help='torch device (default: cuda if available, else cpu)')
    parser.add_argument(
        '--out',
        help=f'JSON file (default: {out_name}_<split>.json beside the '
        'checkpoint)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace an existing output JSON')
    add_debug_option(parser)
    return parser


def run_model_check(args: argparse.Namespace, check: Callable[..., dict],
                    format_result: Callable[[dict], str], out_name: str,
                    argv: Optional[Sequence[str]]) -> dict:
    """Run ``check`` with the parsed options, write and print its result.

    Args:
        args (argparse.Namespace): From :func:`model_check_parser`.
        check (Callable): ``check(config, checkpoint, split=,
            batch_size=, device=, cfg_options=)`` returning the result.
        format_result (Callable): The result as printed text.
        out_name (str): As in :func:`model_check_parser`.
        argv (Sequence[str], optional): The tool's arguments (None: the
            command line), recorded as the result's ``command``.

    Returns:
        dict: The result, with ``command``.
    """
    out = args.out or osp.join(
        osp.dirname(osp.abspath(args.checkpoint)),
        f'{out_name}_{args.split}.json')
    check_outputs([out], [args.config, args.checkpoint], args.overwrite)
    result = check(
        args.config,
        args.checkpoint,
        split=args.split,
        batch_size=args.batch_size,
        device=args.device,
        cfg_options=args.cfg_options)
    argv = sys.argv[1:] if argv is None else list(argv)
    result['command'] = shlex.join(['python', sys.argv[0]] + argv)
    write_results_json(out, result)
    print(format_result(result))
    print(f'written to {out}')
    return result
