"""The DuckDB warehouse: build it from an extract, keep it current, and open it for reading.

A build reads the four contract tables from the extract folder (`phb.extract`), checks them against
the data contract (`phb.contract`), creates the summary tables in queries/build/, writes a new
warehouse file and swaps it in, so a failed build never touches the warehouse already in use. One
build runs at a time (a file lock); `ensure_warehouse` rebuilds when the extract or the build code
has changed. Named queries are run by `phb.queries`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
from filelock import FileLock

from phb import contract
from phb.config import DEFAULT_UNIT_COSTS_GBP, QUERIES_DIR, Settings, engine_settings, perturbation_key
from phb.contract import ContractError, ident
from phb.extract import content_hash, extract_files, load_raw, read_error
from phb.queries import bound_params

log = logging.getLogger(__name__)

BUILD_MODELS = (
    "person_keys",
    "people_keyed",
    "spend_lines",
    "spend_person_months",
    "spend_cells",
    "spend_period",
    "spend_person_totals",
    "admission_lines",
    "window_stays",
    "at_risk_spans",
    "at_risk_admissions",
    "person_windows",
    "value_people",
    "admissions_monthly",
    "site_row_counts",
    "monthly_row_counts",
    "field_checks",
)
# Rules that many queries share, each a DuckDB macro in queries/macros/<name>.sql, stored in the
# warehouse at build: MACROS before the summary tables (which may use them); each of TABLE_MACROS
# (which read summary tables) as soon as the table named beside it is built, as DuckDB checks a
# macro's tables when it is created, so that later summary tables may use it too.
MACROS = ("in_selection", "stay_cost", "combined_top2", "sum_of_five")
TABLE_MACROS = {
    "spend_in_selection": "spend_person_months",
    "spend_per_person": "spend_person_months",
    "spend_covered": "spend_period",
}
# Text columns of few values kept as DuckDB ENUMs (each row a small whole number, each text once) in
# the tables the spending queries group millions of rows of, so that grouping compares numbers, not
# text: at a million people over all sites, spend_by_category 650 ms to 480 ms (the management option
# notional alone, 350 ms to 270 ms). Each ENUM lists its texts in order, so they sort as text does;
# run_query gives them back as text. DuckDB only: Spark reads text.
ENUM_COLUMNS = ("site_code", "management_option", "category")
ENUM_TABLES = ("spend_lines", "spend_person_months", "spend_person_totals")


class WarehouseWriteError(Exception):
    """The warehouse file could not be written (a read-only folder, a full disk); `problems` says so
    plainly, without the server's paths."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


@dataclass(frozen=True)
class WarehouseInfo:
    """What a page needs to say about the data it shows."""

    data_version: str
    built_at: str
    synthetic: bool
    period_start: date
    period_end: date
    source: str
    build_signature: str = ""


def build_signature(secret: str) -> str:
    """A hash of how a warehouse is built (contract version, macro and summary-table SQL and a SHA-256 of the
    perturbation key, never the key itself), so a warehouse built by older code or with another key
    is rebuilt even when the extract has not changed."""
    digest = hashlib.sha256(f"contract {contract.CONTRACT_VERSION}\0".encode())
    digest.update(b"key\0" + hashlib.sha256(secret.encode()).digest())
    for name in MACROS + tuple(TABLE_MACROS):
        digest.update(name.encode() + b"\0" + (QUERIES_DIR / "macros" / f"{name}.sql").read_bytes())
    for name in BUILD_MODELS:
        digest.update(name.encode() + b"\0" + (QUERIES_DIR / "build" / f"{name}.sql").read_bytes())
    digest.update(f"enums {ENUM_TABLES} {ENUM_COLUMNS}".encode())
    from phb import value

    digest.update(f"value summary {value.BOOTSTRAP_VERSION}".encode())
    return digest.hexdigest()[:12]


def build(
    data_dir: Path, warehouse: Path, unit_costs: dict[str, float] | None = None, secret: str | None = None
) -> WarehouseInfo:
    """Check the extract and build a new warehouse file, swapping it in only when all is well.

    `secret` is the perturbation key to use (a check of an upload builds a scratch warehouse with the
    published warehouse's key, so its shown counts compare); by default the one beside `warehouse`."""
    started = time.perf_counter()
    files = extract_files(data_dir)
    version = content_hash(data_dir)
    tmp = warehouse.with_name(f".{warehouse.name}.building-{os.getpid()}")
    try:
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        secret = secret or perturbation_key(warehouse)
        tmp.unlink(missing_ok=True)
        con = duckdb.connect(str(tmp))
    except (OSError, duckdb.Error) as exc:
        log.error("cannot write the warehouse %s: %s", warehouse, exc)
        raise _write_error(warehouse) from exc
    con.execute("set enable_progress_bar = false")
    try:
        load_checked(con, files)
        _build_models(con, unit_costs or DEFAULT_UNIT_COSTS_GBP, secret)
        info = _write_meta(con, data_dir, version, build_signature(secret))
        con.execute("checkpoint")
    except duckdb.Error as exc:
        # anything the checks above did not foresee still leaves the working warehouse alone
        con.close()
        tmp.unlink(missing_ok=True)
        raise ContractError([read_error("The extract", exc)]) from exc
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    try:
        os.replace(tmp, warehouse)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        log.error("cannot write the warehouse %s: %s", warehouse, exc)
        raise _write_error(warehouse) from exc
    log.info(
        "built warehouse %s from %s (version %s) in %.0f ms",
        warehouse,
        data_dir,
        version,
        (time.perf_counter() - started) * 1000,
    )
    return info


def load_checked(con: duckdb.DuckDBPyConnection, files: dict[str, tuple[Path, str | None]]) -> None:
    """Load the extract's four tables into `con`, check them against the data contract and leave them
    typed under their own names; a ContractError lists what is wrong. Both engines load through here."""
    wheres = {t: p.name if s is None or p.stem == t else f"{p.name}, sheet '{s}'" for t, (p, s) in files.items()}
    problems: list = []
    for table, (path, sheet) in files.items():
        problems += [contract.problem_of_file(p, table, wheres[table]) for p in load_raw(con, table, path, sheet)]
    if not problems:
        for table in contract.TABLES:
            problems += contract.check_types(con, table, wheres[table])
    if problems:
        raise ContractError(problems)
    for table in contract.TABLES:
        con.execute(f"create table {ident(table)} as {contract.typed_select(table)}")
        con.execute(f"drop table {ident('raw_' + table)}")
    problems = contract.check_rules(con, wheres)
    if problems:
        raise ContractError(problems)
    if con.execute(_period_sql()).fetchone()[0] is None:
        raise ContractError(["The extract holds no dates (no referrals, budgets, payments or admissions)."])


def _write_error(warehouse: Path) -> WarehouseWriteError:
    return WarehouseWriteError(
        [
            f"The warehouse file '{warehouse.name}' could not be written (its folder is read-only or the disk "
            "is full), so the extract could not be loaded into it. Ask whoever runs the dashboard to make "
            "the warehouse folder (PHB_WAREHOUSE) writable."
        ]
    )


def _build_models(con: duckdb.DuckDBPyConnection, unit_costs: dict[str, float], secret: str) -> None:
    """Create the shared macros (queries/macros/<name>.sql) and the summary tables pages read (each
    from queries/build/<name>.sql), each macro that reads a table once it is built; the perturbation key is
    bound as a parameter and only its keyed hashes (record keys) are stored."""
    for name in MACROS:
        con.execute((QUERIES_DIR / "macros" / f"{name}.sql").read_text())
    ((start, end),) = con.execute(_period_sql()).fetchall()
    params = {
        "period_start": start,
        "period_end": end,
        "unit_cost_mental_health": unit_costs["mental_health"],
        "unit_cost_general_acute": unit_costs["general_acute"],
        "perturbation_key": secret,
    }
    for name in BUILD_MODELS:
        sql = (QUERIES_DIR / "build" / f"{name}.sql").read_text()
        con.execute(f"create table {ident(name)} as {sql}", bound_params(sql, params))
        for macro in (m for m, after in TABLE_MACROS.items() if after == name):
            con.execute((QUERIES_DIR / "macros" / f"{macro}.sql").read_text())
    _enum_columns(con)
    from phb import value  # the whole period's value-for-money strata, worked out in Python from the tables above

    value.store_whole_period(con, unit_costs)


def _enum_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Store ENUM_COLUMNS of ENUM_TABLES as ENUMs of their texts in order (a column with no texts, as when
    the extract has no spending, stays text: an ENUM needs one)."""
    source = ENUM_TABLES[0]  # every later table's texts are among the first's
    for column in ENUM_COLUMNS:
        col, enum = ident(column), ident(f"phb_{column}")
        if con.execute(f"select count({col}) from {ident(source)}").fetchone()[0] == 0:
            continue
        texts = f"select distinct {col} from {ident(source)} where {col} is not null order by {col}"
        con.execute(f"create type {enum} as enum ({texts})")
        for table in ENUM_TABLES:
            con.execute(f"alter table {ident(table)} alter {col} type {enum}")


def _period_sql() -> str:
    return """
        with dates as (
            select referred_on as d from people
            union all select budget_start from people
            union all select paid_on from spend
            union all select admitted_on from admissions
            union all select discharged_on from admissions
        )
        select min(d), max(d) from dates
    """


def _write_meta(con: duckdb.DuckDBPyConnection, data_dir: Path, version: str, signature: str) -> WarehouseInfo:
    manifest_path = data_dir / "MANIFEST.json"
    synthetic = False
    if manifest_path.is_file():
        try:
            synthetic = bool(json.loads(manifest_path.read_text()).get("synthetic", False))
        except (json.JSONDecodeError, AttributeError):
            synthetic = False
    ((start, end),) = con.execute(_period_sql()).fetchall()
    info = WarehouseInfo(
        data_version=version,
        built_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        synthetic=synthetic,
        period_start=start,
        period_end=end,
        source=str(data_dir),
        build_signature=signature,
    )
    con.execute(
        "create table meta as select $data_version as data_version, $built_at as built_at, "
        "$synthetic as synthetic, $period_start::date as period_start, $period_end::date as period_end, "
        "$source as source, $build_signature as build_signature, $contract_version as contract_version",
        {**info.__dict__, "contract_version": contract.CONTRACT_VERSION},
    )
    return info


_DUCKDB_HEADERS = 3 * 4096  # the bytes before a DuckDB file's first block


def read_info(warehouse: Path) -> WarehouseInfo | None:
    """The warehouse's own record of what it was built from, or None if there is none yet, or if
    the file is not a warehouse that opens (truncated, corrupt, half written)."""
    if not warehouse.is_file():
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            row = con.execute(
                "select data_version, built_at, synthetic, period_start, period_end, source, build_signature from meta"
            ).fetchone()
            # the tables pages read must be there too, not just the record of them
            tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
            # and every block the file says it holds: a file cut short after its catalogue still opens, and fails
            # only when a page reads a block past the end (DuckDB's file is its three 4 KiB headers, then the blocks)
            _, _, block_size, blocks, *_ = con.execute("pragma database_size").fetchone()
    except (duckdb.Error, OSError) as exc:
        log.warning("the warehouse %s does not open (%s): it will be rebuilt", warehouse, type(exc).__name__)
        return None
    if warehouse.stat().st_size < _DUCKDB_HEADERS + block_size * blocks:
        log.warning("the warehouse %s is shorter than its blocks: it will be rebuilt", warehouse)
        return None
    if not row or not set(BUILD_MODELS) <= tables:
        return None
    return WarehouseInfo(*row)


@dataclass(frozen=True)
class Ready:
    """The warehouse to use, and the problem with the extract (or with writing the warehouse) if it
    could not be rebuilt."""

    info: WarehouseInfo
    problem: ContractError | WarehouseWriteError | None = None


@contextmanager
def _build_lock(warehouse: Path, timeout: float = 600):
    """One build at a time across processes, leaving no lock file behind.

    A FileLock (flock) on `<warehouse>.lock`, whose file is removed while still held: a process
    waiting on the removed file finds it unlinked once it gets the lock and opens the path again
    (filelock checks st_nlink), so two builds never run at once and no stray file stays.
    """
    lock_path = Path(str(warehouse) + ".lock")
    try:
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(lock_path), timeout=timeout)
        lock.acquire()
    except OSError as exc:
        log.error("cannot lock the warehouse %s: %s", warehouse, exc)
        raise _write_error(warehouse) from exc
    try:
        yield
    finally:
        with suppress(OSError):
            lock_path.unlink()
        lock.release()


def ensure_warehouse(cfg: Settings) -> Ready:
    """Build the warehouse if it is missing, unreadable or older than the extract.

    A build that fails keeps the previous warehouse (when one opens and was built by this code):
    an extract that breaks the contract, or a warehouse folder that cannot be written.
    """
    if engine_settings().engine == "spark":
        from phb import sparkengine

        return sparkengine.ensure(cfg)
    version = content_hash(cfg.data_dir) if cfg.data_dir.is_dir() else None
    try:
        signature = build_signature(perturbation_key(cfg.warehouse))
    except OSError as exc:  # no key yet, and its folder cannot be written
        log.error("cannot write the perturbation key beside %s: %s", cfg.warehouse, exc)
        raise _write_error(cfg.warehouse) from exc

    def current(info: WarehouseInfo | None) -> bool:
        return info is not None and info.data_version == version and info.build_signature == signature

    info = read_info(cfg.warehouse)
    if current(info):
        return Ready(info)
    try:
        with _build_lock(cfg.warehouse):
            info = read_info(cfg.warehouse)  # another process may have built it while we waited
            if current(info):
                return Ready(info)
            return Ready(build(cfg.data_dir, cfg.warehouse))
    except (ContractError, WarehouseWriteError) as exc:
        info = read_info(cfg.warehouse)
        if info is None or info.build_signature != signature:
            raise
        log.warning("kept the previous warehouse %s: %s", info.data_version, exc)
        return Ready(info, exc)


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse; with PHB_ENGINE=spark, to the tables built in Spark
    (phb.sparkengine), which run_query sends its SQL to instead."""
    if engine_settings().engine == "spark":
        from phb import sparkengine

        return sparkengine.connect()
    return duckdb.connect(str(warehouse), read_only=True)
