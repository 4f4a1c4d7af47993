"""Sections built in two processes (diogel.report.section_pool) give the report one process gives.

The sections here are small real ones: each registers figures in a real FigureRegistry and reads
the results it names in ``needs``, as the report's sections do. The helper's failures are made
real too: a section that raises only in the helper, an output that cannot be pickled, a helper
that dies. The real report is compared in tests/report/test_assess.py
(``test_one_process_and_two_write_the_same_report``).
"""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from diogel.report.context import SectionOutput
from diogel.report.figures import FigureRegistry
from diogel.report.section_pool import build_sections
from diogel.report.sections import Section, build_order

PARENT = os.getpid()


def _registry(tmp_path: Path) -> FigureRegistry:
    return FigureRegistry(lambda key: [{"kind": "k", "name": key, "file_id": "f", "run_id": "r"}], tmp_path)


def _ctx(tmp_path: Path) -> SimpleNamespace:
    return SimpleNamespace(results={}, figures=_registry(tmp_path))


def _section(id_: str, order: int, needs: tuple[str, ...] = (), work: float = 0.0, **how) -> Section:
    def build(ctx) -> SectionOutput:  # noqa: ANN001
        in_helper = os.getpid() != PARENT
        if in_helper and how.get("mark"):
            Path(how["mark"]).write_text(id_)  # the failure below did happen in the helper
        if how.get("raise_in_helper") and in_helper:
            raise RuntimeError("only in the helper")
        if how.get("raise_anywhere"):
            raise RuntimeError(f"{id_} cannot be built")
        if how.get("die_in_helper") and in_helper:
            os._exit(3)
        if how.get("hang_in_helper") and in_helper:
            time.sleep(3600)
        if work:
            time.sleep(work)  # long enough that the other process takes the next section meanwhile
        total = sum(ctx.results[n].values["total"] for n in needs if n != "*") + order
        for k in range(3):
            ctx.figures.number(f"n{k}", total * 10 + k, label=f"{id_} {k}", definition="d", inputs=["x"])
        values = {"total": total, "seen": sorted(ctx.results) if "*" in needs else []}
        if how.get("unpicklable"):
            values["fn"] = lambda: None
        return SectionOutput(html=f"<p>{id_} {total}</p>", values=values)  # type: ignore[arg-type]

    return Section(id=id_, title=id_.title(), order=order, build=build, needs=needs)


def _report(tmp_path: Path, **how: str | None) -> list[Section]:
    """Ten sections: independent ones, a chain, one needing three, and two that read every other."""
    ids = ["data", "levels", "harm", "where", "where_next", "drivers", "peers", "priorities"]
    which = ids if how.get("which") == "all" else [how["which"]] if how else []
    special = {i: {how["what"]: True, "mark": how.get("mark")} for i in which}
    spec = [
        ("data", 1, ()),
        ("levels", 2, ("data",)),
        ("harm", 3, ()),
        ("where", 4, ()),
        ("where_next", 5, ()),
        ("drivers", 6, ()),
        ("peers", 7, ()),
        ("priorities", 8, ("levels", "harm", "where")),
        ("summary", 9, ("*",)),
        ("methods", 10, ("*",)),
    ]
    return build_order([_section(i, o, n, work=0.05, **special.get(i, {})) for i, o, n in spec])


def _build(tmp_path: Path, order: list[Section], workers: int) -> tuple[SimpleNamespace, list[str]]:
    ctx, started = _ctx(tmp_path), []
    done = []
    build_sections(ctx, order, started.append, lambda: done.append(1), workers)  # type: ignore[arg-type]
    assert len(done) == len(order)
    return ctx, started


def _same(a: SimpleNamespace, b: SimpleNamespace) -> None:
    assert list(a.results) == list(b.results)
    assert [r.html for r in a.results.values()] == [r.html for r in b.results.values()]
    assert [r.values for r in a.results.values()] == [r.values for r in b.results.values()]
    assert list(a.figures.figures) == list(b.figures.figures)
    assert [f.value for f in a.figures.figures.values()] == [f.value for f in b.figures.figures.values()]


def test_two_processes_build_what_one_builds_in_the_same_order(tmp_path: Path) -> None:
    order = _report(tmp_path)
    one, started_one = _build(tmp_path, order, 1)
    two, started_two = _build(tmp_path, order, 2)
    _same(one, two)
    assert started_one == [s.title for s in order]
    # The helper built some of them (only this process's sections are "started" here) ...
    assert 0 < len(started_two) < len(order)
    # ... and the sections that read every other saw all of them, here.
    assert {"Summary", "Methods"} <= set(started_two)
    assert two.results["methods"].values["seen"] == sorted(s.id for s in order if s.id != "methods")


@pytest.mark.parametrize(
    "which, what",
    [
        ("all", "raise_in_helper"),
        ("all", "unpicklable"),
        ("all", "die_in_helper"),
        ("drivers", "raise_in_helper"),
    ],
)
def test_a_failing_helper_changes_nothing(tmp_path: Path, which: str, what: str) -> None:
    mark = tmp_path / "helper-failed"
    order = _report(tmp_path, which=which, what=what, mark=str(mark))
    two, started = _build(tmp_path, order, 2)
    if which == "all":
        assert mark.exists()  # the helper did take a section, and failed on it
        assert sorted(started) == sorted(s.title for s in order)  # so every section was built here
    if what == "unpicklable":
        with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
            pickle.dumps(two.results["data"].values)
        return
    mark.unlink(missing_ok=True)
    one, _ = _build(tmp_path, order, 1)
    _same(one, two)


def test_a_stuck_helper_is_killed_and_its_section_built_here(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import diogel.report.section_pool as pool

    monkeypatch.setattr(pool, "STALL_SECONDS", 1.0)
    mark = tmp_path / "helper-took-one"
    order = _report(tmp_path, which="all", what="hang_in_helper", mark=str(mark))
    started = time.monotonic()
    two, built_here = _build(tmp_path, order, 2)
    assert mark.exists() and time.monotonic() - started < 30
    assert sorted(built_here) == sorted(s.title for s in order)
    mark.unlink()
    _same(_build(tmp_path, order, 1)[0], two)


def test_a_section_that_fails_everywhere_raises_its_own_error(tmp_path: Path) -> None:
    order = _report(tmp_path, which="where", what="raise_anywhere")
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="where cannot be built"):
        _build(tmp_path, order, 2)
    assert time.monotonic() - started < 20  # no wait on a helper left behind


def test_sections_that_wait_on_each_other_are_refused(tmp_path: Path) -> None:
    a = _section("a", 1, ("b",))
    b = _section("b", 2, ("a",))
    c = _section("c", 3)
    for workers in (1, 2):
        with pytest.raises((ValueError, KeyError)):
            _build(tmp_path, [a, b, c], workers)
