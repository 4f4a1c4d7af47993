"""Targets and performance: a partnership's targets per priority and the progress made towards them.

A target names a measure (a police.uk crime type, "All crime and ASB" or "All crime (excluding
ASB)"), the area, a baseline period, a target change (percent) or level (count over a window as
long as the baseline) and a deadline. Progress is always measured on like-for-like seasons:

* a 12-month baseline is compared with the latest 12 months loaded (rolling 12 months: every
  calendar month appears once in both, so the seasons match); each month is paired with the same
  calendar month of the baseline;
* a shorter baseline (e.g. January to March 2024) is compared with the same months of the latest
  year for which all of them are loaded.

The comparison is :func:`diogel.analysis.trends.compare_monthly_family` (quasi-Poisson on paired
months, Benjamini-Hochberg across the partnership's targets): the calibrated test the assessment's
year-on-year changes use. The same change over the same months in each area of the most-similar
group gives the group's mean change and interval (:func:`diogel.analysis.peers.compare_with_peers`).

:func:`target_progress` is the one function behind the figure on the portal's dashboard, in the
report's "Performance against targets" section and in the scrutiny pack. Everything here is pure
except :func:`load_targets`, which reads a YAML file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from diogel.analysis.harm import POLICEUK_CRIME_TYPES
from diogel.analysis.peers import compare_with_peers
from diogel.analysis.trends import compare_monthly_family
from diogel.errors import DiogelError

__all__ = [
    "ALL_CRIME",
    "ALL_CRIME_EXCL_ASB",
    "MEASURES",
    "PROGRESS_COLUMNS",
    "Target",
    "comparison_months",
    "load_targets",
    "measure_series",
    "target_progress",
]

ALL_CRIME = "All crime and ASB"
ALL_CRIME_EXCL_ASB = "All crime (excluding ASB)"
ASB = "Anti-social behaviour"
MEASURES: tuple[str, ...] = (ALL_CRIME, ALL_CRIME_EXCL_ASB, *POLICEUK_CRIME_TYPES)

PROGRESS_COLUMNS = [
    "target_id", "priority", "measure", "baseline", "current", "baseline_count", "current_count",
    "percent_change", "ci_lower", "ci_upper", "p_value", "q_value", "significant", "target_change",
    "expected_by_now", "deadline", "status", "peer_mean", "peer_lower", "peer_upper", "peer_position",
    "peers_with_data", "note",
]  # fmt: skip


@dataclass(frozen=True)
class Target:
    """One target of one priority.

    Attributes
    ----------
    id : a stable key (the portal's row id, or the YAML's ``id``).
    priority : the priority it belongs to (its title).
    measure : one of :data:`MEASURES`.
    area : the area code (a CSP or local authority).
    baseline_start, baseline_end : first and last month of the baseline (first of the month).
    change : target change in percent from the baseline (-10 = a tenth fewer), or None.
    level : target count over a window as long as the baseline, or None (one of change/level).
    deadline : the month by which the target should be met (first of the month).
    """

    id: str
    priority: str
    measure: str
    area: str
    baseline_start: pd.Timestamp
    baseline_end: pd.Timestamp
    change: float | None
    level: float | None
    deadline: pd.Timestamp

    @property
    def baseline_months(self) -> pd.DatetimeIndex:
        return pd.date_range(self.baseline_start, self.baseline_end, freq="MS")

    @property
    def baseline_label(self) -> str:
        return f"{self.baseline_start:%Y-%m}..{self.baseline_end:%Y-%m}"


def _month(value: object, where: str) -> pd.Timestamp:
    text = str(value).strip()
    try:
        return pd.Timestamp(pd.Period(text, freq="M").start_time)
    except (ValueError, TypeError):
        raise DiogelError(f"{where}: {text[:40]!r} is not a month (YYYY-MM)") from None


def make_target(
    id: str, priority: str, measure: str, area: str, baseline: str, deadline: str,
    change: float | None = None, level: float | None = None, where: str = "target",
) -> Target:  # fmt: skip
    """A checked :class:`Target` from the words a person enters (``baseline`` as ``YYYY-MM..YYYY-MM``).

    Raises DiogelError (one line, naming ``where``) for an unknown measure, a baseline longer than
    12 months or ending after the deadline, and unless exactly one of change and level is given.
    """
    if measure not in MEASURES:
        raise DiogelError(
            f"{where}: unknown measure {measure[:60]!r}; use a police.uk crime type or {ALL_CRIME!r}"
        )
    parts = [p.strip() for p in str(baseline).split("..")]
    if len(parts) != 2:
        raise DiogelError(f"{where}: the baseline must look like 2023-07..2024-06")
    start, end = _month(parts[0], where), _month(parts[1], where)
    n = (end.year - start.year) * 12 + end.month - start.month + 1
    if n < 1 or n > 12:
        raise DiogelError(f"{where}: the baseline must be 1 to 12 months long, not {n}")
    due = _month(deadline, where)
    if due <= end:
        raise DiogelError(f"{where}: the deadline {due:%Y-%m} is not after the baseline")
    if (change is None) == (level is None):
        raise DiogelError(
            f"{where}: give either a target change (percent) or a target level, not both or neither"
        )
    if level is not None and level < 0:
        raise DiogelError(f"{where}: a target level cannot be negative")
    if change is not None and change < -100:
        raise DiogelError(f"{where}: a target change cannot be below -100%")
    return Target(str(id), str(priority), measure, str(area), start, end,
                  None if change is None else float(change), None if level is None else float(level), due)  # fmt: skip


def load_targets(path: str | Path, area: str | None = None) -> list[Target]:
    """Read targets from YAML::

        targets:
          - id: burglary-down                 # optional (default: the position, t1, t2...)
            priority: Burglary
            measure: Burglary                 # a police.uk crime type, or "All crime and ASB"
            area: W14000022                   # optional when ``area`` is given
            baseline: 2023-07..2024-06
            change: -10                       # percent; or level: 900
            deadline: 2026-03

    Raises DiogelError (one line naming the file and the target) on anything malformed.
    """
    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DiogelError(f"{p}: cannot read the targets ({exc.__class__.__name__})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise DiogelError(f"{p}{at}: not valid YAML") from None
    items = doc.get("targets") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise DiogelError(f"{p}: expected a 'targets:' list")
    out = []
    for i, item in enumerate(items, start=1):
        where = f"{p}: target {i}"
        if not isinstance(item, dict):
            raise DiogelError(f"{where}: expected a mapping")
        missing = [k for k in ("priority", "measure", "baseline", "deadline") if k not in item]
        if missing:
            raise DiogelError(f"{where}: missing {', '.join(missing)}")
        code = item.get("area", area)
        if not code:
            raise DiogelError(f"{where}: missing area")
        out.append(make_target(item.get("id", f"t{i}"), item["priority"], item["measure"], code,
                               item["baseline"], item["deadline"], item.get("change"), item.get("level"), where))  # fmt: skip
    ids = [t.id for t in out]
    if len(set(ids)) != len(ids):
        raise DiogelError(f"{p}: two targets share an id")
    return out


def comparison_months(
    baseline: pd.DatetimeIndex, loaded: Sequence[pd.Timestamp]
) -> tuple[list[pd.Timestamp], list[pd.Timestamp]] | None:
    """The like-for-like (current, baseline) months, paired by position, or None when not yet measurable.

    A 12-month baseline: the latest 12 loaded months, each paired with the same calendar month of the
    baseline, provided they all come after the baseline. A shorter one: the same months of the latest
    later year in which all of them are loaded.
    """
    have = set(pd.Timestamp(m) for m in loaded)
    if not have:
        return None
    latest = max(have)
    base = list(baseline)
    if len(base) == 12:
        current = list(pd.date_range(end=latest, periods=12, freq="MS"))
        if current[0] <= base[-1] or not all(m in have for m in current):
            return None
        by_month = {m.month: m for m in base}
        return current, [by_month[m.month] for m in current]
    years = (latest.year - base[0].year) + 1
    for shift in range(years, 0, -1):
        current = [m + pd.DateOffset(years=shift) for m in base]
        if all(m in have for m in current):
            return current, base
    return None


def measure_series(monthly: pd.DataFrame, area: str, measure: str) -> pd.Series:
    """Monthly counts of ``measure`` in ``area`` from a frame of ``area``, ``month``, ``crime_type``, ``count``."""
    rows = monthly[monthly["area"] == area]
    if measure == ALL_CRIME_EXCL_ASB:
        rows = rows[rows["crime_type"] != ASB]
    elif measure != ALL_CRIME:
        rows = rows[rows["crime_type"] == measure]
    return rows.groupby("month")["count"].sum().astype(float)


def _expected_by_now(target: Target, goal: float, now: pd.Timestamp) -> float:
    """The change a straight line from the end of the baseline (0%) to the end of the deadline month
    (the goal) reaches at the end of the month ``now``."""
    start = target.baseline_end + pd.offsets.MonthEnd(0)
    total = (target.deadline + pd.offsets.MonthEnd(0) - start).days
    done = min(max((now + pd.offsets.MonthEnd(0) - start).days, 0), total)
    return goal * done / total if total > 0 else goal


def _status(pct: float, goal: float, expected: float, overdue: bool) -> str:
    """met / on course / off course (missed once the deadline has passed), in the goal's direction."""
    sign = -1.0 if goal <= 0 else 1.0  # a goal of 0: no rise
    if sign * pct >= sign * goal:
        return "met"
    if overdue:
        return "missed"
    return "on course" if sign * pct >= sign * expected else "off course"


def _peer_change(
    monthly: pd.DataFrame, loaded: dict[str, set], peers: Sequence[str], measure: str,
    current: list[pd.Timestamp], base: list[pd.Timestamp],
) -> dict[str, float]:  # fmt: skip
    """Percent change over the same months in every peer whose data cover them all."""
    out = {}
    for code in peers:
        if not set(current) | set(base) <= loaded.get(code, set()):
            continue
        s = measure_series(monthly, code, measure)
        now, before = (
            float(s.reindex(current, fill_value=0).sum()),
            float(s.reindex(base, fill_value=0).sum()),
        )
        if before > 0:
            out[code] = 100.0 * (now - before) / before
    return out


def target_progress(
    targets: Sequence[Target],
    monthly: pd.DataFrame,
    peers: Sequence[str] = (),
    loaded: Mapping[str, Sequence[pd.Timestamp]] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Progress towards each target, like-for-like, with the calibrated test and the peer group's change.

    Parameters
    ----------
    targets : the partnership's targets (one family for Benjamini-Hochberg).
    monthly : recorded counts with columns ``area``, ``month`` (first of the month), ``crime_type``,
        ``count``, for the targets' areas and ``peers``. A loaded month without a record of the
        measure counts 0.
    peers : codes of the most-similar group (the area itself is left out if present).
    loaded : per area, the months whose data are loaded (a peer is compared only when all the
        target's months are); None: the months in which the area has any record.
    alpha : significance level for the BH q-values and the intervals.

    Returns
    -------
    DataFrame with :data:`PROGRESS_COLUMNS`, one row per target in the given order:
    ``percent_change`` is 100 (C - B) / B over the paired months (the progress figure), with the
    quasi-Poisson interval (``ci_lower``, ``ci_upper``, percent) and ``p_value``/``q_value``;
    ``target_change`` is the goal in percent (a level L becomes 100 (L - B) / B); ``expected_by_now``
    the change a straight line from the baseline to the deadline reaches by the latest month;
    ``status`` is "met", "on course", "off course", "missed" (deadline passed) or "not measurable"
    (``note`` says why). ``peer_mean``, ``peer_lower``, ``peer_upper`` (t interval) and
    ``peer_position`` (the area's change "below", "within" or "above" it) compare the change with
    the same change in each peer whose data cover the months (``peers_with_data``).
    """
    monthly = monthly.assign(month=pd.to_datetime(monthly["month"]))
    if loaded is None:
        loaded = {a: set(g["month"]) for a, g in monthly[monthly["count"] > 0].groupby("area")}
    else:
        loaded = {a: {pd.Timestamp(m) for m in ms} for a, ms in loaded.items()}
    rows: list[dict] = []
    pairs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    windows: dict[str, tuple[list[pd.Timestamp], list[pd.Timestamp]]] = {}
    for t in targets:
        row = dict.fromkeys(PROGRESS_COLUMNS)
        row.update(target_id=t.id, priority=t.priority, measure=t.measure, baseline=t.baseline_label,
                   deadline=f"{t.deadline:%Y-%m}", significant=False, peers_with_data=0, note="")  # fmt: skip
        months = comparison_months(t.baseline_months, sorted(loaded.get(t.area, ())))
        if months is None:
            row.update(
                status="not measurable", note="the like-for-like months after the baseline are not all loaded"
            )
            rows.append(row)
            continue
        current, base = months
        s = measure_series(monthly, t.area, t.measure)
        c, b = s.reindex(current, fill_value=0).to_numpy(), s.reindex(base, fill_value=0).to_numpy()
        row.update(current=f"{current[0]:%Y-%m}..{current[-1]:%Y-%m}", baseline_count=int(b.sum()),
                   current_count=int(c.sum()))  # fmt: skip
        if b.sum() == 0:
            row.update(status="not measurable", note="no records of the measure in the baseline")
            rows.append(row)
            continue
        pairs[t.id], windows[t.id] = (c, b), (current, base)
        rows.append(row)
    family = compare_monthly_family(pairs, alpha=alpha) if pairs else None
    for t, row in zip(targets, rows, strict=True):
        if t.id in pairs:
            _fill(row, t, family.loc[t.id])
            group = _peer_change(
                monthly, loaded, [p for p in peers if p != t.area], t.measure, *windows[t.id]
            )
            row["peers_with_data"] = len(group)
            if len(group) >= 2:
                rates = pd.Series({t.area: float(family.loc[t.id, "percent_change"]), **group})
                pc = compare_with_peers(rates, list(group), t.area, ci=1 - alpha)
                row.update(peer_mean=round(pc.group_mean, 1), peer_lower=round(pc.lower, 1),
                           peer_upper=round(pc.upper, 1), peer_position=pc.position)  # fmt: skip
    return pd.DataFrame(rows, columns=PROGRESS_COLUMNS)


def _fill(row: dict, t: Target, cmp: pd.Series) -> None:
    """Complete a measurable target's row from its comparison."""
    base_count = row["baseline_count"]
    pct = float(cmp["percent_change"])
    goal = t.change if t.change is not None else 100.0 * (t.level - base_count) / base_count
    last = pd.Timestamp(row["current"].split("..")[1] + "-01")
    expected = _expected_by_now(t, goal, last)
    row.update(
        percent_change=round(pct, 1),
        ci_lower=None if math.isnan(cmp["ci_lower"]) else round(100 * (cmp["ci_lower"] - 1), 1),
        ci_upper=None if math.isnan(cmp["ci_upper"]) else round(100 * (cmp["ci_upper"] - 1), 1),
        p_value=float(cmp["p_value"]), q_value=float(cmp["q_value"]), significant=bool(cmp["significant"]),
        target_change=round(goal, 1), expected_by_now=round(expected, 1),
        status=_status(round(pct, 1), round(goal, 1), round(expected, 1), last >= t.deadline),
    )  # fmt: skip
