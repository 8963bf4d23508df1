"""Counts, funnels, XmR and u′ charts against the peers' own published numbers and conventions.

Peers read: nhs-r-community/NHSRplotthedots (R/ptd_spc_standard.R, R/ptd_calculate_point_type.R and its tests),
ukhsa-collaboration/PHEindicatormethods (R/Byars.R, R/ISRatio.R, R/Funnels.R, R/utils.R and tests/testthat data),
nhs-r-community/FunnelPlotR (R/calculate_limits.R, tests/testthat/test-poisson_limits.R) and cran/funnelR
(R/fundata.R, inst/doc/introduction.html).
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from phb.stats import FunnelLimits, count_ci, proportion_funnel_limits, ratio_funnel_limits, u_prime, xmr

Z95 = norm.ppf(0.975)  # 1.959964
Z998 = norm.ppf(0.999)  # 3.090232

# R: set.seed(123); rnorm(20). NHSRplotthedots' tests chart these; its snapshot
# tests/testthat/_snaps/ptd_spc_standard.md prints them (to 3 significant figures, all 20 agree).
RNORM_123 = [
    -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499, 0.46091621, -1.26506123, -0.68685285,
    -0.44566197, 1.22408180, 0.35981383, 0.40077145, 0.11068272, -0.55584113, 1.78691314, 0.49785048, -1.96661716,
    0.70135590, -0.47279141,
]  # fmt: skip

# PHEindicatormethods tests/testthat/testdata_funnel_ratio_outputs.csv: for O observed events, the expected counts at
# which O sits on each funnel limit, found by bisection on Poisson tail sums (poisson_funnel in R/utils.R), that is
# the exact Poisson interval for O. Columns used: O, upper_2s_exp_events (95% lower limit), lower_2s_exp_events
# (95% upper limit), upper_3s_exp_events (99.8% lower), lower_3s_exp_events (99.8% upper).
PHE_EXACT = [
    (1, 0.025317898, 5.571644585, 0.001000547, 9.233410143),
    (2, 0.242209467, 7.224687515, 0.04540199, 11.22886836),
    (3, 0.618671905, 8.767273828, 0.190533306, 13.06224507),
    (4, 1.089865762, 10.24158653, 0.42855244, 14.79414916),
    (5, 1.623486324, 11.6683331, 0.739371928, 16.45474478),
    (6, 2.201894435, 13.0594765, 1.107104434, 18.0616374),
    (7, 2.814363736, 14.42267712, 1.520336178, 19.62617867),
    (8, 3.453831154, 15.76318696, 1.970813969, 21.15619716),
    (9, 4.11537405, 17.08479966, 2.452425215, 22.65737951),
]
PHE_EXACT_95_FROM_TEN = [
    (10, 4.795387629, 18.39035799),
    (20, 12.21651877, 30.88838097),
    (100, 81.36400699, 121.6268111),
    (716, 664.5083011, 770.4222128),
]

# cran/funnelR inst/doc/introduction.html, Example 3: funscore(my_data, benchmark=0.50, alpha=0.80, alpha2=0.95,
# method='approximate'): n of d physicians' patients satisfied, published z and the two scores (E=Extreme).
FUNNELR_SCORES = [
    (130, 150, 8.9814624, "E", "E"),
    (65, 200, 4.9497475, "E", "E"),
    (155, 300, 0.5773503, "I", "I"),
    (125, 250, 0.0000000, "I", "I"),
    (19, 50, 1.6970563, "E", "I"),
    (185, 220, 10.1129979, "E", "E"),
    (82, 100, 6.4000000, "E", "E"),
    (77, 90, 6.7461923, "E", "E"),
    (50, 400, 15.0000000, "E", "E"),
    (80, 425, 12.8543881, "E", "E"),
]


# --- count_ci ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("x", "low95", "high95", "low998", "high998"), PHE_EXACT)
def test_count_ci_below_ten_is_the_exact_poisson_interval_phe_publishes(x, low95, high95, low998, high998):
    """Below 10 events the interval is exact: PHE's own bisection values for 1 to 9 events at 95% and 99.8%.
    Peer: ukhsa-collaboration/PHEindicatormethods tests/testthat/testdata_funnel_ratio_outputs.csv (bisection to 1e-7,
    so agreement to 1e-4 relative); switch at 10 from R/ISRatio.R."""
    assert count_ci(x) == pytest.approx((low95, high95), rel=1e-4)
    assert count_ci(x, conf=0.998) == pytest.approx((low998, high998), rel=1e-4)


def test_count_ci_of_zero_has_lower_limit_zero():
    """Zero events: lower limit 0 and upper limit -ln(0.025) = 3.688879 (a chi-square on 2 df is exponential).
    Peer: ukhsa-collaboration/PHEindicatormethods R/ISRatio.R (qchisq(0.975, 2x + 2)/2 below 10 events)."""
    assert count_ci(0) == (0.0, pytest.approx(-math.log(0.025), abs=1e-12))
    assert count_ci(0)[1] == pytest.approx(3.688879, abs=1e-6)


def test_count_ci_switches_to_byars_at_ten_events():
    """At 10 events Byar's formula, worked by hand: 10(1 - 1/90 - z/(3 sqrt 10))^3 and 11(1 - 1/99 + z/(3 sqrt 11))^3.
    Peer: ukhsa-collaboration/PHEindicatormethods R/Byars.R (formula) and R/ISRatio.R (observed < 10 is exact)."""
    # lower: 1/90 = 0.0111111, 1.959964/(3 x 3.1622777) = 0.2065983; 1 - both = 0.7822905; cubed 0.4787450; x10
    # upper: 1/99 = 0.0101010, 1.959964/(3 x 3.3166248) = 0.1969838; 1 - 0.0101010 + 0.1969838 = 1.1868828;
    #        cubed 1.6719508; x11 = 18.391459
    low, high = count_ci(10)
    assert low == pytest.approx(4.787450, abs=1e-6)
    assert high == pytest.approx(18.391459, abs=1e-6)
    exact_low_at_ten = PHE_EXACT_95_FROM_TEN[0][1]
    assert low != pytest.approx(exact_low_at_ten, abs=1e-3)  # Byar's, not the exact 4.795388
    assert count_ci(9) == pytest.approx(PHE_EXACT[-1][1:3], rel=1e-4)  # 9 is still exact


def test_count_ci_byars_for_65_events_matches_hand_arithmetic():
    """PHE's documented example byars_lower(65) / byars_upper(65), worked by hand at 95%.
    Peer: ukhsa-collaboration/PHEindicatormethods R/Byars.R (@examples byars_lower(65), byars_upper(65))."""
    # lower: 1/585 = 0.0017094, 1.959964/(3 x 8.0622577) = 0.0810345; 1 - both = 0.9172561; cubed 0.7717413; x65
    # upper: 1/594 = 0.0016835, 1.959964/(3 x 8.1240384) = 0.0804183; 1 - 0.0016835 + 0.0804183 = 1.0787348;
    #        cubed 1.2552900; x66 = 82.849139
    low, high = count_ci(65)
    assert low == pytest.approx(50.163188, abs=1e-5)
    assert high == pytest.approx(82.849139, abs=1e-5)


@pytest.mark.parametrize(("x", "exact_low", "exact_high"), PHE_EXACT_95_FROM_TEN)
def test_count_ci_byars_is_within_two_tenths_of_a_percent_of_exact_from_ten(x, exact_low, exact_high):
    """PHE's Technical Guide, Confidence Intervals (2018): at 95% Byar's is within 0.2% of exact from 10 events.
    Exact values: ukhsa-collaboration/PHEindicatormethods tests/testthat/testdata_funnel_ratio_outputs.csv."""
    low, high = count_ci(x)
    assert low == pytest.approx(exact_low, rel=0.002)
    assert high == pytest.approx(exact_high, rel=0.002)


def test_count_ci_for_a_large_count_approaches_x_plus_or_minus_z_root_x():
    """A million events: close to the normal interval 1e6 +/- 1.96 x 1000, and the exact one to 1e-6.
    Peer: ukhsa-collaboration/PHEindicatormethods R/Byars.R (Byar's formula, the method from 10 events)."""
    from scipy.stats import chi2

    low, high = count_ci(1_000_000)
    assert low == pytest.approx(1_000_000 - Z95 * 1000, rel=1e-5)
    assert high == pytest.approx(1_000_000 + Z95 * 1000, rel=1e-5)
    assert low == pytest.approx(chi2.ppf(0.025, 2_000_000) / 2, rel=1e-6)
    assert high == pytest.approx(chi2.ppf(0.975, 2_000_002) / 2, rel=1e-6)


def test_count_ci_is_wider_at_higher_confidence():
    """The 99.8% interval contains the 95% one, either side of the switch."""
    for x in (3, 65):
        low95, high95 = count_ci(x)
        low998, high998 = count_ci(x, conf=0.998)
        assert low998 < low95 < x < high95 < high998


@pytest.mark.parametrize(("x", "conf"), [(-1, 0.95), (float("nan"), 0.95), (5, 95), (5, 0), (5, 1)])
def test_count_ci_refuses_negative_counts_and_impossible_confidence(x, conf):
    """A negative or missing count, or a confidence outside 0..1 (95 for 95%), is an error."""
    with pytest.raises(ValueError):
        count_ci(x, conf)


# --- proportion_funnel_limits -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("events", "n", "z", "score", "score2"), FUNNELR_SCORES)
def test_proportion_funnel_reproduces_funnelr_published_scores(events, n, z, score, score2):
    """funnelR's vignette scores ten physicians against 50% with approximate limits: same z, same Extreme calls.
    Peer: cran/funnelR inst/doc/introduction.html (Example 3) and R/fundata.R (method='approximate')."""
    r = events / n
    low80, high80 = proportion_funnel_limits(0.5, n, 0.80)
    low95, high95 = proportion_funnel_limits(0.5, n, 0.95)
    standard_error = (high95 - 0.5) / Z95
    assert abs(r - 0.5) / standard_error == pytest.approx(z, abs=1e-6)
    assert (not low80 <= r <= high80) == (score == "E")
    assert (not low95 <= r <= high95) == (score2 == "E")


def test_proportion_funnel_matches_hand_arithmetic():
    """Target 80% at n = 100: se = sqrt(0.8 x 0.2/100) = 0.04; 95% 0.8 +/- 1.959964 x 0.04, 99.8% +/- 3.090232 x 0.04.
    Peer: cran/funnelR R/fundata.R (theta + qnorm(p) * sqrt(theta * (1 - theta)/n))."""
    assert proportion_funnel_limits(0.8, 100, 0.95) == pytest.approx((0.7216014, 0.8783986), abs=1e-7)
    assert proportion_funnel_limits(0.8, 100, 0.998) == pytest.approx((0.6763907, 0.9236093), abs=1e-7)


def test_proportion_funnel_clips_at_zero_and_one():
    """Limits that would pass 0 or 1 stop there, as PHE clips its funnels to 0..100%.
    Peer: ukhsa-collaboration/PHEindicatormethods R/Funnels.R (max(0, ...), min(100, ...))."""
    # 0.02 - 3.090232 x sqrt(0.02 x 0.98/10) = 0.02 - 0.1368 < 0; 0.98 + 0.1368 > 1
    assert proportion_funnel_limits(0.02, 10, 0.998)[0] == 0.0
    assert proportion_funnel_limits(0.98, 10, 0.998)[1] == 1.0
    assert proportion_funnel_limits(0.5, 1, 0.998) == (0.0, 1.0)
    assert proportion_funnel_limits(0.0, 50, 0.95) == (0.0, 0.0)


def test_proportion_funnel_narrows_as_n_grows_and_takes_an_array():
    """An array of denominators gives arrays of limits, each the scalar answer, narrowing as n grows."""
    n = np.array([10, 100, 1_000, 10_000])
    low, high = proportion_funnel_limits(0.3, n, 0.95)
    assert isinstance(low, np.ndarray) and low.shape == n.shape
    assert np.all(np.diff(high - low) < 0)
    assert np.all(low < 0.3) and np.all(high > 0.3)
    for i, ni in enumerate(n):
        assert proportion_funnel_limits(0.3, int(ni), 0.95) == pytest.approx((low[i], high[i]))
    assert isinstance(proportion_funnel_limits(0.3, 10, 0.95)[0], float)


@pytest.mark.parametrize(("p0", "n", "conf"), [(0.5, 0, 0.95), (0.5, -3, 0.95), (1.2, 10, 0.95), (0.5, 10, 1.5)])
def test_proportion_funnel_refuses_impossible_inputs(p0, n, conf):
    """A denominator of 0 or less, a target outside 0..1 or a confidence outside 0..1 is an error."""
    with pytest.raises(ValueError):
        proportion_funnel_limits(p0, n, conf)


# --- ratio_funnel_limits ----------------------------------------------------------------------------------------------


def test_ratio_funnel_matches_funnelplotr_poisson_limits():
    """FunnelPlotR's own test values for expected counts 15, 20 and 30 at 95% and 99.8%.
    Peer: nhs-r-community/FunnelPlotR tests/testthat/test-poisson_limits.R (R/calculate_limits.R, chi-square form)."""
    expected = np.array([15, 20, 30])
    low95, high95 = ratio_funnel_limits(expected, 0.95)
    low998, high998 = ratio_funnel_limits(expected, 0.998)
    assert np.round(low95, 7).tolist() == [0.5596924, 0.6108260, 0.6746958]
    assert np.round(high95, 6).tolist() == [1.649348, 1.544419, 1.427562]
    assert np.round(low998, 7).tolist() == [0.3862650, 0.4479107, 0.5289724]
    assert np.round(high998, 6).tolist() == [2.082907, 1.902094, 1.702771]


def test_ratio_funnel_takes_a_number_and_narrows_round_one():
    """A single expected count gives floats; the limits bracket 1 and narrow as the expected count grows."""
    low, high = ratio_funnel_limits(15, 0.95)
    assert isinstance(low, float) and isinstance(high, float)
    assert low == pytest.approx(0.5596924, abs=5e-8)
    lows, highs = ratio_funnel_limits([1, 10, 100, 1000], 0.998)
    assert np.all(lows < 1) and np.all(highs > 1)
    assert np.all(np.diff(highs - lows) < 0)


@pytest.mark.parametrize("expected", [0, -1, float("nan")])
def test_ratio_funnel_refuses_expected_counts_of_zero_or_less(expected):
    """An expected count of 0 or less (or missing) is an error."""
    with pytest.raises(ValueError):
        ratio_funnel_limits(expected, 0.95)


# --- xmr --------------------------------------------------------------------------------------------------------------


def test_xmr_limits_match_nhsrplotthedots_snapshot():
    """rnorm(20) with seed 123, screening outliers: mean 0.142, limits -3.01 and 3.29, all 20 common cause.
    Peer: nhs-r-community/NHSRplotthedots tests/testthat/_snaps/ptd_spc_standard.md and _snaps/ptd_spc.md."""
    chart = xmr(RNORM_123, screen_outliers=True)
    assert chart["mean"].iloc[0] == pytest.approx(0.142, abs=5e-4)
    assert chart["lpl"].iloc[0] == pytest.approx(-3.01, abs=5e-3)
    assert chart["upl"].iloc[0] == pytest.approx(3.29, abs=5e-3)
    assert not chart["special_cause"].any()
    assert (chart["variation"] == "common_cause").all()


@pytest.mark.parametrize(
    ("part", "mean", "lpl", "upl"), [(slice(0, 10), 0.0746, -2.60, 2.75), (slice(10, 20), 0.209, -3.28, 3.70)]
)
def test_xmr_limits_match_nhsrplotthedots_snapshot_for_each_facet(part, mean, lpl, upl):
    """The same series split into two facets of 10 (facet = rep(c(0, 1), each = 10)) gives each its own limits.
    Peer: nhs-r-community/NHSRplotthedots tests/testthat/test-ptd_spc.R and _snaps/ptd_spc.md (summary s3)."""
    chart = xmr(RNORM_123[part], screen_outliers=True)
    assert chart["mean"].iloc[0] == pytest.approx(mean, abs=5e-4 if abs(mean) >= 0.1 else 5e-5)
    assert chart["lpl"].iloc[0] == pytest.approx(lpl, abs=5e-3)
    assert chart["upl"].iloc[0] == pytest.approx(upl, abs=5e-3)
    assert not chart["special_cause"].any()


def test_xmr_screen_outliers_changes_and_narrows_the_limits():
    """One wild point (the 15th set to 10) moves the limits; screening its moving ranges narrows them again.
    Peer: nhs-r-community/NHSRplotthedots tests/testthat/test-ptd_spc_standard.R ("testing the screen_outliers")."""
    wild = list(RNORM_123)
    wild[14] = 10
    r1 = xmr(RNORM_123, screen_outliers=True)
    r2 = xmr(wild, screen_outliers=True)
    r3 = xmr(wild, screen_outliers=False)
    for a, b in [(r1, r2), (r1, r3), (r2, r3)]:
        assert a["lpl"].iloc[0] != b["lpl"].iloc[0]
        assert a["upl"].iloc[0] != b["upl"].iloc[0]
    assert r3["upl"].iloc[0] - r3["lpl"].iloc[0] > r2["upl"].iloc[0] - r2["lpl"].iloc[0]
    # unscreened: 2.66 x the mean of all 19 moving ranges; screened: those of 3.267 x that mean or more (|10 - x|) go
    moving = np.abs(np.diff(wild))
    kept = moving[moving < 3.267 * moving.mean()]
    assert len(kept) == 17
    assert r2["upl"].iloc[0] == pytest.approx(np.mean(wild) + 2.66 * kept.mean())
    assert r3["upl"].iloc[0] == pytest.approx(np.mean(wild) + 2.66 * moving.mean())


def test_xmr_point_outside_the_limits_is_special_cause_in_either_direction():
    """The wild point is above the upper limit: a concern when lower is better, an improvement when higher is.
    Peer: nhs-r-community/NHSRplotthedots R/ptd_calculate_point_type.R ("Above UCL"; ptd_point_type)."""
    wild = list(RNORM_123)
    wild[14] = 10
    for improvement, variation in [("decrease", "concern"), ("increase", "improvement"), ("neither", "neutral")]:
        chart = xmr(wild, improvement=improvement, screen_outliers=True)
        assert chart["special_cause"].tolist() == [i == 14 for i in range(20)]
        assert chart.loc[14, "rule"] == "Above UCL"
        assert chart.loc[14, "variation"] == variation


def test_xmr_two_in_three_on_opposite_sides_of_the_mean_is_common_cause():
    """Alternating 1, -1 with the last two set to 5.5 and -5.5: both close to a limit, but on opposite sides.
    Peer: nhs-r-community/NHSRplotthedots tests/testthat/test-ptd_spc_standard.R (last test, same data)."""
    data = [1, -1] * 8
    data[14], data[15] = 5.5, -5.5
    for screen in (True, False):
        assert xmr(data, screen_outliers=screen)["variation"].tail(2).tolist() == ["common_cause", "common_cause"]


def test_xmr_two_in_three_marks_only_the_points_close_to_the_limit():
    """Two consecutive 5.5s near the upper limit are marked, the third point of their window is not.
    Peer: nhs-r-community/NHSRplotthedots tests/testthat/test-ptd_calculate_point_type.R (ptd_part_of_two_in_three
    h: c(0, 0, 1, 1, 0, 0, 0)), on the alternating data of test-ptd_spc_standard.R."""
    # 1, -1 x 8 with positions 13 and 14 set to 5.5: mean 11/16 = 0.6875; moving ranges twelve 2s, 4.5, 0, 6.5 =
    # 35/15 = 2.3333; upper limit 0.6875 + 2.66 x 2.3333 = 6.894 (5.5 inside); close beyond 0.6875 + 1.7733 x 2.3333
    # = 4.825 (5.5 close); window (12, 13, 14) = 1, 5.5, 5.5, all above the mean
    data = [1, -1] * 8
    data[13], data[14] = 5.5, 5.5
    chart = xmr(data, improvement="increase")
    assert chart["upl"].iloc[0] == pytest.approx(0.6875 + 2.66 * 35 / 15)
    assert chart.index[chart["special_cause"]].tolist() == [13, 14]
    assert chart.loc[[13, 14], "rule"].tolist() == ["2 in 3 Above CL"] * 2
    assert chart.loc[[13, 14], "variation"].tolist() == ["improvement"] * 2
    assert xmr(data, improvement="decrease").loc[13, "variation"] == "concern"


def test_xmr_run_of_eight_above_the_mean_marks_all_eight():
    """Eight points above the mean then a fall below: all eight marked, none after (7 or more on one side).
    Peer: nhs-r-community/NHSRplotthedots tests/testthat/test-ptd_calculate_point_type.R
    (ptd_seven_point_one_side_mean(c(rep(1, 8), -1)) and ptd_part_of_seven_trend)."""
    # mean 70/12 = 5.833; moving ranges seven 1s and four 5s: 27/11 = 2.4545; limits 5.833 +/- 6.529 (none outside);
    # close beyond 5.833 +/- 4.353 (none close); no trend
    chart = xmr([6, 7, 6, 7, 6, 7, 6, 7, 2, 7, 2, 7])
    assert chart["mean"].iloc[0] == pytest.approx(70 / 12)
    assert chart["special_cause"].tolist() == [True] * 8 + [False] * 4
    assert set(chart["rule"].head(8)) == {"7 Points Above CL"}
    assert set(chart["variation"].head(8)) == {"concern"}


def test_xmr_six_on_one_side_is_not_a_run():
    """Six points above the mean is one short of a run.
    Peer: nhs-r-community/NHSRplotthedots tests/testthat/test-ptd_calculate_point_type.R
    (ptd_seven_point_one_side_mean(rep(1, 6)) is all 0)."""
    assert not xmr([6, 7, 6, 7, 6, 7, 2, 7, 2, 7, 2, 7])["special_cause"].any()


def test_xmr_point_on_the_mean_breaks_a_run():
    """Three above, one exactly on the mean, four above: no run; the eight below after it are a run.
    Peer: nhs-r-community/NHSRplotthedots R/ptd_spc_standard.R (relative_to_mean = sign(y - mean), 0 on it) and
    R/ptd_calculate_point_type.R (ptd_seven_point_one_side_mean needs vp[[i]] != 0)."""
    # sum 88 + 72 = 160 over 16: mean exactly 10; moving ranges sum 19 over 15 = 1.2667; close beyond
    # 10 +/- 1.7733 x 1.2667 = 7.754..12.246, so no point is close and none outside
    values = [10.5, 12, 10.5, 10, 10.5, 12, 10.5, 12, 9.5, 8, 9.5, 8.5, 9.5, 8, 9.5, 9.5]
    chart = xmr(values)
    assert chart["mean"].iloc[0] == 10
    assert chart["special_cause"].tolist() == [False] * 8 + [True] * 8
    assert set(chart["rule"].tail(8)) == {"7 Points Below CL"}
    assert set(chart["variation"].tail(8)) == {"improvement"}


def test_xmr_trend_of_seven_rising_points_marks_all_seven():
    """2, then 1 to 7 rising, then 3: the seven rising points are marked, the first and last are not.
    Peer: nhs-r-community/NHSRplotthedots tests/testthat/test-ptd_calculate_point_type.R
    (ptd_seven_point_trend(c(2, 1:7, 3)) = c(0, 0, 0, 0, 0, 0, 0, 1, 0), and ptd_part_of_seven_trend)."""
    # mean 33/9 = 3.667; moving ranges seven 1s and a 4: 11/8 = 1.375; limits 0.009 and 7.324 (none outside); 1 and
    # 7 are close to a limit but alone in their windows; sides -, -, -, -, +, +, +, +, - (no run)
    chart = xmr([2, 1, 2, 3, 4, 5, 6, 7, 3])
    assert chart["special_cause"].tolist() == [False] + [True] * 7 + [False]
    assert set(chart["rule"].iloc[1:8]) == {"7 Point Trend (Increasing)"}
    assert set(chart["variation"].iloc[1:8]) == {"concern"}


def test_xmr_six_rising_points_are_not_a_trend():
    """2, then 1 to 6 rising, then 3: six points, one short of a trend.
    Peer: nhs-r-community/NHSRplotthedots tests/testthat/test-ptd_calculate_point_type.R (ptd_seven_point_trend(1:6)
    is all 0)."""
    assert not xmr([2, 1, 2, 3, 4, 5, 6, 3])["special_cause"].any()


def test_xmr_tie_breaks_a_trend():
    """A repeated value inside seven otherwise rising points is no trend.
    Peer: nhs-r-community/NHSRplotthedots tests/testthat/test-ptd_calculate_point_type.R
    (ptd_seven_point_trend(c(1:3, 3:6)) is all 0: sign(diff) of a tie is 0)."""
    chart = xmr([2, 1, 2, 3, 3, 4, 5, 6, 3])
    assert not chart["rule"].str.contains("Trend").any()
    assert not chart["special_cause"].any()


def test_xmr_trend_direction_decides_improvement_even_above_the_mean():
    """A falling trend is an improvement when lower is better, though its first points are above the mean.
    Peer: nhs-r-community/NHSRplotthedots R/ptd_calculate_point_type.R (ptd_point_type: "Decreasing" is -1, times
    the improvement direction)."""
    # 7, then 8 falling to 2, then 6: mean 48/9 = 5.333, so 8, 7 and 6 are above it
    values = [7, 8, 7, 6, 5, 4, 3, 2, 6]
    for improvement, variation in [("decrease", "improvement"), ("increase", "concern"), ("neither", "neutral")]:
        chart = xmr(values, improvement=improvement)
        assert set(chart["rule"].iloc[1:8]) == {"7 Point Trend (Decreasing)"}
        assert set(chart["variation"].iloc[1:8]) == {variation}
        assert chart["variation"].iloc[[0, 8]].tolist() == ["common_cause"] * 2


def test_xmr_outside_takes_precedence_over_a_trend():
    """1 to 7 alone: the ends are outside the limits (4 +/- 2.66) and say so; the middle five say trend.
    Peer: nhs-r-community/NHSRplotthedots R/ptd_calculate_point_type.R (case_when: outside_limits first)."""
    chart = xmr([1, 2, 3, 4, 5, 6, 7])
    assert chart["lpl"].iloc[0] == pytest.approx(1.34) and chart["upl"].iloc[0] == pytest.approx(6.66)
    assert chart["rule"].tolist() == ["Below LCL"] + ["7 Point Trend (Increasing)"] * 5 + ["Above UCL"]
    assert chart["variation"].tolist() == ["improvement"] + ["concern"] * 6


def test_xmr_constant_series_has_zero_width_limits_and_no_signal():
    """A constant series: mean moving range 0, limits on the mean, every point common cause, screened or not."""
    for screen in (False, True):
        chart = xmr([5, 5, 5, 5, 5, 5, 5, 5], screen_outliers=screen)
        assert (chart["lpl"] == 5).all() and (chart["upl"] == 5).all()
        assert not chart["special_cause"].any()
        assert (chart["rule"] == "").all()


@pytest.mark.parametrize("values", [[], [3.0]])
def test_xmr_refuses_fewer_than_two_values(values):
    """Fewer than two values have no moving range, so no limits."""
    with pytest.raises(ValueError, match="at least 2"):
        xmr(values)


def test_xmr_refuses_nan_and_names_its_position():
    """A missing value is an error naming where it is, not a silent gap."""
    with pytest.raises(ValueError, match=r"position\(s\) \[2, 4\]"):
        xmr([1.0, 2.0, float("nan"), 3.0, np.nan])


def test_xmr_refuses_an_unknown_improvement_direction():
    """Improvement is increase, decrease or neither."""
    with pytest.raises(ValueError, match="improvement"):
        xmr([1, 2, 3], improvement="up")


def test_xmr_returns_one_row_per_value_with_the_series_index():
    """The chart keeps a Series' index and has the documented columns."""
    values = pd.Series([3.0, 4.0, 3.5, 5.0], index=pd.period_range("2024-01", periods=4, freq="M"))
    chart = xmr(values)
    assert chart.columns.tolist() == ["value", "mean", "lpl", "upl", "special_cause", "rule", "variation"]
    assert chart.index.equals(values.index)
    assert chart["value"].tolist() == values.tolist()
    assert chart["special_cause"].dtype == bool


# --- Laney's u' chart ------------------------------------------------------------------------------------------------

# AUS-DOH-Safety-and-Quality/PowerBI-SPC test/fixtures/golden/up/basic.qicharts2.json: 20 rates, with the limits its
# R generator (test/fixtures/golden/generators/generate_golden.R, "Laney 2002, U-prime chart with MR-based sigma")
# works out as qicharts2's qic.uprime does (anhoej/qicharts2 R/qic.charts.R): sigma_z = mean moving range of z / 1.128.
UP_EVENTS = [
    266501, 264225, 276532, 281461, 269071, 261215, 270409, 279778, 270483, 270320, 267923, 271478, 255353, 256820,
    261835, 259144, 255910, 260863, 264465, 260989,
]  # fmt: skip
UP_EXPOSURE = [
    280443, 276823, 291681, 296155, 282343, 275888, 283867, 295251, 284468, 282529, 279618, 283932, 266629, 268091,
    276803, 271578, 266005, 273520, 278574, 273772,
]  # fmt: skip
UP_UCL = [
    0.96567, 0.965753, 0.965421, 0.965326, 0.965627, 0.965775, 0.965593, 0.965345, 0.965579, 0.965623, 0.965689,
    0.965591, 0.965996, 0.965961, 0.965753, 0.965877, 0.966012, 0.96583, 0.965713, 0.965824,
]  # fmt: skip
UP_LCL = [
    0.94013, 0.940046, 0.940378, 0.940473, 0.940173, 0.940025, 0.940207, 0.940454, 0.94022, 0.940177, 0.940111,
    0.940208, 0.939803, 0.939839, 0.940046, 0.939923, 0.939788, 0.939969, 0.940087, 0.939975,
]  # fmt: skip


def test_u_prime_limits_match_the_peer_golden_values():
    """Centre 0.9529 and each point's 3-sigma limits, to the golden file's 6 decimal places.
    Peer: AUS-DOH-Safety-and-Quality/PowerBI-SPC test/fixtures/golden/up/basic.qicharts2.json (and its
    test/Chart Types/uprime.test.ts, which checks the visual's limits against the same values to 4 places)."""
    chart = u_prime(UP_EVENTS, UP_EXPOSURE, improvement="neither")
    assert chart["centre"].iloc[0] == pytest.approx(0.9529, abs=5e-5)
    assert chart["value"].iloc[0] == pytest.approx(0.950286, abs=5e-7)
    assert chart["ucl"].tolist() == pytest.approx(UP_UCL, abs=5e-7)
    assert chart["lcl"].tolist() == pytest.approx(UP_LCL, abs=5e-7)
    assert not chart["special_cause"].any()  # every rate lies inside its limits (values from the golden file)


def test_u_prime_judges_each_point_against_its_own_limits():
    """Worked by hand: events 2, 4, 2, 4, 20 over 10, 10, 10, 10, 100 person-months. Centre 32/140 = 0.228571;
    Poisson sigma sqrt(0.228571/10) = 0.151186 and sqrt(0.228571/100) = 0.047809; z = -0.188982, 1.133893 (x2),
    -0.597614; moving ranges 1.322876 (x3) and 1.731507, mean 1.425034, sigma_z = 1.425034/1.128 = 1.263328.
    Upper limits 0.228571 + 3 x 1.263328 x sigma: 0.801562 at 10 and 0.409764 at 100; lower 0 and 0.047378.
    Every rate (0.2, 0.4) is inside its own limits: common cause only."""
    chart = u_prime([2, 4, 2, 4, 20], [10, 10, 10, 10, 100])
    assert chart["sigma_z"].iloc[0] == pytest.approx(1.263328, abs=1e-6)
    assert chart["ucl"].tolist() == pytest.approx([0.801562] * 4 + [0.409764], abs=1e-5)  # 6-figure steps by hand
    assert chart["lcl"].tolist() == pytest.approx([0.0] * 4 + [0.047378], abs=1e-5)
    assert not chart["special_cause"].any()


def test_u_prime_refuses_a_period_nobody_was_at_risk_in():
    with pytest.raises(ValueError, match="exposure must be more than 0"):
        u_prime([1, 2], [10, 0])


# --- Funnel limit lines as the browser draws them (stats.FunnelLimits) ----------------------------------------------


def _vega(expression: str, denominator: float) -> float:
    """Evaluate one of FunnelLimits' Vega expressions as the browser would (they use only arithmetic,
    sqrt, pow, max and clamp, which mean the same in Python)."""
    names = {"sqrt": math.sqrt, "pow": pow, "max": max, "clamp": lambda v, lo, hi: min(max(v, lo), hi)}
    return float(eval(expression.replace("datum.denominator", repr(float(denominator))), {"__builtins__": {}}, names))


@pytest.mark.parametrize("centre", [2.5, 23.4, 71.0])
def test_proportion_funnel_lines_drawn_in_the_browser_are_the_funnel_limits(centre):
    """The lines the browser draws are proportion_funnel_limits (checked above against funnelR) around
    the published centre, on the percentage scale, to floating-point accuracy."""
    limits = FunnelLimits("proportion", centre, 40.0, 5000.0)
    for conf, label in ((0.95, "95% limits"), (0.998, "99.8% limits")):
        low, high = limits.expressions()[label]
        for n in (40.0, 333.0, 5000.0):
            expected_low, expected_high = proportion_funnel_limits(centre / 100, n, conf)
            assert _vega(low, n) == pytest.approx(100 * expected_low, abs=1e-9)
            assert _vega(high, n) == pytest.approx(100 * expected_high, abs=1e-9)


def test_ratio_funnel_lines_drawn_in_the_browser_are_byars_approximation_to_the_exact_limits():
    """The ratio lines are Byar's approximation (PHEindicatormethods R/Byars.R:
    x (1 - 1/(9x) - z/(3 sqrt x))^3 and (x + 1)(1 - 1/(9(x + 1)) + z/(3 sqrt(x + 1)))^3, here divided
    by the expected count x), checked by hand at x = 25 and against the exact chi-square limits (the
    ones each site is placed by) over the span drawn, which starts at an expected count of 5."""
    limits = FunnelLimits("ratio", 1.0, 5.0, 400.0)
    low, high = limits.expressions()["95% limits"]
    # by hand, x = 25, z = 1.959964: 1 - 1/225 - 1.959964/15 = 0.864891...; cubed 0.646982...
    assert _vega(low, 25) == pytest.approx((1 - 1 / 225 - 1.959964 / 15) ** 3, rel=1e-6)
    assert _vega(high, 25) == pytest.approx(26 * (1 - 1 / 234 + 1.959964 / (3 * math.sqrt(26))) ** 3 / 25, rel=1e-6)
    for conf, label in ((0.95, "95% limits"), (0.998, "99.8% limits")):
        low, high = limits.expressions()[label]
        for e in (5.0, 7.5, 10.0, 30.0, 100.0, 400.0):
            exact_low, exact_high = ratio_funnel_limits(e, conf)
            assert abs(_vega(low, e) - exact_low) < 0.02, (conf, e)
            assert abs(_vega(high, e) - exact_high) < 0.02, (conf, e)


def test_a_funnel_chart_carries_no_grid_of_limit_values():
    """The chart's data sets are the sites' published points only: the limit lines are a sequence the
    browser generates and works out, and the exported data holds the points alone."""
    import altair as alt
    import pandas as pd

    from phb import charts, disclosure
    from phb.exports import chart_data

    points = pd.DataFrame(
        {
            "site": ["A", "B", "C"],
            "denominator": [100.0, 400.0, 900.0],
            "count": [20, 60, 100],
            "value": [20.0, 15.0, 11.1],
            "position": ["within 95% limits"] * 3,
        }
    )
    limits = FunnelLimits("proportion", 13.5, 50.0, 1035.0)
    chart = charts.funnel(points, limits, 13.5, "Eligible", "Uptake (%)", "Title", "Sub", ".1f")
    frames = disclosure.chart_frames(chart)
    tables = [f for f in frames if isinstance(f, pd.DataFrame)]
    assert all(len(f) <= len(points) for f in tables)
    assert sum(isinstance(f, alt.SequenceGenerator) for f in frames) == 1
    spec = chart.to_dict()
    rows = [row for dataset in spec.get("datasets", {}).values() for row in dataset]
    assert rows and all("limit" not in row and "side" not in row for row in rows)
    assert len(chart_data(chart)) == 3
    # and the browser's renderer (Vega, through vl-convert) draws the four limit lines from it
    import vl_convert

    svg = vl_convert.vegalite_to_svg(spec)
    assert svg.count('aria-roledescription="line mark"') == 4
