from .atomic_checkpoint_hook import AtomicCheckpointHook
from .nonfinite_loss_guard_hook import NonFiniteLossGuardHook
from .stage_schedule_hook import StageScheduleHook

__all__ = [
    'AtomicCheckpointHook', 'NonFiniteLossGuardHook', 'StageScheduleHook'
]
