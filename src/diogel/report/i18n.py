"""The report's languages: every word of the assessment goes through one gettext catalogue.

Sections write ``_("English sentence with {} for a figure")`` and templates ``{{ _("...") }}`` or
``{% trans %}``; the language is a context variable that :func:`language` sets for the length of a
build, so a section never takes a language argument. The Welsh catalogue ships as its source,
``report/translations/cy/LC_MESSAGES/report.po``, compiled in memory the first time it is needed,
as the portal's is (see :mod:`diogel.portal.i18n` for why no ``.mo`` is committed). Fuzzy
entries are left out, so a guess never reaches a report. A translator extracts new messages with::

    cd src/diogel/report && pybabel extract -F babel.cfg --no-location --sort-output \\
        -o translations/report.pot . && pybabel update -D report -i translations/report.pot -d translations

``pybabel update`` marks obsolete (``#~``) every message the extraction cannot see, and many are
live: section titles and descriptions, the recommendation rules' texts, labels given to ``_()`` as
variables, and the options report and funding charts under ``diogel/resources``. Move those back
to active entries after an update (a merge lost 241 of them this way);
``tests/report/test_welsh_report.py`` fails until they are.

Terms (crime types, dataset names, area kinds) are not in this catalogue: :func:`term` reads them
from ``diogel/data/glossary.yaml``, the one terminology file the portal follows too, so the report
and the portal can never name a crime type two ways.

A figure's label and definition are written to ``figures.json`` in English and in Welsh whatever
the report's language: sections give them as :class:`Text` (``T("{name}: records", name=...)``),
which is the English string but remembers its message and values so it can be given in Welsh.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import io
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

__all__ = [
    "LANGUAGES",
    "T",
    "Text",
    "_",
    "current",
    "language",
    "month_year",
    "ngettext",
    "span_words",
    "term",
]

#: The languages an assessment is written in; ``both`` is one bilingual document, Welsh first.
LANGUAGES = ("en", "cy")
HTML_LANG = {"en": "en-GB", "cy": "cy"}
_current: contextvars.ContextVar[str] = contextvars.ContextVar("diogel_report_language", default="en")
CATALOGUES = Path(str(resources.files("diogel.report"))) / "translations"


@contextlib.contextmanager
def language(lang: str) -> Iterator[str]:
    """Write the report in ``lang`` ("en" or "cy") inside the ``with`` block."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown report language {lang!r}: expected one of {', '.join(LANGUAGES)}")
    token = _current.set(lang)
    try:
        yield lang
    finally:
        _current.reset(token)


def current() -> str:
    return _current.get()


@cache
def catalogue(lang: str) -> NullTranslations:
    """The report's catalogue for ``lang``, compiled in memory; English (no catalogue) for "en"."""
    po = CATALOGUES / lang / "LC_MESSAGES" / "report.po"
    if lang == "en" or not po.is_file():
        return NullTranslations()
    with po.open("rb") as f:
        cat = read_po(f, locale=lang, domain="report")
    buffer = io.BytesIO()
    write_mo(buffer, cat)
    buffer.seek(0)
    return Translations(buffer, domain="report")


def _(message: str) -> str:
    """``message`` in the current report language (English when it has no translation)."""
    return catalogue(_current.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalogue(_current.get()).ungettext(singular, plural, n)


@cache
def glossary() -> dict[str, str]:
    """English term (case-folded) -> Welsh term, from ``diogel/data/glossary.yaml`` (aliases too)."""
    terms = yaml.safe_load((Path(str(resources.files("diogel.data"))) / "glossary.yaml").read_text("utf-8"))
    out: dict[str, str] = {}
    for t in terms["terms"]:
        for english in [t["en"], *t.get("aliases", [])]:
            out[" ".join(str(english).split()).casefold()] = t["cy"]
    return out


def term(english: str, lang: str | None = None) -> str:
    """A glossary term (crime type, dataset, area kind) in the report language, keeping the case of
    the English first letter; the English itself when the glossary does not have it (a name)."""
    lang = lang or _current.get()
    if lang == "en" or not isinstance(english, str):
        return english
    welsh = glossary().get(" ".join(english.split()).casefold())
    if welsh is None:
        return catalogue(lang).ugettext(english)
    if english[:1].isupper():
        return welsh[:1].upper() + welsh[1:]
    return welsh[:1].lower() + welsh[1:] if welsh[:1].isupper() and not welsh[1:2].isupper() else welsh


class Text(str):
    """English text that remembers its message and values, so it can also be given in Welsh.

    ``str(T("{name}: records", name="Robbery"))`` is "Robbery: records";
    ``T(...).in_("cy")`` is "Lladrad: cofnodion". A value that is itself a :class:`Text`, or a
    glossary term passed as ``Term(...)``, is translated with it.
    """

    msgid: str
    values: dict

    def __new__(cls, msgid: str, **values: object) -> Text:
        self = str.__new__(
            cls, msgid.format(**{k: _plain(v, "en") for k, v in values.items()}) if values else msgid
        )
        self.msgid, self.values = msgid, values
        return self

    def __reduce__(self) -> tuple:
        # Pickled as the text and its attributes, whatever a subclass's __new__ takes (a section's
        # output crosses processes: see diogel.report.section_pool).
        return (_rebuilt_text, (type(self), str(self), dict(self.__dict__)))

    def in_(self, lang: str) -> str:
        text = catalogue(lang).ugettext(self.msgid) if lang != "en" else self.msgid
        return text.format(**{k: _plain(v, lang) for k, v in self.values.items()}) if self.values else text

    def here(self) -> str:
        """The text in the current report language."""
        return self.in_(_current.get())


def _rebuilt_text(cls: type[Text], text: str, state: dict) -> Text:
    self = str.__new__(cls, text)
    self.__dict__.update(state)
    return self


class Term(str):
    """A glossary term used as a value of :class:`Text`: translated by :func:`term`, not the catalogue."""

    def in_(self, lang: str) -> str:
        return term(str(self), lang)


def _plain(value: object, lang: str) -> object:
    if isinstance(value, Text | Term | Place | Given):
        return value.in_(lang)
    return value


T = Text


def in_language(text: object, lang: str) -> object:
    """``text`` in ``lang`` if it knows how (a :class:`Text` or :class:`Term`), else unchanged."""
    return text.in_(lang) if isinstance(text, Text | Term | Place | Given) else text


def here(text: object) -> object:
    """``text`` in the current report language (a plain string is returned unchanged)."""
    return in_language(text, _current.get())


# --- dates ------------------------------------------------------------------------------------------
_MONTHS_CY = ("Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin", "Gorffennaf", "Awst", "Medi",
              "Hydref", "Tachwedd", "Rhagfyr")  # fmt: skip
# Soft mutation, which "i" (to) and "o" (from) cause: "o Orffennaf 2024 i Fehefin 2025".
_SOFT = {"Mawrth": "Fawrth", "Mai": "Fai", "Mehefin": "Fehefin", "Gorffennaf": "Orffennaf", "Medi": "Fedi",
         "Tachwedd": "Dachwedd", "Rhagfyr": "Ragfyr"}  # fmt: skip


def month_name(month: int, lang: str | None = None, mutated: bool = False) -> str:
    lang = lang or _current.get()
    if lang == "cy":
        name = _MONTHS_CY[month - 1]
        return _SOFT.get(name, name) if mutated else name
    return dt.date(2000, month, 1).strftime("%B")


def month_year(when: dt.date, lang: str | None = None, mutated: bool = False) -> str:
    """ "July 2024" / "Gorffennaf 2024" (``mutated``: after "i" or "o", "Orffennaf 2024")."""
    return f"{month_name(when.month, lang, mutated)} {when.year}"


def span_words(start: dt.date, end: dt.date, lang: str | None = None) -> str:
    """ "July 2024 to June 2025" / "Gorffennaf 2024 i Fehefin 2025"."""
    lang = lang or _current.get()
    if lang == "cy":
        return f"{month_year(start, lang)} i {month_year(end, lang, mutated=True)}"
    return f"{month_year(start, lang)} to {month_year(end, lang)}"


def generated_words(when: dt.datetime, lang: str | None = None) -> str:
    """When the report was made: "07 December 2026 00:15 UTC" / "07 Rhagfyr 2026 00:15 UTC"."""
    return f"{when:%d} {month_year(when, lang)} {when:%H:%M} UTC"


# --- place names ------------------------------------------------------------------------------------
@cache
def welsh_place_names() -> dict[str, str]:
    """Area code -> Welsh name: the 22 Welsh local authorities (ONS's LAD24NMW), their CSPs and the four
    Welsh police force areas, from ``data/reference/wales/names_cy.csv``; ward names where a loaded
    lookup carries a Welsh-name column are added for a build by :func:`ward_names`."""
    import csv

    path = Path(str(resources.files("diogel.data"))) / "reference" / "wales" / "names_cy.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return {r["code"]: r["name_cy"] for r in csv.DictReader(f) if r["name_cy"].strip()}


_wards_cy: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "diogel_report_wards_cy", default=None
)


@contextlib.contextmanager
def ward_names(welsh: dict[str, str]) -> Iterator[None]:
    """Ward code -> Welsh name (the loaded lookup's ``ward_name_cy``) for :func:`place_name` inside the
    ``with`` block: the report names a ward in Welsh only where the warehouse's lookup does."""
    token = _wards_cy.set(dict(welsh))
    try:
        yield
    finally:
        _wards_cy.reset(token)


def place_name(code: str | None, english: str, lang: str | None = None) -> str:
    """An area's name in the report language: Welsh where ONS publishes one (Newport -> Casnewydd; a
    ward, where the loaded lookup has its Welsh name: Caerleon -> Caerllion)."""
    if (lang or _current.get()) != "cy" or not code:
        return english
    return (_wards_cy.get() or {}).get(str(code)) or welsh_place_names().get(str(code), english)


@cache
def _welsh_by_english_name() -> dict[str, str]:
    import csv

    path = Path(str(resources.files("diogel.data"))) / "reference" / "wales" / "names_cy.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return {r["name_en"]: r["name_cy"] for r in csv.DictReader(f) if r["name_cy"].strip()}


def place(english: object) -> object:
    """A Welsh area's or force's name, known only by its English name (a table cell), in the report
    language; anything else unchanged."""
    if _current.get() != "cy" or not isinstance(english, str):
        return english
    return _welsh_by_english_name().get(english, english)


class Place(str):
    """An area's name as a value of :class:`Text`: Welsh where ONS publishes a Welsh name."""

    def in_(self, lang: str) -> str:
        return _welsh_by_english_name().get(str(self), str(self)) if lang == "cy" else str(self)


class Given(str):
    """A free text a user's file gives with its own Welsh (a formula's ``title`` and ``title_cy``), as a
    value of :class:`Text`: the Welsh where the file gives it, otherwise the English as written."""

    welsh: str

    def __new__(cls, english: str, welsh: str | None = None) -> Given:
        text = super().__new__(cls, english)
        text.welsh = (welsh or "").strip()
        return text

    def in_(self, lang: str) -> str:
        return self.welsh if lang == "cy" and self.welsh else str(self)
