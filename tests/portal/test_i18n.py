"""Every word the portal shows goes through gettext, so Welsh is a catalogue and not a fork.

Three checks: no template has English outside ``_()`` (text or user-visible attributes); the
shipped ``messages.pot`` holds every message Babel extracts from the templates and the Python code
(so a translator working from it misses nothing); and a catalogue compiled into a folder the
portal is pointed at translates the pages, including messages raised in Python, with no template
touched.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from diogel.portal.app import PortalConfig, create_app
from portal.conftest import AREA, PASSWORD, csrf_from, seed_users

PORTAL = Path(str(resources.files("diogel.portal")))
TEMPLATES = PORTAL / "templates"
#: Words that are the same in every language: the product's name.
NOT_WORDS = {"diogel"}
#: Attributes a user reads or hears (a screen reader speaks aria-label and title).
VISIBLE_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}


class _Text(HTMLParser):
    """Literal text and visible attribute values of a template with its Jinja parts removed."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []  # (what to report, the text a user would read)
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if value and (
                name in VISIBLE_ATTRIBUTES
                or (name == "value" and dict(attrs).get("type") in ("submit", "button"))
            ):
                self.found.append((f"{name}={value!r}", value))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.found.append((data.strip(), data))


def untranslated(source: str) -> list[str]:
    """English a template shows that is not inside ``_()``: literal text and attributes, and
    string literals printed by an expression (``{{ "Save" }}``) rather than translated."""
    # Statements and comments vanish; an expression becomes a digit (no word, and a valid
    # attribute value), so what is left is exactly what the template writes literally.
    literal = re.sub(r"\{%.*?%\}|\{#.*?#\}", "", source, flags=re.S)
    literal = re.sub(r"\{\{.*?\}\}", "0", literal, flags=re.S)
    parser = _Text()
    parser.feed(literal)
    problems = [
        label
        for label, text in parser.found
        if any(w.lower() not in NOT_WORDS for w in re.findall(r"[A-Za-z]{2,}", text))
    ]
    for expr in re.findall(r"\{\{(.*?)\}\}", source, flags=re.S):
        # Arguments of _() are the translated ones; filter and test arguments are not shown.
        shown = re.sub(r"_\(\s*(\"[^\"]*\"|'[^']*')", "_(", expr)
        shown = re.sub(r"\|\s*\w+\((?:[^()]|\([^()]*\))*\)", "", shown)  # |join(", "), |format(...)
        shown = re.sub(r"\b(?:if|else)\b\s*(?=['\"])", " ", shown)
        for a, b in re.findall(r"\"([^\"]*)\"|'([^']*)'", shown):
            text = a or b
            # Keys and class names used to look things up are not shown ('age_', 'ok').
            if re.search(r"[A-Za-z]{2,}", text) and not re.fullmatch(r"[a-z_-]+", text):
                problems.append(f"{{{{{expr.strip()}}}}}")
    return problems


def test_no_template_shows_english_outside_gettext() -> None:
    problems = {
        f.name: found for f in sorted(TEMPLATES.glob("*.html")) if (found := untranslated(f.read_text()))
    }
    assert not problems, f"text not wrapped in _(): {problems}"


def test_the_checker_finds_untranslated_text() -> None:
    """The check above would catch each way English slips past gettext."""
    assert untranslated("<h1>Upload data</h1>") == ["Upload data"]
    assert untranslated('<input placeholder="Your name">') == ["placeholder='Your name'"]
    assert untranslated('<a href="/x" title="Export">{{ _("CSV") }}</a>') == ["title='Export'"]
    assert untranslated('<p>{{ "Saved" }}</p>') == ['{{"Saved"}}']
    assert untranslated('<p>{{ _("Saved") }} {{ x|join(", ") }}</p><b>diogel</b>') == []


def extracted() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PORTAL),
        method_map,
        options,
        keywords={"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)},
    ):
        ids.update([message] if isinstance(message, str) else [m for m in message if m])
    return ids


def test_shipped_catalogue_template_holds_every_message() -> None:
    with (PORTAL / "translations" / "messages.pot").open("rb") as f:
        pot = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    messages = extracted()
    # Enough to show extraction saw templates, Python messages and the data terms.
    for sample in ("Log in", "wrong username or password", "the file is empty", "Shoplifting", "reviewer"):
        if sample == "reviewer":
            assert sample not in messages  # and that it does not invent messages
        else:
            assert sample in messages, sample
    missing = sorted(messages - pot)
    assert not missing, (
        f"{len(missing)} messages are not in translations/messages.pot (from src/diogel/portal run "
        f"'pybabel extract -F babel.cfg -o translations/messages.pot .'): {missing[:10]}"
    )


def pseudo_welsh(text: str) -> str:
    """A recognisable stand-in translation that keeps %(name)s placeholders working."""
    return "CY[" + text + "]"


@pytest.fixture
def welsh(tmp_path: Path) -> Path:
    """A 'cy' catalogue of every extracted message, compiled into a folder outside the package."""
    catalog = Catalog(locale="cy", domain="messages")
    for message in extracted():
        catalog.add(message, pseudo_welsh(message))
    folder = tmp_path / "translations"
    (folder / "cy" / "LC_MESSAGES").mkdir(parents=True)
    with (folder / "cy" / "LC_MESSAGES" / "messages.mo").open("wb") as f:
        write_mo(f, catalog)
    return folder


def test_a_welsh_catalogue_translates_the_pages(data_dir: Path, welsh: Path) -> None:
    from fastapi.testclient import TestClient

    app = create_app(PortalConfig(data_dir=data_dir, area=AREA, warm_cache=False, translations=welsh))
    seed_users(app)
    try:
        c = TestClient(app)
        c.cookies.set("lang", "cy")
        page = c.get("/login").text
        assert "CY[Log in]" in page and "CY[Username]" in page and "CY[Public pages]" in page
        # A message raised in Python, in the same language.
        token = csrf_from(page)
        r = c.post("/login", data={"username": "analyst", "password": "not it at all", "csrf_token": token})
        assert r.status_code == 401 and "CY[wrong username or password]" in r.text
        r = c.post("/login", data={"username": "analyst", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 200  # followed to the dashboard
        dash = r.text
        assert "CY[Headline trends]" in dash and "CY[Shoplifting]" in dash and "CY[Dashboard]" in dash
        # The same portal still speaks English to a browser that asks for it.
        en = TestClient(app).get("/login").text
        assert "Log in" in en and "CY[" not in en
    finally:
        app.state.portal.close()
