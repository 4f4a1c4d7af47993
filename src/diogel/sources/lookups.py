"""Shared reader for the geography lookups (one source kind per lookup, each in its own module)."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from diogel.sources._text import header_resolver, read_text_table
from diogel.sources._validate import Rule, apply_rules, q
from diogel.sources.registry import ParsedFile


def read_lookup(
    path: str,
    data: bytes,
    patterns: dict[str, str],
    code_checks: dict[str, str],
    select: str,
    schema: pa.Schema,
    optional: Sequence[str] = (),
) -> ParsedFile:
    """Read a lookup: every column in ``code_checks`` must match its code pattern (GSS codes)."""
    text = read_text_table(path, data, resolve=header_resolver(path, patterns, optional=optional))
    rules = []
    for col, pattern in code_checks.items():
        what = col.removesuffix("_code").replace("_", " ")
        rules.append(Rule(col, f"trim({q(col)}) = ''", "'the code is blank'"))
        rules.append(
            Rule(col, f"NOT regexp_full_match(trim({q(col)}), '{pattern}')",
                 f"'''' || {q(col)} || ''' is not a valid {what} code'")
        )  # fmt: skip
    for c in optional:
        if c not in text.table.column_names:
            text.table = text.table.append_column(c, pa.array([""] * text.table.num_rows, pa.string()))
    rows = apply_rules(text.table, rules, select, text.malformed).cast(schema)
    return ParsedFile(rows, text.malformed, text.rows_read)
