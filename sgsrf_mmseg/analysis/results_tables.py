"""Markdown tables rendered from the output files of runs.

Three inputs, each a JSON file written by a tool (or, for an ablation,
listing such files), never numbers typed by hand:

* test results: ``test_results.json`` of ``tools/test.py`` (fields in
  :mod:`sgsrf_mmseg.evaluation.results_file`);
* benchmark results: the ``--out`` file of ``tools/analysis/benchmark.py``
  (:class:`~sgsrf_mmseg.analysis.benchmark.BenchmarkResults`, rendered by
  ``benchmark.report``);
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

Every block names the command lines that produced its numbers, with
paths relative to the repository or ``$WORK`` (:class:`PortablePaths`); a
block that would print another absolute path is refused.
"""
import os.path as osp
import statistics
from typing import List, Optional, Sequence, Tuple

from ..evaluation import (GROUP_MEASURES, TEST_RESULTS_KIND,
                          TEST_RESULTS_VERSION)
from ..utils.json_file import read_json
from ..utils.portable_paths import PortablePaths

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

Run = Tuple[str, dict]


def load_json(path: str) -> dict:
    """Read a JSON object; errors name the file."""
    try:
        data = read_json(path, 'results file')
    except OSError as error:
        raise FileNotFoundError(f'cannot read {path}: {error}') from error
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
    """A number for a table: ``digits`` decimals; '-' for None."""
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
                      groups: bool = True,
                      paths: Optional[PortablePaths] = None) -> str:
    """Tables of one or more test runs.

    Args:
        runs (Sequence[tuple[str, dict]]): ``(path, test results)`` pairs.
        metrics (Sequence[str], optional): Overall metrics to show.
            Defaults to None (:data:`DEFAULT_TEST_METRICS` present in the
            first run).
        groups (bool): Add the size / category breakdown of each run.
            Defaults to True.
        paths (PortablePaths, optional): How paths are written. Defaults to
            relative to this repository (or ``$WORK``).

    Returns:
        str: Markdown.
    """
    paths = paths or PortablePaths()
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
    parts.append('Produced by:\n\n' + '\n'.join(
        f"- `{paths.command(r['command'])}` (`{paths.path(path)}`)"
        for path, r in runs))
    return paths.refuse_absolute('\n\n'.join(parts), 'the test block')


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


# yapf: disable
def render_ablation_block(metrics: Sequence[str],
                          variants: Sequence[Tuple[str, list]],
                          command: Optional[str] = None,
                          paths: Optional[PortablePaths] = None,
                          sections: Tuple[str, ...] = ()) -> str:
    # yapf: enable
    """The ablation table: mean ± std over seeds per variant and metric.

    Args:
        metrics (Sequence[str]): Metrics to show.
        variants (Sequence[tuple]): As returned by :func:`load_ablation`.
        command (str, optional): The command that ran the ablation (the
            file's ``command``). Defaults to None.
        paths (PortablePaths, optional): How paths are written. Defaults to
            relative to this repository (or ``$WORK``).
        sections (tuple[str, ...]): More markdown placed after the table,
            before the list of runs. Defaults to ().

    Returns:
        str: Markdown.
    """
    paths = paths or PortablePaths()
    every_run = [(p, r) for _, runs in variants for _, p, r in runs]
    first = shared_scoring(every_run)
    rows = []
    for name, runs in variants:
        rows.append([name, ', '.join(str(seed) for seed, _, _ in runs)] + [
            mean_std([metric_value(r, m, p) for _, p, r in runs])
            for m in metrics
        ])
    commands = '\n'.join(
        f"- {name}, seed {seed}: `{paths.command(r['command'])}` "
        f'(`{paths.path(p)}`)' for name, runs in variants
        for seed, p, r in runs)
    block = '\n\n'.join([
        markdown_table(
            ['variant', 'seeds'] + list(metrics), rows, text_columns=2),
        'Mean ± sample standard deviation (n - 1) over the seeds. ' +
        _scoring_note(first) +
        (f' Produced by `{paths.command(command)}`.' if command else ''),
        *sections,
        f'<details><summary>Test runs ({len(every_run)})</summary>\n\n'
        f'{commands}\n\n</details>'
    ])
    return paths.refuse_absolute(block, 'the ablation block')
