"""National-size benchmark: how the dashboard's cost grows from ten thousand to a million people.

    python -m benchmarks.national [--people N] [--sizes 10000,100000,1000000] [--repeat R]
                                  [--browser/--no-browser] [--json PATH] [--keep DIR]
    python -m benchmarks.national --table A.json [B.json ...]   (the table again from --json files)

At each size (by default people/100, people/10 and people; one million people at the largest) it
generates a synthetic extract in bounded memory (`benchmarks.national_extract`), builds the warehouse
(`phb.warehouse.build`, every contract check included) and times every page's data (the functions each
page in pages/ calls for its figures) for all sites, all sites in one year, one site, one site and one year,
and each management option, cold and warm, giving p50 and p95 over the repeats:

- cold: with no connection to the warehouse open in the process, so DuckDB starts with nothing of it in
  its buffers (the operating system may still hold the file). The app opens and closes a connection for
  each page's data, so a selection not seen before costs about this much.
- warm: the same call again while another connection holds the warehouse open (DuckDB's buffers filled).

Value for money keeps each site's strata in a period (every management option) in memory once worked out
(`phb.value._strata`), as the app does for its sessions: its cold calls start with none kept, so they include
reading the whole period's strata stored at build (a selection over the whole period) or working out the strata
of the selection's sites (one year), which a first choice of those sites in a period costs; before each
warm call the kept strata are emptied and filled by another selection of the same dates and sites (another choice of
management option), so the call timed is a selection's first whose sites were already chosen in that period, which
picks its strata from those kept.

A page's data is timed as the page gets it: a connection opened, the page module's load function run,
and the figures the page's cached loader works out with it (`worked_out`: the headline and spending grids, the
budget effect by site; value for money's estimates) or works out on every run.

It then runs the pandas baseline (benchmarks.baseline: the Overview's and Spending page's figures worked out the
way a typical Streamlit app does, checked equal to the dashboard's) and prints the ratio.

With --browser (the default) it also starts the app on that extract (`streamlit run app.py`, pinned to
one core, Chromium on the other, as tests/test_load.py does), opens each page in headless Chromium once
cold and then once for each repeat warm (the app's caches hold the page's data; each visit a new session)
and reports the time to finished (the script's state notRunning, a title and a chart drawn) of the first
visit and the warm visits' median and slowest, and the server's peak memory (VmHWM). Spending is opened on its
first section and, as its link opens it, on its By site section.

Generation, build, page timings and the app each run in their own process, so each peak memory is its own.
Timings on a busy machine are not meaningful: the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import multiprocessing
import os
import queue as queues
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path

from tests.serving import cpu_seconds, nearest_rank, peak_memory_mb

ROOT = Path(__file__).resolve().parent.parent
PAGE_DATA = ("overview", "uptake", "spending", "admissions", "compare", "value", "data")
# Spending opens on its first section; its By site section (the dearest, with a chart a site) is timed as its link
# opens it
BROWSER_PAGES = (
    "/",
    "/uptake",
    "/spending",
    "/spending?section=sites",
    "/admissions",
    "/compare",
    "/briefing",
    "/data",
    "/value",
)
NO_CHART = ("/data",)


def peak_mb() -> float:
    """This process's peak resident memory in MB (Linux reports ru_maxrss in kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


# ----------------------------------------------------------------------------------------------------
# Each step in a process of its own


def _generate(folder: str, people: int, sites: int, chunk: int, seed: int) -> dict:
    from benchmarks.national_extract import generate_national

    start = time.perf_counter()
    manifest = generate_national(Path(folder), people=people, sites=sites, chunk_people=chunk, seed=seed)
    return {"seconds": time.perf_counter() - start, "peak_mb": peak_mb(), "manifest": manifest}


def _build(folder: str, warehouse: str) -> dict:
    from phb.warehouse import build

    start = time.perf_counter()
    info = build(Path(folder), Path(warehouse))
    return {
        "seconds": time.perf_counter() - start,
        "peak_mb": peak_mb(),
        "warehouse_mb": Path(warehouse).stat().st_size / 1e6,
        "period": [info.period_start.isoformat(), info.period_end.isoformat()],
        "synthetic": info.synthetic,
    }


def _baseline(folder: str, warehouse: str, repeat: int) -> dict:
    from benchmarks import baseline
    from phb.warehouse import connect

    with connect(Path(warehouse)) as con:
        chosen = baseline.selections(con)
    return {label: baseline.compare(Path(folder), Path(warehouse), f, repeat) for label, f in chosen.items()}


def page_functions(warehouse: Path, period_end: date, synthetic: bool) -> dict:
    """Each page's data as the page gets it: a connection opened, the page module's load run, and what the page
    works out from it in its cached loader or on every run."""
    from phb import admissions, compare, dataview, national, overview, quality, spending, uptake, value
    from phb.config import DEFAULT_UNIT_COSTS_GBP
    from phb.facts import site_names
    from phb.warehouse import connect

    costs = dict(DEFAULT_UNIT_COSTS_GBP)

    def run(body):
        def fn(filters):
            with connect(warehouse) as con:
                return body(con, filters)

        return fn

    def overview_page(con, f):
        data = overview.worked_out(overview.load(con, f))  # as the page's cached loader does
        return data, national.from_overview(data, synthetic)

    def admissions_page(con, f):
        data = admissions.worked_out(admissions.load(con, f, costs), site_names(con))  # as the page's loader
        # the trends as the page first opens: all selected sites' emergency admissions, both groups
        quarters = functools.cache(lambda: admissions.load_quarters(con, f))  # as the page's cached loader
        trends = [admissions.spc_series(data, None, grp, "admissions", f, quarters) for grp in admissions.GROUPS]
        return data, admissions.effect(data), trends

    def value_page(con, f):
        return value.load(con, f, costs, need_people=False).for_page(site_names(con))  # as the page does

    def data_page(con, f):
        return dataview.rows_by_site(con), quality.assess(con, period_end, site_names(con))

    return {
        "overview": run(overview_page),
        "uptake": run(lambda con, f: uptake.load(con, f)),
        "spending": run(lambda con, f: spending.worked_out(spending.load(con, f, period_end))),
        "admissions": run(admissions_page),
        "compare": run(lambda con, f: compare.load(con, f)),
        "value": run(value_page),
        "data": run(data_page),
    }


def selections(sites: list[str], start: date, end: date) -> dict:
    """The filters each page's data is timed for."""
    from phb import contract
    from phb.filters import Filters

    year = date(2015, 1, 1), date(2015, 12, 31)
    out = {"one site, 2015": Filters((sites[0],), *year), "one site": Filters((sites[0],), start, end)}
    for option in contract.MANAGEMENT_OPTIONS:
        out[option] = Filters(None, start, end, (option,))
    # all sites over one year as well as the whole period: the whole period is read from summary tables built at
    # load (spend_person_totals, value_summary), a year from the rows
    out["all sites, 2015"] = Filters(None, *year)
    out["all sites"] = Filters(None, start, end)
    return out


def _time_page(warehouse: str, period: list[str], synthetic: bool, repeat: int, page: str, queue) -> None:
    """Time one page's data for each selection, smallest first, putting each result on `queue` as it comes."""
    from phb import contract, value
    from phb.facts import site_names
    from phb.warehouse import connect

    start, end = (date.fromisoformat(d) for d in period)
    path = Path(warehouse)
    with connect(path) as con:
        codes = list(site_names(con))
    fn = page_functions(path, end, synthetic)[page]
    for label, filters in selections(codes, start, end).items():
        if page == "data" and label != "all sites":
            continue  # the Data page takes no filters
        cold, warm = [], []
        for _ in range(repeat):  # nothing holds the warehouse open: DuckDB's buffers start empty
            value._periods.clear()  # and no period's value-for-money strata are kept
            t = time.perf_counter()
            fn(filters)
            cold.append(time.perf_counter() - t)
        # value for money's warm call is another selection's first whose sites were chosen before in the period: the
        # kept strata are emptied and filled by another choice of management option at the same dates and sites, so
        # the call timed picks its strata from them and has not been made before (timing the same call again would
        # time nothing worked out)
        other = replace(filters, management=None if filters.management else (contract.MANAGEMENT_OPTIONS[0],))
        with connect(path):  # held open, so the calls below find DuckDB's buffers filled
            fn(filters)
            for _ in range(repeat):
                if page == "value":
                    value._periods.clear()
                    fn(other)
                t = time.perf_counter()
                fn(filters)
                warm.append(time.perf_counter() - t)
        queue.put((label, {"cold": cold, "warm": warm, "peak_mb": peak_mb()}))
    queue.put(None)


def time_pages(warehouse: Path, period: list[str], synthetic: bool, repeat: int, budget: float) -> dict:
    """Each page's data timed in a process of its own, stopped after `budget` seconds: the selections not
    reached by then are reported as over the budget, not timed."""
    from benchmarks import national as steps  # by module name, so a spawned process finds the function

    ctx = multiprocessing.get_context("spawn")
    out: dict = {}
    for page in PAGE_DATA:
        queue = ctx.Queue()
        proc = ctx.Process(target=steps._time_page, args=(str(warehouse), period, synthetic, repeat, page, queue))
        proc.start()
        deadline = time.time() + budget
        results: dict = {}
        finished = False
        while True:
            try:
                item = queue.get(timeout=max(0.1, deadline - time.time()))
            except queues.Empty:  # over the budget
                break
            if item is None:
                finished = True
                break
            results[item[0]] = item[1]
        proc.join(timeout=30 if finished else 0)
        if proc.is_alive():
            proc.terminate()
            proc.join()
        out[page] = {"selections": results, "over_budget": not finished}
        print(
            f"    {page}: {len(results)} selections timed"
            + (" (stopped: over the time budget)" if out[page]["over_budget"] else ""),
            flush=True,
        )
    return out


def in_process(fn, *args):
    """Run fn(*args) in a fresh Python process (spawned) and return its result."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


# ----------------------------------------------------------------------------------------------------
# The app in a browser


def browser_times(data: Path, warehouse: Path, log: Path, timeout_s: float = 180, warm_visits: int = 3) -> dict:
    """Each page opened in headless Chromium once cold and then `warm_visits` times warm (the app's caches hold
    the page's data; each visit a new browser context, so a new session with nothing in the browser's own
    cache); time to finished for each, the warm visits' median and slowest, and the server's peak memory. One
    warm visit is one sample of a time that varies by a tenth of a second or two from visit to visit on this
    machine. The first visit to the first page includes the app checking the extract's hash
    (once per server)."""
    from playwright.sync_api import sync_playwright

    from tests.serving import CHROMIUM, CHROMIUM_ARGS, app_server, watch_script

    cores = sorted(os.sched_getaffinity(0))
    server, clients = ({cores[0]}, set(cores[1:])) if len(cores) > 1 else (None, None)
    out: dict = {"pages": {}, "warm_visits": warm_visits}
    with app_server(warehouse, log, cpus=server, data=data, start_s=120) as (url, proc):
        if clients:
            os.sched_setaffinity(0, clients)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for path in BROWSER_PAGES:
                    times, cpu = [], []
                    for _ in range(1 + warm_visits):
                        used = cpu_seconds(proc.pid)
                        context = browser.new_context(viewport={"width": 1400, "height": 1000})
                        context.add_init_script(watch_script(need_chart=path not in NO_CHART))
                        page = context.new_page()
                        page.goto(url + path, wait_until="commit", timeout=60_000)
                        try:
                            page.wait_for_function(
                                "window.__phb && window.__phb.done !== null", timeout=timeout_s * 1000, polling=100
                            )
                            state = page.evaluate("window.__phb")
                        except Exception:  # noqa: BLE001 - a page that never finished is a result to report
                            state = {"done": None, "failed": f"did not finish within {timeout_s:.0f} s"}
                        times.append(None if state["failed"] else state["done"] / 1000)
                        cpu.append(cpu_seconds(proc.pid) - used)
                        if state["failed"]:
                            out.setdefault("failed", {})[path] = state["failed"]
                        context.close()
                        if state["failed"]:
                            break  # a warm visit after a failed one would measure nothing warm
                    warm = times[1:]
                    finished = None not in warm and len(warm) == warm_visits
                    out["pages"][path] = {
                        "cold": times[0],
                        "warm_each": warm,
                        "warm": nearest_rank(warm, 0.5) if finished else None,  # the median (nearest rank)
                        "warm_slowest": max(warm) if finished else None,
                        "server_cpu_s": cpu,  # the server's CPU time during each visit
                    }
                browser.close()
        finally:
            if clients:
                os.sched_setaffinity(0, cores)
        out["server_peak_mb"] = peak_memory_mb(proc.pid)
    return out


# ----------------------------------------------------------------------------------------------------


def measure(people: int, args, work: Path) -> dict:
    """Every measure at one size."""
    from benchmarks import national as steps  # by module name, so a spawned process finds the steps

    folder, warehouse = work / f"extract-{people}", work / f"warehouse-{people}.duckdb"
    result: dict = {"people_asked": people, "load_average_before": load_average()}
    print(f"\n[{people:,} people] generating...", flush=True)
    gen = in_process(steps._generate, str(folder), people, args.sites, args.chunk, args.seed)
    result["generate"] = {k: gen[k] for k in ("seconds", "peak_mb")}
    result["rows"] = gen["manifest"]["row_counts"]
    result["largest_block"] = gen["manifest"]["largest_block"]
    result["extract_mb"] = sum(p.stat().st_size for p in folder.glob("*.csv")) / 1e6
    print(f"  {result['rows']} in {gen['seconds']:.1f} s; building...", flush=True)
    built = in_process(steps._build, str(folder), str(warehouse))
    result["build"] = built
    print(f"  built in {built['seconds']:.1f} s; timing page data...", flush=True)
    result["page_data"] = time_pages(warehouse, built["period"], built["synthetic"], args.repeat, args.budget)
    print("  the pandas baseline (benchmarks.baseline)...", flush=True)
    result["baseline"] = in_process(steps._baseline, str(folder), str(warehouse), args.repeat)
    if not all(b["agree"] for b in result["baseline"].values()):
        raise SystemExit(f"the pandas baseline's figures differ from the dashboard's: {result['baseline']}")
    if args.browser:
        print("  opening pages in Chromium...", flush=True)
        result["browser"] = browser_times(
            folder, warehouse, work / f"server-{people}.log", args.browser_timeout, warm_visits=args.repeat
        )
    result["load_average_after"] = load_average()
    return result


def summary_rows(results: list[dict]) -> list[tuple[str, list[str]]]:
    """The plain table: one row a measure, one column a size."""

    def each(fn):
        return [fn(r) for r in results]

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:,.0f}"

    rows = [
        ("people", each(lambda r: f"{r['rows']['people']:,}")),
        ("spending lines", each(lambda r: f"{r['rows']['spend']:,}")),
        ("admissions", each(lambda r: f"{r['rows']['admissions']:,}")),
        ("sites", each(lambda r: f"{r['rows']['sites']:,}")),
        ("extract CSV (MB)", each(lambda r: f"{r['extract_mb']:,.0f}")),
        ("generate (s)", each(lambda r: f"{r['generate']['seconds']:.1f}")),
        ("generate peak memory (MB)", each(lambda r: f"{r['generate']['peak_mb']:,.0f}")),
        ("build (s)", each(lambda r: f"{r['build']['seconds']:.1f}")),
        ("build peak memory (MB)", each(lambda r: f"{r['build']['peak_mb']:,.0f}")),
        ("warehouse (MB)", each(lambda r: f"{r['build']['warehouse_mb']:,.0f}")),
    ]
    for page in PAGE_DATA:
        for kind in ("warm", "cold"):

            def shown(r, kind=kind, page=page):
                timed = r["page_data"][page]["selections"]
                if not timed:
                    return "over budget"
                typical = statistics.median([x for v in timed.values() for x in v[kind]])
                worst = max(nearest_rank(v[kind], 0.95) for v in timed.values())
                more = " +" if r["page_data"][page]["over_budget"] else ""
                return f"{ms(typical)} / {ms(worst)}{more}"

            rows.append((f"{page} data {kind} p50 / worst selection's p95 (ms)", each(shown)))
    rows.append(
        (
            "page data peak memory, largest (MB)",
            each(
                lambda r: f"{max(v['peak_mb'] for p in r['page_data'].values() for v in p['selections'].values()):,.0f}"
            ),
        )
    )
    if all("baseline" in r for r in results):
        for label in ("all sites", "one site"):

            def rerun(r, label=label):
                b = r["baseline"][label]
                ours, theirs = b["dashboard_rerun_s"] * 1000, b["pandas_read_each_rerun_s"]
                return f"{ours:,.1f} / {theirs:,.2f} = {b['ratio_rerun']:,.0f}x"

            def new(r, label=label):
                b = r["baseline"][label]
                return f"{b['dashboard_s']:,.2f} / {b['pandas_read_once_s']:,.2f} = {b['ratio_read_once']:,.1f}x"

            rows.append((f"{label}: same view again, dashboard (ms) / pandas reading CSV (s)", each(rerun)))
            rows.append((f"{label}: new view, dashboard / pandas, files in memory (s)", each(new)))
        rows.append(("pandas figures equal to the dashboard's", each(lambda r: "yes" if all(
            b["agree"] for b in r["baseline"].values()) else "NO")))  # fmt: skip
    if all("browser" in r for r in results):
        for path in BROWSER_PAGES:

            def shown(r, path=path):
                p = r["browser"]["pages"][path]
                fmt = lambda s: "failed" if s is None else f"{s:.2f}"  # noqa: E731
                if "warm_slowest" not in p:  # a --json file from before warm visits were repeated: one warm visit
                    return f"{fmt(p['cold'])} / {fmt(p['warm'])}"
                return f"{fmt(p['cold'])} / {fmt(p['warm'])} / {fmt(p['warm_slowest'])}"

            rows.append((f"browser {path} finished, first / warm median / warm slowest (s)", each(shown)))

            def server(r, path=path):
                cpu = r["browser"]["pages"][path].get("server_cpu_s", [])
                if len(cpu) < 2:
                    return " / ".join(f"{c:.2f}" for c in cpu) or "-"
                return f"{cpu[0]:.2f} / {statistics.median(cpu[1:]):.2f}"

            rows.append((f"  app CPU during {path}, first / warm median (s)", each(server)))
        rows.append(("app peak memory (MB)", each(lambda r: f"{r['browser']['server_peak_mb']:,.0f}")))
    rows.append(
        ("load average before / after", each(lambda r: f"{r['load_average_before']} / {r['load_average_after']}"))
    )
    return rows


def detail_rows(result: dict) -> list[str]:
    """Per page and filter at one size: warm and cold p50 and p95 in ms."""
    lines = [f"{'page':12s} {'filter':18s} {'warm p50':>9s} {'warm p95':>9s} {'cold p50':>9s} {'cold p95':>9s}"]
    for page, timed in result["page_data"].items():
        for label, t in timed["selections"].items():
            values = [
                nearest_rank(t["warm"], 0.5),
                nearest_rank(t["warm"], 0.95),
                nearest_rank(t["cold"], 0.5),
                nearest_rank(t["cold"], 0.95),
            ]
            lines.append(f"{page:12s} {label:18s} " + " ".join(f"{v * 1000:9,.0f}" for v in values))
        if timed["over_budget"]:
            lines.append(f"{page:12s} (the other selections: over the time budget, not timed)")
    return lines


def print_table(rows: list[tuple[str, list[str]]], sizes: list[int]) -> None:
    width = max(len(name) for name, _ in rows)
    cols = [max(len(f"{s:,} people"), *(len(v[i]) for _, v in rows)) for i, s in enumerate(sizes)]
    print(f"{'measure':{width}s}  " + "  ".join(f"{f'{s:,} people':>{c}s}" for s, c in zip(sizes, cols)))
    for name, values in rows:
        print(f"{name:{width}s}  " + "  ".join(f"{v:>{c}s}" for v, c in zip(values, cols)))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.national", description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", type=int, default=1_000_000, help="the largest size (default one million)")
    ap.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",") if x.strip()],
        help="the sizes in people, comma separated (default people/100, people/10 and people)",
    )
    ap.add_argument("--repeat", type=int, default=5, help="repeats of each timing (default 5)")
    ap.add_argument("--browser", action=argparse.BooleanOptionalAction, default=True, help="open each page in Chromium")
    ap.add_argument(
        "--budget", type=float, default=300, help="seconds each page's data may take at a size before it is stopped"
    )
    ap.add_argument(
        "--browser-timeout", type=float, default=180, help="seconds a page may take to finish in the browser"
    )
    ap.add_argument("--json", type=Path, help="also write every measure to this JSON file")
    ap.add_argument(
        "--keep", type=Path, help="keep the extracts and warehouses in this folder (default: a temporary one)"
    )
    ap.add_argument("--sites", type=int, default=42, help="national sites (default 42, one per integrated care board)")
    ap.add_argument("--chunk", type=int, default=20_000, help="people per generated block (bounds memory)")
    ap.add_argument("--seed", type=int, default=2035)
    args = ap.parse_args(argv)
    args.sizes = args.sizes or [max(args.sites, args.people // 100), max(args.sites, args.people // 10), args.people]
    if args.repeat < 1 or min(args.sizes) < args.sites:
        ap.error("--repeat must be at least 1 and every size at least the number of sites")
    return args


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] == ["--table"]:
        argv = sys.argv[1:]
    if argv and argv[0] == "--table":  # the table again from --json files written before: --table A.json B.json
        results = [size for path in argv[1:] for size in json.loads(Path(path).read_text())["sizes"]]
        results.sort(key=lambda r: r["rows"]["people"])
        print_table(summary_rows(results), [r["people_asked"] for r in results])
        return 0
    args = parse_args(argv)
    print(
        f"national benchmark, sizes {args.sizes}, {args.repeat} repeats, load average {load_average()}, "
        f"{os.cpu_count()} cores",
        flush=True,
    )
    with contextlib.ExitStack() as stack:
        if args.keep:
            work = args.keep
            work.mkdir(parents=True, exist_ok=True)
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="phb-national-")))
        results = []
        for people in args.sizes:
            results.append(measure(people, args, work))
            print("\n".join(detail_rows(results[-1])))
            if "browser" in results[-1]:
                print(json.dumps(results[-1]["browser"]))
    print()
    print_table(summary_rows(results), args.sizes)
    if args.json:
        args.json.write_text(json.dumps({"argv": sys.argv[1:], "sizes": results}, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
