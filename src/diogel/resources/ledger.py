"""A capacity ledger per partnership and year: funding lines and posts, double-counting checks,
capacity indicators.

One table holds both kinds of record (``record_type`` = ``funding`` or ``post``), so the ledger
is one CSV or one worksheet. Columns (see ``templates/capacity_ledger_template.csv``):

funding rows
    ``partnership``, ``year`` (financial year start, 2007 = 2007/08), ``stream`` (BSC, BCU, SCF,
    SMAF, core, other), ``budget_line_id``, ``amount`` (pounds), ``description``,
    ``is_core_service`` (the line is a mainstream service budget, e.g. street lighting or the youth
    service, rather than community-safety work), ``tagged_community_safety`` (the partnership
    counts the line as community-safety capacity).
post rows
    ``partnership``, ``year``, ``post_id``, ``role``, ``grade``, ``fte`` (0 < fte <= 1), the share
    of the post charged to each stream ``share_bsc``, ``share_bcu``, ``share_scf``, ``share_smaf``,
    ``share_core``, ``share_other`` (fractions 0..1, blank = 0), ``contract_type`` (permanent,
    fixed_term, secondment) and ``end_date`` (YYYY-MM-DD, optional).

Booleans accept yes/no, y/n, true/false, 1/0. Amounts may carry a ``£`` sign and thousands commas.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from diogel.errors import InputError

STREAMS = ("BSC", "BCU", "SCF", "SMAF", "core", "other")
# Home Office and Welsh Assembly Government grants confirmed one year at a time.
ANNUAL_GRANTS = ("BSC", "BCU", "SCF", "SMAF")
CONTRACT_TYPES = ("permanent", "fixed_term", "secondment")
SHARE_COLUMNS = tuple(f"share_{s.lower()}" for s in STREAMS)

COLUMNS = (
    "record_type",
    "partnership",
    "year",
    "stream",
    "budget_line_id",
    "amount",
    "description",
    "is_core_service",
    "tagged_community_safety",
    "post_id",
    "role",
    "grade",
    "fte",
    *SHARE_COLUMNS,
    "contract_type",
    "end_date",
)

_TRUE = {"yes", "y", "true", "t", "1"}
_FALSE = {"no", "n", "false", "f", "0", ""}


@dataclass(frozen=True)
class Ledger:
    """Funding lines and posts as two frames (``row`` = the source row number, for messages)."""

    funding: pd.DataFrame
    posts: pd.DataFrame
    source: str = ""


# ---------------------------------------------------------------------------------------------
# Reading


def _rows_csv(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        for row in reader:
            yield reader.line_num, row


def _rows_xlsx(path: Path, sheet: str | None) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is not None:
            if sheet not in wb.sheetnames:
                raise InputError(
                    str(path), f"no worksheet called {sheet!r} (have {', '.join(wb.sheetnames)})"
                )
            ws = wb[sheet]
        else:
            ws = wb["ledger"] if "ledger" in wb.sheetnames else wb.worksheets[0]
        for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield i, ["" if v is None else v for v in row]
    finally:
        wb.close()


def read_ledger(path: str | Path, sheet: str | None = None) -> Ledger:
    """Read a capacity ledger from CSV or XLSX (sheet ``ledger`` or ``sheet``, else the first).

    Every problem raises :class:`diogel.errors.InputError` naming the file, the row (spreadsheet row
    number, header = 1) and the column.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(str(p), "file not found")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        rows: Iterable[tuple[int, list[Any]]] = _rows_csv(p)
    elif suffix in {".xlsx", ".xlsm"}:
        rows = _rows_xlsx(p, sheet)
    else:
        raise InputError(str(p), "expected a .csv or .xlsx file")
    return parse_ledger(rows, str(p))


def parse_ledger(rows: Iterable[tuple[int, list[Any]]], source: str = "<ledger>") -> Ledger:
    """Validate ``(row_number, values)`` pairs (the first is the header) into a :class:`Ledger`."""
    it = iter(rows)
    try:
        _, header = next(it)
    except StopIteration:
        raise InputError(source, "empty file") from None
    header = [str(h).strip() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(source, "missing column", line=1, column=missing[0])
    pos = {c: header.index(c) for c in COLUMNS}
    funding, posts = [], []
    for line, values in it:
        if all(str(v).strip() == "" for v in values):
            continue
        cell = _Cells(source, line, values, pos)
        kind = cell.text("record_type").lower()
        if kind == "funding":
            funding.append(
                {
                    "row": line,
                    "partnership": cell.required("partnership"),
                    "year": cell.year("year"),
                    "stream": cell.stream("stream"),
                    "budget_line_id": cell.required("budget_line_id"),
                    "amount": cell.number("amount", lo=0.0),
                    "description": cell.text("description"),
                    "is_core_service": cell.boolean("is_core_service"),
                    "tagged_community_safety": cell.boolean("tagged_community_safety"),
                }
            )
        elif kind == "post":
            rec = {
                "row": line,
                "partnership": cell.required("partnership"),
                "year": cell.year("year"),
                "post_id": cell.required("post_id"),
                "role": cell.text("role"),
                "grade": cell.text("grade"),
                "fte": cell.number("fte", lo=0.0, hi=1.0, lo_open=True),
            }
            for c in SHARE_COLUMNS:
                rec[c] = cell.number(c, lo=0.0, hi=1.0, blank=0.0)
            rec["contract_type"] = cell.choice("contract_type", CONTRACT_TYPES)
            rec["end_date"] = cell.date("end_date")
            posts.append(rec)
        else:
            raise InputError(
                source, f"record_type must be funding or post, not {kind!r}", line, "record_type"
            )
    f_cols = ["row", "partnership", "year", "stream", "budget_line_id", "amount", "description"]
    f_cols += ["is_core_service", "tagged_community_safety"]
    p_cols = ["row", "partnership", "year", "post_id", "role", "grade", "fte", *SHARE_COLUMNS]
    p_cols += ["contract_type", "end_date"]
    fdf = pd.DataFrame(funding, columns=f_cols).astype(
        {
            "row": "int64",
            "year": "int64",
            "amount": "float64",
            "is_core_service": bool,
            "tagged_community_safety": bool,
        }
    )
    pdf = pd.DataFrame(posts, columns=p_cols).astype(
        {"row": "int64", "year": "int64", "fte": "float64", **dict.fromkeys(SHARE_COLUMNS, "float64")}
    )
    pdf["end_date"] = pd.to_datetime(pdf["end_date"])
    return Ledger(fdf, pdf, source)


class _Cells:
    """Typed access to one row's cells; every failure is a one-line InputError."""

    def __init__(self, source: str, line: int, values: list[Any], pos: dict[str, int]):
        self.source, self.line, self.values, self.pos = source, line, values, pos

    def raw(self, col: str) -> Any:
        i = self.pos[col]
        return self.values[i] if i < len(self.values) else ""

    def fail(self, col: str, msg: str) -> InputError:
        return InputError(self.source, msg, self.line, col)

    def text(self, col: str) -> str:
        v = self.raw(col)
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        return str(v).strip()

    def required(self, col: str) -> str:
        v = self.text(col)
        if not v:
            raise self.fail(col, "value is required")
        return v

    def year(self, col: str) -> int:
        v = self.required(col)
        try:
            y = int(v)
        except ValueError:
            raise self.fail(
                col, f"year must be a 4-digit financial year start (2007 = 2007/08), not {v!r}"
            ) from None
        if not 1990 <= y <= 2100:
            raise self.fail(col, f"year {y} is out of range")
        return y

    def number(
        self,
        col: str,
        lo: float | None = None,
        hi: float | None = None,
        lo_open: bool = False,
        blank: float | None = None,
    ) -> float:
        v = self.raw(col)
        if isinstance(v, int | float) and not isinstance(v, bool):
            x = float(v)
        else:
            s = str(v).strip().replace(",", "").replace("£", "")
            if s == "":
                if blank is not None:
                    return blank
                raise self.fail(col, "value is required")
            try:
                x = float(s)
            except ValueError:
                raise self.fail(col, f"not a number: {str(v).strip()!r}") from None
        if x != x:
            raise self.fail(col, "not a number")
        if lo is not None and (x < lo or (lo_open and x == lo)):
            raise self.fail(col, f"{x:g} must be {'>' if lo_open else '>='} {lo:g}")
        if hi is not None and x > hi:
            raise self.fail(col, f"{x:g} must be <= {hi:g}")
        return x

    def boolean(self, col: str) -> bool:
        v = self.raw(col)
        if isinstance(v, bool):
            return v
        s = self.text(col).lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise self.fail(col, f"expected yes or no, not {s!r}")

    def stream(self, col: str) -> str:
        s = self.required(col)
        for k in STREAMS:
            if s.lower() == k.lower():
                return k
        raise self.fail(col, f"stream must be one of {', '.join(STREAMS)}, not {s!r}")

    def choice(self, col: str, options: tuple[str, ...]) -> str:
        s = self.required(col).lower().replace("-", "_").replace(" ", "_")
        if s not in options:
            raise self.fail(col, f"must be one of {', '.join(options)}, not {self.text(col)!r}")
        return s

    def date(self, col: str) -> pd.Timestamp | None:
        v = self.raw(col)
        if isinstance(v, dt.datetime | dt.date):
            return pd.Timestamp(v)
        s = self.text(col)
        if not s:
            return None
        try:
            return pd.Timestamp(dt.date.fromisoformat(s))
        except ValueError:
            raise self.fail(col, f"date must be YYYY-MM-DD, not {s!r}") from None


# ---------------------------------------------------------------------------------------------
# Checks


def check_double_counting(ledger: Ledger, core_share_threshold: float = 0.10) -> pd.DataFrame:
    """Flag double counting in a ledger.

    Checks, per partnership and year:

    ``post_over_100pct``
        a post whose stream shares, summed over every row that lists it, exceed 100% (the same post
        counted in several budgets). ``value`` = the total share.
    ``budget_line_multiple_streams``
        one ``budget_line_id`` claimed under more than one stream. ``value`` = the amount claimed
        beyond the first claim.
    ``core_service_relabelled``
        core-service budgets tagged as community safety make up more than ``core_share_threshold``
        (default 10%) of all funding tagged as community safety. ``value`` = that share.

    Returns ``check``, ``partnership``, ``year``, ``item``, ``value``, ``rows`` (source rows) and
    ``detail``; empty when nothing is flagged.
    """
    out: list[dict[str, Any]] = []
    posts = ledger.posts
    if not posts.empty:
        p = posts.assign(total_share=posts[list(SHARE_COLUMNS)].sum(axis=1))
        for (part, year, pid), g in p.groupby(["partnership", "year", "post_id"], sort=True):
            total = float(g["total_share"].sum())
            if total > 1 + 1e-9:
                streams = {
                    s: float(g[f"share_{s.lower()}"].sum())
                    for s in STREAMS
                    if g[f"share_{s.lower()}"].sum() > 0
                }
                charged = ", ".join(f"{s} {v:.0%}" for s, v in streams.items())
                out.append(
                    {
                        "check": "post_over_100pct",
                        "partnership": part,
                        "year": int(year),
                        "item": pid,
                        "value": total,
                        "rows": ", ".join(str(r) for r in g["row"]),
                        "detail": f"post {pid} charged {total:.0%} in total ({charged})",
                    }
                )
    fund = ledger.funding
    if not fund.empty:
        for (part, year, bl), g in fund.groupby(["partnership", "year", "budget_line_id"], sort=True):
            streams = sorted(set(g["stream"]))
            if len(streams) > 1:
                out.append(
                    {
                        "check": "budget_line_multiple_streams",
                        "partnership": part,
                        "year": int(year),
                        "item": bl,
                        "value": float(g["amount"].iloc[1:].sum()),
                        "rows": ", ".join(str(r) for r in g["row"]),
                        "detail": f"budget line {bl} claimed under {', '.join(streams)}",
                    }
                )
        tagged = fund[fund["tagged_community_safety"]]
        for (part, year), g in tagged.groupby(["partnership", "year"], sort=True):
            total = float(g["amount"].sum())
            core = float(g.loc[g["is_core_service"], "amount"].sum())
            share = core / total if total > 0 else 0.0
            if share > core_share_threshold:
                out.append(
                    {
                        "check": "core_service_relabelled",
                        "partnership": part,
                        "year": int(year),
                        "item": "",
                        "value": share,
                        "rows": ", ".join(str(r) for r in g.loc[g["is_core_service"], "row"]),
                        "detail": (
                            f"core-service budgets are {share:.0%} of funding tagged as community safety "
                            f"(threshold {core_share_threshold:.0%})"
                        ),
                    }
                )
    cols = ["check", "partnership", "year", "item", "value", "rows", "detail"]
    return pd.DataFrame(out, columns=cols)


# ---------------------------------------------------------------------------------------------
# Indicators


def capacity_indicators(ledger: Ledger, context: pd.DataFrame | None = None) -> pd.DataFrame:
    """Capacity indicators per partnership and year.

    Funding counted (``funding_counted``) is funding tagged as community safety, with each budget
    line counted once (the first row claiming it) and core-service budgets excluded; posts are
    counted once each (the largest ``fte`` listed for the post). ``funding_claimed`` is the tagged
    total as reported.

    ``context`` has ``partnership``, ``population`` and optionally ``recorded_crime`` and ``year``
    (without ``year`` the same context applies to every year). Returns ``partnership``, ``year``,
    ``funding_claimed``, ``funding_counted``, ``fte``, ``annual_grant_share`` (share of counted
    funding from the annual short-term grants BSC, BCU, SCF, SMAF), ``smaf_share``,
    ``fte_fixed_term_share`` (FTE on fixed-term contracts or secondments / FTE) and, with context,
    ``population``, ``funding_per_head`` = funding_counted / population, ``fte_per_100k`` =
    100,000 x fte / population and ``funding_per_crime`` = funding_counted / recorded_crime.
    """
    keys = ["partnership", "year"]
    f = ledger.funding
    tagged = f[f["tagged_community_safety"]]
    claimed = tagged.groupby(keys)["amount"].sum()
    counted_rows = tagged.drop_duplicates(["partnership", "year", "budget_line_id"], keep="first")
    counted_rows = counted_rows[~counted_rows["is_core_service"]]
    counted = counted_rows.groupby(keys)["amount"].sum()
    annual = counted_rows[counted_rows["stream"].isin(ANNUAL_GRANTS)].groupby(keys)["amount"].sum()
    smaf = counted_rows[counted_rows["stream"] == "SMAF"].groupby(keys)["amount"].sum()
    p = ledger.posts.groupby(["partnership", "year", "post_id"], as_index=False).agg(
        fte=("fte", "max"), contract_type=("contract_type", "first")
    )
    fte = p.groupby(keys)["fte"].sum()
    short = p[p["contract_type"] != "permanent"].groupby(keys)["fte"].sum()

    index = sorted(set(claimed.index) | set(fte.index) | set(counted.index))
    out = pd.DataFrame(index=pd.MultiIndex.from_tuples(index, names=keys))
    out["funding_claimed"] = claimed.reindex(out.index).fillna(0.0)
    out["funding_counted"] = counted.reindex(out.index).fillna(0.0)
    out["fte"] = fte.reindex(out.index).fillna(0.0)
    denom = out["funding_counted"].where(out["funding_counted"] > 0)
    out["annual_grant_share"] = annual.reindex(out.index).fillna(0.0) / denom
    out["smaf_share"] = smaf.reindex(out.index).fillna(0.0) / denom
    out["fte_fixed_term_share"] = short.reindex(out.index).fillna(0.0) / out["fte"].where(out["fte"] > 0)
    out = out.reset_index()
    if context is not None:
        on = ["partnership", "year"] if "year" in context.columns else ["partnership"]
        cols = on + [c for c in ("population", "recorded_crime") if c in context.columns]
        out = out.merge(context[cols], on=on, how="left")
        if out["population"].isna().any():
            raise ValueError(f"no population for {out.loc[out['population'].isna(), 'partnership'].iloc[0]}")
        out["funding_per_head"] = out["funding_counted"] / out["population"]
        out["fte_per_100k"] = 100_000 * out["fte"] / out["population"]
        if "recorded_crime" in out.columns:
            out["funding_per_crime"] = out["funding_counted"] / out["recorded_crime"]
    return out
