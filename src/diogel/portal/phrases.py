"""Sentences that reach a page from outside the portal, in the request's language.

The disclosure rule (:func:`diogel.disclosure.suppress` says in one English sentence what it did)
and the reasons the warehouse gives for a quarantined row are made by code the portal does not own,
from a small number of fixed shapes with numbers and values in them. Each shape is matched here and
rebuilt from catalogue messages, so the Welsh page says the same thing in Welsh with the same
numbers; a sentence of a shape not listed is shown as it came (English), never garbled.
"""

from __future__ import annotations

import re

from diogel.portal.i18n import N_, number
from diogel.portal.i18n import gettext as _

# --- the disclosure rule ----------------------------------------------------------------------------
_PRIMARY = re.compile(
    r"(?:(?P<none>No count was small enough to suppress)"
    r"|Counts of (?P<one>\d+) are suppressed"
    r"|Counts from (?P<lo>\d+) to (?P<hi>\d+) are suppressed) \(primary suppression\)"
    r"(?P<zeros>; zeros are shown)?\."
)
_NO_SECONDARY = " No secondary suppression was applied, so suppressed counts may be recoverable from totals."
_SECONDARY = re.compile(
    r" A further (?P<n>\d+) (?:cell was|cells were) suppressed so that no suppressed count can be"
    r" worked out from row or column totals \(secondary suppression\): every row and column with a"
    r" suppressed value has at least two, counting its total(?P<elsewhere> \(published elsewhere\))?\."
)


def rule_words(rule: str) -> str:
    """The disclosure rule sentence of :func:`diogel.disclosure.suppress` in the request's language."""
    m = _PRIMARY.match(rule or "")
    if not m:
        return rule
    rest = rule[m.end() :]
    if m["none"]:
        parts = [_("No count was small enough to suppress (primary suppression).")]
    elif m["one"]:
        parts = [_("Counts of %(n)s are suppressed (primary suppression).", n=number(int(m["one"])))]
    else:
        parts = [
            _(
                "Counts from %(low)s to %(high)s are suppressed (primary suppression).",
                low=number(int(m["lo"])),
                high=number(int(m["hi"])),
            )
        ]
    if m["zeros"]:
        parts.append(_("Zeros are shown."))
    second = _SECONDARY.fullmatch(rest)
    if rest == _NO_SECONDARY:
        parts.append(
            _("No secondary suppression was applied, so suppressed counts may be recoverable from totals.")
        )
    elif second:
        n = int(second["n"])
        if n == 1:
            parts.append(_("One further cell was suppressed (secondary suppression)."))
        else:
            parts.append(_("A further %(n)s cells were suppressed (secondary suppression).", n=number(n)))
        parts.append(
            _(
                "No suppressed count can be worked out from row or column totals: every row and column"
                " with a suppressed value has at least two, counting its total."
            )
        )
        if second["elsewhere"]:
            parts.append(_("The totals are published elsewhere."))
    else:
        return rule
    return " ".join(parts)


# --- quarantine reasons -------------------------------------------------------------------------------
#: (shape of the warehouse's English reason, the catalogue message it becomes). The shapes are those
#: of diogel.sources._validate (police.uk rules), diogel.sources._text (malformed lines) and the
#: warehouse's unknown-LSOA check; the column name is the file's own heading and stays as it is.
_REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?P<column>[^:]+): '(?P<value>.*)' is not a month in the form YYYY-MM"),
     N_("%(column)s: '%(value)s' is not a month in the form YYYY-MM")),
    (re.compile(r"(?P<column>[^:]+): month (?P<value>\S+) is in the future \(today is (?P<today>[^)]+)\)"),
     N_("%(column)s: month %(value)s is in the future (today is %(today)s)")),
    (re.compile(r"(?P<column>[^:]+): the reporting force is blank"), N_("%(column)s: the reporting force is blank")),
    (re.compile(r"(?P<column>[^:]+): unknown crime type '(?P<value>.*)'"),
     N_("%(column)s: unknown crime type '%(value)s'")),
    (re.compile(r"(?P<column>[^:]+): '(?P<value>.*)' is not a number"), N_("%(column)s: '%(value)s' is not a number")),
    (re.compile(r"(?P<column>[^:]+): (?P<value>\S+) is out of range for England and Wales \((?P<low>\S+) to (?P<high>\S+)\)"),
     N_("%(column)s: %(value)s is out of range for England and Wales (%(low)s to %(high)s)")),
    (re.compile(r"(?P<column>[^:]+): one coordinate is blank and the other is not"),
     N_("%(column)s: one coordinate is blank and the other is not")),
    (re.compile(r"(?P<column>[^:]+): '(?P<value>.*)' is not an LSOA code \(E01 or W01 and six digits\)"),
     N_("%(column)s: '%(value)s' is not an LSOA code (E01 or W01 and six digits)")),
    (re.compile(r"LSOA code (?P<value>\S+) is not in the loaded ONS lookups \(no such LSOA\)"),
     N_("LSOA code %(value)s is not in the loaded ONS lookups (no such LSOA)")),
    (re.compile(r"expected (?P<expected>\d+) fields, found (?P<found>\d+) \(truncated line\?\)"),
     N_("expected %(expected)s fields, found %(found)s (truncated line?)")),
    (re.compile(r"expected (?P<expected>\d+) fields, found (?P<found>\d+) \(stray delimiter or quote\?\)"),
     N_("expected %(expected)s fields, found %(found)s (stray delimiter or quote?)")),
    (re.compile(r"(?P<column>[^:]+): the field holds a NUL byte \(a damaged file or binary data\)"),
     N_("%(column)s: the field holds a NUL byte (a damaged file or binary data)")),
]  # fmt: skip


def reason_words(reason: str) -> str:
    """A quarantine reason in the request's language (the values it quotes unchanged)."""
    for shape, message in _REASONS:
        m = shape.fullmatch(reason or "")
        if m:
            return _(message, **m.groupdict())
    return reason


# --- MoRiLE-style priority scores ---------------------------------------------------------------------
#: The packaged matrix's criteria (diogel/analysis/priorities_default.yaml): their labels and the
#: shapes of their ``describe`` texts. A council's own matrix with other words passes through.
_CRITERIA = {
    "harm": N_("harm"),
    "volume": N_("volume"),
    "trend": N_("trend"),
    "concentration": N_("concentration"),
    "vulnerability": N_("vulnerability"),
    "community concern": N_("community concern"),
    "capacity to influence": N_("capacity to influence"),
}
_DESCRIBED: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"CSS harm (?P<value>\S+) per 1,000 residents"), N_("CSS harm %(value)s per 1,000 residents")),
    (re.compile(r"(?P<value>\S+) crimes per 1,000 residents a year"), N_("%(value)s crimes per 1,000 residents a year")),
    (re.compile(r"(?P<value>\S+) on the previous 12 months"), N_("%(value)s on the previous 12 months")),
    (re.compile(r"(?P<value>\S+) of crimes in the top 10% of LSOAs"), N_("%(value)s of crimes in the top 10%% of LSOAs")),
    (re.compile(r"(?P<value>\S+) of PACT priority votes"), N_("%(value)s of PACT priority votes")),
    (re.compile(r"partner rating (?P<value>\S+)"), N_("partner rating %(value)s")),
]  # fmt: skip
_QUINTILES = {
    "in the top quintile": N_("in the top quintile"),
    "in the second-highest quintile": N_("in the second-highest quintile"),
    "in the middle quintile": N_("in the middle quintile"),
    "in the second-lowest quintile": N_("in the second-lowest quintile"),
    "in the bottom quintile": N_("in the bottom quintile"),
}
_SCORED = re.compile(r"(?P<label>[a-z ]+) (?P<score>[0-5])/5: (?P<rest>.+)")
_NO_VALUE = re.compile(r"no value supplied for (?P<measure>\w+), scored 0")
_QUINTILE = re.compile(r"(?P<text>.+) is (?P<where>in the [a-z-]+ quintile) of the (?P<n>\d+) types scored")
_BAND = re.compile(
    r"(?P<text>.+) is (?:below (?P<below>\S+)|at least (?P<least>\S+?)(?: and below (?P<under>\S+))?)"
)


def _described(text: str) -> str | None:
    for shape, message in _DESCRIBED:
        m = shape.fullmatch(text)
        if m:
            return _(message, **m.groupdict())
    return None


def _criterion_words(part: str) -> str:
    """One criterion's reason ("volume 3/5: 4.2 crimes per 1,000 residents a year is at least 2.5 and
    below 5"), rebuilt in the request's language; as it came if its shape is unknown."""
    m = _SCORED.fullmatch(part)
    if not m or m["label"] not in _CRITERIA:
        return part
    label, score, rest = _(_CRITERIA[m["label"]]), m["score"], m["rest"]
    if no_value := _NO_VALUE.fullmatch(rest):
        return _(
            "%(label)s 0/5: no value supplied (%(measure)s), scored 0",
            label=label,
            measure=no_value["measure"],
        )
    if q := _QUINTILE.fullmatch(rest):
        text, where = _described(q["text"]), _QUINTILES.get(q["where"])
        if text is None or where is None:
            return part
        band = _("%(where)s of the %(n)s types scored", where=_(where), n=number(int(q["n"])))
    elif b := _BAND.fullmatch(rest):
        text = _described(b["text"])
        if text is None:
            return part
        if b["below"]:
            band = _("below %(x)s", x=b["below"])
        elif b["under"]:
            band = _("at least %(x)s and below %(y)s", x=b["least"], y=b["under"])
        else:
            band = _("at least %(x)s", x=b["least"])
    else:  # a rating, perhaps with the partner's note (their words, as written)
        note = re.fullmatch(r"(?P<text>partner rating \S+)(?: \((?P<note>.*)\))?", rest)
        text = _described(note["text"]) if note else None
        if text is None:
            return part
        words = _("%(label)s %(score)s/5: %(text)s", label=label, score=score, text=text)
        return f"{words} ({note['note']})" if note["note"] else words
    return _("%(label)s %(score)s/5: %(text)s is %(band)s", label=label, score=score, text=text, band=band)


def morile_words(reasons: str) -> str:
    """The reasons of a candidate priority's score (``score_priorities``' "; "-joined sentences),
    each in the request's language."""
    # Split before each criterion's label only: a partner's note may itself hold "; ".
    labels = "|".join(re.escape(k) for k in _CRITERIA)
    parts = re.split(rf"; (?=(?:{labels}) [0-5]/5: )", reasons or "")
    return "; ".join(_criterion_words(p) for p in parts)


# --- the dashboard map's tooltips ---------------------------------------------------------------------
_MAP_TITLE = re.compile(
    r"<title>(?P<name>[^<]*?) \((?P<code>[EW]01\d{6})\): (?:(?P<rate>[\d,.]+) per 1,000|no population)"
    r"(?P<hot> - hot spot)?</title>"
)


def map_titles(svg: str) -> str:
    """The tooltips of :func:`diogel.portal.views.choropleth_svg` (one per LSOA: name, code, rate,
    hot spot) in the request's language; the map itself is shared by every language."""

    def words(m: re.Match[str]) -> str:
        what = _("%(rate)s per 1,000", rate=m["rate"]) if m["rate"] else _("no population")
        text = f"{m['name']} ({m['code']}): {what}"
        return "<title>" + (text + " - " + _("hot spot") if m["hot"] else text) + "</title>"

    return _MAP_TITLE.sub(words, svg or "")


# --- why a file was refused -----------------------------------------------------------------------------
#: The sentences the readers give when they refuse a whole file, as catalogue messages: those of
#: diogel.sources._text (CSV text), diogel.sources.files (archives) and the partner reader (workbooks,
#: schemas), word for word; file names, columns and values stay as they came.
_REFUSALS: list[str] = [
    N_("the file is empty: there is no header and no data"),
    N_("this is not a CSV text file: it looks like %(what)s"),
    N_("this is not a CSV text file: it contains NUL bytes (binary data)"),
    N_("this looks like UTF-16 text without a byte-order mark: save it as UTF-8 (CSV UTF-8 in Excel)"),
    N_("the file starts as %(codec)s but is not valid %(codec)s text"),
    N_("the file is neither UTF-8 nor Windows-1252 text (byte %(byte)s)"),
    N_("not readable as CSV (%(why)s)"),
    N_("wrong header: no column for %(missing)s (found: %(found)s)"),
    N_("wrong header: column %(column)s appears twice"),
    N_("wrong header: required column %(missing)s missing for schema %(schema)s"),
    N_("wrong header: required columns %(missing)s missing for schema %(schema)s"),
    N_(
        "a field of %(n)s characters, over the limit of %(limit)s: a quote left open, or not a CSV file of this"
        " kind; the file is refused"
    ),
    N_("not a readable zip archive"),
    N_("the member is encrypted (password-protected): save it unprotected"),
    N_("unsafe member path %(name)s: refusing the archive"),
    N_("no %(kind)s files in the archive (looked for %(patterns)s)"),
    N_("not a CSV file or a readable .xlsx workbook (%(why)s)"),
    N_("this is an old Excel (.xls) workbook: save it as .xlsx or CSV"),
    N_("the workbook's first sheet is empty: there is no header and no data"),
    N_("the first row of the first sheet is empty: it must be the header"),
]


def _shape(message: str) -> re.Pattern[str]:
    """The English sentence a catalogue message was written from, as a pattern: its text as it is,
    each ``%(name)s`` any text (the same text where a name comes again)."""
    pattern, named = "", set()
    for i, part in enumerate(re.split(r"%\((\w+)\)s", message)):
        if i % 2 == 0:
            pattern += re.escape(part)
        else:
            pattern += f"(?P={part})" if part in named else f"(?P<{part}>.+?)"
            named.add(part)
    return re.compile(pattern, re.S)


_REFUSAL_SHAPES = [(_shape(message), message) for message in _REFUSALS]
#: What the CSV reader says a refused file looks like (diogel.sources._text).
_LOOKS_LIKE = {
    "a ZIP archive (or an .xlsx workbook)": N_("a ZIP archive (or an .xlsx workbook)"),
    "an old Excel/Office document": N_("an old Excel/Office document"),
    "a PDF document": N_("a PDF document"),
    "a gzip file": N_("a gzip file"),
    "a PNG image": N_("a PNG image"),
    "a Parquet file": N_("a Parquet file"),
    "an SQLite database": N_("an SQLite database"),
}
#: Where a refusal points (:class:`diogel.errors.InputError`): the file, perhaps a line, perhaps a column.
_WHERE = re.compile(
    r"(?P<file>[^:]*?)(?P<line>:\d+)?(?:: column '(?P<column>[^']*)')?: (?P<message>.+)", re.S
)


_HEADER = re.compile(r"wrong header: (?P<parts>.+)\. Expected: (?P<expected>.*)", re.S)
_HEADER_PARTS = {"missing": N_("missing %(columns)s"), "unexpected": N_("unexpected %(columns)s")}


def _header_words(message: str) -> str | None:
    """The police.uk reader's "wrong header: missing ...; unexpected ...; repeated column names.
    Expected: ..." in the request's language (the column names as they came), or None."""
    m = _HEADER.fullmatch(message)
    if not m:
        return None
    parts = []
    for part in m["parts"].split("; "):
        head, _sep, columns = part.partition(" ")
        if part == "repeated column names":
            parts.append(_("repeated column names"))
        elif head in _HEADER_PARTS and columns:
            parts.append(_(_HEADER_PARTS[head], columns=columns))
        else:
            return None
    return _(
        "wrong header: %(parts)s. Expected: %(expected)s", parts="; ".join(parts), expected=m["expected"]
    )


def _reason_of_refusal(message: str) -> str | None:
    for shape, words in _REFUSAL_SHAPES:
        reason = shape.fullmatch(message)
        if reason:
            values = reason.groupdict()
            if "what" in values and values["what"] in _LOOKS_LIKE:
                values["what"] = _(_LOOKS_LIKE[values["what"]])
            return _(words, **values)
    return _header_words(message)


def refusal_words(text: str) -> str:
    """Why a file was refused (``<file>[:line][: column 'c']: <reason>``, as an upload's result holds
    it) in the request's language; a sentence of another shape is looked up whole in the catalogue
    (the portal's own messages) and otherwise shown as it came."""
    m = _WHERE.fullmatch(text or "")
    reason = _reason_of_refusal(m["message"]) if m else None
    if m is None or reason is None:
        return _(text) if text else text
    where = m["file"] + (m["line"] or "")
    if m["column"] is not None:
        where += ": " + _("column '%(column)s'", column=m["column"])
    return where + ": " + reason
