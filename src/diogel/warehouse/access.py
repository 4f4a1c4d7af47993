"""How a long-running process (the portal) uses the warehouse without keeping other processes out.

An embedded DuckDB file is open read-write in one process or read-only in several, never both
(see :mod:`diogel.warehouse.backends`). A process that held it open all day, as ``diogel serve``
once did, would stop every ``diogel ingest`` and even every ``diogel status`` on the data
directory. So a long-running process takes the warehouse through one of these:

* :class:`ShortLived` (an embedded DuckDB file): every use opens the file, read-only to read or
  read-write to write (a portal upload), and closes it when done, so between uses the file is
  free for the command line. :meth:`ShortLived.signature` is the file's change stamp (size and
  modification time of the file and its write-ahead log): it moves whenever any process commits,
  and reading it costs two ``stat`` calls, not an open, so a reader can keep what it computed
  until it moves.
* :class:`Held` (PostgreSQL, Spark, or a :class:`~diogel.warehouse.core.Warehouse` a caller opened
  and lends, as tests do): one connection for the process's lifetime. PostgreSQL has no file lock;
  Spark runs as before. There is no cheap change stamp (``signature`` is None): a reader asks the
  warehouse for its latest ingest sequence number instead.

Both hand out a :class:`~diogel.warehouse.core.Warehouse` in ``with access.reading() as wh`` and
``with access.writing() as wh`` and are not thread-safe: the caller serialises its uses (an
embedded DuckDB connection must not be shared by two threads at once anyway).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from diogel.warehouse import backends
from diogel.warehouse.core import Warehouse

Signature = tuple[int, ...] | None

#: How long a portal page waits for a writing process (an ingest of a month takes seconds) when it
#: has nothing computed before to show; then it answers "busy". A person is waiting.
READ_WAIT_SECONDS = 30.0

#: How long each read steps aside for an ingest that is waiting for the file (see
#: :func:`~diogel.warehouse.backends.open_duckdb`): long enough for the writer's next retry.
YIELD_SECONDS = 3.0


class Access:
    """Where a long-running process gets the warehouse from; see the module docstring."""

    def reading(self, wait: float | None = None) -> contextlib.AbstractContextManager[Warehouse]:
        """The warehouse to read; ``wait``: seconds to wait for a writer (None: the default)."""
        raise NotImplementedError

    def writing(self) -> contextlib.AbstractContextManager[Warehouse]:
        raise NotImplementedError

    def signature(self) -> Signature:
        """A stamp that changes whenever the warehouse may have changed, or None if there is none."""
        return None

    def close(self) -> None:
        pass


class ShortLived(Access):
    """Open an embedded DuckDB file for each use and close it after (see the module docstring).

    Parameters
    ----------
    url, data_dir : as for :class:`~diogel.warehouse.core.Warehouse`; ``url`` names a DuckDB file.
    read_wait : seconds a read waits for a writer (default :data:`READ_WAIT_SECONDS`).
    write_wait : seconds a write waits for readers and writers (default ``DIOGEL_LOCK_WAIT``, 120).
    on_wait : told what is being waited for (default: a line on stderr, not repeated while it
        stays the same, as many reads may wait for one ingest).
    """

    def __init__(
        self,
        url: str | None,
        data_dir: str | Path,
        read_wait: float = READ_WAIT_SECONDS,
        write_wait: float | None = None,
        on_wait: Callable[[str], None] | None = None,
    ):
        path = backends.duckdb_path(url, Path(data_dir))
        if path is None:
            raise ValueError(f"not a DuckDB warehouse: {url!r}")
        self.url, self.data_dir, self.path = url, Path(data_dir), path
        self.read_wait, self.write_wait = read_wait, write_wait
        self.on_wait = on_wait or self._say_once
        self._said = ""
        if not path.exists():
            Warehouse(url, data_dir, wait=write_wait, on_wait=on_wait).close()  # create it once

    @contextlib.contextmanager
    def reading(self, wait: float | None = None) -> Iterator[Warehouse]:
        wait = self.read_wait if wait is None else wait
        # A portal reads often: it steps aside while an ingest waits, or the ingest could wait forever.
        with Warehouse(
            self.url,
            self.data_dir,
            read_only=True,
            wait=wait,
            on_wait=self.on_wait,
            yield_to_writers=YIELD_SECONDS,
        ) as wh:
            yield wh

    @contextlib.contextmanager
    def writing(self) -> Iterator[Warehouse]:
        with Warehouse(self.url, self.data_dir, wait=self.write_wait, on_wait=self.on_wait) as wh:
            yield wh

    def _say_once(self, message: str) -> None:
        if message != self._said:
            self._said = message
            print(message, file=sys.stderr, flush=True)

    def signature(self) -> Signature:
        # DuckDB appends each commit to the write-ahead log and folds the log into the file at a
        # checkpoint (at the latest when the writer closes): one of the two always moves.
        stamp: list[int] = []
        for p in (self.path, self.path.with_name(self.path.name + ".wal")):
            try:
                st = os.stat(p)
            except FileNotFoundError:
                stamp += [-1, -1]
            else:
                stamp += [st.st_size, st.st_mtime_ns]
        return tuple(stamp)


class Held(Access):
    """One open warehouse for the process's lifetime (PostgreSQL, Spark, or one lent by a caller)."""

    def __init__(self, warehouse: Warehouse, own: bool = False):
        self.warehouse, self.own = warehouse, own

    @contextlib.contextmanager
    def reading(self, wait: float | None = None) -> Iterator[Warehouse]:
        yield self.warehouse

    @contextlib.contextmanager
    def writing(self) -> Iterator[Warehouse]:
        yield self.warehouse

    def close(self) -> None:
        if self.own:
            self.warehouse.close()


def for_process(
    url: str | None, data_dir: str | Path, on_wait: Callable[[str], None] | None = None
) -> Access:
    """The right access for a long-running process: :class:`ShortLived` for an embedded DuckDB file,
    otherwise one :class:`Held` connection (PostgreSQL, Spark)."""
    url = url or os.environ.get("DIOGEL_WAREHOUSE") or None
    if backends.duckdb_path(url, Path(data_dir)) is not None:
        return ShortLived(url, data_dir, on_wait=on_wait)
    return Held(Warehouse(url, data_dir), own=True)
