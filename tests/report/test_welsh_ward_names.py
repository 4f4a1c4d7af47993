"""The Welsh assessment names a ward in Welsh where the warehouse's ward lookup has a Welsh name (ONS's
``WD24NMW``): the shipped reference data and demo police data, then the synthetic Newport lookup with
five Welsh ward names (``tests/fixtures/ward_names_cy``, see its README entry)."""

from __future__ import annotations

import re

import pytest

from conftest import FIXTURES
from diogel.report.assessment import run_assessment
from diogel.report.context import AssessOptions
from diogel.warehouse.core import Warehouse
from diogel.warehouse.reference import demo_police_archive, load_reference

WELSH_LOOKUP = FIXTURES / "ward_names_cy" / "lookup_lsoa21_ward24_ltla24_newport_cy_synthetic.csv"
_LABEL = re.compile(r'<g id="(?:en-)?ward-label">.*?>([^<>]+)</text>', re.S)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("welsh-wards")
    with Warehouse(None, root / "data") as wh:
        load_reference(wh, "wales")
        wh.ingest("police-street", demo_police_archive())
        (res,) = wh.ingest("lookup-lsoa-ward-la", WELSH_LOOKUP)
        assert res.status == "loaded", res.error
        options = AssessOptions(language="both", pdf=False, permutations=99)
        result = run_assessment(wh, "W06000022", "2024-07..2025-06", root / "out", options)
    return result.html.read_text(encoding="utf-8")


def labels(html: str) -> list[str]:
    return _LABEL.findall(html)


def test_the_welsh_maps_name_wards_in_welsh_and_the_english_maps_in_english(page: str) -> None:
    welsh, english = page.split('<div class="language-part" lang="en-GB" id="english">')
    cy, en = labels(welsh), labels(english)
    assert cy and en
    assert "Caerllion" in cy and "Caerleon" not in cy
    assert "Caerleon" in en and "Caerllion" not in en
    # A ward the lookup gives no Welsh name keeps its ONS name in both halves.
    assert "Ringland" in cy and "Ringland" in en
