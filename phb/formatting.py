"""Numbers as people read them in a brief: 1,240; £1.2m; 4.8%; 12 Mar 2016."""

from __future__ import annotations

import math
from datetime import date

from phb.disclosure import SUPPRESSED


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(value) -> str:
    """A (disclosure-controlled) count: 1,240, or * where suppressed."""
    if value == SUPPRESSED:
        return SUPPRESSED
    if _blank(value):
        return "–"
    return f"{int(value):,}"


def money(value) -> str:
    """Pounds for a brief: £850, £12,400, £1.2m."""
    if value == SUPPRESSED:
        return SUPPRESSED
    if _blank(value):
        return "–"
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1_000_000:
        return f"{sign}£{value / 1_000_000:,.1f}m"
    if value >= 10_000:
        return f"{sign}£{round(value, -2):,.0f}"
    return f"{sign}£{value:,.0f}"


def money_about(value) -> str:
    """Pounds to 3 significant figures, for a figure added up from shown cells (each already to 3
    significant figures), whose further digits mean nothing: 250,900 is "£251,000"."""
    if value == SUPPRESSED or _blank(value) or value == 0:
        return money(value)
    from math import floor, log10

    return money(round(value, 2 - floor(log10(abs(value)))))


def money_size(value) -> str:
    """Pounds without a sign, where the words say which way the money went: "refunds and recoveries
    of £9,980", never "of -£9,980"."""
    if value == SUPPRESSED or _blank(value):
        return money(value)
    return money(abs(value))


def pct(value, places: int = 1) -> str:
    """A percentage: 4.8%."""
    if value == SUPPRESSED:
        return SUPPRESSED
    if _blank(value):
        return "–"
    return f"{value:.{places}f}%"


def interval(ci, places: int = 1, unit: str = "%") -> str:
    """An interval: 3.9% to 5.9%."""
    if ci == SUPPRESSED:
        return SUPPRESSED
    if ci is None:
        return "–"
    low, high = ci
    return f"{low:.{places}f}{unit} to {high:.{places}f}{unit}"


def day(value: date) -> str:
    """A date as written in a brief: 1 Jul 2014."""
    return f"{value.day} {value:%b %Y}"


NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven")
NAMED = 3  # the most sites a finding title names; more are counted


def number_words(n: int) -> str:
    """A small count in words (up to seven), a larger one in figures: "three", "12"."""
    return NUMBER_WORDS[n] if n < len(NUMBER_WORDS) else str(n)


def listed(names: list[str]) -> str:
    """Names as a sentence lists them: "Devon", "Devon and Dorset", "Devon, Dorset and Stockport"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def some_sites(names: list[str], of: int) -> str:
    """Some of `of` sites in a finding title: named, up to NAMED of them; else counted, as "all 14 sites" or
    "12 of the 42 sites" (at national scale, a title naming every site that passed its plan would run to
    hundreds of words)."""
    if len(names) <= NAMED:
        return listed(names)
    if len(names) == of:
        return f"all {number_words(of)} sites"
    return f"{number_words(len(names))} of the {number_words(of)} sites"
