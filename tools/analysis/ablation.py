"""Train and test named variants of a config over several seeds.

Each run trains with ``tools/train.py`` (checkpoint chosen on val), tests
that checkpoint with ``tools/test.py`` (test split), into
``WORK/<variant>/seed<k>/``; run again, the tool skips finished runs and
goes on with the others. All runs are gathered into ``WORK/ablation.json``
(format: ``sgsrf_mmseg/analysis/ablation_results.py``), which
``tools/analysis/render_results.py ablation`` renders as a markdown table;
``--collect`` gathers the finished runs of the plan without running any
(the table of an ablation that is still running or was stopped).
Example::

    python tools/analysis/ablation.py --seeds 0 1 2 --jobs 2 \
        --work-dir work_dirs/ablation
    python tools/analysis/render_results.py ablation \
        work_dirs/ablation/ablation.json \
        --target configs/sgsrf/README.md:ablation-tiny
"""
import argparse
import os.path as osp
import shlex
import sys
from typing import Optional, Sequence

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(TOOLS))

from sgsrf_mmseg.analysis.ablation import (DEFAULT_CONFIG, VARIANTS, Tools,
                                           finished_runs, plan_runs,
                                           prepare_datasets, run_ablation)
from sgsrf_mmseg.analysis.ablation_results import (DEFAULT_METRICS,
                                                   ablation_file,
                                                   format_summary)
from sgsrf_mmseg.evaluation import write_results_json
from sgsrf_mmseg.utils.command_line import (add_debug_option, int_range,
                                            run_tool)
from sgsrf_mmseg.utils.output_paths import check_outputs


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='variants:\n' +
        '\n'.join(f'  {name:20s} {variant.description}'
                  for name, variant in VARIANTS.items()))
    parser.add_argument(
        '--config',
        help=f'config to ablate (default: {DEFAULT_CONFIG}); variants with '
        'their own config file (no_text) only go with the default')
    parser.add_argument(
        '--variants',
        nargs='+',
        default=list(VARIANTS),
        choices=list(VARIANTS),
        metavar='NAME',
        help='variants to run (default: all)')
    parser.add_argument(
        '--seeds', nargs='+', type=int_range(0), default=[0, 1, 2])
    parser.add_argument('--work-dir', default='work_dirs/ablation')
    parser.add_argument(
        '--jobs',
        type=int_range(1, 64),
        default=1,
        help='runs in parallel, each with OMP_NUM_THREADS = cores / jobs')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='options of every run (e.g. the data roots), before the '
        "variant's and the seed")
    parser.add_argument(
        '--metrics',
        nargs='+',
        default=list(DEFAULT_METRICS),
        help='metrics of the table')
    parser.add_argument(
        '--out',
        help='the ablation file (default: WORK_DIR/ablation.json, which '
        'each run of the tool on WORK_DIR rewrites); another file is '
        'replaced only with --overwrite')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace an existing --out')
    parser.add_argument(
        '--collect',
        action='store_true',
        help='run nothing: gather the planned runs that are finished (the '
        'table of an ablation still running or stopped)')
    add_debug_option(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; the exit status (1 if a run failed)."""
    args = parse_args(argv)
    command = shlex.join(['python'] + sys.argv)
    own = osp.join(args.work_dir, 'ablation.json')
    out = args.out or own
    check_outputs([out], [args.config], args.overwrite
                  or osp.abspath(out) == osp.abspath(own))
    plans = plan_runs(args.variants, args.seeds, args.work_dir,
                      osp.dirname(TOOLS), args.config, args.cfg_options)
    if args.collect:
        records, failures = finished_runs(plans), []
    else:
        prepare_datasets(plans)
        tools = Tools(osp.join(TOOLS, 'train.py'), osp.join(TOOLS, 'test.py'))
        records, failures = run_ablation(plans, tools, jobs=args.jobs)
    ablation = ablation_file(plans, records, failures, out, command,
                             args.metrics)
    write_results_json(out, ablation)
    print(format_summary(ablation))
    print(f'\n{len(records)} of {len(plans)} runs finished; written to {out}')
    for failure in failures:
        print(f'failed: {failure}')
    return 1 if failures else 0


if __name__ == '__main__':
    run_tool(main)
