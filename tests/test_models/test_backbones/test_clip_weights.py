import pytest
import torch
from clip_checkpoints import (EMBED_DIM, OPENAI_EXTRAS, TEXT_CFG, VISION_CFG,
                              save_checkpoint)
from mmseg.registry import MODELS

import sgsrf_mmseg  # noqa: F401,I001
from sgsrf_mmseg.models.clip import weights as clip_weights
from sgsrf_mmseg.models.clip.weights import (read_clip_state_dict,
                                             resize_pos_embed)
from sgsrf_mmseg.models.utils.weights import read_state_dict
from sgsrf_mmseg.utils.checkpoint_file import CheckpointError


def test_torchscript_archive_recovers_state_dict(tiny_clip, tiny_checkpoints):
    path, saved = tiny_checkpoints['torchscript']
    raw = read_state_dict(path, allow_torchscript=True)
    assert set(raw) == set(saved) | set(OPENAI_EXTRAS)
    for key, value in OPENAI_EXTRAS.items():
        assert torch.equal(raw[key], value)

    state_dict = read_clip_state_dict(path)
    assert set(state_dict) == set(tiny_clip.state_dict())
    for key, value in saved.items():
        assert state_dict[key].dtype == torch.float16
        assert torch.equal(state_dict[key], value), key

    with pytest.raises(CheckpointError, match='TorchScript'):
        read_state_dict(path)


@pytest.mark.parametrize('fmt', ['bin', 'safetensors'])
def test_state_dict_files_round_trip(fmt, tiny_clip, tiny_checkpoints):
    path, _ = tiny_checkpoints[fmt]
    state_dict = read_clip_state_dict(path)
    expected = tiny_clip.state_dict()
    assert set(state_dict) == set(expected)
    for key, value in expected.items():
        assert torch.equal(state_dict[key], value), key


def test_resize_pos_embed():
    pos = torch.randn(1 + 4 * 4, 8)
    assert resize_pos_embed(pos, (4, 4), (4, 4)) is pos

    bigger = resize_pos_embed(pos, (4, 4), (6, 8))
    assert bigger.shape == (1 + 6 * 8, 8)
    assert torch.equal(bigger[0], pos[0])

    smaller = resize_pos_embed(pos, (4, 4), (2, 2))
    grid = pos[1:].reshape(4, 4, 8)
    pooled = grid.reshape(2, 2, 2, 2, 8).mean(dim=(1, 3)).reshape(4, 8)
    assert smaller.shape == (5, 8)

    constant = torch.ones(1 + 16, 8)
    torch.testing.assert_close(
        resize_pos_embed(constant, (4, 4), (7, 5)), torch.ones(1 + 35, 8))
    # shrinking is antialiased: close to averaging, unlike point sampling
    assert (smaller[1:] -
            pooled).abs().mean() < (grid[::2, ::2].reshape(4, 8) -
                                    pooled).abs().mean()

    half = resize_pos_embed(pos.half(), (4, 4), (8, 8))
    assert half.dtype == torch.float16


def test_non_square_checkpoint_grid(tiny_checkpoints, tmp_path):
    _, saved = tiny_checkpoints['bin']
    state_dict = dict(saved)
    state_dict['visual.positional_embedding'] = torch.zeros(1 + 12, 64)
    path = str(tmp_path / 'odd.bin')
    save_checkpoint(state_dict, path, 'bin')
    encoder = MODELS.build(
        dict(
            type='CLIPImageEncoder',
            model_name=None,
            embed_dim=EMBED_DIM,
            vision_cfg=VISION_CFG,
            img_size=64,
            out_indices=(1, ),
            pretrained=path))
    with pytest.raises(CheckpointError, match=r'odd\.bin.*not a square grid'):
        encoder.init_weights()


@pytest.mark.parametrize('quick_gelu', [False, True])
def test_openai_file_warns_without_quick_gelu(quick_gelu, tiny_checkpoints,
                                              monkeypatch):
    messages = []
    monkeypatch.setattr(clip_weights, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    path, _ = tiny_checkpoints['torchscript']
    for cfg in (dict(
            type='CLIPImageEncoder',
            vision_cfg=VISION_CFG,
            img_size=64,
            out_indices=(1, )),
                dict(type='CLIPTextEncoderTower', text_cfg=TEXT_CFG)):
        MODELS.build(
            dict(
                cfg,
                model_name=None,
                embed_dim=EMBED_DIM,
                pretrained=path,
                quick_gelu=quick_gelu)).init_weights()
    assert len(messages) == (0 if quick_gelu else 2)
    assert all('QuickGELU' in msg for msg in messages)

    messages.clear()
    path, _ = tiny_checkpoints['bin']
    MODELS.build(
        dict(
            type='CLIPTextEncoderTower',
            model_name=None,
            text_cfg=TEXT_CFG,
            embed_dim=EMBED_DIM,
            pretrained=path)).init_weights()
    assert not messages
