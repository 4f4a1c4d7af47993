"""Levels and trends: rates per 1,000, period comparisons, control limits and data-supply gaps.

Every function is pure: frames or numbers in, frames or dataclasses out.

Conventions: ``month`` is a pandas Timestamp at the first of the month, ``count`` is a number of
records, ``population`` a number of residents.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "GapCheck",
    "PeriodComparison",
    "compare_periods",
    "comparison_gap_check",
    "control_limits",
    "detect_supply_gaps",
    "poisson_ci",
    "rates_per_1000",
]


def _as_tuple(by: str | Sequence[str]) -> tuple[str, ...]:
    return (by,) if isinstance(by, str) else tuple(by)


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {missing}; it has {list(frame.columns)}")


# ---------------------------------------------------------------------------------------------
# Rates
# ---------------------------------------------------------------------------------------------


def poisson_ci(count: np.ndarray | float, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) confidence interval for a Poisson mean given an observed count.

    lower = chi2.ppf(alpha/2, 2k) / 2 (0 when k = 0), upper = chi2.ppf(1 - alpha/2, 2k + 2) / 2.

    Parameters
    ----------
    count : array-like or float
        Observed counts k (non-negative).
    alpha : float, default 0.05
        1 - confidence level.

    Returns
    -------
    (lower, upper) : tuple of numpy arrays
    """
    k = np.asarray(count, dtype=float)
    with np.errstate(invalid="ignore"):
        lower = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
        upper = stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    lower = np.where(np.isnan(k), np.nan, lower)
    return lower, upper


def rates_per_1000(
    counts: pd.DataFrame,
    population: pd.DataFrame,
    by: str | Sequence[str] = ("lsoa_code",),
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Counts and crude rates per 1,000 residents, with exact Poisson confidence intervals.

    rate_per_1000 = 1000 * count / population; the interval is the Garwood exact interval for the
    count (see :func:`poisson_ci`) divided by population and times 1,000. The rate covers whatever
    period the counts cover: it is not annualised.

    Parameters
    ----------
    counts : DataFrame
        Columns ``by`` and ``count`` (several rows per key are summed, e.g. one per month).
    population : DataFrame
        The area key(s) (the columns of ``by`` that it has, e.g. ``lsoa_code``) and ``population``;
        one row per area.
    by : str or sequence of str, default ("lsoa_code",)
        Grouping columns of the result. Those also in ``population`` are the join keys; the others
        (e.g. ``crime_type``) are crossed with every area, so areas with no recorded crime appear
        with count 0 rather than dropping out of the denominator.
    alpha : float, default 0.05
        1 - confidence level of the interval.

    Returns
    -------
    DataFrame
        ``by`` columns, ``count``, ``population``, ``rate_per_1000``, ``rate_lower``, ``rate_upper``.
        Areas with counts but no population are kept with NaN rates (never silently dropped);
        a population of 0 also gives NaN rates.
    """
    keys = _as_tuple(by)
    _require(counts, [*keys, "count"], "counts")
    pop_keys = [k for k in keys if k in population.columns]
    if not pop_keys:
        raise ValueError(f"population shares none of the grouping columns {list(keys)}")
    _require(population, [*pop_keys, "population"], "population")
    if population.duplicated(pop_keys).any():
        dup = population.loc[population.duplicated(pop_keys, keep=False), pop_keys].iloc[0].tolist()
        raise ValueError(f"population has more than one row for {dup}")

    summed = counts.groupby(list(keys), as_index=False, dropna=False)["count"].sum()
    other = [k for k in keys if k not in pop_keys]
    areas = population[pop_keys].drop_duplicates()
    grid = areas.merge(summed[other].drop_duplicates(), how="cross") if other else areas
    # Outer join: areas with no crime get count 0; counted areas without a population stay (NaN rate).
    out = grid.merge(summed, on=list(keys), how="outer")
    out["count"] = out["count"].fillna(0)
    out = out.merge(population[[*pop_keys, "population"]], on=pop_keys, how="left")
    pop = out["population"].astype(float).where(out["population"] > 0)
    lower, upper = poisson_ci(out["count"].to_numpy(dtype=float), alpha)
    out["rate_per_1000"] = 1000.0 * out["count"] / pop
    out["rate_lower"] = 1000.0 * lower / pop
    out["rate_upper"] = 1000.0 * upper / pop
    return out[[*keys, "count", "population", "rate_per_1000", "rate_lower", "rate_upper"]].sort_values(
        list(keys), ignore_index=True
    )


# ---------------------------------------------------------------------------------------------
# Period comparison
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodComparison:
    """Result of :func:`compare_periods`.

    Attributes
    ----------
    current, previous : int
        Counts in the two periods.
    exposure_ratio : float
        e = exposure(current) / exposure(previous) (population x time).
    change : int
        current - previous.
    percent_change : float
        100 * (current - previous) / previous (NaN when previous is 0). Counts, not rates.
    rate_ratio : float
        RR = (current / previous) / e.
    ci_lower, ci_upper : float
        Exact confidence interval for RR from the Clopper-Pearson interval of the binomial
        proportion pi = current / (current + previous): RR = pi / (1 - pi) / e.
    p_value : float
        Exact conditional binomial test of RR = 1, two-sided.
    log_rate_ratio : float
        Effect size: natural log of RR (0 = no change; +0.1 is about a 10% rise).
    cohens_h : float
        Second effect size: h = 2 asin(sqrt(pi)) - 2 asin(sqrt(pi0)), pi0 = e / (1 + e)
        (Cohen: 0.2 small, 0.5 medium, 0.8 large).
    alpha : float
        Significance level used for the CI and ``significant``.
    significant : bool
        p_value < alpha.
    method : str
        Plain-English statement of the method.
    """

    current: int
    previous: int
    exposure_ratio: float
    change: int
    percent_change: float
    rate_ratio: float
    ci_lower: float
    ci_upper: float
    p_value: float
    log_rate_ratio: float
    cohens_h: float
    alpha: float
    significant: bool
    method: str = field(repr=False)


def _binom_two_sided_p(k: int, n: int, p: float) -> float:
    """Two-sided exact binomial p-value: sum of P(X = j) over all j with P(X = j) <= P(X = k).

    This is the "minimum likelihood" definition used by R's binom.test and scipy's binomtest;
    the relative tolerance 1e-7 stops ties being lost to floating point.
    """
    if n == 0:
        return 1.0
    pmf = stats.binom.pmf(np.arange(n + 1), n, p)
    d = pmf[k]
    return float(min(1.0, pmf[pmf <= d * (1 + 1e-7)].sum()))


def compare_periods(
    current: int, previous: int, exposure_ratio: float = 1.0, alpha: float = 0.05
) -> PeriodComparison:
    """Compare two counts (e.g. this year against last year) with an exact test.

    Under H0 (equal rates) and conditional on n = current + previous, current ~ Binomial(n,
    pi0 = e / (1 + e)) where e is the exposure ratio. The two-sided p-value is the exact binomial
    ("minimum likelihood") p-value. The confidence interval for the rate ratio transforms the
    Clopper-Pearson interval (pi_L, pi_U) of pi = current / n: RR = pi / (1 - pi) / e.

    Parameters
    ----------
    current, previous : int
        Non-negative counts for the two periods.
    exposure_ratio : float, default 1.0
        Exposure of the current period divided by that of the previous period, e.g. ratio of
        populations or of numbers of months. Must be positive.
    alpha : float, default 0.05
        Significance level; the CI has coverage 1 - alpha.

    Returns
    -------
    PeriodComparison
        See the class. The effect size is the log rate ratio (with Cohen's h also given).
    """
    for name, value in (("current", current), ("previous", previous)):
        if value < 0 or int(value) != value:
            raise ValueError(f"{name} must be a non-negative whole number, got {value}")
    if not (exposure_ratio > 0 and math.isfinite(exposure_ratio)):
        raise ValueError(f"exposure_ratio must be positive and finite, got {exposure_ratio}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    c, p, e = int(current), int(previous), float(exposure_ratio)
    n = c + p
    pi0 = e / (1 + e)
    p_value = _binom_two_sided_p(c, n, pi0)
    if n == 0:
        rr = lo = hi = log_rr = h = float("nan")
    else:
        pi_l = 0.0 if c == 0 else float(stats.beta.ppf(alpha / 2, c, n - c + 1))
        pi_u = 1.0 if c == n else float(stats.beta.ppf(1 - alpha / 2, c + 1, n - c))
        lo = pi_l / (1 - pi_l) / e
        hi = math.inf if pi_u == 1.0 else pi_u / (1 - pi_u) / e
        rr = math.inf if p == 0 else (c / p) / e
        with np.errstate(divide="ignore"):
            log_rr = float(np.log(rr))
        h = 2 * math.asin(math.sqrt(c / n)) - 2 * math.asin(math.sqrt(pi0))
    pct = float("nan") if p == 0 else 100.0 * (c - p) / p
    method = (
        "Exact conditional binomial test: given the total, the current count is Binomial(n, e/(1+e)) "
        "under equal rates; two-sided minimum-likelihood p-value; rate-ratio interval from the "
        "Clopper-Pearson interval of the binomial proportion."
    )
    return PeriodComparison(
        current=c,
        previous=p,
        exposure_ratio=e,
        change=c - p,
        percent_change=pct,
        rate_ratio=rr,
        ci_lower=lo,
        ci_upper=hi,
        p_value=p_value,
        log_rate_ratio=log_rr,
        cohens_h=h,
        alpha=alpha,
        significant=bool(p_value < alpha),
        method=method,
    )


# ---------------------------------------------------------------------------------------------
# Control limits
# ---------------------------------------------------------------------------------------------


def _month_index(index: pd.Index) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(index)).to_period("M").to_timestamp()


def control_limits(
    monthly: pd.Series,
    method: str = "exact",
    sigma: float = 3.0,
    min_years: int = 2,
) -> pd.DataFrame:
    """Seasonal c-chart: expected monthly count and Poisson control limits, with signals.

    Expected value for a month = mean count of the same calendar month in earlier years when at
    least ``min_years`` earlier years are available (seasonal baseline); otherwise the mean of the
    whole series (the ordinary c-chart centre line).

    Limits, with tail probability t = P(Z > sigma) (0.00135 for sigma = 3):

    * ``method="exact"`` (default): Poisson quantiles, lower = poisson.ppf(t, mu), upper =
      poisson.isf(t, mu); a month signals when count < lower or count > upper. Right for the small
      counts of single areas or crime types.
    * ``method="shewhart"``: mu -/+ sigma * sqrt(mu) with the lower limit floored at 0.

    Crime counts are usually over-dispersed relative to Poisson, so at force level (thousands a
    month) the limits are narrow and some months signal; read signals as prompts to look, not
    as proof. The chart uses counts; with a constant population it is identical to a u-chart.

    Parameters
    ----------
    monthly : Series
        Counts indexed by month (anything ``pd.to_datetime`` reads); one value per month.
    method : {"exact", "shewhart"}, default "exact"
    sigma : float, default 3.0
    min_years : int, default 2
        Earlier same-month values needed before the seasonal baseline is used.

    Returns
    -------
    DataFrame indexed by month
        ``count``, ``expected``, ``baseline`` ("same month in N earlier years" or "series mean"),
        ``lower``, ``upper``, ``signal`` ("above", "below" or "").
    """
    if method not in ("exact", "shewhart"):
        raise ValueError(f"method must be 'exact' or 'shewhart', got {method!r}")
    s = pd.Series(np.asarray(monthly, dtype=float), index=_month_index(monthly.index)).sort_index()
    if s.index.duplicated().any():
        raise ValueError("monthly has more than one value for a month; sum them first")
    series_mean = float(s.mean())
    expected, baseline = [], []
    for month in s.index:
        earlier = s[(s.index.month == month.month) & (s.index < month)].dropna()
        if len(earlier) >= min_years:
            expected.append(float(earlier.mean()))
            baseline.append(f"same month in {len(earlier)} earlier years")
        else:
            expected.append(series_mean)
            baseline.append("series mean")
    mu = np.asarray(expected)
    tail = float(stats.norm.sf(sigma))
    if method == "exact":
        lower = stats.poisson.ppf(tail, mu)
        upper = stats.poisson.isf(tail, mu)
    else:
        lower = np.maximum(mu - sigma * np.sqrt(mu), 0.0)
        upper = mu + sigma * np.sqrt(mu)
    out = pd.DataFrame(
        {"count": s.to_numpy(), "expected": mu, "baseline": baseline, "lower": lower, "upper": upper},
        index=s.index.rename("month"),
    )
    out["signal"] = np.select(
        [out["count"] > out["upper"], out["count"] < out["lower"]], ["above", "below"], ""
    )
    return out


# ---------------------------------------------------------------------------------------------
# Data-supply gaps
# ---------------------------------------------------------------------------------------------


def _reference_months(i: int, usable: np.ndarray, window: int) -> list[int]:
    """Indices of the ``window`` nearest usable months before and after month ``i``.

    When one side runs out (the ends of the series) the other side tops up, so every month is
    judged against up to ``2 * window`` months.
    """
    before = [j for j in range(i - 1, -1, -1) if usable[j]]
    after = [j for j in range(i + 1, len(usable)) if usable[j]]
    nb = min(len(before), max(window, 2 * window - len(after)))
    na = min(len(after), max(window, 2 * window - len(before)))
    return before[:nb] + after[:na]


def detect_supply_gaps(
    monthly: pd.DataFrame,
    threshold: float = 0.5,
    window: int = 6,
    by: str | Sequence[str] = ("force",),
    min_neighbours: int = 4,
    min_median: float = 10.0,
    return_all: bool = False,
    loaded: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Flag months whose volume collapses relative to the months around them: a supply gap.

    For each series (one per ``by`` key) months missing from the data are first added with count 0
    (a month with nothing published is the extreme gap), unless ``loaded`` says the month was never
    loaded: such a month is unknown, not empty, so it is neither judged nor used as a reference
    month, and it is left out of the result. A month is flagged when

        count < threshold * median(reference months)

    where the reference months are the ``window`` nearest months before it and the ``window``
    nearest after it that are not already flagged (topped up from the other side at the ends
    of the series). Flagging is repeated until no new month is flagged: a gap several months
    long is found from its edges inwards instead of hiding itself by pulling the median down.
    Months with fewer than
    ``min_neighbours`` usable neighbours, or a neighbour median below ``min_median``, are not
    judged: with a handful of crimes a month, Poisson noise alone halves a count often.

    A flagged month is treated as a data-supply problem (records not yet, or not fully, supplied
    to police.uk, or recorded under another type), not a fall in crime. Because of the
    iteration, a sustained drop to under ``threshold`` of the level on both sides of it is flagged
    in full (real Gwent example: Burglary 2023-04..09, except 2023-06 at 61% of its reference);
    and at a step change the whole low side is flagged (Gwent Criminal damage and arson ran at
    about 50 a month until 2023-09 and about 600 from 2023-10: all 15 early months are flagged).
    Check flagged runs by eye before publishing.

    Parameters
    ----------
    monthly : DataFrame
        Columns ``by`` (default ``force``), ``month`` and ``count``; several rows per key and
        month (e.g. one per crime type) are summed.
    threshold : float, default 0.5
    window : int, default 6
        Reference months taken from each side.
    by : str or sequence of str, default ("force",)
        Series keys, e.g. ``("force", "crime_type")`` to check each crime type separately.
    min_neighbours : int, default 4
    min_median : float, default 10
        Smallest neighbour median at which a month is judged.
    return_all : bool, default False
        Return every month with a ``gap`` column instead of only the flagged months.
    loaded : DataFrame, optional
        The months loaded: column ``month`` and any of the ``by`` columns (e.g. ``force`` alone,
        for every crime type of that force). A series' month is loaded when a row matches it on
        those columns. ``None`` (default): every month from a series' first to its last is loaded.

    Returns
    -------
    DataFrame
        ``by`` columns, ``month``, ``count``, ``neighbour_median``, ``n_neighbours``, ``ratio``
        (count / neighbour median), ``gap`` (bool) and ``reason`` (plain English, empty when not
        flagged).
    """
    keys = _as_tuple(by)
    _require(monthly, [*keys, "month", "count"], "monthly")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    frame = monthly.assign(month=_month_index(pd.Index(monthly["month"])))
    summed = frame.groupby([*keys, "month"], as_index=False)["count"].sum()
    parts = []
    shared: list[str] = []
    if loaded is not None:
        shared = [k for k in keys if k in loaded.columns]
        _require(loaded, [*shared, "month"], "loaded")
        loaded = loaded.assign(month=_month_index(pd.Index(loaded["month"])))
    for key, group in summed.groupby(list(keys), sort=True):
        s = group.set_index("month")["count"].astype(float).sort_index()
        full = pd.date_range(s.index.min(), s.index.max(), freq="MS")
        published = pd.Series(full.isin(s.index), index=full)
        s = s.reindex(full, fill_value=0.0)
        values = s.to_numpy()
        n = len(values)
        key_tuple = key if isinstance(key, tuple) else (key,)
        if loaded is None:
            is_loaded = np.ones(n, dtype=bool)
        else:
            mine = loaded
            for k in shared:
                mine = mine[mine[k] == key_tuple[list(keys).index(k)]]
            is_loaded = full.isin(mine["month"]) | published.to_numpy()
        gap = np.zeros(n, dtype=bool)
        med = np.full(n, np.nan)
        nn = np.zeros(n, dtype=int)
        for _ in range(n):
            new = np.zeros(n, dtype=bool)
            for i in range(n):
                idx = _reference_months(i, ~gap & is_loaded, window)
                nn[i] = len(idx)
                med[i] = np.median(values[idx]) if idx else np.nan
                if (
                    is_loaded[i]
                    and not gap[i]
                    and nn[i] >= min_neighbours
                    and med[i] >= min_median
                    and med[i] > 0
                    and values[i] < threshold * med[i]
                ):
                    new[i] = True
            if not new.any():
                break
            gap |= new
        judged = (nn >= min_neighbours) & (med > 0) & (med >= min_median)
        ratio = np.where(judged, values / np.where(med > 0, med, np.nan), np.nan)
        label = ", ".join(str(k) for k in key_tuple)
        reasons = []
        for i, month in enumerate(full):
            if not gap[i]:
                reasons.append("")
                continue
            what = (
                "no records were published"
                if not published.iloc[i]
                else f"{int(values[i])} records were published"
            )
            reasons.append(
                f"{label} {month:%Y-%m}: {what}, {ratio[i]:.0%} of the median ({med[i]:.0f}) of the "
                f"{nn[i]} nearby months used as reference. This looks like a gap in the data supplied "
                "to police.uk, not a fall in crime; do not report a fall that includes this month."
            )
        part = pd.DataFrame(
            {
                "month": full,
                "count": values,
                "neighbour_median": med,
                "n_neighbours": nn,
                "ratio": ratio,
                "gap": gap,
                "reason": reasons,
            }
        )
        for k, v in zip(keys, key_tuple, strict=True):
            part.insert(list(keys).index(k), k, v)
        parts.append(part[is_loaded])
    columns = [*keys, "month", "count", "neighbour_median", "n_neighbours", "ratio", "gap", "reason"]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    if not return_all:
        out = out[out["gap"]].reset_index(drop=True)
    return out[columns]


@dataclass(frozen=True)
class GapCheck:
    """Whether a period comparison touches a supply-gap month.

    Attributes
    ----------
    includes_gap : bool
    gap_months : list of Timestamp
        Gap months inside either period.
    message : str
        Plain-English sentence for the report ("" when there is no gap).
    """

    includes_gap: bool
    gap_months: list[pd.Timestamp]
    message: str


def comparison_gap_check(
    gaps: pd.DataFrame,
    current: tuple[str | pd.Timestamp, str | pd.Timestamp],
    previous: tuple[str | pd.Timestamp, str | pd.Timestamp],
    **keys: str,
) -> GapCheck:
    """Say whether a comparison of two periods includes a supply-gap month.

    Parameters
    ----------
    gaps : DataFrame
        Output of :func:`detect_supply_gaps` (flagged rows only, or ``return_all=True`` output;
        only rows with ``gap`` true count).
    current, previous : (start, end)
        Inclusive first and last months of each period.
    **keys : str
        Restrict to one series, e.g. ``force="Gwent Police"`` or ``crime_type="Burglary"``.

    Returns
    -------
    GapCheck
        ``includes_gap`` is true when any gap month lies in either period; the message tells the
        report not to describe the change as a fall (or rise) in crime.
    """
    _require(gaps, ["month", "gap", *keys], "gaps")
    g = gaps[gaps["gap"].astype(bool)]
    for col, value in keys.items():
        g = g[g[col] == value]
    months = _month_index(pd.Index(g["month"]))
    hits: set[pd.Timestamp] = set()
    for start, end in (current, previous):
        s, e = (
            pd.Timestamp(start).to_period("M").to_timestamp(),
            pd.Timestamp(end).to_period("M").to_timestamp(),
        )
        if e < s:
            raise ValueError(f"period end {e:%Y-%m} is before its start {s:%Y-%m}")
        hits.update(m for m in months if s <= m <= e)
    found = sorted(hits)
    if not found:
        return GapCheck(False, [], "")
    listed = ", ".join(f"{m:%Y-%m}" for m in found)
    scope = " (" + ", ".join(f"{v}" for v in keys.values()) + ")" if keys else ""
    message = (
        f"The comparison includes {listed}{scope}, when the data supplied to police.uk was incomplete. "
        "The change cannot be reported as a fall or rise in crime."
    )
    return GapCheck(True, found, message)
