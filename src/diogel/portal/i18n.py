"""Translations: every word the portal shows goes through gettext, so Welsh is a catalogue, not a fork.

Templates use ``_("...")`` / ``ngettext`` (Jinja2's i18n extension); Python code uses
:func:`gettext` here (imported as ``_``) for every message a user may read, including the errors
of :class:`diogel.portal.services.PortalError`, and :func:`N_` to mark words that are data (roles,
crime types, statuses) and are translated where a template shows them. A test checks that no
template has English outside ``_()`` and that ``translations/messages.pot`` holds every message.
A translator runs, from ``src/diogel/portal``::

    pybabel extract -F babel.cfg --no-location --sort-output -o translations/messages.pot .
    pybabel update -i translations/messages.pot -d translations         # after template changes

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
from functools import cache
from importlib import resources
from pathlib import Path

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
