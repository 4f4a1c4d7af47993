"""Partner data shared with a Community Safety Partnership: schemas, personal-data detection,
de-personalisation, the warehouse loader, disclosure-controlled extracts and synthetic sample files.

* :mod:`.schema`: the YAML schemas (shipped in ``schemas/``) and row validation;
* :mod:`.detect` and :mod:`.depersonalise`: finding and treating personal data;
* :mod:`.keys`: the partnership's pseudonymisation key, kept outside the warehouse;
* :mod:`.ingest`: ``diogel ingest partner`` (registered as a source kind in ``sources/partner_kind.py``);
* :mod:`.gather`: counts and the Cardiff Model view for an area and period, small counts suppressed;
* :mod:`.samples` and :mod:`.demo`: synthetic files for tests and the demo.
"""

from diogel.sources.partner.schema import Schema, load_schema, shipped_schemas, validate_frame

__all__ = ["Schema", "load_schema", "shipped_schemas", "validate_frame"]
