"""Build real-data warehouses for the resources tests: the bundled all-Wales reference data, and
optionally police.uk street-level data (the latest twelve months of the bundled Gwent demo zip, or all
four Welsh forces from the shared real-data folder).

Each kind of warehouse is loaded through the ordinary ingest once per test session, into the
session's base temporary folder; every test module then gets its own copy (module-scoped fixtures),
so no module sees another's files. The warehouse is closed before it is handed out, so the CLI under
test can open it.
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest

from diogel.warehouse.core import Warehouse
from diogel.warehouse.reference import demo_police_archive, load_reference


def _cached(factory: pytest.TempPathFactory, key: str, build) -> Path:  # noqa: ANN001
    cache = factory.getbasetemp() / "wales-warehouse-cache" / key
    if not cache.exists():
        partial = cache.with_name(cache.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        build(partial)
        partial.rename(cache)  # only a finished build is ever reused
    return cache


def demo_police_last_year(factory: pytest.TempPathFactory) -> Path:
    """A folder of the bundled demo archive's latest twelve street files (2024-07..2025-06), unchanged:
    the resources tests were written against one year of Gwent, and their windows (earliest and latest
    twelve months loaded) coincide only when exactly twelve are loaded."""
    folder = factory.getbasetemp() / "gwent-2024-07_2025-06"
    if not folder.exists():
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        with zipfile.ZipFile(demo_police_archive()) as zf:
            for name in zf.namelist():
                if name.endswith("-street.csv") and name[:7] >= "2024-07":
                    (partial / Path(name).name).write_bytes(zf.read(name))
        partial.rename(folder)
    return folder


def _reference(path: Path) -> None:
    with Warehouse(None, path) as wh:
        results = load_reference(wh, "wales")
        assert all(r.status == "loaded" for r in results), [r.summary() for r in results]


def reference_warehouse(factory: pytest.TempPathFactory, name: str = "ref") -> Path:
    """A DuckDB warehouse of this module's own holding the bundled all-Wales reference data."""
    dest = factory.mktemp(name) / "wh"
    shutil.copytree(_cached(factory, "reference", _reference), dest)
    return dest


def with_police(factory: pytest.TempPathFactory, name: str, police: str | Path | None = None) -> Path:
    """A warehouse of this module's own: the reference data plus police.uk street data (default: the
    latest twelve months of the bundled Gwent demo zip)."""
    source = str(police or demo_police_last_year(factory))

    def build(path: Path) -> None:
        shutil.copytree(_cached(factory, "reference", _reference), path)
        with Warehouse(None, path) as wh:
            results = wh.ingest("police-street", source)
            assert results and all(r.status == "loaded" for r in results), [r.summary() for r in results]

    key = "police-" + hashlib.sha256(source.encode()).hexdigest()[:12]
    dest = factory.mktemp(name) / "wh"
    shutil.copytree(_cached(factory, key, build), dest)
    return dest
