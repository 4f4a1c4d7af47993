"""The stop-and-search section on real rows: the shared excerpt (Dyfed-Powys, June 2024, 12 rows) loaded
through the ordinary ingest, placed in Carmarthenshire's 2021 LSOAs by the bundled boundaries.

No street-level data for Dyfed-Powys in June 2024 is in the shared folder, so a full ``diogel assess``
of a Dyfed-Powys area cannot run; the section is built here on the parts of the assessment context it
reads (the gathered searches, the area's LSOAs, boundaries, residents and period), all real."""

from __future__ import annotations

import gzip
import io
from types import SimpleNamespace

import geopandas as gpd
import pandas as pd
import pytest

from conftest import shared
from diogel import data as bundled
from diogel.gather.stop_search import gather_stop_search
from diogel.report.figures import FigureRegistry
from diogel.report.gather import Period
from diogel.report.i18n import language
from diogel.report.sections import stop_search
from diogel.warehouse.core import Warehouse

CARMARTHENSHIRE = "W06000010"


def _lsoas(la: str) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    ref = bundled.path("reference", "wales")
    lookup = pd.read_csv(ref / "lookup_lsoa21_ward24_ltla24.csv.gz", dtype=str)
    codes = lookup.loc[lookup["ltla24_code"] == la, "lsoa21_code"].unique()
    raw = gzip.decompress((ref / "lsoa21_boundaries.geojson.gz").read_bytes())
    gdf = gpd.read_file(io.BytesIO(raw))
    gdf = gdf[gdf["LSOA21CD"].isin(set(codes))].rename(columns={"LSOA21CD": "lsoa_code"})
    return pd.DataFrame({"lsoa_code": sorted(codes)}), gdf[["lsoa_code", "geometry"]].reset_index(drop=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory):  # noqa: ANN201
    lsoas, boundaries = _lsoas(CARMARTHENSHIRE)
    out = tmp_path_factory.mktemp("ss-section")
    with Warehouse(None, out / "wh") as wh:
        results = wh.ingest("police-stop-search", str(shared("policeuk", "stop-and-search-excerpt")))
        assert [r.status for r in results] == ["loaded"]
        residents = 190_000.0  # a round figure for the rate; the test checks the arithmetic, not the level
        d = SimpleNamespace(
            period=Period(pd.Timestamp("2024-06-01"), pd.Timestamp("2024-06-01")),
            boundaries=boundaries,
            lsoas=lsoas,
            population=pd.DataFrame({"lsoa_code": lsoas["lsoa_code"], "population": residents / len(lsoas)}),
            # No street data for the month (see the module docstring): no crime to set searches against.
            crimes=pd.DataFrame(
                {
                    "lsoa_code": pd.Series([], dtype=str),
                    "month": pd.Series([], dtype="datetime64[ns]"),
                    "crime_type": pd.Series([], dtype=str),
                    "count": pd.Series([], dtype=float),
                }
            ),  # fmt: skip
        )
        figures = FigureRegistry(lambda key: [], out)
        figures.section = "stop_search"
        # The section holds no warehouse: the searches are gathered first, as the assessment does.
        bundle = gather_stop_search(wh, d.period.start, d.period.end, boundaries)
        ctx = SimpleNamespace(data=d, figures=figures, stop_search=bundle)
        result = stop_search.build(ctx)
        with language("cy"):
            welsh_figures = FigureRegistry(lambda key: [], out)
            welsh_figures.section = "stop_search"
            welsh = stop_search.build(SimpleNamespace(data=d, figures=welsh_figures, stop_search=bundle))
    return result, figures, boundaries, welsh


def test_searches_are_placed_by_their_point_and_counted_by_hand(built):
    result, figures, *_ = built
    s = result.values["summary"]
    # The excerpt's 11 located rows fall in (ONS LSOA 2021 polygons, looked up one by one):
    # rows 1, 2, 8, 9, 10 Carmarthenshire; 3, 6, 7 Ceredigion; 4, 5 Pembrokeshire; 11 Powys. Row 1 is
    # 2024-05-31T23:32 UTC, 00:32 on 1 June in UK summer time: a June search, as police.uk files it.
    assert s.searches == 5 and figures.value("stop_search.searches") == 5
    # The one row without a point (row 12) is counted apart, never placed.
    assert figures.value("stop_search.unlocated") == 1
    # 5 searches per 190,000 residents in one month: 1000 x 5 / 190,000 x 12 = 0.3158 a year.
    assert figures.value("stop_search.rate_per_1000") == pytest.approx(1000 * 5 / 190_000 * 12)
    # Of the five: rows 1, 2, 8, 10 "A no further action disposal", row 9 "Community resolution" with
    # the outcome linked to the object of search: outcome rate 1/5, find rate 1/5.
    assert figures.value("stop_search.outcome_rate") == pytest.approx(0.2)
    assert figures.value("stop_search.find_rate") == pytest.approx(0.2)
    by_object = {r["object_of_search"]: r["searches"] for r in figures.get("stop_search.by_object").rows}
    assert by_object == {"Controlled drugs": 5}


def test_too_few_to_read_and_no_invented_denominator(built):
    result, figures, *_ = built
    html = str(result.html)
    assert "Too few to read" in html
    assert "Disproportionality is not calculated" in html and "College of Policing" in html
    assert not any(k.startswith("stop_search.disproportionality") for k in figures.figures)
    eth = figures.get("stop_search.by_ethnicity").rows
    assert {r["ethnic_group"]: r["searches"] for r in eth}["White"] == figures.value("stop_search.searches")
    # With no recorded crime loaded the place comparison has nothing to compare: shown as n/a, not 0.
    assert result.values["place"]["located_searches"] == 5
    assert figures.get("stop_search.spearman").display == "n/a"


def test_the_section_in_welsh_quotes_the_same_figures(built):
    result, figures, _, welsh = built
    html = str(welsh.html)
    assert "Rhy ychydig i’w darllen" in html and "Too few to read" not in html
    # police.uk's categories are given in Welsh in the tables; the rows in figures.json stay as published.
    assert "Cyffuriau a reolir" in html and "Controlled drugs" not in html
    assert ">Gwyn<" in html and "Penderfyniad i beidio â chymryd camau pellach" in html
    assert str(welsh.caveats[0]).startswith("Stopio a chwilio:")
    assert str(figures.span("stop_search.searches")) in html
