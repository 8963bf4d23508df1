"""Value for money (issue 16): the bootstrap interval against scipy's, the difference in differences against an
independent calculation from the extract files, the truth of a generated extract inside the interval, the
disclosure rule for derived money, the national figures, the page, the facts and the pack."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from phb import disclosure, national, value, views
from phb.config import DEFAULT_UNIT_COSTS_GBP
from phb.filters import Filters
from phb.generate import generate
from phb.warehouse import build, connect
from tests.conftest import DATA, ROOT, element_nodes

YEAR = pd.DateOffset(months=12)


# ---------------------------------------------------------------------------------------------
# The bootstrap, against a peer implementation


def test_percentile_interval_of_known_replicates_is_worked_out_by_hand():
    """The percentile interval of the replicates 1, 2, ..., 100 with linear interpolation between order
    statistics: rank 0.025 x 99 = 2.475 from the first, so 1 + 2.475 = 3.475; and 1 + 0.975 x 99 = 97.525."""
    low, high = value.percentile_interval(np.arange(1, 101))
    assert (low, high) == (pytest.approx(3.475), pytest.approx(97.525))


def test_the_bootstrap_interval_of_a_mean_agrees_with_scipy_stats_bootstrap():
    """Peer implementation: scipy.stats.bootstrap(method="percentile") (SciPy reference: the percentile interval
    is the alpha/2 and 1 - alpha/2 percentiles of the bootstrap distribution; Efron and Tibshirani, An
    Introduction to the Bootstrap, 1993, section 13.3). Our person-level resampling of one stratum, with the
    statistic a mean (spending over years of 1 each), must give the same interval up to Monte Carlo error, on
    a skewed sample like hospital costs (lognormal, most small, a few large). With 100,000 resamples each, an
    end's Monte Carlo standard deviation is about 0.009 standard errors (sqrt(0.025 x 0.975 / 100,000) over the
    normal density at 1.96), so two independent runs differ by about 0.012; the tolerance, 0.05, is 4 of those
    (with 20,000 resamples it was under 2, and a change of seed alone failed it)."""
    from scipy import stats

    rng = np.random.default_rng(7)
    x = np.round(np.exp(rng.normal(7, 1.2, 300)), 2)
    people = pd.DataFrame({c: 0.0 for c in value.COLUMNS}, index=range(len(x)))
    people["spend_post"], people["years_post"] = x, 1.0
    people["site_code"], people["grp"] = "AAA", "budget_holders"
    totals = value.bootstrap_totals(people, 100_000, seed=11)
    ours = value.percentile_interval(totals[:, 0, value._I["spend_post"]] / totals[:, 0, value._I["years_post"]])
    peer = stats.bootstrap((x,), np.mean, method="percentile", n_resamples=100_000, random_state=12)
    peer = peer.confidence_interval
    se = x.std(ddof=1) / math.sqrt(len(x))
    assert ours[0] == pytest.approx(peer.low, abs=0.05 * se)
    assert ours[1] == pytest.approx(peer.high, abs=0.05 * se)
    assert ours[1] - ours[0] > 3.5 * se  # a real interval, not a point


def test_resampling_keeps_each_site_and_group_at_its_size():
    """Within strata: a stratum of 3 people whose 'years_post' is 1 each always totals 3 in every resample."""
    people = pd.DataFrame({c: 0.0 for c in value.COLUMNS}, index=range(5))
    people["years_post"] = 1.0
    people["site_code"] = ["A", "A", "A", "B", "B"]
    people["grp"] = ["budget_holders"] * 3 + ["comparison"] * 2
    totals = value.bootstrap_totals(people, 50)
    assert (totals[:, 0, value._I["years_post"]] == 3).all() and (totals[:, 1, value._I["years_post"]] == 2).all()


def test_resampling_keeps_each_management_options_budget_holders_at_their_number():
    """Budget holders are resampled within their management option as well as their site: in a site with 2
    holders on one option, 3 on another and 4 comparison people (years_post 1 each), every resample still has 2
    and 3 holders on the options and 4 comparison people; so each option's row reads its holders' own
    resamples."""
    people = pd.DataFrame({c: 0.0 for c in value.COLUMNS}, index=range(9))
    people["years_post"] = 1.0
    people["site_code"] = "A"
    people["grp"] = ["budget_holders"] * 5 + ["comparison"] * 4
    people["management_option"] = ["notional"] * 2 + ["direct_payment"] * 3 + [None] * 4
    strata, table = value.strata_of(people)
    assert table.values.tolist() == [
        ["A", "budget_holders", "direct_payment"],
        ["A", "budget_holders", "notional"],
        ["A", "comparison", ""],
    ]
    per_stratum = value.stratum_totals(value._matrix(people), strata, value.stratum_names(table), 40)
    assert per_stratum.shape == (3, 40, len(value.COLUMNS))
    assert (per_stratum[:, :, value._I["years_post"]] == np.array([[3], [2], [4]])).all()


def test_the_resamples_are_the_same_in_one_thread_or_two(monkeypatch):
    """Each stratum has its own generator (seeded from its name), so the order the threads take the strata in
    cannot change a figure, including a stratum split into random groups."""
    people = _skewed_people(value.EXACT_UP_TO + 300, seed=8)
    people["site_code"] = np.where(np.arange(len(people)) % 3 == 0, "B", "A")
    monkeypatch.setattr(value, "THREADS", 1)
    one = value.bootstrap_totals(people, 300)
    monkeypatch.setattr(value, "THREADS", 2)
    np.testing.assert_array_equal(one, value.bootstrap_totals(people, 300))
    assert one.std(axis=0).max() > 0  # resamples that differ from each other


def _cell_by_person(values: np.ndarray, keys: np.ndarray, column: str):
    """A total as shown, from the people's own values: the rule given the total, the number of non-zero
    contributions, the two largest by size (sorting them all) and the cell key of their record keys."""
    contributing = values != 0
    if not contributing.any():
        return 0.0
    sizes = np.sort(np.abs(values[contributing]))[::-1]
    top2 = float(sizes[1]) if len(sizes) > 1 else 0.0
    rule = disclosure.days if column in value.DAY_COLUMNS else disclosure.money
    key = disclosure.cell_key_of(keys[contributing])
    return rule(float(values.sum()), int(contributing.sum()), float(sizes[0]), top2, key)


def test_totals_from_each_strata_sums_are_the_rule_applied_to_the_people_themselves():
    """Every estimate's totals and disclosure checks are read from per-stratum sums (value.stratum_sums) rather
    than from every person again. For 300 random choices of whole strata, over people with many zeros, ties
    for the largest contribution, refunds (negative values) and strata of one person, each group's total as
    shown, its two largest contributions and its largest must be what the rule and a sort give from the chosen
    people's own values."""
    rng = np.random.default_rng(21)
    n = 4000
    people = pd.DataFrame({c: 0.0 for c in value.COLUMNS}, index=range(n))
    for column in value.COLUMNS:
        amounts = np.round(np.exp(rng.normal(5, 1.5, n)), 2) * rng.choice([0, 0, 1, 1, 1, -1], n)
        amounts[rng.random(n) < 0.01] = 400.0  # ties
        if column in ("cost_pre", "mh_days_post"):
            amounts = np.clip(amounts, -3000, 3000)  # many people sharing the largest contribution
        people[column] = amounts
    people["site_code"] = rng.choice(list("ABCDEFGH"), n)
    people["grp"] = rng.choice(["budget_holders", "comparison"], n)
    people["management_option"] = np.where(people["grp"] == "budget_holders", rng.choice(["x", "y"], n), None)
    people.loc[0, ["site_code", "grp"]] = ["Z", "comparison"]  # a stratum of one person
    people["record_key"] = rng.integers(0, 2**31 - 1, n)
    strata, table = value.strata_of(people)
    matrix, keys = value._matrix(people), people["record_key"].to_numpy()
    sums = value.stratum_sums(matrix, keys, strata, len(table))
    assert (sums.people == np.bincount(strata)).all() and len(table) == 8 * 3 + 1
    holder_strata = value._holders(table)
    checked = 0
    for _ in range(300):
        chosen = rng.random(len(table)) < rng.uniform(0.05, 1)
        for mine in (chosen & holder_strata, chosen & ~holder_strata):
            rows = mine[strata]
            for column in (*value.MONEY_COLUMNS, *value.DAY_COLUMNS):
                c = value._I[column]
                expected = _cell_by_person(matrix[rows, c], keys[rows], column)
                got = value._cell(sums, mine, c, column)
                assert got == pytest.approx(expected, abs=1e-6) if isinstance(expected, float) else got == expected
                sizes = np.sort(np.abs(matrix[rows, c][matrix[rows, c] != 0]))[::-1]
                two = (float(sizes[0]) if len(sizes) else 0.0, float(sizes[1]) if len(sizes) > 1 else 0.0)
                assert value._two_largest(sums, mine, c) == two
                if rows.any():
                    assert sums.top[mine, c, 0].max() == np.abs(matrix[rows, c]).max()
                checked += 1
    assert checked == 300 * 2 * 7


# ---------------------------------------------------------------------------------------------
# The difference in differences, against the extract files


def independent(folder, period_start, period_end, costs=DEFAULT_UNIT_COSTS_GBP) -> dict:
    """The net cost per holder-year worked out with pandas straight from people.csv, admissions.csv and
    spend.csv (the contract's definitions: windows of 12 calendar months, bed days to the end of the data for
    an open stay, the extract's cost where given else bed days x unit cost), with the per-group, per-window
    totals and the two largest per-person contributions for the disclosure bound."""
    people = pd.read_csv(folder / "people.csv", dtype=str, keep_default_na=False)
    adm = pd.read_csv(folder / "admissions.csv", dtype=str, keep_default_na=False)
    spend = pd.read_csv(folder / "spend.csv", dtype=str, keep_default_na=False)
    cohort = people[((people["outcome"] == "budget_in_place") | (people["arm"] == "comparison"))]
    cohort = cohort[cohort["index_date"] != ""].copy()
    cohort["grp"] = np.where(cohort["outcome"] == "budget_in_place", "H", "C")
    cohort["index"] = pd.to_datetime(cohort["index_date"])
    start, end = pd.Timestamp(period_start), pd.Timestamp(period_end) + pd.Timedelta(days=1)

    def covered(a, b):
        return (np.minimum(b, end) - np.maximum(a, start)).dt.days.clip(lower=0) / 365.25

    cohort["years_pre"] = covered(cohort["index"] - YEAR, cohort["index"])
    cohort["years_post"] = covered(cohort["index"], cohort["index"] + YEAR)
    cohort = cohort[(cohort["years_pre"] > 0) & (cohort["years_post"] > 0)]
    stays = adm.merge(cohort[["person_id", "index", "grp"]], on="person_id")
    stays["in"] = pd.to_datetime(stays["admitted_on"])
    out = pd.to_datetime(stays["discharged_on"].replace("", None)).fillna(pd.Timestamp(period_end))
    days = (out - stays["in"]).dt.days
    unit = np.where(stays["setting"] == "mental_health", costs["mental_health"], costs["general_acute"])
    given = pd.to_numeric(stays["cost_gbp"].replace("", None))
    stays["cost"] = given.fillna(pd.Series(days * unit, index=stays.index))
    stays["window"] = np.select(
        [
            (stays["in"] >= stays["index"] - YEAR) & (stays["in"] < stays["index"]),
            (stays["in"] >= stays["index"]) & (stays["in"] < stays["index"] + YEAR),
        ],
        ["pre", "post"],
        "",
    )
    paid = spend.merge(cohort[cohort["grp"] == "H"][["person_id", "index"]], on="person_id")
    paid["on"] = pd.to_datetime(paid["paid_on"])
    paid = paid[(paid["on"] >= paid["index"]) & (paid["on"] < paid["index"] + YEAR)]
    paid["amount"] = paid["amount_gbp"].astype(float)
    per_person = {
        "spend": paid.groupby("person_id")["amount"].sum(),
        **{w: stays[stays["window"] == w].groupby("person_id")["cost"].sum() for w in ("pre", "post")},
    }
    years = {(g, w): cohort.loc[cohort["grp"] == g, f"years_{w}"].sum() for g in "HC" for w in ("pre", "post")}
    group = dict(zip(cohort["person_id"], cohort["grp"]))
    cells = {}
    for name, series in per_person.items():
        for g in "HC":
            part = series[series.index.map(group) == g]
            top = part.abs().sort_values(ascending=False).tolist() + [0.0, 0.0]
            cells[(name, g)] = (float(part.sum()), top[0], years[(g, "post" if name != "pre" else "pre")])
    rate = {k: total / yrs for k, (total, _, yrs) in cells.items()}
    net = rate[("spend", "H")] + (rate[("post", "H")] - rate[("pre", "H")]) - (rate[("post", "C")] - rate[("pre", "C")])
    return {"net": net, "cells": cells, "people": len(cohort)}


def disclosure_bound(cells: dict) -> float:
    """How far the published net cost may sit from the unrounded one: each of the five money totals it rests on
    moves by at most 0.4 of its largest contribution and is then rounded to 3 significant figures (at most half
    a unit, never finer than £100), over its person-years; then the net cost is rounded to 3 significant figures
    (at most half a unit of at least £10)."""
    bound = 0.0
    for key, (total, top1, years) in cells.items():
        if key == ("spend", "C"):
            continue
        unit = max(10 ** (math.floor(math.log10(abs(total) + 0.4 * top1)) - 2), disclosure.MONEY_UNIT)
        bound += (0.4 * top1 + unit / 2) / years
    return bound


def estimate_for(folder, warehouse):
    info = build(folder, warehouse)
    with connect(warehouse) as con:
        data = value.load(con, Filters(None, info.period_start, info.period_end))
    return info, data, data.headline


def test_net_cost_agrees_with_an_independent_calculation_from_the_extract_files(bundled_warehouse):
    """On the bundled extract: the unrounded difference in differences equals the pandas calculation from the
    CSV files to the penny, and the published figure lies within the disclosure bound of it."""
    warehouse, info = bundled_warehouse
    with connect(warehouse) as con:
        data = value.load(con, Filters(None, info.period_start, info.period_end))
    est = data.headline
    truth = independent(DATA, info.period_start, info.period_end)
    assert est.raw["net"] == pytest.approx(truth["net"], abs=0.01)
    assert est.result.people == truth["people"]
    assert abs(est.result.net - truth["net"]) <= disclosure_bound(truth["cells"]) + disclosure.DERIVED_MONEY_UNIT / 2
    assert est.result.low < est.result.net < est.result.high


@pytest.mark.slow
def test_at_scale_20_the_true_net_cost_is_inside_the_interval_and_the_estimate_agrees(tmp_path):
    """Issue 16's check: `generate --scale 20 --effect 0.7`; the generator's true net cost per holder-year (its
    manifest) lies inside the published 95% interval, and the estimate agrees with the pandas calculation."""
    manifest = generate(tmp_path / "x", scale=20, effect=0.7)
    info, data, est = estimate_for(tmp_path / "x", tmp_path / "w.duckdb")
    truth = manifest["value_for_money"]["net_cost_per_holder_year_gbp"]
    assert est.result.low <= truth <= est.result.high
    check = independent(tmp_path / "x", info.period_start, info.period_end)
    assert est.raw["net"] == pytest.approx(check["net"], abs=0.01)
    assert abs(est.result.net - check["net"]) <= disclosure_bound(check["cells"]) + 5
    assert est.result.high - est.result.low < 1500  # tight enough to mean something at this size


def test_the_generators_truth_is_spending_less_the_expected_saving(tmp_path):
    """The manifest's truth holds together: net = spending - saving; the saving is a little less than the
    admissions avoided per holder-year times the expected cost of an emergency admission (admissions that would
    start while the person is in hospital are dropped: with a mean emergency rate of 0.5 a year and stays of about
    four weeks, roughly a tenth fewer); a weaker effect saves less."""
    strong = generate(tmp_path / "a", scale=0.5, effect=0.5)["value_for_money"]
    weak = generate(tmp_path / "b", scale=0.5, effect=0.9)["value_for_money"]
    for t in (strong, weak):
        assert t["net_cost_per_holder_year_gbp"] == pytest.approx(
            t["spend_per_holder_year_gbp"] - t["hospital_saving_per_holder_year_gbp"], abs=1e-3
        )
        naive = (
            t["emergency_admissions_avoided_per_holder_year_before_overlaps"]
            * t["expected_cost_per_emergency_admission_gbp"]
        )
        assert 0.75 * naive < t["hospital_saving_per_holder_year_gbp"] < naive
    assert weak["hospital_saving_per_holder_year_gbp"] < strong["hospital_saving_per_holder_year_gbp"]
    # 70% mental health stays of about 23 x e^(1.02^2/2) = 38.7 days at £334, 30% general acute of 3.1 days at £400
    assert 8000 < strong["expected_cost_per_emergency_admission_gbp"] < 10500


# ---------------------------------------------------------------------------------------------
# Disclosure


def test_derived_money_is_three_significant_figures_never_finer_than_ten_pounds():
    assert disclosure.derived_money(1234.5) == 1230
    assert disclosure.derived_money(-2094) == -2090
    assert disclosure.derived_money(15) == 20  # £10 at the finest, half away from zero
    assert disclosure.derived_money(123456) == 123000
    assert disclosure.derived_money(None) is None


def rows_against_views(con, filters: Filters) -> int:
    """Check every row of the by-site and by-option table for `filters` against the headline of the same people
    chosen with the filters instead, through their own query; return how many rows had an estimate."""
    from dataclasses import replace

    from phb import contract

    data = value.load(con, filters)
    table = data.scopes({})  # with no site names, each site's row is labelled with its code
    alone = {
        code: value.load(con, replace(filters, sites=(code,))).headline for code in data.people["site_code"].unique()
    }
    for option in contract.MANAGEMENT_OPTIONS:
        alone[contract.LABELS.get(option, option)] = value.load(con, replace(filters, management=(option,))).headline
    if data.headline is not None:
        assert value.estimate(data.people).result == data.headline.result
    checked = 0
    for row in table[table["by"] != "All"].itertuples():
        est = alone[row.site]
        if est is None:
            assert row.note == value.TOO_FEW, (filters, row.site)
            continue
        assert (row.value, row.low, row.high) == (est.result.net, est.result.low, est.result.high), (filters, row.site)
        checked += 1
    return checked


def test_each_row_of_the_by_site_and_option_table_is_its_people_chosen_alone(bundled_warehouse):
    """The by-site and by-option table reads every row from one set of resamples of the selection's strata. Each
    row must be exactly the headline estimate of the same people chosen with the filters instead (a site alone;
    one management option's budget holders with every comparison person), worked out through its own query:
    the same figures and interval wherever a user meets them. And the headline is `estimate` of the people."""
    warehouse, info = bundled_warehouse
    with connect(warehouse) as con:
        checked = rows_against_views(con, Filters(None, info.period_start, info.period_end))
    assert checked >= 4  # two sites and two options have an estimate in the bundled data (the rest too few)


@pytest.mark.slow
def test_each_row_is_its_people_chosen_alone_for_every_period_and_site_choice(bundled_warehouse):
    """The same for every calendar year, the first and the last month alone, a period cut at month boundaries
    inside the data, two sites chosen together (one site more than a site alone), and each site's table by
    option (its options against its own comparison group)."""
    from dataclasses import replace

    warehouse, info = bundled_warehouse
    start, end = info.period_start, info.period_end
    periods = [(max(date(y, 1, 1), start), min(date(y, 12, 31), end)) for y in range(start.year, end.year + 1)]
    periods += [(start, date(start.year, start.month + 1, 1) - timedelta(days=1)), (end.replace(day=1), end)]
    periods += [(date(2014, 3, 1), date(2016, 2, 29))]
    checked = 0
    with connect(warehouse) as con:
        sites = sorted(con.execute("select site_code from sites").fetchnumpy()["site_code"].tolist())
        for lo, hi in periods:
            checked += rows_against_views(con, Filters(None, lo, hi))
        whole = Filters(None, start, end)
        checked += rows_against_views(con, replace(whole, sites=tuple(sites[:2])))
        for site in sites:
            checked += rows_against_views(con, replace(whole, sites=(site,)))
    assert checked >= 10


@pytest.mark.slow
def test_every_scope_totals_from_strata_are_the_rule_on_its_people_for_every_site_option_and_period(
    bundled_warehouse,
):
    """The page's totals come from per-stratum sums (value.stratum_sums). On the bundled data, for every site
    alone and all sites, with every management option and none, over every calendar year, the first and last
    month alone, a period cut inside the data and the whole period: for each scope on the page (the selection,
    each site, each option's holders with the comparison group) and each group, every money and day total as
    shown and its two largest contributions must be what the rule and a sort give from the scope's eligible
    people's own values."""
    from phb import contract

    warehouse, info = bundled_warehouse
    start, end = info.period_start, info.period_end
    periods = [(max(date(y, 1, 1), start), min(date(y, 12, 31), end)) for y in range(start.year, end.year + 1)]
    periods += [(start, date(start.year, start.month + 1, 1) - timedelta(days=1)), (end.replace(day=1), end)]
    periods += [(date(2014, 3, 1), date(2016, 2, 29)), (start, end)]
    checked = 0
    with connect(warehouse) as con:
        sites = sorted(con.execute("select site_code from sites").fetchnumpy()["site_code"].tolist())
        for lo, hi in periods:
            for chosen_sites in [None, *[(s,) for s in sites]]:
                for management in [None, *[(o,) for o in contract.MANAGEMENT_OPTIONS]]:
                    data = value.load(con, Filters(chosen_sites, lo, hi, management))
                    if not len(data.eligible):
                        continue
                    strata, table = data.strata()
                    matrix, keys = value._matrix(data.eligible), data.eligible["record_key"].to_numpy()
                    holders = value._holders(table)
                    scopes = [np.ones(len(table), dtype=bool)]
                    scopes += [table["site_code"].eq(site).to_numpy() for site in table["site_code"].unique()]
                    scopes += [~holders | table["option"].eq(o).to_numpy() for o in contract.MANAGEMENT_OPTIONS]
                    for scope in scopes:
                        for mine in (scope & holders, scope & ~holders):
                            rows = mine[strata]
                            for column in (*value.MONEY_COLUMNS, *value.DAY_COLUMNS):
                                c = value._I[column]
                                expected = _cell_by_person(matrix[rows, c], keys[rows], column)
                                got = value._cell(data.sums(), mine, c, column)
                                if isinstance(expected, float):
                                    assert got == pytest.approx(expected, abs=1e-6), (lo, hi, chosen_sites, column)
                                else:
                                    assert got == expected, (lo, hi, chosen_sites, management, column)
                                sizes = np.sort(np.abs(matrix[rows, c][matrix[rows, c] != 0]))[::-1]
                                two = (
                                    float(sizes[0]) if len(sizes) else 0.0,
                                    float(sizes[1]) if len(sizes) > 1 else 0.0,
                                )
                                assert value._two_largest(data.sums(), mine, c) == two
                                checked += 1
    assert checked > 5000


def test_a_group_under_the_threshold_is_not_estimated(bundled_warehouse):
    """A single small site (Stockport): too few to estimate, in words, and nothing published."""
    warehouse, info = bundled_warehouse
    with connect(warehouse) as con:
        data = value.load(con, Filters(("STP",), info.period_start, info.period_end))
    assert data.headline is None
    assert value.sentence(None).startswith("Too few to estimate")
    assert value.facts_block(data)["net_cost_per_holder_year_gbp"] is None


def test_published_figures_are_rounded_and_moved_from_the_unrounded_ones(bundled_warehouse):
    """Every published figure is a multiple of £10 at 3 significant figures; the charts' data are too."""
    warehouse, info = bundled_warehouse
    with connect(warehouse) as con:
        data = value.load(con, Filters(None, info.period_start, info.period_end))
    r = data.headline.result
    for figure in (r.net, r.low, r.high, r.spend, r.saving, r.counterfactual, r.break_even):
        assert figure == disclosure.derived_money(figure) and figure % 10 == 0
    curve = value.unit_cost_curve(data.headline, 334)
    assert all(v % 10 == 0 for v in curve[["value", "low", "high"]].to_numpy().ravel())


# ---------------------------------------------------------------------------------------------
# The national picture


def test_national_figures_are_read_from_the_reference_file_with_their_sources():
    """The published counts, worked out from the CSV by hand: 7 rows carry a count (2021-22 Q2 gives only a
    share of direct payments); 2023-24 Q4 is 188,489 from digital.nhs.uk, confidence HIGH."""
    frame = national.headlines()
    assert len(frame) == 7
    q4 = frame[(frame["financial_year"] == "2023-24") & (frame["quarter"] == "Q4")].iloc[0]
    assert q4["people"] == 188489 and q4["confidence"] == "HIGH"
    picture = national.picture(320, pd.Timestamp("2016-03-31"), synthetic=True)
    point = picture[picture["label"] == "2023-24 Q4"].iloc[0]
    assert point["source"] == "digital.nhs.uk" and point["confidence"].startswith("high")
    pilots = picture[picture["series"] == national.PILOTS].iloc[0]
    assert pilots["published"] == 320 and "synthetic" in pilots["source"]
    assert "188,489" in national.title(picture)
    # a withheld pilots' count is left out, never drawn
    assert (
        national.picture(disclosure.SUPPRESSED, pd.Timestamp("2016-03-31"), True)["series"] == national.PILOTS
    ).sum() == 0


# ---------------------------------------------------------------------------------------------
# The page, the facts and the pack


def test_the_value_page_states_the_net_cost_and_shows_no_unrounded_figure(bundled_env):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/value.py").run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Value for money"
    labels = {m.label: m.value for m in at.metric}
    assert labels["Net cost per holder per year"].startswith(("£", "-£"))
    text = " ".join(str(getattr(e, "value", "")) for e in at.main)
    assert "95% interval" in text and "Budgets pay for themselves if a mental health bed day" in text
    assert "What is not counted" in text
    raw = [type(n).__name__ for n in element_nodes(at._tree) if type(n).__name__ in ("Help", "Json", "Code")]
    assert not raw  # nothing shown as a raw object (Streamlit's magic writes a bare expression as st.help)
    # no figure with pence or an unrounded pound figure anywhere on the page
    for pounds in pd.Series(text).str.extractall(r"£([\d,]+(?:\.\d+)?)")[0]:
        number = float(pounds.replace(",", ""))
        assert number == disclosure.derived_money(number) or number in (319, 334, 366, 400), (
            pounds
        )  # published unit costs


def test_facts_has_a_value_for_money_block(bundled_warehouse):
    from phb.facts import facts

    warehouse, info = bundled_warehouse
    block = facts(warehouse, info, Filters(None, info.period_start, info.period_end))["all_sites"]["value_for_money"]
    low, high = block["ci_gbp"]
    assert low < block["net_cost_per_holder_year_gbp"] < high
    assert block["price_base"] == "2011/12 prices"
    assert block["unit_costs_gbp_per_bed_day"] == {"mental_health": 334.0, "general_acute": 400.0}
    assert block["break_even_mental_health_bed_day_gbp"] > 0
    json.dumps(block)  # JSON-ready


def test_the_pack_can_hold_the_value_and_national_charts(bundled_warehouse):
    from phb import briefing, exports

    warehouse, info = bundled_warehouse
    keys = ["value_for_money", "break_even", "value_effect_sensitivity", "national_picture"]
    with connect(warehouse) as con:
        src = briefing.Sources(con, info, Filters(None, info.period_start, info.period_end), {"DOR": "Dorset"})
        built, skipped = briefing.build_charts(src, keys)
    assert [c.key for c in built] == keys and not skipped
    national_data = exports.chart_data(built[3].chart)
    assert {"source", "confidence"} <= set(national_data.columns)
    assert "£334" in built[0].notes and "2011/12" in built[0].notes  # unit costs stated in the pack
    for chart in built[:3]:  # and in every value chart's data export
        assert "£334" in exports.chart_data(chart.chart)["unit_costs"].iloc[0]
    assert views.VIEWS["break_even"].label.startswith("Break-even")


def _skewed_people(n: int, seed: int) -> pd.DataFrame:
    """Two groups of n people with costs shaped like hospital costs: 85% none, the rest lognormal (a few long
    stays), costs after related to costs before, spending for budget holders; a year in each window."""
    rng = np.random.default_rng(seed)
    rows = []
    for grp in value.GROUPS:
        days_pre = np.where(rng.random(n) < 0.15, rng.lognormal(2.0, 1.2, n).round(), 0)
        days_post = np.where(rng.random(n) < 0.5, days_pre * rng.uniform(0.3, 1.2, n), 0).round()
        acute_pre = np.where(rng.random(n) < 0.1, rng.lognormal(6.5, 1.0, n), 0)
        acute_post = np.where(rng.random(n) < 0.1, rng.lognormal(6.5, 1.0, n), 0)
        frame = pd.DataFrame({
            "site_code": "AAA", "grp": grp, "record_key": rng.integers(0, 256, n),
            "spend_post": rng.gamma(2.0, 1200.0, n) if grp == "budget_holders" else 0.0,
            "mh_days_pre": days_pre, "mh_days_post": days_post,
            "acute_cost_pre": acute_pre, "acute_cost_post": acute_post,
            "cost_pre": days_pre * 334 + acute_pre, "cost_post": days_post * 334 + acute_post,
            "years_pre": 1.0, "years_post": 1.0,
        })  # fmt: skip
        for column in value.COLUMNS:
            if column not in frame:
                frame[column] = 0
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def test_a_large_stratum_resampled_in_random_groups_gives_the_interval_of_resampling_every_person():
    """Above value.EXACT_UP_TO people, a site and group is split at random into that many groups and the groups
    are resampled instead of each person. On skewed costs like hospital costs, 2,500 people in each group, the
    net cost's 95% interval from the groups matches resampling every person (multinomial weights, 2,000
    resamples each) within 5% of the interval's width at each end (about twice the Monte Carlo error seen
    between seeds), and the resamples' mean and spread match; a stratum at the limit is still resampled person
    by person. (Drawing the totals from their normal limit instead failed this: the interval sat 4 to 10% of
    its width too high, missing the skew.)"""
    people = _skewed_people(2500, seed=3)
    assert 2500 > value.EXACT_UP_TO
    drawn = value._parts(value.bootstrap_totals(people, 2000, seed=5))["net"]
    resampled = value._parts(value.bootstrap_totals(people, 2000, seed=5, exact_up_to=10**9))["net"]
    low, high = value.percentile_interval(drawn)
    exact_low, exact_high = value.percentile_interval(resampled)
    width = exact_high - exact_low
    assert abs(low - exact_low) < 0.05 * width and abs(high - exact_high) < 0.05 * width
    assert drawn.std() == pytest.approx(resampled.std(), rel=0.05)
    assert drawn.mean() == pytest.approx(resampled.mean(), abs=0.05 * width)
    # at the limit itself every person is resampled: the same seed gives the multinomial draws exactly
    small = _skewed_people(value.EXACT_UP_TO, seed=4)
    np.testing.assert_array_equal(
        value.bootstrap_totals(small, 50, seed=5), value.bootstrap_totals(small, 50, seed=5, exact_up_to=10**9)
    )


def test_a_missing_record_key_is_left_out_of_a_totals_cell_key_and_a_person_with_no_site_is_refused():
    """As disclosure.cell_key_of does for a column of keys, a missing record key adds nothing to a total's cell
    key (the person still contributes to the total); a person with no site or group belongs to no stratum, so
    the estimate refuses them by name instead of counting them in another site's stratum."""
    keys = pd.array([5, None, 300], dtype="Int32")
    sums = value.stratum_sums(np.array([[1.0], [2.0], [3.0]]), keys, np.zeros(3, dtype=int), 1)
    assert int(sums.key_sum[0, 0]) % 256 == disclosure.cell_key_of(keys) == (5 + 300) % 256
    assert int(sums.contributors[0, 0]) == 3 and float(sums.total[0, 0]) == 6.0
    people = pd.DataFrame({"site_code": ["A", None, "B"], "grp": ["comparison"] * 3})
    with pytest.raises(ValueError, match="1 people have no site_code"):
        value.strata_of(people)
    with pytest.raises(ValueError, match="1 people have no site_code"):
        value.strata_of(people.astype("category"))  # as run_query_coded gives them


def test_strata_of_categorical_columns_are_those_of_the_same_texts():
    """The page fetches site, group and option as categoricals (queries.run_query_coded): the strata and each
    person's stratum number are the same as from the same values as plain text, with categories in an order
    that is not sorted, a category nobody has, a holder with no management option (in the '' stratum, as the
    comparison group), and the comparison group's own options ignored. The expected numbering is worked out
    here by sorting the distinct (site, group, option) triples."""
    rng = np.random.default_rng(4)
    n = 500
    sites = rng.choice(["Z9", "B2", "M5", "A1"], n)
    grp = rng.choice(["comparison", "budget_holders"], n)
    option = rng.choice(["third_party", "direct_payment", "notional", None], n).astype(object)
    people = pd.DataFrame({"site_code": sites, "grp": grp, "management_option": option})
    coded = people.astype(
        {
            "site_code": pd.CategoricalDtype(["Z9", "M5", "Q0", "B2", "A1"]),  # Q0: nobody
            "grp": pd.CategoricalDtype(["comparison", "budget_holders"]),
            "management_option": pd.CategoricalDtype(["third_party", "notional", "direct_payment"]),
        }
    )
    triples = [(s, g, (o or "") if g == "budget_holders" else "") for s, g, o in zip(sites, grp, option)]
    order = sorted(set(triples))
    expected = np.array([order.index(t) for t in triples])
    for frame in (people, coded):
        numbers, table = value.strata_of(frame)
        assert list(table.itertuples(index=False, name=None)) == order
        np.testing.assert_array_equal(numbers, expected)
        assert value.stratum_names(table) == ["|".join(t) for t in order]


def test_whole_number_unit_costs_give_the_same_people_as_the_same_costs_with_decimals(bundled_warehouse):
    """Unit costs bound as whole numbers make DuckDB work the costs out as decimals; the query casts them to
    double, so the page's fetch (which refuses a decimal) gives the same rows as for the same costs as floats."""
    warehouse, info = bundled_warehouse
    filters = Filters(None, info.period_start, info.period_end)
    with connect(warehouse) as con:
        whole = value.load(con, filters, {"mental_health": 334, "general_acute": 400})
        floats = value.load(con, filters, {"mental_health": 334.0, "general_acute": 400.0})
    pd.testing.assert_frame_equal(whole.people, floats.people)
    assert whole.people["cost_pre"].dtype == np.float64 and whole.people["cost_pre"].sum() > 0


def test_the_people_are_in_person_order_however_the_query_gives_them(bundled_warehouse, monkeypatch):
    """The bootstrap's random groups and draws follow the people's order, so value.load puts them in person_key
    order (value_by_person no longer sorts them). Rows handed over shuffled (as Spark may give them) give the same
    people, in the same order, and the same estimate, interval included, as rows in order; on DuckDB the query's
    rows already come in that order (value_people is stored so), so no sort is needed there. Without the sort the
    shuffled rows give another interval (tried)."""
    warehouse, info = bundled_warehouse
    filters = Filters(None, info.period_start, info.period_end)
    fetch = value.run_query_coded
    shuffled_rows = []

    def shuffled(*args, **kwargs):
        rows = fetch(*args, **kwargs).sample(frac=1.0, random_state=7).reset_index(drop=True)
        shuffled_rows.append(rows.copy())
        return rows

    with connect(warehouse) as con:
        costs = {"unit_cost_mental_health": 334.0, "unit_cost_general_acute": 400.0}
        plain = fetch(con, "value_by_person", **filters.params(), **costs)
        in_order = value.load(con, filters)
        monkeypatch.setattr(value, "run_query_coded", shuffled)
        from_shuffled = value.load(con, filters)
    assert plain["person_key"].is_monotonic_increasing and len(plain) > 100
    assert not shuffled_rows[0]["person_key"].is_monotonic_increasing
    pd.testing.assert_frame_equal(from_shuffled.people, in_order.people)
    a, b = in_order.headline, from_shuffled.headline
    assert a is not None and a.result == b.result
    np.testing.assert_array_equal(a.boot["net"], b.boot["net"])


def test_the_page_reads_each_stratum_as_one_slice_and_gets_the_estimate_of_the_people_as_they_came():
    """ValueData sorts the eligible people by stratum once (by_stratum) so that stratum_sums and stratum_totals
    read each stratum as one slice. The estimate, interval, resamples and per-stratum sums must be exactly those of
    the people as they came, strata interleaved (value.estimate and bootstrap_totals sort them themselves): here
    three sites, both groups and a large stratum split into random groups, the rows shuffled so no stratum is in
    one run."""
    parts = []
    for i, site in enumerate(("CCC", "AAA", "BBB")):
        people = _skewed_people(120 + 200 * i, seed=10 + i).assign(site_code=site)
        people["management_option"] = np.where(
            people["grp"] == "budget_holders", ["direct_payment", "notional"][i % 2], None
        )
        parts.append(people)
    people = pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=3).reset_index(drop=True)
    people["person_key"] = np.arange(len(people))
    for window in ("pre", "post"):  # an admission for each stay, so that each group has enough to estimate
        people[f"admissions_{window}"] = (people[f"mh_days_{window}"] > 0).astype(int)
    numbers, table = value.strata_of(people)
    assert not value.in_stratum_order(numbers) and (np.bincount(numbers) > value.EXACT_UP_TO).any()
    data = value.ValueData(people, pd.DataFrame(), (("mental_health", 334.0), ("general_acute", 400.0)), "2015/16")
    sorted_numbers, matrix, keys = data.by_stratum()
    assert value.in_stratum_order(sorted_numbers) and matrix.flags["F_CONTIGUOUS"]
    as_they_came = value.stratum_sums(value._matrix(people), people["record_key"].to_numpy(), numbers, len(table))
    for name in ("people", "total", "contributors", "top", "key_sum"):
        np.testing.assert_array_equal(getattr(data.sums(), name), getattr(as_they_came, name))
    everyone = np.ones(len(table), dtype=bool)
    np.testing.assert_array_equal(
        value.resample_totals(data.resamples(), table, everyone), value.bootstrap_totals(people, value.REPLICATES)
    )
    alone = value.estimate(people)
    assert alone is not None and data.headline.result == alone.result


def test_the_page_keeps_its_figures_without_the_people_behind_them(bundled_warehouse):
    """The page's cache keeps ValueData.for_page: the headline estimate (with its resampled parts), the admissions
    effect and the by-site-and-option table, the same as the full data gives, after the round trip through pickle
    that st.cache_data makes on every rerun; not the people, the strata or the resamples (a tenth of the full
    data's pickle here; at a million people the full one took 0.54 s a rerun to unpickle). Anything that would
    need the people (another set of site names, the per-stratum sums) is refused by name, not worked out from
    none."""
    import pickle

    from phb.facts import site_names

    warehouse, info = bundled_warehouse
    with connect(warehouse) as con:
        full = value.load(con, Filters(None, info.period_start, info.period_end))
        names = site_names(con)
        fresh = value.load(con, Filters(None, info.period_start, info.period_end))  # worked out on its own
    page = pickle.loads(pickle.dumps(full.for_page(names)))
    assert len(pickle.dumps(page)) * 10 < len(pickle.dumps(full)) and len(page.people) == 0
    assert page.headline.result == fresh.headline.result and page.effect == fresh.effect
    for part in ("net", "intercept", "slope"):  # the break-even and sensitivity charts' bootstrap parts
        np.testing.assert_array_equal(page.headline.boot[part], fresh.headline.boot[part])
    pd.testing.assert_frame_equal(page.scopes(names), fresh.scopes(names))
    assert page.unit_cost == fresh.unit_cost and page.price_base == fresh.price_base
    for ask in (lambda: page.scopes({**names, "DOR": "Dorset CCG"}), page.sums, page.strata):
        with pytest.raises(ValueError, match="page's figures only"):
            ask()


def _summary_selections(con, start, end):
    """Every selection a user can make of sites and management options over a period: all, each site, each option,
    each site under each option, and two sites under two options."""
    from phb import contract
    from phb.facts import site_names

    sites = list(site_names(con))
    options = contract.MANAGEMENT_OPTIONS
    chosen = [(None, None)] + [((s,), None) for s in sites] + [(None, (o,)) for o in options]
    chosen += [((s,), (o,)) for s in sites for o in options] + [(tuple(sites[:2]), tuple(options[:2]))]
    return [Filters(s, start, end, o) for s, o in chosen]


def _same_estimate(a, b) -> bool:
    """Two estimates (or None) alike in every published figure, part and resample."""
    if a is None or b is None:
        return a is b
    return (
        a.result == b.result
        and a.shown == b.shown
        and a.raw == b.raw
        and a.boot.keys() == b.boot.keys()
        and all(np.array_equal(a.boot[k], b.boot[k]) for k in a.boot)
    )


def _same_page(read, fresh, names: dict[str, str], filters) -> bool:
    """Assert that a ValueData read from strata shows on the page exactly what one worked out afresh from the people
    does: the headline estimate (with its resampled parts), the budget effect and the by-site-and-option table.
    Whether there is a headline estimate."""
    page, expected = read.for_page(names), fresh.for_page(names)
    assert _same_estimate(page.headline, expected.headline), filters
    assert page.effect == expected.effect, filters
    pd.testing.assert_frame_equal(page.scopes(names), expected.scopes(names))
    return page.headline is not None


def test_the_whole_period_read_from_the_stored_strata_equals_the_people_worked_out_afresh(bundled_warehouse):
    """At build, value.store_whole_period keeps each stratum's sums and resamples for everyone in value_people; the
    page, the pack and `phb facts` (need_people=False) read a selection covering every index date from them. For
    every site and option choice over the whole period, and all sites over wider dates, the headline estimate (with its
    resampled parts), the budget effect and the by-site-and-option table must be exactly those worked out afresh
    from the people, as before. Checked first: the stored strata were read (no people) and the people were
    not."""
    from phb.facts import site_names

    path, info = bundled_warehouse
    checked = estimated = 0
    with connect(path) as con:
        names = site_names(con)
        selections = _summary_selections(con, info.period_start, info.period_end)
        selections.append(Filters(None, date(2000, 1, 1), date(2030, 12, 31)))  # dates wider than the data
        expected_count = len(selections)
        for filters in selections:
            stored = value.load(con, filters, need_people=False)
            fresh = value.load(con, filters)
            assert "present" in stored.memo and stored.people.empty, filters
            assert "present" not in fresh.memo and not fresh.people.empty, filters
            checked += 1
            estimated += _same_page(stored, fresh, names, filters)
    assert checked == expected_count
    assert estimated >= 5  # all sites, the larger sites and options: most site-and-option cells are too small


@pytest.fixture
def sources(monkeypatch):
    """Which source each value.load(..., need_people=False) read its strata from: 'stored' (the whole-period summary
    in the warehouse) or 'people' (worked out for the period); the memory of periods emptied first."""
    value._periods.clear()
    read = []
    stored, work_out = value._read_stored, value._work_out
    monkeypatch.setattr(value, "_read_stored", lambda *a: read.append("stored") or stored(*a))
    monkeypatch.setattr(value, "_work_out", lambda *a: read.append("people") or work_out(*a))
    yield read
    value._periods.clear()


def test_the_stored_strata_are_read_only_where_they_answer_the_selection(bundled_warehouse, tmp_path, sources):
    """The whole-period summary is not read where it would give other figures: dates that leave out someone's index
    date, other unit costs, or a summary made by another bootstrap (a stored seed not the code's); those periods'
    strata are worked out from the people instead. A caller that needs the people gets them; and a ValueData read
    from strata refuses anything that needs the people rather than working it out from none."""
    import shutil
    from dataclasses import replace

    import duckdb

    path, info = bundled_warehouse
    whole = Filters(None, info.period_start, info.period_end)
    with connect(path) as con:
        first, last = con.execute("select first_index_date, last_index_date from value_summary_key").fetchone()
        cut = [replace(whole, date_from=first + timedelta(days=1)), replace(whole, date_to=last - timedelta(days=1))]
        other_costs = {**DEFAULT_UNIT_COSTS_GBP, "mental_health": DEFAULT_UNIT_COSTS_GBP["mental_health"] + 1}
        for f in cut:
            value.load(con, f, need_people=False)
        value.load(con, whole, other_costs, need_people=False)
        assert sources == ["people"] * 3
        assert not value.load(con, whole).people.empty and sources == ["people"] * 3
        stored = value.load(con, whole, need_people=False)
        assert "present" in stored.memo and sources[-1] == "stored"
        with pytest.raises(ValueError, match="not the people"):
            _ = stored.eligible
    copy = tmp_path / "other.duckdb"
    shutil.copy(path, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("update value_summary_key set seed = seed + 1")
    with connect(copy) as con:
        data = value.load(con, whole, need_people=False)
        assert sources[-1] == "people" and data.people.empty


def test_a_period_s_strata_are_worked_out_once_and_every_selection_in_it_equals_its_people(bundled_warehouse, sources):
    """A period the stored summary does not cover (a calendar year; the first and last index dates less a day at
    each end; the whole period at other unit costs) has its strata worked out for every site and option when all
    sites are asked for first, and kept: every selection a user can make in that period is then read
    from them, without reading the people again, and must give exactly the headline estimate (with its resamples),
    budget effect and by-site-and-option table worked out afresh from the selection's own people."""
    from phb.facts import site_names

    path, info = bundled_warehouse
    other_costs = {**DEFAULT_UNIT_COSTS_GBP, "general_acute": DEFAULT_UNIT_COSTS_GBP["general_acute"] * 1.5}
    checked = estimated = 0
    with connect(path) as con:
        first, last = con.execute("select first_index_date, last_index_date from value_summary_key").fetchone()
        periods = [
            ((date(2015, 1, 1), date(2015, 12, 31)), None),
            ((first + timedelta(days=1), last - timedelta(days=1)), None),
            ((info.period_start, info.period_end), other_costs),
        ]
        names = site_names(con)
        for (start, end), costs in periods:
            selections = _summary_selections(con, start, end)
            for filters in selections:
                kept = value.load(con, filters, costs, need_people=False)
                fresh = value.load(con, filters, costs)
                assert kept.people.empty and "present" in kept.memo, filters
                checked += 1
                estimated += _same_page(kept, fresh, names, filters)
    assert sources == ["people"] * len(periods)  # each period's strata worked out once, for all its selections
    assert checked == 3 * len(selections) and estimated >= 10


def test_the_periods_kept_are_the_latest_and_belong_to_their_warehouse(bundled_warehouse, tmp_path, sources):
    """At most PERIODS_KEPT periods are kept, the least recently asked for going first; and a warehouse of other
    data (another data version) never reads another's strata."""
    path, info = bundled_warehouse
    years = [Filters(None, date(y, 1, 1), date(y, 12, 31)) for y in range(2013, 2013 + value.PERIODS_KEPT + 1)]
    with connect(path) as con:
        for f in years[:-1]:
            value.load(con, f, need_people=False)
        value.load(con, years[0], need_people=False)  # asked for again: now the latest
        assert sources == ["people"] * value.PERIODS_KEPT
        value.load(con, years[-1], need_people=False)  # one more: the least recently asked for (2014) goes
        value.load(con, years[0], need_people=False)
        assert sources == ["people"] * (value.PERIODS_KEPT + 1)
        value.load(con, years[1], need_people=False)  # 2014 again, worked out again; 2015 goes
        assert sources == ["people"] * (value.PERIODS_KEPT + 2)
        first = value.load(con, years[2], need_people=False).for_page({})  # 2015 worked out again
    other = tmp_path / "other"
    generate(other, seed=2)  # other people: another data version
    rebuilt = tmp_path / "other.duckdb"
    build(other, rebuilt)
    with connect(rebuilt) as con:
        again = value.load(con, years[2], need_people=False)
        fresh = value.load(con, years[2]).for_page({})
    # worked out from the other warehouse's people, not read from the first's kept strata
    assert sources == ["people"] * (value.PERIODS_KEPT + 4) and len(value._periods) == value.PERIODS_KEPT
    assert _same_estimate(again.for_page({}).headline, fresh.headline)
    assert first.headline is not None


def test_sessions_asking_for_one_period_together_work_out_each_site_once():
    """_kept: eight threads asking for the same period at once, four for one site and four for that site and another,
    wait for the one working out its sites: each site is read once, and every thread is given the same strata for
    it; while periods asked for alongside are evicted past PERIODS_KEPT without error."""
    import threading
    import time
    from collections import Counter

    value._periods.clear()
    calls = []
    others_done = threading.Event()

    def read(missing):
        calls.append(missing)
        others_done.wait(10)  # the other periods are kept, and evicted, while this one is being worked out
        time.sleep(0.05)
        return {site: {"strata": f"{site}'s"} for site in missing}

    got = []
    threads = [
        threading.Thread(target=lambda sites=sites: got.append(value._kept(("a period",), sites, read)))
        for sites in [("A",), ("A", "B")] * 4
    ]
    others = [
        threading.Thread(target=lambda n=n: value._kept((f"other {n}",), ("A",), lambda m: {"A": n}))
        for n in range(value.PERIODS_KEPT + 2)
    ]
    for t in threads + others:
        t.start()
    for t in others:
        t.join()
    others_done.set()
    for t in threads:
        t.join()
    assert Counter(site for missing in calls for site in missing) == {"A": 1, "B": 1}
    assert len(got) == 8 and all(g["A"] is got[0]["A"] for g in got)
    assert len({id(g["B"]) for g in got if "B" in g}) == 1 and sum("B" in g for g in got) >= 4
    assert len(value._periods) == value.PERIODS_KEPT
    value._periods.clear()


def test_a_first_choice_of_sites_works_out_those_sites_alone_and_all_sites_then_the_rest(
    bundled_warehouse, monkeypatch
):
    """In a period the stored summary does not cover, a first selection of one site works out that site's strata
    alone (at a million people, about a fifth of the time of every site's); a selection adding another site works
    out only that one; all sites then the rest; and every site afterwards none. Each must give exactly the headline
    estimate (with its resamples), budget effect and by-site-and-option table worked out afresh from its own people,
    as when every site's strata were worked out together."""
    from phb import contract
    from phb.facts import site_names

    value._periods.clear()
    asked = []
    work_out = value._work_out
    monkeypatch.setattr(value, "_work_out", lambda con, f, costs: asked.append(f.sites) or work_out(con, f, costs))
    path, _ = bundled_warehouse
    start, end = date(2015, 1, 1), date(2015, 12, 31)
    with connect(path) as con:
        names = site_names(con)
        sites = list(names)
        people = value.load(con, Filters(None, start, end)).eligible["site_code"].astype(str).value_counts()
        big, bigger = people.index[1], people.index[0]  # sites with enough people to estimate
        option = contract.MANAGEMENT_OPTIONS[0]
        steps = [
            (Filters((big,), start, end), [(big,)]),
            # the sites out of code order: the strata are put together in code order all the same
            (Filters(tuple(sorted((big, bigger), reverse=True)), start, end, (option,)), [(bigger,)]),
            (Filters(None, start, end), [tuple(s for s in sites if s not in (big, bigger))]),
        ] + [(Filters((s,), start, end, (o,) if o else None), []) for s in sites for o in (None, option)]
        estimated = 0
        for filters, worked_out in steps:
            before = len(asked)
            kept = value.load(con, filters, need_people=False)
            assert asked[before:] == worked_out, filters
            assert kept.people.empty and "present" in kept.memo, filters
            estimated += _same_page(kept, value.load(con, filters), names, filters)
    assert len(value._periods) == 1 and estimated >= 3
    value._periods.clear()


def test_a_site_whose_people_have_no_time_in_both_windows_is_still_listed(bundled_warehouse, tmp_path):
    """A site whose people are all present in the period but none has time before and after the index date has no
    strata: the by-site-and-option table must still list it ("too few to estimate"), as worked out from the people,
    whether the strata are read from the stored summary (the whole period) or worked out for a year, for all sites,
    for that site with another, and for that site alone."""
    import shutil

    import duckdb

    from phb.facts import site_names

    path, _ = bundled_warehouse
    copy = tmp_path / "no_time_after.duckdb"
    shutil.copy(path, copy)
    with duckdb.connect(str(copy)) as con:
        site = con.execute("select site_code from value_people group by 1 order by count(*) limit 1").fetchone()[0]
        con.execute("update value_people set years_post = 0 where site_code = ?", [site])
        value.store_whole_period(con, DEFAULT_UNIT_COSTS_GBP)
        first, last = con.execute("select min(index_date), max(index_date) from value_people").fetchone()
    value._periods.clear()
    with connect(copy) as con:
        names = site_names(con)
        other = next(s for s in names if s != site)
        for start, end in [(first, last), (date(2015, 1, 1), date(2015, 12, 31))]:
            for sites in [None, (other, site), (site,)]:
                filters = Filters(sites, start, end)
                kept = value.load(con, filters, need_people=False)
                fresh = value.load(con, filters)
                listed = fresh.for_page(names).scopes(names)
                assert (listed["site"] == names[site]).any(), filters  # the people list the site ...
                _same_page(kept, fresh, names, filters)  # ... and so do the kept strata, with every other figure
    value._periods.clear()
