"""How often a training run clipped its gradients.

mmengine's optimizer wrapper clips with ``torch.nn.utils.clip_grad_norm_``
when ``optim_wrapper.clip_grad`` is set, and logs the total norm *before*
clipping as ``grad_norm``; a step was clipped when that norm exceeded
``clip_grad.max_norm``. The report counts the logged iterations (the
training lines of ``vis_data/scalars.json``) whose ``grad_norm`` exceeds the
threshold, over the whole run and after the warm-up.

What a logged value is: mmengine's ``LogProcessor`` logs ``grad_norm`` as
the mean over the last ``log_processor.window_size`` iterations (10 by
default) every ``default_hooks.logger.interval`` iterations. A logged
value above the threshold therefore means the norm was above it on average
over that window. For the exact share of clipped steps, train with
``--cfg-options log_processor.window_size=1 default_hooks.logger.interval=1``.
"""
import statistics
from typing import List, Optional, Sequence

from mmengine.config import Config

from .training_log import scalars_files, session_config, training_records

#: Scheduler types that count as warm-up when they start at iteration 0.
WARMUP_SCHEDULERS = ('LinearLR', 'ConstantLR')


def clip_threshold(cfg: Config, source: str) -> float:
    """``optim_wrapper.clip_grad.max_norm`` of a config.

    Args:
        cfg (Config): The run's config.
        source (str): The config's file, for errors.

    Returns:
        float: The threshold.
    """
    clip = (cfg.get('optim_wrapper') or {}).get('clip_grad') or {}
    if clip.get('type', 'norm') != 'norm':
        raise ValueError(f'{source} clips gradients by {clip["type"]}, not '
                         'by norm')
    if clip.get('max_norm') is None:
        raise ValueError(f'{source} has no optim_wrapper.clip_grad.max_norm: '
                         'the run did not clip its gradients by norm')
    return float(clip['max_norm'])


def warmup_iters(cfg: Config, source: str) -> int:
    """The iteration where the warm-up of a config ends (0: none).

    The warm-up is the schedulers of :data:`WARMUP_SCHEDULERS` that begin
    at iteration 0 and name their ``end``; it ends at the largest ``end``.

    Args:
        cfg (Config): The run's config.
        source (str): The config's file, for errors.

    Returns:
        int: The first iteration after the warm-up.
    """
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    ends = []
    for scheduler in schedulers:
        if scheduler.get('type') not in WARMUP_SCHEDULERS or scheduler.get(
                'begin', 0) != 0:
            continue
        if scheduler.get('by_epoch', True) and not scheduler.get(
                'convert_to_iter_based', False):
            raise ValueError(f'{source}: the {scheduler["type"]} warm-up is '
                             'counted in epochs; give the warm-up length in '
                             'iterations')
        if scheduler.get('end') is not None:
            ends.append(int(scheduler['end']))
    return max(ends, default=0)


def share_clipped(norms: Sequence[float], max_norm: float) -> dict:
    """Counts and share of norms above ``max_norm``.

    Args:
        norms (Sequence[float]): Logged gradient norms.
        max_norm (float): The clip threshold.

    Returns:
        dict: ``logged``, ``clipped``, ``fraction`` (None when nothing was
        logged), ``median`` and ``max`` of the norms.
    """
    clipped = sum(norm > max_norm for norm in norms)
    return dict(
        logged=len(norms),
        clipped=clipped,
        fraction=clipped / len(norms) if norms else None,
        median=statistics.median(norms) if norms else None,
        max=max(norms) if norms else None)


def clipping_report(path: str,
                    config: Optional[str] = None,
                    warmup: Optional[int] = None) -> dict:
    """Share of logged iterations whose gradient norm was clipped.

    Args:
        path (str): A run's work dir, one session folder, or a
            ``scalars.json``.
        config (str, optional): The run's config; None takes the
            ``config.py`` mmengine saved beside the (latest) scalars file.
            Defaults to None.
        warmup (int, optional): Warm-up length in iterations; None reads
            it from the config's ``param_scheduler``. Defaults to None.

    Returns:
        dict: ``scalars`` (files read), ``config``, ``max_norm``,
        ``warmup_iters``, ``window_size`` and ``logger_interval`` (how the
        logged values were averaged), and the :func:`share_clipped` counts
        ``overall`` and ``after_warmup`` (iterations > ``warmup_iters``).
    """
    files = scalars_files(path)
    config = config or session_config(files[-1])
    cfg = Config.fromfile(config)
    max_norm = clip_threshold(cfg, config)
    warmup = warmup_iters(cfg, config) if warmup is None else int(warmup)
    records = [r for r in training_records(path) if 'grad_norm' in r]
    if not records:
        raise ValueError(f'no training line with grad_norm in {files}')
    logger = (cfg.get('default_hooks') or {}).get('logger') or {}
    return dict(
        scalars=files,
        config=config,
        max_norm=max_norm,
        warmup_iters=warmup,
        window_size=(cfg.get('log_processor') or {}).get('window_size', 10),
        logger_interval=logger.get('interval'),
        overall=share_clipped([r['grad_norm'] for r in records], max_norm),
        after_warmup=share_clipped(
            [r['grad_norm'] for r in records if r['iter'] > warmup], max_norm))


def format_clipping_report(report: dict) -> str:
    """The report as a few lines of text."""

    def line(name: str, counts: dict) -> str:
        if not counts['logged']:
            return f'{name}: no logged iterations'
        return (f"{name}: {counts['clipped']} of {counts['logged']} logged "
                f"iterations clipped ({100 * counts['fraction']:.1f}%), "
                f"grad_norm median {counts['median']:.3g}, max "
                f"{counts['max']:.3g}")

    lines: List[str] = [
        f"clip threshold (max_norm) {report['max_norm']:g}, warm-up "
        f"{report['warmup_iters']} iterations ({report['config']})",
        line('overall', report['overall']),
        line(f"after warm-up (iter > {report['warmup_iters']})",
             report['after_warmup']),
    ]
    if report['window_size'] != 1:
        lines.append(
            f"logged grad_norm is the mean of the last "
            f"{report['window_size']} iterations, every "
            f"{report['logger_interval']}: for the share of clipped steps "
            'train with log_processor.window_size=1 and '
            'default_hooks.logger.interval=1')
    return '\n'.join(lines)
