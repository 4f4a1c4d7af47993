"""Importing this module registers every report section that ships with diogel (one import each)."""

from diogel.report.sections import (  # noqa: F401
    conclusions,
    data,
    drivers,
    executive_summary,
    harm,
    levels,
    methods,
    partner,
    peers,
    performance,
    priorities,
    stop_search,
    summary,
    where,
    where_next,
)
