"""Reading one partner file as sent: a CSV (UTF-8 or Windows-1252) or the first sheet of an ``.xlsx``.

The first step of :func:`diogel.sources.partner.ingest.read_partner`: the file becomes a frame of stripped
strings indexed by line number, its header matched to the schema's field names (ignoring case, spaces,
punctuation and diacritics; a header in Welsh or other words for a kind of personal data matches the
treated field of that kind). Rows are never kept as sent: a malformed row's quarantine ``raw`` is
:data:`REDACTED_RAW`.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pandas as pd

from diogel.errors import InputError
from diogel.sources._text import read_text_table
from diogel.sources.files import check_zip_declared
from diogel.sources.partner.detect import header_label, kind_by_name, snake
from diogel.sources.partner.schema import Schema
from diogel.sources.partner.values import as_text
from diogel.sources.registry import Quarantined

REDACTED_RAW = "[withheld: partner rows are never stored as sent]"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_ZIP_MAGIC = b"PK\x03\x04"


def _match_names(path: str, header: list[str], schema: Schema) -> list[str]:
    """Schema field names for the header (ignoring case, spaces, punctuation and diacritics); others keep
    their name.

    A header in Welsh or other words that names a kind of personal data (``Rhif GIG``, ``Enw llawn``,
    ``Dyddiad geni``, ``Cod post``) matches the one treated schema field whose name says the same kind
    (``nhs_number``, ``patient_name``, ``date_of_birth``, ``home_postcode``), so it gets that treatment.
    """
    by_key = {snake(f.name): f.name for f in schema.fields}
    by_kind: dict[str, list[str]] = {}
    for f in schema.fields:
        kind = kind_by_name(f.name)
        if kind is not None and f.treatment is not None and f.treatment.method != "keep":
            by_kind.setdefault(kind, []).append(f.name)
    exact = {by_key[snake(str(h))] for h in header if h is not None and snake(str(h)) in by_key}
    names: list[str] = []
    for i, h in enumerate(header):
        text = str(h).strip() if h is not None else ""
        if not text:
            names.append(f"(unnamed column {i + 1})")
            continue
        name = by_key.get(snake(text))
        if name is None:
            kind = kind_by_name(text)
            candidates = [c for c in by_kind.get(kind, []) if c not in exact] if kind is not None else []
            name = candidates[0] if len(candidates) == 1 else text
        names.append(name)
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            raise InputError(
                path,
                f"wrong header: column {header_label(n)} appears twice",
                line=1,
                column=column_label(header[i]),
            )
        seen.add(n)
    return names


def column_label(column: Any) -> str:
    """The column as an InputError names it: withheld when the header itself looks personal."""
    label = header_label(column)
    return label[1:-1] if label.startswith(("'", '"')) else label


def _read_csv(path: str, data: bytes, schema: Schema) -> tuple[pd.DataFrame, Quarantined, int]:
    resolved: list[str] = []

    def resolve(header: list[str]) -> list[str | None]:
        resolved[:] = _match_names(path, header, schema)
        return list(resolved)

    text = read_text_table(path, data, resolve=resolve)
    frame = text.table.to_pandas()
    frame = frame.set_index("line")
    malformed = Quarantined()
    for line, column, reason in zip(
        text.malformed.line, text.malformed.column, text.malformed.reason, strict=True
    ):
        malformed.add(line, column, reason, REDACTED_RAW)
    return frame, malformed, text.rows_read


def _cell_text(v: Any) -> str:
    """An Excel cell as the text a CSV export would hold (dates ISO, whole numbers without .0)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        if (v.hour, v.minute, v.second) == (0, 0, 0):
            return v.strftime("%Y-%m-%d")
        return v.strftime("%Y-%m-%d %H:%M:%S" if v.second else "%Y-%m-%d %H:%M")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.strftime("%H:%M:%S" if v.second else "%H:%M")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_xlsx(path: str, data: bytes, schema: Schema) -> tuple[pd.DataFrame, Quarantined, int]:
    """The first worksheet: row 1 is the header; line numbers are the sheet's row numbers."""
    from openpyxl import load_workbook  # only for workbooks: openpyxl is slow to import

    check_zip_declared(data, path)  # a workbook is a zip: the same decompression limit as any archive
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a zip that is not a workbook
        raise InputError(
            path, f"not a CSV file or a readable .xlsx workbook ({type(exc).__name__})", line=1
        ) from None
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header_cells = next(rows, None)
        if header_cells is None:
            raise InputError(path, "the workbook's first sheet is empty: there is no header and no data")
        header = [_cell_text(c) for c in header_cells]
        while header and not header[-1].strip():
            header.pop()  # Excel often reports formatted but empty cells past the last column
        if not header:
            raise InputError(path, "the first row of the first sheet is empty: it must be the header", line=1)
        names = _match_names(path, header, schema)
        width = len(names)
        values: list[list[str]] = []
        lines: list[int] = []
        malformed = Quarantined()
        rows_read = 0
        for number, cells in enumerate(rows, start=2):
            texts = [_cell_text(c) for c in cells]
            if not any(t.strip() for t in texts):
                continue  # an empty row is not a row
            rows_read += 1
            extra = [t for t in texts[width:] if t.strip()]
            if extra:
                malformed.add(
                    number,
                    None,
                    f"expected {width} fields, found {width + len(extra)} (values beyond the header)",
                    REDACTED_RAW,
                )
                continue
            texts = (texts + [""] * width)[:width]
            values.append(texts)
            lines.append(number)
    finally:
        wb.close()
    frame = pd.DataFrame(values, columns=names, index=pd.Index(lines, name="line"), dtype=object)
    return frame, malformed, rows_read


def read_file(path: str, data: bytes, schema: Schema) -> tuple[pd.DataFrame, Quarantined, int]:
    """The file as a frame of stripped strings (``pd.NA`` for blanks) indexed by line number."""
    if data.startswith(_ZIP_MAGIC):
        frame, malformed, rows_read = _read_xlsx(path, data, schema)
    elif data.startswith(_OLE_MAGIC):
        raise InputError(path, "this is an old Excel (.xls) workbook: save it as .xlsx or CSV", line=1)
    else:
        frame, malformed, rows_read = _read_csv(path, data, schema)
    if len(frame) and len(frame.columns):
        frame = frame.apply(as_text)
    unnamed = [c for c in frame.columns if c.startswith("(unnamed column ")]
    empty = [c for c in unnamed if frame[c].isna().all()]
    return frame.drop(columns=empty), malformed, rows_read
