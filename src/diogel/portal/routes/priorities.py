"""The partnership's priorities: each with the area's recorded count of its crime type now and
before (suppressed as the published trends), and the analyst's forms to adopt and update them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from diogel.portal import published, services
from diogel.portal.deps import PARTNERS, area_for, found, get_db, portal_of, require_roles
from diogel.portal.formats import serve
from diogel.portal.i18n import gettext as _
from diogel.portal.models import PRIORITY_STATUSES, PartnershipPriority, User
from diogel.portal.pages import redirect, render
from diogel.portal.services import PortalError
from diogel.portal.state import Portal

router = APIRouter()


def priority_progress(portal: Portal, code: str, rows: list[PartnershipPriority]) -> list[dict[str, Any]]:
    """Each priority with the area's recorded count of its crime type in the headline trends'
    window and the window before (police.uk, counting rules), suppressed exactly as the published
    trends (:func:`diogel.portal.published.area_trends`): None where hidden."""
    trends, _rule = published.area_trends(portal.views, code)
    counts = published.trend_counts(trends)
    _months, _current, previous, _words = portal.views.windows(code)
    out = []
    for r in rows:
        item: dict[str, Any] = {
            "id": r.id, "title": r.title, "aim": r.aim, "crime_type": r.crime_type,
            "adopted_on": r.adopted_on.isoformat(), "status": r.status, "progress": r.progress,
            "now": None, "before": None, "percent_change": None, "window": portal.views.window_bounds(code),
        }  # fmt: skip
        if r.crime_type and previous:
            # A crime type with no record in either window counts 0 (shown: a zero is not disclosive).
            now, before = counts.get(r.crime_type, (0, 0))
            item["now"], item["before"] = now, before
            if now is not None and before:
                item["percent_change"] = round(100.0 * (now - before) / before, 1)
        out.append(item)
    return out


def priorities(
    request: Request, user: User = Depends(require_roles(*PARTNERS)), s: Session = Depends(get_db)
) -> Response:
    return priorities_page(request, s, user, None)


serve(router, priorities, page="/priorities")


def priorities_page(
    request: Request, s: Session, user: User, error: str | None, status: int = 200
) -> Response:
    from diogel.analysis.harm import POLICEUK_CRIME_TYPES

    portal = portal_of(request)
    code = area_for(portal, None)
    return render(
        request, "priorities.html", status_code=status, items=priority_progress(portal, code, services.priorities_in(s, code)),
        can_edit=user.role == "analyst", crime_types=POLICEUK_CRIME_TYPES, statuses=PRIORITY_STATUSES,
        error=error, today=dt.date.today().isoformat(),
    )  # fmt: skip


def priority_create(
    request: Request,
    title: str = Form(""),
    aim: str = Form(""),
    crime_type: str = Form(""),
    adopted_on: str = Form(""),
    progress: str = Form(""),
    user: User = Depends(require_roles("analyst")),
    s: Session = Depends(get_db),
) -> Response:
    portal = portal_of(request)
    data = {
        "title": title,
        "aim": aim,
        "crime_type": crime_type,
        "adopted_on": adopted_on,
        "progress": progress,
    }
    try:
        services.save_priority(s, user, area_for(portal, None), data)
    except PortalError as exc:
        s.rollback()
        return priorities_page(request, s, user, str(exc), 400)
    s.commit()
    return redirect("/priorities")


serve(router, priority_create, page="/priorities", method="POST")


def priority_update(
    request: Request,
    priority_id: int,
    status: str = Form(""),
    progress: str = Form(""),
    user: User = Depends(require_roles("analyst")),
    s: Session = Depends(get_db),
) -> Response:
    row = found(s, PartnershipPriority, priority_id, _("no such priority"))
    try:
        services.save_priority(s, user, row.area_code, {"status": status, "progress": progress}, row)
    except PortalError as exc:
        s.rollback()
        return priorities_page(request, s, user, str(exc), 400)
    s.commit()
    return redirect("/priorities")


serve(router, priority_update, page="/priorities/{priority_id}", method="POST")
