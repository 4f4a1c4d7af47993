"""Section "Methods, caveats and sources": how every figure was made, what the data cannot show,
which files were used, and the licence attribution.

Built last, from what every other section reported: its methods paragraphs and caveats.
"""

from __future__ import annotations

from markupsafe import Markup

from diogel import __version__
from diogel.report.context import Context, SectionOutput
from diogel.report.sections import Section, register, sections

ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0: police.uk "
    "street-level crime data (the Home Office and the police forces of England and Wales), Office for "
    "National Statistics population estimates, boundaries and lookups, and the Welsh Index of Multiple "
    "Deprivation (Welsh Government). Crime Severity Score weights are ONS's, joined to police.uk "
    "categories by a third party."
)


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
    synthetic = sorted({r.name for r in d.sources.get("pact", []) if "synthetic" in r.name.lower()})
    o = ctx.options
    options = {
        "permutations": o.permutations,
        "seed": o.seed,
        "alpha": o.alpha,
        "peers": o.peers or ("7 (Wales)" if d.nation == "W" else "15 (England)"),
        "scoring": str(o.scoring) if o.scoring else "packaged default",
    }
    return SectionOutput(
        html=ctx.render(
            "sections/methods.html.j2",
            methods=methods,
            caveats=caveats,
            files=files,
            synthetic=synthetic,
            options=options,
            attribution=Markup(ATTRIBUTION),
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
