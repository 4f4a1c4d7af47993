"""Welsh areas of the grant formulas: the 22 local authorities (2005-08 partnerships) and today's CSPs."""

from __future__ import annotations

# The 22 Welsh unitary authorities (2019 codes, unchanged since 1996 apart from recoding).
WALES_LOCAL_AUTHORITIES: dict[str, str] = {
    "W06000001": "Isle of Anglesey",
    "W06000002": "Gwynedd",
    "W06000003": "Conwy",
    "W06000004": "Denbighshire",
    "W06000005": "Flintshire",
    "W06000006": "Wrexham",
    "W06000008": "Ceredigion",
    "W06000009": "Pembrokeshire",
    "W06000010": "Carmarthenshire",
    "W06000011": "Swansea",
    "W06000012": "Neath Port Talbot",
    "W06000013": "Bridgend",
    "W06000014": "Vale of Glamorgan",
    "W06000015": "Cardiff",
    "W06000016": "Rhondda Cynon Taf",
    "W06000018": "Caerphilly",
    "W06000019": "Blaenau Gwent",
    "W06000020": "Torfaen",
    "W06000021": "Monmouthshire",
    "W06000022": "Newport",
    "W06000023": "Powys",
    "W06000024": "Merthyr Tydfil",
}

# LA -> CSP 2019/2024 (ONS lookup): one CSP per LA except Cwm Taf.
WALES_LA_TO_CSP: dict[str, tuple[str, str]] = {
    "W06000001": ("W14000001", "Isle of Anglesey"),
    "W06000002": ("W14000002", "Gwynedd"),
    "W06000003": ("W14000003", "Conwy"),
    "W06000004": ("W14000004", "Denbighshire"),
    "W06000005": ("W14000005", "Flintshire"),
    "W06000006": ("W14000006", "Wrexham"),
    "W06000008": ("W14000008", "Ceredigion"),
    "W06000009": ("W14000009", "Pembrokeshire"),
    "W06000010": ("W14000010", "Carmarthenshire"),
    "W06000011": ("W14000011", "Swansea"),
    "W06000012": ("W14000012", "Neath Port Talbot"),
    "W06000013": ("W14000013", "Bridgend"),
    "W06000014": ("W14000014", "Vale of Glamorgan"),
    "W06000015": ("W14000015", "Cardiff"),
    "W06000016": ("W14000023", "Cwm Taf"),
    "W06000018": ("W14000018", "Caerphilly"),
    "W06000019": ("W14000019", "Blaenau Gwent"),
    "W06000020": ("W14000020", "Torfaen"),
    "W06000021": ("W14000021", "Monmouthshire"),
    "W06000022": ("W14000022", "Newport"),
    "W06000023": ("W14000007", "Powys"),
    "W06000024": ("W14000023", "Cwm Taf"),
}
