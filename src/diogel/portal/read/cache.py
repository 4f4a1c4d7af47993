"""The one cache the portal's read models share, and the warehouse connection they read through.

The portal does not keep the warehouse open (see :mod:`diogel.warehouse.access`): on the default
embedded DuckDB file each computation opens it read-only, reads, and closes it, and an upload opens
it read-write for as long as the ingest takes, so ``diogel ingest``, ``status`` and ``assess`` run
beside ``diogel serve``. The version moves when the file's change stamp moves (a commit by any
process, checked on every request at the cost of two ``stat`` calls), so the portal shows new data
as soon as an ingest commits; on PostgreSQL and Spark (one connection for the process) it is the
highest ingest sequence number, re-read every ``recheck_seconds``. While another process writes
(the file is locked), a page is answered from the read models computed before, if there are any,
and otherwise :class:`~diogel.warehouse.backends.WarehouseBusy` after a short wait (a 503 page).

A lock serialises the uses of the warehouse within the process, because an embedded DuckDB
connection must not be used by two threads at once and the file must not be open read-only and
read-write in one process.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

#: After finding the warehouse locked by a writer, how long pages are answered from the read models
#: computed before without trying the file again.
BUSY_BACKOFF_SECONDS = 2.0


class ReadCache:
    """The portal's access to one warehouse and the cache of what was read from it.

    ``warehouse`` is an :class:`~diogel.warehouse.access.Access` (``ShortLived`` for an embedded
    DuckDB file, ``Held`` otherwise) or an open :class:`~diogel.warehouse.core.Warehouse` to use
    throughout (tests lend one). ``max_entries`` bounds the read-model cache (least recently used
    entries go first).
    """

    def __init__(self, warehouse, recheck_seconds: float = 30.0, max_entries: int = 256):  # noqa: ANN001
        from diogel.warehouse.access import Access, Held

        self.access: Access = warehouse if isinstance(warehouse, Access) else Held(warehouse)
        self.lock = threading.RLock()
        self.recheck_seconds = recheck_seconds
        self.max_entries = max_entries
        self._open = None  # the warehouse open in the thread holding the lock, if any
        self._signature: Any = None
        self._signature_lock = threading.Lock()
        self._generation = 0
        self._version: int | None = None
        self._checked = 0.0
        self._busy_until = 0.0  # after finding a writer, answer from older read models until then
        # key -> (version it was computed at, value); kept past a version change so that a page can
        # still be answered while another process holds the warehouse for writing.
        self._cache: OrderedDict[tuple, tuple[int, Any]] = OrderedDict()

    # -- the warehouse connection --------------------------------------------------------------------
    @property
    def wh(self):  # noqa: ANN201
        """The warehouse open for the current computation (inside :meth:`reading`)."""
        if self._open is None:
            from diogel.warehouse.access import Held

            if isinstance(self.access, Held):
                return self.access.warehouse
            raise RuntimeError("WarehouseViews.wh used outside 'with views.reading()'")
        return self._open

    @contextlib.contextmanager
    def reading(self, wait: float | None = None) -> Iterator[Any]:
        """The warehouse, open read-only for the duration (re-entrant: nested uses share it).

        ``wait``: seconds to wait for another process that is writing (None: the access's default).
        """
        with self.lock:
            if self._open is not None:
                yield self._open
                return
            with self.access.reading(wait) as wh:
                self._open = wh
                try:
                    yield wh
                finally:
                    self._open = None

    # -- versioning and cache ----------------------------------------------------------------------
    def version(self) -> int:
        """A number that moves on whenever the warehouse may have changed."""
        signature = self.access.signature()
        if signature is not None:
            if signature != self._signature:
                # Not self.lock: a page whose read model is cached must not wait for a computation.
                with self._signature_lock:
                    if signature != self._signature:
                        self._signature = signature
                        self._generation += 1
            return self._generation
        now = time.monotonic()
        if self._version is None or now - self._checked > self.recheck_seconds:
            with self.reading() as wh:
                t = wh.table("source_file")
                v = wh.execute(t.seq.max())
                self._version = self._generation + (0 if v is None or pd.isna(v) else int(v))
                self._checked = now
        return self._version

    def invalidate(self) -> None:
        with self.lock:
            self._version = None
            self._generation += 1
            self._cache.clear()

    def cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per warehouse version, with the warehouse open for it.

        If another process holds the warehouse for writing, the value computed at an earlier
        version is returned at once (the page is a few moments behind, never an error), and for
        :data:`BUSY_BACKOFF_SECONDS` no request tries the file again; without an earlier value the
        read waits (:data:`~diogel.warehouse.access.READ_WAIT_SECONDS`), then
        :class:`~diogel.warehouse.backends.WarehouseBusy` propagates.
        """
        from diogel.warehouse.backends import WarehouseBusy

        version = self.version()
        hit = self._cache.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        with self.lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == version:
                return hit[1]
            if hit is not None and time.monotonic() < self._busy_until:
                return hit[1]
            try:
                # With an older value to fall back on, a writer is not waited for.
                with self.reading(wait=0.0 if hit is not None else None):
                    value = compute()
            except WarehouseBusy:
                self._busy_until = time.monotonic() + BUSY_BACKOFF_SECONDS
                if hit is None:
                    raise
                return hit[1]
            self._cache[key] = (version, value)
            self._cache.move_to_end(key)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return value
