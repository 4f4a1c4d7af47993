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
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["frozen_heap", "collector_paused"]


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Everything alive now is left out of every collection until the block ends (``gc.freeze``).

    Nested use keeps the outer freeze: only the outermost block unfreezes.
    """
    outermost = gc.get_freeze_count() == 0
    gc.collect()
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
