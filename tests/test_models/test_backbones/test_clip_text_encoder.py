import socket

import open_clip
import pytest
import torch
import torch.nn.functional as F
from clip_checkpoints import EMBED_DIM, TEXT_CFG, save_checkpoint
from mmseg.registry import MODELS

import sgsrf_mmseg  # noqa: F401,I001
from sgsrf_mmseg.models.clip import tokenizer as clip_tokenizer_module
from sgsrf_mmseg.models.clip.tokenizer import tokenize
from sgsrf_mmseg.utils.checkpoint_file import CheckpointError

TINY = dict(
    type='CLIPTextEncoderTower',
    model_name=None,
    embed_dim=EMBED_DIM,
    text_cfg=TEXT_CFG)
TEXTS = [
    'the white storage tank at the bottom right',
    'vehicles driving on the road', 'a ship'
]
TOKENIZER = open_clip.get_tokenizer('ViT-B-16', context_length=16)


def build(**kwargs):
    return MODELS.build({**TINY, **kwargs})


def loaded_tower(path, **kwargs):
    tower = build(pretrained=path, **kwargs)
    tower.init_weights()
    return tower.eval()


def test_output_shapes_and_attributes():
    tower = build()
    assert (tower.width, tower.embed_dim, tower.context_length) == (32, 32, 16)
    out = tower(TEXTS)
    lengths = [len(TOKENIZER.encode(t)) + 2 for t in TEXTS]
    num = max(lengths)
    assert out.words.shape == (3, num, 32)
    assert out.pad_mask.shape == (3, num)
    assert out.pad_mask.dtype == torch.bool
    assert out.sentence.shape == (3, EMBED_DIM)

    full = build(trim_padding=False)
    full.load_state_dict(tower.state_dict())
    out_full = full(TEXTS)
    assert out_full.words.shape == (3, 16, 32)
    with torch.no_grad():
        torch.testing.assert_close(out_full.words[:, :num], out.words)
        torch.testing.assert_close(out_full.sentence, out.sentence)


def test_tokens_and_pad_mask():
    tower = build(trim_padding=False)
    out = tower(TEXTS)
    tokens, lengths = tokenize(TEXTS, tower.context_length)
    assert torch.equal(tokens, TOKENIZER(TEXTS))
    eot = (tokens == TOKENIZER.eot_token_id).int().argmax(-1)
    assert torch.equal(lengths, eot + 1)
    positions = torch.arange(16)
    assert torch.equal(out.pad_mask, positions[None] > eot[:, None])
    assert not out.pad_mask[:, 0].any()


def test_empty_text():
    tower = build()
    out = tower(['', '   '])
    sot, eot = TOKENIZER.all_special_ids
    tokens, _ = tokenize(['', '   '], tower.context_length)
    assert tokens[:, :2].tolist() == [[sot, eot], [sot, eot]]
    assert out.pad_mask.shape == (2, 2) and not out.pad_mask.any()
    assert torch.isfinite(out.sentence).all()


def test_truncation_warns_and_keeps_eot(monkeypatch):
    messages = []
    monkeypatch.setattr(clip_tokenizer_module, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    long_text = ' '.join(['tank'] * 30)
    tower = build()
    out = tower([long_text, 'a ship'])
    assert len(messages) == 1 and long_text in messages[0]
    tokens, _ = tokenize([long_text, 'a ship'], tower.context_length)
    assert tokens.shape == (2, 16)
    assert tokens[0, -1] == TOKENIZER.eot_token_id
    assert out.words.shape[1] == 16 and not out.pad_mask[0].any()
    assert torch.equal(tokens[0], TOKENIZER([long_text])[0])


def test_tokenizer_is_offline(monkeypatch):

    def no_network(*args, **kwargs):
        raise AssertionError('network access')

    monkeypatch.setattr(socket, 'socket', no_network)
    monkeypatch.setattr(socket, 'create_connection', no_network)
    clip_tokenizer_module.bpe_tokenizer.cache_clear()
    tokens, lengths = tokenize(['a red roof'], 16)
    assert lengths.tolist() == [5]


@pytest.mark.parametrize('fmt', ['bin', 'safetensors', 'torchscript'])
def test_load_every_format(fmt, tiny_checkpoints):
    path, saved = tiny_checkpoints[fmt]
    tower = loaded_tower(path)
    loaded = tower.state_dict()
    expected = {
        k: v
        for k, v in saved.items()
        if not k.startswith('visual.') and k != 'logit_scale'
    }
    assert set(loaded) == set(expected)
    assert 'attn_mask' not in loaded
    for key, value in expected.items():
        assert torch.equal(loaded[key], value.float()), key

    short = loaded_tower(path, context_length=8)
    assert torch.equal(short.positional_embedding,
                       expected['positional_embedding'][:8].float())


def test_matches_open_clip_encode_text(tiny_clip, tiny_checkpoints):
    path, _ = tiny_checkpoints['bin']
    tower = loaded_tower(path)
    texts = TEXTS + ['']
    with torch.no_grad():
        out = tower(texts)
        tokens = TOKENIZER(texts)
        expected = tiny_clip.encode_text(tokens)
        normed = tiny_clip.encode_text(tokens, normalize=True)
    torch.testing.assert_close(out.sentence, expected)
    torch.testing.assert_close(F.normalize(out.sentence, dim=-1), normed)


def test_wrong_checkpoints(tiny_checkpoints, tmp_path):
    _, saved = tiny_checkpoints['bin']

    def broken(edit):
        state_dict = dict(saved)
        edit(state_dict)
        path = str(tmp_path / 'broken.bin')
        save_checkpoint(state_dict, path, 'bin')
        return path

    with pytest.raises(
            CheckpointError,
            match=r'broken\.bin.*1 missing keys \(ln_final\.bias\)'):
        loaded_tower(broken(lambda sd: sd.pop('ln_final.bias')))
    with pytest.raises(CheckpointError, match=r'unexpected keys \(extra\)'):
        loaded_tower(broken(lambda sd: sd.update(extra=torch.ones(1))))
    with pytest.raises(CheckpointError, match=r'broken\.bin.*text_projection'):
        loaded_tower(
            broken(lambda sd: sd.update(text_projection=torch.ones(32, 8))))
    with pytest.raises(CheckpointError, match=r'broken\.bin holds no text'):
        loaded_tower(
            broken(
                lambda sd:
                [sd.pop(k) for k in list(sd) if not k.startswith('visual.')]))


def test_gradients_reach_every_trainable_parameter():
    tower = build()
    tower.train()
    out = tower(TEXTS)
    (out.words.square().mean() + out.sentence.square().mean()).backward()
    for name, param in tower.named_parameters():
        assert param.requires_grad, name
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_frozen_stages_partial():
    tower = build(frozen_stages=1)
    tower.train()
    params = dict(tower.named_parameters())
    for name in ('token_embedding.weight', 'positional_embedding',
                 'transformer.resblocks.0.attn.in_proj_weight'):
        assert not params[name].requires_grad, name
    for name in ('transformer.resblocks.1.attn.in_proj_weight',
                 'ln_final.weight', 'text_projection'):
        assert params[name].requires_grad, name
    assert not tower.transformer.resblocks[0].training
    assert tower.transformer.resblocks[1].training
    out = tower(TEXTS)
    out.sentence.sum().backward()
    assert params['transformer.resblocks.1.mlp.c_fc.weight'].grad is not None
    assert params['transformer.resblocks.0.mlp.c_fc.weight'].grad is None


def test_fully_frozen_builds_no_graph():
    tower = build(frozen_stages=2)
    tower.train()
    assert tower.training
    assert not any(p.requires_grad for p in tower.parameters())
    assert not any(m.training for m in tower.children())
    out = tower(TEXTS)
    assert out.words.grad_fn is None
    assert out.sentence.grad_fn is None


@pytest.mark.slow
def test_vit_b16_matches_open_clip(vit_b16_checkpoint):
    model, path = vit_b16_checkpoint
    tower = MODELS.build(
        dict(
            type='CLIPTextEncoderTower',
            model_name='ViT-B-16',
            pretrained=path))
    tower.init_weights()
    tower.eval()
    expected = {
        k: v
        for k, v in model.state_dict().items()
        if not k.startswith('visual.') and k != 'logit_scale'
    }
    loaded = tower.state_dict()
    assert set(loaded) == set(expected)
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key
    assert (tower.width, tower.embed_dim, tower.context_length) == (512, 512,
                                                                    77)
    with torch.no_grad():
        out = tower(TEXTS)
        reference = model.encode_text(open_clip.tokenize(TEXTS))
    torch.testing.assert_close(out.sentence, reference)
