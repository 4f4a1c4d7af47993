"""Areas by LSOA membership, and moving LSOA measures between the 2011 and 2021 vintages.

police.uk uses 2011 LSOA codes before 2023 and 2021 codes after, mixed within some months, and
every force file holds crimes located in other forces' areas. So an area (local authority, CSP,
police force area) is always the set of LSOAs that belong to it, never the "Falls within" force.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import numpy as np
import pandas as pd

from diogel.errors import DiogelError
from diogel.warehouse.counting import counted

if TYPE_CHECKING:
    from diogel.warehouse.protocol import Warehouse

LEVELS = ("lsoa", "ward", "la", "csp", "force")


def lsoa_membership(wh: Warehouse) -> ibis.Table:
    """One row per LSOA code (either vintage) and CSP: lsoa_code, ward, la, csp and force codes and names;
    ``ward_name_cy``, the ward's Welsh name where the lookup has one (null otherwise).

    A 2021 LSOA takes its ward and local authority from the newest LSOA->ward->LA lookup loaded. A
    2011 LSOA takes them from a 2011 lookup if one is loaded, otherwise through the 2011->2021
    lookup (the LA of its 2021 successor; for the rare irregular change crossing an LA boundary,
    the successor with the lowest code). The CSP and force come from the newest LA->CSP->force
    lookup for that LA; where an LA belongs to several CSPs (England, 2024) it has several rows.
    """
    ward = counted(wh, "lookup-lsoa-ward-la")
    # A warehouse made before the Welsh ward names has no such column until its next lookup ingest.
    cy = ward.ward_name_cy if "ward_name_cy" in ward.columns else ibis.null("string")
    ward = ward.select(
        "lsoa_code",
        "lsoa_vintage",
        "ward_code",
        "ward_name",
        "la_code",
        "la_name",
        "la_year",
        ward_name_cy=cy,
    )
    newest = ibis.row_number().over(ibis.window(group_by=ward.lsoa_code, order_by=ibis.desc(ward.la_year)))
    direct = ward.mutate(_n=newest).filter(lambda t: t._n == 0).drop("_n", "la_year")
    if wh.has("lookup_lsoa11_lsoa21"):
        l1121 = counted(wh, "lookup-lsoa11-lsoa21")
        succ = l1121.inner_join(
            direct.filter(direct.lsoa_vintage == 2021), l1121.lsoa21_code == direct.lsoa_code
        )
        succ = succ.select(
            lsoa_code=succ.lsoa11_code,
            lsoa_vintage=ibis.literal(2011, "int32"),
            ward_code=succ.ward_code,
            ward_name=succ.ward_name,
            la_code=succ.la_code,
            la_name=succ.la_name,
            ward_name_cy=succ.ward_name_cy,
            _rank=succ.lsoa21_code,
        )
        first = ibis.row_number().over(ibis.window(group_by=succ.lsoa_code, order_by=succ._rank))
        succ = succ.mutate(_n=first).filter(lambda t: t._n == 0).drop("_n", "_rank")
        succ = succ.anti_join(direct, "lsoa_code")
        direct = direct.union(succ, distinct=False)
    membership = direct
    if wh.has("lookup_la_csp_force"):
        csp = counted(wh, "lookup-la-csp-force").select(
            "la_code", "csp_code", "csp_name", "force_code", "force_name", "year"
        )
        latest = csp.group_by("la_code").aggregate(year=csp.year.max())
        csp = csp.semi_join(latest, ["la_code", "year"]).drop("year")
        membership = membership.left_join(csp, "la_code").drop("la_code_right")
    else:
        membership = membership.mutate(
            csp_code=ibis.null("string"), csp_name=ibis.null("string"),
            force_code=ibis.null("string"), force_name=ibis.null("string"),
        )  # fmt: skip
    return membership


def resolve_area(wh: Warehouse, area: str, membership: pd.DataFrame | None = None) -> tuple[str, str, str]:
    """Find ``area`` (a code or a name of an LSOA, ward, LA, CSP or force): (level, code, name).

    ``membership``: :func:`lsoa_membership` already executed (a caller that keeps it), else read here.
    """
    m = wh.execute(lsoa_membership(wh)) if membership is None else membership
    needle = area.strip().casefold()
    for level in ("la", "csp", "force", "ward", "lsoa"):
        code_col = f"{level}_code"
        name_col = f"{level}_name" if f"{level}_name" in m.columns else code_col
        found = (m[code_col].str.casefold() == needle) | (m[name_col].fillna("").str.casefold() == needle)
        if level == "ward" and "ward_name_cy" in m.columns:  # a ward by its Welsh name too (Caerllion)
            found |= m["ward_name_cy"].fillna("").str.casefold() == needle
        hit = m[found]
        if not hit.empty:
            return level, hit[code_col].iloc[0], str(hit[name_col].iloc[0])
    raise DiogelError(
        f"no area {area!r}: give a local authority, CSP, police force area, ward or LSOA code or name "
        "(load the geography lookups first: diogel init --reference wales)"
    )


def area_lsoas(wh: Warehouse, area: str) -> list[str]:
    """The LSOA codes (both vintages) that make up ``area``."""
    level, code, _ = resolve_area(wh, area)
    m = wh.execute(lsoa_membership(wh))
    return sorted(m.loc[m[f"{level}_code"] == code, "lsoa_code"].unique())


def harmonise(
    frame: pd.DataFrame,
    to_vintage: int,
    lookup: pd.DataFrame,
    population: pd.DataFrame | None = None,
    value_columns: list[str] | None = None,
    by: list[str] | None = None,
) -> pd.DataFrame:
    """Bring an LSOA-level measure, on any mix of 2011 and 2021 codes, to one vintage.

    Parameters
    ----------
    frame : a ``lsoa_code`` column, the ``value_columns`` to move, and optional ``by`` columns
        (e.g. month, crime_type) kept as they are.
    to_vintage : 2011 or 2021.
    lookup : the 2011->2021 lookup: ``lsoa11_code``, ``lsoa21_code``, ``change_code`` (U/S/M/X).
    population : ``lsoa_code``, ``population`` on the TARGET vintage, used to apportion a value
        whose source LSOA maps to several target LSOAs (2011 S going to 2021, 2021 M going to
        2011, X either way). Without it the value is shared equally, which the result flags.

    Returns
    -------
    The frame summed to target codes: unchanged codes keep their value; several sources merging
    into one target are summed; one source splitting into several targets is apportioned with
    weights ``pop_target / sum(pop_targets of that source)``. Totals are preserved exactly (up to
    floating point). A column ``apportioned`` says whether any part of the value was apportioned.
    Codes already on the target vintage pass through; codes not in the lookup are kept as they
    are and listed in ``frame.attrs['unmatched']``.
    """
    if to_vintage not in (2011, 2021):
        raise ValueError("to_vintage must be 2011 or 2021")
    by = list(by or [])
    value_columns = list(value_columns or [c for c in frame.columns if c not in by and c != "lsoa_code"])
    src, dst = ("lsoa21_code", "lsoa11_code") if to_vintage == 2011 else ("lsoa11_code", "lsoa21_code")
    pairs = lookup[[src, dst]].drop_duplicates()
    target_codes = set(pairs[dst])
    # Codes unchanged between vintages appear in both columns: they are already on the target.
    # (A set lookup per row: pandas' isin on Arrow strings turns each of the ~35,000 target codes
    # into an Arrow scalar first, 0.15 s a call, which every assessment paid.)
    on_target = pd.Series(
        np.fromiter((code in target_codes for code in frame.lsoa_code), dtype=bool, count=len(frame)),
        index=frame.index,
    )
    moving = frame[~on_target]
    staying = frame[on_target].assign(apportioned=False)
    mapped = moving.merge(pairs, left_on="lsoa_code", right_on=src, how="left")
    unmatched = sorted(mapped.loc[mapped[dst].isna(), "lsoa_code"].unique())
    kept = mapped[mapped[dst].isna()].drop(columns=[src, dst]).assign(apportioned=False)
    mapped = mapped[mapped[dst].notna()].copy()
    fan_out = pairs.groupby(src)[dst].transform("nunique")
    pairs = pairs.assign(_fan=fan_out.values)
    if population is not None:
        pop = population.set_index("lsoa_code")["population"]
        pairs["_w"] = pairs[dst].map(pop).astype(float)
        total = pairs.groupby(src)["_w"].transform("sum")
        pairs["_w"] = np.where(total > 0, pairs["_w"] / total, 1.0 / pairs["_fan"])
        equal = False
    else:
        pairs["_w"] = 1.0 / pairs["_fan"]
        equal = True
    # mapped already has one row per (source row, target): attach each pair's weight once, so a
    # split source is not multiplied by its number of targets.
    mapped = mapped.merge(pairs, on=[src, dst])
    for c in value_columns:
        mapped[c] = mapped[c] * mapped["_w"]
    mapped["apportioned"] = mapped["_fan"] > 1
    mapped = mapped.drop(columns=["lsoa_code", src, "_w", "_fan"]).rename(columns={dst: "lsoa_code"})
    out = pd.concat([staying, kept, mapped], ignore_index=True)
    out = out.groupby(["lsoa_code", *by], as_index=False, dropna=False).agg(
        {**{c: "sum" for c in value_columns}, "apportioned": "max"}
    )
    out.attrs["unmatched"] = unmatched
    out.attrs["equal_split"] = equal and bool(out["apportioned"].any())
    return out
