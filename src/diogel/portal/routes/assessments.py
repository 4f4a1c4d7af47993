"""Strategic assessments: the register (page and JSON), registering and publishing one, its files,
and its public version (every part resting on partner data the agreement does not publish taken out)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from diogel.portal import audit, services
from diogel.portal.db import row_by_id
from diogel.portal.deps import PARTNERS, found, get_db, portal_of, require_roles
from diogel.portal.formats import requested_format, serve
from diogel.portal.i18n import gettext as _
from diogel.portal.models import PublishedAssessment, User, utcnow
from diogel.portal.pages import redirect, render
from diogel.portal.publishing import (
    PUBLIC_FILE,
    assessment_area,
    public_assessment,
    public_version,
    suppressed_sections,
)
from diogel.portal.services import PortalError

router = APIRouter()


def assessment_rows(s: Session, user: User) -> list[PublishedAssessment]:
    """The register, newest first: drafts are the analysts'; everyone else sees the published ones."""
    q = select(PublishedAssessment).order_by(PublishedAssessment.id.desc())
    if user.role != "analyst":
        q = q.where(PublishedAssessment.published_at.is_not(None))
    return list(s.execute(q).scalars())


def assessment_files(rows: list[PublishedAssessment]) -> dict[int, list[str]]:
    return {r.id: [f for f in services.ASSESSMENT_FILES if services.assessment_file(r, f)] for r in rows}


def assessments(
    request: Request, user: User = Depends(require_roles(*PARTNERS)), s: Session = Depends(get_db)
) -> Response:
    rows = assessment_rows(s, user)
    files = assessment_files(rows)
    if requested_format(request) == "json":
        return [  # type: ignore[return-value]
            {
                "id": r.id,
                "title": r.title,
                "published_at": r.published_at.isoformat() if r.published_at else None,
                "files": {f: f"/assessments/{r.id}/{f}" for f in files[r.id]},
            }
            for r in rows
        ]
    return render(
        request, "assessments.html", rows=rows, files=files, can_register=user.role == "analyst", error=None
    )


serve(
    router, assessments, page="/assessments", api="/api/assessments", api_name="api_assessments",
    response_model=list[dict[str, Any]],
)  # fmt: skip


def assessment_register(
    request: Request,
    directory: str = Form(...),
    title: str = Form(""),
    user: User = Depends(require_roles("analyst")),
    s: Session = Depends(get_db),
) -> Response:
    portal = portal_of(request)
    try:
        services.register_assessment(s, user, directory, portal.config.data_dir, title)
    except PortalError as exc:
        s.rollback()
        rows = assessment_rows(s, user)
        return render(
            request, "assessments.html", status_code=400, rows=rows, files=assessment_files(rows),
            can_register=True, error=str(exc),
        )  # fmt: skip
    s.commit()
    return redirect("/assessments")


serve(router, assessment_register, page="/assessments", method="POST")


def assessment_publish(
    assessment_id: int,
    publish: str = Form("yes"),
    user: User = Depends(require_roles("analyst")),
    s: Session = Depends(get_db),
) -> Response:
    row = found(s, PublishedAssessment, assessment_id, _("no such assessment"))
    services.publish_assessment(s, user, row, publish == "yes")
    s.commit()
    return redirect("/assessments")


serve(router, assessment_publish, page="/assessments/{assessment_id}/publish", method="POST")


def publish_public(
    request: Request,
    assessment_id: int,
    publish: str = Form("yes"),
    user: User = Depends(require_roles("analyst")),
    s: Session = Depends(get_db),
) -> Response:
    """Publish (or withdraw) the public version of a registered assessment."""
    row = found(s, PublishedAssessment, assessment_id, _("no such assessment"))
    if publish != "yes":
        row.public_at = None
        audit.append(s, user.username, "assessment.public", str(row.id), {"public": False})
        s.commit()
        return redirect("/assessments")
    source = Path(row.directory) / "assessment.html"
    area = assessment_area(row)
    if not source.exists() or area is None:
        raise HTTPException(400, _("the assessment's folder has no assessment.html and figures.json"))
    sections = suppressed_sections(s, list(portal_of(request).datasets))
    document, notes = public_version(source.read_text(encoding="utf-8", errors="replace"), sections)
    (Path(row.directory) / PUBLIC_FILE).write_text(document, encoding="utf-8")
    row.public_at, row.public_area = utcnow(), area
    row.public_notes = json.dumps([{"what": n.what, "why": n.why} for n in notes])
    audit.append(s, user.username, "assessment.public", str(row.id), {"public": True, "area": area,
                                                                       "suppressed": len(notes)})  # fmt: skip
    s.commit()
    return redirect("/assessments")


serve(router, publish_public, page="/assessments/{assessment_id}/public", method="POST")


def assessment_file(
    assessment_id: int,
    filename: str,
    user: User = Depends(require_roles(*PARTNERS)),
    s: Session = Depends(get_db),
) -> Response:
    row = row_by_id(s, PublishedAssessment, assessment_id)
    # Unpublished drafts are the analysts'; to anyone else they do not exist.
    if row is None or (row.published_at is None and user.role != "analyst"):
        raise HTTPException(404, _("no such assessment"))
    path = services.assessment_file(row, filename)
    if path is None:
        raise HTTPException(404, _("no such file in this assessment"))
    if path.suffix.lower() == ".html":
        # The report is a self-contained document: its styles are allowed by hash, never scripts.
        from diogel.portal.contained import contain

        document, csp = contain(path.read_text(encoding="utf-8", errors="replace"))
        return Response(document, media_type="text/html", headers={"Content-Security-Policy": csp})
    response = FileResponse(path)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'none'; frame-ancestors 'none'"
    )
    return response


serve(router, assessment_file, page="/assessments/{assessment_id}/{filename}")


def public_assessment_page(area_code: str, s: Session = Depends(get_db)) -> Response:
    """The public version, to anyone (a self-contained document: styles allowed by hash, no scripts)."""
    from diogel.portal.contained import contain

    found = public_assessment(s, area_code)
    if found is None:
        raise HTTPException(404, _("no assessment of this area is published to the public"))
    document, csp = contain((Path(found[0].directory) / PUBLIC_FILE).read_text(encoding="utf-8"))
    return Response(document, media_type="text/html", headers={"Content-Security-Policy": csp})


serve(router, public_assessment_page, page="/public/{area_code}/assessment")
