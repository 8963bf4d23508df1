"""Benchmark: what each kind of element the dashboard draws costs a warm visit in the browser.

    python -m benchmarks.browser_elements [--rounds 5] [--charts]

Starts a Streamlit page (the server pinned to one core, Chromium on the other, as benchmarks.national and
benchmarks.browser_floor do) holding a title and one small Altair chart, the least any dashboard page draws, and
below it, as the link asks, a number of one kind of element: the charts, tables, expanders, metrics and headings
the pages are made of, drawn the way phb.ui draws them, and the sidebar's filters as the frame draws them. Each
variant is visited `--rounds` times, interleaved, each visit in a new browser context after one visit to warm the
server. It prints each variant's median time to finished (tests.serving.watch_script), what it adds to the bare
page, and that divided by the number drawn: the cost of one more of that element. Nothing here reads the
warehouse. Figures go in the notes, not in tests.

With --charts it measures the dashboard's own charts instead: every page is run once on the bundled data (AppTest
through app.py, in a warehouse of its own), each chart's spec kept as the page hands it to Streamlit, and the bare
page then draws one chart's spec 4 times; it prints each chart's cost, the dearest first, with the pages it is on.
With --data DIR (and --warehouse FILE, that extract's warehouse already built) the pages are run on that extract
instead: a national one from benchmarks.national_extract, say, whose charts have 42 sites.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import statistics
import tempfile
from pathlib import Path

from benchmarks.browser_floor import visit
from tests.serving import CHROMIUM, CHROMIUM_ARGS, app_server

PAGE = """
import altair as alt
import pandas as pd
import streamlit as st

st.set_page_config(page_title="Elements", layout="wide")
ask = st.query_params
n = int(ask.get("n", 0))
kind = ask.get("kind", "")
bars = pd.DataFrame({"x": list("abcdefgh"), "y": [3, 1, 2, 5, 4, 6, 2, 3]})
rows = pd.DataFrame({"Site": [f"Site {i}" for i in range(8)], "Spending": [f"£{i * 1000:,}" for i in range(8)],
                     "People": [str(i * 10) for i in range(8)]})
st.title("Elements")
st.vega_lite_chart(alt.Chart(bars).mark_bar().encode(x="x:O", y="y:Q").to_dict(), theme=None, width="stretch")
if kind == "filters":  # the frame's sidebar: two multiselects, two selectboxes of months, a caption, two toggles
    with st.sidebar:
        st.header("Filters")
        st.multiselect("Pilot sites", list("ABCDEFG"), placeholder="All seven sites", help="Leave empty.")
        st.selectbox("From (month)", [f"Month {i}" for i in range(47)])
        st.selectbox("To (month)", [f"Month {i}" for i in range(47)], help="Budgets in place.")
        st.caption("Months run from the first to the last day.")
        st.multiselect("Management option", list("ABC"), placeholder="All options", help="Applies.")
        st.divider()
        st.toggle("Presentation mode", help="Hides.")
        st.toggle("Tables under every chart", help="Opens.")
for i in range(n):
    if kind == "chart":  # as phb.ui.show_chart draws one
        spec = alt.Chart(bars).mark_bar().encode(x="x:O", y="y:Q").properties(title=f"Chart {i}").to_dict()
        st.vega_lite_chart(spec, theme=None, width="stretch", key=f"chart{i}")
    elif kind == "dataframe":  # as phb.ui.table draws one
        st.dataframe(rows, hide_index=True, width="stretch")
    elif kind == "table":
        st.table(rows)
    elif kind == "expander":  # Show as table and Download, closed, as under every chart
        st.expander(f"Expander {i}", icon=":material/download:", key=f"expander{i}", on_change="rerun")
    elif kind == "metric":
        st.metric(f"Figure {i}", "£1,230", help="What the figure is.")
    elif kind == "header":
        st.header(f"Heading {i}")
    elif kind == "caption":
        st.caption(f"A note under a chart, with **bold** words, number {i}, long enough to wrap on a narrow screen.")
    elif kind == "drawn":  # one of the dashboard's charts, as its page drew it (--charts)
        import os
        import pickle
        from pathlib import Path

        spec = pickle.loads((Path(os.environ["PHB_BENCH_CHARTS"]) / f"{int(ask['chart'])}.pkl").read_bytes())
        st.vega_lite_chart(spec, theme=None, width="stretch", key=f"drawn{i}")
"""
VARIANTS = [("bare page", "", 0), ("sidebar filters", "filters", 1)] + [
    (kind, kind, 6) for kind in ("chart", "dataframe", "table", "expander", "metric", "header", "caption")
]
PAGES = ("overview", "uptake", "spending", "admissions", "value", "compare", "briefing")
DRAWN = 4  # each of the dashboard's charts drawn this many times (--charts)
ROOT = Path(__file__).resolve().parent.parent


def dashboard_charts(folder: Path, data: Path | None = None, warehouse: Path | None = None) -> dict[str, dict]:
    """Every chart the dashboard's pages draw on the bundled data (or the extract in `data`, its warehouse
    `warehouse` if given), as each page hands it to Streamlit: each page run through app.py (AppTest) on a
    warehouse built in `folder` unless given, each spec pickled there as N.pkl. Returns {N: {"title": its
    title, "pages": the pages drawing it}}, one entry for a chart drawn alike on several pages."""
    import streamlit
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    # as the live server runs app.py after its first run: with st.navigation, not the pages/ folder (see
    # tests/conftest.py, _navigation_not_pages_folder)
    made = PagesManager.__init__

    def navigation(self, *args, **kwargs):
        made(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = navigation
    os.environ["PHB_WAREHOUSE"] = str(warehouse or folder / "phb.duckdb")
    os.environ.pop("PHB_DATA", None)  # the bundled extract, unless another is given
    if data is not None:
        os.environ["PHB_DATA"] = str(data)
    drawn: list[dict] = []
    plain = streamlit.vega_lite_chart

    def keep(spec, *args, **kwargs):
        drawn.append(spec)
        return plain(spec, *args, **kwargs)

    charts: dict[str, dict] = {}
    streamlit.vega_lite_chart = keep  # phb.ui draws every chart through it
    try:
        for page in PAGES:
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
            at.run()
            if page != "overview":
                drawn.clear()  # the Overview's, drawn first
                at.switch_page(f"pages/{page}.py").run()
            for spec in drawn:
                pickled = pickle.dumps(spec)
                same = hashlib.sha256(pickled).hexdigest()
                if same not in charts:
                    (folder / f"{len(charts)}.pkl").write_bytes(pickled)
                    title = spec.get("title", {})
                    text = title.get("text", "") if isinstance(title, dict) else title
                    text = " ".join(text) if isinstance(text, list) else str(text)
                    charts[same] = {"number": len(charts), "title": text, "pages": []}
                charts[same]["pages"].append(page)
            drawn.clear()
    finally:
        streamlit.vega_lite_chart = plain
        PagesManager.__init__ = made
    return {str(c["number"]): c for c in charts.values()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--charts", action="store_true", help="the dashboard's own charts, one by one")
    parser.add_argument("--data", type=Path, help="with --charts: the charts drawn on this extract (default bundled)")
    parser.add_argument("--warehouse", type=Path, help="with --data: its warehouse, already built (else built here)")
    args = parser.parse_args(argv)
    if (args.data or args.warehouse) and not args.charts:
        parser.error("--data and --warehouse go with --charts")
    if args.warehouse and not args.data:
        # the app would rebuild the warehouse given from the bundled extract, in place
        parser.error("--warehouse needs the extract it was built from, in --data")
    cores = sorted(os.sched_getaffinity(0))
    server_core, client_cores = cores[0], set(cores[1:] or cores)
    with tempfile.TemporaryDirectory() as tmp:
        if args.charts:
            charts = dashboard_charts(Path(tmp), args.data, args.warehouse)
            os.environ["PHB_BENCH_CHARTS"] = tmp  # where the page finds them (the server's environment is ours)
            variants = [("bare page", "", 0)] + [(n, f"drawn&chart={n}", DRAWN) for n in charts]
        else:
            variants = VARIANTS
        times = visits(Path(tmp), variants, args.rounds, server_core, client_cores)
    bare = statistics.median(times["bare page"])
    if args.charts:
        print(f"{'each (ms)':>9s}  chart (its title), pages")
        costs = {n: (statistics.median(times[n]) - bare) / DRAWN for n in charts}
        for n in sorted(costs, key=costs.get, reverse=True):
            print(f"{costs[n]:9.0f}  {charts[n]['title'][:90]}; {', '.join(charts[n]['pages'])}")
        return
    print(f"{'variant':18s} {'drawn':>5s} {'median (ms)':>12s} {'added (ms)':>11s} {'each (ms)':>10s}")
    for label, _, n in VARIANTS:
        median = statistics.median(times[label])
        each = f"{(median - bare) / n:10.0f}" if n else f"{'':10s}"
        print(f"{label:18s} {n:5d} {median:12.0f} {median - bare:11.0f} {each}")


def visits(tmp: Path, variants: list, rounds: int, server_core: int, client_cores: set) -> dict[str, list[float]]:
    """Each variant's times to finished (ms) over `rounds` interleaved warm visits of the page in PAGE."""
    from playwright.sync_api import sync_playwright

    cores = sorted(os.sched_getaffinity(0))
    times: dict[str, list[float]] = {label: [] for label, _, _ in variants}
    script = tmp / "elements.py"
    script.write_text(PAGE)
    with app_server(tmp / "unused.duckdb", cpus={server_core}, start_s=120, script=script) as (url, proc):
        os.sched_setaffinity(0, client_cores)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                links = {label: f"{url}/?kind={kind}&n={n}" for label, kind, n in variants}
                for link in links.values():
                    visit(browser, link, proc, need_chart=True)  # the server warm for each variant
                for _ in range(rounds):
                    for label, link in links.items():
                        times[label].append(visit(browser, link, proc, need_chart=True)["finished"])
                browser.close()
        finally:
            os.sched_setaffinity(0, set(cores))
    return times


if __name__ == "__main__":
    main()
