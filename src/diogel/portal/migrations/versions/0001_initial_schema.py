"""Initial schema: agencies, users, the information sharing agreement, uploads, PACT meetings,
standards self-assessments, strategic assessments and the hash-chained audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 18:37:05.701253
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from diogel.portal.migrations.ddl import by_user, keyed_table, string

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    people_and_rules()
    partnership_work()


def people_and_rules() -> None:
    """Agencies, users, the information sharing agreement and the audit log."""
    keyed_table("agency", string("name", 200), string("kind", 32), sa.UniqueConstraint("name"))
    keyed_table(
        "audit_log",
        string("at", 40),
        string("actor", 200),
        string("action", 64),
        string("target", 400),
        sa.Column("detail", sa.Text(), nullable=False),
        string("prev_hash", 64),
        string("hash", 64),
        sa.UniqueConstraint("hash"),
    )
    keyed_table(
        "isa_access_grant",
        string("dataset", 120),
        string("role", 32),
        string("agency_kind", 32, nullable=True),
        string("level", 16),
        sa.UniqueConstraint("dataset", "role", "agency_kind"),
    )
    keyed_table(
        "isa_upload_grant",
        string("dataset", 120),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.UniqueConstraint("dataset", "agency_id"),
    )
    keyed_table(
        "portal_user",
        string("username", 120),
        string("display_name", 200),
        string("password_hash", 255),
        string("role", 32),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.UniqueConstraint("username"),
    )


def partnership_work() -> None:
    """PACT meetings and their actions, standards self-assessments, strategic assessments and uploads."""
    keyed_table(
        "pact_meeting",
        sa.Column("meeting_date", sa.Date(), nullable=False),
        string("neighbourhood_code", 16),
        string("neighbourhood_name", 200),
        sa.Column("attendees", sa.Integer(), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("issues", sa.Text(), nullable=False),
        *by_user("created"),
    )
    keyed_table(
        "standards_assessment",
        string("area_code", 16),
        sa.Column("year", sa.Integer(), nullable=False),
        *by_user("updated"),
        sa.UniqueConstraint("area_code", "year"),
    )
    keyed_table(
        "strategic_assessment",
        string("title", 300),
        string("directory", 1000),
        *by_user("registered"),
        sa.Column("published_at", sa.DateTime(), nullable=True),
    )
    keyed_table(
        "upload",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        string("dataset", 120),
        string("file_name", 400),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        string("status", 32),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["portal_user.id"]),
    )
    keyed_table(
        "pact_action",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        string("owner", 200),
        sa.Column("review_date", sa.Date(), nullable=True),
        string("status", 32),
        sa.ForeignKeyConstraint(["meeting_id"], ["pact_meeting.id"], ondelete="CASCADE"),
    )
    keyed_table(
        "pact_priority",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        string("theme", 200),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("chosen", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["pact_meeting.id"], ondelete="CASCADE"),
    )
    keyed_table(
        "standards_rating",
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        string("hallmark", 64),
        string("rag", 8),
        sa.Column("criteria_met", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["assessment_id"], ["standards_assessment.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("assessment_id", "hallmark"),
    )


def downgrade() -> None:
    op.drop_table("standards_rating")
    op.drop_table("pact_priority")
    op.drop_table("pact_action")
    op.drop_table("upload")
    op.drop_table("strategic_assessment")
    op.drop_table("standards_assessment")
    op.drop_table("pact_meeting")
    op.drop_table("portal_user")
    op.drop_table("isa_upload_grant")
    op.drop_table("isa_access_grant")
    op.drop_table("audit_log")
    op.drop_table("agency")
