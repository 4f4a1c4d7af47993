"""Options for change in partnership capacity.

(i)   keep every partnership and bring each up to a capacity standard: :func:`cost_to_standard`;
(ii)  keep every partnership and lower the standard: :func:`count_meeting`;
(iii) amalgamate smaller partnerships into contiguous groups that reach a minimum size:
      :func:`amalgamate` (spopt max-p heuristic on local-authority contiguity), with
      :func:`force_coterminosity` and :func:`group_capacity` to judge the groups.

:func:`compare_options` puts the three side by side in one tidy frame for a report.

A *capacity frame* has one row per partnership: ``area_code``, ``area_name``, ``population`` and
the capacity measures (``fte`` and/or ``funding``), e.g. from
:func:`diogel.resources.ledger.capacity_indicators`.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from libpysal.weights import Queen, W
from scipy.sparse.csgraph import connected_components

from diogel.report.i18n import T

METRICS = {
    # metric -> (numerator column, multiplier per head)
    "fte_per_100k": ("fte", 100_000.0),
    "funding_per_head": ("funding", 1.0),
}


# ---------------------------------------------------------------------------------------------
# (i) and (ii): capacity standards


@dataclass(frozen=True)
class Standard:
    """A minimum capacity: ``metric`` is ``fte_per_100k`` or ``funding_per_head``.

    ``cost_per_fte`` (pounds a year, on-costs included) prices an FTE shortfall.
    """

    metric: str
    level: float
    cost_per_fte: float | None = None

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; expected one of {', '.join(METRICS)}")
        if self.level < 0:
            raise ValueError("a standard cannot be negative")


@dataclass(frozen=True)
class StandardCost:
    by_partnership: pd.DataFrame
    total_shortfall: float
    total_cost: float | None
    n_below: int


def _metric(capacity: pd.DataFrame, metric: str) -> pd.Series:
    col, mult = METRICS[metric]
    for c in (col, "population"):
        if c not in capacity.columns:
            raise ValueError(f"capacity frame needs column {c!r} for {metric}")
    if (capacity["population"] <= 0).any():
        raise ValueError("population must be positive")
    return capacity[col].astype(float) / capacity["population"].astype(float) * mult


def cost_to_standard(capacity: pd.DataFrame, standard: Standard) -> StandardCost:
    """Shortfall of each partnership against ``standard`` and the cost of closing it.

    For ``fte_per_100k`` the shortfall is ``max(0, level x population / 100,000 - fte)`` FTE, costed
    at ``cost_per_fte``; for ``funding_per_head`` it is ``max(0, level x population - funding)``
    pounds. Partnerships above the standard contribute nothing (no levelling down).

    Returns a :class:`StandardCost` whose ``by_partnership`` frame has ``area_code``, ``area_name``,
    ``population``, ``current`` (the metric now), ``required`` (FTE or pounds needed), ``shortfall``
    (same unit) and ``cost`` (pounds; NaN for FTE without a ``cost_per_fte``).
    """
    col, mult = METRICS[standard.metric]
    current = _metric(capacity, standard.metric)
    required = standard.level * capacity["population"].astype(float) / mult
    shortfall = (required - capacity[col].astype(float)).clip(lower=0.0)
    if standard.metric == "funding_per_head":
        cost = shortfall
    elif standard.cost_per_fte is not None:
        cost = shortfall * standard.cost_per_fte
    else:
        cost = pd.Series(np.nan, index=capacity.index)
    out = pd.DataFrame(
        {
            "area_code": capacity["area_code"],
            "area_name": capacity.get("area_name", capacity["area_code"]),
            "population": capacity["population"],
            "current": current,
            "required": required,
            "shortfall": shortfall,
            "cost": cost,
        }
    ).reset_index(drop=True)
    total_cost = None if cost.isna().all() else float(cost.sum())
    return StandardCost(out, float(shortfall.sum()), total_cost, int((shortfall > 0).sum()))


def count_meeting(capacity: pd.DataFrame, metric: str, levels: Sequence[float]) -> pd.DataFrame:
    """How many partnerships meet each (lowered) standard: metric >= level.

    Returns ``level``, ``n_meeting``, ``n_total``, ``share_meeting`` and ``below`` (the area codes
    that fall short, comma-separated), one row per level in the order given.
    """
    m = _metric(capacity, metric)
    rows = []
    for level in levels:
        ok = m >= level
        rows.append(
            {
                "level": float(level),
                "n_meeting": int(ok.sum()),
                "n_total": len(m),
                "share_meeting": float(ok.mean()),
                "below": ", ".join(capacity.loc[~ok, "area_code"].astype(str)),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# (iii): amalgamation


def dissolve_lsoa_to_la(
    lsoa: gpd.GeoDataFrame,
    lookup: pd.DataFrame,
    lsoa_col: str = "LSOA11CD",
    lookup_lsoa_col: str = "lsoa11_code",
    la_col: str = "ltla22_code",
    la_name_col: str = "ltla22_name",
    population: pd.DataFrame | None = None,
    crs: str | int = 27700,
) -> gpd.GeoDataFrame:
    """Dissolve small-area polygons to local authorities.

    ``lookup`` maps ``lookup_lsoa_col`` to ``la_col`` (duplicate rows, e.g. from LSOA 2011->2021
    splits, are dropped; an LSOA mapping to two authorities is an error). Small areas not in the
    lookup (e.g. bordering English LSOAs) are dropped. Geometries are projected to ``crs`` (British
    National Grid by default) so distances and areas are in metres. With ``population``
    (``lsoa_code``, ``population``) the authority population is summed in. Returns ``area_code``,
    ``area_name``, ``area_km2`` (, ``population``) and ``geometry``, sorted by ``area_code``.
    """
    lk = lookup[[lookup_lsoa_col, la_col, la_name_col]].drop_duplicates()
    if lk[lookup_lsoa_col].duplicated().any():
        bad = lk.loc[lk[lookup_lsoa_col].duplicated(), lookup_lsoa_col].iloc[0]
        raise ValueError(f"small area {bad} maps to more than one local authority")
    g = lsoa[[lsoa_col, "geometry"]].merge(lk, left_on=lsoa_col, right_on=lookup_lsoa_col, how="inner")
    if g.empty:
        raise ValueError("no small areas matched the lookup")
    g = gpd.GeoDataFrame(g, geometry="geometry", crs=lsoa.crs).to_crs(crs)
    out = g.dissolve(by=[la_col, la_name_col], as_index=False)[[la_col, la_name_col, "geometry"]]
    out = out.rename(columns={la_col: "area_code", la_name_col: "area_name"})
    out["area_km2"] = out.geometry.area / 1e6
    if population is not None:
        pop = population.merge(lk, left_on="lsoa_code", right_on=lookup_lsoa_col)
        la_pop = pop.groupby(la_col)["population"].sum()
        out["population"] = out["area_code"].map(la_pop).fillna(0).astype(np.int64)
    cols = ["area_code", "area_name", "area_km2"] + (["population"] if population is not None else [])
    return gpd.GeoDataFrame(out[[*cols, "geometry"]], geometry="geometry", crs=out.crs).sort_values(
        "area_code", ignore_index=True
    )


def _queen_neighbours(gdf: gpd.GeoDataFrame, id_col: str) -> dict[str, set[str]]:
    with warnings.catch_warnings():
        # Islands are expected here and reported by la_contiguity.
        warnings.simplefilter("ignore", UserWarning)
        w = Queen.from_dataframe(gdf, ids=gdf[id_col].tolist(), use_index=False)
    return {k: set(v) for k, v in w.neighbors.items()}


def simplify_coverage(
    gdf: gpd.GeoDataFrame, tolerance: float, id_col: str = "area_code", method: str = "coverage"
) -> gpd.GeoDataFrame:
    """Simplify area polygons and check that contiguity survives.

    ``method="coverage"`` (default) uses ``shapely.coverage_simplify``, which simplifies each shared
    border once so neighbours stay neighbours; ``"independent"`` simplifies each polygon on its own
    (``GeoSeries.simplify``), which opens gaps and overlaps along borders. Either way, raises
    ``ValueError`` if the Queen neighbours after simplification differ from before, so a simplified
    fixture or map never silently changes contiguity.
    """
    before = _queen_neighbours(gdf, id_col)
    out = gdf.copy()
    if method == "coverage":
        out["geometry"] = shapely.coverage_simplify(gdf.geometry.values, tolerance)
    elif method == "independent":
        out["geometry"] = gdf.geometry.simplify(tolerance)
    else:
        raise ValueError(f"unknown method {method!r}: coverage or independent")
    after = _queen_neighbours(out, id_col)
    if before != after:
        changed = sorted(k for k in before if before[k] != after.get(k))
        raise ValueError(f"simplifying at {tolerance} changed contiguity for {changed}")
    return out


@dataclass(frozen=True)
class Contiguity:
    """Queen contiguity plus the links added to connect islands (``(from, to, distance_m)``)."""

    w: W
    added_links: tuple[tuple[str, str, float], ...]


def la_contiguity(gdf: gpd.GeoDataFrame, id_col: str = "area_code") -> Contiguity:
    """Queen contiguity between areas, with islands joined to the nearest area.

    Areas that share no border with the rest (the Isle of Anglesey: the Menai Strait separates it
    from Gwynedd) would make every region containing them impossible, so each disconnected component
    other than the largest is linked, by its closest pair of polygons (boundary-to-boundary distance
    in the frame's projected CRS), to an area outside it, until the graph is connected. The added
    links are symmetric and reported in ``added_links``.
    """
    if gdf.crs is not None and gdf.crs.is_geographic:
        raise ValueError("project the geometries (e.g. EPSG:27700) before measuring distances")
    ids = gdf[id_col].astype(str).tolist()
    neigh = _queen_neighbours(gdf, id_col)
    geoms = dict(zip(ids, gdf.geometry, strict=True))
    added: list[tuple[str, str, float]] = []
    while True:
        w = W({k: sorted(v) for k, v in neigh.items()}, silence_warnings=True, ids=ids)
        n_comp, labels = connected_components(w.sparse, directed=False)
        if n_comp == 1:
            break
        sizes = np.bincount(labels)
        # Join the smallest component first; ties by first area so the result is deterministic.
        comp = min(range(n_comp), key=lambda c: (sizes[c], int(np.argmax(labels == c))))
        inside = [i for i, lab in zip(ids, labels, strict=True) if lab == comp]
        outside = [i for i, lab in zip(ids, labels, strict=True) if lab != comp]
        best = min((geoms[a].distance(geoms[b]), a, b) for a in inside for b in outside)
        d, a, b = best
        neigh[a].add(b)
        neigh[b].add(a)
        added.append((a, b, float(d)))
    return Contiguity(w=w, added_links=tuple(added))


@dataclass(frozen=True)
class Amalgamation:
    """Result of :func:`amalgamate`.

    ``labels``: ``area_code``, ``area_name``, ``group``. ``groups``: ``group``, ``areas``,
    ``area_names``, ``n_areas``, ``size`` and ``meets_floor``.
    """

    labels: pd.DataFrame
    groups: pd.DataFrame
    floor: float
    seed: int


def amalgamate(
    gdf: gpd.GeoDataFrame,
    w: W,
    size_col: str,
    floor: float,
    seed: int = 0,
    attrs: Sequence[str] | None = None,
    id_col: str = "area_code",
    max_iterations_construction: int = 99,
    max_iterations_sa: int = 10,
) -> Amalgamation:
    """Group contiguous areas so each group's ``size_col`` total reaches ``floor`` (max-p regions).

    Uses :class:`spopt.region.MaxPHeuristic` (Wei, Rey & Knaap 2020): as many groups as possible,
    each contiguous on ``w`` and with ``sum(size_col) >= floor``, then simulated annealing to make
    groups internally similar on ``attrs`` (default: ``size_col``). spopt draws from numpy's and
    Python's global random generators, so both are seeded with ``seed`` for the call and restored
    afterwards: the same seed gives the same groups. Groups are numbered 1.. in order of their
    first area code.
    """
    ids = gdf[id_col].astype(str).tolist()
    if list(w.id_order) != ids:
        raise ValueError("w ids must be in the same order as the frame's area codes")
    if float(gdf[size_col].sum()) < floor:
        raise ValueError(f"the total {size_col} is below the floor: no group can reach it")
    from spopt.region import MaxPHeuristic

    attrs = list(attrs) if attrs else [size_col]
    data = gdf[[id_col, size_col, *[a for a in attrs if a != size_col], "geometry"]].copy()
    data[size_col] = data[size_col].astype(float)
    # spopt indexes neighbours by row position, so hand it a W keyed 0..n-1.
    pos = {c: i for i, c in enumerate(ids)}
    positional = W({pos[k]: [pos[v] for v in w.neighbors[k]] for k in ids}, ids=list(range(len(ids))))
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        np.random.seed(seed)
        random.seed(seed)
        model = MaxPHeuristic(
            data.reset_index(drop=True),
            positional,
            attrs,
            size_col,
            float(floor),
            top_n=2,
            max_iterations_construction=max_iterations_construction,
            max_iterations_sa=max_iterations_sa,
        )
        with warnings.catch_warnings():
            # spopt 0.7 calls GeoDataFrame.drop(inplace=True), deprecated in pandas 3; harmless here.
            warnings.filterwarnings("ignore", message="The inplace keyword", category=DeprecationWarning)
            model.solve()
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    raw = np.asarray(model.labels_)
    # Renumber so labels do not depend on spopt's internal numbering.
    order: dict[int, int] = {}
    for _code, lab in sorted(zip(ids, raw, strict=True)):
        order.setdefault(int(lab), len(order) + 1)
    names = gdf.get("area_name", gdf[id_col]).astype(str).tolist()
    labels = pd.DataFrame({"area_code": ids, "area_name": names, "group": [order[int(x)] for x in raw]})
    sizes = dict(zip(ids, gdf[size_col].astype(float), strict=True))
    rows = []
    for g, sub in labels.groupby("group", sort=True):
        size = sum(sizes[c] for c in sub["area_code"])
        rows.append(
            {
                "group": int(g),
                "areas": ", ".join(sub["area_code"]),
                "area_names": ", ".join(sub["area_name"]),
                "n_areas": len(sub),
                "size": size,
                "meets_floor": size >= floor,
            }
        )
    return Amalgamation(labels=labels, groups=pd.DataFrame(rows), floor=float(floor), seed=seed)


def groups_contiguous(labels: pd.DataFrame, w: W) -> pd.Series:
    """For each group, whether its areas form one connected piece of ``w``."""
    out = {}
    for g, sub in labels.groupby("group", sort=True):
        members = set(sub["area_code"])
        idx = [w.id_order.index(c) for c in sub["area_code"]]
        sub_w = w.sparse[idx, :][:, idx]
        n_comp, _ = connected_components(sub_w, directed=False)
        out[int(g)] = n_comp == 1 and len(members) == len(idx)
    return pd.Series(out, name="contiguous")


def force_coterminosity(labels: pd.DataFrame, la_force: pd.DataFrame) -> pd.DataFrame:
    """Does a group cross a police force boundary?

    ``la_force`` has ``area_code`` and ``force_name`` (e.g. the Welsh rows of the ONS LA->CSP->PFA
    lookup: Dyfed-Powys, Gwent, North Wales, South Wales). Returns ``group``, ``forces`` (sorted,
    comma-separated), ``n_forces`` and ``crosses_force_boundary``.
    """
    m = labels.merge(la_force[["area_code", "force_name"]], on="area_code", how="left")
    if m["force_name"].isna().any():
        raise ValueError(f"no force for {m.loc[m['force_name'].isna(), 'area_code'].iloc[0]}")
    rows = []
    for g, sub in m.groupby("group", sort=True):
        forces = sorted(set(sub["force_name"]))
        rows.append(
            {
                "group": int(g),
                "forces": ", ".join(forces),
                "n_forces": len(forces),
                "crosses_force_boundary": len(forces) > 1,
            }
        )
    return pd.DataFrame(rows)


def group_capacity(capacity: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Sum population and capacity (``fte``, ``funding`` where present) over amalgamated groups.

    Adds ``fte_per_100k`` and ``funding_per_head`` for each group so merged partnerships can be
    checked against the same standards as the current ones. The result is itself a capacity frame
    (``area_code`` = ``G<group>``).
    """
    m = capacity.merge(labels[["area_code", "group"]], on="area_code", how="inner")
    if len(m) != len(capacity):
        raise ValueError("some partnerships in the capacity frame have no group")
    cols = [c for c in ("population", "fte", "funding") if c in m.columns]
    out = m.groupby("group", sort=True)[cols].sum().reset_index()
    names = m.groupby("group", sort=True)["area_code"].apply(lambda s: ", ".join(sorted(s)))
    out.insert(0, "area_code", ["G" + str(g) for g in out["group"]])
    out.insert(1, "area_name", out["group"].map(names))
    for metric, (col, mult) in METRICS.items():
        if col in out.columns:
            out[metric] = out[col] / out["population"] * mult
    return out


def pooled_capacity(
    capacity: pd.DataFrame,
    labels: pd.DataFrame,
    members: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Capacity pooled over amalgamated groups, where the capacity frame covers the whole group.

    ``capacity`` has one row per partnership (``area_code``, ``population`` and ``fte`` and/or
    ``funding``); ``members`` maps a partnership's ``area_code`` to the local authorities it covers
    (default: itself, i.e. one partnership per authority; Cwm Taf would be ``[W06000016,
    W06000024]``). ``labels`` is :attr:`Amalgamation.labels` (one row per authority).

    A group's pooled capacity is *known* only when every authority in it belongs to a partnership in
    ``capacity`` and every such partnership lies wholly inside the group: a missing partnership is
    unknown capacity, not zero, and a partnership split between groups cannot be pooled without
    knowing how its staff and money would divide. Known groups get the sums of ``population``,
    ``fte`` and ``funding`` and the metrics (``fte_per_100k`` = 100,000 x fte / population,
    ``funding_per_head`` = funding / population), exactly as :func:`group_capacity`; unknown groups
    get NaN and a ``reason``. Returns ``group``, ``known``, ``population``, the capacity columns,
    the metrics and ``reason``.
    """
    members = {str(k): [str(x) for x in v] for k, v in (members or {}).items()}
    la_of = {str(c): members.get(str(c), [str(c)]) for c in capacity["area_code"]}
    owner: dict[str, str] = {}
    for part, las in la_of.items():
        for la in las:
            if la in owner:
                raise ValueError(f"local authority {la} is in two partnerships: {owner[la]} and {part}")
            owner[la] = part
    group_of = dict(zip(labels["area_code"].astype(str), labels["group"], strict=True))
    cols = [c for c in ("population", "fte", "funding") if c in capacity.columns]
    cap = capacity.set_index(capacity["area_code"].astype(str))
    rows = []
    for g, sub in labels.groupby("group", sort=True):
        las = [str(c) for c in sub["area_code"]]
        missing = [la for la in las if la not in owner]
        parts = sorted({owner[la] for la in las if la in owner})
        split = [p for p in parts if any(group_of.get(la) != g for la in la_of[p])]
        row: dict[str, object] = {"group": int(g), "known": not missing and not split}
        if row["known"]:
            for c in cols:
                row[c] = float(cap.loc[parts, c].sum())
            row["reason"] = ""
        else:
            for c in cols:
                row[c] = np.nan
            # Text: English in the CSV, in the report's language on the page.
            why = []
            if missing:
                why.append(T("no capacity data for {areas}", areas=", ".join(missing)))
            if split:
                why.append(T("{partnerships} would be split between groups", partnerships=", ".join(split)))
            row["reason"] = why[0] if len(why) == 1 else T("{first}; {second}", first=why[0], second=why[1])
        rows.append(row)
    out = pd.DataFrame(rows)
    out["reason"] = pd.Series([r["reason"] for r in rows], dtype=object)  # keeps the Text
    for metric, (col, mult) in METRICS.items():
        if col in out.columns:
            out[metric] = out[col] / out["population"] * mult
    return out


# ---------------------------------------------------------------------------------------------
# Side by side


def compare_options(
    capacity: pd.DataFrame,
    standard: Standard,
    lowered_level: float,
    amalgamation: Amalgamation | None = None,
    coterminosity: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """A tidy frame (``option``, ``metric``, ``value``, ``unit``) comparing the three options.

    (i) partnerships below ``standard`` and the total shortfall and cost of raising them to it;
    (ii) partnerships meeting ``lowered_level`` of the same metric;
    (iii) if ``amalgamation`` is given: number of groups, smallest group size, groups meeting the
    standard on pooled capacity (without new money) and groups crossing a force boundary (if
    ``coterminosity`` is given).
    """
    rows: list[tuple[str, str, float, str]] = []
    unit = "FTE" if standard.metric == "fte_per_100k" else "£"
    n = len(capacity)
    cost = cost_to_standard(capacity, standard)
    i = "i: keep all, fund to standard"
    rows += [
        (i, "partnerships", n, "count"),
        (i, "standard", standard.level, standard.metric),
        (i, "partnerships below standard", cost.n_below, "count"),
        (i, "total shortfall", cost.total_shortfall, unit),
    ]
    if cost.total_cost is not None:
        rows.append((i, "annual cost to reach standard", cost.total_cost, "£"))
    ii = "ii: keep all, lower standard"
    met = count_meeting(capacity, standard.metric, [standard.level, lowered_level])
    rows += [
        (ii, "lowered standard", lowered_level, standard.metric),
        (ii, "partnerships meeting current standard", met.loc[0, "n_meeting"], "count"),
        (ii, "partnerships meeting lowered standard", met.loc[1, "n_meeting"], "count"),
    ]
    if amalgamation is not None:
        iii = "iii: amalgamate"
        pooled = group_capacity(capacity, amalgamation.labels)
        ok = count_meeting(pooled, standard.metric, [standard.level]).loc[0, "n_meeting"]
        rows += [
            (iii, "groups", len(amalgamation.groups), "count"),
            (iii, "size floor", amalgamation.floor, "population"),
            (iii, "smallest group", float(amalgamation.groups["size"].min()), "population"),
            (iii, "groups meeting standard on pooled capacity", ok, "count"),
        ]
        pooled_cost = cost_to_standard(pooled, standard)
        rows.append((iii, "total shortfall", pooled_cost.total_shortfall, unit))
        if pooled_cost.total_cost is not None:
            rows.append((iii, "annual cost to reach standard", pooled_cost.total_cost, "£"))
        if coterminosity is not None:
            rows.append(
                (
                    iii,
                    "groups crossing a force boundary",
                    int(coterminosity["crosses_force_boundary"].sum()),
                    "count",
                )
            )
    return pd.DataFrame(rows, columns=["option", "metric", "value", "unit"])
