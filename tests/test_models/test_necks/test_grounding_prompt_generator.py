import sgsrf_mmseg  # noqa: F401,I001
import pytest
import torch
from segment_anything.modeling import PromptEncoder

from mmseg.registry import MODELS

B, D, P, K, H, W, L = 2, 32, 16, 3, 4, 4, 5
IMG = 64
EMBED = (8, 8)


def make_ccr_out():
    torch.manual_seed(0)
    pad_mask = torch.zeros(B, L, dtype=torch.bool)
    pad_mask[0, 3:] = True
    return dict(
        visual=torch.randn(B, D, H, W),
        words=torch.randn(B, L, D),
        sentence=torch.randn(B, D),
        cue_logits=torch.randn(B, 1, H, W),
        pad_mask=pad_mask)


def make_prompt_encoder():
    return PromptEncoder(
        embed_dim=P,
        image_embedding_size=EMBED,
        input_image_size=(IMG, IMG),
        mask_in_chans=8)


def build(**kwargs):
    cfg = dict(
        type='GroundingPromptGenerator',
        embed_dims=D,
        prompt_dims=P,
        num_queries=K,
        num_layers=1,
        num_heads=4)
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.mark.parametrize('use_points,use_box,extra', [(False, False, 0),
                                                     (True, False, 2 + 1),
                                                     (False, True, 2),
                                                     (True, True, 2 + 2)])
def test_sparse_token_count(use_points, use_box, extra):
    gpg = build(use_points=use_points, use_box=use_box, num_points=2)
    out = gpg(make_ccr_out(), make_prompt_encoder(), EMBED)
    assert out['sparse'].shape == (B, K + extra, P)
    assert out['dense'].shape == (B, P) + EMBED


def test_dense_starts_at_no_mask_embedding():
    encoder = make_prompt_encoder()
    out = build(use_sparse=False)(make_ccr_out(), encoder, EMBED)
    assert out['sparse'] is None
    expected = encoder.no_mask_embed.weight.reshape(1, P, 1, 1).expand(
        B, -1, *EMBED)
    assert torch.allclose(out['dense'], expected)


def test_switches_remove_outputs():
    gpg = build(use_sparse=False, use_dense=False)
    assert not hasattr(gpg, 'queries') and not hasattr(gpg, 'dense_conv')
    out = gpg(make_ccr_out(), make_prompt_encoder(), EMBED)
    assert out == dict(sparse=None, dense=None)
    out = build(use_sparse=False, use_dense=False, use_points=True)(
        make_ccr_out(), make_prompt_encoder(), EMBED)
    assert out['sparse'].shape == (B, 2, P) and out['dense'] is None


def test_sparse_tokens_follow_the_cue():
    gpg = build(use_dense=False)
    ccr_out = make_ccr_out()
    out = gpg(ccr_out, make_prompt_encoder(), EMBED)
    ccr_out['cue_logits'] = ccr_out['cue_logits'] + 3.0
    out2 = gpg(ccr_out, make_prompt_encoder(), EMBED)
    assert not torch.allclose(out['sparse'], out2['sparse'])


def test_padded_words_are_ignored():
    gpg = build(use_dense=False)
    ccr_out = make_ccr_out()
    out = gpg(ccr_out, make_prompt_encoder(), EMBED)
    ccr_out['words'][0, 3:] = 50.0
    out2 = gpg(ccr_out, make_prompt_encoder(), EMBED)
    assert torch.allclose(out['sparse'], out2['sparse'], atol=1e-5)


def test_points_and_box_from_cue():
    gpg = build(use_points=True, num_points=1, use_box=True)
    cue = torch.full((1, 1, H, W), -10.0)
    cue[0, 0, 1, 2] = 10.0
    cue[0, 0, 1:3, 1:3] = cue[0, 0, 1:3, 1:3].clamp(min=5.0)
    coords, labels = gpg._peak_points(cue, (IMG, IMG))
    # cell (row 1, col 2) of a 4x4 grid on 64 px: centre (40, 24), minus the
    # 0.5 SAM adds.
    assert torch.allclose(coords, torch.tensor([[[39.5, 23.5]]]))
    assert torch.equal(labels, torch.ones(1, 1))
    box = gpg._cue_box(cue, (IMG, IMG))
    assert torch.allclose(box, torch.tensor([[16.0, 16.0, 47.0, 47.0]]))
    empty = torch.full((1, 1, H, W), -10.0)
    empty[0, 0, 3, 0] = -1.0
    box = gpg._cue_box(empty, (IMG, IMG))
    assert torch.allclose(box, torch.tensor([[0.0, 48.0, 15.0, 63.0]]))


def test_gradients_reach_every_parameter():
    gpg = build(use_points=True, use_box=True)
    with torch.no_grad():
        gpg.dense_conv[-1].weight.normal_()
    ccr_out = make_ccr_out()
    ccr_out['visual'].requires_grad_(True)
    ccr_out['cue_logits'].requires_grad_(True)
    out = gpg(ccr_out, make_prompt_encoder(), EMBED)
    (out['sparse'].pow(2).mean() + out['dense'].pow(2).mean()).backward()
    for name, param in gpg.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert ccr_out['cue_logits'].grad.abs().sum() > 0
