"""The JSON API: the same data as the pages, under the same permissions (the same dependencies).

Authentication is the session cookie set by ``POST /login``; unsafe methods also need the
``X-CSRF-Token`` header with the browser's CSRF token (``GET /api/me`` returns it).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from diogel.portal import audit, isa, published, services
from diogel.portal.app import (
    area_level,
    csrf_token,
    current_user,
    dashboard_level,
    get_db,
    portal_of,
    require_level,
    require_roles,
    require_user,
)
from diogel.portal.i18n import gettext as _
from diogel.portal.models import ACTION_STATUSES, ADMIN_ROLES, Meeting, PublishedAssessment, User
from diogel.portal.services import PortalError
from diogel.portal.views import Dataset
from diogel.portal.web import (
    PARTNERS,
    RECORDERS,
    UPLOAD_BODY,
    administered_users,
    area_for,
    dashboard_data,
    meeting_representation,
    neighbourhood_map,
    police_only,
    public_data,
    receive_upload,
    uploader,
    visible_upload,
)

router = APIRouter(prefix="/api", tags=["api"])


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-safe records (pandas NA and NaN become null, numpy scalars Python ones)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in clean.to_dict("records")
    ]


def json_bytes(payload: Any) -> bytes:
    """Strict JSON (NaN is refused, so a missing value must already be null)."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


class JSONBytes(Response):
    """A response of JSON already encoded (and cached) by :func:`json_bytes`."""

    media_type = "application/json"


def ward_records(portal, code: str) -> tuple[list[dict[str, Any]], str, list[str]]:  # noqa: ANN001
    """The suppressed ward table as JSON records, cached with the table (it is read on every visit)."""

    def compute() -> tuple[list[dict[str, Any]], str, list[str]]:
        table, rule, months = portal.views.ward_table(code)
        return frame_records(table.reset_index().rename(columns={"ward_name": "ward"})), rule, months

    return portal.views.cached(("ward_json", code), compute)


class Me(BaseModel):
    role: str
    username: str | None = None
    agency: str | None = None
    csrf_token: str
    levels: dict[str, str | None]


@router.get("/me", response_model=Me)
def me(request: Request, user: User | None = Depends(current_user), s: Session = Depends(get_db)) -> Me:
    """Who the caller is, the CSRF token to send back, and the caller's level on each dataset."""
    portal = portal_of(request)
    return Me(
        role=user.role if user else "public",
        username=user.username if user else None,
        agency=user.agency.name if user else None,
        csrf_token=csrf_token(request),
        levels={d: isa.level_for(s, user, d) for d in portal.datasets},
    )


@router.get("/datasets")
def list_datasets(
    request: Request, user: User | None = Depends(current_user), s: Session = Depends(get_db)
) -> list[dict[str, Any]]:
    """Every dataset of the agreement with the caller's level and whether the caller may upload it."""
    portal = portal_of(request)
    return [
        {
            "name": d.name,
            "title": d.title,
            "level": isa.level_for(s, user, d.name),
            "upload": isa.can_upload(s, user, d.name),
        }
        for d in portal.datasets.values()
    ]


@router.get("/dashboard", response_model=dict[str, Any])
def api_dashboard(
    request: Request,
    area: str | None = None,
    user: User = Depends(dashboard_level),
    s: Session = Depends(get_db),
) -> Response:
    """Headline trends, hot spots and candidate priorities for an area (LSOA level)."""
    portal = portal_of(request)
    code = area_for(portal, area)
    epoch = portal.pact_epoch  # read once: see web.dashboard

    def compute() -> bytes:
        d = dashboard_data(s, portal, code, epoch)
        return json_bytes({
            "area_code": d.area_code,
            "area_name": d.area_name,
            "window": d.window,
            "months": d.months,
            "total_12m": d.total_12m,
            "trends": [
                {**t.__dict__, "percent_change": None if t.percent_change != t.percent_change else t.percent_change,
                 "p_value": None if t.p_value != t.p_value else t.p_value}
                for t in d.trends
            ],
            "hotspots": frame_records(pd.DataFrame(d.hotspots)),
            "priorities": d.priorities,
        })  # fmt: skip

    # The same bytes for everyone allowed to see them (the permission check is the dependency's),
    # cached with the dashboard: encoding the figures again on every call cost more than reading them.
    return JSONBytes(portal.views.cached(("dashboard_json", code, epoch), compute))


@router.get("/datasets/{dataset}/records")
def api_records(
    request: Request,
    ds: Dataset = Depends(require_level("record")),
    user: User = Depends(require_user),
    area: str | None = None,
    month: str | None = Query(None, pattern=r"^\d{4}-\d{2}$"),
    crime_type: str | None = None,
    limit: int = Query(100, ge=1, le=5000),
    offset: int = Query(0, ge=0),
    s: Session = Depends(get_db),
) -> dict[str, Any]:
    """Record-level rows (pseudonymised). Every call is written to the audit log."""
    police_only(ds)
    portal = portal_of(request)
    code = area_for(portal, area)
    rows, total = portal.views.records(code, month, crime_type, limit=limit, offset=offset)
    audit.append(
        s, user.username, "view.records", f"{ds.name}/{code}",
        {"api": True, "month": month, "crime_type": crime_type, "offset": offset, "rows": len(rows)},
    )  # fmt: skip
    s.commit()
    return {
        "dataset": ds.name,
        "area": code,
        "total": total,
        "offset": offset,
        "records": frame_records(rows),
    }


@router.get("/datasets/{dataset}/lsoa")
def api_lsoa(
    request: Request, ds: Dataset = Depends(require_level("lsoa")), area: str | None = None
) -> dict[str, Any]:
    """Counts by LSOA and crime type over the last 12 months (no suppression: LSOA level)."""
    police_only(ds)
    portal = portal_of(request)
    code = area_for(portal, area)
    return {"dataset": ds.name, "area": code, "counts": frame_records(portal.views.lsoa_counts(code))}


@router.get("/datasets/{dataset}/areas", response_model=dict[str, Any])
def api_areas(
    request: Request, ds: Dataset = Depends(require_level("area")), area: str | None = None
) -> Response:
    """Counts by ward and crime type over the last 12 months, small numbers suppressed (null)."""
    police_only(ds)
    portal = portal_of(request)
    code = area_for(portal, area)

    def compute() -> bytes:
        wards, rule, months = ward_records(portal, code)
        return json_bytes({"dataset": ds.name, "area": code, "months": months, "rule": rule, "wards": wards})

    return JSONBytes(portal.views.cached(("areas_json", ds.name, code), compute))


@router.get("/public/{area_code}")
def api_public(request: Request, area_code: str, s: Session = Depends(get_db)) -> dict[str, Any]:
    """The public page's data: suppressed ward tables and neighbourhood priorities."""
    data = public_data(s, portal_of(request), area_code)
    return {
        "area_code": data["area"].code,
        "area_name": data["area"].name,
        "months": data["months"],
        "rule": data["rule"],
        "wards": frame_records(data["table"].reset_index().rename(columns={"ward_name": "ward"})),
        "meetings": data["meetings"],
        "priorities": data["priorities"],
    }


# -- uploads ------------------------------------------------------------------------------------------


@router.post("/uploads", openapi_extra=UPLOAD_BODY)
async def api_upload(
    request: Request, user: User = Depends(uploader), s: Session = Depends(get_db)
) -> dict[str, Any]:
    """Upload one file (multipart, fields ``dataset`` and ``file``; the CSRF token in the header):
    validated, de-personalised and loaded as ``diogel ingest`` does. The body is read only after
    the session, the token and the agreement have been checked, and refused past the size limit."""
    try:
        outcome = await receive_upload(request, s, user)
    except PortalError as exc:
        s.rollback()
        raise HTTPException(400, str(exc)) from None
    s.commit()
    up = outcome.upload
    if not outcome.ok:
        raise HTTPException(422, {"upload_id": up.id, "status": up.status, "files": up.results})
    return {"upload_id": up.id, "status": up.status, "files": up.results}


@router.get("/uploads/{upload_id}")
def api_upload_result(
    request: Request, upload_id: int, user: User = Depends(require_user), s: Session = Depends(get_db)
) -> dict[str, Any]:
    """Row accounting of an upload and its quarantined rows (raw lines only for the uploader)."""
    up, show_raw = visible_upload(s, user, upload_id)
    ids = [r["file_id"] for r in up.results if r.get("file_id") and r.get("status") == "loaded"]
    q = portal_of(request).views.quarantine(ids)
    if not show_raw:
        q = q.drop(columns=["raw"])
    return {
        "upload_id": up.id, "dataset": up.dataset, "status": up.status, "files": up.results,
        "quarantine": frame_records(q.head(1000)),
    }  # fmt: skip


# -- meetings ------------------------------------------------------------------------------------------


class PriorityIn(BaseModel):
    theme: str = Field(max_length=200)
    votes: int = Field(0, ge=0)
    chosen: bool = False


class ActionIn(BaseModel):
    description: str
    owner: str
    review_date: dt.date | None = None
    status: Literal["open", "in progress", "done", "dropped"] = "open"


class MeetingIn(BaseModel):
    meeting_date: dt.date
    neighbourhood_code: str
    attendees: int = Field(ge=0)
    profile: dict[Literal["age", "sex", "ethnicity"], dict[str, int]] = {}
    issues: str = ""
    priorities: list[PriorityIn] = []
    actions: list[ActionIn] = []


assert set(ACTION_STATUSES) == {"open", "in progress", "done", "dropped"}  # keep ActionIn in step


@router.get("/meetings")
def api_meetings(
    request: Request,
    area: str | None = None,
    user: User = Depends(require_roles(*PARTNERS)),
    s: Session = Depends(get_db),
) -> list[dict[str, Any]]:
    portal = portal_of(request)
    code = area_for(portal, area)
    return [services.meeting_dict(m) for m in services.meetings_in(s, set(neighbourhood_map(portal, code)))]


@router.post("/meetings", status_code=201)
def api_meeting_create(
    request: Request,
    body: MeetingIn,
    user: User = Depends(require_roles(*RECORDERS)),
    s: Session = Depends(get_db),
) -> dict[str, Any]:
    portal = portal_of(request)
    try:
        m = services.record_meeting(
            s, user, neighbourhood_map(portal, area_for(portal, None)), body.model_dump()
        )
    except PortalError as exc:
        s.rollback()
        raise HTTPException(400, str(exc)) from None
    s.commit()
    portal.pact_epoch += 1
    return services.meeting_dict(m)


@router.get("/meetings/{meeting_id}")
def api_meeting(
    request: Request,
    meeting_id: int,
    user: User = Depends(require_roles(*PARTNERS)),
    s: Session = Depends(get_db),
) -> dict[str, Any]:
    m = s.get(Meeting, meeting_id)
    if m is None:
        raise HTTPException(404, _("no such meeting"))
    rep = meeting_representation(portal_of(request), m)
    return {
        **services.meeting_dict(m),
        "representation": None if rep is None else rep.__dict__,
        "warnings": services.meeting_warnings(m),
    }


# -- standards, assessments, scrutiny -------------------------------------------------------------------


@router.get("/standards")
def api_standards(
    request: Request, user: User = Depends(require_roles(*PARTNERS)), s: Session = Depends(get_db)
) -> dict[str, Any]:
    """The national minimum standards self-assessments, hallmark by hallmark, year on year."""
    return services.standards_comparison(s, area_for(portal_of(request), None))


@router.get("/assessments")
def api_assessments(
    user: User = Depends(require_roles(*PARTNERS)), s: Session = Depends(get_db)
) -> list[dict[str, Any]]:
    q = select(PublishedAssessment).order_by(PublishedAssessment.id.desc())
    if user.role != "analyst":
        q = q.where(PublishedAssessment.published_at.is_not(None))
    return [
        {
            "id": r.id,
            "title": r.title,
            "published_at": r.published_at.isoformat() if r.published_at else None,
            "files": {
                f: f"/assessments/{r.id}/{f}"
                for f in services.ASSESSMENT_FILES
                if services.assessment_file(r, f)
            },
        }
        for r in s.execute(q).scalars()
    ]


@router.get("/scrutiny")
def api_scrutiny(
    request: Request, user: User = Depends(area_level), s: Session = Depends(get_db)
) -> dict[str, Any]:
    """The scrutiny pack's figures: area totals and trends, suppressed ward table, standards."""
    portal = portal_of(request)
    code = area_for(portal, None)
    table, rule, months = portal.views.ward_table(code)
    trends, trend_rule = published.area_trends(portal.views, code)
    return {
        "area_code": code,
        "window": portal.views.windows(code)[3],
        # The same suppressed counts as the scrutiny page (null where suppressed).
        "trends": trends,
        "trend_rule": trend_rule,
        "wards": frame_records(table.reset_index().rename(columns={"ward_name": "ward"})),
        "rule": rule,
        "standards": services.standards_comparison(s, code),
    }


# -- administration -----------------------------------------------------------------------------------------


@router.get("/users")
def api_users(
    user: User = Depends(require_roles(*ADMIN_ROLES)), s: Session = Depends(get_db)
) -> list[dict[str, Any]]:
    """The accounts the caller administers (an agency's administrator: that agency's)."""
    return [
        {"id": u.id, "username": u.username, "role": u.role, "agency": u.agency.name, "active": u.active}
        for u in administered_users(s, user)
    ]  # fmt: skip


@router.get("/agreement")
def api_agreement(
    user: User = Depends(require_roles("partnership_admin")), s: Session = Depends(get_db)
) -> dict[str, Any]:
    from diogel.portal.models import AccessGrant, UploadGrant

    return {
        "access": [
            {"dataset": g.dataset, "role": g.role, "agency_kind": g.agency_kind, "level": g.level}
            for g in s.execute(select(AccessGrant).order_by(AccessGrant.dataset, AccessGrant.role)).scalars()
        ],
        "uploads": [
            {"dataset": g.dataset, "agency": g.agency.name}
            for g in s.execute(select(UploadGrant).order_by(UploadGrant.dataset)).scalars()
        ],
    }


@router.get("/audit/verify")
def api_audit_verify(
    user: User = Depends(require_roles("partnership_admin")), s: Session = Depends(get_db)
) -> dict[str, Any]:
    return audit.verify(s).__dict__
