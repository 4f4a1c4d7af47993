"""Partner data shared with a Community Safety Partnership: schemas, personal-data detection,
de-personalisation and synthetic sample files."""

from diogel.sources.partner.schema import Schema, load_schema, shipped_schemas, validate_frame

__all__ = ["Schema", "load_schema", "shipped_schemas", "validate_frame"]
