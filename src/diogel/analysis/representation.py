"""Are the people at neighbourhood meetings like the people they speak for? An exact test for a profile.

A profile (attendees by age band, by ward of residence ...) is compared with the residents' shares
of the same groups. The statistic is Pearson's chi-square of the attendee counts against the
residents' shares; its p-value is estimated by simulating meetings of the same size drawn at random
from the residents (multinomial), because meetings are far too small for the chi-square
approximation (a Monte Carlo exact test). A profile is called unrepresentative only when p < 0.05
and the dissimilarity index (half the sum of absolute share differences: the share of attendees who
would have to be in another group) is at least 0.25, so a large meeting is not flagged for a
trivial difference and a small one is not flagged on noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["ProfileComparison", "compare_profile"]


@dataclass(frozen=True)
class ProfileComparison:
    """Result of :func:`compare_profile`: per group ``attendees``, ``attendee_share``, ``resident_share``;
    ``recorded`` attendees compared; ``chi2``; ``p_value`` (Monte Carlo, (1 + hits) / (1 + simulations));
    ``dissimilarity``; ``unrepresentative``; ``simulations``."""

    groups: list[dict[str, float | int | str]]
    recorded: int
    chi2: float
    p_value: float
    dissimilarity: float
    unrepresentative: bool
    simulations: int


def compare_profile(
    attendees: Mapping[str, int],
    residents: Mapping[str, float],
    simulations: int = 20000,
    seed: int = 20240701,
) -> ProfileComparison | None:
    """Compare attendee counts per group with residents per group (groups: the residents' keys).

    Parameters
    ----------
    attendees : group -> attendees recorded in it (groups the residents lack are an error).
    residents : group -> residents (any non-negative weights; shares are taken from them).
    simulations : meetings simulated for the p-value.
    seed : random seed, so a page shows the same p-value each time.

    Returns
    -------
    ProfileComparison, or None when no attendee is recorded or there are no residents.
    """
    unknown = sorted(set(attendees) - set(residents))
    if unknown:
        raise ValueError(f"attendees recorded in groups without residents: {unknown}")
    groups = list(residents)
    counts = np.array([int(attendees.get(g, 0) or 0) for g in groups], dtype=float)
    pop = np.array([float(residents[g]) for g in groups], dtype=float)
    n = int(counts.sum())
    if n == 0 or pop.sum() <= 0:
        return None
    share = pop / pop.sum()
    expected = n * share
    ok = expected > 0
    stat = float((((counts - expected) ** 2)[ok] / expected[ok]).sum())
    sims = np.random.default_rng(seed).multinomial(n, share, size=simulations)
    sim_stats = (((sims - expected) ** 2)[:, ok] / expected[ok]).sum(axis=1)
    p = float((1 + (sim_stats >= stat - 1e-9).sum()) / (simulations + 1))
    att_share = counts / n
    dissim = float(0.5 * np.abs(att_share - share).sum())
    rows = [{"group": g, "attendees": int(counts[i]), "attendee_share": float(att_share[i]),
             "resident_share": float(share[i])} for i, g in enumerate(groups)]  # fmt: skip
    return ProfileComparison(rows, n, stat, p, dissim, bool(p < 0.05 and dissim >= 0.25), simulations)
