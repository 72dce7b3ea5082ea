"""Every SGSRF config in configs/ loads and builds its model and datasets'
types (the stock-model configs of configs/reuse are built and run by
tests/test_configs/test_reuse_configs.py)."""
import ast
import glob
import os.path as osp

import pytest
import yaml
from mmengine.config import Config
from mmseg.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if ('_base_' not in p or '/models/' in p) and '/reuse/' not in p)
#: The benchmark configs' short names (``Alias`` in the metafile).
SHORT_CONFIGS = ['sgsrf_refsegrs', 'sgsrf_rrsisd', 'sgsrf_risbench']
TINY = 'configs/sgsrf/sgsrf_tiny_synthetic.py'
NOTEXT = 'configs/sgsrf/sgsrf_tiny_synthetic_notext.py'


def _transform_types(cfg):
    for stage in ('train', 'val', 'test'):
        loader = cfg.get(f'{stage}_dataloader')
        if loader:
            yield from (t['type'] for t in loader.dataset.pipeline)


@pytest.mark.parametrize(
    'path', [
        pytest.param(p, marks=[] if 'tiny' in p else pytest.mark.slow)
        for p in CONFIGS
    ],
    ids=lambda p: osp.relpath(p, REPO))
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


def _metafile_models():
    with open(osp.join(REPO, 'configs', 'sgsrf', 'metafile.yaml')) as f:
        return yaml.safe_load(f)['Models']


@pytest.mark.parametrize('short', SHORT_CONFIGS)
def test_short_config_is_one_base_line_over_its_metafile_entry(short):
    entry, = [m for m in _metafile_models() if m.get('Alias') == short]
    path = osp.join(REPO, 'configs', 'sgsrf', f'{short}.py')
    assignments = [
        node for node in ast.parse(open(path).read()).body
        if not isinstance(node, ast.Expr)
    ]
    assert [ast.unparse(node) for node in assignments
            ] == [f"_base_ = './{osp.basename(entry['Config'])}'"]
    assert Config.fromfile(path).to_dict() == Config.fromfile(
        osp.join(REPO, entry['Config'])).to_dict()


def _without_step(node, step):
    """A config dict with every pipeline step of type ``step`` left out."""
    if isinstance(node, dict):
        return {k: _without_step(v, step) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return type(node)(
            _without_step(v, step) for v in node
            if not (isinstance(v, dict) and v.get('type') == step))
    return node


def test_notext_config_differs_from_the_tiny_one_only_by_the_expression():
    tiny = Config.fromfile(osp.join(REPO, TINY)).to_dict()
    notext = Config.fromfile(osp.join(REPO, NOTEXT)).to_dict()
    assert _without_step(notext, 'ReplaceExpression') == tiny
    for stage in ('train', 'val', 'test'):
        pipeline = notext[f'{stage}_dataloader']['dataset']['pipeline']
        assert dict(type='ReplaceExpression', text='') in pipeline
