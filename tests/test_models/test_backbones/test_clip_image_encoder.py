import pytest
import torch
from clip_checkpoints import EMBED_DIM, VISION_CFG, save_checkpoint
from mmseg.registry import MODELS

import sgsrf_mmseg  # noqa: F401,I001
from sgsrf_mmseg.models.clip.weights import resize_pos_embed
from sgsrf_mmseg.utils.checkpoint_file import CheckpointError

TINY = dict(
    type='CLIPImageEncoder',
    model_name=None,
    embed_dim=EMBED_DIM,
    vision_cfg=VISION_CFG,
    img_size=64,
    out_indices=(0, 1))


def build(**kwargs):
    return MODELS.build({**TINY, **kwargs})


def images(batch=2, height=64, width=64):
    torch.manual_seed(1)
    return torch.rand(batch, 3, height, width) * 255


@pytest.mark.parametrize('size', [(64, 64), (32, 48), (96, 64), (8, 8)])
def test_output_shapes(size):
    encoder = build()
    assert encoder.embed_dims == 64 and encoder.patch_size == 8
    outs = encoder(images(2, *size))
    assert len(outs) == 2
    for out in outs:
        assert out.shape == (2, 64, size[0] // 8, size[1] // 8)


def test_out_indices_negative_and_single():
    assert build(out_indices=-1).out_indices == (1, )
    assert len(build(out_indices=(1, 0)).out_indices) == 2
    with pytest.raises(ValueError, match='out_indices'):
        build(out_indices=(2, ))


def test_size_not_multiple_of_patch():
    encoder = build()
    with pytest.raises(ValueError, match=r'60x64.*patch size 8'):
        encoder(images(1, 60, 64))
    with pytest.raises(ValueError, match=r'img_size.*patch size 8'):
        build(img_size=60)


def test_normalisation_buffers_not_in_state_dict():
    encoder = build()
    keys = set(encoder.state_dict())
    assert 'mean' not in keys and 'std' not in keys
    assert all(k.startswith('visual.') for k in keys)
    assert torch.allclose(encoder.normalizer.mean.flatten(),
                          torch.tensor([122.7709, 116.7460, 104.0937]))


def test_matches_open_clip(tiny_clip, tiny_checkpoints):
    path, _ = tiny_checkpoints['bin']
    encoder = build(pretrained=path)
    encoder.init_weights()
    encoder.eval()
    img = images()
    with torch.no_grad():
        outs = encoder(img)
        normed = (img - encoder.normalizer.mean) / encoder.normalizer.std
        ref = tiny_clip.visual.forward_intermediates(
            normed, indices=[0, 1], intermediates_only=True)
    for out, expected in zip(outs, ref['image_intermediates']):
        torch.testing.assert_close(out, expected)


@pytest.mark.parametrize('fmt', ['bin', 'safetensors', 'torchscript'])
def test_load_every_format(fmt, tiny_checkpoints):
    path, saved = tiny_checkpoints[fmt]
    encoder = build(pretrained=path)
    encoder.init_weights()
    loaded = encoder.visual.state_dict()
    expected = {
        k[len('visual.'):]: v
        for k, v in saved.items() if k.startswith('visual.')
    }
    assert set(loaded) == set(expected)
    for key, value in expected.items():
        assert torch.equal(loaded[key], value.float()), key

    resized = build(img_size=(96, 80), pretrained=path)
    resized.init_weights()
    pos = resized.visual.positional_embedding
    assert pos.shape == (1 + 12 * 10, 64)
    file_pos = expected['positional_embedding'].float()
    assert torch.equal(pos[0], file_pos[0])
    torch.testing.assert_close(pos, resize_pos_embed(file_pos, (8, 8),
                                                     (12, 10)))
    assert torch.equal(resized.visual.conv1.weight,
                       expected['conv1.weight'].float())


def test_on_the_fly_interpolation_matches_load_time(tiny_checkpoints):
    path, _ = tiny_checkpoints['bin']
    native = build(pretrained=path)
    native.init_weights()
    resized = build(img_size=96, pretrained=path)
    resized.init_weights()
    img = images(1, 96, 96)
    with torch.no_grad():
        for a, b in zip(native(img), resized(img)):
            torch.testing.assert_close(a, b)


def _broken(saved, tmp_path, edit):
    state_dict = dict(saved)
    edit(state_dict)
    path = str(tmp_path / 'broken.bin')
    save_checkpoint(state_dict, path, 'bin')
    return path


def test_wrong_checkpoints(tiny_checkpoints, tmp_path):
    _, saved = tiny_checkpoints['bin']

    path = _broken(saved, tmp_path, lambda sd: sd.pop('visual.ln_pre.weight'))
    with pytest.raises(
            CheckpointError,
            match=r'broken\.bin.*1 missing keys \(ln_pre\.weight\)'):
        build(pretrained=path).init_weights()

    path = _broken(
        saved, tmp_path,
        lambda sd: sd.update({'visual.extra.weight': torch.ones(1)}))
    with pytest.raises(
            CheckpointError, match=r'unexpected keys \(extra\.weight\)'):
        build(pretrained=path).init_weights()

    path = _broken(
        saved, tmp_path,
        lambda sd: sd.update({'visual.conv1.weight': torch.ones(64, 3, 4, 4)}))
    with pytest.raises(CheckpointError, match=r'broken\.bin.*conv1\.weight'):
        build(pretrained=path).init_weights()

    path = _broken(
        saved, tmp_path,
        lambda sd: [sd.pop(k) for k in list(sd) if k.startswith('visual.')])
    with pytest.raises(CheckpointError, match=r'broken\.bin holds no visual'):
        build(pretrained=path).init_weights()


def test_text_keys_are_not_unexpected(tiny_checkpoints):
    path, saved = tiny_checkpoints['bin']
    assert any(not k.startswith('visual.') for k in saved)
    build(pretrained=path).init_weights()


def test_gradients_reach_every_trainable_parameter():
    encoder = build(out_indices=(0, ))
    encoder.train()
    outs = encoder(images())
    sum(out.square().mean() for out in outs).backward()
    trainable = {n for n, p in encoder.named_parameters() if p.requires_grad}
    unused = {'visual.ln_post.weight', 'visual.ln_post.bias', 'visual.proj'}
    unused |= {
        n
        for n, _ in encoder.named_parameters()
        if n.startswith('visual.transformer.resblocks.1.')
    }
    assert trainable == {n for n, _ in encoder.named_parameters()} - unused
    for name, param in encoder.named_parameters():
        if param.requires_grad:
            assert param.grad is not None and param.grad.abs().sum() > 0, name
        else:
            assert param.grad is None, name


def test_frozen_stages_partial():
    encoder = build(frozen_stages=1)
    encoder.train()
    frozen = [
        'visual.conv1.weight', 'visual.class_embedding',
        'visual.positional_embedding', 'visual.ln_pre.weight',
        'visual.transformer.resblocks.0.attn.in_proj_weight'
    ]
    params = dict(encoder.named_parameters())
    for name in frozen:
        assert not params[name].requires_grad, name
    assert params[
        'visual.transformer.resblocks.1.mlp.c_fc.weight'].requires_grad
    assert not encoder.visual.conv1.training
    assert not encoder.visual.transformer.resblocks[0].training
    assert encoder.visual.transformer.resblocks[1].training
    outs = encoder(images())
    assert outs[0].grad_fn is None
    outs[1].mean().backward()
    assert params[
        'visual.transformer.resblocks.1.mlp.c_fc.weight'].grad is not None

    embed_only = build(frozen_stages=0)
    assert not embed_only.visual.positional_embedding.requires_grad
    assert embed_only.visual.transformer.resblocks[0].attn.in_proj_weight \
        .requires_grad


def test_fully_frozen_builds_no_graph():
    encoder = build(frozen_stages=2)
    encoder.train()
    assert not any(p.requires_grad for p in encoder.parameters())
    assert not any(m.training for m in encoder.visual.modules())
    assert encoder.training
    outs = encoder(images())
    assert all(out.grad_fn is None and not out.requires_grad for out in outs)


def test_grad_checkpointing_same_results():
    torch.manual_seed(0)
    plain = build()
    checkpointed = build(grad_checkpointing=True)
    checkpointed.load_state_dict(plain.state_dict())
    img = images()
    out_a = plain(img)
    out_b = checkpointed(img)
    sum(o.sum() for o in out_a).backward()
    sum(o.sum() for o in out_b).backward()
    for a, b in zip(out_a, out_b):
        torch.testing.assert_close(a, b)
    grads_b = dict(checkpointed.named_parameters())
    for name, param in plain.named_parameters():
        if param.requires_grad:
            torch.testing.assert_close(param.grad, grads_b[name].grad)


@pytest.mark.slow
def test_vit_b16_official_checkpoint(vit_b16_checkpoint):
    model, path = vit_b16_checkpoint
    encoder = MODELS.build(
        dict(
            type='CLIPImageEncoder',
            model_name='ViT-B-16',
            img_size=224,
            pretrained=path))
    encoder.init_weights()
    expected = model.visual.state_dict()
    loaded = encoder.visual.state_dict()
    assert set(loaded) == set(expected)
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key
    assert encoder.embed_dims == 768 and encoder.patch_size == 16
    with torch.no_grad():
        outs = encoder(images(1, 64, 48))
    assert [tuple(o.shape) for o in outs] == [(1, 768, 4, 3)] * 3


def test_normalised_input_is_refused_or_taken_as_is():
    encoder = build()
    img = images()
    normed = (img - encoder.normalizer.mean) / encoder.normalizer.std
    with pytest.raises(ValueError, match='data_preprocessor.mean=None'):
        encoder(normed)
    # normalize=None: the tower takes the preprocessor's normalised input
    plain = build(normalize=None)
    plain.load_state_dict(encoder.state_dict())
    with torch.no_grad():
        for a, b in zip(plain(normed), encoder(img)):
            torch.testing.assert_close(a, b)
