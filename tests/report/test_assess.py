"""``diogel assess`` on real data: Gwent Police's 36 published months (../shared/data), the bundled
all-Wales reference data and the (synthetic) PACT sample, for Newport over July 2024 to June 2025,
so the previous period is loaded and every comparison is made.

The warehouse and the report are built once for the module; each test reads the outputs.
"""

from __future__ import annotations

import html as htmllib
import io
import json
import os
import re
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from independent_count import area_counts, count_by_la_month_type, read_files
from typer.testing import CliRunner

from conftest import shared
from diogel import data
from diogel.cli import app
from diogel.report.charts import GI_COLOURS
from diogel.report.figures import resolve_figure, table_records
from diogel.report.sections import sections

NEWPORT = "W06000022"
PERIOD = ("2024-07", "2025-06")
PREVIOUS = ("2023-07", "2024-06")
HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass
class Run:
    out: Path
    output: str
    seconds: float
    police: Path


def pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF, read by pypdf (counting page objects by pattern missed those in object streams)."""
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    police = shared("policeuk", "gwent-2022-07_2025-06")
    base = tmp_path_factory.mktemp("assess")
    dd = ["--data-dir", str(base / "data")]
    invoke(*dd, "init", "--reference", "wales")
    invoke(*dd, "ingest", "police-street", str(police))
    invoke(*dd, "ingest", "pact", str(data.path("demo", "synthetic_pact_priorities_gwent.csv")))
    out = base / "out"
    started = time.monotonic()
    output = invoke(*dd, "assess", "--area", "newport", "--period", "2024-07..2025-06", "--out", str(out))
    return Run(out, output, time.monotonic() - started, police)


@pytest.fixture(scope="module")
def figures(run: Run) -> dict:
    return json.loads((run.out / "figures.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def by_id(figures: dict) -> dict:
    """Figures by id with their shared definition and parameters written out; a table's rows as one
    object per row (figures.json holds them as lists)."""
    return {
        f["id"]: resolve_figure(figures, f) | ({"rows": table_records(f)} if "rows" in f else {})
        for f in figures["figures"]
    }


@pytest.fixture(scope="module")
def page(run: Run) -> str:
    return (run.out / "assessment.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def raw(run: Run):  # noqa: ANN201
    files = sorted(p for p in run.police.rglob("*-street.csv"))
    return count_by_la_month_type(read_files(files))


def test_writes_html_pdf_figures_tables_and_maps(run: Run, figures: dict) -> None:
    assert (run.out / "assessment.html").stat().st_size > 50_000
    pdf = (run.out / "assessment.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = pdf_pages(pdf)
    assert pages >= 10
    # The console wraps long lines at 80 columns (a deeper temporary path, as under pytest-xdist,
    # moves the break): compare without whitespace, as test_demo_assessment does.
    assert f"({pages}pages)" in re.sub(r"\s+", "", run.output)
    tables = sorted(p.name for p in (run.out / "tables").glob("*.csv"))
    assert {"levels_by_crime_type.csv", "lsoa_analysis.csv", "priorities_matrix.csv", "peers.csv"} <= set(
        tables
    )
    maps = sorted(p.name for p in (run.out / "maps").glob("*.gpkg"))
    assert "lsoa_analysis.gpkg" in maps
    # Every file a figure names exists, and every table and map written belongs to a figure.
    named = {p for f in figures["figures"] for p in f.get("files", [])}
    assert all((run.out / p).exists() for p in named)
    assert {f"tables/{t}" for t in tables} | {f"maps/{m}" for m in maps} <= named


def test_one_process_and_two_write_the_same_report(run: Run) -> None:
    """The module's run builds its sections in two processes (``--jobs`` 2, the default); one
    process writes the same figures.json and HTML, but for the time it was made, and the same tables."""
    one = run.out.parent / "one-process"
    invoke("--data-dir", str(run.out.parent / "data"), "assess", "--area", "newport", "--period",
           "2024-07..2025-06", "--out", str(one), "--jobs", "1", "--no-pdf")  # fmt: skip

    def timeless(path: Path) -> str:
        text = path.read_text("utf-8")
        text = re.sub(r'"generated_at": *"[^"]*"', "", text)
        return re.sub(r"\d\d [A-Za-z]+ \d{4} \d\d:\d\d UTC", "", text)

    for name in ("figures.json", "assessment.html"):
        assert timeless(one / name) == timeless(run.out / name), name
    for sub in ("tables", "maps"):
        written = sorted(p.name for p in (run.out / sub).iterdir())
        assert written == sorted(p.name for p in (one / sub).iterdir())
    # The CSV tables keep full precision, where two runs in one process can already differ in the
    # last bit (numpy's SIMD sums depend on how an array is aligned in memory): equal to 1e-12.
    for name in sorted(p.name for p in (run.out / "tables").iterdir()):
        a, b = pd.read_csv(one / "tables" / name), pd.read_csv(run.out / "tables" / name)
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=0, obj=name)


def test_totals_equal_an_independent_count_of_the_raw_files(by_id: dict, raw) -> None:  # noqa: ANN001
    now = area_counts(raw, NEWPORT, *PERIOD)
    before = area_counts(raw, NEWPORT, *PREVIOUS)
    assert sum(now.values()) > 20_000
    assert by_id["levels.all_records.count"]["value"] == sum(now.values())
    assert by_id["data.records"]["value"] == sum(now.values())
    assert by_id["levels.all_records.previous"]["value"] == sum(before.values())
    asb = "Anti-social behaviour"
    assert by_id["levels.all_crime_excluding_asb.count"]["value"] == sum(now.values()) - now[asb]
    rows = {r["crime_type"]: r for r in by_id["levels.by_type"]["rows"]}
    for crime_type, n in now.items():
        assert rows[crime_type]["count"] == n, crime_type
        assert rows[crime_type]["previous"] == before[crime_type], crime_type


def test_the_csv_tables_hold_the_registered_values(run: Run, by_id: dict) -> None:
    csv_rows = pd.read_csv(run.out / "tables" / "levels_by_crime_type.csv")
    fig_rows = pd.DataFrame(by_id["levels.by_type"]["rows"])
    assert csv_rows["crime_type"].tolist() == fig_rows["crime_type"].tolist()
    assert csv_rows["count"].tolist() == fig_rows["count"].tolist()
    assert csv_rows["p_value"].tolist() == pytest.approx(fig_rows["p_value"].tolist())


def test_every_figure_says_what_it_is_and_where_it_came_from(figures: dict) -> None:
    assert figures["area"]["code"] == NEWPORT and figures["previous_period"]["available"] is True
    # Each file is cited once, by id; figures name input keys, which the inputs map resolves to ids.
    ids = [s["id"] for s in figures["sources"]]
    assert ids == list(range(1, len(ids) + 1))
    assert len({(s["file_id"], s["run_id"]) for s in figures["sources"]}) == len(ids)
    for s in figures["sources"]:
        assert HEX64.fullmatch(s["file_id"]) and re.fullmatch(r"[0-9a-f]{32}", s["run_id"]) and s["name"]
    police = [s for s in figures["sources"] if s["kind"] == "police-street"]
    assert len(police) == 36 and all(s["name"].endswith("-street.csv") for s in police)
    assert all(set(v) <= set(ids) for v in figures["inputs"].values())
    assert set(ids) == set().union(*figures["inputs"].values())  # every file listed stands behind an input
    for f in map(partial(resolve_figure, figures), figures["figures"]):
        assert f["definition"].strip() and f["label"].strip(), f["id"]
        assert isinstance(f["parameters"], dict), f["id"]
        assert all(k in figures["inputs"] for k in f["inputs"]), f["id"]
        if f["kind"] == "number":
            assert "value" in f and f["display"], f["id"]
        else:
            assert f["rows"] is not None and all(len(r) == len(f["columns"]) for r in f["rows"]), f["id"]
    count = next(f for f in figures["figures"] if f["id"] == "levels.all_records.count")
    used = {i for k in count["inputs"] for i in figures["inputs"][k]}
    by_id = {s["id"]: s for s in figures["sources"]}
    assert {by_id[i]["name"] for i in used if by_id[i]["kind"] == "police-street"} == {
        f"{m}-gwent-street.csv" for m in sorted(_months(*PERIOD))
    }
    # The methods' table of files cites them by id rather than repeating them.
    files = next(f for f in figures["figures"] if f["id"] == "methods.source_files")
    assert sorted(r["source"] for r in table_records(files)) == ids and "file_id" not in files["columns"]


def _months(start: str, end: str) -> list[str]:
    return [f"{p:%Y-%m}" for p in pd.period_range(start, end, freq="M")]


def test_every_number_in_the_page_is_a_registered_figure(page: str, by_id: dict) -> None:
    spans = re.findall(
        r'<span class="fig( quote)?" data-figure="([^"]+)"(?: data-row="(\d+)" data-column="([^"]+)")?>(.*?)</span>',
        page,
        flags=re.S,
    )
    assert len(spans) > 100
    for _quote, fid, row, column, text in spans:
        assert fid in by_id, fid
        shown = htmllib.unescape(text)
        if row:
            assert shown == str(by_id[fid]["rows"][int(row)][column]), fid
        else:
            assert shown == by_id[fid]["display"], fid
    for fid in re.findall(r"data-figure='([^']+)'", page) + re.findall(
        r'<svg[^>]*data-figure="([^"]+)"', page
    ):
        assert fid in by_id and by_id[fid]["kind"] in ("table", "chart", "map"), fid


def test_the_page_is_self_contained(page: str) -> None:
    assert not re.search(r"https?:|//[a-z0-9-]+\.[a-z]", page, flags=re.I)
    # url(#id) is an SVG clip path inside the page; any other url( would be a fetch.
    assert not re.search(r"""\b(src|srcset)\s*=|@import|url\((?!#)|<link\b|<script\b""", page, flags=re.I)
    assert page.count("<svg") >= 10
    for s in sections():
        assert f'<section id="{s.id}"' in page


def test_changes_are_tested_and_gaps_never_reported_as_falls(by_id: dict, page: str) -> None:
    rows = {r["crime_type"]: r for r in by_id["levels.by_type"]["rows"]}
    # Gwent's Burglary supply gap (2023-07..09, real) lies in the previous period.
    burglary = rows["Burglary"]
    assert burglary["gap_in_comparison"] is True and "2023-07" in burglary["gap_months"]
    assert "not reported as a rise or fall" in burglary["reading"]
    assert not re.search(r"Burglary (rose|fell)", re.sub(r"<[^>]+>", "", page))
    vehicle = rows["Vehicle crime"]
    assert vehicle["gap_in_comparison"] is False and 0.01 < vehicle["p_value"] < 0.2
    # -17% is within Newport's month-to-month variation (dispersion about 5): no finding after BH.
    assert (
        vehicle["dispersion"] > 2
        and vehicle["q_value"] >= vehicle["p_value"]
        and vehicle["significant"] is False
    )
    assert not re.search(r"Vehicle crime (rose|fell)", re.sub(r"<[^>]+>", "", page))
    assert vehicle["percent_change"] == pytest.approx(
        100 * (vehicle["count"] - vehicle["previous"]) / vehicle["previous"]
    )
    assert "where.sppt_S" in by_id and 0 <= by_id["where.sppt_S"]["value"] <= 1


def test_maps_open_as_geopackages(run: Run) -> None:
    path = run.out / "maps" / "lsoa_analysis.gpkg"
    assert [layer for layer, _ in pyogrio.list_layers(path)] == ["lsoa_analysis"]
    gdf = pyogrio.read_dataframe(path)
    assert len(gdf) == 100 and gdf.crs.to_epsg() == 27700
    assert set(gdf["gi_bin"]) <= set(GI_COLOURS)
    assert set(gdf["pattern_change"]) <= {"similar", "higher in test", "lower in test"}
    assert gdf["count"].sum() == pytest.approx(
        pd.read_csv(run.out / "tables" / "lsoa_analysis.csv")["count"].sum()
    )


def test_opens_in_chromium_without_a_single_network_request(run: Run) -> None:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium (/usr/bin/chromium) is missing under CI")
        pytest.skip("chromium not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    url = (run.out / "assessment.html").resolve().as_uri()
    requests, failed = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            tab = browser.new_page()
            tab.on("request", lambda r: requests.append(r.url))
            tab.on("requestfailed", lambda r: failed.append(r.url))
            tab.goto(url, wait_until="load")
            ids = tab.eval_on_selector_all("main > section", "els => els.map(e => e.id)")
            charts = tab.eval_on_selector_all("svg.chart", "els => els.length")
            title = tab.title()
        finally:
            browser.close()
    assert failed == []
    assert requests == [url]
    assert ids == [s.id for s in sections()]
    assert charts >= 10 and "Newport" in title


def test_where_next_uses_what_the_evaluation_shows(by_id: dict, page: str) -> None:
    """The section's method is the one the rolling-origin evaluation chose: another method only with
    a higher mean PAI at 5% of the area and a one-sided paired Wilcoxon p <= 0.05, else the naive
    map, and the page says which."""
    method = by_id["where_next.forecast"]["parameters"]["method"]
    at5 = {r["method"]: r for r in by_id["where_next.evaluation"]["rows"] if abs(r["coverage"] - 0.05) < 1e-9}
    naive = at5["naive_last_12"]
    assert len(by_id["where_next.forecast"]["parameters"]["origins"]) == 6
    winners = [
        m for m, r in at5.items()
        if m != "naive_last_12" and r["pai_mean"] > naive["pai_mean"] and r["wilcoxon_p"] is not None
        and r["wilcoxon_p"] <= 0.05
    ]  # fmt: skip
    section = re.search(r'<section id="where_next".*?</section>', page, re.S).group(0)
    text = re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", section)))
    if winners:
        assert method == max(winners, key=lambda m: at5[m]["pai_mean"])
        assert "beat the naive map" in text
    else:
        assert method == "naive_last_12"
        assert "no method beat the naive map" in text and "is therefore the naive map" in text
