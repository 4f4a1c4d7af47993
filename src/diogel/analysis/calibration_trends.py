"""Calibration by simulation of the count tests: year-on-year change, control charts, drivers.

A test is calibrated when, on data simulated with no change, it flags about as often as its nominal
level says. The null data here copy what real police.uk series do: each crime type's monthly counts
are negative binomial (NB2, variance mu + alpha mu^2) around a seasonal profile, with mu and alpha
fitted to a real series (the shared Gwent 36 months); LSOA counts for the drivers models are NB2
around a population offset with the residual alpha of a real fit. Planted effects (a 20% rise in
one crime type) give the power.

Pure functions with explicit seeds; the table shipped with the package
(``diogel/data/calibration/trends.csv``) is written by ``benchmarks/calibration_trends.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from diogel.analysis.trends import (
    benjamini_hochberg,
    compare_monthly,
    compare_periods,
    control_limits,
    detect_supply_gaps,
)

__all__ = [
    "SeasonalNB",
    "calibrate_control_chart",
    "calibrate_drivers",
    "calibrate_year_on_year",
    "fit_seasonal_nb",
    "mc_se",
    "simulate_months",
]


@dataclass(frozen=True)
class SeasonalNB:
    """Null model of monthly counts per crime type.

    Attributes
    ----------
    profile : DataFrame indexed by crime type, 12 columns (calendar months 1..12): the expected
        count of each calendar month in a typical year (the mean over years of the fitted means).
    alpha : Series indexed by crime type: NB2 over-dispersion (0 = Poisson).
    """

    profile: pd.DataFrame
    alpha: pd.Series


def fit_seasonal_nb(monthly: pd.DataFrame) -> SeasonalNB:
    """Fit a seasonal NB2 null model to each crime type's monthly series.

    For each type, gap months (:func:`diogel.analysis.trends.detect_supply_gaps` by type) are left
    out; a Poisson log-linear model with one effect per year (12-month block from the first
    month) and one per calendar month gives the fitted means mu_t (closed form by iterative
    proportional fitting of the year x month table); alpha is the moment estimator
    alpha = max(0, sum(((y - mu)^2 - mu) / mu^2) / (n - p)), p = years + 11 (Cameron and
    Trivedi). The profile is the mean over years of mu for each calendar month.

    Parameters
    ----------
    monthly : DataFrame
        ``month``, ``crime_type``, ``count``: at least two full years per type.
    """
    frame = monthly.assign(month=pd.to_datetime(monthly["month"]).dt.to_period("M").dt.to_timestamp())
    frame = frame.groupby(["crime_type", "month"], as_index=False)["count"].sum()
    gaps = detect_supply_gaps(frame.assign(force="all"), by=("crime_type",))
    gap_keys = set(zip(gaps["crime_type"], gaps["month"], strict=True))
    first = frame["month"].min()
    profiles, alphas = {}, {}
    for ct, g in frame.groupby("crime_type"):
        g = g[[(ct, m) not in gap_keys for m in g["month"]]]
        idx = (g["month"].dt.year - first.year) * 12 + g["month"].dt.month - first.month
        year = (idx // 12).to_numpy()
        cal = g["month"].dt.month.to_numpy() - 1
        y = g["count"].to_numpy(float)
        n_years = int(year.max()) + 1
        a, b = np.ones(n_years), np.ones(12)
        # Iterative proportional fitting gives the Poisson ML fit of the year + month model.
        for _ in range(200):
            a_new = np.array(
                [y[year == k].sum() / max(b[cal[year == k]].sum(), 1e-12) for k in range(n_years)]
            )
            b_new = np.array([y[cal == m].sum() / max(a_new[year[cal == m]].sum(), 1e-12) for m in range(12)])
            done = np.allclose(a_new, a, rtol=1e-10) and np.allclose(b_new, b, rtol=1e-10)
            a, b = a_new, b_new
            if done:
                break
        mu = a[year] * b[cal]
        dof = max(len(y) - (n_years + 11), 1)
        alphas[ct] = max(0.0, float((((y - mu) ** 2 - mu) / mu**2).sum()) / dof)
        present = np.array([np.any(year == k) for k in range(n_years)])
        profiles[ct] = b * a[present].mean()
    return SeasonalNB(pd.DataFrame(profiles, index=range(1, 13)).T, pd.Series(alphas))


def simulate_months(
    model: SeasonalNB,
    n_sims: int,
    n_months: int,
    rng: np.random.Generator,
    start_month: int = 7,
    rise: dict[str, float] | None = None,
    rise_from: int = 0,
) -> np.ndarray:
    """Monthly counts drawn from the null model: array (n_sims, n_types, n_months).

    Month t has calendar month ((start_month - 1 + t) mod 12) + 1. ``rise`` multiplies the means of
    the named types by a factor from month index ``rise_from`` on (a planted effect). NB2 draws use
    numpy's negative_binomial(r = 1/alpha, p = r / (r + mu)); alpha = 0 draws Poisson.
    """
    types = list(model.profile.index)
    cal = (np.arange(n_months) + start_month - 1) % 12 + 1
    mu = np.array(model.profile.loc[types, list(cal)].to_numpy(float), copy=True)
    if rise:
        for t, factor in rise.items():
            mu[types.index(t), rise_from:] *= factor
    mu = np.broadcast_to(mu, (n_sims, *mu.shape))
    out = np.empty(mu.shape)
    for i, t in enumerate(types):
        a = float(model.alpha[t])
        if a <= 0:
            out[:, i, :] = rng.poisson(mu[:, i, :])
        else:
            r = 1.0 / a
            out[:, i, :] = rng.negative_binomial(r, r / (r + mu[:, i, :]))
    return out


def mc_se(rate: float, n: int) -> float:
    """Monte Carlo standard error of a simulated proportion: sqrt(rate (1 - rate) / n)."""
    return math.sqrt(max(rate * (1 - rate), 0.0) / n) if n else float("nan")


def _row(test: str, scenario: str, statistic: str, nominal: float | None, hits: int, n: int, **extra) -> dict:
    rate = hits / n
    return {"test": test, "scenario": scenario, "statistic": statistic,
            "nominal": nominal, "rate": rate, "mc_se": mc_se(rate, n), "simulations": n, **extra}  # fmt: skip


def calibrate_year_on_year(
    model: SeasonalNB,
    n_sims: int = 400,
    seed: int = 20250601,
    alpha: float = 0.05,
    power_types: Sequence[str] = (),
    rise: float = 1.2,
) -> pd.DataFrame:
    """False-positive rates and power of the year-on-year tests on 12 + 12 simulated months.

    Rows: the quasi-Poisson test per crime type at p < alpha (pooled over types and sims), after
    Benjamini-Hochberg across the types of a report (share of reports with any q < alpha: under
    the complete null this is the family-wise rate BH controls), the previous exact binomial test
    (for comparison), and for each of ``power_types`` the power at q < alpha of a planted
    ``rise`` in that type's second year.
    """
    rng = np.random.default_rng(seed)
    types = list(model.profile.index)
    rows = []
    sims = simulate_months(model, n_sims, 24, rng)
    p_q = np.empty((n_sims, len(types)))
    p_exact = np.empty_like(p_q)
    for s in range(n_sims):
        for i in range(len(types)):
            prev, cur = sims[s, i, :12], sims[s, i, 12:]
            p_q[s, i] = compare_monthly(cur, prev, alpha=alpha).p_value
            p_exact[s, i] = compare_periods(int(cur.sum()), int(prev.sum())).p_value
    q = np.vstack([benjamini_hochberg(r) for r in p_q])
    name = "year-on-year change (quasi-Poisson on paired months)"
    rows.append(
        _row(name, "no change", f"types flagged at p < {alpha}", alpha, int((p_q < alpha).sum()), p_q.size)
    )
    rows.append(_row(name + " + Benjamini-Hochberg", "no change in any type",
                     f"reports with any type at q < {alpha}", alpha, int((q < alpha).any(axis=1).sum()), n_sims))  # fmt: skip
    rows.append(_row("year-on-year change (exact binomial, previous method)", "no change",
                     f"types flagged at p < {alpha}", alpha, int((p_exact < alpha).sum()), p_exact.size))  # fmt: skip
    for t in power_types:
        planted = simulate_months(model, n_sims, 24, rng, rise={t: rise}, rise_from=12)
        i = types.index(t)
        hits = 0
        for s in range(n_sims):
            p = np.array(
                [compare_monthly(planted[s, j, 12:], planted[s, j, :12]).p_value for j in range(len(types))]
            )
            hits += int(benjamini_hochberg(p)[i] < alpha)
        rows.append(_row(name + " + Benjamini-Hochberg", f"{round((rise - 1) * 100)}% rise in {t}",
                         f"power: {t} at q < {alpha}", None, hits, n_sims))  # fmt: skip
    return pd.DataFrame(rows)


def calibrate_control_chart(
    model: SeasonalNB,
    n_sims: int = 60,
    n_months: int = 36,
    seed: int = 20250602,
    sigma: float = 3.0,
    power_types: Sequence[str] = (),
    rise: float = 1.2,
) -> pd.DataFrame:
    """False-signal rate of the Laney chart (and of the previous exact Poisson chart) per month, and
    power to signal a planted ``rise`` over the last 12 months of one type (share of charts with a
    signal in those months, against the same share under no change)."""
    from scipy import stats

    rng = np.random.default_rng(seed)
    types = list(model.profile.index)
    index = pd.date_range("2022-07-01", periods=n_months, freq="MS")
    nominal = float(2 * stats.norm.sf(sigma))
    sims = simulate_months(model, n_sims, n_months, rng)
    laney = exact = 0
    last_year_null = {t: 0 for t in power_types}
    for s in range(n_sims):
        for i, t in enumerate(types):
            series = pd.Series(sims[s, i], index=index)
            sig = control_limits(series)["signal"].to_numpy() != ""
            laney += int(sig.sum())
            exact += int((control_limits(series, method="exact")["signal"] != "").sum())
            if t in last_year_null:
                last_year_null[t] += int(sig[-12:].any())
    cells = n_sims * len(types) * n_months
    what = f"months signalled at {sigma:g} sigma ({n_months}-month series)"
    rows = [
        _row("control chart (Laney u', seasonal baseline)", "no change", what, nominal, laney, cells),
        _row("control chart (exact Poisson, previous method)", "no change", what, nominal, exact, cells),
    ]
    for t in power_types:
        planted = simulate_months(model, n_sims, n_months, rng, rise={t: rise}, rise_from=n_months - 12)
        i = types.index(t)
        hits = sum(
            int(
                (control_limits(pd.Series(planted[s, i], index=index))["signal"].to_numpy()[-12:] != "").any()
            )
            for s in range(n_sims)
        )
        rows.append(_row("control chart (Laney u', seasonal baseline)", f"{round((rise - 1) * 100)}% rise in {t} "
                         "over the last 12 months", f"power: any of those months signalled ({t})", None, hits, n_sims,
                         notes=f"under no change {last_year_null[t] / n_sims:.3f}"))  # fmt: skip
    return pd.DataFrame(rows)


def calibrate_drivers(
    areas: pd.DataFrame,
    covariates: Sequence[str],
    alpha_nb: float,
    rate: float,
    n_sims: int = 40,
    seed: int = 20250603,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """False-positive rates of the drivers coefficients on LSOA counts with no covariate effect.

    Null: y_i ~ NB2(mu_i = population_i x rate, alpha_nb) with the real areas' populations and
    covariates. Each covariate is fitted alone (:func:`diogel.analysis.drivers.fit_single_covariates`),
    as the report does; rows: coefficients at p < alpha, and reports with any coefficient at
    q < alpha after Benjamini-Hochberg across them.
    """
    from diogel.analysis.drivers import fit_single_covariates

    rng = np.random.default_rng(seed)
    mu = areas["population"].to_numpy(float) * rate
    r = 1.0 / alpha_nb
    p_all, any_q = [], 0
    for _ in range(n_sims):
        y = rng.negative_binomial(r, r / (r + mu))
        table = fit_single_covariates(areas.assign(count=y), covariates)
        p = table["p"].to_numpy(float)
        p_all.append(p)
        any_q += int((benjamini_hochberg(p) < alpha).any())
    p_all = np.concatenate(p_all)
    name = "drivers: NB2 coefficient, each covariate alone"
    return pd.DataFrame(
        [
            _row(name, "no association", f"coefficients at p < {alpha}", alpha, int((p_all < alpha).sum()), len(p_all)),
            _row(name + " + Benjamini-Hochberg", "no association",
                 f"reports with any coefficient at q < {alpha}", alpha, any_q, n_sims),
        ]
    )  # fmt: skip
