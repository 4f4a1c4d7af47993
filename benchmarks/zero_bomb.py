"""Zero bombs: diogel's peak memory while it refuses a 1 GB run of zeros packed as .zip and as .gz.

Builds, in ``--work``, two synthetic decompression bombs that hold 1,000,341,504 zero bytes (954 MiB,
"1 GB") under a police.uk file name, each about 1 MB on disk:

- ``synthetic-zero-bomb.zip``: one deflated member ``2024-06/2024-06-gwent-street.csv``;
- ``synthetic-zero-bomb/2024-06-gwent-street.csv.gz``: the same bytes as a gzip file.

The bombs are written as a stream, without ever holding the zeros: one MiB of zeros is deflated
once and ended with a full flush, which resets the compressor, so every further MiB deflates to the
same bytes; the file is that block written 954 times (the CRC-32 is computed over the zeros a MiB at
a time). Python's own ``zipfile`` and ``gzip`` read them back as 1 GB of zeros (the script checks
the gzip one end to end with ``--verify``).

Then, each in its own child process (``sys.executable -m diogel.cli``), it runs
``diogel --data-dir <fresh> ingest police-street <bomb>`` and records the exit code, the one-line
message and the child's peak resident set size from ``os.wait4`` (``ru_maxrss``: the interpreter
and every library diogel imports are included). A reference child, ``diogel --data-dir <fresh>
status``, measures what diogel costs before it reads any file.

Usage::

    python benchmarks/zero_bomb.py                 # measure and append an entry to RESULTS.md
    python benchmarks/zero_bomb.py --results -     # print the entry instead
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

HERE = Path(__file__).parent
MIB = 1 << 20
BOMB_MIB = 954  # 1,000,341,504 bytes: "1 GB" of zeros
MEMBER = "2024-06/2024-06-gwent-street.csv"
GOAL_MIB = 600


def _deflated_zeros(mib: int) -> tuple[bytes, bytes, int]:
    """The repeated deflate block for one MiB of zeros, the stream's end, and the CRC-32 of the zeros."""
    zeros = bytes(MIB)
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    first = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
    assert first == again  # a full flush forgets the history, so every MiB deflates alike
    end = comp.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return first, end, crc


def write_gz_bomb(path: Path, mib: int = BOMB_MIB) -> int:
    """Write a gzip file of ``mib`` MiB of zeros to ``path``; return its size on disk."""
    block, end, crc = _deflated_zeros(mib)
    with path.open("wb") as fh:
        fh.write(b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x00\xff")  # no name, no mtime, OS unknown
        for _ in range(mib):
            fh.write(block)
        fh.write(end)
        fh.write(struct.pack("<II", crc, (mib * MIB) & 0xFFFFFFFF))
    return path.stat().st_size


def write_zip_bomb(path: Path, member: str = MEMBER, mib: int = BOMB_MIB) -> int:
    """Write a zip with one deflated member of ``mib`` MiB of zeros; return its size on disk."""
    block, end, crc = _deflated_zeros(mib)
    name = member.encode()
    size = mib * MIB
    compressed = len(block) * mib + len(end)
    assert size < 0xFFFFFFFF and compressed < 0xFFFFFFFF  # no zip64 records needed
    dos_time, dos_date = 0, (2024 - 1980) << 9 | 6 << 5 | 1
    common = struct.pack("<HHHHHIII", 20, 0, 8, dos_time, dos_date, crc, compressed, size)
    with path.open("wb") as fh:
        fh.write(b"PK\x03\x04" + common + struct.pack("<HH", len(name), 0) + name)
        for _ in range(mib):
            fh.write(block)
        fh.write(end)
        central_at = fh.tell()
        central = (
            b"PK\x01\x02"
            + struct.pack("<H", 20)
            + common
            + struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0o100644 << 16, 0)
            + name
        )
        fh.write(central)
        fh.write(b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central), central_at, 0))
    return path.stat().st_size


def run_child(args: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``python -m diogel.cli ARGS``; its exit code, output and peak RSS (MiB) from os.wait4."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "diogel.cli", *args], stdout=out, stderr=err, env=env or dict(os.environ)
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return {
            "exit": proc.returncode,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
            "peak_mib": usage.ru_maxrss / 1024,  # Linux reports KiB
            "seconds": seconds,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=HERE / "work" / "zero-bomb")
    parser.add_argument(
        "--results", default=str(HERE / "RESULTS.md"), help="file to append to, or - to print"
    )
    parser.add_argument(
        "--verify", action="store_true", help="also read the gzip bomb back with Python's gzip"
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    zip_path = args.work / "synthetic-zero-bomb.zip"
    gz_dir = args.work / "synthetic-zero-bomb"
    gz_dir.mkdir(exist_ok=True)
    gz_path = gz_dir / "2024-06-gwent-street.csv.gz"
    t = time.perf_counter()
    zip_size, gz_size = write_zip_bomb(zip_path), write_gz_bomb(gz_path)
    built = time.perf_counter() - t
    if args.verify:
        import gzip

        with gzip.open(gz_path) as fh:
            n = sum(len(c) for c in iter(lambda: fh.read(64 * MIB), b""))
        assert n == BOMB_MIB * MIB, n

    rows = []
    ok = True
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIOGEL_")}
        reference = run_child(["--data-dir", f"{tmp}/ref", "status"], env)
        for label, path in (("zip", zip_path), (".gz", gz_path)):
            r = run_child(
                ["--data-dir", f"{tmp}/{label.strip('.')}", "ingest", "police-street", str(path)], env
            )
            lines = [ln for ln in (r["stdout"] + r["stderr"]).splitlines() if ln.strip()]
            refused = r["exit"] in (1, 2) and len(lines) == 1 and "Traceback" not in r["stderr"]
            ok &= refused and r["peak_mib"] < GOAL_MIB
            rows.append((label, path, r, lines))
            print(f"{label}: exit {r['exit']}, peak {r['peak_mib']:.0f} MiB, {r['seconds']:.1f} s: {lines}")
    print(f"reference (diogel status): peak {reference['peak_mib']:.0f} MiB")

    import duckdb

    now = dt.datetime.now(dt.UTC)
    entry = [
        "",
        f"### {now:%Y-%m-%d %H:%M} UTC: 1 GB of zeros as .zip and as .gz",
        "",
        f"- Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, duckdb {duckdb.__version__}",
        f"- Bombs (synthetic, built as a stream in {built:.1f} s): {BOMB_MIB * MIB:,} zero bytes; "
        f"zip {zip_size:,} bytes, gz {gz_size:,} bytes on disk",
        "",
        "| bomb | exit | peak RSS | time (s) | message |",
        "|---|---:|---:|---:|---|",
    ]
    for label, _path, r, lines in rows:
        msg = (lines[0] if lines else "").replace(str(args.work) + "/", "").replace("|", "\\|")
        entry.append(f"| {label} | {r['exit']} | {r['peak_mib']:,.0f} MiB | {r['seconds']:.1f} | {msg} |")
    entry += [
        "",
        f"- Reference: `diogel status` on an empty data directory peaks at {reference['peak_mib']:,.0f} MiB "
        "(the interpreter and diogel's libraries)",
        f"- Goal (refused in one line, peak RSS < {GOAL_MIB} MiB for both): {'met' if ok else 'NOT met'}",
    ]
    text = "\n".join(entry) + "\n"
    if args.results == "-":
        print(text)
    else:
        results = Path(args.results)
        body = results.read_text()
        heading = "## Zero bombs: peak memory while refusing 1 GB of zeros (`benchmarks/zero_bomb.py`)"
        if heading not in body:
            body = body.rstrip("\n") + "\n\n" + heading + "\n"
        results.write_text(body.rstrip("\n") + "\n" + text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
