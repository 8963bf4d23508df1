"""One definition per chart that is drawn both on a page and in the briefing pack: its label, the data it
draws on, how the chart is made (title = finding), its subtitle, its alt text, why it can be empty and the
notes that go with it in the pack. The page draws it with ui.show_view; briefing.CATALOGUE is this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import altair as alt
import pandas as pd

from phb import admissions, charts, compare, disclosure, national, spending, uptake, value
from phb import formatting as fmt


@dataclass(frozen=True)
class View:
    """One chart: made by `make(data, names, subtitle)` from the loaded `source` data (None when there is
    nothing safe to draw, and then `why_empty` says why, in words fit for the page and the pack)."""

    key: str
    label: str
    source: str  # which loaded data it draws on: "uptake", "spending", "admissions", "compare", "value", "national"
    make: Callable[[Any, dict, str], alt.TopLevelMixin | None]
    subtitle: str  # may name {p0}, filled in by make
    alt_text: str | Callable[[Any, dict], str]  # what kind of chart it is, for its text alternative
    why_empty: str | Callable[[Any, dict], str]  # a phrase: the page starts it with a capital, the pack a label
    notes: Callable[[Any, dict], str]

    def chart(self, data, names: dict[str, str]) -> alt.TopLevelMixin | None:
        return self.make(data, names, self.subtitle)

    def alt(self, data, names: dict[str, str]) -> str:
        return self.alt_text(data, names) if callable(self.alt_text) else self.alt_text

    def why(self, data, names: dict[str, str]) -> str:
        return self.why_empty(data, names) if callable(self.why_empty) else self.why_empty


def sentence(phrase: str) -> str:
    """A phrase as a sentence of its own."""
    return phrase[:1].upper() + phrase[1:] + "."


# Budgets in place against plan ----------------------------------------------------------------


MOST_PLAN_PANELS = 12  # sites drawn as small multiples against plan; more are drawn as a bar per site
PLAN_REACHED_SUBTITLE = (
    "Budgets in place at each site's pilot end (or the end of the selected period, if earlier) as a percentage "
    "of the budgets it planned by its pilot end, all selected sites together first; the dashed line marks the plan"
)


def _bar_per_site(data) -> bool:
    """More sites than small multiples can show: the chart and its alt text switch together."""
    return len(data.sites) > MOST_PLAN_PANELS


def _budgets_against_plan(data, names, subtitle):
    progress = uptake.plan_progress(data, names)
    frame, targets = uptake.budgets_against_plan(data, names)
    if not frame["budgets"].notna().any():
        return None
    title = uptake.plan_title(progress)
    if _bar_per_site(data):
        # dozens of panels (one per integrated care board) are slow to draw and too small to read
        frame = uptake.plan_reached(progress, uptake.plan_overall(data))
        return charts.plan_reached(frame, title, PLAN_REACHED_SUBTITLE)
    panels = [uptake.ALL_SITES] * (len(progress) > 1) + progress.sort_values("site_code")["site"].tolist()
    return charts.budgets_against_plan(frame, targets, panels, title, subtitle)


def _budgets_against_plan_alt(data, names) -> str:
    if _bar_per_site(data):
        return "Bar chart of each site's budgets in place at pilot end as a percentage of its plan"
    return "Small multiple line charts of budgets in place over time against each site's plan"


def _budgets_against_plan_notes(data, names):
    return " ".join(
        f"{r.site}: {fmt.count(r.budgets)} budgets at pilot end against a plan of {fmt.count(r.plan)} ({r.status})."
        for r in uptake.plan_progress(data, names).itertuples()
    )


BUDGETS_AGAINST_PLAN = View(
    "budgets_against_plan",
    "Budgets in place against plan",
    "uptake",
    _budgets_against_plan,
    "Budgets in place at each month end (blue); the dashed line and diamond mark each site's plan by its "
    "pilot end. Each panel has its own scale.",
    _budgets_against_plan_alt,
    "no budgets were in place in this period at the sites chosen",
    _budgets_against_plan_notes,
)


# Spending by category ----------------------------------------------------------------------------


def category_title(cats) -> str:
    top = cats.dropna(subset=["share_pct"]).head(1)
    if not len(top):
        return "What budgets buy"
    return f"{top['name'].iloc[0]} takes the largest share of spending ({top['share_pct'].iloc[0]:.0f}%)"


def _spend_by_category(data, names, subtitle):
    cats = spending.category_totals(data)
    if not cats["spend_gbp"].notna().any():
        return None
    return charts.spend_by_category(cats[["category", "spend_gbp"]], category_title(cats), subtitle)


def pounds_alike(values: list) -> list[str]:
    """Sums of money for one list, rounded alike: all to the nearest £100 where the largest is £10,000 or
    more, otherwise to the pound; a withheld figure stays withheld."""
    numbers = [abs(float(v)) for v in values if isinstance(v, int | float) and not pd.isna(v)]
    step = 100 if numbers and max(numbers) >= 10_000 else 1
    out = []
    for v in values:
        if isinstance(v, int | float) and not pd.isna(v):
            out.append(("-" if v < 0 else "") + f"£{step * round(abs(float(v)) / step):,.0f}")
        else:
            out.append(fmt.money(v))
    return out


def _spend_by_category_notes(data, names):
    cats = spending.category_totals(data)
    total = spending.total_block(data, None)
    refunds = total["refunds_gbp"]
    refunds = abs(refunds) if isinstance(refunds, int | float) else refunds  # refunds are recorded as negative spend
    shown = pounds_alike([total["total_gbp"], refunds, *(r.spend for r in cats.itertuples())])
    withheld = [r.name for r, text in zip(cats.itertuples(), shown[2:]) if text == disclosure.SUPPRESSED]
    return (
        f"Total spending {shown[0]}, net of refunds and recoveries "
        + (
            f"(withheld: {disclosure.WHY_MONEY_WITHHELD}). "
            if shown[1] == disclosure.SUPPRESSED
            else f"of {shown[1]}. "
        )
        + " ".join(
            f"{r.name}: {text}." for r, text in zip(cats.itertuples(), shown[2:]) if text != disclosure.SUPPRESSED
        )
        + (f" Withheld ({disclosure.WHY_MONEY_WITHHELD}): {', '.join(withheld)}." if withheld else "")
    )


SPEND_BY_CATEGORY = View(
    "spend_by_category",
    "Spending by category",
    "spending",
    _spend_by_category,
    "Spending in the period by category, net of refunds",
    "Bar chart of spending by category",
    f"no spending to show for this selection (or {disclosure.FEWER} people in every category)",
    _spend_by_category_notes,
)


# The budget effect on emergency admissions -------------------------------------------------------


def _admissions_effect(data, names, subtitle):
    effect = admissions.effect(data)
    if effect is None:
        return None
    return charts.effect_bars(
        admissions.effect_bars(effect), "The naive before-and-after fall overstates the budget effect", subtitle
    )


def _admissions_effect_notes(data, names):
    effect = admissions.effect(data)
    return admissions.effect_sentence(effect) + " " + admissions.naive_sentence(effect)


ADMISSIONS_EFFECT = View(
    "admissions_effect",
    "The budget effect on emergency admissions",
    "admissions",
    _admissions_effect,
    "Change in the emergency admission rate from the year before the index date to "
    "the year after; the budget effect is the holders' change beyond the comparison group's",
    "Bar chart comparing the naive change, the comparison group's change and the budget effect",
    f"too few emergency admissions to estimate the budget effect: at least {admissions.MIN_EVENTS} are needed "
    "in each group in the year before and the year after",
    _admissions_effect_notes,
)


# Uptake funnel plot ---------------------------------------------------------------------------------


def _uptake_funnel(data, names, subtitle):
    points, lines, p0 = compare.uptake_funnel(data, names)
    if points["value"].notna().sum() < 2 or lines is None:
        return None  # a funnel compares sites: one alone has nothing to be compared with
    return charts.funnel(
        points,
        lines,
        p0,
        "Eligible population",
        "Uptake at pilot end (%)",
        compare.funnel_title(points, "uptake"),
        subtitle.format(p0=p0),
        ".1f",
    )


UPTAKE_FUNNEL = View(
    "uptake_funnel",
    "Uptake funnel plot",
    "compare",
    _uptake_funnel,
    "Budgets at pilot end as % of the eligible population; all sites {p0:.1f}%.",
    "Funnel plot of uptake by site against eligible population",
    "a funnel plot compares sites, and fewer than two sites have uptake to show",
    lambda data, names: compare.dispersion_note(compare.uptake_funnel(data, names)[0]),
)


# Uptake by site --------------------------------------------------------------------------------------


def _uptake_by_site(data, names, subtitle):
    rates, overall = uptake.uptake_by_site(data, names)
    if not rates["uptake_pct"].notna().any() or overall["budgets"] == 0:
        return None
    rate = None if overall["uptake_pct"] in (None, disclosure.SUPPRESSED) else overall["uptake_pct"]
    return charts.uptake_by_site(rates, rate if len(rates) > 1 else None, uptake.uptake_title(rates, overall), subtitle)


def _uptake_by_site_why(data, names):
    if uptake.uptake_by_site(data, names)[1]["budgets"] == 0:
        return "no budgets were in place by the pilot end (or the end of the period, if earlier) at the sites chosen"
    return "too few budgets to show uptake for this selection"


UPTAKE_BY_SITE = View(
    "uptake_by_site",
    "Uptake by site with intervals",
    "uptake",
    _uptake_by_site,
    "Budgets in place at each site's pilot end as a share of its eligible population, with 95% Wilson "
    "intervals; a site is above or below beyond chance when its interval does not cross the dashed line",
    "Dot chart of uptake per site with confidence intervals",
    _uptake_by_site_why,
    lambda data, names: (
        "Uptake and its interval are worked out from the budgets as shown (perturbed and rounded) over each site's "
        "eligible population."
    ),
)


# The pathway ------------------------------------------------------------------------------------------


def _pathway(data, names, subtitle):
    steps = uptake.pathway_steps(data)
    if steps.empty or not steps["people"].notna().any():
        return None
    return charts.pathway_funnel(steps, uptake.pathway_title(data), subtitle)


def nobody_referred(data) -> bool:
    steps = uptake.pathway_steps(data)
    return steps.empty or steps["people"].fillna(0).sum() == 0


def _pathway_why(data, names):
    if nobody_referred(data):
        return "nobody was referred in this period at the sites chosen: widen the period or choose other sites"
    return "too few people referred to show the pathway for this selection"


PATHWAY = View(
    "pathway",
    "The pathway from referral to budget",
    "uptake",
    _pathway,
    "People referred in the period, by the furthest step reached by its last day; all selected sites",
    "Bar chart of people at each step of the budget pathway",
    _pathway_why,
    lambda data, names: "Declined and withdrew are final recorded outcomes.",
)


# The budget effect by site ------------------------------------------------------------------------------


def _effect_by_site(data, names, subtitle):
    forest = admissions.effects_by_site(data, names)
    if not forest["rate_ratio"].notna().any():
        return None
    return charts.forest(forest, "The budget effect by site", subtitle)


EFFECT_BY_SITE = View(
    "effect_by_site",
    "The budget effect by site (forest plot)",
    "admissions",
    _effect_by_site,
    "Difference-in-differences rate ratio with its 95% interval (Poisson regression of person-period counts, "
    "errors clustered by person); a site with too few admissions is not estimated",
    "Forest plot of the budget effect by site",
    "too few emergency admissions at any site to estimate the budget effect",
    lambda data, names: "Sites with too few admissions are not estimated.",
)


# How much of their budgets holders spent ------------------------------------------------------------------


def _utilisation(data, names, subtitle):
    use = spending.utilisation(data, names)
    sites = use[use["by"].isin(["Site", spending.ALL])]
    if not sites["utilisation_pct"].notna().any():
        return None
    return charts.utilisation(
        sites, spending.UNDERSPEND_PCT, spending.OVERSPEND_PCT, spending.utilisation_title(use), subtitle
    )


UTILISATION = View(
    "utilisation",
    "How much of their budgets holders spent",
    "spending",
    _utilisation,
    f"By site. Dashed lines at {spending.UNDERSPEND_PCT}%, 100% and {spending.OVERSPEND_PCT}%: "
    "below or above the outer lines is flagged.",
    "Bar chart of budget utilisation by site",
    "too few budget holders to show utilisation",
    lambda data, names: f"Withheld where a site has {disclosure.FEWER} budget holders.",
)


# Value for money (issue 16) -------------------------------------------------------------------------------


def _costs_note(data) -> str:
    c = data.unit_cost
    return (
        f"Unit costs: mental health £{c['mental_health']:,.0f} and general acute £{c['general_acute']:,.0f} per bed "
        f"day ({data.price_base}), where the extract gives no cost."
    )


def _with_costs(frame: pd.DataFrame, data) -> pd.DataFrame:
    """The chart's rows with the unit costs they were worked out at, so the data export (CSV) states them too."""
    return frame.assign(unit_costs=_costs_note(data))


def _value_by_scope(data, names, subtitle):
    frame = _with_costs(data.scopes(names), data)
    if not frame["value"].notna().any():
        return None
    head = value.headline_title(data.headline.result if data.headline is not None else None)
    return charts.net_cost_forest(frame, head, f"{subtitle} {_costs_note(data)}")


def _value_by_scope_notes(data, names):
    frame = data.scopes(names)
    few = frame.loc[frame["note"] == value.TOO_FEW, "site"].tolist()
    return (
        value.sentence(None if data.headline is None else data.headline.result)
        + (f" Too few to estimate: {', '.join(few)}." if few else "")
        + " Sites and management options are in a fixed order, not ranked: their intervals overlap widely. "
        + _costs_note(data)
        + " "
        + value.PACK_METHOD
    )


VALUE_BY_SCOPE = View(
    "value_for_money",
    "Net cost per budget holder per year (value for money)",
    "value",
    _value_by_scope,
    "Money spent from budgets plus the change in hospital costs beyond the comparison group's, per holder per "
    "year, with 95% bootstrap intervals; by site and management option where there are enough people.",
    "Dot and interval chart of the net cost per budget holder per year, overall, by site and by management option",
    "too few people or admissions to estimate value for money for this selection",
    _value_by_scope_notes,
)


def _break_even(data, names, subtitle):
    est = data.headline
    if est is None:
        return None
    used = data.unit_cost["mental_health"]
    marks = [{"x": used, "label": f"used here: £{used:,.0f}"}]
    if est.result.break_even is not None and est.result.break_even <= value.UNIT_COST_MAX:
        marks.insert(0, {"x": est.result.break_even, "label": f"break-even: £{est.result.break_even:,.0f}"})
    be = est.result.break_even
    head = (
        f"Budgets pay for themselves if a mental health bed day costs more than about £{be:,.0f}"
        if be is not None and be <= value.UNIT_COST_MAX
        else "Budgets do not pay for themselves at any bed-day cost in this range"
    )
    return charts.sensitivity_line(
        _with_costs(value.unit_cost_curve(est, used), data),
        pd.DataFrame(marks),
        "Cost of a mental health bed day (£)",
        ",.0f",
        head,
        f"{subtitle} General acute at £{data.unit_cost['general_acute']:,.0f} a bed day ({data.price_base}).",
    )


BREAK_EVEN = View(
    "break_even",
    "Break-even: net cost against the cost of a mental health bed day",
    "value",
    _break_even,
    "Net cost per budget holder per year if every mental health bed day cost the amount on the axis, with its 95% "
    "band; below the black line budgets pay for themselves.",
    "Line chart of net cost per budget holder against the cost of a mental health bed day, break-even marked",
    "too few people or admissions to estimate value for money for this selection",
    lambda data, names: value.break_even_sentence(
        None if data.headline is None else data.headline.result, data.unit_cost["mental_health"]
    ),
)


def _effect_sensitivity(data, names, subtitle):
    est = data.headline
    if est is None:
        return None
    marks = []
    ratio = value.effect_break_even(est)
    if ratio is not None and value.EFFECT_RANGE[0] <= ratio <= value.EFFECT_RANGE[1]:
        marks.append({"x": round(ratio, 2), "label": f"break-even: {100 * (1 - ratio):.0f}% fewer"})
    effect = data.effect
    if effect is not None:
        for x, word in ((effect.rate_ratio, "estimated effect"), (effect.low, "interval"), (effect.high, "interval")):
            if value.EFFECT_RANGE[0] <= x <= value.EFFECT_RANGE[1]:
                change = 100 * (1 - x)
                words = f"{change:.0f}% fewer" if change >= 0 else f"{-change:.0f}% more"
                marks.append({"x": round(x, 2), "label": f"{word}: {words}"})
    head = (
        f"Budgets would pay for themselves only with about {100 * (1 - ratio):.0f}% fewer admissions"
        if ratio is not None and ratio > 0
        else "Budgets could not pay for themselves through hospital savings alone"
    )
    return charts.sensitivity_line(
        _with_costs(value.effect_curve(est), data),
        pd.DataFrame(marks, columns=["x", "label"]),
        "Admissions rate ratio with budgets (1 = no effect)",
        ".2f",
        head,
        f"{subtitle} {_costs_note(data)}",
    )


EFFECT_SENSITIVITY = View(
    "value_effect_sensitivity",
    "Net cost against the budget effect on admissions",
    "value",
    _effect_sensitivity,
    "Net cost per budget holder per year if budget holders' hospital costs fell in proportion to emergency "
    "admissions, at each rate ratio; the budget effect's estimate and 95% interval are marked.",
    "Line chart of net cost per budget holder against the admissions rate ratio, with the estimated effect marked",
    "too few people or admissions to estimate value for money for this selection",
    lambda data, names: value.effect_sentence(data.headline, data.effect),
)


# The national picture ---------------------------------------------------------------------------------------


def _national(data, names, subtitle):
    if data.empty:
        return None
    return charts.national_picture(data, national.title(data), subtitle)


NATIONAL_PICTURE = View(
    "national_picture",
    "The pilots in the national picture",
    "national",
    _national,
    "Published national figures, not pilot data: people who received a personal health budget in England in the "
    "financial year to date (NHS Digital; all kinds of budget), log scale. The diamond is the pilots' budgets in "
    "place at pilot end. Each figure's source and confidence are in its tooltip and in the notes.",
    "Line chart of national personal health budget numbers over time, log scale, with the pilots' budgets beside",
    "the national figures file could not be read",
    lambda data, names: (
        national.NOTE
        + " "
        + " ".join(f"{r.label}: {r.value_text} ({r.source}; confidence {r.confidence})." for r in data.itertuples())
    ),
)


VIEWS: dict[str, View] = {
    v.key: v
    for v in (
        BUDGETS_AGAINST_PLAN,
        SPEND_BY_CATEGORY,
        ADMISSIONS_EFFECT,
        UPTAKE_FUNNEL,
        UPTAKE_BY_SITE,
        PATHWAY,
        EFFECT_BY_SITE,
        UTILISATION,
        VALUE_BY_SCOPE,
        BREAK_EVEN,
        EFFECT_SENSITIVITY,
        NATIONAL_PICTURE,
    )
}
