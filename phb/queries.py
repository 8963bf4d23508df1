"""Running the named queries in queries/*.sql against a warehouse connection.

Each query is one .sql file that takes values only as bound `$parameters`; `run_query` binds the
ones a query names and refuses a call that leaves one out. The analysis modules read the warehouse
through this module alone, so they depend neither on how an extract is read nor on how the
warehouse is built, nor on the engine: given a Spark connection (phb.sparkengine), `run_query`
sends the same query there, translated from DuckDB's dialect by sqlglot (phb.translate).
"""

from __future__ import annotations

import logging
import re
import time
from functools import cache
from typing import Any

import duckdb
import pandas as pd

from phb.config import QUERIES_DIR

log = logging.getLogger(__name__)


class QueryParameterError(ValueError):
    """A named query was called with parameters it does not take, or without ones it needs."""


@cache
def query_text(name: str) -> str:
    """The SQL of a named query file in queries/."""
    if not re.fullmatch(r"[a-z0-9_]+(/[a-z0-9_]+)?", name):
        raise ValueError(f"not a query name: {name!r}")
    return (QUERIES_DIR / f"{name}.sql").read_text()


def query_params(sql: str) -> set[str]:
    """The $parameters a query takes (comments and strings aside)."""
    body = re.sub(r"--[^\n]*", "", sql)
    body = re.sub(r"'(?:[^']|'')*'", "''", body)
    return set(re.findall(r"\$([a-z_][a-z0-9_]*)", body))


def bound_params(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The entries of `params` that the query takes."""
    return {k: v for k, v in params.items() if k in query_params(sql)}


def _bound(name: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The query's SQL and the parameters it takes from `params`; a missing one is an error."""
    sql = query_text(name)
    wanted = query_params(sql)
    missing = wanted - params.keys()
    if missing:
        raise QueryParameterError(f"query {name} needs {', '.join(sorted(missing))}")
    return sql, {k: params[k] for k in wanted}


def _logged(name: str, args: dict[str, Any], frame: pd.DataFrame, started: float) -> pd.DataFrame:
    log.info(
        "query %s %s: %d rows in %.1f ms",
        name,
        dict(sorted(args.items())),
        len(frame),
        (time.perf_counter() - started) * 1000,
    )
    return frame


def run_query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pd.DataFrame:
    """Run queries/<name>.sql with its $parameters bound from `params`; a missing one is an error."""
    sql, args = _bound(name, params)
    started = time.perf_counter()
    if getattr(con, "engine", "duckdb") == "spark":
        # the same query on Apache Spark (phb.sparkengine): translated by sqlglot, parameters still bound
        frame = con.run(name, args)
    else:
        frame = as_text(con.cursor().execute(sql, args).df())
    return _logged(name, args, frame, started)


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns DuckDB gives as pandas categoricals (the warehouse's ENUM columns, phb.warehouse.ENUM_COLUMNS)
    as pandas text, as DuckDB gives any other text column (a null missing, not a category)."""
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(object).astype("str")
    return frame


def run_query_coded(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pd.DataFrame:
    """`run_query`, with each text column as a pandas categorical (each distinct text once, a whole-number code
    per row) rather than a Python string per row. For a query of many rows and few distinct texts: at a million
    people, value_by_person's 760,641 rows took 0.7 to 0.9 s to fetch, 0.5 s of it making their site, group and
    management option into strings; as Arrow columns, dictionary-encoded, 0.3 to 0.4 s. Numbers are as
    `run_query` gives them, but decimals: the query casts any it returns to double."""
    sql, args = _bound(name, params)
    started = time.perf_counter()
    if getattr(con, "engine", "duckdb") == "spark":
        frame = con.run(name, args)
        text = [c for c in frame.columns if pd.api.types.infer_dtype(frame[c], skipna=True) == "string"]
        frame = frame.astype({c: "category" for c in text})
    else:
        import pyarrow as pa
        import pyarrow.compute as pc

        table = con.cursor().sql(sql, params=args).to_arrow_table()
        columns = []
        for field, column in zip(table.schema, table.columns):
            if pa.types.is_decimal(field.type):
                raise TypeError(f"query {name}: cast the decimal column {field.name} to double in the query")
            text = pa.types.is_string(field.type) or pa.types.is_large_string(field.type)
            columns.append(pc.dictionary_encode(column) if text else column)
        frame = pa.table(columns, names=table.column_names).to_pandas()
    return _logged(name, args, frame, started)
