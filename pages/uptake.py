"""Budget uptake: the pathway, progress against plan, uptake rates, how budgets are held, who is reached."""

import streamlit as st

from phb import charts, disclosure, ui, uptake, views
from phb import formatting as fmt
from phb.warehouse import connect


@st.cache_data(show_spinner=False)
def _load(warehouse: str, version: str, filters) -> uptake.UptakeData:
    with connect(warehouse) as con:
        return uptake.load(con, filters)


@st.cache_data(show_spinner=False)
def _reach(warehouse: str, version: str, filters):
    """Conversion by group with its tests (Fisher's exact test for each group), once per selection."""
    return uptake.reach(_load(warehouse, version, filters))


context = ui.page_context()
names = context.site_names
st.title("Budget uptake")
ui.active_filters(context)
data = _load(str(context.warehouse), context.info.data_version, context.filters)

# The pathway ---------------------------------------------------------------------------------
st.header("From referral to budget in place")
steps = uptake.pathway_steps(data)
ui.show_view(views.PATHWAY, data, names)  # or, with nobody referred, the view's words for why
if not views.nobody_referred(data):
    table = uptake.pathway_table(data, names)
    shown = table.assign(
        **{
            "Referred": table["referred"].map(fmt.count),
            "Offered": [
                f"{fmt.count(c)} ({fmt.pct(p, 0)})" for c, p in zip(table["offered"], table["offered_pct_of_referred"])
            ],
            "Plan agreed": [
                f"{fmt.count(c)} ({fmt.pct(p, 0)})"
                for c, p in zip(table["plan_agreed"], table["plan_agreed_pct_of_offered"])
            ],
            "Budget in place": [
                f"{fmt.count(c)} ({fmt.pct(p, 0)})"
                for c, p in zip(table["budget_in_place"], table["budget_in_place_pct_of_plan_agreed"])
            ],
            "Referral to budget": table["budget_pct_of_referred"].map(lambda p: fmt.pct(p, 0)),
            "Declined": table["declined"].map(fmt.count),
            "Withdrew": table["withdrawn"].map(fmt.count),
            "Still in planning": table["in_planning"].map(fmt.count),
            "Median days to budget": table["median_days_to_budget"].map(
                lambda d: d if d == disclosure.SUPPRESSED else ("–" if d is None or d != d else f"{d:.0f}")
            ),
        }
    )
    ui.table(
        disclosure.publish(
            shown,
            {
                "Site": "label",
                "Referred": "count",
                "Offered": "label",  # count (share of the step before), both as shown
                "Plan agreed": "label",
                "Budget in place": "label",
                "Referral to budget": "label",
                "Declined": "count",
                "Withdrew": "count",
                "Still in planning": "count",
                "Median days to budget": "days_quantile",
            },
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption(
        "People referred in the period. Each step shows the people who reached it by the period's last day and, in "
        "brackets, the share of those at the step before. Declined and withdrew are final recorded outcomes. "
        "Median days from referral to budget start: the average of the 5 people nearest the middle, to the "
        f"whole day, withheld where {disclosure.FEWER} people have a budget. " + disclosure.NOTE
    )

# Against plan ---------------------------------------------------------------------------------
st.header("Budgets in place against plan")
ui.show_view(views.BUDGETS_AGAINST_PLAN, data, names)

# Uptake rates -----------------------------------------------------------------------------------
st.header("Uptake of the eligible population")
ui.show_view(views.UPTAKE_BY_SITE, data, names)

# How budgets are held -----------------------------------------------------------------------------
st.header("How budgets are held")
shares = uptake.management_shares(data, names)
ui.show_chart_or_say_why(
    shares["share_pct"],
    uptake.management_empty_reason(shares),
    charts.management_shares(
        shares,
        uptake.management_title(shares),
        f"Budgets set up in the period by management option. Sites with an option of {disclosure.FEWER} budgets are "
        "combined; hover for counts.",
    ),
    "Stacked bar chart of the share of budgets by management option for each site",
)

# Who is reached ----------------------------------------------------------------------------------
st.header("Who is reached")
groups = _reach(str(context.warehouse), context.info.data_version, context.filters)
block = uptake.pathway_blocks(data).get(None)
overall_conv = None if block is None else block["budget_pct_of_referred"]
ui.show_chart_or_say_why(
    groups["conversion_pct"],
    "Too few people referred to compare groups for this selection.",
    charts.reach(
        groups,
        overall_conv if overall_conv not in (None, disclosure.SUPPRESSED) else None,
        uptake.reach_title(groups),
        "Share of people referred in the period who have a budget, by group, with 95% Wilson intervals; the dashed "
        "line is everyone referred. Each group is tested against everyone else referred (Fisher's exact test, "
        "Holm-adjusted for the number of groups).",
    ),
    "Dot charts of conversion from referral to budget by age, sex, ethnicity, deprivation and primary need",
)
for sentence in uptake.reach_statements(groups):
    st.markdown(f"- {sentence}")
if groups["conversion_pct"].notna().any() and not groups["differs"].any():
    st.markdown("- No group's conversion differs from everyone else's beyond what chance would explain.")
