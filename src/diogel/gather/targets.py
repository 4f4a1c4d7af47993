"""What progress towards targets needs from the warehouse: monthly counts and the most-similar group.

One reader for the portal's dashboard, the report's "Performance against targets" section and the
scrutiny pack, so all three hand :func:`diogel.analysis.targets.target_progress` the same inputs and
show the same figure. Counts are police.uk records under the counting rules, by area of LSOA
membership (:func:`diogel.warehouse.queries.counts`), for every area of the same level and nation.

The most-similar group is chosen among the areas of the same level and nation by
:func:`diogel.analysis.peers.most_similar` on the public variables the assessment's peer section
uses (residents, density, share aged 15 to 24, mean WIMD/IMD domain scores), each area's
descriptors summed or population-weighted over its LSOAs as published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from diogel.analysis.peers import most_similar
from diogel.warehouse.counting import counted, in_force
from diogel.warehouse.geography import lsoa_membership, resolve_area
from diogel.warehouse.queries import counts

__all__ = ["PEER_VARIABLES", "TargetInputs", "covered_areas", "target_inputs"]

#: variable -> transform, as in the assessment's "Compared with similar areas" section.
PEER_VARIABLES = {
    "population": "log",
    "density": "log",
    "share_15_24": "yeojohnson",
    "wimd_income": "yeojohnson",
    "wimd_employment": "yeojohnson",
    "wimd_education": "yeojohnson",
    "wimd_housing": "yeojohnson",
}


@dataclass(frozen=True)
class TargetInputs:
    """``monthly``: ``area``, ``month``, ``crime_type``, ``count`` for the area and its peers;
    ``peers``: the most-similar group's codes, most similar first (empty when none can be chosen);
    ``loaded``: per area (the area and its peers), the months in which the police.uk files of every
    force covering it are loaded (an area with a few cross-border records but no force file of its
    own has none)."""

    area: str
    monthly: pd.DataFrame
    peers: list[str]
    loaded: dict[str, list[pd.Timestamp]]


def _words(name: str) -> frozenset[str]:
    """A force's name as words, without police/service/constabulary ("Gwent Police" is "Gwent")."""
    words = re.split(r"[^a-z0-9]+", str(name).casefold().replace("&", " and "))
    return frozenset(w for w in words if w and w not in {"police", "service", "constabulary", "force"})


def covered_areas(wh, level: str) -> set[str]:  # noqa: ANN001
    """Codes of the areas of ``level`` every police force of which has street files loaded (an area
    with only a few cross-border records in another force's files is not among them)."""
    by_force = _force_months(wh)
    m = wh.execute(lsoa_membership(wh).select(f"{level}_code", "force_name")).dropna().drop_duplicates()
    forces = m.groupby(f"{level}_code")["force_name"].agg(lambda names: {_words(n) for n in names})
    return {code for code, fs in forces.items() if fs and all(by_force.get(f) for f in fs)}


def _force_months(wh) -> dict[frozenset[str], set[pd.Timestamp]]:  # noqa: ANN001
    """Per police force (its name as words), the months of its street files in force."""
    if not wh.has("police_street"):
        return {}
    slices = wh.execute(in_force(wh, "police-street").select("slice_key"))["slice_key"]
    by_force: dict[frozenset[str], set[pd.Timestamp]] = {}
    for key in slices:
        force, _, month = str(key).rpartition("|")
        try:
            by_force.setdefault(_words(force), set()).add(pd.Timestamp(month + "-01"))
        except ValueError:
            continue
    return by_force


def _loaded_months(wh, level: str, codes: list[str]) -> dict[str, list[pd.Timestamp]]:  # noqa: ANN001
    """Months in which every force covering each area has its street file in force."""
    by_force = _force_months(wh)
    m = wh.execute(lsoa_membership(wh).select(f"{level}_code", "force_name"))
    out = {}
    for code in codes:
        forces = {_words(f) for f in m.loc[m[f"{level}_code"] == code, "force_name"].dropna()}
        months = [by_force.get(f, set()) for f in forces]
        out[code] = sorted(set.intersection(*months)) if months else []
    return out


def _descriptors(wh, level: str, nation: str) -> pd.DataFrame:  # noqa: ANN001
    """Per area of the level and nation: population, density, share aged 15-24, mean domain scores."""
    col = f"{level}_code"
    m = wh.execute(lsoa_membership(wh).select("lsoa_code", "lsoa_vintage", col))
    m = m[m[col].fillna("").str.startswith(nation)].drop_duplicates(["lsoa_code", col])
    if not wh.has("population"):
        return pd.DataFrame()
    p = counted(wh, "population")
    p = p.filter(p.lsoa_code.startswith(nation))
    p = p.filter(p.year == wh.execute(p.year.max()))
    pop = wh.execute(
        p.group_by("lsoa_code").aggregate(
            population=p.persons.sum(), aged_15_24=p.persons.sum(where=p.age.between(15, 24))
        )
    )
    frame = pop.merge(m[["lsoa_code", col]], on="lsoa_code").groupby(col)[["population", "aged_15_24"]].sum()
    frame["share_15_24"] = frame["aged_15_24"] / frame["population"]
    if wh.has("lsoa_boundaries"):
        b = counted(wh, "boundaries")
        b = b.filter(b.lsoa_vintage == 2021)
        km2 = wh.execute(b.select("lsoa_code", "area_km2"))
        m21 = m[m["lsoa_vintage"] == 2021][["lsoa_code", col]]
        frame["density"] = frame["population"] / km2.merge(m21, on="lsoa_code").groupby(col)["area_km2"].sum()
    if wh.has("deprivation"):
        d = counted(wh, "deprivation")
        d = d.filter((d.measure == "score") & d.lsoa_code.startswith(nation))
        names = sorted(wh.execute(d.select("index_name").distinct())["index_name"])
        names = [n for n in names if n.startswith("WIMD" if nation == "W" else "IMD")] or names
        if names:
            d = d.filter(d.index_name == names[-1])
            long = wh.execute(d.select("lsoa_code", "domain", "value"))
            wide = long.pivot_table(index="lsoa_code", columns="domain", values="value", aggfunc="first")
            wide = wide.reset_index().merge(pop[["lsoa_code", "population"]], on="lsoa_code")
            wide = wide.merge(m[["lsoa_code", col]], on="lsoa_code")
            for domain in ("income", "employment", "education", "housing"):
                if domain in wide.columns:
                    ok = wide[domain].notna()
                    num = (wide.loc[ok, domain] * wide.loc[ok, "population"]).groupby(wide.loc[ok, col]).sum()
                    frame[f"wimd_{domain}"] = (
                        num / wide.loc[ok, "population"].groupby(wide.loc[ok, col]).sum()
                    )
    return frame.rename_axis("code").reset_index()


def peer_group(wh, level: str, code: str, k: int | None = None) -> list[str]:  # noqa: ANN001
    """The ``k`` most similar areas to ``code`` (default 7 in Wales, 15 in England); [] if none can be chosen."""
    frame = _descriptors(wh, level, code[0])
    if frame.empty or code not in set(frame["code"]):
        return []
    variables = [v for v in PEER_VARIABLES if v in frame.columns and frame[v].notna().all()]
    k = min(k or (7 if code.startswith("W") else 15), len(frame) - 1)
    if k < 1 or not variables:
        return []
    peers = most_similar(
        frame, code, k=k, variables=variables, transforms={v: PEER_VARIABLES[v] for v in variables}
    )
    return list(peers["code"])


def target_inputs(wh, area: str, k: int | None = None) -> TargetInputs:  # noqa: ANN001
    """Monthly counts of the area and its most-similar group, by crime type (every month loaded)."""
    level, code, _name = resolve_area(wh, area)
    level = level if level in ("csp", "la") else "csp"
    peers = peer_group(wh, level, code, k) if wh.has("police_street") else []
    if not wh.has("police_street"):
        empty = pd.DataFrame(
            {"area": [], "month": pd.Series([], dtype="datetime64[ns]"), "crime_type": [], "count": []}
        )
        return TargetInputs(code, empty, peers, {})
    c = counts(wh, [level, "month", "crime_type"])
    c = c[c[level].isin([code, *peers])].rename(columns={level: "area"})
    c["month"] = pd.to_datetime(c["month"] + "-01")
    frame = c[["area", "month", "crime_type", "count"]].reset_index(drop=True)
    return TargetInputs(code, frame, peers, _loaded_months(wh, level, [code, *peers]))
