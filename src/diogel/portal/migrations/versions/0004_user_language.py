"""Each user's language: the portal opens in the language the user last chose, in any browser.

Revision ID: 0004_user_language
Revises: 0003
Create Date: 2026-12-07 00:20:00

Another migration of the same session may also revise 0003; the integrator chains them (this one's
``down_revision`` then names the other).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_user_language"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: an account that never chose follows its browser (cookie, then Accept-Language).
    with op.batch_alter_table("portal_user") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("portal_user") as batch:
        batch.drop_column("language")
