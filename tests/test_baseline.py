"""The pandas baseline (benchmarks/baseline.py): a typical Streamlit app's way of working out the Overview's and
Spending page's figures from the CSV files, which must agree with the dashboard's queries exactly for every
selection, and whose agreement check must notice a difference."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from benchmarks import baseline
from phb import contract
from phb.filters import Filters
from phb.queries import run_query
from phb.warehouse import connect
from tests.conftest import DATA


@pytest.fixture(scope="module")
def frames():
    return baseline.read_extract(DATA)


def test_pandas_and_the_dashboard_agree_for_every_site_option_and_period(bundled_warehouse, frames):
    """All sites and each site alone, each with every management option and with the first and the last
    month of the data alone (the period's boundaries), and a period from mid-month to mid-month."""
    warehouse, info = bundled_warehouse
    start, end = info.period_start, info.period_end
    first_month_end = (pd.Timestamp(start) + pd.offsets.MonthEnd(0)).date()
    last_month_start = end.replace(day=1)
    with connect(warehouse) as con:
        codes = run_query(con, "sites")["site_code"].tolist()
        chosen = [Filters(None, date(2015, 2, 14), date(2016, 8, 9))]
        for sites in (None, *((code,) for code in codes)):
            chosen += [Filters(sites, start, end), Filters(sites, start, first_month_end)]
            chosen += [Filters(sites, last_month_start, end)]
            chosen += [Filters(sites, start, end, (option,)) for option in contract.MANAGEMENT_OPTIONS]
        for filters in chosen:
            ours = baseline.dashboard_figures(con, filters)
            assert baseline.differences(ours, baseline.pandas_figures(frames, filters)) == [], filters
            if (filters.date_from, filters.date_to, filters.management) == (start, end, None):  # never empty
                assert len(ours["by_site_category"]) > 0 and ours["sites"]["referred"].sum() > 0


def test_the_agreement_check_notices_one_missing_payment_and_one_missing_referral(bundled_warehouse, frames):
    warehouse, info = bundled_warehouse
    filters = Filters(None, info.period_start, info.period_end)
    short = baseline.Frames(
        frames.people.drop(frames.people[frames.people["referred_on"].notna()].index[:1]),
        frames.spend.iloc[1:],
    )
    with connect(warehouse) as con:
        problems = baseline.differences(
            baseline.dashboard_figures(con, filters), baseline.pandas_figures(short, filters)
        )
    assert any(p.startswith("sites.referred") for p in problems)
    assert any(p.startswith("by_site_category.net_gbp") for p in problems)
    assert any(p.startswith("by_month_category") for p in problems)
