"""Render results tables from run output files into the documentation.

Five kinds of input (formats in ``sgsrf_mmseg/analysis/results_tables.py``):

* ``test``: ``test_results.json`` files written by ``tools/test.py``;
* ``benchmark``: JSON files written by ``tools/analysis/benchmark.py --out``;
* ``precision``: the JSON file of one ``tools/analysis/benchmark.py
  --precisions ... --out`` run;
* ``agreement``: the JSON file of ``tools/analysis/precision_agreement.py``;
* ``ablation``: a JSON listing test runs per variant and seed.

Without ``--target`` the block is printed. ``--target FILE:NAME`` replaces
the text between ``<!-- results:NAME -->`` and ``<!-- /results:NAME -->`` in
FILE (repeatable); ``--metafile FILE:MODEL`` (test, one run) replaces that
model's ``Results`` in an OpenMMLab metafile. Everything else in the files
stays byte-identical. Paths in a block are written relative to the
repository, or as ``$WORK/...`` for those under the folder that the ``WORK``
environment variable names; a block that would print any other absolute
path is refused. Examples::

    python tools/analysis/render_results.py test \
        work_dirs/demo/20261127_120000/test_results.json \
        --target README.md:demo-test \
        --metafile configs/sgsrf/metafile.yaml:sgsrf_tiny_synthetic
    python tools/analysis/render_results.py benchmark bench_512.json \
        bench_1024.json --target configs/sgsrf/README.md:speed-gpu
    python tools/analysis/render_results.py ablation ablation.json \
        --target configs/sgsrf/README.md:ablation-refsegrs
    python tools/analysis/render_results.py precision precision_full.json \
        --target configs/sgsrf/README.md:cpu-precision
    python tools/analysis/render_results.py agreement agreement.json \
        --target configs/sgsrf/README.md:demo-precision
"""
import argparse
import os.path as osp
import sys
from functools import partial
from typing import List, Optional, Sequence, Tuple

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from sgsrf_mmseg.analysis.ablation_tables import (render_comparison_table,
                                                  render_variant_table)
from sgsrf_mmseg.analysis.benchmark import (load_benchmark,
                                            load_precision_results,
                                            render_benchmark_block,
                                            render_precision_block)
from sgsrf_mmseg.analysis.document_blocks import (replace_marker_block,
                                                  replace_metafile_results,
                                                  update_document)
from sgsrf_mmseg.analysis.precision_agreement import (load_agreement,
                                                      render_agreement_block)
# yapf: disable
from sgsrf_mmseg.analysis.results_tables import (dataset_name, load_ablation,
                                                 load_json, load_test_results,
                                                 metric_value,
                                                 render_ablation_block,
                                                 render_test_block)
from sgsrf_mmseg.utils.command_line import (add_debug_option, file_and_name,
                                            run_tool)

# yapf: enable


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'kind',
        choices=['test', 'benchmark', 'precision', 'agreement', 'ablation'])
    parser.add_argument('files', nargs='+', help='the results JSON file(s)')
    parser.add_argument(
        '--target',
        type=file_and_name,
        action='append',
        default=[],
        metavar='FILE:NAME',
        help='markdown file and block name to replace')
    parser.add_argument(
        '--metafile',
        type=file_and_name,
        metavar='FILE:MODEL',
        help='(test, one run) metafile and model whose Results to replace')
    parser.add_argument(
        '--metrics',
        nargs='+',
        help='(test, ablation) metrics to show; test default: mIoU, oIoU, '
        'Prec@0.5..0.9; ablation default: the file\'s "metrics"')
    parser.add_argument(
        '--no-groups',
        action='store_true',
        help='(test) leave out the size and category breakdown')
    add_debug_option(parser)
    args = parser.parse_args(argv)
    if args.metafile and (args.kind != 'test' or len(args.files) != 1):
        parser.error('--metafile takes the results of one test run')
    if args.kind in ('ablation', 'precision', 'agreement') \
            and len(args.files) != 1:
        parser.error(f'{args.kind} takes one results file')
    return args


def render(args: argparse.Namespace) -> Tuple[str, List]:
    """The block, and the loaded (path, results) runs."""
    if args.kind == 'test':
        runs = [(p, load_test_results(p)) for p in args.files]
        return render_test_block(
            runs, metrics=args.metrics, groups=not args.no_groups), runs
    if args.kind == 'benchmark':
        runs = [(p, load_benchmark(p)) for p in args.files]
        return render_benchmark_block(runs), runs
    if args.kind == 'precision':
        path = args.files[0]
        return render_precision_block(path, load_precision_results(path)), []
    if args.kind == 'agreement':
        path = args.files[0]
        return render_agreement_block(path, load_agreement(path)), []
    metrics, variants = load_ablation(args.files[0])
    spec = load_json(args.files[0])
    baselines = {e['name']: e.get('baseline') for e in spec['variants']}
    block = render_ablation_block(
        args.metrics or metrics,
        variants,
        spec.get('command'),
        sections=(render_comparison_table(variants, baselines=baselines), ))
    return render_variant_table(spec['variants']) + '\n\n' + block, []


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command-line entry point."""
    args = parse_args(argv)
    block, runs = render(args)
    if not args.target and not args.metafile:
        print(block)
    for path, name in args.target:
        changed = update_document(
            path,
            partial(replace_marker_block, name=name, block=block, source=path))
        state = 'updated' if changed else 'unchanged'
        print(f'{path}: results:{name} {state}')
    if args.metafile:
        path, model = args.metafile
        results_path, results = runs[0]
        metrics = {
            m: metric_value(results, m, results_path)
            for m in args.metrics or ('mIoU', 'oIoU')
        }
        changed = update_document(
            path,
            partial(
                replace_metafile_results,
                model=model,
                dataset=dataset_name(results),
                metrics=metrics,
                source=path))
        state = 'updated' if changed else 'unchanged'
        print(f'{path}: {model} Results {state}')


if __name__ == '__main__':
    run_tool(main)
