"""Stop and search: volumes, rates, outcome and find rates, disproportionality, and place.

Pure functions over a frame of police.uk stop-and-search rows (one row a search; the rows carry no
ID, so identical rows are separate searches, as for anti-social behaviour).

Definitions (as HMICFRS and the College of Policing read the published data):

* **rate per 1,000 residents** = 1000 x searches / residents (over the period; annualised by
  12 / months when asked).
* **outcome rate** = searches with an outcome other than "A no further action disposal" / searches
  with an outcome recorded (a blank outcome is left out of both).
* **find rate** = searches whose outcome is linked to the object of search (police.uk's "Outcome
  linked to object of search" = True) / searches with that field recorded: the closest published
  measure of whether the officer found what the grounds said they were looking for.
* **disproportionality** = the search rate per 1,000 residents of an ethnic group / the rate of the
  White group, with a 95% interval on the log scale (Katz): exp(ln RR +/- 1.96 sqrt(1/a - 1/n1 +
  1/b - 1/n2)), a and b searches, n1 and n2 residents. It needs residents by self-defined ethnicity
  for the same area; the caveats: the resident population is not the population available to be
  searched (visitors, people in public places at night, the night-time economy), the Census is
  years old, searches of the same person repeat, and self-defined ethnicity is often not stated.
  A ratio on few searches (fewer than ``MIN_READABLE`` in a group) is not to be read.

Intervals for proportions are Wilson score intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "MIN_READABLE",
    "NFA",
    "StopSearchSummary",
    "broad_ethnic_group",
    "disproportionality",
    "searches_against_crime",
    "summarise",
    "wilson_interval",
]

NFA = "A no further action disposal"
MIN_READABLE = 30  # fewer searches than this: a rate or share is shown but said to be too few to read
_GROUPS = ("White", "Mixed", "Asian", "Black", "Other")


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """95% Wilson score interval for k successes in n trials: (centre +/- half) / (1 + z^2/n) with
    centre = p + z^2/(2n), half = z sqrt(p(1-p)/n + z^2/(4n^2)). (nan, nan) when n = 0."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    denom = 1 + z * z / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return ((centre - half) / denom, (centre + half) / denom)


def broad_ethnic_group(self_defined: str | None) -> str:
    """The Census broad group of a police.uk self-defined ethnicity ("White - English/Welsh/..." ->
    "White"; "Asian/Asian British - Indian" -> "Asian"); "Not stated" when blank or not stated."""
    if self_defined is None or (isinstance(self_defined, float) and math.isnan(self_defined)):
        return "Not stated"
    text = str(self_defined).strip()
    if (
        not text
        or text.casefold().startswith("other ethnic group - not stated")
        or "not stated" in text.casefold()
    ):
        return "Not stated"
    head = text.split(" - ", 1)[0].casefold()
    if head.startswith("white"):
        return "White"
    if head.startswith("mixed"):
        return "Mixed"
    if head.startswith("asian"):
        return "Asian"
    if head.startswith("black"):
        return "Black"
    return "Other"


@dataclass(frozen=True)
class StopSearchSummary:
    """Volumes and rates of one area's searches over a period (see the module docstring)."""

    searches: int
    residents: float
    months: int
    rate_per_1000: float
    rate_per_1000_a_year: float
    with_outcome: int
    outcome_other_than_nfa: int
    outcome_rate: float
    outcome_interval: tuple[float, float]
    with_link_recorded: int
    linked_to_object: int
    find_rate: float
    find_interval: tuple[float, float]
    too_few: bool
    by_object: pd.DataFrame
    by_outcome: pd.DataFrame
    by_ethnicity: pd.DataFrame
    by_type: pd.DataFrame


def _counts(series: pd.Series, name: str, total: int) -> pd.DataFrame:
    c = series.fillna("not recorded").value_counts(sort=False)
    df = c.rename("searches").rename_axis(name).reset_index()
    df["share"] = df["searches"] / total if total else np.nan
    return df.sort_values(["searches", name], ascending=[False, True], kind="stable").reset_index(drop=True)


def summarise(searches: pd.DataFrame, residents: float, months: int) -> StopSearchSummary:
    """Volumes, rates and breakdowns of ``searches`` (police.uk columns as the warehouse stores them:
    ``search_type``, ``self_defined_ethnicity``, ``object_of_search``, ``outcome``,
    ``outcome_linked_to_object``).

    ``residents`` is the area's population; ``months`` the length of the period.
    """
    n = len(searches)
    outcome = searches["outcome"]
    recorded = outcome.notna() & (outcome.astype("string").str.strip() != "")
    with_outcome = int(recorded.sum())
    positive = int((recorded & (outcome != NFA)).sum())
    link = searches["outcome_linked_to_object"]
    with_link = int(link.notna().sum())
    linked = int((link == True).sum())  # noqa: E712  (a nullable boolean column)
    rate = 1000 * n / residents if residents else math.nan
    groups = searches["self_defined_ethnicity"].map(broad_ethnic_group)
    eth = groups.value_counts().reindex([*_GROUPS, "Not stated"], fill_value=0)
    by_eth = eth.rename("searches").rename_axis("ethnic_group").reset_index()
    by_eth["share"] = by_eth["searches"] / n if n else np.nan
    stated = int(eth.drop("Not stated").sum())
    by_eth["share_of_stated"] = by_eth["searches"] / stated if stated else np.nan
    by_eth.loc[by_eth["ethnic_group"] == "Not stated", "share_of_stated"] = np.nan
    return StopSearchSummary(
        searches=n,
        residents=float(residents),
        months=months,
        rate_per_1000=rate,
        rate_per_1000_a_year=rate * 12 / months if months else math.nan,
        with_outcome=with_outcome,
        outcome_other_than_nfa=positive,
        outcome_rate=positive / with_outcome if with_outcome else math.nan,
        outcome_interval=wilson_interval(positive, with_outcome),
        with_link_recorded=with_link,
        linked_to_object=linked,
        find_rate=linked / with_link if with_link else math.nan,
        find_interval=wilson_interval(linked, with_link),
        too_few=n < MIN_READABLE,
        by_object=_counts(searches["object_of_search"], "object_of_search", n),
        by_outcome=_counts(searches["outcome"], "outcome", n),
        by_ethnicity=by_eth,
        by_type=_counts(searches["search_type"], "search_type", n),
    )


def disproportionality(
    searches_by_group: pd.Series, residents_by_group: pd.Series, reference: str = "White"
) -> pd.DataFrame:
    """Search rate per 1,000 residents by group and its ratio to the ``reference`` group's rate.

    Returns ``ethnic_group``, ``searches``, ``residents``, ``rate_per_1000``, ``ratio``,
    ``ratio_lower``, ``ratio_upper`` (95% Katz log interval; nan when a count is 0) and
    ``too_few`` (fewer than ``MIN_READABLE`` searches in the group or the reference).
    Groups without residents are left out: there is no rate without a denominator.
    """
    groups = [g for g in residents_by_group.index if residents_by_group[g] > 0]
    a_ref = float(searches_by_group.get(reference, 0))
    n_ref = float(residents_by_group[reference])
    rows = []
    for g in groups:
        a, n = float(searches_by_group.get(g, 0)), float(residents_by_group[g])
        ratio = (a / n) / (a_ref / n_ref) if a_ref > 0 else math.nan
        if a > 0 and a_ref > 0:
            se = math.sqrt(1 / a - 1 / n + 1 / a_ref - 1 / n_ref)
            lo, hi = ratio * math.exp(-1.959963984540054 * se), ratio * math.exp(1.959963984540054 * se)
        else:
            lo = hi = math.nan
        rows.append({"ethnic_group": g, "searches": a, "residents": n, "rate_per_1000": 1000 * a / n,
                     "ratio": ratio, "ratio_lower": lo, "ratio_upper": hi,
                     "too_few": a < MIN_READABLE or a_ref < MIN_READABLE})  # fmt: skip
    return pd.DataFrame(rows)


def searches_against_crime(searches_by_lsoa: pd.Series, crime_by_lsoa: pd.Series, top: float = 0.10) -> dict:
    """Where searches happen against where crime is, over the area's LSOAs.

    Returns ``spearman`` (rank correlation of searches and recorded crime per LSOA, nan with fewer
    than 3 LSOAs or no variation), ``top_lsoas`` (ceil(top x N) LSOAs with the most crime),
    ``crime_share_top`` and ``search_share_top`` (shares of all crime and all located searches in
    them), and ``located_searches``.
    """
    crime = crime_by_lsoa.astype(float)
    s = searches_by_lsoa.reindex(crime.index, fill_value=0).astype(float)
    k = max(1, math.ceil(top * len(crime))) if len(crime) else 0
    order = crime.sort_values(ascending=False, kind="stable").index[:k]
    total_s, total_c = float(s.sum()), float(crime.sum())
    if len(crime) >= 3 and s.nunique() > 1 and crime.nunique() > 1:
        rho = float(s.rank().corr(crime.rank()))
    else:
        rho = math.nan
    return {
        "spearman": rho,
        "top_lsoas": k,
        "crime_share_top": float(crime[order].sum()) / total_c if total_c else math.nan,
        "search_share_top": float(s[order].sum()) / total_s if total_s else math.nan,
        "located_searches": int(total_s),
    }
