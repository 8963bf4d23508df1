"""Benchmark: how the value-for-money interval depends on the number of random groups a large stratum is
split into (value.EXACT_UP_TO), against its cost.

    python -m benchmarks.value_groups WAREHOUSE [--groups 1000 250 100] [--seeds 6] [--every-person]

For each number of groups, the bootstrap is run with several seeds on the warehouse's whole period (all
sites), and for three estimates (all sites, the first site, the first management option's holders against
the whole comparison group) prints the mean and the standard deviation over the seeds of the interval's ends
and of the resamples' spread, with the time a run takes. `--every-person` adds resampling every person
(about 15 s a run at a million people). Build a national-size warehouse first, e.g. with
`python -m benchmarks.national`'s `--keep` folder or `benchmarks.national._build`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from phb import value
from phb.filters import Filters
from phb.warehouse import connect, read_info


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--groups", type=int, nargs="+", default=[1000, 250, 100])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--every-person", action="store_true")
    args = parser.parse_args(argv)
    info = read_info(args.warehouse)
    with connect(args.warehouse) as con:
        data = value.load(con, Filters(None, info.period_start, info.period_end))
    table = data.strata()[1]
    strata, matrix, _ = data.by_stratum()  # as the page resamples them: sorted by stratum
    names = value.stratum_names(table)
    holders = value._holders(table)
    scopes = {
        "all sites": np.ones(len(table), dtype=bool),
        "one site": table["site_code"].eq(table["site_code"].iloc[0]).to_numpy(),
        "one option": ~holders | table["option"].eq(table["option"][holders].iloc[0]).to_numpy(),
    }
    sizes = np.bincount(strata)
    print(f"{len(matrix):,} people in {len(table)} strata of {sizes.min():,} to {sizes.max():,} people")
    groups = ([10**12] if args.every_person else []) + args.groups
    for g in groups:
        found = {k: [] for k in scopes}
        start = time.perf_counter()
        for seed in range(args.seeds):
            per = value.stratum_totals(matrix, strata, names, value.REPLICATES, seed, exact_up_to=g)
            for k, chosen in scopes.items():
                net = value._parts(value.resample_totals(per, table, chosen))["net"]
                found[k].append((*value.percentile_interval(net), net.std()))
        each = (time.perf_counter() - start) / args.seeds
        label = "every person" if g == 10**12 else f"{g:,} groups"
        for k, rows in found.items():
            a = np.array(rows)
            print(
                f"{label:>14s}  {k:10s}  low {a[:, 0].mean():10.1f} ± {a[:, 0].std():6.1f}   "
                f"high {a[:, 1].mean():10.1f} ± {a[:, 1].std():6.1f}   "
                f"spread {a[:, 2].mean():8.2f} ± {a[:, 2].std():5.2f}   {each:.2f} s a run"
            )


if __name__ == "__main__":
    main()
