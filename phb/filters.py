"""The shared filters (sites, period, management option): parsed, checked and described.

The app (from the URL) and the command line (from flags) both go through `parse_filters`, so a
bad value gets the same plain message wherever it comes from, and the rest of the selection
stands.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from phb import contract
from phb.formatting import day


@dataclass(frozen=True)
class Filters:
    """A selection: sites (None for all), the period, management options (None for all)."""

    sites: tuple[str, ...] | None
    date_from: date
    date_to: date
    management: tuple[str, ...] | None = None

    def params(self) -> dict:
        """The bound parameters every filtered query takes."""
        return {
            "sites": list(self.sites) if self.sites else None,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "management": list(self.management) if self.management else None,
        }


def _split(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def _shown(value: str, limit: int = 60) -> str:
    """A value as typed, for a message: in quotes, cut to `limit` characters with an ellipsis."""
    value = str(value)
    return "'" + (value if len(value) <= limit else value[: limit - 1] + "…") + "'"


def _parse_date(text: str, name: str, problems: list[str]) -> date | None:
    """A date written exactly YYYY-MM-DD (ASCII digits): date.fromisoformat alone would also take
    20150101 and 2015-W01-1."""
    value = text.strip()
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        problems.append(f"The {name} date {_shown(text)} is not a date written as YYYY-MM-DD.")
        return None


MONTHS_NOTE = "Periods are whole calendar months; budgets in place are counted at month ends."


def month_end(d: date) -> date:
    """The last day of d's month."""
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _month_text(text: str | None) -> str | None:
    """A month written as YYYY-MM is read as its first day (the period is snapped to whole months)."""
    if text is not None and re.fullmatch(r"\d{4}-\d{2}", text.strip()):
        return text.strip() + "-01"
    return text


def snap_to_months(lo: date, hi: date, period: tuple[date, date]) -> tuple[date, date]:
    """The question grid: a period runs from the first day of its first month to the last day of
    its last month (or the data's last day, if that comes first)."""
    return lo.replace(day=1), min(month_end(hi), max(period[1], lo.replace(day=1)))


def _site_code(text: str) -> str:
    """A site code in capitals, from ASCII letters only: Unicode case mapping would make 'ſlm' SLM."""
    return text.upper() if text.isascii() else text


def parse_filters(
    *,
    sites: str | Iterable[str] | None,
    date_from: str | None,
    date_to: str | None,
    management: str | Iterable[str] | None,
    site_names: dict[str, str],
    period: tuple[date, date],
) -> tuple[Filters, list[str]]:
    """Filters from text values, with a plain message for each value that was not understood.

    A value that is not understood is left out (an unknown site) or falls back to its default
    (a bad date), and the message says so; the other filters keep their values.
    """
    problems: list[str] = []
    codes = [_site_code(s) for s in _split(sites)]
    unknown = [s for s in codes if s not in site_names]
    if unknown:
        problems.append(
            f"Unknown site code{'s' if len(unknown) > 1 else ''} {', '.join(_shown(s) for s in unknown)}: "
            f"the pilot sites are {', '.join(sorted(site_names))}. "
            + ("Showing the other sites chosen." if len(unknown) < len(codes) else "Showing all sites.")
        )
    chosen = tuple(dict.fromkeys(s for s in codes if s in site_names))

    options = _split(management)
    bad = [m for m in options if m not in contract.MANAGEMENT_OPTIONS]
    if bad:
        problems.append(
            f"Unknown management option {', '.join(_shown(m) for m in bad)}: the options are "
            f"{', '.join(contract.MANAGEMENT_OPTIONS)}."
        )
    mgmt = tuple(m for m in contract.MANAGEMENT_OPTIONS if m in options)

    start, end = period
    start = start.replace(day=1)  # the question grid: the data's first month is whole
    # a day is snapped to its month with a note; a month (YYYY-MM) already is one
    days = [bool(t) and _month_text(t) == t for t in (date_from, date_to)]
    date_from, date_to = _month_text(date_from), _month_text(date_to)
    lo = _parse_date(date_from, "start", problems) if date_from else None
    hi = _parse_date(date_to, "end", problems) if date_to else None
    lo, hi = lo or start, hi or end
    if lo > hi:
        problems.append(f"The period starts ({day(lo)}) after it ends ({day(hi)}): showing the whole data period.")
        lo, hi = start, end
    if lo < start or hi > end:
        clipped_lo, clipped_hi = max(lo, start), min(hi, end)
        if clipped_lo > clipped_hi:
            problems.append(
                f"The period {day(lo)} to {day(hi)} is outside the data ({day(start)} to {day(end)}): "
                "showing the whole data period."
            )
            clipped_lo, clipped_hi = start, end
        lo, hi = clipped_lo, clipped_hi
    snapped = snap_to_months(lo, hi, period)
    if (days[0] and snapped[0] != lo) or (days[1] and snapped[1] != hi and hi != end):
        problems.append(f"{MONTHS_NOTE} Showing {day(snapped[0])} to {day(snapped[1])}.")
    lo, hi = snapped

    all_sites = set(chosen) == set(site_names) or not chosen
    all_mgmt = set(mgmt) == set(contract.MANAGEMENT_OPTIONS) or not mgmt
    return Filters(None if all_sites else chosen, lo, hi, None if all_mgmt else mgmt), problems


def describe(filters: Filters, site_names: dict[str, str]) -> str:
    """The active filters in one plain sentence, for pages and exports."""
    sites = "All seven pilot sites" if filters.sites is None else ", ".join(site_names[s] for s in filters.sites)
    if filters.sites is None and len(site_names) != 7:
        sites = f"All {len(site_names)} sites"
    mgmt = (
        "all management options"
        if filters.management is None
        else " and ".join(contract.LABELS[m].lower() + "s" for m in filters.management)
    )
    return f"{sites}; {day(filters.date_from)} to {day(filters.date_to)}; {mgmt}."
