"""Gatherers: each reads one family of data out of the warehouse, once, into a typed bundle.

Sections of the report are pure functions of these bundles; no section holds the warehouse.

* :mod:`.partner`: partner datasets (fire, ED, ambulance...) for an area and period, disclosure-controlled,
  and :func:`.partner.gather_partner_bundle`, everything the report's partner section shows;
* :mod:`.cardiff`: the Cardiff Model view (ED assaults beside police-recorded violence);
* :mod:`.partner_records`: record-level reads for analysis inside the warehouse boundary;
* :mod:`.performance`: the partnership's targets and the counts they are measured on.
"""
