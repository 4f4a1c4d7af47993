"""Partner values under a schema: reading them (text, dates, periods, booleans) and checking them.

:func:`validate_frame` checks a frame against a :class:`~diogel.sources.partner.schema.Schema` row by row
and returns one :class:`Problem` per bad cell so the ingest can quarantine rows with their line numbers.
The schema itself (what a dataset holds and how each personal field is treated) is
:mod:`diogel.sources.partner.schema`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from diogel.sources.partner.identifiers import is_uk_phone, is_valid_nhs_number
from diogel.sources.partner.schema import Field, Schema

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_NUM_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_QUARTER_RE = re.compile(r"^(\d{4})\s*-?\s*Q([1-4])$", re.IGNORECASE)
_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
# Day-first formats used by UK partner systems; tried after ISO 8601 when a field gives no format.
_UK_FORMATS = (
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d-%m-%Y",
    "%d-%m-%Y %H:%M",
    "%d.%m.%Y",
    "%d/%m/%y",
)


@dataclass(frozen=True)
class Problem:
    """One bad cell: ``row`` is the frame's index label (None for a whole-column problem)."""

    row: Hashable | None
    column: str
    reason: str


# ----------------------------------------------------------------------------------------------------
# Parsing values


def as_text(series: pd.Series) -> pd.Series:
    """Values as stripped strings with missing and blank values as ``pd.NA`` (object dtype).

    Whole-number floats (what pandas makes of an integer column with blanks) print without ``.0``.
    """

    def one(v: Any) -> Any:
        if v is None or v is pd.NA or v is pd.NaT:
            return pd.NA
        if isinstance(v, float):
            if np.isnan(v):
                return pd.NA
            if v.is_integer():
                return str(int(v))
        text = str(v).strip()
        return text if text else pd.NA

    return series.map(one).astype(object)


def parse_datetimes(series: pd.Series, fmt: str | None = None) -> pd.Series:
    """Parse dates or date-times: ``fmt`` if given, else ISO 8601 then UK day-first forms; NaT if not."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    text = as_text(series)
    if fmt is not None:
        return pd.to_datetime(text, format=fmt, errors="coerce")
    out = pd.to_datetime(text, format="ISO8601", errors="coerce")
    for f in _UK_FORMATS:
        todo = out.isna() & text.notna()
        if not todo.any():
            break
        out = out.where(~todo, pd.to_datetime(text.where(todo), format=f, errors="coerce"))
    return out


def parse_period(series: pd.Series, resolution: str, fmt: str | None = None) -> pd.Series:
    """Parse a time field at its resolution to the start of its period (NaT when unparseable).

    ``month`` also accepts ``YYYY-MM``; ``quarter`` accepts ``YYYY-Qn`` / ``YYYYQn`` and dates.
    """
    text = as_text(series)
    parsed = parse_datetimes(series, fmt)
    if resolution in ("month", "quarter"):
        month = text.map(lambda v: _month_start(v) if isinstance(v, str) else pd.NaT)
        parsed = parsed.where(parsed.notna(), pd.to_datetime(month, errors="coerce"))
        if resolution == "quarter":
            quarter = text.map(lambda v: _quarter_start(v) if isinstance(v, str) else pd.NaT)
            parsed = parsed.where(parsed.notna(), pd.to_datetime(quarter, errors="coerce"))
            parsed = parsed.dt.to_period("Q").dt.start_time
        else:
            parsed = parsed.dt.to_period("M").dt.start_time
    elif resolution == "date":
        parsed = parsed.dt.normalize()
    return parsed


def _month_start(v: str) -> Any:
    m = _MONTH_RE.match(v)
    if m and 1 <= int(m.group(2)) <= 12:
        return pd.Timestamp(int(m.group(1)), int(m.group(2)), 1)
    return pd.NaT


def _quarter_start(v: str) -> Any:
    m = _QUARTER_RE.match(v)
    if m:
        return pd.Timestamp(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
    return pd.NaT


def parse_booleans(series: pd.Series) -> pd.Series:
    """true/false, yes/no, y/n, t/f, 1/0 (any case) to a nullable boolean; anything else is NA."""
    text = as_text(series)
    lower = text.map(lambda v: v.lower() if isinstance(v, str) else v)
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[lower.isin(_TRUE)] = True
    out[lower.isin(_FALSE)] = False
    return out


# ----------------------------------------------------------------------------------------------------
# Validating a frame


def validate_frame(schema: Schema, frame: pd.DataFrame, today: dt.date | None = None) -> list[Problem]:
    """Check every declared column of ``frame`` against ``schema``.

    Reports, at most once per (row, column) and in this order of precedence: missing required value,
    bad type (not an integer / number / time / boolean), unparseable date, date in the future (after
    ``today``, default the current date), an NHS or phone number in a number column, value not allowed,
    regex mismatch. A required column that is absent is one problem with ``row=None``. Columns the schema
    does not declare are not checked. A reason names the rule and never quotes the value.

    Returns
    -------
    list of Problem, ordered by row position then by the schema's field order.
    """
    today = today or dt.date.today()
    found: dict[tuple[int, int], Problem] = {}
    whole: list[Problem] = []
    for order, f in enumerate(schema.fields):
        if f.name not in frame.columns:
            if f.required:
                whole.append(Problem(None, f.name, f"required column '{f.name}' is missing"))
            continue
        bad = _field_problems(schema, f, frame[f.name], today)
        for pos, reason in bad.items():
            found[(pos, order)] = Problem(frame.index[pos], f.name, reason)
    return whole + [found[k] for k in sorted(found)]


def _field_problems(schema: Schema, f: Field, col: pd.Series, today: dt.date) -> dict[int, str]:
    """Row position -> first problem of one column (see :func:`validate_frame` for the order)."""
    end_of_today = pd.Timestamp(today) + pd.Timedelta(days=1)
    text = as_text(col)
    missing = text.isna().to_numpy()
    bad: dict[int, str] = {}

    def mark(mask: np.ndarray, reason_for) -> None:
        for pos in np.flatnonzero(mask):
            bad.setdefault(int(pos), reason_for(int(pos)))

    if f.required:
        mark(missing, lambda _p: "required value is missing")
    present = ~missing
    values = text.to_numpy()
    # Reasons end up in quarantine reports, upload results and the CLI's output, which analysts of other
    # agencies read: they name the rule, never the value (a value that breaks a rule may be anything a
    # careless partner typed, such as a name in a category column).

    if f.type == "integer":
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
            ok = np.isfinite(num) & (np.mod(num, 1) == 0)
        else:
            ok = np.array([bool(_INT_RE.match(v)) if isinstance(v, str) else True for v in values])
        mark(present & ~ok, lambda p: "the value is not a whole number")
    elif f.type == "number":
        ok = np.array([bool(_NUM_RE.match(v)) if isinstance(v, str) else True for v in values])
        mark(present & ~ok, lambda p: "the value is not a number")
    elif f.type == "time":
        ok = np.array([bool(_TIME_RE.match(v)) if isinstance(v, str) else True for v in values])
        mark(present & ~ok, lambda p: "the value is not a time of day (HH:MM or HH:MM:SS)")
    elif f.type == "boolean":
        ok = parse_booleans(col).notna().to_numpy()
        mark(present & ~ok, lambda p: "the value is not true/false or yes/no")
    elif f.type in ("date", "datetime"):
        if schema.time is not None and schema.time.field == f.name:
            parsed = parse_period(col, schema.time.resolution, f.format)
        else:
            parsed = parse_datetimes(col, f.format)
        unparsed = parsed.isna().to_numpy()
        expect = f"format {f.format}" if f.format else "an ISO or dd/mm/yyyy date"
        mark(present & unparsed, lambda p: f"the value is not a date ({expect})")
        future = (parsed >= end_of_today).fillna(False).to_numpy(dtype=bool)
        mark(present & future, lambda p: f"the date is in the future (after {today.isoformat()})")

    if f.type in ("integer", "number"):
        # A count never has ten or more digits that pass the NHS check or dial as a UK phone number; stored
        # as a number, such a value would keep the identifier's digits.
        ident = np.array(
            [
                isinstance(v, str)
                and len(re.sub(r"\D", "", v)) >= 10
                and (is_valid_nhs_number(v) or is_uk_phone(v))
                for v in values
            ],
            dtype=bool,
        )
        mark(present & ident, lambda p: "the value looks like an NHS or phone number, not a number")

    if f.allowed is not None:
        if f.type == "integer":
            allowed_set = {str(a) for a in f.allowed}
            ok = np.array([v in allowed_set if isinstance(v, str) else True for v in values])
        else:
            allowed_set = {str(a).casefold() for a in f.allowed}
            ok = np.array([v.casefold() in allowed_set if isinstance(v, str) else True for v in values])
        shown = ", ".join(f"'{a}'" for a in f.allowed[:12])
        more = ", ..." if len(f.allowed) > 12 else ""
        mark(present & ~ok, lambda p: f"the value is not allowed; expected one of {shown}{more}")
    if f.pattern is not None:
        rx = re.compile(f.pattern)
        ok = np.array([bool(rx.fullmatch(v)) if isinstance(v, str) else True for v in values])
        mark(present & ~ok, lambda p: f"the value does not match the pattern {f.pattern}")

    return bad


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a frame with columns ``row``, ``column``, ``reason`` (for quarantine tables)."""
    return pd.DataFrame(
        {
            "row": [p.row for p in problems],
            "column": [p.column for p in problems],
            "reason": [p.reason for p in problems],
        }
    )
