"""The modules imported in a thread during the gather (diogel.report.preload) and the gather's own.

The thread is only safe while the two import different modules: then neither waits on a module the
other is half-way through importing, and no cycle of import locks can form between them. Measured
here on a real warehouse, each in a fresh interpreter started as ``diogel assess`` starts (the
command's modules and the warehouse already open): what the gather imports, and what the preload
list imports. A run of the assessment with the thread is compared in tests/report/test_assess.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import shared
from diogel.report.preload import assessment_modules, preloaded

PROBE = """
import json, sys
import diogel.cli, diogel.commands.assess, diogel.report.assessment  # what the command has imported
from diogel.report.gather import gather, parse_period
from diogel.warehouse.core import Warehouse

from diogel.sources.registry import kinds

wh = Warehouse(None, sys.argv[1], read_only=True)
kinds()  # (run_assessment loads the source kinds before the thread starts)
before = set(sys.modules)
if sys.argv[2] == "gather":
    gather(wh, "W06000022", parse_period("2024-07..2024-08"))
else:
    import importlib
    for name in json.loads(sys.argv[3]):
        importlib.import_module(name)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from diogel.warehouse.core import Warehouse
    from diogel.warehouse.reference import load_reference

    folder = tmp_path_factory.mktemp("preload")
    with Warehouse(None, folder) as wh:
        load_reference(wh, "wales")
        for month in ("2024-07", "2024-08"):
            wh.ingest(
                "police-street", shared("policeuk", "gwent-2022-07_2025-06", f"{month}-gwent-street.csv")
            )
    return folder


def _imported(data_dir: Path, what: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(data_dir), what, json.dumps(assessment_modules())],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_gather_and_the_preload_import_different_modules(data_dir: Path) -> None:
    by_gather = _imported(data_dir, "gather")
    by_preload = _imported(data_dir, "preload")
    assert len(by_preload) > 100  # matplotlib, esda, libpysal, WeasyPrint...: the thread has work to do
    assert "diogel.report.sections.where" in by_preload and "weasyprint" in by_preload
    assert by_gather & by_preload == set()


def test_a_module_that_fails_in_the_thread_fails_again_where_it_is_used() -> None:
    sys.modules.pop("colorsys", None)
    with preloaded(("diogel.report.no_such_module", "colorsys")):
        pass
    assert "colorsys" in sys.modules  # the names after the failing one are still imported
    with pytest.raises(ModuleNotFoundError):
        __import__("diogel.report.no_such_module")
