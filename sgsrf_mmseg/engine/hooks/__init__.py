from .atomic_checkpoint_hook import AtomicCheckpointHook
from .nonfinite_loss_guard_hook import NonFiniteLossGuardHook

__all__ = ['AtomicCheckpointHook', 'NonFiniteLossGuardHook']
