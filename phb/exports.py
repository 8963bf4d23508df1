"""Exports that can leave the app: a chart as SVG or print-resolution PNG (rendered with
vl-convert), its data as CSV safe to open in Excel. Every export carries its finding as title and a
footer saying where it came from, when, for which selection, and that small numbers are
suppressed; synthetic data is stamped across the chart itself, so a cropped picture still says it.
"""

from __future__ import annotations

import html
import io
import os
import re
import textwrap
import threading
from dataclasses import dataclass
from datetime import date

import altair as alt
import pandas as pd

from phb import charts, config, disclosure
from phb.filters import Filters, describe
from phb.formatting import day
from phb.warehouse import WarehouseInfo

SYNTHETIC_STAMP = "Synthetic data: not real patients"
PNG_SCALE = 3  # print resolution: three pixels for each point of the chart
EXPORT_WIDTH = 760
FOOTER_FONT = 11
FOOTER_LINE = 15
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportMeta:
    """What every export says about where it came from."""

    period: str
    filters: str
    data_version: str
    built_at: str
    synthetic: bool
    produced: str

    def footer(self) -> list[str]:
        """The footer's lines, in the order a reader needs them."""
        lines = [
            f"{config.SOURCE_NOTE}. Data period {self.period}. "
            f"Data version {self.data_version} (built {self.built_at}).",
            f"Selection: {self.filters}",
            disclosure.METHOD,
            f"Produced {self.produced}.",
        ]
        if self.synthetic:
            lines.insert(0, f"{SYNTHETIC_STAMP}. Every figure comes from a generated data set.")
        return lines


def meta_for(
    info: WarehouseInfo, filters: Filters, site_names: dict[str, str], today: date | None = None
) -> ExportMeta:
    """The export footer for a selection."""
    return ExportMeta(
        period=f"{day(info.period_start)} to {day(info.period_end)}",
        filters=describe(filters, site_names),
        data_version=info.data_version,
        built_at=info.built_at,
        synthetic=info.synthetic,
        produced=day(today or date.today()),
    )


# ---------------------------------------------------------------------------------------------
# Charts


# Altair's data transformer is one per process, and Streamlit switches it (under its own lock) while
# it turns a chart into a spec for the browser. A spec made here at the same moment, without that lock,
# would put this chart's data into another session's chart and lose its own (a "dictionary changed
# size during iteration" error, or a chart with no data). So every spec here is made under the same
# lock: phb.ui sets ALTAIR_LOCK to Streamlit's lock; this one serves where Streamlit is not running.
ALTAIR_LOCK = threading.Lock()


def spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite spec, with its data inline, made under ALTAIR_LOCK. Checked against the
    Vega-Lite schema only where PHB_VALIDATE_CHARTS is on (the tests, which draw every chart of every page
    and option, turn it on): the check is most of the time a page spends making its charts, and a chart
    that passes it in the tests is made by the same code for every user."""
    with ALTAIR_LOCK:
        return chart.to_dict(validate=validating())


def validating() -> bool:
    """Whether chart specs are checked against the Vega-Lite schema (PHB_VALIDATE_CHARTS=on)."""
    return os.environ.get("PHB_VALIDATE_CHARTS", "").lower() in ("on", "1", "true", "yes")


def title_text(chart: alt.TopLevelMixin) -> str:
    """The chart's title (its finding) as one line of text: read from the chart itself where it is
    set there (no spec to make, which validates the whole chart), otherwise from its spec."""
    title = getattr(chart, "title", alt.Undefined)
    if isinstance(title, alt.TitleParams):
        title = title.to_dict()
    if title is alt.Undefined or not isinstance(title, str | list | dict):
        title = spec(chart).get("title")
    if isinstance(title, dict):
        title = title.get("text", "")
    if isinstance(title, list):
        title = " ".join(title)
    return str(title or "")


def for_export(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """A copy sized for a page rather than a column: a fixed width, the title re-wrapped to it."""
    drawn = spec(chart)
    out = chart.copy(deep=True)
    if isinstance(out, alt.Chart | alt.LayerChart) and drawn.get("width") in (None, "container"):
        out = out.properties(width=EXPORT_WIDTH)
    title = drawn.get("title")
    if isinstance(title, dict):
        text = title.get("text", "")
        text = " ".join(text) if isinstance(text, list) else text
        subtitle = title.get("subtitle", "")
        subtitle = " ".join(subtitle) if isinstance(subtitle, list) else subtitle
        out = out.properties(
            title=alt.Title(textwrap.wrap(text, 80) or [""], subtitle=textwrap.wrap(subtitle, 110) or [""])
        )
    return out


def chart_svg(chart: alt.TopLevelMixin, meta: ExportMeta) -> str:
    """The chart as SVG, with its footer and, for synthetic data, the stamp across it."""
    import vl_convert as vlc

    disclosure.check_chart(chart)
    return framed(vlc.vegalite_to_svg(for_export(chart).to_dict()), meta)


def chart_png(chart: alt.TopLevelMixin, meta: ExportMeta, scale: int = PNG_SCALE) -> bytes:
    """The chart as a PNG at print resolution, framed as the SVG is."""
    return svg_png(chart_svg(chart, meta), scale)


def svg_png(svg: str, scale: int = PNG_SCALE) -> bytes:
    """A framed SVG drawn as a PNG."""
    import vl_convert as vlc

    return vlc.svg_to_png(svg, scale=scale)


def _size(svg: str) -> tuple[float, float]:
    match = re.search(r'<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"', svg)
    if not match:
        raise ValueError("the chart's SVG has no size")
    return float(match.group(1)), float(match.group(2))


def framed(svg: str, meta: ExportMeta) -> str:
    """Wrap a chart's SVG: the footer below it, the synthetic stamp across it."""
    width, height = _size(svg)
    chars = max(60, int(width / (FOOTER_FONT * 0.52)))
    lines = [part for line in meta.footer() for part in textwrap.wrap(line, chars)]
    footer_height = FOOTER_LINE * len(lines) + 18
    inner = re.sub(r"^<\?xml[^>]*>\s*", "", svg.strip())
    texts = "".join(
        f'<text x="12" y="{height + 18 + FOOTER_LINE * i}" font-size="{FOOTER_FONT}" fill="{charts.SECONDARY_TEXT}" '
        f'font-family="Arial, Helvetica, sans-serif">{html.escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    stamp = ""
    if meta.synthetic:
        size = max(18, int(width / 18))
        stamp = (
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" dominant-baseline="middle" '
            f'font-size="{size}" font-weight="bold" font-family="Arial, Helvetica, sans-serif" fill="{charts.PINK}" '
            f'fill-opacity="0.16" transform="rotate(-18 {width / 2} {height / 2})">{SYNTHETIC_STAMP}</text>'
        )
    total = height + footer_height
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" '
        f'width="{width}" height="{total}" viewBox="0 0 {width} {total}">'
        f'<rect width="{width}" height="{total}" fill="{charts.WHITE}"/>{inner}{stamp}'
        f'<line x1="12" x2="{width - 12}" y1="{height + 4}" y2="{height + 4}" stroke="{charts.BORDER_GREY}"/>'
        f"{texts}</svg>"
    )


# ---------------------------------------------------------------------------------------------
# Data


def chart_data(chart: alt.TopLevelMixin, drawn: dict | None = None) -> pd.DataFrame:
    """The figures a chart draws (the largest of its published data sets), as the browser receives
    them: read from the chart's spec `drawn` where the caller has made it, else made for that data set.
    Lines the browser works out itself (funnel limits) have no data set and are never exported."""
    disclosure.check_chart(chart)
    frames = [f for f in disclosure.chart_frames(chart) if isinstance(f, pd.DataFrame)]
    if not frames:
        return pd.DataFrame()
    largest = max(frames, key=len)
    columns = list(largest.columns)
    same = [
        rows
        for rows in (drawn or {}).get("datasets", {}).values()
        if isinstance(rows, list) and len(rows) == len(largest) and (not rows or list(rows[0]) == columns)
    ]
    if len(same) != 1:  # none, or more than one that could be it: made for this data set alone
        same = [next(iter(spec(alt.Chart(largest).mark_point()).get("datasets", {}).values()), [])]
    rows = same[0]
    return pd.DataFrame(rows, columns=columns)


def safe_cell(value):
    """A text cell that Excel would read as a formula (= + - @, tab or return first) gets a leading
    apostrophe, so it opens as text; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_bytes(frame: pd.DataFrame, title: str, meta: ExportMeta) -> bytes:
    """The data as CSV (UTF-8 with a byte-order mark, so Excel reads £ and accents): the title on the
    first line, the footer lines after the data, every text cell neutralised."""
    body = frame.copy()
    for column in body.columns:
        values = body[column]
        if pd.api.types.is_float_dtype(values) and values.dropna().map(float.is_integer).all():
            body[column] = values.astype("Int64")  # 480.0 reads as 480
        elif values.dtype == object or pd.api.types.is_string_dtype(values):
            text = values.astype("string")
            if text.dropna().str.fullmatch(r"\d{4}-\d{2}-\d{2}T00:00:00(\.000)?").all() and text.notna().any():
                body[column] = text.str.slice(0, 10)  # a date, written as a date
            else:
                body[column] = values.map(safe_cell)
    body.columns = [safe_cell(str(c)) for c in body.columns]
    out = io.StringIO()
    pd.DataFrame([[safe_cell(title)]]).to_csv(out, index=False, header=False)
    out.write("\n")
    body.to_csv(out, index=False)
    out.write("\n")
    pd.DataFrame([[safe_cell(line)] for line in meta.footer()]).to_csv(out, index=False, header=False)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def file_stem(text: str) -> str:
    """A file name from a title: lower case words joined by hyphens."""
    stem = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return stem[:60].rstrip("-") or "chart"
