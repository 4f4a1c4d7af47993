"""What anyone may see about an area: the list of areas, and an area's page (and its JSON): ward tables
with small numbers suppressed, the priorities its neighbourhood meetings chose and how their actions
are going, the partnership's priorities and its public assessment. No LSOA figures, no records."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from diogel.portal import isa, services
from diogel.portal.deps import Forbidden, get_db, portal_of
from diogel.portal.formats import frame_records, requested_format, serve, ward_frame
from diogel.portal.i18n import gettext as _
from diogel.portal.pact import neighbourhood_map
from diogel.portal.pages import render
from diogel.portal.publishing import public_areas, public_assessment
from diogel.portal.routes.priorities import priority_progress
from diogel.portal.state import Portal

router = APIRouter()


def public_index(request: Request) -> Response:
    portal = portal_of(request)
    return render(request, "public_index.html", areas=public_areas(portal, portal.config.public_areas))


serve(router, public_index, page="/public")


def public_data(s: Session, portal: Portal, code: str) -> dict[str, Any]:
    """What anyone may see about an area: ward tables with small numbers suppressed, the priorities
    neighbourhood meetings chose and how their actions are going. No LSOA figures, no records."""
    try:
        area = portal.views.area(code)
    except KeyError:
        raise HTTPException(404, _("no partnership area %(code)r", code=code)) from None
    if isa.level_for(s, None, "police-street") != "public":
        raise Forbidden(_("the agreement does not publish police.uk figures"))
    table, rule, months = portal.views.ward_table(code)
    meetings = services.meetings_in(s, set(neighbourhood_map(portal, code)))
    chosen = [
        {
            "neighbourhood": m.neighbourhood_name,
            "date": m.meeting_date.isoformat(),
            "priorities": [p.theme for p in m.priorities if p.chosen],
            "actions_done": sum(a.status == "done" for a in m.actions),
            "actions_total": len(m.actions),
        }
        for m in meetings[:20]
    ]
    totals = table["Total"] if "Total" in table.columns else pd.Series(dtype="Int64")
    adopted = priority_progress(portal, code, services.priorities_in(s, code, include_retired=False))
    return {
        "assessment": public_assessment(s, code),
        "priorities": adopted,
        "area": area,
        "table": table,
        "rule": rule,
        "months": months,
        "meetings": chosen,
        "totals": totals,
    }


def public_area(request: Request, area_code: str, s: Session = Depends(get_db)) -> Response:
    """The public page's data: suppressed ward tables and neighbourhood priorities."""
    data = public_data(s, portal_of(request), area_code)
    if requested_format(request) == "json":
        return {  # type: ignore[return-value]
            "area_code": data["area"].code,
            "area_name": data["area"].name,
            "months": data["months"],
            "rule": data["rule"],
            "wards": frame_records(ward_frame(data["table"])),
            "meetings": data["meetings"],
            "priorities": data["priorities"],
        }
    return render(request, "public_area.html", **data)


serve(
    router, public_area, page="/public/{area_code}", api="/api/public/{area_code}", api_name="api_public",
    response_model=dict[str, Any],
)  # fmt: skip
