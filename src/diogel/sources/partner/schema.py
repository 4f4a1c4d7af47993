"""Declarative schemas for partner datasets shared under the Crime and Disorder (Prescribed Information)
Regulations 2007.

A schema is one YAML file that says what a partner file holds, which field gives the time and which the
place, the disclosure threshold for anything published from it, and a ``treatment`` for every field that
could identify a person. Shipped schemas live in ``schemas/`` beside this module; a CSP can write its own
and pass its path to :func:`load_schema`.

YAML layout::

    name: ed_assaults
    title: Emergency department assaults (Cardiff Model ISTV minimum data set)
    description: ...
    disclosure_threshold: 5          # optional, default 5
    record_id: attendance_ref        # optional: the field that identifies one record (see below)
    count_field: in_treatment        # optional: an integer field giving how many each row stands for
    slice: month                     # optional, default month; or dataset (see below)
    time: {field: assault_date, resolution: date, time_of_day_field: assault_time}
    location: {kind: outward_postcode, field: home_outward_postcode}
    #   or {kind: coordinates, x: easting, y: northing, crs: "EPSG:27700"}
    fields:
      - name: attendance_ref
        type: string                 # string integer number date datetime time boolean category
        required: true
        description: ...
        allowed: [...]               # optional (required for category)
        pattern: "^[A-Z]{2}\\d+$"    # optional regex the whole value must match
        format: "%d/%m/%Y"           # optional strptime format for date/datetime fields
        treatment: pseudonymise      # or a mapping: {method: pseudonymise, namespace: person}
        purpose: ...                 # free text only: what the column is for (see below)

Treatments: ``drop``, ``pseudonymise`` (keyed HMAC-SHA256; options ``namespace``, ``normalise``:
``text`` or ``compact``), ``coarsen_postcode_to_lsoa_or_outward``, ``coarsen_dob_to_age_band`` (option
``bands``), ``coarsen_coordinates`` (on both location x and y; option ``cell_m``, default 100) and
``keep`` (an explicit decision that the field may be stored as sent, e.g. a public premises postcode).

Free text is never stored as sent. A *free-text* field is a ``string`` field with no ``allowed`` list and
no ``pattern``, not pseudonymised or coarsened; its treatment is one of

* ``drop`` (the default for free text that declares none): not stored;
* ``derive``: used during ingest and then dropped: the schema's location field, from which the ingest
  takes the place of the record (a postcode found in the text gives the outward code, and the LSOA with
  a postcode lookup);
* ``scrub``: stored after :func:`diogel.sources.partner.scrub.scrub_text` has replaced every NHS number,
  NI number, phone number, e-mail address, full postcode, date and personal name in it with a typed
  placeholder (``<NHS_NUMBER>``, ``<PERSON>``, ...).

``keep`` is refused on free text, and ``purpose`` says what the column is for (the shipped schemas
give it for every free-text field). Every other stored text value is checked as a whole: a value that is
a person's name or a date of birth (and, in a column without a pattern, any other identifier) is
stored as its placeholder.

How the warehouse counts a dataset (``diogel ingest partner``):

* ``record_id``: rows of one dataset and supplier with the same value (after treatment, so usually a
  pseudonym) are one record, counted once, in the earliest month it appears; later copies are
  duplicates. Without it every row counts.
* ``count_field``: for aggregate datasets (counts by area and period), each row stands for the value of
  this integer field rather than for one record.
* ``slice``: ``month`` (default): a later file of the same dataset and supplier replaces the rows of
  every month it holds, so re-sent or overlapping extracts are never double counted; ``dataset``: each
  file is a complete snapshot (e.g. a licensing register) and a later file replaces all earlier rows.

:func:`~diogel.sources.partner.values.validate_frame` checks a frame against a schema row by row
(:mod:`diogel.sources.partner.values` reads and checks the values).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from diogel.errors import DiogelError

TYPES = ("string", "integer", "number", "date", "datetime", "time", "boolean", "category")
RESOLUTIONS = ("datetime", "date", "month", "quarter")
LOCATION_KINDS = ("coordinates", "postcode", "outward_postcode", "lsoa")
TREATMENTS = (
    "drop",
    "derive",
    "scrub",
    "pseudonymise",
    "coarsen_postcode_to_lsoa_or_outward",
    "coarsen_dob_to_age_band",
    "coarsen_coordinates",
    "keep",
)
DEFAULT_AGE_BANDS = (0, 10, 18, 25, 35, 45, 55, 65, 75)
DEFAULT_THRESHOLD = 5
SLICES = ("month", "dataset")

_TOP_KEYS = (
    "name",
    "title",
    "description",
    "disclosure_threshold",
    "record_id",
    "count_field",
    "slice",
    "time",
    "location",
    "fields",
)
_FIELD_KEYS = (
    "name",
    "type",
    "required",
    "allowed",
    "pattern",
    "format",
    "description",
    "purpose",
    "treatment",
)
# Treatments a free-text field may have (see the module docstring); free text without one is dropped.
FREE_TEXT_TREATMENTS = ("drop", "derive", "scrub")
_TREATMENT_OPTIONS = {
    "drop": (),
    "derive": (),
    "scrub": (),
    "keep": (),
    "pseudonymise": ("namespace", "normalise"),
    "coarsen_postcode_to_lsoa_or_outward": (),
    "coarsen_dob_to_age_band": ("bands",),
    "coarsen_coordinates": ("cell_m",),
}


class SchemaError(DiogelError):
    """A schema file is not valid; the message names the file and the field."""


@dataclass(frozen=True)
class Treatment:
    """What happens to a sensitive field before it enters the warehouse.

    ``namespace`` (pseudonymise) defaults to the field name, so the same value in two fields does not
    link unless both name the same namespace. ``normalise`` is ``text`` (case-fold, collapse
    whitespace) or ``compact`` (also remove all spaces and hyphens, for identifiers and postcodes).
    """

    method: str
    namespace: str | None = None
    normalise: str = "text"
    cell_m: float = 100.0
    bands: tuple[int, ...] = DEFAULT_AGE_BANDS


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool = False
    allowed: tuple[Any, ...] | None = None
    pattern: str | None = None
    format: str | None = None
    description: str = ""
    treatment: Treatment | None = None
    purpose: str = ""

    @property
    def is_free_text(self) -> bool:
        """A string field with no allowed list or pattern, not pseudonymised or coarsened."""
        method = self.treatment.method if self.treatment is not None else None
        return (
            self.type == "string"
            and self.allowed is None
            and self.pattern is None
            and (method is None or method in (*FREE_TEXT_TREATMENTS, "keep"))
        )

    @property
    def effective_treatment(self) -> Treatment | None:
        """The declared treatment, or ``drop`` for free text that declares none."""
        if self.treatment is None and self.is_free_text:
            return Treatment("drop")
        return self.treatment


@dataclass(frozen=True)
class TimeSpec:
    """The field that dates a record and how finely (``datetime``, ``date``, ``month``, ``quarter``)."""

    field: str
    resolution: str
    time_of_day_field: str | None = None


@dataclass(frozen=True)
class LocationSpec:
    """Where a record happened: coordinates (``x``, ``y``, ``crs``) or one field of the given kind."""

    kind: str
    field: str | None = None
    x: str | None = None
    y: str | None = None
    crs: str | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        if self.kind == "coordinates":
            return (self.x or "", self.y or "")
        return (self.field or "",)


@dataclass(frozen=True)
class Schema:
    name: str
    title: str
    description: str
    fields: tuple[Field, ...]
    time: TimeSpec | None = None
    location: LocationSpec | None = None
    disclosure_threshold: int = DEFAULT_THRESHOLD
    source: str = field(default="", compare=False)
    record_id: str | None = None
    count_field: str | None = None
    slice: str = "month"

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def treatments(self) -> dict[str, Treatment]:
        """Field name -> treatment, for the fields that have one (free text without one: ``drop``)."""
        out = {f.name: f.effective_treatment for f in self.fields}
        return {name: t for name, t in out.items() if t is not None}

    @property
    def free_text_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.is_free_text)


# ----------------------------------------------------------------------------------------------------
# Loading


def shipped_schemas() -> list[str]:
    """Names of the schemas shipped with diogel."""
    folder = resources.files("diogel.sources.partner") / "schemas"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_schema(name_or_path: str | Path) -> Schema:
    """Load a shipped schema by name (``"ed_assaults"``) or a user's YAML file by path, and validate it.

    Raises
    ------
    SchemaError
        naming the file and the field, e.g. ``schema ed_assaults.yaml: field 'x': unknown type 'strng'``.
    """
    text: str
    label: str
    candidate = str(name_or_path)
    stem = candidate[: -len(".yaml")] if candidate.endswith(".yaml") else candidate
    path = Path(candidate)
    if "/" not in candidate and "\\" not in candidate and stem in shipped_schemas():
        res = resources.files("diogel.sources.partner") / "schemas" / f"{stem}.yaml"
        text = res.read_text(encoding="utf-8")
        label = f"{stem}.yaml"
    elif path.is_file():
        text = path.read_text(encoding="utf-8")
        label = path.name
    else:
        known = ", ".join(shipped_schemas())
        raise SchemaError(f"schema {candidate}: no such file and not a shipped schema (shipped: {known})")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise SchemaError(
            f"schema {label}:{where}: not valid YAML ({getattr(exc, 'problem', exc)})"
        ) from None
    return schema_from_dict(data, label)


def schema_from_dict(data: Any, label: str = "<dict>") -> Schema:
    """Build and validate a :class:`Schema` from parsed YAML; ``label`` names it in error messages."""

    def fail(msg: str) -> SchemaError:
        return SchemaError(f"schema {label}: {msg}")

    if not isinstance(data, dict):
        raise fail("expected a mapping with keys name, title, fields, ...")
    for key in data:
        if key not in _TOP_KEYS:
            raise fail(f"unknown key {key!r}{_suggest(key, _TOP_KEYS)}")
    name = data.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise fail(f"'name' must be a lower-case identifier such as 'ed_assaults', got {name!r}")
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise fail("'fields' must be a non-empty list")
    fields: list[Field] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_fields):
        f = _parse_field(raw, i, fail)
        if f.name in seen:
            raise fail(f"field {f.name!r}: defined twice")
        seen.add(f.name)
        fields.append(f)
    by_name = {f.name: f for f in fields}

    time = _parse_time(data["time"], by_name, fail) if data.get("time") is not None else None
    location = _parse_location(data["location"], by_name, fail) if data.get("location") is not None else None
    for f in fields:
        _check_treatment(f, by_name, location, fail)

    threshold = data.get("disclosure_threshold", DEFAULT_THRESHOLD)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise fail(f"'disclosure_threshold' must be a whole number of at least 1, got {threshold!r}")
    record_id = data.get("record_id")
    if record_id is not None and record_id not in by_name:
        raise fail(f"record_id: field {record_id!r} is not one of the schema's fields")
    if record_id is not None and by_name[record_id].effective_treatment is not None:
        method = by_name[record_id].effective_treatment.method
        if method not in ("keep", "pseudonymise"):
            raise fail(f"record_id: field {record_id!r} must be kept or pseudonymised, not {method}")
    count_field = data.get("count_field")
    if count_field is not None and (count_field not in by_name or by_name[count_field].type != "integer"):
        raise fail(f"count_field: {count_field!r} must be a field of type integer")
    slice_ = data.get("slice", "month")
    if slice_ not in SLICES:
        raise fail(f"slice: unknown value {slice_!r}{_suggest(str(slice_), SLICES)}")
    return Schema(
        name=name,
        title=str(data.get("title") or name),
        description=str(data.get("description") or "").strip(),
        fields=tuple(fields),
        time=time,
        location=location,
        disclosure_threshold=threshold,
        source=label,
        record_id=record_id,
        count_field=count_field,
        slice=slice_,
    )


def _parse_time(t: Any, by_name: dict[str, Field], fail: Callable[[str], SchemaError]) -> TimeSpec:
    """The schema's ``time`` entry: which field dates a record, at what resolution."""
    if not isinstance(t, dict):
        raise fail("'time' must be a mapping with 'field' and 'resolution'")
    for key in t:
        if key not in ("field", "resolution", "time_of_day_field"):
            raise fail(f"time: unknown key {key!r}")
    tf = t.get("field")
    if tf not in by_name:
        raise fail(f"time: field {tf!r} is not one of the schema's fields")
    resolution = t.get("resolution", "date")
    if resolution not in RESOLUTIONS:
        raise fail(f"time: unknown resolution {resolution!r}{_suggest(str(resolution), RESOLUTIONS)}")
    if by_name[tf].type not in ("date", "datetime"):
        raise fail(f"time: field {tf!r} must have type date or datetime, not {by_name[tf].type}")
    tod = t.get("time_of_day_field")
    if tod is not None and (tod not in by_name or by_name[tod].type != "time"):
        raise fail(f"time: time_of_day_field {tod!r} must be a field of type time")
    return TimeSpec(field=tf, resolution=resolution, time_of_day_field=tod)


def _parse_location(loc: Any, by_name: dict[str, Field], fail: Callable[[str], SchemaError]) -> LocationSpec:
    """The schema's ``location`` entry: coordinates (x, y, crs) or one postcode, outward code or LSOA field."""
    if not isinstance(loc, dict):
        raise fail("'location' must be a mapping with 'kind'")
    kind = loc.get("kind")
    if kind not in LOCATION_KINDS:
        raise fail(f"location: unknown kind {kind!r}{_suggest(str(kind), LOCATION_KINDS)}")
    allowed_keys = ("kind", "x", "y", "crs") if kind == "coordinates" else ("kind", "field")
    for key in loc:
        if key not in allowed_keys:
            raise fail(f"location: key {key!r} does not apply to kind {kind!r}")
    if kind == "coordinates":
        for axis in ("x", "y"):
            col = loc.get(axis)
            if col not in by_name or by_name[col].type not in ("number", "integer"):
                raise fail(f"location: {axis} {col!r} must be a field of type number or integer")
        crs = str(loc.get("crs", "EPSG:27700"))
        try:
            from pyproj import CRS

            CRS.from_user_input(crs)
        except Exception:
            raise fail(f"location: crs {crs!r} is not a coordinate reference system pyproj knows") from None
        return LocationSpec(kind=kind, x=loc["x"], y=loc["y"], crs=crs)
    col = loc.get("field")
    if col not in by_name:
        raise fail(f"location: field {col!r} is not one of the schema's fields")
    return LocationSpec(kind=kind, field=col)


def _check_treatment(
    f: Field, by_name: dict[str, Field], location: LocationSpec | None, fail: Callable[[str], SchemaError]
) -> None:
    """A field's treatment fits its type and the schema's location (each rule one refusal)."""
    t = f.treatment
    if t is None:
        return
    if t.method == "coarsen_coordinates":
        if location is None or location.kind != "coordinates" or f.name not in (location.x, location.y):
            raise fail(
                f"field {f.name!r}: treatment coarsen_coordinates applies only to the location's x and y"
            )
        other = location.y if f.name == location.x else location.x
        ot = by_name[str(other)].treatment
        if ot is None or ot.method != "coarsen_coordinates" or ot.cell_m != t.cell_m:
            raise fail(
                f"field {f.name!r}: coarsen_coordinates must be given to both {location.x!r} and "
                f"{location.y!r} with the same cell_m"
            )
    if t.method == "coarsen_dob_to_age_band" and f.type not in ("date", "datetime"):
        raise fail(f"field {f.name!r}: coarsen_dob_to_age_band needs type date, not {f.type}")
    if t.method in ("scrub", "derive") and not f.is_free_text:
        raise fail(
            f"field {f.name!r}: treatment {t.method} applies only to free text "
            "(a string field without 'allowed' or 'pattern')"
        )
    if t.method == "keep" and f.is_free_text:
        raise fail(
            f"field {f.name!r}: free text is never stored as sent; give it treatment scrub (stored "
            "after redaction), derive or drop"
        )
    if t.method == "derive" and (
        location is None or location.kind == "coordinates" or location.field != f.name
    ):
        raise fail(
            f"field {f.name!r}: treatment derive is for text used during ingest and then dropped: "
            "name the field as the schema's location field (kind postcode, outward_postcode or lsoa)"
        )
    if t.method == "coarsen_postcode_to_lsoa_or_outward" and f.type != "string":
        raise fail(f"field {f.name!r}: coarsen_postcode_to_lsoa_or_outward needs type string, not {f.type}")


def _parse_field(raw: Any, i: int, fail) -> Field:
    if not isinstance(raw, dict) or "name" not in raw:
        raise fail(f"fields[{i}]: expected a mapping with at least 'name' and 'type'")
    name = raw["name"]
    if not isinstance(name, str) or not name.strip():
        raise fail(f"fields[{i}]: 'name' must be a non-empty string")
    where = f"field {name!r}"
    for key in raw:
        if key not in _FIELD_KEYS:
            raise fail(f"{where}: unknown key {key!r}{_suggest(key, _FIELD_KEYS)}")
    ftype = raw.get("type")
    if ftype not in TYPES:
        raise fail(f"{where}: unknown type {ftype!r}{_suggest(str(ftype), TYPES)}")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise fail(f"{where}: 'required' must be true or false, got {required!r}")
    allowed = raw.get("allowed")
    if allowed is not None:
        if not isinstance(allowed, list) or not allowed:
            raise fail(f"{where}: 'allowed' must be a non-empty list")
        allowed = tuple(allowed)
    if ftype == "category" and allowed is None:
        raise fail(f"{where}: type category needs an 'allowed' list")
    pattern = raw.get("pattern")
    if pattern is not None:
        try:
            re.compile(str(pattern))
        except re.error as exc:
            raise fail(f"{where}: pattern {pattern!r} is not a valid regular expression ({exc})") from None
        pattern = str(pattern)
    fmt = raw.get("format")
    if fmt is not None and ftype not in ("date", "datetime"):
        raise fail(f"{where}: 'format' applies only to date and datetime fields")
    treatment = _parse_treatment(raw.get("treatment"), where, fail)
    purpose = raw.get("purpose")
    if purpose is not None and (not isinstance(purpose, str) or not purpose.strip()):
        raise fail(f"{where}: 'purpose' must be a sentence saying what the column is for")
    return Field(
        name=name,
        type=ftype,
        required=required,
        allowed=allowed,
        pattern=pattern,
        format=fmt,
        description=str(raw.get("description") or "").strip(),
        treatment=treatment,
        purpose=str(purpose or "").strip(),
    )


def _parse_treatment(raw: Any, where: str, fail) -> Treatment | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = {"method": raw}
    if not isinstance(raw, dict) or "method" not in raw:
        raise fail(f"{where}: 'treatment' must be a method name or a mapping with 'method'")
    method = raw["method"]
    if method not in TREATMENTS:
        raise fail(f"{where}: unknown treatment {method!r}{_suggest(str(method), TREATMENTS)}")
    for key in raw:
        if key != "method" and key not in _TREATMENT_OPTIONS[method]:
            raise fail(f"{where}: treatment {method} takes no option {key!r}")
    kwargs: dict[str, Any] = {"method": method}
    if "namespace" in raw:
        if not isinstance(raw["namespace"], str) or not raw["namespace"]:
            raise fail(f"{where}: treatment namespace must be a non-empty string")
        kwargs["namespace"] = raw["namespace"]
    if "normalise" in raw:
        if raw["normalise"] not in ("text", "compact"):
            raise fail(f"{where}: treatment normalise must be 'text' or 'compact', got {raw['normalise']!r}")
        kwargs["normalise"] = raw["normalise"]
    if "cell_m" in raw:
        cell = raw["cell_m"]
        if isinstance(cell, bool) or not isinstance(cell, int | float) or cell <= 0:
            raise fail(f"{where}: cell_m must be a positive number of metres, got {cell!r}")
        kwargs["cell_m"] = float(cell)
    if "bands" in raw:
        bands = raw["bands"]
        ok = isinstance(bands, list) and bands and all(isinstance(b, int) and b >= 0 for b in bands)
        if not ok or list(bands) != sorted(set(bands)):
            raise fail(f"{where}: age bands must be increasing whole numbers of years, got {bands!r}")
        kwargs["bands"] = tuple(bands)
    return Treatment(**kwargs)


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (expected one of: {', '.join(choices)})"
