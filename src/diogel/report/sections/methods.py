"""Section "Methods, caveats and sources": how every figure was made, what the data cannot show,
which files were used, and the licence attribution.

Built last, from what every other section reported: its methods paragraphs and caveats.
"""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from diogel import __version__
from diogel import data as bundled
from diogel.report.context import Context, SectionOutput
from diogel.report.i18n import _
from diogel.report.sections import Section, register, sections

ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0: police.uk "
    "street-level crime data (the Home Office and the police forces of England and Wales), Office for "
    "National Statistics population estimates, boundaries and lookups, and the Welsh Index of Multiple "
    "Deprivation (Welsh Government). Crime Severity Score weights are ONS's, joined to police.uk "
    "categories by a third party."
)
# Above this many files the page lists the non-police files and summarises the police.uk files by use
# (a national download gives a thousand or more); tables/source_files.csv and figures.json list all.
MAX_FILES_LISTED = 100

# -- calibration tables: every diogel/data/calibration/*.csv, computed once per release ---------------------
CALIBRATION_COLUMNS = {
    "test": "test",
    "scenario": "simulated data",
    "statistic": "what is counted",
    "nominal": "nominal rate",
    "rate": "simulated rate",
    "mc_se": "Monte Carlo standard error",
    "simulations": "simulated units",
    "notes": "notes",
    "source": "real data the null model was fitted to",
}


def _fmt_rate(value: object) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{float(value):.4f}" if float(value) < 0.01 else f"{float(value):.3f}"


def calibration_tables() -> list[tuple[str, pd.DataFrame]]:
    """Every shipped calibration table (``diogel/data/calibration/*.csv``), by file stem, sorted.

    Each was written by a generator script from simulations of the tests on null data fitted to real
    police.uk series (see the file's ``source`` column and docs/calibration.md); a report renders all
    of them, whichever analysis shipped them.
    """
    folder = bundled.path("calibration")
    if not folder.is_dir():
        return []
    return [(p.stem, pd.read_csv(p)) for p in sorted(folder.glob("*.csv"))]


def _register_calibration(ctx: Context) -> list[dict[str, object]]:
    shown = []
    for stem, frame in calibration_tables():
        columns = {c: CALIBRATION_COLUMNS.get(c, c.replace("_", " ")) for c in frame.columns}
        fig = ctx.figures.table(
            f"calibration_{stem}", frame, label=f"Calibration of the tests ({stem}): simulated rates", inputs=[],
            columns=columns, parameters={"file": f"diogel/data/calibration/{stem}.csv"},
            definition="False-positive rates on simulated null data (and power under planted effects), computed once "
            "per release and shipped with diogel; a calibrated test's rate is within about 2 Monte Carlo standard "
            "errors of its nominal rate.", csv=f"calibration_{stem}",
        )  # fmt: skip
        # The notes (long text) stay in the CSV and figures.json: with them a table runs past a page.
        visible = {c: _(h) for c, h in columns.items() if c not in ("source", "notes")}
        sources = sorted({str(v) for v in frame.get("source", pd.Series(dtype=str)).dropna()})
        shown.append({"id": fig.id, "columns": visible, "sources": sources, "stem": stem})
    return shown


def build(ctx: Context) -> SectionOutput:
    d = ctx.data
    order = [s for s in sections() if s.id in ctx.results]
    methods = [(t, body) for s in order for t, body in ctx.results[s.id].methods]
    caveats = [c for s in order for c in ctx.results[s.id].caveats]
    seen: dict[str, dict[str, str]] = {}
    for key, refs in d.sources.items():
        for r in refs:
            entry = seen.setdefault(r.file_id + r.run_id, r.as_dict() | {"used_as": ""})
            entry["used_as"] = ", ".join(sorted({*filter(None, entry["used_as"].split(", ")), key}))
    files = sorted(seen.values(), key=lambda e: (e["kind"], e["name"]))
    ctx.figures.table(
        "source_files", pd.DataFrame(files, columns=["kind", "name", "file_id", "run_id", "used_as"]),
        label="Every file the assessment used", inputs=[k for k, refs in d.sources.items() if refs],
        columns={"kind": "source kind", "name": "file name", "file_id": "SHA-256 of the file's content",
                 "run_id": "ingest run", "used_as": "input keys of figures.json it stands for"},
        definition="The files registered by the warehouse whose rows the figures were computed from.",
        csv="source_files",
    )  # fmt: skip
    police_summary = []
    if len(files) > MAX_FILES_LISTED:
        police = pd.DataFrame([f for f in files if f["kind"] == "police-street"])
        files = [f for f in files if f["kind"] != "police-street"]
        for used_as, g in police.groupby("used_as", sort=True):
            names = sorted(g["name"])
            police_summary.append({"used_as": used_as, "files": len(g), "first": names[0], "last": names[-1]})
    synthetic = sorted({r.name for r in d.sources.get("pact", []) if "synthetic" in r.name.lower()})
    o = ctx.options
    options = {
        "permutations": o.permutations,
        "seed": o.seed,
        "alpha": o.alpha,
        "peers": o.peers or (_("7 (Wales)") if d.nation == "W" else _("15 (England)")),
        "scoring": str(o.scoring) if o.scoring else _("packaged default"),
    }
    calibration = _register_calibration(ctx)
    return SectionOutput(
        html=ctx.render(
            "sections/methods.html.j2",
            calibration=calibration,
            fmt_rate=_fmt_rate,
            methods=methods,
            caveats=caveats,
            files=files,
            police_summary=police_summary,
            synthetic=synthetic,
            options=options,
            attribution=Markup(_(ATTRIBUTION)),
            version=__version__,
        )
    )


register(
    Section(
        id="methods",
        title="Methods, caveats and sources",
        order=100,
        build=build,
        needs=("*",),
        description="Methods appendix, caveats, the files used and the licence attribution.",
    )
)
