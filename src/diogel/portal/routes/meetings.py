"""PACT meetings: the list (page, JSON and the CSV ``diogel ingest pact`` reads), one meeting, recording
one (one handler: the form or a JSON document, as the address asks),
its actions, and importing a PACT CSV."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from diogel.portal import services, uploads
from diogel.portal.db import row_by_id
from diogel.portal.deps import (
    PARTNERS,
    RECORDERS,
    area_for,
    expected_csrf,
    found,
    get_db,
    portal_of,
    require_roles,
)
from diogel.portal.formats import requested_format, serve
from diogel.portal.i18n import gettext as _
from diogel.portal.models import ACTION_STATUSES, Meeting, MeetingAction, User
from diogel.portal.pact import PACT, meeting_representation, meetings_csv, neighbourhood_map
from diogel.portal.pages import redirect, render
from diogel.portal.phrases import refusal_words
from diogel.portal.services import PortalError
from diogel.portal.state import Portal
from diogel.portal.views import AGE_BANDS, ETHNICITIES, SEXES

router = APIRouter()


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


def meetings(
    request: Request,
    area: str | None = None,
    user: User = Depends(require_roles(*PARTNERS)),
    s: Session = Depends(get_db),
) -> Response:
    # The meetings in the area's neighbourhoods, newest first (the CSV: in date order); no docstring,
    # so the API's description stays as it was.
    portal = portal_of(request)
    code = area_for(portal, area)
    rows = services.meetings_in(s, set(neighbourhood_map(portal, code)))
    fmt = requested_format(request)
    if fmt == "json":
        return [services.meeting_dict(m) for m in rows]  # type: ignore[return-value]
    if fmt == "csv":
        text = meetings_csv(sorted(rows, key=lambda m: (m.meeting_date, m.id)))
        return Response(text, media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="pact-meetings.csv"'})  # fmt: skip
    return render(request, "meetings.html", meetings=rows, area=code, can_record=user.role in RECORDERS)


serve(
    router, meetings, page="/meetings", csv="/meetings.csv", api="/api/meetings", api_name="api_meetings",
    response_model=list[dict[str, Any]],
)  # fmt: skip


def meeting_form_data(form: Any) -> dict[str, Any]:
    """The meeting form's flat fields as the nested structure :func:`services.record_meeting` takes."""
    profile = {
        "age": {b: form.get(f"age_{b}") for b, _, _ in AGE_BANDS if form.get(f"age_{b}")},
        "sex": {x: form.get(f"sex_{x}") for x in SEXES if form.get(f"sex_{x}")},
        "ethnicity": {x: form.get(f"eth_{x}") for x in ETHNICITIES if form.get(f"eth_{x}")},
        "ward": {k[5:]: v for k, v in form.items() if k.startswith("home_") and v},  # ward of residence
    }
    priorities = [
        {
            "theme": form.get(f"theme_{i}"),
            "votes": form.get(f"votes_{i}"),
            "chosen": form.get(f"chosen_{i}") == "on",
        }
        for i in range(1, 7)
    ]
    actions = [
        {
            "description": form.get(f"action_{i}"),
            "owner": form.get(f"owner_{i}"),
            "review_date": form.get(f"review_{i}"),
            "status": form.get(f"status_{i}") or "open",
        }
        for i in range(1, 4)
    ]
    return {
        "meeting_date": form.get("meeting_date"),
        "neighbourhood_code": form.get("neighbourhood_code"),
        "attendees": form.get("attendees"),
        "issues": form.get("issues"),
        "profile": profile,
        "priorities": priorities,
        "actions": actions,
    }


def meeting_new(request: Request, user: User = Depends(require_roles(*RECORDERS))) -> Response:
    portal = portal_of(request)
    return meeting_form(request, portal, {}, None)


serve(router, meeting_new, page="/meetings/new")


def meeting_form(
    request: Request, portal: Portal, values: dict, error: str | None, status: int = 200
) -> Response:
    code = area_for(portal, None)
    return render(
        request, "meeting_new.html", status_code=status, neighbourhoods=portal.views.neighbourhoods(code),
        age_bands=[b for b, _, _ in AGE_BANDS], sexes=SEXES, ethnicities=ETHNICITIES, statuses=ACTION_STATUSES,
        v=values, error=error, today=dt.date.today().isoformat(),
    )  # fmt: skip


async def meeting_create(
    request: Request, user: User = Depends(require_roles(*RECORDERS)), s: Session = Depends(get_db)
) -> Response:
    """Record a meeting: from the form (page: the meeting's page, or the form again with the reason)
    or from a JSON :class:`MeetingIn` (``/api/meetings``: 201 and the meeting, or 400 with the reason)."""
    portal = portal_of(request)
    api = requested_format(request) == "json"
    form: dict[str, Any] = {}
    if api:
        data = await meeting_json(request)
    else:
        form = dict(await request.form())
        data = meeting_form_data(form)
    try:
        meeting = services.record_meeting(s, user, neighbourhood_map(portal, area_for(portal, None)), data)
    except PortalError as exc:
        s.rollback()
        if api:
            raise HTTPException(400, str(exc)) from None
        return meeting_form(request, portal, form, str(exc), status=400)
    s.commit()
    portal.pact_epoch += 1
    if api:
        return services.meeting_dict(meeting)  # type: ignore[return-value]  # 201, as the route says
    return redirect(f"/meetings/{meeting.id}")


async def meeting_json(request: Request) -> dict[str, Any]:
    """The JSON body as a :class:`MeetingIn`, refused as FastAPI refuses a declared body (422, with
    where each problem is) when it does not parse or validate."""
    try:
        return MeetingIn.model_validate_json(await request.body()).model_dump()
    except ValidationError as exc:
        errors = [
            {**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False, include_context=False)
        ]
        raise RequestValidationError(errors) from None


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON Schema with its nested models written in place, so the OpenAPI request
    body needs no entries of its own under ``components``."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        return [resolve(v) for v in node] if isinstance(node, list) else node

    return resolve(schema)


serve(router, meeting_create, page="/meetings", method="POST")
serve(
    router, meeting_create, api="/api/meetings", method="POST", api_name="api_meeting_create",
    response_model=dict[str, Any], status_code=201,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": inline_schema(MeetingIn)}}}},
)  # fmt: skip


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
        problems = "; ".join(refusal_words(str(r.error or r.status)) for r in results)[:300]
        raise HTTPException(400, _("the PACT file was not loaded: %(why)s", why=problems))
    with portal.views.reading() as wh:
        rows = ingested_pact(wh, loaded)
    record_ingested_pact(s, rows, user.username)
    s.commit()
    portal.pact_epoch += 1
    return redirect("/meetings")


serve(router, import_meetings, page="/meetings/import", method="POST")


def meeting(
    request: Request,
    meeting_id: int,
    user: User = Depends(require_roles(*PARTNERS)),
    s: Session = Depends(get_db),
) -> Response:
    portal = portal_of(request)
    m = found(s, Meeting, meeting_id, _("no such meeting"))
    rep = meeting_representation(portal, m)
    if requested_format(request) == "json":
        return {  # type: ignore[return-value]
            **services.meeting_dict(m),
            "representation": None if rep is None else rep.__dict__,
            "warnings": services.meeting_warnings(m),
        }
    return render(
        request, "meeting.html", m=m, rep=rep, warnings=services.meeting_warnings(m),
        can_edit=user.role in RECORDERS, statuses=ACTION_STATUSES,
    )  # fmt: skip


serve(
    router, meeting, page="/meetings/{meeting_id}", api="/api/meetings/{meeting_id}", api_name="api_meeting",
    response_model=dict[str, Any],
)  # fmt: skip


def meeting_action(
    request: Request,
    meeting_id: int,
    action_id: int,
    status: str = Form(...),
    user: User = Depends(require_roles(*RECORDERS)),
    s: Session = Depends(get_db),
) -> Response:
    action = row_by_id(s, MeetingAction, action_id)
    if action is None or action.meeting_id != meeting_id:
        raise HTTPException(404, _("no such action"))
    try:
        services.update_action(s, user, action, status)
    except PortalError as exc:
        raise HTTPException(400, str(exc)) from None
    s.commit()
    return redirect(f"/meetings/{meeting_id}")


serve(router, meeting_action, page="/meetings/{meeting_id}/actions/{action_id}", method="POST")
