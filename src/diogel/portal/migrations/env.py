"""Alembic environment for the portal database; run programmatically by :func:`diogel.portal.db.migrate`."""

from __future__ import annotations

from alembic import context

from diogel.portal.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through diogel.portal.db.migrate
    raise RuntimeError("run the portal migrations through diogel.portal.db.migrate(url)")
# render_as_batch lets the same scripts ALTER tables on SQLite, which cannot alter most columns.
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
