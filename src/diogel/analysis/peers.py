"""Most similar areas ("peer groups") and how an area's rate compares with its peers.

The method follows the Home Office most similar groups in outline: each descriptive variable is
transformed towards a normal distribution, standardised to z-scores, weighted, and areas are
compared by Euclidean distance in that space. The variables and weights are the caller's choice;
there is no fixed list.

Pure functions: frames in, frames and dataclasses out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "TRANSFORMS",
    "PeerComparison",
    "compare_with_peers",
    "most_similar",
    "peer_distances",
    "prepare_variables",
]

TRANSFORMS = ("yeojohnson", "log", "none")


def prepare_variables(
    frame: pd.DataFrame,
    variables: Sequence[str],
    transforms: Mapping[str, str] | str = "yeojohnson",
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Transform, standardise and weight the variables; one row per input row.

    For each variable v:

    1. transform (per variable, default "yeojohnson" for every variable):
       - "yeojohnson": Yeo-Johnson power transform with lambda chosen by maximum likelihood
         (``scipy.stats.yeojohnson``); it works for zero and negative values too.
       - "log": natural log; every value must be positive.
       - "none": unchanged.
    2. standardise: z = (t - mean(t)) / sd(t), sd with ddof = 1.
    3. weight: w_v * z (default w_v = 1; weight 0 drops the variable's influence).

    Raises ValueError for missing values, a variable that does not vary, or log of a value <= 0.
    """
    variables = list(variables)
    missing = [v for v in variables if v not in frame.columns]
    if missing:
        raise ValueError(f"frame is missing variable(s) {missing}; it has {list(frame.columns)}")
    if isinstance(transforms, str):
        transforms = dict.fromkeys(variables, transforms)
    weights = dict(weights or {})
    unknown = set(weights) - set(variables)
    if unknown:
        raise ValueError(f"weights given for variable(s) not used: {sorted(unknown)}")

    out = {}
    for v in variables:
        x = frame[v].to_numpy(dtype=float)
        if np.isnan(x).any():
            raise ValueError(f"variable {v!r} has missing values")
        how = transforms.get(v, "yeojohnson")
        if how == "yeojohnson":
            t, _ = stats.yeojohnson(x)
        elif how == "log":
            if (x <= 0).any():
                raise ValueError(f"variable {v!r} has values <= 0, so cannot be logged; use 'yeojohnson'")
            t = np.log(x)
        elif how == "none":
            t = x
        else:
            raise ValueError(f"unknown transform {how!r} for {v!r}; use one of {TRANSFORMS}")
        sd = t.std(ddof=1)
        if not np.isfinite(sd) or sd == 0:
            raise ValueError(f"variable {v!r} does not vary across areas, so cannot be standardised")
        out[v] = weights.get(v, 1.0) * (t - t.mean()) / sd
    return pd.DataFrame(out, index=frame.index)


def peer_distances(
    frame: pd.DataFrame,
    area: str,
    variables: Sequence[str] | None = None,
    transforms: Mapping[str, str] | str = "yeojohnson",
    weights: Mapping[str, float] | None = None,
    code_col: str = "code",
    name_col: str = "name",
) -> pd.DataFrame:
    """Euclidean distance from ``area`` to every other area, nearest first.

    d(a, b) = sqrt(sum_v (w_v z_av - w_v z_bv)^2) on the output of :func:`prepare_variables`.
    ``variables`` defaults to every numeric column except ``code_col`` and ``name_col``. The
    transformation and standardisation use every row of ``frame``, so the choice of comparison
    set (e.g. all Welsh CSPs) changes the distances. Ties are broken by code.

    Returns ``code_col``, ``name_col`` (if present), ``distance``, ``rank`` (1 = most similar).
    """
    if code_col not in frame.columns:
        raise ValueError(f"frame has no {code_col!r} column")
    if frame[code_col].duplicated().any():
        raise ValueError(f"frame has more than one row per {code_col}")
    if area not in set(frame[code_col]):
        raise ValueError(f"area {area!r} is not in the frame")
    if variables is None:
        variables = [
            c
            for c in frame.columns
            if c not in (code_col, name_col) and pd.api.types.is_numeric_dtype(frame[c])
        ]
    z = prepare_variables(frame, variables, transforms, weights).to_numpy()
    codes = frame[code_col].to_numpy()
    i = int(np.flatnonzero(codes == area)[0])
    dist = np.sqrt(((z - z[i]) ** 2).sum(axis=1))
    cols = [code_col] + ([name_col] if name_col in frame.columns else [])
    out = frame[cols].copy()
    out["distance"] = dist
    out = out[codes != area].sort_values(["distance", code_col], kind="mergesort").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out


def most_similar(
    frame: pd.DataFrame,
    area: str,
    k: int = 7,
    variables: Sequence[str] | None = None,
    transforms: Mapping[str, str] | str = "yeojohnson",
    weights: Mapping[str, float] | None = None,
    code_col: str = "code",
    name_col: str = "name",
) -> pd.DataFrame:
    """The ``k`` areas nearest to ``area`` (default 7), with distances; see :func:`peer_distances`."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    out = peer_distances(frame, area, variables, transforms, weights, code_col, name_col)
    if k > len(out):
        raise ValueError(f"k = {k} but only {len(out)} other areas are available")
    return out.head(k).copy()


@dataclass(frozen=True)
class PeerComparison:
    """An area's rate against its peer group (the area and its peers).

    Attributes
    ----------
    area, rate : the area and its rate.
    group_mean : mean of the group's rates (the area included).
    lower, upper : t interval for the group mean: mean -/+ t_{(1+ci)/2, n-1} * sd / sqrt(n), sd with
        ddof = 1, n = group size.
    rank : the area's rank in the group, 1 = highest rate (ties share the best rank).
    n_group : group size; position : "above", "within" or "below" the interval.
    group : the group's codes, rates and ranks, highest rate first.
    sentence : a plain-English summary.
    """

    area: str
    rate: float
    group_mean: float
    lower: float
    upper: float
    rank: int
    n_group: int
    position: str
    group: pd.DataFrame
    sentence: str
    ci: float


def compare_with_peers(
    rates: pd.Series | pd.DataFrame,
    peers: pd.DataFrame | Sequence[str],
    area: str,
    code_col: str = "code",
    rate_col: str = "rate",
    ci: float = 0.95,
    name: str | None = None,
) -> PeerComparison:
    """Compare an area's rate with the group made of the area and its peers.

    Parameters
    ----------
    rates : Series of rates indexed by code, or a frame with ``code_col`` and ``rate_col``.
    peers : output of :func:`most_similar` (its ``code_col``) or a list of peer codes.
    area : the area being compared (added to the group if not among the peers).
    ci : level of the t interval for the group mean (default 0.95).
    name : the area's name for the sentence (default the code).
    """
    if isinstance(rates, pd.DataFrame):
        rates = rates.set_index(code_col)[rate_col]
    peer_codes = list(peers[code_col]) if isinstance(peers, pd.DataFrame) else list(peers)
    codes = [area] + [c for c in peer_codes if c != area]
    absent = [c for c in codes if c not in rates.index]
    if absent:
        raise ValueError(f"no rate for {absent}")
    values = rates.reindex(codes).astype(float)
    if values.isna().any():
        raise ValueError(f"missing rate for {values[values.isna()].index.tolist()}")
    n = len(values)
    if n < 2:
        raise ValueError("the group needs at least two areas")

    mean = float(values.mean())
    half = float(stats.t.ppf(0.5 + ci / 2, n - 1) * values.std(ddof=1) / np.sqrt(n))
    lower, upper = mean - half, mean + half
    ranks = values.rank(ascending=False, method="min").astype(int)
    rate = float(values[area])
    position = "above" if rate > upper else "below" if rate < lower else "within"
    group = pd.DataFrame({code_col: codes, rate_col: values.to_numpy(), "rank": ranks.to_numpy()})
    group = group.sort_values(["rank", code_col], kind="mergesort").reset_index(drop=True)
    label = name or area
    ci_pct = f"{ci * 100:g}%"
    sentence = (
        f"{label}'s rate of {rate:,.1f} is {position} the {ci_pct} interval for the peer-group mean "
        f"({mean:,.1f}; {lower:,.1f} to {upper:,.1f}) and ranks {int(ranks[area])} of {n} "
        f"(1 = highest)."
    )
    return PeerComparison(
        area=area,
        rate=rate,
        group_mean=mean,
        lower=lower,
        upper=upper,
        rank=int(ranks[area]),
        n_group=n,
        position=position,
        group=group,
        sentence=sentence,
        ci=ci,
    )
