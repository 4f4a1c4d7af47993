"""The national minimum standards self-assessment: hallmark by hallmark, year on year (page and JSON),
and the analyst's form for one year."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from diogel.portal import services
from diogel.portal.deps import PARTNERS, area_for, get_db, portal_of, require_roles
from diogel.portal.formats import requested_format, serve
from diogel.portal.models import User
from diogel.portal.pages import redirect, render
from diogel.portal.services import PortalError

router = APIRouter()


def standards(
    request: Request, user: User = Depends(require_roles(*PARTNERS)), s: Session = Depends(get_db)
) -> Response:
    """The national minimum standards self-assessments, hallmark by hallmark, year on year."""
    cmp = services.standards_comparison(s, area_for(portal_of(request), None))
    if requested_format(request) == "json":
        return cmp  # type: ignore[return-value]
    return render(
        request, "standards.html", cmp=cmp, can_edit=user.role == "analyst", this_year=dt.date.today().year
    )


serve(
    router, standards, page="/standards", api="/api/standards", api_name="api_standards",
    response_model=dict[str, Any],
)  # fmt: skip


def standards_edit(
    request: Request, year: int, user: User = Depends(require_roles("analyst")), s: Session = Depends(get_db)
) -> Response:
    portal = portal_of(request)
    cmp = services.standards_comparison(s, area_for(portal, None))
    current = {}
    if year in cmp["years"]:
        i = cmp["years"].index(year)
        current = {h["key"]: h["cells"][i] for h in cmp["hallmarks"] if h["cells"][i]}
    return render(
        request, "standards_edit.html", year=year, hallmarks=services.HALLMARKS, current=current, error=None
    )


serve(router, standards_edit, page="/standards/{year}/edit")


async def standards_save(
    request: Request, year: int, user: User = Depends(require_roles("analyst")), s: Session = Depends(get_db)
) -> Response:
    portal = portal_of(request)
    form = await request.form()
    ratings = {
        key: {
            "rag": form.get(f"{key}_rag"),
            "criteria_met": form.getlist(f"{key}_criteria"),
            "evidence": form.get(f"{key}_evidence") or "",
            "actions": form.get(f"{key}_actions") or "",
        }
        for key in services.HALLMARK_KEYS
    }
    try:
        services.save_standards(s, user, area_for(portal, None), year, ratings)
    except PortalError as exc:
        s.rollback()
        return render(
            request, "standards_edit.html", status_code=400, year=year, hallmarks=services.HALLMARKS,
            current=ratings, error=str(exc),
        )  # fmt: skip
    s.commit()
    return redirect("/standards")


serve(router, standards_save, page="/standards/{year}", method="POST")
