"""The landmark relation term of the cue: placed by where the landmark's
patches lie (its wiring into CCR: test_cross_modal_consistency_refiner)."""
import math

import pytest
import torch

from sgsrf_mmseg.models.necks.landmark_relation_prior import \
    LandmarkRelationPrior
from sgsrf_mmseg.models.utils.grid_cells import cell_centres

D, ROWS, COLS = 8, 3, 4


def scene(landmark_cell):
    """One image: patches are random except one that matches the only
    unpadded word (the landmark's) exactly."""
    torch.manual_seed(1)
    v = torch.randn(1, ROWS * COLS, D)
    w = torch.randn(1, 3, D)
    w[0, 0] = 3 * torch.eye(D)[0]
    v[0, :, 0] = 0
    v[0, landmark_cell] = w[0, 0]
    pad_mask = torch.tensor([[False, True, True]])
    return v, w, torch.randn(1, D), pad_mask


def grid_xy(rows, cols):
    """The relation term's coordinates: cell centres in [-1, 1]."""
    return 2 * cell_centres(rows, cols, torch.zeros(1)) - 1


def test_cell_centres_are_row_major():
    xy = grid_xy(2, 4)
    assert xy.shape == (8, 2)
    torch.testing.assert_close(xy[0], torch.tensor([-0.75, -0.5]))
    torch.testing.assert_close(xy[5], torch.tensor([-0.25, 0.5]))


def test_the_landmark_position_is_where_its_words_match_the_patches():
    prior = LandmarkRelationPrior(D, landmark_scale_init=50.0)
    xy = grid_xy(ROWS, COLS)
    for cell in (0, 6, 11):
        v, w, s, pad_mask = scene(cell)
        mu = prior.locate(v, w, s, pad_mask, xy).position
        torch.testing.assert_close(mu[0], xy[cell], atol=1e-3, rtol=0)


def test_the_term_follows_the_landmark():
    prior = LandmarkRelationPrior(D, frequencies=2, landmark_scale_init=50.0)
    with torch.no_grad():
        # weight 1 on sin(pi dx / 2): larger right of the landmark
        prior.relation.bias[0] = 1.0
    xy = grid_xy(ROWS, COLS)
    for cell in (4, 7):
        v, w, s, pad_mask = scene(cell)
        term = prior(v, w, s, pad_mask, ROWS, COLS)[0][0]
        expected = torch.sin(math.pi / 2 * (xy[:, 0] - xy[cell, 0]))
        torch.testing.assert_close(term, expected, atol=1e-3, rtol=0)
    left, right = (prior(*scene(c), ROWS, COLS)[0][0] for c in (4, 7))
    # the leftmost column is right of a landmark at column 0 only
    assert right[4] < 0 < left[5]


def test_padded_words_are_never_the_landmark():
    prior = LandmarkRelationPrior(D, landmark_scale_init=50.0)
    v, w, s, pad_mask = scene(6)
    moved = w.clone()
    moved[0, 1:] = 100 * torch.randn(2, D)
    xy = grid_xy(ROWS, COLS)
    found = prior.locate(v, w, s, pad_mask, xy)
    torch.testing.assert_close(
        found.position,
        prior.locate(v, moved, s, pad_mask, xy).position)
    assert found.word_weights[0, 1:].abs().max() == 0


def test_no_frequencies_is_refused():
    with pytest.raises(ValueError, match='frequencies must be >= 1'):
        LandmarkRelationPrior(D, frequencies=0)
