"""Budgets against plan beyond 12 sites (one bar per site), swept on a 14-site national extract
(benchmarks.national_extract, 1,400 people): every site choice a user can make that has more than 12 sites
(all 14, and each set of 13), against month starts as `from` and month ends as `to`, and each management option.

Each chart is checked against figures worked out here from the extract's own files, not from the
dashboard's queries: each site's budgets at its pilot end (or the end of the period, if earlier) counted
from people.csv and shown through the cell key rule (tests.conftest.shown), its plan from sites.csv rounded
as a planning figure, the percentage of the two, the order of the bars, the words where a bar is missing,
and that the chart's data came through the disclosure layer.

The main suite takes each 13-site choice over the whole period, all sites from every fourth month start
and to every fourth month end (the first and last among them), and each option, and opens the Budget uptake
page and the briefing pack on the extract; the slow tier (which CI runs) takes every site choice against
every month start and month end and each option.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from phb import contract, disclosure, exports, uptake, views
from phb.filters import Filters
from phb.warehouse import build, connect, read_info
from tests.conftest import shown as shown_count

SITES = 14
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def national14(tmp_path_factory):
    """A 14-site national extract, its warehouse, its files as plain text, and one connection."""
    from benchmarks.national_extract import generate_national

    folder = tmp_path_factory.mktemp("national14")
    generate_national(folder / "extract", people=1400, sites=SITES, chunk_people=700, seed=5)
    build(folder / "extract", folder / "w.duckdb")
    info = read_info(folder / "w.duckdb")
    people = pd.read_csv(folder / "extract" / "people.csv", dtype=str, keep_default_na=False)
    sites = pd.read_csv(folder / "extract" / "sites.csv", dtype=str, keep_default_na=False)
    with connect(folder / "w.duckdb") as con:
        yield info, people, sites, con, folder / "extract"


@pytest.fixture(scope="module")
def national14_app(national14, tmp_path_factory):
    """The app pointed at the 14-site extract and a warehouse of its own (the app may rebuild it)."""
    *_, extract = national14
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHB_DATA", str(extract))
        mp.setenv("PHB_WAREHOUSE", str(tmp_path_factory.mktemp("national14_app") / "w.duckdb"))
        yield


def names_of(sites: pd.DataFrame) -> dict[str, str]:
    return dict(zip(sites["site_code"], sites["site_name"], strict=True))


def months(info) -> tuple[list[date], list[date]]:
    """The month starts and month ends inside the data period."""
    starts = [d.date() for d in pd.date_range(info.period_start, info.period_end, freq="MS")]
    ends = [d.date() for d in pd.date_range(info.period_start, info.period_end, freq="ME")]
    return starts, ends


def spread(items: list, every: int) -> list:
    """Every `every`th item, the first and the last always among them."""
    return list(dict.fromkeys([*items[::every], items[-1]]))


def cases(info, codes: list[str], every: int) -> list[Filters]:
    """All sites and each 13-site choice over the whole period; all sites from every `every`th month start and
    to every `every`th month end; all sites with each management option. With every=1 (the slow tier), every
    site choice against every month start and end, and each option."""
    starts, ends = months(info)
    choices = [None, *(tuple(c for c in codes if c != out) for out in codes)]
    whole = [Filters(s, info.period_start, info.period_end) for s in choices]
    swept = choices if every == 1 else [None]
    periods = [(d, info.period_end) for d in spread(starts, every)] + [
        (info.period_start, d) for d in spread(ends, every)
    ]
    dated = [Filters(s, lo, hi) for s in swept for lo, hi in periods]
    options = [Filters(s, info.period_start, info.period_end, (m,)) for s in swept for m in contract.MANAGEMENT_OPTIONS]
    return whole + dated + options


def expected_rows(people: pd.DataFrame, sites: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Each selected site's budgets at pilot end (or the period's end, if earlier) and plan, from the files."""
    codes = list(filters.sites or sites["site_code"])
    holders = people[(people["outcome"] == "budget_in_place") & people["site_code"].isin(codes)]
    if filters.management:
        holders = holders[holders["management_option"].isin(filters.management)]
    holders = holders.merge(sites[["site_code", "pilot_end"]], on="site_code")
    on = holders["pilot_end"].where(holders["pilot_end"] < filters.date_to.isoformat(), filters.date_to.isoformat())
    in_place = holders[(holders["budget_start"] <= on) & ((holders["budget_end"] == "") | (holders["budget_end"] > on))]
    ids = in_place.groupby("site_code")["person_id"].agg(list)
    rows = []
    for _, site in sites[sites["site_code"].isin(codes)].iterrows():
        people_ids = ids.get(site["site_code"], [])
        planned = int(site["planned_budgets"])
        rows.append(
            {
                "site_code": site["site_code"],
                "site": site["site_name"],
                "ids": people_ids,
                "budgets": shown_count(people_ids),
                "planned": planned,
                "plan": planning(planned),
            }
        )
    return pd.DataFrame(rows)


def planning(n: int) -> int | str:
    """A planning figure as shown: 1 to 7 withheld, the rest to the nearest 5 (halves up)."""
    return disclosure.SUPPRESSED if 0 < n < 8 else 5 * int(n / 5 + 0.5)


def pct(budgets, plan) -> float | None:
    if isinstance(budgets, int) and isinstance(plan, int) and plan > 0:
        return round(100 * budgets / plan)
    return None


def why(budgets, plan) -> str:
    if budgets == disclosure.SUPPRESSED:
        return "budgets and plan withheld" if plan == disclosure.SUPPRESSED else "budgets withheld"
    return "plan withheld" if plan == disclosure.SUPPRESSED else "no plan"


def count_text(value) -> str:
    return disclosure.FEWER if value == disclosure.SUPPRESSED else f"{value:,}"


def check_case(con, people, sites, filters: Filters) -> set[str]:
    """One selection's chart against the files; returns the statuses it drew and the words of bars it could not
    draw (empty where there was no chart)."""
    names = names_of(sites)
    view = views.BUDGETS_AGAINST_PLAN
    data = uptake.load(con, filters)
    chart = view.chart(data, names)
    expected = expected_rows(people, sites, filters)
    everyone = shown_count([i for ids in expected["ids"] for i in ids])
    where = f"{len(expected)} sites, {filters.date_from} to {filters.date_to}, {filters.management or 'all options'}"
    if chart is None:
        # nothing to draw: then the budgets in place for all selected sites at the period's end are withheld or none
        at_end = people[
            (people["outcome"] == "budget_in_place")
            & people["site_code"].isin(expected["site_code"])
            & (people["budget_start"] <= filters.date_to.isoformat())
            & ((people["budget_end"] == "") | (people["budget_end"] > filters.date_to.isoformat()))
        ]
        if filters.management:
            at_end = at_end[at_end["management_option"].isin(filters.management)]
        assert shown_count(at_end["person_id"]) in (0, disclosure.SUPPRESSED), where
        assert len(view.why_empty) > 20
        return set()
    disclosure.check_chart(chart)  # every data set came through the disclosure layer
    spec = exports.spec(chart)  # checked against the Vega-Lite schema (PHB_VALIDATE_CHARTS in conftest)
    assert "facet" not in spec, where
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rule", "bar", "text", "text"], where
    assert view.alt(data, names).startswith("Bar chart of each site's budgets"), where

    drawn = exports.chart_data(chart)
    assert list(drawn.columns) == ["site", "budgets_text", "plan_text", "pct_of_plan", "status", "text"], where
    expected["pct"] = [pct(b, p) for b, p in zip(expected["budgets"], expected["plan"], strict=True)]
    ranked = expected.assign(none=expected["pct"].isna(), key=-expected["pct"].fillna(0)).sort_values(
        ["none", "key", "site_code"]
    )
    plan_all = planning(int(expected["planned"].sum()))
    overall = {"site": uptake.ALL_SITES, "budgets": everyone, "plan": plan_all, "pct": pct(everyone, plan_all)}
    rows = [overall, *ranked.to_dict("records")]
    assert drawn["site"].tolist() == [r["site"] for r in rows], where
    assert spec["layer"][1]["encoding"]["y"]["sort"] == [r["site"] for r in rows], where
    for row, (_, bar) in zip(rows, drawn.iterrows(), strict=True):
        assert bar["budgets_text"] == count_text(row["budgets"]), (where, row["site"])
        assert bar["plan_text"] == count_text(row["plan"]), (where, row["site"])
        if row["pct"] is None or pd.isna(row["pct"]):
            assert pd.isna(bar["pct_of_plan"]), (where, row["site"])
            assert bar["text"] == why(row["budgets"], row["plan"]), (where, row["site"])
        if row["pct"] is not None and not pd.isna(row["pct"]):
            assert round(bar["pct_of_plan"]) == row["pct"], (where, row["site"])
            assert bar["text"] == f"{row['pct']:.0f}%", (where, row["site"])
            status = "passed plan" if row["pct"] >= 100 else "half of plan or more" if row["pct"] >= 50 else None
            assert bar["status"] == (status or "below half of plan"), (where, row["site"])
            continue
        # no percentage: a withheld count (1 to 7) is still below half of a plan of 16 or more
        status = "below half of plan" if isinstance(row["plan"], int) and row["plan"] >= 16 else "too few to say"
        assert bar["status"] == status, (where, row["site"])
    title = exports.title_text(chart)
    assert sum(name in title for name in names.values()) <= 3, (where, title)  # a finding names three sites at most
    return set(drawn["status"]) | set(drawn.loc[drawn["pct_of_plan"].isna(), "text"])


def test_budgets_against_plan_is_a_bar_per_site_beyond_twelve_sites(national14):
    """14 sites: no facet, its own alt text and subtitle; 12 of them: the small multiples (13 panels with all
    selected sites), as on the pilot's seven sites."""
    info, people, sites, con, _ = national14
    names = names_of(sites)
    view = views.BUDGETS_AGAINST_PLAN
    every = uptake.load(con, Filters(None, info.period_start, info.period_end))
    spec = exports.spec(view.chart(every, names))
    assert "facet" not in spec
    assert " ".join(spec["title"]["subtitle"]).startswith("Budgets in place at each site's pilot end")
    twelve = uptake.load(con, Filters(tuple(names)[:12], info.period_start, info.period_end))
    small = exports.spec(view.chart(twelve, names))
    assert small["facet"]["field"] == "site" and len(small["spec"]["layer"]) == 3
    assert view.alt(twelve, names).startswith("Small multiple line charts")


def test_plan_bars_for_site_choices_periods_and_options(national14):
    """The main suite's sweep: each of the 15 site choices with more than 12 sites over the whole period, all
    sites from every fourth month start and to every fourth month end, and each management option."""
    info, people, sites, con, _ = national14
    seen = set()
    for filters in cases(info, sorted(names_of(sites)), every=4):
        seen |= check_case(con, people, sites, filters)
    # the sample draws every kind of bar, a withheld count among them, not only the easy ones
    assert {"passed plan", "half of plan or more", "below half of plan", "budgets withheld"} <= seen, seen


@pytest.mark.slow
@pytest.mark.parametrize(
    "left_out", [None, *range(SITES)], ids=["all sites", *(f"but site {i + 1}" for i in range(SITES))]
)
def test_plan_bars_for_every_site_choice_month_and_option(national14, left_out):
    """The full sweep (slow tier): every site choice with more than 12 sites (one test each) against every month
    start and every month end, and each management option."""
    info, people, sites, con, _ = national14
    codes = sorted(names_of(sites))
    choice = None if left_out is None else tuple(c for c in codes if c != codes[left_out])
    for filters in [f for f in cases(info, codes, every=1) if f.sites == choice]:
        check_case(con, people, sites, filters)


def test_the_sweep_reaches_the_cases_it_names(national14):
    """The main suite's sample holds all sites and each 13-site choice, the first and last month start and month
    end, and each option, so a change to the grid cannot quietly drop a boundary."""
    info, _, sites, *_ = national14
    codes = sorted(names_of(sites))
    picked = cases(info, codes, every=4)
    assert {f.sites for f in picked} == {None, *(tuple(c for c in codes if c != out) for out in codes)}
    starts, ends = months(info)
    assert {starts[0], starts[-1]} <= {f.date_from for f in picked}
    assert {ends[0], ends[-1]} <= {f.date_to for f in picked}
    assert {f.management for f in picked if f.management} == {(m,) for m in contract.MANAGEMENT_OPTIONS}


@pytest.mark.parametrize("page", ["uptake", "briefing"])
def test_the_pages_draw_a_bar_per_site_for_fourteen_sites(national14_app, page):
    """As a user sees it: the Budget uptake page and the briefing pack (whose default charts hold budgets against
    plan) on the 14-site extract draw the bar per site, with no error."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    specs = [json.loads(c.spec) for c in at.get("vega_lite_chart")]
    plan = [s for s in specs if "Plan" in json.dumps(s.get("layer", [])) and "pct_of_plan" in json.dumps(s)]
    assert len(plan) == 1 and "facet" not in plan[0], [s.get("title") for s in specs]
