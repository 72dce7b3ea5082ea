from .autocast_optim_wrapper import AutocastOptimWrapper
from .nonfinite_guard import (BATCH_IDS_KEY, NonFiniteLossError,
                              NonFiniteLossGuard, guard_optim_wrapper)

__all__ = [
    'AutocastOptimWrapper', 'BATCH_IDS_KEY', 'NonFiniteLossError',
    'NonFiniteLossGuard', 'guard_optim_wrapper'
]
