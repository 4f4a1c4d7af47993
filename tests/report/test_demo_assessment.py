"""``diogel demo`` writes the strategic assessment of Newport (HTML, PDF, figures.json) and says where;
the HTML opens in headless Chromium with no network request at all and every section present."""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from diogel.cli import app
from diogel.report.figures import table_records
from diogel.report.sections import sections


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    result = CliRunner().invoke(app, ["--data-dir", str(data_dir), "demo"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return data_dir / "assessment-newport", result.output


def test_demo_writes_the_assessment_and_says_where(demo: tuple[Path, str]) -> None:
    out, output = demo
    html, pdf, figures = out / "assessment.html", out / "assessment.pdf", out / "figures.json"
    assert html.stat().st_size > 50_000 and pdf.read_bytes().startswith(b"%PDF")
    doc = json.loads(figures.read_text(encoding="utf-8"))
    assert doc["area"]["code"] == "W06000022" and doc["period"] == {
        "start": "2024-07",
        "end": "2025-06",
        "months": 12,
    }
    by_id = {f["id"]: f for f in doc["figures"]}
    assert by_id["levels.all_records.count"]["value"] > 20_000
    # The demo bundles 24 months: the twelve before the period give the year-on-year comparison.
    assert doc["previous_period"] == {
        "start": "2023-07",
        "end": "2024-06",
        "months": 12,
        "available": True,
        "missing_months": [],
    }
    assert by_id["levels.all_records.previous"]["value"] > 20_000
    assert by_id["levels.all_records.pct"]["value"] is not None
    assert by_id["harm.previous_total"]["value"] > 0
    # Peers in Gwent (the bundled force) have rates to compare.
    assert by_id["peers.peers_with_data"]["value"] >= 1
    # The console wraps long lines: compare without whitespace.
    printed = re.sub(r"\s+", "", output)
    assert "previousperiodnotloaded" not in printed
    assert re.sub(r"\s+", "", str(html)) in printed and "pages)" in printed


def test_demo_report_opens_offline_in_chromium_with_every_section(demo: tuple[Path, str]) -> None:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium (/usr/bin/chromium) is missing under CI")
        pytest.skip("chromium not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    url = (demo[0] / "assessment.html").resolve().as_uri()
    requests, failed = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            tab = browser.new_page()
            tab.on("request", lambda r: requests.append(r.url))
            tab.on("requestfailed", lambda r: failed.append(r.url))
            tab.goto(url, wait_until="load")
            ids = tab.eval_on_selector_all("main > section", "els => els.map(e => e.id)")
            headings = tab.eval_on_selector_all("main > section h2", "els => els.map(e => e.textContent)")
        finally:
            browser.close()
    assert failed == [] and requests == [url]
    assert ids == [s.id for s in sections()]
    assert len(headings) >= len(ids)


def test_demo_report_has_an_executive_summary_and_recommendations_citing_figures(
    demo: tuple[Path, str],
) -> None:
    out = demo[0]
    doc = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    ids = {f["id"] for f in doc["figures"]}
    recs = pd.read_csv(out / "tables" / "recommendations.csv")
    assert len(recs) >= 3 and set(recs["source"]) == {"generated"}
    # Every recommendation cites figures that exist in figures.json.
    for cited in recs["figures"]:
        assert cited and set(cited.split()) <= ids, cited
    # The three data-led priorities are recommended first, in the matrix's order.
    matrix = table_records(next(f for f in doc["figures"] if f["id"] == "priorities.matrix"))
    top3 = [r["crime_type"] for r in sorted(matrix, key=lambda r: r["rank"])[:3]]
    assert list(recs["crime_type"].head(3)) == top3
    html = (out / "assessment.html").read_text(encoding="utf-8")
    assert html.index('id="executive_summary"') < html.index('id="summary"') < html.index('id="conclusions"')
    conclusions = html[html.index('id="conclusions"') :]
    assert "Not provided by the analyst." in conclusions and "(from the data)" in conclusions


@pytest.mark.slow
def test_the_analysts_text_replaces_and_adds_and_is_marked(demo: tuple[Path, str], tmp_path: Path) -> None:
    data_dir = demo[0].parent
    top = pd.read_csv(demo[0] / "tables" / "recommendations.csv")["id"].iloc[0]
    md = tmp_path / "analyst.md"
    md.write_text(
        f"# Recommendations\n- [{top}] Our partnership's own wording.\n- A recommendation of our own.\n"
        "# PESTELO\n## Economic\nTwo large employers closed in 2025.\n",
        encoding="utf-8",
    )
    target = tmp_path / "out"
    args = ["--data-dir", str(data_dir), "assess", "--area", "Newport", "--period", "2024-07..2025-06",
            "--out", str(target), "--no-pdf", "--recommendations", str(md)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    recs = pd.read_csv(target / "tables" / "recommendations.csv").set_index("id")
    assert (
        recs.loc[top, "source"] == "analyst"
        and recs.loc[top, "recommendation"] == "Our partnership's own wording."
    )
    assert recs.loc["analyst:2", "recommendation"] == "A recommendation of our own."
    html = (target / "assessment.html").read_text(encoding="utf-8")
    assert html.count("[the analyst's]") >= 2 and "Two large employers closed in 2025." in html
    # A bad file fails at once, in one line naming the file and line.
    bad = tmp_path / "bad.md"
    bad.write_text("# Ideas\n", encoding="utf-8")
    r = CliRunner().invoke(app, [*args[:-1], str(bad)])
    assert r.exit_code != 0 and "bad.md:1: unknown heading 'Ideas'" in r.output.replace("\n", "")


def test_the_pdf_strands_no_heading_at_the_foot_of_a_page(demo: tuple[Path, str]) -> None:
    """Layout rules (report/templates/layout.css) keep headings and table captions with what follows:
    no page's last line of text is a heading or caption (of two words or more: one-word headings such
    as a crime type also label chart axes)."""
    from pypdf import PdfReader

    out = demo[0]
    page = (out / "assessment.html").read_text(encoding="utf-8")

    def squash(text: str) -> str:
        return re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", "", text)))

    found = re.findall(r"<(h[234]|caption)\b[^>]*>(.*?)</\1>", page, flags=re.S)
    headings = {squash(t) for _, t in found if len(html.unescape(re.sub(r"<[^>]+>", "", t)).split()) >= 2}
    assert len(headings) > 20
    stranded = []
    for number, p in enumerate(PdfReader(out / "assessment.pdf").pages, 1):
        lines = [x for x in p.extract_text().splitlines() if x.strip()]
        body = [x for x in lines if not x.startswith("Strategic assessment - diogel")]
        if body and squash(body[-1]) in headings:
            stranded.append((number, body[-1]))
    assert stranded == []


def test_demo_report_has_performance_against_targets_and_pact_in_the_portal_store(
    demo: tuple[Path, str],
) -> None:
    from diogel.portal.db import Database, database_url
    from diogel.portal.models import Meeting

    out = demo[0]
    doc = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    progress = table_records(next(f for f in doc["figures"] if f["id"] == "performance.progress"))
    assert [r["target_id"] for r in progress] == ["burglary", "asb-winter", "violence"]
    assert all(r["status"] in ("met", "on course", "off course", "missed") for r in progress)
    assert all(r["peers_with_data"] >= 2 for r in progress)  # the other Gwent authorities
    assert "Performance against targets" in (out / "assessment.html").read_text(encoding="utf-8")
    db = Database(database_url(None, out.parent), migrate_schema=False)
    try:
        with db.session() as s:
            sources = {m.source.split(":")[0] for m in s.query(Meeting)}
    finally:
        db.close()
    assert sources == {"file"}  # the demo's PACT file, in the one store
