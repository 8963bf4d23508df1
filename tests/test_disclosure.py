"""The disclosure rule on its edges (NHS Digital's method for hospital statistics since 2018)."""

import math

import pytest

from phb import disclosure


@pytest.mark.parametrize(
    ("raw", "shown"),
    [(0, 0), (1, "*"), (7, "*"), (8, 10), (12, 10), (13, 15), (15, 15), (17, 15), (18, 20), (1237, 1235), (1238, 1240)],
)
def test_count_suppresses_one_to_seven_and_rounds_the_rest_to_five(raw, shown):
    """0 stays 0, 1-7 is *, 8 or more rounds to the nearest 5 (a half goes up: 12.5 can't occur)."""
    assert disclosure.count(raw) == shown


def test_count_keeps_missing_as_missing_and_refuses_fractions():
    """A missing count stays missing; a fraction is not a count."""
    assert disclosure.count(None) is None
    assert disclosure.count(math.nan) is None
    with pytest.raises(ValueError):
        disclosure.count(2.5)


def test_percent_is_worked_out_from_the_rounded_counts():
    """13 of 42 shows as 15 of 40 = 37.5%, not 31.0%."""
    assert disclosure.percent(13, 42) == 37.5
    assert disclosure.percent(5, 42) == "*"
    assert disclosure.percent(0, 42) == 0.0
    assert disclosure.percent(0, 0) is None


@pytest.mark.parametrize(("people", "shown"), [(0, None), (1, "*"), (7, "*"), (8, 1234.5), (13, 1234.5)])
def test_money_is_withheld_when_fewer_than_eight_people_contribute(people, shown):
    """A sum of money from 7 people is withheld; from 8 it is shown as it is."""
    assert disclosure.by_people(1234.5, people) == shown


def test_interval_is_withheld_when_its_count_is_suppressed():
    """An interval would give away a suppressed count, so it goes too."""
    assert disclosure.interval((0.01, 0.02), 5, scale=100) == "*"
    assert disclosure.interval((0.01234, 0.02345), 50, scale=100) == [1.2, 2.3]


def test_complementary_suppression_withholds_the_next_smallest_part():
    """One part withheld beside a shown total: the smallest other part goes too (sites never share people)."""
    shown = ["*", 5000.0, 900.0, 12000.0]
    values = [300.0, 5000.0, 900.0, 12000.0]
    people = [3, 40, 9, 80]
    assert disclosure.complementary(shown, values, people) == ["*", 5000.0, "*", 12000.0]


def test_complementary_suppression_goes_on_until_eight_people_are_behind_the_withheld_parts():
    """Two withheld parts from 3 and 2 people still total only 5 people: a third part is withheld."""
    shown = ["*", "*", 900.0, 5000.0]
    assert disclosure.complementary(shown, [10.0, 20.0, 900.0, 5000.0], [3, 2, 9, 40]) == ["*", "*", "*", 5000.0]
    assert disclosure.complementary([1.0, 2.0], [1.0, 2.0], [9, 9]) == [1.0, 2.0]  # nothing withheld: unchanged
