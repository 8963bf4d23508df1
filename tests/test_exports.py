"""Exports: CSV safe to open in Excel, SVG and PNG carrying title, footer and the synthetic stamp."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date

import altair as alt
import pandas as pd
import pytest

from phb import disclosure, exports
from phb.stats import FunnelLimits

META = exports.ExportMeta(
    period="2 Jun 2013 to 13 Apr 2017",
    filters="Stockport; 2 Jun 2013 to 13 Apr 2017; all management options.",
    data_version="abc123def456",
    built_at="2026-11-22 23:00 UTC",
    synthetic=True,
    produced="23 Nov 2026",
)


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-£9,979", "'-£9,979"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("Dorset", "Dorset"),
        (-20.5, -20.5),
        (35, 35),
    ],
)
def test_a_cell_excel_would_run_as_a_formula_opens_as_text(cell, safe):
    """OWASP CSV injection: = + - @ and tab first get an apostrophe; numbers stay numbers."""
    assert exports.safe_cell(cell) == safe


def test_csv_has_title_data_and_footer_and_neutralised_cells():
    """Title first, the data, then the footer lines; a crafted site name is neutralised; dates are dates."""
    frame = pd.DataFrame(
        {
            "site": ["=cmd|' /C calc'!A0", "Dorset"],
            "budgets": [10.0, 115.0],
            "on_date": ["2014-08-31T00:00:00", "2014-09-30T00:00:00"],
        }
    )
    rows = list(csv.reader(io.StringIO(exports.csv_bytes(frame, "A finding", META).decode("utf-8-sig"))))
    assert rows[0] == ["A finding"]
    assert rows[2] == ["site", "budgets", "on_date"]
    assert rows[3] == ["'=cmd|' /C calc'!A0", "10", "2014-08-31"]
    assert rows[5] == []  # a blank line between the data and the footer
    footer = [r[0] for r in rows[6:]]
    assert footer[0].startswith("Synthetic data: not real patients")
    assert any("Disclosure control" in line for line in footer)
    assert any("Selection: Stockport" in line for line in footer)


def chart() -> alt.Chart:
    return (
        alt.Chart(disclosure.publish(pd.DataFrame({"x": ["a", "b"], "y": [10, 20]}), {"x": "label", "y": "count"}))
        .mark_bar()
        .encode(x="x:N", y="y:Q")
        .properties(title=alt.Title(["Twenty is more than", "ten"], subtitle="A subtitle"), width=300, height=200)
    )


def test_svg_carries_title_footer_and_stamp_only_when_synthetic():
    """The framed SVG parses as XML, holds the finding, the footer and, for synthetic data, the stamp."""
    svg = exports.chart_svg(chart(), META)
    text = " ".join(t.text or "" for t in ET.fromstring(svg).iter() if t.tag.endswith("text"))
    assert "Twenty is more than ten" in text
    assert exports.SYNTHETIC_STAMP in text
    assert "Data version abc123def456" in text and "Produced 23 Nov 2026" in text
    real = exports.chart_svg(chart(), exports.ExportMeta(**{**META.__dict__, "synthetic": False}))
    assert exports.SYNTHETIC_STAMP not in real


def test_png_is_at_print_resolution():
    """The PNG is at least twice the size of the SVG it is drawn from."""
    svg = exports.chart_svg(chart(), META)
    width, height = exports._size(svg)
    png = exports.chart_png(chart(), META)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    png_w, png_h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert png_w >= 2 * width and png_h >= 2 * height


def test_meta_states_the_selection_and_period():
    """The footer is made from the warehouse's own record and the active filters."""
    from phb.filters import Filters
    from phb.warehouse import WarehouseInfo

    info = WarehouseInfo("v1", "2026-11-22 23:00 UTC", False, date(2013, 7, 1), date(2016, 6, 30), "x")
    meta = exports.meta_for(
        info,
        Filters(("AAA",), date(2014, 1, 1), date(2014, 12, 31)),
        {"AAA": "St Mary's Vale"},
        today=date(2026, 11, 23),
    )
    assert meta.footer()[1] == "Selection: St Mary's Vale; 1 Jan 2014 to 31 Dec 2014; all management options."
    assert meta.period == "1 Jul 2013 to 30 Jun 2016" and meta.produced == "23 Nov 2026"


def test_every_export_footer_states_the_disclosure_method_and_a_funnel_csv_has_no_limit_lines():
    """The footer carries disclosure.METHOD; the funnel's CSV holds the sites only, never its limit grid."""
    import altair as alt

    from phb import charts, disclosure
    from phb.exports import ExportMeta, chart_data

    meta = ExportMeta("1 Jul 2013 to 30 Jun 2016", "All sites.", "abc", "today", False, "1 Jan 2026")
    assert disclosure.METHOD in meta.footer()
    assert "cell key perturbation" in disclosure.METHOD and "multiple of 5" in disclosure.METHOD
    points = pd.DataFrame(
        {
            "site": ["A", "B"],
            "denominator": [1000, 2000],
            "count": [30, 50],
            "value": [3.0, 2.5],
            "position": ["within 95% limits", "within 95% limits"],
        }
    )
    lines = FunnelLimits("proportion", 2.7, 500.0, 2300.0)
    chart = charts.funnel(points, lines, 2.7, "Eligible", "Uptake", "Title", "Sub", ".1f")
    data = chart_data(chart)
    assert data["site"].tolist() == ["A", "B"] and "limit" not in data.columns
    with pytest.raises(disclosure.UnpublishedError):
        chart_data(alt.Chart(pd.DataFrame({"x": [1]})).mark_point())


def test_chart_specs_are_checked_against_the_schema_only_where_the_setting_asks(monkeypatch):
    """A chart Vega-Lite would refuse (a mark size that is not a number) is refused when PHB_VALIDATE_CHARTS
    is on, as the tests run, and made without the check otherwise, as the app runs."""
    frame = disclosure.publish(pd.DataFrame({"x": [10, 20]}), {"x": "count"})
    bad = alt.Chart(frame).mark_point().encode(x="x:Q")
    bad.mark = {"type": "point", "size": "big"}  # set after Altair's own checks when a chart is built
    monkeypatch.setenv("PHB_VALIDATE_CHARTS", "on")
    with pytest.raises(alt.utils.schemapi.SchemaValidationError):
        exports.spec(bad)
    monkeypatch.setenv("PHB_VALIDATE_CHARTS", "")
    assert not exports.validating()
    assert exports.spec(bad)["mark"]["size"] == "big"


def test_a_charts_data_read_from_its_spec_is_the_data_made_for_it_alone():
    """The figures exported or read aloud come from the spec already made for drawing where exactly one of
    its data sets is the chart's largest frame, and are then the same as those made for that frame alone;
    with two candidates (a layer of two frames of one shape) they are made for the largest frame alone."""
    big = disclosure.publish(
        pd.DataFrame({"site": ["A", "B", "C"], "n": [10, "*", 15], "day": pd.to_datetime(["2015-01-01"] * 3)}),
        {"site": "label", "n": "count", "day": "label"},
    )
    small = disclosure.publish(pd.DataFrame({"site": ["A"], "n": [20]}), {"site": "label", "n": "count"})
    chart = alt.layer(
        alt.Chart(big).mark_bar().encode(x="site:N", y="n:Q"), alt.Chart(small).mark_rule().encode(y="n:Q")
    )
    alone = exports.chart_data(chart)
    assert alone["n"].tolist() == [10, "*", 15] and alone["day"].tolist() == ["2015-01-01T00:00:00"] * 3
    pd.testing.assert_frame_equal(exports.chart_data(chart, exports.spec(chart)), alone)
    twin = disclosure.publish(big.assign(n=[30, 35, 40]), {"site": "label", "n": "count", "day": "label"})
    two = alt.layer(alt.Chart(twin).mark_bar().encode(x="site:N", y="n:Q"), alt.Chart(big).mark_point())
    pd.testing.assert_frame_equal(exports.chart_data(two, exports.spec(two)), exports.chart_data(two))
    assert exports.chart_data(two)["n"].tolist() == [30, 35, 40]  # the first of the largest, as before


def test_a_chart_made_again_is_drawn_from_its_kept_spec_and_a_changed_one_is_made_afresh():
    """The same chart made twice (as on a rerun, or by another session) is found in the spec cache, with
    the spec and reading the first made; a chart whose data differs by one figure is made afresh and
    draws that figure. Each use gets its own copy, so a caller changing it changes nothing kept."""
    from phb.ui import SpecCache

    def made(n):
        frame = disclosure.publish(pd.DataFrame({"site": ["A", "B"], "n": [n, 20]}), {"site": "label", "n": "count"})
        return alt.Chart(frame).mark_bar().encode(x="site:N", y="n:Q").properties(title=f"A has {n}")

    cache = SpecCache(size=2)
    first, reading = cache.get(made(10), "Bar chart")
    again, reading_again = cache.get(made(10), "Bar chart")
    assert (cache.hits, cache.misses) == (1, 1)
    assert again == first == exports.spec(made(10)) and reading_again is reading
    again["title"] = "changed"
    assert cache.get(made(10), "Bar chart")[0]["title"] == "A has 10"
    other, other_reading = cache.get(made(15), "Bar chart")
    assert cache.misses == 2 and other["title"] == "A has 15"
    assert other_reading.table.iloc[0].tolist() != reading.table.iloc[0].tolist()
    cache.get(made(10), "Bar chart, another kind")  # a third entry: the oldest is let go
    assert len(cache._kept) == 2
