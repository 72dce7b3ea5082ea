import pytest
import torch
import torch.nn as nn
from tiny_sam import TINY_SAM_ARCH

import sgsrf_mmseg  # noqa: F401,I001
from sgsrf_mmseg.models.sam.builder import (SAM_ARCHS, build_sam_modules,
                                            sam_config)
from sgsrf_mmseg.models.sam.weights import load_sam_weights, resize_rel_pos
from sgsrf_mmseg.utils.checkpoint_file import CheckpointError


def _sam_file(tmp_path, img_size=64, name='sam_tiny.pth', extra=None):
    """Write a SAM state dict in the official layout, return path, tensors."""
    torch.manual_seed(0)
    sam = nn.Module()
    (sam.image_encoder, sam.prompt_encoder,
     sam.mask_decoder) = build_sam_modules(
         img_size=img_size, **TINY_SAM_ARCH)
    for param in sam.parameters():
        nn.init.normal_(param, std=0.02)
    state = sam.state_dict()
    state.update(extra or {})
    path = str(tmp_path / name)
    torch.save(state, path)
    return path, state


def test_sam_config_arches():
    assert sam_config('vit_b', img_size=512)['embed_dim'] == 768
    for arch, sizes in SAM_ARCHS.items():
        cfg = sam_config(arch)
        assert cfg['img_size'] == 1024 and cfg['prompt_embed_dim'] == 256
        assert cfg['global_attn_indexes'] == sizes['global_attn_indexes']
    with pytest.raises(KeyError, match='vit_x'):
        sam_config('vit_x')
    with pytest.raises(KeyError, match='embed_dim'):
        sam_config(img_size=64)
    with pytest.raises(ValueError, match='multiple'):
        sam_config('vit_b', img_size=500)


def test_round_trip_same_size(tmp_path):
    path, state = _sam_file(tmp_path)
    modules = build_sam_modules(img_size=64, **TINY_SAM_ARCH)
    load_sam_weights(path, *modules)
    names = ('image_encoder.', 'prompt_encoder.', 'mask_decoder.')
    for prefix, module in zip(names, modules):
        for key, value in module.state_dict().items():
            assert torch.equal(value, state[prefix + key]), key


def test_resize_to_other_resolution(tmp_path):
    path, state = _sam_file(tmp_path, img_size=64)
    modules = build_sam_modules(img_size=96, **TINY_SAM_ARCH)
    load_sam_weights(path, *modules)
    encoder = modules[0]
    assert encoder.pos_embed.shape == (1, 12, 12, 32)
    glob = encoder.blocks[1].attn  # global: 2 * 12 - 1
    win = encoder.blocks[0].attn  # windowed: 2 * 4 - 1, copied as is
    assert glob.rel_pos_h.shape == (23, 16)
    assert torch.equal(
        glob.rel_pos_w,
        resize_rel_pos(state['image_encoder.blocks.1.attn.rel_pos_w'], 23))
    assert torch.equal(win.rel_pos_h,
                       state['image_encoder.blocks.0.attn.rel_pos_h'])
    # The prompt encoder has no resolution-dependent tensor.
    small = build_sam_modules(img_size=64, **TINY_SAM_ARCH)[1].state_dict()
    large = modules[1].state_dict()
    assert {k: v.shape for k, v in small.items()} == \
        {k: v.shape for k, v in large.items()}


def test_wrong_keys_are_listed(tmp_path):
    path, _ = _sam_file(
        tmp_path, name='bad.pth', extra={'mask_decoder.extra': torch.ones(1)})
    state = torch.load(path, weights_only=True)
    del state['prompt_encoder.no_mask_embed.weight']
    torch.save(state, path)
    with pytest.raises(CheckpointError) as err:
        load_sam_weights(path,
                         *build_sam_modules(img_size=64, **TINY_SAM_ARCH))
    message = str(err.value)
    assert 'bad.pth' in message and 'SAMModules' in message
    assert 'prompt_encoder.no_mask_embed.weight' in message
    assert 'mask_decoder.extra' in message


def test_wrong_shape_is_an_error(tmp_path):
    path, _ = _sam_file(tmp_path)
    other = dict(TINY_SAM_ARCH, embed_dim=64)
    with pytest.raises(CheckpointError, match='wrong shape'):
        load_sam_weights(path, *build_sam_modules(img_size=64, **other))


def test_pixel_normalisation_keys(tmp_path):
    mean = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)
    path, _ = _sam_file(tmp_path, extra=dict(pixel_mean=mean, pixel_std=std))
    load_sam_weights(path, *build_sam_modules(img_size=64, **TINY_SAM_ARCH))
    path, _ = _sam_file(
        tmp_path,
        name='other_norm.pth',
        extra=dict(pixel_mean=mean * 0, pixel_std=std))
    with pytest.raises(CheckpointError, match='other_norm.pth.*pixel_mean'):
        load_sam_weights(path,
                         *build_sam_modules(img_size=64, **TINY_SAM_ARCH))
