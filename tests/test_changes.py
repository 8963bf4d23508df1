"""What an upload would change against the published version: worked out by hand from the tiny extract
and a changed copy of it, every count as `disclosure.count` shows it (cell keys from record keys worked
out in Python), money as `python -m phb facts` shows it."""

from __future__ import annotations

import json
import shutil

import pytest

from phb import changes, disclosure
from phb import formatting as fmt
from phb.warehouse import build
from tests.conftest import TEST_KEY, TINY, record_key, run_cli

NEW_LINES = [f"S{i},A01,2015-01-{i - 10:02d},transport,10.00," for i in range(16, 25)]  # nine payments of A01


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The tiny extract (published) and a copy with S15 (B03's payment) removed, nine payments of A01
    added, and A10's outcome changed from declined to withdrawn (the upload)."""
    root = tmp_path_factory.mktemp("changes")
    new = root / "new"
    shutil.copytree(TINY, new)
    spend = (new / "spend.csv").read_text().splitlines()
    assert spend[-1].startswith("S15,B03,")
    (new / "spend.csv").write_text("\n".join(spend[:-1] + NEW_LINES) + "\n")
    people = (new / "people.csv").read_text()
    assert ",declined," in people.split("\nA10,")[1].split("\n")[0]
    head, rest = people.split("\nA10,", 1)
    line, tail = rest.split("\n", 1)
    (new / "people.csv").write_text(head + "\nA10," + line.replace(",declined,", ",withdrawn,") + "\n" + tail)
    old_info = build(TINY, root / "old.duckdb", secret=TEST_KEY)
    new_info = build(new, root / "new.duckdb", secret=TEST_KEY)
    return root, new, changes.compare(root / "old.duckdb", old_info, root / "new.duckdb", new_info)


def test_rows_added_and_removed_per_table_and_site(pair):
    _, _, found = pair
    rows = found.rows.set_index(["Site", "Table"])
    nine = disclosure.count(9, 9 * record_key("A01") % 256)
    assert rows.loc[("St Mary's Vale", "Spending lines"), "Added"] == fmt.count(nine)
    assert rows.loc[("St Mary's Vale", "Spending lines"), "Removed"] == "0"
    assert rows.loc[("Brookside", "Spending lines"), "Removed"] == disclosure.SUPPRESSED  # S15 alone: 1 line
    assert rows.loc[("Brookside", "Spending lines"), "Added"] == "0"
    for table in ("People", "Admissions"):
        for site in ("St Mary's Vale", "Brookside"):
            assert rows.loc[(site, table)].tolist() == ["0", "0"]
    assert disclosure.is_published(found.rows)


def test_people_whose_outcome_changed(pair):
    _, _, found = pair
    outcomes = dict(zip(found.outcomes["Site"], found.outcomes["People whose outcome changed"]))
    assert outcomes == {"St Mary's Vale": disclosure.SUPPRESSED, "Brookside": "0"}  # A10 alone


def test_headline_and_site_figures_are_those_facts_shows(pair, tmp_path):
    root, new, found = pair
    before = json.loads(run_cli("facts", data=TINY, warehouse=tmp_path / "a" / "w.duckdb").stdout)
    after = json.loads(run_cli("facts", data=new, warehouse=tmp_path / "b" / "w.duckdb").stdout)
    headline = found.headline.set_index("Figure")
    assert headline.loc["Total spending"].tolist() == [
        fmt.money(before["all_sites"]["spend_gbp"]),
        fmt.money(after["all_sites"]["spend_gbp"]),
    ]
    assert headline.loc["People referred"].tolist() == [fmt.count(before["all_sites"]["referred"])] * 2
    sites = found.sites.set_index(["Site", "Figure"])
    assert sites.loc[("St Mary's Vale", "Budgets in place")].tolist() == [
        fmt.count(before["sites"]["AAA"]["budgets_in_place"]),
        fmt.count(after["sites"]["AAA"]["budgets_in_place"]),
    ]
    assert disclosure.is_published(found.sites) and disclosure.is_published(found.headline)
