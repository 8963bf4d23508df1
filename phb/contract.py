"""The pilot data contract, version 1: its tables, columns, types and allowed values, the rules across
columns and tables, and the checks that apply them to an extract loaded by `phb.extract`.

One place that the generator, the warehouse build and the tests all read, so the rules in
`docs/DATA_CONTRACT.md` are written down once. Each refusal names the file, the row and the key,
never a value that may be personal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

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

MAX_EXAMPLES = 5  # rows named in each problem; the rest are counted

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


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an extract: the file (and sheet) it is in, the rule it breaks, and, for a rule
    about values, the table, column and the rows (as the person's file numbers them, the header being
    row 1) with each row's key, left blank where the key may be personal. `text` is the whole message
    for a problem with the file itself (no rows)."""

    where: str
    rule: str
    table: str | None = None
    column: str | None = None
    key: str | None = None
    rows: tuple[tuple[int, str | None], ...] = field(default=())
    text: str = ""

    def __str__(self) -> str:
        if self.text:
            return self.text
        return _examples(list(self.rows), self.where, self.key or "", self.rule)


def problem_of_file(text: str, table: str | None = None, where: str = "") -> Problem:
    """A problem with a file as a whole (it cannot be read, a column is missing): its message only."""
    return Problem(where=where, rule=text, table=table, text=text)


class ContractError(Exception):
    """The extract does not follow the data contract; `problems` says what and where (one line each),
    `details` holds the same problems as `Problem`s for a report."""

    def __init__(self, problems: list):
        self.details = [p if isinstance(p, Problem) else problem_of_file(str(p)) for p in problems]
        self.problems = [str(p) for p in self.details]
        super().__init__("The extract does not follow the data contract:\n- " + "\n- ".join(self.problems))


# Rules across columns and tables, each a condition (on the typed table) that picks out the
# offending rows, and the words that say what is wrong.
RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "sites": (
        ("not regexp_full_match(site_code, '[A-Z0-9]{2,8}')", "'site_code' must be 2 to 8 capitals or digits"),
        ("pilot_end <= go_live", "'pilot_end' must be after 'go_live'"),
        ("eligible_population <= 0", "'eligible_population' must be more than 0"),
        ("planned_budgets < 0", "'planned_budgets' must not be negative"),
    ),
    "people": (
        ("site_code not in (select site_code from sites)", "'site_code' is not a site in the sites table"),
        ("imd_quintile not between 1 and 5", "'imd_quintile' must be 1 (most deprived) to 5"),
        ("arm = 'comparison' and outcome <> 'not_offered'", "the comparison group must have outcome 'not_offered'"),
        ("arm = 'phb' and referred_on is null", "'referred_on' is required for people on the budget pathway"),
        ("offered_on < referred_on", "'offered_on' is before 'referred_on'"),
        ("plan_agreed_on < offered_on", "'plan_agreed_on' is before 'offered_on'"),
        (
            "outcome = 'budget_in_place' and budget_start is null",
            "'budget_start' is required when a budget is in place",
        ),
        ("budget_start < plan_agreed_on", "'budget_start' is before 'plan_agreed_on'"),
        ("budget_end <= budget_start", "'budget_end' must be after 'budget_start'"),
        (
            "outcome = 'budget_in_place' and management_option is null",
            "'management_option' is required when a budget is in place",
        ),
        (
            "outcome = 'budget_in_place' and annual_budget_gbp is null",
            "'annual_budget_gbp' is required when a budget is in place",
        ),
        ("annual_budget_gbp < 0", "'annual_budget_gbp' must not be negative"),
        (
            "outcome = 'budget_in_place' and index_date is distinct from budget_start",
            "'index_date' must equal 'budget_start' for a budget holder",
        ),
        ("arm = 'comparison' and index_date is null", "'index_date' is required for the comparison group"),
    ),
    "spend": (
        ("person_id not in (select person_id from people)", "'person_id' is not in the people table"),
        (
            "person_id not in (select person_id from people where outcome = 'budget_in_place')",
            "'person_id' does not hold a budget",
        ),
        (
            "exists (select 1 from people p where p.person_id = spend.person_id and spend.paid_on < p.budget_start)",
            "'paid_on' is before the person's budget started",
        ),
        ("amount_gbp = 0", "'amount_gbp' must not be zero"),
    ),
    "admissions": (
        ("person_id not in (select person_id from people)", "'person_id' is not in the people table"),
        ("discharged_on < admitted_on", "'discharged_on' is before 'admitted_on'"),
    ),
}


def ident(identifier: str) -> str:
    """Quote an identifier taken from the contract's allow-list (never from user input)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", identifier):
        raise ValueError(f"not a contract identifier: {identifier!r}")
    return f'"{identifier}"'


def _examples(rows: list[tuple], where: str, key: str, message: str) -> str:
    shown = ", ".join(
        f"row {r[0]} ({key} {r[1]!r})" if r[1] is not None else f"row {r[0]}" for r in rows[:MAX_EXAMPLES]
    )
    more = f" and {len(rows) - MAX_EXAMPLES:,} more" if len(rows) > MAX_EXAMPLES else ""
    return f"{where}: {message}: {shown}{more}."


def _column_of(message: str) -> str | None:
    found = re.search(r"'([a-z_]+)'", message)
    return found.group(1) if found else None


def _problem(rows: list[tuple], where: str, table: str, key: str, message: str, column: str | None = None) -> Problem:
    """A rule's offending rows as a Problem; a key that looks like an NHS number is never kept."""
    safe = tuple((r[0], None if r[1] is None or is_nhs_number(str(r[1])) else r[1]) for r in rows)
    return Problem(where, message, table, column or _column_of(message), key, safe)


def check_types(con: duckdb.DuckDBPyConnection, table: str, where: str) -> list[Problem]:
    """Required values present, values of the right type, coded values from the allowed lists."""
    key = KEYS[table]
    raw = ident("raw_" + table)
    problems = []
    for col in TABLES[table]:
        c = ident(col.name)
        checks: list[tuple[str, str, dict[str, Any]]] = []
        if col.required:
            checks.append((f"{c} is null", f"'{col.name}' is blank", {}))
        if col.type == "date":
            is_date = (
                f"regexp_full_match({c}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') and try_strptime({c}, '%Y-%m-%d') is not null"
            )
            checks.append(
                (f"{c} is not null and not ({is_date})", f"'{col.name}' is not a date written as YYYY-MM-DD", {})
            )
            checks.append(
                (
                    f"{c} is not null and ({is_date}) and cast(try_strptime({c}, '%Y-%m-%d') as date) "
                    "not between date '2000-01-01' and $today",
                    f"'{col.name}' is before 2000 or after today",
                    {"today": date.today()},
                )
            )
        elif col.type == "integer":
            checks.append(
                (
                    f"{c} is not null and (not regexp_full_match({c}, '-?\\d+') or try_cast({c} as integer) is null)",
                    f"'{col.name}' is not a whole number (or is too large)",
                    {},
                )
            )
        elif col.type == "decimal":
            checks.append(
                (
                    f"{c} is not null and (not regexp_full_match({c}, '-?\\d+(\\.\\d{{1,2}})?') "
                    f"or try_cast({c} as decimal(18, 2)) is null)",
                    f"'{col.name}' is not an amount in pounds with up to two decimals",
                    {},
                )
            )
        if col.type == "text" and not col.allowed:
            checks.append(
                (
                    f"{c} is not null and regexp_matches({c}, '^[=+@-]')",
                    f"'{col.name}' starts with =, +, - or @, which a spreadsheet would treat as a formula",
                    {},
                )
            )
        if col.allowed:
            allowed = ", ".join(col.allowed)
            checks.append(
                (
                    f"{c} is not null and not list_contains($allowed, {c})",
                    f"'{col.name}' is not one of: {allowed}",
                    {"allowed": list(col.allowed)},
                )
            )
        for condition, message, params in checks:
            rows = con.execute(
                f"select _row, {ident(key)} from {raw} where {condition} order by _row", params
            ).fetchall()
            if rows:
                problems.append(_problem(rows, where, table, key, message, col.name))
    return problems


def typed_select(table: str) -> str:
    """The select that turns raw_<table> (text) into the typed table, once check_types has passed."""
    casts = {"text": "varchar", "integer": "integer", "decimal": "decimal(18, 2)", "date": "date"}
    cols = ", ".join(f"cast({ident(c.name)} as {casts[c.type]}) as {ident(c.name)}" for c in TABLES[table])
    return f"select _row, {cols} from {ident('raw_' + table)}"


def check_rules(con: duckdb.DuckDBPyConnection, wheres: dict[str, str]) -> list[Problem]:
    """The RULES, unique keys and no NHS numbers, on the typed tables."""
    problems = []
    for table, rules in RULES.items():
        key = KEYS[table]
        rows_by_rule = []
        for condition, message in rules:
            rows = con.execute(
                f"select _row, {ident(key)} from {ident(table)} where {condition} order by _row"
            ).fetchall()
            rows_by_rule.append((rows, message))
        dupes = con.execute(
            f"select min(_row), {ident(key)} from {ident(table)} group by {ident(key)} having count(*) > 1 order by 1"
        ).fetchall()
        rows_by_rule.append((dupes, f"'{key}' appears more than once"))
        problems += [_problem(rows, wheres[table], table, key, msg) for rows, msg in rows_by_rule if rows]
    return problems + _check_nhs_numbers(con, wheres)


def _check_nhs_numbers(con: duckdb.DuckDBPyConnection, wheres: dict[str, str]) -> list[Problem]:
    """Refuse any id that is a valid NHS number: an extract must be pseudonymised."""
    problems = []
    for table, key in KEYS.items():
        ids = [*{key}]
        if table in ("spend", "admissions"):
            ids.append("person_id")
        for col in ids:
            candidates = con.execute(
                f"select _row, {ident(col)} from {ident(table)} "
                f"where regexp_full_match(regexp_replace({ident(col)}, '[ -]', '', 'g'), '\\d{{10}}') order by _row"
            ).fetchall()
            bad = [(r, v) for r, v in candidates if is_nhs_number(v)]
            if bad:
                rows = [(r, None) for r, _ in bad]
                problems.append(
                    _problem(
                        rows,
                        wheres[table],
                        table,
                        col,
                        f"'{col}' holds what looks like a real NHS number; "
                        "an extract must be pseudonymised, so it is refused (values not shown)",
                    )
                )
    return problems
