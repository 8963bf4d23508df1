"""Spending: totals against an independent sum over the extract files (moved and rounded no more
than the disclosure method allows), per-holder
figures withheld for a small site, refunds shown apart, free text never shown."""

from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from phb import disclosure, spending
from tests.conftest import DATA, ROOT, each_section, run_cli


@pytest.fixture(scope="module")
def env(bundled_warehouse):
    return {"PHB_DATA": str(DATA), "PHB_WAREHOUSE": str(bundled_warehouse[0])}


def facts(env, *args) -> dict:
    out = run_cli("facts", *args, data=env["PHB_DATA"], warehouse=env["PHB_WAREHOUSE"])
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    """Every spending line with its holder's site, amounts as exact decimals."""
    spend = pd.read_csv(DATA / "spend.csv", dtype=str, keep_default_na=False)
    people = pd.read_csv(DATA / "people.csv", dtype=str, keep_default_na=False)
    spend = spend.merge(people[["person_id", "site_code", "budget_start"]], on="person_id")
    spend["amount"] = spend["amount_gbp"].map(Decimal)
    return spend


def within_method(shown, part: pd.DataFrame) -> bool:
    """A shown money total against the lines it rests on, worked out here from the extract: the
    method (disclosure.money) moves the true total by at most 0.4 of the largest person's sum and
    then rounds it to 3 significant figures, never finer than £100, so the shown figure is a multiple
    of £100 within 0.4 x largest + half a rounding unit of the truth."""
    per_person = part.groupby("person_id")["amount"].sum()
    true, top1 = float(sum(per_person)), float(max(abs(v) for v in per_person))
    moved = abs(true) + 0.4 * top1
    half_unit = max(100.0, 10 ** (len(str(int(moved))) - 3)) / 2
    return float(shown) % 100 == 0 and abs(float(shown) - true) <= 0.4 * top1 + half_unit


def test_totals_are_the_true_sums_moved_and_rounded_as_the_method_says(env, lines):
    """All sites and each category: `phb facts` shows the sum of the extract's lines (exact decimals
    here) moved by no more than the method allows and rounded to £100 or coarser, never to the penny."""
    got = facts(env)["all_sites"]["spending"]
    assert within_method(got["total_gbp"], lines)
    assert Decimal(str(got["total_gbp"])) != sum(lines["amount"])
    assert within_method(got["refunds_gbp"], lines[lines["amount"] < 0])
    shown_any = False
    for category, part in lines.groupby("category"):
        shown = got["by_category_gbp"][category]
        if shown != disclosure.SUPPRESSED:
            shown_any = True
            assert within_method(shown, part), category
    assert shown_any


def test_site_totals_for_a_period_are_moved_and_rounded_as_the_method_says(env, lines):
    """Dorset in 2015: the facts total is the sum of Dorset's lines paid that year, moved and rounded."""
    got = facts(env, "--sites", "DOR", "--from", "2015-01-01", "--to", "2015-12-31")["sites"]["DOR"]["spending"]
    part = lines[(lines["site_code"] == "DOR") & lines["paid_on"].between("2015-01-01", "2015-12-31")]
    assert within_method(got["total_gbp"], part)


def test_a_small_sites_per_holder_figures_are_withheld(env):
    """Stockport up to the day its fifth budget started has 5 holders: median, quartiles and
    utilisation are withheld, and the holder count shows as '*'."""
    people = pd.read_csv(DATA / "people.csv", dtype=str, keep_default_na=False)
    starts = sorted(people.loc[(people["site_code"] == "STP") & (people["budget_start"] != ""), "budget_start"])
    got = facts(env, "--sites", "STP", "--to", starts[4])["sites"]["STP"]["spending"]
    assert got["holders"] == "*"
    for key in ("per_holder_median_gbp", "per_holder_q1_gbp", "per_holder_q3_gbp", "utilisation_pct"):
        assert got[key] == "*", key


def test_free_text_descriptions_never_reach_the_page_or_the_facts(env, lines, monkeypatch):
    """No description from spend.csv appears in `phb facts` or anywhere on the Spending page (any section, its
    charts' data included)."""
    descriptions = {d for d in lines["description"] if len(d) > 6}
    assert descriptions  # the bundled data has free text to leak
    text = json.dumps(facts(env))
    monkeypatch.setenv("PHB_DATA", env["PHB_DATA"])
    monkeypatch.setenv("PHB_WAREHOUSE", env["PHB_WAREHOUSE"])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/spending.py").run()
    for section in each_section(at, "spending"):  # every section of the page, each drawn when chosen
        assert not at.exception, section
        text += " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.metric, *at.info, *at.title])
        text += " ".join(df.value.to_csv() for df in at.dataframe)
        text += " ".join(c.proto.spec for c in at.get("vega_lite_chart"))
    assert not [d for d in descriptions if d in text]


def test_the_peak_in_the_title_is_the_busiest_periods_shown_cells_added_up_to_3_significant_figures():
    """Two months of shown category cells: March 2015's add up to 120,400 + 130,500 = 250,900, more than
    February's 200,000, so the title names March at about £251,000 (3 significant figures, as every
    money cell is), not the £250,900 that the sum's last digits would claim."""
    from datetime import date

    from phb import spending

    frame = pd.DataFrame(
        {
            "period_start": [date(2015, 2, 1), date(2015, 3, 1), date(2015, 3, 1), date(2015, 4, 1)],
            "category": ["education", "education", "talking_therapy", "education"],
            "spend_gbp": [200_000.0, 120_400.0, 130_500.0, None],
        }
    )
    assert spending.over_time_title(frame, "month") == "Spending peaked in March 2015 at about £251,000"
    assert spending.over_time_title(frame.assign(spend_gbp=None), "month") == "Too little spending to show over time"


def test_quarters_are_read_only_where_months_would_withhold_a_cell(bundled_warehouse):
    """The Spending page reads spending by quarter only where a month cell would be withheld (over_time then
    falls back to quarters). For all sites over the whole period and each calendar year, and each site alone and
    each management option over the whole period: the chart's frame and grain are those over_time gives with
    quarters always read, and quarters were read exactly where the chart is by quarter. Both branches occur in
    the bundled data."""
    from datetime import date

    from phb import contract, spending
    from phb.filters import Filters
    from phb.queries import run_query
    from phb.warehouse import connect

    warehouse, info = bundled_warehouse
    grains = set()
    with connect(warehouse) as con:
        sites = [s for (s,) in con.execute("select site_code from sites order by 1").fetchall()]
        whole = (info.period_start, info.period_end)
        years = [
            (max(date(y, 1, 1), info.period_start), min(date(y, 12, 31), info.period_end))
            for y in range(info.period_start.year, info.period_end.year + 1)
        ]
        selections = [Filters(None, lo, hi) for lo, hi in [whole, *years]]
        selections += [Filters((site,), *whole) for site in sites]
        selections += [Filters(None, *whole, (option,)) for option in contract.MANAGEMENT_OPTIONS]
        for filters in selections:
            data = spending.load(con, filters, info.period_end)
            always = run_query(con, "spend_over_time", **filters.params(), grain="quarter")
            frame, grain = spending.over_time(data, filters)
            expected, expected_grain = spending.over_time(
                spending.SpendingData(data.by_site_category, data.by_month, always, data.holders, data.by_management),
                filters,
            )
            assert grain == expected_grain
            pd.testing.assert_frame_equal(frame, expected)
            assert (data.by_quarter is None) == (grain == "month"), filters
            grains.add(grain)
    assert grains == {"month", "quarter"}


def _utilisation(flags: list[str]) -> pd.DataFrame:
    from phb import spending

    rows = [{"by": spending.ALL, "name": "All selected sites", "utilisation_pct": 91.0, "flag": "within range"}]
    rows += [{"by": "Site", "name": f"Site {i:02d}", "utilisation_pct": 50.0, "flag": f} for i, f in enumerate(flags)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (
            ["large underspend", "within range", "large overspend", "large underspend"],
            "Holders spent 91% of their budgets; Site 00 and Site 03 are under 80%; Site 02 is over 110%",
        ),
        (
            ["large underspend"] * 4 + ["within range"] * 10,
            "Holders spent 91% of their budgets; four of the 14 sites are under 80%",
        ),
    ],
)
def test_utilisation_title_names_three_sites_at_most(flags, expected):
    """The flagged sites are named up to three, else counted (at a million people over 42 sites the title ran to
    852 characters)."""
    from phb import spending

    assert (spending.UNDERSPEND_PCT, spending.OVERSPEND_PCT) == (80, 110)
    assert spending.utilisation_title(_utilisation(flags)) == expected


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [("Direct payment", 93.0), ("Notional budget", 90.0), ("Third-party budget", 94.0)],
            "Holders of third-party budgets spent the most of their budgets (94%), holders of notional budgets the "
            "least (90%)",
        ),
        (
            [("Direct payment", float("nan")), ("Notional budget", 88.0), ("Third-party budget", 101.0)],
            "Holders of third-party budgets spent the most of their budgets (101%), holders of notional budgets the "
            "least (88%)",
        ),
        (  # a tie at either end names every option in it
            [("Direct payment", 94.0), ("Notional budget", 90.0), ("Third-party budget", 90.0)],
            "Holders of direct payments spent the most of their budgets (94%), holders of notional budgets and "
            "third-party budgets the least (90%)",
        ),
        (
            [("Direct payment", 93.0), ("Notional budget", float("nan"))],
            "Holders of direct payments spent 93% of their budgets",
        ),
        (
            [("Direct payment", 90.0), ("Notional budget", 90.0)],
            "Holders of every management option shown spent 90% of their budgets",
        ),
        ([("Direct payment", float("nan"))], "Too few budget holders to show utilisation by management option"),
    ],
)
def test_utilisation_by_management_option_is_titled_with_its_finding(rows, expected):
    """Worked by hand: the option whose holders spent most of their budgets and the one whose holders spent least,
    ties named, a withheld option left out; the sites' rows and all selected holders are not options."""
    frame = pd.DataFrame(
        [{"by": "Management option", "name": n, "utilisation_pct": p} for n, p in rows]
        + [{"by": "Site", "name": "Devon", "utilisation_pct": 150.0}, {"by": "All selected", "name": "All selected",
           "utilisation_pct": 10.0}]
    )  # fmt: skip
    assert spending.options_use_title(frame) == expected


@pytest.mark.parametrize(
    ("given", "opened", "in_link"),
    [
        (None, "What budgets buy", None),
        ("sites", "By site", "sites"),
        ("options", "By management option", "options"),
        ("refunds", "Refunds and recoveries", "refunds"),
        ("categories", "What budgets buy", None),  # the opening section is left out of the link
        ("[x](https://example.org)<b>", "What budgets buy", None),  # unknown: named as text, left out
    ],
)
def test_a_link_opens_its_section_of_spending(bundled_env, given, opened, in_link):
    """?section= opens that section of the Spending page and only it (its headings, none of the others'); the link
    keeps it beside the filters; an unknown value is named as plain text, left out, and the first section opens."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params["site"] = "DOR"
    if given is not None:
        at.query_params["section"] = given
    at.run()
    at.switch_page("pages/spending.py").run()
    assert not at.exception and not at.error
    assert [t.label for t in at.tabs] == list(spending.SECTIONS.values())
    assert at.session_state[spending.SECTIONS_KEY] == opened
    headings = [h.value for h in at.header if h.value != "Filters"]  # the sidebar's own heading
    own = {
        "What budgets buy": ["What budgets buy", "Spending over time"],
        "By site": ["What each site buys", "Spending per budget holder", "How much of their budgets holders spent"],
        "By management option": [
            "How each way of holding a budget was used",
            "Do direct payments buy different things?",
        ],
        "Refunds and recoveries": ["Refunds and recoveries"],
    }
    assert headings == own[opened]
    assert at.query_params.get("section") == in_link and at.query_params.get("site") == "DOR"
    warned = [w.value for w in at.warning if "section" in w.value]
    if given and in_link is None and given != "categories":
        # shown as text: the link's brackets and the tag escaped, so they cannot become a link or markup
        assert len(warned) == 1 and r"\[x\]\(https:" in warned[0] and r"\<b\>" in warned[0], warned
    else:
        assert not warned


def test_a_section_stays_open_when_the_filters_change(bundled_env):
    """With By site open, choosing another site keeps By site open and in the link beside the new site; the
    section's charts are drawn again for the new selection (its grid names only that site)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params["section"] = "sites"
    at.run()
    at.switch_page("pages/spending.py").run()
    assert at.session_state[spending.SECTIONS_KEY] == "By site"
    at.multiselect(key="f_sites").set_value(["KIN"]).run()
    assert not at.exception and not at.error
    assert at.session_state[spending.SECTIONS_KEY] == "By site"
    assert at.query_params.get("section") == "sites" and at.query_params.get("site") == "KIN"
    assert [h.value for h in at.header if h.value != "Filters"][0] == "What each site buys"
    grid = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert grid["layer"][0]["encoding"]["y"]["sort"] == ["Kingston"], grid["layer"][0]["encoding"]["y"]
