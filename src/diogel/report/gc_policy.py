"""Python's cyclic garbage collector kept off the two heaps where it finds nothing to free.

Why: CPython's collector walks every tracked object of a generation when it runs, and a full
collection comes round each time the young generations have been collected often enough. An
assessment's heap is mostly long-lived (the gathered bundle, the warehouse caches a worker keeps
for the next area, the imported libraries), and WeasyPrint then allocates boxes, styles and
drawing operations by the hundred thousand, all alive until the PDF is written. Measured with
``benchmarks/assess_cpu_areas.py`` (three Welsh areas in one process, CPU-s): printing the PDF
took 3.4-5.3 CPU-s an area with the collector on, growing with each area, and 2.8-3.3 with it
paused. Nothing is kept alive that would otherwise be freed for good: reference counting frees
everything as before; only reference cycles wait, until the collector runs again after the step.

At exit the same heap is left to the operating system (:func:`no_collection_at_exit`).
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused", "frozen_heap", "no_collection_at_exit"]

_AT_EXIT: list[bool] = []


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Everything alive now is left out of every collection until the block ends (``gc.freeze``).

    Nested use keeps the outer freeze: only the outermost block unfreezes. Cyclic garbage already
    in the heap is frozen with it and collected after the block: a full collection first, to
    free it sooner, cost 0.2 CPU-s an area in a worker holding 330,000 objects, and freed 1,000 to
    11,000 of them (``diogel assess --area all-wales`` on the real all-Wales warehouse).
    """
    outermost = gc.get_freeze_count() == 0
    gc.freeze()
    try:
        yield
    finally:
        if outermost:
            gc.unfreeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection inside the block (``gc.disable``); the previous state after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def no_collection_at_exit() -> None:
    """Freeze the heap when the interpreter exits, so its finalisation does not collect it.

    Why: Python's finalisation runs full collections over every object still alive. After a
    ``diogel assess`` (a few hundred thousand objects: the bundle, the libraries, WeasyPrint's
    leftovers) that took 1.0 to 1.2 s of an 11.5 s cold run, measured on the real all-Wales
    warehouse; with the heap frozen, 0.15 s. Nothing the program relies on is skipped: ``atexit``
    handlers registered after this one still run first, reference counting still frees (and closes)
    every object that is not in a cycle, and Python never promised to collect cycles at exit.
    Registered once per process; the freeze runs after every ``atexit`` handler registered later.
    """
    if not _AT_EXIT:
        _AT_EXIT.append(True)
        atexit.register(gc.freeze)
