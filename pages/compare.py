"""Compare sites: funnel plots, a benchmark table and a linked view for clinicians."""

import pandas as pd
import streamlit as st

from phb import admissions, charts, compare, disclosure, ui, uptake, views
from phb import formatting as fmt
from phb.warehouse import connect


@st.cache_data(show_spinner=False)
def _load(warehouse: str, version: str, filters) -> compare.CompareData:
    with connect(warehouse) as con:
        return compare.load(con, filters)


def _picked(event) -> str | None:
    """The site clicked on a funnel plot, if any."""
    if event is None:
        return None
    chosen = event.selection.get("site_pick") if hasattr(event, "selection") else None
    if isinstance(chosen, list) and chosen:
        return chosen[0].get("site")
    if isinstance(chosen, dict) and chosen.get("site"):
        value = chosen["site"]
        return value[0] if isinstance(value, list) else value
    return None


context = ui.page_context()
names = context.site_names
st.title("Compare sites")
ui.active_filters(context)
st.caption(
    "Sites of very different sizes: a ranked table would be mostly noise. A funnel plot shows each site against how "
    "much chance variation its size allows; the benchmark table marks a site better or worse only where its 95% "
    "interval excludes the all-sites value."
)
data = _load(str(context.warehouse), context.info.data_version, context.filters)
if len(data.uptake.sites) < 2:
    st.info(
        "One site chosen: it is compared with all sites together. Choose more in the sidebar to see them side by side.",
        icon=":material/compare_arrows:",
    )

left, right = st.columns(2)
with left:
    event_uptake = ui.show_view(views.UPTAKE_FUNNEL, data, names, key="funnel_uptake", on_select="rerun")
    if event_uptake is not None:
        st.caption(views.UPTAKE_FUNNEL.notes(data, names) + " Click a site to see it below.")
with right:
    ratios, ratio_lines = compare.admissions_funnel(data, names)
    event_adm = None
    if len(ratios) and ratios["value"].notna().any() and ratio_lines is not None:
        event_adm = ui.show_chart(
            charts.funnel(
                ratios,
                ratio_lines,
                1.0,
                "Expected emergency admissions",
                "Observed ÷ expected",
                compare.funnel_title(ratios, "emergency admissions"),
                "Budget holders' emergency admissions in the year after the index date against the number "
                "expected at all-sites rates for their age; 1 is the all-sites level. Click a site to see "
                "it below.",
                ".2f",
            ),
            "Funnel plot of standardised emergency admission ratios by site against expected admissions",
            on_select="rerun",
            key="funnel_admissions",
        )
        st.caption(compare.dispersion_note(ratios))
    else:
        st.info(
            "Too few emergency admissions to place sites on an admissions funnel.", icon=":material/visibility_off:"
        )

# Benchmark table ---------------------------------------------------------------------------------
st.header("Benchmarks")
table = compare.benchmark(data, names)
if table.empty:
    st.info("Nothing to benchmark for this selection.", icon=":material/visibility_off:")
else:
    shown = table.rename(
        columns={
            "site": "Site",
            "measure": "Measure",
            "value": "Value",
            "interval": "95% interval",
            "benchmark": "All sites",
            "marking": "Against all sites",
            "polarity": "Better is",
        }
    )
    shown["Against all sites"] = shown["Against all sites"].str.capitalize()
    # the column says it is all sites: keep only what the value adds, so every column fits
    shown["All sites"] = (
        shown["All sites"]
        .str.replace(" (all sites)", "", regex=False)
        .str.replace(" (all sites, standardised by age)", " (age-standardised)", regex=False)
    )
    # values and intervals are worked out from shown counts, as text to set places
    shown = disclosure.publish(shown, dict.fromkeys(shown.columns, "label"))
    styled = shown.style.map(
        lambda v: (
            f"background-color: {charts.MARKING_COLOURS.get(str(v).lower(), charts.WHITE)}; "
            f"color: {charts.WHITE if str(v).lower() in ('better', 'worse') else charts.TEXT}"
        ),
        subset=["Against all sites"],
    )
    ui.table(
        styled,
        hide_index=True,
        width="stretch",
        height="content",  # every row, and no empty one after the last
        column_config={  # widths in pixels that fit the page's width beside the sidebar, with every column whole
            "Site": st.column_config.Column(width=120),
            "Measure": st.column_config.Column(width=250),
            "Value": st.column_config.Column(width=60),
            "95% interval": st.column_config.Column(width=110),
            "All sites": st.column_config.Column(width=155),
            "Against all sites": st.column_config.Column(width=115),
            "Better is": st.column_config.Column(width=110),
        },
    )
    st.caption(
        "Better or worse: the site's 95% interval excludes the all-sites value (Wilson intervals for percentages; "
        "exact Poisson or Byar's for the admissions ratio). Similar: it does not, so the difference may be chance. "
        "Marked in words as well as colour."
    )

# Linked view -------------------------------------------------------------------------------------
st.header("One site in detail")
picked = _picked(event_adm) or _picked(event_uptake)
by_name = {name: code for code, name in names.items() if code in set(data.uptake.sites["site_code"])}
if picked is None:
    st.caption("Click a site on either funnel plot, or choose one here.")
    ui.url_choice("detail", "compare_site", {code: name for name, code in by_name.items()}, "site in detail")
    picked = st.selectbox("Site", list(by_name), key="compare_site", index=None, placeholder="Choose a site")
ui.write_url_choice("detail", by_name[picked] if picked else None)
if picked:
    code = by_name[picked]
    st.subheader(f"{ui.plain(picked)}: emergency admissions and the budget pathway")
    filters = context.filters
    one, two = st.columns(2)
    with one:
        trends = ui.admissions_data(context)  # read only once a site is picked for the detail
        chart, grain, why = admissions.spc_series(
            trends, code, "budget_holders", "admissions", filters, ui.at_risk_quarters(context)
        )
        if why:
            st.info(f"{ui.plain(picked)}, budget holders: {why}", icon=":material/visibility_off:")
        else:
            ui.show_chart(
                charts.spc_rate_chart(
                    chart,
                    grain,
                    admissions.SPC_MEASURES["admissions"],
                    admissions.go_live_dates(trends, filters).query("site == @picked"),
                    admissions.spc_title(chart, grain, f"{picked}, budget holders"),
                    admissions.spc_note(chart, grain),
                ),
                f"u′ chart of emergency admissions per 100 person-months at risk for {picked}",
            )
    with two:
        site_data = uptake.UptakeData(
            pathway=data.uptake.pathway[data.uptake.pathway["site_code"] == code].assign(site_code=None),
            sites=data.uptake.sites,
            monthly=data.uptake.monthly,
            management=data.uptake.management,
            groups=data.uptake.groups,
        )
        steps = uptake.pathway_steps(site_data)
        ui.show_chart_or_say_why(
            steps["people"] if len(steps) else pd.Series(dtype=float),
            f"Nobody at {picked} was referred in this period.",
            charts.pathway_funnel(
                steps,
                f"{picked}: the budget pathway",
                uptake.pathway_title(site_data),
            ),
            f"Bar chart of the budget pathway at {picked}",
        )

# Validity ------------------------------------------------------------------------------------------
st.header("How far to trust these comparisons")
notes = [
    compare.limits_note(len(context.filters.sites or names)),
    "Uptake is measured against each site's own eligible population, which sites defined for themselves.",
    "The admissions ratio is standardised for age only; sites may differ in need in ways age does not capture.",
]
small = ratios[(ratios["denominator"] < compare.SMALL_DENOMINATOR)]["site"].tolist() if len(ratios) else []
if small:
    notes.append(
        f"Small expected counts (under {compare.SMALL_DENOMINATOR}) at {fmt.some_sites(small, len(ratios))}: "
        f"{'its' if len(small) == 1 else 'their'} limits are wide and a single admission moves the ratio a lot."
    )
notes.append("SPC charts with fewer than 12 points have trial limits only.")
st.markdown("\n".join(f"- {n}" for n in notes))
