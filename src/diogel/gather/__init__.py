"""Gatherers: each reads one family of data out of the warehouse, once, into a typed bundle.

Sections of the report are pure functions of these bundles; no section holds the warehouse.

* :mod:`.police`: the area (its LSOAs and forces), its counted police.uk records and the forces' own files;
* :mod:`.reference`: lookups, population, deprivation, boundaries, harm weights and the comparator areas;
* :mod:`.pact`: PACT priorities placed in the area;
* :mod:`.partner`: partner datasets (fire, ED, ambulance...) for an area and period, disclosure-controlled,
  and :func:`.partner.gather_partner_bundle`, everything the report's partner section shows;
* :mod:`.cardiff`: the Cardiff Model view (ED assaults beside police-recorded violence);
* :mod:`.stop_search`: police.uk stop-and-search rows of a period placed in an area's LSOAs;
* :mod:`.partner_records`: record-level reads for analysis inside the warehouse boundary;
* :mod:`.accounting`: what ingest quarantined (the report's row accounting);
* :mod:`.performance`: the partnership's targets and the counts they are measured on.
"""
