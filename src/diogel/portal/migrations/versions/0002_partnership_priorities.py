"""Partnership priorities: what the partnership adopted, published with its progress.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 20:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from diogel.portal.migrations.ddl import by_user, keyed_table, string

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    keyed_table(
        "partnership_priority",
        string("area_code", 16),
        string("title", 200),
        sa.Column("aim", sa.Text(), nullable=False),
        string("crime_type", 120, nullable=True),
        sa.Column("adopted_on", sa.Date(), nullable=False),
        string("status", 32),
        sa.Column("progress", sa.Text(), nullable=False),
        *by_user("updated"),
    )


def downgrade() -> None:
    op.drop_table("partnership_priority")
