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


def bump(xy, cell, width):
    """The distance feature of each cell around ``cell``."""
    return torch.exp(-(xy - xy[cell]).square().sum(-1) / (2 * width**2))


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


def test_radial_features_make_a_bump_around_the_landmark():
    prior = LandmarkRelationPrior(
        D, frequencies=1, landmark_scale_init=50.0, radial_widths=(0.5, ))
    with torch.no_grad():
        # weight 1 on the only distance feature (after the 4 F waves)
        prior.relation.bias[4] = 1.0
    xy = grid_xy(ROWS, COLS)
    term = prior(*scene(5), ROWS, COLS)[0][0]
    expected = bump(xy, 5, 0.5)
    torch.testing.assert_close(term, expected, atol=1e-3, rtol=0)
    # it falls off with the distance on both axes, unlike a sum of waves
    assert term.argmax() == 5
    assert term[7] < term[6] < term[5] and term[9] < term[5]


def test_over_the_map_the_term_is_near_either_of_two_landmarks():
    xy = grid_xy(ROWS, COLS)
    v, w, s, pad_mask = scene(4)
    v[0, 7] = w[0, 0]  # a second, equal landmark at the far end of row 1
    options = dict(
        frequencies=1, landmark_scale_init=50.0, radial_widths=(0.3, ))
    at_mean = LandmarkRelationPrior(D, **options)
    over_map = LandmarkRelationPrior(D, over_map=True, **options)
    over_map.load_state_dict(at_mean.state_dict())
    for prior in (at_mean, over_map):
        with torch.no_grad():
            prior.relation.bias[4] = 1.0
    mean_term = at_mean(v, w, s, pad_mask, ROWS, COLS)[0][0]
    map_term = over_map(v, w, s, pad_mask, ROWS, COLS)[0][0]
    # the mean position lies between the two: its bump is in the middle
    assert mean_term[4] < mean_term[5] and mean_term[7] < mean_term[6]
    # over the map the term peaks on both landmarks
    assert map_term[4] > map_term[5] and map_term[7] > map_term[6]
    expected = 0.5 * (bump(xy, 4, 0.3) + bump(xy, 7, 0.3))
    torch.testing.assert_close(map_term, expected, atol=1e-3, rtol=0)


def test_the_pairwise_features_are_computed_once_per_grid():
    prior = LandmarkRelationPrior(D, radial_widths=(0.5, ), over_map=True)
    xy = grid_xy(ROWS, COLS)
    first = prior.pairwise_features(xy, ROWS, COLS)
    assert first.shape == (ROWS * COLS, ROWS * COLS, 4 * 4 + 1)
    assert prior.pairwise_features(xy, ROWS, COLS) is first
    other = prior.pairwise_features(grid_xy(2, 2), 2, 2)
    assert other.shape == (4, 4, 4 * 4 + 1)


def test_over_the_map_matches_the_mean_position_for_a_peaked_map():
    v, w, s, pad_mask = scene(6)
    options = dict(landmark_scale_init=200.0, radial_widths=(0.5, 1.0))
    at_mean = LandmarkRelationPrior(D, **options)
    over_map = LandmarkRelationPrior(D, over_map=True, **options)
    with torch.no_grad():
        at_mean.relation.weight.normal_()
        at_mean.relation.bias.normal_()
    over_map.load_state_dict(at_mean.state_dict())
    torch.testing.assert_close(
        over_map(v, w, s, pad_mask, ROWS, COLS)[0],
        at_mean(v, w, s, pad_mask, ROWS, COLS)[0],
        atol=1e-3,
        rtol=0)


def test_a_width_of_zero_is_refused():
    with pytest.raises(ValueError, match='radial_widths must be > 0'):
        LandmarkRelationPrior(D, radial_widths=(0.5, 0.0))


def test_on_the_projected_features_the_landmark_is_found_there():
    prior = LandmarkRelationPrior(
        D, landmark_scale_init=50.0, locate_on='projected')
    v0, w0, s, pad_mask = scene(9)
    refined_v, refined_w, _, _ = scene(2)
    xy = grid_xy(ROWS, COLS)
    landmark = prior(refined_v, refined_w, s, pad_mask, ROWS, COLS,
                     (v0, w0))[1]
    torch.testing.assert_close(landmark.position[0], xy[9], atol=1e-3, rtol=0)
    # the default reads the refined features it is given
    default = LandmarkRelationPrior(D, landmark_scale_init=50.0)
    landmark = default(refined_v, refined_w, s, pad_mask, ROWS, COLS,
                       (v0, w0))[1]
    torch.testing.assert_close(landmark.position[0], xy[2], atol=1e-3, rtol=0)


def test_on_the_projected_features_they_are_needed():
    prior = LandmarkRelationPrior(D, locate_on='projected')
    with pytest.raises(ValueError, match='projected=\\(V0, W0\\)'):
        prior(*scene(0), ROWS, COLS)
    with pytest.raises(ValueError, match="locate_on must be one of"):
        LandmarkRelationPrior(D, locate_on='words')


def test_joint_starts_as_the_plain_map():
    v, w, s, pad_mask = scene(6)
    cue = torch.randn(1, ROWS * COLS)
    plain = LandmarkRelationPrior(D, over_map=True)
    joint = LandmarkRelationPrior(D, over_map=True, joint=True)
    joint.load_state_dict(plain.state_dict())
    term, landmark = joint(v, w, s, pad_mask, ROWS, COLS, cue=cue)
    expected = plain(v, w, s, pad_mask, ROWS, COLS)[1]
    torch.testing.assert_close(landmark.patch_weights, expected.patch_weights)
    assert term.abs().max() == 0


def test_joint_picks_the_landmark_a_target_stands_next_to():
    v, w, s, pad_mask = scene(4)
    v[0, 7] = w[0, 0]  # two equal landmarks, at both ends of row 1
    cue = torch.full((1, ROWS * COLS), -10.0)
    cue[0, 6] = 5.0  # the only patch like the target: next to cell 7
    options = dict(
        frequencies=1,
        landmark_scale_init=50.0,
        radial_widths=(0.3, ),
        over_map=True)
    plain = LandmarkRelationPrior(D, **options)
    joint = LandmarkRelationPrior(D, joint=True, **options)
    for prior in (plain, joint):
        with torch.no_grad():
            prior.relation.bias[4] = 10.0  # "next to": a bump
    split = plain(v, w, s, pad_mask, ROWS, COLS)[1].patch_weights[0]
    torch.testing.assert_close(split[4], split[7])
    term, landmark = joint(v, w, s, pad_mask, ROWS, COLS, cue=cue)
    weights = landmark.patch_weights[0]
    assert weights[7] > 0.9 and weights[4] < 0.1
    # so the term now lifts the target's side of the row only
    assert term[0, 7] > term[0, 6] > term[0, 4]


def test_joint_needs_the_map_and_the_cue():
    with pytest.raises(ValueError, match='set over_map=True'):
        LandmarkRelationPrior(D, joint=True)
    prior = LandmarkRelationPrior(D, over_map=True, joint=True)
    with pytest.raises(ValueError, match='needs the cue'):
        prior(*scene(0), ROWS, COLS)
