"""The assessment's counted police.uk rows (``counted_police``) and the ``--peer-weight`` option.

``counted_police`` evaluates the counting rules once into a session temporary table; it must give
exactly the rows of :func:`diogel.warehouse.counting.crimes`, on DuckDB and PostgreSQL, and must be
rebuilt when a file is registered after it was made.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import shared
from diogel.commands.assess import parse_weights
from diogel.errors import DiogelError
from diogel.report.figures import figure_parameters
from diogel.report.gather import POLICE_COLUMNS, counted_police
from diogel.warehouse.core import Warehouse
from diogel.warehouse.counting import crimes

GWENT = "gwent-2022-07_2025-06"


def _by_key(wh: Warehouse, table) -> dict:  # noqa: ANN001
    df = wh.execute(table.group_by(list(POLICE_COLUMNS)).aggregate(n=table.count()))
    return {tuple(str(v) for v in r[:-1]): int(r[-1]) for r in df.itertuples(index=False)}


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_counted_police_equals_the_counting_rules_and_follows_new_files(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    wh: Warehouse = request.getfixturevalue(f"{engine}_warehouse")
    first = tmp_path / "first"
    first.mkdir()
    for month in ("2023-06", "2023-07"):
        shutil.copy(shared("policeuk", GWENT, f"{month}-gwent-street.csv"), first)
    wh.ingest("police-street", first)

    table = counted_police(wh)
    assert _by_key(wh, table) == _by_key(wh, crimes(wh).select(*POLICE_COLUMNS))
    assert counted_police(wh) is table  # reused while nothing new is registered

    # 2023-08 repeats Crime IDs of July (counted in July) and adds its own.
    later = tmp_path / "later"
    later.mkdir()
    shutil.copy(shared("policeuk", GWENT, "2023-08-gwent-street.csv"), later)
    wh.ingest("police-street", later)
    again = counted_police(wh)
    assert again is not table
    expected = _by_key(wh, crimes(wh).select(*POLICE_COLUMNS))
    assert _by_key(wh, again) == expected
    assert sum(n for k, n in expected.items() if k[1].startswith("2023-08")) > 1000


def test_peer_weights_are_parsed_and_checked() -> None:
    assert parse_weights(["density=2", " population = 0.5"]) == {"density": 2.0, "population": 0.5}
    assert parse_weights([]) == {}
    for bad in ("density", "density=", "density=-1", "=2", "density=heavy", "density=nan"):
        with pytest.raises(ValueError, match="VARIABLE=WEIGHT"):
            parse_weights([bad])


def test_split_2011_lsoas_in_both_periods_are_assessed(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    """2018-19 files use 2011 codes; Monmouthshire has 2011 LSOAs split into several 2021 LSOAs, so
    its LSOA counts are fractional in both periods and the spatial pattern test must still run."""
    import json

    from diogel.report.assessment import run_assessment
    from diogel.report.context import AssessOptions
    from diogel.warehouse.reference import load_reference

    wh = duckdb_warehouse
    load_reference(wh, "wales")
    files = tmp_path / "gwent-2018"
    files.mkdir()
    for month in ("2018-11", "2018-12", "2019-01", "2019-02"):
        shutil.copy(shared("policeuk", "wales-2018-10_2019-02", f"{month}-gwent-street.csv"), files)
    wh.ingest("police-street", files)
    out = tmp_path / "out"
    result = run_assessment(
        wh, "Monmouthshire", "2019-01..2019-02", out,
        AssessOptions(permutations=99, pdf=False, peer_weights={"density": 2.0, "population": 0.0}),
    )  # fmt: skip
    figures = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    assert result.previous_available
    assert figures["harmonisation"]["records_apportioned"] > 0
    ids = {f["id"] for f in figures["figures"]}
    assert {"where.sppt_S", "where.lsoa", "levels.by_type"} <= ids
    # The peer weights reach the distance and are recorded.
    assert figures["options"]["peer_weights"] == {"density": 2.0, "population": 0.0}
    peers = figure_parameters(figures, next(f for f in figures["figures"] if f["id"] == "peers.peers"))
    assert peers["weights"]["density"] == 2.0 and peers["weights"]["population"] == 0.0
    with pytest.raises(DiogelError, match="unknown variable"):
        run_assessment(wh, "Monmouthshire", "2019-01..2019-02", tmp_path / "bad",
                       AssessOptions(permutations=9, pdf=False, peer_weights={"crime_rate": 1.0}))  # fmt: skip


def test_the_comparator_areas_are_built_once_and_are_what_a_fresh_process_builds(tmp_path: Path) -> None:
    import pandas as pd

    from diogel.report.gather import gather, parse_period
    from diogel.warehouse.reference import load_reference

    period = parse_period("2023-07..2023-08")
    with Warehouse(None, tmp_path) as wh:
        load_reference(wh, "wales")
        for month in ("2023-07", "2023-08"):
            wh.ingest("police-street", shared("policeuk", GWENT, f"{month}-gwent-street.csv"))
        newport = gather(wh, "W06000022", period)
        newport.comparators["added_by_a_section"] = 1.0
        monmouthshire = gather(wh, "W06000021", period)  # the comparators come from the first area's build
    with Warehouse(None, tmp_path, read_only=True) as fresh:  # a new connection: nothing cached
        built_afresh = gather(fresh, "W06000021", period).comparators
    assert "added_by_a_section" not in monmouthshire.comparators  # each area has its own copy
    pd.testing.assert_frame_equal(monmouthshire.comparators, built_afresh)
    pd.testing.assert_frame_equal(newport.comparators.drop(columns="added_by_a_section"), built_afresh)
    assert len(built_afresh) == 22 and built_afresh["covered"].sum() == 5  # Gwent's five LAs
