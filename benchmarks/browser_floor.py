"""Benchmark: where a page's time in the browser goes, against the floor of an empty Streamlit page.

    python -m benchmarks.browser_floor [--pages / /spending ...] [--visits 3]

Starts two servers the way benchmarks.national does (the server pinned to one core, Chromium on the other):
a Streamlit page holding only a title and one small Altair chart (the least any page of the dashboard draws),
and the dashboard itself on the warehouse in PHB_WAREHOUSE (and the extract in PHB_DATA; the bundled data if
unset). Each page is opened `--visits` times, each visit in a new browser context (the first visit cold, the
others warm: the app's caches hold the page's data and charts). For each visit it prints, in ms from the
start of navigation:

- dom: the page's own scripts run (DOMContentLoaded);
- socket: Streamlit's websocket open;
- last message: the last message from the server (the script run finished and sent);
- scripts: the last JavaScript file loaded (Vega's are loaded when the first chart is drawn);
- finished: the script's state notRunning, a title and a chart drawn (tests.serving.watch_script);

and the server's CPU seconds during the visit. Figures go in the notes, not in tests.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from phb import config
from tests.serving import CHROMIUM, CHROMIUM_ARGS, app_server, cpu_seconds, watch_script

ROOT = Path(__file__).resolve().parent.parent
EMPTY_PAGE = """
import altair as alt
import pandas as pd
import streamlit as st

st.set_page_config(page_title="An empty page", layout="wide")
st.title("An empty page")
st.altair_chart(alt.Chart(pd.DataFrame({"x": [1, 2, 3], "y": [3, 1, 2]})).mark_bar().encode(x="x:O", y="y:Q"))
"""
# records when the websocket opens and when its last message came, beside tests.serving.watch_script
SOCKET_SCRIPT = """
window.__socket = {open: null, last: null};
const PlainSocket = window.WebSocket;
window.WebSocket = function (...args) {
  const socket = new PlainSocket(...args);
  socket.addEventListener('open', () => { window.__socket.open = performance.now(); });
  socket.addEventListener('message', () => { window.__socket.last = performance.now(); });
  return socket;
};
window.WebSocket.prototype = PlainSocket.prototype;
"""
READ = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const scripts = performance.getEntriesByType('resource').filter(r => r.name.endsWith('.js'));
  return {dom: nav.domContentLoadedEventEnd, socket: window.__socket.open, last: window.__socket.last,
          scripts: Math.max(...scripts.map(r => r.responseEnd)), finished: window.__phb.done,
          failed: window.__phb.failed};
}"""


def visit(browser, url: str, proc, need_chart: bool) -> dict:
    used = cpu_seconds(proc.pid)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(watch_script(need_chart=need_chart))
    context.add_init_script(SOCKET_SCRIPT)
    page = context.new_page()
    page.goto(url, wait_until="commit", timeout=60_000)
    page.wait_for_function("window.__phb && window.__phb.done !== null", timeout=180_000, polling=100)
    out = page.evaluate(READ)
    context.close()
    out["server_cpu_s"] = cpu_seconds(proc.pid) - used
    return out


def main(argv: list[str] | None = None) -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", nargs="+", default=["/", "/spending", "/data"])
    parser.add_argument("--visits", type=int, default=3)
    args = parser.parse_args(argv)
    warehouse = config.settings().warehouse  # PHB_WAREHOUSE, as the app would read it
    data = Path(os.environ["PHB_DATA"]) if os.environ.get("PHB_DATA") else None
    cores = sorted(os.sched_getaffinity(0))
    server_core, client_cores = cores[0], set(cores[1:] or cores)
    print(f"{'page':22s} {'visit':>5s} {'dom':>6s} {'socket':>7s} {'last message':>13s} {'scripts':>8s} "
          f"{'finished':>9s} {'server CPU (s)':>15s}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.py"
        empty.write_text(EMPTY_PAGE)
        runs = [("empty page", empty, ["/"]), ("dashboard", ROOT / "app.py", args.pages)]
        for label, script, paths in runs:
            with app_server(warehouse, cpus={server_core}, data=data, start_s=120, script=script) as (url, proc):
                os.sched_setaffinity(0, client_cores)
                try:
                    with sync_playwright() as pw:
                        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                        for path in paths:
                            for n in range(args.visits):
                                t = visit(browser, url + path, proc, need_chart=path != "/data")
                                name = f"{label} {path}" if label == "dashboard" else label
                                print(
                                    f"{name:22s} {n + 1:5d} {t['dom']:6.0f} {t['socket'] or 0:7.0f} "
                                    f"{t['last'] or 0:13.0f} {t['scripts']:8.0f} {t['finished']:9.0f} "
                                    f"{t['server_cpu_s']:15.1f}" + (f"  failed: {t['failed']}" if t["failed"] else ""),
                                    flush=True,
                                )
                        browser.close()
                finally:
                    os.sched_setaffinity(0, set(cores))


if __name__ == "__main__":
    main()
