"""The packaged Welsh place names (``data/reference/wales/names_cy.csv``) against ONS's own.

The names were typed in, so they are checked against the Welsh-name column ONS publishes for the
2019 Community Safety Partnerships (``CSP19NMW``) in the shared real-data folder. A local authority
whose partnership covers it alone must carry its partnership's Welsh name; Cwm Taf's two authorities
and the four force areas have no ONS Welsh column in the shared folder and are not checked here.
"""

from __future__ import annotations

import contextlib
import csv
from importlib import resources
from pathlib import Path

from conftest import shared


def _ons_csp_names_cy() -> dict[str, str]:
    """CSP code -> ONS Welsh name; the file's UTF-8 was read once as Latin-1 upstream ("Ynys MÃ´n")."""
    out: dict[str, str] = {}
    with shared("geography", "csp19_names_codes_EW.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            name = row["CSP19NMW"]
            if not row["CSP19CD"].startswith("W") or not name:
                continue
            with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):  # already proper UTF-8
                name = name.encode("latin-1").decode("utf-8")
            out[row["CSP19CD"]] = name
    return out


def _packaged() -> dict[str, str]:
    path = Path(str(resources.files("diogel.data"))) / "reference" / "wales" / "names_cy.csv"
    with path.open(encoding="utf-8") as f:
        return {row["code"]: row["name_cy"] for row in csv.DictReader(f)}


def test_every_welsh_csp_has_the_ons_welsh_name() -> None:
    ons, packaged = _ons_csp_names_cy(), _packaged()
    assert len(ons) == 21
    wrong = {code: (packaged.get(code), name) for code, name in ons.items() if packaged.get(code) != name}
    assert not wrong, f"packaged vs ONS Welsh CSP names: {wrong}"


def test_a_local_authority_alone_in_its_csp_has_the_csps_welsh_name() -> None:
    ons, packaged = _ons_csp_names_cy(), _packaged()
    members: dict[str, list[str]] = {}
    with shared("geography", "lad19_csp19_pfa19_EW.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["LAD19CD"].startswith("W"):
                members.setdefault(row["CSP19CD"], []).append(row["LAD19CD"])
    alone = {lads[0]: csp for csp, lads in members.items() if len(lads) == 1}
    assert len(alone) == 20  # every Welsh CSP but Cwm Taf
    wrong = {
        lad: (packaged.get(lad), ons[csp]) for lad, csp in alone.items() if packaged.get(lad) != ons[csp]
    }
    assert not wrong, f"packaged LA names vs their CSP's ONS Welsh name: {wrong}"
