"""The Data page in a real browser (Chromium, Playwright): upload a valid extract, see what it would
change, publish it, see the pages change (in this session and in a second one open at the time), roll
back and see them change back; upload broken extracts and see the message naming table, row and rule,
with the published files and warehouse byte-identical afterwards.

In the slow tier: one server on a fresh warehouse and store, a few dozen page runs.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest

from phb.formatting import day
from phb.ui import WORD_JOINER
from tests.conftest import CHROMIUM, DATA, TINY, launch_chromium, run_cli
from tests.test_browser import app_server, metric_value
from tests.test_store import snapshot, version_of
from tests.test_upload import tiny_rows, workbook, zipped
from tests.test_warehouse import BROKEN, rewrite

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not shutil.which("chromium"),
        reason=f"no Chromium at {CHROMIUM}: install Debian's chromium (apt-get install chromium)",
    ),
]

LIMIT_MB = 1  # the server's upload limit, small so the size cases stay small
NHS_NUMBER = "9434765919"  # the NHS Data Dictionary's example of a valid NHS number


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app on the bundled data with publishing on, a fresh warehouse and an empty store."""
    root = tmp_path_factory.mktemp("browser_data")
    warehouse = root / "wh" / "phb.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHB_STORE", str(root / "store"))
        mp.setenv("PHB_PUBLISHING", "on")
        mp.setenv("PHB_UPLOAD_LIMIT_MB", str(LIMIT_MB))
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


def payload(name: str, data: bytes) -> dict:
    return {"name": name, "mimeType": "application/octet-stream", "buffer": data}


def tiny_payloads(**changes: bytes) -> list[dict]:
    files = {p.name: p.read_bytes() for p in sorted(TINY.glob("*.csv"))}
    files.update(changes)
    return [payload(name, data) for name, data in files.items()]


def rule_cases(folder: Path) -> dict[str, tuple[list[dict], list[str]]]:
    """Every case of tests.test_warehouse.BROKEN (at least one per rule of the data contract, which a test
    there checks) as an upload of the tiny files with that one change, with the words the page must show:
    the file, the rule, and the row where the case names one."""
    out = {}
    for i, (file, change, expected) in enumerate(BROKEN):
        target = folder / f"rule{i}"
        shutil.copytree(TINY, target)
        rewrite(target / file, change)
        text = expected.removeprefix(f"{file}: ")
        rule, _, rest = text.partition(": row ")
        words = [file, rule] + ([f"row {rest.split()[0]}"] if rest else [])
        out[f"{file}: {rule}"] = ([payload(p.name, p.read_bytes()) for p in sorted(target.glob("*.csv"))], words)
    return out


def hostile_cases() -> dict[str, tuple[list[dict], list[str]]]:
    """Each hostile file of issue 13, built as tests/test_upload.py builds it, with the words of its refusal.
    The server's upload limit is LIMIT_MB."""
    import random

    out: dict[str, tuple[list[dict], list[str]]] = {}
    sites = (TINY / "sites.csv").read_text()
    out["over the size limit"] = (
        tiny_payloads(**{"people.csv": b"x" * 700_000, "spend.csv": b"y" * 700_000}),
        ["The upload is 1.3 MB, over the limit of 1 MB"],
    )
    out["zip bomb"] = ([payload("extract.zip", zipped({"people.csv": b"0" * 900_000}))], ["(a zip bomb)"])
    rng = random.Random(1)
    digits = "".join(rng.choice("0123456789,\n") for _ in range(1_500_000)).encode()
    out["zip past the limit"] = (
        [payload("extract.zip", zipped({"people.csv": digits}))],
        ["extract.zip unpacks to more than the upload limit of 1 MB"],
    )
    out["zip path outside itself"] = (
        [payload("extract.zip", zipped({"../../people.csv": b"x", "sites.csv": b"y"}))],
        ["extract.zip holds a file whose path leads outside the zip"],
    )
    out["renamed binary"] = (
        [payload("people.csv", b"\x89PNG\r\n\x1a\n" + bytes(64))],
        ["people.csv is not a text file"],
    )
    out["workbook that can hold macros"] = (
        [payload("return.xlsm", b"PK\x03\x04")],
        ["return.xlsm is a workbook that can hold macros (.xlsm)"],
    )
    tables = ("sites", "people", "spend", "admissions")
    with zipfile.ZipFile(io.BytesIO(workbook({t: tiny_rows(t) for t in tables}))) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    out["macros inside an .xlsx"] = (
        [payload("return.xlsx", zipped({**entries, "xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 macro"}))],
        ["return.xlsx holds macros"],
    )
    out["external links"] = (
        [payload("return.xlsx", zipped({**entries, "xl/externalLinks/externalLink1.xml": b"<externalLink/>"}))],
        ["return.xlsx, sheet", "links to other files"],
    )
    out["formula in a cell"] = (
        [payload("return.xlsx", workbook({t: tiny_rows(t) for t in tables}, formula_at=("people", "G3")))],
        ["return.xlsx, sheet 'people' has formulas (cell G3)", "formulas are never worked out here"],
    )
    out["formula-like text in a CSV"] = (
        tiny_payloads(**{"sites.csv": sites.replace("St Mary's Vale", '"=HYPERLINK(""http://x"",""y"")"', 1).encode()}),
        ["sites.csv", "starts with =, +, - or @, which a spreadsheet would treat as a formula", "row 2"],
    )
    nhs = {
        t: (TINY / t).read_bytes().replace(b"A02,", NHS_NUMBER.encode() + b",")
        for t in ("people.csv", "spend.csv", "admissions.csv")
    }
    out["NHS number"] = (tiny_payloads(**nhs), ["people.csv", "row 3", "holds what looks like a real NHS number"])
    out["Windows-1252"] = (
        tiny_payloads(**{"sites.csv": sites.replace("Brookside,", "Brooksidé,", 1).encode("cp1252")}),
        ["sites.csv is not UTF-8", "Windows-1252", "row 3"],
    )
    out["semicolons"] = (
        tiny_payloads(**{"sites.csv": sites.replace(",", ";").encode()}),
        ["sites.csv is separated by semicolons, not commas"],
    )
    return out


def each_is_named_and_changes_nothing(served, browser, cases, validity: bool) -> None:
    """Upload each case on a fresh page: the page says nothing was published or changed and shows the
    case's words (read without the invisible word joiners ui.plain puts after ':' and '@') and, for a
    broken rule, the extract's validity by site; no NHS number and no formula as a link. The store, the
    bundled data and the published warehouse are byte-identical afterwards."""
    url, store, warehouse = served["url"], served["store"], served["warehouse"]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    open_data(page, url)  # the published warehouse is built by the first page run
    before = (snapshot(store), snapshot(DATA), warehouse.read_bytes())
    missed = {}
    for name, (files, words) in cases.items():
        open_data(page, url)
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(files)
        page.locator("[data-testid='stAlert']", has_text=re.compile("nothing has been", re.I)).first.wait_for(
            timeout=60_000
        )
        if validity:
            page.get_by_text("Validity of this extract, by site").wait_for(timeout=30_000)
        try:
            page.wait_for_function(
                "words => { const t = document.querySelector('[data-testid=\"stMain\"]').innerText"
                ".replaceAll('\\u2060', ''); "
                "return words.every(w => t.includes(w)); }",
                arg=words,
                timeout=15_000,
            )
        except Exception:  # noqa: BLE001 - collected, so one run names every case that fails
            text = page.locator("[data-testid='stMain']").inner_text().replace(WORD_JOINER, "")
            missed[name] = [w for w in words if w not in text]
        text = page.locator("[data-testid='stMain']").inner_text().replace(WORD_JOINER, "")
        assert NHS_NUMBER not in text and "943 476 5919" not in text, name
        hrefs = page.eval_on_selector_all("[data-testid='stMain'] a", "links => links.map(a => a.href)")
        assert not [h for h in hrefs if "http://x" in h], name
    assert missed == {}
    assert (snapshot(store), snapshot(DATA), warehouse.read_bytes()) == before
    page.close()


def test_an_upload_breaking_each_rule_of_the_contract_is_named_and_changes_nothing(served, browser, tmp_path):
    each_is_named_and_changes_nothing(served, browser, rule_cases(tmp_path), validity=True)


def test_each_hostile_upload_is_refused_by_name_and_changes_nothing(served, browser):
    each_is_named_and_changes_nothing(served, browser, hostile_cases(), validity=False)
