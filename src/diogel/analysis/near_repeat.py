"""Near-repeat analysis: the Knox test with a Monte Carlo permutation reference, and incident labels.

For every pair of incidents the Knox table counts the pair in one cell of (distance band x time band).
Under the null hypothesis that when an incident happened is unrelated to where, the dates can be
shuffled across the locations; repeating that ``permutations`` times (default 999) gives, for each cell,
the distribution of the count by chance. Following Johnson & Bowers and Ratcliffe's Near Repeat
Calculator:

* Knox ratio = observed / mean of the simulated counts (> 1: more pairs than chance);
* p = (number of simulations with a count >= the observed + 1) / (permutations + 1), one-sided.

Banding (stated on every result in ``band_note``):

* distance is Manhattan (|dx| + |dy|, the default, as street networks are closer to it) or Euclidean, in
  the metres of a projected CRS (e.g. British National Grid), **rounded to the nearest whole metre
  (halves up) before banding**, so band labels in whole metres are exact: with edges
  (0, 100, 200, 300, 400) the bands are "0 m (same location)", "1 to 100 m", "101 to 200 m", ...,
  "more than 400 m", each including both its bounds (a true distance of 100.4 m rounds to 100 and is
  in "1 to 100 m"; 100.5 m rounds to 101 and is in "101 to 200 m");
* time is the number of whole calendar days between the two incident dates (times of day are
  ignored); with edges (7, 14, 21, 28) the bands are "0 to 7 days", "8 to 14 days", ..., "more than 28
  days", each including both its bounds.

Speed: the distance band of every pair is computed once; only pairs closer than the largest distance
edge are re-timed in each permutation, because the count of all pairs in a time band does not depend
on the permutation (it is fixed by the dates alone), so the far band is that total minus the near
bands. 999 permutations of 500 incidents take well under a few seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

DEFAULT_DISTANCE_BANDS = (0, 100, 200, 300, 400)
DEFAULT_TIME_BANDS = (7, 14, 21, 28)
LABELS = ("originator", "repeat", "near repeat", "isolated")
_MAX_CHUNK_ELEMENTS = 4_000_000


@dataclass
class KnoxResult:
    """Knox table of pairs by distance band (rows) and time band (columns).

    ``observed``, ``expected`` (mean of simulations), ``expected_analytic`` (the classical
    ``N_d * M_t / N``, which the permutation mean converges to), ``knox_ratio`` and ``p_value`` are
    frames with the band labels; ``simulated`` holds every permutation's table, shape
    (permutations, distance bands, time bands). ``near_*`` describe the combined cell "within
    ``near_distance_m`` and ``near_days``" used in ``summary``.
    """

    observed: pd.DataFrame
    expected: pd.DataFrame
    expected_analytic: pd.DataFrame
    knox_ratio: pd.DataFrame
    p_value: pd.DataFrame
    simulated: np.ndarray
    distance_bands: tuple[int, ...]
    time_bands: tuple[int, ...]
    metric: str
    permutations: int
    seed: int | None
    n_incidents: int
    n_pairs: int
    near_distance_m: int
    near_days: int
    near_observed: int
    near_expected: float
    near_ratio: float
    near_p: float
    summary: str
    band_note: str
    labels: pd.Series = field(repr=False, default_factory=lambda: pd.Series(dtype=object))

    def significant(self, alpha: float = 0.05) -> pd.DataFrame:
        """Cells with more pairs than chance at level ``alpha`` (p <= alpha and ratio > 1)."""
        return (self.p_value <= alpha) & (self.knox_ratio > 1)

    def to_frame(self) -> pd.DataFrame:
        """One row per cell: distance_band, time_band, observed, expected, knox_ratio, p_value."""
        parts = {
            "observed": self.observed,
            "expected": self.expected,
            "knox_ratio": self.knox_ratio,
            "p_value": self.p_value,
        }
        long = {k: v.stack() for k, v in parts.items()}
        out = pd.DataFrame(long).reset_index()
        return out.rename(columns={out.columns[0]: "distance_band", out.columns[1]: "time_band"})


# ----------------------------------------------------------------------------------------------------
# Bands


def distance_band_labels(edges: Sequence[int]) -> list[str]:
    """Labels for distance bands with inclusive upper ``edges`` in whole metres (see module docstring)."""
    labels = []
    lo = 0
    for e in edges:
        if e == 0:
            labels.append("0 m (same location)")
        elif lo == e:
            labels.append(f"{e} m")
        else:
            labels.append(f"{lo} to {e} m")
        lo = e + 1
    labels.append(f"more than {edges[-1]} m")
    return labels


def time_band_labels(edges: Sequence[int]) -> list[str]:
    """Labels for time bands with inclusive upper ``edges`` in whole days."""
    labels = []
    lo = 0
    for e in edges:
        if e == 0:
            labels.append("same day")
        elif lo == e:
            labels.append(f"{e} day" + ("" if e == 1 else "s"))
        else:
            labels.append(f"{lo} to {e} days")
        lo = e + 1
    labels.append(f"more than {edges[-1]} days")
    return labels


def _check_edges(edges: Sequence[int], what: str) -> tuple[int, ...]:
    out = tuple(int(e) for e in edges)
    if not out or any(e != float(f) for e, f in zip(out, edges, strict=True)):
        raise ValueError(f"{what} bands must be whole numbers")
    if out[0] < 0 or any(b <= a for a, b in zip(out, out[1:], strict=False)):
        raise ValueError(f"{what} bands must be non-negative and strictly increasing, got {list(edges)}")
    return out


def _band(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    # Upper edges are inclusive: the first edge >= value.
    return np.searchsorted(edges, values, side="left")


def _round_m(d: np.ndarray) -> np.ndarray:
    return np.floor(d + 0.5).astype(np.int64)


def _prepare(incidents: pd.DataFrame, x: str, y: str, date: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates, day numbers and row positions of the incidents that have all three."""
    for col in (x, y, date):
        if col not in incidents.columns:
            raise KeyError(f"column {col!r} is not in the incidents frame")
    xs = pd.to_numeric(incidents[x], errors="coerce")
    ys = pd.to_numeric(incidents[y], errors="coerce")
    when = pd.to_datetime(incidents[date], errors="coerce")
    ok = xs.notna() & ys.notna() & when.notna()
    coords = np.column_stack([xs[ok].to_numpy(float), ys[ok].to_numpy(float)])
    days = (when[ok].dt.normalize() - pd.Timestamp("1970-01-01")).dt.days.to_numpy(np.int64)
    return coords, days, np.flatnonzero(ok.to_numpy())


def _pairs_within(
    coords: np.ndarray, radius_m: float, metric: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs i < j whose rounded distance is at most ``radius_m``, with that rounded distance."""
    p = 1 if metric == "manhattan" else 2
    if len(coords) < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    tree = cKDTree(coords)
    pairs = tree.query_pairs(r=radius_m + 0.5, p=p, output_type="ndarray")
    if len(pairs) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    i, j = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    diff = coords[i] - coords[j]
    dist = np.abs(diff).sum(axis=1) if p == 1 else np.hypot(diff[:, 0], diff[:, 1])
    d = _round_m(dist)
    keep = d <= radius_m
    return i[keep], j[keep], d[keep]


def _time_band_totals(days: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Number of unordered pairs of incidents in each time band (fixed under any permutation)."""
    n = len(days)
    total = n * (n - 1) // 2
    if n < 2:
        return np.zeros(len(edges) + 1, dtype=np.int64)
    counts = np.bincount(days - days.min()).astype(np.int64)
    max_k = int(edges[-1])
    by_lag = np.zeros(max_k + 1, dtype=np.int64)
    by_lag[0] = int((counts * (counts - 1) // 2).sum())
    for k in range(1, min(max_k, len(counts) - 1) + 1):
        by_lag[k] = int((counts[:-k] * counts[k:]).sum())
    out = np.zeros(len(edges) + 1, dtype=np.int64)
    lo = 0
    for b, e in enumerate(edges):
        out[b] = by_lag[lo : e + 1].sum()
        lo = e + 1
    out[-1] = total - out[:-1].sum()
    return out


# ----------------------------------------------------------------------------------------------------
# Knox test


def _knox_bands(
    metric: str,
    permutations: int,
    distance_bands: Sequence[int],
    time_bands: Sequence[int],
    near_distance_m: int,
    near_days: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The distance and time band edges, once the arguments of :func:`knox_test` are checked."""
    if metric not in ("manhattan", "euclidean"):
        raise ValueError("metric must be 'manhattan' or 'euclidean'")
    if permutations < 1:
        raise ValueError("permutations must be at least 1")
    d_edges = np.array(_check_edges(distance_bands, "distance"))
    t_edges = np.array(_check_edges(time_bands, "time"))
    if near_distance_m not in d_edges:
        raise ValueError(
            f"near_distance_m={near_distance_m} must be one of the distance band edges {list(d_edges)}"
        )
    if near_days not in t_edges:
        raise ValueError(f"near_days={near_days} must be one of the time band edges {list(t_edges)}")
    return d_edges, t_edges


def _knox_table(
    day_values_i: np.ndarray,
    day_values_j: np.ndarray,
    dband: np.ndarray,
    t_totals: np.ndarray,
    t_edges: np.ndarray,
    n_d: int,
    n_t: int,
) -> np.ndarray:
    """The Knox table (distance x time band) of the pairs with these dates; the far distance band is
    each time band's total less the enumerated near pairs."""
    near = np.zeros((n_d - 1, n_t), dtype=np.int64)
    if len(dband):
        tb = _band(np.abs(day_values_i - day_values_j), t_edges)
        near = np.bincount(dband * n_t + tb, minlength=(n_d - 1) * n_t).reshape(n_d - 1, n_t)
    return np.vstack([near, t_totals - near.sum(axis=0)])


def _knox_null_tables(
    days: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    dband: np.ndarray,
    t_totals: np.ndarray,
    t_edges: np.ndarray,
    n_d: int,
    n_t: int,
    permutations: int,
    seed: int | None,
) -> np.ndarray:
    """The null distribution: the Knox table under ``permutations`` random permutations of the dates
    across the locations, shape (permutations, distance bands, time bands), built in chunks."""
    rng = np.random.default_rng(seed)
    n = len(days)
    sims = np.empty((permutations, n_d, n_t), dtype=np.int64)
    m = len(dband)
    chunk = max(1, min(permutations, _MAX_CHUNK_ELEMENTS // max(m, 1)))
    offsets = np.arange(chunk, dtype=np.int64)[:, None] * ((n_d - 1) * n_t)
    for start in range(0, permutations, chunk):
        k = min(chunk, permutations - start)
        # One permutation per row, drawn in sequence so results do not depend on the chunk size.
        shuffled = np.empty((k, n), dtype=np.int64)
        for r in range(k):
            shuffled[r] = days[rng.permutation(n)]
        if m:
            tb = _band(np.abs(shuffled[:, i] - shuffled[:, j]), t_edges)
            flat = (offsets[:k] + dband[None, :] * n_t + tb).ravel()
            near = np.bincount(flat, minlength=k * (n_d - 1) * n_t).reshape(k, n_d - 1, n_t)
        else:
            near = np.zeros((k, n_d - 1, n_t), dtype=np.int64)
        sims[start : start + k, :-1, :] = near
        sims[start : start + k, -1, :] = t_totals[None, :] - near.sum(axis=1)
    return sims


def _near_region_test(
    observed: np.ndarray,
    sims: np.ndarray,
    d_edges: np.ndarray,
    t_edges: np.ndarray,
    near_distance_m: int,
    near_days: int,
    permutations: int,
) -> tuple[int, float, float, float]:
    """Pairs within the near region (observed), their mean under the permutations, the ratio of the
    two and the permutation p-value (r + 1) / (permutations + 1)."""
    di = int(np.searchsorted(d_edges, near_distance_m)) + 1
    ti = int(np.searchsorted(t_edges, near_days)) + 1
    near_obs = int(observed[:di, :ti].sum())
    near_sims = sims[:, :di, :ti].sum(axis=(1, 2))
    near_mean = float(near_sims.mean())
    near_ratio = near_obs / near_mean if near_mean > 0 else float("nan")
    near_p = float(((near_sims >= near_obs).sum() + 1) / (permutations + 1))
    return near_obs, near_mean, near_ratio, near_p


def _cell_inference(
    observed: np.ndarray, sims: np.ndarray, permutations: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cell: the mean under the permutations (expected), the Knox ratio observed / expected (NaN
    where expected is 0) and the one-sided permutation p-value (r + 1) / (permutations + 1)."""
    mean = sims.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(mean > 0, observed / mean, np.nan)
    p = ((sims >= observed[None]).sum(axis=0) + 1) / (permutations + 1)
    return mean, ratio, p


def _analytic_expected(
    dband: np.ndarray, t_totals: np.ndarray, n_pairs: int, n_d: int, n_t: int
) -> np.ndarray:
    """Expected counts with space and time independent: distance band total x time band total / pairs."""
    d_counts = np.bincount(dband, minlength=n_d).astype(float)
    d_counts[-1] = n_pairs - d_counts[:-1].sum()
    return np.outer(d_counts, t_totals) / n_pairs if n_pairs else np.zeros((n_d, n_t))


def _cell_tables(
    observed: np.ndarray,
    sims: np.ndarray,
    dband: np.ndarray,
    t_totals: np.ndarray,
    n_pairs: int,
    d_edges: np.ndarray,
    t_edges: np.ndarray,
    permutations: int,
) -> dict[str, pd.DataFrame]:
    """The per-cell tables of a :class:`KnoxResult` (observed, expected, expected_analytic, knox_ratio,
    p_value), labelled by distance and time band."""
    n_d, n_t = len(d_edges) + 1, len(t_edges) + 1
    mean, ratio, p = _cell_inference(observed, sims, permutations)
    analytic = _analytic_expected(dband, t_totals, n_pairs, n_d, n_t)
    d_labels = distance_band_labels(d_edges.tolist())
    t_labels = time_band_labels(t_edges.tolist())

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            a, index=pd.Index(d_labels, name="distance"), columns=pd.Index(t_labels, name="time")
        )

    return {
        "observed": frame(observed),
        "expected": frame(mean),
        "expected_analytic": frame(analytic),
        "knox_ratio": frame(ratio),
        "p_value": frame(p),
    }


def _band_note(metric: str) -> str:
    return (
        f"Distances are {metric} ({'|dx| + |dy|' if metric == 'manhattan' else 'straight-line'}) distances "
        "in metres, rounded to the nearest whole metre (halves up) before banding; time differences are "
        "whole calendar days between incident dates. Every band includes both of its bounds."
    )


def knox_test(
    incidents: pd.DataFrame,
    x: str = "x",
    y: str = "y",
    date: str = "date",
    distance_bands: Sequence[int] = DEFAULT_DISTANCE_BANDS,
    time_bands: Sequence[int] = DEFAULT_TIME_BANDS,
    permutations: int = 999,
    seed: int | None = 0,
    metric: str = "manhattan",
    near_distance_m: int = 100,
    near_days: int = 7,
    crime_label: str = "incident",
    crime_label_plural: str | None = None,
    alpha: float = 0.05,
) -> KnoxResult:
    """Knox test for near repeats with a permutation reference distribution.

    Parameters
    ----------
    incidents : one row per incident with projected coordinates in metres and a date.
    x, y, date : column names. Rows missing any of them are left out.
    distance_bands : inclusive upper edges in whole metres; a first edge of 0 makes a "same location"
        band; a final open band "more than <last> m" is added. Default (0, 100, 200, 300, 400).
    time_bands : inclusive upper edges in whole days; a final open band is added. Default (7, 14, 21, 28).
    permutations : number of random permutations of the dates across the locations (default 999).
    seed : seed of NumPy's default generator, so results can be reproduced.
    metric : ``manhattan`` (default) or ``euclidean``.
    near_distance_m, near_days : the "near" region for the summary and the incident labels; must be
        one of the distance / time edges (default 100 m and 7 days).
    crime_label, crime_label_plural : words for the summary ("burglary", "burglaries").
    alpha : level used for the wording of the summary.

    Returns
    -------
    KnoxResult, including ``labels`` from :func:`label_incidents` with the same near thresholds.
    """
    d_edges, t_edges = _knox_bands(
        metric, permutations, distance_bands, time_bands, near_distance_m, near_days
    )
    coords, days, _ = _prepare(incidents, x, y, date)
    n = len(days)
    n_pairs = n * (n - 1) // 2
    n_d, n_t = len(d_edges) + 1, len(t_edges) + 1

    i, j, dist = _pairs_within(coords, float(d_edges[-1]), metric)
    dband = _band(dist, d_edges)  # all < n_d - 1 (the far band is not enumerated)
    t_totals = _time_band_totals(days, t_edges)
    observed = _knox_table(days[i], days[j], dband, t_totals, t_edges, n_d, n_t)
    sims = _knox_null_tables(days, i, j, dband, t_totals, t_edges, n_d, n_t, permutations, seed)

    tables = _cell_tables(observed, sims, dband, t_totals, n_pairs, d_edges, t_edges, permutations)
    near = _near_region_test(observed, sims, d_edges, t_edges, near_distance_m, near_days, permutations)
    near_obs, near_mean, near_ratio, near_p = near
    plural = crime_label_plural or _plural(crime_label)
    summary = _summary(near_distance_m, near_days, *near, crime_label, plural, alpha, n)
    labels = label_incidents(
        incidents, x, y, date, near_distance_m=near_distance_m, near_days=near_days, metric=metric
    )
    return KnoxResult(
        **tables,
        simulated=sims,
        distance_bands=tuple(int(e) for e in d_edges),
        time_bands=tuple(int(e) for e in t_edges),
        metric=metric,
        permutations=permutations,
        seed=seed,
        n_incidents=n,
        n_pairs=n_pairs,
        near_distance_m=int(near_distance_m),
        near_days=int(near_days),
        near_observed=near_obs,
        near_expected=near_mean,
        near_ratio=near_ratio,
        near_p=near_p,
        summary=summary,
        band_note=_band_note(metric),
        labels=labels,
    )


def _plural(word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def _summary(
    dist: int,
    days: int,
    obs: int,
    mean: float,
    ratio: float,
    p: float,
    label: str,
    plural: str,
    alpha: float,
    n: int,
) -> str:
    article = "an" if label[:1].lower() in "aeiou" else "a"
    where = f"Within {dist} m and {days} day{'s' if days != 1 else ''} of {article} {label}"
    if n < 2 or not np.isfinite(ratio):
        return (
            f"{where}, no pairs of {plural} could be compared, so the near-repeat pattern cannot be tested."
        )
    if ratio >= 1.05:
        how = f"{ratio:.1f} times more frequent than"
    elif ratio <= 0.95:
        how = f"{ratio:.1f} times as frequent as"
    else:
        how = "about as frequent as"
    p_text = f"p = {p:.3f}"
    verdict = (
        "a near-repeat pattern unlikely to be chance"
        if p <= alpha and ratio > 1
        else "not enough to rule out chance"
    )
    return (
        f"{where}, further {plural} were {how} expected by chance ({p_text}; {obs} "
        f"pair{'' if obs == 1 else 's'} observed, {mean:.1f} expected): {verdict}."
    )


# ----------------------------------------------------------------------------------------------------
# Labels


def label_incidents(
    incidents: pd.DataFrame,
    x: str = "x",
    y: str = "y",
    date: str = "date",
    near_distance_m: float = 100,
    near_days: int = 7,
    metric: str = "manhattan",
) -> pd.Series:
    """Label each incident ``repeat``, ``near repeat``, ``originator`` or ``isolated``.

    Incidents are put in time order (date, then their order in the frame for the same date). With
    distances rounded to whole metres and day differences in whole days:

    * ``repeat``: an earlier incident at the same location (0 m) within ``near_days`` days;
    * ``near repeat``: not a repeat, and an earlier incident within 1 to ``near_distance_m`` m and
      ``near_days`` days;
    * ``originator``: neither, but at least one later incident is its repeat or near repeat;
    * ``isolated``: none of these.

    Returns
    -------
    Series of labels on the index of ``incidents`` (NA for rows without coordinates or a date).
    """
    coords, days, positions = _prepare(incidents, x, y, date)
    n = len(days)
    out = pd.Series(pd.NA, index=incidents.index, dtype=object)
    if n == 0:
        return out
    order = np.lexsort((np.arange(n), days))  # time order, ties by frame order
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    i, j, dist = _pairs_within(coords, float(near_distance_m), metric)
    close_in_time = np.abs(days[i] - days[j]) <= near_days
    i, j, dist = i[close_in_time], j[close_in_time], dist[close_in_time]
    # Orient each pair (earlier, later).
    earlier = np.where(rank[i] < rank[j], i, j)
    later = np.where(rank[i] < rank[j], j, i)
    repeat = np.zeros(n, dtype=bool)
    near = np.zeros(n, dtype=bool)
    origin = np.zeros(n, dtype=bool)
    repeat[later[dist == 0]] = True
    near[later[dist > 0]] = True
    origin[earlier] = True
    labels = np.full(n, "isolated", dtype=object)
    labels[origin] = "originator"
    labels[near] = "near repeat"
    labels[repeat] = "repeat"
    out.iloc[positions] = labels
    return out
