"""The registry of source kinds.

A source kind turns one input file into validated rows for one warehouse table. Adding a format is
one new module that builds a :class:`SourceKind` and calls :func:`register`; the warehouse, the
command line and ``diogel status`` find it here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from diogel.registry import Registry


@dataclass
class Quarantined:
    """Rows of a file that were read but not loaded, one reason each."""

    line: list[int] = field(default_factory=list)
    column: list[str | None] = field(default_factory=list)
    reason: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)

    def add(self, line: int, column: str | None, reason: str, raw: str) -> None:
        self.line.append(line)
        self.column.append(column)
        self.reason.append(reason)
        self.raw.append(raw)

    def __len__(self) -> int:
        return len(self.line)


@dataclass
class ParsedFile:
    """What a source kind made of one file.

    ``rows`` holds the valid rows with a ``line`` column (1-based line in the file) and a
    ``slice_key`` column: rows of a later file replace rows of an earlier file with the same slice
    key (e.g. a re-download of the same force-month), so overlapping files are never double counted.
    ``rows_read`` counts every data row in the file; it equals ``len(rows) + len(quarantined)``.
    """

    rows: pa.Table
    quarantined: Quarantined
    rows_read: int
    months: tuple[str | None, str | None] = (None, None)

    @property
    def rows_valid(self) -> int:
        """Valid input rows (lines): several stored rows can come from one line in long formats."""
        if self.rows.num_rows == 0:
            return 0
        return pc.count_distinct(self.rows.column("line")).as_py()


@dataclass(frozen=True)
class SourceKind:
    """One input format and the warehouse table it feeds.

    Parameters
    ----------
    name : the name used on the command line (``diogel ingest <name> <path>``).
    table : the warehouse table the rows go to.
    schema : the Arrow schema of ``ParsedFile.rows`` without the provenance columns.
    read : function ``(path_for_messages, data: bytes, options: dict | None) -> ParsedFile``;
        options are the kind's own settings from the command line (e.g. a population year).
    patterns : file-name globs this kind takes when given a folder or a zip.
    description : one line for ``diogel ingest --help``.
    dedupe_key : column whose non-blank values identify one record across files (police Crime ID).
    binary : files are not CSV text (boundaries); they are read from their path.
    long : one input line is stored as several rows; accounting counts lines, not rows.
    inputs : what the parser needs from the warehouse (e.g. ``lsoa_areas``, ``partner_secret``): each is
        handed in under its name in ``options`` as a function of no arguments (see
        :mod:`diogel.warehouse.inputs`); the parser itself never sees the warehouse.
    parallel_read : ``read`` depends only on its arguments and file (no declared inputs) and is safe in
        a worker thread. The warehouse then reads and
        parses such files ahead, in a thread, while it writes earlier ones, and writes several of
        them per transaction (each file still wholly in or wholly out). Default False: files are
        read in the main thread and committed one per transaction, each before the next is read.
    """

    name: str
    table: str
    schema: pa.Schema
    read: Callable[[str, bytes, dict | None], ParsedFile]
    patterns: tuple[str, ...] = ("*.csv",)
    description: str = ""
    dedupe_key: str | None = None
    binary: bool = False
    long: bool = False  # one input line becomes several stored rows (e.g. population by age)
    inputs: tuple[str, ...] = ()  # declared inputs from the warehouse, handed in through options
    parallel_read: bool = False  # read() is pure: may run in a worker thread, files batched per transaction


# The built-in kinds, in the order they are matched and listed; also declared as the "diogel.sources"
# entry points in pyproject.toml, the group through which a package adds its own kind.
KINDS: Registry[SourceKind] = Registry(
    group="diogel.sources",
    what="source kind",
    item_type=SourceKind,
    name_of=lambda kind: kind.name,
    builtins=tuple(
        f"diogel.sources.{m}"
        for m in (
            "boundaries",
            "deprivation",
            "harm_weights",
            "lookup_la_csp_force",
            "lookup_lsoa11_lsoa21",
            "lookup_lsoa_ward_la",
            "pact",
            "partner_kind",
            "policeuk_outcomes",
            "policeuk_stop_search",
            "policeuk_street",
            "population",
        )
    ),
)


def register(kind: SourceKind) -> SourceKind:
    """Add a source kind (its module calls this on import)."""
    return KINDS.register(kind)


def get(name: str) -> SourceKind:
    """The source kind called ``name`` (built-ins and those packages add through entry points)."""
    return KINDS.get(name)


def kinds() -> dict[str, SourceKind]:
    """Every source kind by name."""
    return KINDS.items()


def matches(kind: SourceKind, path: Path | str) -> bool:
    name = Path(path).name.lower()
    return any(Path(name).match(p) for p in kind.patterns)
