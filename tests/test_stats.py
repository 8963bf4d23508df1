"""Statistical methods against published worked examples."""

import pytest

from phb.stats import wilson_ci


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
