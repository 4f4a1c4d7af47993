"""Accounts and agencies: an agency's administrator manages their agency's accounts, a partnership
administrator every account and the agencies. Refusals are audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from diogel.portal import audit, services
from diogel.portal.db import row_by_id
from diogel.portal.deps import Forbidden, admin_only, get_db, partnership_only, portal_of
from diogel.portal.formats import requested_format, serve
from diogel.portal.i18n import gettext as _
from diogel.portal.models import AGENCY_KINDS, ROLES, Agency, User, utcnow
from diogel.portal.pages import redirect, render
from diogel.portal.services import PortalError

router = APIRouter()


def administered_users(s: Session, by: User) -> list[User]:
    q = select(User).order_by(User.username)
    if by.role != "partnership_admin":
        q = q.where(User.agency_id == by.agency_id)
    return list(s.execute(q).scalars())


def administered_agencies(s: Session, by: User) -> list[Agency]:
    q = select(Agency).order_by(Agency.name)
    if by.role != "partnership_admin":
        q = q.where(Agency.id == by.agency_id)
    return list(s.execute(q).scalars())


def admin_users(request: Request, user: User = Depends(admin_only), s: Session = Depends(get_db)) -> Response:
    """The accounts the caller administers (an agency's administrator: that agency's)."""
    if requested_format(request) == "json":
        return [  # type: ignore[return-value]
            {"id": u.id, "username": u.username, "role": u.role, "agency": u.agency.name, "active": u.active}
            for u in administered_users(s, user)
        ]
    return admin_users_page(request, s, user, None)


serve(
    router, admin_users, page="/admin/users", api="/api/users", api_name="api_users",
    response_model=list[dict[str, Any]],
)  # fmt: skip


def admin_users_page(
    request: Request, s: Session, by: User, error: str | None, status: int = 200
) -> Response:
    roles = ROLES if by.role == "partnership_admin" else tuple(r for r in ROLES if r != "partnership_admin")
    return render(
        request, "admin_users.html", status_code=status, users=administered_users(s, by),
        agencies=administered_agencies(s, by), roles=roles, error=error, now=utcnow(),
    )  # fmt: skip


def admin_user_create(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    role: str = Form(...),
    agency_id: int = Form(...),
    display_name: str = Form(""),
    user: User = Depends(admin_only),
    s: Session = Depends(get_db),
) -> Response:
    agency = row_by_id(s, Agency, agency_id)
    try:
        if agency is None:
            raise PortalError(_("choose an agency"))
        services.create_user(s, user, username, password, role, agency, display_name)
    except services.ScopeError as exc:
        s.rollback()
        audit.append(
            s, user.username, "admin.refused", username, {"action": "user.create", "agency_id": agency_id}
        )
        s.commit()
        raise Forbidden(str(exc)) from None
    except PortalError as exc:
        s.rollback()
        return admin_users_page(request, s, user, str(exc), 400)
    s.commit()
    return redirect("/admin/users")


serve(router, admin_user_create, page="/admin/users", method="POST")


def admin_user_change(
    request: Request,
    user_id: int,
    role: str | None = Form(None),
    agency_id: int | None = Form(None),
    active: str | None = Form(None),
    password: str | None = Form(None),
    unlock: str | None = Form(None),
    revoke: str | None = Form(None),
    user: User = Depends(admin_only),
    s: Session = Depends(get_db),
) -> Response:
    target = row_by_id(s, User, user_id)
    if target is None or not services.may_administer(user, target):
        # Another agency's accounts do not exist for an agency's administrator (the attempt is audited).
        audit.append(s, user.username, "admin.refused", str(user_id), {"action": "user.change"})
        s.commit()
        raise HTTPException(404, _("no such user"))
    try:
        services.change_user(
            s, user, target, role=role or None, agency_id=agency_id,
            active=None if active is None else active == "yes", password=password or None,
            unlock=unlock == "yes", revoke=revoke == "yes",
        )  # fmt: skip
    except services.ScopeError as exc:
        s.rollback()
        audit.append(s, user.username, "admin.refused", target.username, {"action": "user.change"})
        s.commit()
        raise Forbidden(str(exc)) from None
    except PortalError as exc:
        s.rollback()
        return admin_users_page(request, s, user, str(exc), 400)
    if unlock == "yes":
        portal_of(request).throttle.clear(target.username)
    s.commit()
    return redirect("/admin/users")


serve(router, admin_user_change, page="/admin/users/{user_id}", method="POST")


def agencies_page(request: Request, s: Session, error: str | None, status: int = 200) -> Response:
    agencies = s.execute(select(Agency).order_by(Agency.name)).scalars().all()
    return render(
        request, "admin_agencies.html", status_code=status, agencies=agencies, kinds=AGENCY_KINDS, error=error
    )


def admin_agencies(
    request: Request, user: User = Depends(partnership_only), s: Session = Depends(get_db)
) -> Response:
    return agencies_page(request, s, None)


serve(router, admin_agencies, page="/admin/agencies")


def admin_agency_create(
    request: Request,
    name: str = Form(...),
    kind: str = Form(...),
    user: User = Depends(partnership_only),
    s: Session = Depends(get_db),
) -> Response:
    try:
        services.create_agency(s, user, name, kind, list(portal_of(request).datasets))
    except PortalError as exc:
        s.rollback()
        return agencies_page(request, s, str(exc), 400)
    s.commit()
    return redirect("/admin/agencies")


serve(router, admin_agency_create, page="/admin/agencies", method="POST")
