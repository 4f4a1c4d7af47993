"""Publishing to the public: the public version leaves out what the agreement does not publish (and
says so), keeps police.uk figures, and shows on the area's public page; the public list shows only
the partnership's own areas."""

from __future__ import annotations

import json

from sqlalchemy import select

from diogel.portal.models import User
from diogel.portal.publishing import public_version
from portal.conftest import AREA, page_csrf

#: A report in the layout of report.html.j2 (one section per <section>), quoting police.uk and partner figures.
REPORT = """<!doctype html><html><head><title>SA</title></head><body><main>
<section id="executive_summary" class="section">
<h2>Executive summary</h2>
<ul><li>Recorded crime rose to <span class="fig" data-figure="levels.all.count">3</span>.</li>
<li>ED assaults: <span class="fig" data-figure="partner.ed_assaults.count">17</span>.</li></ul>
</section>
<section id="partner" class="section">
<h2>Partner data</h2>
<p>ED assaults <span class="fig" data-figure="partner.ed_assaults.count">17</span> in Pillgwenlly.</p>
<table data-figure="partner.by_ward"><tr><td>2</td></tr></table>
</section>
<section id="levels" class="section">
<h2>Levels</h2>
<table data-figure="levels.by_type"><tr><td>Bicycle theft</td><td>3</td></tr></table>
</section></main></body></html>"""


def test_public_version_takes_out_partner_parts_and_keeps_police_counts() -> None:
    doc, notes = public_version(REPORT, {"partner": "partner data the agreement does not publish"})
    assert "partner." not in doc and "Pillgwenlly" not in doc and "17" not in doc
    assert (
        'data-figure="levels.all.count">3<' in doc and "Bicycle theft</td><td>3<" in doc
    )  # small police counts stay
    assert "Not published: partner data the agreement does not publish" in doc
    assert "police.uk already publishes them" in doc
    assert [n.what for n in notes] == [
        "Partner data",
        "1 sentences, tables or charts elsewhere quoting those figures",
    ]
    # Nothing to suppress: only the banner is added.
    same, none = public_version(REPORT, {})
    assert none == [] and same.replace(same[same.index("<p class") : same.index("</p>") + 4], "") == REPORT


def test_publish_to_the_public_and_the_public_page(sqlite_harness) -> None:  # noqa: ANN001
    from diogel.portal import services

    h = sqlite_harness
    folder = h.data_dir / "assessments" / "2025"
    folder.mkdir(parents=True)
    (folder / "assessment.html").write_text(REPORT, encoding="utf-8")
    (folder / "figures.json").write_text(json.dumps({"area": {"code": AREA}}), encoding="utf-8")
    with h.portal.db.session() as s:
        analyst = s.execute(select(User).where(User.username == "analyst")).scalar_one()
        rid = services.register_assessment(
            s, analyst, str(folder), h.data_dir, "Strategic assessment 2025"
        ).id
    public = h.client("public")
    assert public.get(f"/public/{AREA}/assessment").status_code == 404
    assert h.client("viewer").post(f"/assessments/{rid}/public", data={"publish": "yes"}).status_code in (
        403,
        400,
    )
    analyst = h.client("analyst")
    r = analyst.post(f"/assessments/{rid}/public", data={"publish": "yes", "csrf_token": page_csrf(analyst)},
                     follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text[:300]
    page = public.get(f"/public/{AREA}").text
    assert "Strategic assessment 2025" in page and f"/public/{AREA}/assessment" in page
    # The default agreement publishes partner aggregates (suppressed in the report): nothing taken out.
    assert "Nothing was taken out of this assessment." in page
    assert "Pillgwenlly" in public.get(f"/public/{AREA}/assessment").text

    # The agreement stops publishing ED assaults: publishing again takes the partner parts out, and says why.
    from diogel.portal import isa

    with h.portal.db.session() as s:
        isa.set_access(s, "partner:ed_assaults", "public", None, None)
    r = analyst.post(f"/assessments/{rid}/public", data={"publish": "yes", "csrf_token": page_csrf(analyst)},
                     follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    page = public.get(f"/public/{AREA}").text
    assert (
        "Partner data: partner data (ed_assaults) that the information sharing agreement does not publish"
        in page
    )
    doc = public.get(f"/public/{AREA}/assessment")
    assert doc.status_code == 200 and "script-src 'none'" in doc.headers["content-security-policy"]
    assert "Pillgwenlly" not in doc.text and "Bicycle theft" in doc.text
    r = analyst.post(f"/assessments/{rid}/public", data={"publish": "no", "csrf_token": page_csrf(analyst)},
                     follow_redirects=False)  # fmt: skip
    assert public.get(f"/public/{AREA}/assessment").status_code == 404


def test_public_list_shows_only_the_partnerships_areas(sqlite_harness, data_dir) -> None:  # noqa: ANN001
    listed = sqlite_harness.client("public").get("/public").text
    everything = [a.code for a in sqlite_harness.portal.views.areas()]
    # The five Gwent CSPs (Caerphilly, Blaenau Gwent, Torfaen, Monmouthshire, Newport): Gwent's files are loaded.
    gwent = {"W14000018", "W14000019", "W14000020", "W14000021", "W14000022"}
    assert len(everything) > 5 and any(c.startswith("E") for c in everything)  # stray cross-border records
    shown = {c for c in everything if f'/public/{c}"' in listed}
    assert shown == gwent
    # Configured (diogel serve --public-area): only those.
    from fastapi.testclient import TestClient

    from diogel.portal.app import PortalConfig, create_app

    app = create_app(PortalConfig(data_dir=data_dir, area=AREA, warm_cache=False, public_areas=(AREA,)))
    try:
        listed = TestClient(app, base_url="http://testserver").get("/public").text
        assert {c for c in everything if f'/public/{c}"' in listed} == {AREA}
    finally:
        app.state.portal.close()
