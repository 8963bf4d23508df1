"""Chart builders: a DataFrame in, an Altair chart out, in the NHS look. No Streamlit here.

Each builder takes figures that have already been through disclosure control: a suppressed
value arrives as a blank (NaN) and is not drawn.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from phb import contract

NHS_BLUE = "#005EB8"
TEXT = "#212B32"
SECONDARY_TEXT = "#4C6272"
TINT = "#F0F4F5"
GREY = "#AEB7BD"
SITE_COLOURS = ("#005EB8", "#00A499", "#AE2573", "#ED8B00", "#009639", "#41B6E6", "#330072")
GROUP_COLOURS = {"Budget holders": NHS_BLUE, "Comparison group": "#ED8B00"}
PLOT_HEIGHT = 240
# The height is the plot's own, so titles and legends add to it rather than squeeze it.
PLOT_ONLY = alt.AutoSizeParams(type="fit-x", contains="padding")
FONT = "Arial, 'Helvetica Neue', Helvetica, sans-serif"


@alt.theme.register("nhs", enable=True)
def nhs_theme() -> alt.theme.ThemeConfig:
    """The NHS identity colours and readable type, with no chart junk."""
    return {
        "config": {
            "font": FONT,
            "background": "#FFFFFF",
            "view": {"stroke": None},
            "title": {
                "color": TEXT,
                "fontSize": 15,
                "limit": 0,
                "fontWeight": "bold",
                "anchor": "start",
                "subtitleColor": SECONDARY_TEXT,
                "subtitleFontSize": 12,
                "offset": 12,
            },
            "axis": {
                "labelColor": SECONDARY_TEXT,
                "titleColor": TEXT,
                "labelFontSize": 12,
                "titleFontSize": 13,
                "titleFontWeight": "normal",
                "gridColor": "#E8EDEE",
                "domainColor": GREY,
                "tickColor": GREY,
                "labelLimit": 260,
            },
            "axisX": {"grid": False},
            "legend": {
                "labelColor": TEXT,
                "titleColor": TEXT,
                "labelFontSize": 12,
                "titleFontSize": 12,
                "orient": "bottom",
                "direction": "horizontal",
                "titleFontWeight": "normal",
                "labelLimit": 220,
            },
            "range": {"category": list(SITE_COLOURS)},
            "line": {"strokeWidth": 2.5},
            "bar": {"color": NHS_BLUE},
        }
    }


def finding_title(text: str, subtitle: str, width: int = 34) -> alt.Title:
    """A chart title stating the finding, wrapped so it fits a narrow chart."""
    import textwrap

    return alt.Title(textwrap.wrap(text, width) or [""], subtitle=textwrap.wrap(subtitle, width + 10))


def site_colour_scale(site_names: dict[str, str], shown: list[str] | None = None) -> alt.Scale:
    """A fixed colour per site (by code order), the same on every chart whatever is selected;
    only the sites `shown` (names) enter the legend."""
    colours = dict(zip(site_names.values(), SITE_COLOURS))
    names = [n for n in site_names.values() if shown is None or n in shown]
    return alt.Scale(domain=names, range=[colours[n] for n in names])


def budgets_over_time(frame: pd.DataFrame, site_names: dict[str, str], title: str, subtitle: str) -> alt.Chart:
    """Budgets in place at each month end, a line per site."""
    line = (
        alt.Chart(frame)
        .mark_line(point=alt.OverlayMarkDef(size=18))
        .encode(
            x=alt.X("on_date:T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=0, tickCount=6)),
            y=alt.Y("budgets:Q", title="Budgets in place"),
            color=alt.Color(
                "site:N",
                title=None,
                scale=site_colour_scale(site_names, frame["site"].unique().tolist()),
                legend=alt.Legend(columns=2, labelLimit=150),
            ),
            tooltip=[
                alt.Tooltip("site:N", title="Site"),
                alt.Tooltip("on_date:T", title="On", format="%d %b %Y"),
                alt.Tooltip("label:N", title="Budgets in place"),
            ],
        )
    )
    return line.properties(title=finding_title(title, subtitle), height=PLOT_HEIGHT, autosize=PLOT_ONLY)


def spend_by_category(frame: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    """Spending by category, largest first, as horizontal bars."""
    data = frame.assign(
        category_name=frame["category"].map(contract.LABELS),
        spend_label=frame["spend_gbp"].map(lambda v: "withheld (fewer than 8 people)" if pd.isna(v) else f"£{v:,.0f}"),
        sort_value=frame["spend_gbp"].fillna(-1),
    )
    base = alt.Chart(data).encode(
        # an explicit order: a sort by field is lost when the bars and the notes share the axis
        y=alt.Y(
            "category_name:N",
            title=None,
            sort=data.sort_values("sort_value", ascending=False)["category_name"].tolist(),
        ),
        tooltip=[
            alt.Tooltip("category_name:N", title="Category"),
            alt.Tooltip("spend_label:N", title="Spending, net of refunds"),
        ],
    )
    bars = base.mark_bar(color=NHS_BLUE).encode(
        x=alt.X(
            "spend_gbp:Q",
            title="Spending (£)",
            axis=alt.Axis(format="~s", labelExpr="datum.value == 0 ? '£0' : '£' + datum.label"),
        )
    )
    # A withheld category says so, rather than looking like no spending at all.
    withheld = (
        base.transform_filter("!isValid(datum.spend_gbp)")
        .mark_text(align="left", dx=4, color=SECONDARY_TEXT, fontSize=11)
        .encode(x=alt.datum(0), text=alt.value("withheld: fewer than 8 people"))
    )
    return (bars + withheld).properties(title=finding_title(title, subtitle), height=PLOT_HEIGHT, autosize=PLOT_ONLY)


def admissions_by_month(frame: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    """Emergency admissions by month, a line for each group."""
    data = frame.assign(group=frame["grp"].map(contract.LABELS))
    line = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=18))
        .encode(
            x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=0, tickCount=6)),
            y=alt.Y("admissions:Q", title="Emergency admissions"),
            color=alt.Color(
                "group:N",
                title=None,
                scale=alt.Scale(domain=list(GROUP_COLOURS), range=list(GROUP_COLOURS.values())),
            ),
            tooltip=[
                alt.Tooltip("group:N", title="Group"),
                alt.Tooltip("month:T", title="From", format="%B %Y"),
                alt.Tooltip("label:N", title="Emergency admissions"),
            ],
        )
    )
    return line.properties(title=finding_title(title, subtitle), height=PLOT_HEIGHT, autosize=PLOT_ONLY)
