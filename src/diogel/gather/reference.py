"""The reference gatherer: lookups, population, deprivation, boundaries, harm weights, comparator areas.

Population and WIMD 2019 are published on 2011 LSOAs, so they are carried to the area's 2021 LSOAs
through the ONS lookup with :func:`diogel.warehouse.geography.harmonise`; a 2011 LSOA split into
several 2021 LSOAs shares its population equally between them (no 2021 population is loaded to do
better), and a merged 2021 LSOA takes the population-weighted mean of its parents' deprivation scores.
What is the same for every area of a nation is read once per open warehouse (:func:`.police.memo`).
"""

from __future__ import annotations

import geopandas as gpd
import ibis
import pandas as pd
import shapely

from diogel.errors import DiogelError
from diogel.gather.police import ASB, Period, SourceRef, memo, same_force, source_refs
from diogel.warehouse.counting import counted
from diogel.warehouse.geography import harmonise

__all__ = [
    "DOMAINS",
    "comparators",
    "deprivation_by_lsoa",
    "harm_weights",
    "lookup_1121",
    "lookup_refs",
    "lsoa_boundaries",
    "population_by_lsoa",
    "to_2021",
]

# WIMD / IMD domains used as covariates and peer variables, in the warehouse's vocabulary.
DOMAINS = ("overall", "income", "employment", "health", "education", "access_to_services", "housing",
           "environment", "crime")  # fmt: skip


def lookup_refs(wh) -> list[SourceRef]:  # noqa: ANN001
    refs = source_refs(wh, "lookup-lsoa-ward-la", counted(wh, "lookup-lsoa-ward-la"))
    if wh.has("lookup_la_csp_force"):
        refs += source_refs(wh, "lookup-la-csp-force", counted(wh, "lookup-la-csp-force"))
    return refs


def lookup_1121(wh) -> tuple[pd.DataFrame, list[SourceRef]]:  # noqa: ANN001
    if not wh.has("lookup_lsoa11_lsoa21"):
        return pd.DataFrame(columns=["lsoa11_code", "lsoa21_code", "change_code"]), []
    t = counted(wh, "lookup-lsoa11-lsoa21")
    return wh.execute(t.select("lsoa11_code", "lsoa21_code", "change_code")), source_refs(
        wh, "lookup-lsoa11-lsoa21", t
    )


def harm_weights(wh) -> tuple[pd.DataFrame, list[SourceRef]]:  # noqa: ANN001
    hw = counted(wh, "harm-weights")
    harm = wh.execute(hw.select("offence_code", "offence", "weight", "policeuk_category")).rename(
        columns={
            "offence_code": "ONS_SEVERITY_code",
            "weight": "ONS_SEVERITY_weight",
            "policeuk_category": "POLICE_UK_CAT_MAP_category",
        }
    )
    # In a fixed order: the engine returned the rows in a different order from one query to the next,
    # and the weights per police.uk category are float sums over them (last digits of the harm table).
    order = ["ONS_SEVERITY_code", "offence", "POLICE_UK_CAT_MAP_category", "ONS_SEVERITY_weight"]
    harm = harm.sort_values(order, kind="stable", na_position="last").reset_index(drop=True)
    return harm, source_refs(wh, "harm-weights", hw)


def to_2021(frame: pd.DataFrame, lookup: pd.DataFrame, values: list[str], units: set[str]) -> pd.DataFrame:
    """Carry an additive LSOA measure to the area's 2021 LSOAs (equal split where a 2011 LSOA split)."""
    if frame.empty:
        return pd.DataFrame(columns=["lsoa_code", *values])
    relevant = lookup[lookup["lsoa21_code"].isin(units)]
    part = frame[frame["lsoa_code"].isin(set(relevant["lsoa11_code"]) | units)]
    out = harmonise(part[["lsoa_code", *values]], 2021, relevant, value_columns=values)
    equal = out.attrs.get("equal_split", False)
    out = out[out["lsoa_code"].isin(units)].sort_values("lsoa_code").reset_index(drop=True)
    out.attrs["equal_split"] = equal
    return out


def population_by_lsoa(wh, nation: str, period: Period):  # noqa: ANN001, ANN202
    """Residents and residents aged 15-24 per LSOA (as published, 2011 codes), latest year <= the period."""
    if not wh.has("population"):
        raise DiogelError("the warehouse has no population estimates: run 'diogel init --reference wales'")
    t = counted(wh, "population")
    t = t.filter(t.lsoa_code.startswith(nation))
    years = sorted(int(y) for y in wh.execute(t.select("year").distinct())["year"])
    if not years:
        raise DiogelError("no population estimates for this nation's LSOAs: ingest ONS mid-year estimates")
    earlier = [y for y in years if y <= period.end.year]
    year = earlier[-1] if earlier else years[0]
    t = t.filter(t.year == year)
    pop = wh.execute(
        t.group_by("lsoa_code").aggregate(
            population=t.persons.sum(), aged_15_24=t.persons.sum(where=t.age.between(15, 24))
        )
    )
    pop[["population", "aged_15_24"]] = pop[["population", "aged_15_24"]].fillna(0).astype(float)
    # By LSOA: the engine's row order varied, and the comparators' population-weighted scores are float
    # sums over these rows in this order.
    pop = pop.sort_values("lsoa_code", kind="stable").reset_index(drop=True)
    return pop, year, source_refs(wh, "population", t), pop


def deprivation_by_lsoa(wh, nation: str, population: pd.DataFrame, lookup: pd.DataFrame, units: set[str]):  # noqa: ANN001, ANN202
    """Domain scores per 2021 LSOA (population-weighted where 2011 LSOAs merged) and per published LSOA."""
    empty = pd.DataFrame({"lsoa_code": sorted(units)})
    if not wh.has("deprivation"):
        return empty, None, [], pd.DataFrame(columns=["lsoa_code"])
    index, wide, refs = memo(wh, ("deprivation", nation), lambda: _latest_index(wh, nation))
    if index is None:
        return empty, None, [], pd.DataFrame(columns=["lsoa_code"])
    domains = [d for d in DOMAINS if d in wide.columns]
    # Scores are not additive: carry score x population and population, then divide.
    weighted = wide.merge(population[["lsoa_code", "population"]], on="lsoa_code", how="left")
    weighted["population"] = weighted["population"].fillna(0.0)
    for d in domains:
        weighted[d] = weighted[d] * weighted["population"]
    moved = to_2021(weighted, lookup, [*domains, "population"], units)
    for d in domains:
        moved[d] = moved[d] / moved["population"].where(moved["population"] > 0)
    moved = moved.drop(columns=["population", "apportioned"], errors="ignore")
    return moved, index, refs, wide


def _latest_index(wh, nation: str):  # noqa: ANN001, ANN202
    """The nation's latest index: (name, one column per domain score by published LSOA, refs)."""
    t = counted(wh, "deprivation")
    t = t.filter((t.measure == "score") & t.lsoa_code.startswith(nation))
    names = sorted(wh.execute(t.select("index_name").distinct())["index_name"])
    prefix = "WIMD" if nation == "W" else "IMD"
    names = [n for n in names if n.startswith(prefix)] or names
    if not names:
        return None, None, []
    index = names[-1]
    t = t.filter(t.index_name == index)
    long = wh.execute(t.select("lsoa_code", "domain", "value"))
    wide = long.pivot_table(
        index="lsoa_code", columns="domain", values="value", aggfunc="first"
    ).reset_index()
    wide.columns.name = None
    return index, wide, source_refs(wh, "deprivation", t)


def lsoa_boundaries(wh, units: set[str], nation: str):  # noqa: ANN001, ANN202
    if not wh.has("lsoa_boundaries"):
        raise DiogelError("the warehouse has no LSOA boundaries: run 'diogel init --reference wales'")
    t = counted(wh, "boundaries")
    t21 = t.filter(t.lsoa_vintage == 2021)
    sel = t21.filter(t21.lsoa_code.isin(sorted(units)))
    df = wh.execute(sel.select("lsoa_code", "lsoa_name", "area_km2", "geometry"))
    gdf = gpd.GeoDataFrame(
        df.drop(columns="geometry"), geometry=shapely.from_wkb(df["geometry"].to_numpy()), crs=4326
    ).sort_values("lsoa_code", ignore_index=True)
    areas = memo(
        wh,
        ("areas", nation),
        lambda: wh.execute(t21.filter(t21.lsoa_code.startswith(nation)).select("lsoa_code", "area_km2")),
    )
    return gdf, source_refs(wh, "boundaries", sel), areas


def _comparator_counts(wh, police: ibis.Table, rt: ibis.Table, nation: str):  # noqa: ANN001, ANN202
    """The forces loaded, each force's months in the period, and the period's counts per LSOA of the nation."""
    reporters = wh.execute(police.select("reported_by").distinct())["reported_by"].dropna().tolist()
    per_month = wh.execute(rt.group_by("reported_by").aggregate(months=rt.month.nunique()))
    in_nation = rt.filter(rt.lsoa_code.startswith(nation))
    per_lsoa = wh.execute(in_nation.group_by(["lsoa_code", "crime_type"]).aggregate(count=in_nation.count()))
    return reporters, per_month, per_lsoa


def comparators(wh, police, level, nation, membership, population, deprivation, areas, period):  # noqa: ANN001, ANN202
    """Public descriptors of every area of the same level and nation, and its counts for the period.

    ``police`` is the counted police.uk rows (:func:`counted_police`); an area's count is the sum over
    the LSOAs it is made of (membership of either vintage), as in :func:`diogel.warehouse.queries.counts`.
    """
    col, name_col = f"{level}_code", f"{level}_name"
    m = membership[membership[col].fillna("").str.startswith(nation)][
        ["lsoa_code", "lsoa_vintage", col, name_col, "force_name"]
    ]
    m = m.drop_duplicates(["lsoa_code", col])
    names = m.drop_duplicates(col).set_index(col)[name_col]
    pop = (
        population.merge(m[["lsoa_code", col]], on="lsoa_code")
        .groupby(col)[["population", "aged_15_24"]]
        .sum()
    )
    # (Summed in LSOA order, so the last digits do not depend on the order the warehouse returned.)
    km2 = (
        areas.merge(m[m["lsoa_vintage"] == 2021][["lsoa_code", col]], on="lsoa_code")
        .sort_values("lsoa_code", kind="stable")
        .groupby(col)["area_km2"]
        .sum()
    )
    frame = pd.DataFrame({"name": names}).join(pop).join(km2)
    if not deprivation.empty:
        dep = (
            deprivation.merge(population[["lsoa_code", "population"]], on="lsoa_code")
            .merge(m[["lsoa_code", col]], on="lsoa_code")
            .sort_values("lsoa_code", kind="stable")
        )
        domains = [d for d in DOMAINS if d in dep.columns]
        for d in domains:
            ok = dep[d].notna()
            num = (dep.loc[ok, d] * dep.loc[ok, "population"]).groupby(dep.loc[ok, col]).sum()
            den = dep.loc[ok, "population"].groupby(dep.loc[ok, col]).sum()
            frame[f"wimd_{d}"] = num / den
    # An area is covered when its force's data are loaded for every month of the period.
    rt = police.filter((police.month >= period.start.date()) & (police.month <= period.end.date()))
    reporters, per_month, per_lsoa = memo(
        wh, ("comparator-counts", nation, period.label), lambda: _comparator_counts(wh, police, rt, nation)
    )
    full = set(per_month.loc[per_month["months"] >= period.n_months, "reported_by"])
    forces = m.dropna(subset=["force_name"]).groupby(col)["force_name"].agg(lambda s: sorted(set(s)))
    frame["force"] = forces.map(lambda fs: ", ".join(fs))
    frame["covered"] = (
        forces.map(lambda fs: all(any(same_force(r, f) and r in full for r in reporters) for f in fs))
        .astype("boolean")
        .fillna(False)
        .astype(bool)
    )
    areas_of = membership[["lsoa_code", col]].dropna().drop_duplicates()
    cnt = per_lsoa.merge(areas_of, on="lsoa_code").rename(columns={col: level})
    cnt = cnt[cnt[level].str.startswith(nation)]
    by = cnt.pivot_table(index=level, columns="crime_type", values="count", aggfunc="sum", fill_value=0)
    frame["count_all"] = by.sum(axis=1)
    frame["count_asb"] = by[ASB] if ASB in by.columns else 0
    frame["count_crime"] = frame["count_all"] - frame["count_asb"]
    vso = "Violence and sexual offences"
    frame["count_violence"] = by[vso] if vso in by.columns else 0
    for c_ in ("count_all", "count_asb", "count_crime", "count_violence"):
        frame[c_] = frame[c_].fillna(0)
    frame = frame.rename_axis("code").reset_index()
    return (
        frame[frame["population"].notna() & (frame["population"] > 0)]
        .sort_values("code")
        .reset_index(drop=True)
    )
