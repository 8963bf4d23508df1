"""The Data page in a real browser (Chromium, Playwright): upload a valid extract, see what it would
change, publish it, see the pages change (in this session and in a second one open at the time), roll
back and see them change back; upload broken extracts and see the message naming table, row and rule,
with the published files and warehouse byte-identical afterwards.

In the slow tier: one server on a fresh warehouse and store, a few dozen page runs.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from phb.formatting import day
from tests.conftest import CHROMIUM, DATA, TINY, launch_chromium, run_cli
from tests.test_browser import app_server, metric_value
from tests.test_store import snapshot, version_of

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not shutil.which("chromium"),
        reason=f"no Chromium at {CHROMIUM}: install Debian's chromium (apt-get install chromium)",
    ),
]

NHS_NUMBER = "9434765919"  # the NHS Data Dictionary's example of a valid NHS number


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app on the bundled data with publishing on, a fresh warehouse and an empty store."""
    root = tmp_path_factory.mktemp("browser_data")
    warehouse = root / "wh" / "phb.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHB_STORE", str(root / "store"))
        mp.setenv("PHB_PUBLISHING", "on")
        with app_server(warehouse, log=root / "server.log") as (url, _proc):
            yield {"url": url, "root": root, "warehouse": warehouse, "store": root / "store"}


@pytest.fixture(scope="module")
def browser(served, playwright_driver):
    launched = launch_chromium(playwright_driver)
    yield launched
    launched.close()


def open_data(page, url: str) -> None:
    page.goto(url + "/data", timeout=90_000)
    page.get_by_text("What the dashboard shows now").first.wait_for(timeout=90_000)


def upload(page, files: list[Path]) -> None:
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files([str(f) for f in files])


def shown_version(page) -> str:
    return metric_value(page, "Data version")


def footer_version(page, version: str) -> None:
    page.get_by_text(f"Data version {version}, built").first.wait_for(timeout=90_000)


def test_upload_compare_publish_and_roll_back(served, browser, tmp_path):
    url, store = served["url"], served["store"]
    bundled, tiny = version_of(DATA), version_of(TINY)
    first, second = browser.new_page(viewport={"width": 1400, "height": 1000}), browser.new_page()
    second.goto(url + "/", timeout=90_000)
    second.wait_for_selector("[data-testid='stMetricValue']", timeout=90_000)
    footer_version(second, bundled)

    open_data(first, url)
    assert shown_version(first) == bundled
    files = []
    for table in ("sites", "people", "spend", "admissions"):  # named as a person might name them
        target = tmp_path / f"Q3 return {table}.csv"
        shutil.copy(TINY / f"{table}.csv", target)
        files.append(target)
    upload(first, files)
    first.get_by_text(f"This extract follows the data contract: data version {tiny}").wait_for(timeout=60_000)
    first.get_by_text("What it would change", exact=True).wait_for(timeout=60_000)
    first.get_by_text("Rows added and removed, by table and site").wait_for()

    first.get_by_role("button", name="Publish this extract").click()
    first.get_by_text(f"Published data version {tiny}").wait_for(timeout=90_000)
    assert json.loads((store / "current").read_text()) == {"version": tiny}
    first.wait_for_function(
        "v => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')].some(e => e.innerText.trim() === v)",
        arg=tiny,
        timeout=60_000,
    )
    footer_version(first, tiny)

    # the second session, open all along, shows the new version on its next rerun, without an error
    second.get_by_role("link", name="Budget uptake").first.click()
    footer_version(second, tiny)
    second.get_by_role("link", name="Overview").first.click()
    footer_version(second, tiny)
    facts = json.loads(run_cli("facts", data=TINY, warehouse=tmp_path / "t" / "w.duckdb").stdout)
    period = facts["data_period"]
    whole = f"{day(date.fromisoformat(period['from']))} to {day(date.fromisoformat(period['to']))}"
    second.get_by_text(f"Showing: All 2 sites; {whole}").first.wait_for(timeout=30_000)  # the new whole period
    second.wait_for_function(
        "v => [...document.querySelectorAll('[data-testid=\"stMetric\"]')].some(e => e.innerText.includes('People "
        "referred') && e.innerText.includes(v))",
        arg=f"{facts['all_sites']['referred']:,}",
        timeout=60_000,
    )
    assert second.locator("[data-testid='stException']").count() == 0
    assert not second.get_by_text("Something went wrong").count()
    assert not second.get_by_text("Synthetic data: not real patients").count()  # the tiny extract is not

    # roll back from the page: the bundled version is the one offered
    open_data(first, url)
    first.get_by_role("button", name="Roll back to this version").click()
    first.get_by_text(f"Data version {bundled} is current again").wait_for(timeout=90_000)
    footer_version(first, bundled)
    second.get_by_role("link", name="Budget uptake").first.click()
    footer_version(second, bundled)
    second.get_by_text("Synthetic data: not real patients").first.wait_for(timeout=60_000)
    assert json.loads((store / "current").read_text()) == {"version": bundled}
    first.close()
    second.close()


def broken_extracts(folder: Path) -> dict[str, tuple[list[Path], list[str]]]:
    """Broken uploads, each with the words its message must hold (file, row, rule)."""
    out = {}

    def extract(name: str, change) -> list[Path]:
        target = folder / name
        shutil.copytree(TINY, target)
        change(target)
        return sorted(target.glob("*.csv"))

    def edit(path: Path, old: str, new: str) -> None:
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))

    out["unknown site"] = (
        extract("site", lambda d: edit(d / "people.csv", "A04,AAA,", "A04,ZZZ,")),
        ["people.csv", "row 5", "'site_code' is not a site in the sites table"],
    )
    out["bad date"] = (
        extract("date", lambda d: edit(d / "spend.csv", "S03,A02,2014-09-05", "S03,A02,05/09/2014")),
        ["spend.csv", "row 4", "'paid_on' is not a date written as YYYY-MM-DD"],
    )
    out["NHS number"] = (
        extract(
            "nhs",
            lambda d: [edit(d / t, "A02,", f"{NHS_NUMBER},") for t in ("people.csv", "spend.csv", "admissions.csv")],
        ),
        ["people.csv", "row 3", "holds what looks like a real NHS number"],
    )
    out["semicolons"] = (
        extract("semi", lambda d: (d / "sites.csv").write_text((TINY / "sites.csv").read_text().replace(",", ";"))),
        ["sites.csv", "separated by semicolons"],
    )
    out["Windows-1252"] = (
        extract(
            "cp1252",
            lambda d: (d / "sites.csv").write_bytes(
                (TINY / "sites.csv").read_text().replace("Brookside,", "Brooksidé,", 1).encode("cp1252")
            ),
        ),
        ["sites.csv", "Windows-1252", "row 3"],
    )
    renamed = folder / "renamed"
    renamed.mkdir()
    (renamed / "people.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    out["renamed binary"] = ([renamed / "people.csv"], ["people.csv is not a text file"])
    return out


def test_broken_uploads_are_named_and_change_nothing(served, browser, tmp_path):
    url, store, warehouse = served["url"], served["store"], served["warehouse"]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    open_data(page, url)
    before = (snapshot(store), snapshot(DATA), warehouse.read_bytes())
    for name, (files, words) in broken_extracts(tmp_path).items():
        open_data(page, url)
        upload(page, files)
        page.locator("[data-testid='stAlert']", has_text=re.compile("nothing has been", re.I)).first.wait_for(
            timeout=60_000
        )
        page.wait_for_function(
            "words => { const t = document.querySelector('[data-testid=\"stMain\"]').innerText; "
            "return words.every(w => t.includes(w)); }",
            arg=words,
            timeout=30_000,
        )
        text = page.locator("[data-testid='stMain']").inner_text()
        assert NHS_NUMBER not in text, name
    assert (snapshot(store), snapshot(DATA), warehouse.read_bytes()) == before
    page.close()
