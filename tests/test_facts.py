"""`python -m phb facts`: the Overview's figures as JSON, after disclosure control, worked out by
hand from the tiny extract (see tests/test_queries.py for the raw counts)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, TINY, CliRun, run_cli


def run_facts(warehouse: Path, *args: str, data: Path = TINY) -> CliRun:
    """`python -m phb facts ARGS` on the extract in data, with the given warehouse file."""
    return run_cli("facts", *args, data=data, warehouse=warehouse)


def shown_tiny_total() -> float:
    """The tiny extract's total spending as disclosure.money shows it, worked by hand: £4,760.84 from
    12 holders; the two largest sums are A08's £1,200 and B03's £650, 39% of the total (under 90%),
    so it is shown: moved by m x £1,200, m from the published magnitude table at the cell key (the 12
    record keys, first bytes of MD5 of "<key>:<id>", summed modulo 256), then rounded to 3
    significant figures but never finer than £100, so to the nearest £100."""
    from phb import mtable

    ids = ["A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A09", "B01", "B02", "B03"]
    key = os.environ["PHB_PERTURBATION_KEY"]
    cell_key = sum(hashlib.md5(f"{key}:{i}".encode()).digest()[0] for i in ids) % 256
    moved = 4760.84 + mtable.m(cell_key) * 1200
    return float(math.floor(moved / 100 + 0.5) * 100)


@pytest.fixture(scope="module")
def all_facts(tiny_warehouse) -> dict:
    result = run_facts(tiny_warehouse)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_facts_all_sites_block_matches_hand_worked_figures(all_facts):
    """16 referred shows as 15; 10 budgets at pilot end of 1,800 eligible is 0.6%; small counts are '*'."""
    block = all_facts["all_sites"]
    assert (block["referred"], block["offered"], block["budgets_in_place"]) == (15, 15, 10)
    assert (block["planned_budgets"], block["eligible_population"]) == (15, 1800)
    assert block["uptake_pct"] == 0.6  # from rounded counts: 10 / 1,800
    low, high = block["uptake_ci"]  # Wilson on the unrounded 10 of 1,800
    assert (low, high) == (0.3, 1.0)
    assert block["spend_gbp"] == shown_tiny_total()
    assert [
        block[k]
        for k in (
            "emergency_admissions_pre",
            "emergency_admissions_post",
            "comparison_admissions_pre",
            "comparison_admissions_post",
        )
    ] == ["*", "*", "*", "*"]


def test_facts_suppress_a_site_with_three_budget_holders(all_facts):
    """BBB has 3 budget holders and 4 referrals: counts are '*', its spend is withheld, zero stays 0."""
    bbb = all_facts["sites"]["BBB"]
    assert [bbb[k] for k in ("referred", "budgets_in_place", "uptake_pct", "uptake_ci", "spend_gbp")] == ["*"] * 5
    assert bbb["emergency_admissions_pre"] == 0


def test_a_shown_total_does_not_give_away_a_withheld_site(all_facts):
    """BBB's spend is withheld; the all-sites total is shown, so AAA's £3,310.84 is withheld too,
    or BBB's would be the total minus AAA's."""
    assert all_facts["all_sites"]["spend_gbp"] == shown_tiny_total()
    assert [all_facts["sites"][s]["spend_gbp"] for s in ("AAA", "BBB")] == ["*", "*"]


def test_refunds_are_withheld_by_the_people_who_had_them(all_facts):
    """The only refund (-£20.50) is one person's: withheld, though 12 people spent."""
    assert all_facts["all_sites"]["refunds_gbp"] == "*"


def test_facts_header_states_version_period_filters_and_synthetic(all_facts):
    """The JSON says what data it came from and which filters it used."""
    assert all_facts["synthetic"] is False
    assert all_facts["filters"] == {
        "sites": ["AAA", "BBB"],
        "from": "2013-07-01",
        "to": "2016-06-30",
        "management": "all",
    }
    assert len(all_facts["data_version"]) == 12


def test_no_count_from_one_to_seven_leaves_in_the_facts(all_facts):
    """Walk every number in the JSON: no whole count of 1 to 7 appears."""

    def numbers(node, path=""):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from numbers(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from numbers(v, f"{path}[{i}]")
        elif isinstance(node, int) and not isinstance(node, bool):
            yield path, node

    small = [(p, n) for p, n in numbers(all_facts) if 1 <= n <= 7]
    assert small == []


def test_facts_with_sites_and_dates(tiny_warehouse):
    """--sites and --to narrow the figures: AAA up to 31 Jan 2015 has 6 budgets in place (shown '*')."""
    result = run_facts(tiny_warehouse, "--sites", "aaa", "--to", "2015-01-31")
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["filters"]["sites"] == ["AAA"] and facts["filters"]["to"] == "2015-01-31"
    assert list(facts["sites"]) == ["AAA"]
    assert facts["all_sites"]["budgets_in_place"] == "*"
    assert facts["all_sites"]["referred"] == 10  # A01-A07 and A10 (8) were referred by then, shown as 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sites", "AAA,XYZ"], "Unknown site code 'XYZ'"),
        (["--from", "2015-02-30"], "The start date '2015-02-30' is not a date"),
        (["--from", "2016-01-01", "--to", "2015-01-01"], "starts (1 Jan 2016) after it ends (1 Jan 2015)"),
    ],
)
def test_facts_refuses_bad_filters_with_a_plain_message(tiny_warehouse, args, message):
    """A bad filter stops the command with exit code 2 and says what is wrong."""
    result = run_facts(tiny_warehouse, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_every_money_figure_shown_rests_on_at_least_eight_people(all_facts):
    """For each block, a shown spend or refund total is backed by 8 or more people, counted
    independently from spend.csv; anything from fewer is '*'."""
    import pandas as pd

    spend = pd.read_csv(TINY / "spend.csv").merge(pd.read_csv(TINY / "people.csv")[["person_id", "site_code"]])
    blocks = {"all_sites": (all_facts["all_sites"], spend)}
    blocks |= {s: (b, spend[spend["site_code"] == s]) for s, b in all_facts["sites"].items()}
    checked = 0
    for name, (block, lines) in blocks.items():
        for key, rows in (("spend_gbp", lines), ("refunds_gbp", lines[lines["amount_gbp"] < 0])):
            if block[key] not in ("*", 0, 0.0):
                assert rows["person_id"].nunique() >= 8, (name, key)
                checked += 1
    assert checked >= 1  # the all-sites spend, from 12 people, is shown


def test_python_dash_m_phb_runs_as_a_process(tiny_warehouse, all_facts):
    """The process boundary itself, once: `python -m phb facts` prints the same JSON as the in-process
    call with exit code 0, and a refused filter exits with code 2 and nothing on stdout."""
    env = {**os.environ, "PHB_DATA": str(TINY), "PHB_WAREHOUSE": str(tiny_warehouse)}
    ok = subprocess.run([sys.executable, "-m", "phb", "facts"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == all_facts
    bad = subprocess.run(
        [sys.executable, "-m", "phb", "facts", "--sites", "XYZ"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert (bad.returncode, bad.stdout) == (2, "")
    assert "python -m phb facts: Unknown site code 'XYZ'" in bad.stderr


def test_facts_leave_through_the_gate(tiny_warehouse, monkeypatch):
    """A figure added to the headline block without a declared kind, or a count that skipped count(),
    stops `facts` instead of reaching its JSON (the gate is phb.facts.facts itself, in-process)."""
    from phb import disclosure, overview
    from phb import facts as facts_module
    from phb.filters import Filters
    from phb.warehouse import read_info

    warehouse, info = tiny_warehouse, read_info(tiny_warehouse)
    filters = Filters(None, info.period_start, info.period_end, None)
    facts_module.facts(warehouse, info, filters)  # passes as it is
    headline = overview.headline
    for extra in ({"people_exactly": 3}, {"referred": 7}):
        monkeypatch.setattr(overview, "headline", lambda data, extra=extra: {**headline(data), **extra})
        with pytest.raises(disclosure.UnpublishedError):
            facts_module.facts(warehouse, info, filters)
