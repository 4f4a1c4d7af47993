"""One PACT store: meetings entered in the portal, imported from CSV or loaded with ``diogel ingest
pact`` are in the portal's database; the CSV export is what ``diogel ingest pact`` reads; the
assessment reads the store once (a meeting entered and re-imported from an export counts once)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

from portal.conftest import AREA, page_csrf

DATE = "2025-03-04"
DATE_SHOWN = "4 March 2025"  # as the meetings page writes it (Babel, en_GB)


def record(client, ward_code: str, theme: str, votes: int) -> None:  # noqa: ANN001
    form = {"csrf_token": page_csrf(client), "meeting_date": DATE, "neighbourhood_code": ward_code,
            "attendees": "12", "theme_1": theme, "votes_1": str(votes), "chosen_1": "on"}  # fmt: skip
    r = client.post("/meetings", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text[:400]


def test_csv_both_ways_and_one_count_in_the_assessment(sqlite_harness, tmp_path: Path) -> None:  # noqa: ANN001
    from diogel.portal.store import read_portal
    from diogel.report.gather import gather, parse_period

    h = sqlite_harness
    wards = h.portal.views.neighbourhoods(AREA)
    (code_a, ward_a), (_, ward_b) = wards[0], wards[1]
    contributor = h.client("contributor")
    record(contributor, code_a, "Drug dealing", 9)

    # Export: one line per issue, in the columns diogel ingest pact reads.
    text = contributor.get("/meetings.csv").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["meeting_date"], r["neighbourhood"], r["theme"], r["votes"], r["source"]) for r in rows] == [
        (DATE, ward_a, "Drug dealing", "9", "portal")
    ]
    # Import: the export plus a meeting of another ward, through the warehouse's PACT validation.
    extra = f"{DATE},{ward_b},,Speeding on the bypass,5,no,,,\n"
    upload = {"file": ("pact.csv", (text + extra).encode(), "text/csv")}
    r = contributor.post("/meetings/import", data={"csrf_token": page_csrf(contributor)}, files=upload,
                         follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text[:400]
    listing = contributor.get("/meetings").text
    assert (
        listing.count(DATE_SHOWN) == 2 and ward_b in listing and "not recorded" in listing
    )  # ward A not doubled

    # The assessment: the portal's own meeting from the store, the file's rows from the warehouse, once each.
    records = read_portal(None, h.data_dir)
    assert list(records.pact["theme"]) == ["Drug dealing"]
    with h.portal.views.reading() as wh:
        data = gather(wh, AREA, parse_period("2024-07..2025-06"), extra_pact=records.pact)
    got = data.pact.groupby("theme")["votes"].sum().to_dict()
    assert got == {"Drug dealing": 9, "Speeding on the bypass": 5}
    assert set(data.pact["file_id"]) >= {"portal"}


def test_ingest_pact_writes_the_same_store(data_dir: Path, tmp_path: Path) -> None:
    from diogel.portal.db import Database, database_url
    from diogel.portal.models import Meeting
    from diogel.warehouse.core import Warehouse
    from diogel.warehouse.geography import lsoa_membership

    with Warehouse(None, data_dir, read_only=True) as wh:
        m = wh.execute(lsoa_membership(wh))
    ward = m[(m.csp_code == AREA) & (m.lsoa_vintage == 2021)].sort_values("ward_name").iloc[0]
    lsoa = m[(m.csp_code == AREA) & (m.lsoa_vintage == 2021) & (m.ward_code != ward.ward_code)].iloc[0]
    path = tmp_path / "pact-2025.csv"
    path.write_text(
        "Meeting date,Neighbourhood,LSOA code,Issue,Votes\n"
        f"12/02/2025,{ward.ward_name},,ASB,6\n12/02/2025,{ward.ward_name},,Parking,2\n"
        f"13/02/2025,,{lsoa.lsoa_code},Burglary,4\n",
        encoding="utf-8",
    )
    cmd = [sys.executable, "-m", "diogel.cli", "--data-dir", str(data_dir), "ingest", "pact", str(path)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-1500:]
    assert "2 PACT meetings recorded in the portal's store" in run.stdout
    db = Database(database_url(None, data_dir), migrate_schema=False)
    try:
        with db.session() as s:
            got = {(str(x.meeting_date), x.neighbourhood_code, x.source[:5], x.attendees,
                    tuple(sorted((p.theme, p.votes) for p in x.priorities))) for x in s.query(Meeting)}  # fmt: skip
    finally:
        db.close()
    assert got == {
        ("2025-02-12", ward.ward_code, "file:", None, (("ASB", 6), ("Parking", 2))),
        ("2025-02-13", lsoa.ward_code, "file:", None, (("Burglary", 4),)),
    }
    # Loading the same file again changes nothing; the store is not doubled.
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "PACT meetings recorded" not in run.stdout


def test_ward_of_residence_is_recorded_and_tested_in_the_scrutiny_pack(sqlite_harness) -> None:  # noqa: ANN001
    from diogel.analysis.representation import compare_profile
    from diogel.portal.models import Meeting
    from diogel.portal.pact import ward_adults

    h = sqlite_harness
    wards = h.portal.views.neighbourhoods(AREA)
    home, other = wards[0][0], wards[1][0]
    contributor = h.client("contributor")
    for day, counts in (("2025-03-04", {home: 9, other: 2, "elsewhere": 1}), ("2025-04-01", {home: 6})):
        form = {"csrf_token": page_csrf(contributor), "meeting_date": day, "neighbourhood_code": home,
                "attendees": "14", "theme_1": "Speeding", "votes_1": "3"}  # fmt: skip
        form |= {f"home_{code}": str(n) for code, n in counts.items()}
        assert contributor.post("/meetings", data=form, follow_redirects=False).status_code == 303
    with h.portal.db.session() as s:
        assert {m.meeting_date.isoformat(): m.profile["ward"] for m in s.query(Meeting)}["2025-03-04"] == {
            home: 9, other: 2, "elsewhere": 1}  # fmt: skip
    page = h.client("analyst").get("/scrutiny").text
    assert 'id="residence" class="warn"' in page  # 15 of 17 from one ward of many
    assert "17 attendees with a recorded ward of residence" in page
    want = compare_profile({home: 15, other: 2}, ward_adults(h.portal, AREA))
    assert f"p = {want.p_value:.3f}" in page and want.unrepresentative
    assert '<td class="n">*</td>' in page  # two attendees from the other ward: not shown
    bad = {"csrf_token": page_csrf(contributor), "meeting_date": "2025-04-02", "neighbourhood_code": home,
           "attendees": "3", "home_W05999999": "2"}  # fmt: skip
    assert contributor.post("/meetings", data=bad).status_code == 400
