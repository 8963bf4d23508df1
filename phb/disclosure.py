"""Disclosure control: the one place the rules, their parameters and their words live.

Counts of people or admissions use cell key perturbation (the Office for National Statistics'
method for its flexible census table builder) with a threshold and rounding: every record has a
secret-keyed record key 0-255, a cell's key is the sum of its records' keys mod 256, and the
published perturbation table (phb/ptable.csv) gives the noise for each count and cell key. A count
of 0 stays 0, 1 to 7 shows as `*`, and 8 or more shows as a multiple of 5 of at least 10, perturbed
by up to 2 before rounding. The same records always give the same cell key and so the same shown
count, however the cell is reached; two cells a few people apart cannot be subtracted to find them.

Percentages, rates, ratios and intervals are worked out from shown counts only, and published to
set precision (`PLACES`). A sum, mean or median of money or days is withheld when fewer than 8
people contribute. Anything resting on a withheld count is withheld.
"""

from __future__ import annotations

import csv
import math
from functools import cache
from typing import Any

from phb import ptable

SUPPRESSED = "*"
THRESHOLD = ptable.THRESHOLD  # the smallest count that may be shown
ROUND_TO = ptable.BASE
MINIMUM = ptable.MINIMUM
FEWER = f"fewer than {THRESHOLD}"
# Decimal places each kind of derived figure is published to.
PLACES = {"pct": 0, "uptake": 1, "rate": 2, "ratio": 2, "change": 0}
METHOD = (
    "Disclosure control: counts use cell key perturbation (the ONS method): each count of 8 or more is moved by "
    f"up to 2 (probabilities 0.1, 0.2, 0.4, 0.2, 0.1; a secret key and a published table, seed {ptable.SEED}), "
    f"then rounded to a multiple of {ROUND_TO} of at least {MINIMUM}; counts of 1 to 7 are shown as *. The same people "
    "always give the same figure. Periods are whole months. Percentages (whole numbers; uptake to 1 decimal place), "
    "rates and ratios (2 decimal places) are worked out from the counts as shown. Money or day totals from "
    f"{FEWER} people are withheld."
)
NOTE = METHOD

Shown = int | float | str | None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@cache
def _ptable() -> tuple[tuple[int, ...], ...]:
    """The committed perturbation table as pvalue[pcv][ckey] (pcv 0 is all zeros)."""
    table = [[0] * (ptable.MAX_CKEY + 1) for _ in range(ptable.MAX_PCV + 1)]
    with ptable.PATH.open(newline="") as fh:
        for row in csv.DictReader(fh):
            table[int(row["pcv"])][int(row["ckey"])] = int(row["pvalue"])
    return tuple(tuple(r) for r in table)


def pcv(n: int) -> int:
    """The row of the perturbation table for a count: itself up to 750, then 501-750 over again (as
    the ONS package does)."""
    return n if n <= ptable.MAX_PCV else ((n - 1) % 250) + 501


def _whole(n: Any, what: str) -> int:
    value = int(n)
    if value != n or value < 0:
        raise ValueError(f"{what} must be a whole number of 0 or more, not {n!r}")
    return value


def count(n: Any, ckey: Any) -> int | str | None:
    """A count as it may be shown: 0, `*` for 1 to 7, or perturbed by the cell key `ckey` (the sum of
    the counted records' keys mod 256) and rounded: always a multiple of 5, at least 10."""
    if _missing(n):
        return None
    value = _whole(n, "a count")
    if value == 0:
        return 0
    if value < THRESHOLD:
        return SUPPRESSED
    if _missing(ckey):
        raise ValueError("a count of people or admissions needs its cell key")
    key = int(ckey)
    if key != ckey:
        raise ValueError(f"a cell key must be a whole number, not {ckey!r}")
    key %= ptable.MAX_CKEY + 1  # keys add up mod 256, so a difference of keys is a key too
    return value + _ptable()[pcv(value)][key]


def cell_key(*keys: Any) -> int:
    """The cell key of the union of disjoint cells, from their cell keys (or record keys)."""
    return int(sum(int(k) for k in keys if not _missing(k))) % (ptable.MAX_CKEY + 1)


def total(frame, column: str) -> int | str | None:
    """The count as shown for all of `frame`'s rows together (disjoint records), from the rows'
    counts in `column` and their cell keys in `<column>_ckey`."""
    if frame is None or len(frame) == 0:
        return 0
    return count(int(frame[column].sum()), cell_key(*frame[f"{column}_ckey"]))


def counts(frame, column: str) -> list:
    """Each row's count in `column` as shown, with its cell key from `<column>_ckey`."""
    return [count(int(n), k) for n, k in zip(frame[column], frame[f"{column}_ckey"])]


def words(value: Shown) -> str:
    """A shown count in words for a label or tooltip: `fewer than 8` for a withheld one."""
    if value == SUPPRESSED:
        return FEWER
    if _missing(value):
        return ""
    return f"{int(value):,}"


def reference(n: Any) -> int | str | None:
    """A site's own planning figure (eligible population, planned budgets): not a count of records,
    so not perturbed; 1 to 7 shown as `*` and the rest rounded to the nearest 5, as before."""
    if _missing(n):
        return None
    value = _whole(n, "a planning figure")
    if 0 < value < THRESHOLD:
        return SUPPRESSED
    return ROUND_TO * math.floor(value / ROUND_TO + 0.5)


def usable(*values: Any) -> bool:
    """True when every value is a shown number (not withheld, not missing) and the last is above 0."""
    return all(not _missing(v) and v != SUPPRESSED for v in values) and bool(values[-1])


def shown_count(n: Any, ckey: Any) -> int | None:
    """The count as shown, for working out a rate or interval from it; None where it is withheld."""
    value = count(n, ckey)
    return None if value in (SUPPRESSED, None) else value


def is_suppressed(value: Any) -> bool:
    """True for a suppressed figure."""
    return value == SUPPRESSED


def percent(top: Shown, bottom: Shown, kind: str = "pct") -> float | str | None:
    """A percentage of two counts as shown (from `count`), to the precision for `kind`."""
    if SUPPRESSED in (top, bottom):
        return SUPPRESSED
    if _missing(top) or not bottom or _missing(bottom):
        return None
    return round(100 * float(top) / float(bottom), PLACES[kind])


def by_people(value: Any, people: Any) -> float | str | None:
    """A sum, mean or median of money or days, withheld when fewer than 8 people contribute."""
    if _missing(value) or _missing(people) or int(people) == 0:
        return None
    if int(people) < THRESHOLD:
        return SUPPRESSED
    return float(value)


def interval(ci: tuple[float, float] | None, shown: Shown, scale: float = 1.0, kind: str = "pct"):
    """An interval as it may be shown: withheld where the count it rests on (as shown) is withheld."""
    if shown == SUPPRESSED:
        return SUPPRESSED
    if ci is None or _missing(shown):
        return None
    low, high = ci
    return [round(low * scale, PLACES[kind]), round(high * scale, PLACES[kind])]


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
