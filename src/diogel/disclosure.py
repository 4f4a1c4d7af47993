"""Statistical disclosure control for tables of counts published from the warehouse.

Nothing disclosive may leave the warehouse: a published count of 1 to ``threshold - 1`` people could
identify someone (primary suppression), and a suppressed count must not be recoverable by subtracting
the published cells of its row or column from the row or column total (secondary, or complementary,
suppression). Zeros are shown by default: a zero says nobody in that cell had the event, which is not
disclosive of an individual; ``suppress_zero=True`` hides them too (and then a row of zeros is hidden).

Secondary suppression works on "lines": every row and every column of the table, each with its total
(the margin if the table has one, otherwise a total assumed to be published elsewhere). A line whose
parts and total contain exactly one suppressed value gives that value away by subtraction, so for
every such line the smallest published non-zero cell of the line is suppressed as well (a zero only if
nothing else is left; if the line has no other cell, its total is suppressed); this repeats until no
line has exactly one. That rule is necessary but not always sufficient (a suppressed cell can be a
"bridge" between two otherwise protected blocks), so an audit then solves the published linear system
(all line equations) and, for every suppressed value that is still determined exactly, suppresses a
further cell beside it and repeats. The audit guards against exact recovery only; bounds from
non-negativity (e.g. a suppressed 1 paired with a suppressed 0) can still be narrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MARGIN_LABELS = ("total", "all", "grand total", "totals")
#: The smallest count published: counts from 1 to ``THRESHOLD - 1`` are suppressed by default.
THRESHOLD = 5


@dataclass
class SuppressedTable:
    """A table of counts made safe to publish.

    Attributes
    ----------
    table : the counts with ``pd.NA`` in suppressed cells (nullable Int64, or Float64 for non-integers).
    suppressed : True where a value is hidden (same shape and labels as the input, margins included).
    primary : True where the count itself is below the threshold.
    secondary : True where a cell is hidden only to protect another one.
    rule : one sentence saying what was done, for the footnote of the published table.
    notes : lines that could not be protected inside the table (e.g. a single-cell line of a table
        without margins whose total is published elsewhere).
    """

    table: pd.DataFrame
    suppressed: pd.DataFrame
    primary: pd.DataFrame
    secondary: pd.DataFrame
    threshold: int
    suppress_zero: bool
    has_margins: bool
    rule: str
    notes: list[str] = field(default_factory=list)

    def formatted(self, symbol: str = "*") -> pd.DataFrame:
        """The table as text with ``symbol`` in every suppressed cell."""
        text = self.table.astype(object).map(lambda v: symbol if v is pd.NA else f"{v:,}")
        return text

    @property
    def n_primary(self) -> int:
        return int(self.primary.to_numpy().sum())

    @property
    def n_secondary(self) -> int:
        return int(self.secondary.to_numpy().sum())


# ----------------------------------------------------------------------------------------------------
# Lines and the core algorithm (arrays)


@dataclass(frozen=True)
class _Line:
    name: str
    parts: tuple[tuple[int, int], ...]
    total: tuple[int, int] | None


def _lines(values: np.ndarray, margins: bool, row_names: Sequence, col_names: Sequence) -> list[_Line]:
    """Every row and column as (parts, total). NaN cells are structural blanks and are not parts."""
    n_rows, n_cols = values.shape
    r = n_rows - 1 if margins else n_rows
    c = n_cols - 1 if margins else n_cols
    lines: list[_Line] = []
    present = ~np.isnan(values)
    row_range = range(n_rows) if margins else range(r)
    col_range = range(n_cols) if margins else range(c)
    # Without margins a one-column table has no separate row totals (and a one-row table no column
    # totals): the cell is its own total, so such lines are not lines.
    if margins or c > 1:
        for i in row_range:
            parts = tuple((i, j) for j in range(c) if present[i, j])
            lines.append(_Line(f"row '{row_names[i]}'", parts, (i, c) if margins else None))
    if margins or r > 1:
        for j in col_range:
            parts = tuple((i, j) for i in range(r) if present[i, j])
            lines.append(_Line(f"column '{col_names[j]}'", parts, (r, j) if margins else None))
    return lines


class _State:
    """The suppression mask with, per line, how many of its values are hidden (kept up to date)."""

    def __init__(self, values: np.ndarray, mask: np.ndarray, lines: list[_Line]):
        self.values = values
        self.mask = mask
        self.lines = lines
        self.cell_lines: dict[tuple[int, int], list[int]] = {}
        for k, line in enumerate(lines):
            for p in (*line.parts, *((line.total,) if line.total is not None else ())):
                self.cell_lines.setdefault(p, []).append(k)
        self.hidden = np.array(
            [sum(bool(mask[p]) for p in self.members(k)) for k in range(len(lines))], dtype=int
        )

    def members(self, k: int) -> list[tuple[int, int]]:
        line = self.lines[k]
        return [*line.parts, *([line.total] if line.total is not None else [])]

    def hide(self, p: tuple[int, int]) -> None:
        if not self.mask[p]:
            self.mask[p] = True
            for k in self.cell_lines.get(p, []):
                self.hidden[k] += 1

    def choose(self, candidates: list[tuple[int, int]], exclude_line: int | None = None):
        """Best complementary cell: one whose other line also has exactly one hidden value (it protects
        two lines at once), then non-zero before zero, then the smallest, then the first in table order."""
        if not candidates:
            return None

        def key(p: tuple[int, int]):
            helps = any(self.hidden[k] == 1 for k in self.cell_lines.get(p, []) if k != exclude_line)
            v = self.values[p]
            return (not helps, v == 0, v, p)

        return min(candidates, key=key)


def _line_rule(state: _State, notes: set[str]) -> bool:
    """One pass of "no line with exactly one hidden value"; returns True if anything changed."""
    changed = False
    for k, line in enumerate(state.lines):
        if state.hidden[k] != 1:
            continue
        candidates = [p for p in line.parts if not state.mask[p]]
        pick = state.choose(candidates, exclude_line=k)
        if pick is None and line.total is not None and not state.mask[line.total]:
            pick = line.total
        if pick is None:
            notes.add(f"{line.name} has a single cell, which is suppressed; its total must not be published")
            continue
        state.hide(pick)
        changed = True
    return changed


def _determined(values: np.ndarray, mask: np.ndarray, lines: list[_Line], skip: set) -> list[tuple[int, int]]:
    """Suppressed cells whose exact value follows from the published cells and the line equations.

    Each line gives ``sum(parts) - total = 0``; moving published values to the right-hand side leaves a
    linear system ``A u = b`` in the suppressed values ``u``. A value ``u_k`` is determined exactly iff
    every solution of ``A u = 0`` has ``u_k = 0``, i.e. iff the unit vector ``e_k`` is in the row space
    of ``A``.
    """
    hidden = [(int(i), int(j)) for i, j in np.argwhere(mask)]
    if not hidden:
        return []
    index = {p: k for k, p in enumerate(hidden)}
    rows = []
    for line in lines:
        coef = np.zeros(len(hidden))
        for p in line.parts:
            if p in index:
                coef[index[p]] += 1.0
        if line.total is not None and line.total in index:
            coef[index[line.total]] -= 1.0
        if coef.any():
            rows.append(coef)
    if not rows:
        return []
    a = np.vstack(rows)
    # u_k is determined iff e_k lies in the row space of A, i.e. iff the k-th diagonal entry of the
    # projection onto the row space, P = A^T (A A^T)^+ A, is 1. The eigen-decomposition of the small
    # Gram matrix A A^T (lines x lines) is much cheaper than an SVD of A (lines x hidden values).
    eig, vec = np.linalg.eigh(a @ a.T)
    keep = eig > max(a.shape) * np.finfo(float).eps * max(float(eig.max()), 1.0) * 1e3
    proj = (vec[:, keep].T @ a) / np.sqrt(eig[keep])[:, None]
    in_rowspace = (proj**2).sum(axis=0)
    return [
        (int(p[0]), int(p[1]))
        for p, d in zip(hidden, in_rowspace, strict=True)
        if d > 1 - 1e-6 and (int(p[0]), int(p[1])) not in skip
    ]


def _protect_cell(state: _State, cell: tuple[int, int]) -> bool:
    """Hide one more value beside ``cell``: the best published part of a line through it, else a total."""
    through = state.cell_lines.get(cell, [])
    candidates = sorted({p for k in through for p in state.lines[k].parts if not state.mask[p]})
    pick = state.choose(candidates)
    if pick is None:
        totals = [state.lines[k].total for k in through if state.lines[k].total is not None]
        totals = [t for t in totals if not state.mask[t]]
        pick = totals[0] if totals else None
    if pick is None:
        return False
    state.hide(pick)
    return True


def suppression_mask(
    values: np.ndarray,
    threshold: int = THRESHOLD,
    secondary: bool = True,
    suppress_zero: bool = False,
    margins: bool = False,
    audit: bool = True,
    row_names: Sequence | None = None,
    col_names: Sequence | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Primary and final suppression masks for a 2-D array of counts (NaN = structural blank).

    With ``margins`` the last row and column are totals and are suppressed like any value when needed.

    Returns
    -------
    (primary, suppressed, notes)
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError("a table of counts must be two-dimensional")
    row_names = list(row_names) if row_names is not None else list(range(values.shape[0]))
    col_names = list(col_names) if col_names is not None else list(range(values.shape[1]))
    present = ~np.isnan(values)
    if (values[present] < 0).any():
        raise ValueError("counts must not be negative")
    low = (values >= 1) & (values < threshold)
    if suppress_zero:
        low |= values == 0
    primary = low & present
    mask = primary.copy()
    notes: set[str] = set()
    if secondary:
        lines = _lines(values, margins, row_names, col_names)
        state = _State(values, mask, lines)
        while _line_rule(state, notes):
            pass
        if audit:
            unprotectable: set = set()
            for _ in range(values.size + 1):
                exposed = _determined(values, mask, lines, unprotectable)
                if not exposed:
                    break
                if not _protect_cell(state, exposed[0]):
                    unprotectable.add(exposed[0])
                    r, c = exposed[0]
                    notes.add(f"cell ({row_names[r]}, {col_names[c]}) can be recovered from published totals")
                    continue
                while _line_rule(state, notes):
                    pass
    return primary, mask, sorted(notes)


# ----------------------------------------------------------------------------------------------------
# Public API on frames


def _detect_margins(table: pd.DataFrame) -> bool:
    if table.shape[0] < 2 or table.shape[1] < 2:
        return False
    last_row = str(table.index[-1]).strip().casefold()
    last_col = str(table.columns[-1]).strip().casefold()
    return last_row in MARGIN_LABELS and last_col in MARGIN_LABELS


def _check_margins(values: np.ndarray, row_names: Sequence, col_names: Sequence) -> None:
    inner = np.nan_to_num(values[:-1, :-1])
    row_tot = values[:-1, -1]
    col_tot = values[-1, :-1]
    for i, (got, want) in enumerate(zip(row_tot, inner.sum(axis=1), strict=True)):
        if not np.isclose(got, want):
            raise ValueError(f"row '{row_names[i]}': total {got:g} is not the sum of its cells ({want:g})")
    for j, (got, want) in enumerate(zip(col_tot, inner.sum(axis=0), strict=True)):
        if not np.isclose(got, want):
            raise ValueError(f"column '{col_names[j]}': total {got:g} is not the sum of its cells ({want:g})")
    if not np.isclose(values[-1, -1], inner.sum()):
        raise ValueError(f"grand total {values[-1, -1]:g} is not the sum of all cells ({inner.sum():g})")


def _rule_sentence(
    threshold: int, suppress_zero: bool, secondary: bool, n_secondary: int, margins: bool
) -> str:
    lo = 0 if suppress_zero else 1
    hi = threshold - 1
    if hi < lo:
        first = "No count was small enough to suppress (primary suppression)."
    elif hi == lo:
        first = f"Counts of {lo} are suppressed (primary suppression)."
    else:
        first = f"Counts from {lo} to {hi} are suppressed (primary suppression)."
    if not suppress_zero:
        first = first[:-1] + "; zeros are shown."
    if not secondary:
        return (
            first
            + " No secondary suppression was applied, so suppressed counts may be recoverable from totals."
        )
    cells = "cell was" if n_secondary == 1 else "cells were"
    totals = "its total" if margins else "its total (published elsewhere)"
    return (
        f"{first} A further {n_secondary} {cells} suppressed so that no suppressed count can be worked out "
        f"from row or column totals (secondary suppression): every row and column with a suppressed value "
        f"has at least two, counting {totals}."
    )


def suppress(
    table: pd.DataFrame,
    threshold: int = THRESHOLD,
    secondary: bool = True,
    suppress_zero: bool = False,
    margins: bool | None = None,
    audit: bool = True,
) -> SuppressedTable:
    """Suppress small counts in a 2-D table so it can be published.

    Parameters
    ----------
    table : counts, index = rows, columns = columns. NaN marks a structural blank (no such cell).
    threshold : counts ``1 <= n < threshold`` are suppressed (default 5: counts 1 to 4).
    secondary : also suppress complementary cells so no suppressed count can be recovered from totals.
    suppress_zero : also suppress zeros (default False: a zero is shown).
    margins : whether the last row and column are totals; by default detected from their labels
        ("Total", "All"). Margins are checked to add up and are suppressed when needed.
    audit : after the line rule, solve the published equations and protect any value still determined.

    Returns
    -------
    SuppressedTable
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    has_margins = _detect_margins(table) if margins is None else bool(margins)
    values = table.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    rows, cols = list(table.index), list(table.columns)
    if has_margins:
        _check_margins(values, rows, cols)
    primary, mask, notes = suppression_mask(
        values, threshold, secondary, suppress_zero, has_margins, audit, rows, cols
    )
    frame = lambda a: pd.DataFrame(a, index=table.index, columns=table.columns)  # noqa: E731
    present = ~np.isnan(values)
    integral = bool(np.all(np.mod(values[present], 1) == 0))
    shown = pd.DataFrame(values, index=table.index, columns=table.columns).astype(
        "Int64" if integral else "Float64"
    )
    shown = shown.mask(frame(mask))
    n_secondary = int((mask & ~primary).sum())
    return SuppressedTable(
        table=shown,
        suppressed=frame(mask),
        primary=frame(primary),
        secondary=frame(mask & ~primary),
        threshold=threshold,
        suppress_zero=suppress_zero,
        has_margins=has_margins,
        rule=_rule_sentence(threshold, suppress_zero, secondary, n_secondary, has_margins),
        notes=notes,
    )


def suppress_rates(rates: pd.DataFrame | pd.Series, suppressed_mask) -> pd.DataFrame | pd.Series:
    """Hide every rate built on a suppressed count.

    ``suppressed_mask`` is a boolean frame/series (or a :class:`SuppressedTable`) whose labels cover
    those of ``rates``; rates may omit the margins.
    """
    mask = suppressed_mask.suppressed if isinstance(suppressed_mask, SuppressedTable) else suppressed_mask
    if isinstance(rates, pd.DataFrame):
        missing_rows = rates.index.difference(mask.index)
        missing_cols = rates.columns.difference(mask.columns)
        if len(missing_rows) or len(missing_cols):
            raise ValueError(
                f"rates have labels the suppression mask lacks: rows {list(missing_rows)}, columns {list(missing_cols)}"
            )
        aligned = mask.loc[rates.index, rates.columns].astype(bool)
    else:
        missing = rates.index.difference(mask.index)
        if len(missing):
            raise ValueError(f"rates have labels the suppression mask lacks: {list(missing)}")
        aligned = mask.loc[rates.index].astype(bool)
    return rates.astype("Float64").mask(aligned)


def suppress_long(
    frame: pd.DataFrame,
    rows: str,
    cols: str | None = None,
    value: str = "count",
    by: Sequence[str] | None = None,
    threshold: int = THRESHOLD,
    secondary: bool = True,
    suppress_zero: bool = False,
) -> pd.DataFrame:
    """Suppression for a long frame of counts (e.g. ``lsoa_code`` x ``crime_type``).

    Each group of ``by`` (e.g. each month) is a separate table of ``rows`` x ``cols`` (or a single
    column of ``rows`` when ``cols`` is None, whose total is assumed published); combinations absent
    from the frame count as zero for the secondary rule. Duplicate keys are summed.

    Returns
    -------
    The frame with ``value`` set to NA where suppressed and two new columns: ``suppressed`` (bool) and
    ``suppression`` ("primary", "secondary" or "").
    """
    by = list(by or [])
    keys = [*by, rows] + ([cols] if cols else [])
    for k in [*keys, value]:
        if k not in frame.columns:
            raise KeyError(f"column {k!r} is not in the frame")
    out = frame.copy()
    out["suppressed"] = False
    out["suppression"] = ""
    groups = [((), out)] if not by else out.groupby(by, sort=False, dropna=False)
    for _, part in groups:
        if cols:
            wide = part.pivot_table(index=rows, columns=cols, values=value, aggfunc="sum", fill_value=0)
        else:
            wide = part.groupby(rows, sort=False)[value].sum().to_frame(value)
        result = suppress(wide, threshold, secondary, suppress_zero, margins=False)
        if cols:
            hidden = result.suppressed.stack()
            prim = result.primary.stack()
            idx = pd.MultiIndex.from_frame(part[[rows, cols]])
        else:
            hidden = result.suppressed[value]
            prim = result.primary[value]
            idx = pd.Index(part[rows])
        h = hidden.reindex(idx).to_numpy(dtype=bool)
        p = prim.reindex(idx).to_numpy(dtype=bool)
        out.loc[part.index, "suppressed"] = h
        out.loc[part.index, "suppression"] = np.where(p, "primary", np.where(h, "secondary", ""))
    nullable = "Int64" if pd.api.types.is_integer_dtype(out[value]) else "Float64"
    out[value] = out[value].astype(nullable).mask(out["suppressed"])
    return out
