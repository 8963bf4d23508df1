"""Data quality by site on the tiny extract, whose gaps are worked out here by hand from its files:

- St Mary's Vale (AAA) went live 1 Jul 2014 and its pilot ended 31 Dec 2015: 18 months. Its payments
  fall in Aug, Sep, Oct, Nov, Dec 2014 and Jan, Mar, May, Aug, Nov 2015 (10 months), so Feb, Apr, Jun,
  Jul, Sep and Oct 2015 have none between its first and last payment. Its admissions inside the pilot
  are H09 (Jan 2015), H07 (Feb 2015), H06 (Mar 2015) and H02 (Dec 2014): 4 months.
- Brookside (BBB) went live 1 Sep 2014 and ended 29 Feb 2016: 18 months. Its payments fall in Oct 2014,
  Dec 2014 and Mar 2015 (3 months), the last 11 months before its pilot end: late. Its one admission
  (H08) is in Jul 2013, before go-live: none inside the pilot, and the last 31 months before its end.
- The data ends on 30 Jun 2016 (H10's discharge), a whole month, so no month is a part month.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from phb import disclosure, quality
from phb.facts import site_names
from tests.conftest import ROOT, TINY, record_key, shown

END = date(2016, 6, 30)


def key(*ids):
    return sum(record_key(i) for i in ids) % 256


@pytest.fixture
def found(con) -> quality.Quality:
    return quality.assess(con, END, site_names(con))


def test_months_between_counts_both_ends():
    assert quality.months_between(date(2014, 7, 1), date(2015, 12, 31)) == 18
    assert quality.months_between(date(2014, 9, 1), date(2016, 2, 29)) == 18
    assert quality.months_between(date(2016, 6, 30), date(2016, 6, 1)) == 1


def test_coverage_and_timeliness(found):
    t = found.timeliness.set_index(["Site", "Table"])
    assert t.loc[("St Mary's Vale", "Spending lines"), "Months with data"] == "10 of 18"
    assert t.loc[("St Mary's Vale", "Spending lines"), "Coverage"] == round(100 * 10 / 18)
    assert t.loc[("St Mary's Vale", "Spending lines"), "Latest month"] == "November 2015"
    assert t.loc[("St Mary's Vale", "Spending lines"), "Months behind the end of the data"] == 7  # Dec..Jun
    assert t.loc[("St Mary's Vale", "Admissions"), "Months with data"] == "4 of 18"
    assert t.loc[("Brookside", "Spending lines"), "Months with data"] == "3 of 18"
    assert t.loc[("Brookside", "Spending lines"), "Months behind the end of the data"] == 15  # Apr 2015..Jun 2016
    assert t.loc[("Brookside", "Admissions"), "Months with data"] == "0 of 18"
    assert t.loc[("Brookside", "Admissions"), "Latest month"] == "July 2013"
    assert disclosure.is_published(found.timeliness)


def test_late_sites_get_a_plain_note(found):
    assert found.notes == [
        ("BBB", "Brookside's spending ends in March 2015: later figures undercount it."),
        ("BBB", "Brookside's admissions end in July 2013: later figures undercount it."),
    ]


def test_completeness_and_defaults_from_shown_counts(found):
    f = found.fields.set_index(["Site", "Measure"])
    aaa = [f"A{i:02d}" for i in range(1, 13)] + ["C01", "C02"]
    given = disclosure.count(13, key(*[p for p in aaa if p != "A09"]))
    everyone = disclosure.count(14, key(*aaa))
    expected = min(100.0, round(100 * given / everyone))
    assert f.loc[("St Mary's Vale", "Deprivation quintile given"), "Share"] == expected
    assert f.loc[("St Mary's Vale", "Sex not stated"), "Share"] == disclosure.SUPPRESSED  # A06 alone
    assert f.loc[("Brookside", "Admission method 'other'"), "Share"] == disclosure.SUPPRESSED  # 0 of 1: base withheld
    assert f.loc[("St Mary's Vale", "Admission method 'other'"), "Share"] == 0  # 0 of 9 (shown 10)
    assert disclosure.is_published(found.fields)


def test_unusual_months_are_the_gaps(found):
    u = found.unusual
    aaa_spend = u[(u["Site"] == "St Mary's Vale") & (u["Table"] == "Spending lines")]
    assert aaa_spend["Month"].tolist() == [
        "February 2015",
        "April 2015",
        "June 2015",
        "July 2015",
        "September 2015",
        "October 2015",
    ]
    assert set(aaa_spend["Why"]) == {"no rows"}
    assert set(aaa_spend["Rows"]) == {"0"}


def test_a_part_month_at_the_end_is_marked(con):
    vol = quality.volume(con, date(2016, 6, 13))
    last = vol[(vol["site_code"] == "AAA") & (vol["tbl"] == "admissions")].iloc[-1]
    assert (last["month"], last["why"]) == (date(2016, 6, 1), "part of a month: the data ends on 13 Jun 2016")


def test_pages_carry_the_note_for_the_sites_they_show(monkeypatch, tiny_warehouse, tmp_path):
    monkeypatch.setenv("PHB_DATA", str(TINY))
    monkeypatch.setenv("PHB_WAREHOUSE", str(tiny_warehouse))
    monkeypatch.setenv("PHB_STORE", str(tmp_path / "store"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    notes = [w.value.replace("\u2060", "") for w in at.warning]  # plain() puts a word joiner after ':'
    assert "Brookside's spending ends in March 2015: later figures undercount it." in notes
    at.switch_page("pages/spending.py").run()
    assert "Brookside's admissions end in July 2013: later figures undercount it." in [
        w.value.replace("\u2060", "") for w in at.warning
    ]
    only_aaa = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    only_aaa.query_params["site"] = "AAA"
    only_aaa.run()
    assert not [w.value for w in only_aaa.warning if "undercount" in w.value]


def test_volume_chart_draws_only_shown_counts(found):
    from phb import charts

    frame = quality.volume_frame(found.volume, "spend", found.names)
    aaa = frame[frame["site"] == "St Mary's Vale"].set_index("month")
    assert len(aaa) == 16  # August 2014 to November 2015
    assert (aaa.loc["2015-02-01", "count"], aaa.loc["2015-02-01", "note"]) == (0, "no rows")
    assert pd.isna(aaa.loc["2014-09-01", "count"]) and aaa.loc["2014-09-01", "label"] == "*"  # 2 payments
    chart = charts.volume_by_month(frame, found.names, "Spending lines per month, by site", "subtitle")
    disclosure.check_chart(chart)  # every frame drawn came through disclosure.publish


def broken_copy(tmp_path, edits: dict[str, dict[str, tuple[str, str]]]):
    """A copy of the tiny files with values changed: {file: {row id: (column, value)}}."""
    import csv
    import shutil

    folder = tmp_path / "upload"
    shutil.copytree(TINY, folder)
    for name, changes in edits.items():
        with (folder / name).open(newline="") as fh:
            reader = csv.DictReader(fh)
            fields, rows = reader.fieldnames, list(reader)
        for row in rows:
            if row[fields[0]] in changes:
                column, value = changes[row[fields[0]]]
                row[column] = value
        with (folder / name).open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    return folder


def upload_problems(folder, tmp_path):
    from phb import config, intake

    cfg = config.settings({"PHB_DATA": str(TINY), "PHB_WAREHOUSE": str(tmp_path / "wh" / "phb.duckdb")})
    result = intake.check(folder, cfg, tmp_path)
    assert not result.ok
    return result.problems


def test_validity_of_a_failing_upload_by_site_from_counts_as_shown(tmp_path):
    """By hand: deprivation quintile 9 (not 1 to 5) for A01 to A09 breaks 9 of St Mary's Vale's 14 people
    (A01 to A12, C01, C02), leaving 5 (A10, A11, A12, C01, C02); amounts of 0 on S13 (B01) breaks one of
    Brookside's 3 spending lines. Its 12 spending lines (S01 to S12, keyed by their people) all pass. Each
    count goes through the cell key table with record keys worked out here with hashlib."""
    import os

    folder = broken_copy(
        tmp_path,
        {
            "people.csv": {f"A0{i}": ("imd_quintile", "9") for i in range(1, 10)},
            "spend.csv": {"S13": ("amount_gbp", "0")},
        },
    )
    frame = quality.upload_validity(folder, upload_problems(folder, tmp_path), os.environ["PHB_PERTURBATION_KEY"])
    got = frame.set_index(["Site", "Table"])
    aaa_people = [f"A{i:02d}" for i in range(1, 13)] + ["C01", "C02"]
    broken = [f"A0{i}" for i in range(1, 10)]
    people = got.loc[("St Mary's Vale (AAA)", "People (referrals)")]
    assert people["Rows"] == shown(aaa_people)
    assert people["Rows breaking a rule"] == shown(broken)
    assert people["Share valid (%)"] == disclosure.SUPPRESSED  # 5 pass: fewer than 8
    holders = ["A01", "A01", "A02", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A09", "A02"]
    spend = got.loc[("St Mary's Vale (AAA)", "Spending lines")]
    assert spend["Rows"] == shown(holders) and spend["Rows breaking a rule"] == 0
    assert spend["Share valid (%)"] == 100.0
    brookside = got.loc[("Brookside (BBB)", "Spending lines")]
    assert (brookside["Rows"], brookside["Rows breaking a rule"]) == (disclosure.SUPPRESSED, disclosure.SUPPRESSED)
    assert disclosure.is_published(frame)


def test_a_file_that_cannot_be_read_is_listed_as_not_read(tmp_path):
    """admissions.csv without its cost column cannot be read: it is listed once as not read, and the other
    tables are still counted by site."""
    import os

    folder = broken_copy(tmp_path, {})
    text = (folder / "admissions.csv").read_text().splitlines()
    (folder / "admissions.csv").write_text("\n".join(line.rsplit(",", 1)[0] for line in text) + "\n")
    frame = quality.upload_validity(folder, upload_problems(folder, tmp_path), os.environ["PHB_PERTURBATION_KEY"])
    admissions = frame[frame["Table"] == "Admissions"]
    assert admissions["Site"].tolist() == ["Not known: the file could not be read"]
    assert admissions["Rows"].isna().all()
    assert set(frame["Table"]) == {"People (referrals)", "Spending lines", "Admissions"}


def test_an_upload_folder_left_by_a_closed_session_is_cleared(tmp_path):
    """Folders under the scratch folder last changed more than SCRATCH_HOURS ago are removed when the
    next upload's folder is made; a newer one (another session's upload) is kept."""
    import os
    import time

    from phb import upload

    parent = tmp_path / "scratch"
    old, recent = parent / "upload-old", parent / "upload-recent"
    for folder in (old, recent):
        (folder / "upload").mkdir(parents=True)
    now = time.time()
    os.utime(old, (now - (upload.SCRATCH_HOURS + 1) * 3600,) * 2)
    made = upload.scratch_folder(parent, now=now)
    assert made.is_dir() and made.parent == parent and not any(made.iterdir())
    assert not old.exists() and recent.exists()
