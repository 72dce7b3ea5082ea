"""Measure the speed, memory and FLOPs of a model config.

A training step (with its forward, backward and optimizer parts), inference,
peak memory, FLOPs, the time of each stage, the two towers alone as their
libraries write them (the floor) and, with ``--compare``, the training step
with each optimisation switch flipped. What each measure is, and every field
of the JSON written by ``--out``: ``sgsrf_mmseg.analysis.benchmark.record``.

Example::

    python tools/analysis/benchmark.py configs/_base_/models/sgsrf_tiny.py \
        --batch-size 8 --iters 5 --compare --out work_dirs/bench_tiny.json

``--precisions fp32 bf16 int8`` measures inference instead: the predict
time per image in each precision at each of ``--batch-sizes``, beside the
fp32 towers' forward, each precision's agreement with fp32, and
``segment_geotiff`` of a generated ``--scene-size`` scene at each of
``--scene-batch-sizes`` (record: ``sgsrf_mmseg.analysis.benchmark.
precision_record``; ``tools/analysis/render_results.py precision`` renders
it)::

    python tools/analysis/benchmark.py configs/_base_/models/sgsrf_tiny.py \
        --device cpu --precisions fp32 bf16 int8 --scene-size 512 \
        --out work_dirs/bench/precision_tiny.json
"""
import argparse
import json
import os.path as osp
import shlex
import sys
from typing import Optional, Sequence, Tuple, Union

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

from mmengine.config import DictAction

# yapf: disable
from sgsrf_mmseg.analysis.benchmark import (SKIPPABLE, SWITCHES,
                                            BenchmarkResults,
                                            BenchmarkSettings,
                                            PrecisionResults,
                                            PrecisionSettings,
                                            precision_tables, render, run,
                                            run_precisions)
from sgsrf_mmseg.apis.precision import PRECISIONS
# yapf: enable
from sgsrf_mmseg.utils.atomic_file import write_text_atomic
from sgsrf_mmseg.utils.command_line import (add_debug_option, int_range,
                                            run_tool)
from sgsrf_mmseg.utils.output_paths import check_outputs
from sgsrf_mmseg.utils.portable_paths import PortablePaths

Settings = Union[BenchmarkSettings, PrecisionSettings]
#: Options of the --precisions mode alone.
PRECISION_OPTIONS = ('precisions', 'batch_sizes', 'scene_size',
                     'scene_batch_sizes')


def parse_args(
        argv: Optional[Sequence[str]] = None
) -> Tuple[Settings, Optional[str]]:
    """Parse the command line into the settings and the JSON path."""
    parser = argparse.ArgumentParser(
        description='Benchmark training/inference speed, memory and FLOPs')
    parser.add_argument('config', help='config file with a model dict')
    parser.add_argument(
        '--device',
        choices=['cpu', 'cuda'],
        help='device (default: cuda if available)')
    parser.add_argument(
        '--dtype',
        default='fp32',
        choices=['fp32', 'bf16'],
        help='bf16 runs forward passes under torch.autocast')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument(
        '--input-size',
        type=int,
        default=None,
        help='square input size; also sets the CLIP and SAM image sizes '
        '(default: the data preprocessor size of the config)')
    parser.add_argument(
        '--iters',
        type=int,
        default=10,
        help='timed iterations per measurement')
    parser.add_argument(
        '--warmup',
        type=int,
        default=2,
        help='untimed iterations before each measurement')
    parser.add_argument(
        '--compare',
        nargs='*',
        default=None,
        choices=sorted(SWITCHES),
        help='measure the training step with each switch flipped; without '
        'names: every switch the config offers')
    parser.add_argument(
        '--skip',
        nargs='+',
        default=[],
        choices=list(SKIPPABLE),
        help='measurements to leave out (their JSON fields are null)')
    parser.add_argument(
        '--precisions',
        nargs='+',
        choices=PRECISIONS,
        help='measure inference in these precisions instead (fp32 is '
        'always measured, as the reference)')
    parser.add_argument(
        '--batch-sizes',
        type=int_range(1),
        nargs='+',
        default=[1, 4],
        help='--precisions: batch sizes of the predict times')
    parser.add_argument(
        '--scene-size',
        type=int_range(0),
        default=4096,
        help='--precisions: side of the generated GeoTIFF scene (0: none)')
    parser.add_argument(
        '--scene-batch-sizes',
        type=int_range(1),
        nargs='+',
        default=[1, 4],
        help='--precisions: tiles per pass of the scene runs')
    parser.add_argument('--seed', type=int_range(0), default=0)
    parser.add_argument('--out', help='write the results to this JSON file')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace an existing --out')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    add_debug_option(parser)
    args = vars(parser.parse_args(argv))
    out, overwrite = args.pop('out'), args.pop('overwrite')
    args.pop('debug')
    if out:
        check_outputs([out], [args['config']], overwrite)
    precision_args = {name: args.pop(name) for name in PRECISION_OPTIONS}
    try:
        if precision_args['precisions'] is None:
            return BenchmarkSettings(**args), out
        if args['compare'] is not None or args['skip']:
            parser.error('--compare and --skip measure training, not used '
                         'with --precisions')
        return PrecisionSettings(
            config=args['config'],
            device=args['device'] or 'cpu',
            input_size=args['input_size'],
            iters=args['iters'],
            warmup=args['warmup'],
            seed=args['seed'],
            cfg_options=args['cfg_options'],
            **precision_args), out
    except ValueError as error:
        parser.error(str(error))


def main(
    argv: Optional[Sequence[str]] = None
) -> Union[BenchmarkResults, PrecisionResults]:
    """Command-line entry point; returns the results."""
    settings, out = parse_args(argv)
    command = shlex.join(['python', sys.argv[0]] +
                         list(sys.argv[1:] if argv is None else argv))
    command = PortablePaths(REPO).command(command)
    if isinstance(settings, PrecisionSettings):
        results = run_precisions(settings, command=command)
        print(precision_tables(results))
    else:
        results = run(settings, command=command)
        print(render(results))
    if out:
        write_text_atomic(out, json.dumps(results.to_dict(), indent=2))
        print(f'results written to {out}')
    return results


if __name__ == '__main__':
    run_tool(main)
