"""The derangement of the text-swap test."""
import pytest

from sgsrf_mmseg.analysis.text_swap import derangement


@pytest.mark.parametrize('n', [2, 3, 5, 50])
@pytest.mark.parametrize('seed', [0, 1, 7])
def test_derangement_moves_every_item(n, seed):
    perm = derangement(n, seed)
    assert sorted(perm) == list(range(n))
    assert all(perm[i] != i for i in range(n))
    assert derangement(n, seed) == perm


def test_derangement_depends_on_the_seed():
    assert len({tuple(derangement(10, seed)) for seed in range(5)}) > 1


def test_derangement_needs_two_items():
    with pytest.raises(ValueError, match='at least 2 items, got 1'):
        derangement(1, 0)
