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
COUNTS_METHOD = (
    "Disclosure control: counts use cell key perturbation (the ONS method): each count of 8 or more is moved by "
    f"up to 2 (probabilities 0.1, 0.2, 0.4, 0.2, 0.1; a secret key and a published table, seed {ptable.SEED}), "
    f"then rounded to a multiple of {ROUND_TO} of at least {MINIMUM}; counts of 1 to 7 are shown as *. The same people "
    "always give the same figure. Periods are whole months. Percentages (whole numbers; uptake to 1 decimal place), "
    "rates and ratios (2 decimal places) are worked out from the counts as shown."
)  # the money and days sentence (MONEY_NOTE) is added below, where its rules are

Shown = int | float | str | None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@cache
def _ptable() -> tuple[tuple[int, ...], ...]:
    """The committed perturbation table as pvalue[pcv][ckey] (pcv 0 is all zeros)."""
    import numpy as np

    # numpy reads the 192,000 rows in a tenth of the time of csv.DictReader (1.5 s at first use, per process)
    with ptable.PATH.open(newline="") as fh:
        if fh.readline().strip().split(",") != ["pcv", "ckey", "pvalue"]:
            raise ValueError(f"{ptable.PATH.name}: the columns must be pcv, ckey, pvalue")
        try:
            rows = np.loadtxt(fh, delimiter=",", dtype=np.int64, ndmin=2, comments=None)
        except ValueError as err:
            raise ValueError(f"{ptable.PATH.name}: every row must be three whole numbers ({err})") from None
    if rows.shape != (ptable.MAX_PCV * (ptable.MAX_CKEY + 1), 3):
        raise ValueError(
            f"{ptable.PATH.name}: expected a row for each count row and cell key, found {len(rows):,} rows"
        )
    table = np.zeros((ptable.MAX_PCV + 1, ptable.MAX_CKEY + 1), dtype=np.int64)
    table[rows[:, 0], rows[:, 1]] = rows[:, 2]
    return tuple(tuple(int(v) for v in r) for r in table)


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


def record_keys(keys: Any):
    """A column of record keys (a Series, array or list) as whole numbers (numpy int64), a missing key as 0 so
    that it adds nothing to a cell key."""
    import numpy as np
    import pandas as pd

    if isinstance(keys, np.ndarray) and keys.dtype.kind in "iu":  # whole numbers already: nothing missing
        return keys.astype(np.int64, copy=False)
    return pd.to_numeric(pd.Series(keys).astype(object)).fillna(0).to_numpy(dtype=np.int64)


def cell_key_of(keys: Any) -> int:
    """`cell_key` of a whole column of keys (a Series, array or list; missing keys left out) at once, for
    columns of a million rows."""
    return int(record_keys(keys).sum()) % (ptable.MAX_CKEY + 1)


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


# ---------------------------------------------------------------------------------------------
# The one gate: every chart, table, CSV export and fact leaves through `publish`

PUBLISHED = "phb_published"
KINDS_ATTR = "phb_kinds"  # each published column's kind, for tables that write numbers as text
# Magnitudes as they may be shown, checked by publish: (the finest unit, whether at most 3 significant figures).
# Money and day totals come from `money` / `days`, medians and quartiles from `quantile_shown`, planning
# figures from `reference`. (The units are defined further down; the table is filled in below them.)
MAGNITUDES: dict[str, tuple[float, bool]] = {}
KINDS = ("label", "count", "figure", *PLACES, "money", "days", "money_quantile", "days_quantile", "reference")


class UnpublishedError(ValueError):
    """A chart or table whose data did not come through `publish`."""


def publish(frame, columns: dict[str, str]):
    """The figures that may leave the app: only the declared `columns` (name -> kind), each to its
    kind's precision, marked as published. Kinds: `label` (a name, date or words), `count` (a count
    as shown by `count`: 0, `*`, blank or a multiple of 5 of at least 10, checked here), `figure`
    (a value already disclosure-controlled, such as a funnel position), the derived kinds of PLACES
    (pct, uptake, rate, ratio, change), rounded here, and the magnitudes of MAGNITUDES (money, days,
    money_quantile, days_quantile, reference), each checked here to be no finer than its rule allows
    (a number, or as a table shows it: £12,400, 1,235, `*`, a dash)."""
    import pandas as pd

    unknown = {k for k in columns.values() if k not in KINDS}
    if unknown:
        raise ValueError(f"unknown kinds of figure: {sorted(unknown)}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"columns declared but not in the frame: {missing}")
    out = pd.DataFrame(frame[list(columns)]).copy()
    for column, kind in columns.items():
        if kind in PLACES:
            out[column] = [
                v if _missing(v) or isinstance(v, str) else round(float(v), PLACES[kind]) for v in out[column]
            ]
        elif kind == "count":
            bad = [v for v in out[column] if not _shown_count(v)]
            if bad:
                raise UnpublishedError(f"{column} holds counts that were not shown through count(): {bad[:3]}")
        elif kind in MAGNITUDES:
            bad = [v for v in out[column] if not shown_magnitude(v, kind)]
            if bad:
                raise UnpublishedError(f"{column} holds {kind} figures finer than the rule allows: {bad[:3]}")
    out.attrs[PUBLISHED] = True
    out.attrs[KINDS_ATTR] = dict(columns)
    return out


def _shown_count(value: Any) -> bool:
    if _missing(value) or value == SUPPRESSED:
        return True
    if isinstance(value, str):
        # a count as a table shows it (formatting.count): 1,235, or a dash for none
        if value in ("–", FEWER):
            return True
        if not value.replace(",", "").isdigit():
            return False
        value = value.replace(",", "")
    number = float(value)
    return number == 0 or (number % ROUND_TO == 0 and number >= MINIMUM)


def is_published(data: Any) -> bool:
    """True for a frame (or a pandas Styler of one) that came through `publish`."""
    frame = getattr(data, "data", data) if type(data).__name__ == "Styler" else data
    return bool(getattr(frame, "attrs", {}).get(PUBLISHED))


def chart_frames(chart: Any) -> list:
    """Every data set of a chart, walking its layers, concatenations, facets and repeats."""
    import altair as alt

    found = []
    data = getattr(chart, "data", alt.Undefined)
    if data is not alt.Undefined and data is not None:
        found.append(data)
    for attr in ("layer", "hconcat", "vconcat", "concat"):
        parts = getattr(chart, attr, alt.Undefined)
        if isinstance(parts, list):
            for part in parts:
                found += chart_frames(part)
    spec = getattr(chart, "spec", alt.Undefined)
    if spec is not alt.Undefined and spec is not None:
        found += chart_frames(spec)
    return found


def check_chart(chart: Any) -> None:
    """Refuse a chart with any data set that did not come through `publish`. A sequence generator
    (numbers along an axis, made in the browser: funnel limit lines) carries no figures and passes."""
    import altair as alt

    frames = [f for f in chart_frames(chart) if not isinstance(f, alt.SequenceGenerator)]
    if not frames or not all(is_published(f) for f in frames):
        raise UnpublishedError("a chart's data did not come through disclosure.publish")


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
WHY_MONEY_WITHHELD = f"{FEWER} people, or one or two people make up most of it"
FEWER_OR_DOMINATED = f"withheld ({WHY_MONEY_WITHHELD})"
MONEY_NOTE = (
    f"Money and bed days: withheld where {FEWER} people contribute or the {NK_N} largest "
    f"contributions are more than {NK_K:.0%} of the total; otherwise moved by a published random fraction "
    f"of the largest contribution and rounded to {SIGNIFICANT} significant figures (money never finer than "
    f"£{MONEY_UNIT}, days never finer than {DAYS_UNIT}). Medians and quartiles are the average of the "
    f"{QUANTILE_NEIGHBOURS} people nearest that point, rounded to £{MONEY_QUANTILE_UNIT} or a whole day."
)
# What every page footer and every export states: the whole method and its parameters.
METHOD = f"{COUNTS_METHOD} {MONEY_NOTE}"
NOTE = METHOD


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


MAGNITUDES.update(
    {
        "money": (MONEY_UNIT, True),
        "days": (DAYS_UNIT, True),
        "money_quantile": (MONEY_QUANTILE_UNIT, False),
        "days_quantile": (DAYS_QUANTILE_UNIT, False),
        "reference": (ROUND_TO, False),
    }
)


def shown_magnitude(value: Any, kind: str) -> bool:
    """True when `value` is a `kind` figure (of MAGNITUDES) as its rule shows it: missing, withheld, or
    a number (or its text, such as £12,400 or £1.2m) on the rule's grid."""
    unit, three_figures = MAGNITUDES[kind]
    if isinstance(value, str):
        if value in (SUPPRESSED, FEWER, "–", ""):
            return True
        text = value.replace(",", "").replace("£", "").strip()
        if text.startswith("withheld"):
            return True
        from decimal import Decimal, InvalidOperation

        scale = 1_000_000 if text.endswith("m") else 1
        try:
            value = float(Decimal(text.rstrip("m")) * scale)  # exact: "4.1m" is 4,100,000
        except InvalidOperation:
            return False
    import pandas as pd

    if value is None or value is pd.NA:
        return True
    number = abs(float(value))
    if math.isnan(number):
        return True  # a blank (nothing to show), however the frame holds it
    on_grid = math.isclose(number / unit, round(number / unit), abs_tol=1e-9)
    return on_grid and (not three_figures or number == 0 or significant(number, SIGNIFICANT, unit) == number)


def publish_facts(tree: Any, kinds: dict[str, str], path: str = "") -> Any:
    """The headline figures (`python -m phb facts`, facts.json in a pack) through the same gate as
    every chart and table: each figure's key must have a declared kind (`kinds`, key -> kind of
    KINDS; a key not declared is refused, so a new figure must be declared), counts must be as
    `count` shows them, magnitudes on their rule's grid, and derived figures are rounded to PLACES.
    Intervals (lists of two) are checked figure by figure. Returns a new tree."""
    if isinstance(tree, dict):
        return {k: publish_facts(v, kinds, f"{path}.{k}" if path else str(k)) for k, v in tree.items()}
    key = path.rsplit(".", 1)[-1]
    if key not in kinds:
        raise UnpublishedError(f"facts figure {path} has no declared kind")
    kind = kinds[key]
    if isinstance(tree, list | tuple):
        return [publish_facts(v, kinds, path) for v in tree]
    if kind in PLACES:
        return tree if _missing(tree) or isinstance(tree, str) else round(float(tree), PLACES[kind])
    if kind == "count" and not _shown_count(tree):
        raise UnpublishedError(f"facts figure {path} is a count not shown through count(): {tree!r}")
    if kind in MAGNITUDES and not shown_magnitude(tree, kind):
        raise UnpublishedError(f"facts figure {path} is finer than the {kind} rule allows: {tree!r}")
    if kind == "label" and not (tree is None or isinstance(tree, str | bool)):
        raise UnpublishedError(f"facts figure {path} is declared a label but holds a number: {tree!r}")
    return tree


# Money figures worked out from shown totals (value for money: a net cost per budget holder per year and its
# interval, a break-even bed-day cost): rounded to 3 significant figures, never finer than GBP 10.
DERIVED_MONEY_UNIT = 10


def derived_money(value: Any) -> float | None:
    """A money figure worked out from shown totals (a net cost per person-year, its interval, a break-even
    cost), as it may be shown: 3 significant figures, never finer than GBP 10. None for a missing value."""
    if _missing(value):
        return None
    return significant(float(value), SIGNIFICANT, DERIVED_MONEY_UNIT)


MAGNITUDES["derived_money"] = (DERIVED_MONEY_UNIT, True)
KINDS = (*KINDS, "derived_money")
