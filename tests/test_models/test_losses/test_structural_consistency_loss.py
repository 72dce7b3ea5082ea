import dataclasses

import pytest
import torch
from mmseg.registry import MODELS

import sgsrf_mmseg  # noqa: F401,I001
from sgsrf_mmseg.models.utils.stage_outputs import (Grounding, Landmark,
                                                    SAMPrompts)

B, D, H, W = 2, 8, 4, 4
IMG = 16  # 4x4 pixels per cell
# "the red car" / "all white tanks": SOT, three one-token words, EOT
PARSES = [
    dict(
        words=['the', 'red', 'car'],
        spaces=[True, True, False],
        heads=[2, 2, 2],
        deps=['det', 'amod', 'ROOT']),
    dict(
        words=['all', 'white', 'tanks'],
        spaces=[True, True, False],
        heads=[2, 2, 2],
        deps=['predet', 'amod', 'ROOT']),
]
L = 6  # SOT + 3 tokens + EOT + one padded position


def make_grounding(requires_grad=False, blocks=2):
    torch.manual_seed(0)
    pad_mask = torch.zeros(B, L, dtype=torch.bool)
    pad_mask[:, 5:] = True
    attn = [
        torch.rand(B, H * W, L).masked_fill(pad_mask[:, None],
                                            -1e4).softmax(-1)
        for _ in range(blocks)
    ]
    out = Grounding(
        visual=torch.randn(B, D, H, W),
        words=torch.randn(B, L, D),
        sentence=torch.randn(B, D),
        pad_mask=pad_mask,
        cue_logits=torch.randn(B, 1, H, W),
        position=torch.zeros(H * W, D),
        patch_word_attn=tuple(attn))
    if requires_grad:
        for t in (out.visual, out.words, out.cue_logits, *attn):
            t.requires_grad_(True)
    return out


def make_gt():
    gt = torch.zeros(B, IMG, IMG, dtype=torch.long)
    gt[:, :8, :8] = 1
    return gt


def build(**kwargs):
    """The loss with every weight 1 unless given."""
    weights = dict(struct_weight=1.0, ground_weight=1.0, affinity_weight=1.0)
    return MODELS.build(
        dict(type='StructuralConsistencyLoss', **dict(weights, **kwargs)))


def test_keys_and_weights():
    losses = build()(make_grounding(), make_gt(), PARSES)
    assert set(losses) == {'loss_struct', 'loss_ground', 'loss_affinity'}
    assert all(torch.isfinite(v) and v.ndim == 0 for v in losses.values())
    half = build(
        struct_weight=0.5, ground_weight=0.5,
        affinity_weight=0.5)(make_grounding(), make_gt(), PARSES)
    for key in losses:
        assert torch.allclose(half[key], losses[key] / 2)
    for key in losses:
        name = key.split('_', 1)[1]
        weights = dict(struct_weight=1, ground_weight=1, affinity_weight=1)
        weights[f'{name}_weight'] = 0
        assert set(build(**weights)(make_grounding(), make_gt(),
                                    PARSES)) == set(losses) - {key}
    # no CCR block, no attention to constrain
    no_blocks = make_grounding(blocks=0)
    assert 'loss_struct' not in build()(no_blocks, make_gt(), PARSES)


def test_tree_distance_is_zero_when_vision_matches_the_parse():
    loss = build(
        ground_weight=0,
        affinity_weight=0,
        language_structure='tree_distance',
        structure_decay=0.7)
    # "red" and "car" (head-dependent) written into the same patches,
    # "the" (a function word) anywhere: the target holds exactly
    attn = torch.zeros(B, H * W, L)
    attn[:, :8, 1] = 1  # the
    attn[:, 8:, 2] = 0.5  # red
    attn[:, 8:, 3] = 0.5  # car
    grounding = make_grounding()
    grounding = dataclasses.replace(grounding, patch_word_attn=(attn, ))
    assert loss(grounding, make_gt(), PARSES)['loss_struct'] < 1e-6
    # apart, they contradict the parse
    apart = attn.clone()
    apart[:, 8:12, 2], apart[:, 12:, 3] = 1.0, 1.0
    apart[:, 8:12, 3], apart[:, 12:, 2] = 0.0, 0.0
    grounding = dataclasses.replace(grounding, patch_word_attn=(apart, ))
    assert torch.isclose(
        loss(grounding, make_gt(), PARSES)['loss_struct'], torch.tensor(1.0))


def test_uniform_attention_does_not_satisfy_the_tree_distance():
    loss = build(
        ground_weight=0, affinity_weight=0, language_structure='tree_distance')
    parses = [
        # "the car next to the red building": car and building far apart
        dict(
            words='the car next to the red building'.split(),
            spaces=[True] * 6 + [False],
            heads=[1, 1, 1, 2, 6, 6, 3],
            deps=['det', 'ROOT', 'advmod', 'prep', 'det', 'amod', 'pobj'])
    ] * B
    num = 9
    uniform = torch.full((B, H * W, num), 1.0 / num)
    grounding = make_grounding()
    grounding = dataclasses.replace(
        grounding,
        pad_mask=torch.zeros(B, num, dtype=torch.bool),
        words=torch.randn(B, num, D),
        patch_word_attn=(uniform, ))
    assert loss(grounding, make_gt(), parses)['loss_struct'] > 0.1


def test_struct_gradient_reaches_the_attention_only():
    grounding = make_grounding(requires_grad=True)
    build(
        ground_weight=0, affinity_weight=0)(grounding, make_gt(),
                                            PARSES)['loss_struct'].backward()
    assert all(a.grad.abs().sum() > 0 for a in grounding.patch_word_attn)
    assert grounding.words.grad is None
    grounding = make_grounding(requires_grad=True)
    build(
        ground_weight=0,
        affinity_weight=0,
        language_structure='self_similarity')(
            grounding, make_gt())['loss_struct'].backward()
    assert grounding.words.grad is None
    assert grounding.patch_word_attn[0].grad.abs().sum() > 0


def test_parse_is_required_unless_self_similarity():
    with pytest.raises(KeyError, match='spacy download en_core_web_sm'):
        build()(make_grounding(), make_gt())
    with pytest.raises(KeyError, match='text_parse'):
        build()(make_grounding(), make_gt(), [PARSES[0], None])
    losses = build(language_structure='self_similarity')(make_grounding(),
                                                         make_gt())
    assert torch.isfinite(losses['loss_struct'])


def test_struct_ignores_padded_positions():
    loss = build(
        ground_weight=0,
        affinity_weight=0,
        language_structure='self_similarity')
    grounding = make_grounding()
    value = loss(grounding, make_gt())['loss_struct']
    words = grounding.words.clone()
    words[:, 5:] = torch.randn(B, 1, D)
    grounding = dataclasses.replace(grounding, words=words)
    assert torch.allclose(loss(grounding, make_gt())['loss_struct'], value)


def test_cue_targets_keep_small_targets():
    gt = torch.zeros(1, IMG, IMG, dtype=torch.long)
    gt[0, :4, :2] = 1  # half of cell (0, 0)
    gt[0, :1, 4:5] = 1  # one pixel of cell (0, 1)
    gt[0, 12:, 12:15] = 255  # most of cell (3, 3): ignored
    target, valid = build(cue_target='max').cell_targets(gt, (H, W))
    assert target[0, 0, 0] == 1 and target[0, 0, 1] == 1
    assert target.sum() == 2
    assert valid[0, 3, 3] == 0 and valid.sum() == H * W - 1
    half = build(cue_target='half').cell_targets(gt, (H, W))[0]
    assert half[0, 0, 0] == 1 and half.sum() == 1
    soft = build(cue_target='soft').cell_targets(gt, (H, W))[0]
    assert torch.isclose(soft[0, 0, 1], torch.tensor(1 / 16))


def test_a_6_px_target_at_512_is_not_left_to_an_all_zero_cue():
    loss = build(struct_weight=0, affinity_weight=0)  # cue_target='max'
    gt = torch.zeros(1, 512, 512, dtype=torch.long)
    gt[0, 200:206, 300:306] = 1  # a 6 x 6 vehicle
    target, _ = loss.cell_targets(gt, (32, 32))
    assert target.max() > 0
    grounding = make_grounding()

    def ground_loss(cue):
        one = dataclasses.replace(grounding, cue_logits=cue)
        return loss(one, gt)['loss_ground']

    zero_cue = torch.full((1, 1, 32, 32), -10.0)
    with_peak = zero_cue.clone()
    with_peak[0, 0][target[0] > 0] = 0.0
    assert ground_loss(with_peak) < ground_loss(zero_cue)
    # and the all-zero cue is not a minimum: its gradient points upward
    cue = zero_cue.clone().requires_grad_(True)
    ground_loss(cue).backward()
    assert cue.grad[0, 0][target[0] > 0].max() < 0


def test_perfect_cue_and_ignored_cells():
    loss = build(struct_weight=0, affinity_weight=0, cue_target='half')
    gt = torch.zeros(1, IMG, IMG, dtype=torch.long)
    gt[0, :4, :2] = 1
    gt[0, 12:, 12:15] = 255
    target, _ = loss.cell_targets(gt, (H, W))
    grounding = dataclasses.replace(
        make_grounding(), cue_logits=(target[:, None] * 2 - 1) * 20)
    perfect = loss(grounding, gt)['loss_ground']
    assert perfect < 1e-3
    cue = grounding.cue_logits.clone()
    cue[0, 0, 3, 3] = 99.0
    assert torch.allclose(
        loss(dataclasses.replace(grounding, cue_logits=cue),
             gt)['loss_ground'], perfect)


def test_affinity_keeps_the_target_apart_and_leaves_the_background_free():
    loss = build(struct_weight=0, ground_weight=0)
    gt = make_gt()
    target, _ = loss.cell_targets(gt, (H, W))
    visual = torch.zeros(B, D, H, W)
    visual[:, 0] = target
    visual[:, 1] = 1 - target
    grounding = dataclasses.replace(make_grounding(), visual=visual)
    assert loss(grounding, gt)['loss_affinity'] < 1e-6
    # background cells of different features cost nothing
    scattered = visual.clone()
    scattered[:,
              2:] = torch.randn(B, D - 2, H, W).abs() * (1 - target[:, None])
    scattered[:, 1] = 0
    grounding = dataclasses.replace(grounding, visual=scattered)
    assert loss(grounding, gt)['loss_affinity'] < 1e-6
    assert build(
        struct_weight=0, ground_weight=0)(make_grounding(),
                                          gt)['loss_affinity'] > 0.1


def test_affinity_sampling_keeps_gradient():
    loss = build(struct_weight=0, ground_weight=0, affinity_samples=6)
    grounding = make_grounding(requires_grad=True)
    value = loss(grounding, make_gt())['loss_affinity']
    value.backward()
    assert torch.isfinite(value)
    assert grounding.visual.grad.abs().sum() > 0


@pytest.mark.parametrize('fill', [0, 255])
def test_empty_or_ignored_mask_is_finite(fill):
    loss = build(affinity_samples=6)
    grounding = make_grounding(requires_grad=True)
    gt = torch.full((B, IMG, IMG), fill, dtype=torch.long)
    total = sum(loss(grounding, gt, PARSES).values())
    total.backward()
    assert torch.isfinite(total)
    for t in (grounding.visual, grounding.cue_logits,
              *grounding.patch_word_attn):
        assert torch.isfinite(t.grad).all()


def test_half_precision_inputs():
    grounding = make_grounding()
    halved = dataclasses.replace(
        grounding,
        visual=grounding.visual.half(),
        words=grounding.words.half(),
        cue_logits=grounding.cue_logits.half(),
        patch_word_attn=tuple(a.half() for a in grounding.patch_word_attn))
    losses = build()(halved, make_gt(), PARSES)
    assert all(v.dtype == torch.float32 for v in losses.values())
    reference = build()(grounding, make_gt(), PARSES)
    for key, value in losses.items():
        assert torch.allclose(value, reference[key], atol=5e-2)


def test_the_empty_parse_constrains_nothing():
    empty = dict(words=[], spaces=[], heads=[], deps=[])
    grounding = make_grounding()
    pad_mask = torch.ones(B, L, dtype=torch.bool)
    pad_mask[:, :2] = False  # SOT and EOT of the empty expression
    grounding = dataclasses.replace(grounding, pad_mask=pad_mask)
    losses = build()(grounding, make_gt(), [empty, empty])
    assert losses['loss_struct'] == 0


def stage_inputs():
    """Prompts with the queries' attention and mask logits for B images."""
    torch.manual_seed(1)
    query_attn = torch.rand(B, 3, H * W + L).softmax(-1)
    prompts = SAMPrompts(query_attn=(query_attn, ))
    return prompts, torch.randn(B, 1, 8, 8)


def test_stage_terms_keys_and_schedule():
    prompts, mask_logits = stage_inputs()
    loss = build(
        prompt_weight=1.0,
        drift_weight=1.0,
        stage_schedule=dict(prompt=(10, 20), drift=(20, 20)))
    full = loss(make_grounding(), make_gt(), PARSES, prompts, mask_logits)
    assert set(full) == {
        'loss_struct', 'loss_ground', 'loss_affinity', 'loss_prompt_struct',
        'loss_mask_drift'
    }
    assert all(0 < float(v) < 10 for v in full.values())
    values = {}
    for iteration in (0, 15, 20, 100):
        loss.set_iteration(iteration)
        values[iteration] = loss(make_grounding(), make_gt(), PARSES, prompts,
                                 mask_logits)
    # before its ramp a term is there with weight 0; then it rises linearly
    assert values[0]['loss_prompt_struct'] == 0
    assert values[0]['loss_mask_drift'] == 0
    assert torch.isclose(values[15]['loss_prompt_struct'],
                         full['loss_prompt_struct'] / 2)
    assert values[15]['loss_mask_drift'] == 0
    for key in ('loss_prompt_struct', 'loss_mask_drift', 'loss_struct'):
        assert torch.isclose(values[100][key], full[key])
    # unscheduled terms do not depend on the iteration
    assert torch.isclose(values[0]['loss_struct'], full['loss_struct'])
    # without prompts or mask logits the later stages' terms are left out
    assert set(
        loss(make_grounding(), make_gt(),
             PARSES)) == {'loss_struct', 'loss_ground', 'loss_affinity'}


def test_bad_schedule_and_renamed_structure_are_refused():
    with pytest.raises(ValueError, match="now called 'tree_distance'"):
        build(language_structure='parse')
    with pytest.raises(ValueError, match='unknown terms'):
        build(stage_schedule=dict(struct=(0, 1)))
    with pytest.raises(ValueError, match='0 <= start <= end'):
        build(stage_schedule=dict(prompt=(5, 1)))


def test_a_single_content_word_or_no_relation_trains():
    one_word = [
        dict(words=['cars'], spaces=[False], heads=[0], deps=['ROOT'])
    ] * B
    grounding = make_grounding(requires_grad=True)
    pad_mask = torch.ones(B, L, dtype=torch.bool)
    pad_mask[:, :3] = False
    grounding = dataclasses.replace(grounding, pad_mask=pad_mask)
    prompts, mask_logits = stage_inputs()
    losses = build(
        prompt_weight=1.0, drift_weight=1.0)(grounding, make_gt(), one_word,
                                             prompts, mask_logits)
    total = sum(losses.values())
    total.backward()
    assert torch.isfinite(total)
    assert all(torch.isfinite(a.grad).all() for a in grounding.patch_word_attn)


def test_with_the_target_in_the_region_a_missing_cue_pushes_nothing_off():
    # the cue fires only in the bottom-right quarter; the target is top-left
    cue = torch.full((B, 1, H, W), -5.0)
    cue[:, :, 2:, 2:] = 5.0
    grounding = dataclasses.replace(make_grounding(), cue_logits=cue)
    on_target = torch.full((B, 1, 8, 8), -20.0)
    on_target[:, :, :4, :4] = 20.0  # the mask covers the target exactly
    elsewhere = torch.full((B, 1, 8, 8), -20.0)
    elsewhere[:, :, :4, 4:] = 20.0  # top-right: neither cue nor target
    to_target = torch.zeros(B, 1, H * W + L)
    to_target[..., [0, 1, 4, 5]] = 1.0  # the target's cells
    prompts = SAMPrompts(query_attn=(to_target / 4, ))

    def terms(stage_region, mask_logits):
        losses = build(
            prompt_weight=1.0, drift_weight=1.0,
            stage_region=stage_region)(grounding, make_gt(), PARSES, prompts,
                                       mask_logits)
        return float(losses['loss_mask_drift']), float(
            losses['loss_prompt_struct'])

    cue_drift, cue_prompt = terms('cue', on_target)
    both_drift, both_prompt = terms('cue_or_target', on_target)
    assert cue_drift > 0.9 and cue_prompt > 0.9
    assert both_drift < 0.01 and both_prompt < 0.01
    # a mask outside both the cue and the target is drift either way
    assert terms('cue_or_target', elsewhere)[0] > 0.9
    with pytest.raises(ValueError, match='stage_region must be one of'):
        build(stage_region='target')


#: "the car above the tank", for every sample.
RELATIONAL = [
    dict(
        words=['the', 'car', 'above', 'the', 'tank'],
        spaces=[True, True, True, True, False],
        heads=[1, 1, 1, 4, 2],
        deps=['det', 'ROOT', 'prep', 'det', 'pobj'])
] * B


def relational_grounding(landmark):
    """CCR's output for :data:`RELATIONAL` (SOT, five words, EOT)."""
    pad_mask = torch.zeros(B, L + 2, dtype=torch.bool)
    pad_mask[:, 7:] = True
    return dataclasses.replace(
        make_grounding(blocks=0), pad_mask=pad_mask, landmark=landmark)


def test_the_landmark_term_needs_the_relation_prior_and_a_landmark():
    with pytest.raises(ValueError, match='relation_prior=True'):
        build(landmark_weight=1.0)(make_grounding(), make_gt(), PARSES)
    words = torch.zeros(B, L + 2, requires_grad=True)
    patches = torch.zeros(B, H * W, requires_grad=True)
    found = Landmark(words.softmax(-1), patches.softmax(-1), torch.zeros(B, 2))
    grounding = relational_grounding(found)
    losses = build(landmark_weight=2.0)(grounding, make_gt(), RELATIONAL)
    assert 0 < float(losses['loss_landmark']) <= 2
    losses['loss_landmark'].backward()
    assert words.grad.abs().sum() > 0 and patches.grad.abs().sum() > 0
    # "the red car" names no landmark: the term is there and 0
    no_landmark = dataclasses.replace(make_grounding(), landmark=found)
    assert build(landmark_weight=1.0)(no_landmark, make_gt(),
                                      PARSES)['loss_landmark'] == 0


def test_the_landmark_term_reads_the_landmark_map_when_given():
    words = torch.zeros(B, L + 2)
    words[:, 5] = 1  # "tank", the landmark
    patches = torch.zeros(B, H * W)
    patches[:, -1] = 1  # the bottom-right cell, below and off the target
    grounding = relational_grounding(
        Landmark(words, patches, torch.zeros(B, 2)))
    scr = build(landmark_weight=1.0)

    def landmark_term(landmark_gt):
        return float(
            scr(grounding, make_gt(), RELATIONAL,
                landmark_gt=landmark_gt)['loss_landmark'])

    assert landmark_term(None) < 1e-6  # off the target, on its side
    on_it = torch.zeros(B, IMG, IMG, dtype=torch.long)
    on_it[:, 12:, 12:] = 1
    assert landmark_term(on_it) < 1e-6
    elsewhere = torch.zeros(B, IMG, IMG, dtype=torch.long)
    elsewhere[:, 12:, :4] = 1  # a landmark at the bottom left
    assert landmark_term(elsewhere) == pytest.approx(0.5)
    assert landmark_term(torch.zeros_like(on_it)) == landmark_term(None)
