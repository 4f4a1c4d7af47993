"""Reading input files ahead of the writes, and batching parsed files into transactions.

Part of :meth:`diogel.warehouse.core.Warehouse.ingest`: files are read, hashed and (for kinds with
``parallel_read``) parsed one or two ahead in a worker thread while the main thread writes.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

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
READ_AHEAD = 2  # files read and parsed ahead of the one being written


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
        try:
            data = item.read()
            prep = Prepared(item, source_files.sha256(data), len(data), data)
            if self.in_thread and prep.file_id not in self.known:
                staged = self.native.stage(item, data) if self.native is not None else None
                if staged is not None:
                    prep.parsed, prep.data = staged, None
                else:  # the other route: Arrow parses, validates, and the rows are appended
                    prep.parsed = self.parse(prep)
        except InputError as exc:
            return Prepared(item, error=exc)
        return prep

    def parse(self, prep: Prepared) -> ParsedFile:
        data, prep.data = prep.data, None
        assert data is not None
        return self.kind.read(prep.item.label, data, self.options)


class ReadAhead:
    """Futures of prepared files in input order, with up to ``READ_AHEAD`` more being prepared."""

    def __init__(self, inputs: list[source_files.InputFile], prepare: Preparer):
        self.inputs, self.prepare = inputs, prepare
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="diogel-read")

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def __iter__(self) -> Iterator[Future[Prepared]]:
        queue: deque[Future[Prepared]] = deque()
        rest = iter(self.inputs)
        for item in itertools.islice(rest, READ_AHEAD + 1):
            queue.append(self.pool.submit(self.prepare, item))
        while queue:
            future = queue.popleft()
            item = next(rest, None)
            if item is not None:
                queue.append(self.pool.submit(self.prepare, item))
            yield future


class Batch:
    """Parsed files waiting for their transaction, with the seq each was given."""

    def __init__(self) -> None:
        self.files: list[tuple[Prepared, int]] = []
        self.rows = 0

    def add(self, prep: Prepared, seq: int) -> None:
        assert prep.parsed is not None
        self.files.append((prep, seq))
        parsed = prep.parsed
        self.rows += parsed.num_rows if isinstance(parsed, StagedFile) else parsed.rows.num_rows

    def take(self) -> list[tuple[Prepared, int]]:
        files, self.files, self.rows = self.files, [], 0
        return files
