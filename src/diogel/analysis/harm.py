"""Crime harm: Crime Severity Score style weights for police.uk crime types.

Harm of an area = sum over crime types of count x weight, also expressed per 1,000 residents.
The ONS Crime Severity Score (CSS) weights are per Home Office offence code; police.uk publishes
only 14 broad crime types, so a weight per police.uk type is necessarily an approximation (an
average over the offences it groups). Harm is therefore always returned next to the counts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from diogel.analysis.trends import rates_per_1000
from diogel.crime_types import CRIME_TYPES

__all__ = [
    "POLICEUK_CRIME_TYPES",
    "HarmWeights",
    "harm_by_area",
    "harm_by_type",
    "harm_shares_by_method",
    "policeuk_type",
    "policeuk_weights_from_css",
]

POLICEUK_CRIME_TYPES: tuple[str, ...] = CRIME_TYPES  # the police.uk categories, as the loaders check them

# Spellings seen in CSS joins and in older police.uk releases that name the same type differently.
_ALIASES: dict[str, str] = {
    "drug offences": "Drugs",
    "drugs offences": "Drugs",
    "possession of weapons offences": "Possession of weapons",
    "public order offences": "Public order",
    "theft from person": "Theft from the person",
    "cycle theft": "Bicycle theft",
    "pedal cycle theft": "Bicycle theft",
    "vehicle offences": "Vehicle crime",
    "violent crime": "Violence and sexual offences",
    "violence and sexual offence": "Violence and sexual offences",
    "violence against the person and sexual offences": "Violence and sexual offences",
    "other crimes": "Other crime",
    "antisocial behaviour": "Anti-social behaviour",
    "anti social behaviour": "Anti-social behaviour",
}

_CATEGORY = "POLICE_UK_CAT_MAP_category"
_WEIGHT = "ONS_SEVERITY_weight"
_SEVERITY_CODE = "ONS_SEVERITY_code"
_COUNTS_CODE = "ONS_COUNTS_code"


def _normalise(name: object) -> str:
    text = str(name).strip().casefold().replace("&", "and")
    text = re.sub(r"[\s_]+", " ", text)
    return text


def policeuk_type(name: object) -> str | None:
    """Return the police.uk sentence-case crime type for a category spelling, or None.

    Matching ignores case, surrounding and repeated spaces and ``&`` versus ``and``; a short
    alias table catches older or longer names (e.g. "Drug offences" -> "Drugs").
    """
    key = _normalise(name)
    for t in POLICEUK_CRIME_TYPES:
        if _normalise(t) == key:
            return t
    return _ALIASES.get(key)


@dataclass(frozen=True)
class HarmWeights:
    """Weights per police.uk crime type.

    Attributes
    ----------
    weights : DataFrame
        ``crime_type`` (all 14 police.uk types), ``weight`` (NaN for Anti-social behaviour and for
        any type the source does not cover), ``n_offences`` (distinct offence codes averaged).
    method : str
    note : str
        Plain-English caveat for the report: the mapping is approximate, ASB has no weight, and
        any source categories that could not be matched.
    unmatched : list of str
        Source category names that match no police.uk type (their rows are not used).
    """

    weights: pd.DataFrame
    method: str
    note: str
    unmatched: list[str]


def _matched_offences(css: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The CSS rows with text stripped, a numeric ``weight`` and a police.uk ``crime_type`` (rows with
    neither dropped), and the source categories that match no police.uk type."""
    df = css.copy()
    for col in df.columns:
        if df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
            df[col] = df[col].astype("string").str.strip()
    df["weight"] = pd.to_numeric(df[_WEIGHT], errors="coerce")
    df["crime_type"] = df[_CATEGORY].map(policeuk_type)
    unmatched = sorted({str(c) for c in df.loc[df["crime_type"].isna(), _CATEGORY].dropna().unique()})
    return df[df["crime_type"].notna() & df["weight"].notna()], unmatched


def _count_weighted_mean(df: pd.DataFrame, offence_counts: pd.DataFrame | None) -> pd.DataFrame:
    """sum(weight_o x count_o) / sum(count_o) per type, joined on ``ONS_COUNTS_code``."""
    if offence_counts is None:
        raise ValueError(
            "method='count_weighted_mean' needs offence_counts (ONS_COUNTS_code, count): the CSS "
            "weights file holds no offence volumes. Use method='median' or 'mean' without them."
        )
    if _COUNTS_CODE not in df.columns:
        raise ValueError(f"css is missing column {_COUNTS_CODE!r}, needed to join offence_counts")
    oc = offence_counts[[_COUNTS_CODE, "count"]].copy()
    oc[_COUNTS_CODE] = oc[_COUNTS_CODE].astype("string").str.strip()
    oc = oc.groupby(_COUNTS_CODE, as_index=False)["count"].sum()
    # Codes such as "37.2" and "4.10" must stay text on both sides or they stop matching.
    j = df.assign(**{_COUNTS_CODE: df[_COUNTS_CODE].astype("string").str.strip()})
    j = j.merge(oc, on=_COUNTS_CODE, how="inner")
    j = j[j["count"] > 0]
    j["wc"] = j["weight"] * j["count"]
    g = j.groupby("crime_type").agg(wc=("wc", "sum"), c=("count", "sum"), n=(_COUNTS_CODE, "nunique"))
    return pd.DataFrame({"weight": g["wc"] / g["c"], "n_offences": g["n"]})


def _volume_weighted_mean(df: pd.DataFrame, volumes: pd.DataFrame | None) -> pd.DataFrame:
    """sum(weight_s x V_s) / sum(V_s) per type over its distinct severity codes with a recorded volume."""
    if volumes is None:
        raise ValueError(
            "method='volume_weighted_mean' needs volumes (css_severity_code, count): national recorded-crime "
            "volumes by offence code, e.g. diogel.sources.harm_weights.offence_volumes()"
        )
    v = volumes.dropna(subset=["css_severity_code"])
    v = v.assign(code=v["css_severity_code"].astype("string").str.strip()).groupby("code")["count"].sum()
    distinct = df.drop_duplicates(["crime_type", _SEVERITY_CODE])
    distinct = distinct.assign(volume=distinct[_SEVERITY_CODE].astype("string").str.strip().map(v).fillna(0))
    distinct = distinct[distinct["volume"] > 0]
    distinct = distinct.assign(wv=distinct["weight"] * distinct["volume"])
    g = distinct.groupby("crime_type").agg(wv=("wv", "sum"), v=("volume", "sum"), n=("weight", "size"))
    return pd.DataFrame(
        {"weight": (g["wv"] / g["v"]).astype(float), "n_offences": g["n"], "volume": g["v"].astype(float)}
    )


def _weights_note(method: str, no_weight: list[str], unmatched: list[str]) -> str:
    """The report's caveat: the weights are approximate, which types have none, what was not matched."""
    note = (
        "Harm weights are approximate: each police.uk crime type groups many Home Office offences whose "
        f"ONS Crime Severity Score weights differ widely, and a single {method.replace('_', ' ')} of "
        "those weights stands in for all of them"
        + (
            " (each offence weighted by its national recorded volume, so the common offences count most)"
            if method == "volume_weighted_mean"
            else ""
        )
        + ". Compare harm between areas and over time, not as an exact measure."
    )
    if "Anti-social behaviour" in no_weight:
        note += (
            " Anti-social behaviour is not a notifiable crime and has no severity weight: it adds no harm."
        )
    others = [t for t in no_weight if t != "Anti-social behaviour"]
    if others:
        note += f" No weight could be found for: {', '.join(others)}."
    if unmatched:
        note += f" Source categories not matched to a police.uk type (ignored): {', '.join(unmatched)}."
    return note


def policeuk_weights_from_css(
    css: pd.DataFrame,
    method: str = "median",
    offence_counts: pd.DataFrame | None = None,
    volumes: pd.DataFrame | None = None,
) -> HarmWeights:
    """Collapse ONS CSS offence weights to one weight per police.uk crime type.

    The source has one row per Home Office offence, with the ONS severity weight
    (``ONS_SEVERITY_weight``, in days of custody equivalent) and a police.uk category in Title
    Case (``POLICE_UK_CAT_MAP_category``). Quirks handled: surrounding spaces in every text column,
    Title Case categories and small spelling differences (see :func:`policeuk_type`), the same
    offence listed more than once (e.g. homicide under five rows, legacy "outcome only" burglary
    rows sharing a severity code; de-duplicated on category + ``ONS_SEVERITY_code`` for the
    unweighted methods), and Anti-social behaviour, which is not a notifiable crime and has no
    weight (NaN).

    Methods
    -------
    ``"volume_weighted_mean"``
        sum(weight_s x V_s) / sum(V_s) over the distinct severity codes s of the type, V_s the
        national recorded-crime volume of the offences weighted under s (``volumes``: columns
        ``css_severity_code`` and ``count``, e.g. :func:`diogel.sources.harm_weights.offence_volumes`).
        The weight of an average recorded crime of the type: common assault (13.5 days) and
        harassment (36) dominate violence and sexual offences by volume, homicide (7,973) hardly
        moves it. Severity codes with no recorded volume drop out; a type none of whose codes has a
        volume gets NaN.
    ``"median"`` (default)
        Median of the distinct offence weights in the type. Robust to rare, very severe offences.
    ``"mean"``
        Mean of the distinct offence weights. Pulled up strongly by rare offences (homicide
        dominates Violence and sexual offences).
    ``"min"``, ``"max"``
        Smallest or largest distinct offence weight of the type (bounds for a sensitivity check).
    ``"count_weighted_mean"``
        sum(weight_o x count_o) / sum(count_o) over offences o of the type, the weight of an
        average recorded crime of that type. Needs ``offence_counts`` (the CSS file has no
        volumes): columns ``ONS_COUNTS_code`` and ``count`` (e.g. ONS recorded crime by offence
        code). Each offence should appear once; aggregate rows (e.g. homicide "1/4.1/4.10/4.2")
        would otherwise be counted twice.

    Parameters
    ----------
    css : DataFrame
        The CSS weights table (e.g. ``harm/css_weights_policeuk.csv``).
    method : {"median", "mean", "min", "max", "volume_weighted_mean", "count_weighted_mean"}, default "median"
    offence_counts : DataFrame, optional
        Required for ``"count_weighted_mean"``.
    volumes : DataFrame, optional
        Required for ``"volume_weighted_mean"``.

    Returns
    -------
    HarmWeights
    """
    methods = ("median", "mean", "min", "max", "volume_weighted_mean", "count_weighted_mean")
    if method not in methods:
        raise ValueError(f"method must be one of {', '.join(repr(m) for m in methods)}, got {method!r}")
    missing = [c for c in (_CATEGORY, _WEIGHT, _SEVERITY_CODE) if c not in css.columns]
    if missing:
        raise ValueError(f"css is missing column(s) {missing}")
    df, unmatched = _matched_offences(css)
    if method == "count_weighted_mean":
        agg = _count_weighted_mean(df, offence_counts)
    elif method == "volume_weighted_mean":
        agg = _volume_weighted_mean(df, volumes)
    else:
        distinct = df.drop_duplicates(["crime_type", _SEVERITY_CODE])
        g = distinct.groupby("crime_type")["weight"]
        agg = pd.DataFrame({"weight": getattr(g, method)(), "n_offences": g.size()})

    out = pd.DataFrame({"crime_type": list(POLICEUK_CRIME_TYPES)})
    out = out.merge(agg.reset_index(), on="crime_type", how="left")
    out["n_offences"] = out["n_offences"].fillna(0).astype(int)
    if "volume" in out.columns:
        out["volume"] = out["volume"].fillna(0).astype("int64")
    no_weight = out.loc[out["weight"].isna(), "crime_type"].tolist()
    note = _weights_note(method, no_weight, unmatched)
    return HarmWeights(weights=out, method=method, note=note, unmatched=unmatched)


def _weights_frame(weights: pd.DataFrame | HarmWeights) -> pd.DataFrame:
    w = weights.weights if isinstance(weights, HarmWeights) else weights
    if not {"crime_type", "weight"} <= set(w.columns):
        raise ValueError("weights needs columns 'crime_type' and 'weight'")
    if w["crime_type"].duplicated().any():
        raise ValueError("weights has more than one row for a crime type")
    return w[["crime_type", "weight"]]


def harm_by_type(
    counts: pd.DataFrame,
    weights: pd.DataFrame | HarmWeights,
    population: pd.DataFrame | None = None,
    by: str | Sequence[str] = ("lsoa_code",),
) -> pd.DataFrame:
    """Counts and harm per area and crime type.

    harm = count x weight; harm_per_1000 = 1000 x harm / population.

    Parameters
    ----------
    counts : DataFrame
        Columns ``by``, ``crime_type``, ``count`` (rows per key are summed).
    weights : DataFrame or HarmWeights
        ``crime_type`` -> ``weight``; types with no weight (e.g. ASB) get NaN harm.
    population : DataFrame, optional
        Area key(s) and ``population``; when given, areas with no crime of a type appear with
        count 0 and the result has ``population``, ``rate_per_1000`` and ``harm_per_1000``.
    by : str or sequence of str, default ("lsoa_code",)

    Returns
    -------
    DataFrame
        ``by``, ``crime_type``, ``count``, ``weight``, ``harm`` [, ``population``,
        ``rate_per_1000``, ``harm_per_1000``].
    """
    keys = (by,) if isinstance(by, str) else tuple(by)
    missing = [c for c in (*keys, "crime_type", "count") if c not in counts.columns]
    if missing:
        raise ValueError(f"counts is missing column(s) {missing}")
    w = _weights_frame(weights)
    cols = [*keys, "crime_type"]
    if population is None:
        base = counts.groupby(cols, as_index=False, dropna=False)["count"].sum()
    else:
        base = rates_per_1000(counts, population, by=cols)[[*cols, "count", "population", "rate_per_1000"]]
    out = base.merge(w, on="crime_type", how="left")
    out["harm"] = out["count"] * out["weight"]
    if population is not None:
        pop = out["population"].astype(float).where(out["population"] > 0)
        out["harm_per_1000"] = 1000.0 * out["harm"] / pop
        order = [*cols, "count", "weight", "harm", "population", "rate_per_1000", "harm_per_1000"]
    else:
        order = [*cols, "count", "weight", "harm"]
    return out[order].sort_values(cols, ignore_index=True)


def harm_by_area(
    counts: pd.DataFrame,
    weights: pd.DataFrame | HarmWeights,
    population: pd.DataFrame | None = None,
    by: str | Sequence[str] = ("lsoa_code",),
) -> pd.DataFrame:
    """Total count and harm per area, summed over crime types.

    harm = sum_t count_t x weight_t over types t with a weight; ``count_unweighted`` is the number
    of records of types with no weight (e.g. ASB), which add no harm but are still in ``count``.

    Parameters
    ----------
    counts, weights, population, by
        As :func:`harm_by_type`.

    Returns
    -------
    DataFrame
        ``by``, ``count``, ``count_unweighted``, ``harm`` [, ``population``, ``rate_per_1000``,
        ``harm_per_1000``].
    """
    keys = [by] if isinstance(by, str) else list(by)
    t = harm_by_type(counts, weights, population, by=keys)
    t["count_unweighted"] = np.where(t["weight"].isna(), t["count"], 0)
    out = t.groupby(keys, as_index=False, dropna=False).agg(
        count=("count", "sum"), count_unweighted=("count_unweighted", "sum"), harm=("harm", "sum")
    )
    if population is not None:
        pop_keys = [k for k in keys if k in population.columns]
        out = out.merge(population[[*pop_keys, "population"]], on=pop_keys, how="left")
        pop = out["population"].astype(float).where(out["population"] > 0)
        out["rate_per_1000"] = 1000.0 * out["count"] / pop
        out["harm_per_1000"] = 1000.0 * out["harm"] / pop
    return out


def harm_shares_by_method(
    counts: pd.DataFrame,
    css: pd.DataFrame,
    volumes: pd.DataFrame | None = None,
    methods: Sequence[str] = ("volume_weighted_mean", "median", "mean", "min", "max"),
) -> pd.DataFrame:
    """Each crime type's share of harm under several weightings: a sensitivity check.

    share_t(method) = count_t x weight_t(method) / sum over weighted types of count x weight.

    Parameters
    ----------
    counts : DataFrame
        ``crime_type`` and ``count`` (rows per type are summed).
    css : DataFrame
        The CSS weights table, as for :func:`policeuk_weights_from_css`.
    volumes : DataFrame, optional
        Needed when ``methods`` include ``"volume_weighted_mean"``.
    methods : sequence of str

    Returns
    -------
    DataFrame
        ``crime_type``, ``count``, ``share_count`` and, per method, ``weight_<method>`` and
        ``share_harm_<method>``.
    """
    c = counts.groupby("crime_type", as_index=False)["count"].sum()
    out = pd.DataFrame({"crime_type": list(POLICEUK_CRIME_TYPES)}).merge(c, on="crime_type", how="left")
    out["count"] = out["count"].fillna(0.0)
    total = out["count"].sum()
    out["share_count"] = out["count"] / total if total else np.nan
    for m in methods:
        w = policeuk_weights_from_css(css, method=m, volumes=volumes).weights.set_index("crime_type")[
            "weight"
        ]
        out[f"weight_{m}"] = out["crime_type"].map(w)
        harm = out["count"] * out[f"weight_{m}"]
        out[f"share_harm_{m}"] = harm / harm.sum() if harm.sum() else np.nan
    return out
