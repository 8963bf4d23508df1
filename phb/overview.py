"""The Overview's figures: headline numbers per site and for all sites, and its three charts.

Everything returned here has been through disclosure control, so the page, the facts command
and any export show the same, safe, figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from phb import contract, disclosure, spending
from phb.filters import Filters
from phb.kept import kept
from phb.queries import run_query
from phb.stats import wilson_ci

COUNTS = ("referred", "offered", "budgets_in_place", "budgets_at_pilot_end")
REFERENCE = ("planned_budgets", "eligible_population")


@dataclass(frozen=True)
class OverviewData:
    """The unrounded result sets the Overview is made from."""

    sites: pd.DataFrame
    spend: pd.DataFrame
    admissions: pd.DataFrame
    budgets_monthly: pd.DataFrame
    admissions_monthly: pd.DataFrame
    memo: dict = field(default_factory=dict, compare=False, repr=False)  # figures worked out from them (phb.kept)


def load(con: duckdb.DuckDBPyConnection, filters: Filters, category_rows: pd.DataFrame | None = None) -> OverviewData:
    """Run the Overview's queries for a selection. `category_rows`: spending.by_category's rows for the same
    selection where they have been read already (the app reads them once for this page and the Spending page)."""
    params = filters.params()
    return OverviewData(
        sites=run_query(con, "site_summary", **params),
        spend=spending.breakdowns(spending.by_category(con, filters) if category_rows is None else category_rows)[0],
        admissions=run_query(con, "admissions_windows_by_site", **params),
        budgets_monthly=run_query(con, "budgets_in_place_monthly", **params),
        admissions_monthly=run_query(con, "emergency_admissions_monthly", **params),
    )


def _block(sites: pd.DataFrame, spend: pd.Series | None, adm: dict[str, pd.DataFrame]) -> dict:
    """Headline figures for a set of site rows (one site, or all selected), disclosure-controlled; `adm`
    holds their admissions_windows_by_site rows for each group ('budget_holders', 'comparison')."""
    block = {c: disclosure.total(sites, c) for c in COUNTS}
    block |= {c: disclosure.reference(int(sites[c].sum())) for c in REFERENCE}
    x, n = block["budgets_at_pilot_end"], block["eligible_population"]
    block["uptake_pct"] = disclosure.percent(x, n, kind="uptake")
    ci = wilson_ci(x, n) if disclosure.usable(x, n) else None
    block["uptake_ci"] = disclosure.interval(ci, x, scale=100, kind="uptake")
    block["budgets_pct_of_plan"] = disclosure.percent(x, block["planned_budgets"])
    if spend is None or spend.empty:
        block["spend_gbp"] = 0.0
        block["refunds_gbp"] = 0.0
    else:
        block["spend_gbp"] = disclosure.money(
            spend["net_gbp"], spend["people"], spend["top1"], spend["top2"], spend["mkey"]
        )
        block["refunds_gbp"] = (
            0.0
            if spend["refunds_gbp"] == 0
            else disclosure.money(
                spend["refunds_gbp"],
                spend["refund_people"],
                spend["refund_top1"],
                spend["refund_top2"],
                spend["refund_mkey"],
            )
        )
    for grp, prefix in (("budget_holders", "emergency_admissions"), ("comparison", "comparison_admissions")):
        rows = adm.get(grp)
        block[f"{prefix}_pre"] = disclosure.total(rows, "emergency_pre")
        block[f"{prefix}_post"] = disclosure.total(rows, "emergency_post")
    block["budget_holders_followed"] = disclosure.total(adm.get("budget_holders"), "people")
    block["comparison_people"] = disclosure.total(adm.get("comparison"), "people")
    return block


def _by(frame: pd.DataFrame, column: str) -> dict:
    """frame's rows for each value of `column`, split once (filtering the whole frame for each of 42 sites
    was most of the headline's 0.54 s under the profiler at a million people)."""
    return {key: rows for key, rows in frame.groupby(column, sort=False)}


def headline(data: OverviewData) -> dict:
    """Headline figures for all selected sites together and for each site (worked out once for the data)."""
    return kept(data, "headline", lambda: _headline(data))


def worked_out(data: OverviewData) -> OverviewData:
    """The data with its headline figures worked out and kept with it, for the page's cache (phb.kept)."""
    headline(data)
    return data


def _headline(data: OverviewData) -> dict:
    spend = data.spend
    overall = spend[spend["site_code"].isna() & spend["category"].isna()]
    per_site = spend[spend["site_code"].notna() & spend["category"].isna()].set_index("site_code")
    adm = data.admissions
    result = {"all_sites": _block(data.sites, overall.iloc[0] if len(overall) else None, _by(adm, "grp")), "sites": {}}
    site_rows, site_adm = _by(data.sites, "site_code"), _by(adm, "site_code")
    for code in data.sites["site_code"]:
        result["sites"][code] = _block(
            site_rows[code],
            per_site.loc[code] if code in per_site.index else None,
            _by(site_adm[code], "grp") if code in site_adm else {},
        )
    _protect_site_money(result, per_site)
    return result


def _protect_site_money(result: dict, per_site: pd.DataFrame) -> None:
    """Site money figures are parts of the all-sites figure shown beside them: suppress further
    sites where one is withheld, so it cannot be found by subtraction."""
    codes = [c for c in result["sites"] if c in per_site.index]
    if len(codes) < 2:
        return
    for key, value_col, people_col in (
        ("spend_gbp", "net_gbp", "people"),
        ("refunds_gbp", "refunds_gbp", "refund_people"),
    ):
        shown = [result["sites"][c][key] for c in codes]
        protected = disclosure.complementary(
            shown, [float(per_site.loc[c, value_col]) for c in codes], [int(per_site.loc[c, people_col]) for c in codes]
        )
        for code, value in zip(codes, protected):
            result["sites"][code][key] = value


def budgets_over_time(data: OverviewData, site_names: dict[str, str]) -> pd.DataFrame:
    """Budgets in place at each month end by site, rounded; suppressed months are blank."""
    frame = data.budgets_monthly.copy()
    frame["shown"] = disclosure.counts(frame, "budgets_in_place")
    frame["budgets"] = frame["shown"].map(disclosure.numeric)
    frame["label"] = frame["shown"].map(disclosure.words)
    frame["site"] = frame["site_code"].map(site_names)
    return frame[["on_date", "site_code", "site", "budgets", "label"]]


def spend_by_category(data: OverviewData) -> pd.DataFrame:
    """Spending by category for the selection, as `disclosure.money` shows it (withheld from fewer
    than 8 people or where two make up most of it; otherwise perturbed and rounded)."""
    spend = data.spend
    rows = spend[spend["site_code"].isna() & spend["category"].notna()].copy()
    shown = [disclosure.magnitude_cell(row, "net_gbp") for _, row in rows.iterrows()]
    # the categories are parts of the total shown on the page: protect a withheld one from subtraction
    shown = disclosure.complementary(shown, rows["net_gbp"].astype(float).tolist(), rows["people"].tolist())
    rows["spend_gbp"] = [disclosure.numeric(v) for v in shown]
    return rows[["category", "spend_gbp"]].reset_index(drop=True)


def admissions_by_month(data: OverviewData, filters: Filters) -> pd.DataFrame:
    """Emergency admissions by month and group, rounded; by quarter where any month would be
    suppressed, so the lines are not broken by gaps. Points still suppressed are blank. Months or
    quarters that the period covers only in part are left out, so they do not look like a fall."""
    frame = data.admissions_monthly[["month", "grp", "admissions", "admissions_ckey"]].copy()
    frame["period"] = "month"
    suppressed = pd.Series(disclosure.counts(frame, "admissions"), dtype=object) == disclosure.SUPPRESSED
    freq = "Q" if suppressed.any() else "M"
    if freq == "Q":
        frame["month"] = frame["month"].dt.to_period("Q").dt.start_time
        frame = frame.groupby(["month", "grp"], as_index=False)[["admissions", "admissions_ckey"]].sum()
        frame["period"] = "quarter"
    spans = frame["month"].dt.to_period(freq)
    whole = (spans.dt.start_time >= pd.Timestamp(filters.date_from)) & (
        spans.dt.end_time.dt.normalize() <= pd.Timestamp(filters.date_to)
    )
    frame = frame[whole]
    frame["shown"] = disclosure.counts(frame, "admissions")
    frame["admissions"] = frame["shown"].map(disclosure.numeric)
    frame["label"] = frame["shown"].map(disclosure.words)
    return frame[["month", "grp", "admissions", "label", "period"]]


def admissions_subtitle(frame: pd.DataFrame) -> str:
    """Says whether the chart counts by month or by quarter."""
    if len(frame) and (frame["period"] == "quarter").all():
        return "Emergency admissions by quarter admitted"
    return "Emergency admissions by month admitted"


def change_words(before, after) -> str | None:
    """A shown change such as '-59%', or None where it cannot be worked out safely."""
    change = _change(before, after)
    return None if change is None else f"{change:+.0f}% in the year after"


def _change(before, after) -> float | None:
    """Percentage change between two shown counts, or None where either is withheld or zero."""
    if disclosure.SUPPRESSED in (before, after) or not before:
        return None
    return 100 * (after - before) / before


def budgets_title(block: dict, frame: pd.DataFrame, on: str) -> str:
    """The finding of the budgets chart, in plain words."""
    shown = block["budgets_in_place"]
    if shown == 0:
        return "No budgets were in place in this period"
    latest = frame[frame["on_date"] == frame["on_date"].max()].dropna(subset=["budgets"])
    total = disclosure.words(shown)
    if latest.empty or len(frame["site"].unique()) == 1:
        return f"{total} budgets in place on {on}"
    top = latest.sort_values("budgets", ascending=False).iloc[0]["site"]
    return f"{total} budgets in place on {on}; {top} holds the most"


def spend_title(frame: pd.DataFrame, total) -> str:
    """The finding of the spending chart: the largest category and its share of all spending."""
    shown = frame.dropna(subset=["spend_gbp"])
    if shown.empty:
        return "No spending to show for this selection"
    top = shown.sort_values("spend_gbp", ascending=False).iloc[0]
    name = contract.LABELS.get(top["category"], top["category"])
    if total in (None, disclosure.SUPPRESSED) or total <= 0:
        return f"{name} takes the most spending"
    return f"{name} takes the largest share of spending ({100 * top['spend_gbp'] / total:.0f}%)"


def admissions_title(block: dict) -> str:
    """The finding of the admissions chart: the before and after change for each group."""
    holders = _change(block["emergency_admissions_pre"], block["emergency_admissions_post"])
    comparison = _change(block["comparison_admissions_pre"], block["comparison_admissions_post"])
    if holders is None or comparison is None:
        return "Emergency admissions (too few to compare before and after)"

    def words(change: float) -> str:
        return f"{change:+.0f}%" if change else "no change"

    return f"Emergency admissions: budget holders {words(holders)}, comparison group {words(comparison)}"
