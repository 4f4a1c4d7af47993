"""The synthetic Gwent partner demo data: where and when it lies, how it loads, what it shows."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from diogel.analysis.near_repeat import knox_test
from diogel.demo.files import (
    DEMO_FILES,
    build_demo_samples,
    demo_paths,
    load_demo_partner_data,
)
from diogel.demo.places import gwent_lsoas
from diogel.gather.partner import gather_cardiff, partner_records
from diogel.warehouse.core import Warehouse


def test_demo_files_are_synthetic_shipped_and_regenerate_byte_for_byte() -> None:
    paths = demo_paths()
    assert [p.name for p, _ in paths] == list(DEMO_FILES)
    assert all(p.name.startswith("synthetic_") and p.is_file() for p, _ in paths)
    for name, frame in build_demo_samples().items():
        buf = io.StringIO()
        frame.to_csv(buf, index=False, lineterminator="\n")
        assert buf.getvalue() == (paths[0][0].parent / name).read_text(encoding="utf-8"), name


def test_demo_records_lie_in_gwent_lsoas_from_july_2024_to_june_2025() -> None:
    gwent = set(gwent_lsoas().lsoa_code)
    assert len(gwent) == 374 and all(c.startswith("W01") for c in gwent)
    ed = pd.read_csv(demo_paths()[0][0], dtype=str)
    geocoded = ed.assault_lsoa.dropna()
    assert set(geocoded) <= gwent and len(geocoded) / len(ed) > 0.9
    assert ed.assault_date.min() >= "2024-07-01" and ed.assault_date.max() <= "2025-06-30"
    fire = pd.read_csv(demo_paths()[1][0], dtype=str)
    assert fire.call_datetime.min() >= "2024-07-01" and fire.call_datetime.max() <= "2025-06-30 23:59"
    assert set(ed.reported_to_police) == {"Yes", "No", "Not known"}


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    wh = Warehouse(None, tmp_path_factory.mktemp("demo") / "data")
    yield wh
    wh.close()


def test_load_demo_partner_data_is_clean_and_idempotent(demo_warehouse: Warehouse) -> None:
    seen: list[tuple[int, int, str]] = []
    results = load_demo_partner_data(demo_warehouse, progress=lambda i, n, item: seen.append((i, n, item)))
    assert [r.status for r in results] == ["loaded", "loaded"]
    assert all(r.quarantined == 0 and r.loaded == r.rows_read for r in results)
    assert seen[0] == (0, 2, demo_paths()[0][0].name) and seen[-1] == (2, 2, "")
    assert [r.status for r in load_demo_partner_data(demo_warehouse)] == ["already loaded"] * 2
    fire = partner_records(demo_warehouse, "fire_incidents")
    gwent = set(gwent_lsoas().lsoa_code)
    # Points were drawn inside the LSOA polygons, so the loader places every fire back in Gwent.
    assert fire.lsoa_code.isin(gwent).all()
    assert fire.month.min() == pd.Timestamp("2024-07-01") and fire.month.max() == pd.Timestamp("2025-06-01")


def test_demo_fires_show_the_planted_near_repeats_after_coarsening(demo_warehouse: Warehouse) -> None:
    load_demo_partner_data(demo_warehouse)
    fires = partner_records(demo_warehouse, "fire_incidents", details=True)
    deliberate = fires[fires.motive == "Deliberate"]
    r = knox_test(
        deliberate, x="easting", y="northing", date="event_date", seed=1, crime_label="deliberate fire"
    )
    # Stored points are 100 m cell centres, so "1 to 100 m" means the same or a neighbouring cell.
    assert r.near_p <= 0.01 and r.near_ratio > 2
    assert r.summary.startswith("Within 100 m and 7 days of a deliberate fire, further deliberate fires were")
    assert {"originator", "near repeat", "repeat"} <= set(r.labels.dropna())


def test_demo_cardiff_view_uses_the_recorded_answer(demo_warehouse: Warehouse) -> None:
    load_demo_partner_data(demo_warehouse)
    v = gather_cardiff(demo_warehouse)
    assert v.method == "recorded"
    # Generated with P(reported) from 0.28 (home) to 0.55 (workplace): most were not reported.
    assert 0.55 < v.share_not_reported < 0.75
    home = v.by_location_type.set_index("location_type").loc["Home", "share_not_reported"]
    pub = v.by_location_type.set_index("location_type").loc["Pub, bar or club", "share_not_reported"]
    assert home > pub
