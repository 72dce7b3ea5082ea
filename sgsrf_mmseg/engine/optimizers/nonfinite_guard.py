"""A guard on an optimizer wrapper's step that refuses a non-finite loss."""
import math
from typing import Dict, List, Optional

import torch
import torch.distributed as torch_dist
from mmengine.dist import is_distributed
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import OptimWrapper, OptimWrapperDict

#: Runtime-info key of the message hub under which the ids of the samples
#: in the batch being trained are recorded, for the report.
BATCH_IDS_KEY = 'sgsrf_batch_sample_ids'

NONFINITE_POLICIES = ('skip', 'raise')


class NonFiniteLossError(FloatingPointError):
    """The training loss is NaN or infinite (policy ``'raise'``)."""


def check_nonfinite_policy(nonfinite: str) -> None:
    """Raise ``ValueError`` unless ``nonfinite`` is 'skip' or 'raise'."""
    if nonfinite not in NONFINITE_POLICIES:
        raise ValueError(f'nonfinite must be one of {NONFINITE_POLICIES}, '
                         f'got {nonfinite!r}')


def any_rank_nonfinite(loss: torch.Tensor) -> bool:
    """Whether ``loss`` is NaN or infinite on this or any other rank.

    One all-reduce of a flag, so that every rank takes the same decision and
    a distributed run never deadlocks with some ranks stepping and others
    not.
    """
    flag = (~torch.isfinite(loss.detach())).any().float().reshape(1)
    if is_distributed():
        torch_dist.all_reduce(flag)
    return bool(flag.item() > 0)


class NonFiniteLossGuard:
    """Stands in for one optimizer wrapper's ``update_params``.

    It checks the loss before the backward pass. A finite loss goes to the
    wrapper's own ``update_params`` (loss scaling, gradient accumulation and
    clipping of :class:`OptimWrapper` or :class:`AmpOptimWrapper` unchanged);
    on NaN/inf it stops the run or skips the step. A skipped step runs no
    backward and no optimizer step: weights, moments and the loss scale are
    left exactly as they were.

    Args:
        optim_wrapper (OptimWrapper): The wrapper to guard.
        nonfinite (str): ``'raise'`` stops the run with
            :class:`NonFiniteLossError` naming the iteration and the samples,
            before the step, so no poisoned weights reach a checkpoint;
            ``'skip'`` skips the step and logs a warning. Defaults to
            ``'raise'``.
        max_skips (int): With ``'skip'``, stop after this many consecutive
            skipped steps. Defaults to 10.
    """

    def __init__(self,
                 optim_wrapper: OptimWrapper,
                 nonfinite: str = 'raise',
                 max_skips: int = 10):
        check_nonfinite_policy(nonfinite)
        self.optim_wrapper = optim_wrapper
        self.unguarded_update_params = optim_wrapper.update_params
        self.nonfinite = nonfinite
        self.max_skips = max_skips
        self.consecutive_skips = 0

    def __call__(self,
                 loss: torch.Tensor,
                 step_kwargs: Optional[Dict] = None,
                 zero_kwargs: Optional[Dict] = None) -> None:
        """Update as the wrapper does unless the loss is non-finite."""
        if not any_rank_nonfinite(loss):
            self.consecutive_skips = 0
            self.unguarded_update_params(loss, step_kwargs, zero_kwargs)
            return
        hub = MessageHub.get_current_instance()
        value = loss.detach().float().item() if loss.numel() == 1 else math.nan
        report = (f'non-finite training loss ({value}) at iteration '
                  f"{hub.get_info('iter', 'unknown')}; samples: "
                  f'{hub.get_info(BATCH_IDS_KEY, "unknown")}')
        self.consecutive_skips += 1
        too_many = self.consecutive_skips > self.max_skips
        if self.nonfinite == 'raise' or too_many:
            raise NonFiniteLossError(report + (
                '' if self.nonfinite ==
                'raise' else f'; {self.consecutive_skips} steps in a row'))
        MMLogger.get_current_instance().warning(report +
                                                '; the step is skipped')
        self.optim_wrapper.zero_grad()


def guard_optim_wrapper(optim_wrapper: OptimWrapper,
                        nonfinite: str = 'raise',
                        max_skips: int = 10) -> List[NonFiniteLossGuard]:
    """Put a :class:`NonFiniteLossGuard` on a wrapper (or each of a dict's).

    Works on any wrapper mmengine builds (:class:`OptimWrapper`,
    :class:`AmpOptimWrapper`, ...): the instance's ``update_params`` is
    replaced by the guard, which calls the original. A wrapper that is
    already guarded is left as it is.

    Args:
        optim_wrapper (OptimWrapper): The runner's wrapper, or an
            :class:`OptimWrapperDict` of them.
        nonfinite (str): ``'raise'`` or ``'skip'``. Defaults to ``'raise'``.
        max_skips (int): Consecutive skips allowed. Defaults to 10.

    Returns:
        list[NonFiniteLossGuard]: The guard of each wrapper.
    """
    wrappers = (
        list(optim_wrapper.values())
        if isinstance(optim_wrapper, OptimWrapperDict) else [optim_wrapper])
    guards = []
    for wrapper in wrappers:
        if not isinstance(wrapper.update_params, NonFiniteLossGuard):
            wrapper.update_params = NonFiniteLossGuard(wrapper, nonfinite,
                                                       max_skips)
        guards.append(wrapper.update_params)
    return guards
