"""Differencing attacks on money, bed days and cost, on the bundled data (issue 10).

The truth comes from the extract files (data/*.csv) with pandas, not from the warehouse; the shown
figures come from the code the pages and `phb facts` use. Compared: every pair of site selections
that differ by one site, each management option against all, and periods a whole month apart. For
each pair the difference D of the two shown figures is set against the cell that differs:

- where that cell is one or two people, D must not give their true total T: |D - T| <= £1 in no more
  than 1 in 20 of them (bed days, shown to 5 days: D = T exactly in no more than a third); before
  this protection it was every one;
- D is within £1 of some one person's or two people's true totals in that cell no more often than a
  point one rounding step away (D +- £100, D +- 10 days) is: so an attacker matching differences to
  people does no better than chance. (A literal "never" cannot hold for any rounded figure: a
  multiple of £100 lies within £1 of some pair of a hundred people's totals about 2% of the time.)

No shown median or quartile of spending per holder may equal any holder's own figure to the penny.
"""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from phb import admissions, disclosure, spending
from phb.filters import Filters
from phb.queries import run_query
from phb.warehouse import build, connect, read_info

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("differencing") / "w.duckdb"
    build(DATA, path)
    return path


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    spend = pd.read_csv(DATA / "spend.csv", dtype={"amount_gbp": float}, keep_default_na=False)
    people = pd.read_csv(DATA / "people.csv", dtype=str, keep_default_na=False)
    return spend.merge(people[["person_id", "site_code", "management_option"]], on="person_id")


def near_one_or_two(difference: float, per_person: pd.Series, within: float = 1.0) -> bool:
    """True when `difference` is within `within` of one person's total or two people's together."""
    values = np.sort(per_person.to_numpy(dtype=float))
    if len(values) == 0:
        return False
    if np.any(np.abs(values - difference) <= within):
        return True
    # two people: for each value, is there another within £1 of difference - value?
    targets = difference - values
    left = np.searchsorted(values, targets - within, side="left")
    right = np.searchsorted(values, targets + within, side="right")
    own = np.arange(len(values))
    others = right - left - ((left <= own) & (own < right))  # not the person paired with themselves
    return bool(np.any(others > 0))


class Tally:
    """What one family of differences gives an attacker (see the module docstring)."""

    def __init__(self, step: float, within: float, exact_share: float = 0.05):
        self.step, self.within, self.exact_share = step, within, exact_share
        self.compared = self.matches = self.control = self.few = self.few_exact = 0

    def add(self, difference: float, per_person: pd.Series) -> None:
        self.compared += 1
        self.matches += near_one_or_two(difference, per_person, self.within)
        self.control += (
            near_one_or_two(difference + self.step, per_person, self.within)
            + near_one_or_two(difference - self.step, per_person, self.within)
        ) / 2
        if 1 <= len(per_person) <= 2:
            self.few += 1
            self.few_exact += abs(difference - float(per_person.sum())) <= self.within

    def check(self, least: int) -> None:
        assert self.compared >= least, self.compared
        # no better than chance: within three standard deviations (Poisson) of the control count
        assert self.matches <= self.control + 3 * self.control**0.5 + 3, vars(self)
        assert self.few_exact <= self.exact_share * self.few, vars(self)  # one or two people are not given away


def shown_spending(con, period_end, filters: Filters) -> tuple[dict, spending.SpendingData]:
    """The total and per-category spending as the Spending page and facts show them (`total_block`,
    which reads only the site-and-category result set)."""
    frame = spending.breakdowns(run_query(con, "spend_by_category", **filters.params()))[0]
    data = spending.SpendingData(frame, None, None, None, None)
    block = spending.total_block(data, None)
    return {"total": block["total_gbp"], **block["by_category_gbp"]}, data


def numeric(value) -> bool:
    return value not in (None, disclosure.SUPPRESSED)


def test_site_selections_differing_by_one_site_give_away_no_ones_spending(warehouse, lines):
    info = read_info(warehouse)
    codes = sorted(lines["site_code"].unique())
    shown = {}
    with connect(warehouse) as con:
        for size in range(1, len(codes) + 1):
            for chosen in itertools.combinations(codes, size):
                filters = Filters(chosen, info.period_start, info.period_end)
                shown[chosen], _ = shown_spending(con, info.period_end, filters)
    per_person = {
        (site, "total"): part.groupby("person_id")["amount_gbp"].sum() for site, part in lines.groupby("site_code")
    }
    for (site, category), part in lines.groupby(["site_code", "category"]):
        per_person[(site, category)] = part.groupby("person_id")["amount_gbp"].sum()
    tally = Tally(100, 1)
    for chosen, figures in shown.items():
        for site in chosen:
            rest = tuple(c for c in chosen if c != site)
            if not rest:
                continue
            for cell, value in figures.items():
                other = shown[rest][cell]
                if numeric(value) and numeric(other) and (site, cell) in per_person:
                    tally.add(value - other, per_person[(site, cell)])
    tally.check(1000)  # 448 pairs, the total and 10 categories, most of them shown
    assert tally.few > 20  # small sites' small categories: differences of one or two people


def test_management_options_against_all_give_away_no_ones_spending(warehouse, lines):
    info = read_info(warehouse)
    tally = Tally(100, 1)
    with connect(warehouse) as con:
        everyone, _ = shown_spending(con, info.period_end, Filters(None, info.period_start, info.period_end))
        options = sorted(lines["management_option"].unique())
        for option in options:
            one, _ = shown_spending(con, info.period_end, Filters(None, info.period_start, info.period_end, (option,)))
            rest = lines[lines["management_option"] != option]
            for cell, value in one.items():
                if not (numeric(value) and numeric(everyone[cell])):
                    continue
                cell_lines = rest if cell == "total" else rest[rest["category"] == cell]
                tally.add(everyone[cell] - value, cell_lines.groupby("person_id")["amount_gbp"].sum())
    tally.check(20)


def test_adjacent_months_give_away_no_ones_spending(warehouse, lines):
    """Periods from the data's start to each month end, and from each month start to the data's end:
    two periods a month apart differ by one month's payments."""
    info = read_info(warehouse)
    months = pd.period_range(info.period_start, info.period_end, freq="M")
    paid = pd.to_datetime(lines["paid_on"]).dt.to_period("M")
    with connect(warehouse) as con:

        def total(start: date, end: date):
            return shown_spending(con, info.period_end, Filters(None, start, end))[0]["total"]

        ends = [total(info.period_start, min(m.end_time.date(), info.period_end)) for m in months]
        starts = [total(max(m.start_time.date(), info.period_start), info.period_end) for m in months]
    tally = Tally(100, 1)
    for i in range(1, len(months)):
        month = lines[paid == months[i]].groupby("person_id")["amount_gbp"].sum()
        if numeric(ends[i]) and numeric(ends[i - 1]):
            tally.add(ends[i] - ends[i - 1], month)
        first = lines[paid == months[i - 1]].groupby("person_id")["amount_gbp"].sum()
        if numeric(starts[i - 1]) and numeric(starts[i]):
            tally.add(starts[i - 1] - starts[i], first)
    tally.check(50)


def test_no_shown_median_or_quartile_is_a_holders_own_figure_more_often_than_chance(warehouse, lines):
    """Every single site, pair of sites, all sites and each management option: the shown quartiles of
    spending per holder (each the mean of 5 holders, to £10) match a holder's own net spending in the
    period to the penny no more often than the points £10 either side do. (Holders paid in round
    amounts have totals on the same £10 grid, so "never" cannot hold by chance alone; before this
    method every quartile of an odd number of holders was one holder's figure.)"""
    info = read_info(warehouse)
    people = pd.read_csv(DATA / "people.csv", dtype=str, keep_default_na=False)
    holders = people.loc[people["outcome"] == "budget_in_place", "person_id"]
    own = lines.groupby("person_id")["amount_gbp"].sum().reindex(holders, fill_value=0.0)
    own_pennies = set((own * 100).round().astype(int))
    codes = sorted(lines["site_code"].unique())
    selections = [
        Filters(c, info.period_start, info.period_end) for n in (1, 2, 7) for c in itertools.combinations(codes, n)
    ]
    selections += [
        Filters(None, info.period_start, info.period_end, (o,)) for o in sorted(lines["management_option"].unique())
    ]
    shown = []
    with connect(warehouse) as con:
        for filters in selections:
            frame = run_query(con, "holder_spend_by_site", **filters.params(), period_end=info.period_end)
            for _, row in frame.iterrows():
                for column in ("q1_gbp", "median_gbp", "q3_gbp"):
                    value = disclosure.quantile_shown(row[column], row["holders"])
                    if numeric(value):
                        shown.append(round(value * 100))
    assert len(shown) > 100
    assert all(v % 1000 == 0 for v in shown)  # to £10
    matches = sum(v in own_pennies for v in shown)
    control = (sum(v + 1000 in own_pennies for v in shown) + sum(v - 1000 in own_pennies for v in shown)) / 2
    assert matches <= control + 3 * control**0.5 + 3, (matches, control)


def test_bed_days_and_cost_of_site_selections_differing_by_one_site_give_away_no_one(warehouse):
    """Bed days and cost per group, setting and window, for every pair of site selections differing by
    one site: the difference of shown figures is never one person's (or two people's) own figures in
    that cell, worked out from the admission windows in the extract files."""
    info = read_info(warehouse)
    people = pd.read_csv(DATA / "people.csv", dtype=str, keep_default_na=False)
    adm = pd.read_csv(DATA / "admissions.csv", dtype=str, keep_default_na=False).merge(people, on="person_id")
    adm["grp"] = np.where(
        adm["outcome"] == "budget_in_place", "budget_holders", np.where(adm["arm"] == "comparison", "comparison", "")
    )
    adm = adm[(adm["grp"] != "") & (adm["index_date"] != "")].copy()
    admitted = pd.to_datetime(adm["admitted_on"])
    index = pd.to_datetime(adm["index_date"])
    discharged = pd.to_datetime(adm["discharged_on"].replace("", str(info.period_end)))
    adm["bed_days"] = (discharged - admitted).dt.days
    before = (admitted >= index - pd.DateOffset(months=12)) & (admitted < index)
    after = (admitted >= index) & (admitted < index + pd.DateOffset(months=12))
    adm["window"] = np.where(before, "pre", np.where(after, "post", ""))
    adm = adm[adm["window"] != ""]
    from phb.config import DEFAULT_UNIT_COSTS_GBP as costs

    unit = adm["setting"].map(costs)
    adm["cost"] = np.where(
        adm["cost_gbp"] != "", pd.to_numeric(adm["cost_gbp"], errors="coerce"), adm["bed_days"] * unit
    )
    codes = sorted(people["site_code"].unique())
    cells = {key: part.groupby("person_id") for key, part in adm.groupby(["site_code", "grp", "setting", "window"])}
    shown = {}
    with connect(warehouse) as con:
        for size in range(1, len(codes) + 1):
            for chosen in itertools.combinations(codes, size):
                data = admissions.AdmissionsData(
                    at_risk=None, windows=None, effect_summary=None, sites=None,
                    bed_days=run_query(
                        con, "bed_days_windows", **Filters(chosen, info.period_start, info.period_end).params(),
                        unit_cost_mental_health=costs["mental_health"], unit_cost_general_acute=costs["general_acute"],
                    ),
                )  # fmt: skip
                frame = data.bed_days
                table = admissions.bed_days(data)
                shown[chosen] = {
                    (g, s, w, measure): table.iloc[i][measure]
                    for i, (g, s, w) in enumerate(zip(frame["grp"], frame["setting"], frame["pre_or_post"]))
                    for measure in ("bed_days", "cost_gbp")
                }
    # bed days are shown to 5 days, as counts are: where the person's largest stay is a few days the
    # noise is smaller than that step, so a difference of one or two people's short stays lands on their
    # total (give or take the 5) in up to a third of comparisons, never in all as before
    tallies = {"bed_days": Tally(10, 0, exact_share=1 / 3), "cost_gbp": Tally(100, 1)}
    for chosen, figures in shown.items():
        for site in chosen:
            rest = tuple(c for c in chosen if c != site)
            if not rest:
                continue
            for (grp, setting, window, measure), value in figures.items():
                other = shown[rest].get((grp, setting, window, measure))
                if not (numeric(value) and numeric(other)):
                    continue
                cell = cells.get((site, grp, setting, window))
                if cell is None:
                    continue  # the site has nobody in this cell: the two figures rest on the same people
                per_person = cell["bed_days" if measure == "bed_days" else "cost"].sum()
                tallies[measure].add(value - other, per_person)
    for tally in tallies.values():
        tally.check(100)
