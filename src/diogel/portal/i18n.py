"""Translations: every word the portal shows goes through gettext, so Welsh is a catalogue, not a fork.

Templates use ``_("...")`` / ``ngettext`` (Jinja2's i18n extension); Python code uses
:func:`gettext` here. A translator runs, from ``src/diogel/portal``::

    pybabel extract -F babel.cfg -o translations/messages.pot .
    pybabel init -i translations/messages.pot -d translations -l cy     # once
    pybabel update -i translations/messages.pot -d translations         # after template changes
    pybabel compile -d translations

and the catalogue ``translations/cy/LC_MESSAGES/messages.mo`` is picked up on the next start, chosen
by the ``lang`` cookie (the language links in the footer) or the browser's Accept-Language. Until a
catalogue exists, Welsh pages show the English text.
"""

from __future__ import annotations

import contextvars
from functools import cache
from importlib import resources

from babel.support import NullTranslations, Translations

LANGUAGES = {"en": "English", "cy": "Cymraeg"}
DEFAULT = "en"
_current: contextvars.ContextVar[str] = contextvars.ContextVar("diogel_lang", default=DEFAULT)


@cache
def translations(lang: str) -> NullTranslations:
    directory = str(resources.files("diogel.portal") / "translations")
    return Translations.load(directory, [lang], domain="messages")


def choose(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


def set_language(lang: str) -> contextvars.Token:
    return _current.set(lang if lang in LANGUAGES else DEFAULT)


def current() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return translations(_current.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ungettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:  # noqa: N802 - the conventional name for "mark for translation, translate later"
    """Mark a string for extraction; it is translated where it is shown (``_(text)`` in a template)."""
    return message
