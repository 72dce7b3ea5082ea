from .nonfinite_guard import (BATCH_IDS_KEY, NonFiniteGuardAmpOptimWrapper,
                              NonFiniteGuardOptimWrapper, NonFiniteLossError)

__all__ = [
    'BATCH_IDS_KEY', 'NonFiniteGuardOptimWrapper',
    'NonFiniteGuardAmpOptimWrapper', 'NonFiniteLossError'
]
