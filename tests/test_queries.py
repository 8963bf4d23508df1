"""Every query file, run against the tiny hand-written extract, with expected values worked out by
hand from tests/fixtures/tiny (an apostrophe in a site name, blank cells, a site with 3 budget
holders, an open hospital stay, a refund)."""

from __future__ import annotations

import hashlib
import os
import statistics
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from phb.config import QUERIES_DIR
from phb.queries import QueryParameterError, as_text, query_params, query_text, run_query, run_query_coded
from tests.conftest import TINY, record_key

FULL = {"sites": None, "date_from": date(2013, 7, 1), "date_to": date(2016, 6, 30), "management": None}
DATA_END = date(2016, 6, 30)


def penny(amount: float):
    """Money compared to the penny."""
    return pytest.approx(amount, abs=0.005)


def year_later(d: date) -> date:
    """Twelve calendar months on (no fixture date falls on 29 February)."""
    return d.replace(year=d.year + 1)


def covered_days(start: date, end: date) -> int:
    """Days of [start, end) inside the data period, 1 Jul 2013 to 30 Jun 2016 inclusive."""
    lo, hi = max(start, date(2013, 7, 1)), min(end, DATA_END + timedelta(days=1))
    return max((hi - lo).days, 0)


def mkey(*person_ids: str) -> int:
    """The cell key of money (disclosure.money): the people's record keys summed, modulo 256. A record
    key is the first byte of MD5 of "<test key>:<person id>" (the suite's key is set in conftest.py),
    worked out here with hashlib rather than DuckDB's md5_number."""
    key = os.environ["PHB_PERTURBATION_KEY"]
    return sum(hashlib.md5(f"{key}:{p}".encode()).digest()[0] for p in person_ids) % 256


HOLDERS = ("A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A09", "B01", "B02", "B03")


def check_sites(con):
    frame = run_query(con, "sites")
    assert frame["site_code"].tolist() == ["AAA", "BBB"]
    assert frame["site_name"].tolist() == ["St Mary's Vale", "Brookside"]


def check_site_summary(con):
    frame = run_query(con, "site_summary", **FULL).set_index("site_code")
    # AAA: 12 on the pathway, A11 never offered; A04 ended Feb 2015, so 8 of 9 holders remain.
    assert frame.loc["AAA", ["referred", "offered", "budgets_in_place", "budgets_at_pilot_end"]].tolist() == [
        12,
        11,
        8,
        8,
    ]
    # BBB: B03 ended 31 Jan 2016, before both the pilot end (29 Feb 2016) and the end of the data.
    assert frame.loc["BBB", ["referred", "offered", "budgets_in_place", "budgets_at_pilot_end"]].tolist() == [
        4,
        4,
        2,
        2,
    ]
    assert frame.loc["BBB", ["eligible_population", "planned_budgets"]].tolist() == [800, 5]

    early = run_query(con, "site_summary", **{**FULL, "sites": ["BBB"], "date_to": date(2015, 6, 30)})
    assert early["site_code"].tolist() == ["BBB"]
    assert early.loc[0, ["referred", "budgets_in_place", "budgets_at_pilot_end"]].tolist() == [4, 3, 3]

    notional = run_query(
        con, "site_summary", **{**FULL, "sites": ["AAA"], "date_to": date(2015, 1, 31), "management": ["notional"]}
    )
    # notional budgets in place on 31 Jan 2015: A01, A04 (ends 1 Feb), A05; referrals are not filtered
    assert notional.loc[0, ["referred", "budgets_in_place"]].tolist() == [8, 3]


def check_spend_by_category(con):
    both = run_query(con, "spend_by_category", **FULL)
    assert set(both["breakdown"]) == {"site", "management_option"}
    frame = both[both["breakdown"] == "site"]
    assert frame["management_option"].isna().all()
    overall = frame[frame["site_code"].isna() & frame["category"].isna()].iloc[0]
    assert overall["net_gbp"] == penny(4760.84)  # 3,331.34 + 1,450.00 - 20.50 refund
    assert overall["refunds_gbp"] == penny(-20.50)
    assert overall["people"] == 12
    # the largest per-person net sums: A08's £1,200 short break and B03's £650 equipment; all 12 holders spent
    assert (overall["top1"], overall["top2"], overall["mkey"]) == (penny(1200), penny(650), mkey(*HOLDERS))
    assert (overall["refund_people"], overall["refund_top1"], overall["refund_top2"]) == (1, penny(20.50), 0)
    assert overall["refund_mkey"] == mkey("A02")
    cell = frame[(frame["site_code"] == "AAA") & (frame["category"] == "physical_activity")].iloc[0]
    assert (cell["spend_gbp"], cell["refunds_gbp"], cell["net_gbp"], cell["people"]) == (
        penny(220.49),
        penny(-20.50),
        penny(199.99),
        2,
    )
    # A02's physical activity nets to 120.50 - 20.50 = 100.00 (refund netted); A06's is 99.99
    assert (cell["top1"], cell["top2"], cell["mkey"]) == (penny(100.00), penny(99.99), mkey("A02", "A06"))
    talking = frame[frame["site_code"].isna() & (frame["category"] == "talking_therapy")].iloc[0]
    assert (talking["net_gbp"], talking["people"]) == (penny(980.00), 3)
    # A01 £500 (two payments), B02 £300, A05 £180: a person's sum, not a line, is a contribution
    assert (talking["top1"], talking["top2"], talking["mkey"]) == (penny(500), penny(300), mkey("A01", "A05", "B02"))
    bbb = frame[(frame["site_code"] == "BBB") & frame["category"].isna()].iloc[0]
    assert (bbb["net_gbp"], bbb["people"]) == (penny(1450.00), 3)

    to_2014 = run_query(con, "spend_by_category", **{**FULL, "sites": ["AAA"], "date_to": date(2014, 12, 31)})
    total = to_2014[(to_2014["breakdown"] == "site") & to_2014["site_code"].isna() & to_2014["category"].isna()]
    assert (total.iloc[0]["net_gbp"], total.iloc[0]["people"]) == (penny(1910.75), 5)

    # by management option, from the same grouping
    options = both[both["breakdown"] == "management_option"]
    assert options["site_code"].isna().all()
    dp = options[options["management_option"] == "direct_payment"]
    total = dp[dp["category"].isna()].iloc[0]
    assert (total["net_gbp"], total["people"]) == (penny(999.99), 3)  # A02, A06, B01
    # B01 £500, A02 £400 (120.50 + 300 - 20.50), A06 £99.99
    assert (total["top1"], total["top2"], total["mkey"]) == (penny(500), penny(400), mkey("A02", "A06", "B01"))
    assert (total["refund_people"], total["refund_top1"], total["refund_mkey"]) == (1, penny(20.50), mkey("A02"))
    physical = dp[dp["category"] == "physical_activity"].iloc[0]
    assert (physical["net_gbp"], physical["people"]) == (penny(199.99), 2)


def check_admissions_windows_by_site(con):
    frame = run_query(con, "admissions_windows_by_site", **FULL).set_index(["site_code", "grp"])
    assert frame.loc[("AAA", "budget_holders"), ["people", "emergency_pre", "emergency_post"]].tolist() == [9, 2, 1]
    assert frame.loc[("AAA", "comparison"), ["people", "emergency_pre", "emergency_post"]].tolist() == [2, 1, 2]
    assert frame.loc[("BBB", "budget_holders"), ["people", "emergency_pre", "emergency_post"]].tolist() == [3, 0, 0]
    holders = {
        "A01": "2014-08-15",
        "A02": "2014-09-01",
        "A03": "2014-10-01",
        "A04": "2014-11-01",
        "A05": "2014-12-01",
        "A06": "2015-01-05",
        "A07": "2015-03-01",
        "A08": "2015-05-01",
        "A09": "2015-08-01",
    }
    index = [date.fromisoformat(d) for d in holders.values()]
    pre = sum(covered_days(d.replace(year=d.year - 1), d) for d in index) / 365.25
    post = sum(covered_days(d, year_later(d)) for d in index) / 365.25
    assert frame.loc[("AAA", "budget_holders"), "years_pre"] == pytest.approx(pre)
    assert frame.loc[("AAA", "budget_holders"), "years_post"] == pytest.approx(post)
    # C04's year before 1 Mar 2014 starts before the data do: only 1 Jul 2013 to 28 Feb 2014 counts
    c04 = covered_days(date(2013, 3, 1), date(2014, 3, 1))
    c03 = covered_days(date(2013, 11, 1), date(2014, 11, 1))
    assert c04 == 243
    assert frame.loc[("BBB", "comparison"), "years_pre"] == pytest.approx((c04 + c03) / 365.25)

    dp = run_query(con, "admissions_windows_by_site", **{**FULL, "management": ["direct_payment"]})
    dp = dp.set_index(["site_code", "grp"])
    # direct payments: A02 (one admission before), A06, B01; the comparison group is not filtered
    assert dp.loc[("AAA", "budget_holders"), ["people", "emergency_pre", "emergency_post"]].tolist() == [2, 1, 0]
    assert dp.loc[("AAA", "comparison"), "people"] == 2


def check_budgets_in_place_monthly(con):
    frame = run_query(con, "budgets_in_place_monthly", **FULL)
    jan = frame[frame["on_date"] == pd.Timestamp(2015, 1, 31)].set_index("site_code")["budgets_in_place"]
    assert jan.to_dict() == {"AAA": 6, "BBB": 2}
    last = frame[frame["on_date"] == frame["on_date"].max()]
    assert last["on_date"].iloc[0] == pd.Timestamp(2016, 6, 30)
    assert last.set_index("site_code")["budgets_in_place"].to_dict() == {"AAA": 8, "BBB": 2}
    part = run_query(con, "budgets_in_place_monthly", **{**FULL, "sites": ["AAA"], "date_to": date(2015, 2, 15)})
    # the final, part month is counted on the period's last day; A04 ended on 1 Feb 2015
    assert part.iloc[-1][["on_date", "budgets_in_place"]].tolist() == [pd.Timestamp(2015, 2, 15), 5]


def check_emergency_admissions_monthly(con):
    frame = run_query(con, "emergency_admissions_monthly", **FULL)
    holders = frame[frame["grp"] == "budget_holders"]
    assert holders["month"].dt.strftime("%Y-%m").tolist() == ["2013-07", "2013-10", "2014-03", "2014-12", "2016-06"]
    comparison = frame[frame["grp"] == "comparison"].set_index(
        frame[frame["grp"] == "comparison"]["month"].dt.strftime("%Y-%m")
    )
    assert comparison["admissions"].to_dict() == {"2014-01": 1, "2015-02": 1, "2015-03": 1}
    # the open stay from 1 Mar 2015 counts to the end of the data
    assert comparison.loc["2015-03", "bed_days"] == (DATA_END - date(2015, 3, 1)).days == 487
    # H09 belongs to a person who declined a budget: in neither group
    assert frame["admissions"].sum() == 8


def check_pathway_by_site(con):
    frame = run_query(con, "pathway_by_site", sites=None, date_from=FULL["date_from"], date_to=FULL["date_to"])
    rows = {("all" if pd.isna(r["site_code"]) else r["site_code"]): r for _, r in frame.iterrows()}
    steps = ["referred", "offered", "plan_agreed", "budget_in_place", "declined", "withdrawn", "in_planning"]
    # AAA: A11 never offered; A10 declined, A11 withdrew, A12 still planning; nine budgets
    assert rows["AAA"][steps].tolist() == [12, 11, 10, 9, 1, 1, 1]
    assert rows["BBB"][steps].tolist() == [4, 4, 3, 3, 1, 0, 0]
    assert rows["all"][steps].tolist() == [16, 15, 13, 12, 2, 1, 1]
    referral_to_budget = {
        "A01": ("2014-07-10", "2014-08-15"), "A02": ("2014-07-15", "2014-09-01"), "A03": ("2014-08-01", "2014-10-01"),
        "A04": ("2014-09-01", "2014-11-01"), "A05": ("2014-10-01", "2014-12-01"), "A06": ("2014-11-01", "2015-01-05"),
        "A07": ("2015-01-01", "2015-03-01"), "A08": ("2015-03-01", "2015-05-01"), "A09": ("2015-06-01", "2015-08-01"),
        "B01": ("2014-09-10", "2014-10-15"), "B02": ("2014-10-01", "2014-12-01"), "B03": ("2015-01-10", "2015-03-01"),
    }  # fmt: skip
    days = {k: (date.fromisoformat(b) - date.fromisoformat(a)).days for k, (a, b) in referral_to_budget.items()}
    # the median is the mean of the 5 people's days nearest rank (n - 1) / 2, rounded half up
    aaa_days = sorted(v for k, v in days.items() if k < "B")  # 36 48 59 61 61 61 61 61 65: ranks 2..6
    assert rows["AAA"]["median_days_to_budget"] == pytest.approx(statistics.mean(aaa_days[2:7])) == 60.6
    # BBB has 3 (35, 50, 61): all of them
    assert rows["BBB"]["median_days_to_budget"] == pytest.approx(statistics.mean([35, 50, 61]))
    all_days = sorted(days.values())  # 12 people: rank 5.5 rounds to 6, so ranks 4..8
    assert rows["all"]["median_days_to_budget"] == pytest.approx(statistics.mean(all_days[4:9]))

    early = run_query(con, "pathway_by_site", sites=["AAA"], date_from=FULL["date_from"], date_to=date(2014, 12, 31))
    aaa = early[early["site_code"] == "AAA"].iloc[0]
    # referred by 31 Dec 2014: A01-A06 and A10; A06's budget starts on 5 Jan 2015, so at the period's end
    # A06 is still in planning
    assert aaa[steps].tolist() == [7, 7, 6, 5, 1, 0, 1]


def check_management_by_site(con):
    frame = run_query(con, "management_by_site", **FULL)
    got = {(r.site_code, r.management_option): r.budgets for r in frame.itertuples()}
    assert got == {
        ("AAA", "notional"): 5, ("AAA", "direct_payment"): 2, ("AAA", "third_party"): 2,
        ("BBB", "direct_payment"): 1, ("BBB", "notional"): 2,
    }  # fmt: skip
    early = run_query(con, "management_by_site", **{**FULL, "date_to": date(2014, 10, 31), "management": ["notional"]})
    assert {(r.site_code, r.budgets) for r in early.itertuples()} == {("AAA", 1)}  # A01 only


def check_conversion_by_group(con):
    frame = run_query(con, "conversion_by_group", sites=None, date_from=FULL["date_from"], date_to=FULL["date_to"])
    got = {(r.characteristic, r.grp): (r.referred, r.budgets) for r in frame.itertuples()}
    assert got[("sex", "female")] == (8, 5)  # A01 A03 A07 A09 A11 A12 B02 B04; budgets A01 A03 A07 A09 B02
    assert got[("sex", "male")] == (6, 5)
    assert got[("imd_quintile", "not_recorded")] == (1, 1)  # A09's blank quintile
    assert got[("primary_need", "substance_misuse")] == (1, 1)
    for characteristic in ("age_band", "sex", "ethnicity", "imd_quintile", "primary_need"):
        rows = frame[frame["characteristic"] == characteristic]
        assert (rows["referred"].sum(), rows["budgets"].sum()) == (16, 12)


def check_spend_over_time(con):
    frame = run_query(con, "spend_over_time", **FULL, grain="quarter")
    totals = frame[frame["category"].isna()].set_index(
        frame[frame["category"].isna()]["period_start"].dt.strftime("%Y-%m")
    )
    # Jul-Sep 2014: S01, S02 (A01, talking therapies) and S03 (A02): £620.50 from 2 people
    assert (totals.loc["2014-07", "net_gbp"], totals.loc["2014-07", "people"]) == (penny(620.50), 2)
    # Oct-Dec 2014: S04-S07 and S13, S14: £2,090.25 from 6 people
    assert (totals.loc["2014-10", "net_gbp"], totals.loc["2014-10", "people"]) == (penny(2090.25), 6)
    # the largest: B01's £500 and A03's £410.25
    oct_dec = totals.loc["2014-10"]
    assert (oct_dec["top1"], oct_dec["top2"]) == (penny(500), penny(410.25))
    assert oct_dec["mkey"] == mkey("A02", "A03", "A04", "A05", "B01", "B02")
    assert totals["net_gbp"].sum() == penny(4760.84)
    q3 = frame[(frame["period_start"] == pd.Timestamp(2014, 7, 1)) & frame["category"].notna()]
    assert dict(zip(q3["category"], q3["net_gbp"])) == {
        "physical_activity": penny(120.50),
        "talking_therapy": penny(500.00),
    }
    months = run_query(con, "spend_over_time", **FULL, grain="month")
    nov = months[(months["period_start"] == pd.Timestamp(2015, 11, 1)) & months["category"].isna()]
    assert nov["net_gbp"].tolist() == [penny(-20.50)]  # the month of A02's refund alone


def check_holder_spend_by_site(con):
    frame = run_query(con, "holder_spend_by_site", **FULL, period_end=DATA_END)
    aaa = frame[frame["site_code"] == "AAA"].iloc[0]
    # net spend per AAA holder: 45.60, 75, 99.99, 180, 400 (A02: 120.50 + 300 - 20.50), 400, 410.25, 500, 1,200
    per_holder = [45.60, 75.00, 99.99, 180.00, 400.00, 400.00, 410.25, 500.00, 1200.00]
    assert aaa["holders"] == 9
    # each quantile is the mean of the 5 values nearest its rank p * (n - 1) of 0..8: ranks 2 (q1), 4 (median)
    # and 6 (q3); ranks 0..4, 2..6 and 4..8 (the 5 nearest, moved inwards at the ends)
    assert aaa["q1_gbp"] == penny(statistics.mean(per_holder[0:5]))  # 160.118
    assert aaa["median_gbp"] == penny((99.99 + 180 + 400 + 400 + 410.25) / 5)  # 298.048
    assert aaa["q3_gbp"] == penny(statistics.mean(per_holder[4:9]))  # 582.05
    assert (aaa["top1"], aaa["top2"], aaa["mkey"]) == (penny(1200), penny(500), mkey(*HOLDERS[:9]))
    budgets = {
        "A01": (2000, "2014-08-15", None), "A02": (3000, "2014-09-01", None), "A03": (1500.5, "2014-10-01", None),
        "A04": (400, "2014-11-01", "2015-02-01"), "A05": (2500, "2014-12-01", None),
        "A06": (1800, "2015-01-05", None), "A07": (2200, "2015-03-01", None), "A08": (5000, "2015-05-01", None),
        "A09": (900, "2015-08-01", None),
    }  # fmt: skip
    pro_rata = 0.0
    for annual, start, end in budgets.values():
        last = date.fromisoformat(end) - timedelta(days=1) if end else DATA_END  # in place up to the day before the end
        pro_rata += annual * ((last - date.fromisoformat(start)).days + 1) / 365.25
    assert aaa["pro_rata_budget_gbp"] == pytest.approx(pro_rata)
    assert aaa["net_gbp"] == penny(sum(per_holder))
    dp = frame[frame["management_option"] == "direct_payment"].iloc[0]
    assert (dp["holders"], dp["net_gbp"]) == (3, penny(999.99))  # A02, A06, B01
    # fewer than 5 holders: every one of them is in the mean (400, 99.99, 500)
    assert dp["median_gbp"] == penny(999.99 / 3)
    early = run_query(con, "holder_spend_by_site", **{**FULL, "date_to": date(2014, 9, 30)}, period_end=DATA_END)
    assert early[early["site_code"] == "AAA"]["holders"].tolist() == [2]  # A01 and A02 had budgets by then


def check_person_months_at_risk(con):
    frame = run_query(con, "person_months_at_risk", **FULL, grain="month")
    months = 36  # Jul 2013 to Jun 2016, every month present
    assert len(frame) == months * 2 * 3  # two groups, for AAA, BBB and all sites

    def cell(site, grp, month, column="person_months", f=frame):
        rows = f[
            (f["site_code"].isna() if site is None else f["site_code"] == site)
            & (f["grp"] == grp)
            & (f["period"].dt.strftime("%Y-%m") == month)
        ]
        assert len(rows) == 1
        return rows.iloc[0][column]

    # A01's budget starts 15 Aug 2014: 17 of August's 31 days; in September A01 and A02 (from 1 Sep) all month
    assert cell("AAA", "budget_holders", "2014-08") == pytest.approx(17 / 31)
    assert cell("AAA", "budget_holders", "2014-09") == pytest.approx(2)
    # January 2015: A01, A02, A03, A05 all month, A04 all month (its budget ends 1 Feb), A06 from the 5th (27 days)
    assert cell("AAA", "budget_holders", "2015-01") == pytest.approx(5 + 27 / 31)
    # February 2015: A04's budget ended on 1 Feb, so not in place that day or after; A07 starts 1 Mar
    assert cell("AAA", "budget_holders", "2015-02") == pytest.approx(5)
    # B03's budget ends 31 Jan 2016: 30 of January's days; B01 and B02 all month
    assert cell("BBB", "budget_holders", "2016-01") == pytest.approx(2 + 30 / 31)
    # comparison group from the index date: C01 from 15 Sep 2014 (16 of 30 days), C02 from 20 Jan 2015 (12 of 31)
    assert cell("AAA", "comparison", "2014-09") == pytest.approx(16 / 30)
    assert cell("AAA", "comparison", "2015-01") == pytest.approx(1 + 12 / 31)
    assert cell(None, "comparison", "2015-01") == pytest.approx(3 + 12 / 31)  # and C03, C04 all month at BBB
    assert cell(None, "budget_holders", "2013-07") == 0  # nobody held a budget yet: zero, not missing
    # admissions while at risk: H02 (A01, 1 Dec 2014, same day), H07 (C02, 1 Feb 2015, 4 days), H06 (C01, 1 Mar
    # 2015, open: 487 days to the end of the data), H10 (A05, 1 Jun 2016, 29 days). H01, H03, H05 and H08 came
    # before the person was at risk; H04 is elective; H09 is A10's, who declined.
    assert cell("AAA", "budget_holders", "2014-12", "admissions") == 1
    assert cell("AAA", "budget_holders", "2016-06", "bed_days") == 29
    assert cell(None, "comparison", "2015-03", "bed_days") == 487
    assert cell(None, "comparison", "2015-02", "people") == 1
    assert frame.loc[frame["site_code"].isna(), "admissions"].sum() == 4
    # direct payments (A02, A06, B01): in September 2014 only A02 held one; the comparison group is not filtered
    # cell keys: the record keys of the people at risk in the month (January 2015, AAA: A01 to A06)
    assert cell("AAA", "budget_holders", "2015-01", "person_months_ckey") == mkey(*[f"A0{i}" for i in range(1, 7)])
    assert cell("AAA", "budget_holders", "2014-12", "admissions_ckey") == record_key("H02")
    # by quarter, Jan-Mar 2015, comparison: C02's H07 (4 days, Feb) and C01's open H06 from 1 Mar 2015 to the end
    # of the data (487 days): bed days with the two largest per-person contributions and the people's cell key
    quarters = run_query(con, "person_months_at_risk", **FULL, grain="quarter")
    assert len(quarters) == 12 * 2 * 3
    q = quarters[(quarters["period"] == pd.Timestamp(2015, 1, 1)) & quarters["site_code"].isna()]
    q = q[q["grp"] == "comparison"].iloc[0]
    assert (q["admissions"], q["bed_days"], q["people"], q["top1"], q["top2"], q["mkey"]) == (
        2, 491, 2, 487, 4, mkey("C01", "C02")
    )  # fmt: skip
    assert q["admissions_ckey"] == (record_key("H06") + record_key("H07")) % 256
    # the quarter's person-months are its months' person-months: C01 all quarter, C02 from 20 Jan, C03 and C04
    assert q["person_months"] == pytest.approx(3 + (12 / 31 + 2) + 3 + 3)
    # a quarter's cell key counts each person at risk in it once, however many of its months: C01 to C04
    assert q["person_months_ckey"] == mkey("C01", "C02", "C03", "C04")
    # from 15 Feb 2015 (mid-quarter, mid-month): C01 to C04 each half of February (14 of 28 days) and all of March
    late = run_query(con, "person_months_at_risk", **{**FULL, "date_from": date(2015, 2, 15), "grain": "quarter"})
    first = late[
        (late["period"] == pd.Timestamp(2015, 1, 1)) & late["site_code"].isna() & (late["grp"] == "comparison")
    ]
    assert first.iloc[0]["person_months"] == pytest.approx(4 * (14 / 28 + 1))
    assert first.iloc[0]["person_months_ckey"] == mkey("C01", "C02", "C03", "C04")
    dp = run_query(con, "person_months_at_risk", **{**FULL, "management": ["direct_payment"], "grain": "month"})
    assert cell(None, "budget_holders", "2014-09", f=dp) == pytest.approx(1)
    assert cell(None, "comparison", "2015-01", f=dp) == pytest.approx(3 + 12 / 31)
    # the period ends on 15 Jan 2015: C01 counts 15 of January's days, C02 (from the 20th) none
    short = run_query(
        con, "person_months_at_risk", **{**FULL, "sites": ["AAA"], "date_to": date(2015, 1, 15), "grain": "month"}
    )
    assert cell("AAA", "comparison", "2015-01", f=short) == pytest.approx(15 / 31)


def check_admission_effect_by_site(con):
    """By hand from the tiny files (person-years are days in the window inside the data period / 365.25).
    AAA's holders A01-A09: A01 has H01 before (1 Mar 2014) and H02 after (1 Dec 2014), A02 has H03
    before (H04 is elective); the rest none. A01's and A02's years are 365 days each side. AAA's
    comparison: C01 has H05 before and H06 after; C02 only H07 after. BBB: nobody's emergency
    admission falls in a window (H08, 1 Jul 2013, is before B01's year before); B03's year after holds
    29 February 2016 (366 days), C04's year before is cut to 243 days by the start of the data."""
    frame = run_query(con, "admission_effect_by_site", **FULL).set_index(["site_code", "grp"])
    y = 365 / 365.25
    holders = frame.loc[("AAA", "budget_holders")]
    assert holders[["people", "emergency_pre", "emergency_post"]].tolist() == [9, 2, 1]
    assert holders[["y0_y0", "y1_y1", "y0_y1"]].tolist() == [2, 1, 1]
    assert holders["y0_e0"] == pytest.approx(2 * y) and holders["y1_e1"] == pytest.approx(y)
    assert holders["y0_e1"] == pytest.approx(2 * y) and holders["y1_e0"] == pytest.approx(y)
    assert holders[["emergency_pre_ckey", "emergency_post_ckey"]].tolist() == [_key("H01", "H03"), _key("H02")]
    comparison = frame.loc[("AAA", "comparison")]
    assert comparison[["people", "emergency_pre", "emergency_post", "y0_y0", "y1_y1", "y0_y1"]].tolist() == [
        2, 1, 2, 1, 2, 1
    ]  # fmt: skip
    bbb = frame.loc[("BBB", "budget_holders")]
    assert bbb[["people", "emergency_pre", "emergency_post", "y0_y0"]].tolist() == [3, 0, 0, 0]
    assert bbb["years_post"] == pytest.approx((365 + 365 + 366) / 365.25)
    assert bbb["e1_e1"] == pytest.approx((2 * 365**2 + 366**2) / 365.25**2)
    c04 = frame.loc[("BBB", "comparison")]
    assert c04["years_pre"] == pytest.approx((365 + 243) / 365.25)
    assert c04["e0_e1"] == pytest.approx((365 * 365 + 243 * 365) / 365.25**2)
    # budget holders managed notionally: A01, A04, A05, A07, A08 (the comparison group is not filtered)
    notional = run_query(con, "admission_effect_by_site", **{**FULL, "management": ["notional"]})
    notional = notional.set_index(["site_code", "grp"])
    assert notional.loc[("AAA", "budget_holders"), ["people", "emergency_pre", "emergency_post"]].tolist() == [5, 1, 1]
    assert notional.loc[("AAA", "comparison"), "people"] == 2
    early = run_query(con, "admission_effect_by_site", **{**FULL, "date_to": date(2014, 9, 30)})
    # index dates up to 30 Sep 2014: A01, A02 and C01 (AAA), C04 (BBB)
    assert early.set_index(["site_code", "grp"])["people"].to_dict() == {
        ("AAA", "budget_holders"): 2, ("AAA", "comparison"): 1, ("BBB", "comparison"): 1
    }  # fmt: skip


def check_bed_days_windows(con):
    costs = {"unit_cost_mental_health": 334, "unit_cost_general_acute": 400}
    frame = run_query(con, "bed_days_windows", **FULL, **costs)
    got = {
        (r.grp, r.setting, r.pre_or_post): (r.admissions, r.bed_days, r.cost_gbp, r.people) for r in frame.itertuples()
    }
    # holders before: H01 (A01, 10 days mental health, no cost: 10 x 334), H03 (A02, 20 days: 20 x 334) and the
    # elective H04 (A02, 3 days general acute: 3 x 400); after: H02 (A01, same day, cost £350)
    assert got[("budget_holders", "mental_health", "pre")] == (2, 30, penny(30 * 334), 2)
    cell = frame[
        (frame["grp"] == "budget_holders") & (frame["setting"] == "mental_health") & (frame["pre_or_post"] == "pre")
    ]
    assert cell[["bed_top1", "bed_top2", "cost_top1", "cost_top2", "mkey"]].iloc[0].tolist() == [
        20,
        10,
        penny(20 * 334),
        penny(10 * 334),
        mkey("A01", "A02"),
    ]  # A02's 20 days and A01's 10
    assert got[("budget_holders", "general_acute", "pre")] == (1, 3, penny(1200), 1)
    assert got[("budget_holders", "general_acute", "post")] == (1, 0, penny(350), 1)
    # comparison after: C01's open stay (487 days to the end of the data) and C02's H07 (4 days general acute)
    assert got[("comparison", "mental_health", "post")] == (1, 487, penny(487 * 334), 1)
    assert got[("comparison", "general_acute", "post")] == (1, 4, penny(1600), 1)
    dearer = run_query(con, "bed_days_windows", **FULL, unit_cost_mental_health=500, unit_cost_general_acute=400)
    row = dearer[
        (dearer["grp"] == "comparison") & (dearer["setting"] == "mental_health") & (dearer["pre_or_post"] == "pre")
    ]
    assert row["cost_gbp"].tolist() == [penny(9000.00)]  # H05's cost is given in the extract: unit costs don't apply


def check_admissions_after_by_site_age(con):
    frame = run_query(con, "admissions_after_by_site_age", **FULL)
    got = {(r.site_code, r.age_band): (r.holders, r.admissions) for r in frame.itertuples()}
    # AAA 25-34: A01 (H02 in the year after) and A07; 35-44: A02 and A08, no admissions after
    assert got[("AAA", "25-34")] == (2, 1)
    assert got[("AAA", "35-44")] == (2, 0)
    assert sum(h for h, _ in got.values()) == 12  # nine AAA and three BBB holders; the comparison group is not here
    a01, a07 = date(2014, 8, 15), date(2015, 3, 1)
    years = (covered_days(a01, year_later(a01)) + covered_days(a07, year_later(a07))) / 365.25
    row = frame[(frame["site_code"] == "AAA") & (frame["age_band"] == "25-34")].iloc[0]
    assert row["years"] == pytest.approx(years)


def check_value_by_person(con):
    costs = {"unit_cost_mental_health": 334, "unit_cost_general_acute": 400}
    frame = run_query(con, "value_by_person", **FULL, **costs).set_index("person_key")
    keys = dict(con.execute("select person_id, person_key from person_keys").fetchall())
    row = {pid: frame.loc[keys[pid]] for pid in ("A01", "A02", "C01", "C04")}
    # nine AAA and three BBB budget holders and four comparison people, all with index dates in the period
    assert len(frame) == 16 and (frame["grp"] == "budget_holders").sum() == 12
    # A01 (index 15 Aug 2014): before, H01 (1 Mar 2014, 10 mental health days, no cost: 10 x 334); after, H02
    # (1 Dec 2014, same-day general acute, cost £350 given); spent S01 + S02 = £500 in the year from 15 Aug 2014
    a01 = row["A01"]
    assert (a01["admissions_pre"], a01["admissions_post"]) == (1, 1)
    assert (a01["cost_pre"], a01["cost_post"]) == (penny(3340), penny(350))
    assert (a01["mh_days_pre"], a01["mh_days_post"], a01["acute_cost_post"]) == (10, 0, penny(350))
    assert a01["spend_post"] == penny(500)
    assert a01["years_pre"] == pytest.approx(365 / 365.25) and a01["years_post"] == pytest.approx(365 / 365.25)
    # A02 (index 1 Sep 2014): before, H03 (20 mental health days: 6,680) and the elective H04 (3 general acute
    # days: 1,200); spent S03 + S04 = £420.50 (S12's refund, 1 Nov 2015, is after the year)
    a02 = row["A02"]
    assert (a02["cost_pre"], a02["mh_days_pre"], a02["acute_cost_pre"]) == (penny(7880), 20, penny(1200))
    assert a02["spend_post"] == penny(420.50) and a02["cost_post"] == 0
    # C01 (index 15 Sep 2014): before, H05 (31 days, £9,000 given); after, H06 still open: 487 days to the end
    c01 = row["C01"]
    assert (c01["cost_pre"], c01["mh_days_pre"]) == (penny(9000), 31)
    assert (c01["cost_post"], c01["mh_days_post"], c01["spend_post"]) == (penny(487 * 334), 487, 0)
    # C04 (index 1 Mar 2014): its year before is cut at the start of the data, 1 Jul 2013: 243 days
    assert row["C04"]["years_pre"] == pytest.approx(243 / 365.25)
    dearer = run_query(con, "value_by_person", **FULL, unit_cost_mental_health=500, unit_cost_general_acute=400)
    assert dearer.set_index("person_key").loc[keys["A01"], "cost_pre"] == penny(5000)  # 10 days x £500
    one_site = run_query(con, "value_by_person", **{**FULL, "sites": ["BBB"]}, **costs)
    assert len(one_site) == 5  # B01-B03 and C03, C04


CHECKS = {
    "sites": check_sites,
    "rows_by_site": lambda con: check_rows_by_site(con),  # defined below
    "row_ids": lambda con: check_row_ids(con),  # defined below
    "monthly_volume": lambda con: check_monthly_volume(con),  # defined below
    "field_quality": lambda con: check_field_quality(con),  # defined below
    "site_summary": check_site_summary,
    "spend_by_category": check_spend_by_category,
    "admissions_windows_by_site": check_admissions_windows_by_site,
    "budgets_in_place_monthly": check_budgets_in_place_monthly,
    "emergency_admissions_monthly": check_emergency_admissions_monthly,
    "pathway_by_site": check_pathway_by_site,
    "management_by_site": check_management_by_site,
    "conversion_by_group": check_conversion_by_group,
    "spend_over_time": check_spend_over_time,
    "holder_spend_by_site": check_holder_spend_by_site,
    "person_months_at_risk": check_person_months_at_risk,
    "admission_effect_by_site": check_admission_effect_by_site,
    "bed_days_windows": check_bed_days_windows,
    "value_by_person": check_value_by_person,
    "admissions_after_by_site_age": check_admissions_after_by_site_age,
}


def check_rows_by_site(con):
    """Counted from the tiny files by hand: people AAA A01-A12, C01, C02 (14), BBB B01-B04, C03, C04 (6);
    spending lines AAA A01 x2, A02 x3, A03-A09 (12), BBB B01-B03 (3); admissions AAA H01-H07, H09,
    H10 (9), BBB H08 (1). Keys: people's record keys, each line its holder's, each admission its own."""
    frame = run_query(con, "rows_by_site").set_index("site_code")
    aaa_people = [f"A{i:02d}" for i in range(1, 13)] + ["C01", "C02"]
    assert frame.loc["AAA", ["people", "spend", "admissions"]].tolist() == [14, 12, 9]
    assert frame.loc["BBB", ["people", "spend", "admissions"]].tolist() == [6, 3, 1]
    assert frame.loc["AAA", "people_ckey"] == _key(*aaa_people)
    lines = ["A01", "A01", "A02", "A02", "A02", *[f"A{i:02d}" for i in range(3, 10)]]
    assert frame.loc["AAA", "spend_ckey"] == _key(*lines)
    assert frame.loc["BBB", "admissions_ckey"] == _key("H08")
    assert frame.loc["AAA", "admissions_ckey"] == _key("H01", "H02", "H03", "H04", "H05", "H06", "H07", "H09", "H10")


def check_row_ids(con):
    """Every row of the tiny files by id: 20 people, 15 spending lines, 10 admissions; S15 is B03's
    payment (BBB), H08 is B01's admission (BBB) and keyed by B01, and A12 is in planning."""
    frame = run_query(con, "row_ids")
    assert frame.groupby("tbl").size().to_dict() == {"people": 20, "spend": 15, "admissions": 10}
    rows = frame.set_index(["tbl", "row_id"])
    assert rows.loc[("spend", "S15"), "site_code"] == "BBB"
    assert rows.loc[("spend", "S15"), "record_key"] == record_key("B03")
    assert rows.loc[("admissions", "H08"), ["site_code", "record_key"]].tolist() == ["BBB", record_key("B01")]
    assert rows.loc[("people", "A12"), "outcome"] == "in_planning"
    assert frame.loc[frame["tbl"] != "people", "outcome"].isna().all()


def check_monthly_volume(con):
    """By hand from the tiny files: AAA's payments by month (S02 and S03 in September 2014, S04 and S05
    in October 2014), BBB's referrals (B02 and B04 in October 2014), C01 and C02 (no referral date) left
    out, H10 (A05, June 2016) keyed by its own id."""
    frame = run_query(con, "monthly_volume")
    rows = frame.set_index(["site_code", "tbl", frame["month"].astype(str)])
    assert rows.loc[("AAA", "spend", "2014-09-01"), ["n", "n_ckey"]].tolist() == [2, _key("A01", "A02")]
    assert rows.loc[("AAA", "spend", "2014-10-01"), "n"] == 2
    assert rows.loc[("BBB", "people", "2014-10-01"), ["n", "n_ckey"]].tolist() == [2, _key("B02", "B04")]
    assert rows.loc[("AAA", "admissions", "2016-06-01"), ["n", "n_ckey"]].tolist() == [1, _key("H10")]
    assert frame[frame["tbl"] == "people"]["n"].sum() == 16  # 20 people less 4 comparison people
    assert frame[frame["tbl"] == "spend"]["n"].sum() == 15
    assert len(frame[(frame["site_code"] == "AAA") & (frame["tbl"] == "spend")]) == 10


def check_field_quality(con):
    """By hand: A09 has no deprivation quintile (AAA: 13 of 14 given); A11 was never offered (AAA: 11
    of 12 on the pathway); only H02 and H05 carry a cost (AAA: 2 of 9); A06 has sex and ethnicity not
    stated, A09 ethnicity 'other'; A06 and B03 have primary need 'other'; S06 (A04) is category 'other'."""
    frame = run_query(con, "field_quality").set_index(["site_code", "field", "measure"])

    def got(*index):
        return frame.loc[index, ["hits", "hits_ckey", "base"]].tolist()

    aaa = [f"A{i:02d}" for i in range(1, 13)] + ["C01", "C02"]
    assert got("AAA", "imd_quintile", "filled") == [13, _key(*[p for p in aaa if p != "A09"]), 14]
    assert got("AAA", "offered_on", "filled")[::2] == [11, 12]
    assert got("AAA", "cost_gbp", "filled") == [2, _key("H02", "H05"), 9]
    assert got("AAA", "sex", "default") == [1, _key("A06"), 14]
    assert got("AAA", "ethnicity", "default") == [2, _key("A06", "A09"), 14]
    assert got("BBB", "primary_need", "default") == [1, _key("B03"), 6]
    assert got("AAA", "category", "default") == [1, _key("A04"), 12]
    assert got("BBB", "admission_method", "default") == [0, 0, 1]


def check_upload_rows_by_site(_con):
    """On the tiny files read but not built (raw tables, as an upload is read), with A05's person id
    blanked in spend.csv's S07 row: people.csv's 20 rows (A01 to A12, C01, C02 at AAA, rows 2 to 15;
    B01 to B04, C03, C04 at BBB), spend.csv's 15 (S13 to S15 at BBB; S07, row 8, has no person and so
    no site) and admissions.csv's 10 (H08, row 9, is B01's, at BBB, keyed by its own id)."""
    import duckdb

    from phb.extract import extract_files, load_raw

    con = duckdb.connect()
    for table, (path, sheet) in extract_files(TINY).items():
        assert load_raw(con, table, path, sheet) == []
    con.execute("update raw_spend set person_id = null where spend_id = 'S07'")
    frame = run_query(con, "upload_rows_by_site", perturbation_key=os.environ["PHB_PERTURBATION_KEY"])
    rows = frame.set_index(["tbl", "_row"])
    assert frame.groupby("tbl").size().to_dict() == {"people": 20, "spend": 15, "admissions": 10}
    assert rows.loc[("people", 2), ["site_code", "site_name", "record_key"]].tolist() == [
        "AAA", "St Mary's Vale", record_key("A01")
    ]  # fmt: skip
    assert rows.loc[("people", 16), "site_code"] == "BBB"  # B01
    people = frame[frame["tbl"] == "people"]
    assert people.groupby("site_code").size().to_dict() == {"AAA": 14, "BBB": 6}
    spend = frame[frame["tbl"] == "spend"]
    assert spend.groupby("site_code").size().to_dict() == {"AAA": 11, "BBB": 3}
    assert pd.isna(rows.loc[("spend", 8), "site_code"]) and pd.isna(rows.loc[("spend", 8), "site_name"])
    assert rows.loc[("spend", 16), ["site_code", "record_key"]].tolist() == ["BBB", record_key("B03")]  # S15
    assert rows.loc[("admissions", 9), ["site_code", "site_name", "record_key"]].tolist() == [
        "BBB", "Brookside", record_key("H08")
    ]  # fmt: skip


CHECKS["upload_rows_by_site"] = check_upload_rows_by_site


def test_every_query_file_has_a_check():
    """A new query file without a hand-worked check fails here."""
    assert sorted(p.stem for p in QUERIES_DIR.glob("*.sql")) == sorted(CHECKS)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_query_returns_hand_worked_values(con, name):
    """Each query's result against values worked out by hand from the tiny extract."""
    CHECKS[name](con)


def test_build_models_hold_hand_worked_values(con):
    """The summary tables built at load: windows, bed days and costs at the default unit costs."""
    windows = con.execute("select * from person_windows order by person_id").df().set_index("person_id")
    assert windows.loc["C01", ["emergency_pre", "emergency_post", "bed_days_pre", "bed_days_post"]].tolist() == [
        1,
        1,
        31,
        487,
    ]
    assert windows.loc["A01", ["emergency_pre", "emergency_post", "bed_days_pre", "bed_days_post"]].tolist() == [
        1,
        1,
        10,
        0,
    ]
    assert "A10" not in windows.index  # declined: in neither group
    cost = con.execute(
        "select month, setting, cost_gbp from admissions_monthly where grp = 'budget_holders' order by month"
    ).df()
    by_month = dict(zip(cost["month"].dt.strftime("%Y-%m"), cost["cost_gbp"]))
    assert by_month["2014-03"] == 10 * 334  # H01: 10 days in mental health, cost blank
    assert by_month["2014-12"] == 350  # H02: cost given
    assert by_month["2014-05"] == 3 * 400  # H04: elective, 3 days general acute
    keys = dict(con.execute("select person_id, person_key from person_keys").fetchall())
    ids = {v: k for k, v in keys.items()}
    spans = con.execute("select * from at_risk_spans").df()
    spans["person_id"] = spans["person_key"].map(ids)
    spans = spans.set_index("person_id")
    # the nine budget holders A01-A09, B01-B03 and the comparison group C01-C04
    assert sorted(spans.index) == sorted([*HOLDERS, "C01", "C02", "C03", "C04"])
    assert spans.loc["A04", "grp"] == "budget_holders"
    assert (spans.loc["A04", "starts_on"], spans.loc["A04", "ends_before"]) == (
        pd.Timestamp(2014, 11, 1), pd.Timestamp(2015, 2, 1)
    )  # fmt: skip
    assert spans.loc["C01", "grp"] == "comparison" and pd.isna(spans.loc["C01", "ends_before"])
    assert spans.loc["C01", "starts_on"] == pd.Timestamp(2014, 9, 15)
    assert spans.loc["A05", "record_key"] == record_key("A05")
    # emergency admissions while at risk: H02 (A01 after 15 Aug 2014), H06 (C01 after its index date),
    # H07 (C02) and H10 (A05); not H01 or H03 (before the budget), H05 (before C01's index date), H04
    # (elective), H08 (B01, before the budget) or H09 (A10, no budget)
    months = con.execute("select * from spend_person_months").df()
    assert len(months) == 15  # each tiny line is its own person, month and category
    refund = months[months["record_key"] == record_key("A02")].set_index("month")
    assert (refund.loc[pd.Timestamp(2015, 11, 1), ["paid_gbp", "refunded_gbp"]].astype(float).tolist()) == [0, -20.5]
    assert refund.loc[pd.Timestamp(2014, 9, 1), "paid_gbp"] == penny(120.50)  # S03, physical activity
    # spend_cells: A01 (AAA, notional) paid £250 in August (S01) and £250 in September 2014 (S02): in the
    # third quarter one person with £500, in September alone £250; A02 (direct payment) is a row of its own
    cells = con.execute(
        "select grain, period_start, net_gbp, people, top1, top2, keys from spend_cells "
        "where site_code = 'AAA' and management_option = 'notional' and category is null "
        "and period_start in (date '2014-07-01', date '2014-09-01')"
    ).fetchall()
    assert {(g, str(p)): (float(n), k, float(t1), float(t2), key) for g, p, n, k, t1, t2, key in cells} == {
        ("quarter", "2014-07-01"): (500.0, 1, 500.0, 0.0, record_key("A01")),
        ("month", "2014-09-01"): (250.0, 1, 250.0, 0.0, record_key("A01")),
    }
    stays = con.execute("select record_key, bed_days from at_risk_admissions").df()
    assert sorted(stays["record_key"]) == sorted(record_key(h) for h in ("H02", "H06", "H07", "H10"))


def test_a_value_with_an_apostrophe_is_bound_not_spliced(con):
    """A site code like O'BRIEN finds nothing rather than breaking the SQL (evidence#3118)."""
    frame = run_query(con, "site_summary", **{**FULL, "sites": ["O'BRIEN", "'; drop table sites; --"]})
    assert frame.empty
    assert len(run_query(con, "sites")) == 2


def test_run_query_refuses_missing_parameters(con):
    """A query called without one of its parameters is an error naming it."""
    with pytest.raises(QueryParameterError, match="date_to"):
        run_query(con, "site_summary", sites=None, date_from=date(2014, 1, 1), management=None)


def test_run_query_coded_gives_run_querys_rows_with_text_as_categories(con):
    """run_query_coded (the value-for-money page's fetch of its person rows): the same rows and values as
    run_query, the text columns as categoricals holding the same texts (missing ones missing), the numbers of
    the same type. A query returning a decimal is refused by name (the Arrow path would round it differently
    from run_query's), as is a missing parameter."""
    params = {**FULL, "unit_cost_mental_health": 400.0, "unit_cost_general_acute": 300.0}
    plain = run_query(con, "value_by_person", **params)
    coded = run_query_coded(con, "value_by_person", **params)
    text = ["site_code", "grp", "management_option"]
    assert all(isinstance(coded[c].dtype, pd.CategoricalDtype) for c in text)
    assert coded["management_option"].isna().any() and not coded["site_code"].isna().any()
    assert list(coded.columns) == list(plain.columns) and len(plain) > 10
    pd.testing.assert_frame_equal(
        coded.astype({c: object for c in text}), plain.astype({c: object for c in text}), check_dtype=True
    )
    with pytest.raises(TypeError, match="spend_by_category: cast the decimal column"):
        run_query_coded(con, "spend_by_category", **FULL)
    with pytest.raises(QueryParameterError, match="unit_cost_general_acute"):
        run_query_coded(con, "value_by_person", **FULL, unit_cost_mental_health=400.0)


def test_a_budget_ending_on_the_day_is_not_in_place_that_day(con):
    """B03's budget ends on 31 Jan 2016: in place on the 30th, not on the 31st (contract definition)."""
    bbb = {**FULL, "sites": ["BBB"]}
    on_30th = run_query(con, "site_summary", **{**bbb, "date_to": date(2016, 1, 30)})
    on_31st = run_query(con, "site_summary", **{**bbb, "date_to": date(2016, 1, 31)})
    assert (on_30th.loc[0, "budgets_in_place"], on_31st.loc[0, "budgets_in_place"]) == (3, 2)
    monthly = run_query(con, "budgets_in_place_monthly", **{**bbb, "date_to": date(2016, 1, 31)})
    assert monthly.iloc[-1][["on_date", "budgets_in_place"]].tolist() == [pd.Timestamp(2016, 1, 31), 2]


def test_window_edges_and_a_29_february_index_date(extract, tmp_path):
    """Pre runs from the index date minus 12 calendar months to the day before; post from the index
    date to the day before plus 12 months. 29 Feb 2016 plus or minus 12 months is 28 Feb."""
    from phb.warehouse import build, connect

    with (extract / "people.csv").open("a") as fh:
        fh.write("C05,AAA,comparison,25-34,male,white,2,mood,,,,not_offered,,,,,2016-02-29\n")
    with (extract / "admissions.csv").open("a") as fh:
        for i, day in enumerate(["2013-08-14", "2013-08-15", "2015-08-14", "2015-08-15"]):  # A01, index 15 Aug 2014
            fh.write(f"E{i},A01,{day},{day},emergency,general_acute,\n")
        for i, day in enumerate(["2015-02-27", "2015-02-28", "2017-02-27", "2017-02-28"]):  # C05, index 29 Feb 2016
            fh.write(f"F{i},C05,{day},{day},emergency,general_acute,\n")
    build(extract, tmp_path / "edges.duckdb")
    with connect(tmp_path / "edges.duckdb") as edges:
        windows = edges.execute("select * from person_windows").df().set_index("person_id")
    # A01 had H01 (pre) and H02 (post); 15 Aug 2013 joins pre, 14 Aug 2015 joins post; the others fall outside
    assert windows.loc["A01", ["emergency_pre", "emergency_post"]].tolist() == [2, 2]
    # C05: 28 Feb 2015 is the first day of pre, 27 Feb 2017 the last day of post
    assert windows.loc["C05", ["emergency_pre", "emergency_post"]].tolist() == [1, 1]
    assert windows.loc["C05", "years_pre"] == pytest.approx((date(2016, 2, 29) - date(2015, 2, 28)).days / 365.25)


def _key(*ids: str) -> int:
    """The cell key of the records named, worked out here: record keys from md5 in Python."""
    return sum(record_key(i) for i in ids) % 256


def test_cell_keys_are_the_record_keys_of_exactly_the_records_counted(con):
    """Each count's cell key, for cells worked out by hand from tests/fixtures/tiny: which people or
    admissions are in the cell, then the sum of their keys mod 256 (0 for an empty cell)."""
    people = run_query(con, "site_summary", **FULL).set_index("site_code")
    aaa = [f"A{i:02d}" for i in range(1, 13)]
    assert people.loc["AAA", "referred_ckey"] == _key(*aaa)
    assert people.loc["AAA", "offered_ckey"] == _key(*[p for p in aaa if p != "A11"])  # A11 never offered
    holders = ["A01", "A02", "A03", "A05", "A06", "A07", "A08", "A09"]  # A04 ended Feb 2015
    assert people.loc["AAA", "budgets_in_place_ckey"] == _key(*holders)
    assert people.loc["BBB", "budgets_at_pilot_end_ckey"] == _key("B01", "B02")

    pathway = run_query(con, "pathway_by_site", **FULL)
    bbb = pathway[pathway["site_code"] == "BBB"].iloc[0]
    assert (bbb["declined"], bbb["declined_ckey"]) == (1, _key("B04"))
    assert (bbb["withdrawn"], bbb["withdrawn_ckey"]) == (0, 0)
    both = pathway[pathway["site_code"].isna()].iloc[0]
    assert both["declined_ckey"] == _key("A10", "B04")
    assert both["in_planning_ckey"] == _key("A12")

    held = run_query(con, "management_by_site", **FULL).set_index(["site_code", "management_option"])
    assert held.loc[("AAA", "notional"), "budgets_ckey"] == _key("A01", "A04", "A05", "A07", "A08")

    monthly = run_query(con, "budgets_in_place_monthly", **FULL).set_index(["on_date", "site_code"])
    assert monthly.loc[(pd.Timestamp(2014, 10, 31), "AAA"), "budgets_in_place_ckey"] == _key("A01", "A02", "A03")
    assert monthly.loc[(pd.Timestamp(2014, 10, 31), "BBB"), "budgets_in_place_ckey"] == _key("B01")

    # admissions: H06 (C01, comparison, AAA) is the only emergency admission in March 2015
    months = run_query(con, "person_months_at_risk", **FULL, grain="month")
    march = months[(months["period"] == pd.Timestamp(2015, 3, 1)) & (months["grp"] == "comparison")]
    for _, row in march.iterrows():
        if row["site_code"] in ("AAA", None) or pd.isna(row["site_code"]):
            assert (row["admissions"], row["admissions_ckey"], row["mkey"]) == (1, _key("H06"), _key("C01"))
        else:
            assert (row["admissions"], row["admissions_ckey"], row["mkey"]) == (0, 0, 0)
    emergency = run_query(con, "emergency_admissions_monthly", **FULL)
    july = emergency[(emergency["month"] == pd.Timestamp(2013, 7, 1)) & (emergency["grp"] == "budget_holders")]
    assert july["admissions_ckey"].tolist() == [_key("H08")]  # B01's stay

    spend = run_query(con, "holder_spend_by_site", **{**FULL, "period_end": DATA_END})
    overall = spend[spend["site_code"].isna() & spend["management_option"].isna()].iloc[0]
    assert overall["holders_ckey"] == _key(*[f"A{i:02d}" for i in range(1, 10)], "B01", "B02", "B03")


REFERENCES = Path(__file__).parent / "reference"


def _both_ways(con, name: str, reference: str, params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A query as the dashboard runs it, and its reference in tests/reference/ (the plain way it was worked
    out before), both with the values bound."""
    sql = (REFERENCES / reference).read_text()
    expected = con.cursor().execute(sql, {k: params[k] for k in query_params(sql)}).df()
    return run_query(con, name, **params), expected


def _person_months_both_ways(con, params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    return _both_ways(con, "person_months_at_risk", "person_months_at_risk_by_expansion.sql", params)


def _assert_same_person_months(got: pd.DataFrame, expected: pd.DataFrame, params: dict) -> None:
    assert list(got.columns) == list(expected.columns), params
    assert len(got) == len(expected), params
    exact = [c for c in got.columns if c != "person_months"]
    pd.testing.assert_frame_equal(got[exact], expected[exact], check_dtype=False, obj=str(params))
    assert got["person_months"].to_numpy() == pytest.approx(expected["person_months"].to_numpy(), rel=1e-9, abs=1e-9)


# period boundaries a user can pick: whole data period, calendar and financial years, a quarter's middle
# month, mid-month days, a single month and a single day
_PERIODS = [
    (date(2013, 7, 1), date(2016, 6, 30)), (date(2014, 1, 1), date(2014, 12, 31)),
    (date(2014, 4, 1), date(2015, 3, 31)), (date(2014, 8, 1), date(2015, 2, 15)),
    (date(2014, 9, 16), date(2015, 1, 31)), (date(2015, 2, 1), date(2015, 2, 28)),
    (date(2015, 3, 1), date(2015, 3, 1)),
]  # fmt: skip


@pytest.mark.parametrize("every", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_person_months_by_running_sums_equal_a_row_per_person_and_month_on_the_tiny_extract(con, every):
    """queries/person_months_at_risk.sql counts time at risk with running sums (no row per person and month);
    it must give exactly what the plain expansion (tests/reference/) gives, for every grain, site, management
    option and period boundary of the hand-worked extract (every combination of them in the slow tier)."""
    for grain in ("month", "quarter"):
        for (date_from, date_to), sites, management in _tiny_choices(_PERIODS, every):
            params = {"grain": grain, "sites": sites, "date_from": date_from, "date_to": date_to,
                      "management": management}  # fmt: skip
            _assert_same_person_months(*_person_months_both_ways(con, params), params)


def test_person_months_by_running_sums_equal_a_row_per_person_and_month_on_the_bundled_data(bundled_warehouse):
    """The same agreement on the bundled pilot data: every site alone and all together, each management
    option, and periods that start and end mid-month and mid-quarter."""
    from phb.warehouse import connect

    warehouse, info = bundled_warehouse
    start, end = info.period_start, info.period_end
    periods = [
        (start, end), (date(2015, 2, 14), date(2016, 8, 9)), (date(2016, 1, 1), date(2016, 3, 31)),
        # whole calendar years: one alone, two with part months either side
        (date(2015, 1, 1), date(2015, 12, 31)), (date(2013, 12, 15), date(2016, 1, 10)),
    ]  # fmt: skip
    with connect(warehouse) as c:
        codes = run_query(c, "sites")["site_code"].tolist()
        for grain in ("month", "quarter"):
            for date_from, date_to in periods:
                for sites in [None, *([s] for s in codes)]:
                    params = {"grain": grain, "sites": sites, "date_from": date_from, "date_to": date_to,
                              "management": None}  # fmt: skip
                    _assert_same_person_months(*_person_months_both_ways(c, params), params)
            for option in ("notional", "third_party", "direct_payment"):
                params = {"grain": grain, "sites": None, "date_from": start, "date_to": end, "management": [option]}
                _assert_same_person_months(*_person_months_both_ways(c, params), params)


SPEND_REFERENCE = REFERENCES / "spend_in_selection_by_line.sql"
SPEND_QUERIES = [
    ("spend_by_category", {}),
    ("spend_over_time", {"grain": "month"}), ("spend_over_time", {"grain": "quarter"}),
    ("holder_spend_by_site", {"period_end": DATA_END}),
]  # fmt: skip


def _spend_both_ways(con, name: str, params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A spending query as the dashboard runs it, and the same query over every line one by one (the macro in
    tests/reference/, called in place of spend_in_selection, or the query's own reference there where it
    reads more than that macro; the values are bound either way)."""
    own = REFERENCES / f"{name}_by_line.sql"
    sql = (
        own.read_text()
        if own.exists()
        else query_text(name).replace("spend_in_selection(", "spend_in_selection_by_line(")
    )
    cur = con.cursor()
    cur.execute(SPEND_REFERENCE.read_text())
    expected = as_text(cur.execute(sql, {k: params[k] for k in query_params(sql)}).df())
    return run_query(con, name, **params), expected


def _assert_same_spend(got: pd.DataFrame, expected: pd.DataFrame, what) -> None:
    assert list(got.columns) == list(expected.columns), what
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False, check_exact=False,
        rtol=1e-12, obj=str(what),
    )  # fmt: skip


_SPEND_PERIODS = [
    *_PERIODS, (date(2014, 9, 2), date(2014, 9, 29)), (date(2014, 9, 30), date(2014, 10, 1)),
    (date(2014, 10, 1), date(2014, 10, 31)), (date(2014, 8, 31), date(2015, 11, 30)),
    # a whole calendar year with part months either side, and with whole months after it
    (date(2013, 12, 15), date(2015, 1, 20)), (date(2014, 1, 1), date(2015, 3, 31)),
]  # fmt: skip


def _tiny_choices(periods: list, every: bool):
    """Period, sites and management options to check on the tiny extract: every combination (slow tier), or each
    period for all sites and options and each site and option choice over the whole period (main suite)."""
    sites, options = (None, ["AAA"], ["BBB"]), (None, ["notional"], ["direct_payment", "third_party"])
    if every:
        return [(p, s, m) for p in periods for s in sites for m in options]
    return [(p, None, None) for p in periods] + [(periods[0], s, m) for s in sites for m in options]


@pytest.mark.parametrize("every", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_spending_from_whole_months_and_part_months_equals_every_line_on_the_tiny_extract(con, every):
    """Whole months come from spend_person_months, part months from the lines (spend_in_selection); every
    spending query must give what it gives over the lines one by one, for every period boundary (a month's
    first and last day, a day inside a month, one month, one day, two days either side of a month's end),
    site and management option of the hand-worked extract, which has a refund (every combination of them in
    the slow tier)."""
    for name, extra in SPEND_QUERIES:
        for (date_from, date_to), sites, management in _tiny_choices(_SPEND_PERIODS, every):
            params = {**extra, "sites": sites, "date_from": date_from, "date_to": date_to, "management": management}
            _assert_same_spend(*_spend_both_ways(con, name, params), (name, params))


def test_spending_from_whole_months_and_part_months_equals_every_line_on_the_bundled_data(bundled_warehouse):
    """The same on the bundled pilot data: every site alone and all together, each management option, and
    periods that start and end mid-month."""
    from phb.warehouse import connect

    warehouse, info = bundled_warehouse
    start, end = info.period_start, info.period_end
    periods = [
        (start, end), (date(2015, 2, 14), date(2016, 8, 9)), (date(2016, 1, 1), date(2016, 3, 31)),
        # whole calendar years: one alone, two with part months either side
        (date(2015, 1, 1), date(2015, 12, 31)), (date(2013, 12, 15), date(2016, 1, 10)),
    ]  # fmt: skip
    with connect(warehouse) as c:
        codes = run_query(c, "sites")["site_code"].tolist()
        for name, extra in SPEND_QUERIES:
            for date_from, date_to in periods:
                for sites in [None, *([s] for s in codes)]:
                    params = {**extra, "sites": sites, "date_from": date_from, "date_to": date_to, "management": None}
                    _assert_same_spend(*_spend_both_ways(c, name, params), (name, params))
            for option in ("notional", "third_party", "direct_payment"):
                params = {**extra, "sites": None, "date_from": start, "date_to": end, "management": [option]}
                _assert_same_spend(*_spend_both_ways(c, name, params), (name, params))


def _spend_rows_in_pandas(lines: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """spend_by_category's figures for cells keyed by `keys` (a subset of site_code, management_option and
    category; none for all), worked out in pandas straight from the lines: each person's payments, refunds
    and net sum within the cell, then the cell's sums, people, two largest absolute net sums and key sum."""
    person = (
        lines.assign(paid=lines["amount"].clip(lower=0), refunded=lines["amount"].clip(upper=0))
        .groupby([*keys, "person_key"], dropna=False)
        .agg(paid=("paid", "sum"), refunded=("refunded", "sum"), record_key=("record_key", "first"))
        .reset_index()
    )
    person["net"] = person["paid"] + person["refunded"]

    def two(values):
        top = sorted(values, reverse=True) + [0.0, 0.0]
        return top[0], top[1]

    rows = []
    for key, g in person.groupby(keys, dropna=False) if keys else [((), person)]:
        r = g[g["refunded"] < 0]
        rows.append(
            {
                **dict(zip(keys, key if isinstance(key, tuple) else (key,))),
                "spend_gbp": g["paid"].sum(), "refunds_gbp": g["refunded"].sum(), "net_gbp": g["net"].sum(),
                "people": len(g), "top1": two(g["net"].abs())[0], "top2": two(g["net"].abs())[1],
                "mkey": int(g["record_key"].sum()) % 256, "refund_people": len(r),
                "refund_top1": two(r["refunded"].abs())[0], "refund_top2": two(r["refunded"].abs())[1],
                "refund_mkey": int(r["record_key"].sum()) % 256,
            }
        )  # fmt: skip
    return pd.DataFrame(rows)


def test_spend_by_category_both_breakdowns_equal_each_persons_sums_worked_out_in_pandas(bundled_warehouse):
    """spend_by_category works each person's sums out once and combines cells by site, management option and
    category into both breakdowns (combined_top2 for the second largest). Every row of both, for every site
    alone and all together, each management option and a mid-month period, must equal the same figures
    worked out in pandas from the spending lines, each breakdown grouped directly."""
    from phb.warehouse import connect

    warehouse, info = bundled_warehouse
    start, end = info.period_start, info.period_end
    with connect(warehouse) as c:
        every = as_text(
            c.execute(
                "select site_code, management_option, category, person_key, record_key, paid_on, "
                "cast(amount_gbp as double) as amount from spend_lines"
            ).df()
        )
        codes = run_query(c, "sites")["site_code"].tolist()
        choices = [(p, s, None) for p in [(start, end), (date(2015, 2, 14), date(2016, 8, 9))] for s in [None, *codes]]
        choices += [((start, end), None, o) for o in ("notional", "third_party", "direct_payment")]
        for (date_from, date_to), site, option in choices:
            params = {"sites": site and [site], "date_from": date_from, "date_to": date_to,
                      "management": option and [option]}  # fmt: skip
            got = run_query(c, "spend_by_category", **params)
            paid_on = pd.to_datetime(every["paid_on"]).dt.date
            lines = every[
                (paid_on >= date_from) & (paid_on <= date_to)
                & ((every["site_code"] == site) if site else True)
                & ((every["management_option"] == option) if option else True)
            ]  # fmt: skip
            cases = [
                ("site", ["site_code", "category"]), ("site", ["site_code"]), ("site", ["category"]), ("site", []),
                ("management_option", ["management_option", "category"]), ("management_option", ["management_option"]),
            ]  # fmt: skip
            seen = 0
            for breakdown, keys in cases:
                expected = _spend_rows_in_pandas(lines, keys)
                others = {"site_code", "management_option", "category"} - set(keys)
                part = got[(got["breakdown"] == breakdown) & got[list(others)].isna().all(axis=1)]
                part = part[part[keys].notna().all(axis=1)] if keys else part
                seen += len(part)
                columns = list(expected.columns)
                expected = expected.sort_values(keys).reset_index(drop=True) if keys else expected
                mine = part[columns].sort_values(keys).reset_index(drop=True) if keys else part[columns]
                pd.testing.assert_frame_equal(
                    mine.reset_index(drop=True).astype({k: float for k in columns if k not in keys}),
                    expected.astype({k: float for k in columns if k not in keys}),
                    check_exact=False, rtol=1e-9, obj=str((breakdown, keys, params)),
                )  # fmt: skip
            assert seen == len(got), params  # no row of either breakdown left unchecked


@pytest.mark.parametrize(
    ("name", "column", "lists_from"),
    [("holder_spend_by_site", "holders", "sorted as ("), ("pathway_by_site", "budget_in_place", "medians as (")],
)
def test_medians_and_quartiles_from_sorted_lists_equal_those_from_numbered_ranks(
    bundled_warehouse, name, column, lists_from
):
    """holder_spend_by_site (quartiles of spending per holder) and pathway_by_site (median days to a budget)
    read the 5 values around each quantile by position from each level's sorted list (sum_of_five).
    tests/reference/<name>_by_rank.sql works the same rule out by numbering everyone with row_number() and
    averaging those ranked within 2 of the centre, after the query's own expressions up to `lists_from` (so
    the two differ only in how the quantiles are read). Every row must agree, for all sites and each site
    alone, each management option (holders) and three periods, and the levels hold both fewer than 5 people
    and more."""
    from phb.warehouse import connect

    warehouse, info = bundled_warehouse
    start, end = info.period_start, info.period_end
    own = query_text(name)
    assert own.count(lists_from) == 1
    reference = own[: own.index(lists_from)] + (REFERENCES / f"{name}_by_rank.sql").read_text()
    sizes = set()
    with connect(warehouse) as c:
        codes = run_query(c, "sites")["site_code"].tolist()
        periods = [(start, end), (date(2015, 2, 14), date(2015, 3, 9)), (date(2015, 10, 1), date(2016, 3, 31))]
        choices = [(p, s, None) for p in periods for s in [None, *codes]]
        choices += [((start, end), None, o) for o in ("notional", "third_party", "direct_payment")]
        for (date_from, date_to), site, option in choices:
            params = {"sites": site and [site], "date_from": date_from, "date_to": date_to,
                      "management": option and [option], "period_end": end}  # fmt: skip
            got = run_query(c, name, **params)
            expected = c.cursor().execute(reference, {k: params[k] for k in query_params(reference)}).df()
            sizes.update(got[column])
            pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_exact=False, rtol=1e-12,
                                          obj=str(params))  # fmt: skip
    assert any(0 < n < 5 for n in sizes) and max(sizes) > 5, sorted(sizes)


def test_conversion_by_group_equals_counts_worked_out_in_pandas(bundled_warehouse):
    """conversion_by_group counts each characteristic as one grouping set. For every site alone and all
    together and three periods of the bundled data, each row (characteristic, group, referred, budgets and
    both cell keys) must equal pandas' count of the people referred in the period, grouped by that
    characteristic, with nobody counted under a value they do not have recorded."""
    from phb.warehouse import connect

    warehouse, info = bundled_warehouse
    start, end = info.period_start, info.period_end
    characteristics = ["age_band", "sex", "ethnicity", "imd_quintile", "primary_need"]
    with connect(warehouse) as c:
        people = as_text(c.execute("select * from people_keyed where arm = 'phb'").df())
        people["imd_quintile"] = people["imd_quintile"].map(lambda q: "not_recorded" if pd.isna(q) else str(int(q)))
        codes = run_query(c, "sites")["site_code"].tolist()
        for date_from, date_to in [
            (start, end),
            (date(2015, 2, 14), date(2016, 8, 9)),
            (date(2015, 10, 1), date(2016, 3, 31)),
        ]:
            for site in [None, *codes]:
                got = run_query(c, "conversion_by_group", sites=site and [site], date_from=date_from, date_to=date_to)
                referred_on = pd.to_datetime(people["referred_on"]).dt.date
                cohort = people[(referred_on >= date_from) & (referred_on <= date_to)]
                cohort = cohort[cohort["site_code"] == site] if site else cohort
                budget_start = pd.to_datetime(cohort["budget_start"])
                started = budget_start.notna() & (budget_start <= pd.Timestamp(date_to))
                rows = []
                for characteristic in characteristics:
                    for grp, g in cohort.groupby(characteristic):
                        b = g[started[g.index]]
                        rows.append((characteristic, grp, len(g), int(g["record_key"].sum()) % 256, len(b),
                                     int(b["record_key"].sum()) % 256))  # fmt: skip
                expected = sorted(rows)
                mine = sorted(zip(got["characteristic"], got["grp"], got["referred"], got["referred_ckey"],
                                  got["budgets"], got["budgets_ckey"]))  # fmt: skip
                assert [tuple(x) for x in mine] == expected, (site, date_from, date_to)


def test_conversion_by_group_leaves_out_a_characteristic_not_recorded(tiny_warehouse, tmp_path):
    """Spark tables named in settings are not checked row by row, so a required characteristic may come blank:
    that person is left out of that characteristic only (as UNPIVOT leaves out nulls), never a blank group."""
    import shutil

    import duckdb

    copy = tmp_path / "w.duckdb"
    shutil.copy(tiny_warehouse, copy)
    with duckdb.connect(str(copy)) as c:
        before = run_query(c, "conversion_by_group", **FULL)
        c.execute("update people_keyed set ethnicity = null where person_id = 'A01'")
        after = run_query(c, "conversion_by_group", **FULL)
    assert after["grp"].notna().all()
    totals = {ch: (g["referred"].sum(), b["referred"].sum()) for (ch, g), (_, b) in
              zip(after.groupby("characteristic"), before.groupby("characteristic"))}  # fmt: skip
    assert totals.pop("ethnicity") == (15, 16)  # A01 (referred in the period) left out of ethnicity alone
    assert all(a == b for a, b in totals.values()), totals


def test_payments_and_a_refund_in_one_month_count_as_they_do_line_by_line(tmp_path):
    """A case the tiny extract lacks, added to a copy of it: A01 paid twice and refunded once in talking
    therapy in October 2014 (one row of payments and one of refunds in spend_person_months). Every spending
    query over whole months and part months must match the lines one by one."""
    import shutil

    from phb.warehouse import build, connect

    folder = tmp_path / "x"
    shutil.copytree(TINY, folder)
    with (folder / "spend.csv").open("a") as f:
        f.write("S16,A01,2014-10-03,talking_therapy,250.00,\n")
        f.write("S17,A01,2014-10-17,talking_therapy,100.00,\n")
        f.write("S18,A01,2014-10-28,talking_therapy,-40.00,\n")
    build(folder, tmp_path / "w.duckdb")
    with connect(tmp_path / "w.duckdb") as c:
        rows = c.execute(
            "select month, paid_gbp, refunded_gbp from spend_person_months m join person_keys k using (person_key) "
            "where k.person_id = 'A01' and month = date '2014-10-01'"
        ).fetchall()
        assert [(float(p), float(r)) for _, p, r in rows] == [(350.0, -40.0)]
        for name, extra in SPEND_QUERIES:
            for date_from, date_to in [
                (date(2014, 10, 1), date(2014, 11, 30)), (date(2014, 10, 10), date(2014, 11, 30)),
                (date(2014, 9, 1), date(2014, 11, 12)), (date(2013, 7, 1), date(2016, 6, 30)),
            ]:  # fmt: skip
                params = {**extra, "sites": None, "date_from": date_from, "date_to": date_to, "management": None}
                _assert_same_spend(*_spend_both_ways(c, name, params), (name, params))


def _budgets_both_ways(con, params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    return _both_ways(con, "budgets_in_place_monthly", "budgets_in_place_monthly_by_join.sql", params)


def test_budgets_in_place_by_running_sums_equal_each_budget_joined_to_each_month_end(con, bundled_warehouse):
    """queries/budgets_in_place_monthly.sql counts budgets with running sums; it must give exactly what joining
    each budget to each month end gives (tests/reference/), for every period boundary, site and management
    option of the tiny extract (A04's budget ends on 1 February 2015) and of the bundled data."""
    from phb.warehouse import connect

    for date_from, date_to in [*_PERIODS, (date(2015, 1, 31), date(2015, 2, 1)), (date(2015, 2, 1), date(2015, 2, 1))]:
        for sites in (None, ["AAA"], ["BBB"]):
            for management in (None, ["notional"], ["direct_payment", "third_party"]):
                params = {"sites": sites, "date_from": date_from, "date_to": date_to, "management": management}
                got, expected = _budgets_both_ways(con, params)
                pd.testing.assert_frame_equal(got, expected, check_dtype=False, obj=str(params))
    warehouse, info = bundled_warehouse
    start, end = info.period_start, info.period_end
    with connect(warehouse) as c:
        codes = run_query(c, "sites")["site_code"].tolist()
        for date_from, date_to in [(start, end), (date(2015, 2, 14), date(2016, 8, 9))]:
            for sites in [None, *([s] for s in codes)]:
                for management in (None, ["notional"], ["third_party"], ["direct_payment"]):
                    params = {"sites": sites, "date_from": date_from, "date_to": date_to, "management": management}
                    got, expected = _budgets_both_ways(c, params)
                    pd.testing.assert_frame_equal(got, expected, check_dtype=False, obj=str(params))
                    assert len(got) > 0 or management is not None  # a site may have no budget of an option


SPENDING_QUERIES = ("spend_by_category", "holder_spend_by_site", "spend_over_time")


def test_a_period_covering_all_spending_reads_the_whole_period_tables_and_matches_the_lines(bundled_warehouse):
    """A selection whose dates cover the data's period reads each person's sums from spend_person_totals, and
    spend_over_time its end months from spend_cells (the macro spend_covered); a period one day shorter at the
    start, before any payment or budget, is worked out from the lines. Their results must be identical, for
    all sites, each site, each management option and each site under each option, for every spending query,
    month and quarter. Checked first: the covering dates do take the whole-period path and the shorter ones
    do not, and no payment or budget falls on the day between them, so the two periods hold the same data."""
    from phb import contract
    from phb.facts import site_names
    from phb.warehouse import connect

    path, info = bundled_warehouse
    start, end = info.period_start, info.period_end
    later = start + timedelta(days=1)
    with connect(path) as con:
        first_paid, first_budget = con.execute(
            "select (select min(paid_on) from spend_lines), (select min(budget_start) from people_keyed)"
        ).fetchone()
        assert first_paid > start and first_budget > start  # the day left out holds nothing either way
        covered = "select spend_covered($date_from, $date_to)"
        assert con.execute(covered, {"date_from": start, "date_to": end}).fetchone()[0] is True
        assert con.execute(covered, {"date_from": later, "date_to": end}).fetchone()[0] is False
        sites = list(site_names(con))
        selections = (
            [(None, None)] + [((s,), None) for s in sites] + [(None, (o,)) for o in contract.MANAGEMENT_OPTIONS]
        )
        selections += [((s,), (o,)) for s in sites for o in contract.MANAGEMENT_OPTIONS]
        checked = shown = 0
        for name in SPENDING_QUERIES:
            for grain in ("month", "quarter") if name == "spend_over_time" else ("month",):
                for chosen_sites, options in selections:
                    params = {"sites": chosen_sites, "management": options, "period_end": end, "grain": grain}
                    whole = run_query(con, name, **params, date_from=start, date_to=end)
                    lines = run_query(con, name, **params, date_from=later, date_to=end)
                    pd.testing.assert_frame_equal(whole, lines)
                    checked += 1
                    shown += len(whole) > 0
    assert checked == 4 * len(selections)
    assert shown >= 3 * len(selections)  # a site may have no one under an option; most selections have rows
