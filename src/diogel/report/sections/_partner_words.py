"""The partner section's sentences that the gatherer and the analysis modules write in English.

Disclosure footnotes, near-repeat readings, Knox bands and the Cardiff Model headline come from
:mod:`diogel.gather.partner`, :mod:`diogel.gather.cardiff` and :mod:`diogel.analysis.near_repeat` as
English sentences. In English the report prints them as given; in another language each is phrased
here from the result's fields (threshold, distances, ratios), so the words can be translated and the
numbers stay those of the result.
"""

from __future__ import annotations

import math
import re

from diogel.analysis.cardiff import CardiffView
from diogel.gather.partner import PartnerHotspots, PartnerNearRepeats, PartnerSummary
from diogel.report.i18n import T, Term, Text, current, here

__all__ = [
    "band",
    "band_note",
    "direction",
    "near_summary",
    "notes",
    "rule_hotspots",
    "rule_near",
    "rule_summary",
    "rule_violence",
    "statement",
    "value",
]

#: Values of the partner tables shown in the report language (a value not listed is shown as is).
VALUES = {
    str(t): t
    for t in (
        T("originator"), T("repeat"), T("near repeat"), T("isolated"),
        T("Pub, bar or club"), T("Street or other public place"), T("Home"), T("Workplace"), T("School or college"),
        T("Park or open space"), T("Public transport"), T("Other"), T("Not known"),
        T("up"), T("down"), T("no significant change"), T("not published (small counts)"),
        T("Monday"), T("Tuesday"), T("Wednesday"), T("Thursday"), T("Friday"), T("Saturday"), T("Sunday"),
    )
}  # fmt: skip
#: Days of the week as the heat maps' axis shows them.
DAY_SHORT = {"Monday": T("Mon"), "Tuesday": T("Tue"), "Wednesday": T("Wed"), "Thursday": T("Thu"),
             "Friday": T("Fri"), "Saturday": T("Sat"), "Sunday": T("Sun")}  # fmt: skip


def _words(english: str, text: Text) -> str:
    """The gatherer's ``english`` in an English report; ``text`` (the same facts) in any other."""
    return english if current() == "en" else text.here()


def value(v: object) -> str:
    """A category of a partner table (location type, near-repeat label, day, trend) in the report language."""
    if v is None:
        return ""
    return here(VALUES[v]) if v in VALUES else str(v)


def direction(v: str) -> str:
    return value(v)


def rule_summary(s: PartnerSummary) -> str:
    return _words(s.rule, T(
        "Counts from 1 to {last} are hidden (primary suppression); zeros are shown. Further counts are hidden "
        "wherever a hidden count could otherwise be worked out from the totals published beside it (secondary "
        "suppression).", last=s.threshold - 1))  # fmt: skip


def rule_hotspots(h: PartnerHotspots) -> str:
    return _words(h.rule, T(
        "Counts from 1 to {last} are hidden (primary suppression); zeros are shown. Further counts are hidden "
        "wherever a hidden count could otherwise be worked out from the area total (secondary suppression). "
        "Rates built on a hidden count are hidden. Hot and cold spot classes come from the exact counts inside "
        "the warehouse and reveal no count.", last=h.threshold - 1))  # fmt: skip


def rule_near(nr: PartnerNearRepeats) -> str:
    return _words(nr.rule, T(
        "Incident counts from 1 to {last} are hidden, and a further count wherever a hidden one could be worked "
        "out from the total; pairs are counted in the summary only when there are at least {k} of them, and not "
        "at all in the table of bands.", last=nr.threshold - 1, k=nr.threshold))  # fmt: skip


def rule_violence(view: CardiffView, threshold: int) -> str:
    return _words(view.rule, T(
        "Emergency department counts from 1 to {last} are hidden, and further counts wherever a hidden count "
        "could be worked out from published totals; shares and rates built on a hidden count are hidden too. "
        "Police-recorded figures are published by police.uk and are shown in full.", last=threshold - 1))  # fmt: skip


def notes(s: PartnerSummary, title: str) -> list[str]:
    """The summary's notes (records without an LSOA, quarterly dating) in the report language; the
    dataset is named by its ``title`` in another language (the English names it by its key)."""
    out = []
    for note in s.notes:
        if note == f"{s.dataset} records without an LSOA are not in any area and are left out.":
            note = _words(note, T("{dataset} records without an LSOA are not in any area and are left out.",
                                  dataset=Term(title)))  # fmt: skip
        elif note.startswith(f"{s.dataset} is dated by quarter"):
            note = _words(note, T("{dataset} is dated by quarter: each quarter's count is in its first month, and "
                                  "the other two months show zero.", dataset=Term(title)))  # fmt: skip
        out.append(note)
    return out


def band_note(nr: PartnerNearRepeats) -> str:
    return _words(nr.band_note, T(
        "Distances are manhattan (|dx| + |dy|) distances in metres, rounded to the nearest whole metre (halves "
        "up) before banding; time differences are whole calendar days between incident dates. Every band "
        "includes both of its bounds."))  # fmt: skip


_BAND = re.compile(r"^(?:(\d+) to (\d+)|more than (\d+)|(\d+)) (m|days?)( \(same location\))?$")


def band(v: object) -> str:
    """A Knox distance or time band ("1 to 100 m", "more than 28 days", "0 m (same location)")."""
    m = _BAND.match(str(v)) if v is not None else None
    if m is None or current() == "en":
        return "" if v is None else str(v)
    lo, hi, more, one, unit, same = m.groups()
    unit = "m" if unit == "m" else here(T("days"))
    if more:
        return T("more than {n} {unit}", n=more, unit=unit).here()
    text = T("{lo} to {hi} {unit}", lo=lo, hi=hi, unit=unit).here() if lo else f"{one} {unit}"
    return text + (" " + here(T("(same location)")) if same else "")


_PAIRS = re.compile(r"; (\d[\d,]*) pairs? observed, ([\d.]+) expected\)")


def near_summary(nr: PartnerNearRepeats, alpha: float = 0.05) -> str:
    """The Knox test's reading of the near cell (the analysis's words in English)."""
    if current() == "en":
        return nr.summary
    values = {"m": nr.near_distance_m, "days": nr.near_days, "ratio": f"{nr.near_ratio:.1f}"}
    if not math.isfinite(nr.near_ratio):
        return T("Within {m} m and {days} days of an incident, no pairs of incidents could be compared, so the "
                 "near-repeat pattern cannot be tested.", **values).here()  # fmt: skip
    pairs = _PAIRS.search(nr.summary)
    if pairs is None:
        return T("Within {m} m and {days} days of an incident, further incidents were {ratio} times as frequent as "
                 "expected by chance (p = {p}); the number of pairs is too small to publish.",
                 **values, p=f"{nr.near_p:.3g}").here()  # fmt: skip
    if nr.near_ratio >= 1.05:
        how = T("{ratio} times more frequent than", ratio=values["ratio"])
    elif nr.near_ratio <= 0.95:
        how = T("{ratio} times as frequent as", ratio=values["ratio"])
    else:
        how = T("about as frequent as")
    verdict = (
        T("a near-repeat pattern unlikely to be chance")
        if nr.near_p <= alpha and nr.near_ratio > 1
        else T("not enough to rule out chance")
    )
    return T("Within {m} m and {days} days of an incident, further incidents were {how} expected by chance "
             "(p = {p}; {obs} pairs observed, {mean} expected): {verdict}.", **values, how=how,
             p=f"{nr.near_p:.3f}", obs=pairs.group(1), mean=pairs.group(2), verdict=verdict).here()  # fmt: skip


def statement(view: CardiffView, threshold: int) -> str:
    """The lower-bound headline of a view without the patients' answers (the analysis's words in English)."""
    if current() == "en":
        return view.statement
    if view.denominator == 0:
        return T("The ED data do not say whether assaults were reported to the police and no ED assault has a "
                 "known LSOA, so the share not reported to the police cannot be estimated.").here()  # fmt: skip
    small = math.isnan(view.share_not_reported) if view.share_not_reported is not None else True
    bound = (
        T("too few to publish")
        if small or view.numerator is None
        else f"{view.share_not_reported:.0%} ({view.numerator:,})"
    )
    den = (
        T("fewer than {k}", k=threshold)
        if view.denominator is None or 0 < view.denominator < threshold
        else f"{view.denominator:,}"
    )
    return T("The ED data do not say whether assaults were reported to the police, so only a lower bound is "
             "possible: of {den} ED assault attendances with a known LSOA, at least {bound} cannot be among "
             "police-recorded violence and sexual offences in the same LSOA and month, assuming every assault "
             "reported to the police is recorded there. The true share is usually much higher; no share by "
             "location type or hour can be estimated from police.uk data.", den=den, bound=bound).here()  # fmt: skip
