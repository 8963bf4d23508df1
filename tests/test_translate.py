"""The translation of the query files from DuckDB's dialect to Spark's (phb/translate.py, sqlglot)
and the engine settings, without starting Spark. That the translated queries give DuckDB's results
on Spark is tests/test_spark.py (slow tier)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from phb import config
from phb.config import EngineUnavailable, engine_settings
from phb.queries import query_params, query_text
from phb.translate import UntranslatableQuery, macros, spark_query, to_spark
from tests.conftest import DATA, run_cli

QUERIES = Path(__file__).resolve().parent.parent / "queries"
NAMES = sorted(p.stem for p in QUERIES.glob("*.sql")) + sorted(
    f"build/{p.stem}" for p in (QUERIES / "build").glob("*.sql")
)


@pytest.mark.parametrize("name", NAMES)
def test_every_query_file_translates_with_its_parameters_still_bound(name):
    """Spark's SQL reads back in Spark's dialect, names each $parameter as a :marker, holds no `$`
    and calls no DuckDB macro (they are inlined)."""
    spark_sql = spark_query(name)
    tree = sqlglot.parse_one(spark_sql, read="spark")
    markers = set(re.findall(r":([a-z_][a-z0-9_]*)", re.sub(r"'(?:[^']|'')*'", "''", spark_sql)))
    assert markers == query_params(query_text(name))
    assert "$" not in spark_sql
    called = {f.name.lower() for f in tree.find_all(exp.Anonymous)}
    assert not called & set(macros())


def test_macros_are_inlined_with_the_call_arguments():
    sql = "select * from spend_lines where in_selection(site_code, $sites)"
    assert to_spark(sql) == (
        "SELECT * FROM spend_lines WHERE ((:sites IS NULL OR ARRAY_CONTAINS(CAST(:sites AS ARRAY<STRING>), site_code)))"
    )


def test_a_table_macro_becomes_a_subquery():
    sql = to_spark("select count(*) from spend_in_selection($date_from, $date_to, $sites, $management)")
    assert sql.startswith("SELECT COUNT(*) FROM (SELECT site_code, management_option, category, month AS paid_on")
    assert "FROM spend_person_months WHERE month >= CAST(:date_from AS DATE)" in sql
    assert sql.endswith(") AS spend_in_selection")


def test_the_largest_values_and_their_elements():
    """DuckDB's max(x, 2)[1] and [2] (1-based; null past the end) as Spark's sorted list, read with
    try_element_at (1-based; null past the end), a FILTER staying on the aggregate."""
    assert to_spark("select max(abs(x), 2)[2] from t") == (
        "SELECT TRY_ELEMENT_AT(SLICE(SORT_ARRAY(COLLECT_LIST(ABS(x)), FALSE), 1, 2), 2) FROM t"
    )
    assert to_spark("select (max(x, 2) filter (where x < 0))[1] from t") == (
        "SELECT TRY_ELEMENT_AT(SLICE(SORT_ARRAY(COLLECT_LIST(x) FILTER(WHERE x < 0), FALSE), 1, 2), 1) FROM t"
    )


def test_a_lists_element_at_a_computed_position_counts_from_one_on_both_engines():
    """DuckDB's list_extract(v, i) (from 1; null past the end) as Spark's try_element_at(v, i) (the same),
    the position unchanged; sqlglot alone would leave the function as it is, which Spark does not have."""
    assert to_spark("select list_extract(v, f + 1) from t") == "SELECT TRY_ELEMENT_AT(v, f + 1) FROM t"
    assert to_spark("select sum_of_five(v, f) from t") == (
        "SELECT (TRY_ELEMENT_AT(v, f) + TRY_ELEMENT_AT(v, f + 1) + TRY_ELEMENT_AT(v, f + 2) + TRY_ELEMENT_AT(v, f + 3)"
        " + TRY_ELEMENT_AT(v, f + 4)) FROM t"
    )
    with pytest.raises(UntranslatableQuery, match="list_extract takes a list and a position"):
        to_spark("select list_extract(v) from t")


def test_the_record_key_is_the_md5_digests_first_byte():
    assert to_spark("select md5_number($k || ':' || id) % 256 from t") == (
        "SELECT CAST(CONV(SUBSTRING(MD5(:k || ':' || id), 1, 2), 16, 10) AS INT) FROM t"
    )


def test_other_uses_of_md5_number_are_refused_with_the_reason():
    with pytest.raises(UntranslatableQuery, match=r"md5_number is translated only as md5_number\(...\) % 256"):
        to_spark("select md5_number(id) % 7 from t")


def test_division_and_averages_are_double_as_in_duckdb():
    assert (
        to_spark("select a / 365.25, avg(b) from t")
        == "SELECT a / CAST(365.25 AS DOUBLE), AVG(CAST(b AS DOUBLE)) FROM t"
    )


def test_two_statements_are_refused():
    with pytest.raises(UntranslatableQuery, match="one statement, not 2"):
        to_spark("select 1; select 2")


def test_engine_settings_default_to_duckdb_and_read_spark_settings():
    assert engine_settings({}) == config.EngineSettings("duckdb", None, None)
    got = engine_settings(
        {
            "PHB_ENGINE": "spark",
            "PHB_SPARK_REMOTE": "sc://spark.example:15002",
            "PHB_SPARK_TABLES": "sites=phb.sites, people=phb.people,spend=phb.spend,admissions=cat.phb.admissions",
        }
    )
    assert got.engine == "spark" and got.spark_remote == "sc://spark.example:15002"
    assert dict(got.spark_tables) == {
        "sites": "phb.sites",
        "people": "phb.people",
        "spend": "phb.spend",
        "admissions": "cat.phb.admissions",
    }


@pytest.mark.parametrize(
    "env, message",
    [
        ({"PHB_ENGINE": "oracle"}, "PHB_ENGINE must be duckdb or spark"),
        ({"PHB_ENGINE": "spark", "PHB_SPARK_REMOTE": "http://host:15002"}, "must be a Spark Connect address"),
        ({"PHB_SPARK_TABLES": "sites=a.sites"}, "does not name a Spark table for people, spend, admissions"),
        ({"PHB_SPARK_TABLES": "sites=a.sites; drop table x"}, "must name each contract table's Spark table"),
        ({"PHB_SPARK_TABLES": "patients=a.p"}, "must name each contract table's Spark table"),
    ],
)
def test_engine_settings_refuse_what_they_do_not_understand(env, message):
    with pytest.raises(EngineUnavailable, match=message):
        engine_settings(env)


def test_an_unknown_engine_stops_the_command_with_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PHB_ENGINE", "oracle")
    result = run_cli("facts", data=DATA, warehouse=tmp_path / "w.duckdb")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == "python -m phb facts: PHB_ENGINE must be duckdb or spark, not 'oracle'."


def test_a_local_spark_without_java_says_so_and_runs_nothing_on_duckdb(tmp_path, monkeypatch):
    from phb import sparkengine

    monkeypatch.setattr(sparkengine, "_session", None)
    monkeypatch.setenv("PHB_ENGINE", "spark")
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    result = run_cli("facts", data=DATA, warehouse=tmp_path / "w.duckdb")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "python -m phb facts: PHB_ENGINE=spark with a local Spark needs Java 17 (no java command found); "
        "install it, or set PHB_SPARK_REMOTE to a Spark Connect address."
    ]
    assert not (tmp_path / "w.duckdb").exists()


def test_an_unreachable_spark_is_one_plain_line_and_no_duckdb_answer(tmp_path, monkeypatch, bundled_warehouse):
    """A Spark Connect address where nothing listens (Spark Connect's client needs no Java): one
    line naming the address and the setting, no figures, no traceback, no answer from DuckDB's
    warehouse, which is there and current."""
    import time

    from phb import sparkengine

    warehouse, _ = bundled_warehouse
    monkeypatch.setattr(sparkengine, "_session", None)
    monkeypatch.setenv("PHB_ENGINE", "spark")
    monkeypatch.setenv("PHB_SPARK_REMOTE", "sc://127.0.0.1:1/;token=secret-token")
    started = time.perf_counter()
    result = run_cli("facts", data=DATA, warehouse=warehouse)
    assert time.perf_counter() - started < 60
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("python -m phb facts: Spark is not reachable at sc://127.0.0.1:1 (PHB_SPARK_REMOTE): ")
    assert lines[0].endswith("Nothing was run on DuckDB instead.")
    assert "secret-token" not in result.stderr and "Traceback" not in result.stderr
