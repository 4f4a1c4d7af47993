"""The data vintage of the resources indicators: which population year, deprivation index and police
months each indicator of :mod:`diogel.resources.indicators` was computed from.

Funding and options outputs carry it as a sidecar CSV and in their notes and HTML. The words are
:class:`diogel.report.i18n.Text`: English in the CSV, Welsh in a Welsh report.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from diogel.report.i18n import T
from diogel.resources.indicators import AGE_COLUMNS, SPARSE_PER_KM2, CrimeWindow, Indicators

__all__ = ["VINTAGE_COLUMNS", "indicator_vintage", "vintage_lines"]


VINTAGE_COLUMNS = ("indicator", "source", "vintage")


def indicator_vintage(ind: Indicators, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The data vintage of every indicator: population year, deprivation index, crime months.

    One row per indicator column of ``ind.frame`` (or of ``columns``): ``indicator``, ``source``
    (which data) and ``vintage`` (which year, index or months). Funding and options outputs carry it
    as a sidecar CSV and in their notes and HTML, so a reader never mistakes a "2005" formula run on
    mid-2020 population and 2024/25 crime for 2005 statistics.
    """
    # The words are Text (English in the CSV, Welsh in a Welsh report); the names and months are data.
    pop = T("ONS mid-{year} population estimates", year=ind.population_year)
    dep = ind.deprivation_index or T("no deprivation index loaded")
    months = _months(ind.window) if ind.window is not None else T("no police data loaded")
    known = {
        "population": (T("ONS mid-year population estimates by LSOA, summed to local authorities"), pop),
        "deprivation_score": (T("population-weighted mean of LSOA overall deprivation scores"), dep),
        "education_score": (T("population-weighted mean of LSOA education deprivation scores"), dep),
        "sparsity_index": (
            T(
                "share of population in LSOAs under {density:g} persons per km2 (loaded LSOA boundaries)",
                density=SPARSE_PER_KM2,
            ),
            pop,
        ),
        "recorded_crime": (
            T("police.uk street-level crimes (excluding ASB) under the counting rules"),
            months,
        ),
        "asb": (T("police.uk street-level anti-social behaviour records"), months),
        "crime_harm": (
            T("police.uk crimes x ONS Crime Severity Score weight per crime type (median)"),
            months,
        ),
    }
    cols = (
        list(columns)
        if columns is not None
        else [c for c in ind.frame.columns if c in known or c in AGE_COLUMNS]
    )
    rows = []
    for c in cols:
        if c in known:
            rows.append((c, *known[c]))
        elif c in AGE_COLUMNS:
            rows.append((c, T("ONS mid-year population estimates by single year of age"), pop))
    # Object columns keep the Text (pandas would make them plain strings, English only).
    return pd.DataFrame(rows, columns=list(VINTAGE_COLUMNS), dtype=object)


def vintage_lines(ind: Indicators) -> list[str]:
    """Three plain lines for notes and report headers: population year, deprivation index, crime months."""
    none = T("none loaded")
    return [
        T("vintage: population ONS mid-{year}", year=ind.population_year),
        T("vintage: deprivation index {index}", index=ind.deprivation_index or none),
        T(
            "vintage: police.uk crime months {months}",
            months=_months(ind.window) if ind.window is not None else none,
        ),
    ]


def _months(window: CrimeWindow) -> str:
    """``2024-07..2025-06 (12 months)``, the words in the report language when shown."""
    return T("{label} ({n} months)", label=window.label, n=len(window.months()))
