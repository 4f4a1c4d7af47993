"""The police.uk crime types: the categories every police.uk street-level file uses.

Below both the parsers (:mod:`diogel.sources.policeuk_street` checks each row's type against them) and
the analysis (:mod:`diogel.analysis.harm` weighs them), so neither reaches into the other for them.
"""

from __future__ import annotations

__all__ = ["CRIME_TYPES"]

CRIME_TYPES: tuple[str, ...] = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)
