"""Optimizer wrappers that refuse to step on a non-finite loss."""
import math
from contextlib import contextmanager
from typing import Dict, Optional

import torch
import torch.distributed as torch_dist
from mmengine.dist import is_distributed
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmseg.registry import OPTIM_WRAPPERS

#: Runtime-info key under which the segmentor records the ids of the
#: samples in the batch being trained, for the report.
BATCH_IDS_KEY = 'sgsrf_batch_sample_ids'


class NonFiniteLossError(FloatingPointError):
    """Raised when the training loss is NaN or infinite and policy is 'raise'."""


class NonFiniteLossGuardMixin:
    """Checks the loss before backward; on NaN/inf it skips or stops.

    Every rank agrees on the outcome (one all-reduce of a flag), so a
    distributed run never deadlocks with some ranks stepping and others not.
    A skipped step runs no backward and no optimizer step: weights, moments
    and the loss scale are left exactly as they were.

    Args:
        nonfinite (str): ``'skip'`` skips the step and logs a warning;
            ``'raise'`` stops the run with :class:`NonFiniteLossError`
            before the step, so no poisoned weights reach a checkpoint.
            Defaults to ``'raise'``.
        max_skips (int): With ``'skip'``, stop after this many consecutive
            skipped steps. Defaults to 10.
    """

    def __init__(self,
                 *args,
                 nonfinite: str = 'raise',
                 max_skips: int = 10,
                 **kwargs):
        if nonfinite not in ('skip', 'raise'):
            raise ValueError("optim_wrapper.nonfinite must be 'skip' or "
                             f"'raise', got {nonfinite!r}")
        super().__init__(*args, **kwargs)
        self.nonfinite = nonfinite
        self.max_skips = max_skips
        self.consecutive_skips = 0

    def _any_rank_nonfinite(self, loss: torch.Tensor) -> bool:
        flag = (~torch.isfinite(loss.detach())).any().float().reshape(1)
        if is_distributed():
            torch_dist.all_reduce(flag)
        return bool(flag.item() > 0)

    def update_params(self,
                      loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        """Step as :class:`OptimWrapper` does unless the loss is non-finite."""
        if not self._any_rank_nonfinite(loss):
            self.consecutive_skips = 0
            super().update_params(loss, step_kwargs, zero_kwargs)
            return
        hub = MessageHub.get_current_instance()
        value = loss.detach().float().item() if loss.numel() == 1 else math.nan
        report = (f'non-finite training loss ({value}) at iteration '
                  f"{hub.get_info('iter', 'unknown')}; samples: "
                  f'{hub.get_info(BATCH_IDS_KEY, "unknown")}')
        self.consecutive_skips += 1
        if self.nonfinite == 'raise' or self.consecutive_skips > self.max_skips:
            raise NonFiniteLossError(
                report + ('' if self.nonfinite == 'raise' else
                          f'; {self.consecutive_skips} steps in a row'))
        MMLogger.get_current_instance().warning(report +
                                                '; the step is skipped')
        self.zero_grad()


@OPTIM_WRAPPERS.register_module()
class NonFiniteGuardOptimWrapper(NonFiniteLossGuardMixin, OptimWrapper):
    """:class:`OptimWrapper` with the non-finite loss guard.

    Args:
        autocast_dtype (str, optional): Run the forward pass under
            ``torch.autocast`` with this dtype on the model's device (e.g.
            ``'bfloat16'`` for mixed precision on a CPU, where mmengine's
            :class:`AmpOptimWrapper` is not available). No loss scaling.
            Defaults to None (full precision).
    """

    def __init__(self, *args, autocast_dtype: Optional[str] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.autocast_dtype = autocast_dtype

    @contextmanager
    def optim_context(self, model):
        """The parent's context, plus autocast when ``autocast_dtype``."""
        with super().optim_context(model):
            if self.autocast_dtype is None:
                yield
                return
            device = next(model.parameters()).device.type
            with torch.autocast(device_type=device,
                                dtype=getattr(torch, self.autocast_dtype)):
                yield


@OPTIM_WRAPPERS.register_module()
class NonFiniteGuardAmpOptimWrapper(NonFiniteLossGuardMixin, AmpOptimWrapper):
    """:class:`AmpOptimWrapper` with the non-finite loss guard."""
