"""Simulation: how often the value-for-money page's 95% interval holds the true net cost.

    python -m benchmarks.value_coverage --repeats 100 [--scale 5] [--effect 0.7] [--replicates 1000]

Each repeat generates an extract with its own seed (known effect and known costs: the manifest's
`value_for_money` block), builds the warehouse, and runs the page's estimate for all sites. Prints
each repeat's truth, estimate and interval as it goes, then the coverage (share of intervals holding
the truth, with its 95% Wilson interval), the mean error and the interval's mean width. The same for
the unrounded estimate against the bootstrap percentile interval alone, so the effect of disclosure
control can be seen. Figures go in the notes, not in tests (it takes minutes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from phb import value
from phb.filters import Filters
from phb.generate import generate
from phb.stats import wilson_ci
from phb.warehouse import build, connect


def one(seed: int, scale: float, effect: float, replicates: int, work: Path) -> dict:
    folder = work / f"x{seed}"
    manifest = generate(folder, seed=seed, scale=scale, effect=effect)
    info = build(folder, work / f"w{seed}.duckdb")
    with connect(work / f"w{seed}.duckdb") as con:
        data = value.load(con, Filters(None, info.period_start, info.period_end))
    est = value.estimate(data.people, replicates=replicates, seed=value.SEED)
    truth = manifest["value_for_money"]["net_cost_per_holder_year_gbp"]
    if est is None:
        return {"seed": seed, "truth": truth, "estimated": False}
    raw_low, raw_high = value.percentile_interval(est.boot["net"])
    return {
        "seed": seed,
        "truth": truth,
        "estimated": True,
        "net": est.result.net,
        "low": est.result.low,
        "high": est.result.high,
        "raw": est.raw["net"],
        "raw_low": raw_low,
        "raw_high": raw_high,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--scale", type=float, default=5.0)
    parser.add_argument("--effect", type=float, default=0.7)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--first-seed", type=int, default=5000)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            row = one(args.first_seed + i, args.scale, args.effect, args.replicates, Path(tmp))
            rows.append(row)
            print(json.dumps(row), flush=True)
            for name in (f"w{row['seed']}.duckdb",):
                (Path(tmp) / name).unlink(missing_ok=True)
    done = [r for r in rows if r["estimated"]]
    n = len(done)
    if not n:
        print("no repeat could be estimated")
        return 1
    for label, est, low, high in (
        ("published (rounded, centred on the disclosure-controlled estimate)", "net", "low", "high"),
        ("unrounded bootstrap percentile interval", "raw", "raw_low", "raw_high"),
    ):
        hits = sum(r[low] <= r["truth"] <= r[high] for r in done)
        lo, hi = wilson_ci(hits, n)
        print(
            f"{label}: coverage {hits}/{n} = {100 * hits / n:.1f}% (95% Wilson {100 * lo:.1f}% to {100 * hi:.1f}%); "
            f"mean error £{statistics.fmean(r[est] - r['truth'] for r in done):,.0f}; "
            f"mean width £{statistics.fmean(r[high] - r[low] for r in done):,.0f}; "
            f"truth below interval {sum(r['truth'] < r[low] for r in done)}, "
            f"above {sum(r['truth'] > r[high] for r in done)}"
        )
    print(
        f"scale {args.scale}, effect {args.effect}, {args.replicates} bootstrap resamples, "
        f"{len(rows) - n} not estimated"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
