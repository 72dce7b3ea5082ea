"""A test hook: every rank writes its final weights and iteration count."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


@HOOKS.register_module()
class RankWeightsHook(Hook):
    """Save ``rank<r>_weights.pth``: the weights and ``iter`` at the end."""

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        torch.save(
            dict(iter=runner.iter, state_dict=model.state_dict()),
            osp.join(runner.work_dir, f'rank{get_rank()}_weights.pth'))
