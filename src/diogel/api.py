"""The notebook API: diogel's public face, re-exported from :mod:`diogel` (``import diogel``).

Five functions over the private implementation, as geopandas publishes ``read_file``::

    import diogel

    wh = diogel.open_warehouse("diogel-data")
    diogel.ingest(wh, "police-street", "2025-06/")
    by_la = diogel.counts(wh, by=["la", "month"], area="W15000002")
    result = diogel.assess(wh, "Newport", "2024-07..2025-06", "assessment-newport", pdf=False)
    alloc = diogel.allocate(wh, "scf")

Each is a thin call of the module that does the work (named in its docstring); ``import diogel``
imports none of them until one is first used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from diogel.report.assessment import AssessmentResult
    from diogel.resources.funding import Allocation
    from diogel.warehouse.core import FileResult, Warehouse

__all__ = ["allocate", "assess", "counts", "ingest", "open_warehouse"]


def open_warehouse(
    data_dir: str | Path | None = None, url: str | None = None, read_only: bool = False
) -> Warehouse:
    """The warehouse in ``data_dir`` (default ``DIOGEL_DATA_DIR`` or ``./diogel-data``), created if new.

    ``url`` chooses the engine as ``--warehouse`` does (DuckDB in the data directory by default,
    ``postgresql://...``, ``spark://local[2]``). Use it in a ``with`` block, or call ``.close()``:
    while it is open read-write no other process can write (:class:`diogel.warehouse.core.Warehouse`).
    """
    from diogel.warehouse.core import Warehouse

    return Warehouse(url, data_dir, read_only=read_only)


def ingest(
    wh: Warehouse, kind: str, path: str | Path, replace: bool = False, **options: Any
) -> list[FileResult]:
    """Load every file of ``kind`` under ``path`` (a file, folder or zip), as ``diogel ingest`` does.

    ``options`` are the kind's own (e.g. ``schema="ed_assaults"`` for partner data). Each file's
    result says loaded, duplicate, refused (with its one-line reason) and its row counts
    (:meth:`diogel.warehouse.core.Warehouse.ingest`).
    """
    return wh.ingest(kind, path, options=options or None, replace=replace)


def counts(
    wh: Warehouse, by: list[str], area: str | None = None, start: str | None = None, end: str | None = None
) -> pd.DataFrame:
    """Crimes and ASB incidents under the counting rules, grouped by ``by`` (``lsoa``, ``ward``, ``la``,
    ``csp``, ``force``, ``month``, ``crime_type``...), within ``area`` and months ``start``..``end``
    (``YYYY-MM``) (:func:`diogel.warehouse.queries.counts`)."""
    from diogel.warehouse.queries import counts as counted

    return counted(wh, by=by, area=area, start=start, end=end)


def assess(wh: Warehouse, area: str, period: str, out_dir: str | Path, **options: Any) -> AssessmentResult:
    """Write the strategic assessment of ``area`` over ``period`` (``YYYY-MM..YYYY-MM``) into ``out_dir``:
    HTML, figures.json and (unless ``pdf=False``) a PDF, as ``diogel assess`` does.

    ``options`` are :class:`diogel.report.context.AssessOptions` fields (``seed``, ``peers``, ``pdf``...)
    (:func:`diogel.report.assessment.run_assessment`).
    """
    from diogel.report.assessment import run_assessment
    from diogel.report.context import AssessOptions

    return run_assessment(wh, area, period, out_dir, AssessOptions(**options))


def allocate(
    wh: Warehouse, formula: str | Path = "scf", year: int | None = None, **options: Any
) -> Allocation:
    """Allocate a funding formula's pot (a preset name: ``scf``, ``smaf``, ``needs``; or a YAML path) for
    financial ``year`` on indicators from the warehouse, as ``diogel funding allocate`` does
    (:func:`diogel.resources.funding.allocate_from_warehouse`; ``options`` are its other arguments).
    """
    from diogel.resources.funding import allocate_from_warehouse

    return allocate_from_warehouse(wh, formula, year=year, **options)
