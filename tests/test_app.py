"""The app as Streamlit runs it (AppTest): every page, the filters in the URL, bad links and
bad extracts, and the Overview agreeing with `python -m phb facts`."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from phb import formatting as fmt
from tests.conftest import ROOT, TINY, each_section, element_nodes
from tests.test_facts import run_facts, shown_tiny_total

PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))


@pytest.fixture
def tiny_env(monkeypatch, tiny_warehouse):
    """The app on the tiny extract and its shared warehouse; returns the warehouse file."""
    monkeypatch.setenv("PHB_DATA", str(TINY))
    monkeypatch.setenv("PHB_WAREHOUSE", str(tiny_warehouse))
    return tiny_warehouse


def app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at


def url(at: AppTest) -> dict[str, list[str]]:
    """The app's query parameters, every value as a list."""
    return {k: v if isinstance(v, list) else [v] for k, v in at.query_params.items()}


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


TITLES = {
    "pages/overview.py": "Personal health budgets in the mental health pilots",
    "pages/uptake.py": "Budget uptake",
    "pages/spending.py": "Spending",
    "pages/admissions.py": "Hospital admissions",
    "pages/value.py": "Value for money",
    "pages/compare.py": "Compare sites",
    "pages/briefing.py": "Briefing pack",
    "pages/accessibility.py": "Accessibility statement",
    "pages/data.py": "Data",
}
SELECTIONS = {
    "everything": {},
    "one small site": {"site": "STP"},
    "two sites, direct payments": {"site": ["DOR", "KIN"], "management": "direct_payment"},
    "a period with nothing in it": {"from": "2013-06-02", "to": "2013-06-30"},
    "the pilot's first quarter": {"from": "2014-06-01", "to": "2014-08-31"},
}


@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_the_bundled_data_for_any_selection(bundled_env, page, selection):
    """Each page renders on the bundled synthetic data for each selection, with banner, filters and footer."""
    at = app(SELECTIONS[selection])
    at.run()
    if page != "pages/overview.py":
        at.switch_page(page).run()
    for section in each_section(at, page):  # a page drawn a section at a time: each section
        assert not at.exception, section
        assert not at.error, section
    assert at.title[0].value == TITLES[page]
    assert any("Synthetic data: not real patients" in i.value for i in at.info)
    assert any("Showing:" in c.value for c in at.caption) or page == "pages/accessibility.py"  # no figures on it
    assert any("Data version" in c.value for c in at.caption)
    links = [n for n in element_nodes(at._tree) if getattr(n, "type", None) == "page_link"]
    assert any(link.proto.page == "accessibility" for link in links)  # the statement, from the footer


def test_overview_agrees_with_facts(tiny_env):
    """The page shows the same disclosure-controlled figures as `python -m phb facts`."""
    facts = json.loads(run_facts(tiny_env).stdout)["all_sites"]
    at = app()
    at.run()
    assert not at.exception
    shown = metrics(at)
    assert shown["People referred"] == fmt.count(facts["referred"]) == "15"
    assert shown["Budgets in place on 30 Jun 2016"] == fmt.count(facts["budgets_in_place"])
    assert shown["Uptake at pilot end"] == fmt.pct(facts["uptake_pct"]) == "0.6%"
    # £4,760.84 moved and rounded to £100 (worked by hand in tests/test_facts.py)
    assert shown["Total spending"] == fmt.money(facts["spend_gbp"]) == fmt.money(shown_tiny_total())
    assert shown["Total spending"].endswith("00")
    assert shown["Emergency admissions, budget holders"] == "* → *"
    # the tiny extract has no manifest: it is not synthetic, so no banner
    assert not any("Synthetic data" in i.value for i in at.info)


def test_filters_in_the_url_select_the_view_and_are_stated(tiny_env):
    """?site=BBB&to=2015-06-30 opens BBB up to that day (a month end), says so, and keeps it in the URL."""
    at = app({"site": "BBB", "to": "2015-06-30"})
    at.run()
    assert not at.exception
    assert at.multiselect(key="f_sites").value == ["BBB"]
    assert "Brookside; 1 Jul 2013 to 30 Jun 2015" in " ".join(c.value for c in at.caption)
    assert metrics(at)["People referred"] == "*"
    assert url(at) == {"site": ["BBB"], "to": ["2015-06"]}  # periods are whole months: the link names the month


def test_a_bad_link_says_what_is_wrong_and_shows_the_rest(tiny_env):
    """An unknown site and a bad date in the URL are named; the good parts still apply."""
    at = app({"site": ["AAA", "NOPE"], "from": "2014-31-01"})
    at.run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "Unknown site code 'NOPE'" in warnings
    assert "The start date '2014-31-01' is not a date" in warnings
    assert at.multiselect(key="f_sites").value == ["AAA"]


def test_changing_a_filter_updates_the_figures_and_the_url(tiny_env):
    """Choosing a site in the sidebar narrows the figures and writes the site to the URL."""
    at = app()
    at.run()
    at.multiselect(key="f_sites").set_value(["AAA"]).run()
    assert metrics(at)["People referred"] == "10"
    assert url(at) == {"site": ["AAA"]}


def test_a_period_with_nothing_in_it_says_so(tiny_env):
    """A period with no referrals, budgets or spending gets a plain note, not an error."""
    at = app({"from": "2013-07-01", "to": "2013-07-31"})
    at.run()
    assert not at.exception
    assert any("Nothing happened in this selection" in i.value for i in at.info)


def test_a_broken_extract_with_no_earlier_warehouse_explains_itself(monkeypatch, tmp_path):
    """The page lists what is wrong with the extract instead of failing."""
    broken = tmp_path / "broken"
    shutil.copytree(TINY, broken)
    (broken / "spend.csv").write_text((TINY / "spend.csv").read_text().replace("2014-08-20", "20/08/2014"))
    monkeypatch.setenv("PHB_DATA", str(broken))
    monkeypatch.setenv("PHB_WAREHOUSE", str(tmp_path / "w.duckdb"))
    at = app()
    at.run()
    assert not at.exception
    assert "could not be loaded" in at.error[0].value
    # as the reader sees it: escapes read, the invisible word joiners gone
    shown = re.sub(r"\\(.)", r"\1", " ".join(m.value for m in at.markdown)).replace("\u2060", "")
    assert "spend.csv: 'paid_on' is not a date written as YYYY-MM-DD: row 2" in shown


def test_text_from_the_link_is_shown_as_typed_not_as_markdown(tiny_env):
    """A crafted link cannot put a clickable link or formatting into the page's warning."""
    at = app({"management": "[Session expired - sign in](https://evil.example/login)"})
    at.run()
    warning = " ".join(w.value for w in at.warning)
    assert "\\[Session expired - sign in\\]\\(https:\u2060//evil.example/login\\)" in warning
    assert "](https://" not in warning


def test_the_sidebar_picks_whole_months_and_every_footer_states_the_method(tiny_env):
    """From and To are months (June 2015 ends on 30 Jun 2015), the note beside them says periods are whole
    months, and the page footer states the disclosure method and its parameters."""
    from phb import disclosure

    at = app({"from": "2014-02-10"})
    at.run()
    assert not at.exception
    assert at.selectbox(key="f_from").value.isoformat() == "2014-02-01"
    assert "Periods are whole calendar months" in " ".join(w.value for w in at.warning)
    at.selectbox(key="f_to").set_value(date(2015, 6, 30)).run()
    assert url(at)["to"] == ["2015-06"]
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "budgets in place are counted at month ends" in captions
    assert any(disclosure.METHOD in c.value for c in at.caption)


def test_the_spc_measure_and_site_come_from_the_link_and_go_back_into_it(bundled_env):
    """/admissions?spc_measure=bed_days&spc_site=DOR opens the trends on bed days for Dorset; the link keeps both,
    with the sidebar filters beside them; choosing all sites again takes the site out of the link."""
    at = app({"spc_measure": "bed_days", "spc_site": "DOR", "site": ["DOR", "STP"]})
    at.run()
    at.switch_page("pages/admissions.py").run()
    assert not at.exception
    assert at.radio(key="spc_measure").value == "Bed days"
    assert at.selectbox(key="spc_scope").value == "DOR"
    assert url(at) == {"site": ["DOR", "STP"], "spc_measure": ["bed_days"], "spc_site": ["DOR"]}
    at.selectbox(key="spc_scope").set_value(None).run()
    assert url(at) == {"site": ["DOR", "STP"], "spc_measure": ["bed_days"]}


def test_a_bad_spc_choice_in_the_link_is_named_and_left_out(bundled_env):
    """An unknown measure is named as typed (no Markdown) and the page opens on its default measure."""
    at = app({"spc_measure": "*beds*", "spc_site": "NOPE"})
    at.run()
    at.switch_page("pages/admissions.py").run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "The link's measure “\\*beds\\*” is not one this page knows: it is left out." in warnings
    assert "The link's site for the trends “NOPE” is not one this page knows" in warnings
    assert at.radio(key="spc_measure").value == "Emergency admissions"
    assert at.selectbox(key="spc_scope").value is None
    assert "spc_measure" not in url(at) and "spc_site" not in url(at)


def test_the_site_in_detail_comes_from_the_link_and_goes_back_into_it(bundled_env):
    """/compare?detail=SWK opens Southwark in detail; a bad code is named and left out."""
    at = app({"detail": "SWK"})
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    assert at.selectbox(key="compare_site").value == "Southwark"
    assert any("Southwark: emergency admissions and the budget pathway" in h.value for h in at.subheader)
    assert url(at) == {"detail": ["SWK"]}
    bad = app({"detail": "XYZ"})
    bad.run()
    bad.switch_page("pages/compare.py").run()
    assert "The link's site in detail “XYZ” is not one this page knows" in " ".join(w.value for w in bad.warning)
    assert bad.selectbox(key="compare_site").value is None
    assert url(bad) == {}


def test_the_accessibility_statement_has_the_regulations_sections(bundled_env):
    """The statement (linked from every footer: test_every_page_runs_...) gives its compliance status, known
    issues, how to report a problem and how and when it was last tested."""
    at = app()
    at.run()
    at.switch_page("pages/accessibility.py").run()
    assert [h.value for h in at.main.header] == [
        "Compliance status",
        "Known issues",
        "Reporting a problem or asking for another format",
        "How we tested this dashboard",
    ]
    text = " ".join(m.value for m in at.markdown)
    assert "Last tested on 6 Dec 2026" in text and "axe-core 4.14.1" in text
    assert "prepared on 23 November 2026" in text and "last reviewed on 6 December 2026" in text


def test_the_overview_runs_each_of_its_queries_once(tiny_env, monkeypatch):
    """A first Overview run (nothing cached) runs each of its queries once: the national picture is made from
    the result sets the page has already loaded, not by running them again (at a million people each run of
    the Overview's queries takes seconds)."""
    import streamlit as st

    from phb import overview, queries, spending

    calls: list[str] = []
    real = queries.run_query

    def counted(con, name, **params):
        calls.append(name)
        return real(con, name, **params)

    monkeypatch.setattr(overview, "run_query", counted)
    monkeypatch.setattr(spending, "run_query", counted)
    st.cache_data.clear()
    at = app({"site": "AAA"})
    at.run()
    assert not at.exception
    assert sorted(calls) == sorted(
        [
            "site_summary",
            "spend_by_category",
            "admissions_windows_by_site",
            "budgets_in_place_monthly",
            "emergency_admissions_monthly",
        ]
    )
    # the Spending page for the same view starts from the same spending rows: they are not read again
    calls.clear()
    at.switch_page("pages/spending.py").run()
    assert not at.exception and not at.error
    assert "spend_by_category" not in calls and "holder_spend_by_site" in calls


def _opened(page: str, query: dict) -> tuple[int, int, int]:
    """Open `page` in a new session with the filters in `query`; the charts and specs made so far, and the
    charts found already made."""
    from phb import charts, ui

    at = app(query)
    at.run()
    if page != "pages/overview.py":
        at.switch_page(page).run()
    assert not at.exception
    return charts.KEPT.misses, ui.SPECS.misses, charts.KEPT.hits


@pytest.mark.parametrize("page", [p for p in PAGES if p != "pages/accessibility.py"])  # it has no chart
def test_a_page_opened_again_in_another_session_makes_no_chart(tiny_env, page):
    """A second session opening the same view (same data version and filters) draws every chart from the
    ones already made: no builder runs and no spec is made."""
    made, specs, _ = _opened(page, {"site": "AAA"})
    made_again, specs_again, hits = _opened(page, {"site": "AAA"})
    assert (made_again, specs_again) == (made, specs) and hits > 0


def test_another_selection_makes_new_charts(tiny_env):
    """The check above can fail: the same page for another site makes its charts afresh (none is taken
    from the first site's)."""
    from phb import charts, ui

    charts.KEPT.clear()
    ui.SPECS.clear()  # a spec is kept by its chart's key, which other tests' runs of these views have made
    made, specs, _ = _opened("pages/uptake.py", {"site": "AAA"})
    made_other, specs_other, _ = _opened("pages/uptake.py", {"site": "BBB"})
    assert made_other > made and specs_other > specs


# what each page works out from its data, and must not work out again for a view it has shown (phb.kept)
WORKED_OUT = {
    "pages/overview.py": [("phb.overview", "_headline")],
    "pages/spending.py": [("phb.spending", "_facts_blocks"), ("phb.spending", "_protected_grid")],
    "pages/admissions.py": [
        ("phb.admissions", "_effects_by_site"),
        ("phb.admissions", "did_effect"),
        ("phb.admissions", "did_effects_by_site"),
    ],
    "pages/value.py": [("phb.value", "stratum_totals"), ("phb.value", "stratum_sums"), ("phb.value", "by_scope")],
    "pages/data.py": [("phb.extract", "content_hash"), ("phb.store", "content_hash")],
}


@pytest.mark.parametrize("page", WORKED_OUT)
def test_a_view_shown_before_works_none_of_its_figures_out_again(bundled_env, monkeypatch, page):
    """A rerun of a view, or another session opening it, reads the figures its page's cache keeps with the data
    (the disclosure-controlled grids and headline blocks, the budget effect by site, the value-for-money estimates,
    the bundled extract's version) instead of working them out again: at national scale each took 0.1 to 0.8 s of
    every run. Each function that works one out is made to fail once the view has been shown; the page must still
    run without error and show the same figures. The first run does call them (counted), so the check can fail."""
    import importlib

    calls: list[str] = []
    for module, name in WORKED_OUT[page]:
        real = getattr(importlib.import_module(module), name)

        def counted(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(importlib.import_module(module), name, counted)
    import streamlit as st

    from phb import extract

    st.cache_data.clear()
    extract._hash_for.cache_clear()
    first = app({"site": "DOR"})
    first.run()
    if page != "pages/overview.py":
        first.switch_page(page).run()
    assert not first.exception and not first.error and calls, f"{page}: the first run worked nothing out"

    def refused(*args, **kwargs):
        raise AssertionError("worked out again for a view already shown")

    for module, name in WORKED_OUT[page]:
        monkeypatch.setattr(importlib.import_module(module), name, refused)
    first.run()  # the same session again
    other = app({"site": "DOR"})  # and another session opening the same view
    other.run()
    if page != "pages/overview.py":
        other.switch_page(page).run()
    for at in (first, other):  # app.py shows an unexpected error as a plain message with a reference
        assert not at.exception and not at.error, [e.value for e in at.error]
    assert metrics(other) == metrics(first)
    assert [m.value for m in other.markdown] == [m.value for m in first.markdown]


def test_a_site_in_detail_on_compare_sites_fits_no_budget_effect_by_site(bundled_env, monkeypatch):
    """Compare sites' site in detail shares the Hospital admissions page's data, but not the budget effect for each
    site, which only that page shows (43 models at 42 sites): opening a site in detail fits none; the Hospital
    admissions page then does, once."""
    import streamlit as st

    from phb import admissions

    fitted = []
    real = admissions._effects_by_site
    monkeypatch.setattr(admissions, "_effects_by_site", lambda *a: fitted.append(1) or real(*a))
    st.cache_data.clear()
    at = app({"detail": "SWK"})
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception and not at.error
    assert any("Southwark: emergency admissions" in h.value for h in at.subheader) and fitted == []
    at.switch_page("pages/admissions.py").run()
    assert not at.exception and not at.error and fitted == [1]
