"""Benchmark: the server's work for one warm run of each page, as Streamlit runs it (AppTest through
app.py), on the bundled data or the warehouse in PHB_WAREHOUSE.

    python -m benchmarks.page_runs [--repeat 7] [--pages overview uptake ...]

For each page: the first run (cold caches), then REPEAT warm reruns of the same view, each timed as
wall-clock seconds and as CPU seconds of this process (the page's own work, which other programs on
the machine do not inflate), and REPEAT new sessions opening the same view (another user: warm caches,
a new session's state), timed as CPU seconds. Prints p50 and p95 (nearest rank) of each. Figures go in
the notes, not in tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from tests.serving import nearest_rank

PAGES = ("overview", "uptake", "spending", "admissions", "compare", "value", "briefing", "data")
ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--pages", nargs="+", default=list(PAGES), choices=PAGES)
    args = parser.parse_args(argv)
    os.environ.setdefault("PHB_WAREHOUSE", str(Path(tempfile.mkdtemp()) / "phb.duckdb"))
    os.chdir(ROOT)
    from streamlit.testing.v1 import AppTest

    print(
        f"{'page':<12}{'cold s':>8}{'warm p50 s':>12}{'warm p95 s':>12}{'CPU p50 s':>11}{'CPU p95 s':>11}"
        f"{'new session CPU p50 s':>23}{'p95 s':>7}"
    )
    for page in args.pages:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.run()
        started = time.perf_counter()
        if page != "overview":
            at.switch_page(f"pages/{page}.py")
        at.run()
        cold = time.perf_counter() - started
        assert not at.exception, [e.message for e in at.exception]
        wall, cpu = [], []
        for _ in range(args.repeat):
            w, c = time.perf_counter(), time.process_time()
            at.run()
            wall.append(time.perf_counter() - w)
            cpu.append(time.process_time() - c)
        fresh = []
        for _ in range(args.repeat):
            other = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
            if page != "overview":
                other.run()  # the session's first run is app.py's default page; then the page, as a link opens it
                other.switch_page(f"pages/{page}.py")
            c = time.process_time()
            other.run()
            fresh.append(time.process_time() - c)
            assert not other.exception, [e.message for e in other.exception]
        print(
            f"{page:<12}{cold:>8.2f}{statistics.median(wall):>12.2f}{nearest_rank(wall, 0.95):>12.2f}"
            f"{statistics.median(cpu):>11.2f}{nearest_rank(cpu, 0.95):>11.2f}"
            f"{statistics.median(fresh):>23.2f}{nearest_rank(fresh, 0.95):>7.2f}"
        )


if __name__ == "__main__":
    main()
