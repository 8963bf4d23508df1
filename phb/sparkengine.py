"""Apache Spark as a second engine (PHB_ENGINE=spark): the same queries/*.sql, run on Spark.

With PHB_ENGINE=spark the warehouse's tables live in a Spark session instead of a DuckDB file:
- the four contract tables come from the extract folder (PHB_DATA), read and checked against the
  data contract exactly as the DuckDB build does (phb.warehouse.load_checked, in an in-memory DuckDB
  database), then handed to Spark as Arrow; or, with PHB_SPARK_TABLES, from Spark tables, whose
  columns are checked and cast to the contract's types (their row rules are not checked: that
  would mean copying the data out of Spark);
- the summary tables (queries/build/) are built in Spark from the same SQL, translated from
  DuckDB's dialect by sqlglot (phb.translate), and cached as temporary views of the session;
- every named query (queries/*.sql) is translated the same way and run with its parameters bound
  (Spark's named parameter markers, `spark.sql(query, args=...)`), never written into the text.

Spark is local (`local[2]`, needs Java 17) unless PHB_SPARK_REMOTE gives a Spark Connect address.
If Spark cannot be started or reached, EngineUnavailable says so in one line; nothing falls back
to DuckDB. Results come back as Arrow and are turned into pandas by DuckDB's own conversion, so the
analyses, disclosure control and charts get the same column types from either engine.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from phb import contract
from phb.config import DEFAULT_UNIT_COSTS_GBP, EngineSettings, EngineUnavailable, Settings, engine_settings
from phb.config import perturbation_key as _perturbation_key
from phb.contract import ContractError, ident
from phb.queries import bound_params, query_text
from phb.translate import spark_query, to_spark

log = logging.getLogger(__name__)

LOCAL_MASTER = "local[2]"
# how long to wait for a Spark Connect address to answer before saying it cannot be reached
CONNECT_TIMEOUT_SECONDS = 15
# how long the version worked out from Spark tables (PHB_SPARK_TABLES) is trusted before it is read again
TABLES_RECHECK_SECONDS = 300
_SPARK_TYPES = {"text": "string", "integer": "int", "decimal": "decimal(18, 2)", "date": "date"}

_lock = threading.RLock()
_session: Any = None
_session_remote: str | None = None


@dataclass
class _Built:
    key: tuple
    info: Any  # WarehouseInfo
    cached: list
    checked_at: float


_built: _Built | None = None


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    for marker in ("details = ", "] "):
        if marker in text:
            text = text.split(marker, 1)[1]
            break
    return text.strip('"')[:160]


def session(remote: str | None = None):
    """The Spark session: one per process, local (`local[2]`) or at the Spark Connect address."""
    global _session, _session_remote
    with _lock:
        if _session is not None and _session_remote == remote:
            return _session
        try:
            # pyspark's note on pandas 3 does not apply: data goes to and from Spark as Arrow, not pandas
            warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise EngineUnavailable(
                "PHB_ENGINE=spark needs pyspark and sqlglot: install them with pip install -r requirements-spark.txt."
            ) from exc
        if remote:
            address = remote.split("/;", 1)[0]  # never the token or user that may follow
            try:
                _probe(remote)
                spark = SparkSession.builder.remote(remote).getOrCreate()
                spark.conf.set("spark.sql.session.timeZone", "UTC")
                spark.sql("select 1").collect()
            except Exception as exc:  # noqa: BLE001 - any failure to reach it is the same message
                raise EngineUnavailable(
                    f"Spark is not reachable at {address} (PHB_SPARK_REMOTE): {_first_line(exc)}. "
                    "Nothing was run on DuckDB instead."
                ) from exc
        else:
            if shutil.which("java") is None:
                raise EngineUnavailable(
                    "PHB_ENGINE=spark with a local Spark needs Java 17 (no java command found); install it, "
                    "or set PHB_SPARK_REMOTE to a Spark Connect address."
                )
            try:
                spark = (
                    SparkSession.builder.master(LOCAL_MASTER)
                    .appName("phb-dashboard")
                    .config("spark.ui.enabled", "false")
                    .config("spark.ui.showConsoleProgress", "false")
                    .config("spark.sql.shuffle.partitions", "2")
                    .config("spark.sql.session.timeZone", "UTC")
                    .config("spark.driver.memory", "1g")
                    .getOrCreate()
                )
                spark.sparkContext.setLogLevel("ERROR")
            except Exception as exc:  # noqa: BLE001
                raise EngineUnavailable(f"A local Spark could not be started: {_first_line(exc)}.") from exc
        _session, _session_remote = spark, remote
        return spark


def _probe(remote: str, timeout: float = CONNECT_TIMEOUT_SECONDS) -> None:
    """Open a channel to the Spark Connect address and wait for it to be ready, at most `timeout`
    seconds: Spark Connect's client would otherwise retry an address that does not answer for up
    to 10 minutes before saying so."""
    import grpc
    from pyspark.sql.connect.client import DefaultChannelBuilder

    channel = DefaultChannelBuilder(remote).toChannel()
    states: list = []
    settled = threading.Event()

    def watch(state) -> None:
        states.append(state)
        if state in (grpc.ChannelConnectivity.READY, grpc.ChannelConnectivity.TRANSIENT_FAILURE):
            settled.set()

    channel.subscribe(watch, try_to_connect=True)
    try:
        if not settled.wait(timeout):
            raise ConnectionError(f"no answer within {timeout:.0f} seconds")
        if states[-1] != grpc.ChannelConnectivity.READY:
            raise ConnectionError("the connection was refused or the address was not found")
    finally:
        channel.unsubscribe(watch)
        channel.close()


def _to_pandas(table) -> pd.DataFrame:
    """An Arrow result as pandas, converted the way DuckDB converts its own results."""
    with duckdb.connect() as con:
        return con.from_arrow(table).df()


def _arg(value: Any) -> Any:
    """A parameter as Spark binds it: lists as lists, numpy scalars as Python values."""
    if isinstance(value, (list, tuple)):
        return [_arg(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value


class SparkConnection:
    """What phb.warehouse.connect gives with PHB_ENGINE=spark: run_query sends its SQL here."""

    engine = "spark"

    def __init__(self, spark):
        self.spark = spark

    def __enter__(self) -> SparkConnection:
        return self

    def __exit__(self, *exc) -> bool:
        return False

    def close(self) -> None:
        """Nothing to close: the session lives as long as the process."""

    def run(self, name: str, params: dict[str, Any]) -> pd.DataFrame:
        """queries/<name>.sql translated to Spark's dialect, its parameters bound as Spark's named markers."""
        sql = spark_query(name)
        frame = self.spark.sql(sql, args={k: _arg(v) for k, v in params.items()})
        return _to_pandas(frame.toArrow())

    def sql(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """A DuckDB-dialect statement (not a query file) translated and run, parameters bound."""
        frame = self.spark.sql(to_spark(sql), args={k: _arg(v) for k, v in (params or {}).items()})
        return _to_pandas(frame.toArrow())


def connect() -> SparkConnection:
    """A connection to the tables built in Spark by `ensure` (or `build`) in this process."""
    settings = engine_settings()
    if _built is None:
        raise EngineUnavailable("The Spark tables have not been built in this process yet.")
    return SparkConnection(session(settings.spark_remote))


def _load_folder(spark, data_dir: Path) -> tuple[str, tuple]:
    """The extract folder's four tables, checked as the DuckDB build checks them, as Spark views."""
    from phb.extract import content_hash, extract_files, read_error
    from phb.warehouse import _period_sql, load_checked

    files = extract_files(data_dir)
    version = content_hash(data_dir)
    with duckdb.connect() as duck:
        duck.execute("set enable_progress_bar = false")
        try:
            load_checked(duck, files)
            period = duck.execute(_period_sql()).fetchall()[0]
            arrows = {}
            for table, columns in contract.TABLES.items():
                names = ", ".join(ident(c.name) for c in columns)
                arrows[table] = duck.sql(f"select {names} from {ident(table)} order by _row").to_arrow_table()
        except duckdb.Error as exc:
            raise ContractError([read_error("The extract", exc)]) from exc
    for table, arrow in arrows.items():
        spark.createDataFrame(arrow).createOrReplaceTempView(table)
    return version, period


def _load_tables(spark, tables: tuple[tuple[str, str], ...]) -> tuple[str, tuple]:
    """The four contract tables from the Spark tables named in PHB_SPARK_TABLES, cast to the
    contract's types, as views; the version is a hash of the names and row counts."""
    from phb.warehouse import _period_sql

    digest = hashlib.sha256(b"spark tables\0")
    problems = []
    frames = {}
    for table, name in tables:
        try:
            frame = spark.table(name)
        except Exception as exc:  # noqa: BLE001 - a missing table, or no right to read it
            problems.append(f"The Spark table {name} (the {table} table) cannot be read: {_first_line(exc)}.")
            continue
        have = {f.name.lower() for f in frame.schema.fields}
        missing = [c.name for c in contract.TABLES[table] if c.name not in have]
        if missing:
            problems.append(f"The Spark table {name} (the {table} table) has no column {', '.join(missing)}.")
            continue
        frames[table] = frame.selectExpr(
            *[f"cast(`{c.name}` as {_SPARK_TYPES[c.type]}) as `{c.name}`" for c in contract.TABLES[table]]
        )
    if problems:
        raise ContractError(problems)
    for table, frame in frames.items():
        frame.createOrReplaceTempView(table)
        digest.update(f"{table}={dict(tables)[table]}:{frame.count()}\0".encode())
    period = tuple(spark.sql(to_spark(_period_sql())).collect()[0])
    if period[0] is None:
        raise ContractError(["The Spark tables hold no dates (no referrals, budgets, payments or admissions)."])
    digest.update(f"{period}".encode())
    return digest.hexdigest()[:12], period


def build(cfg: Settings, settings: EngineSettings | None = None, unit_costs: dict[str, float] | None = None):
    """Load the contract tables into Spark and build the summary tables there; returns WarehouseInfo."""
    global _built
    from phb.warehouse import BUILD_MODELS, WarehouseInfo, build_signature

    settings = settings or engine_settings()
    started = time.perf_counter()
    with _lock:
        spark = session(settings.spark_remote)
        secret = _perturbation_key(cfg.warehouse)
        if settings.spark_tables:
            version, (start, end) = _load_tables(spark, settings.spark_tables)
        else:
            version, (start, end) = _load_folder(spark, cfg.data_dir)
        costs = unit_costs or DEFAULT_UNIT_COSTS_GBP
        params = {
            "period_start": start,
            "period_end": end,
            "unit_cost_mental_health": costs["mental_health"],
            "unit_cost_general_acute": costs["general_acute"],
            "perturbation_key": secret,
        }
        cached = []
        for name in BUILD_MODELS:
            sql = query_text(f"build/{name}")
            frame = spark.sql(spark_query(f"build/{name}"), args=bound_params(sql, params)).cache()
            frame.count()  # fill the cache now, so a build that fails, fails here
            frame.createOrReplaceTempView(name)
            cached.append(frame)
        if _built is not None:
            for frame in _built.cached:
                frame.unpersist()
        info = WarehouseInfo(
            data_version=version,
            built_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            synthetic=_synthetic(cfg.data_dir),
            period_start=start,
            period_end=end,
            source=str(cfg.data_dir) if not settings.spark_tables else "Spark tables",
            build_signature=build_signature(secret),
        )
        _built = _Built(_key(cfg, settings, version, info.build_signature), info, cached, time.monotonic())
    log.info("built the Spark tables (version %s) in %.0f ms", version, (time.perf_counter() - started) * 1000)
    return info


def _synthetic(data_dir: Path) -> bool:
    import json

    manifest = data_dir / "MANIFEST.json"
    try:
        return bool(json.loads(manifest.read_text()).get("synthetic", False)) if manifest.is_file() else False
    except (json.JSONDecodeError, AttributeError, OSError):
        return False


def _key(cfg: Settings, settings: EngineSettings, version: str, signature: str) -> tuple:
    return (settings.spark_remote, settings.spark_tables, str(cfg.data_dir), version, signature)


def ensure(cfg: Settings):
    """As phb.warehouse.ensure_warehouse, on Spark: build the tables if this process has not, or if
    the extract (or the build code, or the key) changed since; keep the last good build when a new
    extract breaks the contract."""
    from phb.extract import content_hash
    from phb.warehouse import Ready, build_signature

    settings = engine_settings()
    with _lock:
        signature = build_signature(_perturbation_key(cfg.warehouse))
        if _built is not None and _built.key[:3] == _key(cfg, settings, "", "")[:3]:
            if settings.spark_tables:
                fresh = time.monotonic() - _built.checked_at < TABLES_RECHECK_SECONDS
                if fresh and _built.key[4] == signature:
                    return Ready(_built.info)
            elif _built.key[3:] == (content_hash(cfg.data_dir) if cfg.data_dir.is_dir() else None, signature):
                return Ready(_built.info)
        try:
            return Ready(build(cfg, settings))
        except ContractError as exc:
            if _built is None or _built.key[4] != signature:
                raise
            log.warning("kept the previous Spark tables %s: %s", _built.info.data_version, exc)
            return Ready(_built.info, exc)
