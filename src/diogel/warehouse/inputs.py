"""What a parser needs from the warehouse, handed in as declared inputs.

A parser (:mod:`diogel.sources`) knows nothing of the warehouse. A source kind that needs something the
warehouse holds names it in :attr:`~diogel.sources.registry.SourceKind.inputs`; :meth:`Warehouse.ingest`
then passes, under that name in the parser's options, a function of no arguments that fetches it. A
function rather than the value, because most files never need it (a partner file without coordinates
reads no LSOA polygons; one without pseudonymised fields needs no key).

The inputs diogel provides:

``lsoa_areas``
    LSOA polygons (EPSG:27700) from the warehouse's boundaries, newest vintage; the bundled Welsh 2021
    polygons when none are loaded.
``partner_secret``
    the partnership's pseudonymisation key, checked against the key ids of the stored partner rows
    (:mod:`diogel.sources.partner.keys`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diogel.sources.registry import SourceKind
from diogel.warehouse.counting import counted

if TYPE_CHECKING:
    from diogel.warehouse.protocol import Warehouse

__all__ = ["declared_inputs", "lsoa_areas", "partner_secret", "stored_key_ids"]

_AREAS_CACHE: dict[tuple, Any] = {}


def lsoa_areas(wh: Warehouse | None) -> Any:
    """LSOA polygons (EPSG:27700) from the warehouse's boundaries, newest vintage; else the bundled Welsh ones."""
    # The partner modules are imported here, not at the top: Warehouse imports this module, and a
    # warehouse that never loads partner data should not pay for importing them.
    from diogel.sources.partner.ingest import BNG, bundled_lsoa21

    if wh is None or not wh.has("lsoa_boundaries"):
        return bundled_lsoa21()
    files = wh.table("source_file")
    ids = wh.execute(files.filter(files.kind == "boundaries").select("file_id")).file_id
    key = (str(wh.data_dir), str(wh.url), tuple(sorted(ids)))
    if key in _AREAS_CACHE:
        return _AREAS_CACHE[key]
    if not len(ids):
        return bundled_lsoa21()
    import geopandas as gpd
    import shapely

    rows = counted(wh, "boundaries")
    vintages = wh.execute(rows.select("lsoa_vintage").distinct()).lsoa_vintage
    newest = int(max(vintages))
    frame = wh.execute(rows.filter(rows.lsoa_vintage == newest).select("lsoa_code", "geometry"))
    geoms = shapely.from_wkb([bytes(g) for g in frame.geometry])
    gdf = gpd.GeoDataFrame({"lsoa_code": frame.lsoa_code}, geometry=geoms, crs="EPSG:4326").to_crs(BNG)
    _AREAS_CACHE.clear()  # one warehouse at a time is the normal case; never grow without bound
    _AREAS_CACHE[key] = gdf
    return gdf


def stored_key_ids(wh: Warehouse) -> set[str]:
    """The key ids of partner rows already in the warehouse ``wh`` (empty if none were pseudonymised)."""
    if not wh.has("partner_record"):
        return set()
    t = wh.table("partner_record")
    ids = wh.execute(t.filter(t.key_id.notnull()).select("key_id").distinct())
    return set(ids.key_id)


def partner_secret(wh: Warehouse) -> bytes:
    """The key for pseudonymising partner files ingested into ``wh``.

    A missing key is created only while the warehouse holds no pseudonymised partner rows (a first
    ingest); once it does, a missing or different key is refused, because pseudonyms made with another
    key would not link to the stored ones.

    The key lives outside the warehouse, under its data directory (or where ``DIOGEL_PARTNER_SECRET``
    points): see :mod:`diogel.sources.partner.keys`.
    """
    from diogel.sources.partner.keys import load_partner_secret  # see lsoa_areas

    return load_partner_secret(Path(wh.data_dir), stored_key_ids(wh))


_PROVIDERS: dict[str, Callable[[Warehouse], Callable[[], Any]]] = {
    "lsoa_areas": lambda wh: functools.partial(lsoa_areas, wh),
    "partner_secret": lambda wh: functools.partial(partner_secret, wh),
}


def declared_inputs(kind: SourceKind, wh: Warehouse) -> dict[str, Callable[[], Any]]:
    """The options that hand ``kind``'s declared inputs to its parser (one fetching function each)."""
    unknown = [name for name in kind.inputs if name not in _PROVIDERS]
    if unknown:
        raise ValueError(
            f"source kind {kind.name!r} declares unknown inputs {unknown}; known: {sorted(_PROVIDERS)}"
        )
    return {name: _PROVIDERS[name](wh) for name in kind.inputs}
