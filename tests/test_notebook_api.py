"""The notebook API (issue 12): ``import diogel`` stays cheap, and the README's notebook example runs and
counts what an independent reading of the same police.uk file counts."""

from __future__ import annotations

import csv
import gzip
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from _independent import count_raw, lsoa_to_la
from conftest import shared
from diogel import data

README = Path(__file__).resolve().parents[1] / "README.md"
REFERENCE = Path(data.__file__).parent / "reference" / "wales"


def test_import_diogel_imports_nothing_else() -> None:
    code = (
        "import sys, diogel\n"
        "print(sorted(m for m in sys.modules if m.startswith('diogel') or m in ('pandas', 'ibis', 'pyarrow')))\n"
        "print(callable(diogel.counts), diogel.open_warehouse.__module__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    first, second = out.splitlines()
    assert first == "['diogel']"  # read before any API name was used
    assert second == "True diogel.api"


def test_the_public_names_are_the_api_and_nothing_else_is_found() -> None:
    import diogel

    assert {"open_warehouse", "ingest", "counts", "assess", "allocate"} <= set(dir(diogel))
    with pytest.raises(AttributeError, match="no attribute 'warehouse_of'"):
        diogel.warehouse_of  # noqa: B018


def _notebook_example() -> str:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"From a notebook:\n\n```python\n(.*?)```", text, flags=re.S)
    assert block, "README has no notebook example"
    return block.group(1)


@pytest.mark.slow
def test_the_readme_notebook_example_counts_like_an_independent_reading(tmp_path: Path, monkeypatch) -> None:
    street = shared("policeuk", "gwent-2022-07_2025-06", "2025-06-gwent-street.csv")
    (tmp_path / "2025-06").mkdir()
    shutil.copy(street, tmp_path / "2025-06" / street.name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DIOGEL_WAREHOUSE", raising=False)
    from diogel.warehouse.core import Warehouse
    from diogel.warehouse.reference import load_reference

    with Warehouse(None, tmp_path / "diogel-data") as wh:  # what `diogel init --reference wales` does
        load_reference(wh, "wales")
    namespace: dict = {}
    exec(compile(_notebook_example(), "README.md (notebook example)", "exec"), namespace)
    by_la = namespace["by_la"]
    la_of = lsoa_to_la(
        REFERENCE / "lookup_lsoa21_ward24_ltla24.csv.gz", REFERENCE / "lookup_lsoa11_ward19_lad19.csv.gz"
    )
    with gzip.open(REFERENCE / "lookup_ltla24_csp24_pfa24.csv.gz", "rt", encoding="utf-8-sig") as f:
        gwent = {
            r["ltla24_code"] for r in csv.DictReader(f) if "W15000002" in (r["csp24_code"], r["pfa24_code"])
        }  # Gwent
    expected: Counter = Counter()
    for (lsoa, month, crime_type), n in count_raw([street]).items():
        if lsoa and la_of.get(lsoa) in gwent:
            expected[(la_of[lsoa], month, crime_type)] += n
    got = Counter({(r.la, str(r.month)[:7], r.crime_type): int(r.count) for r in by_la.itertuples()})
    assert sum(got.values()) > 1000
    assert got == expected


def test_every_engine_is_a_warehouse_for_its_readers(any_warehouse) -> None:
    from diogel.warehouse import protocol

    assert isinstance(any_warehouse, protocol.Warehouse)
    assert not isinstance(object(), protocol.Warehouse)
    assert any_warehouse.has("source_file") and not any_warehouse.has("no_such_table")
