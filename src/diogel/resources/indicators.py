"""Indicators for funding formulas and capacity measures, read from the warehouse, by local authority.

Every indicator is built from LSOA rows and assigned to a local authority (LA) by LSOA membership
(:func:`diogel.warehouse.geography.lsoa_membership`), the same rule every count uses:

population
    ONS mid-year estimates, summed over the LA's LSOAs: ``population`` and single years of age
    ``age_0`` .. ``age_90`` (``age_90`` = 90 and over).
deprivation
    ``deprivation_score`` and ``education_score``: the population-weighted mean of the LSOA scores
    of a deprivation index (overall and education domain), ``sum_i pop_i x score_i / sum_i pop_i``
    over the LA's LSOAs that have a score, so that ``population x score`` is the deprivation-weighted
    population a formula shares out.
sparsity
    ``sparsity_index``: the share of the LA's population living in LSOAs under 150 persons per km2
    (:func:`diogel.resources.indicator_kinds.sparsity_index`), LSOA areas from the loaded boundaries.
recorded crime and harm
    From police.uk street-level data under the counting rules, over a window of months:
    ``recorded_crime`` (every crime type except anti-social behaviour, which is not recorded
    crime), ``asb`` and ``crime_harm`` = ``sum_t count_t x weight_t`` with the median ONS Crime
    Severity Score weight of each police.uk type (:mod:`diogel.analysis.harm`).

**Police data coverage.** A police.uk file holds the crimes one force recorded, wherever they
happened, so an LA whose own force's files are not loaded still collects a few crimes from its
neighbours' files. Counting those as the LA's crime would be wrong by orders of magnitude. So an LA
has police data (``police_data`` = True) only when the files of its police force area (from the
LA -> CSP -> force lookup) are loaded for every month of the window; otherwise its crime columns
are missing (NaN), never zero, and ``note`` says why. A file's force is its ``Reported by`` column,
matched to the force area's name ignoring case, ``&``/``and``, word order and the words *police*,
*constabulary* and *service*.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from diogel.errors import DiogelError
from diogel.report.i18n import T
from diogel.resources.areas import WALES_LA_TO_CSP, WALES_LOCAL_AUTHORITIES
from diogel.resources.indicator_kinds import indicators_to_csp, sparsity_index
from diogel.resources.la_geography import la_csp, la_force, lsoa_to_la
from diogel.warehouse.counting import counted

if TYPE_CHECKING:
    from diogel.warehouse.protocol import Warehouse

AGES = tuple(range(91))
AGE_COLUMNS = tuple(f"age_{a}" for a in AGES)
# Indicators that come from police data: missing (not zero) where a force's files are not loaded.
CRIME_COLUMNS = ("recorded_crime", "asb", "crime_harm")
ASB = "Anti-social behaviour"
SPARSE_PER_KM2 = 150.0


@dataclass(frozen=True)
class CrimeWindow:
    """An inclusive range of months, ``YYYY-MM``."""

    start: str
    end: str

    def __post_init__(self) -> None:
        for m in (self.start, self.end):
            _parse_month(m)
        if self.start > self.end:
            raise DiogelError(f"the crime window starts ({self.start}) after it ends ({self.end})")

    @property
    def label(self) -> str:
        return f"{self.start}..{self.end}"

    def months(self) -> list[str]:
        return _month_range(self.start, self.end)


@dataclass
class Indicators:
    """One row per local authority (``frame``) and what was used to build it.

    ``frame`` columns: ``area_code``, ``area_name``, ``force_name``, ``population``, ``age_0`` ..
    ``age_90``, ``deprivation_score``, ``education_score``, ``sparsity_index``, ``recorded_crime``,
    ``asb``, ``crime_harm``, ``police_data`` (bool) and ``note`` (why an area's crime is missing).
    """

    frame: pd.DataFrame
    population_year: int
    window: CrimeWindow | None
    deprivation_index: str | None
    notes: list[str] = field(default_factory=list)

    def without_police_data(self) -> pd.DataFrame:
        return self.frame.loc[~self.frame["police_data"], ["area_code", "area_name", "force_name", "note"]]


# ---------------------------------------------------------------------------------------------
# Months


def _parse_month(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except (TypeError, ValueError):
        raise DiogelError(f"a month must be YYYY-MM, not {value!r}") from None


def _shift(month: str, n: int) -> str:
    d = _parse_month(month)
    k = d.year * 12 + d.month - 1 + n
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def _month_range(start: str, end: str) -> list[str]:
    out, m = [], start
    while m <= end:
        out.append(m)
        m = _shift(m, 1)
    return out


# ---------------------------------------------------------------------------------------------
# Population, deprivation, sparsity


def population_years(wh: Warehouse) -> list[int]:
    """The years of population estimates loaded (ascending)."""
    if not wh.has("population"):
        return []
    t = counted(wh, "population")
    return sorted(int(y) for y in wh.execute(t.select("year").distinct())["year"])


def lsoa_population(wh: Warehouse, year: int) -> pd.DataFrame:
    """One row per LSOA: ``lsoa_code``, ``lsoa_vintage``, ``age_0`` .. ``age_90`` and ``population``."""
    t = counted(wh, "population")
    t = t.filter(t.year == year).select("lsoa_code", "lsoa_vintage", "age", "persons")
    long = wh.execute(t)
    if long.empty:
        have = ", ".join(map(str, population_years(wh))) or "none"
        raise DiogelError(f"no population estimates for {year} are loaded (loaded: {have})")
    wide = long.pivot_table(
        index=["lsoa_code", "lsoa_vintage"], columns="age", values="persons", aggfunc="sum", fill_value=0
    )
    wide = wide.reindex(columns=list(AGES), fill_value=0)
    wide.columns = list(AGE_COLUMNS)
    wide = wide.reset_index()
    wide["population"] = wide[list(AGE_COLUMNS)].sum(axis=1)
    return wide


def _deprivation(
    wh: Warehouse, lsoas: pd.DataFrame, index: str | None
) -> tuple[pd.DataFrame, str | None, list[str]]:
    """LSOA ``deprivation_score`` and ``education_score`` for the LSOAs in ``lsoas``."""
    if not wh.has("deprivation"):
        return pd.DataFrame(columns=["lsoa_code"]), None, ["no deprivation index is loaded"]
    t = counted(wh, "deprivation")
    t = t.filter((t.measure == "score") & t.domain.isin(["overall", "education"]))
    df = wh.execute(t.select("lsoa_code", "index_name", "domain", "value"))
    df = df[df["lsoa_code"].isin(set(lsoas["lsoa_code"]))]
    if df.empty:
        return pd.DataFrame(columns=["lsoa_code"]), None, ["no deprivation scores for these LSOAs"]
    if index is None:
        # The index covering most of the population's LSOAs; ties to the name sorting last (newest).
        cover = df[df["domain"] == "overall"].groupby("index_name")["lsoa_code"].nunique()
        index = sorted(cover.items(), key=lambda kv: (kv[1], kv[0]))[-1][0]
    elif index not in set(df["index_name"]):
        raise DiogelError(
            f"no deprivation index {index!r} is loaded (have: {', '.join(sorted(set(df.index_name)))})"
        )
    df = df[df["index_name"] == index]
    wide = df.pivot_table(index="lsoa_code", columns="domain", values="value", aggfunc="first")
    wide = wide.rename(columns={"overall": "deprivation_score", "education": "education_score"})
    return wide.reset_index(), index, []


def la_indicators(
    wh: Warehouse,
    population_year: int,
    window: CrimeWindow | None = None,
    deprivation_index: str | None = None,
) -> Indicators:
    """Every formula indicator by local authority for one population year and one crime window.

    Parameters
    ----------
    wh : Warehouse
    population_year : int
        Year of the population estimates (also the weights of the deprivation means and sparsity).
    window : CrimeWindow, optional
        Months of police data to count; default :func:`default_window` (the latest 12 months
        loaded). Without police data the crime columns are all missing.
    deprivation_index : str, optional
        Name of the index (e.g. ``WIMD 2019``); default the index covering most LSOAs.

    Returns
    -------
    Indicators
        One row per LA that has population in ``population_year``.
    """
    # Notes are Text: English as given, and in Welsh in a Welsh report (diogel options/funding --language).
    notes: list[str] = []
    lsoa = lsoa_population(wh, population_year)
    lk = lsoa_to_la(wh)
    lsoa = lsoa.merge(lk, on="lsoa_code", how="left")
    unplaced = lsoa[lsoa["la_code"].isna()]
    if not unplaced.empty:
        notes.append(
            T(
                "{n} LSOA(s) with population ({people:,} people) are in no loaded lookup and are left out, "
                "e.g. {lsoa}",
                n=len(unplaced),
                people=int(unplaced["population"].sum()),
                lsoa=unplaced["lsoa_code"].iloc[0],
            )
        )
        lsoa = lsoa[lsoa["la_code"].notna()]
    keys = ["la_code", "la_name"]
    la = lsoa.groupby(keys, sort=True)[[*AGE_COLUMNS, "population"]].sum().reset_index()
    notes.append(
        T("population: ONS mid-{year} estimates by LSOA, summed to local authorities", year=population_year)
    )
    index_name = _deprivation_columns(wh, la, lsoa, deprivation_index, notes)
    _sparsity_column(wh, la, lsoa, notes)

    forces = la_force(wh)
    la = la.merge(forces[["la_code", "force_name"]], on="la_code", how="left")
    la = la.rename(columns={"la_code": "area_code", "la_name": "area_name"})

    crime, window, crime_notes = la_crime(wh, la[["area_code", "area_name", "force_name"]], window)
    notes += crime_notes
    la = la.merge(crime, on="area_code", how="left")
    front = ["area_code", "area_name", "force_name", "population", "deprivation_score", "education_score"]
    front += ["sparsity_index", *CRIME_COLUMNS, "police_data", "note"]
    la = la[front + list(AGE_COLUMNS)].sort_values("area_code").reset_index(drop=True)
    return Indicators(la, population_year, window, index_name, notes)


def _deprivation_columns(
    wh: Warehouse, la: pd.DataFrame, lsoa: pd.DataFrame, deprivation_index: str | None, notes: list[str]
) -> str | None:
    """Add ``deprivation_score`` and ``education_score`` to ``la`` (population-weighted means of LSOA
    scores, missing where no LSOA has one); return the index used."""
    dep, index_name, dep_notes = _deprivation(wh, lsoa, deprivation_index)
    notes += dep_notes
    score_cols = [c for c in ("deprivation_score", "education_score") if c in dep.columns]
    if score_cols:
        d = lsoa[["lsoa_code", "la_code", "population"]].merge(dep, on="lsoa_code", how="left")
        for c in score_cols:
            has = d[c].notna()
            num = (d[c] * d["population"]).where(has, 0.0).groupby(d["la_code"]).sum()
            den = d["population"].where(has, 0).groupby(d["la_code"]).sum()
            la[c] = la["la_code"].map(num / den.replace(0, np.nan))
        share = float(d.loc[d["deprivation_score"].notna(), "population"].sum() / d["population"].sum())
        if share < 1:
            notes.append(
                T(
                    "deprivation: {index} overall and education scores, population-weighted mean of LSOA scores "
                    "(scores cover {share:.1%} of the population)",
                    index=index_name,
                    share=share,
                )
            )
        else:
            notes.append(
                T(
                    "deprivation: {index} overall and education scores, population-weighted mean of LSOA scores",
                    index=index_name,
                )
            )
    for c in ("deprivation_score", "education_score"):
        if c not in la.columns:
            la[c] = np.nan
    return index_name


def _sparsity_column(wh: Warehouse, la: pd.DataFrame, lsoa: pd.DataFrame, notes: list[str]) -> None:
    """Add ``sparsity_index`` to ``la``, LSOA areas from the boundaries of the population's vintage
    (missing when any LSOA has no boundary)."""
    la["sparsity_index"] = np.nan
    if not wh.has("lsoa_boundaries"):
        return
    b = counted(wh, "boundaries").select("lsoa_code", "lsoa_vintage", "area_km2")
    areas = wh.execute(b)
    s = lsoa.merge(areas, on=["lsoa_code", "lsoa_vintage"], how="inner")
    if len(s) == len(lsoa):
        sp = sparsity_index(s.rename(columns={"la_code": "area_code"}), SPARSE_PER_KM2)
        la["sparsity_index"] = la["la_code"].map(sp.set_index("area_code")["sparsity_index"])
        notes.append(
            T(
                "sparsity: share of population in LSOAs under {density:g} persons per km2 "
                "(areas from the loaded boundaries)",
                density=SPARSE_PER_KM2,
            )
        )
    else:
        notes.append(T("sparsity: boundaries missing for {n} LSOA(s); not computed", n=len(lsoa) - len(s)))


# ---------------------------------------------------------------------------------------------
# Police data


def _force_key(name: object) -> frozenset[str]:
    words = re.findall(r"[a-z0-9]+", str(name).casefold().replace("&", " and "))
    return frozenset(w for w in words if w not in {"police", "constabulary", "service"})


def police_coverage(wh: Warehouse) -> pd.DataFrame:
    """Which force's street-level files are loaded for which months: ``reported_by``, ``month``."""
    cols = ["reported_by", "month"]
    if not wh.has("police_street"):
        return pd.DataFrame(columns=cols)
    files = wh.table("source_file")
    files = files.filter(files.kind == "police-street").select("file_id", "run_id")
    slices = wh.table("file_slice").semi_join(files, ["file_id", "run_id"]).select("slice_key").distinct()
    keys = wh.execute(slices)["slice_key"]
    if keys.empty:
        return pd.DataFrame(columns=cols)
    parts = keys.str.rsplit("|", n=1, expand=True)
    return pd.DataFrame({"reported_by": parts[0], "month": parts[1]}).sort_values(cols, ignore_index=True)


def default_window(wh: Warehouse, months: int = 12, latest: bool = True) -> CrimeWindow | None:
    """The ``months`` months ending at the latest month loaded (``latest``) or starting at the earliest.

    ``None`` when no police data is loaded; shorter when fewer months are loaded.
    """
    cov = police_coverage(wh)
    if cov.empty:
        return None
    lo, hi = cov["month"].min(), cov["month"].max()
    if latest:
        return CrimeWindow(max(lo, _shift(hi, -(months - 1))), hi)
    return CrimeWindow(lo, min(hi, _shift(lo, months - 1)))


def harm_weights(wh: Warehouse):
    """Median CSS weight per police.uk crime type from the loaded harm weights, or ``None``."""
    from diogel.analysis.harm import policeuk_weights_from_css

    if not wh.has("harm_weights"):
        return None
    css = wh.execute(counted(wh, "harm-weights").select("offence_code", "weight", "policeuk_category"))
    css = css.rename(
        columns={
            "offence_code": "ONS_SEVERITY_code",
            "weight": "ONS_SEVERITY_weight",
            "policeuk_category": "POLICE_UK_CAT_MAP_category",
        }
    )
    return policeuk_weights_from_css(css, method="median")


def la_crime(
    wh: Warehouse,
    las: pd.DataFrame,
    window: CrimeWindow | None = None,
) -> tuple[pd.DataFrame, CrimeWindow | None, list[str]]:
    """Recorded crime, ASB and harm by LA over ``window``, missing where the LA's force is not loaded.

    ``las`` has ``area_code``, ``area_name`` and ``force_name``. Returns (frame with ``area_code``,
    ``recorded_crime``, ``asb``, ``crime_harm``, ``police_data``, ``note``; the window used; notes).
    """
    from diogel.analysis.harm import harm_by_area
    from diogel.warehouse.queries import counts

    out = pd.DataFrame({"area_code": las["area_code"]})
    for c in CRIME_COLUMNS:
        out[c] = np.nan
    out["police_data"] = False
    cov = police_coverage(wh)
    if cov.empty:
        out["note"] = T("no police data loaded: recorded crime unknown (not zero)")
        return out, None, [T("recorded crime: no police.uk street-level data is loaded, so crime is unknown")]
    window = window or default_window(wh)
    assert window is not None
    loaded: dict[frozenset[str], set[str]] = {}
    names: dict[frozenset[str], str] = {}
    for rb, g in cov.groupby("reported_by"):
        key = _force_key(rb)
        loaded.setdefault(key, set()).update(g["month"])
        names[key] = str(rb)
    notes: list[str] = []
    if len(window.months()) < 12:
        notes.append(
            T(
                "recorded crime: only {n} month(s) of police data in the window {window}",
                n=len(window.months()),
                window=window.label,
            )
        )
    out["police_data"], out["note"] = _police_cover(las["force_name"], loaded, window)
    c = counts(wh, ["la", "crime_type"], start=window.start, end=window.end)
    c = c[c["la"].isin(set(out["area_code"]))]
    crime = c[c["crime_type"] != ASB].groupby("la")["count"].sum()
    asb = c[c["crime_type"] == ASB].groupby("la")["count"].sum()
    ok = out["police_data"].astype(bool)
    # A covered area with no crime of a kind has zero; an uncovered one stays unknown.
    out["recorded_crime"] = out["area_code"].map(crime).fillna(0).astype(float).where(ok)
    out["asb"] = out["area_code"].map(asb).fillna(0).astype(float).where(ok)
    weights = harm_weights(wh)
    if weights is not None:
        h = harm_by_area(c.rename(columns={"la": "area_code"}), weights, by="area_code")
        harm = out["area_code"].map(h.set_index("area_code")["harm"]).fillna(0.0).astype(float)
        out["crime_harm"] = harm.where(ok)
    else:
        notes.append(T("crime harm: no harm weights loaded, so crime_harm is unknown"))
    notes.append(
        T(
            "recorded crime: police.uk street-level crimes excluding anti-social behaviour, {window}, "
            "assigned to areas by LSOA membership (files loaded for: {forces})",
            window=window.label,
            forces=", ".join(sorted({names[k] for k in loaded})),
        )
    )
    if weights is not None:
        notes.append(T("crime harm: crimes x median ONS Crime Severity Score weight of each police.uk type"))
    missing = las.loc[~out["police_data"].to_numpy(), "area_name"].tolist()
    if missing:
        notes.append(
            T(
                "no police data for {n} of {total} area(s) ({areas}): their recorded crime is unknown, not zero",
                n=len(missing),
                total=len(las),
                areas=", ".join(missing[:6]) + (", ..." if len(missing) > 6 else ""),
            )
        )
    return out, window, notes


def _police_cover(
    forces: pd.Series, loaded: dict[frozenset[str], set[str]], window: CrimeWindow
) -> tuple[list[bool], list[str]]:
    """Whether each area's force has police data for every month of ``window``, and if not why."""
    wanted = window.months()
    covered, why = [], []
    for force in forces:
        if force is None or (isinstance(force, float) and np.isnan(force)):
            covered.append(False)
            why.append(T("no police force area known for this area (load the LA -> CSP -> force lookup)"))
            continue
        have = loaded.get(_force_key(force), set())
        gaps = [m for m in wanted if m not in have]
        if not have:
            covered.append(False)
            why.append(T("no police data loaded for {force}: recorded crime unknown (not zero)", force=force))
        elif gaps:
            covered.append(False)
            why.append(
                T(
                    "{force} police data missing for {n} month(s) of {window} (e.g. {month}): recorded "
                    "crime unknown (not zero)",
                    force=force,
                    n=len(gaps),
                    window=window.label,
                    month=gaps[0],
                )
            )
        else:
            covered.append(True)
            why.append("")
    return covered, why


# ---------------------------------------------------------------------------------------------
# Units


def for_unit(ind: Indicators, unit: str) -> pd.DataFrame:
    """The indicator frame for a formula's ``unit``.

    ``local_authority_2005``: the 22 Welsh LAs (all must have population). ``csp``: today's 21 Welsh
    CSPs, aggregated with :func:`diogel.resources.indicator_kinds.indicators_to_csp` (counts summed, scores
    population-weighted; a CSP has police data only if every one of its LAs has). ``any``: every LA
    in the frame.
    """
    df = ind.frame
    if unit == "any":
        return df.copy()
    wales = df[df["area_code"].isin(set(WALES_LOCAL_AUTHORITIES))]
    missing = sorted(set(WALES_LOCAL_AUTHORITIES) - set(wales["area_code"]))
    if missing:
        raise DiogelError(
            f"unit {unit} needs all 22 Welsh local authorities; no mid-{ind.population_year} population "
            f"for {', '.join(missing)}"
        )
    if unit == "local_authority_2005":
        return wales.reset_index(drop=True)
    if unit != "csp":
        raise DiogelError(f"unknown unit {unit!r}")
    numeric = wales.drop(columns=["force_name", "police_data", "note"])
    out = indicators_to_csp(numeric)
    csp_of = wales["area_code"].map(lambda c: WALES_LA_TO_CSP[c][0])
    flags = wales["police_data"].groupby(csp_of).all()
    notes = wales["note"].groupby(csp_of).agg(lambda s: "; ".join(sorted({n for n in s if n})))
    forces = wales["force_name"].groupby(csp_of).agg(lambda s: ", ".join(sorted({str(f) for f in s})))
    out["police_data"] = out["area_code"].map(flags).astype(bool)
    out["note"] = out["area_code"].map(notes)
    out["force_name"] = out["area_code"].map(forces)
    return out


# ---------------------------------------------------------------------------------------------
# Partnerships named in a ledger


def partnership_context(wh: Warehouse, names: Sequence[str], ind: Indicators) -> pd.DataFrame:
    """Population and recorded crime for partnerships named as a local authority or a CSP.

    A name (or code) is matched, ignoring case, first to a local authority, then to a CSP; a CSP's
    figures are the sums over its authorities (Cwm Taf = Rhondda Cynon Taf + Merthyr Tydfil), and its
    crime is unknown if any of its authorities has no police data. Returns ``partnership``,
    ``area_code``, ``area_name``, ``level`` (la / csp), ``la_codes`` (comma-separated),
    ``population``, ``recorded_crime``, ``police_data`` and ``note``. Raises :class:`DiogelError`
    naming any partnership that matches nothing.
    """
    frame = ind.frame.set_index("area_code")
    csp = la_csp(wh)
    csp = csp[csp["la_code"].isin(frame.index)]
    by_key: dict[str, tuple[str, str, str, list[str]]] = {}
    for code, row in frame.iterrows():
        for key in (str(code), str(row["area_name"])):
            by_key.setdefault(key.casefold(), ("la", str(code), str(row["area_name"]), [str(code)]))
    for (code, name), g in csp.groupby(["csp_code", "csp_name"]):
        for key in (str(code), str(name)):
            by_key.setdefault(key.casefold(), ("csp", str(code), str(name), sorted(g["la_code"])))
    rows, unknown = [], []
    for name in names:
        hit = by_key.get(str(name).strip().casefold())
        if hit is None:
            unknown.append(str(name))
            continue
        level, code, area_name, las = hit
        sub = frame.loc[las]
        ok = bool(sub["police_data"].all())
        rows.append(
            {
                "partnership": name,
                "area_code": code,
                "area_name": area_name,
                "level": level,
                "la_codes": ", ".join(las),
                "population": int(sub["population"].sum()),
                "recorded_crime": float(sub["recorded_crime"].sum()) if ok else np.nan,
                "police_data": ok,
                "note": "; ".join(sorted({n for n in sub["note"] if n})),
            }
        )
    if unknown:
        raise DiogelError(
            f"partnership(s) not found as a local authority or CSP with mid-{ind.population_year} "
            f"population loaded: {', '.join(unknown)} (use the LA or CSP name or code)"
        )
    cols = ["partnership", "area_code", "area_name", "level", "la_codes", "population", "recorded_crime"]
    return pd.DataFrame(rows, columns=[*cols, "police_data", "note"])
