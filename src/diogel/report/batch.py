"""Many assessments in one command: ``diogel assess --area A --area B`` or ``--area all-wales``.

The areas are resolved once in the calling process (so an unknown name fails before any work
starts), then assessed in a pool of worker processes. Each worker opens the warehouse read-only
once and keeps it for every area it is given, so the per-connection caches of
:mod:`diogel.report.gather` (the counted police.uk rows, the LSOA membership) are built once per
worker, not once per area. Each area is written to its own folder under ``--out`` (named
``<code>-<name>``, e.g. ``W06000022-newport``) and ``index.html`` links them all.

Area groups:

``all-wales``      the 22 Welsh local authorities (W06 codes), as loaded in the geography lookups;
``all-wales-csp``  the Welsh Community Safety Partnerships (W14 codes) in the LA -> CSP lookup.
"""

from __future__ import annotations

import datetime as dt
import html
import multiprocessing as mp
import queue
import re
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diogel.errors import DiogelError

if TYPE_CHECKING:
    from diogel.warehouse.protocol import Warehouse

__all__ = ["GROUPS", "AreaRun", "area_folder", "area_sizes", "expand_areas", "run_many", "write_index"]

GROUPS = {
    "all-wales": ("la", "W06", "the 22 Welsh local authorities"),
    "all-wales-csp": ("csp", "W14", "the Welsh Community Safety Partnerships"),
}


@dataclass
class AreaRun:
    """One area of a multi-area run: where it went and how it ended."""

    level: str
    code: str
    name: str
    folder: str
    status: str = "waiting"  # "waiting", "running", "done" or "failed"
    step: str = ""
    done: int = 0
    total: int | None = 0  # (None while the area's steps are not yet known)
    error: str = ""
    seconds: float = 0.0
    pages: int | None = None
    n_figures: int = 0
    pdf: bool = False
    figures_bytes: int = 0
    result: dict[str, Any] = field(default_factory=dict)


def area_folder(code: str, name: str) -> str:
    """``W06000022`` + ``Newport`` -> ``W06000022-newport`` (ASCII letters, digits and hyphens)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")
    return f"{code}-{slug}" if slug else code


def _group(wh: Warehouse, level: str, prefix: str) -> list[tuple[str, str, str]]:
    from diogel.report.gather import membership_frame

    m = membership_frame(wh)
    col, name_col = f"{level}_code", f"{level}_name"
    rows = m[m[col].fillna("").str.startswith(prefix)].drop_duplicates(col).sort_values(col)
    return [(level, str(r[col]), str(r[name_col])) for _, r in rows.iterrows()]


def expand_areas(wh: Warehouse, areas: Sequence[str]) -> list[tuple[str, str, str]]:
    """Each ``--area`` (a code, a name, or a group of :data:`GROUPS`) as (level, code, name), once each.

    Raises DiogelError (one line) for an unknown area, or for a level the assessment does not cover.
    """
    from diogel.report.gather import AREA_LEVELS, resolve

    found: dict[str, tuple[str, str, str]] = {}
    for area in areas:
        group = GROUPS.get(area.strip().casefold())
        if group:
            members = _group(wh, group[0], group[1])
            if not members:
                raise DiogelError(
                    f"--area {area}: the warehouse's lookups hold none of {group[2]} "
                    "(diogel init --reference wales loads them)"
                )
        else:
            members = [resolve(wh, area)]
        for level, code, name in members:
            if level not in AREA_LEVELS:
                raise DiogelError(
                    f"{area!r} is not a Community Safety Partnership or local authority ({code}); "
                    f"--area takes CSP or local authority codes or names, or one of {', '.join(GROUPS)}"
                )
            found.setdefault(code, (level, code, name))
    return list(found.values())


def area_sizes(wh: Warehouse, areas: Sequence[tuple[str, str, str]]) -> dict[str, int]:
    """Code -> number of 2021 LSOAs of each area of :func:`expand_areas`, its assessment's rough cost."""
    from diogel.report.gather import membership_frame

    m = membership_frame(wh)
    m = m[m["lsoa_vintage"] == 2021]
    return {code: int(m.loc[m[f"{level}_code"] == code, "lsoa_code"].nunique()) for level, code, _ in areas}


# -- the worker processes ----------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _worker_init(opener: Callable[[], Any], events: Any, processes: int) -> None:
    import logging

    from diogel.report.gc_policy import no_collection_at_exit
    from diogel.report.thread_policy import share_cores

    share_cores(processes)  # before numpy is imported here: the workers share the cores (see thread_policy)

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    no_collection_at_exit()  # (a spawned worker exits through the interpreter's finalisation too)
    _WORKER["open"] = opener
    _WORKER["events"] = events


def _warehouse() -> Any:
    if "wh" not in _WORKER:
        import atexit

        _WORKER["wh"] = _WORKER["open"]()
        atexit.register(_WORKER["wh"].close)  # (closed before the heap is frozen at exit)
    return _WORKER["wh"]


def _assess_one(code: str, period: str, out: str, options: Any) -> dict[str, Any]:
    """One area in a worker: the assessment, with progress events to the parent."""
    from diogel.report.assessment import run_assessment

    events = _WORKER["events"]

    def progress(done: int, total: int | None, label: str) -> None:
        events.put((code, done, total, label))

    try:
        r = run_assessment(_warehouse(), code, period, out, options, progress=progress)
    except DiogelError as exc:
        return {"error": str(exc)}
    except Exception as exc:
        last = traceback.extract_tb(exc.__traceback__)[-1]
        return {"error": f"{type(exc).__name__}: {exc} ({Path(last.filename).name}:{last.lineno})"}
    return {
        "seconds": r.seconds,
        "pages": r.pages,
        "n_figures": r.n_figures,
        "pdf": r.pdf is not None,
        "figures_bytes": r.figures.stat().st_size,
        "previous_available": r.previous_available,
    }


def run_many(
    opener: Callable[[], Any],
    areas: Sequence[tuple[str, str, str]],
    period: str,
    out_dir: Path,
    options: Any,
    jobs: int = 2,
    on_event: Callable[[AreaRun], None] | None = None,
    sizes: dict[str, int] | None = None,
) -> list[AreaRun]:
    """Assess every area of ``areas`` in ``jobs`` worker processes; write ``out_dir/index.html``.

    ``opener`` (picklable: a module-level function or a :func:`functools.partial` of one) opens the
    warehouse in a worker, read-only. ``on_event`` is called in this process whenever an area moves
    on a step, starts or ends. An area that fails does not stop the others; its one-line error is
    in its :class:`AreaRun` and on the index page. ``sizes`` (code -> LSOAs, :func:`area_sizes`)
    hands the largest areas out first, so the run does not end with one worker finishing a large
    area while the others wait; the index keeps the order of ``areas``.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise DiogelError(f"--out {out_dir} is a file, not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = {code: AreaRun(level, code, name, area_folder(code, name)) for level, code, name in areas}
    started = time.monotonic()
    # spawn, not fork: a forked child would inherit the parent's open DuckDB connection and threads.
    ctx = mp.get_context("spawn")
    events = ctx.Queue()
    stop = threading.Event()

    def listen() -> None:
        while not stop.is_set():
            try:
                code, done, total, label = events.get(timeout=0.2)
            except queue.Empty:
                continue
            run = runs[code]
            if run.status == "waiting":
                run.status = "running"
            run.done, run.total, run.step = done, total, label
            if on_event:
                on_event(run)

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    try:
        workers = max(1, min(jobs, len(runs)))
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=_worker_init,
            initargs=(opener, events, workers),
        ) as pool:
            queued = sorted(runs.values(), key=lambda r: -(sizes or {}).get(r.code, 0))  # stable
            futures: dict[Future, AreaRun] = {
                pool.submit(_assess_one, r.code, period, str(out_dir / r.folder), options): r for r in queued
            }
            for future in as_completed(futures):
                run = futures[future]
                try:
                    res = future.result()
                except Exception as exc:
                    res = {"error": f"the worker process failed: {type(exc).__name__}: {exc}"}
                run.result = res
                if "error" in res:
                    run.status, run.error = "failed", res["error"]
                else:
                    run.status = "done"
                    run.seconds, run.pages, run.n_figures = res["seconds"], res["pages"], res["n_figures"]
                    run.pdf, run.figures_bytes = res["pdf"], res["figures_bytes"]
                if on_event:
                    on_event(run)
    finally:
        stop.set()
        listener.join()
    ordered = list(runs.values())
    write_index(out_dir, ordered, period, time.monotonic() - started)
    return ordered


# -- the index page ---------------------------------------------------------------------------------

_INDEX_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}.failed{color:#a00}
"""


def write_index(out_dir: Path, runs: Sequence[AreaRun], period: str, seconds: float) -> Path:
    """``index.html`` in ``out_dir``: one row per area, linking its report, PDF and figures.json."""
    e = html.escape
    rows = []
    for r in runs:
        base = f"{r.folder}/"
        if r.status == "done":
            links = f"<a href='{e(base)}assessment.html'>report</a>"
            if r.pdf:
                links += f" · <a href='{e(base)}assessment.pdf'>PDF</a>"
            links += f" · <a href='{e(base)}figures.json'>figures.json</a>"
            detail = (
                f"<td class='num'>{r.pages if r.pages is not None else ''}</td>"
                f"<td class='num'>{r.n_figures}</td><td class='num'>{r.seconds:.0f}</td>"
            )
        else:
            links = f"<span class='failed'>not written: {e(r.error or r.status)}</span>"
            detail = "<td></td><td></td><td></td>"
        rows.append(f"<tr><td>{e(r.name)}</td><td>{e(r.code)}</td><td>{links}</td>{detail}</tr>")
    failed = sum(r.status != "done" for r in runs)
    now = dt.datetime.now(dt.UTC).strftime("%d %B %Y %H:%M UTC")
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Strategic assessments, {e(period)}</title><style>{_INDEX_CSS}</style></head><body>"
        f"<h1>Strategic assessments, {e(period)}</h1>"
        f"<p>{len(runs) - failed} of {len(runs)} areas written"
        + (f"; {failed} failed (reason in the row)" if failed else "")
        + f", in {seconds:.0f} s; generated {e(now)}.</p>"
        "<table><thead><tr><th scope='col'>Area</th><th scope='col'>Code</th><th scope='col'>Outputs</th>"
        "<th scope='col'>PDF pages</th><th scope='col'>Figures</th><th scope='col'>Seconds</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></body></html>\n"
    )
    path = Path(out_dir) / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
