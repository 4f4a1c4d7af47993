"""Targets in the portal: recorded on the Targets page, and the same progress figure on the dashboard,
in the scrutiny pack and in the strategic assessment (one function, :func:`target_progress`)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from portal.conftest import AREA, make_harness, page_csrf

TARGET = {
    "priority": "Fewer burglaries",
    "measure": "Burglary",
    "baseline_start": "2023-07",
    "baseline_end": "2024-06",
    "change": "-10",
    "level": "",
    "deadline": "2026-03",
}
SHORT = TARGET | {"priority": "Quieter winters", "measure": "Anti-social behaviour",
                  "baseline_start": "2023-12", "baseline_end": "2024-02", "change": "-20"}  # fmt: skip


def figure_cells(html: str) -> dict[str, str]:
    """target id -> the text of its progress cell (the change, before its interval)."""
    out = {}
    for tid, cell in re.findall(
        r'<tr data-target="(\d+)">.*?<td class="n progress-figure">(.*?)</td>', html, re.S
    ):
        out[tid] = re.sub(r"<[^>]+>", " ", cell).split()[0]
    return out


@pytest.fixture
def harness24(tmp_path: Path, two_year_warehouse: Path):  # noqa: ANN201
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(two_year_warehouse, data / "warehouse.duckdb")
    h = make_harness(data, None)
    yield h
    h.portal.close()


def test_only_analysts_record_targets_and_bad_input_is_refused(harness24) -> None:  # noqa: ANN001
    viewer = harness24.client("viewer")
    assert viewer.get("/targets").status_code == 200
    r = viewer.post("/targets", data=TARGET | {"csrf_token": page_csrf(viewer)}, follow_redirects=False)
    assert r.status_code == 403
    analyst = harness24.client("analyst")
    bad = TARGET | {"baseline_start": "2022-01", "csrf_token": page_csrf(analyst)}
    r = analyst.post("/targets", data=bad, follow_redirects=False)
    assert r.status_code == 400 and "1 to 12 months" in r.text
    r = analyst.post("/targets", data=TARGET | {"level": "500", "csrf_token": page_csrf(analyst)})
    assert r.status_code == 400 and "not both" in r.text


def test_dashboard_scrutiny_and_report_show_the_same_progress(harness24, tmp_path: Path) -> None:  # noqa: ANN001
    from diogel.portal.store import read_portal
    from diogel.report.assessment import run_assessment
    from diogel.report.context import AssessOptions

    analyst = harness24.client("analyst")
    for t in (TARGET, SHORT):
        r = analyst.post("/targets", data=t | {"csrf_token": page_csrf(analyst)}, follow_redirects=False)
        assert r.status_code == 303, r.text[:500]
    page = analyst.get("/targets").text
    dashboard = figure_cells(analyst.get("/dashboard").text)
    scrutiny = figure_cells(analyst.get("/scrutiny").text)
    assert figure_cells(page) == dashboard == scrutiny and len(dashboard) == 2
    assert all(re.fullmatch(r"[+-]\d+\.\d%", v) for v in dashboard.values())

    # MoRiLE ratings recorded in the portal reach the priority matrix (read in the same assessment).
    ratings = {
        "csrf_token": page_csrf(analyst),
        "vulnerability_2": "4",
        "capacity_2": "3",
        "vulnerability_4": "5",
    }
    assert analyst.post("/ratings", data=ratings, follow_redirects=False).status_code == 303
    assert (
        analyst.post("/ratings", data={"csrf_token": page_csrf(analyst), "capacity_1": "9"}).status_code
        == 400
    )

    # The assessment reads the same targets from the portal's database (no copy in between).
    records = read_portal(None, harness24.data_dir)
    assert {t.priority for t in records.targets} == {"Fewer burglaries", "Quieter winters"}
    assert records.ratings[AREA]["Burglary"] == {"vulnerability_rating": 4, "capacity_rating": 3}
    out = tmp_path / "report"
    with harness24.portal.views.reading() as wh:
        options = AssessOptions(permutations=19, pdf=False, targets_from_portal=records.targets,
                                ratings_from_portal=records.ratings)  # fmt: skip
        run_assessment(wh, AREA, "2024-07..2025-06", out, options)
    figures = {f["id"]: f for f in json.loads((out / "figures.json").read_text())["figures"]}
    progress = figures["performance.progress"]
    names = list(progress["columns"])
    rows = [dict(zip(names, r, strict=True)) for r in progress["rows"]]
    report = {r["target_id"]: f"{r['percent_change']:+.1f}%" for r in rows}
    assert report == dashboard
    html = (out / "assessment.html").read_text()
    for value in report.values():
        assert value in html
    # Like for like: the 12-month baseline against the latest 12 months; the winter against the next winter.
    by_priority = {r["priority"]: r for r in rows}
    assert by_priority["Fewer burglaries"]["current"] == "2024-07..2025-06"
    assert by_priority["Quieter winters"]["current"] == "2024-12..2025-02"

    matrix = figures["priorities.matrix"]
    m_rows = {r[list(matrix["columns"]).index("crime_type")]: dict(zip(matrix["columns"], r, strict=True))
              for r in matrix["rows"]}  # fmt: skip
    assert (m_rows["Burglary"]["score_vulnerability"], m_rows["Burglary"]["score_capacity"]) == (4, 3)
    assert "vulnerability" not in m_rows["Burglary"]["missing"]
    assert "capacity" not in m_rows["Burglary"]["missing"]
    drugs = m_rows["Drugs"]["missing"].split(", ")
    assert "capacity to influence" in drugs and "vulnerability" not in drugs
    assert {"vulnerability", "capacity to influence"} <= set(m_rows["Robbery"]["missing"].split(", "))
    assert "Inputs missing from the priority matrix, scored 0:" in html
