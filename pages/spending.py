"""Spending: what budgets buy, by category, site and management option."""

import pandas as pd
import streamlit as st

from phb import charts, disclosure, spending, ui, views
from phb import formatting as fmt
from phb.warehouse import connect


@st.cache_data(show_spinner=False)
def _load(warehouse: str, version: str, filters, period_end) -> spending.SpendingData:
    rows = ui.spend_by_category(warehouse, version, filters)  # read once for this page and the Overview
    with connect(warehouse) as con:
        return spending.worked_out(spending.load(con, filters, period_end, rows))


UTILISATION_NOTE = (
    "Utilisation: spending paid in the period over each holder's annual budget pro rata to the days the "
    "budget was in place in the period (an open budget runs to the end of the data). "
    f"Withheld under {disclosure.THRESHOLD} holders."
)

context = ui.page_context()
names = context.site_names
st.title("Spending")
ui.active_filters(context)
data = _load(str(context.warehouse), context.info.data_version, context.filters, context.info.period_end)
block = spending.facts_blocks(data)[None]["spending"]

c1, c2, c3, c4 = st.columns(4)
c1.metric("Total spending", fmt.money(block["total_gbp"]), help="Paid from budgets in the period, net of refunds.")
c2.metric(
    "Refunds and recoveries",
    fmt.money_size(block["refunds_gbp"]),
    help="Money returned to budgets in the period (negative lines), already taken off the total.",
)
c3.metric(
    "Median spending per holder",
    fmt.money(block.get("per_holder_median_gbp")),
    help=(
        "About half of budget holders spent less than this in the period, half more: the average of the 5 holders "
        f"nearest the middle, to the nearest £10. Withheld under {disclosure.THRESHOLD} holders."
    ),
)
c4.metric(
    "Budgets spent",
    fmt.pct(block.get("utilisation_pct"), 0),
    help="Spending as a share of annual budgets pro rata to the time each budget was in place in the period.",
)

# Sections: only the one open is drawn ------------------------------------------------------------
# At 42 sites the page's seven charts took the browser about 0.6 s to draw, with their tables and downloads;
# as sections, a visit draws the opening one's two.
tabs = ui.sections(spending.SECTIONS, key=spending.SECTIONS_KEY)

with tabs["categories"]:
    if tabs["categories"].open:
        st.header("What budgets buy")
        cats = spending.category_totals(data)
        left, right = st.columns([3, 2])
        with left:
            ui.show_view(views.SPEND_BY_CATEGORY, data, names)
        with right:
            ui.table(
                disclosure.publish(
                    pd.DataFrame(
                        {
                            "Category": cats["name"],
                            "Spending": cats["spend"].map(fmt.money),
                            "Share": cats["share_pct"].map(lambda v: "*" if pd.isna(v) else fmt.pct(v, 0)),
                            "People": cats["people"].map(fmt.count),
                        }
                    ),
                    {"Category": "label", "Spending": "money", "Share": "label", "People": "count"},
                ),
                hide_index=True,
                width="stretch",
            )

        st.header("Spending over time")
        timeline, grain = spending.over_time(data, context.filters)
        ui.show_chart_or_say_why(
            timeline["spend_gbp"],
            "Too little spending in this period to show over time.",
            charts.spend_over_time(
                timeline, grain, spending.over_time_title(timeline, grain), spending.over_time_note(timeline, grain)
            ),
            "Stacked bar chart of spending over time by category",
        )

with tabs["sites"]:
    if tabs["sites"].open:
        st.header("What each site buys")
        grid = spending.site_category_grid(data, names)
        ui.show_chart_or_say_why(
            grid["share_pct"],
            "Too few people at the sites chosen to split spending by category.",
            charts.share_grid(
                grid,
                "site",
                spending.grid_title(grid),
                "Each site's spending in the period by category, as a share of the site's total; "
                f"{disclosure.SUPPRESSED} marks a cell withheld because {disclosure.FEWER} people are behind it, "
                "or one or two of them make up most of it (or to protect one that is)",
                "Site",
            ),
            "Grid of each site's spending shares by category",
        )

        st.header("Spending per budget holder")
        holders = spending.per_holder(data, names)
        ui.show_chart_or_say_why(
            holders["median"],
            "Fewer than 8 budget holders in this selection: spending per holder is withheld.",
            charts.per_holder(
                holders,
                spending.per_holder_title(holders),
                "Bars run from the lower to the upper quartile of spending per holder in the period (the middle "
                "half of holders), with the median marked; each is the average of the 5 holders nearest it, to "
                f"the nearest £10, withheld where a site has {disclosure.FEWER} holders. Individual holders are "
                "never shown.",
            ),
            "Chart of the median and quartiles of spending per budget holder by site",
        )

        st.header("How much of their budgets holders spent")
        ui.show_view(views.UTILISATION, data, names)
        st.caption(UTILISATION_NOTE)

with tabs["options"]:
    if tabs["options"].open:
        st.header("How each way of holding a budget was used")
        options_use = spending.utilisation(data, names)
        options_use = options_use[options_use["by"] == "Management option"]
        ui.show_chart_or_say_why(
            options_use["utilisation_pct"],
            "Too few budget holders to show utilisation by management option.",
            charts.utilisation(
                options_use,
                spending.UNDERSPEND_PCT,
                spending.OVERSPEND_PCT,
                spending.options_use_title(options_use),
                f"By management option. Dashed lines at {spending.UNDERSPEND_PCT}%, 100% and "
                f"{spending.OVERSPEND_PCT}%: below or above the outer lines is flagged.",
            ),
            "Bar chart of budget utilisation by management option",
        )
        st.caption(UTILISATION_NOTE)

        st.header("Do direct payments buy different things?")
        mix = spending.management_vs_category(data)
        ui.show_chart_or_say_why(
            mix["share_pct"],
            "Too few people to compare management options for this selection.",
            charts.share_grid(
                mix,
                "option",
                spending.management_title(mix),
                "Each management option's spending in the period by category, as a share of its own total",
                "Management option",
            ),
            "Grid of spending shares by category for each management option",
        )

with tabs["refunds"]:
    if tabs["refunds"].open:
        st.header("Refunds and recoveries")
        back = spending.refunds(data, names)
        ui.table(
            disclosure.publish(
                pd.DataFrame(
                    {
                        "Site": back["site"],
                        "Refunds and recoveries": back["refunds"].map(fmt.money_size),
                        "People with a refund": back["people"].map(fmt.count),
                    }
                ),
                {"Site": "label", "Refunds and recoveries": "money", "People with a refund": "count"},
            ),
            hide_index=True,
            width="stretch",
        )
        st.caption(
            "Money returned to budgets (negative spending lines), shown here rather than only netted off the "
            "totals above. "
            + disclosure.MONEY_NOTE
            + " A site's figure is also withheld where it would give away another's."
        )
