"""The row-accounting gatherer: what ingest set aside, read once for the report.

The report's "Data and coverage" section says how many rows of the police.uk street files were
quarantined because no loaded ONS lookup knows their LSOA code; it reads that number from this
bundle, never from the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from diogel.warehouse.counting import unknown_lsoa_rows

if TYPE_CHECKING:
    from diogel.warehouse.protocol import Warehouse

__all__ = ["RowAccounting", "gather_accounting"]


@dataclass(frozen=True)
class RowAccounting:
    """Rows ingest quarantined, across every loaded file.

    Attributes
    ----------
    unknown_lsoa : rows of the police.uk street files (every force and month) quarantined because
        their LSOA code is in none of the loaded ONS lookups.
    """

    unknown_lsoa: int


def gather_accounting(wh: Warehouse) -> RowAccounting:
    """Read the row accounting of ``wh``."""
    return RowAccounting(unknown_lsoa=unknown_lsoa_rows(wh))
