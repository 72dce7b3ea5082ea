"""The ablation file: the scores of every run, their mean and std over seeds.

``tools/analysis/ablation.py`` writes it as ``WORK/ablation.json``, in the
multi-run format that ``tools/analysis/render_results.py ablation`` renders
into a markdown table, with more fields::

    kind       "sgsrf-ablation"
    command    the ablation command line (its paths, and those of config
               and checkpoint, relative to the repository or $WORK, see
               ``utils.portable_paths``)
    metrics    the metrics of the table (default: DEFAULT_METRICS)
    variants   one entry per variant with at least one finished run, in
               the order asked:
               name, description, side_effects, config, cfg_options (the
               variant's own), baseline (the variant it changes one thing
               of, where not full; '' otherwise),
               runs: [{seed,
                       results      the run's test_results.json, relative
                                    to the ablation file,
                       checkpoint   the checkpoint chosen on val,
                       val          {metric, iter, score} of that checkpoint,
                       train_s, test_s  wall times in seconds,
                       metrics      the flat test metrics}],
               summary: {metric: {mean, std, n}} over the seeds (std: the
               sample standard deviation, n - 1; null for one seed; n: the
               seeds that have the metric)
    failed     [{variant, seed, stage, log, message}]: runs that stopped

Flat test metrics are those of ``results_tables.flat_metrics``: the overall
scores of ``test_results.json`` and each group's, named as the metric logs
them.
"""
import os.path as osp
import statistics
from collections import OrderedDict
from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

from ..utils.portable_paths import PortablePaths
from .ablation import RESULTS_FILE, RunFailed, RunPlan
from .ablation_variants import VARIANTS
from .results_tables import ABLATION_KIND, flat_metrics, load_json

#: mIoU, oIoU, mIoU of the synthetic data's structure groups (relations,
#: role-reversal pairs, scenes with another referent, scenes with a
#: look-alike of the target), of colour-kind pairs held out of training and
#: of targets under 1% of the image, then the grounding measures (pointing
#: accuracy, drift).
DEFAULT_METRICS = ('mIoU', 'oIoU', 'mIoU@relation', 'mIoU@role_reversal',
                   'mIoU@same_image_other_referent', 'mIoU@look_alike',
                   'mIoU@held_out_pair', 'mIoU_small', 'pointing', 'drift')


def flat_test_metrics(path: str) -> Dict[str, float]:
    """The flat metrics of a ``test_results.json`` (see the module doc).

    Args:
        path (str): The file.

    Returns:
        dict[str, float]: Metric name -> percent.
    """
    results = load_json(path)
    if not isinstance(results.get('metrics'), dict) or not isinstance(
            results.get('groups'), dict):
        raise ValueError(f'{path} is not a test results file: it needs the '
                         'objects "metrics" and "groups"')
    return flat_metrics(results)


def summarize(runs: Iterable[dict], metrics: Sequence[str]) -> Dict[str, dict]:
    """Mean and sample standard deviation of each metric over the runs.

    Args:
        runs (Iterable[dict]): Runs with their flat ``metrics``.
        metrics (Sequence[str]): Metrics to summarise.

    Returns:
        dict[str, dict]: Metric -> ``mean``, ``std`` (None below two
        values) and ``n`` (runs that have the metric; mean None for 0).
    """
    runs = list(runs)
    summary = OrderedDict()
    for metric in metrics:
        values = [r['metrics'][metric] for r in runs if metric in r['metrics']]
        summary[metric] = dict(
            mean=round(statistics.mean(values), 2) if values else None,
            std=round(statistics.stdev(values), 2)
            if len(values) > 1 else None,
            n=len(values))
    return summary


def ablation_file(plans: Sequence[RunPlan],
                  records: Mapping[Tuple[str, int], dict],
                  failures: Sequence[RunFailed],
                  out_path: str,
                  command: str,
                  metrics: Sequence[str] = DEFAULT_METRICS) -> dict:
    """The ablation file's content.

    Args:
        plans (Sequence[RunPlan]): The planned runs, in order.
        records (Mapping): ``run.json`` records of the finished runs by
            ``(variant, seed)``.
        failures (Sequence[RunFailed]): The runs that stopped.
        out_path (str): Where the file goes (``results`` are relative to
            its folder).
        command (str): The ablation command line.
        metrics (Sequence[str]): Metrics of the table. Defaults to
            :data:`DEFAULT_METRICS`.

    Returns:
        dict: The fields of the module docstring.
    """
    folder = osp.dirname(osp.abspath(out_path))
    paths = PortablePaths()
    variants: Dict[str, dict] = OrderedDict()
    for plan in plans:
        record = records.get((plan.variant, plan.seed))
        if record is None:
            continue
        variant = VARIANTS[plan.variant]
        entry = variants.setdefault(
            plan.variant,
            dict(
                name=plan.variant,
                description=variant.description,
                side_effects=variant.side_effects,
                config=paths.path(plan.config),
                cfg_options=variant.cfg_options,
                baseline=variant.baseline,
                runs=[]))
        results = plan.path(RESULTS_FILE)
        entry['runs'].append(
            dict(
                seed=plan.seed,
                results=osp.relpath(osp.abspath(results), folder),
                checkpoint=paths.path(record['checkpoint']),
                val=record['val'],
                train_s=record['train_s'],
                test_s=record.get('test_s'),
                metrics=flat_test_metrics(results)))
    for entry in variants.values():
        entry['summary'] = summarize(entry['runs'], metrics)
    return dict(
        kind=ABLATION_KIND,
        command=paths.command(command),
        metrics=list(metrics),
        variants=list(variants.values()),
        failed=[failure.to_dict() for failure in failures])


def _cell(stats: dict) -> str:
    if stats['mean'] is None:
        return '-'
    if stats['std'] is None:
        return f"{stats['mean']:.2f}"
    return f"{stats['mean']:.2f} ± {stats['std']:.2f}"


def format_summary(ablation: dict) -> str:
    """The summary of an ablation file as a plain-text table.

    Args:
        ablation (dict): The ablation file's content.

    Returns:
        str: One row per variant: seeds, then mean ± std per metric.
    """
    header = ['variant', 'seeds'] + list(ablation['metrics'])
    rows: List[List[str]] = [header]
    for entry in ablation['variants']:
        rows.append(
            [entry['name'], ','.join(str(r['seed']) for r in entry['runs'])] +
            [_cell(entry['summary'][m]) for m in ablation['metrics']])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        '  '.join(cell.ljust(w) for cell, w in zip(row, widths))
        for row in rows
    ]
    lines.insert(1, '  '.join('-' * w for w in widths))
    return '\n'.join(lines)
