"""What people enter in the portal, as SQLAlchemy 2 tables.

The warehouse holds data that arrives in files; this database holds what people type or decide:
accounts and agencies, the information sharing agreement, uploads, PACT meetings, the national
minimum standards self-assessment, published strategic assessments and the audit log. The schema
is created and changed only by the Alembic migrations in :mod:`diogel.portal.migrations`; a test
checks that the models and the migrations agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Agency types the Crime and Disorder Act names as responsible authorities, plus "other".
AGENCY_KINDS = ("police", "local_authority", "fire", "health", "probation", "other")

#: Roles, most powerful first. "public" is nobody logged in; it is never stored on a user.
#: An "admin" administers the accounts of their own agency only; a "partnership_admin" administers
#: every agency, the agencies themselves, the information sharing agreement and reads the audit log.
ROLES = ("partnership_admin", "admin", "analyst", "contributor", "viewer", "member")
ADMIN_ROLES = ("partnership_admin", "admin")
ALL_ROLES = (*ROLES, "public")

#: Levels of access to a dataset, most detailed first (see :mod:`diogel.portal.isa`).
LEVELS = ("record", "lsoa", "area", "public")

RAG = ("red", "amber", "green")
PRIORITY_STATUSES = ("active", "achieved", "retired")
ACTION_STATUSES = ("open", "in progress", "done", "dropped")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Agency(Base):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))

    users: Mapped[list[User]] = relationship(back_populates="agency")


class User(Base):
    __tablename__ = "portal_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # Bumped whenever the account's password, role or agency changes (or it is disabled): every
    # session cookie carries the epoch it was issued under, so old sessions stop working at once.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # The language the user last chose with the switch ("cy" or "en"); None: follow the browser.
    language: Mapped[str | None] = mapped_column(String(8), nullable=True, default=None)

    agency: Mapped[Agency] = relationship(back_populates="users", lazy="joined")


class UploadGrant(Base):
    """The agreement says: this agency may upload this dataset."""

    __tablename__ = "isa_upload_grant"
    __table_args__ = (UniqueConstraint("dataset", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset: Mapped[str] = mapped_column(String(120))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))

    agency: Mapped[Agency] = relationship(lazy="joined")


class AccessGrant(Base):
    """The agreement says: this role (optionally only in this kind of agency) sees this dataset at this level."""

    __tablename__ = "isa_access_grant"
    __table_args__ = (UniqueConstraint("dataset", "role", "agency_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(32))
    # None: any agency. Otherwise only users of an agency of this kind (e.g. police analysts).
    agency_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    level: Mapped[str] = mapped_column(String(16))


class Upload(Base):
    """One file a partner sent through the portal, with the warehouse's row accounting."""

    __tablename__ = "upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("portal_user.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    dataset: Mapped[str] = mapped_column(String(120))
    file_name: Mapped[str] = mapped_column(String(400))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # Per file in the upload (a zip can hold several): name, status, file_id, rows_read, loaded,
    # duplicates, quarantined, error, problems. Quarantined raw lines stay in the warehouse.
    results: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(32))

    user: Mapped[User] = relationship(lazy="joined")


class Meeting(Base):
    """A neighbourhood (PACT: Partners and Communities Together) meeting."""

    __tablename__ = "pact_meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_date: Mapped[dt.date] = mapped_column(Date)
    neighbourhood_code: Mapped[str] = mapped_column(String(16))  # a ward code from the warehouse
    neighbourhood_name: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[int | None] = mapped_column(
        Integer, nullable=True
    )  # None: not in the file it came from
    # {"age": {"18-24": 3, ...}, "sex": {"female": 5, ...}, "ethnicity": {...}}; only what was recorded.
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    issues: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("portal_user.id"), nullable=True
    )  # None: a file
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # None: entered in the portal; "file:<file_id>": loaded by 'diogel ingest pact' (its rows are in the
    # warehouse with their provenance, which the assessment reads instead of this copy).
    source: Mapped[str | None] = mapped_column(String(100), nullable=True)

    priorities: Mapped[list[MeetingPriority]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="MeetingPriority.id", lazy="selectin"
    )
    actions: Mapped[list[MeetingAction]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="MeetingAction.id", lazy="selectin"
    )


class MeetingPriority(Base):
    """An issue voted on at a meeting; ``chosen`` marks the priorities the meeting adopted."""

    __tablename__ = "pact_priority"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("pact_meeting.id", ondelete="CASCADE"))
    theme: Mapped[str] = mapped_column(String(200))
    votes: Mapped[int] = mapped_column(Integer, default=0)
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)

    meeting: Mapped[Meeting] = relationship(back_populates="priorities")


class MeetingAction(Base):
    __tablename__ = "pact_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("pact_meeting.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    review_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(32), default="open")

    meeting: Mapped[Meeting] = relationship(back_populates="actions")


class StandardsAssessment(Base):
    """A year's self-assessment against the national minimum standards for CSPs."""

    __tablename__ = "standards_assessment"
    __table_args__ = (UniqueConstraint("area_code", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[int] = mapped_column(ForeignKey("portal_user.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    ratings: Mapped[list[HallmarkRating]] = relationship(
        back_populates="assessment",
        cascade="all, delete-orphan",
        order_by="HallmarkRating.id",
        lazy="selectin",
    )


class HallmarkRating(Base):
    __tablename__ = "standards_rating"
    __table_args__ = (UniqueConstraint("assessment_id", "hallmark"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("standards_assessment.id", ondelete="CASCADE"))
    hallmark: Mapped[str] = mapped_column(String(64))
    rag: Mapped[str] = mapped_column(String(8))
    criteria_met: Mapped[str] = mapped_column(Text, default="")  # one criterion per line, as assessed
    evidence: Mapped[str] = mapped_column(Text, default="")  # one link per line
    actions: Mapped[str] = mapped_column(Text, default="")

    assessment: Mapped[StandardsAssessment] = relationship(back_populates="ratings")


class PublishedAssessment(Base):
    """A directory written by ``diogel assess`` (assessment.html, assessment.pdf, figures.json)."""

    __tablename__ = "strategic_assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    directory: Mapped[str] = mapped_column(String(1000))
    registered_by: Mapped[int] = mapped_column(ForeignKey("portal_user.id"))
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # Published to the public: when, the area whose public page shows it, and what its public
    # version (public.html) leaves out and why (JSON list of {"what", "why"}).
    public_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    public_area: Mapped[str | None] = mapped_column(String(16), nullable=True)
    public_notes: Mapped[str | None] = mapped_column(Text, nullable=True)


class PartnershipPriority(Base):
    """A priority the partnership adopted (usually from the strategic assessment), published with
    its progress on the public page and in the scrutiny pack."""

    __tablename__ = "partnership_priority"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    aim: Mapped[str] = mapped_column(Text, default="")  # what the partnership means to achieve
    # A police.uk crime type whose recorded count measures progress (None: judged by the note only).
    crime_type: Mapped[str | None] = mapped_column(String(120), nullable=True)
    adopted_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32), default="active")
    progress: Mapped[str] = mapped_column(Text, default="")  # the latest progress note, published
    updated_by: Mapped[int] = mapped_column(ForeignKey("portal_user.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PortalSession(Base):
    """A logged-in browser. The cookie holds only a random token; this row is keyed by its SHA-256,
    so reading the table gives nobody a usable session. Deleting the row ends the session at once
    (logout, a password change, an administrator's revocation)."""

    __tablename__ = "portal_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("portal_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    client: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped[User] = relationship(lazy="joined")


class AuditHead(Base):
    """The signed head of the audit chain: how many entries there are and the last one's hash,
    with an HMAC under a key kept outside this database (see :mod:`diogel.portal.audit`)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1: one head
    entries: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64), default="")  # "" until first signed


class AuditEntry(Base):
    """One line of the hash-chained audit log (see :mod:`diogel.portal.audit`)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 text, hashed exactly as stored
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(400), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON text, hashed as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class PartnershipTarget(Base):
    """A target of a priority: a measure, a baseline period, a target change or level and a deadline.
    Progress is computed (never stored) by :func:`diogel.analysis.targets.target_progress`."""

    __tablename__ = "partnership_target"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(200))
    measure: Mapped[str] = mapped_column(String(120))  # a police.uk crime type or "All crime and ASB"
    baseline_start: Mapped[dt.date] = mapped_column(Date)
    baseline_end: Mapped[dt.date] = mapped_column(Date)
    change: Mapped[float | None] = mapped_column(Float, nullable=True)  # percent from the baseline
    level: Mapped[float | None] = mapped_column(Float, nullable=True)  # count over a baseline-long window
    deadline: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[int] = mapped_column(ForeignKey("portal_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class MorileRating(Base):
    """The partnership's MoRiLE vulnerability and capacity ratings (0-4 each) for a crime type."""

    __tablename__ = "morile_rating"
    __table_args__ = (UniqueConstraint("area_code", "crime_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(String(16))
    crime_type: Mapped[str] = mapped_column(String(120))
    vulnerability: Mapped[int | None] = mapped_column(Integer, nullable=True)
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_by: Mapped[int] = mapped_column(ForeignKey("portal_user.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
