"""Targets per priority (performance framework), MoRiLE vulnerability/capacity ratings, and PACT
meetings loaded from files (``diogel ingest pact``) kept in the same store as those entered, and
assessments published to the public.

Revision ID: 0005_targets
Revises: 0004_user_language
Create Date: 2026-12-07 00:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from diogel.portal.migrations.ddl import by_user, keyed_table, string

revision = "0005_targets"
down_revision = "0004_user_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    keyed_table(
        "partnership_target",
        string("area_code", 16),
        string("priority", 200),
        string("measure", 120),
        sa.Column("baseline_start", sa.Date(), nullable=False),
        sa.Column("baseline_end", sa.Date(), nullable=False),
        sa.Column("change", sa.Float(), nullable=True),
        sa.Column("level", sa.Float(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=False),
        *by_user("created"),
    )
    keyed_table(
        "morile_rating",
        string("area_code", 16),
        string("crime_type", 120),
        sa.Column("vulnerability", sa.Integer(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        *by_user("updated"),
        sa.UniqueConstraint("area_code", "crime_type"),
    )

    # A meeting from a file names the file, has no portal user behind it and may not say how many came.
    with op.batch_alter_table("pact_meeting") as batch:
        batch.add_column(sa.Column("source", sa.String(length=100), nullable=True))
        batch.alter_column("created_by", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("attendees", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("strategic_assessment") as batch:
        batch.add_column(sa.Column("public_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("public_area", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("public_notes", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("strategic_assessment") as batch:
        batch.drop_column("public_notes")
        batch.drop_column("public_area")
        batch.drop_column("public_at")
    with op.batch_alter_table("pact_meeting") as batch:
        batch.drop_column("source")
    op.drop_table("morile_rating")
    op.drop_table("partnership_target")
