"""Uploads into the warehouse (read-write, for the ingest alone) and the rows it quarantined."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from diogel.portal.views import Dataset


class Ingest:
    """Uploads (a part of :class:`~diogel.portal.views.WarehouseViews`; a load empties its cache)."""

    def ingest(self, dataset: Dataset, path: str, supplier: str | None = None) -> list:
        """Ingest an uploaded file through the warehouse's own validation and de-personalisation.

        ``supplier`` (the uploading agency) keys a partner file's slices, so two agencies' files of
        one dataset never replace each other, and an agency's later file of the same months is
        guarded like ``diogel ingest partner --supplier``. The warehouse is opened read-write for
        the ingest alone (waiting, if the command line is using it, up to ``DIOGEL_LOCK_WAIT``
        seconds, then :class:`~diogel.warehouse.backends.WarehouseBusy`)."""
        options = dict(dataset.options)
        if supplier and dataset.source_kind == "partner":
            options["supplier"] = supplier
        with self.lock, self.access.writing() as wh:
            results = wh.ingest(dataset.source_kind, path, options=options or None)
        if any(r.status == "loaded" for r in results):
            self.invalidate()  # a refused or repeated file changes nothing, so the cache stays
        return results

    def quarantine(self, file_ids: list[str]) -> pd.DataFrame:
        if not file_ids:
            return pd.DataFrame(columns=["file_name", "line", "column_name", "reason", "raw"])
        with self.reading():
            t = self.wh.table("quarantine")
            t = t.filter(t.file_id.isin(file_ids)).order_by(["file_name", "line"])
            return self.wh.execute(t.select("file_name", "line", "column_name", "reason", "raw"))
