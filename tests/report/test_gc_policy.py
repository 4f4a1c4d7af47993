"""The collector policies of diogel.report.gc_policy: what is frozen, when, and what is still freed."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref

import pytest

from diogel.report.gc_policy import collector_paused, frozen_heap


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture(autouse=True)
def _unfrozen() -> None:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_the_heap_is_frozen_in_the_block_and_its_garbage_freed_after_it() -> None:
    garbage = _Node()
    gone = weakref.ref(garbage)
    del garbage  # cyclic garbage made before the block: frozen with everything else
    with frozen_heap():
        assert gc.get_freeze_count() > 0
        gc.collect()
        assert gone() is not None  # a frozen object is never collected
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone() is None  # and is collected once the block is left


def test_garbage_made_in_the_block_is_collected_in_it() -> None:
    with frozen_heap():
        node = _Node()
        gone = weakref.ref(node)
        del node
        gc.collect()
        assert gone() is None


def test_a_nested_block_keeps_the_outer_freeze() -> None:
    with frozen_heap():
        with frozen_heap():
            pass
        assert gc.get_freeze_count() > 0  # the inner block did not unfreeze the outer one's heap
    assert gc.get_freeze_count() == 0


def test_the_collector_is_paused_in_the_block_and_restored_after_it() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # the state before the block, not always "enabled"
    finally:
        gc.enable()


EXIT_PROBE = """
import atexit, gc, sys
# Registered first, so it runs last (atexit is last in, first out): it sees the exit's freeze.
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0, flush=True))
from diogel.cli import app
sys.argv = ["diogel", "kinds"]
app()
"""


def test_the_command_line_leaves_its_heap_to_the_operating_system_at_exit() -> None:
    done = subprocess.run([sys.executable, "-c", EXIT_PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "police-street" in done.stdout  # the command ran
    assert done.stdout.strip().splitlines()[-1] == "frozen at exit: True"


def test_a_program_that_does_not_ask_is_not_frozen_at_exit() -> None:
    probe = EXIT_PROBE.replace("from diogel.cli import app", "import diogel.report.gc_policy").replace(
        "app()", "print('police-street')"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "frozen at exit: False"  # the probe itself can fail
