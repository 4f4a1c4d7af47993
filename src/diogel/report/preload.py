"""Modules an assessment needs after the gather, imported in a thread while the gather runs.

A cold ``diogel assess`` spends about 1.5 s importing what only the sections and the PDF use
(matplotlib, esda, libpysal, statsmodels, WeasyPrint and the section modules), and the gather that
comes first spends most of its time in DuckDB, which releases the GIL. Importing them in a thread
meanwhile puts the two side by side on a two-core machine; the thread is joined before anything
uses them (and before :mod:`diogel.report.section_pool` forks), so the assessment sees exactly the
modules it would have imported itself. An import that fails in the thread is left for the main
thread to repeat, where it raises as it always did.

Why this is safe from the import lock: the gather imports nothing of this list's dependencies that
the main thread has not imported before it starts (``tests/report/test_preload.py`` checks it),
and Python's per-module import locks make a thread that asks for a module the other is importing
wait for it.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator


def assessment_modules() -> tuple[str, ...]:
    """The built-in section modules and WeasyPrint (plugins' sections are left to the registry's own load)."""
    from diogel.report.sections import SECTIONS

    return (*SECTIONS.builtins, "weasyprint")


def _import_all(names: tuple[str, ...]) -> None:
    for name in names:
        # (A failure is the main thread's to report, when it imports the module itself.)
        with contextlib.suppress(Exception):
            importlib.import_module(name)


@contextlib.contextmanager
def preloaded(names: tuple[str, ...]) -> Iterator[None]:
    """Import ``names`` in a thread while the body runs; the thread is finished when the block is left."""
    thread = threading.Thread(target=_import_all, args=(names,), name="diogel-preload", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()
