"""Importing this module registers every source kind that ships with diogel."""

from diogel.sources import (  # noqa: F401
    boundaries,
    deprivation,
    harm_weights,
    lookup_la_csp_force,
    lookup_lsoa11_lsoa21,
    lookup_lsoa_ward_la,
    pact,
    partner_kind,
    policeuk_outcomes,
    policeuk_stop_search,
    policeuk_street,
    population,
)
