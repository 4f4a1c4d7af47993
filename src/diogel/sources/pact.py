"""PACT (Partners and Communities Together) meeting priorities: what residents voted to tackle.

One row per issue raised at a meeting: the meeting date, where the meeting was (a neighbourhood
name, an LSOA code, or both), the issue theme as minuted ("ASB", "drug dealing", "speeding") and
the votes it received. Themes are kept as written; the strategic assessment maps them to police.uk
crime types (:data:`diogel.analysis.priorities.DEFAULT_THEME_TO_CRIME_TYPE`) and lists any theme
it cannot map, so nothing a community said is silently dropped.

Dates may be ISO (``2024-09-12``) or the UK day-first form Excel writes (``12/09/2024``). A later
file that holds the same meeting (date and place) replaces the earlier one's rows for it, so a
re-exported PACT log is never double counted.
"""

from __future__ import annotations

import pyarrow as pa

from diogel.sources._text import header_resolver, read_text_table
from diogel.sources._validate import Rule, apply_rules, current_month, q
from diogel.sources.registry import ParsedFile, SourceKind, register

SCHEMA = pa.schema(
    [
        pa.field("meeting_date", pa.date32()),
        pa.field("neighbourhood", pa.string()),
        pa.field("lsoa_code", pa.string()),
        pa.field("theme", pa.string()),
        pa.field("votes", pa.int64()),
        pa.field("line", pa.int64()),
        pa.field("slice_key", pa.string()),
    ]
)

PATTERNS = {
    "meeting_date": r"(pact[ _])?(meeting[ _]?)?date|date[ _]of[ _]meeting",
    "neighbourhood": r"neighbou?rhood([ _]name)?|ward([ _]name)?|area",
    "lsoa_code": r"lsoa([ _]?(11|21|2011|2021))?[ _]?(code|cd)?",
    "theme": r"(issue[ _]?)?theme|issue|priority",
    "votes": r"votes?|vote[ _]count|number[ _]of[ _]votes",
}

# ISO first, then the day-first forms UK spreadsheets produce; never month-first (US) dates.
_DATE = (
    "COALESCE(TRY_STRPTIME(trim({c}), '%Y-%m-%d'), TRY_STRPTIME(trim({c}), '%d/%m/%Y'), "
    "TRY_STRPTIME(trim({c}), '%d-%m-%Y'))"
)


def _rules() -> list[Rule]:
    date = _DATE.format(c=q("meeting_date"))
    place = f"(trim({q('neighbourhood')}) = '' AND trim({q('lsoa_code')}) = '')"
    votes = f"TRY_CAST(trim({q('votes')}) AS BIGINT)"
    return [
        Rule("meeting_date", f"trim({q('meeting_date')}) = ''", "'the meeting date is blank'"),
        Rule(
            "meeting_date",
            f"{date} IS NULL",
            f"'''' || {q('meeting_date')} || ''' is not a date (use YYYY-MM-DD or DD/MM/YYYY)'",
        ),
        Rule(
            "meeting_date",
            f"strftime({date}, '%Y-%m') > '{current_month()}'",
            f"'the meeting date ' || trim({q('meeting_date')}) || ' is in the future'",
        ),
        Rule("neighbourhood", place, "'the row says neither a neighbourhood nor an LSOA code'"),
        Rule(
            "lsoa_code",
            f"trim({q('lsoa_code')}) <> '' AND NOT regexp_full_match(upper(trim({q('lsoa_code')})), '[EW]01[0-9]{{6}}')",
            f"'''' || {q('lsoa_code')} || ''' is not an LSOA code (E01 or W01 and six digits)'",
        ),
        Rule("theme", f"trim({q('theme')}) = ''", "'the issue theme is blank'"),
        Rule(
            "votes",
            f"{votes} IS NULL OR {votes} < 0",
            f"'''' || {q('votes')} || ''' is not a number of votes (a whole number, 0 or more)'",
        ),
    ]


def read(path: str, data: bytes, options: dict | None = None) -> ParsedFile:
    text = read_text_table(
        path, data, resolve=header_resolver(path, PATTERNS, optional=("neighbourhood", "lsoa_code"))
    )
    for c in ("neighbourhood", "lsoa_code"):
        if c not in text.table.column_names:
            text.table = text.table.append_column(c, pa.array([""] * text.table.num_rows, pa.string()))
    date = _DATE.format(c=q("meeting_date"))
    # The slice is one meeting (date and place): a re-exported log replaces, never adds to, it.
    select = f"""CAST({date} AS DATE) AS meeting_date,
        NULLIF(trim(neighbourhood), '') AS neighbourhood,
        NULLIF(upper(trim(lsoa_code)), '') AS lsoa_code,
        trim(theme) AS theme,
        CAST(trim(votes) AS BIGINT) AS votes,
        line,
        'pact|' || strftime(CAST({date} AS DATE), '%Y-%m-%d') || '|'
            || coalesce(NULLIF(upper(trim(lsoa_code)), ''), '') || '|'
            || lower(coalesce(NULLIF(trim(neighbourhood), ''), '')) AS slice_key"""
    rows = apply_rules(text.table, _rules(), select, text.malformed).cast(SCHEMA)
    months: tuple[str | None, str | None] = (None, None)
    if rows.num_rows:
        import pyarrow.compute as pc

        lo, hi = pc.min(rows["meeting_date"]).as_py(), pc.max(rows["meeting_date"]).as_py()
        months = (lo.strftime("%Y-%m"), hi.strftime("%Y-%m"))
    return ParsedFile(rows, text.malformed, text.rows_read, months)


KIND = register(
    SourceKind(
        name="pact",
        table="pact_priorities",
        schema=SCHEMA,
        read=read,
        patterns=("*pact*.csv",),
        description="PACT meeting priorities: meeting date, neighbourhood or LSOA, issue theme, votes",
    )
)
