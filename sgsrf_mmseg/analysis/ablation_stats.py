"""Is a variant's score different from the full model's? Small-sample tests.

An ablation has a few seeds per variant (five by default), so the tests are
the ones that hold for small samples of unequal variance: Welch's t, the
exact two-sided permutation p of the difference of means (every split of
the pooled scores into two groups of the original sizes), and the
difference in units of the pooled standard deviation. Beside them, paired
by seed: on how many of the seeds both ran the variant scored higher (a
seed fixes the order of the training data).
"""
import itertools
import math
import statistics
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence, Tuple

#: Above this many splits the permutation test is not run (p is None).
MAX_SPLITS = 200_000


@dataclass(frozen=True)
class Comparison:
    """A variant against the reference (``variant - reference``).

    Attributes:
        difference (float): Difference of the means.
        pooled_sd (float, optional): Pooled sample standard deviation
            (None below three scores in all).
        welch_t (float, optional): Welch's t (None when a group has one
            score or both have no spread).
        permutation_p (float, optional): Exact two-sided permutation p
            (None when the splits are too many).
    """
    difference: float
    pooled_sd: Optional[float]
    welch_t: Optional[float]
    permutation_p: Optional[float]

    @property
    def in_pooled_sd(self) -> Optional[float]:
        """The difference in pooled standard deviations."""
        if not self.pooled_sd:
            return None
        return self.difference / self.pooled_sd


def welch_t(variant: Sequence[float],
            reference: Sequence[float]) -> Optional[float]:
    """Welch's t of ``mean(variant) - mean(reference)``."""
    if len(variant) < 2 or len(reference) < 2:
        return None
    error = math.sqrt(
        statistics.variance(variant) / len(variant) +
        statistics.variance(reference) / len(reference))
    if error == 0:
        return None
    return (statistics.mean(variant) - statistics.mean(reference)) / error


def pooled_sd(variant: Sequence[float],
              reference: Sequence[float]) -> Optional[float]:
    """The pooled sample standard deviation of two groups."""
    dof = len(variant) + len(reference) - 2
    if dof < 1:
        return None
    squares = sum((x - statistics.mean(group))**2
                  for group in (variant, reference) for x in group)
    return math.sqrt(squares / dof)


def permutation_p(variant: Sequence[float],
                  reference: Sequence[float]) -> Optional[float]:
    """Share of the splits of the pooled scores whose difference of means
    is at least as large (in absolute value) as the observed one."""
    scores = list(variant) + list(reference)
    size = len(variant)
    if math.comb(len(scores), size) > MAX_SPLITS:
        return None
    total = sum(scores)
    observed = abs(statistics.mean(variant) -
                   statistics.mean(reference)) - 1e-9
    hits = splits = 0
    for chosen in itertools.combinations(scores, size):
        first = sum(chosen)
        rest = (total - first) / (len(scores) - size)
        hits += abs(first / size - rest) >= observed
        splits += 1
    return hits / splits


def compare(variant: Sequence[float],
            reference: Sequence[float]) -> Comparison:
    """All three measures of ``variant`` against ``reference``.

    Args:
        variant (Sequence[float]): The variant's scores (one per seed).
        reference (Sequence[float]): The reference's scores.

    Returns:
        Comparison: The difference and the tests.
    """
    if not variant or not reference:
        raise ValueError('compare needs at least one score on each side')
    return Comparison(
        difference=statistics.mean(variant) - statistics.mean(reference),
        pooled_sd=pooled_sd(variant, reference),
        welch_t=welch_t(variant, reference),
        permutation_p=permutation_p(variant, reference))


def seed_wins(variant: Mapping[int, float],
              reference: Mapping[int, float]) -> Tuple[int, int]:
    """On the seeds both ran: how many the variant scores higher on, and
    how many there are.

    Args:
        variant (Mapping[int, float]): The variant's score by seed.
        reference (Mapping[int, float]): The reference's score by seed.

    Returns:
        tuple[int, int]: ``(higher, shared)``.
    """
    shared = sorted(set(variant) & set(reference))
    return sum(variant[k] > reference[k] for k in shared), len(shared)
