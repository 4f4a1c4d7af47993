"""Building a report's sections in this process and, with ``workers=2``, in one forked helper.

Why: the sections of one area (analysis, charts, maps) take about a third of a cold ``diogel assess``
for one partnership, on one core; the machine usually has two. Sections read only the gathered
bundle and the results of the sections they name in ``needs`` (the warehouse is read before they
start, see :class:`~diogel.report.context.Context`), so a section can be built in another process
once its needs are built there. The helper is forked once the bundle is gathered, so it shares the
bundle without copying it and never touches the warehouse connection.

Both processes take sections from one list in build order: each claims (in memory they share) the
first section not yet claimed whose needs it has built or received, builds it, and the helper sends
back the section's output and the figures it registered; a thread here receives them, so the helper
never waits for this process. The helper stops when nothing is left that it can build; the sections
that read every other (``"*"``) are built here, last.

The report does not depend on where a section was built: each section's numbers depend only on its
inputs and the seed, and the figures and results are put back into build order, so figures.json and
the HTML are byte for byte what a build in one process writes (tests/report/test_assess.py; the
CSV tables' full-precision floats can differ in the last bit, as they already do between two runs
in one process, since numpy's sums depend on memory alignment). If the helper
fails in any way (a section raises there, an output cannot be pickled, the process dies), whatever it
had claimed and not delivered is built here, so the helper can make a report faster, never different.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import sys
import threading
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from diogel.report.gc_policy import frozen_heap
from diogel.report.thread_policy import limited_pools

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from diogel.report.context import Context
    from diogel.report.sections import Section

__all__ = ["build_sections"]

_FREE, _HERE, _HELPER = 0, 1, 2
# Far longer than a section takes (at most a few seconds each for the Welsh areas measured, at 999
# permutations); a helper silent this long has stopped making progress, and is replaced by this process.
STALL_SECONDS = 600.0


def build_sections(
    ctx: Context,
    order: list[Section],
    started: Callable[[str], None],
    finished: Callable[[], None],
    workers: int = 1,
) -> None:
    """Build every section of ``order`` (a :func:`~diogel.report.sections.build_order`) into ``ctx``.

    ``started(title)`` is called as a section starts here, ``finished()`` as any section is done.
    ``workers=2`` adds a forked helper process where the platform can fork; 1 builds in turn.
    """
    if workers < 2 or len(order) < 3 or "fork" not in mp.get_all_start_methods():
        for section in order:
            _build(ctx, section, started)
            finished()
        return
    # Both processes' BLAS pools sized to share the cores (thread_policy); the fork keeps the size.
    with limited_pools(2):
        _build_with_helper(ctx, order, started, finished)
    _reorder(ctx, order)


def _build_with_helper(
    ctx: Context, order: list[Section], started: Callable[[str], None], finished: Callable[[], None]
) -> None:
    helper = _Helper(ctx, order)
    try:
        while len(ctx.results) < len(order):
            helper.merge(ctx, finished, block=False)
            i = _claim(helper.claims, order, ctx.results.keys(), _HERE, helper.lost, stars=helper.ended)
            if i is not None:
                _build(ctx, order[i], started)
                finished()
            elif not helper.ended:
                helper.merge(ctx, finished, block=True)
            else:  # build_order rules this out; kept so a bad order fails rather than spins
                waiting = [s.id for s in order if s.id not in ctx.results]
                raise ValueError(f"report sections wait on each other: {waiting}")
    finally:
        helper.stop()


def _claim(claims: Any, order: list[Section], built: Any, me: int, lost: set[int], stars: bool) -> int | None:
    """Index of the first section ``me`` may build now, marked as claimed; None if there is none.

    A section is free, or one the helper claimed and will not deliver (``lost``); its needs are built
    (for ``"*"``: every other section, and only when ``stars``, i.e. the helper has stopped).
    """
    ids = {s.id for s in order}
    with claims.get_lock():
        for i, s in enumerate(order):
            if s.id in built or not (claims[i] == _FREE or i in lost):
                continue
            if "*" in s.needs:
                ready = stars and all(o.id in built for o in order if "*" not in o.needs)
            else:
                ready = set(s.needs) & ids <= set(built)
            if ready:
                claims[i] = me
                lost.discard(i)
                return i
    return None


def _build(ctx: Context, section: Section, started: Callable[[str], None]) -> None:
    started(section.title)
    ctx.figures.section = section.id
    ctx.results[section.id] = section.build(ctx)


def _reorder(ctx: Context, order: list[Section]) -> None:
    """Results and figures in build order, as a build in one process registers them."""
    rank = {s.id: i for i, s in enumerate(order)}
    ctx.results = {s.id: ctx.results[s.id] for s in order if s.id in ctx.results}
    figures = list(ctx.figures.figures.values())
    figures.sort(key=lambda f: rank.get(f.section, -1))  # stable: a section's own order is kept
    ctx.figures.figures = {f.id: f for f in figures}


class _Helper:
    """The forked process, the claims both processes share, and a thread receiving its sections."""

    def __init__(self, ctx: Context, order: list[Section]) -> None:
        fork = mp.get_context("fork")
        self.order = order
        self.claims = fork.Array("b", len(order))
        self.lost: set[int] = set()  # claimed by the helper, never to be delivered: built here
        self.ended = False  # the helper has stopped (after its last section, a failure or its death)
        self.inbox: queue.Queue = queue.Queue()
        here, there = fork.Pipe(duplex=False)
        # Buffered output would be written twice: once by this process and once by the helper's exit.
        sys.stdout.flush()
        sys.stderr.flush()
        self.process = fork.Process(
            target=_serve, args=(there, ctx, order, self.claims), daemon=True, name="diogel-sections"
        )
        # The helper must never run a destructor of this process's objects (a DuckDB result's would
        # need a lock some thread of this process may hold at the fork): frozen objects are never
        # collected there. Copy-on-write pages stay shared as a bonus.
        with frozen_heap(), warnings.catch_warnings():
            # Python 3.12+ warns of fork in a threaded process: the helper never touches what another
            # thread of this one may hold (the warehouse, the console; logging resets its locks at a
            # fork), and a helper that is stuck all the same is killed (STALL_SECONDS).
            warnings.simplefilter("ignore", DeprecationWarning)
            self.process.start()
        there.close()
        self.conn = here
        self.receiver = threading.Thread(target=self._receive, daemon=True, name="diogel-sections-inbox")
        self.receiver.start()

    def _receive(self) -> None:
        """Unpickle the helper's messages as they come, so its sends never wait for this process."""
        while True:
            try:
                message = self.conn.recv()
            except EOFError:  # the helper has gone
                message = ("end",)
            except Exception as exc:  # noqa: BLE001  (a reply that cannot be read: build the rest here)
                logging.getLogger(__name__).debug("section helper dropped: %s: %s", type(exc).__name__, exc)
                message = ("end",)
            self.inbox.put(message)
            if message[0] == "end":
                return

    def merge(self, ctx: Context, finished: Callable[[], None], block: bool) -> None:
        """Take the helper's delivered sections into ``ctx`` (waiting for one message if ``block``)."""
        while not self.ended:
            try:
                message = self.inbox.get(timeout=STALL_SECONDS) if block else self.inbox.get_nowait()
            except queue.Empty:
                if not block:
                    return
                # Nothing from the helper for that long: taken as stuck (a lock held by another thread
                # at the fork, say). Its sections are built here; the receiver reads the end.
                self.process.kill()
                continue
            block = False
            if message[0] == "built":
                _, i, output, figures = message
                for figure in figures:
                    ctx.figures.figures[figure.id] = figure
                ctx.results[self.order[i].id] = output
                finished()
            elif message[0] == "end":
                self.ended = True
                with self.claims.get_lock():
                    self.lost = {
                        i
                        for i, s in enumerate(self.order)
                        if self.claims[i] == _HELPER and s.id not in ctx.results
                    }

    def stop(self) -> None:
        """End the helper: it has sent all it will, or this process is stopping early (an error), or a
        message could not be read (it may be stuck writing the next one)."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()
        self.receiver.join(timeout=5)


def _serve(conn: Connection, ctx: Context, order: list[Section], claims: Any) -> None:
    """The helper: build what it can claim, send each section back; stop at the first failure."""
    try:
        while True:
            i = _claim(claims, order, ctx.results.keys(), _HELPER, set(), stars=False)
            if i is None:
                return
            section, before = order[i], set(ctx.figures.figures)
            ctx.figures.section = section.id
            ctx.results[section.id] = section.build(ctx)
            figures = [f for key, f in ctx.figures.figures.items() if key not in before]
            conn.send(("built", i, ctx.results[section.id], figures))
    except Exception:  # noqa: BLE001, S110  (the section is built again in the parent, which reports any error)
        return
    finally:
        try:
            conn.send(("end",))
        finally:
            conn.close()
