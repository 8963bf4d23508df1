"""Disclosure control: the one place small numbers are suppressed (NHS Digital's rule).

A count of 0 stays 0; 1 to 7 shows as `*`; 8 or more is rounded to the nearest 5. Percentages
are worked out from the rounded counts. A sum, mean or median of money or days is suppressed
when fewer than 8 people contribute.

Rates and their intervals are worked out from the rounded counts too (`shown_count`): an interval
around an unrounded count can be turned back into that count, and intervals for overlapping
selections into a suppressed one. Model estimates (the rate-ratio regression) use the unrounded
person-level data. Anything resting on a suppressed count is withheld.
"""

from __future__ import annotations

import math
from typing import Any

SUPPRESSED = "*"
THRESHOLD = 8  # the smallest count that may be shown
ROUND_TO = 5
NOTE = (
    "Disclosure control: counts of 1 to 7 are shown as *, other counts are rounded to the nearest 5, "
    "percentages use the rounded counts, and money or day totals from fewer than 8 people are withheld."
)

Shown = int | float | str | None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(n: Any) -> int | str | None:
    """A count as it may be shown: 0, `*` for 1 to 7, or rounded to the nearest 5."""
    if _missing(n):
        return None
    value = int(n)
    if value != n or value < 0:
        raise ValueError(f"a count must be a whole number of 0 or more, not {n!r}")
    if value == 0:
        return 0
    if value < THRESHOLD:
        return SUPPRESSED
    return ROUND_TO * math.floor(value / ROUND_TO + 0.5)


def shown_count(n: Any) -> int | None:
    """The count as shown, for working out a rate or interval from it; None where it is suppressed."""
    value = count(n)
    return None if value in (SUPPRESSED, None) else value


def is_suppressed(value: Any) -> bool:
    """True for a suppressed figure."""
    return value == SUPPRESSED


def percent(numerator: Any, denominator: Any, places: int = 1) -> float | str | None:
    """A percentage of two raw counts, worked out from their rounded values."""
    top, bottom = count(numerator), count(denominator)
    if SUPPRESSED in (top, bottom):
        return SUPPRESSED
    if not bottom:
        return None
    return round(100 * top / bottom, places)


def by_people(value: Any, people: Any) -> float | str | None:
    """A sum, mean or median of money or days, withheld when fewer than 8 people contribute."""
    if _missing(value) or _missing(people) or int(people) == 0:
        return None
    if int(people) < THRESHOLD:
        return SUPPRESSED
    return float(value)


def interval(ci: tuple[float, float] | None, n: Any, scale: float = 1.0, places: int = 1):
    """An interval as it may be shown: withheld where the count it rests on is suppressed."""
    if ci is None or _missing(n) or count(n) == SUPPRESSED:
        return SUPPRESSED if not _missing(n) and count(n) == SUPPRESSED else None
    low, high = ci
    return [round(low * scale, places), round(high * scale, places)]


def numeric(value: Any) -> float:
    """A shown figure as a number for a chart: NaN where it is suppressed or missing."""
    if _missing(value) or value == SUPPRESSED:
        return math.nan
    return float(value)


def complementary(shown: list, values: list, people: list) -> list:
    """Secondary suppression for parts of a total that is shown: where any part is withheld, withhold
    further parts, smallest first, until at least two are withheld and together they rest on at least
    8 people, so no withheld part can be worked out by subtracting the others from the total.

    `shown` are the parts after the primary rule, `values` their unrounded values (to pick the
    smallest) and `people` how many people each part rests on. Where parts can share people (a
    person who buys in two categories) the people are counted once per part, so the check is
    generous there; parts that are sites never share people.
    """
    out = list(shown)
    withheld = [i for i, v in enumerate(out) if v == SUPPRESSED]
    if not withheld:
        return out
    candidates = sorted((i for i, v in enumerate(out) if v not in (SUPPRESSED, None)), key=lambda i: abs(values[i]))
    while candidates and (len(withheld) < 2 or sum(int(people[i]) for i in withheld) < THRESHOLD):
        i = candidates.pop(0)
        out[i] = SUPPRESSED
        withheld.append(i)
    return out


def complementary_grid(shown: dict, values: dict, people: dict) -> dict:
    """Complementary suppression in two directions, for a grid of parts (keyed (row, column)) whose
    row totals and column totals are both shown: applied along every row and every column until
    nothing more changes."""
    out = dict(shown)
    rows = sorted({r for r, _ in out}, key=str)
    cols = sorted({c for _, c in out}, key=str)
    changed = True
    while changed:
        changed = False
        for line in [[(r, c) for c in cols if (r, c) in out] for r in rows] + [
            [(r, c) for r in rows if (r, c) in out] for c in cols
        ]:
            before = [out[k] for k in line]
            after = complementary(before, [values[k] for k in line], [people[k] for k in line])
            if after != before:
                changed = True
                out.update(dict(zip(line, after)))
    return out


# =============================================================================================
# Money, days and quantiles (issue 10): threshold, dominance, consistent perturbation, rounding
#
# A money or day total is withheld when fewer than 8 people contribute to it, or when the two
# largest contributions are more than 90% of it (the N-K dominance rule with N = 2, K = 90%: the
# defaults of SACRO's output checker acro, `SAFE_NK_N = 2`, `SAFE_NK_K = 0.9` in AI-SDC/ACRO
# acro/acro_tables.py). Otherwise it is shown as total + m * (largest contribution), m looked up by
# the cell's key in the published magnitude table (`phb.mtable`, |m| from 0.1 to 0.4, either sign),
# then rounded to 3 significant figures, never finer than GBP 100 (days: never finer than 5). The
# same people give the same key, so the same cell shows the same figure however it is reached, and
# the difference of two totals that differ by one person carries the noise of both.
# Medians and quartiles are the mean of the 5 per-person values nearest the quantile's rank
# (worked out in the query), rounded to GBP 10 (days: whole days) and shown from 8 people.

NK_N = 2  # the dominance rule's N: the largest contributions looked at
NK_K = 0.9  # its K: the share of the total they may not exceed
MONEY_UNIT = 100  # the finest a money total is shown to (GBP)
DAYS_UNIT = 5  # the finest a total of days is shown to
SIGNIFICANT = 3  # significant figures for money and day totals
QUANTILE_NEIGHBOURS = 5  # a median or quartile is the mean of this many per-person values
MONEY_QUANTILE_UNIT = 10  # a money median or quartile is shown to the nearest GBP 10
DAYS_QUANTILE_UNIT = 1  # a median or quartile of days to the nearest whole day
FEWER_OR_DOMINATED = "withheld (fewer than 8 people, or one or two people make up most of it)"
MONEY_NOTE = (
    "Money and bed days: withheld where fewer than 8 people contribute or the two largest "
    "contributions are more than 90% of the total; otherwise moved by a published random fraction "
    "of the largest contribution and rounded to 3 significant figures (money never finer than "
    "£100, days never finer than 5). Medians and quartiles are the average of the 5 people nearest "
    "that point, rounded to £10 or a whole day."
)


def _round_half_up(value: float, unit: float) -> float:
    """value to the nearest multiple of unit, a half away from zero."""
    sign = -1.0 if value < 0 else 1.0
    return sign * math.floor(abs(value) / unit + 0.5) * unit


def significant(value: float, figures: int = SIGNIFICANT, finest: float = MONEY_UNIT) -> float:
    """value rounded to `figures` significant figures, but never to a finer unit than `finest`."""
    if value == 0:
        return 0.0
    unit = 10.0 ** (math.floor(math.log10(abs(value))) - (figures - 1))
    unit = max(unit, finest)
    return float(_round_half_up(value, unit))


def dominated(total: Any, top1: Any, top2: Any) -> bool:
    """True when the two largest contributions are more than 90% of the total (N-K rule, N=2, K=90%).

    Contributions are taken as sizes (top1, top2 are absolute values). The share is judged against
    |total|, which is never more than the sum of the absolute contributions, so a cell with refunds
    netted in is withheld at least as often as acro's rule would withhold it.
    """
    top = float(0 if _missing(top1) else top1) + float(0 if _missing(top2) else top2)
    if top == 0:
        return False
    return top > NK_K * abs(float(total))


def _magnitude(total: Any, people: Any, top1: Any, top2: Any, mkey: Any, finest: float) -> float | str | None:
    if _missing(total) or _missing(people) or int(people) == 0:
        return None
    if int(people) < THRESHOLD or dominated(total, top1, top2):
        return SUPPRESSED
    from phb import mtable  # the published table

    biggest = float(0 if _missing(top1) else top1)
    moved = float(total) + mtable.m(0 if _missing(mkey) else mkey) * biggest
    return significant(moved, SIGNIFICANT, finest)


def money(total: Any, people: Any, top1: Any, top2: Any, mkey: Any) -> float | str | None:
    """A money total as it may be shown: `*` from fewer than 8 people or where two people make up
    more than 90% of it; otherwise total + m(mkey) * top1, rounded to 3 significant figures and never
    finer than GBP 100. None where nobody contributes (or the total is missing)."""
    return _magnitude(total, people, top1, top2, mkey, MONEY_UNIT)


def days(total: Any, people: Any, top1: Any, top2: Any, mkey: Any) -> float | str | None:
    """A total of days (bed days) as it may be shown: the same rule as `money`, never finer than 5 days."""
    return _magnitude(total, people, top1, top2, mkey, DAYS_UNIT)


def quantile_shown(neighbour_mean: Any, people: Any, unit: float = MONEY_QUANTILE_UNIT) -> float | str | None:
    """A median or quartile as it may be shown: the mean of the 5 per-person values nearest its rank
    (from the query), rounded to `unit` (GBP 10; pass DAYS_QUANTILE_UNIT for days); `*` from fewer
    than 8 people; None where there is nobody or no value."""
    if _missing(neighbour_mean) or _missing(people) or int(people) == 0:
        return None
    if int(people) < THRESHOLD:
        return SUPPRESSED
    return float(_round_half_up(float(neighbour_mean), unit))


def magnitude_cell(
    row: Any, value: str, top: str = "top", people: str = "people", mkey: str = "mkey", kind: str = "money"
) -> float | str | None:
    """`money` (or `days`, kind="days") for a result row: the total in column `value`, its two
    largest contributions in `{top}1` and `{top}2`, its contributors in `people` and cell key in `mkey`."""
    rule = days if kind == "days" else money
    return rule(row[value], row[people], row[f"{top}1"], row[f"{top}2"], row[mkey])
