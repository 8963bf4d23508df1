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

from phb import admissions, charts, compare, disclosure, spending, uptake
from phb import formatting as fmt


@dataclass(frozen=True)
class View:
    """One chart: made by `make(data, names, subtitle)` from the loaded `source` data (None when there is
    nothing safe to draw, and then `why_empty` says why, in words fit for the page and the pack)."""

    key: str
    label: str
    source: str  # which loaded data it draws on: "uptake", "spending", "admissions" or "compare"
    make: Callable[[Any, dict, str], alt.TopLevelMixin | None]
    subtitle: str  # may name {p0}, filled in by make
    alt_text: str
    why_empty: str | Callable[[Any, dict], str]  # a phrase: the page starts it with a capital, the pack a label
    notes: Callable[[Any, dict], str]

    def chart(self, data, names: dict[str, str]) -> alt.TopLevelMixin | None:
        return self.make(data, names, self.subtitle)

    def why(self, data, names: dict[str, str]) -> str:
        return self.why_empty(data, names) if callable(self.why_empty) else self.why_empty


def sentence(phrase: str) -> str:
    """A phrase as a sentence of its own."""
    return phrase[:1].upper() + phrase[1:] + "."


# Budgets in place against plan ----------------------------------------------------------------


def _budgets_against_plan(data, names, subtitle):
    progress = uptake.plan_progress(data, names)
    frame, targets = uptake.budgets_against_plan(data, names)
    if not frame["budgets"].notna().any():
        return None
    panels = [uptake.ALL_SITES] * (len(progress) > 1) + progress.sort_values("site_code")["site"].tolist()
    return charts.budgets_against_plan(frame, targets, panels, uptake.plan_title(progress), subtitle)


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
    "Small multiple line charts of budgets in place over time against each site's plan",
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
    effect = admissions.did_effect(data.people)
    if effect is None:
        return None
    return charts.effect_bars(
        admissions.effect_bars(effect), "The naive before-and-after fall overstates the budget effect", subtitle
    )


def _admissions_effect_notes(data, names):
    effect = admissions.did_effect(data.people)
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
    )
}
