"""Importing this module registers every report section that ships with diogel (one import each)."""

from diogel.report.sections import (  # noqa: F401
    analyst,
    data,
    drivers,
    harm,
    levels,
    methods,
    partner,
    peers,
    priorities,
    summary,
    where,
    where_next,
)
