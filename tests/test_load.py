"""Many users at once: N browser sessions (PHB_LOAD_SESSIONS, 20 by default; slow tier) open every page with a
mix of filters at the same moment against one server; every page must finish with its charts and no
error. Prints sessions, failures, time to finished (p50, p95) and the server's peak memory.

So the browsers do not starve the server on a small machine, the server is pinned to the first
processor core and the browsers (this process and its children) to the others, where there are at
least two.

Run by hand with more sessions, e.g.:
    PHB_LOAD_SESSIONS=40 python -m pytest -q -s -p no:cacheprovider tests/test_load.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, cpu_seconds, launch_chromium, nearest_rank, peak_memory_mb, watch_script
from tests.test_browser import app_server

SESSIONS = int(os.environ.get("PHB_LOAD_SESSIONS", "20"))  # the slow tier runs 20; 40 by hand
TIMEOUT_S = float(os.environ.get("PHB_LOAD_TIMEOUT", "240"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not shutil.which("chromium"),
        reason=f"no Chromium at {CHROMIUM}: install Debian's chromium (apt-get install chromium)",
    ),
]

PAGES = ("/", "/uptake", "/spending", "/admissions", "/compare", "/briefing")
FILTERS = (
    "",
    "?site=DOR",
    "?site=SWK&site=KIN&from=2014-06-01",
    "?management=direct_payment",
    "?to=2016-03-31",
    "?site=DEV&site=STP&from=2014-09-01&to=2016-12-31",
    "?site=SLM&management=notional",
)

WATCH = watch_script(need_chart=True)  # every page in the mix draws a chart


@pytest.fixture(scope="module")
def load_server(tmp_path_factory, bundled_warehouse):
    """The app on the bundled data, on the run's shared warehouse (built before the sessions arrive),
    its output kept for the check that no traceback was logged."""
    log = tmp_path_factory.mktemp("load-log") / "server.log"
    cores = sorted(os.sched_getaffinity(0))
    server, clients = ({cores[0]}, set(cores[1:])) if len(cores) > 1 else (None, None)
    with app_server(bundled_warehouse[0], log, cpus=server) as (url, proc):
        if clients:
            os.sched_setaffinity(0, clients)  # the browsers this process starts inherit it
        try:
            yield url, proc, log
        finally:
            os.sched_setaffinity(0, cores)


def test_many_sessions_at_once_all_finish_with_charts_and_no_error(load_server, playwright_driver):
    """SESSIONS pages opened together over every page and a mix of filters all finish with a chart
    drawn, none shows an exception or error, and the server log holds no traceback."""
    url, proc, log = load_server
    targets = [PAGES[i % len(PAGES)] + FILTERS[(i // len(PAGES) + i) % len(FILTERS)] for i in range(SESSIONS)]
    results: dict[str, tuple[float | None, str | None]] = {}
    browser = launch_chromium(playwright_driver)  # on the client cores the fixture set
    pages = []
    for target in targets:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_init_script(WATCH)
        page = context.new_page()
        pages.append((target, page))
    started, cpu_before = time.time(), cpu_seconds(proc.pid)
    for target, page in pages:
        page.goto(url + target, wait_until="commit", timeout=60_000)
    for i, (target, page) in enumerate(pages):
        left = max(1.0, TIMEOUT_S - (time.time() - started))
        try:
            page.wait_for_function("window.__phb && window.__phb.done !== null", timeout=left * 1000, polling=250)
            state = page.evaluate("window.__phb")
            results[f"{i:02d} {target}"] = (state["done"] / 1000, state["failed"])
        except Exception as exc:  # noqa: BLE001 - a page that never finished is a failure to report
            results[f"{i:02d} {target}"] = (None, f"did not finish in {TIMEOUT_S:.0f} s ({type(exc).__name__})")
    browser.close()
    peak, cpu = peak_memory_mb(proc.pid), cpu_seconds(proc.pid) - cpu_before
    wall = time.time() - started
    times = sorted(t for t, failed in results.values() if t is not None and failed is None)
    failures = {k: why for k, (_, why) in results.items() if why}
    p50 = statistics.median(times) if times else float("nan")
    p95 = nearest_rank(times, 0.95) if times else float("nan")
    print(
        f"\nload: {SESSIONS} sessions, {len(failures)} failures, time to finished p50 {p50:.1f} s, "
        f"p95 {p95:.1f} s, max {max(times, default=float('nan')):.1f} s, server peak memory {peak:.0f} MB, "
        f"server CPU {cpu:.0f} s in {wall:.0f} s"
    )
    logged = log.read_text()
    assert failures == {}
    assert "Traceback" not in logged, logged[-3000:]
