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


def pages_of(page, role: str) -> list[str]:  # noqa: ANN001
    """The role's menu and the pages it leads to (one meeting, one upload), without duplicates."""
    links = page.locator("header nav a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    paths = [*links, *EXTRA[role]]
    if "/meetings" in paths:
        page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + "/meetings")
        detail = page.locator("main a[href^='/meetings/']").evaluate_all(
            "els => els.map(e => e.getAttribute('href')).filter(h => /^\\/meetings\\/\\d+$/.test(h))"
        )
        paths += detail[:1]
    return list(dict.fromkeys(p for p in paths if p))


@pytest.mark.parametrize("role", list(EXTRA))
def test_every_page_passes_axe_in_both_languages(server: str, browser, role: str) -> None:  # noqa: ANN001, F811
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(f"{server}/login")
    if role != "public":
        page.fill("input[name=username]", username_of(role))
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_load_state()
    paths = pages_of(page, role)
    found: list[str] = []
    try:
        for lang in ("en", "cy"):
            page.goto(f"{server}/language/{lang}")
            for path in paths:
                r = page.goto(server + path, timeout=180_000)
                assert r.status == 200, (role, lang, path, r.status)
                assert page.locator("html").get_attribute("lang") == lang, (role, path)
                found += [f"{lang} {path}: {v}" for v in violations(page)]
    finally:
        if role != "public":
            page.goto(f"{server}/language/en")  # the account's choice back as it was
        context.close()
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
