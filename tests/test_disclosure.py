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


def test_a_column_of_keys_gives_the_same_cell_key_as_the_keys_one_by_one():
    """cell_key_of (for columns of a million rows) against keys worked out by hand: 250 + 20 + 255 + 3 = 528,
    528 mod 256 = 16, a missing key left out; on an Arrow-backed column and a plain list alike."""
    assert disclosure.cell_key_of([250, 20, 255, 3]) == 16 == disclosure.cell_key(250, 20, 255, 3)
    assert disclosure.cell_key_of(pd.Series([250, 20, None, 255, 3], dtype="int64[pyarrow]")) == 16
    assert disclosure.cell_key_of(pd.Series([], dtype="int64")) == 0


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


def test_publish_keeps_only_declared_columns_at_their_precision_and_marks_the_frame():
    """Undeclared columns (an expected count, a z-score) never leave; percentages to whole numbers,
    uptake to 1 place, rates and ratios to 2; the frame is marked as published."""
    frame = pd.DataFrame(
        {
            "site": ["A", "B"],
            "people": [15, "*"],
            "share": [37.5, 12.4],
            "uptake": [2.94, 3.05],
            "rate": [0.2345, 1.0],
            "ratio": [0.6789, 1.234],
            "expected": [12.3456, 3.21],
            "z": [1.23, -0.5],
        }
    )
    kinds = {"site": "label", "people": "count", "share": "pct", "uptake": "uptake", "rate": "rate", "ratio": "ratio"}
    out = disclosure.publish(frame, kinds)
    assert list(out.columns) == ["site", "people", "share", "uptake", "rate", "ratio"]
    assert out["share"].tolist() == [38, 12] and out["uptake"].tolist() == [2.9, 3.0]
    assert out["rate"].tolist() == [0.23, 1.0] and out["ratio"].tolist() == [0.68, 1.23]
    assert disclosure.is_published(out) and not disclosure.is_published(frame)


def test_publish_refuses_a_count_that_was_not_shown_through_count():
    """A raw count of 7 or 12 in a count column is refused: shown counts are 0, *, or multiples of 5 of 10 or more."""
    with pytest.raises(disclosure.UnpublishedError):
        disclosure.publish(pd.DataFrame({"n": [7]}), {"n": "count"})
    with pytest.raises(disclosure.UnpublishedError):
        disclosure.publish(pd.DataFrame({"n": ["12"]}), {"n": "count"})
    assert disclosure.publish(pd.DataFrame({"n": [0, 10, "*", "1,235", "fewer than 8"]}), {"n": "count"})["n"].size == 5


def test_a_chart_with_any_unpublished_layer_is_refused():
    """check_chart walks layers and concatenations: one raw frame anywhere refuses the whole chart."""
    import altair as alt

    shown = disclosure.publish(pd.DataFrame({"x": [10, 15]}), {"x": "count"})
    raw = pd.DataFrame({"x": [3, 4]})
    good = alt.layer(alt.Chart(shown).mark_bar().encode(x="x:Q"), alt.Chart(shown).mark_rule().encode(x="x:Q"))
    disclosure.check_chart(good)
    for bad in (
        alt.layer(alt.Chart(shown).mark_bar().encode(x="x:Q"), alt.Chart(raw).mark_rule().encode(x="x:Q")),
        alt.hconcat(alt.Chart(shown).mark_bar(), alt.Chart(raw).mark_bar()),
        alt.Chart(raw).mark_bar(),
    ):
        with pytest.raises(disclosure.UnpublishedError):
            disclosure.check_chart(bad)


def test_a_chart_column_must_be_declared_with_its_kind():
    """A chart builder cannot carry a column that charts.COLUMNS does not declare (such as a z-score)."""
    from phb import charts

    with pytest.raises(disclosure.UnpublishedError):
        charts._chart(pd.DataFrame({"site": ["A"], "z": [1.2]}))


@pytest.mark.parametrize(
    "kind, good, bad",
    [
        # money totals: 3 significant figures, never finer than GBP 100 (769,000; 12,400; 3,300)
        ("money", [769000.0, 12400, -4400.0, "£12,400", "£1.2m", "£4.1m", "-£4.1m", "*", None,
                   "withheld (fewer than 8 people)"],
         [4760.84, 12450, 1234500, "£4,761", "£12,450", "twelve"]),
        # days: 3 significant figures, never finer than 5 days
        ("days", [1240, 45, 10, "1,240"], [1235, 47, 12]),
        # money medians and quartiles to GBP 10, days to the whole day, planning figures to 5
        ("money_quantile", [3030.0, 2330, "£3,030"], [3031.5, 3035]),
        ("days_quantile", [89.0, 83, float("nan"), pd.NA], [88.5]),
        ("reference", [2900, 11200, "*"], [2903, 7.5]),
    ],
)  # fmt: skip
def test_publish_refuses_a_magnitude_finer_than_its_rule(kind, good, bad):
    """publish checks money, days, quantiles and planning figures against their rules' grids
    (README, Disclosure control): a value to the penny or a figure not rounded is refused."""
    assert disclosure.publish(pd.DataFrame({"v": good}), {"v": kind})["v"].size == len(good)
    for value in bad:
        with pytest.raises(disclosure.UnpublishedError):
            disclosure.publish(pd.DataFrame({"v": [value]}), {"v": kind})


def test_facts_pass_the_same_gate_and_an_undeclared_or_unrounded_figure_is_refused():
    """publish_facts: a key without a declared kind, a count of 7, a payment to the penny or a number
    declared a label is refused; derived figures are rounded to their places, intervals element by element."""
    kinds = {"people": "count", "spend_gbp": "money", "uptake_pct": "uptake", "uptake_ci": "uptake", "note": "label"}
    out = disclosure.publish_facts(
        {"all": {"people": 15, "spend_gbp": 12400.0, "uptake_pct": 2.94, "uptake_ci": [2.512, 3.449], "note": "x"}},
        kinds,
    )
    assert out == {"all": {"people": 15, "spend_gbp": 12400.0, "uptake_pct": 2.9, "uptake_ci": [2.5, 3.4], "note": "x"}}
    for bad in ({"people": 7}, {"spend_gbp": 4760.84}, {"z_score": 1.3}, {"note": 12.0}):
        with pytest.raises(disclosure.UnpublishedError):
            disclosure.publish_facts({"all": bad}, kinds)


@pytest.mark.parametrize(
    "change",
    [
        lambda rows: rows[:-1],  # a row missing
        lambda rows: rows[:5] + ["# a comment\n"] + rows[5:],  # a line numpy would skip as a comment
        lambda rows: ["ckey,pcv,pvalue\n"] + rows[1:],  # columns in another order
    ],
)
def test_a_perturbation_table_not_shaped_as_published_is_refused_by_name(tmp_path, monkeypatch, change):
    """The table is read with numpy: a file with a row missing, a comment line or its columns in another order
    is refused with the file's name, not read as a table with zeros or shifted values."""
    rows = ptable.PATH.read_text().splitlines(keepends=True)
    bad = tmp_path / "ptable.csv"
    bad.write_text("".join(change(rows)))
    monkeypatch.setattr(ptable, "PATH", bad)
    disclosure._ptable.cache_clear()
    try:
        with pytest.raises(ValueError, match="ptable.csv"):
            disclosure._ptable()
    finally:
        disclosure._ptable.cache_clear()
