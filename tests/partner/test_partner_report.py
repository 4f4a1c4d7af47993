"""Partner data in the strategic assessment: ``diogel demo`` loads the synthetic partner samples and its
assessment of Newport carries the partner section, whose numbers are checked against a count of the sample
CSV made here with the csv module (no diogel code), the ONS lookup bundled with diogel's reference data and
nothing else. A warehouse without partner data gets a section that says so.
"""

from __future__ import annotations

import csv
import gzip
import html as htmllib
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from diogel import data
from diogel.cli import app
from diogel.demo.files import ED_FILE, FIRE_FILE, demo_folder
from diogel.report.figures import figure_parameters, table_records
from diogel.sources.partner.keys import SECRET_ENV

NEWPORT = "W06000022"
MONTHS = ("2024-07", "2025-06")


@dataclass
class Demo:
    out: Path
    output: str
    figures: dict
    html: str


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIOGEL_WAREHOUSE", raising=False)
    monkeypatch.delenv(SECRET_ENV, raising=False)


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    base = tmp_path_factory.mktemp("partner-demo") / "data"
    output = invoke("--data-dir", str(base), "demo")
    out = base / "assessment-newport"
    return Demo(
        out=out,
        output=output,
        figures=json.loads((out / "figures.json").read_text(encoding="utf-8")),
        html=(out / "assessment.html").read_text(encoding="utf-8"),
    )


def newport_lsoas() -> set[str]:
    """2021 LSOAs of Newport, straight from the bundled ONS lookup file."""
    path = data.path("reference", "wales") / "lookup_lsoa21_ward24_ltla24.csv.gz"
    with gzip.open(path, "rt", newline="", encoding="utf-8-sig") as fh:
        return {r["lsoa21_code"] for r in csv.DictReader(fh) if r["ltla24_code"] == NEWPORT}


def ed_rows_in_newport() -> list[dict[str, str]]:
    """The demo ED sample's attendances whose assault was in Newport in the period, once per attendance."""
    lsoas = newport_lsoas()
    seen: set[str] = set()
    rows = []
    with (demo_folder() / ED_FILE).open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            in_area = r["assault_lsoa"] in lsoas and MONTHS[0] <= r["assault_date"][:7] <= MONTHS[1]
            if in_area and r["attendance_ref"] not in seen:
                seen.add(r["attendance_ref"])
                rows.append(r)
    return rows


def figure(figures: dict, fid: str) -> dict:
    """A figure of figures.json; a table's rows as one object per row (the file holds them as lists)."""
    f = next(f for f in figures["figures"] if f["id"] == fid)
    return f | ({"rows": table_records(f)} if "rows" in f else {})


def section_text(html: str, section: str, welsh: bool = False) -> str:
    """A section's visible text: of the English half of a bilingual document (its ids are prefixed
    "en-"), or of the Welsh half (the first) with ``welsh``."""
    english = f'id="en-{section}"'
    start = html.index(english if english in html and not welsh else f'id="{section}"')
    end = html.index("</section>", start)
    body = re.sub(r"<svg.*?</svg>", " ", html[start:end], flags=re.S)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", body)))


# ----------------------------------------------------------------------------------------------------


def test_demo_loads_the_synthetic_partner_samples_and_says_so(demo: Demo) -> None:
    out = re.sub(r"\s+", " ", demo.output)
    assert "partner data for Gwent: SYNTHETIC" in out
    for name in (ED_FILE, FIRE_FILE):
        assert re.search(rf"loaded {re.escape(str(demo_folder() / name))}: rows read [\d,]+ = loaded", out), (
            name
        )
    # Loaded before the assessment was written, which names them as synthetic.
    assert out.index("partner data for Gwent") < out.index("strategic assessment of Newport")
    text = section_text(demo.html, "partner")
    assert "SYNTHETIC" in text and ED_FILE in text and FIRE_FILE in text
    welsh = section_text(demo.html, "partner", welsh=True)
    assert "SYNTHETIG" in welsh and ED_FILE in welsh and FIRE_FILE in welsh
    sources = {s["name"] for s in demo.figures["sources"] if s["kind"] == "partner"}
    assert sources == {ED_FILE, FIRE_FILE}


def test_partner_totals_equal_an_independent_count_of_the_sample(demo: Demo) -> None:
    rows = ed_rows_in_newport()
    assert len(rows) > 100  # a real number, far above the disclosure threshold
    total = figure(demo.figures, "partner.ed_assaults.total")
    assert total["value"] == len(rows)
    assert f'data-figure="partner.ed_assaults.total">{len(rows):,}<' in demo.html
    by_month = Counter(r["assault_date"][:7] for r in rows)
    published = {r["month"]: r["count"] for r in figure(demo.figures, "partner.ed_assaults.by_month")["rows"]}
    months = [f"{m:%Y-%m}" for m in pd.date_range(MONTHS[0] + "-01", MONTHS[1] + "-01", freq="MS")]
    assert set(published) == set(months)
    for m in months:
        # Each month is shown as counted, or hidden; a hidden one is small or protects a small one.
        assert published[m] in (by_month[m], None)
    assert all(v is not None for v in published.values()) == all(by_month[m] >= 5 for m in months)
    assert figure(demo.figures, "partner.violence.ed_total")["value"] == len(rows)
    assert figure(demo.figures, "partner.ed_assaults.per_1000")["value"] > 0


def test_cardiff_view_matches_the_sample(demo: Demo) -> None:
    rows = ed_rows_in_newport()
    answers = Counter(r["reported_to_police"] for r in rows)
    share = figure(demo.figures, "partner.violence.share_not_reported")
    assert share["value"] == pytest.approx(answers["No"] / (answers["Yes"] + answers["No"]))
    assert figure(demo.figures, "partner.violence.answered")["value"] == answers["Yes"] + answers["No"]
    assert figure(demo.figures, "partner.violence.not_reported")["value"] == answers["No"]
    by_type = Counter(r["location_type"] for r in rows)
    no_by_type = Counter(r["location_type"] for r in rows if r["reported_to_police"] == "No")
    table = figure(demo.figures, "partner.violence.by_location_type")["rows"]
    assert {r["location_type"] for r in table} == set(by_type)
    for r in table:
        assert r["ed_assaults"] in (by_type[r["location_type"]], None)
        assert r["not_reported"] in (no_by_type[r["location_type"]], None)
        if 0 < by_type[r["location_type"]] < 5:
            assert r["ed_assaults"] is None
        if r["share_not_reported"] is not None:
            answered = sum(
                1
                for x in rows
                if x["location_type"] == r["location_type"] and x["reported_to_police"] != "Not known"
            )
            assert r["share_not_reported"] == pytest.approx(no_by_type[r["location_type"]] / answered)
    # Hour of the week: 168 cells; every shown cell is the count of the sample, none from 1 to 4 shown.
    hours = figure(demo.figures, "partner.violence.by_hour_of_week")["rows"]
    assert len(hours) == 168
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    cells = Counter(
        (days[pd.Timestamp(r["assault_date"]).day_of_week], int(r["assault_time"][:2]))
        for r in rows
        if r["assault_time"]
    )
    shown = [h for h in hours if h["ed_assaults"] is not None]
    assert shown and len(shown) < 168
    for h in hours:
        n = cells[(h["day"], h["hour"])]
        assert h["ed_assaults"] in (n, None)
        assert not (0 < (h["ed_assaults"] or 0) < 5)
    text = section_text(demo.html, "partner")
    assert "Cardiff Model" in text and "reported to the police" in text
    assert figure(demo.figures, "partner.violence.police_total")["value"] > 0


def test_every_partner_table_hides_small_counts_and_states_the_rule(demo: Demo) -> None:
    tables = [
        f for f in demo.figures["figures"] if f["section"] == "partner" and f["kind"] in ("table", "map")
    ]
    assert {t["id"] for t in tables} >= {
        "partner.ed_assaults.by_month",
        "partner.ed_assaults.by_lsoa",
        "partner.fire_incidents.by_lsoa",
        "partner.fire_incidents.knox",
        "partner.fire_incidents.near_repeat_labels",
        "partner.violence.by_location_type",
    }
    for t in tables:
        assert "disclosure_rule" in figure_parameters(demo.figures, t), t["id"]
        for r in table_records(t):
            for col in ("count", "ed_assaults", "reported", "not_reported", "not_known"):
                v = r.get(col)
                assert v is None or not 0 < v < 5, (t["id"], r)
    by_lsoa = figure(demo.figures, "partner.fire_incidents.by_lsoa")["rows"]
    for r in by_lsoa:
        if r["count"] is None:
            assert r["rate_per_1000"] is None and r["suppression"] in ("primary", "secondary")
    hidden = [r for r in by_lsoa if r["count"] is None]
    # Never exactly one hidden LSOA: the area total would give it away.
    assert len(hidden) != 1
    text = section_text(demo.html, "partner")
    assert "Counts from 1 to 4 are hidden (primary suppression)" in text
    assert "secondary suppression" in text
    labels = {r["label"] for r in figure(demo.figures, "partner.fire_incidents.near_repeat_labels")["rows"]}
    assert labels == {"originator", "repeat", "near repeat", "isolated"}
    knox = figure(demo.figures, "partner.fire_incidents.knox")["rows"]
    assert {r["distance_band"] for r in knox} == {
        "0 m (same location)",
        "1 to 100 m",
        "101 to 200 m",
        "201 to 300 m",
        "301 to 400 m",
        "more than 400 m",
    }
    assert "Near repeats" in text
    welsh = section_text(demo.html, "partner", welsh=True)
    assert "Mae niferoedd o 1 i 4 wedi’u cuddio (atal sylfaenol)" in welsh and "Ailadrodd agos" in welsh


def test_partner_findings_reach_the_summary_and_methods(demo: Demo) -> None:
    summary = section_text(demo.html, "summary")
    assert "emergency department assault attendances were not reported to the police" in summary
    methods = section_text(demo.html, "methods")
    assert "Partner data" in methods and ED_FILE in methods


def test_assessment_without_partner_data_says_so(tmp_path: Path) -> None:
    dd = ["--data-dir", str(tmp_path / "data")]
    invoke(*dd, "init", "--reference", "wales")
    invoke(*dd, "ingest", "police-street", str(data.path("demo", "gwent-2023-07_2025-06-street.zip")))
    out = tmp_path / "out"
    invoke(*dd, "assess", "--area", NEWPORT, "--period", "2024-07..2025-06", "--out", str(out), "--no-pdf")
    html = (out / "assessment.html").read_text(encoding="utf-8")
    text = section_text(html, "partner")
    assert "No partner data are loaded, so this assessment uses police data only" in text
    figures = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    assert not [f for f in figures["figures"] if f["section"] == "partner"]
