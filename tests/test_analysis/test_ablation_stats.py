import math

import pytest

from sgsrf_mmseg.analysis.ablation_stats import (compare, permutation_p,
                                                 pooled_sd, seed_wins, welch_t)


def test_welch_t_by_hand():
    # means 2 and 5, variances 1 and 4, n = 3 each:
    # t = -3 / sqrt(1/3 + 4/3)
    assert welch_t([1, 2, 3],
                   [3, 5, 7]) == pytest.approx(-3 / math.sqrt(5 / 3))
    assert welch_t([1], [2, 3]) is None
    assert welch_t([2, 2], [2, 2]) is None


def test_pooled_sd_by_hand():
    # squares 2 + 8 over 4 degrees of freedom
    assert pooled_sd([1, 2, 3], [3, 5, 7]) == pytest.approx(math.sqrt(10 / 4))


def test_exact_permutation_p():
    # completely separated groups of 3: 2 of the 20 splits are as extreme
    assert permutation_p([1, 2, 3], [10, 11, 12]) == pytest.approx(2 / 20)
    # identical groups: every split is at least as extreme
    assert permutation_p([1, 2], [1, 2]) == 1.0
    # five seeds each: 252 splits, the most extreme two of them
    assert permutation_p([0, 1, 2, 3, 4],
                         [10, 11, 12, 13, 14]) == pytest.approx(2 / 252)


def test_compare_in_pooled_sd():
    result = compare([1, 2, 3], [3, 5, 7])
    assert result.difference == -3
    assert result.in_pooled_sd == pytest.approx(-3 / math.sqrt(10 / 4))
    with pytest.raises(ValueError, match='at least one score'):
        compare([], [1.0])


def test_seed_wins_pair_by_seed():
    assert seed_wins({
        0: 2.0,
        1: 1.0,
        2: 5.0
    }, {
        0: 1.0,
        1: 1.0,
        3: 0.0
    }) == (1, 2)
    assert seed_wins({5: 1.0}, {0: 0.0}) == (0, 0)
