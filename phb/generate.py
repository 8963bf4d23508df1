"""Generate the synthetic pilot extract: four contract tables and a manifest of true parameters.

Every figure here is an ASSUMPTION from docs/PILOT_FACTS.md except the site names, lead
organisations, regions and CCG codes, which are published. The data is synthetic by design:
no real person-level pilot data is public.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from phb import contract
from phb.config import output_problem

DEFAULT_SEED = 2014
DEFAULT_SCALE = 1.0
DEFAULT_EFFECT = 0.75
MAX_EFFECT = 3.0
GENERATOR_NAME = "phb.generate"

DAYS_PER_YEAR = 365.25
PILOT_MONTHS = 18
DATA_MONTHS_BEFORE = 12
DATA_MONTHS_AFTER = 12
WINDOW_MONTHS = 12

# Pathway timing, in days.
REFERRAL_CUTOFF_DAYS = 14  # no referrals in the last fortnight of a pilot
REFERRAL_RAMP = 0.85  # exponent < 1 shifts referrals a little later as sites get going
OFFER_DELAY = (7, 2.0, 8.0)  # minimum, gamma shape, gamma scale
PLAN_DELAY = (14, 2.0, 14.0)
START_DELAY = (5, 2.0, 8.0)

# Outcomes of people on the pathway who do not get a budget.
LATE_OUTCOME_SHARES = {"in_planning": 0.75, "withdrawn": 0.15, "declined": 0.10}
EARLY_OUTCOME_SHARES = {"declined": 0.45, "withdrawn": 0.40, "in_planning": 0.15}
WITHDRAWN_AFTER_OFFER_SHARE = 0.5
EARLY_IN_PLANNING_PLAN_AGREED_SHARE = 0.5

# Budgets.
BUDGET_MEDIAN_GBP = 2300.0  # overall median about 2,000 once recovery budgets are included
BUDGET_LOG_SD = 0.85
BUDGET_CAP_GBP = 25000.0
BUDGET_FLOOR_GBP = 450.0
RECOVERY_SHARE = 0.12
RECOVERY_RANGE_GBP = (75.0, 400.0)
RECOVERY_DURATION_DAYS = (60, 150)
OTHER_ENDED_SHARE = 0.02
OTHER_ENDED_DAYS = (120, 540)

COMPARISON_PER_HOLDER = 2.0
COMPARISON_INDEX_JITTER_SD_DAYS = 14.0

# Spend lines.
SPEND_SKIP_MONTH_SHARE = 0.08
SPEND_PAYMENT_JITTER_DAYS = 7
SPEND_LINE_GAMMA_SHAPE = 4.0
SPEND_MIN_LINE_GBP = 5.0
REFUND_SHARE = 0.02
REFUND_FRACTION_RANGE = (0.1, 0.6)
DESCRIPTION_BLANK_SHARE = 0.20
PERSON_CATEGORY_CONCENTRATION = 3.0
RECOVERY_PAYMENT_MAX_DAYS = 14

# Admissions.
EMERGENCY_RATE_MEAN = 0.5  # per person-year
EMERGENCY_RATE_SHAPE = 1.5
RTM_MULTIPLIER = 1.8
SITE_EFFECT_JITTER_SD = 0.05
ELECTIVE_RATE_RATIO = 0.12  # elective rate as a share of the person's emergency baseline
OTHER_RATE_RATIO = 0.06
MENTAL_HEALTH_SHARE = {"emergency": 0.70, "elective": 0.20, "other": 0.50}
MH_LOS_MEDIAN_DAYS = 23.0
MH_LOS_LOG_SD = 1.02  # gives about 9% of stays over 90 days
ACUTE_LOS_MEAN_DAYS = 3.1
ACUTE_LOS_NB_SIZE = 0.9  # negative binomial dispersion; about a quarter are same-day
UNIT_COST_GBP = {"mental_health": 334.0, "general_acute": 400.0}
UNIT_COST_PRICE_BASE = "2011/12"
COST_BLANK_SHARE = 0.40
COST_NOISE_LOG_SD = 0.10

IMD_BLANK_SHARE = 0.05

PUBLISHED_FIELDS = ("site_name", "lead_organisation", "region", "ccg_codes")
MANIFEST_NOTE = (
    "SYNTHETIC DATA. Every figure in this extract and manifest is an ASSUMPTION from "
    "docs/PILOT_FACTS.md (not published data), except the site names, lead organisations, "
    "regions and CCG codes, which come from the NHS England announcement (2014)."
)

# Demographic shares, in the contract's value order.
AGE_SHARES = {
    "general": (0.13, 0.24, 0.22, 0.20, 0.14, 0.07),
    "young": (0.55, 0.35, 0.07, 0.02, 0.01, 0.00),
}
SEX_SHARES = (0.52, 0.46, 0.01, 0.01)
ETHNICITY_SHARES = {
    "england": (0.84, 0.03, 0.05, 0.03, 0.02, 0.03),
    "london": (0.52, 0.07, 0.13, 0.20, 0.05, 0.03),
}
IMD_SHARES = (0.28, 0.24, 0.20, 0.16, 0.12)
NEED_SHARES = {
    "general": (0.28, 0.28, 0.15, 0.13, 0.08, 0.08),
    "addictions": (0.06, 0.08, 0.04, 0.04, 0.76, 0.02),
    "young_complex": (0.15, 0.25, 0.15, 0.30, 0.10, 0.05),
}

# True odds multipliers on converting a referral to a budget (1.0 where not listed).
CONVERSION_ODDS = {
    "age_band": {"18-24": 0.85, "65+": 0.75},
    "ethnicity": {"black": 0.65, "asian": 0.85},
    "imd_quintile": {"1": 0.70, "2": 0.85},
    "primary_need": {"substance_misuse": 0.60, "psychosis": 0.90},
}

BASE_CATEGORY_MIX = (0.18, 0.07, 0.14, 0.09, 0.12, 0.16, 0.07, 0.07, 0.05, 0.05)
MANAGEMENT_CATEGORY_TILT = {
    "notional": {"talking_therapy": 1.6, "personal_support": 0.8},
    "third_party": {"personal_support": 1.3, "social_leisure": 1.2},
    "direct_payment": {
        "personal_support": 1.6,
        "physical_activity": 1.4,
        "education": 1.4,
        "talking_therapy": 0.7,
    },
}


@dataclass(frozen=True)
class SiteSpec:
    """Published identity of a pilot site plus the assumptions used to simulate it."""

    code: str
    name: str
    lead_organisation: str
    region: str
    ccg_codes: tuple[str, ...]
    go_live: str
    eligible_population: int
    planned_budgets: int
    target_holders: int
    conversion: float
    management_mix: tuple[float, float, float]  # notional, third_party, direct_payment
    utilisation: float
    category_tilt: tuple[tuple[str, float], ...]
    age_profile: str = "general"
    ethnicity_profile: str = "england"
    need_profile: str = "general"
    emergency_rate_multiplier: float = 1.0


SITES: tuple[SiteSpec, ...] = (
    SiteSpec(
        code="DEV",
        name="Devon",
        lead_organisation="Devon Partnership NHS Trust with Positive Opportunities for Wellbeing CIC",
        region="South West",
        ccg_codes=("99P", "99Q"),
        go_live="2014-07-01",
        eligible_population=2400,
        planned_budgets=70,
        target_holders=90,
        conversion=0.58,
        management_mix=(0.45, 0.2, 0.35),
        utilisation=1.05,
        category_tilt=(("physical_activity", 1.3), ("social_leisure", 1.2)),
    ),
    SiteSpec(
        code="DOR",
        name="Dorset",
        lead_organisation="NHS Dorset CCG",
        region="South West",
        ccg_codes=("11J",),
        go_live="2014-06-02",
        eligible_population=2900,
        planned_budgets=95,
        target_holders=128,
        conversion=0.62,
        management_mix=(0.6, 0.1, 0.3),
        utilisation=0.95,
        category_tilt=(("talking_therapy", 1.2), ("short_breaks", 1.3)),
    ),
    SiteSpec(
        code="SLM",
        name="SLaM Addictions",
        lead_organisation="South London and Maudsley NHS FT, Addictions Clinical Academic Group",
        region="London",
        ccg_codes=("08K", "08Q", "08L", "07V"),
        go_live="2014-07-14",
        eligible_population=1600,
        planned_budgets=100,
        target_holders=66,
        conversion=0.5,
        management_mix=(0.7, 0.1, 0.2),
        utilisation=0.8,
        category_tilt=(("education", 1.5), ("other", 1.4), ("short_breaks", 0.5)),
        ethnicity_profile="london",
        need_profile="addictions",
        emergency_rate_multiplier=1.1,
    ),
    SiteSpec(
        code="STP",
        name="Stockport",
        lead_organisation="NHS Stockport CCG and Stockport Council",
        region="North (Greater Manchester)",
        ccg_codes=("01W",),
        go_live="2014-10-01",
        eligible_population=800,
        planned_budgets=50,
        target_holders=11,
        conversion=0.45,
        management_mix=(0.1, 0.75, 0.15),
        utilisation=0.7,
        category_tilt=(("social_leisure", 1.5), ("personal_support", 1.3)),
        age_profile="young",
        need_profile="young_complex",
        emergency_rate_multiplier=1.4,
    ),
    SiteSpec(
        code="SWK",
        name="Southwark",
        lead_organisation="NHS Southwark CCG and Southwark Council",
        region="London",
        ccg_codes=("08Q",),
        go_live="2014-09-01",
        eligible_population=1400,
        planned_budgets=60,
        target_holders=24,
        conversion=0.48,
        management_mix=(0.55, 0.1, 0.35),
        utilisation=0.85,
        category_tilt=(("education", 1.2), ("transport", 1.2)),
        ethnicity_profile="london",
    ),
    SiteSpec(
        code="SKC",
        name="South Kent Coast",
        lead_organisation="NHS South Kent Coast CCG",
        region="South East",
        ccg_codes=("10A",),
        go_live="2014-08-04",
        eligible_population=1100,
        planned_budgets=55,
        target_holders=18,
        conversion=0.52,
        management_mix=(0.6, 0.1, 0.3),
        utilisation=0.9,
        category_tilt=(("physical_activity", 1.2), ("complementary_therapy", 1.3)),
    ),
    SiteSpec(
        code="KIN",
        name="Kingston",
        lead_organisation="South West London and St George's MH NHS Trust, Kingston CCG, Royal Borough of Kingston",
        region="London",
        ccg_codes=("08J",),
        go_live="2014-10-13",
        eligible_population=1000,
        planned_budgets=50,
        target_holders=16,
        conversion=0.47,
        management_mix=(0.55, 0.15, 0.3),
        utilisation=0.75,
        category_tilt=(("talking_therapy", 1.2), ("equipment_technology", 1.3)),
        ethnicity_profile="london",
    ),
)

DESCRIPTION_NAMES = (
    "Mrs O'Brien's son",
    "Mr D'Souza",
    "Ms Smith, Flat 2",
    "John",
    "Aisha K.",
    "Mr O'Neill",
    "Mrs Patel",
    "Mr Kowalski, Chapel St",
)
DESCRIPTION_TEMPLATES = {
    "talking_therapy": (
        "CBT sessions, block of 6",
        "Counselling with private therapist for {name}",
        "Psychotherapy, fortnightly",
        "EMDR therapy sessions",
    ),
    "complementary_therapy": (
        "Acupuncture, 4 sessions",
        "Massage therapy for anxiety, {name}",
        "Reflexology",
    ),
    "physical_activity": (
        "Gym membership for {name}",
        "Swimming pass, 3 months",
        "Yoga classes, Tuesday group",
        "Bicycle for {name}'s journey to work",
    ),
    "education": (
        "College course fees, {name}",
        "Pottery evening class",
        "Driving lessons, block of 10",
    ),
    "social_leisure": (
        "Art group membership",
        "Football club subs for {name}",
        "Cinema and café with support worker",
    ),
    "personal_support": (
        "Personal assistant, 8 hours a week",
        "Support worker for {name}",
        "PA hours for {name}'s weekly shop",
    ),
    "equipment_technology": (
        "Laptop for {name}'s course",
        "Mobile phone and credit",
        "Light therapy lamp",
    ),
    "transport": (
        "Bus pass, monthly",
        "Taxi to appointments, {name}",
        "Train fares to sister's",
    ),
    "short_breaks": (
        "Weekend break, Dorset coast",
        "Respite stay for {name}, 3 nights",
        "Caravan holiday with family",
    ),
    "other": (
        "Allotment rent",
        "Dog walking while {name} is unwell",
        "Gardening tools, seeds",
    ),
}
REFUND_TEMPLATES = (
    "Refund: unused sessions",
    "Recovered overpayment, {name}",
    "Refund from provider, course cancelled",
)
RECOVERY_TEMPLATES = (
    "One-off recovery budget: {name}",
    "Recovery budget, laptop and course",
    "One-off payment, gym and bus pass",
)


def _day(text: str) -> np.datetime64:
    """Parse an ISO date to a numpy day."""
    return np.datetime64(text, "D")


def add_months(dates: np.ndarray, months: int | np.ndarray) -> np.ndarray:
    """Add calendar months to day dates, clipping to the last day of the target month."""
    dates = np.asarray(dates, dtype="datetime64[D]")
    month_start = dates.astype("datetime64[M]")
    day = (dates - month_start.astype("datetime64[D]")).astype(np.int64)
    target = month_start + np.asarray(months, dtype=np.int64)
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return target.astype("datetime64[D]") + np.minimum(day, length - 1)


def _gamma_days(rng: np.random.Generator, spec: tuple[float, float, float], n: int) -> np.ndarray:
    """Draw whole-day delays: a minimum plus a gamma tail."""
    minimum, shape, scale = spec
    return (minimum + np.rint(rng.gamma(shape, scale, n))).astype(np.int64)


def _choice(rng: np.random.Generator, values: tuple[str, ...], shares: tuple[float, ...], n: int) -> np.ndarray:
    """Draw n values with the given shares, as an object array of strings."""
    p = np.asarray(shares, dtype=float)
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p / p.sum())]


def _demographics(rng: np.random.Generator, site: SiteSpec, n: int) -> dict[str, np.ndarray]:
    """Draw age band, sex, ethnicity, IMD quintile (some blank) and primary need."""
    imd = rng.choice(5, size=n, p=np.asarray(IMD_SHARES) / sum(IMD_SHARES)) + 1
    imd_blank = rng.random(n) < IMD_BLANK_SHARE
    return {
        "age_band": _choice(rng, contract.AGE_BANDS, AGE_SHARES[site.age_profile], n),
        "sex": _choice(rng, contract.SEXES, SEX_SHARES, n),
        "ethnicity": _choice(rng, contract.ETHNICITIES, ETHNICITY_SHARES[site.ethnicity_profile], n),
        "imd_quintile": np.where(imd_blank, np.nan, imd.astype(float)),
        "primary_need": _choice(rng, contract.PRIMARY_NEEDS, NEED_SHARES[site.need_profile], n),
    }


def _log_odds(demo: dict[str, np.ndarray]) -> np.ndarray:
    """Sum the log odds multipliers on conversion for each person."""
    n = len(demo["sex"])
    total = np.zeros(n)
    for column in sorted(CONVERSION_ODDS):
        values = demo[column]
        if column == "imd_quintile":
            values = np.char.mod("%d", np.nan_to_num(values).astype(np.int64))
        values = values.astype(str)
        for value, multiplier in sorted(CONVERSION_ODDS[column].items()):
            total += np.where(values == value, np.log(multiplier), 0.0)
    return total


def _solve_intercept(log_odds: np.ndarray, expected: float) -> float:
    """Find the intercept whose logistic probabilities sum to the expected count."""
    low, high = -30.0, 30.0
    for _ in range(100):
        mid = (low + high) / 2
        if (1 / (1 + np.exp(-(mid + log_odds)))).sum() < expected:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _site_dates(site: SiteSpec) -> tuple[np.datetime64, np.datetime64]:
    """Go-live and pilot end (go-live plus 18 calendar months)."""
    go = _day(site.go_live)
    return go, add_months(np.array([go]), PILOT_MONTHS)[0]


def _data_period() -> tuple[np.datetime64, np.datetime64]:
    """First and last day of hospital data: 12 months either side of the pilots."""
    go_lives = np.array([_site_dates(s)[0] for s in SITES])
    ends = np.array([_site_dates(s)[1] for s in SITES])
    start = add_months(go_lives.min(keepdims=True), -DATA_MONTHS_BEFORE)[0]
    end = add_months(ends.max(keepdims=True), DATA_MONTHS_AFTER)[0]
    return start, end


def _empty_dates(n: int) -> np.ndarray:
    """An array of n missing dates."""
    return np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")


def _pathway_outcomes(rng: np.random.Generator, late: np.ndarray, holder: np.ndarray) -> np.ndarray:
    """Assign outcomes: holders have budgets; others decline, withdraw or are still planning."""
    n = len(late)
    outcome = np.full(n, "budget_in_place", dtype=object)
    for mask, shares in (
        (late & ~holder, LATE_OUTCOME_SHARES),
        (~late & ~holder, EARLY_OUTCOME_SHARES),
    ):
        names = tuple(sorted(shares))
        outcome[mask] = _choice(rng, names, tuple(shares[k] for k in names), int(mask.sum()))
    return outcome


def _budgets(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Annual budgets (lognormal, capped) with a share of one-off recovery budgets."""
    annual = BUDGET_MEDIAN_GBP * np.exp(rng.normal(0.0, BUDGET_LOG_SD, n))
    annual = np.clip(np.round(annual), BUDGET_FLOOR_GBP, BUDGET_CAP_GBP)
    recovery = rng.random(n) < RECOVERY_SHARE
    low, high = RECOVERY_RANGE_GBP
    one_off = np.round(rng.uniform(low, high, n) / 5) * 5
    return np.where(recovery, one_off, annual), recovery


def _pathway_people(
    rng: np.random.Generator, site: SiteSpec, scale: float, data_end: np.datetime64
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """People on one site's budget pathway, with their dates, outcomes and budgets."""
    go, end = _site_dates(site)
    target = round(site.target_holders * scale)
    n = max(1, round(target / site.conversion))
    demo = _demographics(rng, site, n)
    span = int((end - go).astype(np.int64)) - REFERRAL_CUTOFF_DAYS
    referred = go + np.floor(rng.random(n) ** REFERRAL_RAMP * span).astype(np.int64)
    offered = referred + _gamma_days(rng, OFFER_DELAY, n)
    planned = offered + _gamma_days(rng, PLAN_DELAY, n)
    started = planned + _gamma_days(rng, START_DELAY, n)
    late = started > end
    # Offers that would land after the pilot are brought inside it, so every offer is in the pilot.
    inside = referred + np.floor(rng.random(n) * ((end - referred).astype(np.int64) + 1)).astype(np.int64)
    offered = np.where(offered > end, inside, offered)

    log_odds = _log_odds(demo)
    intercept = _solve_intercept(log_odds[~late], min(target, 0.98 * (~late).sum()))
    p_holder = 1 / (1 + np.exp(-(intercept + log_odds)))
    holder = (~late) & (rng.random(n) < p_holder)
    outcome = _pathway_outcomes(rng, late, holder)

    withdrawn_early = (outcome == "withdrawn") & (rng.random(n) >= WITHDRAWN_AFTER_OFFER_SHARE)
    keep_plan = holder | (
        (outcome == "in_planning") & (planned <= end) & (late | (rng.random(n) < EARLY_IN_PLANNING_PLAN_AGREED_SHARE))
    )
    offered_on = np.where(withdrawn_early, np.datetime64("NaT"), offered)
    plan_on = np.where(keep_plan, planned, np.datetime64("NaT"))
    start_on = np.where(holder, started, np.datetime64("NaT"))

    options = np.asarray(contract.MANAGEMENT_OPTIONS, dtype=object)
    option = np.where(holder, options[rng.choice(3, size=n, p=site.management_mix)], "")
    annual, recovery = _budgets(rng, n)
    recovery &= holder
    budget_end = _budget_ends(rng, started, recovery, holder, data_end)
    people = {
        **demo,
        "site_code": np.full(n, site.code, dtype=object),
        "arm": np.full(n, "phb", dtype=object),
        "referred_on": referred,
        "offered_on": offered_on.astype("datetime64[D]"),
        "plan_agreed_on": plan_on.astype("datetime64[D]"),
        "outcome": outcome,
        "budget_start": start_on.astype("datetime64[D]"),
        "budget_end": budget_end,
        "management_option": option,
        "annual_budget_gbp": np.where(holder, annual, np.nan),
        "index_date": start_on.astype("datetime64[D]"),
        "recovery": recovery,
    }
    info = {
        "target_holders": target,
        "referrals": n,
        "conversion_intercept": round(intercept, 6),
    }
    return people, info


def _budget_ends(
    rng: np.random.Generator,
    started: np.ndarray,
    recovery: np.ndarray,
    holder: np.ndarray,
    data_end: np.datetime64,
) -> np.ndarray:
    """End dates: recovery budgets end after a few months; a few others end too."""
    n = len(started)
    short = rng.integers(RECOVERY_DURATION_DAYS[0], RECOVERY_DURATION_DAYS[1] + 1, n)
    long = rng.integers(OTHER_ENDED_DAYS[0], OTHER_ENDED_DAYS[1] + 1, n)
    other_ended = holder & ~recovery & (rng.random(n) < OTHER_ENDED_SHARE)
    ends = _empty_dates(n)
    ends[recovery] = started[recovery] + short[recovery]
    ends[other_ended] = started[other_ended] + long[other_ended]
    ends[ends > data_end] = np.datetime64("NaT")
    return ends


def _comparison_people(rng: np.random.Generator, site: SiteSpec, holder_starts: np.ndarray) -> dict[str, np.ndarray]:
    """About two comparison people per budget holder, indexed like the site's budget starts."""
    n = round(COMPARISON_PER_HOLDER * len(holder_starts))
    go, end = _site_dates(site)
    demo = _demographics(rng, site, n)
    if n:
        drawn = np.sort(holder_starts)[rng.integers(0, len(holder_starts), n)]
        jitter = np.rint(rng.normal(0.0, COMPARISON_INDEX_JITTER_SD_DAYS, n)).astype(np.int64)
        index = np.clip(drawn + jitter, go, end)
    else:
        index = _empty_dates(0)
    blank = _empty_dates(n)
    return {
        **demo,
        "site_code": np.full(n, site.code, dtype=object),
        "arm": np.full(n, "comparison", dtype=object),
        "referred_on": blank,
        "offered_on": blank,
        "plan_agreed_on": blank,
        "outcome": np.full(n, "not_offered", dtype=object),
        "budget_start": blank,
        "budget_end": blank,
        "management_option": np.full(n, "", dtype=object),
        "annual_budget_gbp": np.full(n, np.nan),
        "index_date": index.astype("datetime64[D]"),
        "recovery": np.zeros(n, dtype=bool),
    }


def _person_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unique pseudonyms 'P' + 7 upper-case hex digits; the letter rules out an NHS number."""
    codes = rng.choice(16**7, size=n, replace=False)
    return np.array([f"P{c:07X}" for c in codes], dtype=object)


def _build_people(
    rng: np.random.Generator, scale: float, data_end: np.datetime64
) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    """All people at all sites, both arms, sorted by person_id."""
    parts: list[dict[str, np.ndarray]] = []
    info: dict[str, dict] = {}
    for site in SITES:
        pathway, site_info = _pathway_people(rng, site, scale, data_end)
        starts = pathway["budget_start"][pathway["outcome"] == "budget_in_place"]
        comparison = _comparison_people(rng, site, starts)
        parts += [pathway, comparison]
        info[site.code] = site_info
    people = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    people["person_id"] = _person_ids(rng, len(people["arm"]))
    order = np.argsort(people["person_id"].astype(str), kind="stable")
    return {key: value[order] for key, value in people.items()}, info


def _site_effects(rng: np.random.Generator, effect: float) -> dict[str, tuple[float, float]]:
    """Per-site true effect: effect x exp(jitter), jitter centred so its mean log is zero."""
    jitter = rng.normal(0.0, SITE_EFFECT_JITTER_SD, len(SITES))
    jitter -= jitter.mean()
    return {s.code: (effect * float(np.exp(j)), float(j)) for s, j in zip(SITES, jitter)}


def _repeat_index(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row index repeated by counts, and each repeat's position within its row."""
    rows = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return rows, np.arange(counts.sum()) - starts[rows]


def _emergency_events(
    rng: np.random.Generator,
    people: dict[str, np.ndarray],
    base: np.ndarray,
    effects: np.ndarray,
    period: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Emergency admissions as a piecewise-constant Poisson process around each index date."""
    first, last = period
    n = len(base)
    index = people["index_date"]
    has_index = ~np.isnat(index)
    safe = np.where(has_index, index, np.datetime64(last + 1, "D"))
    pre = np.where(has_index, add_months(safe, -WINDOW_MONTHS), safe).astype(np.int64)
    post = np.where(has_index, add_months(safe, WINDOW_MONTHS), safe).astype(np.int64)
    idx = safe.astype(np.int64)
    bounds = np.stack([np.full(n, first), pre, idx, post, np.full(n, last + 1)], axis=1)
    bounds = np.clip(bounds, first, last + 1)
    holder = people["outcome"] == "budget_in_place"
    after = np.where(holder, effects, 1.0)
    multipliers = np.stack([np.ones(n), np.full(n, RTM_MULTIPLIER), after, after], axis=1)
    lengths = np.diff(bounds, axis=1)
    counts = rng.poisson(base[:, None] * multipliers * lengths / DAYS_PER_YEAR)
    rows, _ = _repeat_index(counts.ravel())
    person, segment = np.divmod(rows, 4)
    days = bounds[person, segment] + np.floor(rng.random(len(rows)) * lengths[person, segment])
    return person, days.astype(np.int64)


def _flat_events(rng: np.random.Generator, rates: np.ndarray, period: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Admissions at a constant rate over the whole data period."""
    first, last = period
    length = last + 1 - first
    counts = rng.poisson(rates * length / DAYS_PER_YEAR)
    person, _ = _repeat_index(counts)
    return person, first + np.floor(rng.random(len(person)) * length).astype(np.int64)


def _length_of_stay(rng: np.random.Generator, mental_health: np.ndarray) -> np.ndarray:
    """Days in hospital: lognormal for mental health, negative binomial for general acute."""
    n = len(mental_health)
    mh = np.rint(MH_LOS_MEDIAN_DAYS * np.exp(rng.normal(0.0, MH_LOS_LOG_SD, n)))
    p = ACUTE_LOS_NB_SIZE / (ACUTE_LOS_NB_SIZE + ACUTE_LOS_MEAN_DAYS)
    acute = rng.negative_binomial(ACUTE_LOS_NB_SIZE, p, n)
    return np.where(mental_health, np.maximum(mh, 1), acute).astype(np.int64)


def _drop_overlaps(person: np.ndarray, admitted: np.ndarray, discharged: np.ndarray) -> np.ndarray:
    """Keep-mask dropping admissions that start while the person is still in hospital."""
    keep = np.ones(len(person), dtype=bool)
    last_person, busy_until = -1, 0
    for i, (p, a, d) in enumerate(zip(person.tolist(), admitted.tolist(), discharged.tolist())):
        if p == last_person and a <= busy_until:
            keep[i] = False
            continue
        last_person, busy_until = p, d
    return keep


def _build_admissions(
    rng: np.random.Generator,
    people: dict[str, np.ndarray],
    effects: dict[str, tuple[float, float]],
    period: tuple[np.datetime64, np.datetime64],
) -> dict[str, np.ndarray]:
    """Emergency, elective and other admissions for every person over the data period."""
    first, last = (int(d.astype(np.int64)) for d in period)
    sites = people["site_code"].astype(str)
    multiplier = np.ones(len(sites))
    site_effect = np.ones(len(sites))
    for site in SITES:
        multiplier[sites == site.code] = site.emergency_rate_multiplier
        site_effect[sites == site.code] = effects[site.code][0]
    base = rng.gamma(EMERGENCY_RATE_SHAPE, EMERGENCY_RATE_MEAN / EMERGENCY_RATE_SHAPE, len(sites))
    base *= multiplier
    groups = [
        (
            "emergency",
            *_emergency_events(rng, people, base, site_effect, (first, last)),
        ),
        ("elective", *_flat_events(rng, base * ELECTIVE_RATE_RATIO, (first, last))),
        ("other", *_flat_events(rng, base * OTHER_RATE_RATIO, (first, last))),
    ]
    method = np.concatenate([np.full(len(p), m, dtype=object) for m, p, _ in groups])
    person = np.concatenate([p for _, p, _ in groups])
    admitted = np.concatenate([d for _, _, d in groups])
    mh_share = np.array([MENTAL_HEALTH_SHARE[m] for m in method.tolist()], dtype=float)
    mental_health = rng.random(len(person)) < mh_share
    stay = _length_of_stay(rng, mental_health)
    cost_blank = rng.random(len(person)) < COST_BLANK_SHARE
    noise = np.exp(rng.normal(0.0, COST_NOISE_LOG_SD, len(person)))

    order = np.lexsort((method.astype(str), admitted, person))
    person, admitted, method = person[order], admitted[order], method[order]
    mental_health, stay, cost_blank, noise = (
        mental_health[order],
        stay[order],
        cost_blank[order],
        noise[order],
    )
    discharged = admitted + stay
    keep = _drop_overlaps(person, admitted, discharged)
    open_stay = discharged > last
    unit = np.where(mental_health, UNIT_COST_GBP["mental_health"], UNIT_COST_GBP["general_acute"])
    cost = np.round(np.maximum(stay, 1) * unit * noise, 2)
    cost = np.where(cost_blank | open_stay, np.nan, cost)
    rows = {
        "person_id": people["person_id"][person],
        "admitted_on": admitted.astype("datetime64[D]"),
        "discharged_on": np.where(open_stay, np.datetime64("NaT"), discharged.astype("datetime64[D]")),
        "admission_method": method,
        "setting": np.where(mental_health, "mental_health", "general_acute").astype(object),
        "cost_gbp": cost,
    }
    rows = {k: v[keep] for k, v in rows.items()}
    final = np.lexsort((rows["person_id"].astype(str), rows["admitted_on"]))
    rows = {k: v[final] for k, v in rows.items()}
    rows["admission_id"] = np.array([f"A{i:07d}" for i in range(1, len(final) + 1)], dtype=object)
    rows["_emergency_base_rate"] = base  # per person (in people order), for the manifest's truth; not written
    return rows


def _mean_stays_and_costs() -> dict[str, tuple[float, float]]:
    """Per admission method: the mean number of days a person is kept from another admission (the stay plus the
    day of discharge, as _drop_overlaps rules) and the expected cost as the analysis costs it (the extract's cost
    where given, else bed days times UNIT_COST_GBP), from the stay models: mental health lognormal (worked out by
    quadrature over the normal), general acute negative binomial (a given cost counts a same-day stay as one
    day). Stays still open at the end of the data are ignored: a few in thousands."""
    z = np.linspace(-9.0, 9.0, 36001)
    weight = np.exp(-0.5 * z**2)
    weight /= weight.sum()
    mh_days = float((np.maximum(np.rint(MH_LOS_MEDIAN_DAYS * np.exp(MH_LOS_LOG_SD * z)), 1) * weight).sum())
    noise = math.exp(COST_NOISE_LOG_SD**2 / 2)
    given = 1 - COST_BLANK_SHARE
    p = ACUTE_LOS_NB_SIZE / (ACUTE_LOS_NB_SIZE + ACUTE_LOS_MEAN_DAYS)
    acute_days, same_day = ACUTE_LOS_MEAN_DAYS, p**ACUTE_LOS_NB_SIZE
    mental = UNIT_COST_GBP["mental_health"] * mh_days * (given * noise + COST_BLANK_SHARE)
    acute = UNIT_COST_GBP["general_acute"] * (given * noise * (acute_days + same_day) + COST_BLANK_SHARE * acute_days)
    return {
        method: (
            (share * mh_days + (1 - share) * acute_days + 1) / DAYS_PER_YEAR,
            share * mental + (1 - share) * acute,
        )
        for method, share in MENTAL_HEALTH_SHARE.items()
    }


def expected_emergency_cost() -> float:
    """The expected cost of one emergency admission as the analysis costs it."""
    return _mean_stays_and_costs()["emergency"][1]


def value_for_money_truth(
    people: dict[str, np.ndarray],
    base: np.ndarray,
    effects: dict[str, tuple[float, float]],
    spend: dict[str, np.ndarray],
    period: tuple[np.datetime64, np.datetime64],
) -> dict[str, Any]:
    """The true net cost per budget holder per year that the value-for-money page estimates, from what the
    generator knows: money spent from budgets in the 12 months from each budget start (as written) per
    holder-year, less the expected fall in hospital costs the budget causes over the same holder-years.

    The fall: for each holder, the expected admissions kept in the year after, without a budget (emergency rate
    times 1) less with it (times the site's true effect), each method at its expected cost. Admissions that
    start while the person is still in hospital are dropped (_drop_overlaps), so of admissions arriving at a total
    rate L a year, each keeping the person in hospital for t years on average, L / (1 + L t) a year are kept (a
    Poisson process with dead time); fewer emergency admissions also let a few more elective and other ones through,
    which is counted. Holder-years count the time the data period covers, as the analysis does."""
    holder = (people["outcome"] == "budget_in_place") & ~np.isnat(people["index_date"])
    index = people["index_date"][holder].astype("datetime64[D]")
    end = np.minimum(add_months(index, WINDOW_MONTHS).astype("datetime64[D]"), period[1] + np.timedelta64(1, "D"))
    years = (end - index).astype(np.int64) / DAYS_PER_YEAR
    site_effect = np.array([effects[str(s)][0] for s in people["site_code"][holder]])
    rate = base[holder]
    stays = _mean_stays_and_costs()
    relative = {"elective": ELECTIVE_RATE_RATIO, "other": OTHER_RATE_RATIO}

    def kept_cost(emergency: np.ndarray) -> np.ndarray:
        rates = {"emergency": rate * emergency, **{m: rate * r for m, r in relative.items()}}
        busy = sum(rates[m] * stays[m][0] for m in rates)
        return sum(rates[m] * stays[m][1] for m in rates) / (1 + busy)

    saving_each = (kept_cost(np.ones_like(rate)) - kept_cost(site_effect)) * years
    fewer = float((rate * (1 - site_effect) * years).sum())
    at = {pid: i for i, pid in enumerate(people["person_id"][holder].tolist())}
    who = np.array([at.get(pid, -1) for pid in spend["person_id"].tolist()])
    paid = spend["paid_on"].astype("datetime64[D]")
    inside = (who >= 0) & (paid >= index[np.maximum(who, 0)]) & (paid < end[np.maximum(who, 0)])
    spent = float(spend["amount_gbp"][inside].sum())
    holder_years = float(years.sum())
    saving = float(saving_each.sum()) / holder_years
    return {
        "note": (
            "Truth for the value-for-money page, at the generator's unit costs: spending from budgets in the 12 "
            "months from the budget start per holder-year, less the expected fall in hospital costs caused by "
            "budgets per holder-year (expected admissions kept without and with the budget, allowing for "
            "admissions dropped while a person is in hospital, each at its expected cost)."
        ),
        "expected_cost_per_emergency_admission_gbp": _rounded(stays["emergency"][1]),
        "emergency_admissions_avoided_per_holder_year_before_overlaps": _rounded(fewer / holder_years),
        "spend_per_holder_year_gbp": _rounded(spent / holder_years),
        "hospital_saving_per_holder_year_gbp": _rounded(saving),
        "net_cost_per_holder_year_gbp": _rounded(spent / holder_years - saving),
        "unit_costs_gbp_per_bed_day": UNIT_COST_GBP,
        "price_base": UNIT_COST_PRICE_BASE,
    }


def _category_mix(site: SiteSpec, option: str) -> np.ndarray:
    """Expected category shares for a site and management option."""
    mix = np.array(BASE_CATEGORY_MIX, dtype=float)
    for tilts in (dict(site.category_tilt), MANAGEMENT_CATEGORY_TILT[option]):
        for category, factor in tilts.items():
            mix[contract.SPEND_CATEGORIES.index(category)] *= factor
    return mix / mix.sum()


def _person_category_probs(rng: np.random.Generator, sites: np.ndarray, options: np.ndarray) -> np.ndarray:
    """Each holder's own category shares, concentrated on a few around the site-option mix."""
    expected = np.zeros((len(sites), len(contract.SPEND_CATEGORIES)))
    for site in SITES:
        for option in contract.MANAGEMENT_OPTIONS:
            mask = (sites == site.code) & (options == option)
            expected[mask] = _category_mix(site, option)
    draws = rng.gamma(expected * PERSON_CATEGORY_CONCENTRATION + 1e-3)
    return draws / draws.sum(axis=1, keepdims=True)


def _description_pool(templates: tuple[str, ...]) -> np.ndarray:
    """Every template filled with every name, in a fixed order."""
    filled = [t.format(name=n) if "{name}" in t else t for t in templates for n in DESCRIPTION_NAMES]
    return np.array(filled, dtype=object)


def _descriptions(
    rng: np.random.Generator,
    categories: np.ndarray,
    refund: np.ndarray,
    recovery: np.ndarray,
) -> np.ndarray:
    """Free-text descriptions that may look personal; about a fifth left blank."""
    n = len(categories)
    out = np.full(n, "", dtype=object)
    pick = rng.random(n)
    groups = [(categories == i) & ~refund & ~recovery for i in range(len(contract.SPEND_CATEGORIES))]
    pools = [_description_pool(DESCRIPTION_TEMPLATES[c]) for c in contract.SPEND_CATEGORIES]
    groups += [refund, recovery & ~refund]
    pools += [
        _description_pool(REFUND_TEMPLATES),
        _description_pool(RECOVERY_TEMPLATES),
    ]
    for mask, pool in zip(groups, pools):
        out[mask] = pool[np.floor(pick[mask] * len(pool)).astype(np.int64)]
    out[rng.random(n) < DESCRIPTION_BLANK_SHARE] = ""
    return out


def _build_spend(
    rng: np.random.Generator, people: dict[str, np.ndarray], data_end: np.datetime64
) -> dict[str, np.ndarray]:
    """Roughly monthly payment lines for each budget holder, summing to about budget x time."""
    holder = np.flatnonzero(people["outcome"] == "budget_in_place")
    start = people["budget_start"][holder]
    ended = people["budget_end"][holder]
    last = np.where(np.isnat(ended), data_end, ended - 1).astype("datetime64[D]")
    recovery = people["recovery"][holder]
    sites = people["site_code"][holder].astype(str)
    utilisation = np.array([{s.code: s.utilisation for s in SITES}[c] for c in sites.tolist()])
    probs = _person_category_probs(rng, sites, people["management_option"][holder].astype(str))

    months = (last.astype("datetime64[M]") - start.astype("datetime64[M]")).astype(np.int64) + 1
    months = np.where(recovery, 1, months)
    row, k = _repeat_index(months)
    jitter = rng.integers(0, SPEND_PAYMENT_JITTER_DAYS, len(row))
    recovery_day = rng.integers(0, RECOVERY_PAYMENT_MAX_DAYS + 1, len(row))
    paid = np.where(
        recovery[row],
        start[row] + np.minimum(recovery_day, (last - start)[row].astype(np.int64)),
        add_months(start[row], k) + jitter,
    )
    keep = (paid <= last[row]) & ((k == 0) | (rng.random(len(row)) >= SPEND_SKIP_MONTH_SHARE))
    row, paid = row[keep], paid[keep]

    years = ((last - start).astype(np.int64) + 1) / DAYS_PER_YEAR
    annual = people["annual_budget_gbp"][holder]
    total = np.where(recovery, annual, annual * years * utilisation)
    weight = rng.gamma(SPEND_LINE_GAMMA_SHAPE, 1.0, len(row))
    share = weight / np.bincount(row, weights=weight, minlength=len(holder))[row]
    amount = np.maximum(np.round(total[row] * share, 2), SPEND_MIN_LINE_GBP)
    amount = np.where(recovery[row], annual[row], amount)

    refund = (rng.random(len(row)) < REFUND_SHARE) & ~recovery[row]
    fraction = rng.uniform(*REFUND_FRACTION_RANGE, len(row))
    amount = np.where(refund, -np.maximum(np.round(amount * fraction, 2), 1.0), amount)
    cumulative = probs.cumsum(axis=1)
    category = (cumulative[row] < rng.random(len(row))[:, None]).sum(axis=1)
    category = np.minimum(category, len(contract.SPEND_CATEGORIES) - 1)
    description = _descriptions(rng, category, refund, recovery[row])

    order = np.lexsort((people["person_id"][holder][row].astype(str), paid))
    return {
        "spend_id": np.array([f"S{i:07d}" for i in range(1, len(row) + 1)], dtype=object),
        "person_id": people["person_id"][holder][row][order],
        "paid_on": paid[order].astype("datetime64[D]"),
        "category": np.asarray(contract.SPEND_CATEGORIES, dtype=object)[category][order],
        "amount_gbp": amount[order],
        "description": description[order],
    }


def _site_rows(scale: float) -> dict[str, np.ndarray]:
    """The sites table, with eligible population and planned budgets scaled."""
    dates = [_site_dates(s) for s in SITES]
    return {
        "site_code": np.array([s.code for s in SITES], dtype=object),
        "site_name": np.array([s.name for s in SITES], dtype=object),
        "lead_organisation": np.array([s.lead_organisation for s in SITES], dtype=object),
        "region": np.array([s.region for s in SITES], dtype=object),
        "ccg_codes": np.array([";".join(s.ccg_codes) for s in SITES], dtype=object),
        "go_live": np.array([d[0] for d in dates], dtype="datetime64[D]"),
        "pilot_end": np.array([d[1] for d in dates], dtype="datetime64[D]"),
        "eligible_population": np.array(
            [max(1, round(s.eligible_population * scale)) for s in SITES],
            dtype=np.int64,
        ),
        "planned_budgets": np.array([round(s.planned_budgets * scale) for s in SITES], dtype=np.int64),
    }


def _format_column(values: np.ndarray, kind: str) -> np.ndarray:
    """Render one column as CSV text: ISO dates, 2-decimal money, blanks for missing."""
    if kind == "date":
        text = np.datetime_as_string(values.astype("datetime64[D]"), unit="D").astype(object)
        return np.where(np.isnat(values), "", text)
    if kind == "decimal":
        values = values.astype(float)
        text = np.char.mod("%.2f", np.nan_to_num(values)).astype(object)
        return np.where(np.isnan(values), "", text)
    if kind == "integer":
        values = values.astype(float)
        text = np.char.mod("%d", np.nan_to_num(values).astype(np.int64)).astype(object)
        return np.where(np.isnan(values), "", text)
    return np.array(["" if v is None else str(v) for v in values.tolist()], dtype=object)


def _write_table(out: Path, name: str, rows: dict[str, np.ndarray]) -> int:
    """Write one contract table as CSV in contract column order; return its row count."""
    columns = contract.TABLES[name]
    frame = pd.DataFrame({c.name: pd.Series(_format_column(rows[c.name], c.type), dtype=object) for c in columns})
    frame.to_csv(out / f"{name}.csv", index=False, lineterminator="\n", encoding="utf-8")
    return len(frame)


def _rounded(value: float) -> float:
    """Round a float for the manifest."""
    return round(float(value), 6)


def _site_manifest(
    info: dict[str, dict],
    effects: dict[str, tuple[float, float]],
    sites: dict[str, np.ndarray],
) -> dict[str, dict]:
    """True per-site parameters, scaled where the scale applies."""
    out: dict[str, dict] = {}
    for i, s in enumerate(SITES):
        out[s.code] = {
            "site_name": s.name,
            "lead_organisation": s.lead_organisation,
            "region": s.region,
            "ccg_codes": list(s.ccg_codes),
            "go_live": str(sites["go_live"][i]),
            "pilot_end": str(sites["pilot_end"][i]),
            "eligible_population": int(sites["eligible_population"][i]),
            "planned_budgets": int(sites["planned_budgets"][i]),
            "target_holders": info[s.code]["target_holders"],
            "target_holders_at_scale_1": s.target_holders,
            "referrals": info[s.code]["referrals"],
            "target_conversion_referral_to_budget": s.conversion,
            "conversion_log_odds_intercept": info[s.code]["conversion_intercept"],
            "management_mix": dict(zip(contract.MANAGEMENT_OPTIONS, s.management_mix)),
            "utilisation": s.utilisation,
            "category_mix_by_management_option": {
                o: dict(
                    zip(
                        contract.SPEND_CATEGORIES,
                        (_rounded(v) for v in _category_mix(s, o)),
                    )
                )
                for o in contract.MANAGEMENT_OPTIONS
            },
            "true_effect": _rounded(effects[s.code][0]),
            "true_effect_log_jitter": _rounded(effects[s.code][1]),
            "emergency_rate_multiplier": s.emergency_rate_multiplier,
            "age_profile": dict(zip(contract.AGE_BANDS, AGE_SHARES[s.age_profile])),
            "ethnicity_profile": dict(zip(contract.ETHNICITIES, ETHNICITY_SHARES[s.ethnicity_profile])),
            "primary_need_profile": dict(zip(contract.PRIMARY_NEEDS, NEED_SHARES[s.need_profile])),
        }
    return out


def _global_parameters() -> dict[str, Any]:
    """True parameters shared by all sites."""
    return {
        "pilot_months": PILOT_MONTHS,
        "data_months_before_earliest_go_live": DATA_MONTHS_BEFORE,
        "data_months_after_latest_pilot_end": DATA_MONTHS_AFTER,
        "window_months": WINDOW_MONTHS,
        "referral_cutoff_days_before_pilot_end": REFERRAL_CUTOFF_DAYS,
        "referral_time_exponent": REFERRAL_RAMP,
        "offer_delay_days_min_shape_scale": list(OFFER_DELAY),
        "plan_delay_days_min_shape_scale": list(PLAN_DELAY),
        "start_delay_days_min_shape_scale": list(START_DELAY),
        "late_referral_outcome_shares": LATE_OUTCOME_SHARES,
        "early_non_holder_outcome_shares": EARLY_OUTCOME_SHARES,
        "withdrawn_after_offer_share": WITHDRAWN_AFTER_OFFER_SHARE,
        "early_in_planning_plan_agreed_share": EARLY_IN_PLANNING_PLAN_AGREED_SHARE,
        "conversion_odds_multipliers": CONVERSION_ODDS,
        "conversion_odds_note": (
            "True odds multipliers on a referral becoming a budget, among people referred early "
            "enough to finish the pathway by pilot end; 1.0 for values not listed."
        ),
        "annual_budget_median_gbp": BUDGET_MEDIAN_GBP,
        "annual_budget_log_sd": BUDGET_LOG_SD,
        "annual_budget_cap_gbp": BUDGET_CAP_GBP,
        "annual_budget_floor_gbp": BUDGET_FLOOR_GBP,
        "recovery_budget_share": RECOVERY_SHARE,
        "recovery_budget_range_gbp": list(RECOVERY_RANGE_GBP),
        "recovery_budget_duration_days": list(RECOVERY_DURATION_DAYS),
        "other_ended_budget_share": OTHER_ENDED_SHARE,
        "other_ended_budget_days": list(OTHER_ENDED_DAYS),
        "comparison_per_holder": COMPARISON_PER_HOLDER,
        "comparison_index_jitter_sd_days": COMPARISON_INDEX_JITTER_SD_DAYS,
        "spend_skip_month_share": SPEND_SKIP_MONTH_SHARE,
        "spend_line_gamma_shape": SPEND_LINE_GAMMA_SHAPE,
        "spend_min_line_gbp": SPEND_MIN_LINE_GBP,
        "refund_share": REFUND_SHARE,
        "refund_fraction_range": list(REFUND_FRACTION_RANGE),
        "description_blank_share": DESCRIPTION_BLANK_SHARE,
        "person_category_concentration": PERSON_CATEGORY_CONCENTRATION,
        "base_category_mix": dict(zip(contract.SPEND_CATEGORIES, BASE_CATEGORY_MIX)),
        "management_category_tilt": MANAGEMENT_CATEGORY_TILT,
        "emergency_rate_mean_per_person_year": EMERGENCY_RATE_MEAN,
        "emergency_rate_gamma_shape": EMERGENCY_RATE_SHAPE,
        "rtm_multiplier": RTM_MULTIPLIER,
        "site_effect_jitter_sd": SITE_EFFECT_JITTER_SD,
        "elective_rate_ratio": ELECTIVE_RATE_RATIO,
        "other_rate_ratio": OTHER_RATE_RATIO,
        "mental_health_share_by_method": MENTAL_HEALTH_SHARE,
        "mental_health_los_median_days": MH_LOS_MEDIAN_DAYS,
        "mental_health_los_log_sd": MH_LOS_LOG_SD,
        "general_acute_los_mean_days": ACUTE_LOS_MEAN_DAYS,
        "general_acute_los_negative_binomial_size": ACUTE_LOS_NB_SIZE,
        "unit_cost_gbp_per_bed_day": UNIT_COST_GBP,
        "unit_cost_price_base": UNIT_COST_PRICE_BASE,
        "cost_blank_share": COST_BLANK_SHARE,
        "cost_noise_log_sd": COST_NOISE_LOG_SD,
        "imd_blank_share": IMD_BLANK_SHARE,
        "sex_shares": dict(zip(contract.SEXES, SEX_SHARES)),
        "imd_quintile_shares": dict(zip(("1", "2", "3", "4", "5"), IMD_SHARES)),
    }


def _validate(out: Path, seed: int, scale: float, effect: float) -> None:
    """Raise ValueError for arguments the generator cannot honour."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError("seed must be a whole number >= 0")
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError("scale must be a finite number > 0")
    if not 0 < effect <= MAX_EFFECT:
        raise ValueError(f"effect must be > 0 and <= {MAX_EFFECT:g}")
    if out.exists() and not out.is_dir():
        raise ValueError(f"out must be a folder, but {out} is an existing file")


def generate(
    out: Path,
    seed: int = DEFAULT_SEED,
    scale: float = DEFAULT_SCALE,
    effect: float = DEFAULT_EFFECT,
) -> dict:
    """Write a contract-valid synthetic extract and MANIFEST.json to out; return the manifest."""
    out = Path(out)
    _validate(out, seed, scale, effect)
    scale, effect, seed = float(scale), float(effect), int(seed)
    out.mkdir(parents=True, exist_ok=True)
    people_rng, effect_rng, admissions_rng, spend_rng = np.random.default_rng(seed).spawn(4)
    period = _data_period()
    sites = _site_rows(scale)
    people, info = _build_people(people_rng, scale, period[1])
    effects = _site_effects(effect_rng, effect)
    admissions = _build_admissions(admissions_rng, people, effects, period)
    spend = _build_spend(spend_rng, people, period[1])
    truth = value_for_money_truth(people, admissions.pop("_emergency_base_rate"), effects, spend, period)
    counts = {
        name: _write_table(out, name, rows)
        for name, rows in (
            ("sites", sites),
            ("people", people),
            ("spend", spend),
            ("admissions", admissions),
        )
    }
    manifest = {
        "synthetic": True,
        "contract_version": contract.CONTRACT_VERSION,
        "generator": GENERATOR_NAME,
        "seed": seed,
        "scale": scale,
        "effect": effect,
        "note": MANIFEST_NOTE,
        "published_fields": list(PUBLISHED_FIELDS),
        "data_period": {"start": str(period[0]), "end": str(period[1])},
        "sites": _site_manifest(info, effects, sites),
        "parameters": _global_parameters(),
        "row_counts": counts,
        "value_for_money": truth,
    }
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (out / "MANIFEST.json").write_text(text, encoding="utf-8")
    return manifest


def _parser() -> argparse.ArgumentParser:
    """Command-line options for `python -m phb generate`."""
    parser = argparse.ArgumentParser(
        prog="python -m phb generate",
        description="Write a synthetic personal health budget pilot extract (all figures are "
        "assumptions, not published data).",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write the extract to")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 2014)")
    parser.add_argument(
        "--scale",
        type=float,
        default=DEFAULT_SCALE,
        help="multiplies sites' cohorts and budget numbers (default 1)",
    )
    parser.add_argument(
        "--effect",
        type=float,
        default=DEFAULT_EFFECT,
        help="true rate ratio of the budget on emergency admissions (default 0.75)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the generate command; return a process exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.seed < 0:
            parser.error("--seed must be >= 0")
        if not (math.isfinite(args.scale) and args.scale > 0):
            parser.error("--scale must be > 0")
        if not 0 < args.effect <= MAX_EFFECT:
            parser.error(f"--effect must be > 0 and <= {MAX_EFFECT:g}")
        if args.out.exists() and not args.out.is_dir():
            parser.error(f"--out {args.out} is an existing file; give a folder")
        if problem := output_problem(args.out):
            parser.error(problem)
    except SystemExit as exc:
        return int(exc.code or 0)
    manifest = generate(args.out, seed=args.seed, scale=args.scale, effect=args.effect)
    counts = manifest["row_counts"]
    print(
        f"Wrote synthetic extract: {counts['people']} people, {counts['spend']} spend lines, "
        f"{counts['admissions']} admissions to {args.out}"
    )
    return 0
