import pytest
import torch
from mmseg.registry import MODELS

import sgsrf_mmseg  # noqa: F401,I001
from sgsrf_mmseg.utils.checkpoint_file import CheckpointError

pytest.importorskip('mmpretrain.models')

# A CLIP image tower as mmpretrain builds it (pre-norm, QuickGELU, LN eps of
# CLIP), at tiny widths.
CLIP_VIT = dict(
    type='mmpretrain.VisionTransformer',
    arch=dict(
        embed_dims=32, num_layers=3, num_heads=2, feedforward_channels=64),
    img_size=64,
    patch_size=16,
    pre_norm=True,
    out_type='featmap',
    out_indices=(1, 2),
    norm_cfg=dict(type='LN', eps=1e-5),
    layer_cfgs=dict(act_cfg=dict(type='QuickGELU')))
# SAM's image encoder as mmpretrain builds it, raw maps (no SAM neck).
SAM_VIT = dict(
    type='mmpretrain.ViTSAM',
    arch=dict(
        embed_dims=32,
        num_layers=2,
        num_heads=2,
        feedforward_channels=64,
        global_attn_indexes=[1]),
    img_size=64,
    patch_size=16,
    window_size=2,
    out_channels=0,
    out_indices=(0, 1),
    out_type='featmap')
IMAGENET = dict(mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375))


def tower(backbone, seed=1, **kwargs):
    torch.manual_seed(seed)
    model = MODELS.build(
        dict(type='MMPretrainImageTower', backbone=backbone, **kwargs))
    model.init_weights()
    return model.eval()


def images(height=64, width=64):
    torch.manual_seed(2)
    return torch.rand(2, 3, height, width) * 255


def save_classifier(backbone, path, seed=0, head=True):
    """An mmpretrain ImageClassifier's checkpoint, as mmpretrain writes it.

    Returns:
        nn.Module: The classifier's backbone (the saved weights).
    """
    torch.manual_seed(seed)
    head_cfg = dict(
        type='VisionTransformerClsHead',
        num_classes=10,
        in_channels=backbone['arch']['embed_dims']) if head else None
    classifier = MODELS.build(
        dict(
            _scope_='mmpretrain',
            type='ImageClassifier',
            backbone=dict(backbone, out_type='cls_token')
            if head else backbone,
            head=head_cfg))
    classifier.init_weights()
    torch.save(
        dict(
            meta=dict(mmpretrain_version='1.2.0'),
            state_dict=classifier.state_dict()), path)
    return classifier.backbone


@pytest.mark.parametrize('backbone,channels', [(CLIP_VIT, 32), (SAM_VIT, 32)])
@pytest.mark.parametrize('size', [(64, 64), (32, 48), (96, 64)])
def test_multi_level_maps(backbone, channels, size):
    outs = tower(backbone)(images(*size))
    assert len(outs) == 2
    for out in outs:
        assert out.shape == (2, channels, size[0] // 16, size[1] // 16)
    assert not torch.allclose(outs[0], outs[1])


def test_unscoped_type_is_refused():
    with pytest.raises(ValueError, match=r"'mmpretrain\.<Name>'.*mmseg's"):
        tower(dict(CLIP_VIT, type='VisionTransformer'))


def test_token_outputs_are_refused():
    model = tower(dict(CLIP_VIT, out_type='cls_token'))
    with pytest.raises(ValueError, match="out_type='featmap'"):
        model(images())


def test_input_must_be_a_multiple_of_the_patch_size():
    with pytest.raises(
            ValueError, match='60x64 is not a multiple of the '
            'patch size 16'):
        tower(CLIP_VIT)(images(60, 64))


@pytest.mark.parametrize('backbone,head,norm', [(CLIP_VIT, True, {}),
                                                (SAM_VIT, False, IMAGENET)])
def test_classifier_checkpoint_loads_strictly(tmp_path, backbone, head, norm):
    path = str(tmp_path / 'classifier.pth')
    saved = save_classifier(backbone, path, head=head)
    saved.eval()
    model = tower(
        backbone, pretrained=path, **(dict(normalize=norm) if norm else {}))
    for key, value in saved.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[key], value), key
    img = images()
    mean = torch.tensor(
        norm.get('mean',
                 model.normalizer.mean.flatten().tolist()))
    std = torch.tensor(
        norm.get('std',
                 model.normalizer.std.flatten().tolist()))
    with torch.no_grad():
        reference = MODELS.build(dict(backbone, _scope_='mmpretrain'))
        reference.load_state_dict(saved.state_dict())
        reference.eval()
        wanted = reference(
            (img - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1))
        got = model(img)
    for a, b in zip(got, wanted):
        assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize('backbone', [CLIP_VIT, SAM_VIT])
def test_position_tables_resized_as_mmpretrain_does(tmp_path, backbone):
    path = str(tmp_path / 'at64.pth')
    saved = save_classifier(backbone, path, head=False)
    model = tower(dict(backbone, img_size=96), pretrained=path)
    # mmpretrain's own load hooks, on a plain load_state_dict
    reference = MODELS.build(dict(backbone, img_size=96, _scope_='mmpretrain'))
    reference.load_state_dict(saved.state_dict())
    resized = [
        k for k, v in saved.state_dict().items()
        if v.shape != reference.state_dict()[k].shape
    ]
    assert 'pos_embed' in resized
    for key, value in reference.state_dict().items():
        assert torch.allclose(
            model.backbone.state_dict()[key], value, atol=1e-6), key


def test_wrong_checkpoints_are_rejected_with_the_keys(tmp_path):
    fewer_layers = str(tmp_path / 'two_layers.pth')
    save_classifier(
        dict(
            CLIP_VIT,
            arch=dict(CLIP_VIT['arch'], num_layers=2),
            out_indices=(0, 1)), fewer_layers)
    with pytest.raises(
            CheckpointError, match=r'missing keys \(layers\.2\.attn'):
        tower(CLIP_VIT, pretrained=fewer_layers)

    sam = str(tmp_path / 'sam.pth')
    save_classifier(
        dict(
            SAM_VIT,
            arch=dict(SAM_VIT['arch'], num_layers=3, global_attn_indexes=[2]),
            out_indices=(0, 1)),
        sam,
        head=False)
    with pytest.raises(CheckpointError) as info:
        tower(CLIP_VIT, pretrained=sam)
    message = str(info.value)
    assert 'cls_token' in message and 'pre_norm.weight' in message
    assert 'unexpected keys (layers.0.attn.rel_pos_h' in message

    open_clip_like = str(tmp_path / 'open_clip.pth')
    torch.save({'visual.conv1.weight': torch.zeros(32, 3, 16, 16)},
               open_clip_like)
    with pytest.raises(
            KeyError,
            match=r"outside backbone\.\* \(not part of "
            r"the backbone\): \['visual\.conv1\.weight'\]"):
        tower(CLIP_VIT, pretrained=open_clip_like)


def test_sam_checkpoint_into_a_tower_without_the_sam_neck(tmp_path):
    path = str(tmp_path / 'sam_with_neck.pth')
    saved = save_classifier(dict(SAM_VIT, out_channels=8), path, head=False)
    with pytest.raises(
            CheckpointError, match=r'unexpected keys \(channel_reduction\.0'):
        tower(SAM_VIT, pretrained=path)
    model = tower(
        SAM_VIT,
        pretrained=path,
        ignore_prefixes=('backbone.channel_reduction.', ))
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, saved.state_dict()[key]), key


def test_converted_clip_zero_shot_checkpoint_by_prefix(tmp_path):
    path = str(tmp_path / 'clip_zero_shot.pth')
    saved = save_classifier(CLIP_VIT, str(tmp_path / 'c.pth'), head=False)
    torch.save(
        dict({
            f'visual.{k}': v
            for k, v in saved.state_dict().items()
        }, **{'visual_proj.proj': torch.zeros(32, 16)}), path)
    model = tower(
        CLIP_VIT,
        pretrained=path,
        checkpoint_prefix='visual.',
        ignore_prefixes=('visual_proj.', ))
    assert torch.equal(model.backbone.pos_embed, saved.pos_embed)
