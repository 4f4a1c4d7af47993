"""Reading one partner file into warehouse rows: validated, de-personalised, dated and placed.

This is the ``read`` of the ``partner`` source kind (registered in :mod:`diogel.sources.partner_kind`), so
it inherits every warehouse guarantee: a file is loaded whole or not at all, loading it again does
nothing, rows read = loaded + duplicates + quarantined. What it adds, in this order:

1. **Read** a CSV (UTF-8 or Windows-1252, as the police loaders) or the first sheet of an ``.xlsx``
   workbook; header names match schema fields ignoring case, spaces, punctuation and diacritics, and a
   header in Welsh or other words for a kind of personal data (``Enw llawn``, ``Rhif GIG``, ``Dyddiad
   geni``, ``Cod post``, ``NHS No.``) matches the treated field of that kind.
2. **Refuse personal data the schema does not treat.** Every column, declared or not, is checked by name
   and content (:func:`~diogel.sources.partner.detect.detect_personal_data`); a column that looks personal
   and has no ``treatment`` refuses the whole file with one line naming the columns. Then a column the
   schema does not declare, or a missing required column, refuses the file (as a wrong police header does).
3. **Validate rows.** A row with a bad value (missing required value, wrong type, date in the future,
   value not allowed, bad location) is quarantined with its line, column and reason. Partner rows are
   never stored as sent: the quarantine ``raw`` column holds only :data:`REDACTED_RAW`, and a reason
   names the line, the column and the rule, never the value (nor a header that looks personal).
4. **De-personalise** the valid rows (:func:`~diogel.sources.partner.depersonalise.apply_treatments`):
   drop, pseudonymise with the partnership key (:mod:`~diogel.sources.partner.keys`, kept outside the
   warehouse), coarsen postcodes, dates of birth and coordinates; free text is dropped, used and dropped
   (``derive``) or stored after redaction to typed placeholders (``scrub``); any other stored text value
   that as a whole is a name or a date of birth is stored as its placeholder.
5. **Place and date** each row in the columns every analysis uses (see :data:`ROWS`): the date and month
   of the schema's time field, the LSOA (from coordinates via the warehouse's LSOA boundaries, or the
   bundled Welsh 2021 boundaries when none are loaded; from an LSOA field; from a postcode lookup when
   one is given), the outward postcode, the grid cell. Every other stored field goes, after treatment,
   into the JSON text column ``detail_json``.

The file's bytes are never stored; the warehouse keeps their SHA-256 (``file_id``) and the file name.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import io
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from diogel.errors import DiogelError, InputError
from diogel.sources.partner.depersonalise import (
    BNG,
    _lookup_map,
    _points_to_lsoa,
    _to_bng,
    apply_treatments,
    coordinates_to_grid,
    derive_fields,
    postcode_to_outward,
)
from diogel.sources.partner.detect import (
    PersonalDataError,
    check_allowed,
    detect_personal_data,
    header_label,
)
from diogel.sources.partner.identifiers import is_full_postcode, is_outward_code
from diogel.sources.partner.keys import key_id
from diogel.sources.partner.reading import REDACTED_RAW, column_label, read_file
from diogel.sources.partner.schema import Schema, load_schema, shipped_schemas
from diogel.sources.partner.values import (
    as_text,
    parse_booleans,
    parse_datetimes,
    parse_period,
    validate_frame,
)
from diogel.sources.registry import ParsedFile, Quarantined

TABLE = "partner_record"
# British National Grid extent, with a margin; a point outside is not in Great Britain.
_BNG_X = (0.0, 700_000.0)
_BNG_Y = (0.0, 1_300_000.0)
_LSOA_RE = re.compile(r"^[EW]01\d{6}$")

ROWS = pa.schema(
    [
        pa.field("dataset", pa.string()),  # the schema's name, e.g. ed_assaults
        pa.field("supplier", pa.string()),  # who sent the file ('' unless given)
        pa.field("schema_file", pa.string()),  # the schema file applied (shipped name or the user's file)
        pa.field("record_id", pa.string()),  # dataset|supplier|pseudonym (or kept id); null without one
        pa.field("event_date", pa.date32()),  # the time field, at its resolution's first day
        pa.field("event_time", pa.string()),  # HH:MM when the data give a time of day
        pa.field("month", pa.date32()),  # first day of the event's month
        pa.field("time_resolution", pa.string()),  # datetime, date, month or quarter
        pa.field("lsoa_code", pa.string()),  # LSOA (2011 or 2021 code) of the location, when known
        pa.field("outward_code", pa.string()),  # outward postcode of the location, when known
        pa.field("easting", pa.float64()),  # British National Grid metres (a grid-cell centre if coarsened)
        pa.field("northing", pa.float64()),
        pa.field("grid_cell_m", pa.float64()),  # size of the grid cell; null when stored as sent (public)
        pa.field("record_count", pa.int64()),  # 1, or the schema's count_field for aggregate rows
        pa.field("disclosure_threshold", pa.int32()),  # the schema's threshold for anything published
        pa.field("detail_json", pa.string()),  # every other stored field, after treatment, as JSON
        pa.field("key_id", pa.string()),  # id of the pseudonymisation key used (null if none was)
        pa.field("line", pa.int64()),
        pa.field("slice_key", pa.string()),
    ]
)


# ----------------------------------------------------------------------------------------------------
# Options


def schema_from_options(options: dict | None) -> Schema:
    """The schema named by ``options["schema"]`` (a shipped name, a YAML path or a :class:`Schema`)."""
    value = (options or {}).get("schema")
    if isinstance(value, Schema):
        return value
    if not value:
        raise DiogelError(
            "partner files need a schema: --schema NAME or --schema path/to/schema.yaml "
            f"(shipped: {', '.join(shipped_schemas())})"
        )
    return load_schema(str(value))


def _supplier(options: dict) -> str:
    value = str(options.get("supplier") or "").strip()
    if "|" in value:
        raise DiogelError(f"supplier {value!r}: must not contain '|'")
    return value


def _postcode_key(v: Any) -> str:
    # The key _lookup_map uses: upper case, no spaces.
    return re.sub(r"\s+", "", v.upper()) if isinstance(v, str) else ""


@functools.lru_cache(maxsize=4)
def _read_lookup(path: str, mtime: float) -> dict[str, str]:
    from diogel.sources.partner.depersonalise import _LOOKUP_LSOA, _LOOKUP_PC

    head = pd.read_csv(path, nrows=0)
    cols = {c.lower(): c for c in head.columns}
    wanted = [cols[c] for c in (*_LOOKUP_PC, *_LOOKUP_LSOA) if c in cols]
    # Only the two columns are read: a national postcode directory is millions of rows and many columns.
    frame = pd.read_csv(path, dtype=str, usecols=wanted, keep_default_na=False)
    return _lookup_map(frame)


def _postcode_lookup(options: dict) -> dict[str, str] | None:
    value = options.get("postcode_lookup")
    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        return _lookup_map(value)
    path = Path(value)
    if not path.is_file():
        raise DiogelError(f"postcode lookup {path}: no such file")
    try:
        return _read_lookup(str(path.resolve()), path.stat().st_mtime)
    except ValueError as exc:
        raise DiogelError(f"postcode lookup {path}: {exc}") from None


# ----------------------------------------------------------------------------------------------------
# Whole-file checks


def check_columns(path: str, frame: pd.DataFrame, schema: Schema, today: dt.date) -> None:
    """Refuse untreated personal data first, then undeclared columns, then missing required columns."""
    try:
        check_allowed(detect_personal_data(frame, schema, today=today), schema)
    except PersonalDataError as exc:
        first = column_label(exc.findings[0].column) if exc.findings else None
        raise InputError(path, str(exc), line=1, column=first) from None
    undeclared = [c for c in frame.columns if c not in schema.field_names]
    if undeclared:
        listed = ", ".join(header_label(c) for c in undeclared)
        raise InputError(
            path,
            f"wrong header: {'column' if len(undeclared) == 1 else 'columns'} {listed} "
            f"{'is' if len(undeclared) == 1 else 'are'} not in schema {schema.name} "
            f"(its fields: {', '.join(schema.field_names)}); remove them or use a schema that declares them",
            line=1,
            column=column_label(undeclared[0]),
        )
    missing = [f.name for f in schema.fields if f.required and f.name not in frame.columns]
    if missing:
        raise InputError(
            path,
            f"wrong header: required {'column' if len(missing) == 1 else 'columns'} "
            f"{', '.join(repr(m) for m in missing)} missing for schema {schema.name}",
            line=1,
            column=missing[0],
        )


# ----------------------------------------------------------------------------------------------------
# Row checks


def _location_problems(frame: pd.DataFrame, schema: Schema) -> dict[Any, tuple[str, str]]:
    """Line -> (column, reason) for rows whose location cannot be used (values never quoted)."""
    loc = schema.location
    bad: dict[Any, tuple[str, str]] = {}
    if loc is None:
        return bad
    if loc.kind == "coordinates":
        x, y = str(loc.x), str(loc.y)
        if x not in frame.columns and y not in frame.columns:
            return bad
        xs = frame[x] if x in frame.columns else pd.Series(pd.NA, index=frame.index, dtype=object)
        ys = frame[y] if y in frame.columns else pd.Series(pd.NA, index=frame.index, dtype=object)
        one_blank = xs.isna() != ys.isna()
        for line in frame.index[one_blank.to_numpy()]:
            bad[line] = (x if xs[line] is pd.NA else y, "one coordinate is blank and the other is not")
        both = (xs.notna() & ys.notna()).to_numpy()
        if both.any():
            bx, by = _to_bng(
                pd.to_numeric(xs[both], errors="coerce").to_numpy(float),
                pd.to_numeric(ys[both], errors="coerce").to_numpy(float),
                loc.crs or BNG,
            )
            inside = (bx >= _BNG_X[0]) & (bx <= _BNG_X[1]) & (by >= _BNG_Y[0]) & (by <= _BNG_Y[1])
            for line in frame.index[both][~inside]:
                bad.setdefault(line, (x, f"the coordinates ({loc.crs or BNG}) are outside Great Britain"))
        return bad
    col = str(loc.field)
    if col not in frame.columns:
        return bad
    values = frame[col]
    for line, v in values.items():
        if not isinstance(v, str):
            continue
        if loc.kind == "lsoa" and not _LSOA_RE.match(v.upper()):
            bad[line] = (col, "the value is not an LSOA code (E01 or W01 and six digits)")
        elif loc.kind == "postcode" and postcode_to_outward(v) is None:
            bad[line] = (col, "the value is not a UK postcode")
        elif loc.kind == "outward_postcode" and not is_outward_code(v) and not is_full_postcode(v):
            bad[line] = (col, "the value is not an outward postcode (e.g. NP20)")
    return bad


def validate_rows(
    frame: pd.DataFrame, schema: Schema, today: dt.date, quarantined: Quarantined
) -> pd.DataFrame:
    """The rows of ``frame`` that pass; the others are added to ``quarantined`` (first problem per row)."""
    first: dict[Any, tuple[str, str]] = {}
    for p in validate_frame(schema, frame, today=today):
        if p.row is None:
            continue  # whole-column problems were refused by check_columns
        if p.row not in first:
            first[p.row] = (p.column, p.reason)
    for line, (column, reason) in _location_problems(frame, schema).items():
        if line not in first:
            first[line] = (column, reason)
    for line in sorted(first):
        column, reason = first[line]
        quarantined.add(int(line), column, f"{column}: {reason}", REDACTED_RAW)
    return frame.loc[~frame.index.isin(list(first))]


# ----------------------------------------------------------------------------------------------------
# LSOA polygons for coordinates (the warehouse's own are a declared input: options["lsoa_areas"])


@functools.lru_cache(maxsize=1)
def bundled_lsoa21() -> Any:
    """The bundled Welsh 2021 LSOA polygons (EPSG:27700): where coordinates fall without loaded boundaries."""
    import geopandas as gpd

    from diogel import data

    raw = gzip.decompress(data.path("reference", "wales", "lsoa21_boundaries.geojson.gz").read_bytes())
    gdf = gpd.read_file(io.BytesIO(raw))
    code = next(c for c in gdf.columns if c.lower() == "lsoa21cd")
    return gdf[[code, gdf.geometry.name]].rename(columns={code: "lsoa_code"}).to_crs(BNG)


# ----------------------------------------------------------------------------------------------------
# Building the stored rows


def _normalise(schema: Schema, column: str, values: pd.Series) -> list[Any]:
    """Values of one stored column in a canonical JSON form (category spelling, ISO dates, numbers)."""
    try:
        f = schema.field(column)
    except KeyError:
        f = None  # a column made by a treatment: pseudonym, age band, outward code, LSOA
    if f is None or f.treatment is not None and f.treatment.method != "keep":
        return [None if v is pd.NA or v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                for v in values]  # fmt: skip
    # Kept fields come from the frame read_file already made stripped text with NA for blanks.
    text = values.astype(object).where(values.notna(), pd.NA)
    if f.type == "category" and f.allowed is not None:
        canon = {str(a).casefold(): str(a) for a in f.allowed}
        return [canon.get(v.casefold(), v) if isinstance(v, str) else None for v in text]
    if f.type == "boolean":
        return [None if v is pd.NA else bool(v) for v in parse_booleans(text)]
    if f.type == "integer":
        return [int(v) if isinstance(v, str) else None for v in text]
    if f.type == "number":
        return [float(v) if isinstance(v, str) else None for v in text]
    if f.type in ("date", "datetime"):
        is_time_field = schema.time is not None and schema.time.field == f.name
        parsed = (
            parse_period(text, schema.time.resolution, f.format)
            if is_time_field and schema.time is not None
            else parse_datetimes(text, f.format)
        )
        fmt = "%Y-%m-%d" if f.type == "date" else "%Y-%m-%d %H:%M:%S"
        return [None if pd.isna(v) else v.strftime(fmt) for v in parsed]
    if f.type == "time":
        return [_hhmm(v) for v in text]
    return [v if isinstance(v, str) else None for v in text]


def _hhmm(v: Any) -> str | None:
    if not isinstance(v, str):
        return None
    parts = v.split(":")
    out = f"{int(parts[0]):02d}:{int(parts[1]):02d}"
    return out + (f":{int(parts[2]):02d}" if len(parts) > 2 and int(parts[2]) else "")


def _times(frame: pd.DataFrame, schema: Schema) -> tuple[list, list, list]:
    """Event date, month and time of day (HH:MM) of each row."""
    n = len(frame)
    if schema.time is None or schema.time.field not in frame.columns:
        return [None] * n, [None] * n, [None] * n
    spec = schema.time
    f = schema.field(spec.field)
    when = parse_period(frame[spec.field], spec.resolution, f.format)
    dates = [None if pd.isna(v) else v.date() for v in when]
    months = [None if d is None else d.replace(day=1) for d in dates]
    times: list[str | None] = [None] * n
    if spec.resolution == "datetime":
        has_time = frame[spec.field].map(lambda v: isinstance(v, str) and ":" in v).to_numpy()
        times = [
            v.strftime("%H:%M") if ok and not pd.isna(v) else None
            for v, ok in zip(when, has_time, strict=True)
        ]
    if spec.time_of_day_field and spec.time_of_day_field in frame.columns:
        tod = [_hhmm(v) for v in frame[spec.time_of_day_field]]
        times = [t[:5] if t is not None else old for t, old in zip(tod, times, strict=True)]
    return dates, months, times


def _places(
    frame: pd.DataFrame,
    schema: Schema,
    areas: Callable[[], Any],
    lookup: dict[str, str] | None,
) -> dict[str, list]:
    """LSOA, outward code and grid position of each row from the schema's location."""
    n = len(frame)
    out: dict[str, list] = {
        "lsoa_code": [None] * n,
        "outward_code": [None] * n,
        "easting": [None] * n,
        "northing": [None] * n,
        "grid_cell_m": [None] * n,
    }
    loc = schema.location
    if loc is None or n == 0:
        return out
    if loc.kind == "coordinates":
        x, y = str(loc.x), str(loc.y)
        if x not in frame.columns or y not in frame.columns:
            return out
        xs = pd.to_numeric(frame[x], errors="coerce").to_numpy(float)
        ys = pd.to_numeric(frame[y], errors="coerce").to_numpy(float)
        bx, by = _to_bng(xs, ys, loc.crs or BNG)
        present = np.isfinite(bx) & np.isfinite(by)
        treatment = schema.field(x).treatment
        if treatment is not None and treatment.method == "coarsen_coordinates":
            # The exact point of a dwelling fire is a home: only the cell centre is stored.
            gx, gy = coordinates_to_grid(bx, by, treatment.cell_m, BNG)
            cell: float | None = treatment.cell_m
        else:
            gx, gy, cell = bx, by, None
        lsoa = [None] * n
        if present.any():
            found = _points_to_lsoa(bx[present], by[present], areas())
            for pos, code in zip(np.flatnonzero(present), found, strict=True):
                lsoa[pos] = None if code is pd.NA or code is None else str(code)
        out["lsoa_code"] = lsoa
        out["easting"] = [float(v) if ok else None for v, ok in zip(gx, present, strict=True)]
        out["northing"] = [float(v) if ok else None for v, ok in zip(gy, present, strict=True)]
        out["grid_cell_m"] = [cell if ok else None for ok in present]
        return out
    col = str(loc.field)
    if col not in frame.columns:
        return out
    values = frame[col]
    if loc.kind == "lsoa":
        out["lsoa_code"] = [v.upper() if isinstance(v, str) else None for v in values]
    elif loc.kind in ("postcode", "outward_postcode"):
        outward = postcode_to_outward(values)
        out["outward_code"] = [v if isinstance(v, str) else None for v in outward]
        if lookup is not None:
            out["lsoa_code"] = [lookup.get(_postcode_key(v)) for v in values]
    return out


def read_partner(path: str, data: bytes, options: dict | None = None) -> ParsedFile:
    """Read one partner file under a schema: see the module docstring for what happens, in order.

    Parameters
    ----------
    path : the file's name for messages.
    data : its bytes.
    options : ``schema`` (required: a shipped name, a YAML path or a Schema), ``supplier`` (who sent
        it, when several partners send one dataset), ``postcode_lookup`` (a CSV path or a frame with
        postcode and LSOA columns, e.g. the ONS postcode directory); and the kind's declared inputs,
        handed in by :meth:`Warehouse.ingest` (:mod:`diogel.warehouse.inputs`): ``lsoa_areas`` (a
        function returning LSOA polygons; default the bundled Welsh 2021 ones) and ``partner_secret`` (a
        function returning the partnership key; needed when the schema pseudonymises).

    Raises
    ------
    InputError
        one line naming the file, line 1 and the column, for a file refused as a whole.
    DiogelError
        for a missing or invalid schema, or a missing or replaced pseudonymisation key.
    """
    options = options or {}
    schema = schema_from_options(options)
    supplier = _supplier(options)
    areas = options.get("lsoa_areas") or bundled_lsoa21
    lookup = _postcode_lookup(options)
    today = dt.date.today()

    frame, quarantined, rows_read = read_file(path, data, schema)
    check_columns(path, frame, schema, today)
    frame = derive_fields(frame, schema)
    valid = validate_rows(frame, schema, today, quarantined)

    needs_key = any(t.method == "pseudonymise" for t in schema.treatments.values())
    secret = b""
    kid = None
    if needs_key:
        fetch_secret = options.get("partner_secret")
        if fetch_secret is None:
            raise DiogelError(
                f"schema {schema.name} pseudonymises fields: partner files are read through the warehouse, "
                "which hands in the partnership key (diogel ingest partner ...)"
            )
        secret = fetch_secret()
        kid = key_id(secret)
    try:
        treated = apply_treatments(valid, schema, secret, today=today)
    except PersonalDataError as exc:
        first = column_label(exc.findings[0].column) if exc.findings else None
        raise InputError(path, str(exc), line=1, column=first) from None

    if lookup is not None:
        # apply_treatments takes a lookup frame; the (possibly national) lookup is held as a dict instead.
        for name, t in schema.treatments.items():
            if t.method == "coarsen_postcode_to_lsoa_or_outward" and name in valid.columns:
                treated[f"{name}_lsoa_code"] = [lookup.get(_postcode_key(v)) for v in valid[name]]
    rows = _rows(valid, treated, schema, supplier, areas, lookup, kid)
    quarantined = _by_line(quarantined)
    months = [m for m in rows["month"] if m is not None]
    span = (min(months).strftime("%Y-%m"), max(months).strftime("%Y-%m")) if months else (None, None)
    return ParsedFile(pa.table(rows, schema=ROWS), quarantined, rows_read, span)


def _by_line(q: Quarantined) -> Quarantined:
    """Quarantine entries in file order (malformed lines are found before the others)."""
    out = Quarantined()
    for i in sorted(range(len(q)), key=lambda i: q.line[i]):
        out.add(q.line[i], q.column[i], q.reason[i], q.raw[i])
    return out


# Columns apply_treatments makes for coarsened coordinates; stored in their own columns instead.
_PROMOTED = ("grid_x", "grid_y", "grid_cell_m", "lsoa_code")


def _rows(
    valid: pd.DataFrame,
    treated: pd.DataFrame,
    schema: Schema,
    supplier: str,
    areas: Callable[[], Any],
    lookup: dict[str, str] | None,
    kid: str | None,
) -> dict[str, list]:
    n = len(valid)
    dates, months, times = _times(valid, schema)
    places = _places(valid, schema, areas, lookup)
    detail_cols = [c for c in treated.columns if c not in _PROMOTED]
    columns = {c: _normalise(schema, c, treated[c]) for c in detail_cols}
    details = [
        json.dumps({c: columns[c][i] for c in detail_cols}, ensure_ascii=False, separators=(",", ":"))
        for i in range(n)
    ]
    record_ids: list[str | None] = [None] * n
    if schema.record_id is not None:
        f = schema.field(schema.record_id)
        stored = f"{f.name}_pseudonym" if f.treatment and f.treatment.method == "pseudonymise" else f.name
        if stored in treated.columns:
            record_ids = [
                f"{schema.name}|{supplier}|{v}" if isinstance(v, str) else None
                for v in as_text(treated[stored])
            ]
    if schema.count_field is not None and schema.count_field in valid.columns:
        counts = [int(v) if isinstance(v, str) else None for v in valid[schema.count_field]]
    else:
        counts = [1] * n
    slice_keys = [
        f"partner|{schema.name}|{supplier}|"
        + ("all" if schema.slice == "dataset" else (m.strftime("%Y-%m") if m is not None else "undated"))
        for m in months
    ]
    return {
        "dataset": [schema.name] * n,
        "supplier": [supplier] * n,
        "schema_file": [schema.source] * n,
        "record_id": record_ids,
        "event_date": dates,
        "event_time": times,
        "month": months,
        "time_resolution": [schema.time.resolution if schema.time else None] * n,
        **places,
        "record_count": counts,
        "disclosure_threshold": [schema.disclosure_threshold] * n,
        "detail_json": details,
        "key_id": [kid] * n,
        "line": [int(v) for v in valid.index],
        "slice_key": slice_keys,
    }


def partner_columns() -> Sequence[str]:
    """Names of the stored columns (without the warehouse's provenance columns)."""
    return ROWS.names
