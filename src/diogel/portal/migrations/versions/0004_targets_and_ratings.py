"""Targets per priority (performance framework) and MoRiLE vulnerability/capacity ratings.

Revision ID: 0004_targets
Revises: 0003
Create Date: 2026-12-07 00:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_targets"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partnership_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=200), nullable=False),
        sa.Column("measure", sa.String(length=120), nullable=False),
        sa.Column("baseline_start", sa.Date(), nullable=False),
        sa.Column("baseline_end", sa.Date(), nullable=False),
        sa.Column("change", sa.Float(), nullable=True),
        sa.Column("level", sa.Float(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["portal_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "morile_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(length=16), nullable=False),
        sa.Column("crime_type", sa.String(length=120), nullable=False),
        sa.Column("vulnerability", sa.Integer(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["updated_by"], ["portal_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("area_code", "crime_type"),
    )


def downgrade() -> None:
    op.drop_table("morile_rating")
    op.drop_table("partnership_target")
