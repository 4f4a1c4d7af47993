"""Levels and trends: rates per 1,000, period comparisons, control limits and data-supply gaps.

Every function is pure: frames or numbers in, frames or dataclasses out.

Conventions: ``month`` is a pandas Timestamp at the first of the month, ``count`` is a number of
records, ``population`` a number of residents.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "GapCheck",
    "MonthlyComparison",
    "PeriodComparison",
    "benjamini_hochberg",
    "compare_monthly",
    "compare_monthly_family",
    "compare_periods",
    "comparison_gap_check",
    "control_limits",
    "laney_multiplier",
    "laney_sigma_z",
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


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) for one family of tests.

    With the m finite p-values sorted p_(1) <= ... <= p_(m), q_(i) = min over j >= i of
    min(1, m p_(j) / j). Declaring q < alpha a finding controls the false discovery rate at
    alpha (for independent or positively dependent tests), and under the complete null the
    chance of any finding at alpha. NaN p-values stay NaN and are not counted in m.

    Parameters
    ----------
    p_values : array-like of float

    Returns
    -------
    numpy array of q-values, same shape and order as the input.
    """
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    order = np.argsort(p[ok], kind="mergesort")
    ranked = p[ok][order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    out = np.empty(m)
    out[order] = adjusted
    q[ok] = out
    return q


@dataclass(frozen=True)
class MonthlyComparison:
    """Result of :func:`compare_monthly`.

    Attributes
    ----------
    current, previous : int
        Totals of the two periods (over the months used).
    months : int
        Pairs of months used (both months present, at least one record between them).
    change, percent_change, rate_ratio : as :class:`PeriodComparison` (counts, equal exposure).
    ci_lower, ci_upper : float
        Interval for the rate ratio, exp(log RR -/+ t_{df, 1-alpha/2} se), se = sqrt(phi (1/C +
        1/P)); NaN when either total is 0.
    dispersion : float
        phi, the quasi-Poisson dispersion: Pearson X2 / df of the paired-month model (1 for
        Poisson counts; police.uk series usually far above 1).
    df : int
        Residual degrees of freedom, months - 1.
    p_value : float
        Two-sided p-value (see :func:`compare_monthly`).
    log_rate_ratio : float
    alpha : float
    significant : bool
        p_value < alpha (before any multiple-testing correction).
    method : str
    """

    current: int
    previous: int
    months: int
    change: int
    percent_change: float
    rate_ratio: float
    ci_lower: float
    ci_upper: float
    dispersion: float
    df: int
    p_value: float
    log_rate_ratio: float
    alpha: float
    significant: bool
    method: str = field(repr=False)


QUASI_POISSON_METHOD = (
    "Quasi-Poisson test on paired months: each month of this period is paired with the same "
    "month of the previous one (which removes seasonality); under no change this period's share "
    "of each pair is 1/2, with variance scaled by the dispersion phi = Pearson X2 / (months - 1). "
    "Score statistic z = (C - N/2) / sqrt(phi N / 4) against Student's t with months - 1 degrees of "
    "freedom; with a single month (no dispersion to estimate) the exact conditional binomial test."
)


def compare_monthly(
    current: Sequence[float] | np.ndarray,
    previous: Sequence[float] | np.ndarray,
    alpha: float = 0.05,
) -> MonthlyComparison:
    """Compare two periods month by month with a test that allows over-dispersion.

    Model: the count of pair m (month m of this period, c_m, and the same month of the previous
    period, p_m) has total n_m = c_m + p_m; a quasi-Poisson model with one parameter per pair (the
    season) and one for the period gives, conditional on n_m, c_m with mean n_m pi and variance
    phi n_m pi (1 - pi). Estimates: pi_hat = C / N (C, P, N the totals), RR = C / P and

        phi = X2 / (M - 1),  X2 = sum_m (c_m - n_m pi_hat)^2 / (n_m pi_hat (1 - pi_hat)),

    over the M pairs with n_m > 0 (the Pearson estimate of the quasi-Poisson scale). Test of
    RR = 1: score statistic z = (C - N / 2) / sqrt(phi N / 4), two-sided p from Student's t with
    M - 1 degrees of freedom. With M < 2 (no dispersion to estimate) or phi = 0 the exact
    conditional binomial test of :func:`compare_periods` on the totals is used instead. This is
    the quasi-Poisson GLM log mu = pair + period (statsmodels GLM with ``scale="X2"``) in closed
    form: the pair effects absorb seasonality and level. Calibrated by simulation
    (``diogel.analysis.calibration_trends``): about 5% of crime types flagged at p < 0.05 on
    police.uk-like series with no change, where the exact binomial test on the totals flags 21%.

    Parameters
    ----------
    current, previous : array-like
        Monthly counts of the two periods in matching order (month i of one pairs with month i of
        the other), the same length. A NaN in either (e.g. a gap month) drops the pair.
    alpha : float, default 0.05

    Returns
    -------
    MonthlyComparison
    """
    c = np.asarray(current, dtype=float)
    p = np.asarray(previous, dtype=float)
    if c.shape != p.shape or c.ndim != 1:
        raise ValueError(f"current and previous need the same number of months, got {c.shape} and {p.shape}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    keep = np.isfinite(c) & np.isfinite(p)
    c, p = c[keep], p[keep]
    if (c < 0).any() or (p < 0).any():
        raise ValueError("monthly counts must be non-negative")
    n = c + p
    used = n > 0
    c_tot, p_tot = float(c.sum()), float(p.sum())
    big_n = c_tot + p_tot
    m = int(used.sum())
    df = max(m - 1, 0)
    phi = 1.0
    if df >= 1 and 0 < c_tot < big_n:
        pi = c_tot / big_n
        x2 = float((((c[used] - n[used] * pi) ** 2) / (n[used] * pi * (1 - pi))).sum())
        phi = x2 / df
    if df >= 1 and phi > 0:
        z = (c_tot - big_n / 2) / math.sqrt(phi * big_n / 4)
        p_value = float(2 * stats.t.sf(abs(z), df))
        crit = float(stats.t.ppf(1 - alpha / 2, df))
    else:
        exact = compare_periods(int(round(c_tot)), int(round(p_tot)), alpha=alpha)
        p_value = exact.p_value
        crit = float(stats.norm.ppf(1 - alpha / 2))
    if c_tot > 0 and p_tot > 0:
        log_rr = math.log(c_tot / p_tot)
        se = math.sqrt(phi * (1 / c_tot + 1 / p_tot))
        lo, hi = math.exp(log_rr - crit * se), math.exp(log_rr + crit * se)
        rr = c_tot / p_tot
    else:
        log_rr = math.inf if c_tot > 0 else (-math.inf if p_tot > 0 else math.nan)
        rr = math.inf if c_tot > 0 else (0.0 if p_tot > 0 else math.nan)
        lo = hi = math.nan
    pct = math.nan if p_tot == 0 else 100.0 * (c_tot - p_tot) / p_tot
    return MonthlyComparison(
        current=int(round(c_tot)),
        previous=int(round(p_tot)),
        months=m,
        change=int(round(c_tot - p_tot)),
        percent_change=pct,
        rate_ratio=rr,
        ci_lower=lo,
        ci_upper=hi,
        dispersion=phi,
        df=df,
        p_value=p_value,
        log_rate_ratio=log_rr,
        alpha=alpha,
        significant=bool(p_value < alpha),
        method=QUASI_POISSON_METHOD,
    )


def compare_monthly_family(
    pairs: Mapping[str, tuple[Sequence[float] | np.ndarray, Sequence[float] | np.ndarray]],
    alpha: float = 0.05,
) -> pd.DataFrame:
    """:func:`compare_monthly` for every series of one report, with Benjamini-Hochberg across them.

    The one function behind the year-on-year changes of the assessment and of the portal's
    dashboard. A change is ``significant`` when its BH q-value is below ``alpha``; callers that
    know of data-supply gaps must still refuse to call a gapped comparison a rise or fall.

    Parameters
    ----------
    pairs : mapping label -> (current monthly counts, previous monthly counts)
        One family of tests, e.g. every crime type and the totals of one area.
    alpha : float, default 0.05

    Returns
    -------
    DataFrame indexed by label
        ``current``, ``previous``, ``months``, ``change``, ``percent_change``, ``rate_ratio``,
        ``ci_lower``, ``ci_upper``, ``dispersion``, ``df``, ``p_value``, ``q_value``,
        ``log_rate_ratio``, ``significant``.
    """
    rows = {}
    for label, (current, previous) in pairs.items():
        c = compare_monthly(current, previous, alpha=alpha)
        rows[label] = {
            "current": c.current, "previous": c.previous, "months": c.months, "change": c.change,
            "percent_change": c.percent_change, "rate_ratio": c.rate_ratio, "ci_lower": c.ci_lower,
            "ci_upper": c.ci_upper, "dispersion": c.dispersion, "df": c.df, "p_value": c.p_value,
            "log_rate_ratio": c.log_rate_ratio,
        }  # fmt: skip
    columns = ["current", "previous", "months", "change", "percent_change", "rate_ratio", "ci_lower",
               "ci_upper", "dispersion", "df", "p_value", "q_value", "log_rate_ratio", "significant"]  # fmt: skip
    out = pd.DataFrame.from_dict(rows, orient="index")
    if out.empty:
        return pd.DataFrame(columns=columns)
    out["q_value"] = benjamini_hochberg(out["p_value"].to_numpy(float))
    out["significant"] = out["q_value"] < alpha
    return out[columns]


# ---------------------------------------------------------------------------------------------
# Control limits
# ---------------------------------------------------------------------------------------------


def _month_index(index: pd.Index) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(index)).to_period("M").to_timestamp()


def _laney_expected(s: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Leave-one-out seasonal expected counts: same calendar month in the other years, else the
    mean of the other months. A month never sits in its own baseline, so an outlier cannot hide
    by pulling its expected value towards itself."""
    values = s.to_numpy(dtype=float)
    months = s.index.month
    expected, baseline = [], []
    for i in range(len(values)):
        others = np.ones(len(values), dtype=bool)
        others[i] = False
        others &= np.isfinite(values)
        same = others & (months == months[i])
        if same.any():
            expected.append(float(values[same].mean()))
            baseline.append(f"same month in {int(same.sum())} other year{'s' if same.sum() > 1 else ''}")
        elif others.any():
            expected.append(float(values[others].mean()))
            baseline.append("mean of the other months")
        else:
            expected.append(float("nan"))
            baseline.append("no other month")
    return np.asarray(expected), baseline


def laney_sigma_z(z: np.ndarray) -> float:
    """Laney's sigma_z: mean moving range of consecutive z-scores / 1.128 (d2 for n = 2), at least 1.

    Pairs with a missing z (e.g. a gap month) are skipped. With fewer than two pairs the result
    is 1 (plain Poisson limits).
    """
    z = np.asarray(z, dtype=float)
    mr = np.abs(np.diff(z))
    mr = mr[np.isfinite(mr)]
    if len(mr) < 2:
        return 1.0
    return max(1.0, float(mr.mean()) / 1.128)


def laney_multiplier(months: int, sigma: float = 3.0) -> float:
    """Limit multiplier for a Laney chart whose sigma_z comes from ``months`` z-scores.

    k = Student t quantile with 2 (months - 1) degrees of freedom for the one-sided tail
    P(Z > sigma) (0.135% at 3 sigma), so the limits allow for the uncertainty of sigma_z estimated
    from few moving ranges: 3.38 for 12 months, 3.11 for 36, tending to sigma. The degrees of freedom
    2 (months - 1) were set by simulation so that about 0.27% of months signal under no change on
    police.uk-like series of 12 to 36 months (see the calibration table).
    """
    tail = float(stats.norm.sf(sigma))
    return float(stats.t.isf(tail, max(2 * (months - 1), 1)))


CONTROL_METHOD = (
    "Laney u'-chart on a seasonal baseline: the expected count of a month is the mean of the same "
    "calendar month in the other years of the series (or, with one year only, of the other months); "
    "z = (count - expected) / sqrt(expected); sigma_z = mean moving range of consecutive z / 1.128, "
    "at least 1; limits expected -/+ k sigma_z sqrt(expected), where k is the Student t quantile with "
    "2 (months - 1) degrees of freedom for the 3-sigma tail (3.38 with 12 months, 3.11 with 36), which "
    "allows for the uncertainty of sigma_z. sigma_z carries the over-dispersion (and any seasonality "
    "the baseline misses) that Poisson limits ignore."
)


def control_limits(
    monthly: pd.Series,
    method: str = "laney",
    sigma: float = 3.0,
    min_years: int = 2,
) -> pd.DataFrame:
    """Control chart of a monthly count series: expected count, control limits and signals.

    * ``method="laney"`` (default): Laney u'-chart, which allows for over-dispersion. Expected
      count mu_t = mean of the same calendar month in the *other* years of the series when there
      is one (a leave-one-out seasonal baseline), else the mean of the other months. With
      z_t = (y_t - mu_t) / sqrt(mu_t) and sigma_z = max(1, mean |z_t - z_(t-1)| / 1.128), the
      limits are mu_t -/+ k * sigma_z * sqrt(mu_t) (lower floored at 0), k from
      :func:`laney_multiplier` (the t quantile for the ``sigma`` tail with 2 (m - 1) degrees of
      freedom, m the months with a z-score; k tends to ``sigma`` for long series). Police.uk series are
      far more variable than Poisson (Gwent: monthly variance about 14 times the mean), so Poisson
      limits flag ordinary months; sigma_z widens them by the observed month-to-month variation.
      Calibrated by simulation (``diogel.analysis.calibration_trends``): about 0.3% of months signal
      under no change at 3 sigma.
    * ``method="exact"``: the seasonal c-chart with exact Poisson quantiles; expected = mean of the
      same calendar month in at least ``min_years`` earlier years, else the series mean; lower =
      poisson.ppf(t, mu), upper = poisson.isf(t, mu), t = P(Z > sigma). Not calibrated for
      over-dispersed counts: kept for comparison.
    * ``method="shewhart"``: as "exact" with limits mu -/+ sigma sqrt(mu) (lower floored at 0).

    Parameters
    ----------
    monthly : Series
        Counts indexed by month (anything ``pd.to_datetime`` reads); one value per month. NaN
        months (e.g. supply gaps) are left out of every baseline and of sigma_z.
    method : {"laney", "exact", "shewhart"}, default "laney"
    sigma : float, default 3.0
    min_years : int, default 2
        For "exact" and "shewhart": earlier same-month values needed for the seasonal baseline.

    Returns
    -------
    DataFrame indexed by month
        ``count``, ``expected``, ``baseline`` (which expected value), ``lower``, ``upper``,
        ``sigma_z`` (1 for the Poisson methods), ``multiplier`` (k; ``sigma`` for the Poisson
        methods), ``signal`` ("above", "below" or "").
    """
    if method not in ("laney", "exact", "shewhart"):
        raise ValueError(f"method must be 'laney', 'exact' or 'shewhart', got {method!r}")
    s = pd.Series(np.asarray(monthly, dtype=float), index=_month_index(monthly.index)).sort_index()
    if s.index.duplicated().any():
        raise ValueError("monthly has more than one value for a month; sum them first")
    if method == "laney":
        mu, baseline = _laney_expected(s)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(mu > 0, (s.to_numpy() - mu) / np.sqrt(mu), np.nan)
        sz = laney_sigma_z(z)
        k = laney_multiplier(int(np.isfinite(z).sum()), sigma)
        lower = np.maximum(mu - k * sz * np.sqrt(mu), 0.0)
        upper = mu + k * sz * np.sqrt(mu)
    else:
        sz, k = 1.0, sigma
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
        {
            "count": s.to_numpy(),
            "expected": mu,
            "baseline": baseline,
            "lower": lower,
            "upper": upper,
            "sigma_z": sz,
            "multiplier": k,
        },
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
