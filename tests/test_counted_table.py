"""The counted rows kept at ingest equal the counting rules evaluated afresh, after every step.

Steps on real police.uk files (and variants derived from them: a republished month, a truncated
re-download): load, overlap, forced replacement, restore. After each one the stored rows less the
kept exclusions (``counted_police_street_dropped`` and ``..._dropped_slice``) must be exactly the
rows :func:`diogel.warehouse.counting.crimes` gives, on DuckDB, PostgreSQL and Spark; and a
warehouse without the tables (built by an older diogel) must still count right and get them at its
next ingest.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from conftest import POLICE
from diogel.warehouse import counted_table
from diogel.warehouse.core import Warehouse
from diogel.warehouse.counting import crimes
from diogel.warehouse.queries import counts

JULY_2022 = POLICE / "2022-07-gwent-street.csv"
JUNE_2024 = POLICE / "2024-06-gwent-street.csv"
KEYS = ["file_id", "slice_key", "crime_id", "month", "lsoa_code", "crime_type"]


def _write(path: Path, rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _bag(wh: Warehouse, expr) -> Counter:  # noqa: ANN001
    df = wh.execute(expr.select(*KEYS))
    return Counter(
        tuple(None if v is None or v != v else str(v) for v in r) for r in df.itertuples(index=False)
    )


def assert_kept_equals_rules(wh: Warehouse) -> None:
    kept = counted_table.counted_rows(wh)
    assert kept is not None, "the counted table is not up to date after an ingest or restore"
    assert _bag(wh, kept) == _bag(wh, crimes(wh))
    # Per file, the accounting read from the registry and the exclusions is the rules' count.
    files = wh.table("source_file").select("file_id", "run_id")
    by_file = counted_table.loaded_by_file(wh, files)
    rows = crimes(wh)
    rules = wh.execute(rows.group_by("file_id").aggregate(n=rows.count()))
    assert {f: n for f, n in by_file.items() if n} == dict(
        zip(rules.file_id, rules.n.astype(int), strict=True)
    )


@pytest.mark.parametrize("share", [2.0, -1.0], ids=["updated", "rebuilt"])
def test_kept_table_follows_every_ingest_and_restore(
    any_warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, share: float
) -> None:
    # "updated": every step after the first updates the tables in place (the first builds them);
    # "rebuilt": every step rebuilds them, through the replaced and restored slices too.
    monkeypatch.setattr(counted_table, "REBUILD_SHARE", share)
    wh = any_warehouse
    wh.ingest("police-street", JUNE_2024)
    assert_kept_equals_rules(wh)
    # 40 of June's crimes republished as May, loaded after June: they now count in May.
    rows = _rows(JUNE_2024)
    month = rows[0].index("Month")
    may = _write(tmp_path / "2024-05-gwent-street.csv",
                 [rows[0], *([*r[:month], "2024-05", *r[month + 1 :]] for r in rows[1:41])])  # fmt: skip
    wh.ingest("police-street", may)
    assert_kept_equals_rules(wh)
    wh.ingest("police-street", JULY_2022)
    assert_kept_equals_rules(wh)
    # A truncated re-download of June forced in, then the original restored.
    short = _write(tmp_path / JUNE_2024.name, rows[:101])
    (forced,) = wh.ingest("police-street", short, replace=True)
    assert forced.status == "loaded"
    assert_kept_equals_rules(wh)
    before = counts(wh, ["lsoa", "month", "crime_type"])
    wh.restore(JUNE_2024)
    assert_kept_equals_rules(wh)
    after = counts(wh, ["lsoa", "month", "crime_type"])
    assert after["count"].sum() > before["count"].sum()
    # Accounting read from the kept table is the rules' accounting.
    st = wh.status()
    assert (st.rows_read == st.loaded + st.duplicates + st.quarantined).all()
    assert st.loaded.sum() == after["count"].sum()


def test_a_warehouse_without_the_table_counts_and_gets_it_at_the_next_ingest(tmp_path: Path) -> None:
    with Warehouse(data_dir=tmp_path) as wh:
        wh.ingest("police-street", JULY_2022)
        expected = counts(wh, ["month", "crime_type"])
        # As an older diogel left it: no counted table, no mark.
        wh.backend.raw.execute(f"DROP TABLE {counted_table.TABLE}")
        wh.backend.raw.execute(f"DROP TABLE {counted_table.MARK}")
    with Warehouse(data_dir=tmp_path, read_only=True) as wh:
        assert counted_table.counted_rows(wh) is None
        assert counts(wh, ["month", "crime_type"]).equals(expected)
        assert wh.status().loaded.sum() == expected["count"].sum()
    with Warehouse(data_dir=tmp_path) as wh:
        (again,) = wh.ingest("police-street", JULY_2022)  # already loaded: nothing read, table built
        assert again.status == "already loaded"
        assert_kept_equals_rules(wh)


@pytest.mark.parametrize(
    "bucket", ["0", "(hash(crime_id) % 5)::UINTEGER"], ids=["one-bucket", "five-buckets"]
)
def test_a_rebuild_is_right_whatever_crime_ids_share_a_bucket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bucket: str
) -> None:
    # DuckDB's rebuild ranks only the rows whose bucket (a hash of the Crime ID) holds more than one
    # row. Buckets that lump different IDs together must only add work, never change what is dropped.
    monkeypatch.setattr(counted_table, "REBUILD_SHARE", -1.0)
    rows = _rows(JUNE_2024)
    month = rows[0].index("Month")
    may = _write(tmp_path / "2024-05-gwent-street.csv",
                 [rows[0], *([*r[:month], "2024-05", *r[month + 1 :]] for r in rows[1:41])])  # fmt: skip
    dropped = {}
    for name in ("default", bucket):
        if name != "default":
            monkeypatch.setattr(counted_table, "BUCKET", bucket)
        with Warehouse(data_dir=tmp_path / ("default" if name == "default" else "coarse")) as wh:
            for path in (JUNE_2024, may, JULY_2022):
                wh.ingest("police-street", path)
                assert_kept_equals_rules(wh)
            table = wh.backend.raw.execute(f"SELECT file_id, line, crime_id FROM {counted_table.TABLE}")
            dropped[name] = sorted(table.fetchall())
            assert not wh.backend.has_table(counted_table.REPEATED)
    # June's keyed rows among the 40 republished as May (May counts first; ASB rows have no Crime ID).
    assert len(dropped["default"]) == sum(1 for r in rows[1:41] if r[rows[0].index("Crime ID")]) > 0
    assert dropped[bucket] == dropped["default"]
