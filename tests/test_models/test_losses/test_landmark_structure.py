"""The landmark term: the relation term's landmark must be the one the
parse names: on the landmark's cells when given, else off the target, on
the side the relation says."""
import pytest
import torch
from structure_cases import (GRID, LANDMARK_SIDES, PARSES, SIDES, TARGET, N,
                             num_positions, roles_of, target_cells)

from sgsrf_mmseg.models.losses.landmark_structure import \
    landmark_structure_loss
from sgsrf_mmseg.models.utils.stage_outputs import Landmark


def landmark(text, side=None, on_words=None):
    """A landmark that pools ``on_words`` (by default the parse's landmark
    tokens) and lies on ``side`` (by default the expression's)."""
    words = torch.zeros(1, num_positions(text))
    words[0, list(on_words or roles_of(text).landmark_tokens)] = 1
    words /= words.sum()
    cells = TARGET if side == 'target' else SIDES[side
                                                  or LANDMARK_SIDES[text][0]]
    patches = torch.zeros(1, N)
    patches[0, cells] = 1 / len(cells)
    return Landmark(words, patches, torch.zeros(1, 2))


def term(text, found):
    return float(
        landmark_structure_loss(found, [roles_of(text)],
                                target_cells()[None], GRID))


DIRECTED = [
    'the car left of the white building', 'the car above the building',
    'the car below the building'
]
MIRRORED = {
    'right': 'left',
    'left': 'right',
    'above': 'below',
    'below': 'above'
}


@pytest.mark.parametrize('text', sorted(LANDMARK_SIDES))
def test_the_parsed_landmark_meets_the_term(text):
    assert term(text, landmark(text)) < 1e-6


@pytest.mark.parametrize('text', DIRECTED)
def test_a_landmark_on_the_other_side_is_clearly_worse(text):
    mirrored = MIRRORED[LANDMARK_SIDES[text][0]]
    assert term(text, landmark(text, mirrored)) > 0.3


@pytest.mark.parametrize('text', sorted(LANDMARK_SIDES))
def test_a_landmark_on_the_target_is_clearly_worse(text):
    assert term(text, landmark(text, 'target')) > 0.3


@pytest.mark.parametrize('text', sorted(LANDMARK_SIDES))
def test_pooling_the_head_words_is_clearly_worse(text):
    head = roles_of(text).head
    assert term(text, landmark(text, on_words=head)) > 0.3


def test_an_undirected_relation_takes_either_side():
    text = 'the white building next to the red car'
    assert term(text, landmark(text, 'left')) < 1e-6
    assert term(text, landmark(text, 'above')) < 1e-6


def test_expressions_without_landmark_or_target_add_nothing():
    found = landmark('the car above the building')
    patches = found.patch_weights.requires_grad_(True)
    no_landmark = landmark_structure_loss(
        Landmark(found.word_weights[:, :5], patches, found.position),
        [roles_of('the red car')],
        target_cells()[None], GRID)
    no_target = landmark_structure_loss(
        found, [roles_of('the car above the building')], torch.zeros(1,
                                                                     N), GRID)
    assert float(no_landmark) == 0 and float(no_target) == 0
    (no_landmark + no_target).backward()
    assert torch.isfinite(patches.grad).all()


def test_the_gradient_moves_the_landmark_to_its_side():
    text = 'the car above the building'
    word_logits = torch.zeros(1, num_positions(text), requires_grad=True)
    patch_logits = torch.zeros(1, N, requires_grad=True)
    optimizer = torch.optim.SGD([word_logits, patch_logits], lr=20.0)
    start = None
    for _ in range(80):
        found = Landmark(
            word_logits.softmax(-1), patch_logits.softmax(-1),
            torch.zeros(1, 2))
        loss = landmark_structure_loss(found, [roles_of(text)],
                                       target_cells()[None], GRID)
        start = loss.item() if start is None else start
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss) < 0.3 * start
    rows = patch_logits.detach().softmax(-1).view(GRID).sum(1)
    # "above the building": the building lies below the car (rows 3-4)
    assert rows[5:].sum() > rows[:3].sum()


def test_every_parse_case_is_covered():
    with_landmark = {t for t in PARSES if roles_of(t).landmark_tokens}
    assert with_landmark == set(LANDMARK_SIDES)


def cells_of(side):
    """``(1, N)`` landmark cells on ``side`` of the target."""
    found = torch.zeros(1, N)
    found[0, SIDES[side]] = 1
    return found


def term_on(text, found, landmark_cells):
    return float(
        landmark_structure_loss(found, [roles_of(text)],
                                target_cells()[None], GRID, landmark_cells))


@pytest.mark.parametrize('text', sorted(LANDMARK_SIDES))
def test_a_map_on_the_landmark_cells_meets_the_term(text):
    found = landmark(text)
    side = LANDMARK_SIDES[text][0]
    assert term_on(text, found, cells_of(side)) < 1e-6


def test_background_on_the_right_side_no_longer_meets_it():
    """The shortcut: off the target, on the relation's side, but not on the
    landmark. Without the landmark's cells it meets the term."""
    text = 'the car left of the white building'
    shortcut = landmark(text, 'above right')
    assert term(text, shortcut) < 1e-6
    assert term_on(text, shortcut, cells_of('right')) > 0.3


def test_an_empty_cell_row_falls_back_to_the_parse_parts():
    text = 'the car above the building'
    for side in ('below', 'above', 'target'):
        found = landmark(text, side)
        assert term_on(text, found,
                       torch.zeros(1, N)) == pytest.approx(term(text, found))


def test_the_gradient_moves_the_map_onto_the_landmark():
    text = 'the car left of the white building'
    patch_logits = torch.zeros(1, N, requires_grad=True)
    optimizer = torch.optim.SGD([patch_logits], lr=20.0)
    words = landmark(text).word_weights
    for _ in range(60):
        found = Landmark(words, patch_logits.softmax(-1), torch.zeros(1, 2))
        loss = landmark_structure_loss(found, [roles_of(text)],
                                       target_cells()[None], GRID,
                                       cells_of('right'))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    mass = patch_logits.detach().softmax(-1)[0]
    assert float(mass[SIDES['right']].sum()) > 0.9
