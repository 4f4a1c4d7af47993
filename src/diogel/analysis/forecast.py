"""Hot-spot forecasts: where crime is likely next month or quarter, one pure function per method.

Every method is given a :class:`ForecastData` already cut at the forecast origin (the last month
it may use) and returns one score per unit for the ``horizon`` months after the origin; only the
order of the scores is evaluated (:mod:`diogel.analysis.forecast_eval`). The methods:

* :func:`naive_last_12` - records of the last 12 months ("last year's hot spots");
* :func:`naive_same_months` - records of the same calendar months a year before the horizon;
* :func:`prospective_hotspot` - the near-repeat weighted kernel of prospective hot-spotting
  (Bowers, Johnson and Pease 2004; open_cp's ``ProspectiveHotSpot``), on police.uk map points;
* :func:`count_model` - a count regression of the horizon's records on lagged counts, seasonality,
  the neighbours' lagged counts and deprivation (negative binomial, statsmodels; or gradient
  boosting with a Poisson loss, scikit-learn).

Months are month-start Timestamps; counts may be fractional where a 2011 LSOA's records are shared
equally between the 2021 LSOAs it split into.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree

__all__ = [
    "ForecastData",
    "Method",
    "count_model",
    "count_model_features",
    "naive_last_12",
    "naive_same_months",
    "prospective_hotspot",
]


@dataclass(frozen=True)
class ForecastData:
    """What the forecast methods know about an area's units, up to some month.

    Attributes
    ----------
    units : one row per unit, in the order every array follows: ``unit`` (code), ``area_km2``,
        and optionally ``deprivation`` (a score, higher = more deprived).
    counts : units x months (month-start Timestamps, every month in the data, ascending), records.
    neighbours : row-standardised spatial weights between units (units x units, sparse).
    events : police.uk map points with records, for the kernel: ``x``, ``y`` (British National
        Grid metres), ``month``, ``count``; None when not read.
    lattice : points at which the kernel is evaluated: ``x``, ``y``, ``unit``, ``weight_km2`` (the
        area each point stands for); None when not built.
    """

    units: pd.DataFrame
    counts: pd.DataFrame
    neighbours: sp.csr_matrix
    events: pd.DataFrame | None = None
    lattice: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if list(self.counts.index) != list(self.units["unit"]):
            raise ValueError("counts must have one row per unit, in the order of units")
        if not self.counts.columns.is_monotonic_increasing:
            raise ValueError("counts' months must be ascending")

    @property
    def months(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.counts.columns)

    def until(self, origin: pd.Timestamp) -> ForecastData:
        """The data a forecast made at ``origin`` may use: months up to and including it."""
        origin = pd.Timestamp(origin)
        counts = self.counts.loc[:, self.months <= origin]
        events = None if self.events is None else self.events[self.events["month"] <= origin]
        return replace(self, counts=counts, events=events)

    def window(self, first: pd.Timestamp, months: int) -> pd.Series:
        """Records per unit over ``months`` months from ``first`` (months not in the data count 0)."""
        wanted = pd.date_range(pd.Timestamp(first), periods=months, freq="MS")
        return self.counts.reindex(columns=wanted, fill_value=0.0).sum(axis=1).astype(float)


Method = Callable[[ForecastData, pd.Timestamp, int], pd.Series]


def _check(data: ForecastData, origin: pd.Timestamp) -> pd.Timestamp:
    origin = pd.Timestamp(origin)
    if len(data.months) and data.months.max() > origin:
        raise ValueError(f"data run past the origin {origin:%Y-%m}: cut them with data.until(origin)")
    return origin


def naive_last_12(data: ForecastData, origin: pd.Timestamp, horizon: int) -> pd.Series:
    """The naive map: records per unit in the 12 months to the origin, scaled to the horizon.

    score_i = (horizon / 12) x sum_{m = origin - 11}^{origin} c_{i,m}; the scaling makes it the
    expected records over the horizon at last year's average rate and leaves the order unchanged.
    """
    origin = _check(data, origin)
    return data.window(origin - pd.DateOffset(months=11), 12) * (horizon / 12)


def naive_same_months(data: ForecastData, origin: pd.Timestamp, horizon: int) -> pd.Series:
    """The seasonal naive map: records per unit in the same calendar months one year earlier.

    score_i = sum_{k=1}^{horizon} c_{i, origin + k - 12}; months more than 12 ahead (horizon > 12)
    are capped at the origin.
    """
    origin = _check(data, origin)
    first = origin + pd.DateOffset(months=1) - pd.DateOffset(months=12)
    return data.window(first, min(horizon, 12)) * (horizon / min(horizon, 12))


def prospective_hotspot(
    data: ForecastData,
    origin: pd.Timestamp,
    horizon: int,
    bandwidth_m: float = 400.0,
    band_m: float = 100.0,
    months: int = 2,
) -> pd.Series:
    """Prospective hot-spotting: a near-repeat weighted kernel over recent records.

    Each record at map point e, t whole months before the origin (t = 0 in the origin month),
    adds to the risk at a point p at distance d

        w(d, t) = 1 / (1 + floor(d / band_m)) x 1 / (1 + t)   if d <= bandwidth_m and t < months,

    else 0 (Bowers, Johnson and Pease 2004; open_cp's ``ClassicWeight`` with distance in bands and
    time in months, the finest time police.uk publishes). A unit's score is the risk integrated
    over it: the sum over its lattice points of risk x the area each stands for. Defaults: 400 m in
    100 m bands and 2 months, open_cp's 8 cells and 8 weeks. The score is a relative risk, not a
    count; the horizon does not change it.
    """
    origin = _check(data, origin)
    if data.events is None or data.lattice is None:
        raise ValueError("prospective_hotspot needs the events' map points and a lattice")
    ev = data.events
    age = (origin.year - ev["month"].dt.year) * 12 + (origin.month - ev["month"].dt.month)
    ev = ev[(age >= 0) & (age < months)].assign(age=age)
    risk = np.zeros(len(data.lattice))
    if len(ev):
        pts = data.lattice[["x", "y"]].to_numpy(float)
        ev_xy = ev[["x", "y"]].to_numpy(float)
        pairs = cKDTree(ev_xy).sparse_distance_matrix(cKDTree(pts), bandwidth_m, output_type="ndarray")
        r, c, d = pairs["i"].astype(int), pairs["j"].astype(int), pairs["v"]
        w = (ev["count"].to_numpy(float) / (1.0 + ev["age"].to_numpy(float)))[r] / (
            1.0 + np.floor(d / band_m)
        )
        risk = np.bincount(c, weights=w, minlength=len(pts))
    mass = (
        pd.Series(risk * data.lattice["weight_km2"].to_numpy(float))
        .groupby(data.lattice["unit"].to_numpy())
        .sum()
    )
    return mass.reindex(data.units["unit"], fill_value=0.0).set_axis(data.counts.index).astype(float)


FEATURES = ("log_last_1", "log_last_3", "log_last_12", "log_same_months", "log_neighbours_12",
            "season_sin", "season_cos", "deprivation", "log_area")  # fmt: skip
#: The extended set adds longer memory and the neighbours' recent records.
FEATURES_EXTENDED = (*FEATURES, "log_ewma_6", "log_neighbours_3", "log_neighbours_ewma_6")


def _ewma_rate(data: ForecastData, origin: pd.Timestamp, half_life: float) -> np.ndarray:
    """Mean monthly records up to ``origin``, month k before it weighted 2^(-k / half_life)."""
    months = data.months[data.months <= origin]
    if len(months) == 0:
        return np.zeros(len(data.counts))
    age = np.array([(origin.year - m.year) * 12 + origin.month - m.month for m in months], float)
    weight = 0.5 ** (age / half_life)
    return data.counts[months].to_numpy(float) @ weight / weight.sum()


def count_model_features(
    data: ForecastData, origin: pd.Timestamp, horizon: int, extended: bool = False
) -> pd.DataFrame:
    """The count model's features per unit at ``origin`` (what is known at the end of that month).

    log(1 + x) of: records in the origin month, the last 3 and last 12 months, the same months a
    year before the horizon, and the neighbours' mean of their last 12 months (row-standardised
    weights); sin and cos of the calendar month the horizon starts in; the deprivation score (0
    when not known); log area in km2. ``extended`` adds log(1 + x) of the exponentially weighted
    mean monthly records (half-life 6 months, every month loaded up to the origin), of the
    neighbours' mean of their last 3 months, and of the neighbours' mean of that weighted rate.
    """
    origin = pd.Timestamp(origin)
    last12 = data.window(origin - pd.DateOffset(months=11), 12)
    start = origin + pd.DateOffset(months=1)
    angle = 2 * np.pi * (start.month - 1) / 12
    dep = data.units["deprivation"] if "deprivation" in data.units else pd.Series(0.0, index=data.units.index)
    out = pd.DataFrame(
        {
            "log_last_1": np.log1p(data.window(origin, 1)),
            "log_last_3": np.log1p(data.window(origin - pd.DateOffset(months=2), 3)),
            "log_last_12": np.log1p(last12),
            "log_same_months": np.log1p(data.window(start - pd.DateOffset(months=12), min(horizon, 12))),
            "log_neighbours_12": np.log1p(data.neighbours @ last12.to_numpy()),
            "season_sin": np.sin(angle),
            "season_cos": np.cos(angle),
            "deprivation": dep.fillna(0.0).to_numpy(float),
            "log_area": np.log(data.units["area_km2"].clip(lower=1e-6).to_numpy(float)),
        },
        index=data.counts.index,
    )
    if extended:
        ewma = _ewma_rate(data, origin, 6.0)
        last3 = data.window(origin - pd.DateOffset(months=2), 3).to_numpy()
        out["log_ewma_6"] = np.log1p(ewma)
        out["log_neighbours_3"] = np.log1p(data.neighbours @ last3)
        out["log_neighbours_ewma_6"] = np.log1p(data.neighbours @ ewma)
    return out


def _training_set(
    data: ForecastData, origin: pd.Timestamp, horizon: int, extended: bool = False
) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows (unit, past origin s) with every target month s+1..s+h at or before ``origin``.

    Only origins with all 12 months behind them and all h after them loaded are used.
    """
    months = data.months
    first_ok = months.min() + pd.DateOffset(months=11)  # 12 months of history behind s
    last_ok = origin - pd.DateOffset(months=horizon)
    xs, ys = [], []
    have = set(months)
    for s in pd.date_range(first_ok, last_ok, freq="MS"):
        needed = pd.date_range(s - pd.DateOffset(months=11), s + pd.DateOffset(months=horizon), freq="MS")
        if not set(needed) <= have:  # a gap in the months loaded: no honest row here
            continue
        xs.append(count_model_features(data, s, horizon, extended))
        ys.append(data.window(s + pd.DateOffset(months=1), horizon).to_numpy())
    if not xs:
        return pd.DataFrame(columns=list(FEATURES_EXTENDED if extended else FEATURES)), np.array([])
    return pd.concat(xs, ignore_index=True), np.concatenate(ys)


def count_model(
    data: ForecastData,
    origin: pd.Timestamp,
    horizon: int,
    engine: str = "negbin",
    seed: int = 12345,
    extended: bool = False,
) -> pd.Series:
    """Expected records per unit over the horizon from a count regression (direct, not iterated).

    Trained on every past origin s whose horizon s+1..s+h ends by ``origin`` and that has 12 months
    behind it, with the features of :func:`count_model_features` and target the records of
    s+1..s+h. ``engine="negbin"``: negative binomial (NB2) regression with a log link, alpha by
    maximum likelihood (statsmodels ``NegativeBinomial``), falling back to a Poisson GLM when it
    does not converge; ``engine="gbm"``: scikit-learn ``HistGradientBoostingRegressor`` with a
    Poisson loss (200 trees, learning rate 0.05, at most 15 leaves, no early stopping). Without a
    single complete training row it returns the naive map. ``extended``: the features of
    ``count_model_features(..., extended=True)``.
    """
    origin = _check(data, origin)
    X, y = _training_set(data, origin, horizon, extended)
    now = count_model_features(data, origin, horizon, extended)
    if len(y) == 0 or y.sum() <= 0:
        return naive_last_12(data, origin, horizon)
    varying = [c for c in (FEATURES_EXTENDED if extended else FEATURES) if X[c].std() > 1e-12]
    if engine == "gbm":
        from sklearn.ensemble import HistGradientBoostingRegressor

        model = HistGradientBoostingRegressor(
            loss="poisson", max_iter=200, learning_rate=0.05, max_leaf_nodes=15, early_stopping=False,
            random_state=seed,
        )  # fmt: skip
        from threadpoolctl import threadpool_limits

        # A few thousand rows: OpenMP threads cost more than they save, and on a busy machine far more.
        with threadpool_limits(limits=1, user_api="openmp"):
            model.fit(X[varying].to_numpy(), y)
            pred = model.predict(now[varying].to_numpy())
    elif engine == "negbin":
        import statsmodels.api as sm
        from statsmodels.discrete.discrete_model import NegativeBinomial

        mu, sd = X[varying].mean(), X[varying].std()
        design = sm.add_constant(((X[varying] - mu) / sd).to_numpy(), has_constant="add")
        new = sm.add_constant(((now[varying] - mu) / sd).to_numpy(), has_constant="add")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = NegativeBinomial(y, design).fit(disp=0, maxiter=200)
                if not fit.mle_retvals.get("converged", False) or not np.all(np.isfinite(fit.params)):
                    raise RuntimeError("not converged")
                beta = fit.params[:-1]  # the last parameter is alpha
            except Exception:  # noqa: BLE001  (fall back to the Poisson mean model, same linear predictor)
                beta = sm.GLM(y, design, family=sm.families.Poisson()).fit().params
        pred = np.exp(np.clip(new @ beta, -50, 50))
    else:
        raise ValueError(f"engine must be 'negbin' or 'gbm', not {engine!r}")
    return pd.Series(pred, index=data.counts.index, dtype=float)
