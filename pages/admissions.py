"""Hospital admissions: trends under SPC, before and after, the budget effect, bed days and cost."""

import pandas as pd
import streamlit as st

from phb import admissions, charts, config, disclosure, ui, views
from phb import formatting as fmt

context = ui.page_context()
names = context.site_names
st.title("Hospital admissions")
ui.active_filters(context)

costs = ui.unit_cost_inputs("unit_cost")
mental, acute = dict(costs)["mental_health"], dict(costs)["general_acute"]
data = ui.admissions_data(context, costs, effects=True)
filters = context.filters

# The budget effect -----------------------------------------------------------------------------
st.header("Did emergency admissions fall further with a budget?")
effect = admissions.effect(data)
st.markdown(f"**{admissions.effect_sentence(effect)}**")
if effect is not None:
    st.markdown(admissions.naive_sentence(effect))
    ui.show_view(views.ADMISSIONS_EFFECT, data, names)
    ui.show_view(views.EFFECT_BY_SITE, data, names)

# Before and after ------------------------------------------------------------------------------
st.header("Emergency admissions before and after the index date")
rates = admissions.before_after(data, names)
ui.show_chart_or_say_why(
    rates["rate"],
    "Too few emergency admissions in this selection to show rates.",
    charts.rates_before_after(
        rates,
        "Both groups had fewer emergency admissions in the year after the index date"
        if effect is not None and effect.holders_change < 1 and effect.comparison_change < 1
        else "Emergency admissions per person-year, before and after",
        "Per person-year at risk in the 12 months before and after each person's index date "
        "(budget start, or a comparable date); 95% intervals: exact Poisson below 10 "
        "admissions, Byar's method from 10",
    ),
    "Dot charts of emergency admission rates before and after the index date by site and group",
)

# Trends ------------------------------------------------------------------------------------------
st.header("Trends under statistical process control")
measures = {"admissions": "Emergency admissions", "bed_days": "Bed days"}
ui.url_choice("spc_measure", "spc_measure", measures, "measure")
measure = st.radio("Measure", list(measures.values()), horizontal=True, key="spc_measure")
column = next(k for k, v in measures.items() if v == measure)
scope_names = {None: admissions.ALL_SITES} | {c: names[c] for c in sorted(data.at_risk["site_code"].dropna().unique())}
ui.url_choice("spc_site", "spc_scope", {c: c for c in scope_names if c}, "site for the trends")
scope = st.selectbox(
    "Sites",
    list(scope_names),
    format_func=scope_names.get,
    key="spc_scope",
    help="All selected sites together, or one site.",
)
ui.write_url_choice("spc_measure", None if column == "admissions" else column)
ui.write_url_choice("spc_site", scope)
go_lives = admissions.go_live_dates(data, filters)
quarters = ui.at_risk_quarters(context)
left, right = st.columns(2)
for column_box, grp in ((left, "budget_holders"), (right, "comparison")):
    with column_box:
        chart, grain, why = admissions.spc_series(data, scope, grp, column, filters, quarters)
        who = admissions.GROUPS[grp]
        if why:
            st.info(f"{who}: {why}", icon=":material/visibility_off:")
            continue
        ui.show_chart(
            charts.spc_rate_chart(
                chart,
                grain,
                admissions.SPC_MEASURES[column],
                go_lives,
                admissions.spc_title(chart, grain, who),
                admissions.spc_note(chart, grain),
            ),
            f"u′ chart of {measure.lower()} per 100 person-months at risk for {who.lower()}",
        )
st.caption(admissions.SPC_METHOD)
# Bed days and cost ---------------------------------------------------------------------------------
st.header("Bed days and cost")
beds = admissions.bed_days(data)
if beds.empty:
    st.info(
        "No admissions in the year before or after the index date for this selection.", icon=":material/visibility_off:"
    )
else:
    holders = beds[beds["group"] == "Budget holders"]
    before = pd.to_numeric(holders.loc[holders["window"] == "Year before", "cost_gbp"], errors="coerce").sum()
    after = pd.to_numeric(holders.loc[holders["window"] == "Year after", "cost_gbp"], errors="coerce").sum()
    complete = not (holders["cost_gbp"] == disclosure.SUPPRESSED).any()
    cost_title = (
        f"Budget holders' hospital costs fell from {fmt.money(before)} to {fmt.money(after)} a year"
        if complete and before and after < before
        else "Hospital costs in the year before and after the index date"
    )
    ui.show_chart_or_say_why(
        pd.to_numeric(beds["cost_gbp"], errors="coerce"),
        "Too few people to show costs for this selection.",
        charts.bed_days_cost(
            beds,
            config.PRICE_BASE,
            cost_title,
            "All admissions in the 12 months before and after the index date, by setting; a setting is withheld "
            f"where {disclosure.FEWER} people contribute or one or two make up most of it",
        ),
        "Bar charts of hospital costs before and after the index date by setting and group",
    )
    cost = f"Cost ({config.PRICE_BASE})"
    ui.table(
        disclosure.publish(
            pd.DataFrame(
                {
                    "Group": beds["group"],
                    "Setting": beds["setting"],
                    "Window": beds["window"],
                    "Admissions": beds["admissions"].map(fmt.count),
                    "Bed days": beds["bed_days"].map(lambda v: v if v == disclosure.SUPPRESSED else fmt.count(v)),
                    cost: beds["cost_gbp"].map(fmt.money),
                }
            ),
            {
                **dict.fromkeys(["Group", "Setting", "Window"], "label"),
                "Admissions": "count",
                "Bed days": "days",
                cost: "money",
            },
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption(
        f"All admissions in the 12 months before and after the index date. Cost is the extract's where given, "
        f"otherwise bed days × £{mental:,.0f} (mental health) or £{acute:,.0f} (general acute), "
        f"{config.PRICE_BASE}. {disclosure.MONEY_NOTE}"
    )
