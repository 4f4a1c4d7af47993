"""Files staged together (one ``read_csv`` per group, one ``INSERT`` per group) load exactly as the Arrow route loads them.

The same comparison as tests/test_native_ingest.py (every stored row, quarantine row, registry row,
slice and result line, against ``DIOGEL_NATIVE_INGEST=0``), on folders whose files the native route
stages as one group: real police.uk files and variants derived from them, named as such.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import POLICE
from diogel.warehouse import native_ingest
from test_native_ingest import STREET, _rows, _same, _write


def _folder(root: Path, ragged: bool) -> Path:
    """Three street files of three months (one with broken rows, one with CRLF ends), and maybe a ragged fourth."""
    folder = root / "in"
    folder.mkdir(parents=True)
    (folder / "2022-07-gwent-street.csv").write_bytes((POLICE / "2022-07-gwent-street.csv").read_bytes())
    table = _rows(STREET)
    h = {name: i for i, name in enumerate(table[0])}
    broken = [list(r) for r in table]
    broken[3][h["Month"]] = "2024-13"
    broken[5][h["LSOA code"]] = "X123"
    broken[9][h["Latitude"]] = "60.5"
    broken[12][h["Longitude"]] = ""
    _write(folder / "2024-06-gwent-street.csv", broken)
    may = [table[0]] + [[*r[: h["Month"]], "2024-05", *r[h["Month"] + 1 :]] for r in table[1:300]]
    may[7][h["LSOA code"]] = "W01999999"  # well formed, in no lookup
    _write(folder / "2024-05-gwent-street.csv", may, terminator="\r\n")
    if ragged:
        april = [table[0]] + [[*r[: h["Month"]], "2024-04", *r[h["Month"] + 1 :]] for r in table[1:200]]
        path = _write(folder / "2024-04-gwent-street.csv", april)
        with path.open("a") as f:
            f.write("abc,2024-04,Gwent Police\n")
    return folder


@pytest.mark.parametrize("ragged", [False, True])
def test_a_group_of_files_loads_identically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ragged: bool
) -> None:
    """One group of three files; with a ragged file the group's read fails and each file is staged alone."""
    sizes: list[int] = []
    real = native_ingest.NativeRoute._stage_group

    def spy(self, found):  # noqa: ANN001, ANN202
        sizes.append(len(found))
        return real(self, found)

    monkeypatch.setattr(native_ingest.NativeRoute, "_stage_group", spy)
    got = _same(tmp_path, "police-street", _folder(tmp_path, ragged), monkeypatch, staged=3)
    # Lines as the Arrow route numbers them (it quarantines the ragged row), and the unknown LSOA.
    assert sorted(q[3] for q in got[2]) == [4, 6, 8, 10, 13] + ([201] if ragged else [])
    assert any("not in the loaded ONS lookups" in q[5] for q in got[2])
    assert sizes == ([4, 1, 1, 1, 1] if ragged else [3])
    results = got[0]
    assert [r[1] for r in results] == ["loaded"] * (4 if ragged else 3)
