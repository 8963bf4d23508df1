"""Hospital admissions: the budget effect recovers the generator's true rate ratio, agrees with an
independent computation, says so when events are too few; SPC series and rates behave."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from phb import admissions, disclosure
from phb.filters import Filters
from phb.generate import generate
from phb.queries import run_query
from phb.stats import count_ci
from phb.warehouse import build, connect
from tests.conftest import DATA, record_key, run_cli
from tests.conftest import shown as shown_count


def summary_for(warehouse: Path, info, sites=None, start=None, end=None) -> pd.DataFrame:
    with connect(warehouse) as con:
        return run_query(
            con,
            "admission_effect_by_site",
            sites=sites,
            date_from=start or info.period_start,
            date_to=end or info.period_end,
            management=None,
        )


def glm_clustered_se(warehouse: Path, sites) -> float:
    """The peer implementation: statsmodels' Poisson GLM of each person's emergency admissions in the year
    before and the year after on group, window and group x window, offset log person-years, errors
    clustered by person (cov_type="cluster"), fitted to one row per person and window read straight from
    the warehouse's person_windows table."""
    import statsmodels.api as sm

    with connect(warehouse) as con:
        people = con.execute(
            "select site_code, grp, emergency_pre, emergency_post, years_pre, years_post from person_windows "
            "where years_pre > 0 and years_post > 0"
        ).df()
    people = people[people["site_code"].isin(sites)].reset_index(drop=True)
    n = len(people)
    holder = np.tile((people["grp"] == "budget_holders").to_numpy(dtype=float), 2)
    post = np.repeat([0.0, 1.0], n)
    design = np.column_stack([np.ones(2 * n), holder, post, holder * post])
    counts = np.concatenate([people["emergency_pre"].to_numpy(), people["emergency_post"].to_numpy()])
    exposure = np.concatenate([people["years_pre"].to_numpy(), people["years_post"].to_numpy()])
    fit = sm.GLM(counts, design, family=sm.families.Poisson(), offset=np.log(exposure)).fit(
        cov_type="cluster", cov_kwds={"groups": np.tile(np.arange(n), 2)}
    )
    return float(fit.bse[3])


def test_the_clustered_error_from_sums_equals_statsmodels_glm_fitted_person_by_person(bundled_warehouse):
    """The model's clustered standard error is worked out from sums by site and group (no row per person
    leaves the warehouse); statsmodels' GLM, fitted to every person's two rows, is the peer it must equal:
    for all sites and each site with admissions on both sides."""
    warehouse, info = bundled_warehouse
    summary = summary_for(warehouse, info)
    scopes = [sorted(summary["site_code"].unique())] + [[s] for s in sorted(summary["site_code"].unique())]
    checked = 0
    for sites in scopes:
        totals = summary[summary["site_code"].isin(sites)].groupby("grp").sum(numeric_only=True)
        if (totals[["emergency_pre", "emergency_post"]] == 0).any(axis=None):
            continue  # no rate to fit in a cell
        groups = {grp: {m: float(v) for m, v in row.items()} for grp, row in totals.to_dict("index").items()}
        assert admissions.clustered_se(groups) == pytest.approx(glm_clustered_se(warehouse, sites), rel=1e-9), sites
        checked += 1
    assert checked >= 5


def test_the_estimated_effect_contains_the_true_rate_ratio_at_scale_20(tmp_path):
    """Issue 5's check: data generated with --scale 20 --effect 0.7; the all-sites 95% interval holds 0.7."""
    generate(tmp_path / "x", scale=20, effect=0.7)
    info = build(tmp_path / "x", tmp_path / "w.duckdb")
    effect = admissions.did_effect(summary_for(tmp_path / "w.duckdb", info))
    assert effect.low < 0.7 < effect.high
    assert effect.high - effect.low < 0.15  # and is tight enough to mean something


def test_the_point_estimate_equals_the_ratio_of_rate_ratios_from_the_extract_files(bundled_warehouse):
    """The published estimate is (holders' after/before rate) over (comparison's), from the four counts as
    shown (cell key perturbation, the cell key worked out here from the admissions' record keys) over the
    person-years, here worked out with pandas straight from people.csv and admissions.csv. The unrounded
    ratio would pin the unrounded counts beside the shown ones (review finding, issue 10)."""
    warehouse, info = bundled_warehouse
    people = pd.read_csv(DATA / "people.csv", dtype=str, keep_default_na=False)
    adm = pd.read_csv(DATA / "admissions.csv", dtype=str, keep_default_na=False)
    cohort = people[(people["outcome"] == "budget_in_place") | (people["arm"] == "comparison")].copy()
    cohort["index"] = pd.to_datetime(cohort["index_date"])
    start, end = pd.Timestamp(info.period_start), pd.Timestamp(info.period_end) + pd.Timedelta(days=1)
    year = pd.DateOffset(months=12)
    emergency = adm[adm["admission_method"] == "emergency"].merge(cohort[["person_id", "index", "arm"]])
    emergency["when"] = pd.to_datetime(emergency["admitted_on"])
    pre = (emergency["when"] >= emergency["index"] - year) & (emergency["when"] < emergency["index"])
    post = (emergency["when"] >= emergency["index"]) & (emergency["when"] < emergency["index"] + year)

    def years(lo, hi):
        return (
            ((np.minimum(hi, end) - np.maximum(lo, start)).dt.days.clip(lower=0) / 365.25).groupby(cohort["arm"]).sum()
        )

    pre_years = years(cohort["index"] - year, cohort["index"])
    post_years = years(cohort["index"], cohort["index"] + year)
    pre_n = pd.Series({arm: shown_count(emergency.loc[pre & (emergency["arm"] == arm), "admission_id"])
                       for arm in ("phb", "comparison")})  # fmt: skip
    post_n = pd.Series({arm: shown_count(emergency.loc[post & (emergency["arm"] == arm), "admission_id"])
                        for arm in ("phb", "comparison")})  # fmt: skip
    change = (post_n / post_years) / (pre_n / pre_years)
    expected = change["phb"] / change["comparison"]
    effect = admissions.did_effect(summary_for(warehouse, info))
    assert effect.rate_ratio == pytest.approx(expected, rel=1e-6)
    assert effect.holders_change == pytest.approx(change["phb"], rel=1e-6)


def test_too_few_events_gives_no_estimate_and_says_so(bundled_warehouse):
    """Stockport alone has too few admissions: no rate ratio, and a plain sentence instead of noise."""
    warehouse, info = bundled_warehouse
    assert admissions.did_effect(summary_for(warehouse, info, sites=["STP"])) is None
    assert "Too few emergency admissions" in admissions.effect_sentence(None)


def test_effect_sentence_reads_the_estimate_in_plain_words():
    """The read-out gives both groups' change and the effect with its interval, as the issue words it."""
    effect = admissions.Effect(
        rate_ratio=0.78, low=0.66, high=0.92, holders_change=0.69, comparison_change=0.88, people=100
    )
    assert admissions.effect_sentence(effect) == (
        "Emergency admissions fell 31% for budget holders and fell 12% for the comparison group: about 22% fewer "
        "admissions than expected without budgets (95% interval 8% to 34%; beyond chance)."
    )


def test_rates_before_and_after_use_the_count_interval_over_person_years(bundled_warehouse):
    """Each shown rate is the shown (rounded) count over person-years, with count_ci's limits for that count:
    an interval around the unrounded count would give the count away."""
    warehouse, info = bundled_warehouse
    with connect(warehouse) as con:
        data = admissions.load(con, Filters(None, info.period_start, info.period_end))
    names = dict(zip(data.sites["site_code"], data.sites["site_name"]))
    rates = admissions.before_after(data, names)
    row = data.windows[(data.windows["site_code"] == "DOR") & (data.windows["grp"] == "comparison")].iloc[0]
    shown = rates[
        (rates["site"] == "Dorset") & (rates["group"] == "Comparison group") & (rates["window"] == "Year after")
    ]
    rounded = disclosure.count(int(row["emergency_post"]), row["emergency_post_ckey"])
    low, high = count_ci(rounded)
    # published to 2 decimal places (rates per person-year)
    assert shown["rate"].iloc[0] == round(rounded / row["years_post"], 2)
    assert (shown["low"].iloc[0], shown["high"].iloc[0]) == (
        round(low / row["years_post"], 2),
        round(high / row["years_post"], 2),
    )
    withheld = rates[rates["admissions"] == disclosure.SUPPRESSED]
    assert withheld["rate"].isna().all()  # a rate on a count of 1 to 7 would give the count away


def test_spc_charts_rates_per_person_month_from_rounded_figures(bundled_warehouse):
    """All sites' budget holders: too few months can be shown, so quarters; each rate is the rounded admissions
    over the rounded person-months at risk (worked out here from the extract files, day by day), per 100; the
    limits are Laney's from those rounded figures. Stockport alone is too small even by quarter, and says so."""
    warehouse, info = bundled_warehouse
    filters = Filters(None, info.period_start, info.period_end)
    with connect(warehouse) as con:
        data = admissions.load(con, filters)
        quarters = admissions.load_quarters(con, filters)
    chart, grain, why = admissions.spc_series(data, None, "budget_holders", "admissions", filters, lambda: quarters)
    assert (grain, why) == ("quarter", None)
    assert set(chart.columns) == {"period", "rate", "centre", "lcl", "ucl", "sigma_z", "special_cause", "rule",
                                  "variation"}  # fmt: skip
    # from the extract: holders' days with a budget in place, and their emergency admissions on those days
    people = pd.read_csv(DATA / "people.csv", dtype=str, keep_default_na=False)
    holders = people[people["outcome"] == "budget_in_place"]
    end = pd.Timestamp(info.period_end) + pd.Timedelta(days=1)
    spans = [
        (pid, pd.Timestamp(s), pd.Timestamp(e) if e else end)
        for pid, s, e in zip(holders["person_id"], holders["budget_start"], holders["budget_end"])
    ]
    adm = pd.read_csv(DATA / "admissions.csv", dtype=str, keep_default_na=False)
    adm = adm[adm["admission_method"] == "emergency"].assign(on=lambda d: pd.to_datetime(d["admitted_on"]))
    by_person = {p: g for p, g in adm.groupby("person_id")}
    for _, row in chart.iterrows():
        q_start = pd.Timestamp(row["period"])
        q_end = q_start + pd.offsets.QuarterBegin(1, startingMonth=1)
        months = pd.date_range(q_start, periods=3, freq="MS")
        person_months = 0.0
        at_risk, events = [], []  # the people at risk in the quarter, and the admissions counted
        for pid, s, e in spans:
            here = 0.0
            for m in months:
                m_end = m + pd.offsets.MonthBegin(1)
                here += max((min(e, m_end) - max(s, m)).days, 0) / (m_end - m).days
            if here > 0:
                at_risk.append(pid)
            person_months += here
            mine = by_person.get(pid)
            if mine is not None:
                counted = (mine["on"] >= max(s, q_start)) & (mine["on"] < min(e, q_end))
                events += mine.loc[counted, "admission_id"].tolist()
        # each figure as counts are shown: its cell key is the record keys of its records, summed mod 256
        shown_events = shown_count(events)
        shown_months = disclosure.count(round(person_months), sum(record_key(p) for p in at_risk) % 256)
        assert row["rate"] == pytest.approx(100 * shown_events / shown_months)
    assert (chart["lcl"] <= chart["centre"]).all() and (chart["centre"] <= chart["ucl"]).all()
    assert chart["ucl"].nunique() > 1  # the limits vary with the people at risk
    _, _, why = admissions.spc_series(data, "STP", "budget_holders", "admissions", filters, lambda: quarters)
    assert why == "Too few emergency admissions or people at risk to chart safely, even by quarter."


def test_facts_carry_the_effect_and_the_rates(bundled_warehouse):
    """`phb facts` has admissions_effect {rate_ratio, ci} per block, null with a note where too few."""
    warehouse, _ = bundled_warehouse
    out = run_cli("facts", data=DATA, warehouse=warehouse)
    facts = json.loads(out.stdout)
    effect = facts["all_sites"]["admissions_effect"]
    assert effect["ci"][0] < effect["rate_ratio"] < effect["ci"][1]
    assert facts["sites"]["STP"]["admissions_effect"]["rate_ratio"] is None
    assert facts["all_sites"]["holders_rate_pre"] > facts["all_sites"]["holders_rate_post"]


def _selections(con, info, sweep: bool) -> list[Filters]:
    """All sites over the whole period, 2013 (June to December) and the first 12 whole months; with `sweep`,
    also each other calendar year, each site alone and each management option over the whole period, and the
    first 18 and 24 whole months."""
    from datetime import date

    from phb import contract

    whole = (info.period_start, info.period_end)
    start = pd.Timestamp(info.period_start).to_period("M") + 1
    first_months = [Filters(None, start.start_time.date(), (start + n - 1).end_time.date()) for n in (12, 18, 24)]
    years = [
        Filters(None, max(date(y, 1, 1), info.period_start), min(date(y, 12, 31), info.period_end))
        for y in range(info.period_start.year, info.period_end.year + 1)
    ]
    chosen = [Filters(None, *whole), years[0], first_months[0]]
    if not sweep:
        return chosen
    sites = [s for (s,) in con.execute("select site_code from sites order by 1").fetchall()]
    return (
        chosen
        + years[1:]
        + [Filters((site,), *whole) for site in sites]
        + [Filters(None, *whole, (option,)) for option in contract.MANAGEMENT_OPTIONS]
        + first_months[1:]
    )


@pytest.mark.parametrize("sweep", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_quarters_are_read_only_when_an_spc_chart_falls_back_to_them(bundled_warehouse, sweep):
    """The Admissions and Compare pages read person-months at risk by quarter only when a chart asks for them.
    For each selection (`_selections`) and every chart the pages can draw (all selected sites and each site,
    either group, either measure): the quarterly rows are asked for whenever the chart is by quarter, and the
    chart's periods are then quarter starts; they are never asked for by a chart by month, but for all sites'
    bed days, which looks at each site's own chart too (where one is withheld, all sites' is, as it would give
    the withheld site's by subtraction). Both grains occur, and charts by month with the quarterly rows never
    read (the bundled data's 2013 and first 12 whole months). That a chart is the same whichever way its rows
    came is test_spc_charts_rates_per_person_month_from_rounded_figures' and the admissions sweep's to show."""
    warehouse, info = bundled_warehouse
    seen = set()
    with connect(warehouse) as con:
        for filters in _selections(con, info, sweep):
            data = admissions.load(con, filters)
            quarters = admissions.load_quarters(con, filters)
            for scope in [None, *data.at_risk["site_code"].dropna().unique()]:
                for grp in admissions.GROUPS:
                    for measure in admissions.SPC_MEASURES:
                        asked = []

                        def lazily(asked=asked, quarters=quarters):
                            asked.append(1)
                            return quarters

                        chart, grain, why = admissions.spc_series(data, scope, grp, measure, filters, lazily)
                        if grain == "quarter":
                            assert asked, (filters, scope, grp, measure)
                            periods = pd.to_datetime(chart["period"])
                            assert (periods == periods.dt.to_period("Q").dt.start_time).all()
                        elif scope is not None or measure == "admissions":
                            assert not asked, (filters, scope, grp, measure)
                        seen.add((grain, bool(asked)))
    assert {("quarter", True), ("month", False)} <= seen


def test_spc_title_counts_earlier_special_cause_periods_in_words():
    """One period is singular, more are plural; the last period's variation decides the rest of the title."""
    chart = pd.DataFrame({"variation": ["concern", "improvement", "improvement", "common"], "rule": ["", "", "", ""]})
    assert admissions.spc_title(chart, "quarter", "Dorset, budget holders") == (
        "Dorset, budget holders: special cause variation earlier (2 quarters of improvement and 1 quarter of "
        "concern), common cause now"
    )
    assert admissions.spc_title(chart.iloc[[0, 3]], "month", "All") == (
        "All: special cause variation earlier (1 month of concern), common cause now"
    )


def test_the_effect_for_each_site_read_from_its_rows_equals_the_effect_of_its_rows(bundled_warehouse):
    """did_effects_by_site reads each site's budget effect from its rows as they are; it must give exactly what
    did_effect gives for the site's rows alone (grouped and summed by pandas), for every site, over the whole
    period and each calendar year, including the sites with too few admissions (None)."""
    warehouse, info = bundled_warehouse
    checked = estimated = 0
    for start, end in [(info.period_start, info.period_end)] + [
        (date(y, 1, 1), date(y, 12, 31)) for y in range(info.period_start.year, info.period_end.year + 1)
    ]:
        summary = summary_for(warehouse, info, start=start, end=end)
        by_site = admissions.did_effects_by_site(summary)
        assert set(by_site) == set(summary["site_code"])
        for site, effect in by_site.items():
            assert effect == admissions.did_effect(summary[summary["site_code"] == site]), (site, start)
            checked += 1
            estimated += effect is not None
    assert checked >= 20 and estimated >= 7  # 7 sites whole-period; fewer in the first and last years


def test_the_effect_summary_sums_whole_days_so_its_figures_are_exact(bundled_warehouse):
    """admission_effect_by_site adds whole days and counts (exact in any order) and turns days into person-years
    once, so the model gives the same figures on every run; adding the person-years as doubles, DuckDB's parallel
    sums differed in the last bits from run to run at a million people. Each person's days in each window are
    worked out here from the people table's index dates and the data period (12 calendar months each side, as
    the contract defines the windows), and every column of the summary, for every site and group, must equal
    Python's whole-number sums of them, divided once, bit for bit."""
    from dateutil.relativedelta import relativedelta

    warehouse, info = bundled_warehouse
    with connect(warehouse) as con:
        rows = con.execute(
            "select site_code, grp, index_date, emergency_pre, emergency_post, days_pre, days_post, years_pre "
            "from person_windows"
        ).df()
    first, after = info.period_start, info.period_end + pd.Timedelta(days=1)

    def days(start, end) -> int:
        return max((min(end, after) - max(start, first)).days, 0)

    index = [d.date() for d in pd.to_datetime(rows["index_date"])]
    pre = [days(d - relativedelta(months=12), d) for d in index]
    post = [days(d, d + relativedelta(months=12)) for d in index]
    assert rows["days_pre"].tolist() == pre and rows["days_post"].tolist() == post
    assert (rows["years_pre"] == rows["days_pre"] / 365.25).all()
    rows = rows[(rows["days_pre"] > 0) & (rows["days_post"] > 0)]
    summary = summary_for(warehouse, info).set_index(["site_code", "grp"])
    year = 365.25
    for (site, grp), part in rows.groupby(["site_code", "grp"]):
        y0, y1 = [int(v) for v in part["emergency_pre"]], [int(v) for v in part["emergency_post"]]
        d0, d1 = [int(v) for v in part["days_pre"]], [int(v) for v in part["days_post"]]

        def total(a, b) -> int:
            return sum(x * y for x, y in zip(a, b))

        expected = {
            "people": len(part),
            "emergency_pre": sum(y0),
            "emergency_post": sum(y1),
            "years_pre": sum(d0) / year,
            "years_post": sum(d1) / year,
            "y0_y0": float(total(y0, y0)),
            "y1_y1": float(total(y1, y1)),
            "y0_y1": float(total(y0, y1)),
            "e0_e0": total(d0, d0) / (year * year),
            "e1_e1": total(d1, d1) / (year * year),
            "e0_e1": total(d0, d1) / (year * year),
            "y0_e0": total(y0, d0) / year,
            "y1_e1": total(y1, d1) / year,
            "y0_e1": total(y0, d1) / year,
            "y1_e0": total(y1, d0) / year,
        }
        got = summary.loc[(site, grp)]
        assert {k: got[k] for k in expected} == expected, (site, grp)
    assert len(summary) == rows.groupby(["site_code", "grp"]).ngroups >= 14


def test_the_admission_rates_person_years_are_whole_days_added_exactly(bundled_warehouse):
    """admissions_windows_by_site and admissions_after_by_site_age add whole days and make them person-years once,
    as the effect model does, so the rates' person-years are the same on every run: each site's (and group's, or
    age band's) person-years equal Python's whole-number sum of person_windows' days divided by 365.25, bit for
    bit, over the whole period."""
    warehouse, info = bundled_warehouse
    params = {"sites": None, "date_from": info.period_start, "date_to": info.period_end, "management": None}
    with connect(warehouse) as con:
        rows = con.execute(
            "select w.site_code, w.grp, p.age_band, w.days_pre, w.days_post from person_windows as w "
            "join people as p using (person_id)"
        ).df()
        windows = run_query(con, "admissions_windows_by_site", **params).set_index(["site_code", "grp"])
        after = run_query(con, "admissions_after_by_site_age", **params).set_index(["site_code", "age_band"])
    for (site, grp), part in rows.groupby(["site_code", "grp"]):
        got = windows.loc[(site, grp)]
        assert got["years_pre"] == sum(int(d) for d in part["days_pre"]) / 365.25, (site, grp)
        assert got["years_post"] == sum(int(d) for d in part["days_post"]) / 365.25, (site, grp)
    holders = rows[rows["grp"] == "budget_holders"]
    for (site, band), part in holders.groupby(["site_code", "age_band"]):
        assert after.loc[(site, band), "years"] == sum(int(d) for d in part["days_post"]) / 365.25, (site, band)
    assert len(windows) >= 14 and len(after) >= 14
