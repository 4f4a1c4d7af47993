"""Who attends PACT meetings against who lives there: the age bands of the sign-in sheet and the
representativeness test of a meeting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from diogel.analysis.representation import compare_profile

#: PACT attendee age bands (what neighbourhood officers record on the sign-in sheet).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under 18", 0, 17),
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65-74", 65, 74),
    ("75+", 75, None),
)
SEXES = ("female", "male", "other")
ETHNICITIES = ("white", "mixed", "asian", "black", "arab", "other")


@dataclass
class Representation:
    """How a meeting's attendees compare with the neighbourhood's residents, by age band."""

    bands: list[dict[str, Any]]  # band, attendees, attendee_share, resident_share, ratio
    recorded: int
    simulations: int
    dissimilarity: float  # half the sum of |share differences|: the share who would have to change band
    p_value: float
    unrepresentative: bool
    note: str


def representation(
    attendees: dict[str, int], residents: pd.Series, simulations: int = 20000, seed: int = 20240701
) -> Representation | None:
    """Compare recorded attendee ages with residents aged the same.

    The test statistic is Pearson's chi-square of the attendee counts against the residents'
    shares; its p-value is estimated by simulating ``simulations`` meetings of the same size drawn
    at random from the residents (multinomial), because a meeting of a dozen people is far too small
    for the chi-square approximation. A meeting is flagged unrepresentative when p < 0.05 and the
    dissimilarity index is at least 0.25. Only adults are compared: PACT meetings are adult forums,
    and counting children among the residents would flag every meeting; under-18 attendees are
    shown on the meeting but not tested.
    """
    compared = [b for b, lo, _ in AGE_BANDS if lo >= 18]
    residents = residents.reindex(compared).fillna(0)
    c = compare_profile({b: attendees.get(b, 0) or 0 for b in compared},
                        {b: float(residents[b]) for b in compared}, simulations=simulations, seed=seed)  # fmt: skip
    if c is None:
        return None
    n, p, dissim, flagged = c.recorded, c.p_value, c.dissimilarity, c.unrepresentative
    bands = [
        {
            "band": r["group"],
            "attendees": r["attendees"],
            "attendee_share": r["attendee_share"],
            "resident_share": r["resident_share"],
            "ratio": r["attendee_share"] / r["resident_share"] if r["resident_share"] > 0 else float("nan"),
        }
        for r in c.groups
    ]
    return Representation(
        bands=bands,
        recorded=n,
        simulations=simulations,
        dissimilarity=dissim,
        p_value=p,
        unrepresentative=flagged,
        note=(
            f"{n} adult attendees with a recorded age compared with residents of the same ages; "
            f"p = {p:.3f} by {simulations:,} simulated meetings; dissimilarity {dissim:.0%}."
        ),
    )
