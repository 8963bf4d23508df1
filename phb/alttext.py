"""Charts read without seeing them: each chart's text alternative and its table, both made from the figures the
chart plots (its published data, as the CSV export and the browser receive them). No Streamlit here.

The table holds the chart's plotted and labelled fields (its encodings: positions, colours, shapes, labels and
tooltips), headed as the chart titles them; the text alternative says what the chart is, its finding (the
chart's title), its subtitle, and the key values from that table.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import altair as alt
import pandas as pd

from phb import disclosure, exports

# Fields that only place or order marks: never figures a reader needs
HELPERS = {"label_y", "order", "option_order", "sort_value", "shape", "all"}
# Headers for fields a chart leaves untitled (its axis names them by its ticks, or its legend needs no title)
HEADERS = {
    "site": "Site",
    "name": "Site or option",
    "category_name": "Category",
    "category": "Category",
    "label": "Measure",
    "window": "Window",
    "group": "Group",
    "step": "Step",
    "option": "Management option",
    "flag": "Flag",
    "band": "Position",
    "variation_name": "Variation",
    "finding": "Finding",
    "characteristic": "Characteristic",
    "period": "From",
    "on_date": "On",
    "month": "Month",
    "period_start": "From",
    "spend_label": "Spending",
    "text": "Value",
    "limit": "Limits",
    "uptake_pct": "Uptake (%)",
    "rate_ratio": "Rate ratio",
}
# Interval ends, headed as what they are whatever axis they share
INTERVAL = {"low": "95% interval from", "high": "95% interval to"}
AXES = ("row", "column", "facet", "y", "x", "yOffset", "color", "shape")
CHANNEL_ORDER = ("row", "column", "facet", "y", "x", "yOffset", "color", "shape", "x2", "y2", "text", "tooltip")
# Figures drawn around the main one (interval ends, limits, centre lines, plans, quartiles)
SECONDARY = {"low", "high", "lcl", "ucl", "centre", "plan", "q1", "q3", "x", "c", "label_y"}
KEY_ROWS = 12  # a chart with up to this many rows has every row named in its text alternative


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    temporal: bool
    quantitative: bool
    axis: bool  # placed on an axis, facet, colour or shape (not only a label or tooltip)


@dataclass(frozen=True)
class Reading:
    """What a chart says without being seen: its text alternative and its table (headers as the chart titles
    them, cells as text exactly as the figures are published, the field each column comes from)."""

    text: str
    table: pd.DataFrame
    fields: dict[str, str]  # header -> the chart data's field


def _encodings(node, found: list, channel: str | None = None) -> None:
    """Every (channel, encoding definition) under `encoding` and `facet` in a Vega-Lite spec."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("encoding", "facet") and isinstance(value, dict):
                if "field" in value:  # a facet by one field
                    found.append(("facet", value))
                for ch, definition in value.items():
                    for item in definition if isinstance(definition, list) else [definition]:
                        if isinstance(item, dict) and isinstance(item.get("field"), str):
                            found.append((ch, item))
            elif key not in ("datasets", "data", "config"):
                _encodings(value, found)
    elif isinstance(node, list):
        for item in node:
            _encodings(item, found)


def _columns(spec: dict, frame: pd.DataFrame) -> list[Column]:
    found: list = []
    _encodings(spec, found)
    found.sort(key=lambda cd: CHANNEL_ORDER.index(cd[0]) if cd[0] in CHANNEL_ORDER else len(CHANNEL_ORDER))
    titles: dict[str, str] = {}
    tips: dict[str, str] = {}
    on_axis: set[str] = set()
    kinds: dict[str, set] = {}
    order: list[str] = []
    for channel, d in found:
        field = d["field"]
        if field not in frame.columns or field in HELPERS:
            continue
        if field not in order:
            order.append(field)
        kinds.setdefault(field, set()).add(d.get("type"))
        if channel in AXES:
            on_axis.add(field)
        title = d.get("title")
        if isinstance(title, list):
            title = " ".join(title)
        if isinstance(title, str) and title:
            (tips if channel == "tooltip" else titles).setdefault(field, title)
    columns, headers = [], set()
    for field in order:
        header = (
            tips.get(field)
            or INTERVAL.get(field)
            or titles.get(field)
            or HEADERS.get(field)
            or field.replace("_", " ").capitalize()
        )
        if header in headers:
            continue  # the same figure written two ways (a number and its label): the first is kept
        headers.add(header)
        columns.append(
            Column(field, header, "temporal" in kinds[field], "quantitative" in kinds[field], field in on_axis)
        )
    # the row's name first: the site where there is one, else the first label on an axis
    named = [c for c in columns if c.field == "site"] or [c for c in columns if c.axis and not c.quantitative]
    return named[:1] + [c for c in columns if c not in named[:1]]


def cell(value, temporal: bool = False) -> str:
    """One published figure as the table shows it: a count with thousands separators, a figure to the places it
    was published with, a date as a date, a withheld figure as its marker, a blank as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if temporal and isinstance(value, str | pd.Timestamp):
        try:
            return pd.Timestamp(value).strftime("%-d %b %Y")
        except ValueError:
            return str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer():
            return f"{int(value):,}"
        return format(round(value, 6), ",")
    return str(value)


def _title(spec: dict) -> tuple[str, str]:
    title = spec.get("title") or ""
    subtitle = ""
    if isinstance(title, dict):
        subtitle = title.get("subtitle") or ""
        title = title.get("text") or ""
    join = lambda t: " ".join(t) if isinstance(t, list) else str(t)  # noqa: E731
    return join(title).strip(), join(subtitle).strip()


def _sentence(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if not text or text.endswith((".", "!", "?")) else text + "."


def read(chart: alt.TopLevelMixin, kind: str, spec: dict | None = None) -> Reading:
    """The chart's text alternative (what it is, its finding, its subtitle, the key values) and its table;
    `spec` is the chart's spec where the caller has made it already."""
    disclosure.check_chart(chart)
    spec = spec if spec is not None else exports.spec(chart)
    data = exports.chart_data(chart, spec)
    columns = _columns(spec, data)
    table = pd.DataFrame(
        {c.header: [cell(v, c.temporal) for v in data[c.field]] for c in columns}, index=range(len(data))
    )
    title, subtitle = _title(spec)
    parts = [_sentence(kind), _sentence(f"Finding: {title}") if title else "", _sentence(subtitle)]
    parts.append(_key_values(table, columns))
    if (table == disclosure.SUPPRESSED).any().any():
        parts.append(f"{disclosure.SUPPRESSED} marks a figure withheld under disclosure control.")
    return Reading(" ".join(p for p in parts if p), table, {c.header: c.field for c in columns})


def _key_values(table: pd.DataFrame, columns: list[Column]) -> str:
    """The figures a reader needs: every row of a small table, or the first, last, highest and lowest of a
    longer one."""
    if table.empty:
        return "It has no figures to show."
    labels = [c for c in columns if not c.quantitative and (c.axis or c.field == "site")]
    values = [c for c in columns if c.quantitative and c.axis]
    if not values:
        return f"It shows {len(table)} {'item' if len(table) == 1 else 'items'}."
    value = ([c for c in values if c.field not in SECONDARY] or values)[0]
    ends = {c.field: c.header for c in columns if c.field in INTERVAL}

    def row_words(i: int) -> str:
        name = ", ".join(table.at[i, c.header] for c in labels[:2])
        figure = table.at[i, value.header]
        if len(ends) == 2 and value.field not in ends and table.at[i, ends["low"]] != "–":
            figure += f" ({table.at[i, ends['low']]} to {table.at[i, ends['high']]})"
        return f"{name}: {figure}" if name else figure

    if len(table) <= KEY_ROWS:
        return _sentence(f"{value.header}: " + "; ".join(row_words(i) for i in table.index))
    numbers = pd.to_numeric(table[value.header].str.replace(",", "", regex=False), errors="coerce")
    words = [f"{len(table)} points of {value.header.lower()}"]
    if numbers.notna().any():
        words.append(f"highest {row_words(int(numbers.idxmax()))}")
        words.append(f"lowest {row_words(int(numbers.idxmin()))}")
    words.append(f"first {row_words(table.index[0])}")
    words.append(f"last {row_words(table.index[-1])}")
    return _sentence("; ".join(words)) + " Every figure is in the table."
