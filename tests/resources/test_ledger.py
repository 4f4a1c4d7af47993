"""Tests for diogel.resources.ledger: import, double-counting checks and capacity indicators."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from diogel.errors import InputError
from diogel.resources.ledger import COLUMNS, capacity_indicators, check_double_counting, read_ledger

TEMPLATES = resources.files("diogel.resources") / "templates"
SYNTHETIC = Path(str(TEMPLATES / "synthetic_capacity_ledger_wales.csv"))


@pytest.fixture(scope="module")
def ledger():
    return read_ledger(SYNTHETIC)


def _write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS, restval="", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


def _funding(**kw) -> dict:
    row = {
        "record_type": "funding",
        "partnership": "P",
        "year": "2007",
        "stream": "SCF",
        "budget_line_id": "B1",
        "amount": "1000",
        "is_core_service": "no",
        "tagged_community_safety": "yes",
    }
    return row | kw


def _post(**kw) -> dict:
    row = {
        "record_type": "post",
        "partnership": "P",
        "year": "2007",
        "post_id": "X1",
        "role": "Officer",
        "fte": "1",
        "share_scf": "1",
        "contract_type": "permanent",
    }
    return row | kw


def test_template_is_an_empty_ledger():
    led = read_ledger(Path(str(TEMPLATES / "capacity_ledger_template.csv")))
    assert led.funding.empty and led.posts.empty
    assert check_double_counting(led).empty
    assert capacity_indicators(led).empty


def test_synthetic_ledger_reads(ledger):
    assert sorted(ledger.funding["partnership"].unique()) == [
        "Ceredigion",
        "Merthyr Tydfil",
        "Newport",
        "Powys",
        "Torfaen",
    ]
    assert len(ledger.funding) == 28 and len(ledger.posts) == 17
    assert ledger.funding["amount"].dtype == float
    assert ledger.posts.loc[ledger.posts["post_id"] == "NEW-P02", "end_date"].iloc[0] == pd.Timestamp(
        "2008-03-31"
    )


def test_planted_double_counting_is_found(ledger):
    found = check_double_counting(ledger)
    got = {(r.check, r.partnership, r.item): r.value for r in found.itertuples()}
    assert set(got) == {
        ("post_over_100pct", "Torfaen", "TOR-P03"),
        ("post_over_100pct", "Powys", "PWY-P02"),
        ("budget_line_multiple_streams", "Newport", "NEW-B04"),
        ("core_service_relabelled", "Merthyr Tydfil", ""),
    }
    # TOR-P03: 60% SCF + 60% SMAF = 120%. PWY-P02: two rows, 100% BSC + 50% SCF = 150%.
    assert got[("post_over_100pct", "Torfaen", "TOR-P03")] == pytest.approx(1.2)
    assert got[("post_over_100pct", "Powys", "PWY-P02")] == pytest.approx(1.5)
    # NEW-B04 claimed twice at 30,000: the second claim is the double count.
    assert got[("budget_line_multiple_streams", "Newport", "NEW-B04")] == 30_000
    # Merthyr: core services 90,000 + 60,000 of tagged 45,000 + 115,000 + 250,000 + 150,000 + 35,000
    # = 150,000 / 595,000 = 0.2521.
    assert got[("core_service_relabelled", "Merthyr Tydfil", "")] == pytest.approx(150_000 / 595_000)
    row = found[found["item"] == "PWY-P02"].iloc[0]
    assert "BSC 100%" in row["detail"] and "SCF 50%" in row["detail"]


def test_core_share_threshold_is_configurable(ledger):
    # Ceredigion: 20,000 core of 498,000 tagged = 4.02%: flagged at 4%, not at the default 10%.
    flagged = check_double_counting(ledger, core_share_threshold=0.04)
    core = flagged[flagged["check"] == "core_service_relabelled"]
    assert set(core["partnership"]) == {"Merthyr Tydfil", "Ceredigion"}
    assert core.set_index("partnership").loc["Ceredigion", "value"] == pytest.approx(20_000 / 498_000)
    # Newport 15,000 of 1,058,000 = 1.4% stays below 4%.
    assert "Newport" not in set(core["partnership"])


def test_capacity_indicators_by_hand(ledger):
    ctx = pd.DataFrame(
        {
            "partnership": ["Newport", "Powys"],
            "population": [150_000, 130_000],
            "recorded_crime": [15_000, 6_500],
        }
    )
    newport_only = ledger.__class__(
        ledger.funding[ledger.funding["partnership"] == "Newport"],
        ledger.posts[ledger.posts["partnership"] == "Newport"],
    )
    ind = capacity_indicators(newport_only, ctx).set_index("partnership")
    n = ind.loc["Newport"]
    # Claimed: 98,000 + 45,000 + 160,000 + 560,000 + 120,000 + 30,000 + 30,000 + 15,000 = 1,058,000.
    assert n["funding_claimed"] == 1_058_000
    # Counted: less the second NEW-B04 claim (30,000) and the youth service core budget (15,000).
    assert n["funding_counted"] == 1_013_000
    # Annual grants: BSC 98,000 + 30,000, BCU 45,000, SCF 160,000, SMAF 560,000 = 893,000.
    assert n["annual_grant_share"] == pytest.approx(893_000 / 1_013_000)
    assert n["smaf_share"] == pytest.approx(560_000 / 1_013_000)
    # Posts: 1 + 1 + 1 + 0.5 + 1 = 4.5 FTE; fixed-term or seconded 3.5.
    assert n["fte"] == 4.5
    assert n["fte_fixed_term_share"] == pytest.approx(3.5 / 4.5)
    # Per head 1,013,000 / 150,000 = 6.7533; per 100k 4.5 / 150,000 x 100,000 = 3.0; per crime 67.533.
    assert n["funding_per_head"] == pytest.approx(6.753333, rel=1e-6)
    assert n["fte_per_100k"] == pytest.approx(3.0)
    assert n["funding_per_crime"] == pytest.approx(1_013_000 / 15_000)
    with pytest.raises(ValueError, match="no population for"):
        capacity_indicators(ledger, ctx)  # only two of five partnerships have a population


def test_capacity_indicators_count_each_post_once(ledger):
    ind = capacity_indicators(ledger).set_index("partnership")
    # Powys: PWY-P01 1.0 + PWY-P02 1.0 (listed twice, counted once) + PWY-P03 0.6 = 2.6 FTE.
    assert ind.loc["Powys", "fte"] == pytest.approx(2.6)
    # Merthyr: counted excludes 150,000 of core services: 595,000 - 150,000 = 445,000.
    assert ind.loc["Merthyr Tydfil", "funding_counted"] == 445_000
    # Torfaen's untagged 8,000 is not capacity at all.
    assert ind.loc["Torfaen", "funding_claimed"] == 62_000 + 140_000 + 330_000 + 55_000
    assert "funding_per_head" not in ind.columns


def test_xlsx_import_matches_csv(tmp_path, ledger):
    wb = Workbook()
    ws = wb.active
    ws.title = "ledger"
    with SYNTHETIC.open(newline="") as fh:
        for i, row in enumerate(csv.reader(fh)):
            # Numbers as numbers, as a spreadsheet would hold them.
            ws.append([float(v) if i and v.replace(".", "", 1).isdigit() else v for v in row])
    path = tmp_path / "ledger.xlsx"
    wb.save(path)
    x = read_ledger(path)
    pd.testing.assert_frame_equal(x.funding, ledger.funding)
    pd.testing.assert_frame_equal(x.posts, ledger.posts)


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (_funding(stream="Lottery"), "stream", "stream must be one of"),
        (_funding(amount="12k"), "amount", "not a number"),
        (_funding(amount="-5"), "amount", "must be >= 0"),
        (_funding(is_core_service="maybe"), "is_core_service", "expected yes or no"),
        (_funding(year="07/08"), "year", "financial year"),
        (_post(fte="0"), "fte", "must be > 0"),
        (_post(share_bsc="1.5"), "share_bsc", "must be <= 1"),
        (_post(contract_type="agency"), "contract_type", "must be one of"),
        (_post(end_date="31/03/2008"), "end_date", "YYYY-MM-DD"),
        (_post(post_id=""), "post_id", "required"),
        ({"record_type": "staff", "partnership": "P"}, "record_type", "funding or post"),
    ],
)
def test_one_line_errors_name_file_row_and_column(tmp_path, row, column, message):
    path = _write_csv(tmp_path / "bad.csv", [_funding(budget_line_id="OK"), row])
    with pytest.raises(InputError) as exc:
        read_ledger(path)
    text = str(exc.value)
    assert "\n" not in text
    assert text.startswith(f"{path}:3: column '{column}'")
    assert message in text


def test_missing_column_and_amount_formats(tmp_path):
    p = tmp_path / "short.csv"
    p.write_text("record_type,partnership\nfunding,P\n")
    with pytest.raises(InputError, match=r"short.csv:1: column 'year': missing column"):
        read_ledger(p)
    ok = read_ledger(
        _write_csv(
            tmp_path / "ok.csv", [_funding(amount="£1,234.50", stream="smaf", tagged_community_safety="Y")]
        )
    )
    assert ok.funding.loc[0, "amount"] == 1234.5 and ok.funding.loc[0, "stream"] == "SMAF"
    txt = tmp_path / "ledger.txt"
    txt.write_text("x")
    with pytest.raises(InputError, match="expected a .csv or .xlsx"):
        read_ledger(txt)
