"""The configs of ``configs/reuse``: the plugin's modules in stock models.

Each config is loaded as a user loads it, shrunk to tiny widths, pointed at
tiny data written in its dataset's own format, trained for a few iterations
and tested through mmengine's ``Runner``.
"""
import json
import math
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmseg.registry import DATASETS, METRICS, MODELS, TRANSFORMS
from mmseg.structures import SegDataSample
from reuse_data import write_ade20k, write_building
from tiny_sam import TINY_SAM

from sgsrf_mmseg.datasets import generate_synthetic_dataset
from sgsrf_mmseg.models.backbones.clip_image_encoder import CLIP_NORMALIZE
from sgsrf_mmseg.models.input_geometry import set_model_input_size
from sgsrf_mmseg.utils.checkpoint_file import CheckpointError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
REUSE = osp.join(REPO, 'configs', 'reuse')
UPERNET = 'upernet_clip-vit-b16-mln_8xb2-160k_ade20k-512x512.py'
SAM_IMAGE = 'grounding-sam-head_sam-vit-b_1xb8-20k_building-512x512.py'
SAM_FEATURES = 'grounding-sam-head_r50-d8_1xb8-20k_building-512x512.py'
SGSRF_MMPRETRAIN = (
    'sgsrf_mmpretrain-vit-b16-sam-vit-b_1xb8-11k_refsegrs-512x512.py')
TINY_MMPRETRAIN_VIT = dict(
    arch=dict(
        embed_dims=64, num_layers=3, num_heads=2, feedforward_channels=128),
    img_size=64,
    patch_size=8,
    out_indices=(0, 1, 2))
SYNTHETIC = dict(num_train=6, num_val=2, num_test=2, image_size=64, seed=0)
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def load(name):
    return Config.fromfile(osp.join(REUSE, name))


def without_weights(node):
    """Set every ``pretrained`` in a (model) config to None, in place."""
    if isinstance(node, dict):
        if 'pretrained' in node:
            node['pretrained'] = None
        for value in node.values():
            without_weights(value)
    elif isinstance(node, list):
        for value in node:
            without_weights(value)


@pytest.mark.parametrize('name,module,kind', [
    (UPERNET, 'backbone', 'CLIPImageEncoder'),
    (SAM_IMAGE, 'decode_head', 'GroundingSAMHead'),
    (SAM_FEATURES, 'decode_head', 'SAMFeatureHead'),
    (SGSRF_MMPRETRAIN, 'image_encoder', 'MMPretrainImageTower'),
])
@pytest.mark.slow
def test_full_size_config_builds(name, module, kind):
    cfg = load(name)
    assert cfg.custom_imports.imports == ['sgsrf_mmseg']
    assert cfg.default_scope == 'mmseg'
    without_weights(cfg.model)
    model = MODELS.build(cfg.model)
    assert type(getattr(model, module)).__name__ == kind
    for loader in LOADERS:
        assert DATASETS.get(cfg[loader].dataset.type)
        for transform in cfg[loader].dataset.pipeline:
            assert TRANSFORMS.get(transform.type), transform
    assert METRICS.get(cfg.test_evaluator.type)


def set_data(cfg, **dataset):
    """Update the dataset of every loader, and shrink the loaders."""
    for loader in LOADERS:
        cfg[loader].update(
            num_workers=0,
            persistent_workers=False,
            batch_size=2 if loader == 'train_dataloader' else 1)
        cfg[loader].dataset.update(dataset)


def set_pipeline_sizes(cfg, scale, crop_size=None):
    """Resize scales and crop sizes of every loader's pipeline."""
    for loader in LOADERS:
        for transform in cfg[loader].dataset.pipeline:
            if transform.type in ('Resize', 'RandomResize'):
                transform.scale = scale
            elif transform.type == 'RandomCrop':
                transform.crop_size = crop_size


def train_and_test(cfg, work_dir, iters=3):
    """Train ``iters`` iterations (validating at the end), then test.

    Returns:
        tuple: The test metrics, the logged training scalars (one dict per
        iteration) and the text of the run's log.
    """
    cfg.work_dir = str(work_dir)
    cfg.launcher = 'none'
    cfg.train_cfg.update(max_iters=iters, val_interval=iters)
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = iters
    # mmengine keeps one visualizer per name for the whole process.
    cfg.visualizer.name = f'visualizer_{work_dir}'
    cfg.randomness = dict(seed=0)
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    with open(osp.join(runner.log_dir, 'vis_data', 'scalars.json')) as f:
        scalars = [json.loads(line) for line in f]
    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
        log = f.read()
    return metrics, [s for s in scalars if 'loss' in s], log


def check_run(result, loss_names, metric_names, iters=3):
    """Finite losses at every iteration, and the test metric line."""
    metrics, train_scalars, log = result
    assert [s['step'] for s in train_scalars] == list(range(1, iters + 1))
    for scalars in train_scalars:
        assert set(loss_names) <= set(scalars), scalars
        for name in loss_names:
            assert math.isfinite(scalars[name]), (name, scalars)
    for name in metric_names:
        assert 0.0 <= metrics[name] <= 100.0, (name, metrics)
    # mmengine's closing line of the test loop: 'Iter(test) [n/n] aAcc: ...'
    lines = re.findall(r'Iter\(test\) \[(\d+)/\1\]\s+(.*)', log)
    assert lines, log[-2000:]
    line = lines[-1][1]
    for name in metric_names:
        assert re.search(rf'(^|\s){re.escape(name)}: \d', line), line
    return line


@pytest.mark.slow
def test_clip_tower_in_upernet_on_ade20k(tmp_path):
    cfg = load(UPERNET)
    model = cfg.model
    # Normalised once, by the preprocessor, with CLIP's statistics.
    assert model.backbone.normalize is None
    for key in ('mean', 'std'):
        assert model.data_preprocessor[key] == pytest.approx(
            CLIP_NORMALIZE[key])
    model.backbone.update(
        model_name=None,
        embed_dim=32,
        img_size=64,
        out_indices=(0, 1, 2, 3),
        pretrained=None,
        vision_cfg=dict(
            layers=4, width=32, head_width=16, patch_size=8, image_size=64))
    model.neck.update(in_channels=[32] * 4, out_channels=32)
    model.decode_head.update(in_channels=[32] * 4, channels=16)
    model.auxiliary_head.update(in_channels=32, channels=8)
    model.data_preprocessor.size = (64, 64)
    model.test_cfg.update(crop_size=(64, 64), stride=(32, 32))
    # 50 x 80 images: tested at 64 x 102, padded to 64 x 112, slid over.
    set_data(cfg, data_root=write_ade20k(str(tmp_path / 'ade')))
    set_pipeline_sizes(cfg, scale=(256, 64), crop_size=(64, 64))
    result = train_and_test(cfg, tmp_path / 'upernet')
    check_run(result, ['loss', 'decode.loss_ce', 'aux.loss_ce'],
              ['aAcc', 'mIoU', 'mAcc'])


def building_config(name, tmp_path):
    cfg = load(name)
    assert cfg.train_dataloader.dataset.type == 'BaseSegDataset'
    assert cfg.val_evaluator.type == 'IoUMetric'
    head = cfg.model.decode_head
    head.update(sam=TINY_SAM, pretrained=None)
    cfg.model.data_preprocessor.size = (64, 64)
    set_data(cfg, data_root=write_building(str(tmp_path / 'building')))
    set_pipeline_sizes(cfg, scale=(64, 64), crop_size=(64, 64))
    return cfg


@pytest.mark.slow
@pytest.mark.parametrize('name', [SAM_IMAGE, SAM_FEATURES])
def test_sam_head_on_building_extraction(tmp_path, name):
    cfg = building_config(name, tmp_path)
    losses = ['loss', 'decode.loss_mask_bce', 'decode.loss_dice']
    if cfg.model.decode_head.type == 'SAMFeatureHead':
        cfg.model.pretrained = None
        cfg.model.backbone.update(depth=18, base_channels=16, stem_channels=16)
        cfg.model.decode_head.in_channels = 128
        cfg.model.auxiliary_head.update(in_channels=64, channels=16)
        losses += ['aux.loss_ce', 'aux.loss_dice']
    else:
        assert cfg.model.backbone.type == 'RawImageBackbone'
    result = train_and_test(cfg, tmp_path / 'run')
    check_run(result, losses, ['aAcc', 'mIoU', 'mFscore'])
    # IoUMetric's per-class table has the two classes of the metainfo.
    for name in ('background', 'building'):
        assert re.search(rf'\|\s*{name}\s*\|\s*\d', result[2]), name


@pytest.fixture(scope='module')
def mmpretrain_checkpoint(tmp_path_factory):
    """A tiny mmpretrain ImageClassifier checkpoint (ViT at 32 px).

    Returns:
        tuple: Its path and the mmpretrain backbone it holds.
    """
    pytest.importorskip('mmpretrain.models')
    torch.manual_seed(3)
    backbone = dict(
        tiny_sgsrf_mmpretrain().model.image_encoder.backbone,
        img_size=32,
        out_type='cls_token')
    classifier = MODELS.build(
        dict(
            _scope_='mmpretrain',
            type='ImageClassifier',
            backbone=backbone,
            head=dict(
                type='VisionTransformerClsHead', num_classes=5,
                in_channels=64)))
    classifier.init_weights()
    path = str(tmp_path_factory.mktemp('mmpretrain') / 'vit_classifier.pth')
    torch.save(
        dict(
            meta=dict(mmpretrain_version='1.2.0'),
            state_dict=classifier.state_dict()), path)
    return path, classifier.backbone


def tiny_sgsrf_mmpretrain(data_root=None):
    """The SGSRF + mmpretrain config with the tiny model's widths."""
    cfg = load(SGSRF_MMPRETRAIN)
    tiny = Config.fromfile(
        osp.join(REPO, 'configs', '_base_', 'models', 'sgsrf_tiny.py')).model
    for part in ('text_encoder', 'refiner', 'prompt_generator', 'decode_head',
                 'structural_loss'):
        cfg.model[part] = tiny[part]
    cfg.model.image_encoder.backbone.update(TINY_MMPRETRAIN_VIT)
    set_model_input_size(cfg.model, 64)
    if data_root is not None:
        set_data(
            cfg,
            type='SyntheticRefSegRSDataset',
            data_root=data_root,
            generator=SYNTHETIC)
        cfg.train_dataloader.dataset.text_parser = dict(train_on_gold=True)
        set_pipeline_sizes(cfg, scale=(64, 64))
    return cfg


def test_mmpretrain_checkpoint_loads_strictly_into_sgsrf(
        mmpretrain_checkpoint):
    path, saved = mmpretrain_checkpoint
    cfg = tiny_sgsrf_mmpretrain()
    assert cfg.model.image_encoder.backbone.type == (
        'mmpretrain.VisionTransformer')
    cfg.model.image_encoder.pretrained = path
    model = MODELS.build(cfg.model)
    model.init_weights()
    # mmpretrain's own loading of the same weights (its load hook resizes
    # the 32-px position embedding to 64 px).
    reference = MODELS.build(
        dict(cfg.model.image_encoder.backbone, _scope_='mmpretrain'))
    reference.load_state_dict(saved.state_dict())
    loaded = model.image_encoder.backbone.state_dict()
    assert loaded.keys() == reference.state_dict().keys()
    for key, value in reference.state_dict().items():
        assert torch.allclose(loaded[key], value, atol=1e-6), key
    # The grounding adapters are in SAM's encoder and run in the forward.
    head = model.decode_head
    assert head.adapter_indexes == (1, )
    calls = []
    head.grounding_adapters[0].register_forward_hook(
        lambda *args: calls.append(args[2].shape))
    with torch.no_grad():
        model._forward(
            torch.rand(1, 3, 64, 64) * 255,
            [SegDataSample(metainfo=dict(text='the red car'))])
    assert calls == [(1, 8, 8, 64)]

    cfg.model.image_encoder.backbone.arch.num_layers = 4
    cfg.model.image_encoder.backbone.out_indices = (1, 2, 3)
    with pytest.raises(CheckpointError, match=r'missing keys \(layers\.3\.'):
        MODELS.build(cfg.model).init_weights()


@pytest.mark.slow
def test_sgsrf_with_mmpretrain_tower_on_synthetic_refsegrs(
        tmp_path, mmpretrain_checkpoint):
    root = str(tmp_path / 'synthetic')
    generate_synthetic_dataset(root, **SYNTHETIC)
    cfg = tiny_sgsrf_mmpretrain(root)
    cfg.model.image_encoder.pretrained = mmpretrain_checkpoint[0]
    result = train_and_test(cfg, tmp_path / 'run', iters=2)
    check_run(
        result, ['loss', 'decode.loss_mask_bce', 'scr.loss_struct'],
        ['mIoU', 'oIoU', 'Prec@0.5'],
        iters=2)
