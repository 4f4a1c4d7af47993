"""``diogel forecast``: where crime is likely next, evaluated against the naive map every time."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from diogel.commands._common import fail, out, progress
from diogel.errors import DiogelError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from markupsafe import Markup

    from diogel.analysis.forecast import ForecastData
    from diogel.analysis.forecast_run import ForecastResult
    from diogel.report.gather_forecast import ForecastArea

ALIASES = {
    "violence": "Violence and sexual offences",
    "asb": "Anti-social behaviour",
    "vehicle": "Vehicle crime",
}


def crime_type_name(text: str) -> str:
    """``all``, a police.uk crime type (any case) or an alias (violence, asb, vehicle) -> the police.uk name."""
    from diogel.analysis.harm import POLICEUK_CRIME_TYPES

    key = text.strip().casefold()
    if key == "all":
        return "all"
    if key in ALIASES:
        return ALIASES[key]
    for t in POLICEUK_CRIME_TYPES:
        if t.casefold() == key:
            return t
    raise DiogelError(
        f"--crime-type takes 'all', a police.uk crime type ({', '.join(POLICEUK_CRIME_TYPES)}) or violence/asb/vehicle, "
        f"not {text!r}"
    )


def forecast(
    ctx: typer.Context,
    area: Annotated[str, typer.Option(help="A CSP (W14/E22 code), a local authority (W06/E06..E09 code), or its name.")],
    train_to: Annotated[str, typer.Option(help="The last month the forecast may use, YYYY-MM.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for predictions.csv, evaluation.csv, the map and the note.")],
    crime_type: Annotated[str, typer.Option(help="'all' (crime and ASB), a police.uk crime type, or violence/asb/vehicle.")] = "all",
    horizon: Annotated[int, typer.Option(help="Months to forecast after --train-to (1..12).")] = 3,
    unit: Annotated[str, typer.Option(help="lsoa (2021 LSOAs) or grid250 (250 m cells of police.uk map points).")] = "lsoa",
    origins: Annotated[int, typer.Option(help="Rolling origins of the evaluation (at least 6 for a method to be chosen).")] = 6,
    engine: Annotated[str, typer.Option(help="Count model: negbin (statsmodels) or gbm (scikit-learn).")] = "negbin",
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write forecast.pdf.")] = True,
) -> None:  # fmt: skip
    """Forecast hot spots for the months after --train-to, with every method evaluated against the naive map."""
    started = time.monotonic()
    try:
        kind = crime_type_name(crime_type)
        if unit not in ("lsoa", "grid250"):
            raise DiogelError(f"--unit takes lsoa or grid250, not {unit!r}")
        if engine not in ("negbin", "gbm"):
            raise DiogelError(f"--engine takes negbin or gbm, not {engine!r}")
        if not 1 <= horizon <= 12:
            raise DiogelError(f"--horizon takes 1 to 12 months, not {horizon}")
        if origins < 1:
            raise DiogelError(f"--origins takes a positive number, not {origins}")
        try:
            month = dt.datetime.strptime(train_to, "%Y-%m")
        except ValueError:
            raise DiogelError(f"--train-to must be a month as YYYY-MM, not {train_to!r}") from None
        with ctx.obj.open() as wh, progress("forecast") as update:
            result = run(
                wh, area, kind, month, horizon, unit, origins, engine, out_dir, pdf, lambda s: update(0, 0, s)
            )
    except DiogelError as exc:
        fail(exc)
    except OSError as exc:  # an unwritable --out
        fail(exc)
    out.print(f"[bold]forecast[/bold]: {escape(result['title'])}", highlight=False, soft_wrap=True)
    out.print(f"  {escape(result['verdict'])}", highlight=False, soft_wrap=True)
    for name in result["files"]:
        out.print(f"  {escape(str(out_dir / name))}", highlight=False, soft_wrap=True)
    out.print(f"  took {time.monotonic() - started:.1f} s", highlight=False)


def run(wh, area, kind, month, horizon, unit, n_origins, engine, out_dir: Path, pdf: bool, say) -> dict:  # noqa: ANN001, PLR0913
    """Read, evaluate, forecast and write; returns the title, the verdict and the files written."""
    import pandas as pd

    from diogel.analysis.forecast_run import KERNEL_TYPES, contiguous_months, default_methods, run_forecast
    from diogel.analysis.forecast_units import grid_units, lsoa_units
    from diogel.report.gather_forecast import gather_forecast
    from diogel.warehouse.queries import points

    train_to = pd.Timestamp(month)
    d = gather_forecast(wh, area, train_to, progress=say)
    months = contiguous_months(pd.DatetimeIndex(d.months_loaded), train_to)
    if not len(months):
        raise DiogelError(
            f"no police.uk data from {', '.join(d.reporters)} for {train_to:%Y-%m}: ingest that month"
        )
    crime_type = None if kind == "all" else kind
    events = None
    if unit == "grid250" or crime_type in KERNEL_TYPES:
        say("reading police.uk map points")
        events = points(wh, d.code, f"{months[0]:%Y-%m}", f"{train_to:%Y-%m}")
    say("building units")
    if unit == "lsoa":
        data, geo = lsoa_units(d.boundaries, d.crimes, months, crime_type, d.deprivation, events)
    else:
        data, geo = grid_units(d.boundaries, events, months, crime_type, d.deprivation)
    say("evaluating over rolling origins")
    methods = default_methods(crime_type, events is not None, engine)
    result = run_forecast(data, train_to, horizon, methods, n_origins)
    say("writing")
    return write_outputs(result, data, geo, d, kind, unit, engine, out_dir, pdf, n_origins)


NOTE_CSS = """
body { font-family: sans-serif; font-size: 10pt; color: #222; max-width: 60em; margin: 1.5em auto; padding: 0 1em; }
h1 { font-size: 15pt; } h2 { font-size: 12pt; margin-top: 1.4em; }
table { border-collapse: collapse; font-size: 8.5pt; margin: 0.6em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 2px 6px; text-align: right; } td.txt, th.txt { text-align: left; }
.note { color: #555; font-size: 9pt; } svg { max-width: 100%; height: auto; }
@page { size: A4; margin: 15mm; }
"""


def _table(frame, columns: dict) -> str:  # noqa: ANN001
    """An HTML table: ``columns`` maps a column to (heading, format)."""
    from html import escape as esc

    cls = lambda c: "txt" if c == "method" else "num"  # noqa: E731
    head = "".join(f"<th class='{cls(c)}'>{esc(h)}</th>" for c, (h, _) in columns.items())
    body = [
        "<tr>"
        + "".join(f"<td class='{cls(c)}'>{esc(f(r[c]))}</td>" for c, (_, f) in columns.items())
        + "</tr>"
        for r in frame.to_dict(orient="records")
    ]
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def write_outputs(result, data, geo, d, kind, unit, engine, out_dir: Path, pdf: bool, n_origins: int) -> dict:  # noqa: ANN001, PLR0913
    """predictions.csv, evaluation.csv, evaluation_by_origin.csv, forecast.gpkg, forecast_map.svg, forecast.html/.pdf."""
    from diogel.report.render import write_pdf

    out_dir.mkdir(parents=True, exist_ok=True)
    title, window, units_words = _title(result, d, kind, unit)
    files = [
        "predictions.csv",
        "evaluation.csv",
        "evaluation_by_origin.csv",
        "forecast.gpkg",
        "forecast_map.svg",
        "forecast.html",
    ]
    ev, chosen, svg = _write_tables_and_map(result, geo, d, window, out_dir)
    verdict = _verdict(result, n_origins)
    html = _forecast_html(result, data, d, engine, title, units_words, verdict, ev, chosen, svg)
    (out_dir / "forecast.html").write_text(html, encoding="utf-8")
    if pdf:
        write_pdf(html, out_dir / "forecast.pdf")
        files.append("forecast.pdf")
    return {"title": title, "verdict": f"method used: {result.method} ({verdict})", "files": files}


def _title(result: ForecastResult, d: ForecastArea, kind: str, unit: str) -> tuple[str, str, str]:
    """The forecast's title, its window ("July 2025 to September 2025") and the words for its units."""
    import pandas as pd

    what = "all records (crime and ASB)" if kind == "all" else kind.lower()
    units_words = "2021 LSOAs" if unit == "lsoa" else "250 m grid cells"
    first = result.train_to + pd.DateOffset(months=1)
    last = result.train_to + pd.DateOffset(months=result.horizon)
    window = f"{first:%B %Y}" + ("" if result.horizon == 1 else f" to {last:%B %Y}")
    title = f"{d.name} ({d.code}), {what}, {units_words}, {window}"
    return title, window, units_words


def _write_tables_and_map(
    result: ForecastResult, geo: gpd.GeoDataFrame, d: ForecastArea, window: str, out_dir: Path
) -> tuple[pd.DataFrame, pd.DataFrame, Markup]:
    """predictions.csv, evaluation.csv, evaluation_by_origin.csv, forecast.gpkg and forecast_map.svg;
    returns the evaluation table, the chosen method's classes and the map's SVG."""
    import pandas as pd

    from diogel.report import charts
    from diogel.report.sections.where_next import chosen_classes, evaluation_table, forecast_map

    result.predictions.to_csv(out_dir / "predictions.csv", index=False, lineterminator="\n")
    ev = evaluation_table(result) if len(result.summary) else pd.DataFrame()
    ev.to_csv(out_dir / "evaluation.csv", index=False, lineterminator="\n")
    result.scores.to_csv(out_dir / "evaluation_by_origin.csv", index=False, lineterminator="\n")
    chosen = chosen_classes(result)
    layer = geo.merge(chosen[["unit", "score", "rank", "area_class", "method"]], on="unit")
    gpkg = out_dir / "forecast.gpkg"
    gpkg.unlink(missing_ok=True)
    layer.to_crs(27700).to_file(gpkg, layer="forecast", driver="GPKG")
    outline = d.boundaries.dissolve()
    fig = forecast_map(geo.to_crs(4326), chosen, f"Forecast top of the area, {window}", outline=outline)
    svg = charts.svg(fig, f"Map of the forecast top 1%, 5% and 10% of the area, {window}")
    standalone = str(svg).replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    (out_dir / "forecast_map.svg").write_text(standalone, encoding="utf-8")
    return ev, chosen, svg


def _verdict(result: ForecastResult, n_origins: int) -> str:
    """Why this method was used, or that no method could be evaluated."""
    if result.choice is None:
        verdict = (
            f"only {len(result.origins)} rolling origin(s) could be evaluated (each needs the 12 months before it and the "
            f"{result.horizon} after it, by {result.train_to:%Y-%m}): no method was evaluated, the naive map is used"
        )
    else:
        verdict = result.choice.reason
        if len(result.origins) < n_origins:
            verdict += (
                f" (only {len(result.origins)} of the {n_origins} origins asked for had enough months loaded)"
            )
    return verdict


def _forecast_html(
    result: ForecastResult,
    data: ForecastData,
    d: ForecastArea,
    engine: str,
    title: str,
    units_words: str,
    verdict: str,
    ev: pd.DataFrame,
    chosen: pd.DataFrame,
    svg: Markup,
) -> str:
    """The standalone HTML note: the map, the evaluation against the naive map, the top of the area, the data."""
    from html import escape as esc

    import pandas as pd

    from diogel.analysis.forecast_eval import BASELINE
    from diogel.report.sections.where_next import POINTS_NOTE, method_words

    method = result.method
    num = lambda v: "" if v is None or pd.isna(v) else f"{v:,.2f}"  # noqa: E731
    pct = lambda v: "" if v is None or pd.isna(v) else f"{v:.0%}"  # noqa: E731
    cols = {"method": ("method", method_words), "coverage": ("area", pct), "hit_rate_mean": ("hit rate", pct),
            "pai_mean": ("PAI", num), "pai_sd": ("PAI sd", num), "pai_min": ("PAI min", num), "pai_max": ("PAI max", num),
            "pei_mean": ("PEI", num), "rri_mean": ("RRI", num), "pai_better": ("origins better", lambda v: "" if pd.isna(v) else str(int(v))),
            "wilcoxon_p": ("Wilcoxon p", lambda v: "" if v is None or pd.isna(v) else f"{v:.3f}")}  # fmt: skip
    table = _table(ev, cols) if len(ev) else "<p>No evaluation.</p>"
    top = chosen[chosen["area_class"] != "rest"].sort_values("rank").head(25)
    top_rows = "".join(
        f"<tr><td class='txt'>{esc(str(r.unit))}</td><td>{r.rank}</td><td>{r.score:,.1f}</td><td class='txt'>{esc(r.area_class)}</td></tr>"
        for r in top.itertuples()
    )
    score_words = (
        "relative risk per km2 (the kernel's integrated weight; only its order is meaningful)"
        if method == "prospective_hotspot"
        else f"forecast records per km2 over the {result.horizon} month(s)"
    )
    html = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Forecast: {esc(title)}</title>
<style>{NOTE_CSS}</style></head><body>
<h1>Where next: {esc(title)}</h1>
<p><strong>Method used: {esc(method_words(method))}.</strong> {esc(verdict[:1].upper() + verdict[1:])}.</p>
{"<p>Where no method beats the naive map, diogel uses the naive map and says so.</p>" if method == BASELINE else ""}
{svg}
<h2>Evaluation against the naive map</h2>
<p>Rolling origins ({len(result.origins)}: {esc(", ".join(f"{o:%Y-%m}" for o in result.origins))}), a horizon of
{result.horizon} month(s), stepping back {result.horizon} month(s) so the test windows do not overlap. At each origin every
method saw only the months up to it and forecast the months after it; {esc(units_words)} are ranked by forecast per km2 and
taken until they cover 1%, 5% or 10% of the area (the last one in proportion). Hit rate = n/N; PAI (Chainey, Tompson and
Uhlig 2008) = hit rate / area share; PEI (Hunt 2016) = n / n*, n* the most records any choice of the same area would have
caught; RRI (Levine) = (n / n before) / (N / N before), "before" the same number of months ending at the origin. Means and
spread over origins; the Wilcoxon p is one-sided, paired by origin, against the naive map (last 12 months). A method is
used instead of the naive map only when its mean PAI at 5% of the area is higher and that p is at most 0.05.</p>
{table}
<h2>Top of the area ({esc(method_words(method))})</h2>
<table><thead><tr><th class="txt">unit</th><th>rank</th><th>score</th><th class="txt">class</th></tr></thead><tbody>{top_rows}</tbody></table>
<p class="note">Score: {esc(score_words)}. predictions.csv has every method's score and rank per unit; the column
<code>chosen</code> marks the method used.</p>
<h2>Data</h2>
<p class="note">police.uk street-level records of {esc(", ".join(d.reporters))}, counted under diogel's counting rules,
{data.months.min():%Y-%m} to {data.months.max():%Y-%m} ({len(data.months)} unbroken months up to --train-to; later months, if
loaded, were not read). Records on 2011 LSOA codes are carried to 2021 LSOAs (equal shares where an LSOA split).
{esc(POINTS_NOTE)} Count model engine: {esc(engine)}.</p>
<p class="note">Contains public sector information licensed under the Open Government Licence v3.0.</p>
</body></html>"""
    return html


def register(app: typer.Typer) -> None:
    app.command()(forecast)
