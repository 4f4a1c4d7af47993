"""Helpers shared by the reference-data kinds (population, deprivation, geography, harm)."""

from __future__ import annotations

import re
from pathlib import PurePath

from diogel.errors import InputError

LSOA_CODE = r"(lsoa[ _]?(11|21|2011|2021)?[ _]?(code|cd)|lsoa(11|21)cd)"
LSOA_NAME = r"(lsoa[ _]?(11|21|2011|2021)?[ _]?(name|nm)( \(eng\))?|lsoa(11|21)nm)"


def vintage_from_header(header: list[str], options: dict | None, path: str) -> int:
    """The LSOA vintage (2011 or 2021) named in the header (``LSOA21CD``, ``lsoa11_code``) or options."""
    if options and options.get("lsoa_vintage"):
        return int(options["lsoa_vintage"])
    for h in header:
        m = re.fullmatch(r"lsoa[ _]?(11|21|2011|2021)[ _]?(code|cd)", h.strip(), re.IGNORECASE)
        if m:
            return 2000 + int(m.group(1)[-2:])
    raise InputError(
        path, "cannot tell the LSOA vintage from the header: pass --vintage 2011 or 2021", line=1
    )


def year_from(path: str, options: dict | None, what: str, header: list[str] | None = None) -> int:
    """A year from options, else a four-digit year in the file name or header, else ``population20_``.

    Two-digit years that follow a geography prefix (``lsoa11``) are vintages, not years, and are
    never taken.
    """
    if options and options.get("year"):
        return int(options["year"])
    name = PurePath(path.split("!")[-1]).name
    m = re.search(r"(?<!\d)(19|20)(\d{2})(?!\d)", name)
    if m:
        return int(m.group(1) + m.group(2))
    for h in header or []:
        m = re.search(r"(?<!\d)(20\d{2})(?!\d)", h)
        if m:
            return int(m.group(1))
    # A two-digit year glued to a word ("population20_wales"), but never a geography vintage
    # ("lsoa11_", "lad21cd"): those say which boundaries, not which year the figures are for.
    for m in re.finditer(r"([a-z]+)(\d{2})(?=[_\-.]|$)", name, re.IGNORECASE):
        if not re.search(r"(lsoa|msoa|oa|lad|ward|wd|cd|nm|lsoacd)$", m.group(1), re.IGNORECASE):
            return 2000 + int(m.group(2))
    raise InputError(path, f"cannot tell the {what} year from the file name: pass --year YYYY")


def header_year(header: list[str], prefixes: str, path: str) -> int:
    """The two-digit year in a GSS column name such as ``LAD19CD`` or ``ward24_code``."""
    for h in header:
        m = re.fullmatch(rf"(?:{prefixes})[ _]?(\d{{2}})[ _]?(?:cd|code)", h.strip(), re.IGNORECASE)
        if m:
            return 2000 + int(m.group(1))
    raise InputError(
        path, f"cannot tell the year of the lookup from its header ({', '.join(header)})", line=1
    )


def first_line(path: str, data: bytes) -> list[str]:
    import csv

    from diogel.sources._text import decode

    return [h.strip() for h in next(csv.reader([decode(path, data)[0].split("\n", 1)[0].rstrip("\r")]))]
