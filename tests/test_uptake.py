"""Budget uptake: its figures against an independent computation from the bundled extract files,
its plain-words findings, and disclosure control of its breakdowns."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from phb import disclosure, uptake
from phb.filters import Filters
from phb.warehouse import connect
from tests.conftest import DATA, run_cli
from tests.conftest import shown as shown_count


@pytest.fixture(scope="module")
def bundled(bundled_warehouse):
    """The bundled extract as plain DataFrames, and the warehouse built from it."""
    warehouse, info = bundled_warehouse
    people = pd.read_csv(DATA / "people.csv", dtype=str, keep_default_na=False)
    sites = pd.read_csv(DATA / "sites.csv", dtype=str, keep_default_na=False)
    return warehouse, info, people, sites


@pytest.fixture(scope="module")
def facts(bundled):
    warehouse, *_ = bundled
    out = run_cli("facts", data=DATA, warehouse=warehouse)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def independent_pathway(people: pd.DataFrame, to: str) -> pd.DataFrame:
    """Pathway counts per site straight from people.csv (ISO dates compare as text)."""
    ref = people[(people["arm"] == "phb") & (people["referred_on"] != "")].copy()
    ref = ref[ref["referred_on"] <= to]
    ref["offered"] = (ref["offered_on"] != "") & (ref["offered_on"] <= to)
    ref["plan_agreed"] = (ref["plan_agreed_on"] != "") & (ref["plan_agreed_on"] <= to)
    ref["budget_in_place"] = (ref["budget_start"] != "") & (ref["budget_start"] <= to)
    ref["declined"] = ~ref["budget_in_place"] & (ref["outcome"] == "declined")
    ref["withdrawn"] = ~ref["budget_in_place"] & (ref["outcome"] == "withdrawn")
    ref["in_planning"] = ~ref["budget_in_place"] & ~ref["declined"] & ~ref["withdrawn"]
    ref["referred"] = True
    cols = ["referred", "offered", "plan_agreed", "budget_in_place", "declined", "withdrawn", "in_planning"]
    # the people in each step, by id, so the test works out each cell key itself
    steps = {c: ref[ref[c]].groupby("site_code")["person_id"].agg(list) for c in cols}
    frame = pd.DataFrame(steps, index=sorted(ref["site_code"].unique()))
    return frame.map(lambda v: v if isinstance(v, list) else [])


def test_pathway_agrees_with_an_independent_count_from_people_csv(bundled, facts):
    """Each site's pathway in `phb facts` is the disclosure rule applied to counts made with pandas."""
    _, info, people, _ = bundled
    expected = independent_pathway(people, info.period_end.isoformat())
    for site, row in expected.iterrows():
        shown = facts["sites"][site]["pathway"]
        for step, ids in row.items():
            assert shown[step] == shown_count(ids), (site, step)
    total = expected.sum()
    assert facts["all_sites"]["pathway"]["budget_pct_of_referred"] == round(
        100 * shown_count(total["budget_in_place"]) / shown_count(total["referred"])
    )


def test_uptake_and_plan_agree_with_an_independent_count(bundled, facts):
    """Budgets at each pilot end (started on or before it, not ended by it) over the eligible population."""
    _, _, people, sites = bundled
    holders = people[people["outcome"] == "budget_in_place"].merge(sites[["site_code", "pilot_end"]], on="site_code")
    in_place = (
        holders[
            (holders["budget_start"] <= holders["pilot_end"])
            & ((holders["budget_end"] == "") | (holders["budget_end"] > holders["pilot_end"]))
        ]
        .groupby("site_code")["person_id"]
        .agg(list)
    )
    for _, site in sites.iterrows():
        x, n = shown_count(in_place.get(site["site_code"], [])), int(site["eligible_population"])
        block = facts["sites"][site["site_code"]]
        assert block["budgets_at_pilot_end"] == x
        assert block["uptake_pct"] == round(100 * x / (5 * round(n / 5)), 1)


def test_plan_title_names_the_sites_that_passed_their_plans(bundled):
    """On the bundled data: Devon and Dorset passed; the four small sites are below half of plan."""
    warehouse, info, people, sites = bundled
    names = dict(zip(sites["site_code"], sites["site_name"]))
    with connect(warehouse) as con:
        data = uptake.load(con, Filters(None, info.period_start, info.period_end))
    assert uptake.plan_title(uptake.plan_progress(data, names)) == (
        "Devon and Dorset passed their plans; four sites are below half of theirs"
    )


def test_a_single_small_site_has_its_small_cells_suppressed(bundled):
    """Stockport alone: small pathway exits are '*', and management shares are withheld, not 100%."""
    warehouse, info, _, sites = bundled
    names = dict(zip(sites["site_code"], sites["site_name"]))
    with connect(warehouse) as con:
        data = uptake.load(con, Filters(("STP",), info.period_start, info.period_end))
    block = uptake.pathway_blocks(data)["STP"]
    assert disclosure.SUPPRESSED in (block["declined"], block["withdrawn"], block["in_planning"])
    held = uptake.management_block(data, "STP")
    if any(v["budgets"] == disclosure.SUPPRESSED for v in held.values()):
        assert all(v["share_pct"] == disclosure.SUPPRESSED for v in held.values())
    shares = uptake.management_shares(data, names)
    for _, bar in shares.groupby("site"):
        if (bar["budgets"] == "fewer than 8").any():
            assert bar["share_pct"].isna().all()


def test_an_empty_period_gives_empty_frames_and_plain_titles(bundled):
    """A period before any referral: no pathway, and the titles say so instead of failing."""
    warehouse, info, _, sites = bundled
    names = dict(zip(sites["site_code"], sites["site_name"]))
    with connect(warehouse) as con:
        data = uptake.load(con, Filters(None, info.period_start, date(2013, 7, 1)))
    assert uptake.pathway_title(data) == "Nobody was referred in this period"
    assert uptake.reach_title(uptake.reach(data)) == "Nobody was referred in this period"
    assert uptake.management_title(uptake.management_shares(data, names)) == "No budgets were set up in this period"


def test_reach_flags_the_group_the_generator_made_less_likely(bundled):
    """The generator lowers conversion for the most deprived quintile; the test finds it beyond chance,
    and only groups with shown counts are ever flagged."""
    warehouse, info, _, _ = bundled
    with connect(warehouse) as con:
        frame = uptake.reach(uptake.load(con, Filters(None, info.period_start, info.period_end)))
    flagged = frame[frame["differs"]]
    assert ("Deprivation quintile", "1 (most deprived)", "lower") in set(
        zip(flagged["characteristic"], flagged["group"], flagged["direction"])
    )
    assert not flagged["referred"].eq(disclosure.SUPPRESSED).any()
    assert "People from the most deprived areas" in uptake.reach_title(frame)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [("Dorset", "passed plan", 119), ("Devon", "passed plan", 124), ("Stockport", "below half of plan", 20)],
            "Dorset and Devon passed their plans; one site is below half of its",
        ),
        (
            [("Dorset", "half of plan or more", 60), ("Devon", "half of plan or more", 70)],
            "Every site reached at least half of its plan, none passed it",
        ),
        ([("Stockport", "below half of plan", 20)], "Stockport reached 20% of its plan by pilot end"),
    ],
)
def test_plan_title_wording(rows, expected):
    """The plan finding reads as a sentence for one site, several, or none passing."""
    frame = pd.DataFrame([{"site": s, "status": st, "pct_of_plan": p} for s, st, p in rows])
    assert uptake.plan_title(frame) == expected


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # more than three passing are counted, not named
        (
            [(f"Site {i}", "passed plan", 110) for i in range(4)] + [("Site 4", "below half of plan", 20)],
            "Four of the five sites passed their plans; one site is below half of its",
        ),
        # three are still named
        (
            [(f"Site {i}", "passed plan", 110) for i in range(3)] + [("Site 3", "half of plan or more", 60)],
            "Site 0, Site 1 and Site 2 passed their plans",
        ),
        # none passing and more than three below: counted, or all of them
        (
            [(f"Site {i}", "below half of plan", 20) for i in range(4)] + [("Site 4", "half of plan or more", 60)],
            "Four of the five sites are below half of plan",
        ),
        ([(f"Site {i}", "below half of plan", 20) for i in range(14)], "All 14 sites are below half of plan"),
    ],
)
def test_plan_title_counts_the_sites_when_more_than_three(rows, expected):
    """At national scale (dozens of sites) a finding title would otherwise name every site that passed."""
    frame = pd.DataFrame([{"site": s, "status": st, "pct_of_plan": p} for s, st, p in rows])
    assert uptake.plan_title(frame) == expected


PROGRESS = pd.DataFrame(
    [
        ("B", "Bravo", 50, 100, 50.0, "half of plan or more"),
        ("C", "Charlie", disclosure.SUPPRESSED, 40, disclosure.SUPPRESSED, "below half of plan"),
        ("D", "Delta", 130, 100, 130.0, "passed plan"),
        ("A", "Alpha", 130, 100, 130.0, "passed plan"),
        ("F", "Foxtrot", 100, 0, None, "too few to say"),
        ("E", "Echo", 10, disclosure.SUPPRESSED, disclosure.SUPPRESSED, "too few to say"),
        ("G", "Golf", disclosure.SUPPRESSED, disclosure.SUPPRESSED, disclosure.SUPPRESSED, "too few to say"),
    ],
    columns=["site_code", "site", "budgets", "plan", "pct_of_plan", "status"],
)
OVERALL = {"site_code": "", "site": "All selected sites", "budgets": 420, "plan": 340, "pct_of_plan": 124.0,
           "status": "passed plan"}  # fmt: skip


def test_plan_reached_ranks_the_sites_and_says_why_a_site_has_no_bar():
    """Hand-made progress: all selected sites first, then the highest share of plan, ties in code order, then the
    sites with no percentage in code order, each saying why: its budgets withheld, its plan withheld, or no plan."""
    frame = uptake.plan_reached(PROGRESS, OVERALL)
    assert frame["site"].tolist() == [
        "All selected sites", "Alpha", "Delta", "Bravo", "Charlie", "Echo", "Foxtrot", "Golf"
    ]  # fmt: skip
    assert frame["text"].tolist() == [
        "124%", "130%", "130%", "50%", "budgets withheld", "plan withheld", "no plan", "budgets and plan withheld"
    ]  # fmt: skip
    assert frame["pct_of_plan"].isna().tolist() == [False] * 4 + [True] * 4
    assert frame["budgets_text"].tolist() == [
        "420",
        "130",
        "130",
        "50",
        disclosure.FEWER,
        "10",
        "100",
        disclosure.FEWER,
    ]
    assert frame["plan_text"].tolist() == ["340", "100", "100", "100", "40", disclosure.FEWER, "–", disclosure.FEWER]
    assert uptake.plan_reached(PROGRESS)["site"].tolist()[0] == "Alpha"  # without all sites
    assert uptake.plan_reached(PROGRESS, {})["site"].tolist()[0] == "Alpha"  # an empty row is not put first


def test_plan_reached_chart_carries_no_figure_of_its_own():
    """The chart's table (its text alternative) and its CSV hold the frame's columns only: where each bar's words
    sit is worked out in the browser, so a site with no percentage never reads as 0% of plan."""
    from phb import alttext, charts, exports

    chart = charts.plan_reached(uptake.plan_reached(PROGRESS, OVERALL), "t", "s")
    assert list(exports.chart_data(chart).columns) == [
        "site", "budgets_text", "plan_text", "pct_of_plan", "status", "text"
    ]  # fmt: skip
    table = alttext.read(chart, "Bar chart").table
    assert "0" not in table.astype(str).to_numpy().ravel().tolist()
    assert not any(column.lower() in ("at", "x") for column in table.columns)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [("Devon", "half of plan or more", 60), ("Dorset", "too few to say", None)],
            "Devon reached at least half of its plan; the other has too few budgets, or too small a plan, to say",
        ),
        (
            [("Devon", "too few to say", None), ("Dorset", "too few to say", None)],
            "Too few budgets, or plans too small, to say how far any site got against its plan",
        ),
    ],
)
def test_plan_title_when_some_sites_are_too_few_to_say(rows, expected):
    """It said 'Every site reached at least half of its plan' when some were too few to say."""
    frame = pd.DataFrame([{"site": s, "status": st, "pct_of_plan": p} for s, st, p in rows])
    assert uptake.plan_title(frame) == expected


@pytest.mark.parametrize(
    ("names", "of", "expected"),
    [
        (["Devon"], 7, "Devon"),
        (["Devon", "Dorset", "Stockport"], 7, "Devon, Dorset and Stockport"),
        (["A", "B", "C", "D"], 7, "four of the seven sites"),
        (["A", "B", "C", "D"], 4, "all four sites"),
        ([f"S{i}" for i in range(12)], 42, "12 of the 42 sites"),
    ],
)
def test_some_sites_names_three_and_counts_more(names, of, expected):
    from phb import formatting as fmt

    assert fmt.some_sites(names, of) == expected
