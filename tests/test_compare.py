"""Comparing sites: indirect standardisation, funnel positions against independent z-scores,
polarity-aware benchmark markings and their place in `phb facts`."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy.stats import norm

from phb import compare
from phb.filters import Filters
from phb.warehouse import connect


@pytest.fixture(scope="module")
def data(bundled_warehouse):
    warehouse, info = bundled_warehouse
    with connect(warehouse) as con:
        names = dict(con.execute("select site_code, site_name from sites").fetchall())
        return compare.load(con, Filters(None, info.period_start, info.period_end)), names


def test_expected_admissions_use_all_sites_rates_by_age_band():
    """Two sites, two age bands. All-sites rates: young 30/100 = 0.3, old 10/100 = 0.1 per person-year.
    Site A (80 young, 20 old person-years) expects 80 x 0.3 + 20 x 0.1 = 26; site B 20 x 0.3 + 80 x 0.1 = 14."""
    by_age = pd.DataFrame(
        {
            "site_code": ["A", "A", "B", "B"],
            "age_band": ["18-24", "65+", "18-24", "65+"],
            "holders": [80, 20, 20, 80],
            "holders_ckey": [5, 6, 7, 8],
            "admissions": [20, 5, 10, 5],
            "admissions_ckey": [1, 2, 3, 4],
            "years": [80.0, 20.0, 20.0, 80.0],
        }
    )
    got = compare.expected_admissions(by_age).set_index("site_code")
    assert got.loc["A", "expected"] == pytest.approx(26.0)
    assert got.loc["B", "expected"] == pytest.approx(14.0)
    assert got["observed"].tolist() == [25, 15]
    assert got["observed_ckey"].tolist() == [3, 7]  # the cell keys of the two age bands added
    assert got["holders_ckey"].tolist() == [11, 15]  # and the holders' keys, for the expected count as shown


def test_uptake_funnel_positions_agree_with_independent_z_scores(data):
    """Worked from the shown (rounded) counts: a site is beyond the 99.8% limits exactly when |z| > z(0.999),
    between when |z| > z(0.975), with z = (x/n - p0) / sqrt(p0 (1 - p0) / n) around all sites' shown uptake."""
    from phb.disclosure import count, reference

    frame, names = data
    points, lines, p0 = compare.uptake_funnel(frame, names)
    sites = frame.uptake.sites
    x_all = count(int(sites["budgets_at_pilot_end"].sum()), int(sites["budgets_at_pilot_end_ckey"].sum()))
    p = x_all / reference(int(sites["eligible_population"].sum()))
    assert p0 == round(100 * p, 1)  # the centre is published to 1 place, as uptake is
    p = p0 / 100  # and the sites are placed around it as published
    for _, s in sites.iterrows():
        x = count(int(s["budgets_at_pilot_end"]), s["budgets_at_pilot_end_ckey"])
        n = reference(int(s["eligible_population"]))
        z = (x / n - p) / math.sqrt(p * (1 - p) / n)
        position = points.set_index("site_code").loc[s["site_code"], "position"]
        if abs(z) > norm.ppf(0.999):
            assert position.startswith("beyond"), (s["site_code"], z, position)
        elif abs(z) > norm.ppf(0.975):
            assert position.startswith("between"), (s["site_code"], z, position)
        else:
            assert position == "within 95% limits", (s["site_code"], z, position)
    assert set(lines.expressions()) == {"95% limits", "99.8% limits"} and lines.centre == p0


def test_one_site_is_compared_with_all_sites_not_with_itself(bundled_warehouse):
    """Dorset alone is still benchmarked against all seven sites (it is better), not against itself."""
    warehouse, info = bundled_warehouse
    with connect(warehouse) as con:
        names = dict(con.execute("select site_code, site_name from sites").fetchall())
        alone = compare.load(con, Filters(("DOR",), info.period_start, info.period_end))
    table = compare.benchmark(alone, names)
    uptake_row = table[table["measure"] == "Uptake at pilot end"].iloc[0]
    assert (uptake_row["site"], uptake_row["marking"]) == ("Dorset", "better")
    assert uptake_row["benchmark"] == "2.9% (all sites)"


@pytest.mark.parametrize(
    ("low", "high", "bench", "higher_better", "marking"),
    [
        (3.3, 4.7, 2.9, True, "better"),
        (3.3, 4.7, 2.9, False, "worse"),
        (0.9, 2.3, 2.9, True, "worse"),
        (0.69, 1.43, 1.0, False, "similar"),
        (math.nan, math.nan, 1.0, False, "too few to say"),
    ],
)
def test_benchmark_marking_is_polarity_aware(low, high, bench, higher_better, marking):
    """Better or worse only where the interval excludes the all-sites value, and which is which by polarity."""
    assert compare._mark(low, high, bench, higher_better) == marking


def test_benchmark_withholds_a_site_whose_count_is_suppressed(data):
    """A site whose admissions after the index date are 1 to 7 has no value, no interval and no marking."""
    frame, names = data
    table = compare.benchmark(frame, names)
    ratio = table[table["measure"] == "Emergency admissions against expected"]
    withheld = ratio[ratio["value"] == "*"]
    assert len(withheld) and (withheld["marking"] == "too few to say").all() and (withheld["interval"] == "*").all()
    markings = compare.facts_blocks(frame, names)
    assert set(markings) == set(names)
    assert markings["DOR"]["benchmark"]["uptake"] == "better"


def _points(positions: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"site": [f"Site {i:02d}" for i in range(len(positions))], "position": positions})


@pytest.mark.parametrize(
    ("positions", "expected"),
    [
        # up to three sites outside the limits are named, in the order given
        (
            ["beyond (above)", "within", "beyond (below)", "between (above)"] + ["within"] * 10,
            "Uptake: Site 00 and Site 02 beyond the 99.8% limits; Site 03 between the 95% and 99.8% limits",
        ),
        # more are counted against the sites placed and not placed alike (all those on the chart)
        (
            ["beyond (above)"] * 4 + ["between (below)"] + ["within"] * 8 + ["too few to place"],
            "Uptake: four of the 14 sites beyond the 99.8% limits; Site 04 between the 95% and 99.8% limits",
        ),
        (["beyond (above)"] * 5, "Uptake: all five sites beyond the 99.8% limits"),
    ],
)
def test_funnel_title_names_three_sites_at_most(positions, expected):
    """At national scale dozens of sites can sit outside the limits: the title counts them rather than naming
    every one (at a million people over 42 sites it ran to 1,869 characters)."""
    assert compare.funnel_title(_points(positions), "uptake") == expected


@pytest.mark.parametrize(
    ("sites", "start"),
    [
        (1, "One site is too few to estimate overdispersion well (fewer than 10)"),
        (7, "Seven sites are too few to estimate overdispersion well (fewer than 10)"),
        (9, "9 sites are too few to estimate overdispersion well (fewer than 10)"),
        (10, "Funnel limits are not widened for overdispersion: where the dispersion ratio shows"),
        (42, "Funnel limits are not widened for overdispersion: where the dispersion ratio shows"),
    ],
)
def test_the_limits_note_counts_the_sites_chosen(sites, start):
    """The Compare sites page's note said 'Seven sites' whatever was chosen; it now counts the sites chosen, and
    from FEW_SITES on says only what the limits leave out (they are never widened)."""
    assert compare.FEW_SITES == 10
    assert compare.limits_note(sites).startswith(start)
