"""The dashboard in a real browser: headless Chromium (Debian's) driven by Playwright.

Skipped, saying why, where no Chromium is installed; CI installs Debian's chromium so they run.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, DATA, app_server, launch_chromium, run_cli

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # a server and Chromium: the slow tier, which CI runs after the main suite
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not shutil.which("chromium"),
        reason=f"no Chromium at {CHROMIUM}: install Debian's chromium (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def server(bundled_warehouse):
    """The app on the bundled data, as the README starts it, on the run's shared bundled warehouse."""
    warehouse, _ = bundled_warehouse
    with app_server(warehouse) as (url, _proc):
        yield url, warehouse


@pytest.fixture(scope="module")
def page(server, playwright_driver):
    browser = launch_chromium(playwright_driver)
    yield browser.new_page(viewport={"width": 1400, "height": 1000})
    browser.close()


def metric_value(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']", has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_overview_shows_the_same_people_referred_as_facts(server, page):
    """The Overview opens on the bundled data and its headline figure matches `python -m phb facts`."""
    url, warehouse = server
    page.goto(url + "/", timeout=90_000)
    page.wait_for_selector("[data-testid='stMetricValue']", timeout=90_000)
    facts = json.loads(run_cli("facts", data=DATA, warehouse=warehouse).stdout)
    assert metric_value(page, "People referred") == f"{facts['all_sites']['referred']:,}"
    assert page.get_by_text("Synthetic data: not real patients").first.is_visible()
    page.wait_for_function(
        'document.querySelectorAll(\'[data-testid="stVegaLiteChart"] canvas, '
        '[data-testid="stVegaLiteChart"] svg\').length >= 3',
        timeout=30_000,
    )


def test_a_copied_link_reopens_the_same_selection(server, page):
    """Opening ?site=STP shows Stockport alone and says so on the page."""
    url, _ = server
    page.goto(url + "/?site=STP", timeout=90_000)
    page.wait_for_selector("[data-testid='stMetricValue']", timeout=90_000)
    page.get_by_text("Showing:").first.wait_for(timeout=30_000)
    assert "Stockport;" in page.locator("[data-testid='stCaptionContainer']", has_text="Showing:").first.inner_text()
    assert "site=STP" in page.url


def choose_site(page, name: str, code: str) -> None:
    """Choose one site in the sidebar with the mouse and wait for the link to name it and the run to end."""
    sites = page.locator("[data-testid='stSidebar'] [data-testid='stMultiSelect']").first
    sites.click()
    page.get_by_role("option", name=name).click()
    page.keyboard.press("Escape")
    page.wait_for_url(f"**site={code}**", timeout=30_000)
    page.wait_for_function(
        'document.querySelector(\'[data-testid="stApp"][data-test-script-state="notRunning"]\')', timeout=30_000
    )


def test_choosing_a_site_in_the_sidebar_updates_the_page_and_the_link(server, page):
    """Picking Dorset in the sidebar narrows the figures and puts site=DOR in the address bar."""
    url, _ = server
    page.goto(url + "/", timeout=90_000)
    page.wait_for_selector("[data-testid='stMetricValue']", timeout=90_000)
    before = metric_value(page, "People referred")
    choose_site(page, "Dorset", "DOR")
    assert "Dorset;" in page.locator("[data-testid='stCaptionContainer']", has_text="Showing:").first.inner_text()
    assert metric_value(page, "People referred") != before


def test_choosing_a_section_of_spending_draws_it_and_puts_it_in_the_link(server, page):
    """Spending opens on What budgets buy (its two charts); clicking By site draws that section's three charts and
    headings in their place and puts section=sites in the address bar beside the filters; the link then reopens it,
    and choosing the first section again takes section out of the link."""
    url, _ = server
    idle = '[data-testid="stApp"][data-test-script-state="notRunning"]'
    headings = "[data-testid='stMain'] h2"
    page.goto(url + "/spending?site=DOR", timeout=90_000)
    page.wait_for_selector(idle, timeout=90_000)
    page.get_by_role("heading", name="Spending over time").wait_for(timeout=30_000)
    assert page.locator(headings).all_inner_texts()[:2] == ["What budgets buy", "Spending over time"]
    page.get_by_role("tab", name="By site").click()
    page.wait_for_url("**section=sites**", timeout=30_000)
    page.get_by_role("heading", name="Spending per budget holder").wait_for(timeout=30_000)
    page.wait_for_selector(idle, timeout=30_000)
    shown = page.locator(headings).all_inner_texts()
    assert "What each site buys" in shown and "Spending over time" not in shown, shown
    assert "site=DOR" in page.url
    page.wait_for_function(
        'document.querySelectorAll(\'[data-testid="stVegaLiteChart"] canvas, '
        '[data-testid="stVegaLiteChart"] svg\').length >= 3',
        timeout=30_000,
    )
    page.goto(page.url, timeout=90_000)  # the copied link
    page.get_by_role("heading", name="Spending per budget holder").wait_for(timeout=60_000)
    assert page.locator("[role='tab'][aria-selected='true']").inner_text().strip() == "By site"
    page.get_by_role("tab", name="What budgets buy").click()
    page.get_by_role("heading", name="Spending over time").wait_for(timeout=30_000)
    page.wait_for_function("!location.search.includes('section=')", timeout=30_000)


def test_clicking_a_site_on_a_funnel_plot_shows_its_detail(server, page):
    """Compare sites: hovering finds a site's point on the uptake funnel; clicking it opens that site's
    admissions SPC chart and pathway in the linked view."""
    url, _ = server
    page.goto(url + "/compare", timeout=90_000)
    page.wait_for_selector(
        "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg", timeout=90_000
    )
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    found = None
    for y in range(int(box["y"] + 60), int(box["y"] + box["height"] - 40), 8):
        for x in range(int(box["x"] + 40), int(box["x"] + box["width"] - 10), 8):
            page.mouse.move(x, y)
            text = page.evaluate(
                "() => { const t = document.querySelector('#vg-tooltip-element');"
                " return t && t.classList.contains('visible') ? t.innerText : ''; }"
            )
            if "Site" in text:
                found = (x, y, text)
                break
        if found:
            break
    assert found, "no site point found on the uptake funnel plot"
    site = found[2].split("Site")[1].strip().splitlines()[0].strip()
    page.mouse.click(found[0], found[1])
    heading = page.get_by_text(f"{site}: emergency admissions and the budget pathway")
    heading.wait_for(timeout=30_000)
    assert heading.is_visible()


def test_a_chart_downloads_as_a_print_resolution_png_with_its_footer(server, page, tmp_path):
    """Download → PNG under the first Overview chart gives a PNG file drawn at three times the chart's size."""
    url, _ = server
    page.goto(url + "/", timeout=90_000)
    page.wait_for_selector("[data-testid='stMetricValue']", timeout=90_000)
    page.locator("[data-testid='stExpander'] summary", has_text="Download").first.click()
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="PNG", exact=True).filter(visible=True).first.click()
    path = tmp_path / "chart.png"
    download.value.save_as(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") >= 3 * 700  # the export is 760 points wide, drawn at 3x
    assert download.value.suggested_filename.endswith(".png")


def test_values_in_a_link_create_no_link_or_element(server, page):
    """/?from=www.evil.com&site=http://evil.com/x&management=a@b.com: each value is named in a warning
    as text; the page has no link to any of them and no element made from them."""
    url, _ = server
    page.goto(
        url + "/?from=www.evil.com&site=http://evil.com/x&management=a@b.com&to=<b%20id=injected>x</b>",
        timeout=90_000,
    )
    page.wait_for_selector("[data-testid='stMetricValue']", timeout=90_000)
    alerts = page.locator("[data-testid='stAlertContentWarning']")
    alerts.first.wait_for(timeout=30_000)
    text = " ".join(alerts.all_inner_texts()).replace("\u2060", "")
    assert "'www.evil.com'" in text and "'a@b.com'" in text and "'HTTP://EVIL.COM/X'" in text
    assert "<b id=injected>x</b>" in text
    hrefs = page.eval_on_selector_all("a", "links => links.map(a => a.href + ' ' + a.textContent)")
    assert not [h for h in hrefs if "evil" in h.lower() or "a@b.com" in h], hrefs
    assert page.locator("#injected").count() == 0


def test_the_first_session_on_a_fresh_server_keeps_its_first_filter_change(bundled_warehouse, playwright_driver):
    """A server's very first script run was in Streamlit's pages/ folder mode, whose widgets have other
    ids than later runs: the first user's first change emptied the sites and set "To" to the first
    month. On a server of its own, the first session picks Devon: Devon stays chosen, the link says
    site=DEV and nothing else, and the period is still the whole data period."""
    with app_server(bundled_warehouse[0]) as (url, _):
        browser = launch_chromium(playwright_driver)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "/", timeout=90_000)
        page.wait_for_selector("[data-testid='stMetricValue']", timeout=90_000)
        choose_site(page, "Devon", "DEV")
        showing = page.locator("[data-testid='stCaptionContainer']", has_text="Showing:").first.inner_text()
        browser.close()
    assert page.url.endswith("/?site=DEV"), page.url
    assert "Devon;" in showing and "13 Apr 2017" in showing, showing
