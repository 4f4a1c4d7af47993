"""Finding the files in what the user points at: one file, a tree of monthly folders, or a zip.

police.uk's archive download is a zip of ``YYYY-MM/YYYY-MM-<force>-<kind>.csv`` members. A zip is
checked before anything is read: every member must be a file some diogel source kind reads (or a
folder), no member may escape the archive, and the total decompressed size must stay under a
limit, so a zip bomb or a stray executable is refused with its name.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from diogel.errors import InputError
from diogel.sources.registry import SourceKind, kinds, matches

DEFAULT_MAX_UNZIPPED = 8 * 1024**3  # bytes; police.uk's all-forces 36-month archive is about 6 GB


def max_unzipped() -> int:
    return int(os.environ.get("DIOGEL_MAX_UNZIPPED_BYTES", DEFAULT_MAX_UNZIPPED))


@dataclass(frozen=True)
class InputFile:
    """One file to ingest: a name for messages, where it is, and how to get its bytes."""

    label: str
    path: Path
    member: str | None = None

    def read(self) -> bytes:
        if self.member is not None:
            with zipfile.ZipFile(self.path) as zf:
                return _read_member(zf, self.member, self.label)
        data = self.path.read_bytes()
        if self.path.suffix.lower() == ".gz":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as exc:
                raise InputError(self.label, f"not a readable gzip file: {exc}") from None
        return data


def _read_member(zf: zipfile.ZipFile, member: str, label: str) -> bytes:
    limit = max_unzipped()
    with zf.open(member) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise InputError(label, f"decompresses to more than the limit of {limit:,} bytes")
    return data


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
    except zipfile.BadZipFile:
        raise InputError(str(path), "not a readable zip archive") from None
    with zf:
        infos = zf.infolist()
        total = sum(i.file_size for i in infos)
        if total > max_unzipped():
            raise InputError(
                str(path),
                f"decompresses to {total:,} bytes, over the limit of {max_unzipped():,} "
                "(set DIOGEL_MAX_UNZIPPED_BYTES to raise it)",
            )
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
