"""De-personalise partner data before it enters the warehouse.

The Crime and Disorder (Prescribed Information) Regulations 2007 oblige partners to share
*de-personalised* information. Each schema field that could identify a person has a treatment, applied
by :func:`apply_treatments`:

==========================================  =====================================================
treatment                                   output columns (the raw column is always removed)
==========================================  =====================================================
drop, derive                                none (derive: the ingest reads it first, e.g. to place
                                            the record)
scrub                                       the column after redaction (typed placeholders such as
                                            ``<PERSON>``, ``<NHS_NUMBER>``; see :mod:`.scrub`)
pseudonymise                                ``<field>_pseudonym``: keyed HMAC-SHA256, 64 hex chars
coarsen_postcode_to_lsoa_or_outward         ``<field>_lsoa_code`` (NA without a lookup or match)
                                            and ``<field>_outward`` (e.g. ``NP20``)
coarsen_dob_to_age_band                     ``<field>_age_band`` (age at the record's date)
coarsen_coordinates                         ``grid_x``, ``grid_y`` (British National Grid, to the
                                            nearest ``cell_m``), ``grid_cell_m``, ``lsoa_code``
keep                                        the column as sent, except a text value that as a whole
                                            is a name, a date of birth or (without a schema pattern)
                                            another identifier, which becomes its placeholder
==========================================  =====================================================

A field without a treatment is kept (free text without one is dropped: see
:attr:`~diogel.sources.partner.schema.Field.effective_treatment`).

The pseudonymisation key is a secret kept outside the warehouse (:func:`load_or_create_secret`): without
it a pseudonym cannot be reversed by hashing guesses (an unkeyed hash of a 10-digit NHS number could be
reversed by trying all 10^9 valid numbers).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diogel.errors import DiogelError
from diogel.sources.partner.detect import PersonalDataError, check_allowed, detect_personal_data
from diogel.sources.partner.schema import DEFAULT_AGE_BANDS, Schema
from diogel.sources.partner.scrub import scrub_text, whole_value_kind
from diogel.sources.partner.values import as_text, parse_datetimes, parse_period

BNG = "EPSG:27700"
_POSTCODE_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_OUTWARD_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
SECRET_BYTES = 32


# ----------------------------------------------------------------------------------------------------
# Pseudonyms


def normalise_for_hash(value: str, mode: str = "text") -> str:
    """Canonical form hashed by :func:`pseudonymise`.

    ``text``: Unicode NFKC, case-folded, trimmed, inner whitespace runs collapsed to one space (so
    ``" John  SMITH"`` and ``"john smith"`` link). ``compact``: as ``text`` and then every space, hyphen
    and dot removed (so ``"943 476 5919"`` and ``"943-476-5919"`` link).
    """
    text = unicodedata.normalize("NFKC", str(value)).casefold().strip()
    text = re.sub(r"\s+", " ", text)
    if mode == "compact":
        text = re.sub(r"[\s.-]", "", text)
    elif mode != "text":
        raise ValueError(f"normalise must be 'text' or 'compact', not {mode!r}")
    return text


def pseudonymise(values: Any, secret: bytes, namespace: str, normalise: str = "text") -> Any:
    """Keyed pseudonyms: ``HMAC-SHA256(secret, namespace + NUL + normalised value)`` as 64 hex characters.

    The same value, secret and namespace always give the same pseudonym, so records of one person link;
    another secret gives unrelated pseudonyms; another namespace too, so an NHS number and an attendance
    number that happen to be equal do not link unless both fields use the same namespace. Missing or
    blank values stay missing.

    Parameters
    ----------
    values : a scalar, a list or a pandas Series.
    secret : the key (at least 16 bytes; see :func:`make_secret`).
    namespace : separates fields that must not link.
    normalise : ``text`` or ``compact`` (see :func:`normalise_for_hash`).

    Returns
    -------
    str | None for a scalar, else a Series (object dtype) aligned with ``values``.
    """
    if not isinstance(secret, bytes | bytearray) or len(secret) < 16:
        raise ValueError("the pseudonymisation secret must be at least 16 bytes")
    if not namespace:
        raise ValueError("namespace must be a non-empty string")
    key = bytes(secret)
    prefix = namespace.encode("utf-8") + b"\x00"

    def one(v: Any) -> Any:
        if v is pd.NA or not isinstance(v, str):
            return pd.NA
        msg = prefix + normalise_for_hash(v, normalise).encode("utf-8")
        return hmac.new(key, msg, hashlib.sha256).hexdigest()

    if _is_scalar(values):
        text = as_text(pd.Series([values])).iloc[0]
        out = one(text)
        return None if out is pd.NA else out
    series = values if isinstance(values, pd.Series) else pd.Series(list(values))
    return as_text(series).map(one).astype(object)


def _is_scalar(values: Any) -> bool:
    return values is None or isinstance(values, str | bytes | int | float | dt.date) or values is pd.NA


# ----------------------------------------------------------------------------------------------------
# Postcodes


def _postcode_key(v: Any) -> str | None:
    if not isinstance(v, str):
        return None
    return re.sub(r"\s+", "", v.upper())


def _outward_one(v: Any) -> Any:
    key = _postcode_key(v)
    if not key:
        return pd.NA
    m = _POSTCODE_RE.match(key)
    if m:
        return m.group(1)
    if _OUTWARD_RE.match(key):
        return key
    return pd.NA


def postcode_to_outward(pc: Any) -> Any:
    """Outward code of a UK postcode: ``"np20 1ab"`` -> ``"NP20"``; an outward code is returned as is.

    The inward code is always digit + two letters, so the split is unambiguous without the space.
    Anything that is not a postcode gives NA (None for a scalar).
    """
    if _is_scalar(pc):
        out = _outward_one(as_text(pd.Series([pc])).iloc[0])
        return None if out is pd.NA else out
    series = pc if isinstance(pc, pd.Series) else pd.Series(list(pc))
    return as_text(series).map(_outward_one).astype(object)


_LOOKUP_PC = ("postcode", "pcds", "pcd", "pcd7", "pcd8", "pcd2")
_LOOKUP_LSOA = ("lsoa_code", "lsoa21cd", "lsoa11cd", "lsoa21", "lsoa11", "lsoa")


def _lookup_map(lookup: pd.DataFrame) -> dict[str, str]:
    cols = {c.lower(): c for c in lookup.columns}
    pc_col = next((cols[c] for c in _LOOKUP_PC if c in cols), None)
    lsoa_col = next((cols[c] for c in _LOOKUP_LSOA if c in cols), None)
    if pc_col is None or lsoa_col is None:
        raise ValueError(
            f"postcode lookup needs a postcode column (one of {', '.join(_LOOKUP_PC)}) and an LSOA column "
            f"(one of {', '.join(_LOOKUP_LSOA)}); it has {', '.join(map(str, lookup.columns))}"
        )
    keys = lookup[pc_col].map(_postcode_key)
    return dict(zip(keys, lookup[lsoa_col], strict=True))


def _lookup_lsoa(series: pd.Series, mapping: dict[str, str]) -> pd.Series:
    return as_text(series).map(lambda v: mapping.get(_postcode_key(v) or "", pd.NA)).astype(object)


def postcode_to_lsoa(pc: Any, lookup: pd.DataFrame | None = None) -> Any:
    """LSOA code of a postcode from ``lookup`` (e.g. the ONS postcode directory), else its outward code.

    ``lookup`` needs a postcode column (``postcode``/``pcds``/``pcd``...) and an LSOA column
    (``lsoa_code``/``lsoa21cd``/``lsoa11cd``...); postcodes match ignoring case and spaces. With no
    lookup, or for a postcode the lookup lacks, the outward code is returned: the coarser area the
    Regulations allow. Use :func:`apply_treatments` to keep the two in separate columns.
    """
    if lookup is None:
        return postcode_to_outward(pc)
    mapping = _lookup_map(lookup)
    scalar = _is_scalar(pc)
    series = pd.Series([pc]) if scalar else (pc if isinstance(pc, pd.Series) else pd.Series(list(pc)))
    lsoa = _lookup_lsoa(series, mapping)
    out = lsoa.where(lsoa.notna(), postcode_to_outward(series)).astype(object)
    if scalar:
        v = out.iloc[0]
        return None if v is pd.NA else v
    return out


# ----------------------------------------------------------------------------------------------------
# Dates of birth


def age_band_labels(bands: Iterable[int] = DEFAULT_AGE_BANDS) -> list[str]:
    """Labels for age bands starting at each of ``bands``: (0, 10, 18) -> ["0-9", "10-17", "18+"].

    A first bound above 0 adds an "under N" band first.
    """
    b = list(bands)
    labels = [f"under {b[0]}"] if b[0] > 0 else []
    labels += [f"{lo}-{hi - 1}" for lo, hi in zip(b, b[1:], strict=False)]
    labels.append(f"{b[-1]}+")
    return labels


def dob_to_age_band(dob: Any, on_date: Any, bands: Iterable[int] = DEFAULT_AGE_BANDS) -> Any:
    """Age band at ``on_date`` of a person born on ``dob``.

    Age is in completed years: ``on.year - dob.year``, less one if ``on`` falls before the birthday in
    that year (a 29 February birthday is reached on 1 March in other years). Band ``k`` holds ages
    ``bands[k] <= age < bands[k+1]``; the last is open. Missing or unparseable dates, a birth after
    ``on_date`` and ages above 120 give NA.

    Parameters
    ----------
    dob : scalar or Series of dates (ISO or dd/mm/yyyy strings, or datetimes).
    on_date : scalar date, or a Series aligned with ``dob`` (e.g. the incident date).
    bands : increasing lower bounds in years, default (0, 10, 18, 25, 35, 45, 55, 65, 75).
    """
    b = list(bands)
    labels = age_band_labels(b)
    scalar = _is_scalar(dob)
    born = parse_datetimes(pd.Series([dob]) if scalar else pd.Series(dob))
    if isinstance(on_date, pd.Series):
        on = parse_datetimes(on_date).set_axis(born.index)
    else:
        on = pd.Series(pd.Timestamp(on_date), index=born.index)
    age = on.dt.year - born.dt.year
    before_birthday = (on.dt.month < born.dt.month) | (
        (on.dt.month == born.dt.month) & (on.dt.day < born.dt.day)
    )
    age = (age - before_birthday.astype("Int64")).astype("Float64")
    ok = age.notna() & (age >= 0) & (age <= 120)
    offset = 1 if b[0] > 0 else 0
    idx = np.searchsorted(np.asarray(b), age.fillna(-1).to_numpy(dtype=float), side="right") - 1 + offset
    out = pd.Series(
        [labels[i] if good else pd.NA for i, good in zip(idx, ok.fillna(False), strict=True)],
        index=born.index,
        dtype=object,
    )
    if scalar:
        v = out.iloc[0]
        return None if v is pd.NA else v
    return out


# ----------------------------------------------------------------------------------------------------
# Coordinates


def coordinates_to_grid(
    x: Any, y: Any, cell_m: float = 100.0, crs: str = BNG
) -> tuple[np.ndarray, np.ndarray]:
    """Snap points to a British National Grid of ``cell_m`` metre cells.

    Input in another CRS (e.g. ``EPSG:4326`` with ``x`` = longitude, ``y`` = latitude) is first
    transformed to BNG with pyproj. Each coordinate is rounded to the nearest multiple of ``cell_m``
    (halves round up): ``floor(v / cell_m + 0.5) * cell_m``, i.e. the centre of the ``cell_m`` square
    the point falls in, on a grid whose cell centres are the multiples of ``cell_m``. Missing
    coordinates stay NaN.

    Returns
    -------
    (grid_x, grid_y) as float arrays in metres (EPSG:27700).
    """
    if cell_m <= 0:
        raise ValueError("cell_m must be positive")
    xs = pd.to_numeric(pd.Series(np.atleast_1d(np.asarray(x, dtype=object))), errors="coerce").to_numpy(float)
    ys = pd.to_numeric(pd.Series(np.atleast_1d(np.asarray(y, dtype=object))), errors="coerce").to_numpy(float)
    xs, ys = _to_bng(xs, ys, crs)
    gx = np.floor(xs / cell_m + 0.5) * cell_m
    gy = np.floor(ys / cell_m + 0.5) * cell_m
    return gx, gy


def _to_bng(xs: np.ndarray, ys: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import CRS, Transformer

    if CRS.from_user_input(crs) == CRS.from_epsg(27700):
        return xs, ys
    transformer = Transformer.from_crs(crs, BNG, always_xy=True)
    bx, by = transformer.transform(xs, ys)
    bx = np.where(np.isfinite(bx), bx, np.nan)
    by = np.where(np.isfinite(by), by, np.nan)
    return np.asarray(bx, dtype=float), np.asarray(by, dtype=float)


def _points_to_lsoa(xs: np.ndarray, ys: np.ndarray, areas: Any) -> pd.Series:
    """LSOA code of each BNG point from polygons ``areas`` (GeoDataFrame with an LSOA code column)."""
    import geopandas as gpd

    cols = {c.lower(): c for c in areas.columns}
    code_col = next((cols[c] for c in _LOOKUP_LSOA if c in cols), None)
    if code_col is None:
        raise ValueError(f"lsoa_areas needs an LSOA code column (one of {', '.join(_LOOKUP_LSOA)})")
    polys = areas[[code_col, areas.geometry.name]].to_crs(BNG)
    pts = gpd.GeoDataFrame({"_pos": np.arange(len(xs))}, geometry=gpd.points_from_xy(xs, ys), crs=BNG)
    joined = gpd.sjoin(pts, polys, how="left", predicate="within")
    first = joined.drop_duplicates("_pos").set_index("_pos")[code_col]
    return first.reindex(np.arange(len(xs))).astype(object).where(lambda s: s.notna(), pd.NA)


# ----------------------------------------------------------------------------------------------------
# Whole frame


def treated_columns(schema: Schema) -> dict[str, list[str]]:
    """Field -> columns it becomes in :func:`apply_treatments` output (``[]`` when dropped)."""
    out: dict[str, list[str]] = {}
    for f in schema.fields:
        t = f.effective_treatment
        method = t.method if t is not None else "keep"
        if method in ("keep", "scrub"):
            out[f.name] = [f.name]
        elif method in ("drop", "derive"):
            out[f.name] = []
        elif method == "pseudonymise":
            out[f.name] = [f"{f.name}_pseudonym"]
        elif method == "coarsen_postcode_to_lsoa_or_outward":
            out[f.name] = [f"{f.name}_lsoa_code", f"{f.name}_outward"]
        elif method == "coarsen_dob_to_age_band":
            out[f.name] = [f"{f.name}_age_band"]
        elif method == "coarsen_coordinates":
            loc = schema.location
            is_x = loc is not None and f.name == loc.x
            out[f.name] = ["grid_x", "grid_cell_m", "lsoa_code"] if is_x else ["grid_y"]
    return out


def apply_treatments(
    frame: pd.DataFrame,
    schema: Schema,
    secret: bytes,
    postcode_lookup: pd.DataFrame | None = None,
    lsoa_areas: Any = None,
    today: dt.date | None = None,
) -> pd.DataFrame:
    """Return a copy of ``frame`` with every schema treatment applied and no raw sensitive column.

    Steps: (1) :func:`detect_personal_data` on every column and :func:`check_allowed`, so a file with
    personal data the schema does not treat is refused whole (:class:`PersonalDataError`); (2) columns
    the schema does not declare are left out; (3) each treatment replaces its column as listed in the
    module docstring, in the schema's field order; (4) the output is checked again and any column other
    than a ``keep`` field that still looks personal raises :class:`PersonalDataError`.

    Parameters
    ----------
    secret : pseudonymisation key (see :func:`load_or_create_secret`).
    postcode_lookup : postcode -> LSOA frame for ``coarsen_postcode_to_lsoa_or_outward``.
    lsoa_areas : GeoDataFrame of LSOA polygons for ``coarsen_coordinates`` (``lsoa_code`` is NA without).
    today : reference date for ages when a row has no usable time field (default: the current date).
    """
    today = today or dt.date.today()
    check_allowed(detect_personal_data(frame, schema, today=today), schema)

    out = pd.DataFrame(index=frame.index)
    when = _reference_dates(frame, schema, today)
    mapping = _lookup_map(postcode_lookup) if postcode_lookup is not None else None
    keep_fields: set[str] = set()
    for f in schema.fields:
        if f.name not in frame.columns:
            continue
        col = frame[f.name]
        t = f.effective_treatment
        method = t.method if t is not None else "keep"
        if method == "keep":
            out[f.name] = whole_values_withheld(col, f) if f.type == "string" and f.allowed is None else col
            keep_fields.add(f.name)
        elif method in ("drop", "derive"):
            continue
        elif method == "scrub":
            out[f.name] = scrub_series(col)
            keep_fields.add(f.name)  # redacted by the stronger scrubber; the column check would be weaker
        elif method == "pseudonymise":
            assert t is not None
            out[f"{f.name}_pseudonym"] = pseudonymise(col, secret, t.namespace or f.name, t.normalise)
        elif method == "coarsen_postcode_to_lsoa_or_outward":
            lsoa = _lookup_lsoa(col, mapping) if mapping is not None else pd.Series(pd.NA, index=col.index)
            out[f"{f.name}_lsoa_code"] = lsoa.astype(object)
            out[f"{f.name}_outward"] = postcode_to_outward(col)
        elif method == "coarsen_dob_to_age_band":
            assert t is not None
            out[f"{f.name}_age_band"] = dob_to_age_band(col, when, t.bands)
        elif method == "coarsen_coordinates":
            assert t is not None and schema.location is not None
            if f.name == schema.location.x:  # the pair is handled once, at x
                _coarsen_coordinates(frame, schema, t.cell_m, lsoa_areas, out)

    leftover = [f for f in detect_personal_data(out, schema, today=today) if f.column not in keep_fields]
    if leftover:
        cols = ", ".join(sorted({f"'{f.column}'" for f in leftover}))
        raise PersonalDataError(
            f"schema {schema.name}: after treatment, columns {cols} still look personal; "
            "give them a stronger treatment (drop or pseudonymise)",
            leftover,
        )
    return out


def _coarsen_coordinates(
    frame: pd.DataFrame, schema: Schema, cell_m: float, lsoa_areas: Any, out: pd.DataFrame
) -> None:
    """The location's x and y as a grid cell (``grid_x``, ``grid_y``, ``grid_cell_m``) and its LSOA, in ``out``."""
    loc = schema.location
    assert loc is not None
    if loc.y not in frame.columns:
        raise PersonalDataError(f"schema {schema.name}: column '{loc.x}' is present without '{loc.y}'", [])
    gx, gy = coordinates_to_grid(frame[loc.x], frame[str(loc.y)], cell_m, loc.crs or BNG)
    out["grid_x"] = gx
    out["grid_y"] = gy
    out["grid_cell_m"] = cell_m
    if lsoa_areas is not None:
        bx, by = _to_bng(
            pd.to_numeric(frame[loc.x], errors="coerce").to_numpy(float),
            pd.to_numeric(frame[str(loc.y)], errors="coerce").to_numpy(float),
            loc.crs or BNG,
        )
        out["lsoa_code"] = _points_to_lsoa(bx, by, lsoa_areas).set_axis(frame.index)
    else:
        out["lsoa_code"] = pd.Series(pd.NA, index=frame.index, dtype=object)


_POSTCODE_IN_TEXT = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b", re.IGNORECASE)
_LSOA_IN_TEXT = re.compile(r"\b([EW]01[0-9]{6})\b", re.IGNORECASE)


def derive_fields(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Replace each ``derive`` field by what the ingest takes from it, before anything else reads it.

    The schema's location field, when it is free text marked ``derive``, becomes the first full postcode
    written in it (location kind ``postcode`` or ``outward_postcode``: ``"outside 12 High St, NP20 1AB"``
    -> ``"NP20 1AB"``) or the first LSOA code (kind ``lsoa``), else blank. The text itself is dropped
    by :func:`apply_treatments`; only the placed record is stored.
    """
    loc = schema.location
    if loc is None or loc.field is None or loc.field not in frame.columns:
        return frame
    t = schema.field(loc.field).effective_treatment
    if t is None or t.method != "derive":
        return frame
    rx = _LSOA_IN_TEXT if loc.kind == "lsoa" else _POSTCODE_IN_TEXT

    def found(v: Any) -> Any:
        m = rx.search(v) if isinstance(v, str) else None
        if m is None:
            return pd.NA
        return m.group(1).upper() if loc.kind == "lsoa" else f"{m.group(1)} {m.group(2)}".upper()

    out = frame.copy()
    out[loc.field] = as_text(frame[loc.field]).map(found).astype(object)
    return out


def scrub_series(col: pd.Series) -> pd.Series:
    """Free text with every identifier replaced by its placeholder (:func:`.scrub.scrub_text`).

    Each distinct value is scrubbed once (free text repeats: venue and street names).
    """
    text = as_text(col)
    done = {v: scrub_text(v) for v in text.dropna().unique() if isinstance(v, str)}
    return text.map(lambda v: done.get(v, v) if isinstance(v, str) else pd.NA).astype(object)


def whole_values_withheld(col: pd.Series, f: Any) -> pd.Series:
    """A kept text column with each value that as a whole is personal replaced by its placeholder.

    Names and dates of birth in any such column; other identifiers only where the schema gives no
    ``pattern`` (a pattern such as a premises postcode's says what the column may hold).
    """
    text = as_text(col)
    identifiers = getattr(f, "pattern", None) is None
    verdict = {v: whole_value_kind(v, identifiers) for v in text.dropna().unique() if isinstance(v, str)}
    hit = {v: kind for v, kind in verdict.items() if kind is not None}
    if not hit:
        return col
    return text.map(lambda v: hit.get(v, v) if isinstance(v, str) else pd.NA).astype(object)


def _reference_dates(frame: pd.DataFrame, schema: Schema, today: dt.date) -> pd.Series:
    """The date of each record (the schema's time field), or ``today`` where it has none."""
    base = pd.Series(pd.Timestamp(today), index=frame.index)
    if schema.time is None or schema.time.field not in frame.columns:
        return base
    f = schema.field(schema.time.field)
    when = parse_period(frame[schema.time.field], schema.time.resolution, f.format)
    return when.where(when.notna(), base)


# ----------------------------------------------------------------------------------------------------
# The secret


def make_secret() -> bytes:
    """A new random pseudonymisation key of 32 bytes from the operating system's CSPRNG."""
    return secrets.token_bytes(SECRET_BYTES)


def load_or_create_secret(path: str | Path, warehouse_dir: str | Path | None = None) -> bytes:
    """Read the pseudonymisation key at ``path``, creating it (mode 0600, hex text) if absent.

    The key must live outside the warehouse, so that a copy of the warehouse cannot be used to test
    guesses against pseudonyms; ``warehouse_dir``, when given, is checked. Losing the key means new
    pseudonyms no longer link to old ones; it is never needed to read the warehouse.

    Raises
    ------
    DiogelError
        if ``path`` is inside ``warehouse_dir``, is readable or writable by other users (POSIX), or does
        not hold a hex key of at least 16 bytes.
    """
    path = Path(path).expanduser()
    if warehouse_dir is not None:
        wh = Path(warehouse_dir).expanduser().resolve()
        target = path.resolve()
        if target == wh or wh in target.parents:
            raise DiogelError(
                f"{path}: the pseudonymisation secret must be kept outside the warehouse folder {wh}"
            )
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load_or_create_secret(path, warehouse_dir)
        secret = make_secret()
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secret.hex() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return secret
    if os.name == "posix":
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise DiogelError(
                f"{path}: the pseudonymisation secret is accessible to other users (mode {mode:o}); "
                f"run: chmod 600 {path}"
            )
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise DiogelError(f"{path}: does not hold a hex pseudonymisation secret") from None
    if len(secret) < 16:
        raise DiogelError(f"{path}: the pseudonymisation secret is shorter than 16 bytes")
    return secret
