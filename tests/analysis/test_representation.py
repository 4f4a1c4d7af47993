"""The profile test against an exact enumeration: for a small meeting every outcome can be listed."""

from __future__ import annotations

import itertools
import math

import pytest
from scipy import stats

from diogel.analysis.representation import compare_profile


def exact_p(counts: list[int], shares: list[float]) -> float:
    """P(chi-square >= observed) over every way n attendees fall into the groups (multinomial)."""
    n = sum(counts)
    expected = [n * s for s in shares]

    def chi2(c) -> float:  # noqa: ANN001
        return sum((ci - e) ** 2 / e for ci, e in zip(c, expected, strict=True))

    observed = chi2(counts)
    total = 0.0
    for c in itertools.product(range(n + 1), repeat=len(counts)):
        if sum(c) == n and chi2(c) >= observed - 1e-9:
            total += stats.multinomial.pmf(c, n, shares)
    return total


@pytest.mark.parametrize("counts", [[6, 1, 0], [3, 2, 2], [0, 0, 7]])
def test_monte_carlo_p_matches_the_exact_enumeration(counts: list[int]) -> None:
    residents = {"Alway": 5000.0, "Beechwood": 3000.0, "Caerleon": 2000.0}
    got = compare_profile(dict(zip(residents, counts, strict=True)), residents, simulations=200_000)
    want = exact_p(counts, [0.5, 0.3, 0.2])
    # Monte Carlo error of a proportion from 200,000 draws: well under 0.005.
    assert got.p_value == pytest.approx(want, abs=0.005)
    assert got.dissimilarity == pytest.approx(
        0.5 * sum(abs(c / 7 - s) for c, s in zip(counts, [0.5, 0.3, 0.2], strict=True))
    )


def test_flag_needs_both_significance_and_a_large_difference() -> None:
    residents = {"a": 500.0, "b": 500.0}
    assert compare_profile({"a": 7, "b": 0}, residents).unrepresentative  # small but one-sided
    assert not compare_profile({"a": 2, "b": 1}, residents).unrepresentative  # too few to tell
    big = compare_profile({"a": 5600, "b": 4400}, residents)  # significant, but only 6% would have to move
    assert big.p_value < 0.001 and not big.unrepresentative and math.isclose(big.dissimilarity, 0.06)


def test_nothing_recorded_and_unknown_groups() -> None:
    assert compare_profile({}, {"a": 1.0}) is None
    with pytest.raises(ValueError, match="without residents"):
        compare_profile({"z": 1}, {"a": 1.0})
