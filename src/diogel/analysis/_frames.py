"""Small checks and conversions shared by the count analyses (trends, control charts, supply gaps)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def as_tuple(by: str | Sequence[str]) -> tuple[str, ...]:
    """Series keys as a tuple: one column name or several."""
    return (by,) if isinstance(by, str) else tuple(by)


def require_columns(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    """Raise ValueError naming the columns ``frame`` (called ``name`` in the message) lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {missing}; it has {list(frame.columns)}")


def month_start(index: pd.Index) -> pd.DatetimeIndex:
    """Each date as the first of its month."""
    return pd.DatetimeIndex(pd.to_datetime(index)).to_period("M").to_timestamp()
