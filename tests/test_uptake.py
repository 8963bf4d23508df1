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
