import sgsrf_mmseg  # noqa: F401,I001
import math

import pytest
import torch
import torch.nn.functional as F

from mmseg.registry import MODELS

B, C_V, C_T, C_S, D, H, W, L = 2, 24, 20, 16, 32, 4, 5, 6


def make_inputs(levels=2):
    torch.manual_seed(0)
    visual = [torch.randn(B, C_V, H, W) for _ in range(levels)]
    pad_mask = torch.zeros(B, L, dtype=torch.bool)
    pad_mask[1, 4:] = True
    text = dict(
        word_feats=torch.randn(B, L, C_T),
        pad_mask=pad_mask,
        sentence=torch.randn(B, C_S),
        tokens=torch.zeros(B, L, dtype=torch.long))
    return visual, text


def build(num_blocks=2, levels=2):
    return MODELS.build(
        dict(
            type='CrossModalConsistencyRefiner',
            visual_channels=[C_V] * levels,
            text_channels=C_T,
            sentence_channels=C_S,
            embed_dims=D,
            num_blocks=num_blocks,
            num_heads=4))


def open_gates(ccr, value=0.5):
    with torch.no_grad():
        for block in ccr.blocks:
            block.gates.fill_(value)
        ccr.sentence_gate.fill_(value)


def test_output_shapes_and_attention_rows():
    visual, text = make_inputs()
    ccr = build()
    open_gates(ccr)
    out = ccr(visual, text)
    assert out['visual'].shape == (B, D, H, W)
    assert out['words'].shape == (B, L, D)
    assert out['sentence'].shape == (B, D)
    assert out['word_attn'].shape == (B, L, H * W)
    assert out['cue_logits'].shape == (B, 1, H, W)
    assert torch.equal(out['pad_mask'], text['pad_mask'])
    row_sums = out['word_attn'].sum(-1)
    valid = ~text['pad_mask']
    assert torch.allclose(row_sums[valid], torch.ones(int(valid.sum())))
    assert torch.all(row_sums[~valid] == 0)


def test_zero_init_gates_give_projections():
    visual, text = make_inputs()
    ccr = build(num_blocks=2)
    out = ccr(visual, text)
    v0, w0, s0 = ccr.project(visual, text)
    assert torch.allclose(out['visual'].flatten(2).transpose(1, 2), v0)
    assert torch.allclose(out['words'], w0)
    assert torch.allclose(out['sentence'], s0)
    cos = F.cosine_similarity(v0, s0[:, None], dim=-1)
    cue = ccr.cue_scale * cos + ccr.cue_bias
    assert torch.allclose(out['cue_logits'].flatten(1), cue, atol=1e-5)


def test_blocks_refine_once_gates_open():
    visual, text = make_inputs()
    ccr = build()
    open_gates(ccr)
    v0, _, _ = ccr.project(visual, text)
    out = ccr(visual, text)
    assert not torch.allclose(out['visual'].flatten(2).transpose(1, 2), v0)


def test_padded_words_do_not_reach_patches():
    visual, text = make_inputs()
    ccr = build()
    open_gates(ccr)
    out = ccr(visual, text)
    text2 = dict(text)
    text2['word_feats'] = text['word_feats'].clone()
    text2['word_feats'][1, 4:] = 100.0
    out2 = ccr(visual, text2)
    assert torch.allclose(out['visual'], out2['visual'], atol=1e-5)
    assert torch.allclose(out['cue_logits'], out2['cue_logits'], atol=1e-5)
    assert torch.allclose(out['sentence'], out2['sentence'], atol=1e-5)


def test_no_blocks_ablation():
    visual, text = make_inputs()
    ccr = build(num_blocks=0)
    assert len(ccr.blocks) == 0
    assert not hasattr(ccr, 'sentence_refine')
    out = ccr(visual, text)
    v0, w0, s0 = ccr.project(visual, text)
    attn = (w0 @ v0.transpose(1, 2) / math.sqrt(D)).softmax(-1)
    attn = attn.masked_fill(text['pad_mask'][..., None], 0)
    assert torch.allclose(out['word_attn'], attn, atol=1e-6)
    assert torch.allclose(out['words'], w0)
    assert torch.allclose(out['sentence'], s0)


def test_levels_of_other_size_and_count_check():
    visual, text = make_inputs()
    visual[1] = torch.randn(B, C_V, 2 * H, 2 * W)
    out = build()(visual, text)
    assert out['visual'].shape == (B, D, H, W)
    with pytest.raises(ValueError, match='visual_channels'):
        build(levels=3)(visual, text)


def test_gradients_reach_every_parameter():
    visual, text = make_inputs()
    ccr = build()
    open_gates(ccr)
    out = ccr(visual, text)
    loss = sum(v.float().pow(2).mean() for k, v in out.items()
               if k != 'pad_mask')
    loss.backward()
    for name, param in ccr.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
