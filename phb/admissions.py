"""Hospital admissions: monthly trends under statistical process control, emergency admission
rates before and after the index date, the budget effect against the comparison group
(difference in differences), and bed days and cost.

Counts shown go through disclosure control. Rates and intervals are worked out from the counts as
shown (and, on the SPC charts, the person-months at risk as shown) and withheld where a count they
rest on is withheld. The budget effect is published from the shown counts too; only its interval's
design effect (one decimal place) comes from the person-level model.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from phb import contract, disclosure
from phb.filters import Filters
from phb.kept import kept
from phb.queries import run_query
from phb.stats import RULE_WORDS, count_ci, u_prime

GROUPS = {"budget_holders": "Budget holders", "comparison": "Comparison group"}
MIN_EVENTS = 10  # events needed in each group and window before a rate ratio is estimated
MIN_POINTS = 12  # fewer points than this and SPC limits are trial limits
ALL_SITES = "All selected sites"
RATE_PER = 100  # SPC rates are shown per 100 person-months at risk
SPC_MEASURES = {
    "admissions": "Emergency admissions per 100 person-months",
    "bed_days": "Bed days per 100 person-months",
}

RATE = disclosure.PLACES["rate"]
RATIO = disclosure.PLACES["ratio"]
CHANGE = disclosure.PLACES["change"]


@dataclass(frozen=True)
class AdmissionsData:
    """The unrounded result sets the Admissions page is made from."""

    at_risk: pd.DataFrame  # by month: person-months at risk and admissions while at risk (by quarter: load_quarters)
    windows: pd.DataFrame
    effect_summary: pd.DataFrame  # the budget effect model's sums by site and group
    bed_days: pd.DataFrame
    sites: pd.DataFrame
    memo: dict = field(default_factory=dict, compare=False, repr=False)  # figures worked out from them (phb.kept)


def load(
    con: duckdb.DuckDBPyConnection, filters: Filters, unit_costs: dict[str, float] | None = None
) -> AdmissionsData:
    """Run the Admissions page's queries for a selection."""
    from phb.config import DEFAULT_UNIT_COSTS_GBP

    costs = unit_costs or DEFAULT_UNIT_COSTS_GBP
    params = filters.params()
    return AdmissionsData(
        at_risk=run_query(con, "person_months_at_risk", **params, grain="month"),
        windows=run_query(con, "admissions_windows_by_site", **params),
        effect_summary=run_query(con, "admission_effect_by_site", **params),
        bed_days=run_query(
            con,
            "bed_days_windows",
            **params,
            unit_cost_mental_health=costs["mental_health"],
            unit_cost_general_acute=costs["general_acute"],
        ),
        sites=run_query(con, "sites"),
    )


def load_quarters(con: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Person-months at risk and admissions while at risk by quarter, for the SPC charts that fall back to
    quarters. Read only when one does (`spc_series` asks for them: fewer than 12 whole months can be shown), as
    the query is as costly as the monthly one."""
    return run_query(con, "person_months_at_risk", **filters.params(), grain="quarter")


# ---------------------------------------------------------------------------------------------
# Trends under SPC


def spc_series(
    data: AdmissionsData,
    site: str | None,
    grp: str,
    measure: str,
    filters: Filters,
    quarters: Callable[[], pd.DataFrame],
) -> tuple[pd.DataFrame, str, str | None]:
    """A u' chart's rows for one site (None: all selected) and group: emergency admissions (or their bed days)
    per 100 person-months at risk, by month, or by quarter where fewer than 12 months can be shown
    (`quarters()` gives the quarterly rows, `load_quarters`' for the same selection; it is called only then, but
    for all sites' bed days once for each site too, so it should be cached, as the pages' loaders are).

    At risk: budget holders while their budget is in place, the comparison group from their index date
    (queries/person_months_at_risk.sql); only admissions while at risk count. Part months or quarters at
    either end of the period are left out, and the chart starts at the first whole month (or quarter) from
    which every figure can be shown: admissions and person-months at risk shown as counts are (cell key
    perturbation, threshold, rounding), bed days as day totals are (withheld under 8 people or where one or
    two people make up most of them, otherwise moved and rounded), none withheld. The rates and
    limits are worked out from those rounded figures, so no exact figure can be recovered from them.
    Returns (frame, grain, reason it cannot be drawn or None)."""

    def cells(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame[
            (frame["grp"] == grp) & (frame["site_code"].isna() if site is None else frame["site_code"] == site)
        ]
        return frame.drop(columns=["grp", "site_code"]).reset_index(drop=True)

    frame = cells(data.at_risk)
    if frame[measure].sum() == 0:
        return frame, "month", "No emergency admissions while at risk in this period."
    grain, shown = "month", _showable_tail(_whole(frame, "month", filters), measure)
    if len(shown) < MIN_POINTS:
        grain, shown = "quarter", _showable_tail(_whole(cells(quarters()), "quarter", filters), measure)
    if len(shown) < 2:
        return shown, grain, "Too few emergency admissions or people at risk to chart safely, even by quarter."
    if site is None and measure != "admissions" and _a_site_withheld(data, grp, measure, filters, quarters):
        # bed days are not rounded: all sites less the sites shown would give a withheld site's figures
        return (
            shown,
            grain,
            (
                "Not shown for all sites together while a selected site has too few people to chart its own: "
                "its figures could be worked out by subtraction."
            ),
        )
    numerator, exposure = _protected(shown, measure)
    # the rate and limits are worked out from the figures as shown, so they cannot give back exact ones
    chart = u_prime(numerator.to_numpy(dtype=float), exposure.to_numpy(dtype=float), improvement="decrease")
    chart[["value", "centre", "lcl", "ucl"]] *= RATE_PER
    chart.insert(0, "period", shown["period"].to_numpy())
    return chart.rename(columns={"value": "rate"}), grain, None


def _whole(frame: pd.DataFrame, grain: str, filters: Filters) -> pd.DataFrame:
    """Leave out a part month or quarter at either end of the period: it would look like a fall."""
    spans = frame["period"].dt.to_period("M" if grain == "month" else "Q")
    whole = (spans.dt.start_time >= pd.Timestamp(filters.date_from)) & (
        spans.dt.end_time.dt.normalize() <= pd.Timestamp(filters.date_to)
    )
    return frame[whole].reset_index(drop=True)


def _showable_tail(frame: pd.DataFrame, measure: str) -> pd.DataFrame:
    """The periods from the first after which no figure is suppressed and someone is at risk in each."""
    numerator, exposure = _protected(frame, measure)
    bad = ((numerator == disclosure.SUPPRESSED) | (exposure == disclosure.SUPPRESSED) | (exposure == 0)).to_numpy()
    first = int(np.flatnonzero(bad)[-1]) + 1 if bad.any() else 0
    return frame.iloc[first:].reset_index(drop=True)


def _protected(frame: pd.DataFrame, measure: str) -> tuple[pd.Series, pd.Series]:
    """The numerator as it may be shown (admissions rounded as a count; bed days withheld where fewer than 8
    people contribute) and the person-months at risk rounded as a count: the one place the SPC figures pass
    through disclosure control."""
    exposure = _exposure(frame)
    if measure == "admissions":
        shown = pd.Series(disclosure.counts(frame, "admissions"), dtype=object)
    else:
        shown = pd.Series(
            [0.0 if int(row["people"]) == 0 else disclosure.magnitude_cell(row, "bed_days", kind="days")
             for _, row in frame.iterrows()],
            dtype=object,
        )  # fmt: skip
    return shown.reset_index(drop=True), exposure


def _exposure(frame: pd.DataFrame) -> pd.Series:
    """Person-months at risk to the nearest whole month, then shown as a count is (cell key perturbation
    with the record keys of the people at risk, threshold and rounding)."""
    months = frame["person_months"].round().astype(int)
    return pd.Series(
        [disclosure.count(n, k) for n, k in zip(months, frame["person_months_ckey"])], dtype=object
    ).reset_index(drop=True)


def _a_site_withheld(
    data: AdmissionsData, grp: str, measure: str, filters: Filters, quarters: Callable[[], pd.DataFrame]
) -> bool:
    sites = data.at_risk["site_code"].dropna().unique()
    return len(sites) > 1 and any(
        (spc_series(data, s, grp, measure, filters, quarters)[2] or "").startswith("Too few") for s in sites
    )


def spc_title(chart: pd.DataFrame, grain: str, who: str) -> str:
    """The SPC finding: special cause (improvement or concern) or common cause only."""
    last = chart.iloc[-1]
    improvements = int((chart["variation"] == "improvement").sum())
    concerns = int((chart["variation"] == "concern").sum())
    if last["variation"] == "improvement":
        text = f"{who}: lower than usual now ({RULE_WORDS.get(last['rule'], last['rule'])})"
    elif last["variation"] == "concern":
        text = f"{who}: higher than usual now ({RULE_WORDS.get(last['rule'], last['rule'])})"
    elif improvements or concerns:
        parts = [
            f"{n} {grain}{'' if n == 1 else 's'} of {word}"
            for n, word in ((improvements, "improvement"), (concerns, "concern"))
            if n
        ]
        text = f"{who}: special cause variation earlier ({' and '.join(parts)}), common cause now"
    else:
        text = f"{who}: only common cause variation"
    return text


SPC_METHOD = (
    "Rates per 100 person-months at risk on Laney's u′ chart, which NHS England's Making Data Count guidance "
    "recommends for rates: limits are widened or narrowed for the spread between periods beyond chance (sigma z) "
    "and vary with the number at risk in each period. At risk: budget holders while their budget is in place; the "
    "comparison group from their index date. Only emergency admissions while at risk count, by the month admitted. "
    f"Admissions and person-months at risk are shown as counts are (perturbed, then rounded to {disclosure.ROUND_TO}), "
    "and bed days as day totals are, before rates and limits are worked out; a chart starts at the first month "
    "from which no "
    "figure is too small to show, and uses quarters where fewer than 12 months can be shown. Limits are worked out "
    "once over the whole period shown and are not recalculated at go-live. Making Data Count rules: a point "
    "outside its limits; a run of 7 on one side of the centre line; a trend of 7 rising or falling; two of three "
    "points near a limit. Go-live dates are marked with dotted lines."
)


def spc_note(chart: pd.DataFrame, grain: str) -> str:
    """The u' chart's subtitle: what is plotted, from when, and whether its limits are trial limits."""
    first = pd.Timestamp(chart["period"].iloc[0])
    start = first.strftime("%B %Y") if grain == "month" else f"Q{first.quarter} {first.year}"
    note = (
        f"u′ chart by {grain} admitted, from {start}; fewer is better. Centre line (solid) and process limits "
        "(dashed), which vary with the people at risk."
    )
    if len(chart) < MIN_POINTS:
        note += f" Trial limits: only {len(chart)} points."
    return note


def go_live_dates(data: AdmissionsData, filters: Filters) -> pd.DataFrame:
    """Go-live dates of the selected sites, for marking on trend charts."""
    sites = data.sites if filters.sites is None else data.sites[data.sites["site_code"].isin(filters.sites)]
    return sites[["site_name", "go_live"]].rename(columns={"site_name": "site"})


# ---------------------------------------------------------------------------------------------
# Before and after


def before_after(data: AdmissionsData, site_names: dict[str, str]) -> pd.DataFrame:
    """Emergency admissions per person-year in the 12 months before and after the index date, by
    site (and all selected), group and window, with 95% intervals (exact Poisson below 10 events,
    Byar's from 10); rates and intervals worked out from the counts as shown."""
    frame = data.windows
    parts = [frame.assign(site=frame["site_code"].map(site_names))]
    if frame["site_code"].nunique() > 1:
        parts.insert(
            0,
            frame.groupby("grp", as_index=False)[
                [
                    "people",
                    "people_ckey",
                    "emergency_pre",
                    "emergency_pre_ckey",
                    "emergency_post",
                    "emergency_post_ckey",
                    "years_pre",
                    "years_post",
                ]
            ]
            .sum()
            .assign(site=ALL_SITES),
        )
    rows = []
    for _, row in pd.concat(parts, ignore_index=True).iterrows():
        for window, label in (("pre", "Year before"), ("post", "Year after")):
            events, years = int(row[f"emergency_{window}"]), float(row[f"years_{window}"])
            shown = disclosure.count(events, row[f"emergency_{window}_ckey"])
            ok = years > 0 and shown != disclosure.SUPPRESSED
            events = shown if ok else events  # the rate and interval from the shown count
            low, high = count_ci(events) if ok else (math.nan, math.nan)
            rows.append(
                {
                    "site": row["site"],
                    "group": GROUPS[row["grp"]],
                    "window": label,
                    "admissions": shown,
                    "people": disclosure.count(int(row["people"]), row["people_ckey"]),
                    "rate": round(events / years, RATE) if ok else math.nan,
                    "low": round(low / years, RATE) if ok else math.nan,
                    "high": round(high / years, RATE) if ok else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=["site", "group", "window", "admissions", "people", "rate", "low", "high"])


# ---------------------------------------------------------------------------------------------
# The budget effect


@dataclass(frozen=True)
class Effect:
    """A difference-in-differences rate ratio with its 95% interval, and each group's change."""

    rate_ratio: float
    low: float
    high: float
    holders_change: float  # post/pre rate ratio for budget holders
    comparison_change: float  # and for the comparison group
    people: int


def did_effect(summary: pd.DataFrame) -> Effect | None:
    """The budget effect as a rate ratio (difference in differences), published from the shown counts.

    `summary` is queries/admission_effect_by_site.sql's rows for the sites in scope (all of them for all
    selected sites): people with time in both windows, by site and group.

    The four group-and-window counts (budget holders and the comparison group, the year before and the
    year after) are shown as counts are (cell key perturbation, threshold, rounding); each group's change
    is its shown count after over its shown count before, per person-year, and the rate ratio is the
    ratio of the two changes. So the changes and the ratio say nothing the shown counts do not: worked out
    from the unrounded counts, they would pin those counts beside the shown ones.

    The interval allows for people's admissions being clustered: a Poisson regression of person-window
    counts on group, window and their interaction, with log person-years as offset and errors clustered
    by person, gives how much wider than an unclustered interval it should be (its design effect,
    published to one decimal place); that factor times the unclustered standard error of a ratio of
    rate ratios from the shown counts, sqrt(1/a + 1/b + 1/c + 1/d), gives the interval around the
    published ratio. None where any of the four shown counts is withheld or under MIN_EVENTS.

    The regression has a parameter for each of its four group-and-window cells, so it fits each cell's
    rate exactly, and its clustered standard error is worked out here in closed form from the sums of
    squares and products in `summary` (`clustered_se`): the same figure statsmodels' GLM gives with
    cov_type="cluster" (tests/test_admissions.py checks it), without a row per person."""
    totals = summary.groupby("grp")[list(_MOMENTS)].sum()
    groups = {grp: {m: float(v) for m, v in row.items()} for grp, row in totals.to_dict("index").items()}
    keys = {
        (grp, window): disclosure.cell_key(*summary.loc[summary["grp"] == grp, f"emergency_{window}_ckey"])
        for grp in groups
        for window in ("pre", "post")
    }
    return _did_effect(groups, keys)


def did_effects_by_site(summary: pd.DataFrame) -> dict[str, Effect | None]:
    """`did_effect` for each site on its own, from queries/admission_effect_by_site.sql's rows: a site's row for
    each group is already its group's totals, so they are read as they are, without pandas' grouping and
    indexing for each site (at 42 sites, 0.2 s to 0.01 s); the same figures as `did_effect` of the site's rows
    (tests/test_admissions.py checks every site)."""
    by_site: dict[str, dict[str, dict]] = {}
    for row in summary.to_dict("records"):
        groups = by_site.setdefault(row["site_code"], {})
        if row["grp"] in groups:
            raise ValueError(f"two rows for site {row['site_code']} and group {row['grp']}")
        groups[row["grp"]] = row
    out = {}
    for site, rows in by_site.items():
        groups = {grp: {m: float(r[m]) for m in _MOMENTS} for grp, r in rows.items()}
        keys = {
            (grp, window): disclosure.cell_key(r[f"emergency_{window}_ckey"])
            for grp, r in rows.items()
            for window in ("pre", "post")
        }
        out[site] = _did_effect(groups, keys)
    return out


def _did_effect(groups: dict[str, dict[str, float]], keys: dict[tuple[str, str], int]) -> Effect | None:
    """`did_effect` from each group's totals (`_MOMENTS`, as floats) and the cell keys of its admissions in each
    window."""
    if not {"budget_holders", "comparison"} <= groups.keys() or any(g["people"] == 0 for g in groups.values()):
        return None
    raw, shown, years = [], [], []
    for grp in ("budget_holders", "comparison"):
        for window in ("pre", "post"):
            n = int(groups[grp][f"emergency_{window}"])
            raw.append(n)
            shown.append(disclosure.count(n, keys[(grp, window)]))
            years.append(groups[grp][f"years_{window}"])
    if any(not disclosure.usable(v) or v < MIN_EVENTS for v in shown):
        return None
    design_effect = round(clustered_se(groups) / math.sqrt(sum(1 / v for v in raw)), 1)
    a, b, c, d = (float(v) for v in shown)
    holders_change = (b / years[1]) / (a / years[0])
    comparison_change = (d / years[3]) / (c / years[2])
    beta = math.log(holders_change / comparison_change)
    se = design_effect * math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    z = 1.959963984540054
    return Effect(
        rate_ratio=float(np.exp(beta)),
        low=float(np.exp(beta - z * se)),
        high=float(np.exp(beta + z * se)),
        holders_change=holders_change,
        comparison_change=comparison_change,
        people=int(sum(g["people"] for g in groups.values())),
    )


_MOMENTS = (
    "people", "emergency_pre", "emergency_post", "years_pre", "years_post", "y0_y0", "y1_y1", "y0_y1",
    "e0_e0", "e1_e1", "e0_e1", "y0_e0", "y1_e1", "y0_e1", "y1_e0",
)  # fmt: skip


def clustered_se(totals: dict[str, dict[str, float]]) -> float:
    """The standard error of the interaction (the log ratio of rate ratios) in a Poisson regression of each
    person's emergency admissions in the year before and the year after (y0, y1) on group, window and
    group × window, offset log person-years (e0, e1), with errors clustered by person (CRV1, with
    statsmodels' small-sample factor G/(G-1) × (N-1)/(N-K), G people, N = 2G rows, K = 4 parameters).

    With a parameter per cell the fitted rate of each group and window is its admissions over its
    person-years (R0 before, R1 after), and a person's influence on the interaction is
    ±((y1 - R1·e1)/Y1 - (y0 - R0·e0)/Y0), Y the group's admissions in the window. The sandwich variance
    is the sum of its squares over people, which expands into the sums of squares and products per group
    (`totals`: for each group, its sums named as queries/admission_effect_by_site.sql names them)."""
    variance = 0.0
    for g in totals.values():
        y0, y1 = g["emergency_pre"], g["emergency_post"]
        r0, r1 = y0 / g["years_pre"], y1 / g["years_post"]
        after = g["y1_y1"] - 2 * r1 * g["y1_e1"] + r1 * r1 * g["e1_e1"]
        before = g["y0_y0"] - 2 * r0 * g["y0_e0"] + r0 * r0 * g["e0_e0"]
        both = g["y0_y1"] - r0 * g["y1_e0"] - r1 * g["y0_e1"] + r0 * r1 * g["e0_e1"]
        variance += after / y1**2 + before / y0**2 - 2 * both / (y0 * y1)
    people = float(sum(g["people"] for g in totals.values()))
    rows = 2 * people
    variance *= people / (people - 1) * (rows - 1) / (rows - 4)
    return math.sqrt(variance)


def effect(data: AdmissionsData) -> Effect | None:
    """The budget effect for all selected sites (`did_effect`), worked out once for the data (phb.kept)."""
    return kept(data, "effect", lambda: did_effect(data.effect_summary))


def worked_out(data: AdmissionsData, site_names: dict[str, str]) -> AdmissionsData:
    """The data with the budget effect for all selected sites and for each site worked out and kept with it, for
    the pages' cache (phb.kept): the effect by site is 43 models at 42 sites, about 0.25 s."""
    effect(data)
    effects_by_site(data, site_names)
    return data


def effects_by_site(data: AdmissionsData, site_names: dict[str, str]) -> pd.DataFrame:
    """The budget effect for all selected sites and each site (forest plot rows), worked out once for the data and
    site names (phb.kept)."""
    return kept(data, ("effects_by_site", tuple(site_names.items())), lambda: _effects_by_site(data, site_names))


def _effects_by_site(data: AdmissionsData, site_names: dict[str, str]) -> pd.DataFrame:
    rows = []
    summary = data.effect_summary
    sites = sorted(summary["site_code"].unique())
    by_site = did_effects_by_site(summary)
    scopes = ([(ALL_SITES, did_effect(summary))] if len(sites) > 1 else []) + [
        (site_names[s], by_site[s]) for s in sites
    ]
    for name, effect in scopes:
        rows.append(
            {
                "site": name,
                "rate_ratio": math.nan if effect is None else round(effect.rate_ratio, RATIO),
                "low": math.nan if effect is None else round(effect.low, RATIO),
                "high": math.nan if effect is None else round(effect.high, RATIO),
                "note": "too few admissions to estimate" if effect is None else "",
                "all": name == ALL_SITES,
            }
        )
    return pd.DataFrame(rows, columns=["site", "rate_ratio", "low", "high", "note", "all"])


def _pct_change(ratio: float) -> str:
    change = 100 * (ratio - 1)
    return f"fell {-change:.0f}%" if change < 0 else f"rose {change:.0f}%" if change > 0 else "did not change"


def effect_sentence(effect: Effect | None) -> str:
    """The budget effect in plain words, with why the naive before/after figure overstates it."""
    if effect is None:
        return (
            "Too few emergency admissions in this selection to estimate the budget effect: at least "
            f"{MIN_EVENTS} are needed in each group before and after."
        )
    fewer = 100 * (1 - effect.rate_ratio)

    def bound(ratio: float) -> str:
        change = 100 * (1 - ratio)
        return f"{change:.0f}% fewer" if change >= 0 else f"{-change:.0f}% more"

    if effect.high <= 1:
        interval = f"95% interval {100 * (1 - effect.high):.0f}% to {100 * (1 - effect.low):.0f}%"
    else:
        interval = f"95% interval from {bound(effect.high)} to {bound(effect.low)}"
    if effect.low > 1 or effect.high < 1:
        verdict = "beyond chance"
    else:
        verdict = "not beyond chance: the interval includes no effect"
    direction = (
        "about as many admissions as expected without budgets"
        if round(fewer) == 0
        else f"about {fewer:.0f}% fewer admissions than expected without budgets"
        if fewer > 0
        else f"about {-fewer:.0f}% more admissions than expected without budgets"
    )
    return (
        f"Emergency admissions {_pct_change(effect.holders_change)} for budget holders and "
        f"{_pct_change(effect.comparison_change)} for the comparison group: {direction} ({interval}; {verdict})."
    )


def naive_sentence(effect: Effect | None) -> str:
    """Why the budget holders' own before/after change overstates the effect."""
    if effect is None:
        return ""
    return (
        f"The budget holders' own before-and-after change ({_pct_change(effect.holders_change)}) overstates the "
        "effect of budgets: people are picked for both groups soon after a crisis, so their admissions fall anyway "
        f"(regression to the mean). The comparison group's fall ({_pct_change(effect.comparison_change)}) shows how "
        "much; the budget effect is the difference beyond it."
    )


def effect_bars(effect: Effect) -> pd.DataFrame:
    """The naive change, the comparison change and the budget effect as percentage changes."""
    return pd.DataFrame(
        {
            "measure": [
                "Budget holders, before to after (naive)",
                "Comparison group, before to after",
                "Budget effect (difference in differences)",
            ],
            "change_pct": [
                round(100 * (effect.holders_change - 1), CHANGE),
                round(100 * (effect.comparison_change - 1), CHANGE),
                round(100 * (effect.rate_ratio - 1), CHANGE),
            ],
            "low": [math.nan, math.nan, round(100 * (effect.low - 1), CHANGE)],
            "high": [math.nan, math.nan, round(100 * (effect.high - 1), CHANGE)],
        }
    )


# ---------------------------------------------------------------------------------------------
# Bed days and cost


def bed_days(data: AdmissionsData) -> pd.DataFrame:
    """Bed days and cost in the year before and after the index date by group and setting, as
    `disclosure.days` and `disclosure.money` show them: withheld where fewer than 8 people
    contribute or two people make up more than 90% of it, otherwise perturbed and rounded."""
    frame = data.bed_days
    rows = []
    for _, row in frame.iterrows():
        rows.append(
            {
                "group": GROUPS[row["grp"]],
                "setting": contract.LABELS[row["setting"]],
                "window": "Year before" if row["pre_or_post"] == "pre" else "Year after",
                "admissions": disclosure.count(int(row["admissions"]), row["admissions_ckey"]),
                "bed_days": disclosure.magnitude_cell(row, "bed_days", top="bed_top", kind="days"),
                "cost_gbp": disclosure.magnitude_cell(row, "cost_gbp", top="cost_top"),
            }
        )
    return pd.DataFrame(rows, columns=["group", "setting", "window", "admissions", "bed_days", "cost_gbp"])


# ---------------------------------------------------------------------------------------------
# Facts


def facts_blocks(data: AdmissionsData) -> dict[str | None, dict]:
    """The before/after rates and the budget effect per site (and None for all), for `phb facts`."""
    out: dict[str | None, dict] = {}
    summary = data.effect_summary
    sites = sorted(summary["site_code"].unique())
    by_site = did_effects_by_site(summary)
    for code in [None, *sites]:
        windows = data.windows if code is None else data.windows[data.windows["site_code"] == code]
        effect = did_effect(summary) if code is None else by_site[code]
        block: dict = {
            "admissions_effect": {
                "rate_ratio": None if effect is None else round(effect.rate_ratio, RATIO),
                "ci": None if effect is None else [round(effect.low, RATIO), round(effect.high, RATIO)],
                "note": "too few admissions to estimate"
                if effect is None
                else "difference in differences, Poisson regression with person-clustered errors",
            }
        }
        for grp, prefix in (("budget_holders", "holders"), ("comparison", "comparison")):
            rows = windows[windows["grp"] == grp]
            for window in ("pre", "post"):
                shown, years = disclosure.total(rows, f"emergency_{window}"), float(rows[f"years_{window}"].sum())
                ok = years > 0 and shown != disclosure.SUPPRESSED
                ci = count_ci(shown) if ok else None  # from the shown count
                block[f"{prefix}_rate_{window}"] = round(shown / years, RATE) if ok else disclosure.SUPPRESSED
                block[f"{prefix}_rate_{window}_ci"] = (
                    [round(ci[0] / years, RATE), round(ci[1] / years, RATE)] if ok else disclosure.SUPPRESSED
                )
        out[code] = block
    return out
