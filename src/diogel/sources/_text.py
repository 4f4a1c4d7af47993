"""Turning the bytes of a delimited text file into a table of strings with line numbers.

Shared by every CSV source kind. It accepts what analysts really receive: UTF-8 with or without a
byte-order mark, Windows-1252 (Excel's "CSV" on a UK machine), UTF-16 with a byte-order mark
(Excel's "Unicode text"), CRLF line ends, a truncated last line; it quarantines a row with a NUL
byte in a field (a damaged file: the value is never stored); and refuses, with one line naming the
file (and the line and column where there is one), what is not a CSV at all and a field too long
to be one (over :data:`FIELD_LIMIT`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from diogel.errors import InputError
from diogel.sources.registry import Quarantined

#: The longest field read, in characters: the csv module's own default limit (128 KB). No column of
#: any format diogel reads comes near it; a longer field is a broken quote or not a CSV of this kind,
#: and the file is refused, naming the line and column, whichever reader met it.
FIELD_LIMIT = 131_072
# The csv module raises its own error (without a line or column) past its limit: lift it, and
# apply FIELD_LIMIT to the table instead, so both readers refuse the same files the same way.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))

# Byte-order marks of the Unicode encodings other than UTF-8, longest first (UTF-32 LE starts
# with the UTF-16 LE mark).
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)

# Magic numbers of files that turn up renamed as .csv.
_MAGIC = {
    b"PK\x03\x04": "a ZIP archive (or an .xlsx workbook)",
    b"\xd0\xcf\x11\xe0": "an old Excel/Office document",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip file",
    b"\x89PNG": "a PNG image",
    b"PAR1": "a Parquet file",
    b"SQLite format 3": "an SQLite database",
}


@dataclass
class TextTable:
    """The data rows of a CSV as strings, with 1-based file line numbers and the encoding found."""

    table: pa.Table
    malformed: Quarantined
    rows_read: int
    encoding: str


def _refuse_non_text(path: str, data: bytes) -> None:
    """Refuse, in one line, an empty file or one that is plainly not text.

    A file whose first 64 KB are more than 1% NUL bytes is binary (or UTF-16 without a byte-order
    mark); a stray NUL in a text file only costs its row (see :func:`_quarantine_nul_rows`).
    """
    if not data or data.isspace():
        raise InputError(path, "the file is empty: there is no header and no data")
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise InputError(path, f"this is not a CSV text file: it looks like {what}", line=1)
    sample = data[:65536]
    nuls = sample.count(0)
    if nuls * 100 > len(sample):
        # Text in UTF-16 has a NUL in every other byte (the high byte of each ASCII character).
        odd, even = sample[1::2].count(0), sample[0::2].count(0)
        if max(odd, even) * 3 > len(sample) and min(odd, even) * 20 < len(sample):
            raise InputError(
                path,
                "this looks like UTF-16 text without a byte-order mark: save it as UTF-8 (CSV UTF-8 in Excel)",
                line=1,
            )
        raise InputError(path, "this is not a CSV text file: it contains NUL bytes (binary data)", line=1)


def _from_unicode_bom(path: str, data: bytes) -> tuple[bytes, str | None]:
    """UTF-16 or UTF-32 with a byte-order mark, as UTF-8 bytes, and the encoding found (else None).

    A lone byte or two cut off at the very end (a truncated download) is dropped, as a truncated
    last line is elsewhere; an undecodable sequence anywhere else refuses the file, naming its line.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            try:
                text = body.decode(codec)
            except UnicodeDecodeError as exc:
                if exc.end >= len(body) and exc.reason in ("truncated data", "unexpected end of data"):
                    text = body[: exc.start].decode(codec)
                else:
                    line = body[: exc.start].decode(codec, errors="replace").count("\n") + 1
                    raise InputError(
                        path,
                        f"the file starts as {codec.upper()} but is not valid {codec.upper()} text",
                        line=line,
                    ) from None
            return text.encode("utf-8"), codec
    return data, None


def decode(path: str, data: bytes) -> tuple[str, str]:
    """Return the text of ``data`` and the encoding used.

    UTF-8 (a leading byte-order mark is dropped) is tried first; a file that is not valid UTF-8 is
    read as Windows-1252, the encoding Excel writes on UK machines. UTF-16 and UTF-32 are read when
    the file starts with their byte-order mark.
    """
    data, unicode = _from_unicode_bom(path, data)
    if unicode:
        _refuse_non_text(path, data)
        return data.decode("utf-8"), unicode
    _refuse_non_text(path, data)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            path, f"the file is neither UTF-8 nor Windows-1252 text (byte 0x{data[exc.start]:02x})", line=line
        ) from None


def read_text_table(
    path: str,
    data: bytes,
    expected: Sequence[str] | None = None,
    resolve: Callable[[list[str]], list[str | None]] | None = None,
) -> TextTable:
    """Read a CSV whose header must hold exactly the ``expected`` columns (in any order).

    Header names are matched ignoring case and surrounding spaces and are returned in the expected
    spelling. Formats whose headers vary between publishers pass ``resolve`` instead: it maps the
    header to canonical names (``None`` drops a column) and raises ``InputError`` itself.
    A row with the wrong number of fields (such as a truncated last line) or with a NUL byte in a
    field is not fatal: it is returned in ``malformed`` with its line number, so the rest of the
    file still loads. A field over :data:`FIELD_LIMIT` characters refuses the file.
    """
    data, unicode = _from_unicode_bom(path, data)
    result = _read_table(path, data, expected, resolve)
    if unicode:
        result.encoding = unicode
    if b"\x00" in data:
        _quarantine_nul_rows(result)
    return result


def _read_table(
    path: str,
    data: bytes,
    expected: Sequence[str] | None,
    resolve: Callable[[list[str]], list[str | None]] | None,
) -> TextTable:
    plain, tried = _read_plain_utf8(path, data, expected, resolve)
    if plain is not None:
        return plain
    text, encoding = decode(path, data)
    if "\n" not in text and "\r" in text:
        # "CSV (Macintosh)" from Excel for Mac ends lines with a bare CR.
        text = text.replace("\r", "\n")
        data = text.encode("utf-8")
    header_line = text.split("\n", 1)[0].rstrip("\r")
    header = next(csv.reader([header_line]))
    columns = _columns(path, header, expected, resolve)
    body = text.encode("utf-8") if encoding != "utf-8" or data.startswith(b"\xef\xbb\xbf") else data
    # Arrow already failed on these very bytes in _read_plain_utf8: go straight to the exact reader.
    fast = None if tried and encoding == "utf-8" else _read_fast(path, body, columns)
    if fast is not None:
        result = TextTable(fast, Quarantined(), fast.num_rows, encoding)
    else:
        try:
            result = _read_exact(text, columns, encoding)
        except csv.Error as exc:  # none is known to remain; a last guard so it is still one line
            raise InputError(path, f"not readable as CSV ({' '.join(str(exc).split())[:200]})") from None
        _refuse_long_fields(path, result.table)
    ignored = [c for c in columns if c.startswith("_ignored_")]
    if ignored:
        result.table = result.table.drop_columns(ignored)
    return result


def _columns(
    path: str,
    header: list[str],
    expected: Sequence[str] | None,
    resolve: Callable[[list[str]], list[str | None]] | None,
) -> list[str]:
    if resolve is not None:
        resolved = resolve(header)
        return [c if c is not None else f"_ignored_{i}" for i, c in enumerate(resolved)]
    return _match_header(path, header, expected or ())


def _read_plain_utf8(
    path: str,
    data: bytes,
    expected: Sequence[str] | None,
    resolve: Callable[[list[str]], list[str | None]] | None,
) -> tuple[TextTable | None, bool]:
    """The common case without decoding the file into a Python string first.

    Applies when the header line is ASCII, lines end in LF or CRLF and Arrow parses every record
    as one line; Arrow checks that every field is valid UTF-8, so the result is exactly what the
    general path gives for such a file. Anything else (including a wrong header, so that an
    encoding problem is still reported first) returns None and takes the general path; the flag
    says whether Arrow was tried on the bytes.
    """
    _refuse_non_text(path, data)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    end = data.find(b"\n")  # not data.split(): that copies the whole rest of the file
    first = data[:end]
    if end < 0 or not first.isascii():
        return None, False
    header = next(csv.reader([first.decode("ascii").rstrip("\r")]))
    try:
        columns = _columns(path, header, expected, resolve)
    except InputError:
        return None, False
    table = _read_fast(path, data, columns)
    if table is None:
        return None, True
    result = TextTable(table, Quarantined(), table.num_rows, "utf-8")
    ignored = [c for c in columns if c.startswith("_ignored_")]
    if ignored:
        result.table = result.table.drop_columns(ignored)
    return result, True


def header_resolver(
    path: str, patterns: dict[str, str], optional: Sequence[str] = ()
) -> Callable[[list[str]], list[str | None]]:
    """Build a ``resolve`` for :func:`read_text_table` from canonical name -> regular expression.

    Each expression is matched, ignoring case, against the whole of each header name. Columns that
    match nothing are dropped; a canonical column not found (and not ``optional``) is an error
    naming it and the header found.
    """
    compiled = {k: re.compile(v, re.IGNORECASE) for k, v in patterns.items()}

    def resolve(header: list[str]) -> list[str | None]:
        out: list[str | None] = []
        seen: set[str] = set()
        for h in header:
            name = next((k for k, rx in compiled.items() if k not in seen and rx.fullmatch(h.strip())), None)
            if name:
                seen.add(name)
            out.append(name)
        missing = [k for k in patterns if k not in seen and k not in optional]
        if missing:
            raise InputError(
                path,
                f"wrong header: no column for {', '.join(missing)} (found: {', '.join(map(_shown, header))})",
                line=1,
                column=missing[0],
            )
        return out

    return resolve


def _match_header(path: str, header: list[str], expected: Sequence[str]) -> list[str]:
    want = {e.strip().casefold(): e for e in expected}
    got = [h.strip().casefold() for h in header]
    missing = [want[w] for w in want if w not in got]
    extra = [h for h, g in zip(header, got, strict=True) if g not in want]
    if missing or extra or len(set(got)) != len(got):
        parts = []
        if missing:
            parts.append("missing " + ", ".join(f"'{m}'" for m in missing))
        if extra:
            parts.append("unexpected " + ", ".join(f"'{_shown(x)}'" for x in extra))
        if len(set(got)) != len(got):
            parts.append("repeated column names")
        first = (missing or extra or [None])[0]
        raise InputError(
            path,
            "wrong header: " + "; ".join(parts) + ". Expected: " + ",".join(expected),
            line=1,
            column=_shown(first) if first is not None else None,
        )
    return [want[g] for g in got]


def _read_fast(path: str, body: bytes, columns: list[str]) -> pa.Table | None:
    """Parse with Arrow; return None when line numbers cannot be inferred from record order."""
    bad: list[object] = []

    def on_invalid(row: object) -> str:
        bad.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=columns, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in columns}, strings_can_be_null=False
            ),
        )
    except pa.ArrowException:  # the exact reader takes the file and says what is wrong
        return None
    if bad:
        return None
    # Every record is one physical line when the record count matches the line count; otherwise a
    # quoted field spans lines and the exact reader must number them.
    lines = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    if table.num_rows != lines - 1:
        return None
    table = table.append_column("line", pa.array(range(2, table.num_rows + 2), pa.int64()))
    _refuse_long_fields(path, table)
    return table


def _data_columns(table: pa.Table) -> list[str]:
    """The string columns that are kept (not ``line``, not a dropped ``_ignored_`` column)."""
    return [
        c
        for c in table.column_names
        if c != "line" and not c.startswith("_ignored_") and pa.types.is_string(table.schema.field(c).type)
    ]


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _shown(name: str, limit: int = 60) -> str:
    """A header name fit for a one-line message: control characters escaped, long names cut."""
    name = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", name)
    return name if len(name) <= limit else name[: limit - 3] + "..."


def _refuse_long_fields(path: str, table: pa.Table) -> None:
    """Refuse the file if any field is over :data:`FIELD_LIMIT` characters, naming the first one."""
    first: tuple[int, str, int] | None = None
    for name in _data_columns(table):
        # Bytes first: a field has no more characters than bytes, and the byte lengths come
        # straight from Arrow's offsets (well under a millisecond for a 20 MB file).
        if (pc.max(pc.binary_length(table.column(name))).as_py() or 0) <= FIELD_LIMIT:
            continue
        lengths = pc.utf8_length(table.column(name))
        longest = pc.max(lengths).as_py()
        if longest is None or longest <= FIELD_LIMIT:
            continue
        at = pc.index(pc.greater(lengths, FIELD_LIMIT), True).as_py()
        line = table.column("line")[at].as_py()
        if first is None or line < first[0]:
            first = (line, name, pc.utf8_length(table.column(name)[at]).as_py())
    if first is not None:
        line, name, n = first
        raise InputError(
            path,
            f"a field of {n:,} characters, over the limit of {FIELD_LIMIT:,}: a quote left open, "
            "or not a CSV file of this kind; the file is refused",
            line=line,
            column=_shown(name),
        )


def _quarantine_nul_rows(result: TextTable) -> None:
    """Move rows with a NUL byte in any field to ``malformed``, naming the line and the column.

    A NUL is never valid text in any of the formats; it comes from a damaged file or a binary
    paste. The reason names where it is, not the value, and the raw text kept for the row shows
    each NUL as U+FFFD (PostgreSQL cannot store a NUL in text).
    """
    table = result.table
    hit = None
    which: list[tuple[str, pa.ChunkedArray]] = []
    for name in _data_columns(table):
        has = pc.match_substring(table.column(name), "\x00")
        if pc.any(has).as_py():
            which.append((name, has))
            hit = has if hit is None else pc.or_(hit, has)
    if hit is None:
        return
    bad = table.filter(hit)
    flags = [(name, has.filter(hit).to_pylist()) for name, has in which]
    values = [bad.column(c).to_pylist() for c in bad.column_names if c != "line"]
    for i, line in enumerate(bad.column("line").to_pylist()):
        column = next(name for name, f in flags if f[i])
        raw = ",".join(v[i] or "" for v in values).replace("\x00", "\ufffd")
        result.malformed.add(
            int(line),
            column,
            f"{column}: the field holds a NUL byte (a damaged file or binary data)",
            raw[:500],
        )
    result.table = table.filter(pc.invert(hit))


def _read_exact(text: str, columns: list[str], encoding: str) -> TextTable:
    malformed = Quarantined()
    values: list[list[str]] = [[] for _ in columns]
    lines: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    start = 2
    rows_read = 0
    for record in reader:
        end = reader.line_num
        if not record or record == [""]:
            start = end + 1
            continue  # a blank line is not a row
        rows_read += 1
        if len(record) != len(columns):
            raw = ",".join(record).replace("\x00", "\ufffd")  # PostgreSQL text cannot hold a NUL
            what = "truncated line?" if len(record) < len(columns) else "stray delimiter or quote?"
            malformed.add(
                start,
                None,
                f"expected {len(columns)} fields, found {len(record)} ({what})",
                raw[:500],
            )
        else:
            lines.append(start)
            for i, v in enumerate(record):
                values[i].append(v)
        start = end + 1
    arrays = [pa.array(v, pa.string()) for v in values] + [pa.array(lines, pa.int64())]
    table = pa.Table.from_arrays(arrays, names=[*columns, "line"])
    return TextTable(table, malformed, rows_read, encoding)
