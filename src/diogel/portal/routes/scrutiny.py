"""The scrutiny pack for members (area-level access to police.uk data): area totals and trends, the
suppressed ward table, meetings and their representativeness, overdue actions, standards, the
priorities and targets. One handler answers the page and the JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from diogel.portal import performance, published, services
from diogel.portal.deps import area_for, area_level, get_db, portal_of
from diogel.portal.formats import frame_records, requested_format, serve, ward_frame
from diogel.portal.models import User
from diogel.portal.pact import meeting_representation, neighbourhood_map, residence_representation
from diogel.portal.pages import render
from diogel.portal.routes.dashboard import dashboard_data
from diogel.portal.routes.priorities import priority_progress

router = APIRouter()


def scrutiny(request: Request, user: User = Depends(area_level), s: Session = Depends(get_db)) -> Response:
    """The scrutiny pack's figures: area totals and trends, suppressed ward table, standards."""
    portal = portal_of(request)
    code = area_for(portal, None)
    table, rule, months = portal.views.ward_table(code)
    trends, trend_rule = published.area_trends(portal.views, code)
    if requested_format(request) == "json":
        return {  # type: ignore[return-value]
            "area_code": code,
            "window": portal.views.windows(code)[3],
            # The same suppressed counts as the scrutiny page (null where suppressed).
            "trends": trends,
            "trend_rule": trend_rule,
            "wards": frame_records(ward_frame(table)),
            "rule": rule,
            "standards": services.standards_comparison(s, code),
        }
    d = dashboard_data(s, portal, code)
    meetings = services.meetings_in(s, set(neighbourhood_map(portal, code)))
    reps = {m.id: meeting_representation(portal, m) for m in meetings[:12]}
    today = dt.date.today()
    overdue = [
        (m, a)
        for m in meetings
        for a in m.actions
        if a.status in ("open", "in progress") and a.review_date and a.review_date < today
    ]
    return render(
        request, "scrutiny.html", residence=residence_representation(portal, meetings, code), d=d, trends=trends,
        trend_rule=trend_rule, window=portal.views.window_bounds(code), table=table, rule=rule, months=months,
        meetings=meetings[:12], reps=reps, overdue=overdue, cmp=services.standards_comparison(s, code),
        assessment=services.latest_published(s), priorities=priority_progress(portal, code, services.priorities_in(s, code)),
        targets=performance.progress_rows(portal, s, code),
    )  # fmt: skip


serve(
    router,
    scrutiny,
    page="/scrutiny",
    api="/api/scrutiny",
    api_name="api_scrutiny",
    response_model=dict[str, Any],
)
