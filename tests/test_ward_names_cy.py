"""Welsh ward names: an LSOA -> ward -> LA lookup with ONS's Welsh-name column (``WD24NMW``) keeps it as
``ward_name_cy``, through the warehouse's membership to the Welsh report's map labels; a lookup without
one (every file in the shared data) changes nothing; a warehouse made before the column existed still
reads, and gains the column at its next lookup ingest.

The lookup with Welsh names is ``fixtures/ward_names_cy/lookup_lsoa21_ward24_ltla24_newport_cy_synthetic.csv``:
the real ONS lookup's rows for Newport, unchanged, plus a ``WD24NMW`` column filled for five real wards
(see fixtures/README.md). No published file in the shared data carries Welsh ward names.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pytest

from conftest import FIXTURES, shared
from diogel.sources import lookup_lsoa_ward_la
from diogel.warehouse.core import Warehouse
from diogel.warehouse.geography import lsoa_membership, resolve_area
from diogel.warehouse.schema import with_provenance

WELSH_LOOKUP = FIXTURES / "ward_names_cy" / "lookup_lsoa21_ward24_ltla24_newport_cy_synthetic.csv"


def welsh_in_fixture() -> dict[str, str]:
    """Ward code -> Welsh name, read from the fixture with the csv module (independent of the loader)."""
    with WELSH_LOOKUP.open(encoding="utf-8", newline="") as f:
        return {r["ward24_code"]: r["WD24NMW"] for r in csv.DictReader(f) if r["WD24NMW"]}


def ingest(wh: Warehouse, path: Path) -> None:
    (res,) = wh.ingest("lookup-lsoa-ward-la", path)
    assert res.status == "loaded" and res.quarantined == 0, res.error


def welsh_of(wh: Warehouse) -> dict[str, str]:
    m = wh.execute(lsoa_membership(wh))
    named = m.dropna(subset=["ward_name_cy"])
    return dict(zip(named["ward_code"], named["ward_name_cy"], strict=True))


def test_the_fixture_is_the_real_lookup_plus_a_welsh_column() -> None:
    real = shared("geography", "lookup_lsoa21_ward24_ltla24.csv")
    with real.open(encoding="utf-8", newline="") as f:
        newport = [r for r in csv.reader(f) if r[5] == "W06000022"]
    with WELSH_LOOKUP.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][-1] == "WD24NMW"
    assert [r[:-1] for r in rows[1:]] == newport
    assert welsh_in_fixture() == {"W05001627": "Allt-yr-yn", "W05001630": "Betws", "W05001632": "Caerllion",
                                  "W05001635": "Llyswyry", "W05001638": "Pilgwenlli"}  # fmt: skip


def test_a_lookup_without_welsh_names_gives_null(duckdb_warehouse: Warehouse) -> None:
    ingest(duckdb_warehouse, shared("geography", "lookup_lsoa21_ward24_ltla24.csv"))
    m = duckdb_warehouse.execute(lsoa_membership(duckdb_warehouse))
    assert len(m) == 35672 and m["ward_name_cy"].isna().all()


@pytest.mark.parametrize("column", ["WD24NMW", "ward24_name_cy"])
def test_the_welsh_names_reach_the_membership(
    duckdb_warehouse: Warehouse, tmp_path: Path, column: str
) -> None:
    """The real lookup, then the Newport rows with Welsh names: those rows replace Newport's (same slices),
    and only the wards the file names in Welsh have a Welsh name."""
    ingest(duckdb_warehouse, shared("geography", "lookup_lsoa21_ward24_ltla24.csv"))
    path = tmp_path / "lookup_lsoa21_ward24_ltla24_newport_cy.csv"
    text = WELSH_LOOKUP.read_text(encoding="utf-8")
    path.write_text(text.replace("WD24NMW", column, 1), encoding="utf-8")
    ingest(duckdb_warehouse, path)
    assert welsh_of(duckdb_warehouse) == welsh_in_fixture()
    m = duckdb_warehouse.execute(lsoa_membership(duckdb_warehouse))
    caerleon = m[m["ward_code"] == "W05001632"]
    assert set(caerleon["ward_name"]) == {"Caerleon"} and len(caerleon) == 6


def _drop_column(wh: Warehouse, table: str, column: str) -> None:
    if wh.backend.name == "duckdb":
        wh.backend.raw.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        wh.backend._execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_an_old_warehouse_reads_and_gains_the_column(engine: str, request: pytest.FixtureRequest) -> None:
    """A lookup table made before ``ward_name_cy`` (the column dropped from a real load) still reads, with
    no Welsh names; the next lookup ingest adds the column, and the Welsh names arrive."""
    wh: Warehouse = request.getfixturevalue(f"{engine}_warehouse")
    ingest(wh, shared("geography", "lookup_lsoa21_ward24_ltla24.csv"))
    _drop_column(wh, "lookup_lsoa_ward_la", "ward_name_cy")
    assert "ward_name_cy" not in wh.table("lookup_lsoa_ward_la").columns
    m = wh.execute(lsoa_membership(wh))
    assert len(m) == 35672 and m["ward_name_cy"].isna().all()
    assert resolve_area(wh, "Caerleon", m) == ("ward", "W05001632", "Caerleon")
    ingest(wh, WELSH_LOOKUP)
    assert "ward_name_cy" in wh.table("lookup_lsoa_ward_la").columns
    assert welsh_of(wh) == welsh_in_fixture()


def test_a_table_of_the_old_layout_gains_the_column_on_every_engine(any_warehouse: Warehouse) -> None:
    """The table as an older diogel created it (the kind's schema without ``ward_name_cy``), then a lookup
    with Welsh names ingested into it: DuckDB and PostgreSQL alter the table, Spark rewrites its folder."""
    old = pa.schema([f for f in lookup_lsoa_ward_la.SCHEMA if f.name != "ward_name_cy"])
    any_warehouse.backend.ensure_table("lookup_lsoa_ward_la", with_provenance(old))
    assert "ward_name_cy" not in any_warehouse.table("lookup_lsoa_ward_la").columns
    ingest(any_warehouse, WELSH_LOOKUP)
    assert welsh_of(any_warehouse) == welsh_in_fixture()


def test_a_ward_is_found_by_its_welsh_name(duckdb_warehouse: Warehouse) -> None:
    ingest(duckdb_warehouse, WELSH_LOOKUP)
    assert resolve_area(duckdb_warehouse, "caerllion") == ("ward", "W05001632", "Caerleon")
