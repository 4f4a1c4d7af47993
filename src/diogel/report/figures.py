"""The figures registry: every number the assessment shows, with what it means and where it came from.

A section never writes a number into the report directly. It registers a figure (a single value,
or a table of values) with a definition in words, the inputs it was computed from (source files by
name, SHA-256 ``file_id`` and ingest ``run_id``) and the parameters used, and puts the figure's
*span* in the text. ``figures.json`` is the registry written out, so any number in the report can
be looked up by its ``data-figure`` id and re-derived.

In ``figures.json`` each input file is cited once: a figure names its input keys (``"police:period"``,
``"population"``), the file's ``inputs`` map gives each key's source ids, and ``sources`` gives each
id's kind, name, ``file_id`` and ``run_id``. So the file grows with the files used, once each, not
with files times figures (a peer figure of a national warehouse used to list every file again).
A table's ``rows`` are lists in the order of its ``columns`` (name -> definition), not objects
repeating every column name in every row; :func:`table_records` turns them back into objects.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from diogel.report.i18n import _, here, in_language

__all__ = [
    "Figure",
    "figure_parameters",
    "resolve_figure",
    "table_records",
    "FigureRegistry",
    "fmt_count",
    "fmt_number",
    "fmt_p",
    "fmt_pct",
    "fmt_signed_pct",
    "plain",
]


def plain(value: Any) -> Any:
    """A JSON-safe Python value: numpy scalars unwrapped, NaN and infinities as None, dates as ISO."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _missing(value: Any) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt_count(value: float) -> str:
    """Whole numbers with thousands separators; a fractional count (apportioned LSOAs) keeps one decimal."""
    if _missing(value):
        return _("n/a")
    v = float(value)
    return f"{v:,.0f}" if abs(v - round(v)) < 1e-9 else f"{v:,.1f}"


def fmt_number(value: float, digits: int = 1) -> str:
    if _missing(value):
        return _("n/a")
    if math.isinf(float(value)):
        return _("infinite")
    return f"{float(value):,.{digits}f}"


def _pct_digits(percent: float, digits: int | None) -> int:
    # Whole percentages read best, but "0%" for a small non-zero share would hide it.
    if digits is not None:
        return digits
    return 1 if 0 < abs(percent) < 1 else 0


def fmt_pct(value: float, digits: int | None = None) -> str:
    """A share 0..1 as a percentage (whole percent; one decimal below 1%)."""
    if _missing(value):
        return _("n/a")
    pct = 100 * float(value)
    return f"{pct:.{_pct_digits(pct, digits)}f}%"


def fmt_signed_pct(value: float, digits: int | None = None) -> str:
    """A percentage change (already in percent) with its sign (whole percent; one decimal below 1%)."""
    if _missing(value):
        return _("n/a")
    pct = float(value)
    return f"{pct:+.{_pct_digits(pct, digits)}f}%"


def fmt_p(value: float) -> str:
    """p-values as analysts quote them: p < 0.001, p < 0.01, otherwise two significant figures."""
    if _missing(value):
        return _("n/a")
    p = float(value)
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return "p < 0.01"
    return f"p = {p:.2g}" if p < 0.995 else "p = 1"


@dataclass
class Figure:
    """One registered figure: a number, or a table of numbers (``rows``)."""

    id: str
    section: str
    kind: str  # "number", "table", "chart" or "map"
    label: str
    definition: str
    inputs: list[str]
    parameters: dict[str, Any]
    value: Any = None
    display: str = ""
    unit: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, Any]] | None = None
    files: list[str] = field(default_factory=list)
    based_on: list[str] = field(default_factory=list)


class FigureRegistry:
    """Figures registered while the sections are built.

    Parameters
    ----------
    resolve_inputs : maps an input key (e.g. ``"police:period"``, ``"population"``) to the list of
        source files it stands for, each ``{"kind", "name", "file_id", "run_id"}``.
    out_dir : the assessment folder; tables are written under ``tables/`` and maps under ``maps/``.
    """

    def __init__(self, resolve_inputs: Callable[[str], list[dict[str, str]]], out_dir: Path):
        self._resolve = resolve_inputs
        self.out_dir = Path(out_dir)
        self.figures: dict[str, Figure] = {}
        self.section = "report"

    # -- registering ---------------------------------------------------------------------------
    def _new_key(self, id_: str) -> str:
        """Figures are registered under the section that registers them: "levels" + "total" -> "levels.total"."""
        key = f"{self.section}.{id_}"
        if key in self.figures:
            raise ValueError(f"figure {key!r} is registered twice")
        return key

    def _key(self, id_: str) -> str:
        """A full id ("levels.total"), or one relative to the section being built ("total")."""
        return id_ if id_ in self.figures else f"{self.section}.{id_}"

    def _check_inputs(self, inputs: Iterable[str]) -> list[str]:
        keys = list(inputs)
        for k in keys:
            self._resolve(k)  # raises KeyError for an unknown input key
        return keys

    def number(
        self,
        id_: str,
        value: Any,
        *,
        label: str,
        definition: str,
        inputs: Iterable[str],
        parameters: Mapping[str, Any] | None = None,
        unit: str = "",
        fmt: Callable[[Any], str] = fmt_count,
    ) -> Markup:
        """Register a single value; return its span for the text."""
        key = self._new_key(id_)
        display = fmt(value)
        self.figures[key] = Figure(
            id=key,
            section=self.section,
            kind="number",
            label=label,
            definition=definition,
            inputs=self._check_inputs(inputs),
            parameters=dict(parameters or {}),
            value=plain(value),
            display=display,
            unit=unit,
        )
        return self.span(key)

    def table(
        self,
        id_: str,
        frame: pd.DataFrame,
        *,
        label: str,
        definition: str,
        columns: Mapping[str, str],
        inputs: Iterable[str],
        parameters: Mapping[str, Any] | None = None,
        csv: str | None = None,
        kind: str = "table",
        files: Sequence[str] = (),
        based_on: Sequence[str] = (),
    ) -> Figure:
        """Register a table of values (every column defined in ``columns``); write it to ``tables/``.

        ``kind`` is "chart" or "map" for the data behind a chart or map, which are then drawn from
        exactly these rows.
        """
        key = self._new_key(id_)
        undefined = [c for c in frame.columns if c not in columns]
        if undefined:
            raise ValueError(f"figure {key!r}: columns without a definition: {undefined}")
        written = list(files)
        if csv:
            path = self.out_dir / "tables" / f"{csv}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(path, index=False, lineterminator="\n")
            written.insert(0, f"tables/{csv}.csv")
        rows = [plain(r) for r in frame.to_dict(orient="records")]
        self.figures[key] = Figure(
            id=key,
            section=self.section,
            kind=kind,
            label=label,
            definition=definition,
            inputs=self._check_inputs(inputs),
            parameters=dict(parameters or {}),
            columns=dict(columns),
            rows=rows,
            files=written,
            based_on=list(based_on),
        )
        return self.figures[key]

    # -- using ---------------------------------------------------------------------------------
    def __contains__(self, id_: str) -> bool:
        return self._key(id_) in self.figures

    def get(self, id_: str) -> Figure:
        return self.figures[self._key(id_)]

    def span(self, id_: str) -> Markup:
        """The figure as it appears in text: its display value, tagged with its id."""
        f = self.get(id_)
        return Markup('<span class="fig" data-figure="{}">{}</span>').format(f.id, f.display)

    def cell(self, id_: str, row: int, column: str) -> Markup:
        """One cell of a table figure quoted in the text (e.g. a model's plain-English reading)."""
        f = self.get(id_)
        text = "" if f.rows[row][column] is None else str(f.rows[row][column])
        return Markup(
            '<span class="fig quote" data-figure="{}" data-row="{}" data-column="{}">{}</span>'
        ).format(f.id, row, column, text)

    def value(self, id_: str) -> Any:
        return self.get(id_).value

    def html_table(
        self,
        id_: str,
        columns: Mapping[str, str],
        formats: Mapping[str, Callable[[Any], str]] | None = None,
        caption: str | None = None,
        limit: int | None = None,
        classes: str = "",
    ) -> Markup:
        """An HTML table of a registered table figure, showing ``columns`` (name -> heading).

        The ``<table>`` carries the figure id, so every cell can be traced to figures.json.
        """
        f = self.get(id_)
        formats = dict(formats or {})
        rows = f.rows or []
        shown = rows if limit is None else rows[:limit]
        head = "".join(f"<th scope='col'>{escape(h)}</th>" for h in columns.values())
        body = []
        for r in shown:
            cells = []
            for c in columns:
                v = r.get(c)
                text = formats[c](v) if c in formats else ("" if v is None else str(v))
                numeric = isinstance(v, int | float) and not isinstance(v, bool)
                cells.append(f"<td class='{'num' if numeric else 'txt'}'>{escape(text)}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        cap = f"<caption>{escape(caption or here(f.label))}</caption>"
        more = ""
        if limit is not None and len(rows) > limit:
            csv_name = next((p for p in f.files if p.endswith(".csv")), "")
            more = (
                "<p class='note'>"
                + escape(_("Showing {} of {} rows; all rows are in {} and figures.json.")).format(
                    limit, len(rows), Markup("<code>{}</code>").format(csv_name)
                )
                + "</p>"
            )
        return Markup(
            f"<div class='table-wrap'><table class='{escape(classes)}' data-figure='{escape(f.id)}'>{cap}"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>{more}"
        )

    # -- writing -------------------------------------------------------------------------------
    def records(
        self,
        source_ids: Mapping[tuple[str, str], int] | None = None,
        shared: dict[str, list[dict[str, Any]]] | None = None,
    ) -> list[dict[str, Any]]:
        """The figures as written to figures.json.

        ``inputs`` is the figure's input keys, resolved through the file's ``inputs`` map. A table row
        that names a loaded file (its ``file_id`` and ``run_id`` are in ``source_ids``) cites it by its
        id in ``source`` instead of repeating its kind, name, file_id and run_id. Table cells that are
        floats are written to :data:`SIGNIFICANT` significant digits (the report shows three at most;
        ``tables/*.csv`` keep every digit).

        Given a ``shared`` dict, what several figures have in common is written once in it:
        ``shared["parameters"]`` gets ``{"id", "name", "value"}`` for each parameter (name and value)
        that several figures use, and those figures list its id under ``shared_parameters``;
        ``shared["definitions"]`` gets ``{"id", "text"}`` for each definition several figures share,
        and those figures give its id as ``shared_definition`` instead of a ``definition``.
        :func:`resolve_figure` puts both back.
        """
        source_ids = source_ids or {}
        common: dict[tuple[str, str], int] = {}
        texts: dict[str, int] = {}
        if shared is not None:
            common = _common_parameters(self.figures.values())
            shared["parameters"] = [{"id": i, "name": name, "value": json.loads(value)}
                                    for (name, value), i in common.items()]  # fmt: skip
            texts = _common_definitions(self.figures.values())
            welsh = {str(f.definition): str(in_language(f.definition, "cy")) for f in self.figures.values()}
            shared["definitions"] = [{"id": i, "text": t, "text_cy": welsh[t]} for t, i in texts.items()]
        out = []
        for f in self.figures.values():
            rec: dict[str, Any] = {
                "id": f.id,
                "section": f.section,
                "kind": f.kind,
                "label": str(f.label),
                # Every figure's label and definition in Welsh too (English where not yet translated).
                "label_cy": str(in_language(f.label, "cy")),
            }
            if str(f.definition) in texts:
                rec["shared_definition"] = texts[str(f.definition)]
            else:
                rec["definition"] = str(f.definition)
                rec["definition_cy"] = str(in_language(f.definition, "cy"))
            if f.kind == "number":
                rec |= {"value": f.value, "display": f.display} | ({"unit": f.unit} if f.unit else {})
            else:
                columns, rows = _cite_sources(f.columns, f.rows or [], source_ids)
                order = [c for c in (rows[0] if rows else columns) if c in columns]
                rec |= {
                    "columns": {c: columns[c] for c in order},
                    "rows": [[_rounded(r.get(c)) for c in order] for r in rows],
                    "files": f.files,
                }
                if f.based_on:
                    rec["based_on"] = f.based_on
            params = plain(f.parameters)
            ids = [common[k] for k in _parameter_keys(params) if k in common]
            rec["parameters"] = {k: v for k, v in params.items() if _parameter_key(k, v) not in common}
            if ids:
                rec["shared_parameters"] = ids
            rec["inputs"] = list(dict.fromkeys(f.inputs))
            out.append(rec)
        return out


#: Significant digits of a float table cell in figures.json: 7 keeps every value within a relative
#: 5e-7 of the computed one, below any difference the report or a test of it can show.
SIGNIFICANT = 7

#: A parameter (name and value, as JSON) this long or longer, used by two figures or more, is written
#: once in figures.json's ``shared_parameters`` (the period, a test's description, a scoring matrix).
SHARED_MIN_CHARS = 24


def _rounded(value: Any) -> Any:
    """A float cell to :data:`SIGNIFICANT` digits; a whole number without its ``.0`` (JSON has one number type)."""
    if isinstance(value, float) and math.isfinite(value):
        value = float(f"{value:.{SIGNIFICANT}g}")
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    return value


def _parameter_key(name: str, value: Any) -> tuple[str, str]:
    return name, json.dumps(value, sort_keys=True, ensure_ascii=False)


def _parameter_keys(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [_parameter_key(k, v) for k, v in params.items()]


def _common_parameters(figures: Iterable[Figure]) -> dict[tuple[str, str], int]:
    """Parameters (name, JSON value) worth writing once: long enough and used by two figures or more."""
    uses: dict[tuple[str, str], int] = {}
    for f in figures:
        for key in _parameter_keys(plain(f.parameters)):
            uses[key] = uses.get(key, 0) + 1
    common = [k for k, n in uses.items() if n >= 2 and len(k[0]) + len(k[1]) + 4 >= SHARED_MIN_CHARS]
    return {k: i for i, k in enumerate(common, start=1)}


def _common_definitions(figures: Iterable[Figure]) -> dict[str, int]:
    """Definitions worth writing once: long enough and shared by two figures or more."""
    uses: dict[str, int] = {}
    for f in figures:
        uses[str(f.definition)] = uses.get(str(f.definition), 0) + 1
    common = [t for t, n in uses.items() if n >= 2 and len(t) >= SHARED_MIN_CHARS]
    return {t: i for i, t in enumerate(common, start=1)}


def figure_parameters(document: Mapping[str, Any], figure: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter of a figure of figures.json: its own and those it names in ``shared_parameters``."""
    shared = {p["id"]: p for p in document.get("shared_parameters") or []}
    merged = {shared[i]["name"]: shared[i]["value"] for i in figure.get("shared_parameters") or []}
    return merged | dict(figure.get("parameters") or {})


def resolve_figure(document: Mapping[str, Any], figure: Mapping[str, Any]) -> dict[str, Any]:
    """A figure of figures.json with its shared definition and parameters written out in it."""
    out = dict(figure)
    if "shared_definition" in out:
        shared = {d["id"]: d for d in document.get("shared_definitions") or []}
        text = shared[out.pop("shared_definition")]
        out["definition"] = text["text"]
        out["definition_cy"] = text.get("text_cy", text["text"])
    out["parameters"] = figure_parameters(document, figure)
    out.pop("shared_parameters", None)
    return out


def table_records(figure: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A table figure of figures.json as one ``{column: value}`` object per row."""
    names = list(figure["columns"])
    return [dict(zip(names, row, strict=True)) for row in figure.get("rows") or []]


_SOURCE_COLUMNS = ("kind", "name", "file_id", "run_id")


def _cite_sources(
    columns: dict[str, str], rows: list[dict[str, Any]], source_ids: Mapping[tuple[str, str], int]
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Rows naming a file of ``sources`` (a list of the files used) carry its id, not its details again."""
    if not source_ids or not {"file_id", "run_id"} <= set(columns):
        return columns, rows
    cited = [source_ids.get((r.get("file_id"), r.get("run_id"))) for r in rows]
    if not rows or any(i is None for i in cited):
        return columns, rows
    kept = {c: d for c, d in columns.items() if c not in _SOURCE_COLUMNS}
    return {"source": "id of the file in figures.json's sources", **kept}, [
        {"source": i, **{c: v for c, v in r.items() if c not in _SOURCE_COLUMNS}}
        for i, r in zip(cited, rows, strict=True)
    ]
