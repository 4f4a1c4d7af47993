"""Loading the reference data bundled with diogel (``diogel init --reference wales``)."""

from __future__ import annotations

from diogel import data
from diogel.errors import DiogelError
from diogel.warehouse.core import FileResult, Progress, Warehouse

REFERENCE_SETS: dict[str, list[tuple[str, str, dict]]] = {
    "wales": [
        ("lookup-lsoa11-lsoa21", "lookup_lsoa11_lsoa21_ltla22.csv.gz", {}),
        ("lookup-lsoa-ward-la", "lookup_lsoa21_ward24_ltla24.csv.gz", {}),
        ("lookup-lsoa-ward-la", "lookup_lsoa11_ward19_lad19.csv.gz", {}),
        ("lookup-la-csp-force", "lookup_ltla24_csp24_pfa24.csv.gz", {}),
        ("boundaries", "lsoa11_boundaries.geojson.gz", {}),
        ("boundaries", "lsoa21_boundaries.geojson.gz", {}),
        ("population", "population19_lsoa11_wales.csv.gz", {"year": 2019}),
        ("population", "population20_lsoa11_wales.csv.gz", {"year": 2020}),
        ("deprivation", "wimd2019_scores_ranks_deciles_lsoa11.csv.gz", {"year": 2019}),
        ("harm-weights", "css_weights_policeuk.csv.gz", {}),
    ]
}


def load_reference(wh: Warehouse, name: str, progress: Progress | None = None) -> list[FileResult]:
    """Ingest a bundled reference set through the ordinary loaders (so it is validated and registered)."""
    try:
        items = REFERENCE_SETS[name]
    except KeyError:
        raise DiogelError(
            f"no bundled reference set {name!r}; available: {', '.join(REFERENCE_SETS)}"
        ) from None
    results: list[FileResult] = []
    for i, (kind, filename, options) in enumerate(items):
        if progress:
            progress(i, len(items), filename)
        results.extend(wh.ingest(kind, data.path("reference", name, filename), options=options))
    if progress:
        progress(len(items), len(items), "")
    return results


def demo_police_archive() -> str:
    return str(data.path("demo", "gwent-2023-07_2025-06-street.zip"))
