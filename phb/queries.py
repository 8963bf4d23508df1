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


def run_query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pd.DataFrame:
    """Run queries/<name>.sql with its $parameters bound from `params`; a missing one is an error."""
    sql = query_text(name)
    wanted = query_params(sql)
    missing = wanted - params.keys()
    if missing:
        raise QueryParameterError(f"query {name} needs {', '.join(sorted(missing))}")
    started = time.perf_counter()
    if getattr(con, "engine", "duckdb") == "spark":
        # the same query on Apache Spark (phb.sparkengine): translated by sqlglot, parameters still bound
        frame = con.run(name, {k: params[k] for k in wanted})
    else:
        frame = con.cursor().execute(sql, {k: params[k] for k in wanted}).df()
    log.info(
        "query %s %s: %d rows in %.1f ms",
        name,
        {k: params[k] for k in sorted(wanted)},
        len(frame),
        (time.perf_counter() - started) * 1000,
    )
    return frame
