"""The dashboard's "where next" panel: the forecast map, its text alternative, small numbers, and
its refresh when data are ingested (real bundled Gwent data, 2024-07..2025-06)."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from conftest import POLICE
from portal.conftest import AREA, page_csrf

pytestmark = pytest.mark.slow  # the dashboard computes trends, hot spots, the map and the forecast


def _panel(html: str) -> str:
    m = re.search(r'<section class="where-next" id="where-next".*?</section>', html, re.S)
    assert m, "no where-next panel on the dashboard"
    return m.group(0)


def _hand_densest(harness) -> str:  # noqa: ANN001
    """The 2021 LSOA of the area with most records per km2 over the 12 months loaded, by hand:
    counts straight from the warehouse (only LSOAs whose code is the same in 2011 and 2021, so no
    apportioning is involved) over areas of the boundaries in British National Grid."""
    from diogel.warehouse.queries import counts

    views = harness.portal.views
    with views.reading() as wh:
        c = counts(wh, ["lsoa"], area=AREA).set_index("lsoa")["count"]
        b = wh.table("lsoa_boundaries")
        b = wh.execute(b.filter(b.lsoa_vintage == 2021).select("lsoa_code", "geometry"))
    lsoas = set(views.lsoas21(AREA).lsoa_code)
    b = b[b.lsoa_code.isin(lsoas)].drop_duplicates("lsoa_code")
    g = gpd.GeoSeries(shapely.from_wkb(b.geometry.map(bytes).tolist()), crs=4326).to_crs(27700)
    km2 = pd.Series(g.area.to_numpy() / 1e6, index=b.lsoa_code.to_numpy())
    density = (c.reindex(km2.index) / km2).dropna()
    return str(density.idxmax())


def test_where_next_panel_naive_map_with_text_alternative(sqlite_harness) -> None:  # noqa: ANN001
    page = sqlite_harness.client("analyst").get(f"/dashboard?area={AREA}")
    assert page.status_code == 200
    panel = _panel(page.text)
    # 12 months loaded: too few for 6 rolling origins, so the naive map is used and the page says so.
    assert "12 unbroken months are loaded" in panel and "so diogel uses the naive map" in panel
    assert "2025-07 to 2025-09" in panel
    # The map is an image labelled by its caption and described by the table (its text alternative).
    svg = re.search(r"<svg[^>]*class=\"choropleth forecast\"[^>]*>", panel).group(0)
    assert 'role="img"' in svg and 'aria-labelledby="where-next-caption"' in svg
    assert 'aria-describedby="where-next-table"' in svg and 'id="where-next-caption"' in panel
    rows = re.findall(
        r"<tr><td class=\"n\">(\d+)</td><td>(W0\d{7})</td>.*?<td class=\"n\">(.*?)</td></tr>", panel
    )
    assert rows, "the table lists no LSOA"
    # Every LSOA coloured on the map as in the top 10% is in the table, and no other.
    on_map = set(re.findall(r'data-lsoa="(W0\d{7})" data-class="top', panel))
    assert on_map == {code for _, code, _ in rows}
    # Rank 1 is the LSOA with most records per km2 in the last 12 months, counted by hand.
    assert rows[0][0] == "1" and rows[0][1] == _hand_densest(sqlite_harness)
    # Small numbers: an expected count is either 5 or more, or "fewer than 5".
    for _, _, cell in rows:
        assert cell == "fewer than 5" or int(cell.replace(",", "")) >= 5, cell


def test_where_next_redrawn_after_ingest(sqlite_harness) -> None:  # noqa: ANN001
    analyst = sqlite_harness.client("analyst")
    assert "12 unbroken months are loaded" in _panel(analyst.get(f"/dashboard?area={AREA}").text)
    contributor = sqlite_harness.client("contributor")
    r = contributor.post(
        "/upload",
        data={"dataset": "police-street", "csrf_token": page_csrf(contributor)},
        files={"file": ("2024-06-gwent-street.csv", (POLICE / "2024-06-gwent-street.csv").read_bytes(), "text/csv")},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303
    # The new month is in the forecast's history at the next visit (the cache moved on with the warehouse).
    assert "13 unbroken months are loaded" in _panel(analyst.get(f"/dashboard?area={AREA}").text)


@pytest.fixture(scope="module")
def three_years(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with Gwent's 36 published months (real, shared data): enough for 6 origins."""
    from conftest import shared
    from diogel.warehouse.core import Warehouse
    from diogel.warehouse.reference import load_reference

    police = shared("policeuk", "gwent-2022-07_2025-06")
    folder = tmp_path_factory.mktemp("three-years")
    with Warehouse(None, folder) as wh:
        load_reference(wh, "wales")
        assert all(r.status == "loaded" for r in wh.ingest("police-street", police))
    return folder


def test_where_next_states_the_evaluated_choice(three_years: Path) -> None:
    from diogel.analysis.forecast_eval import BASELINE
    from portal.conftest import make_harness

    h = make_harness(three_years, None)
    try:
        panel = _panel(h.client("analyst").get(f"/dashboard?area={AREA}").text)
        wn = h.portal.views.where_next(AREA)
    finally:
        h.portal.close()
    assert wn.evaluated and len(wn.origins) == 6 and wn.first == "2025-07"
    naive, pai = f"{wn.naive_pai:.2f}", f"{wn.chosen_pai:.2f}"
    if wn.method == BASELINE:
        # The naive map is used because no method beat it, and the page says so with the test's numbers.
        assert not wn.beats_naive
        assert "No forecasting method beat the naive map over 6 rolling origins" in panel
        assert (
            f"of {pai} against the naive map&#39;s {naive}" in panel
            or f"of {pai} against the naive map's {naive}" in panel
        )
    else:
        assert wn.beats_naive and wn.wilcoxon_p <= 0.05 and wn.chosen_pai > wn.naive_pai
        assert f"mean PAI {pai} against {naive}" in panel
    assert "so diogel uses the naive map" in panel or "The forecast uses" in panel
