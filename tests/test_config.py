"""Every SGSRF config in configs/ loads and builds its model and datasets'
types (the stock-model configs of configs/reuse are built and run by
tests/test_configs/test_reuse_configs.py)."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmseg.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if ('_base_' not in p or '/models/' in p) and '/reuse/' not in p)


def _transform_types(cfg):
    for stage in ('train', 'val', 'test'):
        loader = cfg.get(f'{stage}_dataloader')
        if loader:
            yield from (t['type'] for t in loader.dataset.pipeline)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO))
def test_config_builds_without_weights(path):
    cfg = Config.fromfile(path)
    model_cfg = cfg.model
    for part in ('image_encoder', 'text_encoder'):
        model_cfg[part].pretrained = None
    model_cfg.decode_head.pretrained = None
    model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0
    if 'train_dataloader' not in cfg:
        return
    for stage in ('train', 'val', 'test'):
        assert DATASETS.get(cfg[f'{stage}_dataloader'].dataset.type)
    for transform in _transform_types(cfg):
        assert TRANSFORMS.get(transform), transform
    assert METRICS.get(cfg.val_evaluator.type)
    assert HOOKS.get(cfg.default_hooks.checkpoint.type)
    # The best checkpoint is chosen on the validation split.
    assert cfg.val_dataloader.dataset.split == 'val'
    assert cfg.test_dataloader.dataset.split == 'test'
