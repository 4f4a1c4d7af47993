"""Which language a page is in: the account's saved choice, else the browser's cookie, else its
Accept-Language (by weight), else English; and ``lang`` on the page always names it."""

from __future__ import annotations

import re

import pytest

from diogel.portal import i18n
from portal.conftest import PortalHarness, username_of


def html_lang(text: str) -> str:
    m = re.search(r'<html lang="([^"]+)"', text)
    assert m, "no lang on <html>"
    return m.group(1)


def test_accept_language_by_weight_then_order() -> None:
    assert i18n.choose(None, "cy-GB,cy;q=0.9,en;q=0.5") == "cy"
    assert i18n.choose(None, "en;q=0.4, cy;q=0.8") == "cy"  # weights beat order
    assert i18n.choose(None, "fr-FR, en-GB;q=0.7, cy;q=0.6") == "en"
    assert i18n.choose(None, "de, fr") == "en"
    assert i18n.choose("en", "cy") == "en"  # the switch's cookie beats the browser
    assert i18n.choose("xx", "cy") == "cy"


def test_the_account_remembers_the_language_in_another_browser(sqlite_harness: PortalHarness) -> None:
    first = sqlite_harness.client("analyst")
    r = first.get("/language/cy", headers={"referer": "http://testserver/meetings"})
    assert r.status_code == 200 and r.url.path == "/meetings" and html_lang(r.text) == "cy"
    # A second browser, asking for English, logs in as the same user: the pages are in Welsh, the
    # browser is told to remember it, and a message raised in Python is in Welsh too.
    second = sqlite_harness.client()
    second.headers["Accept-Language"] = "en-GB,en;q=0.9"
    assert html_lang(second.get("/login").text) == "en"
    from portal.conftest import login

    assert login(second, username_of("analyst")).status_code == 303
    assert second.cookies.get("lang") == "cy"
    page = second.get("/meetings")
    assert html_lang(page.text) == "cy" and "Cyfarfodydd PACT" in page.text
    # Cookie gone (a cleared browser): the account's choice still wins and is set again.
    second.cookies.delete("lang")
    page = second.get("/meetings")
    assert html_lang(page.text) == "cy" and page.cookies.get("lang") == "cy"
    # Switching back to English in either browser is remembered for the account.
    second.get("/language/en")
    assert html_lang(first.get("/meetings").text) == "en"


def test_an_anonymous_choice_is_a_cookie_and_links_keep_it(sqlite_harness: PortalHarness) -> None:
    browser = sqlite_harness.client()
    r = browser.get("/language/cy", headers={"referer": "http://testserver/public"})
    assert r.url.path == "/public" and html_lang(r.text) == "cy"
    assert browser.cookies.get("lang") == "cy"
    # Every link on the page, followed, is still Welsh (the choice travels with the browser).
    for href in sorted(set(re.findall(r'href="(/public[^"]*)"', r.text)))[:5]:
        assert html_lang(browser.get(href).text) == "cy", href
    # The footer offers the other language, labelled in its own language.
    assert '<a href="/language/en" lang="en"' in r.text


@pytest.mark.parametrize(
    ("lang", "day", "month", "number", "place"),
    [
        ("en", "3 June 2025", "July 2024", "12,345.7", "Newport"),
        ("cy", "3 Mehefin 2025", "Gorffennaf 2024", "12,345.7", "Casnewydd"),
    ],
)
def test_numbers_dates_and_place_names_follow_the_language(
    lang: str, day: str, month: str, number: str, place: str
) -> None:
    import datetime as dt

    token = i18n.set_language(lang)
    try:
        assert i18n.date(dt.date(2025, 6, 3)) == i18n.date("2025-06-03") == day
        assert i18n.date("2026-12-07 00:15 UTC", with_time=True).endswith(" 00:15 UTC")
        assert i18n.month("2024-07") == month
        assert i18n.number(12345.678, 1) == number and i18n.number(float("nan")) == ""
        assert i18n.number(3.21, 1, sign=True) == "+3.2" and i18n.number(-3.21, 1, sign=True) == "-3.2"
        assert i18n.place("W14000022", "Newport") == place
        assert i18n.place("E22000001", "Bath and North East Somerset") == "Bath and North East Somerset"
    finally:
        i18n._current.reset(token)
