"""What the portal does, independent of pages or the API: accounts, uploads, meetings, standards,
strategic assessments. Pages, the JSON API and the ``diogel users`` command all call these, so a
rule (and its audit entry) is written once.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from diogel.portal import audit, isa
from diogel.portal.models import (
    ACTION_STATUSES,
    AGENCY_KINDS,
    RAG,
    ROLES,
    Agency,
    HallmarkRating,
    Meeting,
    MeetingAction,
    MeetingPriority,
    PublishedAssessment,
    StandardsAssessment,
    Upload,
    User,
    utcnow,
)
from diogel.portal.security import check_password_strength, hash_password
from diogel.portal.views import AGE_BANDS, ETHNICITIES, SEXES, Dataset, WarehouseViews


class PortalError(ValueError):
    """Input the portal refuses, with a sentence the user can act on."""


def actor(user: User | None) -> str:
    return user.username if user is not None else "anonymous"


# --------------------------------------------------------------------------------------------------
# Agencies and accounts


def create_agency(s: Session, by: User | None, name: str, kind: str, datasets: list[str]) -> Agency:
    name = name.strip()
    if not name:
        raise PortalError("an agency needs a name")
    if kind not in AGENCY_KINDS:
        raise PortalError(f"agency kind must be one of {', '.join(AGENCY_KINDS)}")
    if s.execute(select(Agency).where(Agency.name == name)).scalar_one_or_none():
        raise PortalError(f"there is already an agency called {name!r}")
    agency = Agency(name=name, kind=kind)
    s.add(agency)
    s.flush()
    granted = isa.seed_uploads(s, agency, datasets)
    audit.append(s, actor(by), "agency.create", name, {"kind": kind, "upload_grants": granted})
    return agency


def get_or_create_agency(s: Session, by: User | None, name: str, kind: str, datasets: list[str]) -> Agency:
    found = s.execute(select(Agency).where(Agency.name == name.strip())).scalar_one_or_none()
    return found if found is not None else create_agency(s, by, name, kind, datasets)


def create_user(
    s: Session,
    by: User | None,
    username: str,
    password: str,
    role: str,
    agency: Agency,
    display_name: str = "",
) -> User:
    username = username.strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9._@-]{1,119}", username):
        raise PortalError("a username is 2 to 120 letters, digits, dots, dashes, underscores or @")
    if role not in ROLES:
        raise PortalError(f"role must be one of {', '.join(ROLES)}")
    problem = check_password_strength(password)
    if problem:
        raise PortalError(problem)
    if s.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise PortalError(f"there is already a user {username!r}")
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=hash_password(password),
        role=role,
        agency_id=agency.id,
    )
    s.add(user)
    s.flush()
    audit.append(s, actor(by), "user.create", username, {"role": role, "agency": agency.name})
    return user


def change_user(
    s: Session,
    by: User,
    user: User,
    role: str | None = None,
    agency_id: int | None = None,
    active: bool | None = None,
    password: str | None = None,
    unlock: bool = False,
) -> dict[str, Any]:
    """Change an account; any change to what it may do ends its sessions. Returns what changed."""
    changes: dict[str, Any] = {}
    if role is not None and role != user.role:
        if role not in ROLES:
            raise PortalError(f"role must be one of {', '.join(ROLES)}")
        if user.id == by.id and role != "admin":
            raise PortalError("you cannot remove your own administrator role")
        changes["role"] = [user.role, role]
        user.role = role
    if agency_id is not None and agency_id != user.agency_id:
        agency = s.get(Agency, agency_id)
        if agency is None:
            raise PortalError("no such agency")
        changes["agency"] = [user.agency.name, agency.name]
        user.agency_id = agency_id
    if active is not None and active != user.active:
        if user.id == by.id and not active:
            raise PortalError("you cannot disable your own account")
        changes["active"] = [user.active, active]
        user.active = active
    if password:
        problem = check_password_strength(password)
        if problem:
            raise PortalError(problem)
        user.password_hash = hash_password(password)
        changes["password"] = "reset"
    if unlock and (user.locked_until is not None or user.failed_logins):
        user.locked_until = None
        user.failed_logins = 0
        changes["unlocked"] = True
    if changes:
        user.session_epoch += 1
        s.flush()
        audit.append(s, by.username, "user.change", user.username, changes)
    return changes


# --------------------------------------------------------------------------------------------------
# Uploads


@dataclass
class UploadOutcome:
    upload: Upload
    ok: bool
    message: str


def upload_file(
    s: Session,
    views: WarehouseViews,
    user: User,
    dataset: Dataset,
    file_name: str,
    stream,  # noqa: ANN001 - a binary file object
    max_bytes: int,
    spool_dir: Path,
) -> UploadOutcome:
    """Validate and load one uploaded file through the warehouse, exactly as ``diogel ingest`` does.

    The permission check (the agreement's upload grant) is the caller's; this writes the file to a
    private temporary folder, ingests it (validation, de-personalisation and quarantine happen in
    the warehouse), deletes the temporary copy and records the upload and its audit entry.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(file_name or "upload").name).lstrip(".") or "upload"
    spool_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=spool_dir))
    try:
        path = folder / safe
        size = 0
        with path.open("wb") as out:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > max_bytes:
                    raise PortalError(f"the file is larger than the {max_bytes // (1 << 20)} MB limit")
                out.write(chunk)
        if size == 0:
            raise PortalError("the file is empty")
        results = views.ingest(dataset, str(path))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows = [
        {
            "name": Path(r.name).name if r.name else safe,
            "status": r.status,
            "file_id": r.file_id,
            "rows_read": r.rows_read,
            "loaded": r.loaded,
            "duplicates": r.duplicates,
            "quarantined": r.quarantined,
            # The warehouse names the temporary folder in its messages; the uploader knows the file by name.
            "error": r.error.replace(str(folder) + "/", "") if r.error else None,
            "problems": [p.replace(str(folder) + "/", "") for p in r.problems[:50]],
        }
        for r in results
    ]
    if not rows:
        rows = [
            {
                "name": safe,
                "status": "refused",
                "error": f"{safe}: no file of this dataset's kind was found in it",
            }
        ]
    statuses = {r["status"] for r in rows}
    status = (
        "refused" if statuses == {"refused"} else ("loaded" if "loaded" in statuses else "already loaded")
    )
    upload = Upload(
        user_id=user.id,
        agency_id=user.agency_id,
        dataset=dataset.name,
        file_name=safe,
        results=rows,
        status=status,
    )
    s.add(upload)
    s.flush()
    audit.append(
        s,
        user.username,
        "upload",
        f"{dataset.name}/{safe}",
        {
            "upload_id": upload.id,
            "status": status,
            "files": [
                {k: r.get(k) for k in ("name", "status", "file_id", "rows_read", "loaded", "quarantined")}
                for r in rows
            ],
        },
    )
    message = {
        "loaded": "loaded",
        "already loaded": "this file was already loaded: nothing changed",
        "refused": "refused: nothing was stored",
    }[status]
    return UploadOutcome(upload, status != "refused", message)


# --------------------------------------------------------------------------------------------------
# PACT meetings


def _date(value: Any, what: str, required: bool = True) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise PortalError(f"{what} is required")
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise PortalError(f"{what} must be a date as YYYY-MM-DD, not {value!r}") from None


def _count(value: Any, what: str) -> int:
    if value in (None, ""):
        return 0
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise PortalError(f"{what} must be a whole number, not {value!r}") from None
    if n < 0:
        raise PortalError(f"{what} cannot be negative")
    return n


def record_meeting(s: Session, user: User, neighbourhoods: dict[str, str], data: dict[str, Any]) -> Meeting:
    """Check and store a PACT meeting.

    ``data``: meeting_date, neighbourhood_code, attendees, profile ({"age"|"sex"|"ethnicity": {band:
    n}}), issues, priorities ([{theme, votes, chosen}]), actions ([{description, owner,
    review_date, status}]). Each profile dimension may be left out (not recorded) but may not add up
    to more than the attendance.
    """
    when = _date(data.get("meeting_date"), "the meeting date")
    if when > dt.date.today():
        raise PortalError("the meeting date is in the future")
    code = data.get("neighbourhood_code") or ""
    if code not in neighbourhoods:
        raise PortalError("choose the neighbourhood (ward) the meeting covered")
    attendees = _count(data.get("attendees"), "the number of attendees")
    profile: dict[str, dict[str, int]] = {}
    allowed = {"age": [b for b, _, _ in AGE_BANDS], "sex": list(SEXES), "ethnicity": list(ETHNICITIES)}
    for dim, values in (data.get("profile") or {}).items():
        if dim not in allowed:
            raise PortalError(f"unknown attendee profile {dim!r}")
        clean = {}
        for band, n in (values or {}).items():
            if band not in allowed[dim]:
                raise PortalError(f"unknown {dim} group {band!r}; use {', '.join(allowed[dim])}")
            clean[band] = _count(n, f"attendees in {dim} group {band}")
        if sum(clean.values()) > attendees:
            raise PortalError(f"the {dim} profile adds up to more than the {attendees} attendees")
        if sum(clean.values()):
            profile[dim] = clean
    meeting = Meeting(
        meeting_date=when,
        neighbourhood_code=code,
        neighbourhood_name=neighbourhoods[code],
        attendees=attendees,
        profile=profile,
        issues=str(data.get("issues") or "").strip(),
        created_by=user.id,
    )
    for p in data.get("priorities") or []:
        theme = str(p.get("theme") or "").strip()
        if not theme:
            continue
        meeting.priorities.append(
            MeetingPriority(
                theme=theme[:200],
                votes=_count(p.get("votes"), f"votes for {theme}"),
                chosen=bool(p.get("chosen")),
            )
        )
    for a in data.get("actions") or []:
        desc = str(a.get("description") or "").strip()
        if not desc:
            continue
        status = a.get("status") or "open"
        if status not in ACTION_STATUSES:
            raise PortalError(f"an action's status is one of {', '.join(ACTION_STATUSES)}")
        owner = str(a.get("owner") or "").strip()
        if not owner:
            raise PortalError(f"the action {desc!r} needs an owner")
        meeting.actions.append(
            MeetingAction(
                description=desc,
                owner=owner[:200],
                review_date=_date(a.get("review_date"), "a review date", required=False),
                status=status,
            )
        )
    s.add(meeting)
    s.flush()
    audit.append(
        s,
        user.username,
        "meeting.create",
        f"meeting/{meeting.id}",
        {"neighbourhood": code, "date": when.isoformat()},
    )
    return meeting


def meeting_warnings(meeting: Meeting) -> list[str]:
    chosen = sum(p.chosen for p in meeting.priorities)
    out = []
    if chosen > 3:
        out.append(f"{chosen} priorities were chosen; PACT meetings usually choose up to three")
    if chosen and not meeting.actions:
        out.append("priorities were chosen but no action was recorded")
    return out


def update_action(s: Session, user: User, action: MeetingAction, status: str) -> None:
    if status not in ACTION_STATUSES:
        raise PortalError(f"an action's status is one of {', '.join(ACTION_STATUSES)}")
    old = action.status
    action.status = status
    audit.append(
        s,
        user.username,
        "meeting.action",
        f"meeting/{action.meeting_id}/action/{action.id}",
        {"status": [old, status]},
    )


def meeting_dict(m: Meeting) -> dict[str, Any]:
    return {
        "id": m.id,
        "meeting_date": m.meeting_date.isoformat(),
        "neighbourhood_code": m.neighbourhood_code,
        "neighbourhood_name": m.neighbourhood_name,
        "attendees": m.attendees,
        "profile": m.profile,
        "issues": m.issues,
        "priorities": [{"theme": p.theme, "votes": p.votes, "chosen": p.chosen} for p in m.priorities],
        "actions": [
            {
                "id": a.id,
                "description": a.description,
                "owner": a.owner,
                "review_date": a.review_date.isoformat() if a.review_date else None,
                "status": a.status,
            }
            for a in m.actions
        ],
    }


def meetings_in(s: Session, codes: set[str]) -> list[Meeting]:
    rows = s.execute(select(Meeting).order_by(Meeting.meeting_date.desc(), Meeting.id.desc())).scalars()
    return [m for m in rows if m.neighbourhood_code in codes]


# --------------------------------------------------------------------------------------------------
# National minimum standards


#: The six hallmarks of effective partnerships, with the criteria a partnership assesses itself
#: against (summarised from the Home Office hallmarks and the national minimum standards for CSPs).
HALLMARKS: list[tuple[str, str, list[str]]] = [
    (
        "leadership",
        "Empowered and effective leadership",
        [
            "A strategy group of the responsible authorities meets and decides",
            "Each responsible authority is represented by someone able to commit its resources",
            "The partnership plan sets out the priorities and how they will be delivered",
            "Roles of the chair and members are agreed and reviewed",
        ],
    ),
    (
        "intelligence",
        "Intelligence-led business processes",
        [
            "A strategic assessment is prepared each year from partners' data",
            "An information sharing agreement is in place with designated liaison officers",
            "Performance against the priorities is monitored at each strategy group",
            "Partners' depersonalised data is shared under the 2007 Regulations",
        ],
    ),
    (
        "delivery",
        "Effective and responsive delivery structures",
        [
            "Delivery groups are aligned with the priorities",
            "Resources are pooled or aligned to the priorities",
            "Persistent problems are tackled with a problem-solving method",
            "Delivery structures are reviewed against outcomes",
        ],
    ),
    (
        "communities",
        "Engaged communities",
        [
            "Communities' views on priorities are sought (e.g. PACT meetings)",
            "Face-to-face meetings with the public are held",
            "Groups under-represented at meetings are reached in other ways",
            "Communities are told what was done about what they raised",
        ],
    ),
    (
        "accountability",
        "Visible and constructive accountability",
        [
            "A summary of the partnership plan is published",
            "The crime and disorder scrutiny committee reviews the partnership at least once a year",
            "Performance is reported to the public",
            "Decisions and actions are recorded and followed up",
        ],
    ),
    (
        "skills",
        "Appropriate skills and knowledge",
        [
            "Partners' skills and knowledge needs are assessed",
            "Training is available to members and staff",
            "There is enough analytical capacity for the strategic assessment",
            "Good practice is shared with other partnerships",
        ],
    ),
]
HALLMARK_KEYS = [k for k, _, _ in HALLMARKS]


def save_standards(
    s: Session, user: User, area_code: str, year: int, ratings: dict[str, dict[str, Any]]
) -> StandardsAssessment:
    """Store (or replace) a year's self-assessment: for each hallmark a RAG rating, the criteria met,
    evidence links (http(s) URLs or portal paths, one a line) and actions."""
    if not 2000 <= year <= dt.date.today().year + 1:
        raise PortalError("the year of a self-assessment must be between 2000 and next year")
    missing = [k for k in HALLMARK_KEYS if (ratings.get(k) or {}).get("rag") not in RAG]
    if missing:
        raise PortalError(
            f"give a red, amber or green rating for every hallmark (missing: {', '.join(missing)})"
        )
    row = s.execute(
        select(StandardsAssessment).where(
            StandardsAssessment.area_code == area_code, StandardsAssessment.year == year
        )
    ).scalar_one_or_none()
    if row is None:
        row = StandardsAssessment(area_code=area_code, year=year, updated_by=user.id)
        s.add(row)
    row.updated_by = user.id
    row.updated_at = utcnow()
    row.ratings.clear()
    s.flush()
    criteria = {k: c for k, _, c in HALLMARKS}
    for key in HALLMARK_KEYS:
        r = ratings[key]
        met = [c for c in (r.get("criteria_met") or []) if c in criteria[key]]
        links = [ln.strip() for ln in str(r.get("evidence") or "").splitlines() if ln.strip()]
        for ln in links:
            if not re.match(r"^(https?://|/)\S+$", ln):
                raise PortalError(f"evidence must be links (http(s):// or a portal path), one a line: {ln!r}")
        row.ratings.append(
            HallmarkRating(
                hallmark=key,
                rag=r["rag"],
                criteria_met="\n".join(met),
                evidence="\n".join(links),
                actions=str(r.get("actions") or "").strip(),
            )
        )
    s.flush()
    audit.append(
        s,
        user.username,
        "standards.save",
        f"{area_code}/{year}",
        {k: ratings[k]["rag"] for k in HALLMARK_KEYS},
    )
    return row


def standards_comparison(s: Session, area_code: str) -> dict[str, Any]:
    rows = (
        s.execute(
            select(StandardsAssessment)
            .where(StandardsAssessment.area_code == area_code)
            .order_by(StandardsAssessment.year)
        )
        .scalars()
        .all()
    )
    years = [r.year for r in rows]
    table = []
    score = {"red": 0, "amber": 1, "green": 2}
    for key, title, criteria in HALLMARKS:
        cells = []
        for r in rows:
            rating = next((x for x in r.ratings if x.hallmark == key), None)
            cells.append(
                None
                if rating is None
                else {
                    "rag": rating.rag,
                    "criteria_met": [c for c in rating.criteria_met.splitlines() if c],
                    "evidence": [e for e in rating.evidence.splitlines() if e],
                    "actions": rating.actions,
                }
            )
        change = ""
        if len(cells) >= 2 and cells[-1] and cells[-2]:
            d = score[cells[-1]["rag"]] - score[cells[-2]["rag"]]
            change = "improved" if d > 0 else ("worse" if d < 0 else "same")
        table.append({"key": key, "title": title, "criteria": criteria, "cells": cells, "change": change})
    return {"years": years, "hallmarks": table}


# --------------------------------------------------------------------------------------------------
# Strategic assessments


ASSESSMENT_FILES = ("assessment.html", "assessment.pdf", "figures.json")
SERVABLE = {".html", ".pdf", ".json", ".png", ".svg", ".css", ".jpg", ".jpeg", ".csv"}


def register_assessment(
    s: Session, user: User, directory: str, root: Path, title: str = ""
) -> PublishedAssessment:
    """Register a directory written by ``diogel assess`` (it must hold assessment.html) under ``root``."""
    path = Path(directory).expanduser()
    if not path.is_absolute():
        path = root / path
    path = path.resolve()
    root = root.resolve()
    if root != path and root not in path.parents:
        raise PortalError(f"the assessment folder must be inside the data directory {root}")
    if not (path / "assessment.html").is_file():
        raise PortalError(f"{path} has no assessment.html: run 'diogel assess' to write one there")
    row = PublishedAssessment(title=title.strip() or path.name, directory=str(path), registered_by=user.id)
    s.add(row)
    s.flush()
    present = [f for f in ASSESSMENT_FILES if (path / f).is_file()]
    audit.append(
        s,
        user.username,
        "assessment.register",
        f"assessment/{row.id}",
        {"directory": str(path), "files": present},
    )
    return row


def publish_assessment(s: Session, user: User, row: PublishedAssessment, published: bool) -> None:
    row.published_at = utcnow() if published else None
    audit.append(
        s, user.username, "assessment.publish" if published else "assessment.withdraw", f"assessment/{row.id}"
    )


def assessment_file(row: PublishedAssessment, filename: str) -> Path | None:
    """A file directly inside the assessment folder with an allowed extension, else None."""
    if "/" in filename or "\\" in filename or filename.startswith("."):
        return None
    path = Path(row.directory) / filename
    if path.suffix.lower() not in SERVABLE or not path.is_file():
        return None
    return path


def latest_published(s: Session) -> PublishedAssessment | None:
    return s.execute(
        select(PublishedAssessment)
        .where(PublishedAssessment.published_at.is_not(None))
        .order_by(PublishedAssessment.published_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def count_users(s: Session) -> int:
    return int(s.execute(select(func.count(User.id))).scalar() or 0)
