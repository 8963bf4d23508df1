"""Each chart shown both on a page and in the briefing pack is defined once (phb.views): the page, as
Streamlit draws it, and the pack, as the command line builds it, give it the same title and subtitle."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from phb import briefing, views
from phb.facts import site_names
from phb.filters import parse_filters
from phb.warehouse import connect
from tests.conftest import ROOT, each_section, element_nodes

PAGES = {"uptake", "spending", "admissions", "compare", "value", "overview"}
PAGE_OF_SOURCE = {"national": "overview"}  # the national picture is drawn on the Overview


def _heading(title) -> tuple[str, str]:
    """A Vega-Lite title as (text, subtitle), each as one line of words."""
    if not isinstance(title, dict):
        title = {"text": title}

    def line(part) -> str:
        return " ".join(part) if isinstance(part, list) else str(part or "")

    return line(title.get("text")), line(title.get("subtitle"))


def _page_headings(page: str) -> set[tuple[str, str]]:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    shown = set()
    for section in each_section(at, page):  # a page drawn a section at a time: every section's charts
        assert not at.exception, (page, section)
        shown |= {
            _heading(json.loads(n.proto.spec).get("title"))
            for n in element_nodes(at._tree)
            if getattr(n, "type", "") == "vega_lite_chart"
        }
    return shown


def test_the_page_and_the_pack_title_each_shared_chart_alike(bundled_env, bundled_warehouse):
    """Bundled data, no filters: every chart of the catalogue is drawn by the pack, and the page it comes from
    (read back from the rendered Vega-Lite spec, not from phb.views) shows a chart with the very same title
    and subtitle. Before phb.views the pack's subtitles were its own (the plan chart lacked "(blue)" and the
    note that each panel has its own scale, the funnel named its limits, utilisation had another sentence)."""
    warehouse, info = bundled_warehouse
    with connect(warehouse) as con:
        names = site_names(con)
        filters, problems = parse_filters(
            sites=None,
            date_from=None,
            date_to=None,
            management=None,
            site_names=names,
            period=(info.period_start, info.period_end),
        )
        assert not problems
        items, skipped = briefing.build_charts(briefing.Sources(con, info, filters, names), list(briefing.CATALOGUE))
    assert not skipped
    assert [i.key for i in items] == list(views.VIEWS)
    shown = {page: _page_headings(page) for page in PAGES}
    for item in items:
        page = PAGE_OF_SOURCE.get(views.VIEWS[item.key].source, views.VIEWS[item.key].source)
        title = item.chart.to_dict()["title"]
        heading = _heading(title)
        assert heading[1], item.key  # every shared chart has a subtitle
        assert heading in shown[page], (item.key, heading, shown[page])
