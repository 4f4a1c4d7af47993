"""Section "Methods, caveats and sources": how every figure was made, what the data cannot show,
which files were used, and the licence attribution.

Built last, from what every other section reported: its methods paragraphs and caveats.
"""

from __future__ import annotations

import re

import pandas as pd
from markupsafe import Markup

from diogel import __version__
from diogel import data as bundled
from diogel.report.context import Context, SectionOutput
from diogel.report.i18n import T, _, term
from diogel.report.sections import Section, register, sections

ATTRIBUTION = T(
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
    "test": T("test"),
    "scenario": T("simulated data"),
    "statistic": T("what is counted"),
    "nominal": T("nominal rate"),
    "rate": T("simulated rate"),
    "mc_se": T("Monte Carlo standard error"),
    "simulations": T("simulated units"),
    "notes": T("notes"),
    "source": T("real data the null model was fitted to"),
    "false_positive_rate": T("false positive rate"),
    "power": T("power"),
    "reps": T("reps"),
}
# The shipped tables' words (the test, the simulated data and what is counted), for the catalogue;
# a crime type in them is a glossary term (see _calibration_words).
_CALIBRATION_WORDS = (
    T(
        "Emerging hot spots (ESRI: space-time Gi* of counts, normal p, FDR over the cube): any class, real LSOA levels shuffled over the map"
    ),
    T(
        "Emerging hot spots (space-time Gi* of residuals, permutation z, FDR over the cube): any class, real LSOA levels in their real places"
    ),
    T(
        "Emerging hot spots (space-time Gi* of residuals, permutation z, FDR over the cube): any class, real LSOA levels shuffled over the map"
    ),
    T("Gi* hot/cold bins at 95%, FDR (analytic p)"),
    T("Gi* hot/cold bins at 95%, FDR (permutation p, 9999 permutations)"),
    T("Pattern change: S below its no-change 2.5% point"),
    T("Pattern change: per-LSOA exact tests, FDR"),
    T("control chart (Laney u', seasonal baseline)"),
    T("control chart (exact Poisson, previous method)"),
    T("drivers: NB2 coefficient, each covariate alone"),
    T("drivers: NB2 coefficient, each covariate alone + Benjamini-Hochberg"),
    T("year-on-year change (exact binomial, previous method)"),
    T("year-on-year change (quasi-Poisson on paired months)"),
    T("year-on-year change (quasi-Poisson on paired months) + Benjamini-Hochberg"),
    T("no association"),
    T("no change"),
    T("no change in any type"),
    T("coefficients at p < 0.05"),
    T("months signalled at 3 sigma (12-month series)"),
    T("months signalled at 3 sigma (36-month series)"),
    T("reports with any coefficient at q < 0.05"),
    T("reports with any type at q < 0.05"),
    T("types flagged at p < 0.05"),
)
# Words naming a crime type: (pattern, message with {} for the type).
_CALIBRATION_PATTERNS = (
    (re.compile(r"20% rise in (.+) over the last 12 months"), T("20% rise in {} over the last 12 months")),
    (re.compile(r"20% rise in (.+)"), T("20% rise in {}")),
    (re.compile(r"power: (.+) at q < 0\.05"), T("power: {} at q < 0.05")),
    (
        re.compile(r"power: any of those months signalled \((.+)\)"),
        T("power: any of those months signalled ({})"),
    ),
)


def _calibration_words(value: object) -> str:
    """A cell of a calibration table in the report language (as written when not catalogued)."""
    if not isinstance(value, str) or not value:
        return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    for pattern, message in _CALIBRATION_PATTERNS:
        m = pattern.fullmatch(value)
        if m:
            return _(message.msgid).format(term(m.group(1)))
    return _(value)


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
            f"calibration_{stem}", frame, label=T("Calibration of the tests ({stem}): simulated rates", stem=stem), inputs=[],
            columns=columns, parameters={"file": f"diogel/data/calibration/{stem}.csv"},
            definition=T("False-positive rates on simulated null data (and power under planted effects), computed once "
            "per release and shipped with diogel; a calibrated test's rate is within about 2 Monte Carlo standard "
            "errors of its nominal rate."), csv=f"calibration_{stem}",
        )  # fmt: skip
        # The notes (long text) stay in the CSV and figures.json: with them a table runs past a page.
        visible = {c: _(h) for c, h in columns.items() if c not in ("source", "notes")}
        sources = sorted({str(v) for v in frame.get("source", pd.Series(dtype=str)).dropna()})
        formats = {"nominal": _fmt_rate, "rate": _fmt_rate, "mc_se": _fmt_rate}
        formats |= {c: _calibration_words for c in ("test", "scenario", "statistic") if c in visible}
        shown.append({"id": fig.id, "columns": visible, "formats": formats, "sources": sources, "stem": stem})
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
        label=T("Every file the assessment used"), inputs=[k for k, refs in d.sources.items() if refs],
        columns={"kind": "source kind", "name": "file name", "file_id": "SHA-256 of the file's content",
                 "run_id": "ingest run", "used_as": "input keys of figures.json it stands for"},
        definition=T("The files registered by the warehouse whose rows the figures were computed from."),
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
