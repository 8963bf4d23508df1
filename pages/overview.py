"""Overview: the headline figures for the selection and one small chart per theme."""

import streamlit as st

from phb import charts, disclosure, national, overview, ui, views
from phb import formatting as fmt
from phb.warehouse import connect


@st.cache_data(show_spinner=False)
def _load(warehouse: str, version: str, filters) -> overview.OverviewData:
    rows = ui.spend_by_category(warehouse, version, filters)  # read once for this page and Spending
    with connect(warehouse) as con:
        return overview.worked_out(overview.load(con, filters, rows))


context = ui.page_context()
st.title("Personal health budgets in the mental health pilots")
ui.active_filters(context)

data = _load(str(context.warehouse), context.info.data_version, context.filters)
figures = overview.headline(data)
block = figures["all_sites"]
on = fmt.day(context.filters.date_to)

if block["referred"] == 0 and block["budgets_in_place"] == 0 and block["spend_gbp"] in (0, 0.0, None):
    st.info(
        "Nothing happened in this selection: no referrals, budgets or spending. Widen the period or "
        "choose other sites.",
        icon=":material/filter_alt_off:",
    )

st.header("Budget uptake")
c1, c2, c3, c4 = st.columns(4)
c1.metric("People referred", fmt.count(block["referred"]), help="People who entered the budget pathway in the period.")
c2.metric(
    f"Budgets in place on {on}",
    fmt.count(block["budgets_in_place"]),
    help="Started on or before this day and not ended by it.",
)
plan_pct = block["budgets_pct_of_plan"]
c3.metric(
    "Budgets at pilot end against plan",
    f"{fmt.count(block['budgets_at_pilot_end'])} of {fmt.count(block['planned_budgets'])}",
    delta=None if plan_pct in (None, disclosure.SUPPRESSED) else f"{plan_pct:.0f}% of plan",
    delta_color="off",
    delta_arrow="off",
    help="Budgets in place on each site's pilot end (or the end of the period, if earlier), against "
    "the budgets the sites planned by then.",
)
c4.metric(
    "Uptake at pilot end",
    fmt.pct(block["uptake_pct"]),
    delta=None if block["uptake_ci"] in (None, disclosure.SUPPRESSED) else "95% CI " + fmt.interval(block["uptake_ci"]),
    delta_color="off",
    delta_arrow="off",
    help="Budgets in place at pilot end as a share of the eligible population "
    f"({fmt.count(block['eligible_population'])} people), with its 95% Wilson interval.",
)

st.header("Spending and hospital admissions")
d1, d2, d3 = st.columns([1, 1.5, 1.5])
d1.metric(
    "Total spending",
    fmt.money(block["spend_gbp"]),
    help="Paid from budgets in the period, net of refunds and recoveries.",
)
d2.metric(
    "Emergency admissions, budget holders",
    f"{fmt.count(block['emergency_admissions_pre'])} → {fmt.count(block['emergency_admissions_post'])}",
    delta=overview.change_words(block["emergency_admissions_pre"], block["emergency_admissions_post"]),
    delta_color="inverse",
    help="In the 12 months before and the 12 months after the budget started, for budget holders whose "
    "budget started in the period.",
)
d3.metric(
    "Emergency admissions, comparison group",
    f"{fmt.count(block['comparison_admissions_pre'])} → {fmt.count(block['comparison_admissions_post'])}",
    delta=overview.change_words(block["comparison_admissions_pre"], block["comparison_admissions_post"]),
    delta_color="inverse",
    help="In the 12 months before and after a comparable index date, for similar people not offered a budget.",
)

left, middle, right = st.columns(3)
with left:
    frame = overview.budgets_over_time(data, context.site_names)
    ui.show_chart_or_say_why(
        frame["budgets"],
        "Too few budgets in place to show over time for this selection.",
        charts.budgets_over_time(
            frame,
            context.site_names,
            overview.budgets_title(block, frame, on),
            "Budgets in place at each month end, by site",
        ),
        "Line chart of budgets in place at each month end, one line per site",
    )
with middle:
    frame = overview.spend_by_category(data)
    ui.show_chart_or_say_why(
        frame["spend_gbp"],
        views.sentence(views.SPEND_BY_CATEGORY.why_empty),
        charts.spend_by_category(
            frame, overview.spend_title(frame, block["spend_gbp"]), views.SPEND_BY_CATEGORY.subtitle
        ),
        views.SPEND_BY_CATEGORY.alt_text,
    )
with right:
    frame = overview.admissions_by_month(data, context.filters)
    ui.show_chart_or_say_why(
        frame["admissions"],
        "Too few emergency admissions to show by month or quarter for this selection.",
        charts.admissions_by_month(frame, overview.admissions_title(block), overview.admissions_subtitle(frame)),
        "Line chart of emergency admissions by month for budget holders and the comparison group",
    )
    st.caption(
        "Emergency admissions change: from the year before each person's index date (budget "
        "start, or a comparable date) to the year after. Quarters are shown where some months have too few "
        "admissions to publish; a month or quarter the period covers only in part is left out."
    )

st.subheader("The pilots in the national picture")


# from the result sets loaded above: the Overview's queries are not run a second time for this chart
ui.show_view(views.NATIONAL_PICTURE, national.from_overview(data, context.info.synthetic), context.site_names)
