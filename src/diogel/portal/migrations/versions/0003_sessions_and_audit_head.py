"""Server-side sessions and the signed head of the audit log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 21:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["portal_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_portal_session_user_id"), "portal_session", ["user_id"], unique=False)
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # An existing log gets a head with its present length and last hash, unsigned: the migration
    # has no key. The portal signs it when it next opens the database and records that it did
    # (diogel.portal.audit.ensure_head). An empty log gets its signed head the same way.
    conn = op.get_bind()
    n = conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar() or 0
    if n:
        last = conn.execute(sa.text("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")).scalar()
        conn.execute(
            sa.text("INSERT INTO audit_head (id, entries, last_hash, mac) VALUES (1, :n, :h, '')"),
            {"n": n, "h": last},
        )


def downgrade() -> None:
    op.drop_table("audit_head")
    op.drop_index(op.f("ix_portal_session_user_id"), table_name="portal_session")
    op.drop_table("portal_session")
