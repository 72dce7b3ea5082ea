"""Stop (or skip) a training step whose loss is NaN or infinite."""
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from ..optimizers.nonfinite_guard import (BATCH_IDS_KEY,
                                          check_nonfinite_policy,
                                          guard_optim_wrapper)


def describe_samples(data_samples: Sequence) -> list:
    """``'<img_path> (ref <id>, sent <id>)'`` for each data sample."""
    return [
        f"{s.metainfo.get('img_path')} (ref {s.metainfo.get('ref_id')}, "
        f"sent {s.metainfo.get('sent_id')})" for s in data_samples
    ]


@HOOKS.register_module()
class NonFiniteLossGuardHook(Hook):
    """Guard the runner's optimizer wrapper against a non-finite loss.

    At ``before_train`` (the runner has built its optimizer wrapper, of
    whatever type: ``OptimWrapper``, ``AmpOptimWrapper`` from ``--amp``,
    ...) the wrapper's ``update_params`` is put behind a
    :class:`~sgsrf_mmseg.engine.optimizers.NonFiniteLossGuard`. Before each
    iteration the samples of the batch are recorded in the message hub
    (:data:`BATCH_IDS_KEY`), so that the report names them.

    Args:
        nonfinite (str): ``'raise'`` stops the run before the step with an
            error naming the iteration and the samples; ``'skip'`` skips the
            step and logs a warning. Defaults to ``'raise'``.
        max_skips (int): With ``'skip'``, stop after this many consecutive
            skipped steps. Defaults to 10.
    """
    priority = 'VERY_HIGH'

    def __init__(self, nonfinite: str = 'raise', max_skips: int = 10):
        check_nonfinite_policy(nonfinite)
        self.nonfinite = nonfinite
        self.max_skips = max_skips

    def before_train(self, runner) -> None:
        """Guard ``runner.optim_wrapper`` (each wrapper of a dict)."""
        guard_optim_wrapper(runner.optim_wrapper, self.nonfinite,
                            self.max_skips)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """Record ``data_batch['data_samples']``."""
        samples = (data_batch or {}).get('data_samples') or []
        runner.message_hub.update_info(BATCH_IDS_KEY,
                                       describe_samples(samples))
