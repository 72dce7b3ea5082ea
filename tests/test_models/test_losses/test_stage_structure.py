"""The structural terms of the three stages cannot be met trivially."""
import pytest
import torch
from structure_cases import (GRID, PARSES, TARGET, N, follow,
                             function_positions, mostly_on, num_positions,
                             roles_of, target_cells, uniform)

from sgsrf_mmseg.models.losses.expression_roles import token_roles
from sgsrf_mmseg.models.losses.stage_structure import (ccr_structure_loss,
                                                       mask_drift_loss,
                                                       prompt_structure_loss)
from sgsrf_mmseg.utils.dependency_parse import DependencyParse


def ccr(text, attn):
    return float(
        ccr_structure_loss([attn[None]], [roles_of(text)],
                           target_cells()[None], GRID))


@pytest.mark.parametrize('text', sorted(PARSES))
def test_parse_following_attention_meets_the_ccr_term(text):
    assert ccr(text, follow(text)) < 1e-6


@pytest.mark.parametrize('text', sorted(PARSES))
def test_uniform_attention_is_clearly_worse(text):
    assert ccr(text, uniform(text)) > ccr(text, follow(text)) + 0.3


@pytest.mark.parametrize('text', sorted(PARSES))
def test_attention_on_sot_and_eot_is_clearly_worse(text):
    # the content words' columns keep the parse's layout, normalised they
    # look perfect, but they carry a millionth of the attention
    sot_eot = mostly_on(text, [0, num_positions(text) - 1])
    assert ccr(text, sot_eot) > ccr(text, follow(text)) + 0.2


@pytest.mark.parametrize('text', sorted(PARSES))
def test_attention_on_function_words_is_clearly_worse(text):
    assert function_positions(text), text
    on_function_words = mostly_on(text, function_positions(text))
    assert ccr(text, on_function_words) > ccr(text, follow(text)) + 0.2


#: A layout that does not follow each relation's direction: mirrored, and
#: for "between" both landmarks on one side.
BLIND = {
    'the car left of the white building': ('left', ),
    'the car above the building': ('above', ),
    'the car below the building': ('below', ),
    'the car between the white building and the blue pond':
    ('right', 'above right'),
}


@pytest.mark.parametrize('text', sorted(BLIND))
def test_attention_blind_to_direction_is_clearly_worse(text):
    assert ccr(text, follow(text, BLIND[text])) > ccr(text, follow(text)) + 0.2


def test_an_undirected_relation_takes_either_side():
    text = 'the white building next to the red car'
    assert ccr(text, follow(text, ('left', ))) < 1e-6
    assert ccr(text, follow(text, ('above', ))) < 1e-6


def test_above_and_below_ask_for_opposite_layouts():
    above, below = 'the car above the building', 'the car below the building'
    layout = follow(above)
    assert ccr(above, layout) < 1e-6
    assert ccr(below, layout) > 0.1
    assert ccr(below, follow(below)) < 1e-6


def test_landmark_written_into_the_target_is_worse():
    text = 'the white building next to the red car'
    on_target = follow(text)
    landmark = list(roles_of(text).landmark_tokens)
    on_target[TARGET[:2]] = 0
    on_target[TARGET[:2], landmark[0]] = 1
    assert ccr(text, on_target) > 0.05


def test_expressions_without_content_or_target_add_nothing():
    empty = DependencyParse()
    roles = [roles_of('the red car')]
    attn = uniform('the red car')[None].requires_grad_(True)
    no_target = ccr_structure_loss([attn], roles, torch.zeros(1, N), GRID)
    assert no_target == 0
    nothing = ccr_structure_loss([attn], [token_roles(empty, 0)],
                                 target_cells()[None], GRID)
    assert nothing == 0
    (no_target + nothing).backward()
    assert torch.isfinite(attn.grad).all()


def test_ccr_gradient_moves_attention_towards_the_parse():
    text = 'the car left of the white building'
    logits = torch.zeros(1, N, num_positions(text), requires_grad=True)
    optimizer = torch.optim.SGD([logits], lr=50.0)
    start = None
    for _ in range(60):
        loss = ccr_structure_loss([logits.softmax(-1)], [roles_of(text)],
                                  target_cells()[None], GRID)
        start = float(loss) if start is None else start
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss) < 0.5 * start


def query_attention(text, patches_on, words_on):
    """``(1, K, N + L)``: two queries reading ``patches_on`` cells and the
    ``words_on`` token positions in equal parts."""
    attn = torch.zeros(1, 2, N + num_positions(text))
    attn[0, :, list(patches_on)] = 0.5 / len(patches_on)
    attn[0, :, [N + p for p in words_on]] = 0.5 / len(words_on)
    return attn


def test_prompt_term_asks_for_the_cue_region_and_the_head():
    text = 'the car left of the white building'
    roles = roles_of(text)
    region = target_cells().bool()[None]
    good = query_attention(text, TARGET, roles.describe)
    assert float(prompt_structure_loss([good], [roles], region)) < 1e-6
    landmark = query_attention(text, TARGET, roles.landmark_tokens)
    elsewhere = query_attention(text, [0, 1, 2], roles.describe)
    for bad in (landmark, elsewhere):
        assert float(prompt_structure_loss([bad], [roles], region)) > 0.4
    flat = torch.full_like(good, 1 / good.shape[-1])
    assert float(prompt_structure_loss([flat], [roles], region)) > 0.3


def test_prompt_term_without_landmarks_reads_only_the_region():
    text = 'the red car'
    roles = roles_of(text)
    region = target_cells().bool()[None]
    on_sot = query_attention(text, TARGET, [0])
    assert float(prompt_structure_loss([on_sot], [roles], region)) < 1e-6


def test_mask_drift_is_the_share_outside_the_cue_region():
    region = target_cells().bool().view(1, *GRID)
    inside = torch.full((1, 1, 32, 32), -20.0)
    inside[..., 12:20, 12:20] = 20.0  # the target's cells at 4 px per cell
    assert float(mask_drift_loss(inside, region)) < 1e-3
    outside = torch.full((1, 1, 32, 32), -20.0)
    outside[..., :8, :8] = 20.0
    assert float(mask_drift_loss(outside, region)) > 0.95
    empty = torch.full((1, 1, 32, 32), -20.0, requires_grad=True)
    value = mask_drift_loss(empty, region)
    value.backward()
    assert float(value) < 1e-3 and torch.isfinite(empty.grad).all()


def test_sentence_must_read_the_target_words():
    """Role reversal: the same words, the sentence must name the head."""
    text = 'the white building next to the red car'
    roles = roles_of(text)
    attn = follow(text)[None]
    on_head = torch.zeros(1, num_positions(text))
    on_head[0, list(roles.describe)] = 1 / len(roles.describe)
    on_landmark = torch.zeros(1, num_positions(text))
    on_landmark[0, list(roles.landmark_tokens)] = 0.5
    target = target_cells()[None]
    assert float(ccr_structure_loss([attn], [roles], target, GRID,
                                    on_head)) < 1e-6
    # the sentence's group is one of three: failing it costs a third
    assert float(
        ccr_structure_loss([attn], [roles], target, GRID,
                           on_landmark)) == pytest.approx(1 / 3)
