"""The headline figures as one JSON-ready dict, computed by the same code the pages use."""

from __future__ import annotations

from pathlib import Path

from phb import admissions, compare, contract, disclosure, overview, spending, uptake, value
from phb.filters import Filters
from phb.queries import run_query
from phb.warehouse import WarehouseInfo, connect


def site_names(con) -> dict[str, str]:
    """Site code to site name, in code order."""
    frame = run_query(con, "sites")
    return dict(zip(frame["site_code"], frame["site_name"]))


# Every figure facts may carry, with its kind (disclosure.publish_facts refuses a key not declared here).
KINDS = {
    **dict.fromkeys(["data_version", "built_at", "synthetic", "from", "to", "sites", "management", "note"], "label"),
    **dict.fromkeys(["uptake", "referral_to_budget", "admissions_ratio"], "label"),
    **dict.fromkeys(
        ["referred", "offered", "plan_agreed", "budget_in_place", "declined", "withdrawn", "in_planning"], "count"
    ),
    **dict.fromkeys(["budgets_in_place", "budgets_at_pilot_end", "budgets", "holders", "comparison_people"], "count"),
    **dict.fromkeys(["budget_holders_followed", "emergency_admissions_pre", "emergency_admissions_post"], "count"),
    **dict.fromkeys(["comparison_admissions_pre", "comparison_admissions_post"], "count"),
    **dict.fromkeys(["planned_budgets", "eligible_population"], "reference"),
    **dict.fromkeys(["uptake_pct", "uptake_ci"], "uptake"),
    **dict.fromkeys(["budgets_pct_of_plan", "share_pct", "utilisation_pct"], "pct"),
    **dict.fromkeys(["offered_pct_of_referred", "plan_agreed_pct_of_offered"], "pct"),
    **dict.fromkeys(["budget_in_place_pct_of_plan_agreed", "budget_pct_of_referred"], "pct"),
    **dict.fromkeys(["spend_gbp", "refunds_gbp", "total_gbp", *contract.SPEND_CATEGORIES], "money"),
    **dict.fromkeys(["per_holder_median_gbp", "per_holder_q1_gbp", "per_holder_q3_gbp"], "money_quantile"),
    "median_days_to_budget": "days_quantile",
    **dict.fromkeys(["holders_rate_pre", "holders_rate_post", "comparison_rate_pre", "comparison_rate_post"], "rate"),
    **dict.fromkeys(["holders_rate_pre_ci", "holders_rate_post_ci"], "rate"),
    **dict.fromkeys(["comparison_rate_pre_ci", "comparison_rate_post_ci"], "rate"),
    **dict.fromkeys(["rate_ratio", "ci"], "ratio"),
    # value for money (phb/value.py): net costs per holder-year and break-even, 3 significant figures, >= GBP 10
    **dict.fromkeys(["net_cost_per_holder_year_gbp", "ci_gbp", "spend_per_holder_year_gbp"], "derived_money"),
    **dict.fromkeys(["hospital_saving_per_holder_year_gbp", "break_even_mental_health_bed_day_gbp"], "derived_money"),
    "break_even_ci_gbp": "derived_money",
    **dict.fromkeys(["mental_health", "general_acute"], "figure"),  # the unit costs used: settings, not data
    "price_base": "label",
}


def facts(warehouse: Path, info: WarehouseInfo, filters: Filters) -> dict:
    """Every headline figure for a selection, after disclosure control, through disclosure.publish_facts."""
    with connect(warehouse) as con:
        names = site_names(con)
        data = overview.load(con, filters)
        extras = [
            uptake.facts_blocks(uptake.load(con, filters)),
            spending.facts_blocks(spending.load(con, filters, info.period_end)),
            admissions.facts_blocks(admissions.load(con, filters)),
            compare.facts_blocks(compare.load(con, filters), names),
        ]
        value_block = value.facts_block(value.load(con, filters, need_people=False))
    figures = overview.headline(data)
    for blocks in extras:
        for code, extra in blocks.items():
            block = figures["all_sites"] if code is None else figures["sites"].get(code)
            if block is not None:
                block.update(extra)
    figures["all_sites"]["value_for_money"] = value_block
    return disclosure.publish_facts(
        {
            "data_version": info.data_version,
            "built_at": info.built_at,
            "synthetic": info.synthetic,
            "data_period": {"from": info.period_start.isoformat(), "to": info.period_end.isoformat()},
            "filters": {
                "sites": list(filters.sites) if filters.sites else list(names),
                "from": filters.date_from.isoformat(),
                "to": filters.date_to.isoformat(),
                "management": list(filters.management) if filters.management else "all",
            },
            **figures,
        },
        KINDS,
    )
