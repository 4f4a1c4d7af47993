"""Translations: every word the portal shows goes through gettext, so Welsh is a catalogue, not a fork.

Templates use ``_("...")`` / ``ngettext`` (Jinja2's i18n extension); Python code uses
:func:`gettext` here (imported as ``_``) for every message a user may read, including the errors
of :class:`diogel.portal.services.PortalError`, and :func:`N_` to mark words that are data (roles,
crime types, statuses) and are translated where a template shows them. A test checks that no
template has English outside ``_()`` and that ``translations/messages.pot`` holds every message.
A translator runs, from ``src/diogel/portal``::

    pybabel extract -F babel.cfg --no-location --sort-output -o translations/messages.pot .
    pybabel update -i translations/messages.pot -d translations -w 100 --no-fuzzy-matching --ignore-obsolete

then translates the new (empty or fuzzy) entries of ``translations/cy/LC_MESSAGES/messages.po``
following ``diogel/data/glossary.yaml``; nothing needs compiling. The language is chosen by the
``lang`` cookie (the language links in the footer) or the browser's Accept-Language, and for a
logged-in user by the choice saved on the account (``User.language``, set by the same links).

The packaged Welsh catalogue ships as its source, ``translations/cy/LC_MESSAGES/messages.po``, and
is compiled when the portal first needs it: :func:`_load` reads the ``.po`` with Babel's
``read_po``, writes the ``.mo`` into memory and keeps the resulting :class:`Translations` for the
life of the process. We chose this over a hatch build hook because (a) no binary is committed or
generated into the source tree, so the ``.mo`` can never be stale against the ``.po`` a translator
just edited; (b) it works the same from a checkout, an editable install and a wheel, with no build
step to forget; (c) compiling the ~420 messages took about 12 ms on the shared development
machine, once per process. Fuzzy entries are left out (``write_mo``'s default), so a guess never
reaches a page (and the tests fail on any). A folder given in
``PortalConfig.translations`` may hold either a ``.po`` or a compiled ``.mo`` (the ``.po`` wins);
a language with neither shows the English text.
"""

from __future__ import annotations

import contextvars
import io
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = {"en": "English", "cy": "Cymraeg"}
DEFAULT = "en"
#: The catalogues shipped with the package; ``PortalConfig.translations`` may name another folder
#: (a council's own translation, tried before it is contributed back).
PACKAGED = str(resources.files("diogel.portal") / "translations")
#: The request's language, in a one-item list: the middleware sets a new list per request (before
#: anyone is known) and :func:`prefer` changes its item once the logged-in user's own choice is read.
#: FastAPI runs dependencies in worker threads on a copy of the context, so a new ``set`` there
#: would not reach the route; a change to the shared list does.
_DEFAULT_HOLDER = [DEFAULT]
_current: contextvars.ContextVar[list[str]] = contextvars.ContextVar("diogel_lang", default=_DEFAULT_HOLDER)
_directory: contextvars.ContextVar[str] = contextvars.ContextVar("diogel_translations", default=PACKAGED)


def translations(lang: str, directory: str | None = None) -> NullTranslations:
    """The catalogue of ``lang`` in ``directory`` (default: the request's, else the packaged one);
    English text where there is none, so a missing catalogue never breaks a page."""
    return _load(lang, directory or _directory.get())


@cache
def _load(lang: str, directory: str) -> NullTranslations:
    po = Path(directory) / lang / "LC_MESSAGES" / "messages.po"
    if po.is_file():
        return compile_po(po)
    return Translations.load(directory, [lang], domain="messages")


def compile_po(po: Path) -> Translations:
    """The catalogue of a ``.po`` file, compiled in memory (fuzzy entries left out)."""
    with po.open("rb") as f:
        catalog = read_po(f, locale=po.parent.parent.name, domain="messages")
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain="messages")


def set_directory(directory: str | None) -> contextvars.Token:
    """Use the catalogues in ``directory`` (None: the packaged ones) for this request."""
    return _directory.set(directory or PACKAGED)


def choose(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie
    ranked = []
    for i, part in enumerate((accept_language or "").split(",")):
        code, _sep, params = part.partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, code.strip().lower()[:2]))
    for _q, _i, code in sorted(ranked):  # by the browser's weights, then its order
        if code in LANGUAGES:
            return code
    return DEFAULT


def set_language(lang: str) -> contextvars.Token:
    return _current.set([lang if lang in LANGUAGES else DEFAULT])


def prefer(lang: str | None) -> None:
    """Use ``lang`` (a logged-in user's saved choice) for the rest of this request; no effect if it
    is not a language the portal has."""
    if lang not in LANGUAGES:
        return
    holder = _current.get()
    if holder is _DEFAULT_HOLDER:
        _current.set([lang])  # outside a request: never change the shared default
    else:
        holder[0] = lang


def current() -> str:
    return _current.get()[0]


def gettext(message: str, **values: object) -> str:
    """``message`` in the request's language; ``%(name)s`` placeholders filled from ``values``
    afterwards (an f-string would be looked up with the values already in, and never be found)."""
    text = translations(current()).ugettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    text = translations(current()).ungettext(singular, plural, n)
    return text % {"num": n, **values}


_ = gettext


def N_(message: str) -> str:  # noqa: N802 - the conventional name for "mark for translation, translate later"
    """Mark a string for extraction; it is translated where it is shown (``_(text)`` in a template)."""
    return message


# --- numbers, dates and place names in the request's language ---------------------------------------
#: Babel's locale of each language: British English, and Welsh (CLDR ``cy``: "7 Rhagfyr 2026").
LOCALES = {"en": "en_GB", "cy": "cy"}


def locale() -> str:
    return LOCALES[current()]


def number(value: object, decimals: int = 0, sign: bool = False) -> str:
    """``value`` with the language's grouping and decimal marks (Babel); "" for None or NaN."""
    from babel.numbers import format_decimal

    if value is None or value != value:  # NaN != NaN
        return ""
    digits = "0" * decimals
    pattern = f"#,##0{'.' + digits if decimals else ''}"
    if sign:
        pattern = f"+{pattern};-{pattern}"
    return format_decimal(value, format=pattern, locale=locale())


def date(value: object, with_time: bool = False) -> str:
    """A date (or a datetime, or an ISO date string) as people write it: "7 December 2026" /
    "7 Rhagfyr 2026", with the time ("00:15") when asked; "" for None."""
    import datetime as dt

    from babel.dates import format_date

    if value is None or value == "":
        return ""
    zone = ""
    if isinstance(value, str):
        text = value.removesuffix(" UTC")
        zone = value[len(text) :]  # " UTC" kept: a time zone's name is not translated
        value = dt.datetime.fromisoformat(text) if len(text) > 10 else dt.date.fromisoformat(text)
    day = value.date() if isinstance(value, dt.datetime) else value
    out = format_date(day, format="d MMMM y", locale=locale())
    if with_time and isinstance(value, dt.datetime):
        out += f" {value:%H:%M}{zone}"
    return out


def month(value: str) -> str:
    """A police.uk month ("2024-07") in words: "July 2024" / "Gorffennaf 2024"."""
    import datetime as dt

    from babel.dates import format_date

    if not value:
        return ""
    return format_date(dt.date.fromisoformat(f"{value}-01"), format="LLLL y", locale=locale())


@cache
def _welsh_names() -> dict[str, str]:
    """Area code -> Welsh name (local authorities, partnerships and police force areas) from ONS's
    Welsh-name columns, as packaged in ``diogel/data/reference/wales/names_cy.csv`` (shared with the
    report). Wards are named by :func:`ward_namer`, from the warehouse's ward lookup where it has a
    Welsh-name column."""
    import csv

    path = Path(str(resources.files("diogel.data"))) / "reference" / "wales" / "names_cy.csv"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        return {r["code"]: r["name_cy"] for r in csv.DictReader(f) if r["name_cy"].strip()}


def ward_namer(lang: str, welsh: Callable[[], tuple[dict[str, str], dict[str, str]]]) -> Callable[..., str]:
    """A template's ``ward(english, code=None)``: in Welsh, the ward's Welsh name where the warehouse's
    ward lookup has one (by code, else by its English name), otherwise the ONS name as it is. ``welsh``
    is read only when a Welsh page names a ward (pages without wards never open the warehouse)."""

    def ward(english: Any, code: str | None = None) -> Any:
        if lang != "cy" or not isinstance(english, str):
            return english
        by_code, by_name = welsh()
        return (by_code.get(str(code)) if code else None) or by_name.get(english) or english

    return ward


def place(code: str | None, english: str) -> str:
    """An area's name in the request's language: Welsh where ONS publishes one (W14000022 Newport ->
    Casnewydd), otherwise the English name."""
    if current() != "cy" or not code:
        return english
    return _welsh_names().get(str(code), english)
