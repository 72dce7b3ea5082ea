"""Test a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [--out DIR]``.

The scores are printed with the scoring protocol they follow and written to
``test_results.json`` in the run's log folder (``WORK_DIR/<timestamp>/``)
and to ``--results FILE`` if given; ``tools/analysis/render_results.py``
renders them into the documentation. The command line is recorded with its
absolute paths written relative to the repository (or as ``$WORK/...``
under the folder that the ``WORK`` environment variable names).

``--show-dir DIR --show-stages`` also writes the stage panels of the drawn
expressions to ``DIR/stages/<stem>_<ref_id>_<sent_id>_stages.png`` (one more
forward pass of those batches), parsed by the test set's ``text_parser``,
else the training set's, or the spaCy pipeline ``--stage-parser`` names.
``--results`` and ``--out`` never replace the config or the checkpoint, and
replace existing files only with ``--overwrite`` (see
:mod:`sgsrf_mmseg.engine.run_outputs`).

``--precision bf16`` or ``int8`` scores the checkpoint in that precision
(see ``sgsrf_mmseg/apis/precision.py``; int8 on the CPU only); the
recorded command line names it. A precision the machine cannot run is
refused before anything is built, naming what the machine lacks (exit 1).
"""
import argparse
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

from mmengine.config import Config
from mmengine.dist import is_main_process

from sgsrf_mmseg.apis.precision import add_precision_argument, default_device
from sgsrf_mmseg.apis.precision_hook import PrecisionHook
from sgsrf_mmseg.apis.stage_figure_hook import StageFigureHook
from sgsrf_mmseg.apis.stage_parses import give_split_parses
from sgsrf_mmseg.apis.stage_recorder import check_stage_model
from sgsrf_mmseg.engine.launch import (add_common_arguments, build_runner,
                                       load_config, prepare_test_config)
from sgsrf_mmseg.engine.run_outputs import RunOutputs
from sgsrf_mmseg.evaluation import TEST_RESULTS_FILE, save_test_results
from sgsrf_mmseg.utils.command_line import UsageError, int_range, run_tool
from sgsrf_mmseg.utils.portable_paths import PortablePaths


def parse_args():
    parser = argparse.ArgumentParser(description='Test a segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out',
        help='also write the predicted masks as PNG files and the '
        'per-expression scores (expressions.csv) into this dir')
    parser.add_argument(
        '--results',
        help='also write the results JSON (metrics, protocol, counts) here')
    parser.add_argument(
        '--show-dir',
        help='write visualizations (image | ground truth | prediction, with '
        'the expression) into SHOW_DIR/vis_data/vis_image')
    parser.add_argument(
        '--show-interval',
        type=int_range(1),
        default=1,
        help='visualize one sample every this many')
    parser.add_argument(
        '--show-stages',
        action='store_true',
        help='with --show-dir: also draw the stage panels (parse, attention '
        'of each word, cue, prompts, adapters, mask) into SHOW_DIR/stages')
    parser.add_argument(
        '--stage-parser',
        help="--show-stages: spaCy pipeline parsing the expressions "
        "(default: the dataset's text_parser)")
    add_precision_argument(parser)
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace an existing --results file and the files of the same '
        'names in --out (never the config or the checkpoint)')
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.show_stages and not args.show_dir:
        parser.error('--show-stages needs --show-dir')
    if args.stage_parser and not args.show_stages:
        parser.error('--stage-parser is used with --show-stages')
    return args


def enable_visualization(cfg: Config, show_dir: str, interval: int) -> None:
    """Turn on the visualization hook to write pictures into ``show_dir``."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise ValueError('--show-dir needs default_hooks.visualization '
                         '(SegVisualizationHook) in the config')
    hook.draw = True
    hook.interval = interval
    cfg.visualizer.save_dir = show_dir


def main():
    args = parse_args()
    precision = PrecisionHook(args.precision, str(default_device()))
    cfg = prepare_test_config(
        load_config(args),
        config_path=args.config,
        checkpoint=args.checkpoint,
        work_dir=args.work_dir,
        launcher=args.launcher)
    if args.show_dir:
        enable_visualization(cfg, args.show_dir, args.show_interval)
    parse_source = give_split_parses(
        cfg, 'test', args.stage_parser) if args.show_stages else None
    if args.out:
        cfg.test_evaluator.output_dir = args.out
        cfg.test_evaluator.keep_results = True
        cfg.test_evaluator.overwrite = args.overwrite
    with RunOutputs(args.config, args.checkpoint, cfg.work_dir, args.results,
                    args.out, args.overwrite):
        runner = build_runner(cfg)
        runner.register_hook(precision)
        if args.show_stages:
            try:
                check_stage_model(
                    getattr(runner.model, 'module', runner.model))
            except TypeError as err:
                raise UsageError(f'--show-stages: {err}') from None
            runner.register_hook(
                StageFigureHook(
                    osp.join(args.show_dir, 'stages'), args.show_interval,
                    parse_source or 'no text_parser in the config; name a '
                    'spaCy pipeline with --stage-parser'))
        runner.test()
        if not is_main_process():
            return
        paths = [osp.join(runner.log_dir, TEST_RESULTS_FILE)]
        paths += [args.results] if args.results else []
        results = save_test_results(
            runner.test_loop.evaluator,
            paths,
            command=PortablePaths(REPO).command(['python'] + sys.argv),
            config=args.config,
            checkpoint=args.checkpoint,
            dataset_cfg=cfg.test_dataloader.dataset)
    if results is None:
        print('no ReferringSegMetric scores (format_only or another metric): '
              'no results file written')
    else:
        print(results['protocol']['description'])
        print('results written to ' + ', '.join(paths))


if __name__ == '__main__':
    run_tool(main)
