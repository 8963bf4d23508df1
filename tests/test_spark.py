"""Apache Spark as a second engine, proven equal (slow tier: a JVM and a local Spark, `local[2]`).

Every query file in queries/ (and the summary tables of queries/build/) runs on DuckDB and on
Spark, translated by sqlglot (phb/translate.py), on the hand-worked tiny extract and on the bundled
one, for several selections; the results must be the same rows with the same values (in the same
order where the query has an ORDER BY). DuckDB's results are themselves held to hand-worked values
in tests/test_queries.py, and the record keys Spark computes are checked here against MD5 worked out
in Python. `PHB_ENGINE=spark python -m phb facts` must print the same JSON as DuckDB's, and an
unreachable Spark Connect address must give one plain line, not a DuckDB answer (tests/test_translate.py).
"""

from __future__ import annotations

import json
import math
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from phb import config, contract
from phb.queries import query_params, query_text
from phb.warehouse import BUILD_MODELS, connect
from tests.conftest import DATA, TINY, record_key, run_cli

pytestmark = pytest.mark.slow

QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"
# Queries over the raw tables of an upload being checked (raw_sites, raw_people, ...), which exist only in
# the Data page's scratch DuckDB connection, never in the warehouse or on Spark: the page runs them there.
UPLOAD_ONLY = {"upload_rows_by_site"}
QUERY_NAMES = sorted(p.stem for p in QUERIES_DIR.glob("*.sql") if p.stem not in UPLOAD_ONLY)


def test_the_queries_left_out_read_only_an_uploads_raw_tables():
    """A query is left out of the two-engine test only if every table it reads is an upload's raw table."""
    for name in UPLOAD_ONLY:
        tree = sqlglot.parse_one(query_text(name), read="duckdb")
        ctes = {c.alias for c in tree.find_all(exp.CTE)}
        read = {t.name for t in tree.find_all(exp.Table)} - ctes
        assert read and all(t.startswith("raw_") for t in read), (name, read)


# Selections each query is run for (only the parameters a query names are bound): everything; a
# site or two, a management option and part of the period by quarter; (tiny) an empty site list.
SELECTIONS = {
    "tiny": [
        {"sites": None, "management": None, "date_from": None, "date_to": None, "grain": "month"},
        {"sites": ["AAA"], "management": ["direct_payment"], "date_from": date(2014, 8, 1),
         "date_to": date(2015, 10, 31), "grain": "quarter"},
        {"sites": [], "management": None, "date_from": None, "date_to": None, "grain": "month"},
    ],
    "bundled": [
        {"sites": None, "management": None, "date_from": None, "date_to": None, "grain": "month"},
        {"sites": ["DOR", "STP"], "management": ["direct_payment"], "date_from": date(2014, 10, 1),
         "date_to": date(2015, 9, 30), "grain": "quarter"},
    ],
}  # fmt: skip


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the whole tier (phb.sparkengine keeps one per process)."""
    from phb import sparkengine

    started = time.perf_counter()
    session = sparkengine.session(None)
    print(f"\nlocal Spark started in {time.perf_counter() - started:.1f} s")
    return session


@pytest.fixture(scope="module", params=["tiny", "bundled"])
def engines(request, spark, tmp_path_factory):
    """The DuckDB warehouse and the Spark tables built from the same extract with the same key."""
    from phb import sparkengine

    name = request.param
    if name == "tiny":
        duck_path, data = request.getfixturevalue("tiny_warehouse"), TINY
    else:
        duck_path, data = request.getfixturevalue("bundled_warehouse")[0], DATA
    started = time.perf_counter()
    info = sparkengine.build(config.Settings(data, tmp_path_factory.mktemp("spark") / "unused.duckdb"))
    print(f"\nSpark tables built from {name} in {time.perf_counter() - started:.1f} s")
    import duckdb

    with duckdb.connect(str(duck_path), read_only=True) as duck:
        yield Engines(name, duck, sparkengine.SparkConnection(spark), info, data)


class Engines:
    """Both engines on one extract; `spark` makes sure the Spark tables hold this extract (another
    test may have built others since), rebuilding only if they do not."""

    def __init__(self, dataset, duck, spark_connection, info, data):
        self.dataset, self.duck, self.info, self.data = dataset, duck, info, data
        self._spark = spark_connection

    @property
    def spark(self):
        from phb import sparkengine

        with pytest.MonkeyPatch.context() as mp:
            for name in ("PHB_SPARK_REMOTE", "PHB_SPARK_TABLES"):
                mp.delenv(name, raising=False)
            sparkengine.ensure(config.Settings(self.data, Path("unused.duckdb")))
        return self._spark


def _value(v):
    """A cell as a comparable Python value: nulls as None, numbers as float, dates as dates."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    return v


def _rows(frame: pd.DataFrame) -> list[tuple]:
    return [tuple(_value(v) for v in row) for row in frame.astype(object).itertuples(index=False)]


def _sort_key(row: tuple) -> tuple:
    return tuple((v is None, str(type(v)), v if v is not None else 0) for v in row)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def assert_same_results(duck: pd.DataFrame, spark: pd.DataFrame, ordered: bool, what: str) -> None:
    """Same columns, same number of rows, the same value in every cell; rows compared in order when
    the query orders them, else after sorting both. Floats agree to 1e-9 (relative)."""
    assert list(spark.columns) == list(duck.columns), f"{what}: columns differ"
    assert len(spark) == len(duck), f"{what}: {len(duck)} rows on DuckDB, {len(spark)} on Spark"
    left, right = _rows(duck), _rows(spark)
    if not ordered:
        left, right = sorted(left, key=_sort_key), sorted(right, key=_sort_key)
    for i, (x, y) in enumerate(zip(left, right)):
        for col, a, b in zip(duck.columns, x, y):
            assert _same(a, b), f"{what}: row {i}, {col}: DuckDB {a!r}, Spark {b!r}"


def _ordered(sql: str) -> bool:
    """Whether the query's outermost SELECT has an ORDER BY."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    return isinstance(tree, exp.Query) and tree.args.get("order") is not None


@pytest.mark.parametrize("name", QUERY_NAMES)
def test_every_query_gives_the_same_result_on_both_engines(engines, name):
    dataset, duck, spark, info = engines.dataset, engines.duck, engines.spark, engines.info
    sql = query_text(name)
    wanted = query_params(sql)
    for i, selection in enumerate(SELECTIONS[dataset]):
        params = {
            **selection,
            "date_from": selection["date_from"] or info.period_start,
            "date_to": selection["date_to"] or info.period_end,
            "period_end": info.period_end,
            "unit_cost_mental_health": 334.0,
            "unit_cost_general_acute": 400.0,
        }
        bound = {k: params[k] for k in wanted}
        on_duckdb = duck.cursor().execute(sql, bound).df()
        on_spark = spark.run(name, bound)  # a query sqlglot cannot translate fails here, with the reason
        assert_same_results(on_duckdb, on_spark, _ordered(sql), f"{name} on {dataset}, selection {i}")
        if i == 0 and name != "sites":
            assert len(on_duckdb) > 0, f"{name} on {dataset}: the comparison needs rows to compare"


@pytest.mark.parametrize("table", BUILD_MODELS)
def test_every_summary_table_is_built_the_same_on_both_engines(engines, table):
    """queries/build/<table>.sql, run at build on each engine: the same rows, record keys included."""
    dataset, duck, spark = engines.dataset, engines.duck, engines.spark
    on_duckdb = duck.execute(f"select * from {contract.ident(table)}").df()
    on_spark = spark.sql(f"select * from {table}")
    assert len(on_duckdb) > 0
    assert_same_results(on_duckdb, on_spark, False, f"build/{table} on {dataset}")


def test_spark_record_keys_are_md5_first_bytes_worked_out_in_python(engines):
    """The record keys Spark stores (conv(substring(md5(...), 1, 2), 16, 10), translated from DuckDB's
    md5_number(...) % 256) against hashlib's digest of "<key>:<id>", person by person."""
    dataset, spark = engines.dataset, engines.spark
    keys = spark.sql("select person_id, record_key from person_keys")
    people = pd.read_csv((TINY if dataset == "tiny" else DATA) / "people.csv", dtype=str)
    assert sorted(keys["person_id"]) == sorted(people["person_id"])
    for person_id, key in zip(keys["person_id"], keys["record_key"]):
        assert key == record_key(person_id), person_id


def _facts_json(data: Path, warehouse: Path, *args: str, engine: str | None, monkeypatch) -> dict:
    if engine:
        monkeypatch.setenv("PHB_ENGINE", engine)
    else:
        monkeypatch.delenv("PHB_ENGINE", raising=False)
    monkeypatch.delenv("PHB_SPARK_REMOTE", raising=False)
    started = time.perf_counter()
    result = run_cli("facts", *args, data=data, warehouse=warehouse)
    print(f"\nfacts {' '.join(args)} on {engine or 'duckdb'}: {time.perf_counter() - started:.1f} s")
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    facts.pop("built_at")  # when each engine built its tables: the one field that may differ
    return facts


@pytest.mark.parametrize(
    "args",
    [(), ("--sites", "DOR,STP", "--from", "2014-10-01", "--to", "2015-09-30", "--management", "direct_payment")],
    ids=["all", "selection"],
)
def test_facts_on_spark_equal_facts_on_duckdb(spark, bundled_warehouse, monkeypatch, args):
    """`PHB_ENGINE=spark python -m phb facts` on the bundled data prints DuckDB's figures."""
    warehouse, _ = bundled_warehouse
    on_duckdb = _facts_json(DATA, warehouse, *args, engine=None, monkeypatch=monkeypatch)
    on_spark = _facts_json(DATA, warehouse, *args, engine="spark", monkeypatch=monkeypatch)
    assert on_duckdb["all_sites"]["referred"] not in (0, None, "*")
    assert on_spark == on_duckdb


def test_spark_tables_named_in_settings_give_the_same_results(engines, monkeypatch):
    """PHB_SPARK_TABLES: the four contract tables read from Spark tables (here temporary views of
    the extract under other names) are cast to the contract's types and give DuckDB's results."""
    from phb import sparkengine

    spark = engines.spark  # the Spark tables hold this extract
    for table in contract.TABLES:
        spark.spark.table(table).createOrReplaceTempView(f"nhs_{table}")
    monkeypatch.setenv("PHB_ENGINE", "spark")
    monkeypatch.setenv("PHB_SPARK_TABLES", ",".join(f"{t}=nhs_{t}" for t in contract.TABLES))
    ready = sparkengine.ensure(config.Settings(Path("no-extract-folder"), Path("unused.duckdb")))
    assert ready.info.source == "Spark tables"
    assert (ready.info.period_start, ready.info.period_end) == (engines.info.period_start, engines.info.period_end)
    with connect(Path("unused.duckdb")) as con:
        assert con.engine == "spark"
        for name in ("site_summary", "spend_by_category", "admissions_windows_by_site"):
            sql = query_text(name)
            params = {
                "sites": None,
                "management": None,
                "date_from": engines.info.period_start,
                "date_to": engines.info.period_end,
            }
            bound = {k: params[k] for k in query_params(sql)}
            on_duckdb = engines.duck.cursor().execute(sql, bound).df()
            assert len(on_duckdb) > 0
            assert_same_results(on_duckdb, con.run(name, bound), True, f"{name} from Spark tables")
    for table in contract.TABLES:
        spark.spark.catalog.dropTempView(f"nhs_{table}")
