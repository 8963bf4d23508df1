"""Spending: totals to the penny against an independent sum over the extract files, per-holder
figures withheld for a small site, refunds shown apart, free text never shown."""

from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from phb import disclosure
from tests.conftest import DATA, ROOT, run_cli


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


def test_totals_agree_to_the_penny_with_an_independent_sum(env, lines):
    """All sites and each category: `phb facts` equals the sum of the extract's lines, in exact decimals."""
    got = facts(env)["all_sites"]["spending"]
    assert Decimal(str(got["total_gbp"])) == sum(lines["amount"])
    assert Decimal(str(got["refunds_gbp"])) == sum(a for a in lines["amount"] if a < 0)
    for category, part in lines.groupby("category"):
        shown = got["by_category_gbp"][category]
        if shown != disclosure.SUPPRESSED:
            assert Decimal(str(shown)) == sum(part["amount"]), category


def test_site_totals_for_a_period_agree_to_the_penny(env, lines):
    """Dorset in 2015: the facts total is the sum of Dorset's lines paid that year."""
    got = facts(env, "--sites", "DOR", "--from", "2015-01-01", "--to", "2015-12-31")["sites"]["DOR"]["spending"]
    part = lines[(lines["site_code"] == "DOR") & lines["paid_on"].between("2015-01-01", "2015-12-31")]
    assert Decimal(str(got["total_gbp"])) == sum(part["amount"])


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
    """No description from spend.csv appears in `phb facts` or anywhere on the Spending page."""
    descriptions = {d for d in lines["description"] if len(d) > 6}
    assert descriptions  # the bundled data has free text to leak
    text = json.dumps(facts(env))
    monkeypatch.setenv("PHB_DATA", env["PHB_DATA"])
    monkeypatch.setenv("PHB_WAREHOUSE", env["PHB_WAREHOUSE"])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/spending.py").run()
    assert not at.exception
    text += " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.metric, *at.info, *at.title])
    text += " ".join(df.value.to_csv() for df in at.dataframe)
    assert not [d for d in descriptions if d in text]
