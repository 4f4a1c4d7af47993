"""A partner file uploaded through the portal is keyed to the uploading agency (its supplier).

Without it, every agency's file of a dataset would share one slice per month, so one agency's
upload could replace another's months (issue 11's guarded replacement then refused the second
agency outright, with advice about a command-line flag the portal has no field for).
"""

from __future__ import annotations

from importlib import resources

from .conftest import PortalHarness, page_csrf

SAMPLE = resources.files("diogel.sources.partner") / "samples" / "synthetic_licensed_premises.csv"


def test_partner_upload_is_supplied_by_the_agency(sqlite_harness: PortalHarness) -> None:
    analyst = sqlite_harness.client("analyst")  # the default agreement lets the council upload it
    datasets = {d["name"]: d for d in analyst.get("/api/datasets").json()}
    assert datasets["partner:licensed_premises"]["upload"]
    r = analyst.post(
        "/api/uploads",
        data={"dataset": "partner:licensed_premises"},
        files={"file": ("premises.csv", SAMPLE.read_bytes(), "text/csv")},
        headers={"X-CSRF-Token": page_csrf(analyst)},
    )
    assert r.status_code == 200, r.text[:500]
    with sqlite_harness.portal.views.reading() as wh:
        rows = wh.execute(wh.table("partner_record").select("supplier", "dataset"))
    with sqlite_harness.portal.db.session() as s:
        from diogel.portal.models import User

        agency_id = s.query(User).filter_by(username="analyst").one().agency_id
    assert len(rows) > 0
    assert set(rows.supplier) == {f"portal-agency-{agency_id}"}
