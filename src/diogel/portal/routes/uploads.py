"""Uploads: the form and its file (validated, de-personalised and loaded as ``diogel ingest`` does),
and the row accounting of an upload with its quarantined rows. One handler answers the page and the
JSON of each."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from diogel.portal import isa, services, uploads
from diogel.portal.deps import Forbidden, expected_csrf, found, get_db, portal_of, require_user, uploader
from diogel.portal.formats import frame_records, requested_format, serve
from diogel.portal.i18n import gettext as _
from diogel.portal.models import Upload, User
from diogel.portal.pages import redirect, render
from diogel.portal.services import PortalError

router = APIRouter()


def upload_page(request: Request, user: User = Depends(uploader), s: Session = Depends(get_db)) -> Response:
    portal = portal_of(request)
    recent = (
        s.execute(select(Upload).where(Upload.user_id == user.id).order_by(Upload.id.desc()).limit(10))
        .scalars()
        .all()
    )
    return render(
        request, "upload.html", datasets=[portal.datasets[d] for d in isa.uploadable(s, user, list(portal.datasets))],
        recent=recent, error=None,
    )  # fmt: skip


serve(router, upload_page, page="/upload")


async def receive_upload(request: Request, s: Session, user: User) -> services.UploadOutcome:
    """Read the upload (only now: the route's dependencies have found a user whose agency may upload
    something), check the agreement lets ``user`` upload the chosen dataset, then validate,
    de-personalise and load it.

    Raises :class:`UploadRefused` (CSRF, size, a malformed form), :class:`Forbidden` when the
    agreement does not allow the dataset and :class:`PortalError` for a bad file; the caller rolls
    back and answers in its own format (a page or JSON).
    """
    from starlette.concurrency import run_in_threadpool

    portal = portal_of(request)
    max_bytes = portal.config.max_upload_mb << 20
    received = await uploads.receive(
        request, portal.config.data_dir / "uploads", max_bytes, expected_csrf(request),
        bool(getattr(request.state, "csrf_checked", False)),
    )  # fmt: skip
    try:
        dataset = received.fields.get("dataset", "")
        ds = portal.datasets.get(dataset)
        if ds is None or not isa.can_upload(s, user, dataset):
            raise Forbidden(
                _("the information sharing agreement does not let your agency upload this dataset")
            )
        return await run_in_threadpool(
            services.upload_file, s, portal.views, user, ds, received.file_name or "upload", received.path
        )
    finally:
        received.cleanup()


#: The upload form as OpenAPI describes it (the routes read the body themselves, see uploads.py).
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["dataset", "file"],
                    "properties": {
                        "csrf_token": {"type": "string"},
                        "dataset": {"type": "string"},
                        "file": {"type": "string", "format": "binary"},
                    },
                }
            }
        },
    }
}


async def upload(request: Request, user: User = Depends(uploader), s: Session = Depends(get_db)) -> Response:
    """Upload one file (multipart, fields ``dataset`` and ``file``; the CSRF token in the header):
    validated, de-personalised and loaded as ``diogel ingest`` does. The body is read only after
    the session, the token and the agreement have been checked, and refused past the size limit."""
    portal = portal_of(request)
    page = requested_format(request) == "html"
    try:
        outcome = await receive_upload(request, s, user)
    except PortalError as exc:
        s.rollback()
        if not page:
            raise HTTPException(400, str(exc)) from None
        return render(
            request, "upload.html", status_code=400, error=str(exc),
            datasets=[portal.datasets[d] for d in isa.uploadable(s, user, list(portal.datasets))], recent=[],
        )  # fmt: skip
    s.commit()
    up = outcome.upload
    if page:
        return redirect(f"/uploads/{up.id}")
    if not outcome.ok:
        raise HTTPException(422, {"upload_id": up.id, "status": up.status, "files": up.results})
    return {"upload_id": up.id, "status": up.status, "files": up.results}  # type: ignore[return-value]


serve(
    router, upload, page="/upload", api="/api/uploads", method="POST", api_name="api_upload",
    response_model=dict[str, Any], openapi_extra=UPLOAD_BODY,
)  # fmt: skip


def visible_upload(s: Session, user: User, upload_id: int) -> tuple[Upload, bool]:
    """An upload, and whether the raw quarantined lines may be shown with it.

    Its uploader sees it in full (the raw lines hold what the partner sent before
    de-personalisation). An analyst sees it without the raw lines when the upload is their own
    agency's, or when the agreement gives them record-level access to its dataset; to anyone else,
    another agency's upload does not exist."""
    up = found(s, Upload, upload_id, _("no such upload"))
    if up.user_id == user.id:
        return up, True
    if user.role == "analyst" and (
        up.agency_id == user.agency_id or isa.level_for(s, user, up.dataset) == "record"
    ):
        return up, False
    raise HTTPException(404, _("no such upload"))


def upload_result(
    request: Request, upload_id: int, user: User = Depends(require_user), s: Session = Depends(get_db)
) -> Response:
    """Row accounting of an upload and its quarantined rows (raw lines only for the uploader)."""
    up, show_raw = visible_upload(s, user, upload_id)
    ids = [r["file_id"] for r in up.results if r.get("file_id") and r.get("status") == "loaded"]
    q = portal_of(request).views.quarantine(ids)
    if not show_raw:
        q = q.drop(columns=["raw"])
    if requested_format(request) == "json":
        return {  # type: ignore[return-value]
            "upload_id": up.id, "dataset": up.dataset, "status": up.status, "files": up.results,
            "quarantine": frame_records(q.head(1000)),
        }  # fmt: skip
    return render(
        request, "upload_result.html", up=up, quarantine=q.head(500).to_dict("records"), quarantined=len(q),
        show_raw=show_raw,
    )  # fmt: skip


serve(
    router, upload_result, page="/uploads/{upload_id}", api="/api/uploads/{upload_id}",
    api_name="api_upload_result", response_model=dict[str, Any],
)  # fmt: skip
