"""Sweep: every page, run as Streamlit runs it (AppTest through app.py), for each site alone and all
sites, against month starts and month ends of the data period as `from`/`to`, and each management
option. No exception, no error, no Arrow conversion fault in the log, and a page that draws no chart
says why in words.

The full sweep (8 site choices × every month start as `from` and every month end as `to`, plus each
management option for each site choice, on every page: about 5,000 page runs) is in the slow tier,
which CI runs after the main suite. The main suite runs a rotating sample: every page, every site
choice, the first and last month and months spread between, every management option, each at least
once. The spending over time computation that crashed for half the month starts is swept directly
(every eighth month in the main suite, every month with PHB_SWEEP=full).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from phb import contract, facts, spending
from phb.filters import Filters
from phb.warehouse import build, connect, read_info
from tests.conftest import ArrowFaults, each_section

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("overview", "uptake", "spending", "admissions", "compare", "briefing", "value")  # /data ignores the filters
FULL = os.environ.get("PHB_SWEEP") == "full"


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """One warehouse from the bundled extract for the whole sweep, and the app pointed at it."""
    warehouse = tmp_path_factory.mktemp("sweep") / "w.duckdb"
    build(ROOT / "data", warehouse)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHB_DATA", str(ROOT / "data"))
        mp.setenv("PHB_WAREHOUSE", str(warehouse))
        yield warehouse


def grid(warehouse: Path):
    """Site choices (None for all), month starts and month ends inside the data period."""
    info = read_info(warehouse)
    with connect(warehouse) as con:
        sites = [None, *facts.site_names(con)]
    starts = [d.date() for d in pd.date_range(info.period_start, info.period_end, freq="MS")]
    ends = [d.date() for d in pd.date_range(info.period_start, info.period_end, freq="ME")]
    return info, sites, starts, ends


def run_page(page: str, query: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page != "overview":
        at.switch_page(f"pages/{page}.py").run()
    return at


def check(at: AppTest, page: str, query: dict, arrow_faults: ArrowFaults) -> None:
    """The page for the query, each of its sections in turn where it is drawn a section at a time."""
    for section in each_section(at, page):
        check_section(at, f"/{page}?{query} {section or ''}", arrow_faults)


def check_section(at: AppTest, where: str, arrow_faults: ArrowFaults) -> None:
    assert not at.exception, where
    assert not at.error, (where, [e.value for e in at.error])
    assert not at.warning or all("link" not in w.value for w in at.warning), where  # the query was understood
    assert not arrow_faults.records, (where, [str(r.exc_info[1]) for r in arrow_faults.records if r.exc_info])
    charts = at.get("vega_lite_chart")
    if not charts and "Refunds" not in where:  # an empty selection says why, in words (refunds are a table)
        assert any(len(i.value) > 20 for i in at.info), where


def queries(warehouse: Path, full: bool) -> list[tuple[str, dict]]:
    info, sites, starts, ends = grid(warehouse)
    options = [None, *contract.MANAGEMENT_OPTIONS]

    def q(site, date_from=None, date_to=None, management=None) -> dict:
        out = {}
        if site:
            out["site"] = site
        if date_from and date_from != info.period_start:
            out["from"] = date_from.isoformat()
        if date_to and date_to != info.period_end:
            out["to"] = date_to.isoformat()
        if management:
            out["management"] = management
        return out

    if full:
        cases = [q(s, date_from=d) for s in sites for d in starts]
        cases += [q(s, date_to=d) for s in sites for d in ends]
        cases += [q(s, management=m) for s in sites for m in options]
        return [(page, case) for page in PAGES for case in cases]
    # the sample: page i gets site choice i, a start month and an end month spread across the
    # period, and management option i (of 4); two more runs take the last two site choices, so every
    # page, site choice and option, and the first and last months, appear at least once
    k = len(starts) - 1
    picked = []
    for i, page in enumerate(PAGES):
        lo, hi = starts[(i * 7) % k], ends[k - (i * 5) % k]
        picked.append((page, q(sites[i], date_from=lo, date_to=hi if hi > lo else None, management=options[i % 4])))
    picked.append(("spending", q(sites[6], date_from=starts[-1])))
    picked.append(("admissions", q(sites[7], date_to=ends[0])))
    return picked


SAMPLE = len(PAGES) + 2


@pytest.mark.parametrize("index", range(SAMPLE))
def test_sampled_pages_run_for_sites_periods_and_options(bundled, arrow_faults, index):
    """The CI sample of the sweep: every page, rotating through sites, months and options."""
    picked = queries(bundled, full=False)
    assert len(picked) == SAMPLE
    page, query = picked[index]
    check(run_page(page, query), page, query, arrow_faults)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_page_for_every_site_period_end_and_option(bundled, arrow_faults, page):
    """The full sweep (slow tier, run in CI): the page for every site choice against every month
    start (as from) and every month end (as to), and each management option. One AppTest per page:
    each case puts its filters in the URL and asks the page to read them again, as a newly opened
    link would, and checks the sidebar took them before checking the page."""
    from phb.ui import SEEDED_KEY

    at = run_page(page, {})
    cases = [query for p, query in queries(bundled, full=True) if p == page]
    for query in cases:
        at.query_params.clear()
        for key, value in query.items():
            at.query_params[key] = value
        at.session_state[SEEDED_KEY] = False
        at.run()
        assert at.session_state["f_sites"] == ([query["site"]] if "site" in query else []), query
        check(at, page, query, arrow_faults)


def test_spending_over_time_for_every_site_and_month(bundled):
    """Spending over time (which crashed for about half the month starts under pandas 3) for every
    site choice against month starts and month ends (every one with PHB_SWEEP=full, every eighth in
    CI), and each option: a frame every time, and no month or quarter shown that the period covers
    only in part."""
    info, sites, starts, ends = grid(bundled)
    stride = 1 if FULL else 8
    periods = [(d, info.period_end) for d in starts[::stride]] + [(info.period_start, d) for d in ends[2::stride]]
    with connect(bundled) as con:
        for site in sites:
            for management in (None, *((m,) for m in contract.MANAGEMENT_OPTIONS if site is None or FULL)):
                for lo, hi in periods if management is None else [(info.period_start, info.period_end)]:
                    filters = Filters((site,) if site else None, lo, hi, management)
                    frame, grain = spending.over_time(spending.load(con, filters, info.period_end), filters)
                    assert grain in ("month", "quarter")
                    if len(frame):
                        assert frame["period_start"].min().date() >= lo
                        months = 3 if grain == "quarter" else 1
                        last = frame["period_start"].max() + pd.DateOffset(months=months) - timedelta(days=1)
                        assert last.date() <= hi
