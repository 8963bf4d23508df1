"""Disclosure control: the one place small numbers are suppressed (NHS Digital's rule).

A count of 0 stays 0; 1 to 7 shows as `*`; 8 or more is rounded to the nearest 5. Percentages
are worked out from the rounded counts. A sum, mean or median of money or days is suppressed
when fewer than 8 people contribute. Intervals and model estimates are computed on the
unrounded data, but are withheld wherever the count they rest on is suppressed.
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
