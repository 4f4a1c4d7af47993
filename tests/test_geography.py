"""LSOA vintages and areas, on Gwent's July 2022 file, which mixes 2011 and 2021 LSOA codes."""

from __future__ import annotations

import csv
import gzip
from collections import Counter, defaultdict

import pandas as pd
import pytest

from _independent import count_raw
from conftest import POLICE
from diogel import data
from diogel.warehouse.core import Warehouse
from diogel.warehouse.geography import area_lsoas, harmonise, resolve_area

MIXED = POLICE / "2022-07-gwent-street.csv"
REFERENCE = data.path("reference", "wales")


@pytest.fixture(scope="module")
def lookup() -> pd.DataFrame:
    with gzip.open(REFERENCE / "lookup_lsoa11_lsoa21_ltla22.csv.gz", "rt", encoding="utf-8-sig") as f:
        return pd.DataFrame(list(csv.DictReader(f)))[["lsoa11_code", "lsoa21_code", "change_code"]]


@pytest.fixture(scope="module")
def population11() -> pd.DataFrame:
    """Mid-2020 residents by 2011 LSOA (Wales), summed over ages straight from the ONS file."""
    with gzip.open(REFERENCE / "population20_lsoa11_wales.csv.gz", "rt", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    header = [h.strip().lower() for h in rows[0]]
    code = next(i for i, h in enumerate(header) if "code" in h)
    total = next(i for i, h in enumerate(header) if h == "total_population")
    return pd.DataFrame(
        {"lsoa_code": [r[code] for r in rows[1:]], "population": [float(r[total]) for r in rows[1:]]}
    )


@pytest.fixture(scope="module")
def by_lsoa() -> pd.DataFrame:
    raw = count_raw([MIXED], key=lambda r: (r["LSOA code"],))
    return pd.DataFrame([(k[0], float(n)) for k, n in raw.items() if k[0]], columns=["lsoa_code", "crimes"])


def test_the_file_really_mixes_vintages(by_lsoa: pd.DataFrame, lookup: pd.DataFrame) -> None:
    only11 = set(lookup.lsoa11_code) - set(lookup.lsoa21_code)
    only21 = set(lookup.lsoa21_code) - set(lookup.lsoa11_code)
    codes = set(by_lsoa.lsoa_code)
    assert codes & only11 and codes & only21


def test_to_2011_apportions_merged_2021_codes_by_population(
    by_lsoa: pd.DataFrame, lookup: pd.DataFrame, population11: pd.DataFrame
) -> None:
    out = harmonise(by_lsoa, 2011, lookup, population=population11, value_columns=["crimes"])
    assert out.crimes.sum() == pytest.approx(by_lsoa.crimes.sum(), abs=1e-9)  # nothing lost or made up
    assert set(out.lsoa_code) <= set(lookup.lsoa11_code) | set(out.attrs["unmatched"])
    given = dict(zip(by_lsoa.lsoa_code, by_lsoa.crimes, strict=True))
    pop = dict(zip(population11.lsoa_code, population11.population, strict=True))
    sources = defaultdict(set)
    for a, b in zip(lookup.lsoa21_code, lookup.lsoa11_code, strict=True):
        sources[a].add(b)
    # Hand computation for every Welsh 2011 LSOA: its own count, plus its 2021 successors' counts
    # shared among their 2011 predecessors in proportion to mid-2020 population.
    expected: Counter = Counter()
    for code, n in given.items():
        if code in set(lookup.lsoa11_code):
            expected[code] += n
        elif code in sources:
            olds = sorted(sources[code])
            total = sum(pop.get(o, 0.0) for o in olds)
            for o in olds:
                expected[o] += n * pop[o] / total if total else n / len(olds)
    got = dict(zip(out.lsoa_code, out.crimes, strict=True))
    merged = [c for c in given if c in sources and len(sources[c]) > 1 and c not in set(lookup.lsoa11_code)]
    assert merged, "the fixture should hold at least one merged 2021 LSOA"
    for code, n in expected.items():
        assert got[code] == pytest.approx(n, rel=1e-12), code
    assert out.loc[out.lsoa_code.isin([o for c in merged for o in sources[c]]), "apportioned"].all()


def test_to_2021_sums_split_2011_codes_and_flags_equal_shares(
    by_lsoa: pd.DataFrame, lookup: pd.DataFrame
) -> None:
    out = harmonise(by_lsoa, 2021, lookup, value_columns=["crimes"])
    assert out.crimes.sum() == pytest.approx(by_lsoa.crimes.sum(), abs=1e-9)
    unchanged = lookup[lookup.change_code == "U"].lsoa11_code
    keep = by_lsoa[by_lsoa.lsoa_code.isin(unchanged)].set_index("lsoa_code").crimes
    got = out.set_index("lsoa_code").crimes
    # An unchanged code keeps its own count plus nothing else unless a 2011 code splits into it.
    for code, n in keep.items():
        assert got[code] >= n
    if out.apportioned.any():
        assert out.attrs["equal_split"]  # no 2021 population given: the shares are equal, and it says so


def test_area_is_its_lsoas_not_the_falls_within_force(tmp_path) -> None:  # noqa: ANN001
    with Warehouse(None, tmp_path / "data") as wh:
        wh.ingest("lookup-lsoa-ward-la", REFERENCE / "lookup_lsoa21_ward24_ltla24.csv.gz")
        wh.ingest("lookup-lsoa-ward-la", REFERENCE / "lookup_lsoa11_ward19_lad19.csv.gz")
        wh.ingest("lookup-lsoa11-lsoa21", REFERENCE / "lookup_lsoa11_lsoa21_ltla22.csv.gz")
        wh.ingest("lookup-la-csp-force", REFERENCE / "lookup_ltla24_csp24_pfa24.csv.gz")
        assert resolve_area(wh, "newport") == ("la", "W06000022", "Newport")
        assert resolve_area(wh, "W15000002")[0] == "force"
        newport = set(area_lsoas(wh, "W06000022"))
        gwent = set(area_lsoas(wh, "Gwent"))
        assert newport < gwent
        assert {c[:3] for c in gwent} == {"W01"}  # no English LSOA is in Gwent, whatever "Falls within" says
        with pytest.raises(Exception, match="no area"):
            resolve_area(wh, "Atlantis")
