"""The portal's warehouse: the datasets the agreement talks about, and :class:`WarehouseViews`, the
read models (:mod:`diogel.portal.read`, one module per concern) behind their one cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from diogel.portal.i18n import N_
from diogel.portal.read.attendance import AGE_BANDS, ETHNICITIES, SEXES, Representation, representation
from diogel.portal.read.cache import ReadCache
from diogel.portal.read.counts import Counts
from diogel.portal.read.dashboard import Dashboard, Dashboards, Trend
from diogel.portal.read.geography import AreaInfo, Geography
from diogel.portal.read.ingest import Ingest
from diogel.portal.read.maps import choropleth_svg, legend

__all__ = [
    "AGE_BANDS", "ETHNICITIES", "POLICE", "SEXES", "AreaInfo", "Dashboard", "Dataset", "Representation", "Trend",
    "WarehouseViews", "choropleth_svg", "datasets", "legend", "representation",
]  # fmt: skip

POLICE = "police-street"


@dataclass(frozen=True)
class Dataset:
    """A dataset the information sharing agreement talks about and how to ingest it."""

    name: str
    title: str
    source_kind: str
    options: dict[str, Any] = field(default_factory=dict)


def datasets() -> dict[str, Dataset]:
    """police.uk street-level crime always; partner datasets (``partner:<schema>``) once the warehouse
    has the ``partner`` source kind (``Warehouse.ingest("partner", path, options={"schema": ...})``)."""
    from diogel.sources.registry import kinds

    out = {POLICE: Dataset(POLICE, N_("police.uk street-level crime and ASB"), POLICE)}
    if "partner" in kinds():
        from diogel.sources.partner import load_schema, shipped_schemas

        for name in shipped_schemas():
            out[f"partner:{name}"] = Dataset(
                f"partner:{name}", load_schema(name).title, "partner", {"schema": name}
            )
    return out


class WarehouseViews(Geography, Counts, Dashboards, Ingest, ReadCache):
    """The portal's read (and upload) access to one warehouse: each concern's read models
    (:mod:`diogel.portal.read`) over the one cache and connection of :class:`ReadCache`."""
