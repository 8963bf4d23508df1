"""Building the warehouse: contract checks that name what is wrong and where, atomic swaps,
rebuilds when the extract changes, and the other file formats the contract allows."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from phb import contract
from phb.config import Settings, perturbation_key, settings
from phb.contract import ContractError
from phb.extract import content_hash
from phb.queries import query_params, query_text, run_query
from phb.warehouse import build, build_signature, ensure_warehouse, read_info
from tests.conftest import TEST_KEY, TINY


def rewrite(path: Path, change) -> None:
    """Apply `change(rows)` to a CSV's rows (dicts) and write it back."""
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    rows = change(rows) or rows
    fields = list(rows[0].keys()) if rows else fields
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def set_value(key: str, column: str, value: str):
    def change(rows):
        for row in rows:
            if key in row.values():
                row[column] = value

    return change


def problems_of(extract: Path, tmp_path: Path) -> str:
    with pytest.raises(ContractError) as caught:
        build(extract, tmp_path / "w.duckdb")
    return "\n".join(caught.value.problems)


# Broken extracts: the file changed, how, and words the refusal must hold (file, rule, row, key).
BROKEN = [
    (
        "people.csv",
        set_value("A03", "budget_start", "2014-13-01"),
        "people.csv: 'budget_start' is not a date written as YYYY-MM-DD: row 4 (person_id 'A03')",
    ),
    ("people.csv", set_value("A03", "arm", "PHB"), "people.csv: 'arm' is not one of: phb, comparison: row 4"),
    ("people.csv", set_value("A05", "site_code", "ZZZ"), "'site_code' is not a site in the sites table: row 6"),
    ("people.csv", set_value("C01", "outcome", "declined"), "the comparison group must have outcome 'not_offered'"),
    (
        "people.csv",
        set_value("A02", "budget_start", ""),
        "'budget_start' is required when a budget is in place: row 3 (person_id 'A02')",
    ),
    (
        "people.csv",
        set_value("A02", "annual_budget_gbp", "12.345"),
        "'annual_budget_gbp' is not an amount in pounds with up to two decimals: row 3",
    ),
    (
        "people.csv",
        set_value("A02", "person_id", "A01"),
        "'person_id' appears more than once: row 2 (person_id 'A01')",
    ),
    ("people.csv", set_value("A02", "person_id", "943 476 5919"), "holds what looks like a real NHS number"),
    (
        "spend.csv",
        set_value("S03", "paid_on", "2014-08-01"),
        "spend.csv: 'paid_on' is before the person's budget started",
    ),
    (
        "spend.csv",
        set_value("S03", "person_id", "A10"),
        "'person_id' does not hold a budget: row 4 (spend_id 'S03')",
    ),
    ("spend.csv", set_value("S03", "amount_gbp", "0"), "'amount_gbp' must not be zero"),
    ("admissions.csv", set_value("H01", "discharged_on", "2014-02-01"), "'discharged_on' is before 'admitted_on'"),
    ("sites.csv", set_value("AAA", "pilot_end", "2014-01-01"), "sites.csv: 'pilot_end' must be after 'go_live'"),
    ("sites.csv", set_value("AAA", "eligible_population", "1e3"), "'eligible_population' is not a whole number"),
    (
        "sites.csv",
        set_value("AAA", "eligible_population", "99999999999"),
        "'eligible_population' is not a whole number (or is too large): row 2 (site_code 'AAA')",
    ),
    ("spend.csv", set_value("S01", "amount_gbp", "123456789012345678901.00"), "'amount_gbp' is not an amount"),
    ("people.csv", set_value("A01", "imd_quintile", "9"), "'imd_quintile' must be 1 (most deprived) to 5: row 2"),
    (
        "admissions.csv",
        set_value("H01", "admitted_on", "2041-03-01"),
        "'admitted_on' is before 2000 or after today",
    ),
    # the rules across columns and tables in docs/DATA_CONTRACT.md, one broken at a time
    (
        "sites.csv",
        set_value("AAA", "site_code", "aa"),
        "sites.csv: 'site_code' must be 2 to 8 capitals or digits: row 2",
    ),
    ("sites.csv", set_value("AAA", "eligible_population", "0"), "'eligible_population' must be more than 0: row 2"),
    ("sites.csv", set_value("BBB", "planned_budgets", "-1"), "'planned_budgets' must not be negative: row 3"),
    (
        "people.csv",
        set_value("A10", "referred_on", ""),
        "'referred_on' is required for people on the budget pathway: row 11 (person_id 'A10')",
    ),
    ("people.csv", set_value("A10", "offered_on", "2014-08-01"), "'offered_on' is before 'referred_on': row 11"),
    ("people.csv", set_value("A12", "plan_agreed_on", "2015-11-10"), "'plan_agreed_on' is before 'offered_on': row 13"),
    ("people.csv", set_value("A01", "budget_start", "2014-07-25"), "'budget_start' is before 'plan_agreed_on': row 2"),
    ("people.csv", set_value("A04", "budget_end", "2014-11-01"), "'budget_end' must be after 'budget_start': row 5"),
    (
        "people.csv",
        set_value("A01", "management_option", ""),
        "'management_option' is required when a budget is in place: row 2",
    ),
    (
        "people.csv",
        set_value("A02", "annual_budget_gbp", ""),
        "'annual_budget_gbp' is required when a budget is in place: row 3",
    ),
    ("people.csv", set_value("A02", "annual_budget_gbp", "-5"), "'annual_budget_gbp' must not be negative: row 3"),
    (
        "people.csv",
        set_value("A03", "index_date", "2014-10-02"),
        "'index_date' must equal 'budget_start' for a budget holder: row 4",
    ),
    (
        "people.csv",
        set_value("C01", "index_date", ""),
        "'index_date' is required for the comparison group: row 14 (person_id 'C01')",
    ),
    ("spend.csv", set_value("S03", "person_id", "Z99"), "spend.csv: 'person_id' is not in the people table: row 4"),
    (
        "admissions.csv",
        set_value("H02", "person_id", "Z99"),
        "admissions.csv: 'person_id' is not in the people table: row 3 (admission_id 'H02')",
    ),
]


@pytest.mark.parametrize(("file", "change", "expected"), BROKEN)
def test_build_refuses_a_broken_extract_naming_file_row_and_rule(extract, tmp_path, file, change, expected):
    """Each broken rule is reported with its file, row and key, in plain words."""
    rewrite(extract / file, change)
    assert expected in problems_of(extract, tmp_path)


def test_every_rule_of_the_contract_is_broken_by_a_case_above():
    """Each rule across columns and tables that phb.contract applies is broken on purpose by one of
    the BROKEN cases, so no rule is applied without a test of its refusal (and no words drift)."""
    expected = "\n".join(words for _, _, words in BROKEN)
    untested = [message for rules in contract.RULES.values() for _, message in rules if message not in expected]
    assert untested == []


def test_build_refuses_a_missing_table_and_an_unknown_column(extract, tmp_path):
    """A missing table, a missing column and a column outside the contract are each named."""
    (extract / "admissions.csv").unlink()
    assert "No 'admissions' table" in problems_of(extract, tmp_path)
    (extract / "admissions.csv").write_text((TINY / "admissions.csv").read_text())

    def add_column(rows):
        for row in rows:
            row["nhs_number"] = ""
            row.pop("sex")

    rewrite(extract / "people.csv", add_column)
    found = problems_of(extract, tmp_path)
    assert "people.csv has no column 'sex'" in found
    assert "people.csv has a column 'nhs_number' that the data contract does not allow" in found


def test_the_nhs_number_itself_is_never_echoed(extract, tmp_path):
    """The refusal names the row, not the number."""
    rewrite(extract / "people.csv", set_value("A02", "person_id", "9434765919"))
    found = problems_of(extract, tmp_path)
    assert "9434765919" not in found
    assert "row 3" in found


def test_a_failed_build_leaves_the_working_warehouse_untouched(extract, tmp_path):
    """Atomic swap: after a failed rebuild the old file is byte-identical and still answers queries."""
    target = tmp_path / "w.duckdb"
    build(extract, target)
    before = target.read_bytes()
    rewrite(extract / "spend.csv", set_value("S01", "amount_gbp", "lots"))
    with pytest.raises(ContractError):
        build(extract, target)
    assert target.read_bytes() == before
    assert not list(tmp_path.glob(".w.duckdb.building-*"))
    with duckdb.connect(str(target), read_only=True) as con:
        assert len(run_query(con, "sites")) == 2


def test_ensure_warehouse_rebuilds_when_the_extract_changes_and_keeps_the_old_one_when_it_breaks(extract, tmp_path):
    """A changed extract is rebuilt; a broken change keeps the last good warehouse and says why."""
    cfg = Settings(extract, tmp_path / "w.duckdb")
    first = ensure_warehouse(cfg)
    assert first.problem is None
    assert ensure_warehouse(cfg).info.built_at == first.info.built_at  # unchanged: no rebuild

    rewrite(extract / "sites.csv", set_value("BBB", "planned_budgets", "6"))
    second = ensure_warehouse(cfg)
    assert second.info.data_version == content_hash(extract) != first.info.data_version

    rewrite(extract / "sites.csv", set_value("BBB", "planned_budgets", "six"))
    third = ensure_warehouse(cfg)
    assert third.info.data_version == second.info.data_version
    assert "'planned_budgets' is not a whole number" in "\n".join(third.problem.problems)


def test_ensure_warehouse_with_no_earlier_warehouse_raises_the_problems(extract, tmp_path):
    """With nothing to fall back on, the contract problems are raised for the caller to show."""
    rewrite(extract / "sites.csv", set_value("BBB", "go_live", "soon"))
    with pytest.raises(ContractError, match="'go_live' is not a date"):
        ensure_warehouse(Settings(extract, tmp_path / "w.duckdb"))


@pytest.mark.parametrize("kind", ["xlsx_workbook", "xlsx_per_table", "parquet"])
def test_excel_and_parquet_extracts_build_the_same_warehouse_as_csv(tmp_path, tiny_warehouse, kind):
    """The contract allows CSV, Excel and Parquet: all three give the same figures."""
    folder = tmp_path / kind
    folder.mkdir()
    tables = {
        name: pd.read_csv(TINY / f"{name}.csv", dtype=str, keep_default_na=False)
        for name in ("sites", "people", "spend", "admissions")
    }
    if kind == "xlsx_workbook":
        with pd.ExcelWriter(folder / "extract.xlsx") as writer:
            for name, frame in tables.items():
                frame.to_excel(writer, sheet_name=name, index=False)
    elif kind == "xlsx_per_table":
        for name, frame in tables.items():
            frame.to_excel(folder / f"{name}.xlsx", sheet_name=name, index=False)
    else:
        for name, frame in tables.items():
            frame.replace("", None).to_parquet(folder / f"{name}.parquet")
    build(folder, tmp_path / "other.duckdb")
    with (
        duckdb.connect(str(tmp_path / "other.duckdb"), read_only=True) as other,
        duckdb.connect(str(tiny_warehouse), read_only=True) as csv_built,
    ):
        for table in ("people", "spend", "admissions", "person_windows"):
            sql = (
                f"select * exclude (_row) from {table} order by all"
                if table != "person_windows"
                else "select * from person_windows order by all"
            )
            pd.testing.assert_frame_equal(other.execute(sql).df(), csv_built.execute(sql).df())


def test_settings_follow_phb_data_and_phb_warehouse(tmp_path):
    """PHB_DATA and PHB_WAREHOUSE point everything at another extract and warehouse."""
    cfg = settings({"PHB_DATA": str(tmp_path), "PHB_WAREHOUSE": str(tmp_path / "x.duckdb")})
    assert (cfg.data_dir, cfg.warehouse) == (tmp_path, tmp_path / "x.duckdb")
    other = settings({"PHB_DATA": str(tmp_path)})
    assert other.warehouse != settings({}).warehouse  # another extract never overwrites the default warehouse


def test_meta_records_version_period_and_whether_synthetic(tiny_warehouse):
    """The warehouse says what it was built from: the tiny extract has no manifest, so not synthetic."""
    info = read_info(tiny_warehouse)
    assert info.data_version == content_hash(TINY)
    assert (str(info.period_start), str(info.period_end)) == ("2013-07-01", "2016-06-30")
    assert info.synthetic is False


def test_a_warehouse_built_by_older_code_is_rebuilt_even_when_the_extract_is_unchanged(extract, tmp_path):
    """Changing how the warehouse is built (its summary-table SQL) forces a rebuild on next start."""
    cfg = Settings(extract, tmp_path / "w.duckdb")
    ensure_warehouse(cfg)
    with duckdb.connect(str(cfg.warehouse)) as con:
        con.execute("update meta set build_signature = 'older-code'")
        con.execute("drop table spend_lines")
    ready = ensure_warehouse(cfg)
    assert ready.info.build_signature == build_signature(TEST_KEY)
    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from spend_lines").fetchone() == (15,)


def test_a_row_with_too_few_values_is_named_without_echoing_it(extract, tmp_path):
    """A ragged CSV row is reported by its row number; its contents (which may be personal) are not shown."""
    with (extract / "admissions.csv").open("a") as fh:
        fh.write("H99,A01,2014-01-01\n")
    found = problems_of(extract, tmp_path)
    assert found == "admissions.csv: row 12 has 3 values where the header has 7."


def test_a_broken_workbook_is_named(extract, tmp_path):
    """An .xlsx that is not a workbook gets a plain message, not a traceback."""
    (extract / "admissions.csv").unlink()
    (extract / "admissions.xlsx").write_bytes(b"this is not a workbook")
    assert "admissions.xlsx is not a readable Excel workbook." in problems_of(extract, tmp_path)


def test_an_extract_with_no_dates_is_refused(extract, tmp_path):
    """Sites alone, with empty people, spend and admissions tables, cannot make a warehouse."""
    for name in ("people", "spend", "admissions"):
        path = extract / f"{name}.csv"
        path.write_text(path.read_text().splitlines()[0] + "\n")
    assert "The extract holds no dates" in problems_of(extract, tmp_path)


def _md5_byte(text: str) -> int:
    """DuckDB's md5_number is the digest as a little-endian 128-bit number, so mod 256 is byte 0."""
    return hashlib.md5(text.encode()).digest()[0]


def test_record_keys_are_a_keyed_hash_of_each_id(con):
    """Every person's and admission's record key is md5(key:id) mod 256, worked out here in Python."""
    people = dict(con.execute("select person_id, record_key from person_keys").fetchall())
    assert people and people == {pid: _md5_byte(f"{TEST_KEY}:{pid}") for pid in people}
    admissions = con.execute(
        "select k.person_id, a.admitted_on, a.record_key, a.person_record_key from admission_lines a "
        "join person_keys k using (person_key)"
    ).fetchall()
    with open(TINY / "admissions.csv", newline="") as fh:
        ids = {(r["person_id"], r["admitted_on"]): r["admission_id"] for r in csv.DictReader(fh)}
    assert len(admissions) == len(ids)
    for pid, admitted, key, person_key in admissions:
        assert key == _md5_byte(f"{TEST_KEY}:{ids[(pid, str(admitted))]}")
        assert person_key == people[pid]


def test_the_perturbation_key_is_made_once_beside_the_warehouse_and_kept(tmp_path):
    """Without PHB_PERTURBATION_KEY a secret is made once (owner-only file) and reused; the build
    signature carries a hash of it, never the key, so a new key means a rebuild."""
    warehouse = tmp_path / "w" / "w.duckdb"
    first = perturbation_key(warehouse, env={})
    assert len(first) == 64 and int(first, 16) >= 0
    key_file = warehouse.parent / "perturbation.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert perturbation_key(warehouse, env={}) == first
    assert perturbation_key(warehouse, env={"PHB_PERTURBATION_KEY": "other"}) == "other"
    assert first not in build_signature(first)
    assert build_signature(first) != build_signature("other")


def test_a_new_perturbation_key_rebuilds_the_warehouse(extract, tmp_path, monkeypatch):
    """Changing the key changes every record key, so the warehouse is rebuilt with the new keys."""
    cfg = Settings(extract, tmp_path / "w.duckdb")
    ensure_warehouse(cfg)
    monkeypatch.setenv("PHB_PERTURBATION_KEY", "another-key")
    ready = ensure_warehouse(cfg)
    assert ready.info.build_signature == build_signature("another-key")
    with duckdb.connect(str(cfg.warehouse), read_only=True) as c:
        keys = dict(c.execute("select person_id, record_key from person_keys").fetchall())
    assert keys == {pid: _md5_byte(f"another-key:{pid}") for pid in keys}


def test_the_shared_macros_apply_the_filter_and_the_stay_cost_rules(con):
    """in_selection: nothing chosen (null) selects all, a list selects what it holds, an empty list
    selects nothing; stay_cost: the extract's cost where given, else bed days times the setting's
    unit cost (worked by hand: 10 days x £300 = £3,000; 2 days x £500 = £1,000). Both are read from
    the built warehouse through a read-only connection, as every query reads them."""
    chosen = con.execute(
        "select in_selection('AAA', null), in_selection('AAA', ['AAA', 'BBB']), in_selection('BBB', ['AAA']), "
        "in_selection('AAA', $empty)",
        {"empty": []},
    ).fetchone()
    assert chosen == (True, True, False, False)
    costs = con.execute(
        "select stay_cost(null, 10, 'mental_health', 300, 500), stay_cost(null, 2, 'general_acute', 300, 500), "
        "stay_cost(350.00, 10, 'mental_health', 300, 500)"
    ).fetchone()
    assert [float(c) for c in costs] == [3000.0, 1000.0, 350.0]


def test_combined_top2_is_the_second_largest_of_everyone_in_the_rows_combined(con):
    """combined_top2 over rows that each hold their own people's two largest contributions (0 where fewer)
    gives the second largest of all those people's contributions, as sorting them all gives it: random
    groups of 1 to 4 people, with ties, a group of one and every group of one."""
    import random

    rng = random.Random(7)
    cases = [[[5.0], [3.0]], [[2.0, 2.0], [1.0]], [[9.0, 1.0], [8.0, 7.0], [0.5]]]
    cases += [[[float(rng.randint(0, 9)) for _ in range(rng.randint(1, 4))] for _ in range(rng.randint(2, 5))]
              for _ in range(200)]  # fmt: skip
    for groups in cases:
        rows = [(sorted(g, reverse=True) + [0.0, 0.0])[:2] for g in groups]
        got = con.execute(
            "select combined_top2(t1, t2) from (select unnest($t1) as t1, unnest($t2) as t2)",
            {"t1": [r[0] for r in rows], "t2": [r[1] for r in rows]},
        ).fetchone()[0]
        everyone = sorted((v for g in groups for v in g), reverse=True)
        assert float(got) == everyone[1], groups


def test_spend_in_selection_keeps_the_spending_of_the_chosen_sites_options_and_dates(con):
    """The spending macro, against the tiny extract's files read with csv: the total and the people paid with
    nothing chosen; a site, an option and a date range each keep just their spending."""
    with open(TINY / "people.csv", newline="") as fh:
        people = {r["person_id"]: r for r in csv.DictReader(fh)}
    with open(TINY / "spend.csv", newline="") as fh:
        lines = list(csv.DictReader(fh))

    def chosen(date_from, date_to, sites, management):
        total, paid = con.execute(
            "select sum(paid_gbp + refunded_gbp), count(distinct person_key) "
            "from spend_in_selection($f, $t, $sites, $management)",
            {"f": date_from, "t": date_to, "sites": sites, "management": management},
        ).fetchone()
        return round(float(total or 0), 2), paid

    def expected(keep):
        kept = [r for r in lines if keep(r)]
        return round(sum(float(r["amount_gbp"]) for r in kept), 2), len({r["person_id"] for r in kept})

    assert chosen("2000-01-01", "2100-01-01", None, None) == expected(lambda r: True)
    bbb = expected(lambda r: people[r["person_id"]]["site_code"] == "BBB")
    assert chosen("2000-01-01", "2100-01-01", ["BBB"], None) == bbb
    notional = expected(lambda r: people[r["person_id"]]["management_option"] == "notional")
    assert chosen("2000-01-01", "2100-01-01", None, ["notional"]) == notional
    in_2014 = expected(lambda r: "2014-01-01" <= r["paid_on"] <= "2014-12-31")
    assert chosen("2014-01-01", "2014-12-31", None, None) == in_2014
    mid = expected(lambda r: "2014-09-10" <= r["paid_on"] <= "2015-11-01")  # part months at both ends
    assert chosen("2014-09-10", "2015-11-01", None, None) == mid
    assert 0 < bbb[1] < 12 and 0 < notional[1] < 12 and 0 < in_2014[1] < mid[1]
    assert mid[0] != expected(lambda r: True)[0]


def test_the_spending_tables_keep_site_option_and_category_as_enums_in_text_order(con):
    """phb.warehouse stores these text columns of spend_lines and spend_person_months as ENUMs: each lists
    exactly the texts in the lines, in text order (so ORDER BY sorts as it did on text), and every value reads
    back as the same text as in the extract's own tables."""
    from phb.warehouse import ENUM_COLUMNS, ENUM_TABLES

    for column in ENUM_COLUMNS:
        texts = sorted({r[0] for r in con.execute(f"select {column} from spend_lines").fetchall() if r[0] is not None})
        listed = con.execute(f"select enum_range(null::phb_{column})").fetchone()[0]
        assert listed == texts, column
        for table in ENUM_TABLES:
            kind = con.execute(
                "select data_type from information_schema.columns where table_name = ? and column_name = ?",
                [table, column],
            ).fetchone()[0]
            assert kind.startswith("ENUM"), (table, column, kind)
    # each line's site, option and category are its holder's and its own, as text (every line matched)
    joined = con.execute(
        """select count(*) from spend_lines l
           join person_keys k using (person_key)
           join spend s on s.person_id = k.person_id and s.paid_on = l.paid_on and s.amount_gbp = l.amount_gbp"""
    ).fetchone()[0]
    assert joined == con.execute("select count(*) from spend").fetchone()[0]
    mismatched = con.execute(
        """select count(*) from spend_lines l
           join person_keys k using (person_key)
           join people p on p.person_id = k.person_id
           join spend s on s.person_id = k.person_id and s.paid_on = l.paid_on and s.amount_gbp = l.amount_gbp
           where l.site_code::varchar <> p.site_code or l.management_option::varchar <> p.management_option
              or l.category::varchar <> s.category"""
    ).fetchone()[0]
    assert mismatched == 0


def test_queries_give_enum_columns_back_as_text_like_any_other(con):
    """run_query turns a categorical column (an ENUM's) into text with nulls missing, the same dtype and values
    as the query over the columns cast to text. spend_by_category's category comes straight from the ENUM
    (DuckDB itself gives it as a pandas categorical, checked first)."""
    params = {"sites": None, "date_from": pd.Timestamp(2013, 7, 1).date(),
              "date_to": pd.Timestamp(2016, 6, 30).date(), "management": None}  # fmt: skip
    sql = query_text("spend_by_category")
    raw = con.cursor().execute(sql, {k: params[k] for k in query_params(sql)}).df()
    assert isinstance(raw["category"].dtype, pd.CategoricalDtype)  # what run_query must turn into text
    frame = run_query(con, "spend_by_category", **params)
    plain = con.execute("select category::varchar as category from spend_lines").df()["category"]
    assert frame["category"].dtype == plain.dtype
    assert not isinstance(frame["category"].dtype, pd.CategoricalDtype)
    assert frame["category"].isna().any() and frame["category"].dropna().map(type).eq(str).all()
    assert set(frame["category"].dropna()) == set(plain)
    assert frame["category"].fillna("-").tolist() == raw["category"].astype(object).fillna("-").tolist()


def test_an_extract_with_no_spending_builds_with_text_columns(extract, tmp_path):
    """An ENUM needs at least one text: with no spending lines the columns stay text and the Spending page's
    three queries still run: no spending rows, and every budget holder with £0 spent."""
    path = extract / "spend.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    build(extract, tmp_path / "w.duckdb", secret=TEST_KEY)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as c:
        kind = c.execute(
            "select data_type from information_schema.columns "
            "where table_name = 'spend_lines' and column_name = 'category'"
        ).fetchone()[0]
        assert kind == "VARCHAR"
        params = {"sites": None, "date_from": pd.Timestamp(2013, 7, 1).date(),
                  "date_to": pd.Timestamp(2016, 6, 30).date(), "management": None}  # fmt: skip
        assert run_query(c, "spend_by_category", **params).empty
        assert run_query(c, "spend_over_time", **params, grain="month")["net_gbp"].fillna(0).eq(0).all()
        holders = run_query(c, "holder_spend_by_site", **params, period_end=params["date_to"])
        overall = holders[holders["site_code"].isna() & holders["management_option"].isna()].iloc[0]
        assert overall["holders"] == 12 and overall["net_gbp"] == 0  # the tiny extract's 12 holders
