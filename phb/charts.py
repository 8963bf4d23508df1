"""Chart builders: a DataFrame in, an Altair chart out, in the NHS look. No Streamlit here.

Each builder takes figures that have already been through disclosure control: a suppressed
value arrives as a blank (NaN) and is not drawn.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import threading
from collections import OrderedDict

import altair as alt
import pandas as pd

from phb import contract, disclosure
from phb.stats import RULE_WORDS, FunnelLimits

# The NHS identity colours, named once: every chart, export and pack colour comes from here
NHS_BLUE = "#005EB8"
AQUA_GREEN = "#00A499"
PINK = "#AE2573"
ORANGE = "#ED8B00"
GREEN = "#009639"
LIGHT_BLUE = "#41B6E6"
PURPLE = "#330072"
DARK_RED = "#8A1538"
MID_GREY = "#768692"
WARM_YELLOW = "#FFB81C"
DARK_PINK = "#7C2855"
PALE_BLUE = "#A7C6ED"
WHITE = "#FFFFFF"
PALE_GREY = "#E8EDEE"
BORDER_GREY = "#D8DDE0"
TEXT = "#212B32"
SECONDARY_TEXT = "#4C6272"
GREY = "#AEB7BD"
SITE_COLOURS = (NHS_BLUE, AQUA_GREEN, PINK, ORANGE, GREEN, LIGHT_BLUE, PURPLE)
GROUP_COLOURS = {"Budget holders": NHS_BLUE, "Comparison group": ORANGE}


class KeptCharts:
    """The charts made most recently, each under the SHA-256 of its builder's name and arguments (frames,
    words, numbers). A builder is a pure function of its arguments, so the same arguments make the same
    chart: a rerun, or another session showing the same view, gets the chart already made instead of
    making it again (making the Altair objects is most of a warm page run's time). Kept charts are shared
    between sessions, so nothing may change one in place (Altair's methods all return a copy). A call
    whose arguments cannot be pickled is made each time."""

    def __init__(self, size: int = 256):
        self.size, self.hits, self.misses = size, 0, 0
        self._kept: OrderedDict[str, alt.TopLevelMixin] = OrderedDict()
        self._keys: dict[int, tuple[alt.TopLevelMixin, str]] = {}  # id(chart) -> (chart, key), for key_of
        self._lock = threading.Lock()

    def get(self, builder, args: tuple, kwargs: dict):
        try:
            made_of = (builder.__qualname__, _canonical(args), _canonical(kwargs))
            key = hashlib.sha256(pickle.dumps(made_of, protocol=5)).hexdigest()
        except Exception:  # noqa: BLE001 - arguments that cannot be pickled: made each time, not kept
            return builder(*args, **kwargs)
        with self._lock:
            chart = self._kept.get(key)
            if chart is not None:
                self._kept.move_to_end(key)
                self.hits += 1
                return chart
        chart = builder(*args, **kwargs)
        with self._lock:
            self.misses += 1
            self._kept[key] = chart
            self._keys[id(chart)] = (chart, key)
            while len(self._kept) > self.size:
                _, dropped = self._kept.popitem(last=False)
                self._keys.pop(id(dropped), None)
        return chart

    def key_of(self, chart) -> str | None:
        """The key a kept chart was made under (None for a chart not kept here)."""
        with self._lock:
            held = self._keys.get(id(chart))
        return held[1] if held is not None and held[0] is chart else None

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._keys.clear()


KEPT = KeptCharts()


def _canonical(value):
    """The value with each frame or series as plain data (names, types and values), so that equal frames
    give equal pickles whatever their memory layout (a frame read back from Streamlit's cache pickles
    differently from the same frame made afresh)."""
    if isinstance(value, pd.DataFrame):
        return (
            "frame",
            _canonical(value.index),
            tuple((name, _canonical(value.iloc[:, i])) for i, name in enumerate(value.columns)),
            _canonical(dict(value.attrs)),
        )
    if isinstance(value, pd.Series | pd.Index):
        kind = value.dtype
        plain = getattr(kind, "kind", "O") in "biufcmM" and not isinstance(kind, pd.api.extensions.ExtensionDtype)
        values = value.to_numpy().tobytes() if plain else value.tolist()
        return ("column", str(kind), value.name, values)
    if isinstance(value, dict):
        return ("dict", tuple((k, _canonical(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_canonical(v) for v in value))
    return value


def kept(builder):
    """A chart builder whose charts are kept in KEPT (see KeptCharts)."""

    @functools.wraps(builder)
    def made(*args, **kwargs):
        return KEPT.get(builder, args, kwargs)

    made.uncached = builder
    return made


PLOT_HEIGHT = 240
# The height is the plot's own, so titles and legends add to it rather than squeeze it.
PLOT_ONLY = alt.AutoSizeParams(type="fit-x", contains="padding")
# money axis labels as a brief writes them: £0, £50k, £1.2m
MONEY_LABEL = "datum.value == 0 ? '£0' : '£' + replace(datum.label, 'M', 'm')"
FONT = "Arial, 'Helvetica Neue', Helvetica, sans-serif"


@alt.theme.register("nhs", enable=True)
def nhs_theme() -> alt.theme.ThemeConfig:
    """The NHS identity colours and readable type, with no chart junk."""
    return {
        "config": {
            "font": FONT,
            "background": WHITE,
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
                "gridColor": PALE_GREY,
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


# Every column any chart may carry to the browser, with its kind of figure (disclosure.publish):
# a chart whose data has a column not declared here is refused, so a new figure must be declared.
COLUMNS = {
    **dict.fromkeys(
        ["band", "category", "category_name", "count_text", "label", "limit", "measure", "on_date", "order"], "label"
    ),
    **dict.fromkeys(["pilot_end", "position", "side", "site", "site_code", "step", "text", "value_text"], "label"),
    **dict.fromkeys(["group", "window", "grp", "month", "period", "option", "sites_in_bar", "note", "all"], "label"),
    **dict.fromkeys(["go_live", "spend_label", "rate_text", "interval_text", "flag", "by", "name"], "label"),
    **dict.fromkeys(["shape", "spend_text", "tip", "admissions_text", "ci_text"], "label"),
    "budgets_text": "count",  # budgets as shown (a count, or fewer than 8), in words
    "period_start": "label",
    **dict.fromkeys(["series", "source", "confidence"], "label"),  # value for money and the national picture
    "published": "figure",  # a published national figure (data/reference), not pilot data
    "unit_costs": "label",  # the bed-day unit costs a value-for-money chart was worked out at
    **dict.fromkeys(["cost_text", "days_text", "holders_text", "median_text", "q1_text", "q3_text"], "label"),
    **dict.fromkeys(["option_order", "referred_text", "rule_name", "setting", "share_text", "variation_name"], "label"),
    **dict.fromkeys(["characteristic", "finding", "direction", "differs"], "label"),
    "status": "label",
    "plan_text": "reference",  # a site's planned budgets as shown (disclosure.reference), in words
    "referred": "count",
    "versus": "label",
    "eligible": "figure",
    "cost": "figure",
    **dict.fromkeys(["budgets", "count", "people", "admissions", "holders"], "count"),
    # already disclosure-controlled and rounded where they are made (money, planning figures,
    # rates, ratios, intervals, funnel positions and the lines drawn around published centres)
    **dict.fromkeys(["denominator", "plan", "value", "c", "x", "low", "high", "rate_ratio"], "figure"),
    "rate": "rate",
    **dict.fromkeys(["spend_gbp", "refunds", "cost_gbp"], "money"),
    "bed_days": "days",
    **dict.fromkeys(["median", "q1", "q3"], "money_quantile"),
    "sort_value": "figure",  # the spending shown, with -1 for a withheld category (sorted last)
    **dict.fromkeys(["shown", "mean", "lpl", "upl", "variation", "rule", "special_cause"], "figure"),
    **dict.fromkeys(["centre", "lcl", "ucl"], "rate"),
    "label_y": "figure",
    **dict.fromkeys(["pct_of_referred", "share_pct", "conversion_pct", "rest_pct", "utilisation_pct"], "pct"),
    "pct_of_plan": "pct",
    "uptake_pct": "uptake",
    "change_pct": "change",
}


def _chart(frame: pd.DataFrame) -> alt.Chart:
    """A chart of published figures only: the frame goes through disclosure.publish with each column's
    declared kind (a column not in COLUMNS is an error), so nothing else reaches the browser."""
    undeclared = [c for c in frame.columns if c not in COLUMNS]
    if undeclared:
        raise disclosure.UnpublishedError(f"chart columns not declared in charts.COLUMNS: {undeclared}")
    # layers of one chart share one published frame (a facet needs the very same data in each layer)
    # (kept per thread: each Streamlit session runs in its own thread, so no session sees another's frames)
    published = _PUBLISHED.__dict__.setdefault("frames", {})
    held = published.get(id(frame))
    if held is None or held[0] is not frame:
        held = (frame, disclosure.publish(frame, {c: COLUMNS[c] for c in frame.columns}))
        if len(published) > 32:
            published.clear()
        published[id(frame)] = held  # the frame is held too, so its id is not reused meanwhile
    return alt.Chart(held[1])


_PUBLISHED = threading.local()  # .frames: {id(frame): (frame, its published copy)}


def finding_title(text: str, subtitle: str, width: int = 34) -> alt.Title:
    """A chart title stating the finding, wrapped so it fits a narrow chart."""
    import textwrap

    return alt.Title(textwrap.wrap(text, width) or [""], subtitle=textwrap.wrap(subtitle, width + 10))


def site_colour_scale(site_names: dict[str, str], shown: list[str] | None = None) -> alt.Scale:
    """A fixed colour per site (by code order), the same on every chart whatever is selected;
    only the sites `shown` (names) enter the legend. With more sites than colours (a national extract)
    the colours are used again in turn, so the chart is still drawn."""
    colours = {name: SITE_COLOURS[i % len(SITE_COLOURS)] for i, name in enumerate(site_names.values())}
    names = [n for n in site_names.values() if shown is None or n in shown]
    return alt.Scale(domain=names, range=[colours[n] for n in names])


@kept
def budgets_over_time(frame: pd.DataFrame, site_names: dict[str, str], title: str, subtitle: str) -> alt.Chart:
    """Budgets in place at each month end, a line per site."""
    line = (
        _chart(frame)
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


@kept
def spend_by_category(frame: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    """Spending by category, largest first, as horizontal bars."""
    data = frame.assign(
        category_name=frame["category"].map(contract.LABELS),
        spend_label=frame["spend_gbp"].map(lambda v: disclosure.FEWER_OR_DOMINATED if pd.isna(v) else f"£{v:,.0f}"),
        sort_value=frame["spend_gbp"].fillna(-1),
    )
    base = _chart(data).encode(
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
            axis=alt.Axis(format="~s", labelExpr=MONEY_LABEL),
        )
    )
    # A withheld category says so, rather than looking like no spending at all.
    withheld = (
        base.transform_filter("!isValid(datum.spend_gbp)")
        .mark_text(align="left", dx=4, color=SECONDARY_TEXT, fontSize=11)
        .encode(x=alt.datum(0), text=alt.value("withheld: too few people, or one or two make up most of it"))
    )
    return (bars + withheld).properties(title=finding_title(title, subtitle), height=PLOT_HEIGHT, autosize=PLOT_ONLY)


@kept
def admissions_by_month(frame: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    """Emergency admissions by month, a line for each group."""
    data = frame.assign(group=frame["grp"].map(contract.LABELS))
    line = (
        _chart(data)
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


OPTION_COLOURS = {"Notional budget": NHS_BLUE, "Third-party budget": AQUA_GREEN, "Direct payment": ORANGE}


@kept
def pathway_funnel(frame: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    """The pathway steps as horizontal bars, each labelled with its count and share of referrals."""
    data = frame.assign(
        text=[
            lab if pd.isna(p) else f"{lab} ({p:.0f}% of referred)"
            for lab, p in zip(frame["label"], frame["pct_of_referred"])
        ]
    )
    order = data.sort_values("order")["step"].tolist()
    base = _chart(data).encode(
        y=alt.Y("step:N", title=None, sort=order, axis=alt.Axis(labelFontSize=13)),
        tooltip=[alt.Tooltip("step:N", title="Step"), alt.Tooltip("text:N", title="People")],
    )
    bars = base.mark_bar(color=NHS_BLUE, height=26).encode(x=alt.X("people:Q", title="People", axis=None))
    labels = base.mark_text(align="left", dx=6, color=TEXT, fontSize=13).encode(
        x=alt.X("people:Q"), text=alt.Text("text:N")
    )
    return (bars + labels).properties(title=finding_title(title, subtitle, width=90), height=180, autosize=PLOT_ONLY)


@kept
def budgets_against_plan(
    frame: pd.DataFrame, targets: pd.DataFrame, panels: list[str], title: str, subtitle: str
) -> alt.Chart:
    """Small multiples: budgets in place over time per panel, the plan drawn as a dashed target
    line with a diamond at the pilot end. Each panel has its own scale so small sites can be read."""
    data = frame.merge(targets, on="site", how="left")
    base = _chart(data).encode(
        x=alt.X("on_date:T", title=None, axis=alt.Axis(format="%b %y", labelAngle=0, tickCount=4)),
    )
    line = base.mark_line(color=NHS_BLUE, point=alt.OverlayMarkDef(size=12, color=NHS_BLUE)).encode(
        y=alt.Y("budgets:Q", title="Budgets in place"),
        tooltip=[
            alt.Tooltip("site:N", title="Site"),
            alt.Tooltip("on_date:T", title="On", format="%d %b %Y"),
            alt.Tooltip("label:N", title="Budgets in place"),
        ],
    )
    target = _chart(data).mark_rule(color=PINK, strokeDash=[6, 4], strokeWidth=1.5).encode(y=alt.Y("max(plan):Q"))
    diamond = (
        _chart(data)
        .mark_point(shape="diamond", size=90, filled=True, color=PINK)
        .encode(
            x=alt.X("max(pilot_end):T"),
            y=alt.Y("max(plan):Q"),
            tooltip=[alt.Tooltip("max(plan):Q", title="Planned budgets by pilot end")],
        )
    )
    return (
        alt.layer(line, target, diamond)
        .properties(width=165, height=130)
        .facet(
            facet=alt.Facet("site:N", title=None, sort=panels, header=alt.Header(labelFontSize=13, labelColor=TEXT)),
            columns=4,
        )
        .resolve_scale(y="independent")
        .properties(title=finding_title(title, subtitle, width=80))
    )


PLAN_COLOURS = {"passed plan": NHS_BLUE, "half of plan or more": MID_GREY, "below half of plan": ORANGE}


@kept
def plan_reached(frame: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    """Budgets in place at each site's pilot end as a percentage of its plan (uptake.plan_reached): a bar per
    site in the frame's order, coloured by how far it got, labelled with its percentage, and the plan marked at
    100%. Drawn in place of budgets_against_plan's small multiples when there are more sites than panels can
    show. A site with no percentage (its count or plan withheld, or no plan) has no bar, only its words."""
    order = frame["site"].tolist()
    top = max([100.0, *frame["pct_of_plan"].dropna()]) * 1.15  # room for the longest bar's words
    base = _chart(frame).encode(
        y=alt.Y("site:N", title=None, sort=order, axis=alt.Axis(labelFontSize=13, labelLimit=320)),
        tooltip=[
            alt.Tooltip("site:N", title="Site"),
            alt.Tooltip("text:N", title="Budgets at pilot end as % of plan"),
            alt.Tooltip("status:N", title="How far"),
            alt.Tooltip("budgets_text:N", title="Budgets at pilot end"),
            alt.Tooltip("plan_text:N", title="Planned budgets by pilot end"),
        ],
    )
    bars = base.mark_bar(height=16).encode(
        x=alt.X(
            "pct_of_plan:Q",
            title="Budgets in place at pilot end as % of plan",
            axis=alt.Axis(tickCount=6, labelExpr="datum.label + '%'"),
            scale=alt.Scale(domain=[0, top]),
        ),
        color=alt.Color(
            "status:N", title=None, scale=alt.Scale(domain=list(PLAN_COLOURS), range=list(PLAN_COLOURS.values()))
        ),
    )
    # each bar's words at its end, or at 0 where there is no bar (worked out in the browser: no figure of its own)
    labels = (
        base.transform_calculate(at="isValid(datum.pct_of_plan) ? datum.pct_of_plan : 0")
        .mark_text(align="left", dx=4, color=TEXT)
        .encode(x="at:Q", text="text:N")
    )
    plan = _chart(pd.DataFrame({"x": [100.0], "text": ["Plan"]}))
    rule = plan.mark_rule(color=PINK, strokeDash=[6, 4], strokeWidth=1.5).encode(x="x:Q")
    note = plan.mark_text(align="left", dx=4, dy=-6, color=TEXT, fontSize=12).encode(
        x="x:Q", y=alt.value(0), text="text:N"
    )
    # the plan's line first, so the bars and their words are drawn over it
    return alt.layer(rule, bars, labels, note).properties(
        title=finding_title(title, subtitle, width=80), height=max(60, 22 * len(frame)), autosize=PLOT_ONLY
    )


@kept
def uptake_by_site(frame: pd.DataFrame, overall_pct: float | None, title: str, subtitle: str) -> alt.Chart:
    """Uptake per site with its 95% interval, sorted, and the all-sites rate as a dashed line."""
    data = frame.assign(
        ci_text=[
            "withheld" if pd.isna(lo) else f"{lo:.1f}% to {hi:.1f}%" for lo, hi in zip(frame["low"], frame["high"])
        ],
        rate_text=["withheld" if pd.isna(r) else f"{r:.1f}%" for r in frame["uptake_pct"]],
        budgets_text=[str(b) if b != disclosure.SUPPRESSED else disclosure.FEWER for b in frame["budgets"]],
    )
    order = data["site"].tolist()
    base = _chart(data).encode(
        y=alt.Y("site:N", title=None, sort=order, axis=alt.Axis(labelFontSize=13)),
        tooltip=[
            alt.Tooltip("site:N", title="Site"),
            alt.Tooltip("rate_text:N", title="Uptake at pilot end"),
            alt.Tooltip("ci_text:N", title="95% interval"),
            alt.Tooltip("budgets_text:N", title="Budgets at pilot end"),
            alt.Tooltip("eligible:N", title="Eligible population"),
        ],
    )
    interval = base.mark_rule(color=SECONDARY_TEXT, strokeWidth=2).encode(
        x=alt.X(
            "low:Q",
            title="Uptake: budgets at pilot end as % of the eligible population",
            axis=alt.Axis(tickCount=6, labelExpr="datum.label + '%'"),
        ),
        x2="high:Q",
    )
    point = base.mark_point(filled=True, size=110, color=NHS_BLUE).encode(x="uptake_pct:Q")
    layers = [interval, point]
    if overall_pct is not None:
        reference = (
            _chart(pd.DataFrame({"rate": [overall_pct], "text": [f"All selected sites {overall_pct:.1f}%"]}))
            .mark_rule(color=TEXT, strokeDash=[5, 4])
            .encode(x="rate:Q")
        )
        note = reference.mark_text(align="left", dx=4, dy=-6, color=TEXT, fontSize=12).encode(
            text="text:N", y=alt.value(0)
        )
        layers += [reference, note]
    return alt.layer(*layers).properties(
        title=finding_title(title, subtitle, width=80), height=max(60, 34 * len(data)), autosize=PLOT_ONLY
    )


@kept
def management_shares(frame: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    """How budgets are held: a 100% bar per site, counts in the tooltip."""
    data = frame.assign(
        share_text=["withheld" if pd.isna(s) else f"{s:.0f}%" for s in frame["share_pct"]],
        option_order=frame["option"].map({name: i for i, name in enumerate(OPTION_COLOURS)}),
    )
    order = list(dict.fromkeys(data["site"]))
    bars = (
        _chart(data)
        .mark_bar(height=22)
        .encode(
            y=alt.Y("site:N", title=None, sort=order, axis=alt.Axis(labelFontSize=13, labelLimit=260)),
            x=alt.X("share_pct:Q", title="Share of budgets set up in the period (%)", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "option:N",
                title=None,
                scale=alt.Scale(domain=list(OPTION_COLOURS), range=list(OPTION_COLOURS.values())),
            ),
            order=alt.Order("option_order:Q"),
            tooltip=[
                alt.Tooltip("site:N", title="Site"),
                alt.Tooltip("sites_in_bar:N", title="Sites"),
                alt.Tooltip("option:N", title="Held as"),
                alt.Tooltip("share_text:N", title="Share"),
                alt.Tooltip("budgets:N", title="Budgets"),
            ],
        )
    )
    return bars.properties(
        title=finding_title(title, subtitle, width=80), height=max(60, 32 * len(order)), autosize=PLOT_ONLY
    )


@kept
def reach(frame: pd.DataFrame, overall_pct: float | None, title: str, subtitle: str) -> alt.Chart:
    """Conversion from referral to budget by group, one panel per characteristic, with intervals;
    groups that differ from the rest beyond chance are coloured and say so in the tooltip."""
    # only what is shown goes to the browser: the test results stay as the words of `finding`
    data = frame[["characteristic", "group", "referred", "conversion_pct", "low", "high"]].assign(
        finding=[
            ("Lower than the rest, beyond chance" if d == "lower" else "Higher than the rest, beyond chance")
            if flag
            else "Not different beyond chance"
            for flag, d in zip(frame["differs"], frame["direction"])
        ],
        rate_text=["withheld" if pd.isna(r) else f"{r:.0f}%" for r in frame["conversion_pct"]],
        ci_text=[
            "withheld" if pd.isna(lo) else f"{lo:.0f}% to {hi:.0f}%" for lo, hi in zip(frame["low"], frame["high"])
        ],
        referred_text=[str(v) if v != disclosure.SUPPRESSED else disclosure.FEWER for v in frame["referred"]],
        referred=[str(v) for v in frame["referred"]],  # counts and '*' as text: one type for the browser
    )
    colours = {
        "Lower than the rest, beyond chance": PINK,
        "Higher than the rest, beyond chance": GREEN,
        "Not different beyond chance": SECONDARY_TEXT,
    }
    panels = []
    for characteristic in dict.fromkeys(data["characteristic"]):
        part = data[data["characteristic"] == characteristic]
        base = _chart(part).encode(
            y=alt.Y("group:N", title=None, sort=part["group"].tolist(), axis=alt.Axis(labelLimit=200)),
            tooltip=[
                alt.Tooltip("group:N", title=characteristic),
                alt.Tooltip("rate_text:N", title="Referred who have a budget"),
                alt.Tooltip("ci_text:N", title="95% interval"),
                alt.Tooltip("referred_text:N", title="People referred"),
                alt.Tooltip("finding:N", title="Against everyone else"),
            ],
        )
        x = alt.X("conversion_pct:Q", title="Referred who have a budget (%)", scale=alt.Scale(domain=[0, 100]))
        interval = base.mark_rule(strokeWidth=2, color=GREY).encode(x=alt.X("low:Q", title=None), x2="high:Q")
        point = base.mark_point(filled=True, size=90).encode(
            x=x,
            color=alt.Color(
                "finding:N", title=None, scale=alt.Scale(domain=list(colours), range=list(colours.values()))
            ),
            shape=alt.Shape("finding:N", title=None),
        )
        layers = [interval, point]
        if overall_pct is not None:
            layers.append(
                _chart(pd.DataFrame({"rate": [overall_pct]}))
                .mark_rule(color=TEXT, strokeDash=[5, 4])
                .encode(x="rate:Q")
            )
        panels.append(alt.layer(*layers).properties(title=characteristic, width=300, height=22 * len(part)))
    rows = [alt.hconcat(*panels[i : i + 2]) for i in range(0, len(panels), 2)]
    return alt.vconcat(*rows).properties(title=finding_title(title, subtitle, width=80))


CATEGORY_COLOURS = (
    NHS_BLUE, AQUA_GREEN, PINK, ORANGE, GREEN, LIGHT_BLUE, PURPLE, DARK_RED, MID_GREY, WARM_YELLOW,
)  # fmt: skip


@kept
def share_grid(frame: pd.DataFrame, rows: str, title: str, subtitle: str, row_title: str) -> alt.Chart:
    """A grid of shares (rows by category) shaded by size and labelled in each cell; withheld cells
    are marked so they do not read as zero."""
    data = frame.assign(
        text=["*" if pd.isna(v) else f"{v:.0f}%" for v in frame["share_pct"]],
        tip=[f"withheld ({disclosure.FEWER} people)" if pd.isna(v) else f"{v:.0f}%" for v in frame["share_pct"]],
    )
    base = _chart(data).encode(
        x=alt.X("category:N", title=None, axis=alt.Axis(labelAngle=-35, labelLimit=160, orient="top")),
        y=alt.Y(f"{rows}:N", title=None, sort=list(dict.fromkeys(data[rows])), axis=alt.Axis(labelLimit=220)),
        tooltip=[
            alt.Tooltip(f"{rows}:N", title=row_title),
            alt.Tooltip("category:N", title="Category"),
            alt.Tooltip("tip:N", title="Share of spending"),
        ],
    )
    cells = base.mark_rect(stroke=WHITE, strokeWidth=2).encode(
        color=alt.Color(
            "share_pct:Q",
            title="Share of spending (%)",
            scale=alt.Scale(scheme="blues", domainMin=0),
            legend=alt.Legend(orient="right", direction="vertical", gradientLength=120),
        )
    )
    labels = base.mark_text(fontSize=12).encode(
        text="text:N",
        color=alt.condition("datum.share_pct > 25", alt.value(WHITE), alt.value(TEXT)),
    )
    height = 30 * data[rows].nunique()
    return (cells + labels).properties(
        title=finding_title(title, subtitle, width=90), height=height, autosize=PLOT_ONLY
    )


@kept
def spend_over_time(frame: pd.DataFrame, grain: str, title: str, subtitle: str) -> alt.Chart:
    """Spending per month or quarter, stacked by category."""
    palette = dict(zip([contract.LABELS[c] for c in contract.SPEND_CATEGORIES], CATEGORY_COLOURS))
    palette["All categories"] = NHS_BLUE
    present = set(frame["name"])
    names = [n for n in palette if n in present]
    bars = (
        _chart(frame.dropna(subset=["spend_gbp"]))
        .mark_bar()
        .encode(
            x=alt.X(
                "period_start:T",
                title=None,
                timeUnit="yearmonth" if grain == "month" else "yearquarter",
                axis=alt.Axis(format="%b %Y" if grain == "month" else "Q%q %Y", labelAngle=0, tickCount=8),
            ),
            y=alt.Y(
                "sum(spend_gbp):Q",
                title=f"Spending per {grain} (£)",
                axis=alt.Axis(format="~s", labelExpr=MONEY_LABEL),
            ),
            color=alt.Color(
                "name:N",
                title=None,
                scale=alt.Scale(domain=names, range=list(CATEGORY_COLOURS)),
                legend=alt.Legend(columns=5, labelLimit=200),
            ),
            order=alt.Order("category:N"),
            tooltip=[
                alt.Tooltip("period_start:T", title="From", format="%B %Y"),
                alt.Tooltip("name:N", title="Category"),
                alt.Tooltip("sum(spend_gbp):Q", title="Spending (£)", format=",.0f"),
            ],
        )
    )
    return bars.properties(title=finding_title(title, subtitle, width=90), height=PLOT_HEIGHT, autosize=PLOT_ONLY)


@kept
def per_holder(frame: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    """The middle half of spending per holder (quartile to quartile) with the median marked, per
    site; no whiskers or points, which would be single people."""
    data = frame.assign(
        q1_text=[("withheld" if pd.isna(v) else f"£{v:,.0f}") for v in frame["q1"]],
        median_text=[
            (f"withheld ({disclosure.FEWER} holders)" if pd.isna(v) else f"£{v:,.0f}") for v in frame["median"]
        ],
        q3_text=[("withheld" if pd.isna(v) else f"£{v:,.0f}") for v in frame["q3"]],
        holders_text=[(disclosure.FEWER if v == disclosure.SUPPRESSED else f"{v:,}") for v in frame["holders"]],
    )
    base = _chart(data).encode(
        y=alt.Y("site:N", title=None, sort=data["site"].tolist(), axis=alt.Axis(labelFontSize=13)),
        tooltip=[
            alt.Tooltip("site:N", title="Site"),
            alt.Tooltip("median_text:N", title="Median per holder"),
            alt.Tooltip("q1_text:N", title="Lower quartile"),
            alt.Tooltip("q3_text:N", title="Upper quartile"),
            alt.Tooltip("holders_text:N", title="Budget holders"),
        ],
    )
    box = base.mark_bar(height=16, color=PALE_BLUE).encode(
        x=alt.X(
            "q1:Q",
            title="Spending per budget holder in the period (£)",
            axis=alt.Axis(format="~s", labelExpr=MONEY_LABEL),
        ),
        x2="q3:Q",
    )
    median = base.mark_tick(color=NHS_BLUE, thickness=3, size=22).encode(x="median:Q")
    return (box + median).properties(
        title=finding_title(title, subtitle, width=90), height=34 * len(data), autosize=PLOT_ONLY
    )


FLAG_COLOURS = {
    "large underspend": ORANGE,
    "within range": NHS_BLUE,
    "large overspend": PINK,
}


@kept
def utilisation(frame: pd.DataFrame, low: float, high: float, title: str, subtitle: str) -> alt.Chart:
    """Utilisation per site (and option), with the under- and overspend thresholds marked."""
    data = frame.dropna(subset=["utilisation_pct"]).assign(
        # a flagged bar says so in its label too (never colour alone)
        text=lambda d: [
            f"{v:.0f}%" + ("" if flag == "within range" else f" ({flag})")
            for v, flag in zip(d["utilisation_pct"], d["flag"])
        ],
        holders_text=lambda d: [(disclosure.FEWER if v == disclosure.SUPPRESSED else f"{v:,}") for v in d["holders"]],
    )
    order = data["name"].tolist()
    base = _chart(data).encode(
        y=alt.Y("name:N", title=None, sort=order, axis=alt.Axis(labelFontSize=13, labelLimit=220)),
        tooltip=[
            alt.Tooltip("name:N", title="Site or option"),
            alt.Tooltip("text:N", title="Spent of pro rata budget"),
            alt.Tooltip("flag:N", title="Flag"),
            alt.Tooltip("holders_text:N", title="Budget holders"),
        ],
    )
    bars = base.mark_bar(height=18).encode(
        x=alt.X("utilisation_pct:Q", title="Spending as % of annual budgets pro rata to time in place"),
        color=alt.Color(
            "flag:N", title=None, scale=alt.Scale(domain=list(FLAG_COLOURS), range=list(FLAG_COLOURS.values()))
        ),
    )
    labels = base.mark_text(align="left", dx=4, color=TEXT).encode(x="utilisation_pct:Q", text="text:N")
    limits = (
        _chart(pd.DataFrame({"x": [low, 100, high]})).mark_rule(strokeDash=[4, 4], color=SECONDARY_TEXT).encode(x="x:Q")
    )
    return (bars + labels + limits).properties(
        title=finding_title(title, subtitle, width=50), height=30 * len(data), autosize=PLOT_ONLY
    )


VARIATION_COLOURS = {
    "Common cause": GREY,
    "Improvement (special cause)": LIGHT_BLUE,
    "Concern (special cause)": ORANGE,
    "Special cause, neither better nor worse": DARK_PINK,
}
VARIATION_SHAPES = {
    "Common cause": "circle",
    "Improvement (special cause)": "triangle-down",
    "Concern (special cause)": "triangle-up",
    "Special cause, neither better nor worse": "diamond",
}
VARIATION_NAMES = {
    "common_cause": "Common cause",
    "improvement": "Improvement (special cause)",
    "concern": "Concern (special cause)",
    "neutral": "Special cause, neither better nor worse",
}


@kept
def spc_rate_chart(
    frame: pd.DataFrame, grain: str, measure_title: str, go_lives: pd.DataFrame, title: str, subtitle: str
) -> alt.Chart:
    """A u' chart in the Making Data Count style: rates per 100 person-months at risk, points coloured by
    variation (lower is better), the centre line and each point's own process limits (stepped, as they
    vary with the people at risk), go-live dates marked, the rule that fired in the tooltip."""
    # only what may be published goes to the browser: period, rate, centre line, limits, variation and rule
    # (never the person-months at risk or the admissions the rate was worked out from)
    data = frame[["period", "rate", "centre", "lcl", "ucl", "variation", "rule"]].assign(
        variation_name=frame["variation"].map(VARIATION_NAMES),
        rule_name=frame["rule"].map(lambda r: RULE_WORDS.get(r, r) or "none"),
    )
    time_axis = alt.X(
        "period:T",
        title=None,
        axis=alt.Axis(format="%b %Y" if grain == "month" else "Q%q %Y", labelAngle=0, labelOverlap=True, tickCount=5),
    )
    base = _chart(data).encode(x=time_axis)
    centre = base.mark_line(color=TEXT, strokeWidth=1.5).encode(y=alt.Y("centre:Q"))
    upper = base.mark_line(color=SECONDARY_TEXT, strokeDash=[6, 4], strokeWidth=1.2, interpolate="step-after").encode(
        y="ucl:Q"
    )
    lower = base.mark_line(color=SECONDARY_TEXT, strokeDash=[6, 4], strokeWidth=1.2, interpolate="step-after").encode(
        y="lcl:Q"
    )
    line = base.mark_line(color=GREY, strokeWidth=1.5).encode(y=alt.Y("rate:Q", title=measure_title))
    # special cause differs in shape as well as colour (never colour alone): a concern points up, an
    # improvement down (lower is better), neither a diamond, common cause a circle; a dark edge keeps
    # pale points visible against white
    points = base.mark_point(filled=True, size=70, stroke=TEXT, strokeWidth=0.6).encode(
        y="rate:Q",
        color=alt.Color(
            "variation_name:N",
            title=None,
            scale=alt.Scale(domain=list(VARIATION_COLOURS), range=list(VARIATION_COLOURS.values())),
            legend=alt.Legend(columns=2, labelLimit=260),
        ),
        shape=alt.Shape(
            "variation_name:N",
            title=None,
            scale=alt.Scale(domain=list(VARIATION_SHAPES), range=list(VARIATION_SHAPES.values())),
            legend=alt.Legend(columns=2, labelLimit=260),
        ),
        tooltip=[
            alt.Tooltip("period:T", title="From", format="%B %Y"),
            alt.Tooltip("rate:Q", title=measure_title, format=",.2f"),
            alt.Tooltip("variation_name:N", title="Variation"),
            alt.Tooltip("rule_name:N", title="Rule that fired"),
            alt.Tooltip("centre:Q", title="Centre line", format=",.2f"),
            alt.Tooltip("lcl:Q", title="Lower process limit", format=",.2f"),
            alt.Tooltip("ucl:Q", title="Upper process limit", format=",.2f"),
        ],
    )
    layers = [centre, upper, lower, line, points]
    lives = go_lives[
        (pd.to_datetime(go_lives["go_live"]) >= data["period"].min())
        & (pd.to_datetime(go_lives["go_live"]) <= data["period"].max())
    ]
    if len(lives):
        marks = _chart(lives).encode(x=alt.X("go_live:T"))
        layers.append(marks.mark_rule(color=PINK, strokeDash=[2, 3]).encode(tooltip=["site:N", "go_live:T"]))
    return alt.layer(*layers).properties(
        title=finding_title(title, subtitle, width=55), height=PLOT_HEIGHT, autosize=PLOT_ONLY
    )


WINDOWS = ["Year before", "Year after"]
# the year before in grey, the year after in blue, side by side in each row
BEFORE_AFTER = {
    "yOffset": alt.YOffset("window:N", sort=WINDOWS),
    "color": alt.Color("window:N", title=None, sort=WINDOWS, scale=alt.Scale(domain=WINDOWS, range=[GREY, NHS_BLUE])),
}


@kept
def rates_before_after(frame: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    """Emergency admissions per person-year, year before and after, with 95% intervals, by site,
    one panel per group."""
    data = frame.dropna(subset=["rate"]).assign(
        rate_text=lambda d: [f"{r:.2f} ({lo:.2f} to {hi:.2f})" for r, lo, hi in zip(d["rate"], d["low"], d["high"])],
        admissions_text=lambda d: [
            (disclosure.FEWER if v == disclosure.SUPPRESSED else f"{v:,}") for v in d["admissions"]
        ],
        # a withheld count has no rate, so its row is left out above: the counts left are whole numbers
        admissions=lambda d: [int(v) for v in d["admissions"]],
    )
    sites = list(dict.fromkeys(data["site"]))
    base = _chart(data).encode(
        y=alt.Y("site:N", title=None, sort=sites, axis=alt.Axis(labelLimit=200)),
        **BEFORE_AFTER,
        tooltip=[
            alt.Tooltip("site:N", title="Site"),
            alt.Tooltip("group:N", title="Group"),
            alt.Tooltip("window:N", title="Window"),
            alt.Tooltip("rate_text:N", title="Per person-year (95% interval)"),
            alt.Tooltip("admissions_text:N", title="Emergency admissions"),
        ],
    )
    interval = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("low:Q", title="Emergency admissions per person-year"), x2="high:Q"
    )
    point = base.mark_point(filled=True, size=70).encode(x="rate:Q")
    return (
        alt.layer(interval, point)
        .properties(width=330, height=alt.Step(14))
        .facet(column=alt.Column("group:N", title=None, header=alt.Header(labelFontSize=13, labelColor=TEXT)))
        .properties(title=finding_title(title, subtitle, width=100))
    )


@kept
def forest(frame: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    """Forest plot of the budget effect (rate ratio, log scale) for all sites and each site."""
    data = frame.assign(
        text=[
            n if pd.isna(r) else f"{r:.2f} ({lo:.2f} to {hi:.2f})"
            for r, lo, hi, n in zip(frame["rate_ratio"], frame["low"], frame["high"], frame["note"])
        ],
        shape=["diamond" if a else "square" for a in frame["all"]],
    )
    shown = data.dropna(subset=["rate_ratio"])
    order = data["site"].tolist()
    lo = min(0.25, float(shown["low"].min()) * 0.9) if len(shown) else 0.25
    hi = max(2.0, float(shown["high"].max()) * 1.1) if len(shown) else 2.0
    x_scale = alt.Scale(type="log", domain=[lo, hi])
    rows = alt.Scale(domain=order)  # every site has a row, estimated or not, so the two panels line up
    base = _chart(shown).encode(
        y=alt.Y("site:N", title=None, scale=rows, axis=alt.Axis(labelFontSize=13, labelLimit=200)),
        tooltip=[alt.Tooltip("site:N", title="Site"), alt.Tooltip("text:N", title="Rate ratio (95% interval)")],
    )
    interval = base.mark_rule(strokeWidth=2, color=SECONDARY_TEXT).encode(
        x=alt.X("low:Q", scale=x_scale, title="Rate ratio: below 1 means fewer admissions with budgets"), x2="high:Q"
    )
    point = base.mark_point(filled=True, color=NHS_BLUE).encode(
        x=alt.X("rate_ratio:Q", scale=x_scale),
        shape=alt.Shape("shape:N", scale=None),
        size=alt.condition("datum.all", alt.value(220), alt.value(90)),
    )
    labels = (
        _chart(data)
        .mark_text(align="left", color=TEXT, fontSize=12)
        .encode(y=alt.Y("site:N", title=None, scale=rows, axis=None), x=alt.value(0), text="text:N")
    )
    none = (
        _chart(pd.DataFrame({"x": [1.0]}))
        .mark_rule(color=TEXT, strokeDash=[4, 4])
        .encode(x=alt.X("x:Q", scale=x_scale))
    )
    plot = alt.layer(none, interval, point).properties(width=460, height=34 * len(data))
    table = labels.properties(width=220, height=34 * len(data), title="Rate ratio (95% interval)")
    return alt.hconcat(plot, table, spacing=10).properties(title=finding_title(title, subtitle, width=100))


@kept
def effect_bars(frame: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    """The naive before/after change beside the comparison group's change and the budget effect;
    each bar's label carries its figure, so the chart reads without the axis."""
    labels = [
        # + 0.0 turns a rounded -0 into 0, so no change reads "+0%", never "-0%"
        f"{m}: {c + 0.0:+.0f}%" + ("" if pd.isna(lo) else f" ({lo + 0.0:+.0f}% to {hi + 0.0:+.0f}%)")
        for m, c, lo, hi in zip(frame["measure"], frame["change_pct"], frame["low"], frame["high"])
    ]
    data = frame.assign(label=labels)
    base = _chart(data).encode(
        y=alt.Y("label:N", title=None, sort=labels, axis=alt.Axis(labelLimit=460, labelFontSize=13)),
        tooltip=[alt.Tooltip("label:N", title="Change")],
    )
    bars = base.mark_bar(height=22).encode(
        x=alt.X("change_pct:Q", title="Change in emergency admission rate (%)"),
        color=alt.Color("label:N", legend=None, scale=alt.Scale(domain=labels, range=[GREY, ORANGE, NHS_BLUE])),
    )
    interval = base.mark_rule(strokeWidth=2, color=TEXT).encode(x="low:Q", x2="high:Q")
    zero = _chart(pd.DataFrame({"x": [0]})).mark_rule(color=TEXT).encode(x="x:Q")
    return (bars + interval + zero).properties(
        title=finding_title(title, subtitle, width=100), height=3 * 40, autosize=PLOT_ONLY
    )


@kept
def bed_days_cost(frame: pd.DataFrame, price_base: str, title: str, subtitle: str) -> alt.Chart:
    """Cost of admissions in the year before and after the index date, by setting, one panel per
    group; the price base is stated in the axis title."""
    data = frame.assign(
        cost=[disclosure.numeric(v) for v in frame["cost_gbp"]],
        cost_text=[disclosure.FEWER_OR_DOMINATED if v == "*" else f"£{v:,.0f}" for v in frame["cost_gbp"]],
        days_text=["withheld" if v == "*" else f"{v:,.0f}" for v in frame["bed_days"]],
    )
    base = _chart(data).encode(
        y=alt.Y("setting:N", title=None, axis=alt.Axis(labelFontSize=13)),
        **BEFORE_AFTER,
        tooltip=[
            alt.Tooltip("group:N", title="Group"),
            alt.Tooltip("setting:N", title="Setting"),
            alt.Tooltip("window:N", title="Window"),
            alt.Tooltip("days_text:N", title="Bed days"),
            alt.Tooltip("cost_text:N", title=f"Cost ({price_base})"),
        ],
    )
    bars = base.mark_bar().encode(
        x=alt.X(
            "cost:Q",
            title=f"Cost, £ at {price_base}",
            axis=alt.Axis(format="~s", labelExpr=MONEY_LABEL),
        )
    )
    return (
        bars.properties(width=330, height=alt.Step(16))
        .facet(column=alt.Column("group:N", title=None, header=alt.Header(labelFontSize=13, labelColor=TEXT)))
        .properties(title=finding_title(title, subtitle, width=100))
    )


POSITION_SHAPES = {
    "within 95% limits": "circle",
    "between 95% and 99.8% limits": "square",
    "beyond 99.8% limits": "triangle-up",
}
POSITION_COLOURS = {
    "within 95% limits": NHS_BLUE,
    "between 95% and 99.8% limits": ORANGE,
    "beyond 99.8% limits": PINK,
}


@kept
def funnel(
    points: pd.DataFrame,
    limits: FunnelLimits,
    centre: float,
    x_title: str,
    y_title: str,
    title: str,
    subtitle: str,
    value_format: str,
) -> alt.Chart:
    """A funnel plot: each site against its denominator, the all-sites value as a line and 95% and
    99.8% limits around it. Clicking a site selects it (parameter 'site_pick') for a linked view.
    The limit lines are worked out in the browser from `limits` (a sequence along the axis and the
    limits' formulas), so no grid of limit values is in the chart's data or its exports."""
    # only what is shown goes to the browser: no z-scores or unrounded figures
    data = points.dropna(subset=["value"])[["site", "denominator", "count", "value", "position"]].assign(
        band=lambda d: d["position"].str.replace(r" \((above|below)\)", "", regex=True),
        value_text=lambda d: [format(v, value_format) for v in d["value"]],
        count_text=lambda d: [(disclosure.FEWER if c == disclosure.SUPPRESSED else f"{c:,}") for c in d["count"]],
    )
    pick = alt.selection_point(name="site_pick", fields=["site"])
    x = alt.X("denominator:Q", title=x_title)
    # the limits flare at small denominators: keep the axis to the sites' own range, with room
    top = max(float(data["value"].max()) * 1.35, centre * 1.6) if len(data) else centre * 2
    data["label_y"] = funnel_label_positions(data["site"], data["denominator"], data["value"], top)
    step = (limits.stop - limits.start) / (FUNNEL_STEPS - 1)
    expressions = limits.expressions()
    # one field per line (plain names: Vega reads dots in a field name as a path), folded into rows
    calculated = {
        f"line{i}_{side}": expr
        for i, pair in enumerate(expressions.values())
        for side, expr in zip(("lower", "upper"), pair)
    }
    label_of = (
        " : ".join(f"indexof(datum.line, 'line{i}_') == 0 ? '{label}'" for i, label in enumerate(expressions)) + " : ''"
    )
    limit_lines = (
        alt.Chart(alt.sequence(limits.start, limits.stop + step / 2, step, as_="denominator"))
        .transform_calculate(**calculated)
        .transform_fold(list(calculated), as_=["line", "value"])
        .transform_calculate(limit=label_of, side="split(datum.line, '_')[1]")
        .mark_line(color=SECONDARY_TEXT, strokeWidth=1.2, clip=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=y_title, scale=alt.Scale(domain=[0, top])),
            detail="side:N",
            strokeDash=alt.StrokeDash(
                "limit:N", title=None, scale=alt.Scale(domain=list(expressions), range=[[6, 4], [2, 2]])
            ),
        )
    )
    centre_line = _chart(pd.DataFrame({"c": [centre]})).mark_rule(color=TEXT).encode(y="c:Q")
    dots = (
        _chart(data)
        .mark_point(filled=True, size=220, cursor="pointer", stroke=TEXT, strokeWidth=0.6)
        .encode(
            x=x,
            y="value:Q",
            # an outlier differs in shape as well as colour (never colour alone)
            color=alt.Color(
                "band:N",
                title=None,
                scale=alt.Scale(domain=list(POSITION_COLOURS), range=list(POSITION_COLOURS.values())),
            ),
            shape=alt.Shape(
                "band:N",
                title=None,
                scale=alt.Scale(domain=list(POSITION_SHAPES), range=list(POSITION_SHAPES.values())),
            ),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
            tooltip=[
                alt.Tooltip("site:N", title="Site"),
                alt.Tooltip("value_text:N", title=y_title),
                alt.Tooltip("count_text:N", title="Count"),
                alt.Tooltip("position:N", title="Position"),
            ],
        )
        .add_params(pick)
    )
    names = (
        _chart(data)
        .mark_text(align="left", baseline="middle", dx=9, color=TEXT, fontSize=12)
        .encode(x=x, y="label_y:Q", text="site:N")
    )
    return alt.layer(limit_lines, centre_line, dots, names).properties(
        title=finding_title(title, subtitle, width=55), height=FUNNEL_HEIGHT, autosize=PLOT_ONLY
    )


FUNNEL_HEIGHT = 300  # px of the plot area
FUNNEL_STEPS = 120  # points along each limit line, worked out in the browser
FUNNEL_NARROWEST = 300  # px: the narrowest the plot area is drawn (two columns on a small screen)
LABEL_HEIGHT = 15  # px of a 12px label's line
LABEL_CHAR = 7.0  # px per character of a 12px label, generous


def funnel_label_boxes(
    sites, denominators, label_y, x_top: float, y_top: float, width: float = FUNNEL_NARROWEST
) -> list[tuple[float, float, float, float]]:
    """Each label's box in pixels (left, top, right, bottom) on a plot area `width` wide, the x axis from 0 to
    x_top and the y axis from 0 to y_top (Vega-Lite's x axis starts at 0 and may round its top up, which only
    draws the labels closer together across than this, never on top of each other)."""
    boxes = []
    for site, d, y in zip(sites, denominators, label_y):
        left = float(d) / x_top * width + 9
        middle = FUNNEL_HEIGHT * (1 - float(y) / y_top)
        boxes.append((left, middle - LABEL_HEIGHT / 2, left + LABEL_CHAR * len(str(site)), middle + LABEL_HEIGHT / 2))
    return boxes


def boxes_overlap(a, b) -> bool:
    """Whether two (left, top, right, bottom) boxes share any area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def funnel_label_positions(sites, denominators, values, y_top: float) -> list[float]:
    """Where each site's label sits on the y axis: beside its point, or nudged up or down a line at a time
    until its box clears the labels already placed (highest point first), on the narrowest plot drawn."""
    sites, denominators, values = list(sites), [float(d) for d in denominators], [float(v) for v in values]
    x_top = max([*denominators, 1.0])
    per_px = y_top / FUNNEL_HEIGHT
    placed: dict[int, float] = {}
    for i in sorted(range(len(values)), key=lambda k: -values[k]):
        y = values[i]
        for step in (0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7):
            y = values[i] + step * LABEL_HEIGHT * per_px
            keys = [*placed, i]
            boxes = funnel_label_boxes(
                [sites[k] for k in keys], [denominators[k] for k in keys], [*placed.values(), y], x_top, y_top
            )
            if not any(boxes_overlap(boxes[-1], other) for other in boxes[:-1]):
                break
        placed[i] = y
    return [placed[i] for i in range(len(values))]


MARKING_COLOURS = {"better": GREEN, "similar": GREY, "worse": PINK, "too few to say": PALE_GREY}


# Value for money and the national picture (issue 16) -------------------------------------------------------


def _pounds(value: float) -> str:
    return ("-" if value < 0 else "") + f"£{abs(value):,.0f}"


@kept
def net_cost_forest(frame: pd.DataFrame, title: str, subtitle: str) -> alt.Chart:
    """Net cost per budget holder per year with its 95% interval, for all selected sites, each site and each
    management option, in a fixed order (never ranked); rows too small to estimate say so."""
    data = frame.assign(
        text=[
            n if pd.isna(v) else f"{_pounds(v)} ({_pounds(lo)} to {_pounds(hi)})"
            for v, lo, hi, n in zip(frame["value"], frame["low"], frame["high"], frame["note"])
        ],
        label=[f"{b}: {s}" if b != "All" else s for b, s in zip(frame["by"], frame["site"])],
        shape=["diamond" if a else "square" for a in frame["all"]],
    )
    shown = data.dropna(subset=["value"])
    order = data["label"].tolist()
    rows = alt.Scale(domain=order)
    lo = min(0.0, float(shown["low"].min())) if len(shown) else -1000.0
    hi = max(0.0, float(shown["high"].max())) if len(shown) else 1000.0
    x_scale = alt.Scale(domain=[lo, hi], nice=True)
    base = _chart(shown).encode(
        y=alt.Y("label:N", title=None, scale=rows, axis=alt.Axis(labelFontSize=13, labelLimit=260)),
        tooltip=[
            alt.Tooltip("label:N", title="Who"),
            alt.Tooltip("text:N", title="Net cost per holder per year (95% interval)"),
        ],
    )
    interval = base.mark_rule(strokeWidth=2, color=SECONDARY_TEXT).encode(
        x=alt.X(
            "low:Q",
            scale=x_scale,
            title="Net cost per budget holder per year (£): below 0 means budgets saved more than they cost",
            axis=alt.Axis(format=",.0f"),
        ),
        x2="high:Q",
    )
    point = base.mark_point(filled=True, color=NHS_BLUE).encode(
        x=alt.X("value:Q", scale=x_scale),
        shape=alt.Shape("shape:N", scale=None),
        size=alt.condition("datum.all", alt.value(220), alt.value(90)),
    )
    labels = (
        _chart(data)
        .mark_text(align="left", color=TEXT, fontSize=12)
        .encode(y=alt.Y("label:N", title=None, scale=rows, axis=None), x=alt.value(0), text="text:N")
    )
    zero = (
        _chart(pd.DataFrame({"x": [0.0]}))
        .mark_rule(color=TEXT, strokeDash=[4, 4])
        .encode(x=alt.X("x:Q", scale=x_scale))
    )
    plot = alt.layer(zero, interval, point).properties(width=420, height=30 * len(data))
    table = labels.properties(width=230, height=30 * len(data), title="£ per holder per year (95% interval)")
    return alt.hconcat(plot, table, spacing=10).properties(title=finding_title(title, subtitle, width=100))


@kept
def sensitivity_line(
    frame: pd.DataFrame, marks: pd.DataFrame, x_title: str, x_format: str, title: str, subtitle: str
) -> alt.LayerChart:
    """Net cost per holder-year (line) with its 95% band across a range of one assumption, a line at no net cost,
    and labelled vertical marks (`marks`: x and label), such as the break-even point and the value used."""
    band_tip = [
        alt.Tooltip("x:Q", title=x_title, format=x_format),
        alt.Tooltip("value:Q", title="Net cost per holder per year (£)", format=",.0f"),
        alt.Tooltip("low:Q", title="95% interval from (£)", format=",.0f"),
        alt.Tooltip("high:Q", title="to (£)", format=",.0f"),
    ]
    base = _chart(frame).encode(x=alt.X("x:Q", title=x_title, axis=alt.Axis(format=x_format)))
    # the y axis follows the line, with room for its band near the value used; a wider band is cut at the edge
    span = max(float(frame["value"].max() - frame["value"].min()), 1000.0)
    domain = [float(frame["value"].min()) - span, float(frame["value"].max()) + span]
    y_scale = alt.Scale(domain=domain, clamp=True, nice=False)
    band = base.mark_area(color=PALE_BLUE, opacity=0.6, clip=True).encode(
        y=alt.Y("low:Q", title="Net cost per budget holder per year (£)", axis=alt.Axis(format=",.0f"), scale=y_scale),
        y2="high:Q",
        tooltip=band_tip,
    )
    line = base.mark_line(color=NHS_BLUE, clip=True).encode(y=alt.Y("value:Q", scale=y_scale), tooltip=band_tip)
    zero = _chart(pd.DataFrame({"c": [0.0]})).mark_rule(color=TEXT).encode(y=alt.Y("c:Q", scale=y_scale))
    layers = [band, line, zero]
    for i in range(len(marks)):
        mark = marks.iloc[[i]].reset_index(drop=True)
        layers.append(
            _chart(mark)
            .mark_rule(color=PINK, strokeDash=[5, 3], strokeWidth=2)
            .encode(x="x:Q", tooltip=[alt.Tooltip("label:N", title="Marked")])
        )
        layers.append(
            _chart(mark)
            .mark_text(align="left", dx=4, color=PINK, fontSize=12, baseline="top")
            .encode(x="x:Q", y=alt.value(4 + 16 * i), text="label:N")
        )
    return alt.layer(*layers).properties(
        title=finding_title(title, subtitle, width=100), height=300, autosize=PLOT_ONLY
    )


@kept
def national_picture(frame: pd.DataFrame, title: str, subtitle: str) -> alt.LayerChart:
    """Published national counts of people with a personal health budget (line and points, log scale) and the
    pilots' budgets in place (a diamond), each point with its source and confidence in the tooltip."""
    tip = [
        alt.Tooltip("series:N", title="Figure"),
        alt.Tooltip("label:N", title="When"),
        alt.Tooltip("value_text:N", title="People"),
        alt.Tooltip("source:N", title="Source"),
        alt.Tooltip("confidence:N", title="Confidence"),
        alt.Tooltip("note:N", title="Note"),
    ]
    domain = sorted(frame["series"].unique())  # the national series sorts first ("England ...")
    colours = alt.Scale(domain=domain, range=[NHS_BLUE, ORANGE][: len(domain)])
    base = _chart(frame).encode(
        x=alt.X("period:T", title=None, axis=alt.Axis(format="%Y", tickCount="year")),
        y=alt.Y("published:Q", title="People (log scale)", scale=alt.Scale(type="log"), axis=alt.Axis(format=",.0f")),
        color=alt.Color("series:N", title=None, scale=colours),
        tooltip=tip,
    )
    national = base.transform_filter("datum.series != 'Mental health pilots: budgets in place at pilot end'")
    line = national.mark_line(strokeDash=[2, 2])
    points = base.mark_point(filled=True, size=90).encode(
        shape=alt.Shape(
            "series:N", scale=alt.Scale(domain=domain, range=["circle", "diamond"][: len(domain)]), legend=None
        )
    )
    labels = base.mark_text(dy=-12, fontSize=11, color=TEXT, align="left", dx=-6).encode(text="text:N")
    return alt.layer(line, points, labels).properties(
        title=finding_title(title, subtitle, width=90), height=280, autosize=PLOT_ONLY
    )


@kept
def volume_by_month(frame: pd.DataFrame, site_names: dict[str, str], title: str, subtitle: str) -> alt.Chart:
    """Rows per month as shown, a line per site, with the unusual months (`note` not blank) ringed."""
    x = alt.X("month:T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=0, tickCount=6))
    y = alt.Y("count:Q", title="Rows")
    tooltip = [
        alt.Tooltip("site:N", title="Site"),
        alt.Tooltip("month:T", title="Month", format="%B %Y"),
        alt.Tooltip("label:N", title="Rows"),
        alt.Tooltip("note:N", title="Unusual"),
    ]
    base = _chart(frame)
    line = base.mark_line(point=alt.OverlayMarkDef(size=14)).encode(
        x=x,
        y=y,
        color=alt.Color(
            "site:N",
            title=None,
            scale=site_colour_scale(site_names, frame["site"].unique().tolist()),
            legend=alt.Legend(columns=2, labelLimit=150),
        ),
        tooltip=tooltip,
    )
    odd = (
        base.transform_filter("datum.note != ''")
        .mark_point(shape="circle", size=90, filled=False, color=DARK_RED, strokeWidth=2)
        .encode(x=x, y=y, tooltip=tooltip)
    )
    return alt.layer(line, odd).properties(
        title=finding_title(title, subtitle, 60), height=PLOT_HEIGHT, autosize=PLOT_ONLY
    )
