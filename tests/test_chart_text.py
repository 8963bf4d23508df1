"""Every chart can be read without seeing it: its text alternative and its "Show as table" view hold the figures
the chart draws. The pages run as Streamlit runs them (AppTest); each chart's figures are read back from the
data Streamlit sends the browser (the Arrow data sets of the chart's element), not from the code that wrote
the table."""

from __future__ import annotations

import json
import math
import numbers
import re
from html.parser import HTMLParser

import altair as alt
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from phb import alttext, disclosure, ui
from tests.conftest import ROOT, each_section, element_nodes

PAGES = ["pages/overview.py", "pages/uptake.py", "pages/spending.py", "pages/admissions.py", "pages/compare.py"]
PAGES += ["pages/value.py", "pages/briefing.py", "pages/data.py"]


class _Table(HTMLParser):
    """The text paragraph, the headers (with the field each names) and the rows of a chart's table."""

    def __init__(self):
        super().__init__()
        self.text, self.headers, self.fields, self.rows, self.scopes = "", [], [], [], []
        self._in, self._cell = None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "p":
            self._in = "p"
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td"):
            self._cell = ""
            self._head = "data-field" in attrs
            if self._head:
                self.fields.append(attrs["data-field"])
            if tag == "th":
                self.scopes.append(attrs.get("scope"))

    def handle_endtag(self, tag):
        if tag == "p":
            self._in = None
        elif tag in ("th", "td"):
            (self.headers if self._head else self._row).append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row:
            self.rows.append(self._row)

    def handle_data(self, data):
        if self._in == "p":
            self.text += data
        elif self._cell is not None:
            self._cell += data


def readings(at: AppTest) -> list[tuple]:
    """(chart element, parsed table) for every chart drawn, in page order."""
    found, chart = [], None
    for node in element_nodes(at._tree):
        if getattr(node, "type", None) == "vega_lite_chart":
            assert chart is None, "a chart without its table"
            chart = node.proto
        elif chart is not None and type(node).__name__ == "Html" and "phb-chart-table" in node.proto.body:
            table = _Table()
            table.feed(node.proto.body)
            found.append((chart, table))
            chart = None
    assert chart is None, "a chart without its table"
    return found


def tables(at: AppTest) -> list[_Table]:
    """Every chart's text and table on the page, parsed (not the page's style sheet, which names their class)."""
    found = []
    for node in element_nodes(at._tree):
        if type(node).__name__ == "Html" and node.proto.body.startswith('<p class="phb-chart-text">'):
            table = _Table()
            table.feed(node.proto.body)
            found.append(table)
    return found


def arrow_frames(chart) -> list[pd.DataFrame]:
    return [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.datasets]


def blank(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, numbers.Real) and math.isnan(value))


def same(cell: str, value) -> bool:
    """A table cell says the value drawn: a withheld or blank figure as * or a dash, a number to the same
    value (thousands separators aside), a date as the same day, text as itself."""
    if cell in (disclosure.SUPPRESSED, "–"):
        return blank(value) or value == cell
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}(T[\d:.]+)?", value):
        value = pd.Timestamp(value)  # a date sent as ISO text
    if isinstance(value, pd.Timestamp):
        return pd.Timestamp(cell) == value.normalize()
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and re.fullmatch(r"-?[\d,]+(\.\d+)?", cell):
        return math.isclose(float(cell.replace(",", "")), float(value), abs_tol=1e-9)
    return cell == str(value)


def check_page(at: AppTest) -> int:
    """Every chart on the page: its table matches a data set the chart draws, row by row and field by field,
    with a column header for every column; its text alternative is the paragraph above the table, states the
    chart's finding (its title) and, for a short table, names every row."""
    charts = readings(at)
    for chart, table in charts:
        check_chart(chart, table)
    return len(charts)


def _finding(chart) -> str:
    """A drawn chart's title (its finding) as one line."""
    title = json.loads(chart.spec).get("title", {})
    text = title.get("text", title) if isinstance(title, dict) else title
    return " ".join(text) if isinstance(text, list) else str(text)


def check_chart(chart, table: _Table) -> None:
    """One chart and its table, as check_page checks each."""
    assert table.headers and all(s == "col" for s in table.scopes[: len(table.headers)]), table.headers
    assert all(len(r) == len(table.headers) for r in table.rows)
    drawn = [f for f in arrow_frames(chart) if set(table.fields) <= set(f.columns) and len(f) == len(table.rows)]
    assert drawn, f"no data set of the chart holds the table's figures: {table.fields}"
    frame = drawn[0]
    for i, row in enumerate(table.rows):
        for field, cell in zip(table.fields, row):
            assert same(cell, frame[field].iloc[i]), (table.headers, field, cell, frame[field].iloc[i])
    assert chart.alt == table.text
    finding = _finding(chart)
    if finding:
        assert f"Finding: {finding}" in chart.alt
    if len(table.rows) <= alttext.KEY_ROWS:
        for row in table.rows:
            assert row[0] in chart.alt, (row[0], chart.alt)


@pytest.mark.parametrize(
    "query", [pytest.param({}, id="all sites"), pytest.param({"site": "DOR"}, id="Dorset", marks=pytest.mark.slow)]
)
def test_every_chart_reads_as_a_sentence_and_a_table_of_the_figures_it_draws(bundled_env, query):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for key, value in query.items():
        at.query_params[key] = value
    at.session_state[ui.TABLES_KEY] = True  # the sidebar's Tables under every chart: each table shown open
    at.run()
    counted = {}
    for page in PAGES:
        at.switch_page(page).run()
        counted[page] = 0
        for section in each_section(at, page):  # a page drawn a section at a time: each of them
            assert not at.exception, (page, section)
            counted[page] += check_page(at)
    # every page with charts drew some (the briefing page its default pack)
    assert all(counted[p] > 0 for p in PAGES), counted


def test_a_small_chart_is_described_with_its_finding_and_every_value():
    """Worked by hand: three sites' uptake, one withheld; the text names the finding and each site's figure,
    and the table holds the three rows under the chart's own titles."""
    frame = disclosure.publish(
        pd.DataFrame({"site": ["Devon", "Dorset", "Kingston"], "value": [3.5, 4.0, disclosure.SUPPRESSED]}),
        {"site": "label", "value": "figure"},
    )
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(y=alt.Y("site:N", title=None), x=alt.X("value:Q", title="Uptake (%)"))
        .properties(title=alt.Title("Dorset leads", subtitle="Budgets as % of the eligible"))
    )
    reading = alttext.read(chart, "Bar chart of uptake by site")
    assert reading.text == (
        "Bar chart of uptake by site. Finding: Dorset leads. Budgets as % of the eligible. "
        "Uptake (%): Devon: 3.5; Dorset: 4; Kingston: *. * marks a figure withheld under disclosure control."
    )
    assert list(reading.table.columns) == ["Site", "Uptake (%)"]
    assert reading.table.values.tolist() == [["Devon", "3.5"], ["Dorset", "4"], ["Kingston", "*"]]


def test_a_charts_table_is_made_only_when_its_show_as_table_is_opened(bundled_env):
    """Without the sidebar's Tables under every chart, no chart's table is sent with the page (a long series' table
    is thousands of rows for the browser to clean and lay out), each chart still has its Show as table, and
    opening one (its expander's state, as the browser sets it) makes that chart's table and no other, holding
    the figures the chart draws. Every page with charts."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()
    opened = 0
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception
        charts = [n for n in element_nodes(at._tree) if getattr(n, "type", None) == "vega_lite_chart"]
        boxes = [e for e in at.expander if e.label == "Show as table"]
        keys = [k for k in at.session_state.keys() if str(k).startswith("table-")]
        if not charts:
            continue
        assert len(boxes) == len(charts) == len(keys), page
        assert tables(at) == []
        at.session_state[keys[0]] = True
        at.run()
        shown = tables(at)
        assert len(shown) == 1, page
        # the table is the text and figures of one of the page's charts (the one opened: its alt text is the
        # table's paragraph)
        mine = [c.proto for c in charts if c.proto.alt == shown[0].text]
        assert mine, (page, keys[0])
        check_chart(mine[0], shown[0])
        at.session_state[keys[0]] = False
        opened += 1
    assert opened >= 6


def test_a_charts_download_buttons_are_made_only_when_its_download_is_opened(bundled_env):
    """No chart's download buttons are sent with the page (three buttons with their tips under every chart cost
    the browser time on each visit though few open them); each chart still has its Download, and opening one
    (its expander's state, as the browser sets it) makes that chart's PNG, SVG and CSV buttons and no others,
    named for the chart. Every page with charts."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()

    def buttons() -> list:
        """The charts' download buttons (not the briefing pack's own)."""
        return [
            n
            for n in element_nodes(at._tree)
            if getattr(n, "type", None) == "download_button" and str(n.key).startswith(("png-", "svg-", "csv-"))
        ]

    opened = 0
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception
        charts = [n for n in element_nodes(at._tree) if getattr(n, "type", None) == "vega_lite_chart"]
        boxes = [e for e in at.expander if e.label == "Download"]
        keys = [k for k in at.session_state.keys() if str(k).startswith("download-")]
        if not charts:
            continue
        assert len(boxes) == len(charts) == len(keys), page
        assert buttons() == [], page
        at.session_state[keys[-1]] = True
        at.run()
        shown = buttons()
        assert [b.proto.label for b in shown] == ["PNG", "SVG", "Data (CSV)"], page
        stem = keys[-1].removeprefix("download-")
        assert [b.key for b in shown] == [f"{kind}-{stem}" for kind in ("png", "svg", "csv")], page
        at.session_state[keys[-1]] = False
        opened += 1
    assert opened >= 6
