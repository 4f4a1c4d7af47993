"""Ward names in Welsh on Welsh pages, where the warehouse's ward lookup has them (ONS's ``WD24NMW``).

The portal's warehouse (the bundled data) gets the synthetic Newport lookup with five Welsh ward names
(``tests/fixtures/ward_names_cy``: the real lookup's Newport rows plus a Welsh-name column): the public
page's ward table and the meeting form name Caerleon "Caerllion" in Welsh and "Caerleon" in English;
wards without a Welsh name, and every page of the bundled data alone, keep their ONS name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import FIXTURES
from diogel.warehouse.core import Warehouse
from portal.conftest import AREA, PortalHarness, make_harness

WELSH_LOOKUP = FIXTURES / "ward_names_cy" / "lookup_lsoa21_ward24_ltla24_newport_cy_synthetic.csv"
_ROW = re.compile(r'<th scope="row">([^<]+)</th>')


@pytest.fixture
def welsh_harness(data_dir: Path) -> Iterator[PortalHarness]:
    with Warehouse(None, data_dir) as wh:
        (res,) = wh.ingest("lookup-lsoa-ward-la", WELSH_LOOKUP)
        assert res.status == "loaded", res.error
    h = make_harness(data_dir, None)
    yield h
    h.portal.close()


def rows(html: str) -> set[str]:
    return set(_ROW.findall(html))


@pytest.mark.slow  # the public page's ward table, twice
def test_the_ward_table_and_meeting_form_name_wards_in_welsh(welsh_harness: PortalHarness) -> None:
    welsh = welsh_harness.client()
    welsh.cookies.set("lang", "cy")
    cy = rows(welsh.get(f"/public/{AREA}").text)
    en = rows(welsh_harness.client().get(f"/public/{AREA}").text)
    assert {"Caerllion", "Betws", "Pilgwenlli", "Llyswyry", "Ringland"} <= cy
    assert not {"Caerleon", "Bettws", "Pillgwenlly", "Lliswerry"} & cy
    assert {"Caerleon", "Bettws", "Pillgwenlly", "Lliswerry", "Ringland"} <= en and "Caerllion" not in en
    analyst = welsh_harness.client("analyst")
    form = analyst.get("/language/cy", headers={"referer": "http://testserver/meetings/new"}).text
    assert ">Caerllion</option>" in form and ">Caerleon</option>" not in form
    # The neighbourhood is still recorded by its code; its stored name stays the ONS name.
    assert 'value="W05001632"' in form


@pytest.mark.slow
def test_without_welsh_names_the_wards_keep_their_ons_names(sqlite_harness: PortalHarness) -> None:
    welsh = sqlite_harness.client()
    welsh.cookies.set("lang", "cy")
    cy = rows(welsh.get(f"/public/{AREA}").text)
    assert {"Caerleon", "Bettws", "Pillgwenlly", "Ringland"} <= cy and "Caerllion" not in cy
