"""Reading input files ahead of the writes, and batching parsed files into transactions.

Part of :meth:`diogel.warehouse.core.Warehouse.ingest`: files are read, hashed and (for kinds with
``parallel_read``) parsed one or two ahead in a worker thread while the main thread writes. On the
DuckDB-native route the thread works a group of files at a time (see
:mod:`diogel.warehouse.native_ingest`): it reads and hashes each, stages the new ones with one
``read_csv``, then hands them over one by one, as it does single files.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from diogel.errors import InputError
from diogel.sources import files as source_files
from diogel.sources.registry import ParsedFile, SourceKind
from diogel.warehouse import native_ingest
from diogel.warehouse.native_ingest import StagedFile

# Rows per transaction for kinds with ``parallel_read``: enough that the engine's fixed cost per
# commit (DuckDB: write-ahead log sync and checkpoints) is spread over many rows, small enough
# that a batch's Arrow tables stay in the tens of megabytes.
BATCH_ROWS = 250_000
BATCH_FILES = 500
READ_AHEAD = 2  # files (native route: groups of files) read and parsed ahead of the one being written


@dataclass
class Prepared:
    """One input file after reading (and, for ``parallel_read`` kinds, parsing) it."""

    item: source_files.InputFile
    file_id: str | None = None
    size: int = 0
    data: bytes | None = None
    parsed: ParsedFile | StagedFile | None = None
    error: InputError | None = None
    rows_valid: int = 0
    events: list[dict] = field(default_factory=list)  # slices this file takes over (slice_event rows)
    slices: dict[str, int] | None = None  # rows per slice key, once the guard has admitted the file


class Preparer:
    """Reads a file, hashes it and, when ``in_thread``, parses it: what the read-ahead thread runs."""

    def __init__(
        self,
        kind: SourceKind,
        options: dict | None,
        known: set[str],
        in_thread: bool,
        native: native_ingest.NativeRoute | None = None,
    ):
        self.kind, self.options, self.known, self.in_thread = kind, options, known, in_thread
        self.native = native

    def __call__(self, item: source_files.InputFile) -> Prepared:
        prep = self.read(item)
        return self.finish(prep) if prep.error is None else prep

    def read(self, item: source_files.InputFile) -> Prepared:
        """The file's bytes and content hash (or the one-line error)."""
        try:
            data = item.read()
        except InputError as exc:
            return Prepared(item, error=exc)
        return Prepared(item, source_files.sha256(data), len(data), data)

    def finish(self, prep: Prepared) -> Prepared:
        """A new file parsed in the thread (staged on the native route, else the kind's ``read``)."""
        if not self.in_thread or prep.file_id in self.known:
            return prep
        try:
            staged = self.native.stage(prep.item, prep.data) if self.native is not None else None  # type: ignore[arg-type]
            if staged is not None:
                prep.parsed, prep.data = staged, None
            else:  # the other route: Arrow parses, validates, and the rows are appended
                prep.parsed = self.parse(prep)
        except InputError as exc:
            return Prepared(prep.item, error=exc)
        return prep

    def groups(self, inputs: list[source_files.InputFile]) -> list[list[source_files.InputFile]]:
        """The inputs in order, cut into the groups the thread prepares together (one each but on the native route)."""
        if self.native is None or not self.in_thread:
            return [[item] for item in inputs]
        out: list[list[source_files.InputFile]] = []
        size = 0
        for item in inputs:
            plain = item.member is None and item.path.suffix.lower() == ".csv"
            n = _size(item.path) if plain else None
            if (
                n is None
                or not out
                or size + n > native_ingest.GROUP_BYTES
                or len(out[-1]) >= native_ingest.GROUP_FILES
            ):
                out.append([item])
                size = n or native_ingest.GROUP_BYTES  # (a member, .gz or unreadable file: a group alone)
            else:
                out[-1].append(item)
                size += n
        return out

    def run(self, items: list[source_files.InputFile], futures: list[Future[Prepared]]) -> None:
        """Prepare ``items`` together, each into its future (in order)."""
        try:
            if len(items) == 1:
                futures[0].set_result(self(items[0]))
                return
            preps = [self.read(item) for item in items]
            assert self.native is not None
            new = [p for p in preps if p.error is None and p.file_id not in self.known]
            self.native.prefetch([(p.item, p.data) for p in new])  # type: ignore[misc]
            for prep, future in zip(preps, futures, strict=True):
                future.set_result(self.finish(prep) if prep.error is None else prep)
        except BaseException as exc:
            for future in futures:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise

    def parse(self, prep: Prepared) -> ParsedFile:
        data, prep.data = prep.data, None
        assert data is not None
        return self.kind.read(prep.item.label, data, self.options)


class ReadAhead:
    """Futures of prepared files in input order, with up to ``READ_AHEAD`` more being prepared."""

    def __init__(self, inputs: list[source_files.InputFile], prepare: Preparer):
        self.inputs, self.prepare = inputs, prepare
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="diogel-read")
        self.starts: set[int] = set()  # the index of each group's first file, once iterating

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def __iter__(self) -> Iterator[Future[Prepared]]:
        queue: deque[list[Future[Prepared]]] = deque()
        groups = self.prepare.groups(self.inputs)
        self.starts = set(itertools.accumulate((len(g) for g in groups[:-1]), initial=0))
        rest = iter(groups)

        def submit() -> None:
            items = next(rest, None)
            if items is not None:
                futures: list[Future[Prepared]] = [Future() for _ in items]
                self.pool.submit(self.prepare.run, items, futures)
                queue.append(futures)

        # A group is many files: one ahead keeps the thread busy (and its staging tables few).
        for _ in range(READ_AHEAD + 1 if self.prepare.native is None else 1):
            submit()
        while queue:
            futures = queue.popleft()
            submit()
            yield from futures


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


class Batch:
    """Parsed files waiting for their transaction, with the seq each was given.

    Files staged by the DuckDB-native route are written one group at a time (one ``INSERT`` of a
    whole group, see :mod:`~diogel.warehouse.native_ingest`): a batch holding a group's files is
    full when a file of the next group comes (a group is about 430,000 police.uk rows: see
    :data:`~diogel.warehouse.native_ingest.GROUP_BYTES`).
    """

    def __init__(self) -> None:
        self.files: list[tuple[Prepared, int]] = []
        self.rows = 0
        self.group: native_ingest.Group | None = None

    def other_group(self, prep: Prepared) -> bool:
        """Whether ``prep`` was staged in another group than the batch's files."""
        parsed = prep.parsed
        return self.group is not None and isinstance(parsed, StagedFile) and parsed.group is not self.group

    def add(self, prep: Prepared, seq: int) -> None:
        assert prep.parsed is not None
        self.files.append((prep, seq))
        parsed = prep.parsed
        if isinstance(parsed, StagedFile):
            self.rows += parsed.num_rows
            self.group = parsed.group
        else:
            self.rows += parsed.rows.num_rows

    def full(self, rows: int, files: int) -> bool:
        return (self.group is None and self.rows >= rows) or len(self.files) >= files

    def take(self) -> list[tuple[Prepared, int]]:
        files, self.files, self.rows, self.group = self.files, [], 0, None
        return files
