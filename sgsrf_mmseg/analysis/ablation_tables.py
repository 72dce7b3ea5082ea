"""The ablation's second and third tables: what each variant changes, and
how far each lies from the full model (:mod:`.ablation_stats`).

Both read what :func:`~.results_tables.load_ablation` returns and the
ablation file's variant entries (description, side effects, options), so
that a table re-renders from the files in the repository alone.
"""
from typing import Dict, Optional, Sequence, Tuple

from .ablation_stats import Comparison, compare, seed_wins
from .results_tables import markdown_table, metric_value

#: Metrics each variant is compared on against the reference.
COMPARED_METRICS = ('mIoU', 'mIoU@relation', 'mIoU@role_reversal',
                    'mIoU@look_alike')


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


def render_comparison_table(variants: Sequence[Tuple[str, list]],
                            metrics: Sequence[str] = COMPARED_METRICS,
                            reference: str = 'full') -> str:
    """Each variant against the reference on some metrics.

    Args:
        variants (Sequence[tuple]): ``(name, runs)`` as
            :func:`~.results_tables.load_ablation` returns them.
        metrics (Sequence[str]): Metrics compared. Defaults to
            :data:`COMPARED_METRICS`.
        reference (str): The variant the others are compared with.
            Defaults to 'full'.

    Returns:
        str: Markdown (empty when the reference is not among the variants).
    """
    runs = dict(variants)
    if reference not in runs:
        return ''
    base = {m: _scores(runs[reference], m) for m in metrics}
    rows = []
    for name, variant_runs in variants:
        if name == reference:
            continue
        scores = {m: _scores(variant_runs, m) for m in metrics}
        rows.append([f'`{name}`', str(len(variant_runs))] + [
            _cell(
                compare(list(scores[m].values()), list(base[m].values())),
                seed_wins(scores[m], base[m])) for m in metrics
        ])
    table = markdown_table(
        ['variant', 'seeds'] + list(metrics),
        rows,
        text_columns=len(metrics) + 2)
    return (f'{table}\n\nEach variant minus `{reference}`: the difference '
            'of the means, the same in pooled standard deviations, Welch\'s '
            't, the exact two-sided permutation p over the seeds, and on '
            f'how many of the seeds both ran the variant scored higher than '
            f'`{reference}` (a seed fixes the order of the training data).')
