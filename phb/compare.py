"""Comparing sites fairly: funnel plots with 95% and 99.8% limits, an overdispersion check, and a
benchmark table that marks each site better, similar or worse than all sites only where its
interval excludes the all-sites value.

Points, limits, z-scores and intervals are all worked out from shown counts (perturbed and
rounded, expected counts included), and nothing is drawn for a site whose count is withheld.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import duckdb
import pandas as pd

from phb import disclosure, uptake
from phb import formatting as fmt
from phb.filters import Filters
from phb.queries import run_query
from phb.stats import (
    FunnelLimits,
    count_ci,
    dispersion_ratio,
    proportion_funnel_limits,
    proportion_z,
    ratio_funnel_limits,
    ratio_z,
    wilson_ci,
)

LEVELS = (0.95, 0.998)
FEW_SITES = 10  # below this many sites an overdispersion estimate is unreliable
SMALL_DENOMINATOR = 20  # expected admissions below this make a ratio's limits wide and lumpy

RATIO = disclosure.PLACES["ratio"]


@dataclass(frozen=True)
class CompareData:
    """The unrounded result sets the Compare page is made from: the selected sites, and all sites
    over the same period, which every site is compared with whatever the site filter."""

    uptake: uptake.UptakeData
    by_age: pd.DataFrame
    all_sites: pd.DataFrame  # site_summary for all sites
    all_pathway: pd.DataFrame  # pathway_by_site for all sites
    all_by_age: pd.DataFrame


def load(con: duckdb.DuckDBPyConnection, filters: Filters) -> CompareData:
    """Run the Compare page's queries for a selection, and for all sites as the reference: of Budget uptake's
    data, only the site summary and pathway the comparisons read (at a million people, the monthly, management
    and characteristics queries for all sites took a quarter of the page's time for one site)."""
    selected_uptake, by_age = uptake.load(con, filters), load_by_age(con, filters)
    if filters.sites is None:
        all_sites, all_pathway, all_by_age = selected_uptake.sites, selected_uptake.pathway, by_age
    else:
        params = replace(filters, sites=None).params()
        all_sites = run_query(con, "site_summary", **params)
        all_pathway = run_query(con, "pathway_by_site", **params)
        all_by_age = load_by_age(con, replace(filters, sites=None))
    return CompareData(
        uptake=selected_uptake, by_age=by_age, all_sites=all_sites, all_pathway=all_pathway, all_by_age=all_by_age
    )


def load_by_age(con: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Budget holders' admissions after the index date by site and age band (for standardisation)."""
    return run_query(con, "admissions_after_by_site_age", **filters.params())


# ---------------------------------------------------------------------------------------------
# Funnel plots


def _position(limits: dict[float, tuple[float, float]], value: float, centre: float) -> str:
    """Where a plotted value sits: inside 95%, between 95% and 99.8%, or beyond 99.8%."""
    low99, high99 = limits[0.998]
    low95, high95 = limits[0.95]
    side = "above" if value > centre else "below"
    if value < low99 or value > high99:
        return f"beyond 99.8% limits ({side})"
    if value < low95 or value > high95:
        return f"between 95% and 99.8% limits ({side})"
    return "within 95% limits"


def all_sites_uptake(data: CompareData) -> tuple[int, int] | None:
    """All sites' budgets at pilot end and eligible population, as shown (rounded); None if withheld."""
    sites = data.all_sites
    x = disclosure.total(sites, "budgets_at_pilot_end")
    n = disclosure.reference(int(sites["eligible_population"].sum()))
    return (x, n) if disclosure.usable(x, n) else None


def uptake_funnel(data: CompareData, site_names: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Each selected site's uptake against its eligible population, with funnel limits around the
    uptake of all sites as published (to 1 place). Every figure (points, centre, positions, z) comes
    from the shown counts. Returns (site points, the limit lines to draw, all-sites uptake %)."""
    reference = all_sites_uptake(data)
    columns = ["site_code", "site", "denominator", "count", "value", "z", "position"]
    if reference is None or not 0 < reference[0] < reference[1]:
        return pd.DataFrame(columns=columns), None, math.nan
    centre = round(100 * reference[0] / reference[1], disclosure.PLACES["uptake"])
    p0 = centre / 100
    points = []
    for code, xi, ki, ni in zip(
        data.uptake.sites["site_code"],
        data.uptake.sites["budgets_at_pilot_end"],
        data.uptake.sites["budgets_at_pilot_end_ckey"],
        data.uptake.sites["eligible_population"],
    ):
        x, n = disclosure.shown_count(int(xi), ki), disclosure.reference(int(ni))
        ok = disclosure.usable(x, n)
        limits = {c: tuple(100 * v for v in proportion_funnel_limits(p0, n, c)) for c in LEVELS} if ok else None
        points.append(
            {
                "site_code": code,
                "site": site_names[code],
                "denominator": n,
                "count": disclosure.count(int(xi), ki),
                "value": disclosure.percent(x, n, kind="uptake") if ok else math.nan,
                "z": float(proportion_z(x, n, p0)) if ok else math.nan,
                "position": _position(limits, 100 * x / n, 100 * p0) if ok else "too few to place",
            }
        )
    frame = pd.DataFrame(points, columns=columns)
    # the limit lines span the denominators of the sites shown only (published figures)
    n = frame.loc[frame["value"].notna(), "denominator"].astype(float)
    lines = FunnelLimits("proportion", centre, max(1.0, 0.5 * n.min()), 1.15 * n.max()) if len(n) else None
    return frame, lines, centre


def expected_admissions(by_age: pd.DataFrame, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Observed and expected emergency admissions after the index date per site, expected being each
    site's holder person-years by age band at the reference (all-sites) rate for that age band
    (indirect standardisation)."""
    if by_age.empty:
        return pd.DataFrame(columns=["site_code", "observed", "observed_ckey", "expected", "holders", "holders_ckey"])
    rates = (by_age if reference is None else reference).groupby("age_band")[["admissions", "years"]].sum()
    rate = (rates["admissions"] / rates["years"]).where(rates["years"] > 0, 0.0)
    frame = by_age.assign(expected=by_age["years"] * by_age["age_band"].map(rate).fillna(0.0))
    return frame.groupby("site_code", as_index=False).agg(
        observed=("admissions", "sum"),
        observed_ckey=("admissions_ckey", "sum"),
        expected=("expected", "sum"),
        holders=("holders", "sum"),
        holders_ckey=("holders_ckey", "sum"),
    )


def admissions_funnel(data: CompareData, site_names: dict[str, str]) -> tuple[pd.DataFrame, FunnelLimits | None]:
    """Each selected site's budget holders' emergency admissions in the year after the index date as
    a ratio of observed (shown, rounded) to expected at all sites' rates by age, against the expected
    count, with funnel limits around 1."""
    frame = expected_admissions(data.by_age, data.all_by_age)
    columns = ["site_code", "site", "denominator", "count", "value", "z", "position"]
    points = []
    for _, row in frame.iterrows():
        o = disclosure.shown_count(int(row["observed"]), row["observed_ckey"])
        # the expected count is shown as counts are (perturbed with the site's holders' record keys, rounded):
        # worked out from unrounded person-years, it moves by one person's share when a month is added
        e = disclosure.shown_count(int(round(float(row["expected"]))), row["holders_ckey"])
        ok = o is not None and e is not None and e > 0
        limits = {c: ratio_funnel_limits(e, c) for c in LEVELS} if ok else None
        points.append(
            {
                "site_code": row["site_code"],
                "site": site_names[row["site_code"]],
                # a withheld site's expected count is never shown: with its ratio it would give its count
                "denominator": e if ok else math.nan,
                "count": disclosure.count(int(row["observed"]), row["observed_ckey"]),
                "value": round(o / e, RATIO) if ok else math.nan,
                "z": float(ratio_z(o, e)) if ok else math.nan,
                "position": _position(limits, o / e, 1.0) if ok else "too few to place",
            }
        )
    points = pd.DataFrame(points, columns=columns)
    # the limit lines are drawn over the expected counts of the sites shown only (published figures)
    expected = points.loc[points["value"].notna(), "denominator"].astype(float)
    if expected.empty:
        return points, None
    # (an expected count under a half shows as 0: the lines still start at 1 and run on from there)
    start = max(1.0, 0.5 * expected.min())
    return points, FunnelLimits("ratio", 1.0, start, max(1.15 * expected.max(), 2 * start))


def limits_note(sites: int) -> str:
    """What the funnel limits leave out, for `sites` sites chosen: they are never widened for overdispersion."""
    if sites < FEW_SITES:
        return (
            f"{fmt.number_words(sites).capitalize()} site{'s are' if sites != 1 else ' is'} too few to estimate "
            f"overdispersion well (fewer than {FEW_SITES}); funnel limits are not widened for it, so a site just "
            "outside the 95% limits may still differ only by chance."
        )
    return (
        "Funnel limits are not widened for overdispersion: where the dispersion ratio shows the sites differ by more "
        "than chance, more of them fall outside the limits than chance alone would put there, so read a site "
        "outside the 95% limits as worth a look, not as proof."
    )


def dispersion_note(points: pd.DataFrame) -> str:
    """Spiegelhalter's overdispersion check, and how far it can be trusted with this many sites."""
    z = points.loc[points["position"] != "too few to place", "z"].dropna()
    if len(z) < 2:
        return "Too few sites to check whether they differ by more than chance."
    phi, p = dispersion_ratio(z)
    verdict = (
        "the sites differ by more than chance alone would give (overdispersion)"
        if p < 0.05
        else "no sign the sites differ by more than chance"
    )
    caution = (
        f" With only {fmt.number_words(len(z))} sites this estimate is unreliable, so the limits are not widened "
        "for it: read a site outside the 95% limits as worth a look, not as proof."
        if len(z) < FEW_SITES
        else ""
    )
    return f"Dispersion ratio {phi:.2f} (1 means chance alone; p = {p:.2f}): {verdict}.{caution}"


def funnel_title(points: pd.DataFrame, measure: str) -> str:
    """Which sites sit outside the 99.8% or 95% limits, in plain words."""
    beyond = points[points["position"].str.startswith("beyond")]
    between = points[points["position"].str.startswith("between")]
    if beyond.empty and between.empty:
        placed = points[points["position"] != "too few to place"]["site"].tolist()
        if len(placed) == 1:
            return f"{placed[0]} does not differ from all sites by more than chance ({measure})"
        return f"No site differs from all sites by more than chance ({measure})"
    parts = []
    if len(beyond):
        parts.append(f"{fmt.some_sites(beyond['site'].tolist(), len(points))} beyond the 99.8% limits")
    if len(between):
        parts.append(f"{fmt.some_sites(between['site'].tolist(), len(points))} between the 95% and 99.8% limits")
    return f"{measure.capitalize()}: " + "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# The benchmark table


def _mark(low: float, high: float, benchmark: float, higher_is_better: bool) -> str:
    if math.isnan(low) or math.isnan(high) or math.isnan(benchmark):
        return "too few to say"
    if low > benchmark:
        return "better" if higher_is_better else "worse"
    if high < benchmark:
        return "worse" if higher_is_better else "better"
    return "similar"


def benchmark(data: CompareData, site_names: dict[str, str]) -> pd.DataFrame:
    """Each selected site's uptake, referral-to-budget share and admissions ratio with a 95%
    interval from its shown counts, marked better, similar or worse than all sites (polarity aware)
    by whether the interval excludes the all-sites value; withheld where a count is suppressed."""
    rows = []
    everywhere = data.all_sites
    x_all = disclosure.total(everywhere, "budgets_at_pilot_end")
    n_all = disclosure.reference(int(everywhere["eligible_population"].sum()))
    for _, s in data.uptake.sites.iterrows():
        rows.append(
            _proportion_row(
                site_names[s["site_code"]],
                "Uptake at pilot end",
                disclosure.count(int(s["budgets_at_pilot_end"]), s["budgets_at_pilot_end_ckey"]),
                disclosure.reference(int(s["eligible_population"])),
                x_all,
                n_all,
                "uptake",
            )
        )
    pathway, all_pathway = data.uptake.pathway, data.all_pathway
    total = all_pathway[all_pathway["site_code"].isna()]
    if len(total):
        xa, na = disclosure.counts(total, "budget_in_place")[0], disclosure.counts(total, "referred")[0]
        for _, s in pathway[pathway["site_code"].notna()].iterrows():
            rows.append(
                _proportion_row(
                    site_names[s["site_code"]],
                    "Referred who have a budget",
                    disclosure.count(int(s["budget_in_place"]), s["budget_in_place_ckey"]),
                    disclosure.count(int(s["referred"]), s["referred_ckey"]),
                    xa,
                    na,
                    "pct",
                )
            )
    for _, s in expected_admissions(data.by_age, data.all_by_age).iterrows():
        o, e = disclosure.shown_count(int(s["observed"]), s["observed_ckey"]), float(s["expected"])
        ok = o is not None and e > 0
        low, high = (count_ci(o)[0] / e, count_ci(o)[1] / e) if ok else (math.nan, math.nan)
        rows.append(
            {
                "site": site_names[s["site_code"]],
                "measure": "Emergency admissions against expected",
                "value": f"{o / e:.2f}" if ok else disclosure.SUPPRESSED,
                "interval": f"{low:.2f} to {high:.2f}" if ok else disclosure.SUPPRESSED,
                "benchmark": "1.00 (all sites, standardised by age)",
                "marking": _mark(low, high, 1.0, higher_is_better=False),
                "polarity": "fewer is better",
            }
        )
    return pd.DataFrame(rows, columns=["site", "measure", "value", "interval", "benchmark", "marking", "polarity"])


def _proportion_row(site: str, measure: str, xs, ns, x_all, n_all, kind: str) -> dict:
    """A benchmark row from counts as shown (a withheld one is `*`)."""
    ok = disclosure.usable(xs, ns)
    places = disclosure.PLACES[kind]
    low, high = (100 * v for v in wilson_ci(min(xs, ns), ns)) if ok else (math.nan, math.nan)
    bench = disclosure.percent(x_all, n_all, kind=kind)
    bench_value = math.nan if bench in (None, disclosure.SUPPRESSED) else bench
    return {
        "site": site,
        "measure": measure,
        "value": f"{disclosure.percent(xs, ns, kind=kind):.{places}f}%" if ok else disclosure.SUPPRESSED,
        "interval": f"{low:.{places}f}% to {high:.{places}f}%" if ok else disclosure.SUPPRESSED,
        "benchmark": f"{bench:.{places}f}% (all sites)" if bench_value == bench_value else "* (all sites)",
        "marking": _mark(low, high, bench_value, higher_is_better=True),
        "polarity": "more is better",
    }


def facts_blocks(data: CompareData, site_names: dict[str, str]) -> dict[str, dict]:
    """Each site's benchmark markings, for `phb facts`."""
    table = benchmark(data, site_names)
    codes = {name: code for code, name in site_names.items()}
    keys = {
        "Uptake at pilot end": "uptake",
        "Referred who have a budget": "referral_to_budget",
        "Emergency admissions against expected": "admissions_ratio",
    }
    out: dict[str, dict] = {}
    for _, row in table.iterrows():
        out.setdefault(codes[row["site"]], {"benchmark": {}})["benchmark"][keys[row["measure"]]] = row["marking"]
    return out
