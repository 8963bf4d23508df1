"""Benchmark: generate an extract at a given scale, build the warehouse, time the Overview.

    python -m benchmarks.warehouse_bench --scale 20 [--repeat 5]

Prints rows per table, the build time, and the median time of each Overview query and of the
whole Overview load (all its queries), for all sites and for one site. Figures go in the notes,
not in tests.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from phb import admissions, compare, spending, uptake
from phb.filters import Filters
from phb.generate import generate
from phb.overview import load
from phb.queries import run_query
from phb.warehouse import build, connect

QUERIES = (
    "site_summary",
    "spend_by_category",
    "admissions_windows_by_site",
    "budgets_in_place_monthly",
    "emergency_admissions_monthly",
)


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=20)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder, warehouse = Path(tmp) / "extract", Path(tmp) / "w.duckdb"
        start = time.perf_counter()
        manifest = generate(folder, scale=args.scale)
        print(f"scale {args.scale:g}: generated {manifest['row_counts']} in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        info = build(folder, warehouse)
        print(
            f"build (checks + summary tables): {time.perf_counter() - start:.2f} s, "
            f"warehouse {warehouse.stat().st_size / 1e6:.1f} MB"
        )
        whole = Filters(None, info.period_start, info.period_end)
        one = Filters(("STP",), date(2014, 6, 1), date(2016, 3, 31))
        with connect(warehouse) as con:
            for name in QUERIES:
                all_ms = timed(lambda n=name: run_query(con, n, **whole.params()), args.repeat)
                one_ms = timed(lambda n=name: run_query(con, n, **one.params()), args.repeat)
                print(f"  {name:32s} all sites {all_ms:7.1f} ms   one site {one_ms:7.1f} ms")
            print(f"  {'overview (all queries)':32s} all sites {timed(lambda: load(con, whole), args.repeat):7.1f} ms")
            pages = {
                "uptake page data": lambda: uptake.load(con, whole),
                "spending page data": lambda: spending.load(con, whole, info.period_end),
                "admissions page data": lambda: admissions.load(con, whole),
                "budget effect model": lambda: admissions.did_effect(admissions.load(con, whole).effect_summary),
                "compare page data": lambda: compare.load(con, whole),
            }
            for name, fn in pages.items():
                print(f"  {name:32s} all sites {timed(fn, args.repeat):7.1f} ms")


if __name__ == "__main__":
    main()
