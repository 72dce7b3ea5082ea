"""The ablation's second and third tables: what each variant changes, and
how far each lies from the full model and from the variant it changes one
thing of (:mod:`.ablation_stats`).

Both read what :func:`~.results_tables.load_ablation` returns and the
ablation file's variant entries (description, side effects, options), so
that a table re-renders from the files in the repository alone.
"""
from typing import Dict, Mapping, Optional, Sequence, Tuple

from .ablation_stats import Comparison, compare, seed_wins
from .results_tables import markdown_table, metric_value

#: Metrics each variant is compared on against the reference: overall, the
#: structure groups, and the small targets.
COMPARED_METRICS = ('mIoU', 'mIoU@relation', 'mIoU@role_reversal',
                    'mIoU@look_alike', 'mIoU_small')


def _options(cfg_options: Dict[str, object], config: str) -> str:
    changes = [f'`{key}={value}`' for key, value in cfg_options.items()]
    if not changes and not config.endswith('sgsrf_tiny_synthetic.py'):
        changes = [f'`{config}`']
    return ', '.join(changes) or 'none'


def render_variant_table(entries: Sequence[dict]) -> str:
    """What each variant removes or adds, and changes with it.

    Args:
        entries (Sequence[dict]): The ablation file's ``variants``.

    Returns:
        str: Markdown.
    """
    rows = [[
        f"`{e['name']}`",
        e.get('description', ''),
        _options(e.get('cfg_options', {}), e.get('config', '')),
        e.get('side_effects') or '-'
    ] for e in entries]
    return markdown_table(
        ['variant', 'removes or adds', 'change', 'side effects'],
        rows,
        text_columns=4)


def _scores(runs: list, metric: str) -> Dict[int, float]:
    return {seed: metric_value(r, metric, p) for seed, p, r in runs}


def _cell(result: Optional[Comparison], wins: Tuple[int, int]) -> str:
    if result is None:
        return '-'
    parts = [f'{result.difference:+.2f}']
    if result.in_pooled_sd is not None:
        parts.append(f'{result.in_pooled_sd:+.1f} sd')
    if result.welch_t is not None:
        parts.append(f't {result.welch_t:+.2f}')
    if result.permutation_p is not None:
        parts.append(f'p {result.permutation_p:.3f}')
    if wins[1]:
        parts.append(f'higher on {wins[0]}/{wins[1]}')
    return ', '.join(parts)


def _comparison_row(name: str, against: str, seeds: int,
                    scores: Mapping[str, Mapping[str, Dict[int, float]]],
                    metrics: Sequence[str]) -> list:
    """``name`` against ``against``, from each variant's scores by metric."""
    cells = []
    for metric in metrics:
        mine, theirs = scores[name][metric], scores[against][metric]
        cells.append(
            _cell(
                compare(list(mine.values()), list(theirs.values())),
                seed_wins(mine, theirs)))
    return [f'`{name}`', f'`{against}`', str(seeds)] + cells


def render_comparison_table(
        variants: Sequence[Tuple[str, list]],
        metrics: Sequence[str] = COMPARED_METRICS,
        reference: str = 'full',
        baselines: Optional[Mapping[str, str]] = None) -> str:
    """Each variant against the reference, and against its own baseline.

    Args:
        variants (Sequence[tuple]): ``(name, runs)`` as
            :func:`~.results_tables.load_ablation` returns them.
        metrics (Sequence[str]): Metrics compared. Defaults to
            :data:`COMPARED_METRICS`.
        reference (str): The variant the others are compared with.
            Defaults to 'full'.
        baselines (Mapping[str, str], optional): The variant each one
            changes one thing of, where that is not the reference (the
            ablation file's ``baseline``): a second row compares them, when
            the baseline has runs. Defaults to None.

    Returns:
        str: Markdown (empty when the reference is not among the variants).
    """
    runs = dict(variants)
    if reference not in runs:
        return ''
    scores = {
        name: {
            m: _scores(variant_runs, m)
            for m in metrics
        }
        for name, variant_runs in variants
    }
    rows = []
    for name, variant_runs in variants:
        if name == reference:
            continue
        against = [reference]
        baseline = (baselines or {}).get(name)
        if baseline and baseline != reference and baseline in runs:
            against.append(baseline)
        rows.extend(
            _comparison_row(name, other, len(variant_runs), scores, metrics)
            for other in against)
    table = markdown_table(
        ['variant', 'against', 'seeds'] + list(metrics),
        rows,
        text_columns=len(metrics) + 3)
    return (f'{table}\n\nEach variant minus the one it is compared with '
            f'(`{reference}`, and for a variant that changes one thing of '
            'another, that one too): the difference of the means, the same '
            "in pooled standard deviations, Welch's t, the exact two-sided "
            'permutation p over the seeds, and on how many of the seeds both '
            'ran the variant scored higher (a seed fixes the order of the '
            'training data).')
