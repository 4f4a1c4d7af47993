"""What goes with higher crime? Negative binomial (NB2) models of LSOA counts on deprivation.

For one crime type, the count y_i in LSOA i is modelled as negative binomial with mean
mu_i = population_i * exp(b0 + sum_k b_k x_ik) (log link, log(population) offset) and variance
mu_i + alpha * mu_i^2 (NB2). b and alpha are estimated together by maximum likelihood with
``statsmodels.discrete.discrete_model.NegativeBinomial``. exp(b_k) is the incidence rate ratio
(IRR) for a one-unit (by default one standard deviation) higher x_k.

These are associations across areas, not causes, and not statements about individuals
(ecological fallacy). Deprivation domains are correlated with one another; the variance
inflation factor (VIF) is reported so that unstable coefficients can be spotted.

Pure functions: frames in, dataclasses and frames out.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "WIMD_LABELS",
    "MoranResiduals",
    "NBDriversResult",
    "drivers_by_crime_type",
    "drivers_summary",
    "VIF_LIMIT",
    "fit_nb_drivers",
    "fit_single_covariates",
    "plain_english",
    "reading_goes_with",
]

#: Above this variance inflation factor a covariate's joint-model coefficient is not read on its own.
VIF_LIMIT = 5.0

#: Readable names for the WIMD 2019 score columns of the warehouse / shared data.
WIMD_LABELS: dict[str, str] = {
    "IMD_score": "overall WIMD score",
    "Income_score": "income deprivation score",
    "Employment_score": "employment deprivation score",
    "Health_score": "health deprivation score",
    "Education_score": "education deprivation score",
    "Access_score": "access to services deprivation score",
    "Housing_score": "housing deprivation score",
    "Environment_score": "physical environment deprivation score",
    "Crime_score": "crime deprivation score",
}


@dataclass(frozen=True)
class MoranResiduals:
    """Moran's I of the Pearson residuals (``esda.Moran``, row-standardised W).

    ``p_norm`` assumes normality, ``p_rand`` randomisation; ``p_sim`` is the permutation p-value
    (NaN when no permutations were run). esda treats the residuals as raw data: the small
    negative bias of I for regression residuals (Cliff & Ord) is not corrected.
    """

    I: float  # noqa: E741 - Moran's I is conventionally written I
    expected_I: float
    z_norm: float
    p_norm: float
    z_rand: float
    p_rand: float
    p_sim: float
    permutations: int
    n: int


@dataclass(frozen=True)
class NBDriversResult:
    """One fitted NB2 model.

    Attributes
    ----------
    outcome : what was counted, in words (e.g. "violence and sexual offences").
    table : one row per covariate: ``covariate``, ``label``, ``mean`` and ``sd`` (of the raw
        covariate; sd with ddof=1), ``coef``, ``se``, ``irr``, ``irr_lower``, ``irr_upper`` (Wald
        interval at ``ci``), ``p`` (Wald z test), ``vif``, ``reading`` (plain English).
    intercept_rate_per_1000 : exp(b0) * 1000, the modelled rate per 1,000 residents when every
        covariate is at its mean (standardised) or zero (raw).
    alpha, alpha_lower, alpha_upper : NB2 dispersion and its Wald interval.
    n, aic, bic, llf, llnull : observations, information criteria and log-likelihoods (null = an
        intercept-only NB2 model with the same offset).
    pseudo_r2 : McFadden's 1 - llf / llnull.
    converged : whether the optimiser reported convergence.
    fitted : modelled mean mu_i by area; pearson_residuals : (y - mu) / sqrt(mu + alpha mu^2).
    moran : Moran's I of the Pearson residuals when a W was given, else None.
    standardised, ci : the settings used.
    """

    outcome: str
    table: pd.DataFrame
    intercept_rate_per_1000: float
    alpha: float
    alpha_lower: float
    alpha_upper: float
    n: int
    aic: float
    bic: float
    llf: float
    llnull: float
    pseudo_r2: float
    converged: bool
    fitted: pd.Series
    pearson_residuals: pd.Series
    moran: MoranResiduals | None
    standardised: bool
    ci: float
    notes: list[str] = field(default_factory=list)


def _interval_text(lower: float, upper: float, ci: float) -> str:
    """The confidence interval of an IRR in words: "95% CI 25% to 44% more" (or less, or both)."""
    lo_size, lo_dir = _pct(lower)
    hi_size, hi_dir = _pct(upper)
    ci_pct = f"{ci * 100:g}%"
    if lo_dir == hi_dir == "more":
        return f"{ci_pct} CI {lo_size:.0f}% to {hi_size:.0f}% more"
    if lo_dir == hi_dir == "less":
        return f"{ci_pct} CI {hi_size:.0f}% to {lo_size:.0f}% less"
    return f"{ci_pct} CI {lo_size:.0f}% less to {hi_size:.0f}% more"


def _pct(irr: float) -> tuple[float, str]:
    change = (irr - 1.0) * 100.0
    return abs(change), ("more" if change >= 0 else "less")


def plain_english(
    label: str,
    irr: float,
    lower: float,
    upper: float,
    p: float,
    outcome: str,
    standardised: bool = True,
    sd: float | None = None,
    ci: float = 0.95,
    level: float = 0.05,
) -> str:
    """One sentence reading of an IRR.

    "Each one standard deviation (SD 8.2) higher income deprivation score is associated with 34%
    more violence and sexual offences (95% CI 25% to 44% more), other factors held constant."
    Percentages are (IRR - 1) * 100, rounded to whole numbers. When the interval includes no
    change (p >= level) the sentence says so.
    """
    if standardised:
        unit = "one standard deviation" + (f" (SD {sd:,.3g})" if sd is not None else "")
    else:
        unit = "one unit"
    size, direction = _pct(irr)
    interval = _interval_text(lower, upper, ci)
    sentence = (
        f"Each {unit} higher {label} is associated with {size:.0f}% {direction} {outcome} "
        f"({interval}), other factors held constant."
    )
    if p >= level:
        sentence += (
            f" This is not statistically significant at the {level * 100:g}% level: "
            "the data are also consistent with no association."
        )
    return sentence


def _vif(x: np.ndarray) -> np.ndarray:
    """VIF_j = 1 / (1 - R^2_j), R^2_j from regressing column j on the others with an intercept."""
    n, k = x.shape
    out = np.full(k, 1.0)
    if k < 2:
        return out
    for j in range(k):
        others = np.column_stack([np.ones(n), np.delete(x, j, axis=1)])
        coef, *_ = np.linalg.lstsq(others, x[:, j], rcond=None)
        resid = x[:, j] - others @ coef
        tss = float(((x[:, j] - x[:, j].mean()) ** 2).sum())
        r2 = 1.0 - float(resid @ resid) / tss if tss > 0 else 0.0
        out[j] = math.inf if r2 >= 1.0 else 1.0 / (1.0 - r2)
    return out


def _moran(residuals: pd.Series, w, permutations: int) -> MoranResiduals:
    import esda  # imported here: esda is heavy and only needed when a W is given

    ids = list(w.id_order)
    codes = list(residuals.index)
    if set(ids) == set(codes) and len(ids) == len(codes):
        y = residuals.reindex(ids).to_numpy()
    elif ids == list(range(len(codes))):
        # A positional W (e.g. libpysal.weights.lat2W): ids are row positions in the data order.
        y = residuals.to_numpy()
    else:
        raise ValueError(
            f"W ids do not match the areas: W has {len(ids)} ids, the model {len(codes)} areas; "
            "give a W whose ids are the area codes, or positional ids 0..n-1 in the data's row order"
        )
    with warnings.catch_warnings():
        # esda warns about islands / transformations; the caller chose W.
        warnings.simplefilter("ignore")
        mi = esda.Moran(y, w, transformation="r", permutations=permutations)
    return MoranResiduals(
        I=float(mi.I),
        expected_I=float(mi.EI),
        z_norm=float(mi.z_norm),
        p_norm=float(mi.p_norm),
        z_rand=float(mi.z_rand),
        p_rand=float(mi.p_rand),
        p_sim=float(mi.p_sim) if permutations else float("nan"),
        permutations=int(permutations),
        n=len(y),
    )


def _check_data(
    data: pd.DataFrame, covariates: list[str], count_col: str, population_col: str, area_col: str
) -> np.ndarray:
    """The counts as floats, after checking the frame can be modelled (ValueError with the reason)."""
    needed = [area_col, count_col, population_col, *covariates]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise ValueError(f"data is missing column(s) {missing}; it has {list(data.columns)}")
    if not covariates:
        raise ValueError("give at least one covariate")
    if data[needed].isna().any().any():
        bad = data[needed].columns[data[needed].isna().any()].tolist()
        raise ValueError(f"data has missing values in {bad}")
    if data[area_col].duplicated().any():
        raise ValueError(f"data has more than one row per {area_col}")
    if (data[population_col] <= 0).any():
        raise ValueError("population must be positive in every area (it is the offset log(population))")
    y = data[count_col].to_numpy(dtype=float)
    if (y < 0).any() or not np.array_equal(y, np.round(y)):
        raise ValueError("counts must be non-negative whole numbers")
    if len(data) <= len(covariates) + 2:
        raise ValueError(f"{len(data)} areas are too few for {len(covariates)} covariates")
    return y


def _design(
    data: pd.DataFrame, covariates: list[str], standardise: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The covariates as modelled (standardised with ddof=1 sd, or raw), their means and sds."""
    raw = data[covariates].to_numpy(dtype=float)
    means = raw.mean(axis=0)
    sds = raw.std(axis=0, ddof=1)
    if not standardise:
        return raw, means, sds
    if (sds == 0).any():
        const = [c for c, s in zip(covariates, sds, strict=True) if s == 0]
        raise ValueError(f"covariate(s) {const} do not vary, so cannot be standardised")
    return (raw - means) / sds, means, sds


def _fit_nb2(y: np.ndarray, exog: np.ndarray, offset: np.ndarray, llnull: float | None = None):  # noqa: ANN202
    """Maximum-likelihood NB2 fit: Newton-Raphson, or BFGS from the Poisson estimates when Newton
    does not converge. Returns the statsmodels result, whether it converged, llnull and the notes.

    ``llnull``, when given, is the constant-only model's log-likelihood for these ``y`` and
    ``offset`` (statsmodels fits that model again for every result that asks for it)."""
    from statsmodels.discrete.discrete_model import NegativeBinomial
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    notes: list[str] = []
    model = NegativeBinomial(y, exog, loglike_method="nb2", offset=offset)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # statsmodels warns on every step that probes alpha <= 0; failures are checked below.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        res = model.fit(method="newton", maxiter=200, disp=0)
        converged = bool(res.mle_retvals.get("converged", False)) and bool(np.isfinite(res.params).all())
        if not converged:
            # Newton fails when the data are not overdispersed (the moment start for alpha is <= 0
            # and alpha's ML estimate is on the boundary 0): restart BFGS from the Poisson fit.
            from statsmodels.discrete.discrete_model import Poisson

            pois = Poisson(y, exog, offset=offset).fit(method="newton", maxiter=200, disp=0)
            start = np.append(np.asarray(pois.params), 0.05)
            res = model.fit(start_params=start, method="bfgs", maxiter=5000, disp=0)
            converged = bool(res.mle_retvals.get("converged", False)) and bool(np.isfinite(res.params).all())
            notes.append("Newton-Raphson did not converge; refitted with BFGS from the Poisson estimates")
        if llnull is not None:
            res.set_null_options(llnull=llnull)
        llnull = float(res.llnull)
    if not np.isfinite(res.params).all():
        raise ValueError(
            "the NB2 model could not be fitted (non-finite estimates); check the counts and covariates"
        )
    if not converged:
        notes.append("the optimiser did not report convergence: treat the estimates with caution")
    if res.params[-1] < 1e-4:
        notes.append(
            f"alpha = {res.params[-1]:.2g} is at its lower bound: the counts are not overdispersed, NB2 "
            "reduces to a Poisson model and the interval for alpha is not reliable"
        )
    return res, converged, llnull, notes


def _coefficient_table(
    res, covariates: list[str], names: list[str], x: np.ndarray, means: np.ndarray, sds: np.ndarray,
    outcome: str, standardise: bool, ci: float,
) -> pd.DataFrame:  # fmt: skip
    """One row per covariate of a fitted NB2 model: IRR with its Wald interval, p, VIF and the reading."""
    zcrit = stats.norm.ppf(0.5 + ci / 2)
    beta, se, pv = np.asarray(res.params)[1:-1], np.asarray(res.bse)[1:-1], np.asarray(res.pvalues)[1:-1]
    irr = np.exp(beta)
    lower = np.exp(beta - zcrit * se)
    upper = np.exp(beta + zcrit * se)
    readings = [
        plain_english(names[k], irr[k], lower[k], upper[k], pv[k], outcome, standardised=standardise,
                      sd=sds[k] if standardise else None, ci=ci)
        for k in range(len(covariates))
    ]  # fmt: skip
    return pd.DataFrame(
        {"covariate": covariates, "label": names, "mean": means, "sd": sds, "coef": beta, "se": se, "irr": irr,
         "irr_lower": lower, "irr_upper": upper, "p": pv, "vif": _vif(x), "reading": readings}
    )  # fmt: skip


def fit_nb_drivers(
    data: pd.DataFrame,
    covariates: Sequence[str],
    count_col: str = "count",
    population_col: str = "population",
    area_col: str = "lsoa_code",
    standardise: bool = True,
    labels: Mapping[str, str] | None = None,
    outcome: str = "crimes",
    w=None,
    permutations: int = 0,
    ci: float = 0.95,
    llnull: float | None = None,
) -> NBDriversResult:
    """Fit an NB2 model of counts on covariates with a log(population) offset.

    Model: y_i ~ NB2(mu_i, alpha), log mu_i = log(population_i) + b0 + sum_k b_k z_ik, where
    z_ik = (x_ik - mean_k) / sd_k (sd with ddof=1) when ``standardise`` (default) or x_ik raw.
    Estimation: ``NegativeBinomial(y, X, loglike_method="nb2", offset=log(population))`` by
    Newton-Raphson (falls back to BFGS if Newton does not converge); alpha by ML with b.
    IRR_k = exp(b_k), interval exp(b_k -/+ z_{(1+ci)/2} se_k) (Wald), p from the Wald z test.

    Parameters
    ----------
    data : one row per area with ``area_col``, ``count_col``, ``population_col`` and covariates.
        Areas with no crimes must be present with count 0.
    covariates : covariate columns, e.g. WIMD domain scores.
    labels : readable names for covariates (default :data:`WIMD_LABELS`, else the column name).
    outcome : what is counted, for the plain-English readings.
    w : optional ``libpysal.weights.W``; if given, Moran's I of the Pearson residuals is reported.
        Its ids must be the area codes, or positional 0..n-1 in ``data``'s row order.
    permutations : permutations for Moran's p_sim (default 0: analytical p-values only, which
        keeps the function free of random state).
    ci : interval level (default 0.95).
    llnull : the log-likelihood of the constant-only NB2 model of the same counts and populations,
        when the caller has it from another model of them (``result.llnull``); by default it is
        fitted here. It gives ``llnull`` and ``pseudo_r2`` and nothing else.
    """
    covariates = list(covariates)
    y = _check_data(data, covariates, count_col, population_col, area_col)
    x, means, sds = _design(data, covariates, standardise)
    exog = np.column_stack([np.ones(len(data)), x])
    offset = np.log(data[population_col].to_numpy(dtype=float))
    res, converged, llnull, notes = _fit_nb2(y, exog, offset, llnull)

    params = np.asarray(res.params)
    zcrit = stats.norm.ppf(0.5 + ci / 2)
    alpha, alpha_se = float(params[-1]), float(np.asarray(res.bse)[-1])
    label_map = {**WIMD_LABELS, **(labels or {})}
    names = [label_map.get(c, c.replace("_", " ")) for c in covariates]
    table = _coefficient_table(res, covariates, names, x, means, sds, outcome, standardise, ci)

    mu = np.exp(exog @ params[:-1] + offset)
    index = pd.Index(data[area_col].to_numpy(), name=area_col)
    pearson = pd.Series((y - mu) / np.sqrt(mu + alpha * mu**2), index=index, name="pearson_residual")
    return NBDriversResult(
        outcome=outcome,
        table=table,
        intercept_rate_per_1000=float(math.exp(params[0]) * 1000.0),
        alpha=alpha,
        alpha_lower=alpha - zcrit * alpha_se,
        alpha_upper=alpha + zcrit * alpha_se,
        n=len(data),
        aic=float(res.aic),
        bic=float(res.bic),
        llf=float(res.llf),
        llnull=llnull,
        pseudo_r2=1.0 - float(res.llf) / llnull,
        converged=converged,
        fitted=pd.Series(mu, index=index, name="fitted"),
        pearson_residuals=pearson,
        moran=_moran(pearson, w, permutations) if w is not None else None,
        standardised=standardise,
        ci=ci,
        notes=notes,
    )


def drivers_by_crime_type(
    counts: pd.DataFrame,
    areas: pd.DataFrame,
    covariates: Sequence[str],
    crime_types: Sequence[str] | None = None,
    area_col: str = "lsoa_code",
    population_col: str = "population",
    **kwargs,
) -> dict[str, NBDriversResult]:
    """Fit :func:`fit_nb_drivers` once per crime type.

    ``counts`` has ``area_col``, ``crime_type`` and ``count`` (rows for the same area and type are
    summed); ``areas`` has one row per area with ``population_col`` and the covariates. Every area
    in ``areas`` is modelled: an area with no row for a crime type has count 0 for it. Counts for
    areas not in ``areas`` are an error (they would be silently dropped otherwise). Other keyword
    arguments go to :func:`fit_nb_drivers` (``outcome`` is set to the lower-cased crime type).
    """
    for col in (area_col, "crime_type", "count"):
        if col not in counts.columns:
            raise ValueError(f"counts is missing column {col!r}; it has {list(counts.columns)}")
    unknown = set(counts[area_col]) - set(areas[area_col])
    if unknown:
        raise ValueError(f"{len(unknown)} area(s) in counts are not in areas, e.g. {sorted(unknown)[0]}")
    types = list(crime_types) if crime_types is not None else sorted(counts["crime_type"].unique())
    summed = counts.groupby(["crime_type", area_col])["count"].sum()
    results: dict[str, NBDriversResult] = {}
    for ct in types:
        per_area = summed.xs(ct, level="crime_type") if ct in summed.index.get_level_values(0) else None
        frame = areas.copy()
        frame["count"] = (
            frame[area_col].map(per_area).fillna(0).astype(int).to_numpy() if per_area is not None else 0
        )
        results[ct] = fit_nb_drivers(
            frame,
            covariates,
            count_col="count",
            population_col=population_col,
            area_col=area_col,
            outcome=ct.lower(),
            **kwargs,
        )
    return results


def drivers_summary(results: Mapping[str, NBDriversResult]) -> pd.DataFrame:
    """Long table of every model's covariate rows with the model statistics alongside."""
    frames = []
    for ct, r in results.items():
        t = r.table.copy()
        t.insert(0, "crime_type", ct)
        t["alpha"] = r.alpha
        t["n"] = r.n
        t["aic"] = r.aic
        t["pseudo_r2"] = r.pseudo_r2
        t["moran_I"] = r.moran.I if r.moran else np.nan
        t["moran_p"] = r.moran.p_rand if r.moran else np.nan
        frames.append(t)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def reading_goes_with(
    label: str, irr: float, lower: float, upper: float, outcome: str, ci: float = 0.95
) -> str:
    """Plain-English reading of a single-covariate IRR, in words of association only.

    "LSOAs with a one standard deviation higher income deprivation score have 41% more violence and
    sexual offences per resident (95% CI 30% to 53% more): higher income deprivation goes with more
    violence and sexual offences." No causal words: the model compares places, not causes.
    """
    size, direction = _pct(irr)
    interval = _interval_text(lower, upper, ci)
    return (
        f"LSOAs with a one standard deviation higher {label} have {size:.0f}% {direction} {outcome} per resident "
        f"({interval}): higher {label} goes with {direction} {outcome}."
    )


def fit_single_covariates(
    data: pd.DataFrame,
    covariates: Sequence[str],
    count_col: str = "count",
    population_col: str = "population",
    area_col: str = "lsoa_code",
    labels: Mapping[str, str] | None = None,
    outcome: str = "crimes",
    ci: float = 0.95,
    llnull: float | None = None,
) -> pd.DataFrame:
    """One NB2 model per covariate, each fitted alone (standardised, log(population) offset).

    Correlated deprivation domains (income and health: r about 0.9 across Welsh LSOAs) make the
    coefficients of a joint model unstable and can flip their signs; a covariate fitted alone
    answers the question a reader asks ("do places with more X have more crime?") without that
    artefact. Every row carries its model's McFadden pseudo-R2 and NB2 dispersion alpha, to be
    shown beside any reading. Multiple testing is the caller's: adjust ``p`` across every
    coefficient of a report (Benjamini-Hochberg) before reading any. The models share one
    constant-only model (the same counts and offset), fitted once, or ``llnull`` when the caller
    has it from another model of the same data (see :func:`fit_nb_drivers`).

    Returns
    -------
    DataFrame
        One row per covariate: ``covariate``, ``label``, ``mean``, ``sd``, ``coef``, ``se``,
        ``irr``, ``irr_lower``, ``irr_upper``, ``p`` (Wald), ``pseudo_r2``, ``alpha``, ``n``,
        ``converged``, ``reading`` (see :func:`reading_goes_with`).
    """
    label_map = {**WIMD_LABELS, **(labels or {})}
    rows = []
    for c in covariates:
        r = fit_nb_drivers(
            data[[area_col, count_col, population_col, c]], [c], count_col=count_col,
            population_col=population_col, area_col=area_col, labels=labels, outcome=outcome, ci=ci,
            llnull=llnull,
        )  # fmt: skip
        llnull = r.llnull  # (the next model has the same counts and offset)
        t = r.table.iloc[0]
        label = label_map.get(c, c.replace("_", " "))
        rows.append(
            {
                "covariate": c, "label": label, "mean": t["mean"], "sd": t["sd"], "coef": t["coef"],
                "se": t["se"], "irr": t["irr"], "irr_lower": t["irr_lower"], "irr_upper": t["irr_upper"],
                "p": t["p"], "pseudo_r2": r.pseudo_r2, "alpha": r.alpha, "n": r.n, "converged": r.converged,
                "reading": reading_goes_with(label, t["irr"], t["irr_lower"], t["irr_upper"], outcome, ci),
            }
        )  # fmt: skip
    return pd.DataFrame(rows)
