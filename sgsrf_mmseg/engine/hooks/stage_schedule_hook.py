"""Tell the model's scheduled loss terms which iteration training is at."""
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class StageScheduleHook(Hook):
    """Call ``set_iteration(runner.iter)`` on every sub-module that has it,
    before each training iteration.

    The structural loss of SGSRF ramps the terms of its later stages in
    over the iterations (``StructuralConsistencyLoss(stage_schedule=...)``);
    the iteration comes from the runner, so a resumed run continues the
    ramp where it stopped. Modules without ``set_iteration`` are left
    alone, so the hook is harmless in any config.
    """
    priority = 'NORMAL'

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[Sequence[dict]] = None) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        for module in model.modules():
            if hasattr(module, 'set_iteration'):
                module.set_iteration(runner.iter)
