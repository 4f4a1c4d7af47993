"""WCAG 2.2 AA in a real browser: axe-core (axe-playwright-python) on Debian's chromium runs on every
page each role can open, and on the public pages, in English and in Welsh; any violation of the A
and AA rules fails the test with the rule, the page and the first offending element.

One server and one browser for the module, one logged-in context per role (the language switched
by the footer's link, as a person would), so the run time stays bounded.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import POLICE
from portal.conftest import AREA, PASSWORD, username_of
from portal.test_browser import CHROMIUM, browser, server  # noqa: F401 - module-scoped fixtures

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.slow,
]

#: The WCAG 2.0, 2.1 and 2.2 A and AA rules of axe-core.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
#: Pages beyond a role's menu: forms and detail pages a menu leads to.
EXTRA = {
    "partnership_admin": ["/admin/users", "/admin/agencies", "/admin/agreement", "/admin/audit"],
    "admin": ["/admin/users"],
    "analyst": ["/meetings/new", "/data/police-street/records", "/data/police-street/lsoa", "/upload"],
    "contributor": ["/meetings/new", "/upload"],
    "viewer": [],
    "member": [],
    "public": ["/login", "/public", f"/public/{AREA}"],
}


def violations(page) -> list[str]:  # noqa: ANN001
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": TAGS}})
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']} {v['nodes'][0]['html'][:160]}"
        for v in result.response["violations"]
    ]


#: Pages a menu page links to that have their own controls: a meeting (its actions' status
#: drop-downs), an upload's accounting and quarantine, a year's standards form.
DETAIL = re.compile(r"^/(?:meetings/\d+|uploads/\d+|standards/\d+/edit)$")


@pytest.fixture(scope="module")
def seeded(server: str, browser, tmp_path_factory: pytest.TempPathFactory) -> str:  # noqa: ANN001, F811
    """What the pages show once people have worked: a PACT meeting with an action, an adopted
    priority (each with its drop-down) and an upload with a quarantined row (contributor)."""
    page = browser.new_context().new_page()
    page.set_default_timeout(120_000)  # two cores shared with other work: a login may wait
    page.goto(f"{server}/login")
    page.fill("input[name=username]", username_of("contributor"))
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{server}/meetings/new")
    page.fill("input[name=meeting_date]", "2025-06-03")
    page.select_option("select[name=neighbourhood_code]", index=2)
    page.fill("input[name=attendees]", "9")
    page.fill("input[name=age_65-74]", "4")
    page.fill("input[name=theme_1]", "Off-road bikes")
    page.fill("input[name=votes_1]", "6")
    page.check("input[name=chosen_1]")
    page.fill("input[name=action_1]", "Joint operation with the council's wardens")
    page.fill("input[name=owner_1]", "Insp. Morgan")
    page.fill("input[name=review_1]", "2025-09-01")
    page.click("form[action='/meetings'] button[type=submit]")
    page.wait_for_url("**/meetings/*")
    lines = (POLICE / "2024-06-gwent-street.csv").read_bytes().splitlines(keepends=True)
    body = lines[1:21]
    body[3] = body[3].replace(b",2024-06,", b",2024-13,", 1)
    upload = tmp_path_factory.mktemp("axe") / "2024-06-gwent-street.csv"
    upload.write_bytes(lines[0] + b"".join(body))
    page.goto(f"{server}/upload")
    page.select_option("select[name=dataset]", "police-street")
    page.set_input_files("input[name=file]", str(upload))
    page.click("form[action='/upload'] button[type=submit]")
    page.wait_for_url("**/uploads/*")
    page.context.close()
    page = browser.new_context().new_page()
    page.set_default_timeout(120_000)  # two cores shared with other work: a login may wait
    page.goto(f"{server}/login")
    page.fill("input[name=username]", username_of("analyst"))
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{server}/priorities")
    page.fill("input[name=title]", "Fewer shoplifting offences in the city centre")
    page.select_option("select[name=crime_type]", "Shoplifting")
    page.fill("input[name=adopted_on]", "2025-04-01")
    page.click("form[action='/priorities'] button[type=submit]")
    page.wait_for_load_state()
    page.context.close()
    return server


def check_pages(page, base: str, paths: list[str], lang: str, found: list[str]) -> list[str]:  # noqa: ANN001
    """Run axe on each page (and the detail pages it links to, once each) in ``lang``; returns
    the pages visited."""
    queue, seen = list(paths), []
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.append(path)
        r = page.goto(base + path, timeout=180_000)
        assert r.status == 200, (lang, path, r.status)
        assert page.locator("html").get_attribute("lang") == lang, path
        found += [f"{lang} {path}: {v}" for v in violations(page)]
        links = page.locator("main a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        for kind in ("/meetings/", "/uploads/", "/standards/"):
            first = next((h for h in links if h and h.startswith(kind) and DETAIL.match(h)), None)
            if first and not any(p.startswith(kind) and DETAIL.match(p) for p in [*seen, *queue]):
                queue.append(first)
    return seen


@pytest.mark.parametrize("role", list(EXTRA))
def test_every_page_passes_axe_in_both_languages(seeded: str, browser, role: str) -> None:  # noqa: ANN001, F811
    base = seeded
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{base}/login")
    if role != "public":
        page.fill("input[name=username]", username_of(role))
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_load_state()
    menu = page.locator("header nav a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    paths = list(dict.fromkeys([*menu, *EXTRA[role]]))
    found: list[str] = []
    try:
        page.goto(f"{base}/language/en")
        paths = check_pages(page, base, paths, "en", found)
        page.goto(f"{base}/language/cy")
        check_pages(page, base, paths, "cy", found)
    finally:
        if role != "public":
            page.goto(f"{base}/language/en")  # the account's choice back as it was
        context.close()
    if role in ("analyst", "contributor", "viewer", "member"):
        assert any(DETAIL.match(p) and p.startswith("/meetings/") for p in paths), paths
    assert not found, f"{len(found)} WCAG violations as {role}:\n" + "\n".join(found)


def test_the_axe_check_can_fail(browser) -> None:  # noqa: ANN001, F811
    """A page with an unlabelled drop-down and an empty table header is caught."""
    page = browser.new_page()
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>t</h1><select><option>a</option>'
        "</select><table><tr><th></th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table></main></body></html>"
    )
    found = violations(page)
    page.close()
    assert any(re.match(r"select-name", v) for v in found), found
