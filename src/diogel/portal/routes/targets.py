"""Targets and the MoRiLE ratings: the partnership's targets with their progress, and the partner
judgements (vulnerability, capacity) of the priority matrix, with the analyst's forms."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from diogel.analysis.targets import MEASURES
from diogel.portal.deps import PARTNERS, area_for, get_db, portal_of, require_roles
from diogel.portal.formats import serve
from diogel.portal.models import User
from diogel.portal.pages import redirect, render
from diogel.portal.performance import progress_rows, ratings_in, save_ratings, save_target
from diogel.portal.services import PortalError

router = APIRouter()


def _page(request: Request, s: Session, user: User, error: str | None, status: int = 200) -> Response:
    portal = portal_of(request)
    code = area_for(portal, None)
    return render(
        request, "targets.html", status_code=status, items=progress_rows(portal, s, code), measures=MEASURES,
        can_edit=user.role == "analyst", error=error, this_month=dt.date.today().strftime("%Y-%m"),
    )  # fmt: skip


def targets_page(
    request: Request, user: User = Depends(require_roles(*PARTNERS)), s: Session = Depends(get_db)
) -> Response:
    return _page(request, s, user, None)


def target_create(
    request: Request,
    priority: str = Form(""),
    measure: str = Form(""),
    baseline_start: str = Form(""),
    baseline_end: str = Form(""),
    change: str = Form(""),
    level: str = Form(""),
    deadline: str = Form(""),
    user: User = Depends(require_roles("analyst")),
    s: Session = Depends(get_db),
) -> Response:
    data = {"priority": priority, "measure": measure, "baseline_start": baseline_start,
            "baseline_end": baseline_end, "change": change, "level": level, "deadline": deadline}  # fmt: skip
    try:
        save_target(s, user, area_for(portal_of(request), None), data)
    except PortalError as exc:
        s.rollback()
        return _page(request, s, user, str(exc), 400)
    s.commit()
    return redirect("/targets")


def _ratings_page(request: Request, s: Session, user: User, error: str | None, status: int = 200) -> Response:
    from diogel.analysis.harm import POLICEUK_CRIME_TYPES

    current = ratings_in(s, area_for(portal_of(request), None))
    rows = [(i, ct, current.get(ct)) for i, ct in enumerate(POLICEUK_CRIME_TYPES)]
    return render(
        request, "ratings.html", status_code=status, rows=rows, can_edit=user.role == "analyst", error=error
    )


def ratings_page(
    request: Request, user: User = Depends(require_roles(*PARTNERS)), s: Session = Depends(get_db)
) -> Response:
    return _ratings_page(request, s, user, None)


async def ratings_save(
    request: Request, user: User = Depends(require_roles("analyst")), s: Session = Depends(get_db)
) -> Response:
    form = await request.form()
    try:
        save_ratings(s, user, area_for(portal_of(request), None), {k: str(v) for k, v in form.items()})
    except PortalError as exc:
        s.rollback()
        return _ratings_page(request, s, user, str(exc), 400)
    s.commit()
    return redirect("/ratings")


serve(router, targets_page, page="/targets")
serve(router, target_create, page="/targets", method="POST")
serve(router, ratings_page, page="/ratings")
serve(router, ratings_save, page="/ratings", method="POST")
