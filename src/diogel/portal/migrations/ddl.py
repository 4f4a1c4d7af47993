"""What every portal table's DDL has in common, written once for the migrations: an integer key,
and "who did it and when" (a portal user and a time).

A migration's DDL must stay what it was when it shipped (``tests/portal/test_records.py`` compares
the migrated schema with the models); these helpers only spell the same columns and constraints in
the same order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def keyed_table(name: str, *items: sa.schema.SchemaItem) -> None:
    """``CREATE TABLE name (id INTEGER NOT NULL, <items>, PRIMARY KEY (id))``."""
    op.create_table(
        name, sa.Column("id", sa.Integer(), nullable=False), *items, sa.PrimaryKeyConstraint("id")
    )


def by_user(verb: str) -> tuple[sa.Column, sa.Column, sa.ForeignKeyConstraint]:
    """``<verb>_by`` (the portal user who did it) and ``<verb>_at`` (when), both required."""
    return (
        sa.Column(f"{verb}_by", sa.Integer(), nullable=False),
        sa.Column(f"{verb}_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint([f"{verb}_by"], ["portal_user.id"]),
    )


def string(name: str, length: int, nullable: bool = False) -> sa.Column:
    """A ``VARCHAR(length)`` column, required unless ``nullable``."""
    return sa.Column(name, sa.String(length=length), nullable=nullable)
