"""The pandas baseline of issue 15: the Overview's and Spending page's figures worked out the way a typical
Streamlit app does it, beside the dashboard's own, to show both that they agree and how much faster the
dashboard is.

A typical app reads the extract's CSV files into pandas and filters and aggregates them on every rerun
(`pandas_figures`, timed with the read: `read=True`), or at best reads them once and keeps the frames
(`read=False`: only the filtering and aggregating timed). The figures are the unrounded ones that disclosure
control then works on, so agreement is exact: for each selected site, people referred and offered in the
period and budgets in place on its last day (site_summary); net spending and the people paid, by site and
category (spend_by_category's site breakdown) and by month and category (spend_over_time). The dashboard's side
(`dashboard_figures`) is what the pages run: the named queries over the warehouse.

    python -m benchmarks.baseline [--data DIR] [--warehouse FILE] [--repeat R]

prints, for all sites and for one site, the seconds each way and the ratio, after checking the figures agree.
benchmarks.national runs the same at each size; tests/test_baseline.py checks the agreement on the bundled
data for every site and management option.
"""

from __future__ import annotations

import argparse
import functools
import pickle
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from phb.filters import Filters

FIGURES = ("sites", "by_site_category", "by_month_category")


@dataclass
class Frames:
    """The extract as a typical app holds it: the CSV files read into pandas."""

    people: pd.DataFrame
    spend: pd.DataFrame


def read_extract(folder: Path) -> Frames:
    people = pd.read_csv(
        folder / "people.csv",
        usecols=["person_id", "site_code", "arm", "referred_on", "offered_on", "outcome", "budget_start",
                 "budget_end", "management_option"],
        parse_dates=["referred_on", "offered_on", "budget_start", "budget_end"],
    )  # fmt: skip
    spend = pd.read_csv(
        folder / "spend.csv", usecols=["person_id", "paid_on", "category", "amount_gbp"], parse_dates=["paid_on"]
    )
    return Frames(people, spend)


def pandas_figures(frames: Frames, filters: Filters) -> dict[str, pd.DataFrame]:
    """The figures from the frames, filtered and aggregated with pandas as a typical app would."""
    people, spend = frames.people, frames.spend
    start, end = pd.Timestamp(filters.date_from), pd.Timestamp(filters.date_to)
    if filters.sites:
        people = people[people["site_code"].isin(filters.sites)]
    phb = people[people["arm"] == "phb"]
    holders = people[people["outcome"] == "budget_in_place"]
    if filters.management:
        holders = holders[holders["management_option"].isin(filters.management)]
    in_place = holders[
        (holders["budget_start"] <= end) & (holders["budget_end"].isna() | (holders["budget_end"] > end))
    ]
    sites = pd.DataFrame({
        "referred": phb[phb["referred_on"].between(start, end)].groupby("site_code").size(),
        "offered": phb[phb["offered_on"].between(start, end)].groupby("site_code").size(),
        "budgets_in_place": in_place.groupby("site_code").size(),
    }).fillna(0).astype(int)  # fmt: skip
    lines = spend[spend["paid_on"].between(start, end)].merge(
        people[["person_id", "site_code", "management_option"]], on="person_id"
    )
    if filters.management:
        lines = lines[lines["management_option"].isin(filters.management)]
    lines = lines.assign(month=lines["paid_on"].dt.to_period("M").dt.start_time)
    by_person = lines.groupby(["site_code", "category", "person_id"], as_index=False)["amount_gbp"].sum()
    by_site_category = by_person.groupby(["site_code", "category"]).agg(
        net_gbp=("amount_gbp", "sum"), people=("person_id", "size")
    )
    by_person = lines.groupby(["month", "category", "person_id"], as_index=False)["amount_gbp"].sum()
    by_month_category = by_person.groupby(["month", "category"]).agg(
        net_gbp=("amount_gbp", "sum"), people=("person_id", "size")
    )
    return {"sites": sites, "by_site_category": by_site_category, "by_month_category": by_month_category}


def dashboard_figures(con, filters: Filters) -> dict[str, pd.DataFrame]:
    """The same figures as the dashboard's queries give them (the rows the pages work from)."""
    from phb import spending
    from phb.queries import run_query

    params = filters.params()
    summary = run_query(con, "site_summary", **params).set_index("site_code")
    by_site = spending.breakdowns(run_query(con, "spend_by_category", **params))[0]
    by_site = by_site[by_site["site_code"].notna() & by_site["category"].notna()]
    by_month = run_query(con, "spend_over_time", **params, grain="month")
    by_month = by_month[by_month["category"].notna()]
    by_month = by_month.assign(month=pd.to_datetime(by_month["period_start"]))
    return {
        "sites": summary[["referred", "offered", "budgets_in_place"]].astype(int),
        "by_site_category": by_site.set_index(["site_code", "category"])[["net_gbp", "people"]],
        "by_month_category": by_month.set_index(["month", "category"])[["net_gbp", "people"]],
    }


def differences(ours: dict[str, pd.DataFrame], theirs: dict[str, pd.DataFrame]) -> list[str]:
    """Where the two sets of figures differ (money to the penny, counts exactly); empty when they agree. A
    site or cell with nothing in it may be missing on one side and zero on the other."""
    problems = []
    for name in FIGURES:
        a, b = ours[name].copy(), theirs[name].copy()
        if "net_gbp" in a:
            a["net_gbp"] = a["net_gbp"].astype(float).round(2)
            b["net_gbp"] = b["net_gbp"].astype(float).round(2)
        a, b = a[(a != 0).any(axis=1)].sort_index(), b[(b != 0).any(axis=1)].sort_index()
        a.index.names = b.index.names = [None] * a.index.nlevels
        if not a.index.equals(b.index):
            problems.append(f"{name}: rows differ ({len(a)} against {len(b)})")
            continue
        for column in a.columns:
            left, right = a[column].astype(float), b[column].astype(float)
            wrong = (left - right).abs() > (0.005 if column == "net_gbp" else 0)
            if wrong.any():
                problems.append(f"{name}.{column}: {int(wrong.sum())} rows differ, first at {a.index[wrong.argmax()]}")
    return problems


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def compare(folder: Path, warehouse: Path, filters: Filters, repeat: int = 3) -> dict:
    """The figures checked for agreement, and the median seconds each way: the dashboard's page data for the
    Overview and Spending page (their load functions, DuckDB's buffers warm), pandas with the CSV files read on
    each rerun, and pandas with them read once; and a rerun of the same view, which the pages answer from the
    page data they keep."""
    from phb import overview, spending
    from phb.warehouse import connect

    frames = read_extract(folder)
    with connect(warehouse) as con:
        period_end = con.execute("select max(period_end) from meta").fetchone()[0]
        problems = differences(dashboard_figures(con, filters), pandas_figures(frames, filters))

        def dashboard():
            with connect(warehouse) as c:
                rows = spending.by_category(
                    c, filters
                )  # read once for both pages, as the app does (ui.spend_by_category)
                return overview.load(c, filters, rows), spending.load(c, filters, period_end, rows)

        kept = pickle.dumps(dashboard())
        dash = _median(dashboard, repeat)
        # a rerun of the same view: the pages keep their data with st.cache_data (keyed on the data version and
        # the filters), which on a hit gives back a copy of what it keeps by unpickling it
        rerun = _median(lambda: pickle.loads(kept), repeat)
    cached = _median(functools.partial(pandas_figures, frames, filters), repeat)
    frames = None  # not held while the files are read again
    fresh = _median(lambda: pandas_figures(read_extract(folder), filters), repeat)
    return {
        "agree": not problems,
        "differences": problems,
        "dashboard_s": dash,
        "dashboard_rerun_s": rerun,
        "pandas_read_each_rerun_s": fresh,
        "pandas_read_once_s": cached,
        "ratio_read_each_rerun": fresh / dash,
        "ratio_read_once": cached / dash,
        "ratio_rerun": fresh / rerun,
    }


def selections(con) -> dict[str, Filters]:
    from phb.facts import site_names

    start, end = con.execute("select min(period_start), max(period_end) from meta").fetchone()
    start, end = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    first = sorted(site_names(con))[0]
    return {"all sites": Filters(None, start, end), "one site": Filters((first,), start, end)}


def main(argv: list[str] | None = None) -> int:
    from phb.config import settings
    from phb.warehouse import connect, ensure_warehouse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="an extract folder of CSV files (default: PHB_DATA or data/)")
    parser.add_argument("--warehouse", type=Path, help="its warehouse (default: built as the app builds it)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.data is not None and not all((args.data / f).is_file() for f in ("people.csv", "spend.csv")):
        parser.error(f"--data {args.data.name}: the baseline reads an extract of CSV files, and people.csv or "
                     "spend.csv is not there")  # fmt: skip
    if args.warehouse is not None and (args.data is None or not args.warehouse.is_file()):
        parser.error("--warehouse needs --data (its extract) and must name a warehouse file that exists")
    if args.warehouse is None:
        cfg = settings({"PHB_DATA": str(args.data)} if args.data else None)
        ready = ensure_warehouse(cfg)
        if ready.problem:
            raise SystemExit(f"the warehouse could not be built: {ready.problem}")
        args.data, args.warehouse = cfg.data_dir, cfg.warehouse
    with connect(args.warehouse) as con:
        chosen = selections(con)
    failed = False
    for label, filters in chosen.items():
        r = compare(args.data, args.warehouse, filters, args.repeat)
        failed |= not r["agree"]
        print(
            f"{label}: figures {'agree' if r['agree'] else 'DIFFER: ' + '; '.join(r['differences'])}\n"
            f"  a rerun of the same view: dashboard {r['dashboard_rerun_s'] * 1000:.1f} ms (its kept page data), "
            f"pandas {r['pandas_read_each_rerun_s']:.3f} s reading the CSV files again: "
            f"{r['ratio_rerun']:,.0f} times faster\n"
            f"  a new view: dashboard {r['dashboard_s']:.3f} s (its queries), "
            f"pandas {r['pandas_read_once_s']:.3f} s with the files held in memory ({r['ratio_read_once']:.1f}x)"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
