import dataclasses

import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

import sgsrf_mmseg  # noqa: F401,I001
from sgsrf_mmseg.models.necks.attention import sine_position_embedding
from sgsrf_mmseg.models.utils.grid_cells import cell_centres
from sgsrf_mmseg.models.utils.stage_outputs import TextFeatures

B, C_V, C_T, C_S, D, H, W, L = 2, 24, 20, 16, 32, 4, 5, 6


def make_inputs(levels=2):
    torch.manual_seed(0)
    visual = [torch.randn(B, C_V, H, W) for _ in range(levels)]
    pad_mask = torch.zeros(B, L, dtype=torch.bool)
    pad_mask[1, 4:] = True
    text = TextFeatures(
        words=torch.randn(B, L, C_T),
        pad_mask=pad_mask,
        sentence=torch.randn(B, C_S))
    return visual, text


def build(num_blocks=2, levels=2, **kwargs):
    return MODELS.build(
        dict(
            type='CrossModalConsistencyRefiner',
            visual_channels=[C_V] * levels,
            text_channels=C_T,
            sentence_channels=C_S,
            embed_dims=D,
            num_blocks=num_blocks,
            num_heads=4,
            **kwargs))


def test_output_shapes_and_attention_columns():
    visual, text = make_inputs()
    ccr = build()
    out = ccr(visual, text, need_patch_word_attn=True)
    assert out.visual.shape == (B, D, H, W)
    assert out.words.shape == (B, L, D)
    assert out.sentence.shape == (B, D)
    assert out.cue_logits.shape == (B, 1, H, W)
    assert torch.equal(out.pad_mask, text.pad_mask)
    assert len(out.patch_word_attn) == 2
    for attn in out.patch_word_attn:
        assert attn.shape == (B, H * W, L)
        # every patch spreads one unit of attention over the real words
        torch.testing.assert_close(attn.sum(-1), torch.ones(B, H * W))
        assert torch.all(attn[1, :, 4:] == 0)
    torch.testing.assert_close(
        out.position, sine_position_embedding(H, W, D, torch.device('cpu')))


def test_attention_maps_only_on_request():
    visual, text = make_inputs()
    ccr = build()
    plain = ccr(visual, text)
    with_maps = ccr(visual, text, need_patch_word_attn=True)
    assert plain.patch_word_attn == ()
    # the explicit attention gives what the fused kernel gives
    torch.testing.assert_close(plain.visual, with_maps.visual)
    torch.testing.assert_close(plain.cue_logits, with_maps.cue_logits)


def test_position_embedding_is_computed_once_per_grid():
    visual, text = make_inputs()
    ccr = build()
    first = ccr(visual, text).position
    assert ccr(visual, text).position is first
    other = [torch.randn(B, C_V, 2 * H, W) for _ in range(2)]
    assert ccr(other, text).position.shape == (2 * H * W, D)


def test_zero_gates_give_projections():
    visual, text = make_inputs()
    ccr = build(num_blocks=2, gate_init=0.0)
    out = ccr(visual, text)
    v0, w0, s0 = ccr.project(visual, text)
    assert torch.allclose(out.visual.flatten(2).transpose(1, 2), v0)
    assert torch.allclose(out.words, w0)
    assert torch.allclose(out.sentence, s0)
    cos = F.cosine_similarity(v0, s0[:, None], dim=-1)
    cue = ccr.cue_scale * cos + ccr.cue_bias
    assert torch.allclose(out.cue_logits.flatten(1), cue, atol=1e-5)


def test_text_shapes_the_patches_from_the_start():
    visual, text = make_inputs()
    ccr = build()  # default gates are open (gate_init=0.1)
    v0, _, _ = ccr.project(visual, text)
    out = ccr(visual, text)
    assert not torch.allclose(out.visual.flatten(2).transpose(1, 2), v0)
    other = dataclasses.replace(text, words=torch.randn(B, L, C_T))
    assert not torch.allclose(ccr(visual, other).cue_logits, out.cue_logits)


def test_words_see_later_words():
    visual, text = make_inputs()
    ccr = build()
    late = text.words.clone()
    late[0, 3] = torch.randn(C_T)  # a word after position 1 changes
    out = ccr(visual, text)
    out_late = ccr(visual, dataclasses.replace(text, words=late))
    assert not torch.allclose(out.words[0, 1], out_late.words[0, 1])
    causal_only = build(word_self_attn=False)
    assert not hasattr(causal_only.blocks[0], 'word_to_word')


def test_padded_words_do_not_reach_patches():
    visual, text = make_inputs()
    ccr = build()
    out = ccr(visual, text)
    words = text.words.clone()
    words[1, 4:] = 100.0
    out2 = ccr(visual, dataclasses.replace(text, words=words))
    assert torch.allclose(out.visual, out2.visual, atol=1e-5)
    assert torch.allclose(out.cue_logits, out2.cue_logits, atol=1e-5)
    assert torch.allclose(out.sentence, out2.sentence, atol=1e-5)


def test_no_blocks_ablation():
    visual, text = make_inputs()
    ccr = build(num_blocks=0)
    assert len(ccr.blocks) == 0
    assert not hasattr(ccr, 'sentence_refine')
    out = ccr(visual, text, need_patch_word_attn=True)
    v0, w0, s0 = ccr.project(visual, text)
    assert out.patch_word_attn == ()
    assert torch.allclose(out.words, w0)
    assert torch.allclose(out.sentence, s0)


def test_levels_of_other_size_and_count_check():
    visual, text = make_inputs()
    visual[1] = torch.randn(B, C_V, 2 * H, 2 * W)
    out = build()(visual, text)
    assert out.visual.shape == (B, D, H, W)
    with pytest.raises(ValueError, match='visual_channels'):
        build(levels=3)(visual, text)


def test_gradients_reach_every_parameter():
    visual, text = make_inputs()
    ccr = build()
    out = ccr(visual, text, need_patch_word_attn=True)
    loss = sum(t.float().pow(2).mean()
               for t in (out.visual, out.words, out.sentence, out.cue_logits,
                         *out.patch_word_attn))
    loss.backward()
    for name, param in ccr.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


@pytest.mark.parametrize('patch_self_attn', [False, True])
def test_patches_see_other_patches_only_through_patch_self_attention(
        patch_self_attn):
    visual, text = make_inputs(levels=1)
    ccr = build(num_blocks=1, levels=1, patch_self_attn=patch_self_attn)
    other = visual[0].clone()
    other[:, :, 0, 0] = torch.randn(B, C_V)  # a patch other than (2, 3)
    out = ccr(visual, text)
    out_other = ccr([other], text)
    same = torch.allclose(
        out.visual[..., 2, 3], out_other.visual[..., 2, 3], atol=1e-6)
    assert same != patch_self_attn
    assert hasattr(ccr.blocks[0], 'patch_to_patch') == patch_self_attn
    if patch_self_attn:
        sum(t.pow(2).mean() for t in (out.visual, out.cue_logits)).backward()
        block = ccr.blocks[0]
        for param in (*block.patch_to_patch.parameters(),
                      *block.norm_patch_self.parameters(),
                      block.patch_self_gate):
            assert param.grad.abs().sum() > 0


def test_the_position_prior_adds_a_sentence_placed_term_to_the_cue():
    visual, text = make_inputs()
    ccr = build(position_prior=True)
    plain = build()
    missing, unexpected = plain.load_state_dict(ccr.state_dict(), strict=False)
    assert not missing and sorted(unexpected) == [
        'position_prior.bias', 'position_prior.weight'
    ]
    out = ccr(visual, text)
    torch.testing.assert_close(out.cue_logits, plain(visual, text).cue_logits)
    out.cue_logits.pow(2).mean().backward()
    assert ccr.position_prior.weight.grad.abs().sum() > 0
    with torch.no_grad():
        ccr.position_prior.weight.normal_()
        shifted = ccr(visual, text)
        prior = ccr.position_prior(shifted.sentence) @ shifted.position.T
        torch.testing.assert_close(
            shifted.cue_logits - out.cue_logits,
            prior.reshape(B, 1, H, W),
            rtol=1e-4,
            atol=1e-4)
    # the prior differs across the image and between the sentences
    assert prior.std(dim=1).min() > 0.1
    assert (prior[0] - prior[1]).abs().max() > 0.1


def test_the_relation_prior_starts_at_zero_and_learns():
    visual, text = make_inputs()
    ccr = build(relation_prior=True)
    plain = build()
    missing, unexpected = plain.load_state_dict(ccr.state_dict(), strict=False)
    assert not missing
    assert all(k.startswith('relation_prior.') for k in unexpected)
    out = ccr(visual, text)
    torch.testing.assert_close(out.cue_logits, plain(visual, text).cue_logits)
    out.cue_logits.pow(2).mean().backward()
    assert ccr.relation_prior.relation.weight.grad.abs().sum() > 0
    with torch.no_grad():
        ccr.relation_prior.relation.weight.normal_()
        moved = ccr(visual, text)
    assert (moved.cue_logits - out.cue_logits).abs().max() > 0.1
    assert moved.cue_logits.shape == (B, 1, H, W)
    # the term's part of the cue is handed out with it
    torch.testing.assert_close(moved.cue_logits - moved.relation_logits,
                               plain(visual, text).cue_logits)
    assert plain(visual, text).relation_logits is None


def test_the_relation_prior_hands_its_landmark_to_the_loss():
    visual, text = make_inputs()
    assert build()(visual, text).landmark is None
    found = build(relation_prior=True)(visual, text).landmark
    assert found.word_weights.shape == text.pad_mask.shape
    assert (found.word_weights[text.pad_mask] == 0).all()
    assert found.patch_weights.shape == (B, H * W)
    torch.testing.assert_close(found.patch_weights.sum(1), torch.ones(B))
    assert found.position.shape == (B, 2)


def test_the_relation_prior_takes_its_options_from_a_dict():
    visual, text = make_inputs()
    ccr = build(relation_prior=dict(radial_widths=(0.5, ), over_map=True))
    assert ccr.relation_prior.over_map
    assert ccr.relation_prior.relation.out_features == 4 * 4 + 1
    assert ccr(visual, text).cue_logits.shape == (B, 1, H, W)
    with pytest.raises(TypeError, match='unknown'):
        build(relation_prior=dict(unknown=1))


def test_the_relation_prior_can_locate_on_the_projected_features():
    visual, text = make_inputs()
    ccr = build(relation_prior=dict(locate_on='projected'))
    with torch.no_grad():
        for block in ccr.blocks:
            for p in block.parameters():
                p.normal_()
    out = ccr(visual, text)
    v0, w0, _ = ccr.project(visual, text)
    xy = 2 * cell_centres(H, W, v0) - 1
    expected = ccr.relation_prior.locate(v0, w0, out.sentence, text.pad_mask,
                                         xy)
    torch.testing.assert_close(out.landmark.patch_weights,
                               expected.patch_weights)
    refined = ccr.relation_prior.locate(
        out.visual.flatten(2).transpose(1, 2), out.words, out.sentence,
        text.pad_mask, xy)
    # the refinement moved the patches, so the choice is seen
    assert (refined.patch_weights - expected.patch_weights).abs().max() > 1e-3


def test_the_joint_relation_prior_reads_the_cue_before_its_term():
    visual, text = make_inputs()
    ccr = build(relation_prior=dict(over_map=True, joint=True))
    with torch.no_grad():
        ccr.relation_prior.relation.weight.normal_()
    out = ccr(visual, text)
    before = (out.cue_logits - out.relation_logits).flatten(1)
    term, landmark = ccr.relation_prior(
        out.visual.flatten(2).transpose(1, 2),
        out.words,
        out.sentence,
        text.pad_mask,
        H,
        W,
        cue=before)
    torch.testing.assert_close(term, out.relation_logits.flatten(1))
    torch.testing.assert_close(landmark.patch_weights,
                               out.landmark.patch_weights)
