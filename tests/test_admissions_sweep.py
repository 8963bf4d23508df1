"""Time at risk, bed days and the value-for-money analysis's per-person figures, worked out again in pandas
straight from the bundled CSV files and the contract's definitions, must agree with the dashboard's queries
(queries/person_months_at_risk.sql, queries/bed_days_windows.sql and queries/value_by_person.sql, which read
tables made at build) for all sites and each site alone, each with every management option, the first month
alone, the last month alone and the whole period, and for a mid-month period. The only thing taken from the
warehouse is each person's keys (the record key is a keyed hash, checked in tests/test_warehouse.py), so the
sums of record keys behind disclosure control are checked too."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from phb import contract, value
from phb.filters import Filters
from phb.queries import run_query
from phb.warehouse import connect
from tests.conftest import DATA

COSTS = {"unit_cost_mental_health": 334.0, "unit_cost_general_acute": 400.0}
DATES = {"people": ["budget_start", "budget_end", "index_date"], "admissions": ["admitted_on", "discharged_on"]}


@pytest.fixture(scope="module")
def extract(bundled_warehouse):
    warehouse, info = bundled_warehouse
    people = pd.read_csv(DATA / "people.csv", parse_dates=DATES["people"], dtype={"imd_quintile": "Int64"})
    admissions = pd.read_csv(DATA / "admissions.csv", parse_dates=DATES["admissions"])
    sites = pd.read_csv(DATA / "sites.csv")["site_code"].tolist()
    with connect(warehouse) as con:
        keys = con.execute("select person_id, person_key, record_key from person_keys").df()
    people = people.merge(keys, on="person_id", how="left")
    return people, admissions, sites, info


def selections(sites: list[str], start: date, end: date) -> list[Filters]:
    first_month_end = (pd.Timestamp(start) + pd.offsets.MonthEnd(0)).date()
    chosen = [Filters(None, date(2015, 2, 14), date(2016, 8, 9))]
    for chosen_sites in (None, *((code,) for code in sites)):
        chosen += [Filters(chosen_sites, start, end), Filters(chosen_sites, start, first_month_end)]
        chosen += [Filters(chosen_sites, end.replace(day=1), end)]
        chosen += [Filters(chosen_sites, start, end, (option,)) for option in contract.MANAGEMENT_OPTIONS]
    return chosen


def _chosen(frame: pd.DataFrame, filters: Filters) -> pd.Series:
    """The people at a chosen site, and budget holders under a chosen management option."""
    chosen = pd.Series(True, index=frame.index)
    if filters.sites is not None:
        chosen &= frame["site_code"].isin(filters.sites)
    if filters.management is not None:
        chosen &= (frame["grp"] == "comparison") | frame["management_option"].isin(filters.management)
    return chosen


def _top(values: pd.Series) -> tuple[float, float]:
    top = sorted(values.abs(), reverse=True) + [0, 0]
    return top[0], top[1]


# ---------------------------------------------------------------------------------------------------------
# Time at risk (contract: a budget holder from budget_start to the day before budget_end; the comparison
# group from the index date; a person-month is one person at risk for a whole calendar month)


def at_risk_by_hand(people, admissions, sites, filters: Filters, grain: str) -> pd.DataFrame:
    holders = people[people["outcome"] == "budget_in_place"].assign(
        grp="budget_holders", starts_on=lambda f: f["budget_start"], ends_before=lambda f: f["budget_end"]
    )
    comparison = people[
        (people["arm"] == "comparison")
        & people["outcome"].notna()
        & (people["outcome"] != "budget_in_place")
        & people["index_date"].notna()
    ].assign(grp="comparison", starts_on=lambda f: f["index_date"], ends_before=pd.NaT)
    spans = pd.concat([holders, comparison], ignore_index=True)
    spans = spans[_chosen(spans, filters)]
    date_from, after = pd.Timestamp(filters.date_from), pd.Timestamp(filters.date_to) + pd.Timedelta(days=1)
    cut_start = spans["starts_on"].clip(lower=date_from).to_numpy()
    cut_end = spans["ends_before"].fillna(after).clip(upper=after).to_numpy()
    months = pd.date_range(date_from.replace(day=1), filters.date_to, freq="MS")
    starts = months.to_numpy()[None, :]
    ends = (months + pd.offsets.MonthBegin(1)).to_numpy()[None, :]
    overlap = (np.minimum(cut_end[:, None], ends) - np.maximum(cut_start[:, None], starts)) / np.timedelta64(1, "D")
    overlap = np.clip(overlap, 0, None)
    share = overlap / ((ends - starts) / np.timedelta64(1, "D"))
    period_of_month = months.to_period("M" if grain == "month" else "Q").start_time

    stays = admissions[admissions["admission_method"] == "emergency"].merge(
        spans[["person_id", "site_code", "grp", "starts_on", "ends_before", "record_key"]], on="person_id"
    )
    stays = stays[
        (stays["admitted_on"] >= stays["starts_on"])
        & (stays["ends_before"].isna() | (stays["admitted_on"] < stays["ends_before"]))
        & (stays["admitted_on"] >= date_from)
        & (stays["admitted_on"] < after)
    ].copy()
    # bed days run to the discharge, or to the end of the data where there is none
    stays["bed_days"] = (stays["discharged_on"].fillna(DATA_END[0]) - stays["admitted_on"]).dt.days
    stays["period"] = stays["admitted_on"].dt.to_period("M" if grain == "month" else "Q").dt.start_time

    periods = sorted(set(period_of_month))
    in_period = np.array([[p == q for q in periods] for p in period_of_month], dtype=float)  # months x periods
    people_by_period = pd.DataFrame(share @ in_period, columns=periods)
    keys_by_period = pd.DataFrame(
        ((overlap @ in_period) > 0) * spans["record_key"].to_numpy()[:, None], columns=periods
    )
    person_cells = spans[["site_code", "grp"]].reset_index(drop=True)

    per_person = (
        stays.groupby(["period", "site_code", "grp", "person_id"])
        .agg(admissions=("admission_id", "size"), bed_days=("bed_days", "sum"), key=("record_key", "first"))
        .reset_index()
        .sort_values("bed_days", ascending=False, kind="stable")
    )

    def exposure(by: list[str]) -> pd.DataFrame:
        months = pd.concat([person_cells, people_by_period], axis=1).groupby(by)[periods].sum()
        keys = pd.concat([person_cells, keys_by_period], axis=1).groupby(by)[periods].sum() % 256
        return pd.concat(
            [months.stack().rename("person_months"), keys.stack().astype(int).rename("person_months_ckey")], axis=1
        )

    def admitted(by: list[str]) -> pd.DataFrame:
        grouped = per_person.groupby(["period", *by])
        return pd.concat(
            [
                grouped["admissions"].sum(),
                grouped["bed_days"].sum(),
                grouped.size().rename("people"),
                grouped["bed_days"].max().rename("top1"),
                grouped["key"].sum().mod(256).rename("mkey"),
            ],
            axis=1,
        ).join(
            per_person.assign(rank=grouped.cumcount())
            .query("rank == 1")
            .set_index(["period", *by])["bed_days"]
            .rename("top2")
        )

    chosen_sites = [s for s in sites if filters.sites is None or s in filters.sites]
    rows = []
    for by in (["grp"], ["site_code", "grp"]):
        cells = pd.MultiIndex.from_product(
            [periods, *([chosen_sites] if by[0] == "site_code" else []), ["budget_holders", "comparison"]],
            names=["period", *by],
        )
        made = exposure(by).rename_axis([*by, "period"]).reorder_levels(["period", *by])
        frame = pd.DataFrame(index=cells).join(made).join(admitted(by)).fillna(0).reset_index()
        rows.append(frame.assign(site_code=frame["site_code"] if "site_code" in by else None))
    columns = [
        "period",
        "site_code",
        "grp",
        "person_months",
        "person_months_ckey",
        "admissions",
        "bed_days",
        "people",
        "top1",
        "top2",
        "mkey",
    ]
    return pd.concat(rows, ignore_index=True)[columns]


DATA_END: list[pd.Timestamp] = []  # the end of the data, set by the fixture below


@pytest.fixture(scope="module", autouse=True)
def _data_end(extract):
    DATA_END[:] = [pd.Timestamp(extract[3].period_end)]


# by quarter in the slow tier (CI runs both): the main tier has the hand-worked quarter checks
@pytest.mark.parametrize("grain", ["month", pytest.param("quarter", marks=pytest.mark.slow)])
def test_time_at_risk_agrees_with_pandas_for_every_site_option_and_period(bundled_warehouse, extract, grain):
    warehouse, _ = bundled_warehouse
    people, admissions, sites, info = extract
    compared = 0
    with connect(warehouse) as con:
        for filters in selections(sites, info.period_start, info.period_end):
            ours = run_query(con, "person_months_at_risk", **filters.params(), grain=grain)
            theirs = at_risk_by_hand(people, admissions, sites, filters, grain)
            key = ["period", "site_code", "grp"]
            ours = ours.assign(period=pd.to_datetime(ours["period"])).sort_values(key, na_position="first")
            theirs = theirs.sort_values(key, na_position="first")
            assert len(ours) == len(theirs), filters
            for column in theirs.columns:
                a, b = ours[column].to_numpy(), theirs[column].to_numpy()
                if column == "person_months":
                    assert np.allclose(a.astype(float), b.astype(float), rtol=1e-9, atol=1e-9), (filters, column)
                elif column in ("period", "site_code", "grp"):
                    assert [None if pd.isna(x) else x for x in a] == [None if pd.isna(x) else x for x in b], filters
                else:
                    assert (a.astype(float) == b.astype(float)).all(), (filters, column)
            compared += 1
            if filters.sites is None and filters.management is None and filters.date_from == info.period_start:
                if filters.date_to == info.period_end:  # the whole period: someone is at risk and admitted
                    assert theirs["person_months"].sum() > 0 and theirs["admissions"].sum() > 0
    assert compared == 1 + (len(sites) + 1) * (3 + len(contract.MANAGEMENT_OPTIONS))


# ---------------------------------------------------------------------------------------------------------
# Bed days and cost in the 12 months before and after the index date


def _cohort(people, filters: Filters) -> pd.DataFrame:
    """Budget holders and the comparison group with an index date in the period, at a chosen site (and a
    chosen management option for budget holders)."""
    grp = np.select(
        [people["outcome"] == "budget_in_place", people["arm"] == "comparison"],
        ["budget_holders", "comparison"],
        default="",
    )
    cohort = people.assign(grp=grp)
    cohort = cohort[(cohort["grp"] != "") & cohort["index_date"].notna()]
    return cohort[
        cohort["index_date"].between(pd.Timestamp(filters.date_from), pd.Timestamp(filters.date_to))
        & _chosen(cohort, filters)
    ]


def _stays_in_windows(admissions, cohort: pd.DataFrame) -> pd.DataFrame:
    """The cohort's stays in the 12 months before the index date ('pre') or the 12 months from it ('post'),
    with their bed days (to the discharge, or to the end of the data) and cost (the extract's, else bed days
    at the setting's unit cost)."""
    stays = admissions.merge(cohort[["person_id", "grp", "index_date", "record_key"]], on="person_id")
    stays["bed_days"] = (stays["discharged_on"].fillna(DATA_END[0]) - stays["admitted_on"]).dt.days
    rate = np.where(
        stays["setting"] == "mental_health", COSTS["unit_cost_mental_health"], COSTS["unit_cost_general_acute"]
    )
    stays["cost_gbp"] = stays["cost_gbp"].fillna(pd.Series(stays["bed_days"] * rate, index=stays.index))
    year_before = stays["index_date"] - pd.DateOffset(months=12)
    year_after = stays["index_date"] + pd.DateOffset(months=12)
    stays["pre_or_post"] = np.select(
        [
            (stays["admitted_on"] >= year_before) & (stays["admitted_on"] < stays["index_date"]),
            (stays["admitted_on"] >= stays["index_date"]) & (stays["admitted_on"] < year_after),
        ],
        ["pre", "post"],
        default="",
    )
    return stays[stays["pre_or_post"] != ""]


def bed_days_by_hand(people, admissions, filters: Filters) -> pd.DataFrame:
    stays = _stays_in_windows(admissions, _cohort(people, filters))
    per_person = stays.groupby(["grp", "setting", "pre_or_post", "person_id"]).agg(
        admissions=("admission_id", "size"),
        bed_days=("bed_days", "sum"),
        cost_gbp=("cost_gbp", "sum"),
        key=("record_key", "first"),
    )
    rows = []
    for (g, setting, window), cell in per_person.groupby(level=[0, 1, 2]):
        bed1, bed2 = _top(cell["bed_days"])
        cost1, cost2 = _top(cell["cost_gbp"])
        rows.append(
            {
                "grp": g,
                "setting": setting,
                "pre_or_post": window,
                "admissions": int(cell["admissions"].sum()),
                "bed_days": int(cell["bed_days"].sum()),
                "cost_gbp": float(cell["cost_gbp"].sum()),
                "people": len(cell),
                "bed_top1": bed1,
                "bed_top2": bed2,
                "cost_top1": cost1,
                "cost_top2": cost2,
                "mkey": int(cell["key"].sum()) % 256,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "grp",
            "setting",
            "pre_or_post",
            "admissions",
            "bed_days",
            "cost_gbp",
            "people",
            "bed_top1",
            "bed_top2",
            "cost_top1",
            "cost_top2",
            "mkey",
        ],
    )


def test_bed_days_around_the_index_date_agree_with_pandas_for_every_site_option_and_period(bundled_warehouse, extract):
    warehouse, _ = bundled_warehouse
    people, admissions, sites, info = extract
    seen_rows = 0
    with connect(warehouse) as con:
        for filters in selections(sites, info.period_start, info.period_end):
            ours = run_query(con, "bed_days_windows", **filters.params(), **COSTS)
            theirs = bed_days_by_hand(people, admissions, filters)
            key = ["grp", "setting", "pre_or_post"]
            ours = ours.sort_values(key).reset_index(drop=True)
            theirs = theirs.sort_values(key).reset_index(drop=True)
            assert ours[key].values.tolist() == theirs[key].values.tolist(), filters
            for column in theirs.columns.drop(key):
                assert np.allclose(ours[column].astype(float), theirs[column].astype(float), rtol=1e-12, atol=0), (
                    filters,
                    column,
                )
            seen_rows += len(theirs)
    assert seen_rows > 100  # most selections have stays in most cells


# ---------------------------------------------------------------------------------------------------------
# The value-for-money analysis's figures per person (never shown person by person)


def value_by_hand(people, admissions, spend, filters: Filters) -> pd.DataFrame:
    cohort = _cohort(people, filters)
    stays = _stays_in_windows(admissions, cohort)
    stays["mh_days"] = stays["bed_days"].where(stays["setting"] == "mental_health", 0)
    stays["acute_cost"] = stays["cost_gbp"].where(stays["setting"] == "general_acute", 0)
    cohort = cohort.set_index("person_id")
    out = pd.DataFrame(index=cohort.index)
    for window in ("pre", "post"):
        per_person = stays[stays["pre_or_post"] == window].groupby("person_id")
        out[f"admissions_{window}"] = per_person.size()
        out[f"cost_{window}"] = per_person["cost_gbp"].sum()
        out[f"mh_days_{window}"] = per_person["mh_days"].sum()
        out[f"acute_cost_{window}"] = per_person["acute_cost"].sum()
    holders = cohort[cohort["grp"] == "budget_holders"]
    paid = spend.merge(holders[["index_date"]], left_on="person_id", right_index=True)
    paid = paid[
        (paid["paid_on"] >= paid["index_date"]) & (paid["paid_on"] < paid["index_date"] + pd.DateOffset(months=12))
    ]
    out["spend_post"] = paid.groupby("person_id")["amount_gbp"].sum()
    out = out.fillna(0)
    out["person_key"] = cohort["person_key"]
    return out.sort_values("person_key").reset_index(drop=True)


def test_value_for_moneys_figures_per_person_agree_with_pandas_for_every_site_option_and_period(
    bundled_warehouse, extract
):
    warehouse, _ = bundled_warehouse
    people, admissions, sites, info = extract
    spend = pd.read_csv(DATA / "spend.csv", parse_dates=["paid_on"])
    people_seen = 0
    with connect(warehouse) as con:
        for filters in selections(sites, info.period_start, info.period_end):
            ours = value.in_person_order(run_query(con, "value_by_person", **filters.params(), **COSTS))
            theirs = value_by_hand(people, admissions, spend, filters)
            assert ours["person_key"].tolist() == theirs["person_key"].tolist(), filters
            for column in theirs.columns.drop("person_key"):
                assert np.allclose(ours[column].astype(float), theirs[column].astype(float), rtol=1e-12, atol=1e-9), (
                    filters,
                    column,
                )
            people_seen += len(theirs)
            if filters == Filters(None, info.period_start, info.period_end):
                assert (
                    (theirs[["spend_post", "cost_pre", "cost_post", "mh_days_post", "acute_cost_pre"]] > 0).any().all()
                )
    assert people_seen > 1000
