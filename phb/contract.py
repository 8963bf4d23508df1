"""The pilot data contract, version 1, as data: tables, columns, types and allowed values.

One place that the generator, the warehouse build and the tests all read, so the rules in
`docs/DATA_CONTRACT.md` are written down once.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTRACT_VERSION = 1

AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
SEXES = ("female", "male", "other", "not_stated")
ETHNICITIES = ("white", "mixed", "asian", "black", "other", "not_stated")
PRIMARY_NEEDS = ("psychosis", "mood", "anxiety", "personality", "substance_misuse", "other")
ARMS = ("phb", "comparison")
OUTCOMES = ("budget_in_place", "in_planning", "declined", "withdrawn", "not_offered")
MANAGEMENT_OPTIONS = ("notional", "third_party", "direct_payment")
SPEND_CATEGORIES = (
    "talking_therapy",
    "complementary_therapy",
    "physical_activity",
    "education",
    "social_leisure",
    "personal_support",
    "equipment_technology",
    "transport",
    "short_breaks",
    "other",
)
ADMISSION_METHODS = ("emergency", "elective", "other")
SETTINGS = ("mental_health", "general_acute")

# Plain names for the coded values, as commissioners read them.
LABELS: dict[str, str] = {
    "notional": "Notional budget",
    "third_party": "Third-party budget",
    "direct_payment": "Direct payment",
    "talking_therapy": "Talking therapies",
    "complementary_therapy": "Complementary therapies",
    "physical_activity": "Physical activity",
    "education": "Education and courses",
    "social_leisure": "Social and leisure",
    "personal_support": "Personal support",
    "equipment_technology": "Equipment and technology",
    "transport": "Transport",
    "short_breaks": "Short breaks and respite",
    "other": "Other",
    "mental_health": "Mental health",
    "general_acute": "General acute",
    "budget_holders": "Budget holders",
    "comparison": "Comparison group",
}


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    type: str  # text, integer, decimal, date
    required: bool = False
    allowed: tuple[str, ...] | None = None


TABLES: dict[str, tuple[Column, ...]] = {
    "sites": (
        Column("site_code", "text", True),
        Column("site_name", "text", True),
        Column("lead_organisation", "text", True),
        Column("region", "text", True),
        Column("ccg_codes", "text"),
        Column("go_live", "date", True),
        Column("pilot_end", "date", True),
        Column("eligible_population", "integer", True),
        Column("planned_budgets", "integer", True),
    ),
    "people": (
        Column("person_id", "text", True),
        Column("site_code", "text", True),
        Column("arm", "text", True, ARMS),
        Column("age_band", "text", True, AGE_BANDS),
        Column("sex", "text", True, SEXES),
        Column("ethnicity", "text", True, ETHNICITIES),
        Column("imd_quintile", "integer"),
        Column("primary_need", "text", True, PRIMARY_NEEDS),
        Column("referred_on", "date"),
        Column("offered_on", "date"),
        Column("plan_agreed_on", "date"),
        Column("outcome", "text", True, OUTCOMES),
        Column("budget_start", "date"),
        Column("budget_end", "date"),
        Column("management_option", "text", False, MANAGEMENT_OPTIONS),
        Column("annual_budget_gbp", "decimal"),
        Column("index_date", "date"),
    ),
    "spend": (
        Column("spend_id", "text", True),
        Column("person_id", "text", True),
        Column("paid_on", "date", True),
        Column("category", "text", True, SPEND_CATEGORIES),
        Column("amount_gbp", "decimal", True),
        Column("description", "text"),
    ),
    "admissions": (
        Column("admission_id", "text", True),
        Column("person_id", "text", True),
        Column("admitted_on", "date", True),
        Column("discharged_on", "date"),
        Column("admission_method", "text", True, ADMISSION_METHODS),
        Column("setting", "text", True, SETTINGS),
        Column("cost_gbp", "decimal"),
    ),
}

KEYS = {"sites": "site_code", "people": "person_id", "spend": "spend_id", "admissions": "admission_id"}


def is_nhs_number(value: str) -> bool:
    """True when the value is ten digits passing the NHS number Modulus 11 check."""
    digits = value.replace(" ", "").replace("-", "")
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        return False
    return check == int(digits[9])
