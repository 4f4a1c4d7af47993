"""The PACT gatherer: Partners and Communities Together priorities placed in an area.

A row is placed by its LSOA code, else by a neighbourhood named like one of the area's wards (or its
local authority or CSP); the portal's meeting rows are read with the ingested ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diogel.gather.police import Period, SourceRef, source_refs
from diogel.warehouse.counting import counted

__all__ = ["place_pact"]


def place_pact(
    wh,
    period: Period,
    membership: pd.DataFrame,
    in_area: pd.DataFrame,
    level: str,
    code: str,
    name: str,
    extra: pd.DataFrame | None = None,
):  # noqa: ANN001, ANN202
    """PACT rows in the period placed in the area: by LSOA code, else by a neighbourhood named like a ward.
    ``extra``: the portal's meeting rows (file_id "portal"), read with the ingested ones."""
    summary = {"rows": 0, "votes": 0.0, "rows_in_area": 0, "votes_in_area": 0.0, "rows_elsewhere": 0,
               "rows_unplaced": 0, "votes_unplaced": 0.0}  # fmt: skip
    last_day = (period.end + pd.offsets.MonthEnd(0)).date()
    portal = pd.DataFrame()
    if extra is not None and not extra.empty:
        dates = pd.to_datetime(extra["meeting_date"]).dt.date
        portal = extra[(dates >= period.start.date()) & (dates <= last_day)].assign(
            file_id="portal", run_id=""
        )
    if not wh.has("pact_priorities") and portal.empty:
        return None, summary, []
    refs = [SourceRef("pact", "partnership portal: PACT meetings", "portal", "")] if not portal.empty else []
    df = portal
    if wh.has("pact_priorities"):
        t = counted(wh, "pact")
        t = t.filter((t.meeting_date >= period.start.date()) & (t.meeting_date <= last_day))
        ingested = wh.execute(
            t.select("meeting_date", "neighbourhood", "lsoa_code", "theme", "votes", "file_id", "run_id")
        )
        if not portal.empty:
            # A meeting entered in the portal and also loaded from a file (an export re-imported) counts once.
            def key(f: pd.DataFrame) -> pd.Series:
                return (
                    pd.to_datetime(f["meeting_date"]).dt.strftime("%Y-%m-%d")
                    + "|"
                    + f["neighbourhood"].fillna("").str.strip().str.casefold()
                )

            ingested = ingested[~key(ingested).isin(set(key(portal)))]
        df = pd.concat([ingested, portal], ignore_index=True) if not portal.empty else ingested
        refs = source_refs(wh, "pact", t) + refs
    if df.empty:
        return df, summary, refs
    area_lsoas = set(in_area["lsoa_code"])
    all_lsoas = set(membership["lsoa_code"])
    area_places = {str(n).casefold() for n in in_area["ward_name"].dropna()} | {
        str(n).casefold() for n in in_area["la_name"].dropna()
    }
    if level == "csp":
        area_places |= {str(n).casefold() for n in in_area["csp_name"].dropna()}
    all_places = {str(n).casefold() for col in ("ward_name", "la_name") for n in membership[col].dropna()}
    hood = df["neighbourhood"].fillna("").str.strip().str.casefold()
    by_lsoa = df["lsoa_code"].notna()
    in_by_lsoa = by_lsoa & df["lsoa_code"].isin(area_lsoas)
    in_by_name = ~by_lsoa & hood.isin(area_places)
    known = (by_lsoa & df["lsoa_code"].isin(all_lsoas)) | (~by_lsoa & hood.isin(all_places))
    df["placed_by"] = np.where(
        in_by_lsoa, "LSOA code", np.where(in_by_name, "neighbourhood named as a ward", "")
    )
    inside = in_by_lsoa | in_by_name
    summary = {
        "rows": len(df),
        "votes": float(df["votes"].sum()),
        "rows_in_area": int(inside.sum()),
        "votes_in_area": float(df.loc[inside, "votes"].sum()),
        "rows_elsewhere": int((~inside & known).sum()),
        "rows_unplaced": int((~inside & ~known).sum()),
        "votes_unplaced": float(df.loc[~inside & ~known, "votes"].sum()),
    }
    out = df[inside].copy()
    out["meeting_date"] = pd.to_datetime(out["meeting_date"])
    return out.reset_index(drop=True), summary, refs
