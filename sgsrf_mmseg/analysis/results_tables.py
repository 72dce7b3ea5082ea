"""Markdown tables rendered from the output files of runs.

Three inputs, each a JSON file written by a tool (or, for an ablation,
listing such files), never numbers typed by hand:

* test results: ``test_results.json`` of ``tools/test.py`` (fields in
  :mod:`sgsrf_mmseg.evaluation.results_file`);
* benchmark results: the ``--out`` file of ``tools/analysis/benchmark.py``
  (``config``, ``device_name``, ``dtype``, ``batch_size``, ``input_size``,
  ``params``, ``train``, ``infer``, ``flops``, ``stages``, ``compare``, ...);
* an ablation: several test runs (variants x seeds), in this format::

      {
        "kind": "sgsrf-ablation",
        "metrics": ["mIoU", "oIoU", "Prec@0.5"],
        "variants": [
          {"name": "SGSRF",
           "runs": [{"seed": 0, "results": "full_s0/test_results.json"},
                    {"seed": 1, "results": "full_s1/test_results.json"}]},
          {"name": "no CCR (refiner.num_blocks=0)",
           "runs": [{"seed": 0, "results": "noccr_s0/test_results.json"}]}
        ]
      }

  ``metrics`` is optional (default: mIoU, oIoU); ``results`` paths are
  relative to the ablation file. Each cell is the mean ± the sample standard
  deviation (n - 1) over the seeds; one seed shows the value alone. All
  runs must share the protocol, the dataset and the split.

Every block names the command lines that produced its numbers.
"""
import json
import os.path as osp
import statistics
from typing import List, Optional, Sequence, Tuple

from ..evaluation import (GROUP_MEASURES, TEST_RESULTS_KIND,
                          TEST_RESULTS_VERSION)

ABLATION_KIND = 'sgsrf-ablation'
DEFAULT_TEST_METRICS = ('mIoU', 'oIoU', 'Prec@0.5', 'Prec@0.6', 'Prec@0.7',
                        'Prec@0.8', 'Prec@0.9')
DEFAULT_ABLATION_METRICS = ('mIoU', 'oIoU')
#: Names of the dataset classes as the tables show them.
DATASET_NAMES = {
    'RefSegRSDataset': 'RefSegRS',
    'RRSISDDataset': 'RRSIS-D',
    'RISBenchDataset': 'RISBench',
    'SyntheticRefSegRSDataset': 'synthetic (embedded)',
}
BENCHMARK_FIELDS = ('config', 'device', 'device_name', 'dtype', 'batch_size',
                    'input_size', 'params', 'train', 'infer', 'flops')

Run = Tuple[str, dict]


def load_json(path: str) -> dict:
    """Read a JSON object; errors name the file."""
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError as error:
        raise FileNotFoundError(f'cannot read {path}: {error}') from error
    except json.JSONDecodeError as error:
        raise ValueError(f'{path} is not valid JSON: {error}') from error
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected a JSON object')
    return data


def _require(data: dict, fields: Sequence[str], path: str, what: str):
    missing = [k for k in fields if k not in data]
    if missing:
        raise ValueError(f'{path} is not {what}: it has no {missing}')


def load_test_results(path: str) -> dict:
    """Read a ``test_results.json`` of ``tools/test.py`` and check it."""
    data = load_json(path)
    if data.get('kind') != TEST_RESULTS_KIND:
        raise ValueError(f'{path} is not a test results file (kind '
                         f'{data.get("kind")!r}, expected '
                         f'{TEST_RESULTS_KIND!r})')
    if data.get('version') != TEST_RESULTS_VERSION:
        raise ValueError(f'{path}: test results version '
                         f'{data.get("version")!r}, this renderer reads '
                         f'{TEST_RESULTS_VERSION}')
    _require(data, ('command', 'config', 'dataset', 'expressions', 'protocol',
                    'metrics', 'groups'), path, 'a test results file')
    return data


def load_benchmark(path: str) -> dict:
    """Read the ``--out`` JSON of ``tools/analysis/benchmark.py``."""
    data = load_json(path)
    _require(data, BENCHMARK_FIELDS, path, 'a benchmark results file')
    return data


def markdown_table(headers: Sequence[str],
                   rows: Sequence[Sequence],
                   text_columns: int = 1) -> str:
    """A markdown table; the first ``text_columns`` are left-aligned."""
    align = [
        '---' if i < text_columns else '---:' for i in range(len(headers))
    ]
    lines = ['| ' + ' | '.join(headers) + ' |', '|' + '|'.join(align) + '|']
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)


def fmt(value: Optional[float], digits: int = 2) -> str:
    """A number with ``digits`` decimals; '-' for None."""
    return '-' if value is None else f'{float(value):.{digits}f}'


def config_name(config: str) -> str:
    """``configs/sgsrf/x.py`` -> ``x``."""
    return osp.splitext(osp.basename(config))[0]


def dataset_name(results: dict) -> str:
    """The dataset of a test run as the tables show it."""
    kind = results['dataset'].get('type')
    return DATASET_NAMES.get(kind, str(kind))


def flat_metrics(results: dict) -> dict:
    """The overall scores and each group's under the names the metric logs.

    ``mIoU``, ``oIoU``, ``Prec@X`` (``pointing``, ``drift``), and for each
    entry of ``groups`` ``mIoU_<size bin>`` / ``oIoU_<size bin>`` or
    ``mIoU@<group>`` / ``oIoU@<group>`` (and ``pointing``/``drift`` where
    measured).
    """
    metrics = dict(results['metrics'])
    for name, group in results['groups'].items():
        suffix = name if name.startswith('@') else f'_{name}'
        for key in GROUP_MEASURES:
            if group.get(key) is not None:
                metrics[f'{key}{suffix}'] = group[key]
    return metrics


def metric_value(results: dict, metric: str, path: str) -> float:
    """One metric of a test run (overall or of a group, named as
    :func:`flat_metrics` names it); an error names file and metric."""
    metrics = flat_metrics(results)
    if metric not in metrics:
        raise ValueError(f'{path} has no metric {metric!r} (it has '
                         f'{sorted(metrics)})')
    return metrics[metric]


def shared_scoring(runs: Sequence[Run]) -> dict:
    """The protocol, dataset and split the runs share, else an error."""
    first_path, first = runs[0]
    for path, results in runs[1:]:
        for key in ('protocol', 'dataset'):
            if results[key] != first[key]:
                raise ValueError(
                    f'runs in one table must share the {key}: {path} has '
                    f'{results[key]!r}, {first_path} has {first[key]!r}')
    return first


def _scoring_note(results: dict) -> str:
    dataset = results['dataset']
    return (f"Scored on the {dataset_name(results)} `{dataset.get('split')}`"
            f" split; {results['protocol']['description']}.")


def render_test_block(runs: Sequence[Run],
                      metrics: Optional[Sequence[str]] = None,
                      groups: bool = True) -> str:
    """Tables of one or more test runs.

    Args:
        runs (Sequence[tuple[str, dict]]): ``(path, test results)`` pairs.
        metrics (Sequence[str], optional): Overall metrics to show.
            Defaults to None (:data:`DEFAULT_TEST_METRICS` present in the
            first run).
        groups (bool): Add the size / category breakdown of each run.
            Defaults to True.

    Returns:
        str: Markdown.
    """
    first = shared_scoring(runs)
    if metrics is None:
        metrics = [m for m in DEFAULT_TEST_METRICS if m in first['metrics']]
    rows = [[f'`{config_name(r["config"])}`', r['expressions']] +
            [fmt(metric_value(r, m, path)) for m in metrics]
            for path, r in runs]
    parts = [markdown_table(['config', 'expressions'] + list(metrics), rows)]
    for path, results in runs if groups else ():
        if results['groups']:
            measures = [
                key for key in GROUP_MEASURES if any(
                    g.get(key) is not None for g in results['groups'].values())
            ]
            parts.append(
                markdown_table([
                    f'`{config_name(results["config"])}` group', 'expressions'
                ] + measures, [[name, g['count']] +
                               [fmt(g.get(key)) for key in measures]
                               for name, g in results['groups'].items()]))
    parts.append(_scoring_note(first))
    parts.append('Produced by:\n\n' +
                 '\n'.join(f"- `{r['command']}` (`{path}`)"
                           for path, r in runs))
    return '\n\n'.join(parts)


def benchmark_command(results: dict) -> str:
    """The benchmark command line: recorded, or rebuilt from the fields."""
    if results.get('command'):
        return results['command']
    args = [
        'python tools/analysis/benchmark.py', results['config'],
        f"--device {results['device']}", f"--dtype {results['dtype']}",
        f"--batch-size {results['batch_size']}",
        f"--input-size {results['input_size']}"
    ]
    args += [
        f'--{key} {results[key]}' for key in ('warmup', 'iters')
        if key in results
    ]
    stages = results.get('stages') or {}
    skipped = [
        name for name, missing in (('infer', results.get('infer') is None),
                                   ('flops', results.get('flops') is None),
                                   ('stages', not any(stages.values())),
                                   ('floor', results.get('floor') is None))
        if missing
    ]
    if skipped:
        args.append('--skip ' + ' '.join(skipped))
    if results.get('compare') is not None:
        args.append(' '.join(
            ['--compare'] +
            [name for name in results['compare'] if name != 'baseline']))
    return ' '.join(args)


def _gflop(value: Optional[int]) -> str:
    return '-' if value is None else f'{value / 1e9:.2f}'


def render_benchmark_block(runs: Sequence[Run]) -> str:
    """Speed, memory and FLOPs of one or more benchmark runs.

    Args:
        runs (Sequence[tuple[str, dict]]): ``(path, benchmark results)``.

    Returns:
        str: Markdown: one row per run, then the stage shares and the
        switch comparison of each run that has them.
    """
    rows, parts = [], []
    for _, r in runs:
        train, infer = r['train'], r['infer'] or {}
        rows.append([
            f"`{config_name(r['config'])}`", r['device_name'], r['dtype'],
            r['batch_size'], r['input_size'],
            fmt(r['params']['total'] / 1e6),
            fmt(train.get('step_ms'), 1),
            fmt(train.get('images_per_s')),
            fmt(train.get('peak_mib'), 0),
            fmt(infer.get('ms_per_image'), 1),
            fmt(infer.get('images_per_s')),
            fmt(infer.get('peak_mib'), 0),
            _gflop((r['flops'] or {}).get('forward_infer'))
        ])
    parts.append(
        markdown_table([
            'config', 'device', 'dtype', 'batch', 'input px', 'params (M)',
            'train ms/step', 'train images/s', 'train peak MiB',
            'predict ms/image', 'predict images/s', 'predict peak MiB',
            'predict GFLOP/batch'
        ],
                       rows,
                       text_columns=3))
    for _, r in runs:
        label = (f"`{config_name(r['config'])}`, {r['input_size']} px, "
                 f"{r['dtype']}")
        stages = r.get('stages') or {}
        names = list(
            dict.fromkeys(
                [*(stages.get('train') or {}), *(stages.get('infer') or {})]))
        if names:
            parts.append(
                markdown_table(
                    [f'stage ({label})', 'train share', 'predict share'],
                    [[n] + [
                        _share((stages.get(p) or {}).get(n))
                        for p in ('train', 'infer')
                    ] for n in names]))
        if r.get('compare'):
            parts.append(
                markdown_table([
                    f'switch ({label})', 'changes', 'train ms/step', 'speedup',
                    'peak MiB'
                ], [[
                    name, ', '.join(f'{k}={v}'
                                    for k, v in e['changes'].items()) or '-',
                    fmt(e['step_ms'], 1),
                    fmt(e['speedup']),
                    fmt(e['peak_mib'], 0) if not e.get('error') else e['error']
                ] for name, e in r['compare'].items()],
                               text_columns=2))
    parts.append('Measured with:\n\n' + '\n'.join(
        f"- `{benchmark_command(r)}` (torch {r.get('torch')}, threads "
        f"{r.get('threads')}; `{path}`)" for path, r in runs))
    return '\n\n'.join(parts)


def _share(entry: Optional[dict]) -> str:
    if not entry or entry.get('share') is None:
        return '-'
    return f"{100 * entry['share']:.1f}%"


def load_ablation(
    path: str
) -> Tuple[List[str], List[Tuple[str, List[Tuple[int, str, dict]]]]]:
    """Read an ablation file and the test results it lists.

    Args:
        path (str): The ablation JSON (format in the module docstring).

    Returns:
        tuple: The metrics, and ``(variant name, [(seed, results path,
        results)])`` per variant.
    """
    spec = load_json(path)
    if spec.get('kind') != ABLATION_KIND:
        raise ValueError(f'{path}: "kind" must be {ABLATION_KIND!r}')
    metrics = spec.get('metrics', list(DEFAULT_ABLATION_METRICS))
    if not spec.get('variants'):
        raise ValueError(f'{path}: "variants" must list at least one variant')
    folder = osp.dirname(osp.abspath(path))
    variants = []
    for index, variant in enumerate(spec['variants']):
        name = variant.get('name')
        if not name or not variant.get('runs'):
            raise ValueError(f'{path}: variants[{index}] needs a "name" and '
                             'a non-empty "runs" list')
        runs, seeds = [], set()
        for run in variant['runs']:
            if 'seed' not in run or 'results' not in run:
                raise ValueError(f'{path}: each run of variant {name!r} '
                                 'needs "seed" and "results"')
            if run['seed'] in seeds:
                raise ValueError(f'{path}: variant {name!r} lists seed '
                                 f'{run["seed"]} twice')
            seeds.add(run['seed'])
            results_path = osp.join(folder, run['results'])
            runs.append(
                (run['seed'], results_path, load_test_results(results_path)))
        variants.append((name, runs))
    return list(metrics), variants


def mean_std(values: Sequence[float]) -> str:
    """``mean ± sample std`` with two decimals; the value alone for one."""
    if len(values) == 1:
        return fmt(values[0])
    return (f'{statistics.mean(values):.2f} ± '
            f'{statistics.stdev(values):.2f}')


def render_ablation_block(metrics: Sequence[str],
                          variants: Sequence[Tuple[str, list]],
                          command: Optional[str] = None) -> str:
    """The ablation table: mean ± std over seeds per variant and metric.

    Args:
        metrics (Sequence[str]): Metrics to show.
        variants (Sequence[tuple]): As returned by :func:`load_ablation`.
        command (str, optional): The command that ran the ablation (the
            file's ``command``). Defaults to None.

    Returns:
        str: Markdown.
    """
    every_run = [(p, r) for _, runs in variants for _, p, r in runs]
    first = shared_scoring(every_run)
    rows = []
    for name, runs in variants:
        rows.append([name, ', '.join(str(seed) for seed, _, _ in runs)] + [
            mean_std([metric_value(r, m, p) for _, p, r in runs])
            for m in metrics
        ])
    commands = '\n'.join(f"- {name}, seed {seed}: `{r['command']}` "
                         f'(`{p}`)' for name, runs in variants
                         for seed, p, r in runs)
    return '\n\n'.join([
        markdown_table(
            ['variant', 'seeds'] + list(metrics), rows, text_columns=2),
        'Mean ± sample standard deviation (n - 1) over the seeds. ' +
        _scoring_note(first) +
        (f' Produced by `{command}`.' if command else ''),
        f'<details><summary>Test runs ({len(every_run)})</summary>\n\n'
        f'{commands}\n\n</details>'
    ])
