"""Spending: what budgets buy, by category, site and management option; spend per holder and
budget utilisation; refunds and recoveries. Every figure returned for display has been through
disclosure control (`disclosure.money`: money from fewer than 8 people, or where two people make up
more than 90% of it, withheld; the rest perturbed and rounded to 3 significant figures; medians and
quartiles averaged over 5 people and rounded to £10; complementary suppression where a withheld part
sits beside its shown total). The free-text description never leaves the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd

from phb import contract, disclosure
from phb import formatting as fmt
from phb.filters import Filters
from phb.kept import kept
from phb.queries import run_query

UNDERSPEND_PCT = 80  # utilisation below this is flagged as a large underspend
OVERSPEND_PCT = 110  # and above this as a large overspend
ALL = "All selected"
MOST_WITHHELD = 0.2  # the share of quarter-by-category cells that may be left out before categories are merged


@dataclass(frozen=True)
class SpendingData:
    """The unrounded result sets the Spending page is made from."""

    by_site_category: pd.DataFrame
    by_month: pd.DataFrame
    by_quarter: pd.DataFrame | None  # None where months can be shown (over_time then never uses quarters)
    holders: pd.DataFrame
    by_management: pd.DataFrame
    memo: dict = field(default_factory=dict, compare=False, repr=False)  # figures worked out from them (phb.kept)


def by_category(con: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """spend_by_category's rows for a selection: the Spending page's breakdowns and the Overview's spending."""
    return run_query(con, "spend_by_category", **filters.params())


# The Spending page's sections (ui.sections: tabs, only the open one drawn), by their value in the link
SECTIONS = {
    "categories": "What budgets buy",
    "sites": "By site",
    "options": "By management option",
    "refunds": "Refunds and recoveries",
}
SECTIONS_KEY = "spending_section"


def load(
    con: duckdb.DuckDBPyConnection, filters: Filters, period_end: date, category_rows: pd.DataFrame | None = None
) -> SpendingData:
    """Run the Spending page's queries for a selection. `category_rows`: `by_category`'s rows for the same
    selection where they have been read already (the app reads them once for the Overview and this page)."""
    params = filters.params()
    by_month = run_query(con, "spend_over_time", **params, grain="month")
    rows = by_category(con, filters) if category_rows is None else category_rows
    by_site_category, by_management = breakdowns(rows)
    return SpendingData(
        by_site_category=by_site_category,
        by_month=by_month,
        # quarters only where over_time would fall back to them: months with a cell withheld
        by_quarter=None
        if _period_cells(by_month, "month", True, filters)[1].count(disclosure.SUPPRESSED) == 0
        else run_query(con, "spend_over_time", **params, grain="quarter"),
        holders=run_query(con, "holder_spend_by_site", **params, period_end=period_end),
        by_management=by_management,
    )


def breakdowns(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """spend_by_category's rows split into its two breakdowns: by site and category (with `site_code`
    and `category`; null for all sites or all categories) and by management option and category (with
    `management_option` and `category`)."""
    by_site = frame[frame["breakdown"] == "site"].drop(columns=["breakdown", "management_option"])
    by_option = frame[frame["breakdown"] == "management_option"].drop(columns=["breakdown", "site_code"])
    return by_site.reset_index(drop=True), by_option.reset_index(drop=True)


# the columns disclosure.money reads for a row's net spending, and for its refunds and recoveries
_MONEY_COLUMNS = ("net_gbp", "people", "top1", "top2", "mkey")
_REFUND_COLUMNS = ("refunds_gbp", "refund_people", "refund_top1", "refund_top2", "refund_mkey")


def _shown(frame: pd.DataFrame, refunds: bool = False) -> list:
    """Each row's net spending (or refunds and recoveries) as it may be shown (`disclosure.money`)."""
    cols = _REFUND_COLUMNS if refunds else _MONEY_COLUMNS
    return [disclosure.money(*values) for values in zip(*(frame[c] for c in cols))]


def _one(frame: pd.DataFrame, refunds: bool = False):
    """The shown figure of a one-row frame (None when it is empty)."""
    return _shown(frame.iloc[:1], refunds)[0] if len(frame) else None


def _refunds_shown(frame: pd.DataFrame) -> list:
    """Refunds per row as shown: 0 where there were none."""
    return [0.0 if not v else shown for v, shown in zip(frame["refunds_gbp"], _shown(frame, refunds=True))]


def _protected(frame: pd.DataFrame) -> list:
    """Money per row as shown, with complementary suppression across the rows."""
    return disclosure.complementary(_shown(frame), frame["net_gbp"].astype(float).tolist(), frame["people"].tolist())


# ---------------------------------------------------------------------------------------------
# By category


def category_totals(data: SpendingData) -> pd.DataFrame:
    """Spending by category for the selection: amount (net of refunds) and share of the total."""
    frame = data.by_site_category
    rows = frame[frame["site_code"].isna() & frame["category"].notna()].reset_index(drop=True)
    overall = frame[frame["site_code"].isna() & frame["category"].isna()]
    total = _one(overall)
    shown = _protected(rows) if len(rows) else []
    return pd.DataFrame(
        {
            "category": rows["category"],
            "name": rows["category"].map(contract.LABELS),
            "spend": shown,
            "spend_gbp": [disclosure.numeric(v) for v in shown],
            "share_pct": [
                float("nan")
                if v == disclosure.SUPPRESSED or total in (None, disclosure.SUPPRESSED) or total <= 0
                else round(100 * v / total, 1)
                for v in shown
            ],
            "people": disclosure.counts(rows, "people"),
        }
    ).sort_values("spend_gbp", ascending=False, na_position="last")


def total_block(data: SpendingData, site: str | None) -> dict:
    """Total spending, refunds and spending per category for one site or all, for facts."""
    frame = data.by_site_category
    scope = frame["site_code"].isna() if site is None else frame["site_code"] == site
    return _total_block(_records(frame[scope]), site, None if site is None else protected_grid(data))


def _records(frame: pd.DataFrame) -> list[dict]:
    """A frame's rows as dicts of plain values (read field by field without pandas' indexing, which at 43
    sites cost more than the figures)."""
    return frame.to_dict("records")


def _money(row: dict, refunds: bool = False):
    """One row's net spending (or refunds and recoveries) as it may be shown, as _shown gives it for a frame."""
    cols = _REFUND_COLUMNS if refunds else _MONEY_COLUMNS
    return disclosure.money(*(row[c] for c in cols))


def _total_block(rows: list[dict], site: str | None, grid: dict | None) -> dict:
    """`total_block` from the site's rows of by_site_category as records (all sites': site_code null) and, for a
    site, the protected grid."""
    overall = [r for r in rows if pd.isna(r["category"])]
    cats = [r for r in rows if not pd.isna(r["category"])]
    if not overall:
        return {"total_gbp": 0.0, "refunds_gbp": 0.0, "by_category_gbp": {c: 0.0 for c in contract.SPEND_CATEGORIES}}
    if site is None:
        shown = [_money(r) for r in cats]
        values = [float(r["net_gbp"]) for r in cats]
        by_cat = dict(
            zip((r["category"] for r in cats), disclosure.complementary(shown, values, [r["people"] for r in cats]))
        )
    else:
        by_cat = {r["category"]: grid[(site, r["category"])] for r in cats}
    first = overall[0]
    return {
        "total_gbp": _money(first),
        "refunds_gbp": 0.0 if not first["refunds_gbp"] else _money(first, refunds=True),
        "by_category_gbp": {c: by_cat.get(c, 0.0) for c in contract.SPEND_CATEGORIES},
    }


def protected_grid(data: SpendingData) -> dict[tuple[str, str], object]:
    """Spending per site and category as it may be shown: withheld under 8 people, then further cells
    withheld along each site's row and each category's column, since both the site totals and the
    all-sites category totals are shown beside it."""
    return kept(data, "grid", lambda: _protected_grid(data))  # the page and facts read it once per site


def _protected_grid(data: SpendingData) -> dict[tuple[str, str], object]:
    frame = data.by_site_category
    cells = frame[frame["site_code"].notna() & frame["category"].notna()]
    keys = list(zip(cells["site_code"], cells["category"]))
    shown = dict(zip(keys, _shown(cells)))
    values = dict(zip(keys, cells["net_gbp"].astype(float)))
    people = dict(zip(keys, cells["people"].astype(int)))
    return disclosure.complementary_grid(shown, values, people)


def site_category_grid(data: SpendingData, site_names: dict[str, str]) -> pd.DataFrame:
    """Each site's spending split by category, as shares of the site's total (cells from fewer than
    8 people withheld, and a second cell with them so the first cannot be worked out)."""
    frame = data.by_site_category
    grid = protected_grid(data)
    sites = frame[frame["site_code"].notna()]
    totals = sites[sites["category"].isna()].drop_duplicates("site_code")
    shown_totals = dict(zip(totals["site_code"], _shown(totals)))  # each site's total as shown, in one pass
    cells = sites[sites["category"].notna()].sort_values("site_code", kind="stable")  # by site, categories in order
    rows = []
    for code, category in zip(cells["site_code"], cells["category"]):
        value, total_shown = grid[(code, category)], shown_totals.get(code)
        ok = value != disclosure.SUPPRESSED and total_shown not in (None, disclosure.SUPPRESSED) and total_shown > 0
        rows.append(
            {
                "site": site_names[code],
                "category": contract.LABELS[category],
                "share_pct": round(100 * value / total_shown, 1) if ok else float("nan"),
                "spend_text": disclosure.FEWER_OR_DOMINATED if not ok else f"£{value:,.0f}",
            }
        )
    return pd.DataFrame(rows, columns=["site", "category", "share_pct", "spend_text"])


def grid_title(grid: pd.DataFrame) -> str:
    """The site whose largest category share stands out most from the others' average."""
    shown = grid.dropna(subset=["share_pct"])
    if shown.empty or shown["site"].nunique() < 2:
        return "What each site's budgets buy"
    mean = shown.groupby("category")["share_pct"].mean()
    shown = shown.assign(gap=shown["share_pct"] - shown["category"].map(mean))
    top = shown.sort_values("gap", ascending=False).iloc[0]
    return (
        f"{top['site']} spends {top['share_pct']:.0f}% on {top['category'].lower()}, against "
        f"{mean[top['category']]:.0f}% across the sites shown"
    )


# ---------------------------------------------------------------------------------------------
# Over time


def _period_cells(frame: pd.DataFrame, grain: str, by_category: bool, filters: Filters) -> tuple[pd.DataFrame, list]:
    """The rows of spend_over_time's `frame` by category (or for all categories together) for the months or
    quarters the period covers whole, and each one's net spending as it may be shown."""
    frame = frame[frame["category"].notna() if by_category else frame["category"].isna()]
    spans = frame["period_start"].dt.to_period("M" if grain == "month" else "Q")
    whole = (spans.dt.start_time >= pd.Timestamp(filters.date_from)) & (
        spans.dt.end_time.dt.normalize() <= pd.Timestamp(filters.date_to)
    )
    frame = frame[whole]
    return frame, _shown(frame)


def over_time(data: SpendingData, filters: Filters) -> tuple[pd.DataFrame, str]:
    """Spending per month by category; per quarter where months would withhold cells; per quarter
    for all categories together where more than a fifth of quarter cells would be withheld. Months
    or quarters the period covers only in part are left out (they would look like a fall). Returns
    the frame and the grain."""
    choices = (
        ("month", data.by_month, True),
        ("quarter", data.by_quarter, True),
        ("quarter", data.by_quarter, False),
    )
    for grain, frame, by_category in choices:
        frame, shown = _period_cells(frame, grain, by_category, filters)
        withheld = shown.count(disclosure.SUPPRESSED)
        if withheld == 0 or (grain == "quarter" and by_category and withheld <= MOST_WITHHELD * len(shown)):
            break
    # each category's total for the period is shown elsewhere on the page: protect a withheld period
    # object dtype: the cells hold money and the suppression marker; a column that starts all
    # numbers would be float64, and pandas 3 refuses to put a marker into it
    frame = frame.assign(shown=pd.Series(shown, index=frame.index, dtype=object))
    for _, series in frame.groupby(frame["category"].fillna("all"), sort=False):
        protected = disclosure.complementary(
            series["shown"].tolist(), series["net_gbp"].astype(float).tolist(), series["people"].tolist()
        )
        frame.loc[series.index, "shown"] = pd.Series(protected, index=series.index, dtype=object)
    out = frame.assign(
        category=frame["category"].fillna("all"),
        name=frame["category"].map(contract.LABELS).fillna("All categories"),
        spend_gbp=[disclosure.numeric(v) for v in frame["shown"]],
    )
    return out[["period_start", "category", "name", "spend_gbp"]], grain


def over_time_note(frame: pd.DataFrame, grain: str) -> str:
    """How the spending is grouped and how many cells were left out, in words."""
    missing = int(frame["spend_gbp"].isna().sum())
    if (frame["category"] == "all").all():
        lead = f"By {grain} paid, all categories together (too few people to split by category)."
        if not missing:
            return lead
        return f"{lead} {missing} {grain}{'s' if missing > 1 else ''} with {disclosure.FEWER} people paid left out."
    if not missing:
        return f"By {grain} paid. No cell is withheld."
    cells, verb = ("cells", "are") if missing > 1 else ("cell", "is")
    return (
        f"By {grain} paid. {missing} {grain}-and-category {cells} with {disclosure.FEWER} people paid {verb} left out, "
        "so those bars are a little short."
    )


def over_time_title(frame: pd.DataFrame, grain: str) -> str:
    """The busiest period and the category that grew most from the first to the last full period."""
    shown = frame.dropna(subset=["spend_gbp"])
    if shown.empty:
        return "Too little spending to show over time"
    totals = shown.groupby("period_start")["spend_gbp"].sum()
    peak = totals.idxmax()
    label = f"{peak:%B %Y}" if grain == "month" else f"the quarter from {peak:%B %Y}"
    return f"Spending peaked in {label} at about {fmt.money_about(totals.max())}"  # a sum of shown cells


# ---------------------------------------------------------------------------------------------
# Per holder and utilisation


def per_holder(data: SpendingData, site_names: dict[str, str]) -> pd.DataFrame:
    """Median and quartiles of spending per holder, per site and for all selected holders, each the
    mean of the 5 holders nearest it rounded to £10; withheld where fewer than 8 holders (never a
    point per person)."""
    frame = data.holders[data.holders["management_option"].isna()]
    if frame["site_code"].notna().sum() == 1:
        frame = frame[frame["site_code"].notna()]  # one site: its own row says it all
    rows = []
    for _, row in frame.iterrows():
        n = int(row["holders"])
        rows.append(
            {
                "site": ALL if pd.isna(row["site_code"]) else site_names[row["site_code"]],
                "holders": disclosure.count(n, row["holders_ckey"]),
                **{
                    k: disclosure.numeric(disclosure.quantile_shown(row[f"{k}_gbp"], n)) for k in ("q1", "median", "q3")
                },
            }
        )
    return pd.DataFrame(rows, columns=["site", "holders", "q1", "median", "q3"])


def per_holder_title(frame: pd.DataFrame) -> str:
    """The middle half of holders overall and the site with the highest median."""
    shown = frame.dropna(subset=["median"])
    if shown.empty:
        return "Too few budget holders to show spending per holder"
    overall = shown[shown["site"] == ALL]
    row = overall.iloc[0] if len(overall) else shown.iloc[0]
    text = f"Half of budget holders spent between £{row['q1']:,.0f} and £{row['q3']:,.0f}"
    sites = shown[shown["site"] != ALL]
    if len(sites) > 1:
        top = sites.sort_values("median", ascending=False).iloc[0]
        text += f"; {top['site']}'s median is highest (£{top['median']:,.0f})"
    return text


def _utilisation(row) -> float:
    """Utilisation in whole per cent, from the net spending as shown (perturbed and rounded) over the
    pro rata budgets; NaN where that spending is withheld or there is no budget."""
    shown = disclosure.money(row["net_gbp"], row["holders"], row["top1"], row["top2"], row["mkey"])
    if shown in (None, disclosure.SUPPRESSED) or not row["pro_rata_budget_gbp"] > 0:
        return float("nan")
    return float(round(100 * shown / float(row["pro_rata_budget_gbp"])))


def utilisation(data: SpendingData, site_names: dict[str, str]) -> pd.DataFrame:
    """Spending as a share of annual budgets pro rata to the time in place, by site, by
    management option and for all; withheld under 8 holders; large under- and overspends flagged."""
    rows = []
    one_site = data.holders["site_code"].notna().sum() == 1
    for _, row in data.holders.iterrows():
        if one_site and pd.isna(row["site_code"]) and pd.isna(row["management_option"]):
            continue  # one site: its own row says it all
        if pd.notna(row["site_code"]):
            by, name = "Site", site_names[row["site_code"]]
        elif pd.notna(row["management_option"]):
            by, name = "Management option", contract.LABELS[row["management_option"]]
        else:
            by, name = ALL, ALL
        n = int(row["holders"])
        pct = _utilisation(row)
        flag = (
            (
                "large underspend"
                if pct < UNDERSPEND_PCT
                else "large overspend"
                if pct > OVERSPEND_PCT
                else "within range"
            )
            if pct == pct
            else f"withheld ({disclosure.FEWER} holders, or one or two make up most of the spending)"
        )
        holders = disclosure.count(n, row["holders_ckey"])
        rows.append({"by": by, "name": name, "holders": holders, "utilisation_pct": pct, "flag": flag})
    return pd.DataFrame(rows, columns=["by", "name", "holders", "utilisation_pct", "flag"])


def utilisation_title(frame: pd.DataFrame) -> str:
    """Overall utilisation and the sites flagged."""
    overall = frame[frame["by"] == ALL]
    if overall.empty:  # one site: its own row is the whole
        overall = frame[frame["by"] == "Site"]
    if overall.empty or pd.isna(overall["utilisation_pct"].iloc[0]):
        return "Too few budget holders to show how much of their budgets was spent"
    sites = frame[frame["by"] == "Site"]
    under = sites.loc[sites["flag"] == "large underspend", "name"].tolist()
    over = sites.loc[sites["flag"] == "large overspend", "name"].tolist()
    text = f"Holders spent {overall['utilisation_pct'].iloc[0]:.0f}% of their budgets"
    if under:
        text += f"; {fmt.some_sites(under, len(sites))} {'is' if len(under) == 1 else 'are'} under {UNDERSPEND_PCT}%"
    if over:
        text += f"; {fmt.some_sites(over, len(sites))} {'is' if len(over) == 1 else 'are'} over {OVERSPEND_PCT}%"
    return text


def options_use_title(frame: pd.DataFrame) -> str:
    """Which management options' holders spent the most of their budgets and which the least (utilisation's
    management option rows, as shown; every option tied at either end named), e.g. 'Holders of third-party budgets
    spent the most of their budgets (94%), holders of notional budgets the least (90%)'."""
    shown = frame[frame["by"] == "Management option"].dropna(subset=["utilisation_pct"])
    if shown.empty:
        return "Too few budget holders to show utilisation by management option"
    pct = shown["utilisation_pct"].round()

    def options_at(at: float) -> str:
        return fmt.listed([f"{n[:1].lower()}{n[1:]}s" for n in shown.loc[pct == at, "name"]])

    top, low = pct.max(), pct.min()
    if top == low:
        every = "every management option shown" if len(shown) > 1 else options_at(top)
        return f"Holders of {every} spent {top:.0f}% of their budgets"
    return (
        f"Holders of {options_at(top)} spent the most of their budgets ({top:.0f}%), "
        f"holders of {options_at(low)} the least ({low:.0f}%)"
    )


# ---------------------------------------------------------------------------------------------
# Management option against category


def management_vs_category(data: SpendingData) -> pd.DataFrame:
    """Each management option's spending split by category (shares of its own total), protected along
    options and categories, as the category totals are shown on the same page."""
    frame = data.by_management
    cells = frame[frame["category"].notna()]
    keys = list(zip(cells["management_option"], cells["category"]))
    grid = disclosure.complementary_grid(
        dict(zip(keys, _shown(cells))),
        dict(zip(keys, cells["net_gbp"].astype(float))),
        dict(zip(keys, cells["people"].astype(int))),
    )
    rows = []
    for option, part in frame.groupby("management_option", sort=False):
        cats = part[part["category"].notna()].reset_index(drop=True)
        total = part[part["category"].isna()]
        total_shown = _one(total)
        for category in cats["category"]:
            value = grid[(option, category)]
            ok = value != disclosure.SUPPRESSED and total_shown not in (None, disclosure.SUPPRESSED) and total_shown > 0
            rows.append(
                {
                    "option": contract.LABELS[option],
                    "category": contract.LABELS[category],
                    "share_pct": round(100 * value / total_shown, 1) if ok else float("nan"),
                }
            )
    return pd.DataFrame(rows, columns=["option", "category", "share_pct"])


def management_title(frame: pd.DataFrame) -> str:
    """The category where direct payments and notional budgets differ most, in percentage points."""
    wide = frame.pivot_table(index="category", columns="option", values="share_pct")
    dp, nb = contract.LABELS["direct_payment"], contract.LABELS["notional"]
    if dp not in wide or nb not in wide or wide[[dp, nb]].dropna().empty:
        return "What each management option buys"
    both = wide[[dp, nb]].dropna()
    gap = (both[dp] - both[nb]).abs().idxmax()
    return f"Direct payments put {both.loc[gap, dp]:.0f}% into {gap.lower()}, notional budgets {both.loc[gap, nb]:.0f}%"


# ---------------------------------------------------------------------------------------------
# Refunds and recoveries


def refunds(data: SpendingData, site_names: dict[str, str]) -> pd.DataFrame:
    """Refunds and recoveries (negative lines) per site and in all, withheld where fewer than 8
    people had one, with complementary suppression across the sites."""
    frame = data.by_site_category
    sites = frame[frame["site_code"].notna() & frame["category"].isna()].reset_index(drop=True)
    overall = frame[frame["site_code"].isna() & frame["category"].isna()]
    shown = (
        disclosure.complementary(
            _refunds_shown(sites), sites["refunds_gbp"].astype(float).tolist(), sites["refund_people"].tolist()
        )
        if len(sites) > 1
        else _refunds_shown(sites)
    )
    rows = [
        {"site": site_names[c], "refunds": v, "people": disclosure.count(int(n), k)}
        for c, v, n, k in zip(sites["site_code"], shown, sites["refund_people"], sites["refund_people_ckey"])
    ]
    if len(overall) and len(sites) > 1:
        row = overall.iloc[0]
        rows.append(
            {
                "site": ALL,
                "refunds": _refunds_shown(overall.iloc[:1])[0],
                "people": disclosure.count(int(row["refund_people"]), row["refund_people_ckey"]),
            }
        )
    return pd.DataFrame(rows, columns=["site", "refunds", "people"])


def facts_blocks(data: SpendingData) -> dict[str | None, dict]:
    """The Spending page's headline figures per site (and None for all), for `phb facts` and the page's headline
    (worked out once for the data and kept with it; each call gets its own copy)."""
    return kept(data, "facts", lambda: _facts_blocks(data))


def worked_out(data: SpendingData) -> SpendingData:
    """The data with the figures every view of the page reads worked out and kept with it (the per site and
    category grid, the facts blocks), for the page's cache (phb.kept)."""
    protected_grid(data)
    facts_blocks(data)
    return data


def _facts_blocks(data: SpendingData) -> dict[str | None, dict]:
    frame = data.by_site_category
    sites = [c for c in frame["site_code"].dropna().unique()]
    holders = data.holders[data.holders["management_option"].isna()]
    # each site's rows split out once, as records, and the protected grid read once (at 42 sites, 0.25 s
    # to 0.02 s)
    rows: dict[str | None, list[dict]] = {}
    for row in _records(frame):
        rows.setdefault(None if pd.isna(row["site_code"]) else row["site_code"], []).append(row)
    held = {None if pd.isna(r["site_code"]) else r["site_code"]: r for r in _records(holders)}
    grid = protected_grid(data) if sites else None
    out: dict[str | None, dict] = {}
    for code in [None, *sites]:
        block = _total_block(rows.get(code, []), code, grid)
        out[code] = {"spending": _with_holders(block, held.get(code))}
    _protect_sites(out, data.by_site_category, sites)
    return out


def _with_holders(block: dict, r: dict | None) -> dict:
    """A facts block with its holders' figures added from holder_spend_by_site's row for the same scope, as a
    record (none where there is no row): the number of holders, their median and quartiles and their
    utilisation, as shown."""
    if r is not None:
        n = int(r["holders"])
        block["holders"] = disclosure.count(n, r["holders_ckey"])
        block["per_holder_median_gbp"] = disclosure.quantile_shown(r["median_gbp"], n)
        block["per_holder_q1_gbp"] = disclosure.quantile_shown(r["q1_gbp"], n)
        block["per_holder_q3_gbp"] = disclosure.quantile_shown(r["q3_gbp"], n)
        pct = _utilisation(r)
        block["utilisation_pct"] = disclosure.SUPPRESSED if pct != pct else pct
    return block


def _protect_sites(out: dict, frame: pd.DataFrame, sites: list[str]) -> None:
    """Site totals are parts of the all-sites total: a withheld one takes another with it."""
    if len(sites) < 2:
        return
    rows = frame[frame["site_code"].notna() & frame["category"].isna()].set_index("site_code").loc[sites]
    for key, value_col, people_col in (
        ("total_gbp", "net_gbp", "people"),
        ("refunds_gbp", "refunds_gbp", "refund_people"),
    ):
        shown = [out[c]["spending"][key] for c in sites]
        values = rows[value_col].astype(float).tolist()
        for code, value in zip(sites, disclosure.complementary(shown, values, rows[people_col].tolist())):
            out[code]["spending"][key] = value
