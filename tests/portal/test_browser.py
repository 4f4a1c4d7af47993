"""The portal in a real browser (Debian's chromium through Playwright) against ``diogel serve``.

One server for the module: log in as each role and check what each can and cannot reach, upload a
partner file, record a PACT meeting, and check a screenshot of the dashboard map is not blank.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import POLICE
from portal.conftest import AREA, PASSWORD, USERS, serving, username_of

CHROMIUM = "/usr/bin/chromium"
STATE: dict[str, Path] = {}
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


def _seed(data_dir: Path) -> None:
    from diogel.portal import isa, services
    from diogel.portal.audit import load_audit_key
    from diogel.portal.db import Database, database_url
    from diogel.portal.views import datasets

    db = Database(database_url(None, data_dir), audit_key=load_audit_key(data_dir))
    try:
        with db.session() as s:
            names = list(datasets())
            isa.seed_access(s, names)
            for role, (kind, agency_name) in USERS.items():
                agency = services.get_or_create_agency(s, None, agency_name, kind, names)
                services.create_user(
                    s, None, username_of(role), PASSWORD, role, agency, f"{role.title()} User"
                )
    finally:
        db.close()


@pytest.fixture(scope="module")
def server(master_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("browser") / "data"
    data_dir.mkdir()
    shutil.copy(master_warehouse, data_dir / "warehouse.duckdb")
    _seed(data_dir)
    STATE["data_dir"] = data_dir
    with serving(data_dir, AREA) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def logged_in(browser, base: str, role: str):  # noqa: ANN001, ANN201
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(f"{base}/login")
    if role != "public":
        page.fill("input[name=username]", username_of(role))
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_load_state()
        assert page.locator(f".user[data-role={role}]").count() == 1, page.content()[:500]
    return page


#: What each role's menu offers (and, by omission, does not).
MENUS = {
    "partnership_admin": {"Data", "Users", "Agencies", "Sharing agreement", "Audit log", "Public pages"},
    "admin": {"Data", "Users", "Public pages"},
    "analyst": {
        "Dashboard",
        "Data",
        "Strategic assessment",
        "Priorities",
        "Targets",
        "Priority ratings",
        "PACT meetings",
        "Minimum standards",
        "Scrutiny pack",
        "Public pages",
    },
    "contributor": {
        "Dashboard",
        "Data",
        "Strategic assessment",
        "Priorities",
        "Targets",
        "Priority ratings",
        "PACT meetings",
        "Minimum standards",
        "Upload",
        "Public pages",
    },
    "viewer": {
        "Dashboard",
        "Data",
        "Strategic assessment",
        "Priorities",
        "Targets",
        "Priority ratings",
        "PACT meetings",
        "Minimum standards",
        "Public pages",
    },
    "member": {
        "Data",
        "Strategic assessment",
        "Priorities",
        "Targets",
        "Priority ratings",
        "PACT meetings",
        "Minimum standards",
        "Scrutiny pack",
        "Public pages",
    },
    "public": {"Public pages"},
}
#: Pages each role must be refused (the server answers 403 whatever the menu shows).
REFUSED = {
    "partnership_admin": ["/dashboard", "/data/police-street/records", "/meetings"],
    "admin": ["/dashboard", "/data/police-street/records", "/meetings", "/admin/agreement", "/admin/audit"],
    "analyst": ["/admin/users", "/admin/audit"],
    "contributor": ["/data/police-street/records", "/scrutiny", "/admin/agreement"],
    "viewer": ["/upload", "/data/police-street/records", "/scrutiny", "/meetings/new"],
    "member": ["/dashboard", "/data/police-street/lsoa", "/upload"],
    "public": ["/dashboard", "/data/police-street/areas", "/meetings", "/admin/users", "/scrutiny"],
}
ALLOWED = {
    "partnership_admin": ["/admin/users", "/admin/agreement", "/admin/audit"],
    "admin": ["/admin/users"],
    "analyst": ["/dashboard", "/data/police-street/records", "/scrutiny", "/meetings/new"],
    "contributor": ["/dashboard", "/upload", "/meetings/new"],
    "viewer": ["/dashboard", "/meetings", "/standards"],
    "member": ["/scrutiny", "/data/police-street/areas", "/meetings"],
    "public": ["/public", f"/public/{AREA}"],
}


@pytest.mark.parametrize("role", list(MENUS))
def test_each_role_sees_what_it_may(server: str, browser, role: str) -> None:  # noqa: ANN001
    page = logged_in(browser, server, role)
    menu = set(page.locator("header nav a").all_inner_texts())
    expected = set(MENUS[role])
    if role == "analyst" and "Upload" in menu:
        # With the partner source kind installed the council may upload its licensed premises register.
        expected.add("Upload")
    assert menu == expected
    for path in ALLOWED[role]:
        r = page.goto(server + path)
        assert r.status == 200, (role, path, r.status)
    for path in REFUSED[role]:
        r = page.goto(server + path)
        assert r.status == 403, (role, path, r.status)
        assert "Not allowed" in page.locator("h1").inner_text()
    page.context.close()


def test_contributor_uploads_a_file_and_sees_the_accounting(server: str, browser, tmp_path: Path) -> None:  # noqa: ANN001
    lines = (POLICE / "2024-06-gwent-street.csv").read_bytes().splitlines(keepends=True)
    body = lines[1:81]
    body[4] = body[4].replace(b",2024-06,", b",2024-13,", 1)
    path = tmp_path / "2024-06-gwent-street.csv"
    path.write_bytes(lines[0] + b"".join(body))
    page = logged_in(browser, server, "contributor")
    page.goto(f"{server}/upload")
    page.select_option("select[name=dataset]", "police-street")
    page.set_input_files("input[name=file]", str(path))
    page.click("form[action='/upload'] button[type=submit]")
    page.wait_for_url("**/uploads/*")
    assert page.locator("#upload-status").inner_text() == "Loaded."
    cells = page.locator("#accounting tbody tr").first.locator("td").all_inner_texts()
    assert cells[1] == "loaded" and cells[2] == "80" and cells[5] == "1"
    assert int(cells[3]) + int(cells[4]) + 1 == 80
    quarantined = page.locator("#quarantine tbody tr")
    assert quarantined.count() == 1 and "2024-13" in quarantined.first.inner_text()
    page.context.close()


def test_contributor_records_a_pact_meeting(server: str, browser) -> None:  # noqa: ANN001
    page = logged_in(browser, server, "contributor")
    page.goto(f"{server}/meetings/new")
    page.fill("input[name=meeting_date]", "2025-06-03")
    page.select_option("select[name=neighbourhood_code]", index=2)
    page.fill("input[name=attendees]", "14")
    page.fill("textarea[name=issues]", "Off-road bikes on the common; shoplifting at the precinct")
    for band, n in (("65-74", "7"), ("75+", "5"), ("55-64", "2")):
        page.fill(f"input[name='age_{band}']", n)
    page.fill("input[name=theme_1]", "Off-road bikes")
    page.fill("input[name=votes_1]", "10")
    page.check("input[name=chosen_1]")
    page.fill("input[name=theme_2]", "Shoplifting")
    page.fill("input[name=votes_2]", "4")
    page.fill("input[name=action_1]", "Joint operation with the council's wardens")
    page.fill("input[name=owner_1]", "Insp. Morgan")
    page.fill("input[name=review_1]", "2025-09-01")
    page.click("form[action='/meetings'] button[type=submit]")
    page.wait_for_url("**/meetings/*")
    assert page.locator("#priorities tr.chosen").inner_text().startswith("Off-road bikes")
    assert "Unrepresentative" in page.locator("#representation").inner_text()
    # The action's status changes in place (htmx) and persists.
    page.select_option("#actions select[name=status]", "in progress")
    page.click("#actions button[type=submit]")
    page.wait_for_timeout(500)
    page.reload()
    assert page.locator("#actions select[name=status]").input_value() == "in progress"
    page.context.close()


def test_dashboard_screenshot_is_not_blank(server: str, browser) -> None:  # noqa: ANN001
    from PIL import Image, ImageStat

    page = logged_in(browser, server, "analyst")
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    r = page.goto(f"{server}/dashboard", timeout=120_000)
    assert r.status == 200
    figure = page.locator("figure#map svg.choropleth")
    assert figure.locator("path").count() > 50  # one shape per LSOA of the partnership
    image = Image.open(io.BytesIO(figure.screenshot())).convert("RGB")
    stat = ImageStat.Stat(image)
    assert min(stat.var) > 300, f"the map looks blank (per-channel variance {stat.var})"
    colours = image.getcolors(maxcolors=1 << 20) or []
    assert len([c for c in colours if c[0] > 200]) >= 5  # the five shades of the legend at least
    full = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("L")
    assert ImageStat.Stat(full).var[0] > 100
    # The policy has no 'unsafe-inline' and the page needs none: nothing was blocked.
    assert blocked == []
    page.context.close()


def test_assessment_report_renders_under_a_policy_without_unsafe_inline(server: str, browser) -> None:  # noqa: ANN001
    """The report's style sheet and matplotlib's styled SVG render with their styles allowed by hash:
    the browser blocks nothing and the bars keep their colour."""
    import matplotlib.pyplot as plt
    from sqlalchemy import select

    from diogel.portal import services
    from diogel.portal.audit import load_audit_key
    from diogel.portal.db import Database, database_url
    from diogel.portal.models import User
    from diogel.report.charts import svg

    data_dir = STATE["data_dir"]
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.bar(["a", "b"], [3, 5], color="#d95f02")
    folder = data_dir / "assessments" / "browser"
    folder.mkdir(parents=True)
    (folder / "assessment.html").write_text(
        "<!doctype html><html><head><title>SA</title><style>h1 { color: rgb(1, 2, 3); }</style></head>"
        f"<body><h1>Strategic assessment</h1>{svg(fig, 'Synthetic chart')}</body></html>"
    )
    db = Database(database_url(None, data_dir), audit_key=load_audit_key(data_dir))
    try:
        with db.session() as s:
            analyst = s.execute(select(User).where(User.username == "analyst")).scalar_one()
            row = services.register_assessment(s, analyst, str(folder), data_dir, "SA")
            services.publish_assessment(s, analyst, row, True)
            rid = row.id
    finally:
        db.close()
    page = logged_in(browser, server, "analyst")
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    r = page.goto(f"{server}/assessments/{rid}/assessment.html")
    assert r.status == 200 and "unsafe-inline" not in r.headers["content-security-policy"]
    assert page.locator("h1").evaluate("e => getComputedStyle(e).color") == "rgb(1, 2, 3)"
    fills = page.locator("svg.chart path[data-s]").evaluate_all(
        "els => els.map(e => getComputedStyle(e).fill)"
    )
    assert "rgb(217, 95, 2)" in fills
    assert blocked == []
    page.context.close()
