"""Money, days and quantiles under disclosure control (issue 10), on worked examples.

The rule (phb/disclosure.py, "Money, days and quantiles"): withheld under 8 people, or where the two
largest contributions are more than 90% of the total (the N-K dominance rule with SACRO acro's
defaults, SAFE_NK_N = 2 and SAFE_NK_K = 0.9 in AI-SDC/ACRO acro/acro_tables.py, whose agg_nk withholds
when the top N's share is strictly more than K); otherwise total + m x largest contribution, m from
the published magnitude table by cell key, rounded to 3 significant figures and never finer than
£100 (days: never finer than 5). Medians and quartiles: the mean of the 5 per-person values nearest,
rounded to £10 (days: whole days).
"""

from __future__ import annotations

import hashlib

import pytest

from phb import disclosure, mtable


def table_entry(key: int) -> float:
    """The magnitude table regenerated here from its published description: SHA-256 of
    "<seed>:<key>"; the first 8 bytes as a big-endian fraction of 2^64 give the size 0.1 + 0.3 u (to
    4 decimals), the lowest bit of the 9th byte the sign (1 = +)."""
    digest = hashlib.sha256(f"{mtable.SEED}:{key}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    size = round(0.1 + 0.3 * u, 4)
    return size if digest[8] % 2 == 1 else -size


def test_the_magnitude_table_is_the_published_one_regenerated_from_its_seed():
    """256 multipliers, each 0.1 to 0.4 in size, of both signs, equal to the table rebuilt from the seed."""
    assert len(mtable.TABLE) == 256
    assert list(mtable.TABLE) == [table_entry(k) for k in range(256)]
    assert all(0.1 <= abs(v) <= 0.4 for v in mtable.TABLE)
    positive = sum(v > 0 for v in mtable.TABLE)
    assert 100 < positive < 156  # a fair coin over 256 keys lands here with probability above 0.999
    assert mtable.m(256 + 7) == mtable.TABLE[7]  # keys are taken modulo 256


def test_a_cell_where_one_person_is_95_percent_of_the_spending_is_withheld():
    """10 people spend £10,000; one of them £9,500: the top two are at least 95% (> 90%)."""
    assert disclosure.money(10_000, 10, 9_500, 100, 17) == "*"


def test_seven_people_are_withheld_and_eight_are_not():
    """£50,000 from 7 people is withheld however evenly it is spread; from 8 it is shown."""
    assert disclosure.money(50_000, 7, 7_200, 7_150, 3) == "*"
    assert disclosure.money(50_000, 8, 6_300, 6_250, 3) != "*"
    assert disclosure.money(0, 0, 0, 0, 0) is None  # nobody: nothing to show


def test_the_dominance_rule_is_strictly_more_than_90_percent_as_acro_has_it():
    """The top two at exactly 90% pass (acro: share > K withholds); a penny more is withheld. Refunds
    are judged by size: -£1,000 where one person's refund is £950 is withheld."""
    assert not disclosure.dominated(10_000, 6_000, 3_000)
    assert disclosure.dominated(10_000, 6_000, 3_000.01)
    assert disclosure.dominated(-1_000, 950, 10)
    assert disclosure.money(-1_000, 9, 950, 10, 0) == "*"


def test_a_total_is_moved_by_m_times_the_largest_contribution_then_rounded():
    """Worked by hand: £41,234 from 20 people, the largest £2,000 (and next £1,500, 8% together), cell
    key 5. m = table[5]; shown = round(41,234 + m x 2,000) to 3 significant figures (to £100 here)."""
    m = table_entry(5)
    moved = 41_234 + m * 2_000  # between 40,434 and 42,034: five figures, so 3 s.f. is the nearest £100
    expected = float(int(moved / 100 + 0.5) * 100)
    assert disclosure.money(41_234, 20, 2_000, 1_500, 5) == expected
    assert expected != 41_200  # |m| >= 0.1 moves it by at least £200, past the plain rounding


def test_the_same_cell_shows_the_same_figure_and_a_different_key_may_not():
    """Same people, same key, same figure; the figure depends on the key, which rests on the secret."""
    first = disclosure.money(123_456.78, 40, 9_000, 8_000, 200)
    assert disclosure.money(123_456.78, 40, 9_000, 8_000, 200) == first
    assert {disclosure.money(123_456.78, 40, 9_000, 8_000, k) for k in range(256)} != {first}


@pytest.mark.parametrize(
    ("value", "finest", "shown"),
    [
        (1_832_488.48, 100, 1_830_000),
        (41_234, 100, 41_200),
        (9_979.43, 100, 10_000),  # 3 s.f. would be £9,980, but money is never finer than £100
        (-9_979.43, 100, -10_000),
        (349.99, 100, 300),
        (350, 100, 400),  # a half goes away from zero
        (9_979.43, 5, 9_980),  # days: 3 s.f.
        (123, 5, 125),  # days never finer than 5
        (2, 5, 0),
    ],
)
def test_rounding_to_three_significant_figures_with_a_floor(value, finest, shown):
    assert disclosure.significant(value, 3, finest) == shown


def test_days_are_never_finer_than_five():
    """487 bed days from 9 people, the largest 40, key 0: 487 + m x 40, to the nearest 5 (3 s.f. is 1)."""
    m = table_entry(0)
    moved = 487 + m * 40
    assert disclosure.days(487, 9, 40, 35, 0) == float(int(moved / 5 + 0.5) * 5)


def test_a_median_is_the_mean_of_the_five_nearest_values_rounded_to_ten_pounds():
    """Worked by hand: 10 holders spent 10, 20, 30, 40, 55, 60, 70, 80, 95, 100 (hundreds of £). The
    median's rank is (10 - 1) / 2 = 4.5, rounded half up to 5; the 5 values nearest are ranks 3-7: 40,
    55, 60, 70, 80, mean 61 (£6,100), shown as £6,100. The query works out the mean (tests/test_queries.py
    checks it on the tiny extract); here the shown value of each mean is checked."""
    values = [1000, 2000, 3000, 4000, 5500, 6000, 7000, 8000, 9500, 10000]
    rank = int((len(values) - 1) / 2 + 0.5)
    mean = sum(values[rank - 2 : rank + 3]) / 5
    assert mean == 6100
    assert disclosure.quantile_shown(mean, 10) == 6100
    assert disclosure.quantile_shown(298.048, 9) == 300  # the tiny extract's AAA median
    assert disclosure.quantile_shown(160.118, 9) == 160
    assert disclosure.quantile_shown(582.05, 9) == 580
    assert disclosure.quantile_shown(298.048, 7) == "*"
    assert disclosure.quantile_shown(60.6, 9, disclosure.DAYS_QUANTILE_UNIT) == 61
    assert disclosure.quantile_shown(None, 9) is None
