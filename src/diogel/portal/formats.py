"""How a resource is presented: the request asks for a page, JSON (``/api/...``) or CSV (``....csv``),
and one route handler per resource builds the data once and hands it to the presentation asked for
(as datasette's ``table_view``). JSON is strict (no NaN); CSV cells a spreadsheet would run are made inert.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any, Literal

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from diogel.portal import audit
from diogel.portal.models import User
from diogel.portal.views import Dataset

Format = Literal["html", "json", "csv"]


def requested_format(request: Request) -> Format:
    """What the request's address asks for: JSON under ``/api/``, CSV for a ``.csv`` path, else a page."""
    path = request.url.path
    if path.startswith("/api/"):
        return "json"
    return "csv" if path.endswith(".csv") else "html"


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-safe records (pandas NA and NaN become null, numpy scalars Python ones)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in clean.to_dict("records")
    ]


def ward_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The suppressed ward table with its wards as a column (as JSON and CSV give it)."""
    return table.reset_index().rename(columns={"ward_name": "ward"})


def json_bytes(payload: Any) -> bytes:
    """Strict JSON (NaN is refused, so a missing value must already be null)."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


class JSONBytes(Response):
    """A response of JSON already encoded (and cached) by :func:`json_bytes`."""

    media_type = "application/json"


#: A spreadsheet treats a cell starting with one of these as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made inert as OWASP advises: prefixed with
    a single quote (which Excel and LibreOffice show as text). Numbers are left alone, so a
    negative count stays a number."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell (and column name) neutralised for export."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def csv_response(frame: pd.DataFrame, name: str) -> Response:
    buf = io.StringIO()
    neutralised(frame).to_csv(buf, index=False, lineterminator="\n")
    return Response(
        buf.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def audited_export(
    s: Session,
    user: User,
    ds: Dataset,
    code: str,
    route: str,
    level: str,
    frame: pd.DataFrame,
    rows: int | None = None,
    filename: str | None = None,
) -> Response:
    """Record the export in the audit chain, then send ``frame`` as CSV (no export goes unrecorded)."""
    n = len(frame) if rows is None else rows
    audit.append(s, user.username, "export", f"{ds.name}/{code}/{route}", {"level": level, "rows": n})
    s.commit()
    return csv_response(frame, f"{ds.name}-{code}-{filename or route}")


def serve(
    router: APIRouter,
    endpoint: Callable[..., Any],
    *,
    page: str | None = None,
    api: str | None = None,
    csv: str | None = None,
    method: str = "GET",
    api_name: str | None = None,
    response_model: Any = None,
    **api_options: Any,
) -> None:
    """Register one handler at the address of each format it answers: the page and the CSV outside
    the OpenAPI description, the JSON inside it under ``api_name`` (the operation's name)."""
    for path in (page, csv):
        if path:
            router.add_api_route(path, endpoint, methods=[method], include_in_schema=False)
    if api:
        router.add_api_route(
            api, endpoint, methods=[method], response_model=response_model, tags=["api"],
            name=api_name or endpoint.__name__, **api_options,
        )  # fmt: skip
