"""The disclosure rules on their edges: cell key perturbation of counts, derived figures from shown counts."""

import csv
import math

import pandas as pd
import pytest

from phb import disclosure, ptable


def _pvalue(pcv: int, ckey: int) -> int:
    """Read from the committed table file by hand (csv module), not through disclosure."""
    with ptable.PATH.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if int(row["pcv"]) == pcv and int(row["ckey"]) == ckey:
                return int(row["pvalue"])
    raise LookupError((pcv, ckey))


@pytest.mark.parametrize(("raw", "ckey"), [(0, 0), (1, 9), (7, 200), (8, 3), (12, 40), (13, 41), (15, 255), (18, 0)])
def test_count_withholds_one_to_seven_and_perturbs_the_rest_by_the_table(raw, ckey):
    """0 stays 0, 1-7 is *, 8 or more is the count plus the table's pvalue for (count, cell key)."""
    expected = 0 if raw == 0 else "*" if raw < 8 else raw + _pvalue(raw, ckey)
    assert disclosure.count(raw, ckey) == expected
    if raw >= 8:
        assert expected % 5 == 0 and expected >= 10 and abs(expected - raw) <= 4


def test_count_keeps_missing_as_missing_and_refuses_fractions():
    """A missing count stays missing; a fraction is not a count."""
    assert disclosure.count(None, 0) is None
    assert disclosure.count(math.nan, 0) is None
    with pytest.raises(ValueError):
        disclosure.count(2.5, 0)


def test_percent_is_worked_out_from_shown_counts_to_set_places():
    """15 of 40 shown is 37.5%: 38% as a percentage, 37.5% as uptake; a withheld count withholds it."""
    assert disclosure.percent(15, 40) == 38
    assert disclosure.percent(15, 40, kind="uptake") == 37.5
    assert disclosure.percent("*", 40) == "*"
    assert disclosure.percent(0, 40) == 0
    assert disclosure.percent(0, 0) is None


def test_a_total_of_disjoint_cells_uses_the_sum_of_their_cell_keys():
    """Two sites of 9 and 6 people (keys 250 and 20): 15 people with key (250 + 20) mod 256 = 14."""
    frame = pd.DataFrame({"people": [9, 6], "people_ckey": [250, 20]})
    assert disclosure.total(frame, "people") == 15 + _pvalue(15, 14)
    assert disclosure.counts(frame, "people") == [9 + _pvalue(9, 250), "*"]
    assert disclosure.words("*") == "fewer than 8" and disclosure.words(1235) == "1,235"


@pytest.mark.parametrize(("people", "shown"), [(0, None), (1, "*"), (7, "*"), (8, 1234.5), (13, 1234.5)])
def test_money_is_withheld_when_fewer_than_eight_people_contribute(people, shown):
    """A sum of money from 7 people is withheld; from 8 it is shown as it is."""
    assert disclosure.by_people(1234.5, people) == shown


def test_interval_is_withheld_when_its_count_is_suppressed():
    """An interval would give away a suppressed count, so it goes too."""
    assert disclosure.interval((0.01, 0.02), "*", scale=100) == "*"
    assert disclosure.interval((0.01234, 0.02345), 50, scale=100, kind="uptake") == [1.2, 2.3]
    assert disclosure.interval((0.01234, 0.02345), 50, scale=100) == [1, 2]


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
