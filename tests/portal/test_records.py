"""Migrations, the audit chain, uploads and PACT meetings, on SQLite and a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text
from typer.testing import CliRunner

from conftest import POLICE
from diogel.portal import audit
from diogel.portal.db import alembic_config, current_revision
from diogel.portal.models import AuditEntry, Base, Meeting, Upload
from portal.conftest import AREA, page_csrf


def test_migrations_create_exactly_the_models(harness) -> None:
    """The packaged migrations and the SQLAlchemy models describe the same schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    engine = harness.portal.db.engine
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(engine) == head
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_audit_chain_detects_an_altered_row(harness) -> None:
    analyst = harness.client("analyst")
    analyst.get("/api/datasets/police-street/records?limit=5")  # a record-level view
    analyst.get("/data/police-street/lsoa.csv")  # an export
    with harness.portal.db.session() as s:
        actions = list(s.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())
        assert {"user.create", "agency.create", "login", "view.records", "export"} <= set(actions)
        result = audit.verify(s)
        assert result.ok and result.entries == len(actions)
        victim = s.execute(select(AuditEntry.id).where(AuditEntry.action == "view.records")).scalar_one()
    # Someone with database access edits one row: the chain names it.
    with harness.portal.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE id = :i"), {"i": victim})
    with harness.portal.db.session() as s:
        result = audit.verify(s)
    assert not result.ok and result.first_bad_id == victim and "altered" in result.problem
    # The administrator's page and the command line both say so.
    assert "broken" in harness.client("partnership_admin").get("/admin/audit").text
    from diogel.cli import app

    db = harness.portal.config.db
    args = ["--data-dir", str(harness.data_dir), "audit", "verify"] + (["--db", db] if db else [])
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 1 and f"entry {victim}" in out.output


def test_audit_chain_detects_a_deleted_row(sqlite_harness) -> None:
    h = sqlite_harness
    h.client("analyst")
    with h.portal.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = 3"))
    with h.portal.db.session() as s:
        result = audit.verify(s)
    assert not result.ok and result.first_bad_id == 4


def _csv_with_one_bad_row(rows: int = 60) -> bytes:
    lines = (POLICE / "2024-06-gwent-street.csv").read_bytes().splitlines(keepends=True)
    body = lines[1 : rows + 1]
    body[9] = body[9].replace(b",2024-06,", b",2024-13,", 1)  # an impossible month: one row quarantined
    assert b"2024-13" in body[9]
    return lines[0] + b"".join(body)


def test_partner_upload_shows_accounting_and_quarantine(harness) -> None:
    contributor = harness.client("contributor")
    before = harness.portal.views.version()
    r = contributor.post(
        "/upload",
        data={"dataset": "police-street", "csrf_token": page_csrf(contributor)},
        files={"file": ("2024-06-gwent-street.csv", _csv_with_one_bad_row(), "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = contributor.get(r.headers["location"])
    assert page.status_code == 200 and "Loaded." in page.text
    upload_id = int(r.headers["location"].rsplit("/", 1)[1])
    data = contributor.get(f"/api/uploads/{upload_id}").json()
    (f,) = data["files"]
    assert f["status"] == "loaded" and f["rows_read"] == 60
    assert f["rows_read"] == f["loaded"] + f["duplicates"] + f["quarantined"] and f["quarantined"] == 1
    (q,) = data["quarantine"]
    assert q["line"] == 11 and "2024-13" in q["raw"]
    # The analyst sees the reasons but not the line as sent; other roles do not see the upload at all.
    seen = harness.client("analyst").get(f"/api/uploads/{upload_id}").json()
    assert seen["quarantine"][0]["reason"] and "raw" not in seen["quarantine"][0]
    assert harness.client("viewer").get(f"/api/uploads/{upload_id}").status_code == 404
    # The data is in the warehouse, counted, and the dashboards moved on.
    assert harness.portal.views.version() > before
    from diogel.warehouse.queries import counts

    with harness.portal.views.reading() as wh:  # the portal does not keep the warehouse open
        by_month = counts(wh, ["month"]).set_index("month")["count"]
    assert by_month["2024-06"] == f["loaded"]


def test_bad_upload_is_refused_and_nothing_is_stored(harness) -> None:
    contributor = harness.client("contributor")

    def files() -> int:
        with harness.portal.views.reading() as wh:  # the portal does not keep the warehouse open
            return int(wh.execute(wh.table("source_file").count()))

    files_before = files()
    r = contributor.post(
        "/upload",
        data={"dataset": "police-street", "csrf_token": page_csrf(contributor)},
        files={
            "file": (
                "2022-07-gwent-outcomes.csv",
                (POLICE / "2022-07-gwent-outcomes.csv").read_bytes(),
                "text/csv",
            )
        },
        follow_redirects=False,
    )
    page = contributor.get(r.headers["location"])
    assert "Refused: nothing was stored." in page.text
    error = contributor.get(f"/api/uploads/{r.headers['location'].rsplit('/', 1)[1]}").json()["files"][0][
        "error"
    ]
    assert (
        "2022-07-gwent-outcomes.csv" in error and "/upload-" not in error
    )  # names the file, not our temp folder
    assert files() == files_before
    assert not any((harness.data_dir / "uploads").iterdir())  # no copy of the file left behind
    # An empty file is refused before it reaches the warehouse.
    r = contributor.post(
        "/upload", data={"dataset": "police-street", "csrf_token": page_csrf(contributor)},
        files={"file": ("empty.csv", b"", "text/csv")},
    )  # fmt: skip
    assert r.status_code == 400 and "empty" in r.text
    with harness.portal.db.session() as s:
        assert s.execute(select(func.count(Upload.id))).scalar() == 1


def test_pact_meeting_compared_with_population(harness) -> None:
    contributor = harness.client("contributor")
    ward_code, ward_name = harness.portal.views.neighbourhoods(AREA)[0]
    form = {
        "csrf_token": page_csrf(contributor), "meeting_date": "2025-05-14", "neighbourhood_code": ward_code,
        "attendees": "15", "issues": "Parking on pavements; drug dealing near the park",
        "age_55-64": "5", "age_65-74": "6", "age_75+": "3", "age_35-44": "1", "sex_female": "9", "sex_male": "6",
        "theme_1": "Drug dealing", "votes_1": "11", "chosen_1": "on",
        "theme_2": "Speeding", "votes_2": "8", "chosen_2": "on", "theme_3": "Litter", "votes_3": "2",
        "action_1": "Joint patrols at the park", "owner_1": "Sgt Davies", "review_1": "2025-07-01", "status_1": "open",
    }  # fmt: skip
    r = contributor.post("/meetings", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    meeting = contributor.get(r.headers["location"].replace("/meetings/", "/api/meetings/")).json()
    assert meeting["neighbourhood_name"] == ward_name
    assert [p["theme"] for p in meeting["priorities"] if p["chosen"]] == ["Drug dealing", "Speeding"]
    rep = meeting["representation"]
    # Residents from the warehouse's population estimates: every adult band has residents.
    assert all(b["resident_share"] > 0 for b in rep["bands"]) and rep["recorded"] == 15
    assert rep["unrepresentative"] is True  # 14 of 15 over 55 in a ward where most adults are younger
    # Inconsistent input is refused with a reason and nothing is stored.
    bad = {**form, "age_18-24": "20", "csrf_token": page_csrf(contributor)}
    r = contributor.post("/meetings", data=bad)
    assert r.status_code == 400 and "more than the 15 attendees" in r.text
    with harness.portal.db.session() as s:
        assert s.execute(select(func.count(Meeting.id))).scalar() == 1
    # Progress on the action, then the public page shows the priorities and progress.
    action_id = meeting["actions"][0]["id"]
    r = contributor.post(
        f"/meetings/{meeting['id']}/actions/{action_id}", data={"status": "done", "csrf_token": page_csrf(contributor)},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303
    public = harness.client().get(f"/api/public/{AREA}").json()
    assert public["meetings"][0]["priorities"] == ["Drug dealing", "Speeding"]
    assert public["meetings"][0]["actions_done"] == 1
    # Community concern now feeds the candidate priorities' scores.
    dash = harness.client("analyst").get("/api/dashboard").json()
    drugs = next(p for p in dash["priorities"] if p["crime_type"] == "Drugs") if any(
        p["crime_type"] == "Drugs" for p in dash["priorities"]) else None  # fmt: skip
    assert drugs is None or "PACT" in drugs["reasons"]


def test_standards_year_on_year_and_assessment_publication(harness) -> None:
    analyst = harness.client("analyst")
    year = dt.date.today().year

    def assess(y: int, rag: str) -> int:
        form = {"csrf_token": page_csrf(analyst)}
        for key in ("leadership", "intelligence", "delivery", "communities", "accountability", "skills"):
            form[f"{key}_rag"] = rag if key == "communities" else "amber"
            form[f"{key}_evidence"] = "https://example.org/minutes.pdf\n/meetings"
        return analyst.post(f"/standards/{y}", data=form, follow_redirects=False).status_code

    assert assess(year - 1, "red") == 303 and assess(year, "green") == 303
    cmp = harness.client("member").get("/api/standards").json()
    assert cmp["years"] == [year - 1, year]
    communities = next(h for h in cmp["hallmarks"] if h["key"] == "communities")
    assert communities["change"] == "improved" and communities["cells"][1]["evidence"][0].startswith(
        "https://"
    )
    bad = {"csrf_token": page_csrf(analyst), "leadership_rag": "green"}
    r = analyst.post(f"/standards/{year}", data=bad)
    assert r.status_code == 400 and "every hallmark" in r.text

    folder = harness.data_dir / "assess-out"
    folder.mkdir()
    (folder / "assessment.html").write_text("<html><body><h1>Strategic assessment</h1></body></html>")
    (folder / "assessment.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    (folder / "figures.json").write_text('{"figures": []}')
    token = page_csrf(analyst)
    assert analyst.post("/assessments", data={"directory": "/etc", "csrf_token": token}).status_code == 400
    r = analyst.post(
        "/assessments",
        data={"directory": str(folder), "title": "SA", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    (item,) = analyst.get("/api/assessments").json()
    viewer = harness.client("viewer")
    assert viewer.get("/api/assessments").json() == []  # a draft is the analysts' own
    assert viewer.get(f"/assessments/{item['id']}/assessment.pdf").status_code == 404
    analyst.post(f"/assessments/{item['id']}/publish", data={"publish": "yes", "csrf_token": token})
    r = viewer.get(f"/assessments/{item['id']}/assessment.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert viewer.get(f"/assessments/{item['id']}/..%2Fportal.sqlite").status_code == 404
    assert "Strategic assessment" in harness.client("member").get("/scrutiny").text


def test_partnership_priorities_published_with_progress(harness) -> None:
    """An analyst adopts priorities; the public page and the scrutiny pack show them with the
    area's recorded counts now and before (counted independently here), a retired one is not
    published, and bad input is refused with nothing stored."""
    from diogel.portal.models import PartnershipPriority
    from diogel.warehouse.queries import counts

    analyst = harness.client("analyst")
    token = page_csrf(analyst)
    form = {"csrf_token": token, "title": "Shoplifting in the city centre", "aim": "Fewer repeat thefts",
            "crime_type": "Shoplifting", "adopted_on": "2025-04-01", "progress": "Shopwatch scheme running"}  # fmt: skip
    assert analyst.post("/priorities", data=form, follow_redirects=False).status_code == 303
    other = {**form, "title": "Old priority", "crime_type": "", "progress": ""}
    assert analyst.post("/priorities", data=other, follow_redirects=False).status_code == 303
    for bad, reason in (({"title": ""}, "needs a title"), ({"crime_type": "Jaywalking"}, "not a police.uk crime type"),
                        ({"adopted_on": "2999-01-01"}, "in the future")):  # fmt: skip
        r = analyst.post("/priorities", data={**form, **bad})
        assert r.status_code == 400 and reason in r.text, reason
    with harness.portal.db.session() as s:
        rows = {p.title: p.id for p in s.execute(select(PartnershipPriority)).scalars()}
        assert len(rows) == 2
    r = analyst.post(f"/priorities/{rows['Old priority']}", data={"csrf_token": token, "status": "retired"},
                     follow_redirects=False)  # fmt: skip
    assert r.status_code == 303

    public = harness.client().get(f"/api/public/{AREA}").json()["priorities"]
    assert [p["title"] for p in public] == [
        "Shoplifting in the city centre"
    ]  # the retired one is not published
    (p,) = public
    with harness.portal.views.reading() as wh:
        by = counts(wh, ["month", "crime_type"], area=AREA)
    months = sorted(by.month.unique())
    span = 12 if len(months) >= 24 else len(months) // 2
    shop = by[by.crime_type == "Shoplifting"]
    now = int(shop[shop.month.isin(months[-span:])]["count"].sum())
    before = int(shop[shop.month.isin(months[-2 * span : -span])]["count"].sum())
    assert now >= 5 and before >= 5  # Newport: large enough to be published
    assert (p["now"], p["before"]) == (now, before)
    assert p["percent_change"] == round(100 * (now - before) / before, 1)
    assert p["progress"] == "Shopwatch scheme running" and p["status"] == "active"
    page = harness.client().get(f"/public/{AREA}").text
    assert "Shoplifting in the city centre" in page and f"{now:,}" in page
    assert "Old priority" in harness.client("member").get("/scrutiny").text  # the pack shows all, retired too
    with harness.portal.db.session() as s:
        actions = list(s.execute(select(AuditEntry.action)).scalars())
    assert actions.count("priority.create") == 2 and actions.count("priority.update") == 1
