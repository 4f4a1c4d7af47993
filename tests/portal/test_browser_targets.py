"""Done when (issue 17): a PACT meeting and a target entered in the portal in a real browser reach
the strategic assessment that ``diogel assess`` writes from the same data directory, with the same
progress figure the dashboard shows.

Debian's chromium through Playwright against ``diogel serve`` on two years of Gwent (the target is
measured year on year), then ``diogel assess`` as a separate process while the portal runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.conftest import AREA, serving
from portal.test_browser import CHROMIUM, _seed, logged_in

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
THEME = "Speeding along Chepstow Road"


@pytest.fixture(scope="module")
def served(two_year_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("browser-targets") / "data"
    data_dir.mkdir()
    shutil.copy(two_year_warehouse, data_dir / "warehouse.duckdb")
    _seed(data_dir)
    with serving(data_dir, AREA) as base:
        yield base, data_dir


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def test_meeting_and_target_entered_in_the_portal_reach_the_assessment(
    served, browser, tmp_path: Path
) -> None:  # noqa: ANN001
    base, data_dir = served
    page = logged_in(browser, base, "analyst")
    page.goto(f"{base}/targets")
    page.get_by_label("Priority").fill("Fewer burglaries in Newport")
    page.get_by_label("Measure").select_option("Burglary")
    page.get_by_label("Baseline: first month").fill("2023-07")
    page.get_by_label("Baseline: last month (at most 12 months in all)").fill("2024-06")
    page.get_by_label("Target change from the baseline, percent (e.g. -10)").fill("-10")
    page.get_by_label("Deadline (month)").fill("2026-03")
    page.click("#target-form button[type=submit]")
    page.wait_for_url("**/targets")
    row = page.locator("#targets tbody tr").first
    assert "Fewer burglaries in Newport" in row.inner_text()
    shown = row.locator("td.progress-figure").inner_text().split()[0]
    assert re.fullmatch(r"[+-]\d+\.\d%", shown)
    page.goto(f"{base}/dashboard")
    assert page.locator("#targets td.progress-figure").first.inner_text().split()[0] == shown
    page.context.close()

    page = logged_in(browser, base, "contributor")
    page.goto(f"{base}/meetings/new")
    page.fill("input[name=meeting_date]", "2025-03-11")
    page.select_option("select[name=neighbourhood_code]", index=3)
    page.fill("input[name=attendees]", "11")
    page.fill("input[name=theme_1]", THEME)
    page.fill("input[name=votes_1]", "9")
    page.check("input[name=chosen_1]")
    page.click("form[action='/meetings'] button[type=submit]")
    page.wait_for_url("**/meetings/*")
    page.context.close()

    out = tmp_path / "report"
    cmd = [sys.executable, "-m", "diogel.cli", "--data-dir", str(data_dir), "assess", "--area", AREA,
           "--period", "2024-07..2025-06", "--out", str(out), "--no-pdf", "--permutations", "19"]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ}, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    html = (out / "assessment.html").read_text(encoding="utf-8")
    doc = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    figures = {f["id"]: f for f in doc["figures"]}
    # The target, with the dashboard's figure.
    assert "Fewer burglaries in Newport" in html
    progress = figures["performance.progress"]
    rows = [dict(zip(progress["columns"], r, strict=True)) for r in progress["rows"]]
    assert [f"{r['percent_change']:+.1f}%" for r in rows] == [shown]
    # The meeting: its issue among the PACT themes, its votes counted, the portal named as a source.
    assert THEME.casefold() in html.casefold()
    assert any(s["name"] == "partnership portal: PACT meetings" for s in doc["sources"])
    assert figures["priorities.pact_votes"]["value"] >= 9
