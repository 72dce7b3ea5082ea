import dataclasses

import pytest
import torch
from mmseg.registry import MODELS

import sgsrf_mmseg  # noqa: F401,I001
from sgsrf_mmseg.models.necks.attention import sine_position_embedding
from sgsrf_mmseg.models.utils.stage_outputs import Grounding, SAMPrompts

B, D, P, K, H, W, L = 2, 32, 16, 3, 4, 4, 5


def make_grounding():
    torch.manual_seed(0)
    pad_mask = torch.zeros(B, L, dtype=torch.bool)
    pad_mask[0, 3:] = True
    return Grounding(
        visual=torch.randn(B, D, H, W),
        words=torch.randn(B, L, D),
        sentence=torch.randn(B, D),
        pad_mask=pad_mask,
        cue_logits=torch.randn(B, 1, H, W),
        position=sine_position_embedding(H, W, D, torch.device('cpu')))


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


@pytest.mark.parametrize('use_points,use_box', [(False, False), (True, False),
                                                (False, True), (True, True)])
def test_outputs_by_switch(use_points, use_box):
    gpg = build(use_points=use_points, use_box=use_box, num_points=2)
    out = gpg(make_grounding())
    assert isinstance(out, SAMPrompts)
    assert out.queries.shape == (B, K, P)
    assert out.dense.shape == (B, P, H, W)
    assert (out.points is not None) == use_points
    assert (out.boxes is not None) == use_box
    if use_points:
        assert out.points[0].shape == (B, 2, 2)
        assert out.points[1].shape == (B, 2)
    if use_box:
        assert out.boxes.shape == (B, 4)


def test_dense_residual_starts_at_zero():
    out = build(use_sparse=False)(make_grounding())
    assert out.queries is None
    assert torch.equal(out.dense, torch.zeros(B, P, H, W))


def test_switches_remove_outputs():
    gpg = build(use_sparse=False, use_dense=False)
    assert not hasattr(gpg, 'queries') and not hasattr(gpg, 'dense_conv')
    assert gpg(make_grounding()) == SAMPrompts()


def test_sparse_tokens_follow_the_cue():
    gpg = build(use_dense=False)
    grounding = make_grounding()
    out = gpg(grounding)
    shifted = dataclasses.replace(
        grounding, cue_logits=grounding.cue_logits + 3.0)
    assert not torch.allclose(out.queries, gpg(shifted).queries)


def test_a_low_cue_does_not_erase_the_patches():
    gpg = build(use_sparse=False)
    with torch.no_grad():
        gpg.dense_conv[-1].weight.normal_()
    grounding = make_grounding()
    off = dataclasses.replace(
        grounding, cue_logits=torch.full((B, 1, H, W), -50.0))
    other = dataclasses.replace(off, visual=torch.randn(B, D, H, W))
    # V' still reaches the prompts where the cue is (numerically) zero
    assert not torch.allclose(gpg(off).dense, gpg(other).dense)


def test_padded_words_are_ignored():
    gpg = build(use_dense=False)
    grounding = make_grounding()
    out = gpg(grounding)
    words = grounding.words.clone()
    words[0, 3:] = 50.0
    out2 = gpg(dataclasses.replace(grounding, words=words))
    assert torch.allclose(out.queries, out2.queries, atol=1e-5)


def test_points_and_box_from_cue():
    gpg = build(use_points=True, num_points=1, use_box=True)
    cue = torch.full((1, 1, H, W), -10.0)
    cue[0, 0, 1, 2] = 10.0
    cue[0, 0, 1:3, 1:3] = cue[0, 0, 1:3, 1:3].clamp(min=5.0)
    coords, labels = gpg._peak_points(cue)
    # cell (row 1, col 2) of a 4x4 grid: centre (2.5 / 4, 1.5 / 4)
    assert torch.allclose(coords, torch.tensor([[[0.625, 0.375]]]))
    assert torch.equal(labels, torch.ones(1, 1))
    box = gpg._cue_box(cue)
    assert torch.allclose(box, torch.tensor([[0.25, 0.25, 0.75, 0.75]]))
    empty = torch.full((1, 1, H, W), -10.0)
    empty[0, 0, 3, 0] = -1.0
    box = gpg._cue_box(empty)
    assert torch.allclose(box, torch.tensor([[0.0, 0.75, 0.25, 1.0]]))


def test_gradients_reach_every_parameter():
    gpg = build()
    with torch.no_grad():
        gpg.dense_conv[-1].weight.normal_()
    grounding = make_grounding()
    grounding.visual.requires_grad_(True)
    grounding.cue_logits.requires_grad_(True)
    out = gpg(grounding)
    (out.queries.pow(2).mean() + out.dense.pow(2).mean()).backward()
    for name, param in gpg.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert grounding.cue_logits.grad.abs().sum() > 0
