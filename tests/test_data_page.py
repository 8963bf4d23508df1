"""The Data page as Streamlit runs it (AppTest), on the tiny extract with a tmp version store: what is
shown now, the versions kept, rows per table and site as counts are shown, roll back, and who may
publish."""

from __future__ import annotations

import json
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from phb import dataview, disclosure
from tests.conftest import ROOT, TINY, run_cli, shown
from tests.test_store import version_of


@pytest.fixture
def env(tmp_path, monkeypatch):
    """The tiny extract as the bundled one, a tmp warehouse and store, and a second version published."""
    base = tmp_path / "base"
    shutil.copytree(TINY, base)
    newer = tmp_path / "newer"
    shutil.copytree(TINY, newer)
    lines = (newer / "spend.csv").read_text().splitlines()
    (newer / "spend.csv").write_text("\n".join(lines[:-1]) + "\n")  # less S15
    warehouse = tmp_path / "wh" / "phb.duckdb"
    monkeypatch.setenv("PHB_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("PHB_DATA", str(base))
    monkeypatch.setenv("PHB_WAREHOUSE", str(warehouse))
    monkeypatch.delenv("PHB_PUBLISHING", raising=False)
    assert run_cli("publish", str(newer), "--note", "Quarter 3", data=base, warehouse=warehouse).returncode == 0
    return {"base": base, "newer": newer, "store": tmp_path / "store", "warehouse": warehouse}


def table_with(at: AppTest, column: str):
    (found,) = [d.value for d in at.dataframe if column in d.value.columns]
    return found


def data_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    return at


def test_the_page_shows_the_published_version_and_the_history(env):
    at = data_page()
    assert at.title[0].value == "Data"
    values = {m.label: m.value for m in at.metric}
    assert values["Data version"] == version_of(env["newer"])
    assert values["Synthetic data"] == "No"  # the tiny extract has no MANIFEST.json
    text = " ".join(m.value for m in at.markdown)
    assert "command line" in text and "Quarter 3" in text
    (history,) = [d.value for d in at.dataframe if "Shown now" in d.value.columns]
    assert history["Data version"].tolist() == [version_of(env["newer"]), version_of(env["base"])]
    assert history["Shown now"].tolist() == ["Yes", ""]
    (footer,) = [c.value for c in at.caption if "Disclosure control" in c.value and "built" in c.value]
    assert f"Data version {version_of(env['newer'])}, built" in footer


def test_rows_per_site_are_counts_as_shown(env):
    at = data_page()
    rows = table_with(at, "Spending lines").set_index("Site")
    aaa = [f"A{i:02d}" for i in range(1, 13)] + ["C01", "C02"]
    assert rows.loc["St Mary's Vale", "People"] == str(shown(aaa))
    assert rows.loc["Brookside", "People"] == disclosure.SUPPRESSED  # 6 people: fewer than 8
    assert rows.loc["Brookside", "Admissions"] == disclosure.SUPPRESSED  # 1 admission (H08)
    # spending lines in the published version: S15 (B03's) was left out, so BBB has 2, AAA 12
    assert rows.loc["Brookside", "Spending lines"] == disclosure.SUPPRESSED


def test_publishing_is_off_unless_the_setting_turns_it_on(env):
    at = data_page()
    (button,) = [b for b in at.button if b.label == "Roll back to this version"]
    assert button.disabled
    assert any("PHB\\_PUBLISHING=on" in c.value or "PHB_PUBLISHING=on" in c.value for c in at.caption)


@pytest.mark.slow  # the browser test (slow tier too) rolls back from the page as well; this one adds the log
def test_roll_back_from_the_page(env, monkeypatch):
    monkeypatch.setenv("PHB_PUBLISHING", "on")
    at = data_page()
    (button,) = [b for b in at.button if b.label == "Roll back to this version"]
    assert not button.disabled
    assert at.selectbox(key="rollback_to").value == version_of(env["base"])
    button.click().run()
    assert not at.exception
    assert json.loads((env["store"] / "current").read_text()) == {"version": version_of(env["base"])}
    assert {m.label: m.value for m in at.metric}["Data version"] == version_of(env["base"])
    assert any(f"Data version {version_of(env['base'])} is current again" in s.value for s in at.success)
    log = (env["store"] / "log.jsonl").read_text().splitlines()
    assert json.loads(log[-1])["by"] == "not signed in (sign-in is not set up)"
    events = table_with(at, "What")
    assert events[["What", "Data version"]].values.tolist() == [
        ["Rolled back to", version_of(env["base"])],
        ["Published", version_of(env["newer"])],
    ]


@pytest.mark.parametrize(
    ("user", "env", "allowed", "who"),
    [
        ({}, {}, False, ""),
        ({}, {"PHB_PUBLISHING": "off"}, False, ""),
        ({}, {"PHB_PUBLISHING": "on"}, True, "not signed in (sign-in is not set up)"),
        ({"is_logged_in": False}, {"PHB_PUBLISHING": "on", "PHB_PUBLISHERS": "a@nhs.net"}, False, ""),
        (
            {"is_logged_in": True, "email": "b@nhs.net"},
            {"PHB_PUBLISHING": "on", "PHB_PUBLISHERS": "a@nhs.net"},
            False,
            "b@nhs.net",
        ),
        (
            {"is_logged_in": True, "email": "A@NHS.net"},
            {"PHB_PUBLISHING": "on", "PHB_PUBLISHERS": "x@nhs.net, a@nhs.net"},
            True,
            "a@nhs.net",
        ),
        ({"is_logged_in": True, "email": "a@nhs.net"}, {"PHB_PUBLISHERS": "a@nhs.net"}, False, ""),
    ],
)
def test_who_may_publish(user, env, allowed, who):
    got = dataview.permission(user, env)
    assert (got.allowed, got.who) == (allowed, who)
    assert got.allowed or got.reason


@pytest.mark.slow  # kept out of the main tier's time; the browser test checks a second session as well
def test_a_session_open_during_a_publish_shows_the_new_whole_period(env):
    """A session's filters were set for the old version's months; after a publish that adds a later
    month (an admission of A01 in September 2016), its next run shows the new version's whole period,
    not the old one's (it kept 30 Jun 2016 as its end before)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert any("1 Jul 2013 to 30 Jun 2016" in c.value for c in at.caption if "Showing:" in c.value)
    later = env["newer"].parent / "later"
    shutil.copytree(TINY, later)
    with (later / "admissions.csv").open("a") as fh:
        fh.write("H11,A01,2016-09-01,2016-09-14,emergency,mental_health,\n")
    assert run_cli("publish", str(later), data=env["base"], warehouse=env["warehouse"]).returncode == 0
    at.run()
    assert not at.exception
    showing = [c.value for c in at.caption if "Showing:" in c.value]
    assert showing and "1 Jul 2013 to 14 Sep 2016" in showing[0]


def test_the_page_draws_every_table_without_arrow_repairs(env, arrow_faults):
    """Columns mixing `*` with numbers (shares, counts of the data quality tables) are drawn as text, as
    shown, so Streamlit never has to repair a table for Arrow (which it does with a traceback in the
    server log); the `*` stays visible."""
    at = data_page()
    assert arrow_faults.records == []
    fields = table_with(at, "Share")
    assert disclosure.SUPPRESSED in set(fields["Share"])


def test_numbers_in_a_mixed_column_are_written_as_shown():
    """By hand: a share of 96.5 (1 place for 'pct'), a count of 1825 and a figure of 0.85 in columns that
    also hold `*` become '96.5', '1,825' and '0.85'; a column of numbers only is left as numbers."""
    import pandas as pd

    from phb import ui

    frame = disclosure.publish(
        pd.DataFrame({"Share": [96.5, "*"], "Rows": [1825, "*"], "Value": [0.85, "not estimated"], "N": [10, 20]}),
        {"Share": "pct", "Rows": "count", "Value": "figure", "N": "count"},
    )
    out = ui._mixed_as_text(frame)
    assert out["Share"].tolist() == [f"{96.5:.{disclosure.PLACES['pct']}f}", "*"]
    assert out["Rows"].tolist() == ["1,825", "*"] and out["Value"].tolist() == ["0.85", "not estimated"]
    assert out["N"].tolist() == [10, 20] and disclosure.is_published(out)
