"""Write the calibration table of the count tests: ``src/diogel/data/calibration/trends.csv``.

Fits the null models to real data and simulates (``diogel.analysis.calibration_trends``):

* monthly counts per crime type: the shared Gwent 36 months (``policeuk/gwent-2022-07_2025-06``,
  rows of the ``*-street.csv`` files grouped by ``Month`` and ``Crime type``, as published), a
  seasonal NB2 model per type (gap months left out);
* LSOA counts for the drivers models: the Gwent street rows of 2024-07..2025-06 by ``LSOA code``,
  on the LSOAs of the five Gwent local authorities whose 2011 and 2021 codes are the same (WIMD 2019 and the mid-2020 population are on
  2011 codes; the bundled copies are used), NB2 with the residual dispersion of a fit on the overall
  WIMD score.

Run once per release (about three minutes on one core; fixed seeds, so the table is reproducible):

    PYTHONPATH=src python benchmarks/calibration_trends.py [--sims N]

The methods appendix of every assessment renders the shipped table; docs/calibration.md copies it.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

from diogel import data as bundled
from diogel.analysis.calibration_trends import (
    calibrate_control_chart,
    calibrate_drivers,
    calibrate_year_on_year,
    fit_seasonal_nb,
)
from diogel.analysis.drivers import fit_nb_drivers

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("DIOGEL_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
GWENT = SHARED / "policeuk" / "gwent-2022-07_2025-06"
OUT = HERE.parent / "src" / "diogel" / "data" / "calibration" / "trends.csv"
DOCS = HERE.parent / "docs" / "calibration.md"
BEGIN, END = (
    "<!-- trends.csv: begin (written by benchmarks/calibration_trends.py) -->",
    "<!-- trends.csv: end -->",
)
GWENT_LAS = ("Blaenau Gwent", "Caerphilly", "Monmouthshire", "Newport", "Torfaen")
POWER_TYPES = ("Violence and sexual offences", "Shoplifting", "Burglary", "Robbery")
COVARIATES = ("IMD_score", "Income_score", "Health_score", "Education_score", "Access_score", "Housing_score",
              "Environment_score")  # fmt: skip


def read_gwent() -> pd.DataFrame:
    frames = [
        pd.read_csv(f, usecols=["Month", "Crime type", "LSOA code"], dtype=str)
        for f in sorted(GWENT.glob("*-street.csv"))
    ]
    return pd.concat(frames, ignore_index=True)


def markdown_table(table: pd.DataFrame) -> str:
    """The table as Markdown: rates to 4 decimals below 0.01, else 3; power rows have no nominal."""

    def rate(v: object) -> str:
        return "" if pd.isna(v) else (f"{float(v):.4f}" if float(v) < 0.01 else f"{float(v):.3f}")

    lines = ["| test | simulated data | what is counted | nominal | simulated rate | MC s.e. | units | notes |",
             "|---|---|---|---:|---:|---:|---:|---|"]  # fmt: skip
    for _, r in table.iterrows():
        notes = "" if pd.isna(r.get("notes")) else str(r["notes"])
        lines.append(
            f"| {r['test']} | {r['scenario']} | {r['statistic']} | {rate(r['nominal'])} | {rate(r['rate'])} | "
            f"{rate(r['mc_se'])} | {int(r['simulations']):,} | {notes} |"
        )
    return "\n".join(lines)


def write_docs(table: pd.DataFrame, path: Path = DOCS) -> None:
    """Replace the trends block of docs/calibration.md (other blocks, e.g. space.csv, are left alone)."""
    block = f"{BEGIN}\n{markdown_table(table)}\n\nNull model fitted to: {table['source'].iloc[0]}.\n{END}"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=1000, help="simulated reports for year-on-year")
    parser.add_argument("--chart-sims", type=int, default=100, help="simulated 36-month charts per type")
    parser.add_argument("--driver-sims", type=int, default=200, help="simulated LSOA data sets")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--docs-only", action="store_true", help="rewrite docs/calibration.md from --out")
    args = parser.parse_args()
    if args.docs_only:
        write_docs(pd.read_csv(args.out))
        return
    t0 = time.perf_counter()
    rows = read_gwent()
    monthly = rows.groupby(["Month", "Crime type"]).size().rename("count").reset_index()
    monthly = monthly.rename(columns={"Month": "month", "Crime type": "crime_type"})
    model = fit_seasonal_nb(monthly)
    print(f"read {len(rows):,} rows; NB2 alpha by type:\n{model.alpha.round(4).to_string()}")

    tables = [
        calibrate_year_on_year(model, n_sims=args.sims, power_types=POWER_TYPES),
        calibrate_control_chart(model, n_sims=args.chart_sims, n_months=36, power_types=POWER_TYPES),
        calibrate_control_chart(model, n_sims=args.chart_sims, n_months=12, seed=20250604),
    ]

    year = rows[(rows["Month"] >= "2024-07") & (rows["Month"] <= "2025-06")]
    lsoa = year.groupby("LSOA code").size().rename("count")
    wimd = pd.read_csv(bundled.path("reference", "wales", "wimd2019_scores_ranks_deciles_lsoa11.csv.gz"))
    pop = pd.read_csv(
        bundled.path("reference", "wales", "population20_lsoa11_wales.csv.gz"),
        usecols=["lsoa11_code", "lsoa11_name", "total_population"],
    )
    # Only the force's own area: its files also hold records located in neighbouring forces' LSOAs.
    pop = pop[pop["lsoa11_name"].str.startswith(GWENT_LAS)].drop(columns=["lsoa11_name"])
    areas = (
        wimd.merge(pop, on="lsoa11_code")
        .rename(columns={"lsoa11_code": "lsoa_code", "total_population": "population"})
        .merge(lsoa, left_on="lsoa_code", right_index=True)  # Gwent LSOAs whose code did not change
    )
    fit = fit_nb_drivers(areas, ["IMD_score"])
    rate = float(areas["count"].sum() / areas["population"].sum())
    print(f"drivers null: {len(areas)} LSOAs, rate {rate:.4f} a resident, residual alpha {fit.alpha:.3f}")
    tables.append(
        calibrate_drivers(areas[["lsoa_code", "population", *COVARIATES]], COVARIATES, fit.alpha, rate,
                          n_sims=args.driver_sims)
    )  # fmt: skip
    table = pd.concat(tables, ignore_index=True)
    table["source"] = "Gwent police.uk street records 2022-07..2025-06 (monthly); 2024-07..2025-06 (LSOA)"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, float_format="%.6g")
    write_docs(table)
    print(table.drop(columns=["source"]).to_string())
    print(f"wrote {args.out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
