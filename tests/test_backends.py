"""The standard aggregation on each engine: counts by LSOA x month x crime type, and by area.

The same Ibis code runs on DuckDB, a real PostgreSQL server and Spark in local mode; each result
is compared with an independent count of the raw CSVs (tests/_independent.py).
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from _independent import count_raw, lsoa_to_la
from conftest import POLICE
from diogel import data
from diogel.warehouse.core import Warehouse
from diogel.warehouse.queries import counts

FILES = [POLICE / "2022-07-gwent-street.csv", POLICE / "2024-06-gwent-street.csv"]
REFERENCE = data.path("reference", "wales")
LOOKUP_2021 = REFERENCE / "lookup_lsoa21_ward24_ltla24.csv.gz"
LOOKUP_2011 = REFERENCE / "lookup_lsoa11_ward19_lad19.csv.gz"


def as_counter(df: pd.DataFrame, by: list[str]) -> Counter:
    out: Counter = Counter()
    for row in df.itertuples(index=False):
        key = tuple(None if not isinstance(getattr(row, c), str) else getattr(row, c) for c in by)
        out[key] += int(row.count)
    return out


def test_lsoa_month_crime_type(any_warehouse: Warehouse) -> None:
    for path in FILES:
        any_warehouse.ingest("police-street", path)
    by = ["lsoa", "month", "crime_type"]
    got = counts(any_warehouse, by)
    assert list(got.columns) == [*by, "count"]
    assert as_counter(got, by) == count_raw(FILES)


def test_local_authority_by_lsoa_membership(any_warehouse: Warehouse) -> None:
    any_warehouse.ingest("lookup-lsoa-ward-la", LOOKUP_2021)
    any_warehouse.ingest("lookup-lsoa-ward-la", LOOKUP_2011)
    any_warehouse.ingest("lookup-la-csp-force", REFERENCE / "lookup_ltla24_csp24_pfa24.csv.gz")
    for path in FILES:
        any_warehouse.ingest("police-street", path)
    la = lsoa_to_la(LOOKUP_2021, LOOKUP_2011)
    expected = count_raw(FILES, key=lambda r: (la.get(r["LSOA code"]), r["Month"]))
    assert as_counter(counts(any_warehouse, ["la", "month"]), ["la", "month"]) == expected
    # Gwent Police's files hold crimes located in Cardiff and beyond: they count there, by LSOA.
    assert expected[("W06000015", "2024-06")] > 0
    # An area is its LSOAs: the Gwent force area never includes the Cardiff rows of Gwent's file.
    gwent = counts(any_warehouse, ["la"], area="W15000002")
    assert set(gwent.la) == {"W06000018", "W06000019", "W06000020", "W06000021", "W06000022"}
    in_gwent = sum(n for (code, _), n in expected.items() if code in set(gwent.la))
    assert gwent["count"].sum() == in_gwent
