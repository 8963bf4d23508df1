"""Value for money: what budgets cost against the hospital costs they change.

For budget holders against the comparison group, per person-year: the money spent from budgets in
the 12 months from the index date, plus the change in hospital costs from the 12 months before the
index date to the 12 months after for budget holders, less the same change for the comparison group
(a difference in differences). A positive net cost means budgets cost more than they saved in
hospital care; a negative one, that they paid for themselves.

The interval is a person-level bootstrap with a fixed seed: people are resampled with replacement
within each site and group, budget holders also within their management option (so each site keeps its
numbers of comparison people and of budget holders with each option), a person's costs before and after
and their spending always moving together. The selection, each site and each management option are all
sums of whole strata, so all the page's estimates are read from the same 2,000 resamples. Hospital costs per
person are skewed (most people have none, a few have long stays) and a person's costs before and
after are related; resampling whole people allows for both without assuming a distribution. Sites are
strata, not a sample of sites: the question is about these pilots, and with seven sites a bootstrap
of sites would be unstable. The interval is the 2.5th and 97.5th percentiles of the bootstrap
estimates (the percentile method, as scipy.stats.bootstrap's method="percentile"). A stratum of more
than EXACT_UP_TO people (national scale, not the pilots) is split at random into that many groups of
people, which are resampled in place of single people (`stratum_totals`).

Disclosure control: every total the estimate rests on (spending, and each group's hospital costs,
mental health bed days and general acute costs in each window) is shown as money and days totals are
(`disclosure.money` / `disclosure.days`: withheld under 8 contributors or where two people make up
more than 90% of it, otherwise moved by a published fraction of the largest contribution and rounded),
and the published figures are worked out from those shown totals over the person-years; the interval's
distance on each side of the estimate comes from the bootstrap, each resample carrying its own draw of that
disclosure noise (a fraction from the published magnitude table times each total's largest contribution), so
the interval allows for the noise as well as for sampling. Net costs and their intervals are then
rounded to 3 significant figures, never finer than £10 (`disclosure.derived_money`). Where any total is
withheld, or a group has fewer than `admissions.MIN_EVENTS` admissions in a window, nothing is estimated.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import duckdb
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from phb import admissions, disclosure
from phb.filters import Filters
from phb.queries import run_query, run_query_coded

SEED = 16  # the bootstrap's fixed seed: the same data always gives the same interval
REPLICATES = 2000  # bootstrap resamples for the headline estimate
EXACT_UP_TO = 250  # people in a stratum (site, group, option) up to which each is resampled (see stratum_totals)
# strata resampled at once: numpy lets go of the interpreter while it draws and sums, so two threads finish
# in about 0.6 of the time of one, with the same figures (each stratum has its own random generator)
THREADS = 2
CHUNK_DRAWS = 65_536  # draws with replacement made at a time in the bootstrap (see stratum_totals)
# the bootstrap's draws as the code makes them: raise it whenever a change would draw other resamples from the same
# people (a new seeding, grouping or order), so a whole-period summary made by older code is not read (see
# store_whole_period)
BOOTSTRAP_VERSION = 1
LEVEL = 0.95
ALL = "All selected sites"
TOO_FEW = "too few to estimate"
UNIT_COST_MAX = 1500.0  # the break-even chart's range of mental health bed-day costs (GBP)
EFFECT_RANGE = (0.4, 1.2)  # and of admissions rate ratios
PAGE_ONLY = "page only"  # marks a ValueData that holds the page's figures without the people (ValueData.for_page)

# The per-person columns the estimate sums: spending, and per window hospital cost, mental health bed
# days, general acute cost, person-years and admissions.
COLUMNS = (
    "spend_post",
    "cost_pre",
    "cost_post",
    "mh_days_pre",
    "mh_days_post",
    "acute_cost_pre",
    "acute_cost_post",
    "years_pre",
    "years_post",
    "admissions_pre",
    "admissions_post",
)
_I = {c: i for i, c in enumerate(COLUMNS)}
MONEY_COLUMNS = ("spend_post", "cost_pre", "cost_post", "acute_cost_pre", "acute_cost_post")
DAY_COLUMNS = ("mh_days_pre", "mh_days_post")
GROUPS = ("budget_holders", "comparison")

METHOD_NOTE = (
    "Net cost per budget holder per year = money spent from budgets in the 12 months from the budget start, plus "
    "the change in hospital costs from the 12 months before the index date to the 12 months after for budget "
    "holders, less the same change for the comparison group (difference in differences), each per person-year. "
    "Hospital costs: all admissions (emergency, elective and other) admitted in each window, at the extract's "
    "cost where it gives one, otherwise bed days times the unit cost of the setting. 95% interval: a person-level "
    f"bootstrap ({REPLICATES:,} resamples, fixed seed {SEED}) resampling people within each site and group (budget "
    "holders also within their management option), so a "
    "person's costs before and after and their spending move together and no distribution is assumed for costs "
    "that are skewed (most people have none, a few have long stays); the percentile method. Where one of these "
    f"strata has more than {EXACT_UP_TO:,} people, they are split at random into {EXACT_UP_TO:,} groups of people, "
    "which are resampled instead of single people. The selection, each site and each management option are "
    "read from the same resamples. Sites are strata, "
    "not a sample of sites. Disclosure control: the estimate is worked out from spending and hospital cost "
    "totals as they may be shown (withheld under 8 people or where two people make up most of a total, "
    "otherwise moved and rounded), the interval's width from the bootstrap, each resample with its own draw of that "
    "disclosure noise; net costs and intervals are rounded "
    f"to 3 significant figures, never finer than £{disclosure.DERIVED_MONEY_UNIT}. Not estimated where a total is "
    f"withheld or a group has fewer than {admissions.MIN_EVENTS} admissions in a window."
)

# The method in a sentence for the pack's notes (the page and exports carry METHOD_NOTE in full).
PACK_METHOD = (
    "Method: difference in differences per person-year; a person-level bootstrap resampling people within each "
    "site, group and management option with a fixed seed, percentile 95% interval; worked out from "
    "disclosure-controlled totals and rounded to three significant figures."
)

CAVEATS = (
    "What is not counted: social care, primary care (GP), community mental health and A&E attendances that did "
    "not lead to an admission, and the cost of running the budget scheme (care co-ordination, brokerage, "
    "support planning, audit).",
    "The comparison group was not chosen at random: people not offered a budget may differ from those who took "
    "one in ways the data do not show, and a difference in differences assumes both groups' hospital costs "
    "would have changed alike without budgets.",
    "Both groups were picked soon after a crisis, so their hospital use falls anyway (regression to the mean); "
    "the comparison group's fall stands for that, and only the difference beyond it is credited to budgets.",
    "Money spent from budgets is in cash of the years it was paid; unit costs for bed days are at the price base "
    "stated, so the two sides may be some years apart in prices.",
    "One year after the index date only: savings (or costs) that come later are not counted.",
)


@dataclass
class ValueData:
    """The person-level rows of the analysis (never shown person by person), the admissions effect for
    the sensitivity chart, and the unit costs the hospital costs were worked out at. The estimates are
    worked out once, when first asked for, and kept with the data."""

    people: pd.DataFrame
    effect_summary: pd.DataFrame  # the budget effect model's sums by site and group
    unit_costs: tuple[tuple[str, float], ...]
    price_base: str
    memo: dict = field(default_factory=dict)

    @property
    def unit_cost(self) -> dict[str, float]:
        return dict(self.unit_costs)

    @property
    def eligible(self) -> pd.DataFrame:
        """The people the estimates rest on: those with time in both windows."""
        if self.memo.get(PAGE_ONLY):
            raise ValueError(
                "value for money: this copy holds the page's figures only (or the whole period's strata), not the "
                "people they rest on"
            )
        if "eligible" not in self.memo:
            self.memo["eligible"] = eligible(self.people)
        return self.memo["eligible"]

    def present(self) -> pd.DataFrame:
        """Who is in the selection at all, eligible or not: the people's site, group and management option (one row
        each), or where the data was read from the whole-period summary (`load`), each combination of them
        present."""
        return self.memo["present"] if "present" in self.memo else self.people

    def strata(self) -> tuple[np.ndarray, pd.DataFrame]:
        """`strata_of` the eligible people, worked out once."""
        if "strata" not in self.memo:
            self.memo["strata"] = strata_of(self.eligible)
        return self.memo["strata"]

    def resamples(self) -> np.ndarray:
        """Each stratum's totals in every bootstrap resample (`stratum_totals`), worked out once: every estimate
        on the page sums some of these strata."""
        if "resamples" not in self.memo:
            strata, matrix, _ = self.by_stratum()
            names = stratum_names(self.strata()[1])
            self.memo["resamples"] = stratum_totals(matrix, strata, names, REPLICATES, SEED)
        return self.memo["resamples"]

    def by_stratum(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The eligible people's stratum numbers, columns (`COLUMNS`, each column one contiguous run) and record
        keys, worked out once, with the people sorted by stratum (a stable sort, so each stratum's people stay in
        person order): `stratum_sums` and `stratum_totals` then read each stratum as one slice, where each of them
        sorted the people and gathered their rows again (at a million people, about 0.2 s). The figures are the
        same: each stratum's people are the same rows in the same order."""
        if "by_stratum" not in self.memo:
            numbers = self.strata()[0]
            # numpy sorts 16-bit whole numbers stably by radix (a few ms for a million people, not 40)
            small = len(numbers) and numbers.max() < np.iinfo(np.int16).max
            order = np.argsort(numbers.astype(np.int16) if small else numbers, kind="stable")
            people = self.eligible
            matrix = np.empty((len(order), len(COLUMNS)), order="F")
            for i, column in enumerate(COLUMNS):
                matrix[:, i] = people[column].to_numpy(dtype=float)[order]
            self.memo["by_stratum"] = (numbers[order], matrix, people["record_key"].to_numpy()[order])
        return self.memo["by_stratum"]

    def sums(self) -> StratumSums:
        """`stratum_sums` of the eligible people, worked out once: every estimate's totals and disclosure checks are
        read from them."""
        if "sums" not in self.memo:
            strata, matrix, keys = self.by_stratum()
            self.memo["sums"] = stratum_sums(matrix, keys, strata, len(self.strata()[1]))
        return self.memo["sums"]

    def scope_estimate(self, chosen: np.ndarray, seed: int = SEED) -> Estimate | None:
        """The estimate for the eligible people of the strata flagged in `chosen` (a flag for each row of the
        strata table), its resamples summed from `resamples`; `seed` for its draws of the disclosure noise (the
        page uses SEED for every estimate)."""
        table = self.strata()[1]
        return _estimate(
            self.sums(), _holders(table), chosen, seed, lambda: resample_totals(self.resamples(), table, chosen)
        )

    @property
    def headline(self) -> Estimate | None:
        """The estimate for all of the selection."""
        if "headline" not in self.memo:
            self.memo["headline"] = self.scope_estimate(np.ones(len(self.strata()[1]), dtype=bool))
        return self.memo["headline"]

    @property
    def effect(self) -> admissions.Effect | None:
        """The budget effect on emergency admissions (for the sensitivity to it)."""
        if "effect" not in self.memo:
            self.memo["effect"] = admissions.did_effect(self.effect_summary)
        return self.memo["effect"]

    def scopes(self, names: dict[str, str]) -> pd.DataFrame:
        """by_scope, worked out once per set of site names."""
        key = _scopes_key(names)
        if key not in self.memo:
            self.memo[key] = by_scope(self, names)
        return self.memo[key]

    def work_out(self, names: dict[str, str]) -> None:
        """Everything the page shows: the by-site and by-option table (which works out the headline estimate
        alongside the others) and the admissions effect."""
        self.scopes(names)
        _ = (self.headline, self.effect)

    def for_page(self, names: dict[str, str]) -> ValueData:
        """A copy holding only what the page shows, worked out: the headline estimate (with its resampled parts, for
        the break-even and sensitivity charts), the admissions effect and the by-site-and-option table for these site
        names; not the people, nor the bootstrap's per-stratum working. The page keeps this in its cache, which
        hands every rerun a copy of what it keeps by unpickling it: with the people and the resamples kept too,
        that copy took 0.54 s of each rerun at a million people. Anything else asked of the copy that would need
        the people is refused, never worked out from none."""
        self.work_out(names)
        kept = ("headline", "effect", _scopes_key(names))
        return ValueData(
            people=self.people.iloc[0:0],
            effect_summary=self.effect_summary,
            unit_costs=self.unit_costs,
            price_base=self.price_base,
            memo={**{k: self.memo[k] for k in kept}, PAGE_ONLY: True},
        )


def _scopes_key(names: dict[str, str]) -> tuple:
    """Where ValueData keeps the by-site-and-option table for a set of site names."""
    return ("scopes", tuple(names.items()))


def load(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    unit_costs: dict[str, float] | None = None,
    need_people: bool = True,
) -> ValueData:
    """Run the value-for-money page's queries for a selection at the given unit costs (GBP per bed day).

    With need_people False (the page, the briefing pack and `phb facts`, which show only the estimates), a
    selection whose dates take in everyone's index date, at the unit costs the warehouse was built with, is read
    from the whole-period summary stored at build (`store_whole_period`: each stratum's sums and resamples),
    without the people: the same figures, as every estimate is a sum of whole strata. Any other dates or unit
    costs are read from the strata of the selection's sites in that period (every management option of each), worked
    out for the sites not yet kept the first time they are asked for in the period, and kept in memory (`_strata`),
    so choosing another option, or sites already chosen, in a period already seen reads its strata too. Anything
    that needs the people is then refused."""
    from phb.config import DEFAULT_UNIT_COSTS_GBP, PRICE_BASE

    costs = dict(unit_costs or DEFAULT_UNIT_COSTS_GBP)
    params = filters.params()
    unit = (("mental_health", float(costs["mental_health"])), ("general_acute", float(costs["general_acute"])))
    summary = None if need_people else _strata(con, filters, unit)
    people = (
        _PEOPLE_LEFT_OUT
        if summary is not None
        else run_query_coded(
            con,
            "value_by_person",
            **params,
            unit_cost_mental_health=costs["mental_health"],
            unit_cost_general_acute=costs["general_acute"],
        )
    )
    return ValueData(
        people=in_person_order(people),
        effect_summary=run_query(con, "admission_effect_by_site", **params),
        unit_costs=unit,
        price_base=PRICE_BASE,
        memo=summary or {},
    )


# ---------------------------------------------------------------------------------------------
# The whole period's strata, stored at build

# the people of a ValueData read from the whole-period summary: none (the columns by_scope reads, empty)
_PEOPLE_LEFT_OUT = pd.DataFrame({"person_key": pd.Series(dtype="int64")})
_SUMMARY_TABLES = ("value_summary_key", "value_summary", "value_summary_present")


def _summary_key(unit_costs: tuple[tuple[str, float], ...]) -> dict:
    """What a stored summary's resamples depend on besides the data: the unit costs, the bootstrap's settings and
    its version."""
    costs = dict(unit_costs)
    return {
        "unit_cost_mental_health": float(costs["mental_health"]),
        "unit_cost_general_acute": float(costs["general_acute"]),
        "seed": SEED,
        "replicates": REPLICATES,
        "exact_up_to": EXACT_UP_TO,
        "chunk_draws": CHUNK_DRAWS,
        "version": BOOTSTRAP_VERSION,
    }


def store_whole_period(con: duckdb.DuckDBPyConnection, unit_costs: dict[str, float]) -> None:
    """At build (DuckDB): work out the value-for-money strata of everyone in value_people (every index date, all
    sites and options) at the build's unit costs, as `load` would for a selection covering them all, and store
    each stratum's sums and its resamples (value_summary), which sites, groups and options have anyone at all
    (value_summary_present: by_scope lists a site even where no one in it can be counted), and what the
    resamples depend on (value_summary_key, with the first and last index dates). The page opens on the whole
    period: at a million people, its data then comes without the 760,641 people's rows and the bootstrap's
    0.4 s. Nothing stored here leaves the server; the page shows only the estimates, as before."""
    ((first, last),) = con.execute("select min(index_date), max(index_date) from value_people").fetchall()
    for table in _SUMMARY_TABLES:
        con.execute(f"drop table if exists {table}")
    if first is None:
        return  # no one to estimate for: nothing stored, and every selection is worked out from the (no) people
    data = load(con, Filters(None, first, last), unit_costs)
    table = data.strata()[1]
    sums, resamples = data.sums(), data.resamples()
    key = {"first_index_date": first, "last_index_date": last, **_summary_key(data.unit_costs)}
    con.execute(f"create table value_summary_key as select {', '.join(f'${k} as {k}' for k in key)}", key)
    strata = pd.DataFrame(
        {
            "stratum": np.arange(len(table)),
            "site_code": table["site_code"].astype(str),
            "grp": table["grp"].astype(str),
            "option": table["option"].astype(str),
            "people": sums.people.astype(np.int64),
            "total": list(sums.total),
            "contributors": list(sums.contributors),
            "top1": list(sums.top[:, :, 0]),
            "top2": list(sums.top[:, :, 1]),
            "key_sum": list(sums.key_sum),
            "resamples": list(resamples.reshape(len(table), -1)),
        }
    )
    present = data.people[["site_code", "grp", "management_option"]].astype(object).drop_duplicates()
    for name, frame in (("value_summary", strata), ("value_summary_present", present)):
        con.register("phb_frame", frame)
        con.execute(f"create table {name} as select * from phb_frame")
        con.unregister("phb_frame")


# ---------------------------------------------------------------------------------------------
# Each site's strata in a period, kept in memory

PERIODS_KEPT = 4  # periods (with their unit costs) whose strata are kept: at a million people, 30 MB each
_periods: OrderedDict = OrderedDict()  # key -> each site's strata in a period (see _strata), least recently used first
_periods_lock = threading.Lock()
_period_locks: dict = {}  # key -> a lock, so a site's strata are worked out once when sessions ask for them together

# The selection's strata, or who is present, chosen from a table of them ({0}, its management option in {1}; in
# the order of its first column, the stratum's number) as value_by_person chooses people: the macro
# in_selection, the management options for budget holders only
_CHOSEN = (
    "select * from {0} where in_selection(site_code, $sites) "
    "and (grp = 'comparison' or in_selection({1}, $management)) order by 1"
)


def _strata(con, filters: Filters, unit_costs: tuple[tuple[str, float], ...]) -> dict | None:
    """The memo of a ValueData for `filters` (its strata table, sums, resamples and who is present) read from
    the strata of its period's sites, every management option of each, at these unit costs:
    - a period taking in everyone's index date, at the unit costs the warehouse was built with, from the
      whole-period summary stored at build (`store_whole_period`), for every site at once;
    - any other dates or unit costs, worked out from the people of the selection's sites not yet kept for that
      period (so a first choice of one site works out that site alone, and all sites afterwards the others).
    Each site's strata are kept in memory (`_kept`) for the next selection. A stratum's figures are its own people's
    (its resamples' generator is seeded from its name), so strata worked out with other sites or alone are the same,
    and a selection's strata read from here are those worked out for it alone. None where this does not apply: not
    DuckDB, a warehouse with no meta row, or no stratum for the selection (no one at its sites and options with time
    in both windows), which is then worked out from its (few) people."""
    if getattr(con, "engine", "duckdb") != "duckdb":
        return None
    version = _data_version(con)
    if version is None:
        return None
    every_site = tuple(run_query(con, "sites")["site_code"])
    sites = tuple(filters.sites) if filters.sites else every_site
    settings = tuple(_summary_key(unit_costs).items())
    if _stored_applies(con, filters, unit_costs):
        parts = _kept(
            (version, "whole period", settings),
            sites,
            lambda missing: _by_site(_read_stored(con), tuple(dict.fromkeys(every_site + missing))),
        )
    else:

        def work_out(missing: tuple[str, ...]) -> dict:
            chosen = None if set(missing) >= set(every_site) else missing
            return _by_site(_work_out(con, replace(filters, sites=chosen), unit_costs), missing)

        parts = _kept((version, filters.date_from, filters.date_to, settings), sites, work_out)
    return _pick(con, [parts[site] for site in sorted(set(sites)) if parts.get(site) is not None], filters)


def _data_version(con: duckdb.DuckDBPyConnection) -> tuple | None:
    """What the warehouse's figures are made from (its meta row: data version, when built, build signature), or
    None where it has none."""
    try:
        row = con.cursor().execute("select data_version, built_at, build_signature from meta").fetchone()
    except duckdb.Error:
        return None
    return None if row is None else tuple(str(v) for v in row)


def _kept(key: tuple, sites: tuple[str, ...], read: Callable[[tuple[str, ...]], dict]) -> dict:
    """Each of `sites`' strata in a period ({site: its strata and who is present, or None where no one is}), from
    memory, or for the sites not yet kept `read(missing)` and kept with the rest: the PERIODS_KEPT periods last
    asked for, keyed on the warehouse's data version, the dates (or the whole period), the unit costs and the
    bootstrap's settings. Sessions asking for the same period together wait for the one working out its sites."""
    with _periods_lock:
        lock = _period_locks.setdefault(key, threading.Lock())
    with lock:
        with _periods_lock:
            parts = _periods.get(key, {})
            missing = tuple(site for site in dict.fromkeys(sites) if site not in parts)
            if key in _periods:
                _periods.move_to_end(key)
            if not missing:
                return parts
        new = read(missing)
        with _periods_lock:
            # merged with what is kept now, not what was kept before reading: nothing another session added is lost
            parts = _periods[key] = {**_periods.get(key, {}), **new}
            _periods.move_to_end(key)
            while len(_periods) > PERIODS_KEPT:
                gone, _ = _periods.popitem(last=False)
                # a lock in use stays (a session may be waiting on it), so a site is never worked out twice at once
                if gone in _period_locks and not _period_locks[gone].locked():
                    del _period_locks[gone]
        return parts


def _stored_applies(con, filters: Filters, unit_costs: tuple[tuple[str, float], ...]) -> bool:
    """Whether the whole-period summary stored at build holds `filters`' strata: there is one, its dates take in
    everyone's index date, at the same unit costs and bootstrap."""
    try:
        keys = con.cursor().execute("select * from value_summary_key").df()
    except duckdb.CatalogException:
        return False
    if len(keys) != 1:
        return False
    key = keys.iloc[0]
    if any(key[k] != v for k, v in _summary_key(unit_costs).items()):
        return False
    return filters.date_from <= key["first_index_date"].date() and filters.date_to >= key["last_index_date"].date()


def _read_stored(con) -> dict | None:
    """Every stratum of the whole-period summary stored at build, and who is present, read from the warehouse;
    None where it holds none."""
    strata = con.cursor().sql("select * from value_summary order by stratum").to_arrow_table()
    n = strata.num_rows
    if n == 0:
        return None  # no one to estimate for (no one with time in both windows): from the (no) people, as before

    def grid(column: str, dtype) -> np.ndarray:
        flat = strata.column(column).combine_chunks().flatten().to_numpy(zero_copy_only=False)
        return flat.astype(dtype, copy=False).reshape(n, -1)

    return {
        "table": pd.DataFrame({c: strata.column(c).to_pandas().astype(object) for c in ("site_code", "grp", "option")}),
        "sums": StratumSums(
            people=strata.column("people").to_numpy().astype(np.int64),
            total=grid("total", float),
            contributors=grid("contributors", np.int64),
            top=np.stack([grid("top1", float), grid("top2", float)], axis=2),
            key_sum=grid("key_sum", np.int64),
        ),
        "resamples": grid("resamples", float).reshape(n, REPLICATES, len(COLUMNS)),
        "present": con.cursor().execute("select * from value_summary_present").df(),
    }


def _work_out(con, filters: Filters, unit_costs: tuple[tuple[str, float], ...]) -> dict | None:
    """Every stratum of `filters`' sites in its period (every management option), and who is present, worked out
    from the people; None where no one is present. Where people are present but none has time in both windows,
    there are no strata (sums and resamples of none) but who is present is kept, as the by-site table lists them."""
    data = load(con, Filters(filters.sites, filters.date_from, filters.date_to), dict(unit_costs))
    if data.people.empty:
        return None
    table = data.strata()[1]
    return {
        "table": pd.DataFrame({c: table[c].astype(str).astype(object) for c in ("site_code", "grp", "option")}),
        "sums": data.sums(),
        "resamples": data.resamples(),
        "present": data.people[["site_code", "grp", "management_option"]]
        .astype(object)
        .drop_duplicates()
        .reset_index(drop=True),
    }


def _rows(every: dict, rows: np.ndarray) -> dict:
    """The strata `rows` (numbers in `every`'s table, in order) of `every`, with their sums and resamples (`every`
    itself where they are all of its strata)."""
    if np.array_equal(rows, np.arange(len(every["table"]))):
        return every
    return {
        "table": every["table"].iloc[rows].reset_index(drop=True),
        "sums": every["sums"].take(rows),
        "resamples": every["resamples"][rows],
    }


def _by_site(every: dict | None, sites: tuple[str, ...]) -> dict:
    """`every` (strata of one or more sites, as `_work_out` gives them) split by site: {site: its strata and who is
    present there}, for each of `sites` and each site present in `every`; None for a site where no one is present.
    A site whose people are present but none has time in both windows has no strata but keeps who is present."""
    parts = dict.fromkeys(sites)
    if every is None:
        return parts
    codes = every["table"]["site_code"].to_numpy()
    present = every["present"]
    at = present["site_code"].to_numpy()
    for site in dict.fromkeys([*codes, *at]):
        parts[site] = {
            **_rows(every, np.flatnonzero(codes == site)),
            "present": present[at == site].reset_index(drop=True),
        }
    return parts


def _pick(con, parts: list[dict], filters: Filters) -> dict | None:
    """The memo of a ValueData for the selection's strata among `parts` (the strata of its sites, in site order, as
    one table numbered from the first; _CHOSEN), or None where the selection has no stratum."""
    if not parts:
        return None  # no one at these sites in the period: worked out from the (no) people, as before
    params = filters.params()
    chosen = {"sites": params["sites"], "management": params["management"]}
    table = pd.concat([p["table"] for p in parts], ignore_index=True)
    numbered = pd.concat([pd.Series(np.arange(len(table)), name="stratum"), table], axis=1)
    cur = con.cursor()  # the frames are registered on this cursor's own connection, closed when picked
    try:
        cur.register("phb_strata", numbered)
        cur.register("phb_present", pd.concat([p["present"] for p in parts], ignore_index=True))
        picked = cur.execute(_CHOSEN.format("phb_strata", "option"), chosen).df()["stratum"].to_numpy()
        present = cur.execute(_CHOSEN.format("phb_present", "management_option"), chosen).df()
    finally:
        cur.close()
    if len(picked) == 0:
        return None  # no one chosen with time in both windows: worked out from the (few) people, as before
    starts = np.cumsum([0] + [len(p["table"]) for p in parts])
    each = [_rows(p, picked[(picked >= lo) & (picked < hi)] - lo) for p, lo, hi in zip(parts, starts, starts[1:])]
    return {
        "strata": (np.zeros(0, dtype=np.int64), table.iloc[picked].reset_index(drop=True)),
        "sums": StratumSums.joined([e["sums"] for e in each]),
        "resamples": np.concatenate([e["resamples"] for e in each]),
        "present": present,
        PAGE_ONLY: True,
    }


def in_person_order(people: pd.DataFrame) -> pd.DataFrame:
    """The person rows in person_key order, the order the bootstrap's random groups and draws are made in (so the
    same people always give the same interval). value_by_person does not sort its rows: DuckDB gives them in the
    order value_people holds them, which is person_key order, and sorting 760,641 rows in the query took most of
    its time at a million people; rows that come otherwise (Spark gives no order) are put in order here."""
    keys = people["person_key"]
    if keys.is_monotonic_increasing:
        return people
    return people.sort_values("person_key", kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# The estimator, on group totals


def _parts(totals: np.ndarray) -> dict[str, np.ndarray]:
    """The estimate's parts from group totals (..., 2 groups, len(COLUMNS)): spending per holder-year,
    each group's change in hospital cost per person-year, the net cost, the break-even line's intercept
    and slope in the mental health bed-day cost, and the counterfactual hospital cost of budget holders."""

    def per_year(group: int, column: str) -> np.ndarray:
        window = "years_post" if column.endswith("post") else "years_pre"
        return totals[..., group, _I[column]] / totals[..., group, _I[window]]

    spend = per_year(0, "spend_post")
    change = [per_year(g, "cost_post") - per_year(g, "cost_pre") for g in (0, 1)]
    acute = [per_year(g, "acute_cost_post") - per_year(g, "acute_cost_pre") for g in (0, 1)]
    days = [per_year(g, "mh_days_post") - per_year(g, "mh_days_pre") for g in (0, 1)]
    comparison_ratio = per_year(1, "cost_post") / per_year(1, "cost_pre")
    return {
        "spend": spend,
        "holders_change": change[0],
        "comparison_change": change[1],
        "net": spend + change[0] - change[1],
        "intercept": spend + acute[0] - acute[1],  # net cost if a mental health bed day cost nothing
        "slope": days[0] - days[1],  # and the change per £1 a bed day
        "counterfactual": per_year(0, "cost_pre") * comparison_ratio,
    }


def _matrix(people: pd.DataFrame) -> np.ndarray:
    return people[list(COLUMNS)].to_numpy(dtype=float)


def _holders(people: pd.DataFrame) -> np.ndarray:
    """Which rows (people, or strata of a strata table) are budget holders'."""
    return people["grp"].eq(GROUPS[0]).to_numpy(dtype=bool)


def _sorted_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each value's number in the sorted distinct values (-1 where missing), and those values: pandas'
    factorize, or for a categorical (`queries.run_query_coded`) its categories put in sorted order and its codes
    renumbered to match, without looking at each row's text."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = np.asarray(values.cat.categories, dtype=object)
        order = np.argsort(categories.astype(str), kind="stable")
        rank = np.empty(len(categories) + 1, dtype=np.int64)
        rank[order] = np.arange(len(categories))
        rank[-1] = -1  # a missing value's code is -1, which picks this last entry
        return rank[values.cat.codes.to_numpy()], categories[order]
    codes, uniques = pd.factorize(values, sort=True)
    return codes, np.asarray(uniques, dtype=object)


def strata_of(people: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Each person's stratum number and the strata in that numbering: site, group and, for budget holders,
    management option ('' for the comparison group), in sorted order. Each key is numbered in its sorted order
    (`_sorted_codes`: a categorical's own codes, renumbered) and the three numbers combined into one, so a
    million people take a few hundredths of a second rather than the seconds of grouping by three text columns."""
    holders = _holders(people)
    codes, uniques = {}, {}
    for column in ("site_code", "grp"):
        codes[column], uniques[column] = _sorted_codes(people[column])
        if (codes[column] < 0).any():  # a person with no site or group belongs to no stratum
            raise ValueError(f"value for money: {int((codes[column] < 0).sum()):,} people have no {column}")
    if "management_option" in people:
        option, options = _sorted_codes(people["management_option"])
    else:
        option, options = np.full(len(people), -1), np.array([], dtype=object)
    # '' (numbered 0, first in sorted order) for the comparison group and a holder with no option
    codes["option"] = np.where(holders, option + 1, 0)
    uniques["option"] = np.concatenate([np.array([""], dtype=object), options])
    keys = ("site_code", "grp", "option")
    combined = np.zeros(len(people), dtype=np.int64)
    for column in keys:
        combined = combined * len(uniques[column]) + codes[column]
    # numbered in the keys' sorted order: which of the possible keys occur (a flag for each, at most sites x groups
    # x options) and each person's key's place among them; one pass, where sorting a million keys took 45 ms
    seen = np.bincount(combined, minlength=math.prod(len(uniques[column]) for column in keys)) > 0
    present, numbers = np.flatnonzero(seen), (np.cumsum(seen) - 1)[combined]
    parts = {}
    for column in reversed(keys):
        present, code = np.divmod(present, len(uniques[column]))
        parts[column] = np.asarray(uniques[column], dtype=object)[code]
    table = pd.DataFrame({column: parts[column] for column in keys})
    return numbers.reshape(-1), table


@dataclass(frozen=True)
class StratumSums:
    """What an estimate needs of each stratum's people, so that any set of whole strata (the selection, a site, a
    management option) is worked out from a few rows instead of from every person again. Per stratum: its
    number of people, and for each column of `COLUMNS` (in that order) the total, the number of people with a
    non-zero value (who contribute to the total), the two largest contributions by size, and the sum of the
    contributors' record keys (a set of strata's cell key is `disclosure.cell_key` of their sums)."""

    people: np.ndarray  # (strata,)
    total: np.ndarray  # (strata, columns)
    contributors: np.ndarray  # (strata, columns)
    top: np.ndarray  # (strata, columns, 2): the largest and the second largest size of contribution
    key_sum: np.ndarray  # (strata, columns), whole numbers

    def take(self, rows: np.ndarray) -> StratumSums:
        """The sums of the strata `rows` (their numbers here), in that order."""
        return StratumSums(**{f: getattr(self, f)[rows] for f in self.__dataclass_fields__})

    @staticmethod
    def joined(parts: list[StratumSums]) -> StratumSums:
        """The strata of `parts`, one after another."""
        return StratumSums(
            **{f: np.concatenate([getattr(p, f) for p in parts]) for f in StratumSums.__dataclass_fields__}
        )


def in_stratum_order(strata: np.ndarray) -> bool:
    """Whether the stratum numbers never go down (the rows come sorted by stratum)."""
    return bool(np.all(strata[1:] >= strata[:-1]))


def stratum_sums(values: np.ndarray, keys: np.ndarray, strata: np.ndarray, count: int) -> StratumSums:
    """`StratumSums` of people's columns `values` (rows as `COLUMNS`), record `keys` and stratum numbers `strata`
    (0 to count - 1). Rows are sorted by stratum once (unless they come so) and each column's sums taken stratum by
    stratum (numpy's reduceat); the second largest is the largest once the largest is set aside, or the largest
    again where two people share it."""
    keys = disclosure.record_keys(keys)  # a missing key adds nothing, as in disclosure.cell_key_of
    sizes = np.bincount(strata, minlength=count)
    present = sizes > 0
    starts = (np.cumsum(sizes) - sizes)[present]
    width = values.shape[1]
    total, contributors = np.zeros((count, width)), np.zeros((count, width), dtype=np.int64)
    top, key_sum = np.zeros((count, width, 2)), np.zeros((count, width), dtype=np.int64)
    # each column's values in stratum order, together (as ValueData.by_stratum hands them over: no sort needed)
    if in_stratum_order(strata):
        sorted_keys, ordered = keys, np.ascontiguousarray(values.T)
    else:
        order = np.argsort(strata, kind="stable")
        sorted_keys, ordered = keys[order], values[order].T.copy()
    if len(starts):
        for c in range(width):
            column = ordered[c]
            size = np.abs(column)
            contributing = column != 0
            total[present, c] = np.add.reduceat(column, starts)
            contributors[present, c] = np.add.reduceat(contributing.astype(np.int64), starts)
            key_sum[present, c] = np.add.reduceat(np.where(contributing, sorted_keys, 0), starts)
            largest = np.maximum.reduceat(size, starts)
            at_largest = size == np.repeat(largest, sizes[present])
            shared = np.add.reduceat(at_largest.astype(np.int64), starts) > 1
            rest = np.maximum.reduceat(np.where(at_largest, 0.0, size), starts)
            top[present, c, 0] = largest
            top[present, c, 1] = np.where(shared, largest, rest)
    return StratumSums(sizes, total, contributors, top, key_sum)


def _group_totals(sums: StratumSums, holder_strata: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Each group's column totals over the `chosen` strata: (2, len(COLUMNS)), budget holders first."""
    return np.stack([sums.total[chosen & mine].sum(axis=0) for mine in (holder_strata, ~holder_strata)])


def bootstrap_totals(
    people: pd.DataFrame, replicates: int, seed: int = SEED, chunk: int | None = None, exact_up_to: int = EXACT_UP_TO
) -> np.ndarray:
    """Group totals of `replicates` bootstrap resamples: (replicates, 2, len(COLUMNS)), the sum of each group's
    strata's totals from `stratum_totals`."""
    strata, table = strata_of(people)
    per_stratum = stratum_totals(_matrix(people), strata, stratum_names(table), replicates, seed, chunk, exact_up_to)
    return resample_totals(per_stratum, table, np.ones(len(table), dtype=bool))


def stratum_names(table: pd.DataFrame) -> list[str]:
    """Each stratum's name (site, group and option), which with the seed picks its random generator."""
    return ["|".join(row) for row in table.astype(str).itertuples(index=False)]


def resample_totals(per_stratum: np.ndarray, table: pd.DataFrame, chosen: np.ndarray) -> np.ndarray:
    """Group totals of each resample over the `chosen` strata (a flag per row of `table`):
    (replicates, 2, len(COLUMNS)), budget holders first."""
    hold = _holders(table)
    out = np.zeros((per_stratum.shape[1], 2, per_stratum.shape[2]))
    for g, mine in enumerate((hold, ~hold)):
        out[:, g] = np.tensordot((chosen & mine).astype(float), per_stratum, axes=1)
    return out


def stratum_totals(
    values: np.ndarray,
    strata: np.ndarray,
    names: list[str],
    replicates: int,
    seed: int = SEED,
    chunk: int | None = None,
    exact_up_to: int = EXACT_UP_TO,
) -> np.ndarray:
    """Each stratum's column totals in `replicates` bootstrap resamples: (strata, replicates, len(COLUMNS)).
    People (the rows of `values`, with their stratum numbers `strata`) are resampled with replacement within
    their stratum, each stratum keeping its size. Every estimate of the value page (the selection, each site,
    each management option) is a sum of whole strata, so all of them are read from the same resamples.

    A stratum of up to `exact_up_to` people is resampled person by person (multinomial weights). A larger
    one is first split at random into `exact_up_to` groups of nearly equal size, and the groups are
    resampled instead, each carrying its people's totals (a random-groups bootstrap). Each resample's totals
    then have, in expectation, the mean, variance and skew of resampling every person (sums of n people's
    values either way), at exact_up_to draws per resample instead of n. A resample's weights count n draws with
    replacement (multinomial weights), counted with numpy's bincount rather than drawn with its multinomial,
    which is slow with many people. tests/test_value.py checks the interval against resampling every person.

    Why 250 groups: at a million people (168 strata of 532 to 13,258 people; `python -m benchmarks.value_groups
    WAREHOUSE --groups 1000 500 250 --seeds 8` repeats this, and `--every-person --seeds 3` the every-person
    figures), eight seeds each gave intervals whose ends and spread varied from seed to seed by amounts of the
    same order with 250 groups as with 1,000, one site's high end changing most (standard deviations over the
    seeds of the low end, the high end and the resamples' spread, in GBP: all sites 3.7, 2.6 and 0.8 against
    3.1, 2.4 and 0.7; one site 23, 27 and 11 against 29, 17 and 9; one management option 3.7, 3.0 and 1.1
    against 4.2, 4.3 and 1.2), with the same mean spread (one site: 296 against 295; resampling every person,
    three seeds: 298), in 0.84 s instead of 2.5 s (every person: 15 s). The 2,000 resamples' own Monte Carlo
    error is most of that variation either way. The pilots' strata are all under 250 people (the bundled
    extract's largest, over the whole period: 246).

    Each stratum has its own random generator, seeded from `seed` and the stratum's name (`names`, one for each
    stratum number): a stratum is resampled alike in every selection it is part of, so a site's row in the
    by-site table has the same interval as that site chosen alone, and the strata can be resampled THREADS at
    a time (numpy lets go of the interpreter while it draws and sums) with the same figures whatever the
    order. Resamples are drawn `chunk` at a time, by default about CHUNK_DRAWS draws a
    chunk: each chunk's arrays then stay under half a megabyte, which the allocator keeps for the next chunk;
    larger ones were handed back to the system after each chunk and faulted in again, which made the
    bootstrap several times slower."""
    count = int(strata.max()) + 1 if len(strata) else 0
    out = np.zeros((count, replicates, values.shape[1]))
    order = None if in_stratum_order(strata) else np.argsort(strata, kind="stable")
    bounds = np.searchsorted(strata if order is None else strata[order], np.arange(count + 1))

    def resample(k: int) -> None:
        start, end = bounds[k], bounds[k + 1]
        if start == end:
            return
        name = int.from_bytes(hashlib.sha256(names[k].encode()).digest()[:8], "little")
        rng = np.random.default_rng([seed, 0, name])
        # the stratum's people in the order they came: one slice where the rows come in stratum order
        part = np.ascontiguousarray(values[start:end] if order is None else values[order[start:end]])
        n = end - start
        if n > exact_up_to:
            group = rng.permutation(n) % exact_up_to
            part = np.stack([np.bincount(group, weights=col, minlength=exact_up_to) for col in part.T], axis=1)
            n = exact_up_to
        step = chunk or max(1, CHUNK_DRAWS // n)
        for start in range(0, replicates, step):
            size = min(step, replicates - start)
            # each resample's weights: how often each of n draws with replacement picked each person (or group)
            picks = rng.integers(0, n, size=(size, n)) + n * np.arange(size)[:, None]
            weights = np.bincount(picks.ravel(), minlength=size * n).reshape(size, n)
            out[k, start : start + size] = weights @ part

    # the largest strata first, so the two threads finish together. numpy's OpenBLAS would start threads of
    # its own for each product of weights and values: with ours on two cores they queued behind each other
    # (at a million people, 15.7 s against 8.3 s with one BLAS thread), so BLAS keeps to one thread here.
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(resample, sorted(range(count), key=lambda k: bounds[k] - bounds[k + 1])))
    return out


def percentile_interval(replicates: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The percentile bootstrap interval: the (1 - level)/2 and (1 + level)/2 quantiles of the replicates
    (linear interpolation between order statistics, as numpy and scipy.stats.bootstrap use)."""
    alpha = (1 - level) / 2
    low, high = np.percentile(np.asarray(replicates, dtype=float), [100 * alpha, 100 * (1 - alpha)])
    return float(low), float(high)


# ---------------------------------------------------------------------------------------------
# Disclosure control of the totals


def _cell(sums: StratumSums, strata: np.ndarray, c: int, column: str) -> float | str | None:
    """One group's total of column number `c` (named `column`) over the strata flagged in `strata`, as it may be
    shown (money or days rule), over the people who contribute to it: the same as the rule applied to those
    people's values directly (tests/test_value.py checks this)."""
    contributors = int(sums.contributors[strata, c].sum())
    if not contributors:
        return 0.0
    top1, top2 = _two_largest(sums, strata, c)
    mkey = disclosure.cell_key(*sums.key_sum[strata, c])  # the union of the strata's contributors
    rule = disclosure.days if column in DAY_COLUMNS else disclosure.money
    return rule(float(sums.total[strata, c].sum()), contributors, top1, top2, mkey)


def _two_largest(sums: StratumSums, strata: np.ndarray, c: int) -> tuple[float, float]:
    """The two largest contributions by size to column number `c` over the strata flagged in `strata` (0 for the
    second where fewer than two people contribute): the two largest of the strata's own two largest."""
    sizes = sums.top[strata, c].ravel()
    if len(sizes) > 2:
        sizes = np.partition(sizes, len(sizes) - 2)[-2:]  # the two largest, without sorting them all
    sizes = np.sort(sizes)[::-1]
    return float(sizes[0]) if len(sizes) else 0.0, float(sizes[1]) if len(sizes) > 1 else 0.0


def _shown_totals(
    sums: StratumSums, holder_strata: np.ndarray, chosen: np.ndarray, raw: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The group totals `raw` (`_group_totals` over the `chosen` strata) with every money and day total as it may
    be shown (person-years and admissions are not published, only used as denominators and to check there are
    enough admissions), and each shown total's largest single contribution (what its disclosure noise is a
    fraction of; 0 for the others); None where any total is withheld, a group is too small, or a group has fewer
    than MIN_EVENTS admissions in a window."""
    totals = raw.copy()
    tops = np.zeros_like(totals)
    for g, grp in enumerate(GROUPS):
        mine = chosen & (holder_strata if g == 0 else ~holder_strata)
        if sums.people[mine].sum() < disclosure.THRESHOLD:
            return None
        if min(totals[g, _I["years_pre"]], totals[g, _I["years_post"]]) <= 0:
            return None
        if min(totals[g, _I["admissions_pre"]], totals[g, _I["admissions_post"]]) < admissions.MIN_EVENTS:
            return None
        for column in (*MONEY_COLUMNS, *DAY_COLUMNS):
            if column == "spend_post" and grp == "comparison":
                continue
            shown = _cell(sums, mine, _I[column], column)
            if not disclosure.usable(shown, 1):
                return None
            totals[g, _I[column]] = float(shown)
            tops[g, _I[column]] = float(sums.top[mine, _I[column], 0].max())
    return totals, tops


def disclosure_noise(tops: np.ndarray, replicates: int, seed: int = SEED) -> np.ndarray:
    """Draws of the disclosure noise on each shown total: a fraction from the published magnitude table (each
    cell key equally likely) times the total's largest contribution; (replicates, 2, len(COLUMNS))."""
    from phb import mtable

    fractions = np.array([mtable.m(k) for k in range(mtable.KEYS)])
    rng = np.random.default_rng([seed, 1])
    return rng.choice(fractions, size=(replicates, *tops.shape)) * tops[None, :, :]


# ---------------------------------------------------------------------------------------------
# The estimate


@dataclass(frozen=True)
class NetCost:
    """The net cost per budget holder per year and its parts, as published (rounded; GBP)."""

    net: float
    low: float
    high: float
    spend: float  # spent from budgets per holder-year
    saving: float  # fall in hospital costs beyond the comparison group's, per holder-year (negative: a rise)
    break_even: float | None  # the mental health bed-day cost above which budgets pay for themselves
    break_even_low: float | None
    break_even_high: float | None  # None: no upper bound within the bootstrap (bed days may not fall at all)
    counterfactual: float  # budget holders' hospital cost per year expected without budgets
    people: int
    replicates: int


@dataclass(frozen=True)
class Estimate:
    """The published figures and what the charts are drawn from (shown parts and bootstrap parts)."""

    result: NetCost
    shown: dict[str, float]
    raw: dict[str, float]
    boot: dict[str, np.ndarray]


def _round(value: float) -> float:
    return disclosure.derived_money(value)


def eligible(people: pd.DataFrame) -> pd.DataFrame:
    """The people with time in both windows: the only ones an estimate counts."""
    return people[(people["years_pre"] > 0) & (people["years_post"] > 0)]


def estimate(people: pd.DataFrame, replicates: int = REPLICATES, seed: int = SEED) -> Estimate | None:
    """The net cost per budget holder per year with its 95% interval, or None where too few to estimate: the
    people's own bootstrap (`bootstrap_totals`, `replicates` resamples with `seed`)."""
    people = eligible(people)
    strata, table = strata_of(people)
    sums = stratum_sums(_matrix(people), people["record_key"].to_numpy(), strata, len(table))
    everyone = np.ones(len(table), dtype=bool)
    return _estimate(sums, _holders(table), everyone, seed, lambda: bootstrap_totals(people, replicates, seed))


def _estimate(
    sums: StratumSums,
    holder_strata: np.ndarray,
    chosen: np.ndarray,
    seed: int,
    resamples: Callable[[], np.ndarray],
) -> Estimate | None:
    """`estimate` for the strata flagged in `chosen` from each stratum's sums (`stratum_sums`), which strata are
    budget holders', the seed of the draws of the disclosure noise, and a function giving the group totals of
    the chosen people's bootstrap resamples ((replicates, 2, len(COLUMNS)), worked out only where there is an
    estimate to make)."""
    counts = [int(sums.people[chosen & mine].sum()) for mine in (holder_strata, ~holder_strata)]
    if not counts[0] or not counts[1]:
        return None
    raw_totals = _group_totals(sums, holder_strata, chosen)
    disclosed = _shown_totals(sums, holder_strata, chosen, raw_totals)
    if disclosed is None:
        return None
    shown_tot, tops = disclosed
    shown = {k: float(v) for k, v in _parts(shown_tot).items()}
    raw = {k: float(v) for k, v in _parts(raw_totals).items()}
    totals = resamples()
    replicates = len(totals)
    # each resample carries a fresh draw of the disclosure noise too, so the interval allows for both
    boot = _parts(totals + disclosure_noise(tops, replicates, seed))
    low, high = percentile_interval(boot["net"])
    net = shown["net"]
    # the interval's reach on each side from the bootstrap, placed around the published estimate
    low, high = net - (raw["net"] - low), net + (high - raw["net"])
    be, be_low, be_high = _break_even(shown, raw, boot)
    return Estimate(
        result=NetCost(
            net=_round(net),
            low=_round(low),
            high=_round(high),
            spend=_round(shown["spend"]),
            saving=_round(-(shown["holders_change"] - shown["comparison_change"])),
            break_even=be,
            break_even_low=be_low,
            break_even_high=be_high,
            counterfactual=_round(shown["counterfactual"]),
            people=sum(counts),
            replicates=replicates,
        ),
        shown=shown,
        raw=raw,
        boot=boot,
    )


def _break_even(shown: dict, raw: dict, boot: dict) -> tuple[float | None, float | None, float | None]:
    """The mental health bed-day cost at which the net cost is nought (every mental health bed day at that cost,
    general acute stays as in the estimate), with its bootstrap interval; None where mental health bed days did
    not fall further for budget holders (budgets then never pay for themselves through bed days)."""
    if shown["slope"] >= 0:
        return None, None, None
    point = max(-shown["intercept"] / shown["slope"], 0.0)
    raw_point = max(-raw["intercept"] / raw["slope"], 0.0) if raw["slope"] < 0 else math.inf
    slope, intercept = boot["slope"], boot["intercept"]
    with np.errstate(divide="ignore", invalid="ignore"):
        each = np.where(slope < 0, np.maximum(-intercept / slope, 0.0), np.inf)
    alpha = (1 - LEVEL) / 2
    low, high = np.quantile(each, [alpha, 1 - alpha], method="inverted_cdf")
    shift = point - raw_point if math.isfinite(raw_point) else 0.0
    return (
        _round(point),
        _round(max(float(low) + shift, 0.0)),
        None if not math.isfinite(high) else _round(max(float(high) + shift, 0.0)),
    )


# ---------------------------------------------------------------------------------------------
# In words


def _pounds(value: float) -> str:
    return f"£{abs(value):,.0f}"


def sentence(result: NetCost | None) -> str:
    """The net cost in plain words, with its interval and its parts."""
    if result is None:
        return (
            "Too few to estimate value for money in this selection: every spending and hospital cost total must be "
            f"publishable (at least {disclosure.THRESHOLD} people, none dominated by one or two) and each group needs "
            f"at least {admissions.MIN_EVENTS} admissions in the year before and the year after."
        )
    if result.low > 0:
        verdict = "Budgets cost more than they saved in hospital care"
        head = f"about {_pounds(result.net)} a year more per budget holder"
    elif result.high < 0:
        verdict = "Budgets paid for themselves in hospital savings"
        head = f"saving about {_pounds(result.net)} a year per budget holder, net of what was spent from them"
    else:
        verdict = "Budgets cost about what they saved in hospital care, within chance"
        head = ("a net cost" if result.net >= 0 else "a net saving") + f" of about {_pounds(result.net)} a year"
    interval = f"95% interval {_signed(result.low)} to {_signed(result.high)}"
    saving = (
        f"about {_pounds(result.saving)} less in hospital costs than expected without budgets"
        if result.saving >= 0
        else f"about {_pounds(result.saving)} more in hospital costs than expected without budgets"
    )
    return (
        f"{verdict}: {head} ({interval}). About {_pounds(result.spend)} was spent from each budget in its first year, "
        f"against {saving}."
    )


def pounds(value: float) -> str:
    """A net figure with its sign before the pound sign: £1,110 or -£2,100."""
    return ("-" if value < 0 else "") + f"£{abs(value):,.0f}"


def headline_title(result: NetCost | None) -> str:
    """The finding as a chart title, honest about chance."""
    if result is None:
        return "Net cost per budget holder per year"
    if result.low > 0:
        return f"Budgets cost about £{result.net:,.0f} a year per holder more than they saved in hospital care"
    if result.high < 0:
        return f"Budgets saved about £{-result.net:,.0f} a year per holder in hospital care, net of their cost"
    return (
        f"Budgets cost about what they saved in hospital care, within chance (net {pounds(result.net)} a year per "
        "holder)"
    )


def _signed(value: float) -> str:
    """A net figure in words for an interval: a cost of £x or a saving of £x."""
    return f"a saving of {_pounds(value)}" if value < 0 else f"a cost of {_pounds(value)}"


def break_even_sentence(result: NetCost | None, unit_cost: float) -> str:
    """ "Budgets pay for themselves if a mental health bed day costs more than £X", or that they do not."""
    if result is None:
        return ""
    if result.break_even is None:
        return (
            "Budgets do not pay for themselves at any cost of a mental health bed day in this selection: budget "
            "holders' mental health bed days did not fall further than the comparison group's."
        )
    if result.break_even > UNIT_COST_MAX:
        return (
            f"Budgets do not pay for themselves within the range shown (up to £{UNIT_COST_MAX:,.0f} a mental health "
            f"bed day): they would need a bed day to cost more than about £{result.break_even:,.0f}."
        )
    interval = (
        f"95% interval £{result.break_even_low:,.0f} to £{result.break_even_high:,.0f}"
        if result.break_even_high is not None
        else f"95% interval from £{result.break_even_low:,.0f}, with no upper limit: bed days may not have fallen"
    )
    relation = "above" if result.break_even > unit_cost else "below"
    return (
        f"Budgets pay for themselves if a mental health bed day costs more than about £{result.break_even:,.0f} "
        f"({interval}), {relation} the £{unit_cost:,.0f} used here. "
        "Every mental health bed day is priced at that cost for this line; general acute stays as in the estimate."
    )


def effect_break_even(est: Estimate) -> float | None:
    """The admissions rate ratio at which budgets would pay for themselves if hospital costs fell in proportion
    to emergency admissions: 1 - spending / counterfactual hospital cost (None where there is no cost to save)."""
    if est.shown["counterfactual"] <= 0:
        return None
    return 1 - est.shown["spend"] / est.shown["counterfactual"]


def effect_sentence(est: Estimate | None, effect: admissions.Effect | None) -> str:
    """What the admissions effect would have to be for budgets to pay for themselves."""
    if est is None:
        return ""
    ratio = effect_break_even(est)
    if ratio is None or ratio <= 0:
        return (
            "Budgets could not pay for themselves through hospital savings alone in this selection: spending "
            "per holder is more than budget holders' whole expected hospital cost."
        )
    cut = 100 * (1 - ratio)
    text = (
        f"If hospital costs fell in proportion to emergency admissions, budgets would pay for themselves only with "
        f"about {cut:.0f}% fewer admissions than expected without budgets"
    )
    if effect is None:
        return text + "."
    return (
        text + f"; the budget effect on emergency admissions is {100 * (1 - effect.rate_ratio):.0f}% fewer "
        f"(95% interval {100 * (1 - effect.high):.0f}% to {100 * (1 - effect.low):.0f}%)."
    )


# ---------------------------------------------------------------------------------------------
# Chart data (published through charts._chart: every figure already rounded here)


def unit_cost_curve(est: Estimate, unit_cost: float, points: int = 61) -> pd.DataFrame:
    """Net cost per holder-year at mental health bed-day costs from £0 to UNIT_COST_MAX, with its pointwise 95%
    interval from the bootstrap (placed around the published line), rounded as net costs are."""
    grid = np.linspace(0.0, UNIT_COST_MAX, points)
    line = est.shown["intercept"] + grid * est.shown["slope"]
    raw = est.raw["intercept"] + grid * est.raw["slope"]
    boot = est.boot["intercept"][:, None] + grid[None, :] * est.boot["slope"][:, None]
    alpha = (1 - LEVEL) / 2
    low, high = np.percentile(boot, [100 * alpha, 100 * (1 - alpha)], axis=0)
    return pd.DataFrame(
        {
            "x": grid,
            "value": [_round(v) for v in line],
            "low": [_round(v) for v in line - (raw - low)],
            "high": [_round(v) for v in line + (high - raw)],
        }
    )


def effect_curve(est: Estimate, points: int = 41) -> pd.DataFrame:
    """Net cost per holder-year if hospital costs changed in proportion to emergency admissions, at admissions
    rate ratios across EFFECT_RANGE: spending less the counterfactual hospital cost times (1 - ratio); with its
    pointwise 95% bootstrap interval placed around the published line."""
    grid = np.linspace(*EFFECT_RANGE, points)
    line = est.shown["spend"] - est.shown["counterfactual"] * (1 - grid)
    raw = est.raw["spend"] - est.raw["counterfactual"] * (1 - grid)
    boot = est.boot["spend"][:, None] - est.boot["counterfactual"][:, None] * (1 - grid[None, :])
    alpha = (1 - LEVEL) / 2
    low, high = np.percentile(boot, [100 * alpha, 100 * (1 - alpha)], axis=0)
    return pd.DataFrame(
        {
            "x": np.round(grid, 2),
            "value": [_round(v) for v in line],
            "low": [_round(v) for v in line - (raw - low)],
            "high": [_round(v) for v in line + (high - raw)],
        }
    )


def by_scope(data: ValueData, names: dict[str, str]) -> pd.DataFrame:
    """Net cost per holder-year for all selected sites, each site, and each management option (that option's
    holders against the whole comparison group of the selected sites), each with its interval or `TOO_FEW`.
    In a fixed order (sites by code, options as the contract lists them), never ranked."""
    from phb import contract

    people = data.present()
    table = data.strata()[1]
    rows = []
    # every row is a set of whole strata of the selection's eligible people, read from the same resamples
    scopes = [("All", ALL, None)] + [
        ("Site", names.get(s, s), table["site_code"].eq(s).to_numpy()) for s in sorted(people["site_code"].unique())
    ]
    options = [o for o in contract.MANAGEMENT_OPTIONS if (people["management_option"] == o).any()]
    if len(options) > 1:
        comparison = table["grp"].eq(GROUPS[1]).to_numpy()
        for option in options:  # that option's budget holders against the whole comparison group
            scopes.append(
                (
                    "Management option",
                    contract.LABELS.get(option, option),
                    comparison | (table["grp"].eq(GROUPS[0]) & table["option"].eq(option)).to_numpy(),
                )
            )
    # the row for all of the selection is the headline estimate; every row, with the same seed and the same
    # resamples of its strata, is the estimate its people get when chosen alone
    estimates = [data.headline if chosen is None else data.scope_estimate(chosen) for _, _, chosen in scopes]
    for (by, label, _), est in zip(scopes, estimates):
        r = None if est is None else est.result
        rows.append(
            {
                "by": by,
                "site": label,
                "value": math.nan if r is None else r.net,
                "low": math.nan if r is None else r.low,
                "high": math.nan if r is None else r.high,
                "note": TOO_FEW if r is None else "",
                "all": by == "All",
            }
        )
    return pd.DataFrame(rows, columns=["by", "site", "value", "low", "high", "note", "all"])


# ---------------------------------------------------------------------------------------------
# Facts


def facts_block(data: ValueData) -> dict:
    """The `value_for_money` block of `phb facts`: net cost per holder per year with its interval, the
    break-even bed-day cost, the unit costs and their price base, and the method."""
    est = data.headline
    r = None if est is None else est.result
    return {
        "net_cost_per_holder_year_gbp": None if r is None else r.net,
        "ci_gbp": None if r is None else [r.low, r.high],
        "spend_per_holder_year_gbp": None if r is None else r.spend,
        "hospital_saving_per_holder_year_gbp": None if r is None else r.saving,
        "break_even_mental_health_bed_day_gbp": None if r is None else r.break_even,
        "break_even_ci_gbp": None if r is None or r.break_even is None else [r.break_even_low, r.break_even_high],
        "unit_costs_gbp_per_bed_day": data.unit_cost,
        "price_base": data.price_base,
        "note": TOO_FEW
        if r is None
        else "difference in differences per person-year; person-level bootstrap "
        f"({REPLICATES} resamples, seed {SEED}) within site, group and management option, percentile 95% interval",
    }
