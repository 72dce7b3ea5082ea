import pytest
import torch
from segment_anything.modeling.image_encoder import Attention, ImageEncoderViT

import sgsrf_mmseg  # noqa: F401,I001
from sgsrf_mmseg.models.sam.attention import (SDPARelPosAttention,
                                              use_sdpa_attention)


def _attention(input_size):
    torch.manual_seed(0)
    attn = Attention(32, num_heads=4, use_rel_pos=True, input_size=input_size)
    with torch.no_grad():
        attn.rel_pos_h.normal_(std=0.5)
        attn.rel_pos_w.normal_(std=0.5)
    return attn


@pytest.mark.parametrize(
    'input_size,tokens',
    [
        ((4, 4), (6, 4, 4)),  # windowed block: windows of the batch
        ((6, 5), (2, 6, 5)),  # global block on a non-square grid
    ])
def test_sdpa_matches_segment_anything_fp32(input_size, tokens):
    attn = _attention(input_size)
    sdpa = SDPARelPosAttention.from_attention(attn)
    assert list(sdpa.state_dict()) == list(attn.state_dict())
    x = torch.randn(*tokens, 32)
    torch.testing.assert_close(sdpa(x), attn(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('input_size', [(4, 4), (6, 6)])
def test_sdpa_matches_segment_anything_bf16(input_size):
    attn = _attention(input_size)
    sdpa = SDPARelPosAttention.from_attention(attn)
    x = torch.randn(2, *input_size, 32)
    ref = attn(x)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = sdpa(x)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), ref, rtol=5e-2, atol=5e-2)


def test_sdpa_gradients_match():
    attn = _attention((4, 4))
    sdpa = SDPARelPosAttention.from_attention(attn)
    x = torch.randn(2, 4, 4, 32)
    attn(x).square().sum().backward()
    sdpa(x).square().sum().backward()
    torch.testing.assert_close(
        sdpa.rel_pos_h.grad, attn.rel_pos_h.grad, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(
        sdpa.qkv.weight.grad, attn.qkv.weight.grad, rtol=1e-4, atol=1e-5)


def test_use_sdpa_attention_keeps_encoder():
    torch.manual_seed(0)
    encoder = ImageEncoderViT(
        img_size=64,
        patch_size=8,
        embed_dim=32,
        depth=2,
        num_heads=2,
        out_chans=32,
        use_rel_pos=True,
        window_size=3,
        global_attn_indexes=(1, ))
    for name, param in encoder.named_parameters():
        if 'rel_pos' in name:
            torch.nn.init.normal_(param, std=0.5)
    x = torch.randn(2, 3, 64, 64)
    ref = encoder(x)
    keys = {k: v.clone() for k, v in encoder.state_dict().items()}
    use_sdpa_attention(encoder)
    assert all(isinstance(b.attn, SDPARelPosAttention) for b in encoder.blocks)
    assert list(encoder.state_dict()) == list(keys)
    for k, v in encoder.state_dict().items():
        assert torch.equal(v, keys[k])
    torch.testing.assert_close(encoder(x), ref, rtol=1e-4, atol=1e-4)
