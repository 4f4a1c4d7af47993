"""PACT meetings read for the pages: the votes the priorities score, who attended against who lives
there, and the meetings as CSV, both ways: export the store's meetings in the layout ``diogel ingest pact``
reads, and import such a file through the warehouse's own PACT validation into the same store.

The portal's database is the one PACT store: meetings entered on the form, imported here or loaded
with ``diogel ingest pact`` all appear under "PACT meetings", and ``diogel assess`` reads them
(:mod:`diogel.portal.store`).
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy.orm import Session

from diogel.portal import services
from diogel.portal.models import Meeting
from diogel.portal.views import Dataset, representation

if TYPE_CHECKING:
    from diogel.portal.state import Portal

__all__ = ["EXPORT_COLUMNS", "meetings_csv", "pact_frame"]

#: The first five are the columns ``diogel ingest pact`` reads; the rest it ignores.
EXPORT_COLUMNS = ["meeting_date", "neighbourhood", "lsoa_code", "theme", "votes", "chosen", "attendees",
                  "ward_code", "source"]  # fmt: skip
PACT = Dataset("pact", "PACT meeting priorities", "pact")


def meetings_csv(meetings: list[Meeting]) -> str:
    """One line per issue voted on, meetings in date order (a meeting with no issue has one blank line)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(EXPORT_COLUMNS)
    for m in meetings:
        base = [m.meeting_date.isoformat(), m.neighbourhood_name, ""]
        tail = ["" if m.attendees is None else m.attendees, m.neighbourhood_code, m.source or "portal"]
        for p in m.priorities or [None]:
            w.writerow(
                base + (["", "", ""] if p is None else [p.theme, p.votes, "yes" if p.chosen else "no"]) + tail
            )
    return buf.getvalue()


def ward_adults(portal, area_code: str) -> dict[str, float]:  # noqa: ANN001
    """Residents aged 18 and over per ward of the area (latest mid-year estimates, 2021 LSOAs)."""
    lsoas = portal.views.lsoas21(area_code)[["lsoa_code", "ward_code"]]
    pop = portal.views.population_by_age(area_code)
    adults = pop[pop["age"] >= 18].merge(lsoas, on="lsoa_code").groupby("ward_code")["persons"].sum()
    return {str(k): float(v) for k, v in adults.items()}


def residence_representation(portal, meetings: list[Meeting], area_code: str):  # noqa: ANN001, ANN201
    """Where the area's meeting attendees live (wards of residence recorded, pooled over the
    meetings) against where its adult residents live: :func:`diogel.analysis.representation.compare_profile`.
    None when no meeting recorded wards of residence. Attendees living outside the area are left out."""
    from diogel.analysis.representation import compare_profile

    residents = ward_adults(portal, area_code)
    pooled: dict[str, int] = {}
    for m in meetings:
        for code, n in ((m.profile or {}).get("ward") or {}).items():
            if code in residents:
                pooled[code] = pooled.get(code, 0) + int(n)
    result = compare_profile(pooled, residents)
    if result is None:
        return None
    names = dict(portal.views.neighbourhoods(area_code))
    return result, {g["group"]: names.get(str(g["group"]), str(g["group"])) for g in result.groups}


def neighbourhood_map(portal: Portal, area: str) -> dict[str, str]:
    return dict(portal.views.neighbourhoods(area))


def pact_frame(s: Session, portal: Portal, area: str) -> pd.DataFrame:
    """PACT votes in the area's neighbourhoods, as :func:`community_concern` reads them."""
    codes = {c for c, _ in portal.views.neighbourhoods(area)}
    rows = [
        {
            "meeting_date": m.meeting_date,
            "neighbourhood": m.neighbourhood_code,
            "theme": p.theme,
            "votes": p.votes,
        }
        for m in services.meetings_in(s, codes)
        for p in m.priorities
    ]
    return pd.DataFrame(rows, columns=["meeting_date", "neighbourhood", "theme", "votes"])


def meeting_representation(portal: Portal, m: Meeting):  # noqa: ANN201
    area = portal.default_area()
    for a in portal.views.areas():
        if m.neighbourhood_code in dict(portal.views.neighbourhoods(a.code)):
            area = a.code
            break
    residents = portal.views.ward_age_profile(area, m.neighbourhood_code)
    return representation((m.profile or {}).get("age", {}), residents)
