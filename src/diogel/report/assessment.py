"""The strategic assessment: gather, build every registered section, write HTML, PDF, figures.json.

``run_assessment`` is what ``diogel assess`` and ``diogel demo`` call. Output folder::

    assessment.html   one self-contained file (inline CSS, SVG charts and maps; no URLs)
    assessment.pdf    the same document, printed by WeasyPrint
    figures.json      every number with its definition, inputs and parameters; each input file once, in
                      ``sources``, which figures cite by id through the ``inputs`` map
    tables/*.csv      every table, for Excel
    maps/*.gpkg       every map layer, for QGIS (British National Grid)
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from diogel import __version__
from diogel.errors import DiogelError
from diogel.report.context import AssessOptions, Context, SectionOutput
from diogel.report.figures import FigureRegistry, plain
from diogel.report.gather import AreaData, Period, gather, parse_period
from diogel.report.gc_policy import frozen_heap
from diogel.report.i18n import HTML_LANG, _, generated_words, language, ward_names
from diogel.report.preload import assessment_modules, preloaded
from diogel.report.render import bilingual, environment, external_references, render_report, write_pdf
from diogel.report.section_pool import build_sections
from diogel.sources.registry import kinds

if TYPE_CHECKING:
    from diogel.warehouse.protocol import Warehouse

__all__ = ["AssessmentResult", "run_assessment"]

Progress = Callable[[int, int | None, str], None]  # (done, total or None while not known, label)


@dataclass
class AssessmentResult:
    """Where the assessment was written and what it covers."""

    out_dir: Path
    html: Path
    pdf: Path | None
    figures: Path
    tables: list[Path]
    maps: list[Path]
    area_code: str
    area_name: str
    period: str
    previous_available: bool
    pages: int | None
    seconds: float
    section_ids: list[str] = field(default_factory=list)
    n_figures: int = 0


def run_assessment(
    wh: Warehouse,
    area: str,
    period: str | Period,
    out_dir: str | Path,
    options: AssessOptions | None = None,
    progress: Progress | None = None,
    workers: int = 1,
) -> AssessmentResult:
    """Assess ``area`` (a CSP or local authority code or name) over ``period`` (``YYYY-MM..YYYY-MM``).

    ``workers=2`` builds the sections in this process and a forked helper
    (:mod:`diogel.report.section_pool`); the report is the same either way.
    Raises DiogelError with one line for anything the user can fix (unknown area, data missing).
    """
    started = time.monotonic()
    options = options or AssessOptions()
    if options.permutations < 1:
        raise DiogelError("--permutations must be at least 1")
    period = parse_period(period) if isinstance(period, str) else period
    out = _output_folder(Path(out_dir))
    if options.language not in ("en", "cy", "both"):
        raise DiogelError(f"--language {options.language}: expected en, cy or both")
    languages = ["cy", "en"] if options.language == "both" else [options.language]
    steps = _Steps(progress, None)  # (the total once the sections are imported)

    steps.tick("reading the warehouse")
    # The section modules and WeasyPrint are imported in a thread during the gather (see preload);
    # the source kinds, which the gather loads and some sections import, are loaded before it starts.
    kinds()
    with preloaded(assessment_modules()):
        data = gather(wh, area, period, progress=steps.tick, extra_pact=options.pact_from_portal)
    from diogel.report.sections import sections

    registered = sections()
    steps.total = 1 + len(registered) * len(languages) + 1 + (1 if options.pdf else 0)
    steps.advance()
    # The bundle and the caches a worker keeps between areas are long-lived: out of the
    # collector's way while the sections and the PDF allocate (see gc_policy). Not from the gather
    # on: the previous area's cyclic garbage, unfrozen when its block ended, is freed by the full
    # collection the gather brings round; frozen with the heap it would never be (tried: peak RSS
    # 995 -> 1,704 MiB over the 22 Welsh areas in one process).
    with frozen_heap():
        result = _build_and_write(wh, data, out, options, languages, registered, steps, workers)
    result.seconds = time.monotonic() - started
    return result


def _build_and_write(wh: Warehouse, data: AreaData, out: Path, options: AssessOptions, languages: list[str],
                     registered: list, steps: _Steps, workers: int) -> AssessmentResult:  # fmt: skip
    """Every section in each language, then assessment.html, figures.json and (optionally) the PDF."""
    from diogel.report.sections import build_order
    from diogel.report.sections.partner import read_partner

    parts: list[str] = []
    for lang in languages:
        # Each language is built from the same gathered data with the same seed, so the numbers of
        # a bilingual document agree in both halves.
        with language(lang), ward_names(_welsh_wards(data)):
            figures = FigureRegistry(data.inputs, out)
            ctx = Context(data=data, figures=figures, options=options, out_dir=out, env=environment(), warehouse=wh, partner=read_partner(wh, data, options))  # fmt: skip
            build_sections(ctx, build_order(registered), steps.tick, steps.advance, workers)
            built: list[tuple] = [(s, ctx.results[s.id]) for s in registered]
            parts.append(_document(ctx, data, [_view(s, o) for s, o in built], lang, options.language))
    steps.tick("writing the report")
    html = parts[0] if len(parts) == 1 else bilingual(parts[0], parts[1])
    leaks = external_references(html)
    if leaks:
        raise AssertionError(f"the report would refer to external addresses: {leaks[:3]}")
    html_path = out / "assessment.html"
    html_path.write_text(html, encoding="utf-8")
    figures_path = out / "figures.json"
    figures_path.write_text(_dump(_figures_json(data, figures, options)) + "\n", "utf-8")
    steps.advance()
    pdf_path, pages = None, None
    if options.pdf:
        steps.tick("printing the PDF")
        pdf_path = out / "assessment.pdf"
        pages = write_pdf(html, pdf_path)
        steps.advance()
    steps.tick("")
    return AssessmentResult(
        out_dir=out,
        html=html_path,
        pdf=pdf_path,
        figures=figures_path,
        tables=sorted((out / "tables").glob("*.csv")),
        maps=sorted((out / "maps").glob("*.gpkg")),
        area_code=data.code,
        area_name=data.name,
        period=data.period.label,
        previous_available=data.previous_available,
        pages=pages,
        seconds=0.0,
        section_ids=[s.id for s in registered],
        n_figures=len(figures.figures),
    )


def _welsh_wards(data: AreaData) -> dict[str, str]:
    """Ward code -> Welsh name of the area's wards, where the loaded lookup has one (``ward_name_cy``)."""
    lsoas = data.lsoas
    if "ward_name_cy" not in lsoas.columns:
        return {}
    named = lsoas.dropna(subset=["ward_code", "ward_name_cy"])
    return dict(zip(named["ward_code"].astype(str), named["ward_name_cy"].astype(str), strict=True))


class _Steps:
    """The progress callback's count of steps done, out of ``total`` (``None`` until it is known)."""

    def __init__(self, progress: Progress | None, total: int | None) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def tick(self, label: str) -> None:
        if self.progress:
            self.progress(self.done, self.total, label)

    def advance(self) -> None:
        self.done += 1


def _output_folder(out: Path) -> Path:
    """``out``, created; tables and maps of an earlier run in it removed (they would pass for this run's)."""
    if out.exists() and not out.is_dir():
        raise DiogelError(f"--out {out} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("tables", "maps"):
        for old in (out / sub).glob("*"):
            old.unlink()
    return out


def _view(section, output: SectionOutput) -> dict:  # noqa: ANN001
    return {"id": section.id, "title": _(section.title), "description": _(section.description) if section.description else "", "html": output.html}  # fmt: skip


def _document(ctx: Context, data: AreaData, views: list[dict], lang: str, chosen: str) -> str:
    """The report's HTML in ``lang`` (the current language); ``chosen`` is the --language asked for."""
    return render_report(
        ctx.env,
        sections=views,
        lang=HTML_LANG[lang],
        bilingual=chosen == "both",
        area={"name": data.display_name, "code": data.code},
        level_words=data.level_words[:1].upper() + data.level_words[1:],
        period={"label": data.period.label, "words": data.period.words},
        previous={"label": data.previous.label},
        previous_available=data.previous_available,
        generated=generated_words(dt.datetime.now(dt.UTC)),
        version=__version__,
    )


def _dump(value: object, depth: int = 0) -> str:
    """JSON with one line per innermost object or list (a source, a table row, a definition map).

    Indenting every value of every table row made a third of figures.json whitespace; one line per
    row keeps it readable in an editor and diffable.
    """
    pad = " " * depth

    def nested(v: object) -> bool:
        items = v.values() if isinstance(v, dict) else v if isinstance(v, list) else ()
        return any(isinstance(x, dict | list) for x in items)

    if isinstance(value, dict) and nested(value):
        body = ",\n".join(
            f"{pad} {json.dumps(k, ensure_ascii=False)}: {_dump(v, depth + 1)}" for k, v in value.items()
        )
        return "{\n" + body + f"\n{pad}}}"
    if isinstance(value, list) and nested(value):
        return "[\n" + ",\n".join(f"{pad} {_dump(v, depth + 1)}" for v in value) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _figures_json(data: AreaData, figures: FigureRegistry, options: AssessOptions) -> dict:
    """figures.json: the area, period and options, every file used once (``sources``, by id), each
    input key's files (``inputs``: key -> source ids), then the figures, which name input keys."""
    refs = {(r.file_id, r.run_id): r for rs in data.sources.values() for r in rs}
    ordered = sorted(refs.values(), key=lambda r: (r.kind, r.name, r.file_id, r.run_id))
    ids = {(r.file_id, r.run_id): i for i, r in enumerate(ordered, start=1)}
    inputs = {
        key: sorted({ids[(r.file_id, r.run_id)] for r in rs}) for key, rs in sorted(data.sources.items())
    }
    shared: dict[str, list[dict]] = {}
    records = figures.records(ids, shared)
    return {
        "report": "diogel strategic assessment",
        "diogel_version": __version__,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "area": {"level": data.level, "code": data.code, "name": data.name, "lsoas_2021": len(data.lsoas),
                 "forces": [name for _, name in data.forces], "police_reported_by": data.reporters},
        "period": data.period.as_dict(),
        "previous_period": data.previous.as_dict() | {"available": data.previous_available,
                                                       "missing_months": data.previous_missing},
        "population_year": data.population_year,
        "deprivation_index": data.deprivation_index,
        "options": plain({"permutations": options.permutations, "seed": options.seed, "alpha": options.alpha,
                          "peers": options.peers, "peer_weights": options.peer_weights, "scoring": str(options.scoring) if options.scoring else None}),
        "counting_rules": [
            "when two files cover the same force and month, the one ingested later replaces the earlier",
            "a crime is one Crime ID, counted once in the earliest month it appears",
            "anti-social behaviour rows have no ID: each row counts",
            "areas are assigned by LSOA membership (LSOA -> ward -> local authority -> CSP -> force), never by "
            "'Falls within'; 2011 LSOA codes are carried to 2021 through the ONS lookup",
        ],
        "harmonisation": plain(data.harmonised),
        "sources": [{"id": ids[(r.file_id, r.run_id)]} | r.as_dict() for r in ordered],
        "inputs": inputs,
        "shared_parameters": shared["parameters"],
        "shared_definitions": shared["definitions"],
        "figures": records,
    }  # fmt: skip
