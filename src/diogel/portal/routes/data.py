"""police.uk data at each level of the agreement: the records (record level), counts by LSOA (LSOA
level) and the suppressed ward table (area level). One handler per resource answers its page, its
JSON and its audited CSV export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from diogel.portal import audit, isa
from diogel.portal.deps import (
    area_for,
    current_user,
    get_db,
    police_only,
    portal_of,
    require_level,
    require_user,
)
from diogel.portal.formats import (
    JSONBytes,
    audited_export,
    frame_records,
    json_bytes,
    requested_format,
    serve,
    ward_frame,
)
from diogel.portal.models import User
from diogel.portal.pages import render
from diogel.portal.views import Dataset

router = APIRouter()

#: Records a page shows.
PAGE_ROWS = 100


def list_datasets(
    request: Request, user: User | None = Depends(current_user), s: Session = Depends(get_db)
) -> list[dict[str, Any]]:
    """Every dataset of the agreement with the caller's level and whether the caller may upload it."""
    portal = portal_of(request)
    return [
        {
            "name": d.name,
            "title": d.title,
            "level": isa.level_for(s, user, d.name),
            "upload": isa.can_upload(s, user, d.name),
        }
        for d in portal.datasets.values()
    ]


serve(router, list_datasets, api="/api/datasets", response_model=list[dict[str, Any]])


def records(
    request: Request,
    ds: Dataset = Depends(require_level("record")),
    user: User = Depends(require_user),
    area: str | None = None,
    month: str | None = Query(None, pattern=r"^\d{4}-\d{2}$"),
    crime_type: str | None = None,
    page: int = Query(1, ge=1, le=100000, include_in_schema=False),
    limit: int = Query(100, ge=1, le=5000),
    offset: int = Query(0, ge=0),
    s: Session = Depends(get_db),
) -> Response:
    """Record-level rows (pseudonymised). Every call is written to the audit log."""
    police_only(ds)
    portal = portal_of(request)
    code = area_for(portal, area)
    fmt = requested_format(request)
    if fmt == "csv":
        # The export is the area's every record (the page's link carries the area only).
        rows, total = portal.views.records(code, limit=10_000_000)
        return audited_export(s, user, ds, code, "records.csv", "record", rows, total)
    if fmt == "html":
        limit, offset = PAGE_ROWS, (page - 1) * PAGE_ROWS
    rows, total = portal.views.records(code, month, crime_type, limit=limit, offset=offset)
    if fmt == "json":
        detail = {"api": True, "month": month, "crime_type": crime_type, "offset": offset, "rows": len(rows)}
    else:
        detail = {"month": month, "crime_type": crime_type, "page": page, "rows": len(rows)}
    audit.append(s, user.username, "view.records", f"{ds.name}/{code}", detail)
    s.commit()
    if fmt == "json":
        return {  # type: ignore[return-value]
            "dataset": ds.name, "area": code, "total": total, "offset": offset, "records": frame_records(rows),
        }  # fmt: skip
    return render(
        request, "data_records.html", ds=ds, area=code, rows=rows.to_dict("records"), total=total,
        page=page, pages=max(1, -(-total // PAGE_ROWS)), month=month or "", crime_type=crime_type or "",
    )  # fmt: skip


serve(
    router, records, page="/data/{dataset}/records", csv="/data/{dataset}/records.csv",
    api="/api/datasets/{dataset}/records", api_name="api_records", response_model=dict[str, Any],
)  # fmt: skip


def lsoa(
    request: Request,
    ds: Dataset = Depends(require_level("lsoa")),
    area: str | None = None,
    user: User | None = Depends(current_user),
    s: Session = Depends(get_db),
) -> Response:
    """Counts by LSOA and crime type over the last 12 months (no suppression: LSOA level)."""
    police_only(ds)
    portal = portal_of(request)
    code = area_for(portal, area)
    counts = portal.views.lsoa_counts(code)
    fmt = requested_format(request)
    if fmt == "json":
        return {"dataset": ds.name, "area": code, "counts": frame_records(counts)}  # type: ignore[return-value]
    if fmt == "csv":
        return audited_export(s, user, ds, code, "lsoa.csv", "lsoa", counts)
    table = counts.pivot_table(
        index="lsoa_code", columns="crime_type", values="count", aggfunc="sum", fill_value=0
    )
    return render(
        request, "data_table.html", ds=ds, area=code, level="lsoa", table=table, rule="", csv="lsoa.csv"
    )


serve(
    router, lsoa, page="/data/{dataset}/lsoa", csv="/data/{dataset}/lsoa.csv",
    api="/api/datasets/{dataset}/lsoa", api_name="api_lsoa", response_model=dict[str, Any],
)  # fmt: skip


def ward_records(portal, code: str) -> tuple[list[dict[str, Any]], str, list[str]]:  # noqa: ANN001
    """The suppressed ward table as JSON records, cached with the table (it is read on every visit)."""

    def compute() -> tuple[list[dict[str, Any]], str, list[str]]:
        table, rule, months = portal.views.ward_table(code)
        return frame_records(ward_frame(table)), rule, months

    return portal.views.cached(("ward_json", code), compute)


def areas(
    request: Request,
    ds: Dataset = Depends(require_level("area")),
    area: str | None = None,
    user: User | None = Depends(current_user),
    s: Session = Depends(get_db),
) -> Response:
    """Counts by ward and crime type over the last 12 months, small numbers suppressed (null)."""
    police_only(ds)
    portal = portal_of(request)
    code = area_for(portal, area)
    fmt = requested_format(request)
    if fmt == "json":

        def compute() -> bytes:
            wards, rule, months = ward_records(portal, code)
            return json_bytes(
                {"dataset": ds.name, "area": code, "months": months, "rule": rule, "wards": wards}
            )

        return JSONBytes(portal.views.cached(("areas_json", ds.name, code), compute))
    table, rule, months = portal.views.ward_table(code)
    if fmt == "csv":
        return audited_export(
            s, user, ds, code, "areas.csv", "area", ward_frame(table), filename="wards-suppressed.csv"
        )
    return render(
        request, "data_table.html", ds=ds, area=code, level="area", table=table, rule=rule, csv="areas.csv",
        months=months,
    )  # fmt: skip


serve(
    router, areas, page="/data/{dataset}/areas", csv="/data/{dataset}/areas.csv",
    api="/api/datasets/{dataset}/areas", api_name="api_areas", response_model=dict[str, Any],
)  # fmt: skip
