"""PACT meetings as CSV, both ways: export the store's meetings in the layout ``diogel ingest pact``
reads, and import such a file through the warehouse's own PACT validation into the same store.

The portal's database is the one PACT store: meetings entered on the form, imported here or loaded
with ``diogel ingest pact`` all appear under "PACT meetings", and ``diogel assess`` reads them
(:mod:`diogel.portal.store`).
"""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from diogel.portal import uploads
from diogel.portal.app import expected_csrf, get_db, portal_of, require_roles
from diogel.portal.i18n import gettext as _
from diogel.portal.models import Meeting, User
from diogel.portal.views import Dataset

__all__ = ["EXPORT_COLUMNS", "meetings_csv", "router"]

router = APIRouter(include_in_schema=False)

PARTNERS = ("analyst", "contributor", "viewer", "member")
RECORDERS = ("analyst", "contributor")
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


@router.get("/meetings.csv")
def export_meetings(
    request: Request, user: User = Depends(require_roles(*PARTNERS)), s: Session = Depends(get_db)
) -> Response:
    from diogel.portal.web import area_for, neighbourhood_map

    portal = portal_of(request)
    codes = set(neighbourhood_map(portal, area_for(portal, None)))
    rows = s.execute(select(Meeting).order_by(Meeting.meeting_date, Meeting.id)).scalars()
    text = meetings_csv([m for m in rows if m.neighbourhood_code in codes])
    return Response(text, media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="pact-meetings.csv"'})  # fmt: skip


@router.post("/meetings/import")
async def import_meetings(
    request: Request, user: User = Depends(require_roles(*RECORDERS)), s: Session = Depends(get_db)
) -> Response:
    """Load a PACT CSV into the warehouse (validated, with its row accounting) and its meetings into the store."""
    from starlette.concurrency import run_in_threadpool

    from diogel.portal.store import ingested_pact, record_ingested_pact

    portal = portal_of(request)
    received = await uploads.receive(
        request, portal.config.data_dir / "uploads", portal.config.max_upload_mb << 20, expected_csrf(request),
        bool(getattr(request.state, "csrf_checked", False)),
    )  # fmt: skip
    try:
        if received.path is None:
            raise HTTPException(400, _("choose a PACT CSV file to import"))
        results = await run_in_threadpool(portal.views.ingest, PACT, str(received.path))
    finally:
        received.cleanup()
    loaded = [r.file_id for r in results if r.status == "loaded" and r.file_id]
    if not loaded:
        problems = "; ".join(str(r.error or r.status) for r in results)[:300]
        raise HTTPException(400, _("the PACT file was not loaded: %(why)s", why=problems))
    with portal.views.reading() as wh:
        rows = ingested_pact(wh, loaded)
    record_ingested_pact(s, rows, user.username)
    s.commit()
    portal.pact_epoch += 1
    return RedirectResponse("/meetings", status_code=303)


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
