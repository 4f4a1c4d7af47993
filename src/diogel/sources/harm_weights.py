"""ONS Crime Severity Score weights, as joined to police.uk categories by a third party.

The file maps Home Office offence codes to police.uk categories; a police.uk category covers many
offences, so any single weight for it is an approximation (see :mod:`diogel.analysis.harm`).
Categories are Title Case here and sentence case in police.uk data; anti-social behaviour has no
weight.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from diogel import data as bundled
from diogel.sources._text import header_resolver, read_text_table
from diogel.sources._validate import Rule, apply_rules, q
from diogel.sources.registry import ParsedFile, SourceKind, register

SCHEMA = pa.schema(
    [
        pa.field("offence_code", pa.string()),
        pa.field("offence", pa.string()),
        pa.field("ons_category", pa.string()),
        pa.field("weight", pa.float64()),
        pa.field("policeuk_category", pa.string()),
        pa.field("line", pa.int64()),
        pa.field("slice_key", pa.string()),
    ]
)

PATTERNS = {
    "offence_code": r"ons_severity_code|offence_code|ho_code",
    "offence": r"ons_severity_offence|offence",
    "ons_category": r"ons_counts_category|category",
    "weight": r"ons_severity_weight|weight",
    "policeuk_category": r"police_uk_cat_map_category|police_uk_category|policeuk_category",
}


def read(path: str, data: bytes, options: dict | None = None) -> ParsedFile:
    text = read_text_table(path, data, resolve=header_resolver(path, PATTERNS, optional=("ons_category",)))
    rules = [
        Rule(
            "weight",
            f"TRY_CAST(trim({q('weight')}) AS DOUBLE) IS NULL",
            f"'''' || {q('weight')} || ''' is not a number'",
        ),
        Rule(
            "weight", f"TRY_CAST(trim({q('weight')}) AS DOUBLE) < 0", "'a severity weight cannot be negative'"
        ),
        Rule("offence_code", f"trim({q('offence_code')}) = ''", "'the offence code is blank'"),
    ]
    has_cat = "ons_category" in text.table.column_names
    select = f"""trim(offence_code) AS offence_code, trim(offence) AS offence,
        {"NULLIF(trim(ons_category), '')" if has_cat else "NULL"} AS ons_category,
        CAST(trim(weight) AS DOUBLE) AS weight, NULLIF(trim(policeuk_category), '') AS policeuk_category,
        line, 'css|' || trim(offence_code) AS slice_key"""
    rows = apply_rules(text.table, rules, select, text.malformed).cast(SCHEMA)
    return ParsedFile(rows, text.malformed, text.rows_read)


KIND = register(
    SourceKind(
        name="harm-weights",
        table="harm_weights",
        schema=SCHEMA,
        read=read,
        patterns=("*css*.csv", "*severity*.csv", "*harm*.csv"),
        description="ONS Crime Severity Score weights mapped to police.uk categories",
    )
)


#: The bundled recorded-crime volumes by offence code (see ``diogel/data/harm/README.md``).
OFFENCE_VOLUMES_FILE = ("harm", "offence_volumes_ew_2017_18.csv")
OFFENCE_VOLUMES_SOURCE = (
    "Home Office police recorded crime open data tables (police force area table), England and Wales, "
    "financial year 2017/18 (April 2017 to March 2018), Open Government Licence v3.0"
)
OFFENCE_VOLUMES_YEAR = "2017/18"


def offence_volumes() -> pd.DataFrame:
    """The bundled national recorded-crime volumes by Home Office offence code.

    Columns ``offence_code``, ``offence_description``, ``offence_group``, ``offence_subgroup``,
    ``count`` and ``css_severity_code`` (the CSS severity code the offence is weighted under). Codes
    stay text ("37.2", "4.10", "1/4.1/4.10/4.2" would not survive as numbers).
    """
    return pd.read_csv(
        bundled.path(*OFFENCE_VOLUMES_FILE),
        dtype={"offence_code": str, "css_severity_code": str, "count": "int64"},
        keep_default_na=False,
        na_values={"css_severity_code": [""]},
    )
