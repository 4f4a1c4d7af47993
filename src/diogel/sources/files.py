"""Finding the files in what the user points at: one file, a tree of monthly folders, or a zip.

police.uk's archive download is a zip of ``YYYY-MM/YYYY-MM-<force>-<kind>.csv`` members. A zip is
checked before anything is read: every member must be a file some diogel source kind reads (or a
folder), no member may escape the archive, and no member may declare more than the decompression
limit, so a zip bomb or a stray executable is refused with its name before anything loads.

Decompression (zip members, ``.gz`` files, and so the zips uploaded to the portal, which come
through here too) is one bounded stream under one :class:`DecompressionLimit`: the bytes are
counted as they come out, a chunk at a time, and the file is refused in one line as soon as they
pass the limit, so memory never holds more than the limit's worth of a file that is refused.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from diogel.errors import DiogelError, InputError
from diogel.sources.registry import SourceKind, kinds, matches

# The most one compressed file may decompress to. police.uk's largest monthly file (a
# Metropolitan Police outcomes month) is a few tens of MB; ONS's whole postcode directory is 1.3 GB.
DEFAULT_MAX_UNZIPPED = 2 * 1024**3
# The most bytes out per compressed byte in. Real CSVs deflate 2.5 to 9 times (police.uk about 4.5,
# ONS lookups about 8); a run of zeros deflates about 1,000 times.
DEFAULT_MAX_RATIO = 100
# Output below this is never called a bomb, whatever its ratio (a tiny file can compress oddly).
RATIO_FLOOR = 16 * 1024**2
CHUNK = 1 << 20  # bytes decompressed per step: the most the reader holds beyond what it has counted


@dataclass(frozen=True)
class DecompressionLimit:
    """How far one compressed file may expand: ``max_bytes`` in all, ``max_ratio`` per byte in.

    ``DIOGEL_MAX_UNZIPPED_BYTES`` and ``DIOGEL_MAX_UNZIP_RATIO`` override the defaults. The ratio
    is judged only once the output passes :data:`RATIO_FLOOR`.
    """

    max_bytes: int = DEFAULT_MAX_UNZIPPED
    max_ratio: float = DEFAULT_MAX_RATIO

    @classmethod
    def from_env(cls) -> DecompressionLimit:
        try:
            return cls(
                int(os.environ.get("DIOGEL_MAX_UNZIPPED_BYTES", DEFAULT_MAX_UNZIPPED)),
                float(os.environ.get("DIOGEL_MAX_UNZIP_RATIO", DEFAULT_MAX_RATIO)),
            )
        except ValueError:
            raise DiogelError(
                "DIOGEL_MAX_UNZIPPED_BYTES and DIOGEL_MAX_UNZIP_RATIO must be numbers"
            ) from None

    def check(self, label: str, out_bytes: int, in_bytes: int, declared: bool = False) -> None:
        """Refuse ``label`` if ``out_bytes`` from ``in_bytes`` compressed breaks the limit.

        ``declared``: the sizes are the archive's own record of the member (checked before reading),
        not bytes counted so far.
        """
        verb = "declares" if declared else "decompresses to over"
        if out_bytes > self.max_bytes:
            raise InputError(
                label,
                f"{verb} {out_bytes:,} bytes, over the limit of {self.max_bytes:,} for one file "
                "(set DIOGEL_MAX_UNZIPPED_BYTES to raise it)",
            )
        if out_bytes > RATIO_FLOOR and out_bytes > self.max_ratio * max(in_bytes, 1):
            raise InputError(
                label,
                f"{verb} {out_bytes:,} bytes from {in_bytes:,} compressed, more than {self.max_ratio:g} "
                "times its size: refused as a decompression bomb (set DIOGEL_MAX_UNZIP_RATIO to raise it)",
            )


def check_zip_declared(data: bytes, label: str) -> None:
    """Refuse a zip held in ``data`` (an .xlsx workbook is one) whose members declare more than the limit.

    Readers such as openpyxl decompress members themselves; this checks each member's declared
    sizes, and the archive's total, before any of them is read (``zipfile`` never yields more than
    a member declares). Not a zip: nothing to check here (the reader reports it).
    """

    limit = DecompressionLimit.from_env()
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile:
        return
    for info in infos:
        limit.check(f"{label}!{info.filename}", info.file_size, info.compress_size, declared=True)
    limit.check(label, sum(i.file_size for i in infos), len(data), declared=True)


def max_unzipped() -> int:
    return DecompressionLimit.from_env().max_bytes


@dataclass(frozen=True)
class InputFile:
    """One file to ingest: a name for messages, where it is, and how to get its bytes."""

    label: str
    path: Path
    member: str | None = None

    def read(self) -> bytes:
        """The file's bytes, decompressed (zip member or ``.gz``) under the decompression limit."""
        limit = DecompressionLimit.from_env()
        if self.member is not None:
            return _read_member(self.path, self.member, self.label, limit)
        if self.path.suffix.lower() == ".gz":
            return _read_gzip(self.path, self.label, limit)
        try:
            return self.path.read_bytes()
        except OSError as exc:  # unreadable (permissions, a dangling link, gone since listed)
            raise InputError(
                self.label, f"cannot read the file ({exc.strerror or type(exc).__name__})"
            ) from None


# What a damaged or unsupported stream raises inside zipfile, gzip and zlib.
_STREAM_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile, RuntimeError, NotImplementedError)


def bounded_read(
    stream: BinaryIO, label: str, limit: DecompressionLimit, consumed: Callable[[], int]
) -> bytes:
    """Read ``stream`` (a decompressing file object) to its end, counting as it goes.

    ``consumed`` says how many compressed bytes have been read so far. Each ``read`` returns at
    most :data:`CHUNK` bytes (zipfile and gzip decompress with a bounded output length), so a
    refused file costs at most the limit plus one chunk of memory. ``io.BytesIO`` grows in place
    and hands its buffer over without a copy, so an accepted file costs its size once.
    """
    out = io.BytesIO()
    n = 0
    while chunk := stream.read(CHUNK):
        n += len(chunk)
        limit.check(label, n, consumed())
        out.write(chunk)
    return out.getvalue()


def _read_member(path: Path, member: str, label: str, limit: DecompressionLimit) -> bytes:
    try:
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(member)
            if info.flag_bits & 0x1:
                raise InputError(label, "the member is encrypted (password-protected): save it unprotected")
            # zipfile never yields more than the declared size (it truncates and fails the CRC),
            # so checking the declared sizes first bounds the stream; the count below is the guard.
            limit.check(label, info.file_size, info.compress_size, declared=True)
            with zf.open(info) as fh:
                return bounded_read(fh, label, limit, lambda: info.compress_size)
    except InputError:
        raise
    except _STREAM_ERRORS as exc:
        raise InputError(label, f"a damaged or unreadable archive member ({_one_line(exc)})") from None


def _read_gzip(path: Path, label: str, limit: DecompressionLimit) -> bytes:
    try:
        with path.open("rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as fh:
            # raw.tell(): the compressed bytes gzip has taken so far (it reads ahead a little).
            return bounded_read(fh, label, limit, raw.tell)
    except InputError:
        raise
    except _STREAM_ERRORS as exc:
        raise InputError(label, f"not a readable gzip file ({_one_line(exc)})") from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def expand(path: Path | str, kind: SourceKind) -> list[InputFile]:
    """List the files of ``kind`` under ``path`` in name order (so months load in order)."""
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "no such file or folder")
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and _takes(kind, p.name))
        zips = sorted(p for p in path.rglob("*.zip") if p.is_file())
        out = [InputFile(str(p), p) for p in found]
        for z in zips:
            out.extend(_zip_members(z, kind))
        if not out:
            raise InputError(
                str(path), f"no files for {kind.name} here (looked for {', '.join(kind.patterns)})"
            )
        return out
    if path.suffix.lower() == ".zip" and not kind.binary:
        return _zip_members(path, kind)
    return [InputFile(str(path), path)]


def _takes(kind: SourceKind, name: str) -> bool:
    return matches(kind, name) or (name.lower().endswith(".gz") and matches(kind, name[:-3]))


def _zip_members(path: Path, kind: SourceKind) -> list[InputFile]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise InputError(str(path), "not a readable zip archive") from None
    limit = DecompressionLimit.from_env()
    with zf:
        infos = zf.infolist()
        readable = [k for k in kinds().values() if not k.binary]
        chosen = []
        for info in infos:
            name = info.filename
            pure = PurePosixPath(name)
            if pure.is_absolute() or ".." in pure.parts:
                raise InputError(str(path), f"unsafe member path {name!r}: refusing the archive")
            if info.is_dir():
                continue
            base = pure.name
            if base.startswith(".") or name.startswith("__MACOSX/"):
                continue  # metadata macOS adds to zips
            if not any(matches(k, base) for k in readable):
                raise InputError(
                    str(path),
                    f"unexpected member {name!r}: a diogel archive holds only CSV files it can read "
                    "(e.g. 2024-06/2024-06-gwent-street.csv)",
                )
            # A member over the limit refuses the whole archive before anything loads.
            limit.check(f"{path}!{name}", info.file_size, info.compress_size, declared=True)
            if matches(kind, base):
                chosen.append(InputFile(f"{path}!{name}", path, name))
        if not chosen:
            raise InputError(
                str(path), f"no {kind.name} files in the archive (looked for {', '.join(kind.patterns)})"
            )
        return sorted(chosen, key=lambda f: f.member or "")


def iter_bytes(files: list[InputFile]) -> Iterator[tuple[InputFile, bytes]]:
    for f in files:
        yield f, f.read()
