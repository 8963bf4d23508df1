"""Value for money: what budgets cost against the hospital costs they change, break-even and sensitivity,
by site and management option, and the caveats."""

import pandas as pd
import streamlit as st

from phb import disclosure, ui, value, views
from phb.warehouse import connect


@st.cache_data(show_spinner="Working out the bootstrap interval…")
def _load(warehouse: str, version: str, filters, unit_costs: tuple, names: tuple) -> value.ValueData:
    with connect(warehouse) as con:
        data = value.load(con, filters, dict(unit_costs), need_people=False)
    # the estimates are worked out here, once, and only they are kept in the cache (not the people behind them)
    return data.for_page(dict(names))


context = ui.page_context()
names = context.site_names
st.title("Value for money")
ui.active_filters(context)
st.markdown(
    "Do budgets pay for themselves? For budget holders against the comparison group: the money spent from "
    "budgets in the year from the budget start, against the change in hospital costs from the year before the "
    "index date to the year after, beyond the comparison group's change (difference in differences)."
)

costs = ui.unit_cost_inputs("value_unit_cost")
mental, acute = dict(costs)["mental_health"], dict(costs)["general_acute"]
data = _load(str(context.warehouse), context.info.data_version, context.filters, costs, tuple(names.items()))
result = None if data.headline is None else data.headline.result

# The answer ------------------------------------------------------------------------------------------
st.header("Net cost per budget holder per year")
if result is None:
    st.info(value.sentence(None), icon=":material/visibility_off:")
else:
    c1, c2, c3 = st.columns(3)
    c1.metric(
        "Net cost per holder per year",
        value.pounds(result.net),
        delta=f"95% interval {value.pounds(result.low)} to {value.pounds(result.high)}",
        delta_color="off",
        delta_arrow="off",
        help="Spent from the budget, plus the change in hospital costs beyond the comparison group's; "
        "below £0 means budgets saved more than they cost.",
    )
    c2.metric(
        "Spent from budgets per holder per year",
        value.pounds(result.spend),
        help="Net of refunds, in the 12 months from each budget's start, per holder-year.",
    )
    c3.metric(
        "Hospital costs avoided per holder per year",
        value.pounds(result.saving),
        help="How much further budget holders' hospital costs fell than the comparison group's, per person-year "
        "(negative: they rose more).",
    )
    st.markdown(f"**{value.sentence(result)}**")
    ui.show_view(views.VALUE_BY_SCOPE, data, names)

# Break-even and sensitivity -----------------------------------------------------------------------------
st.header("Break-even and sensitivity")
if result is not None:
    st.markdown(value.break_even_sentence(result, float(mental)))
    ui.show_view(views.BREAK_EVEN, data, names)
    st.markdown(value.effect_sentence(data.headline, data.effect))
    ui.show_view(views.EFFECT_SENSITIVITY, data, names)
else:
    st.info(
        "Nothing to show: value for money cannot be estimated for this selection.", icon=":material/visibility_off:"
    )

# Caveats ----------------------------------------------------------------------------------------------------
st.header("What this does not count, and why it may mislead")
st.markdown("\n".join(f"- {line}" for line in value.CAVEATS))

# The figures -------------------------------------------------------------------------------------------------
if result is not None:
    st.header("The figures")
    cost = f"({data.price_base} unit costs)"
    rows = pd.DataFrame(
        {
            "Figure": [
                "Net cost per budget holder per year",
                "95% interval, from",
                "95% interval, to",
                "Spent from budgets per holder per year",
                "Hospital costs avoided per holder per year",
                "Budget holders' expected hospital cost per year without budgets",
                "Break-even cost of a mental health bed day",
                "Mental health bed day cost used",
                "General acute bed day cost used",
            ],
            "Value": [
                value.pounds(result.net),
                value.pounds(result.low),
                value.pounds(result.high),
                value.pounds(result.spend),
                value.pounds(result.saving),
                value.pounds(result.counterfactual),
                "none: bed days did not fall further" if result.break_even is None else value.pounds(result.break_even),
                f"£{mental:,.0f} {cost}",
                f"£{acute:,.0f} {cost}",
            ],
        }
    )
    ui.table(disclosure.publish(rows, {"Figure": "label", "Value": "figure"}), hide_index=True, width="stretch")
st.caption(value.METHOD_NOTE)
