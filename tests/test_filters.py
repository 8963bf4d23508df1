"""The shared filters: understood values pass, others get a plain message and a safe default."""

from datetime import date

from phb.filters import Filters, describe, parse_filters

NAMES = {"AAA": "St Mary's Vale", "BBB": "Brookside", "CCC": "Cole"}
PERIOD = (date(2013, 7, 1), date(2016, 6, 30))


def parse(**kwargs):
    values = {"sites": None, "date_from": None, "date_to": None, "management": None, **kwargs}
    return parse_filters(**values, site_names=NAMES, period=PERIOD)


def test_no_values_means_everything():
    """No filters: all sites, the whole data period, all management options."""
    assert parse() == (Filters(None, *PERIOD, None), [])


def test_sites_are_read_from_commas_or_lists_in_any_case():
    """'aaa,BBB' and ['aaa', 'BBB'] both mean AAA and BBB."""
    assert parse(sites="aaa, BBB")[0].sites == ("AAA", "BBB")
    assert parse(sites=["aaa", "BBB"])[0].sites == ("AAA", "BBB")
    assert parse(sites="AAA,BBB,CCC")[0].sites is None  # every site chosen is all sites


def test_an_unknown_site_is_named_and_the_others_kept():
    """An unknown code is named, with the codes that exist; the known sites stand."""
    filters, problems = parse(sites="AAA,XYZ")
    assert filters.sites == ("AAA",)
    assert problems == ["Unknown site code 'XYZ': the pilot sites are AAA, BBB, CCC. Showing the other sites chosen."]
    assert parse(sites="XYZ")[0].sites is None


def test_a_bad_date_is_named_and_falls_back_to_the_data_period():
    """'2014-02-30' is not a date: the message quotes it, the period stays whole."""
    filters, problems = parse(date_from="2014-02-30", date_to="2015-01-31")
    assert (filters.date_from, filters.date_to) == (PERIOD[0], date(2015, 1, 31))
    assert problems == ["The start date '2014-02-30' is not a date written as YYYY-MM-DD."]


def test_a_backwards_period_and_one_outside_the_data_are_refused_plainly():
    """Start after end, or a period wholly outside the data, falls back to the whole period."""
    filters, problems = parse(date_from="2016-01-01", date_to="2015-01-01")
    assert (filters.date_from, filters.date_to) == PERIOD
    assert "starts (1 Jan 2016) after it ends (1 Jan 2015)" in problems[0]
    filters, problems = parse(date_from="2020-01-01", date_to="2021-01-01")
    assert (filters.date_from, filters.date_to) == PERIOD
    assert "outside the data (1 Jul 2013 to 30 Jun 2016)" in problems[0]


def test_a_period_overlapping_the_data_is_clipped_silently():
    """A period that runs past the data is trimmed to it."""
    filters, problems = parse(date_from="2010-01-01", date_to="2015-01-31")
    assert (filters.date_from, filters.date_to, problems) == (PERIOD[0], date(2015, 1, 31), [])


def test_a_period_is_snapped_to_whole_months_with_a_note():
    """The question grid: 10 Feb 2014 to 3 Mar 2015 becomes 1 Feb 2014 to 31 Mar 2015, and says so; a
    month written YYYY-MM is accepted; the last month ends on the data's last day (30 Jun 2016)."""
    filters, problems = parse(date_from="2014-02-10", date_to="2015-03-03")
    assert (filters.date_from, filters.date_to) == (date(2014, 2, 1), date(2015, 3, 31))
    assert problems == [
        "Periods are whole calendar months; budgets in place are counted at month ends. "
        "Showing 1 Feb 2014 to 31 Mar 2015."
    ]
    filters, problems = parse(date_from="2014-02", date_to="2016-06")
    assert (filters.date_from, filters.date_to, problems) == (date(2014, 2, 1), date(2016, 6, 30), [])
    filters, _ = parse(date_from="2016-06-15", date_to="2016-06-20")
    assert (filters.date_from, filters.date_to) == (date(2016, 6, 1), date(2016, 6, 30))
    # a data period that starts mid-month: the whole period starts on the 1st, silently
    filters, problems = parse_filters(
        sites=None, date_from=None, date_to=None, management=None, site_names=NAMES,
        period=(date(2013, 6, 2), date(2017, 4, 13)),
    )  # fmt: skip
    assert (filters.date_from, filters.date_to, problems) == (date(2013, 6, 1), date(2017, 4, 13), [])


def test_unknown_management_option_is_named():
    """Management options come from the contract's list."""
    filters, problems = parse(management="direct_payment,cash")
    assert filters.management == ("direct_payment",)
    assert problems == ["Unknown management option 'cash': the options are notional, third_party, direct_payment."]


def test_describe_states_the_selection_in_words():
    """The active filters as one sentence, with site names (apostrophe and all)."""
    filters = Filters(("AAA",), date(2014, 1, 1), date(2014, 12, 31), ("direct_payment",))
    assert describe(filters, NAMES) == "St Mary's Vale; 1 Jan 2014 to 31 Dec 2014; direct payments."
    assert describe(Filters(None, *PERIOD), NAMES) == "All 3 sites; 1 Jul 2013 to 30 Jun 2016; all management options."
