"""Statistical methods against published worked examples."""

import pandas as pd
import pytest

from phb.stats import compare_to_rest, dispersion_ratio, holm, proportion_z, ratio_z, wilson_ci


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_ci_matches_newcombe_1998_table_1(x, n, low, high):
    """Newcombe RG, Stat Med 1998;17:857-72, Table I, method 3 (score interval without continuity
    correction): the worked examples PHE's Wilson method (PHEindicatormethods wilson_lower/upper) rests on."""
    lo, hi = wilson_ci(x, n)
    assert lo == pytest.approx(low, abs=5e-5)
    assert hi == pytest.approx(high, abs=5e-5)


def test_wilson_ci_is_narrower_at_lower_confidence():
    """A 90% interval sits inside the 95% one."""
    lo90, hi90 = wilson_ci(65, 100, conf=0.90)
    lo95, hi95 = wilson_ci(65, 100)
    assert lo95 < lo90 < 0.65 < hi90 < hi95


@pytest.mark.parametrize(("x", "n"), [(1, 0), (-1, 10), (11, 10)])
def test_wilson_ci_refuses_impossible_counts(x, n):
    """A count outside 0..n is an error, not a number."""
    with pytest.raises(ValueError):
        wilson_ci(x, n)


def test_fisher_exact_against_the_rest_matches_the_lady_tasting_tea():
    """Fisher (1935), The Design of Experiments: 3 of 4 cups right, table [[3, 1], [1, 3]], two-sided
    p = 34/70 = 0.4857. Here: a group of 4 with 3 budgets against the rest of 8 with 4 in all."""
    result = compare_to_rest(pd.Series([3]), pd.Series([4]), pd.Series([4]), pd.Series([8]))
    assert result.loc[0, "p"] == pytest.approx(34 / 70, abs=1e-9)


def test_holm_adjustment_matches_a_worked_example():
    """Holm (1979) step-down: p = (0.01, 0.04, 0.03, 0.005) gives (0.03, 0.06, 0.06, 0.02):
    sorted, 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 = 0.04 raised to 0.06."""
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_proportion_and_ratio_z_scores_by_hand():
    """Spiegelhalter (2005): z = (p - p0) / sqrt(p0 (1 - p0) / n); for a ratio on the square-root scale
    (FunnelPlotR 'SR'), z = 2 (sqrt(O) - sqrt(E)). 30 of 1,000 against 2%: 0.01 / sqrt(0.0000196) = 2.2588;
    O = 49, E = 36: 2 x (7 - 6) = 2."""
    assert proportion_z([30], [1000], 0.02)[0] == pytest.approx(0.01 / (0.02 * 0.98 / 1000) ** 0.5)
    assert proportion_z([30], [1000], 0.02)[0] == pytest.approx(2.2588, abs=1e-4)
    assert ratio_z([49], [36])[0] == pytest.approx(2.0)


def test_dispersion_ratio_is_the_mean_squared_z_with_a_chi_square_test():
    """z = (1, -1, 2, 0): phi = (1 + 1 + 4 + 0) / 4 = 1.5; p = P(chi-square with 4 df > 6) = 0.1991."""
    phi, p = dispersion_ratio([1, -1, 2, 0])
    assert phi == pytest.approx(1.5)
    assert p == pytest.approx(0.19915, abs=1e-4)
