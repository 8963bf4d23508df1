"""Many sessions at once, measured so the clients do not starve the server (issue 15, item 3).

    python -m benchmarks.load [--sessions 20] [--rounds 2] [--data DIR]

Starts the app (`streamlit run app.py`, pinned to the first processor core) on the bundled data, or the extract
in --data, and opens `--sessions` sessions at the same moment over every page and a mix of filters (the mix
tests/test_load.py uses). Each session is a client that does not draw: it speaks Streamlit's own protocol over
its WebSocket (the BackMsg a browser sends to run a page, with the page's URL path and query string), and a page
counts as finished when the server sends script_finished; an exception shown on the page, or a page that never
finishes, is a failure. So the time to finished is the server's: no browser competes with it for the core.
(tests/test_load.py opens the same mix in real Chromium, which checks every chart is drawn; with 20 browsers on
the other core, drawing is what takes the time there.)

The first round finds the app's caches empty for every view; later rounds open the same views again. Prints the
time to finished (p50, p95, max) per round, the server's CPU seconds and its peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import websockets

PAGES = ("", "uptake", "spending", "admissions", "compare", "briefing", "value", "data")
FILTERS = (
    "",
    "site=DOR",
    "site=SWK&site=KIN&from=2014-06-01",
    "management=direct_payment",
    "to=2016-03-31",
    "site=DEV&site=STP&from=2014-09-01&to=2016-12-31",
    "site=SLM&management=notional",
)


async def open_page(url: str, page: str, query: str, timeout_s: float) -> tuple[float | None, str | None]:
    """Run one page as a new browser session would and wait for the server to finish it: (seconds, failure)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.asyncio.client import connect

    started = time.perf_counter()
    ws = await connect(url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"], max_size=None)
    try:
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = page
        await ws.send(msg.SerializeToString())
        failure = None
        while True:
            left = timeout_s - (time.perf_counter() - started)
            if left <= 0:
                return None, f"did not finish in {timeout_s:.0f} s"
            try:
                data = await asyncio.wait_for(ws.recv(), left)
            except websockets.ConnectionClosed:
                return None, "the server closed the connection"
            forward = ForwardMsg()
            forward.ParseFromString(data)
            kind = forward.WhichOneof("type")
            if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                if forward.delta.new_element.WhichOneof("type") == "exception":
                    failure = "an exception was shown: " + forward.delta.new_element.exception.type
            elif kind == "page_not_found":
                return None, "page not found"
            elif kind == "script_finished" and forward.script_finished in (
                ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR
            ):  # fmt: skip
                return time.perf_counter() - started, failure
    finally:
        await ws.close()


async def one_round(
    url: str, targets: list[tuple[str, str]], timeout_s: float
) -> list[tuple[float | None, str | None]]:
    return await asyncio.gather(*(open_page(url, page, query, timeout_s) for page, query in targets))


def main(argv: list[str] | None = None) -> int:
    from benchmarks.national import load_average
    from phb.config import settings
    from phb.warehouse import ensure_warehouse
    from tests.serving import app_server, cpu_seconds, nearest_rank, peak_memory_mb

    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--data", type=Path, help="an extract folder (default: the bundled data)")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.rounds < 1 or args.timeout <= 0:
        parser.error("--sessions and --rounds must be at least 1, and --timeout more than 0")
    if args.data is not None and not args.data.is_dir():
        parser.error(f"--data {args.data.name}: not a folder")
    cfg = settings({"PHB_DATA": str(args.data)} if args.data else {})
    ready = ensure_warehouse(cfg)
    if ready.problem:
        raise SystemExit(f"the warehouse could not be built: {ready.problem}")
    targets = [(PAGES[i % len(PAGES)], FILTERS[(i // len(PAGES) + i) % len(FILTERS)]) for i in range(args.sessions)]
    cores = sorted(os.sched_getaffinity(0))
    server = {cores[0]} if len(cores) > 1 else None
    failed = False
    with (
        tempfile.TemporaryDirectory() as tmp,
        app_server(cfg.warehouse, Path(tmp) / "server.log", cpus=server, data=args.data) as (url, proc),
    ):
        if server:
            os.sched_setaffinity(0, set(cores[1:]))
        print(f"{args.sessions} sessions at once over {len(PAGES)} pages and {len(FILTERS)} filters; "
              f"load average {load_average()}")  # fmt: skip
        for n in range(1, args.rounds + 1):
            cpu, started = cpu_seconds(proc.pid), time.perf_counter()
            results = asyncio.run(one_round(url, targets, args.timeout))
            wall, used = time.perf_counter() - started, cpu_seconds(proc.pid) - cpu
            times = [t for t, why in results if t is not None and why is None]
            failures = [f"/{p}?{q}: {why}" for (p, q), (_, why) in zip(targets, results) if why]
            failed |= bool(failures)
            print(
                f"round {n}: {len(times)} finished, {len(failures)} failed; time to finished p50 "
                f"{statistics.median(times):.2f} s, p95 {nearest_rank(times, 0.95):.2f} s, max {max(times):.2f} s; "
                f"server CPU {used:.1f} s in {wall:.1f} s"
            )
            for line in failures:
                print("  " + line)
        print(f"server peak memory {peak_memory_mb(proc.pid):,.0f} MB; load average {load_average()}")
        if "Traceback" in (Path(tmp) / "server.log").read_text():
            print("the server logged a traceback")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
