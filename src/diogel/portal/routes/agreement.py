"""The information sharing agreement: who sees each dataset at which level, and which agencies may
upload it (the partnership administrator's; page and JSON), with its two forms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from diogel.portal import audit, isa
from diogel.portal.db import row_by_id
from diogel.portal.deps import get_db, partnership_only, portal_of
from diogel.portal.formats import requested_format, serve
from diogel.portal.i18n import gettext as _
from diogel.portal.models import (
    AGENCY_KINDS,
    LEVELS,
    ROLES,
    AccessGrant,
    Agency,
    AuditEntry,
    UploadGrant,
    User,
)
from diogel.portal.pages import redirect, render

router = APIRouter()


def admin_agreement(
    request: Request, user: User = Depends(partnership_only), s: Session = Depends(get_db)
) -> Response:
    portal = portal_of(request)
    access = s.execute(select(AccessGrant).order_by(AccessGrant.dataset, AccessGrant.role)).scalars().all()
    uploads = s.execute(select(UploadGrant).order_by(UploadGrant.dataset)).scalars().all()
    if requested_format(request) == "json":
        return {  # type: ignore[return-value]
            "access": [
                {"dataset": g.dataset, "role": g.role, "agency_kind": g.agency_kind, "level": g.level}
                for g in access
            ],
            "uploads": [{"dataset": g.dataset, "agency": g.agency.name} for g in uploads],
        }
    agencies = s.execute(select(Agency).order_by(Agency.name)).scalars().all()
    return render(
        request, "admin_agreement.html", access=access, uploads=uploads, agencies=agencies, datasets=portal.datasets,
        titles={name: ds.title for name, ds in portal.datasets.items()},
        roles=(*ROLES, "public"), levels=LEVELS, kinds=AGENCY_KINDS,
    )  # fmt: skip


serve(
    router, admin_agreement, page="/admin/agreement", api="/api/agreement", api_name="api_agreement",
    response_model=dict[str, Any],
)  # fmt: skip


def admin_agreement_access(
    request: Request,
    dataset: str = Form(...),
    role: str = Form(...),
    agency_kind: str = Form(""),
    level: str = Form(...),
    user: User = Depends(partnership_only),
    s: Session = Depends(get_db),
) -> Response:
    portal = portal_of(request)
    if (
        dataset not in portal.datasets
        or role not in (*ROLES, "public")
        or (agency_kind and agency_kind not in AGENCY_KINDS)
    ):
        raise HTTPException(400, _("unknown dataset, role or agency kind"))
    if level not in (*LEVELS, "none"):
        raise HTTPException(400, _("unknown level"))
    if role == "public" and level not in ("public", "none"):
        raise HTTPException(400, _("anonymous visitors can only be given the public level"))
    isa.set_access(s, dataset, role, agency_kind or None, None if level == "none" else level)
    audit.append(
        s,
        user.username,
        "agreement.access",
        dataset,
        {"role": role, "agency_kind": agency_kind or None, "level": level},
    )
    s.commit()
    return redirect("/admin/agreement")


serve(router, admin_agreement_access, page="/admin/agreement/access", method="POST")


def admin_agreement_upload(
    request: Request,
    dataset: str = Form(...),
    agency_id: int = Form(...),
    allowed: str = Form("yes"),
    user: User = Depends(partnership_only),
    s: Session = Depends(get_db),
) -> Response:
    agency = row_by_id(s, Agency, agency_id)
    if dataset not in portal_of(request).datasets or agency is None:
        raise HTTPException(400, _("unknown dataset or agency"))
    isa.set_upload(s, dataset, agency_id, allowed == "yes")
    audit.append(
        s, user.username, "agreement.upload", dataset, {"agency": agency.name, "allowed": allowed == "yes"}
    )
    s.commit()
    return redirect("/admin/agreement")


serve(router, admin_agreement_upload, page="/admin/agreement/upload", method="POST")


def admin_audit(
    request: Request, user: User = Depends(partnership_only), s: Session = Depends(get_db)
) -> Response:
    # The audit chain's check (and, on the page, its latest 200 entries); no docstring, so the
    # API's description stays as it was.
    result = audit.verify(s)
    if requested_format(request) == "json":
        return result.__dict__  # type: ignore[return-value]
    entries = s.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(200)).scalars().all()
    return render(request, "admin_audit.html", result=result, entries=entries)


serve(
    router, admin_audit, page="/admin/audit", api="/api/audit/verify", api_name="api_audit_verify",
    response_model=dict[str, Any],
)  # fmt: skip
