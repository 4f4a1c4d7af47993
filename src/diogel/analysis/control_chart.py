"""Control charts of monthly counts: a Laney u'-chart on a seasonal baseline, and Poisson c-charts.

Pure: a monthly series in, a frame of expected counts, limits and signals out. Re-exported by
:mod:`diogel.analysis.trends`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from diogel.analysis._frames import month_start

__all__ = ["CONTROL_METHOD", "control_limits", "laney_multiplier", "laney_sigma_z"]


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


def _laney_limits(
    s: pd.Series, sigma: float
) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray, float, float]:
    """Laney u'-chart: leave-one-out seasonal mu, limits mu -/+ k sigma_z sqrt(mu) (lower floored at 0).

    Returns expected, baseline, lower, upper, sigma_z and k.
    """
    mu, baseline = _laney_expected(s)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(mu > 0, (s.to_numpy() - mu) / np.sqrt(mu), np.nan)
    sz = laney_sigma_z(z)
    k = laney_multiplier(int(np.isfinite(z).sum()), sigma)
    lower = np.maximum(mu - k * sz * np.sqrt(mu), 0.0)
    upper = mu + k * sz * np.sqrt(mu)
    return mu, baseline, lower, upper, sz, k


def _poisson_limits(
    s: pd.Series, method: str, sigma: float, min_years: int
) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray, float, float]:
    """Seasonal c-chart ("exact" Poisson quantiles or "shewhart" mu -/+ sigma sqrt(mu)): mu = mean of
    the same month in at least ``min_years`` earlier years, else the series mean; sigma_z 1, k sigma.
    """
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
    return mu, baseline, lower, upper, sz, k


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
    s = pd.Series(np.asarray(monthly, dtype=float), index=month_start(monthly.index)).sort_index()
    if s.index.duplicated().any():
        raise ValueError("monthly has more than one value for a month; sum them first")
    if method == "laney":
        mu, baseline, lower, upper, sz, k = _laney_limits(s, sigma)
    else:
        mu, baseline, lower, upper, sz, k = _poisson_limits(s, method, sigma, min_years)
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
