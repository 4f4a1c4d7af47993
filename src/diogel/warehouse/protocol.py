"""What the read side needs of a warehouse, as a type: the :class:`Warehouse` protocol.

Modules that take a warehouse annotate it with this protocol, imported under ``TYPE_CHECKING`` only, so
a read model, a gatherer or an indicator depends on four methods rather than on
:class:`diogel.warehouse.core.Warehouse` (its loading, locking and recovery) and imports nothing at run
time. :class:`~diogel.warehouse.core.Warehouse` satisfies it on every engine (DuckDB, PostgreSQL, Spark);
a test checks that it does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import ibis
import pandas as pd

__all__ = ["Warehouse"]


@runtime_checkable
class Warehouse(Protocol):
    """A warehouse as its readers use it: tables by name, expressions run to frames, where it lives."""

    data_dir: Path  # the data directory (the partner key and Spark tables live under it)
    url: str | None  # the engine's URL (None: DuckDB in the data directory)

    @property
    def ibis(self) -> ibis.BaseBackend:
        """The Ibis connection (for temporary tables)."""
        ...

    def table(self, name: str) -> ibis.Table:
        """The table ``name`` as an Ibis expression."""
        ...

    def has(self, name: str) -> bool:
        """Whether the table ``name`` exists (a warehouse may hold no boundaries, no partner data)."""
        ...

    def execute(self, expr: ibis.Expr) -> pd.DataFrame:
        """Run ``expr`` on the engine and return the result as a frame."""
        ...
