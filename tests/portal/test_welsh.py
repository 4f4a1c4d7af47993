"""The packaged Welsh catalogue: complete, compilable, placeholders intact, and the pages it renders.

The catalogue ships as ``translations/cy/LC_MESSAGES/messages.po`` and is compiled in memory when the
portal first needs it (:func:`diogel.portal.i18n.compile_po`). These tests read that file as the
portal does and fail on an empty or fuzzy entry, a message of ``messages.pot`` missing from it, or a
translation whose ``%(name)s`` / ``{name}`` placeholders or HTML tags differ from its English; then
they render pages through the real app with the ``lang=cy`` cookie and with ``Accept-Language: cy``
and look for Welsh, ``lang="cy"`` and any visible text that is still an English message.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from diogel.portal import i18n
from portal.conftest import AREA, USERS, PortalHarness

TRANSLATIONS = Path(str(resources.files("diogel.portal"))) / "translations"
PO = TRANSLATIONS / "cy" / "LC_MESSAGES" / "messages.po"
POT = TRANSLATIONS / "messages.pot"

#: printf-style (%(name)s, %(p).3f, %d) and str.format-style ({name}) placeholders, and HTML tags.
PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[-#0 +]*\d*(?:\.\d+)?[sdifr]|\{[^{}]*\}")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def catalogue():
    with PO.open("rb") as f:
        return read_po(f, locale="cy")


def template_ids() -> set[str]:
    with POT.open("rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


def tags(text: str) -> list[str]:
    return sorted(TAG.findall(text))


def mismatches(pairs: list[tuple[str, str]]) -> list[str]:
    """Translations whose placeholders or HTML tags are not exactly those of the English."""
    return [
        f"{english!r} -> {welsh!r}"
        for english, welsh in pairs
        if placeholders(english) != placeholders(welsh) or tags(english) != tags(welsh)
    ]


def test_every_message_is_translated_and_none_is_fuzzy() -> None:
    cat = catalogue()
    assert not cat.fuzzy, "the catalogue header is marked fuzzy"
    entries = [m for m in cat if m.id]
    empty = [m.id for m in entries if not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    fuzzy = [m.id for m in entries if m.fuzzy]
    assert not empty, f"{len(empty)} messages without Welsh: {empty[:10]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy messages (left out when compiled): {fuzzy[:10]}"
    missing = sorted(template_ids() - {m.id if isinstance(m.id, str) else m.id[0] for m in entries})
    assert not missing, f"{len(missing)} messages of messages.pot are not in cy/messages.po: {missing[:10]}"
    assert cat.num_plurals == 6  # Babel's rule for Welsh (CLDR): zero, one, two, few, many, other


def test_placeholders_and_markup_survive_translation() -> None:
    cat = catalogue()
    pairs: list[tuple[str, str]] = []
    for m in cat:
        if not m.id:
            continue
        if isinstance(m.id, tuple):  # a plural: every Welsh form keeps the placeholders of the plural
            pairs += [(m.id[1], s) for s in m.string]
        else:
            pairs.append((m.id, m.string))
    assert len(pairs) >= len(template_ids())
    assert not mismatches(pairs), mismatches(pairs)
    # Babel's own checker (python-format compatibility), on messages that have placeholders: the
    # extractor also flags "90% or more" as python-format ("% o" reads as a conversion), and the
    # portal never %-formats a message without values, so that Welsh need not keep "% o".
    problems = [(m.id, [str(e) for e in errors]) for m, errors in cat.check() if placeholders(str(m.id))]
    assert not problems, problems[:5]
    # And the compiled catalogue fills every placeholder without an error.
    compiled = i18n.compile_po(PO)
    for english, welsh in pairs:
        names = re.findall(r"%\(([^)]+)\)", english)
        if names:
            values = {n: 1 for n in names}
            assert compiled.ugettext(english) % values == welsh % values


def test_the_placeholder_check_can_fail() -> None:
    assert mismatches([("%(n)d priorities", "%(num)d o flaenoriaethau")])
    assert mismatches([("%(n)d priorities", "blaenoriaethau")])
    assert mismatches([("{count} rows", "{cyfrif} o resi")])
    assert mismatches([("<b>Note</b>", "Nodyn")])
    assert not mismatches([("%(what)s is required", "Mae angen %(what)s")])


def test_the_po_compiles_and_the_portal_loads_it() -> None:
    buffer = io.BytesIO()
    write_mo(buffer, catalogue())
    assert buffer.tell() > 10_000  # ~400 messages, not an empty file
    tr = i18n.translations("cy", i18n.PACKAGED)
    assert tr.ugettext("Log in") == "Mewngofnodi"
    assert tr.ugettext("Anti-social behaviour") == "Ymddygiad gwrthgymdeithasol"
    assert i18n.translations("en", i18n.PACKAGED).ugettext("Log in") == "Log in"


class _Visible(HTMLParser):
    """Text a reader sees or a screen reader speaks, and the ``lang`` of ``<html>``."""

    ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.lang: str | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag in ("script", "style"):
            self._skip += 1
        self.texts += [v.strip() for k, v in attrs if v and k in self.ATTRIBUTES]
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.texts.append(a["value"].strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def english_left(html: str) -> tuple[str | None, list[str]]:
    """The page's ``lang`` and its visible texts that are an English message whose Welsh differs
    (so "API", "Data" or "Ward", the same in both languages, and names, codes and numbers pass)."""
    parser = _Visible()
    parser.feed(html)
    tr = i18n.translations("cy", i18n.PACKAGED)
    english = {m for m in template_ids() if tr.ugettext(m) != m}
    return parser.lang, sorted({t for t in parser.texts if t in english})


def test_the_english_check_finds_english() -> None:
    lang, left = english_left('<html lang="en"><h1>Log in</h1><p>W14000022</p><a title="Export CSV">x</a>')
    assert lang == "en" and left == ["Export CSV", "Log in"]
    assert english_left('<html lang="cy"><h1>Mewngofnodi</h1><p>API</p><p>Newport</p>') == ("cy", [])


@pytest.fixture
def welsh_browsers(sqlite_harness: PortalHarness) -> dict[str, TestClient]:
    """Two anonymous browsers asking for Welsh: one by the footer's cookie, one by its language."""
    by_cookie = sqlite_harness.client()
    by_cookie.cookies.set("lang", "cy")
    by_header = sqlite_harness.client()
    by_header.headers["Accept-Language"] = "cy-GB,cy;q=0.9,en;q=0.5"
    return {"cookie": by_cookie, "Accept-Language": by_header}


#: Pages an anonymous visitor can open, and Welsh each must show.
PUBLIC_PAGES = {
    "/login": ["Mewngofnodi", "Enw defnyddiwr", "Cyfrinair", "Tudalennau cyhoeddus"],
    # Place names in Welsh where ONS publishes one (W14000022 Newport -> Casnewydd).
    "/public": ["Tudalennau cyhoeddus", "Casnewydd"],
    f"/public/{AREA}": [
        "Troseddu ac ymddygiad gwrthgymdeithasol fesul ward",
        "Ymddygiad gwrthgymdeithasol",
        "<h1>Casnewydd</h1>",
        "Cyfanswm",  # the Total row and column
        "(cuddio sylfaenol)",  # the disclosure rule, in Welsh
        "Niferoedd fesul ward a math o drosedd",  # the wide table's caption
    ],
}


#: CLDR's Welsh month names (stand-alone), as Babel writes them for ``cy``.
WELSH_MONTHS = ("Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst", "Medi")
WELSH_MONTHS += ("Hydref", "Tachwedd", "Rhagfyr")

#: English still on a Welsh page, known and owned elsewhere: none. (The ward table's "Total" row and
#: the agreement form's drop-downs, once printed as data keys, now go through the catalogue.) Names,
#: codes and numbers are not messages, so they never count as English here.
KNOWN_ENGLISH: dict[str, set[str]] = {}


@pytest.mark.slow  # ~7 s: the ward table of the public area page
@pytest.mark.parametrize("how", ["cookie", "Accept-Language"])
def test_public_pages_render_in_welsh(welsh_browsers: dict[str, TestClient], how: str) -> None:
    browser = welsh_browsers[how]
    for path, welsh in PUBLIC_PAGES.items():
        r = browser.get(path)
        assert r.status_code == 200, (path, r.status_code)
        lang, left = english_left(r.text)
        assert lang == "cy", (path, lang)
        for words in welsh:
            assert words in r.text, (path, words)
        new = set(left) - KNOWN_ENGLISH.get(path, set())
        assert not new, f"{path} ({how}) still shows English messages: {sorted(new)}"
        if path.startswith("/public/"):  # the table's months, written by Babel in Welsh
            assert re.search(f"(?:{'|'.join(WELSH_MONTHS)}) 20\\d\\d", r.text), path


@pytest.mark.slow  # ~15 s: the dashboard computes trends, hot spots and the map
def test_a_logged_in_page_renders_in_welsh(sqlite_harness: PortalHarness) -> None:
    browser = sqlite_harness.client("analyst")
    # The footer's "Cymraeg" link, followed from the dashboard, comes back to it in Welsh.
    r = browser.get("/language/cy", headers={"referer": "http://testserver/dashboard"})
    assert r.status_code == 200 and r.url.path == "/dashboard"
    lang, left = english_left(r.text)
    assert lang == "cy"
    assert "Dangosfwrdd" in r.text and "Prif dueddiadau" in r.text and "Dwyn o siopau" in r.text
    assert "Ble nesaf: mannau problemus a ragwelir" in r.text  # the forecast "where next" panel
    assert not left, f"/dashboard still shows English messages: {left}"
    # English is still English for a browser that does not ask for Welsh.
    en = sqlite_harness.client().get("/login")
    assert 'lang="en"' in en.text and "Log in" in en.text and "Mewngofnodi" not in en.text


#: Working pages (no warehouse-wide computation) of the analyst and the administrator.
WORK_PAGES = {
    # /meetings carries the PACT import form and the CSV export link; /ratings is the MoRiLE inputs page.
    "analyst": ["/meetings", "/meetings/new", "/standards", "/priorities", "/assessments", "/upload"]
    + ["/data/police-street/areas", "/data/police-street/lsoa", "/scrutiny", "/targets", "/ratings"],
    # Agencies, the agreement and the audit log are the partnership administrator's (issue 13).
    "partnership_admin": ["/admin/users", "/admin/agencies", "/admin/agreement", "/admin/audit"],
}


@pytest.mark.slow  # ~9 s: ten pages for two users
def test_working_pages_render_in_welsh(sqlite_harness: PortalHarness) -> None:
    for role, paths in WORK_PAGES.items():
        browser = sqlite_harness.client(role)
        browser.cookies.set("lang", "cy")
        for path in paths:
            r = browser.get(path)
            assert r.status_code == 200, (role, path, r.status_code)
            lang, left = english_left(r.text)
            assert lang == "cy", (path, lang)
            # The test users are named after their roles ("analyst"): names, not messages.
            left = [t for t in left if t not in USERS and t not in KNOWN_ENGLISH.get(path, set())]
            assert not left, f"{path} ({role}) still shows English messages: {left}"
            if path == "/admin/users":  # ...while the role column is in Welsh
                assert all(
                    w in r.text for w in ("gweinyddwr", "dadansoddwr", "cyfrannwr", "gwyliwr", "aelod")
                )
        assert "Allgofnodi" in r.text  # the navigation and the log-out button, in Welsh


@pytest.mark.slow  # ~10 s: publishes an assessment to the public and reads it back in Welsh
def test_publishing_and_the_pact_import_speak_welsh(sqlite_harness: PortalHarness) -> None:
    """The pages and refusals of publishing to the public and of the PACT import, in Welsh. The public
    assessment itself is the published report, in the report's own language, so only its absence
    (the 404's message) is checked here."""
    import json
    from html import unescape

    from sqlalchemy import select

    from diogel.portal import services
    from diogel.portal.models import User
    from portal.conftest import page_csrf

    h = sqlite_harness
    public = h.client("public")
    public.cookies.set("lang", "cy")
    r = public.get(f"/public/{AREA}/assessment")
    assert r.status_code == 404 and "nid oes asesiad o'r ardal hon wedi'i gyhoeddi i'r cyhoedd" in unescape(
        r.text
    )
    folder = h.data_dir / "assessments" / "welsh"
    folder.mkdir(parents=True)
    (folder / "assessment.html").write_text(
        "<html><body><main><p>SA</p></main></body></html>", encoding="utf-8"
    )
    (folder / "figures.json").write_text(json.dumps({"area": {"code": AREA}}), encoding="utf-8")
    with h.portal.db.session() as s:
        analyst_user = s.execute(select(User).where(User.username == "analyst")).scalar_one()
        rid = services.register_assessment(
            s, analyst_user, str(folder), h.data_dir, "Asesiad strategol 2025"
        ).id
    analyst = h.client("analyst")
    analyst.cookies.set("lang", "cy")
    assert "Cyhoeddi i'r cyhoedd" in unescape(analyst.get("/assessments").text)
    r = analyst.post(f"/assessments/{rid}/public", data={"publish": "yes", "csrf_token": page_csrf(analyst)},
                     follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text[:300]
    page = analyst.get("/assessments").text
    assert "Tynnu'n ôl o'r cyhoedd" in unescape(page)
    assert not [t for t in english_left(page)[1] if t not in USERS]
    r = public.get(f"/public/{AREA}")
    lang, left = english_left(r.text)
    assert r.status_code == 200 and lang == "cy" and not left, left
    assert "Ni thynnwyd dim allan o'r asesiad hwn." in unescape(r.text)
    assert public.get(f"/public/{AREA}/assessment").status_code == 200
    # The PACT import refuses a file that is not a PACT CSV, in Welsh.
    upload = {"file": ("pact.csv", b"not,a,pact,file\n1,2,3,4\n", "text/csv")}
    r = analyst.post("/meetings/import", data={"csrf_token": page_csrf(analyst)}, files=upload,
                     follow_redirects=False)  # fmt: skip
    assert r.status_code == 400 and "ni lwythwyd y ffeil PACT: " in unescape(r.text), r.text[-600:]


def test_a_refused_upload_says_why_in_welsh(sqlite_harness: PortalHarness) -> None:
    """Why the warehouse refused each file of an upload (its reader's English sentence) is shown in
    Welsh on the upload's page, the file's own name as it came; the API keeps the reader's words."""
    from html import unescape

    from portal.conftest import page_csrf

    contributor = sqlite_harness.client("contributor")
    contributor.cookies.set("lang", "cy")
    upload = {"file": ("2024-06-gwent-street.csv", b"%PDF-1.4 not a CSV at all\n", "text/csv")}
    r = contributor.post("/upload", data={"csrf_token": page_csrf(contributor), "dataset": "police-street"},
                         files=upload)  # fmt: skip
    assert r.status_code == 200 and "/uploads/" in str(r.url), r.text[-600:]
    page = unescape(r.text)
    assert "2024-06-gwent-street.csv:1: nid ffeil testun CSV yw hon: mae'n edrych fel dogfen PDF" in page, (
        page[-1500:]
    )
    assert "not a CSV text file" not in page
    upload_id = str(r.url).rsplit("/", 1)[-1]
    files = contributor.get(f"/api/uploads/{upload_id}").json()["files"]
    assert (
        files[0]["error"]
        == "2024-06-gwent-street.csv:1: this is not a CSV text file: it looks like a PDF document"
    )
