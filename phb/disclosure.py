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
