"""The DuckDB warehouse: build it from an extract, keep it current, and run named queries.

A build reads the four contract tables from the extract folder, checks them against the data
contract, writes a new warehouse file and swaps it in, so a failed build never touches the
warehouse already in use. Queries live in `queries/*.sql` and take only bound `$parameters`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
import time
import zipfile
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from filelock import FileLock

from phb import contract
from phb.config import DEFAULT_UNIT_COSTS_GBP, QUERIES_DIR, Settings, perturbation_key

log = logging.getLogger(__name__)

DATA_SUFFIXES = (".csv", ".parquet", ".xlsx")
BUILD_MODELS = (
    "person_keys",
    "spend_lines",
    "admission_lines",
    "person_windows",
    "admissions_monthly",
)
MAX_EXAMPLES = 5


class ContractError(Exception):
    """The extract does not follow the data contract; `problems` says what and where."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("The extract does not follow the data contract:\n- " + "\n- ".join(problems))


class WarehouseWriteError(Exception):
    """The warehouse file could not be written (a read-only folder, a full disk); `problems` says so
    plainly, without the server's paths."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


class QueryParameterError(ValueError):
    """A named query was called with parameters it does not take, or without ones it needs."""


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
    """A hash of how a warehouse is built (contract version, summary-table SQL and a SHA-256 of the
    perturbation key, never the key itself), so a warehouse built by older code or with another key
    is rebuilt even when the extract has not changed."""
    digest = hashlib.sha256(f"contract {contract.CONTRACT_VERSION}\0".encode())
    digest.update(b"key\0" + hashlib.sha256(secret.encode()).digest())
    for name in BUILD_MODELS:
        digest.update(name.encode() + b"\0" + (QUERIES_DIR / "build" / f"{name}.sql").read_bytes())
    return digest.hexdigest()[:12]


# ---------------------------------------------------------------------------------------------
# Finding and hashing the extract


def extract_files(data_dir: Path) -> dict[str, tuple[Path, str | None]]:
    """Map each contract table to its file (and sheet, for a workbook) in the extract folder."""
    if not data_dir.is_dir():
        raise ContractError([f"The extract folder '{data_dir.name}' does not exist."])
    found: dict[str, tuple[Path, str | None]] = {}
    workbooks = sorted(p for p in data_dir.glob("*.xlsx") if not p.name.startswith("~$"))
    for table in contract.TABLES:
        for suffix in (".csv", ".parquet", ".xlsx"):
            path = data_dir / f"{table}{suffix}"
            if path.is_file():
                found[table] = (path, table if suffix == ".xlsx" else None)
                break
        else:
            for book in workbooks:
                if table in _sheet_names(book):
                    found[table] = (book, table)
                    break
    missing = [t for t in contract.TABLES if t not in found]
    if missing:
        raise ContractError(
            [
                f"No '{t}' table in the extract folder '{data_dir.name}': expected {t}.csv, {t}.parquet, {t}.xlsx "
                f"or a workbook with a sheet named '{t}'."
                for t in missing
            ]
        )
    return found


def _sheet_names(book: Path) -> list[str]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(book, read_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ContractError([_read_error(book.name, exc)]) from exc
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def content_hash(data_dir: Path) -> str:
    """A short hash of every data file in the extract folder (names and bytes)."""
    digest = hashlib.sha256()
    files = sorted(p for p in data_dir.iterdir() if p.suffix in DATA_SUFFIXES or p.name == "MANIFEST.json")
    for path in files:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]


# ---------------------------------------------------------------------------------------------
# Loading and checking


def _q(identifier: str) -> str:
    """Quote an identifier taken from the contract's allow-list (never from user input)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", identifier):
        raise ValueError(f"not a contract identifier: {identifier!r}")
    return f'"{identifier}"'


def _csv_header(path: Path) -> list[str]:
    """The header row of a CSV file (UTF-8, with or without a byte-order mark)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return next(csv.reader(fh), [])


def _read_error(where: str, exc: Exception) -> str:
    """A plain message for a file that cannot be read, never echoing its contents."""
    text = str(exc)
    ragged = re.search(r"Line: (\d+).*?Expected Number of Columns: (\d+) Found: (\d+)", text, re.S)
    if ragged:
        line, expected, found = ragged.groups()
        return f"{where}: row {line} has {found} values where the header has {expected}."
    if isinstance(exc, UnicodeDecodeError):
        return f"{where} is not a UTF-8 text file."
    if isinstance(exc, zipfile.BadZipFile) or "zip" in text.lower():
        return f"{where} is not a readable Excel workbook."
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"{where} could not be read ({first[:160]})."


def _load_raw(con: duckdb.DuckDBPyConnection, table: str, path: Path, sheet: str | None) -> list[str]:
    """Load one table as text into raw_<table>, with its source row number; return problems."""
    where = path.name if sheet is None or path.stem == table else f"{path.name}, sheet '{sheet}'"
    try:
        if path.suffix == ".csv":
            header = _csv_header(path)
            # the header is known, so the file is read exactly as the contract says: comma separated,
            # double quotes, every value as text, and a row with too few or too many values refused
            rel = con.sql(
                "select * from read_csv($path, header = true, auto_detect = false, delim = ',', quote = '\"', "
                "escape = '\"', strict_mode = true, columns = $columns)",
                params={"path": str(path), "columns": {name: "VARCHAR" for name in header}},
            )
            frame = None
        elif path.suffix == ".parquet":
            rel = con.sql("select * from read_parquet($path)", params={"path": str(path)})
            frame = None
        else:
            frame = pd.read_excel(path, sheet_name=sheet, dtype=str, engine="openpyxl")
            frame = frame.apply(lambda c: c.str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", r"\1", regex=True))
            rel = None
    except (duckdb.Error, ValueError, OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        return [_read_error(where, exc)]

    columns = list(frame.columns) if frame is not None else list(rel.columns)
    expected = [c.name for c in contract.TABLES[table]]
    problems = [f"{where} has no column '{c}'." for c in expected if c not in columns]
    problems += [
        f"{where} has a column '{c}' that the data contract does not allow (an extract carries only "
        "contract columns, so it can never carry names, addresses or NHS numbers)."
        for c in columns
        if c not in expected
    ]
    if problems:
        return problems

    select = ", ".join(f"nullif(trim(cast({_q(c)} as varchar)), '') as {_q(c)}" for c in expected)
    if frame is not None:
        con.register("_excel_frame", frame.astype(object).where(frame.notna(), None))
        source = "_excel_frame"
    else:
        con.register("_file_rel", rel)
        source = "_file_rel"
    # _row is the row as a spreadsheet numbers it: the header is row 1
    try:
        con.execute(
            f"create or replace table {_q('raw_' + table)} as "
            f"select row_number() over () + 1 as _row, {select} from {source}"
        )
    except duckdb.Error as exc:  # the file is read here, so a ragged row shows up here
        return [_read_error(where, exc)]
    finally:
        con.unregister(source)
    return []


def _examples(rows: list[tuple], where: str, key: str, message: str) -> str:
    shown = ", ".join(
        f"row {r[0]} ({key} {r[1]!r})" if r[1] is not None else f"row {r[0]}" for r in rows[:MAX_EXAMPLES]
    )
    more = f" and {len(rows) - MAX_EXAMPLES:,} more" if len(rows) > MAX_EXAMPLES else ""
    return f"{where}: {message}: {shown}{more}."


def _check_types(con: duckdb.DuckDBPyConnection, table: str, where: str) -> list[str]:
    """Required values present, values of the right type, coded values from the allowed lists."""
    key = contract.KEYS[table]
    raw = _q("raw_" + table)
    problems = []
    for col in contract.TABLES[table]:
        c = _q(col.name)
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
            rows = con.execute(f"select _row, {_q(key)} from {raw} where {condition} order by _row", params).fetchall()
            if rows:
                problems.append(_examples(rows, where, key, message))
    return problems


def _typed_select(table: str) -> str:
    casts = {"text": "varchar", "integer": "integer", "decimal": "decimal(18, 2)", "date": "date"}
    cols = ", ".join(f"cast({_q(c.name)} as {casts[c.type]}) as {_q(c.name)}" for c in contract.TABLES[table])
    return f"select _row, {cols} from {_q('raw_' + table)}"


# Rules across columns and tables, each a condition that picks out the offending rows.
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


def _check_rules(con: duckdb.DuckDBPyConnection, wheres: dict[str, str]) -> list[str]:
    problems = []
    for table, rules in RULES.items():
        key = contract.KEYS[table]
        rows_by_rule = []
        for condition, message in rules:
            rows = con.execute(f"select _row, {_q(key)} from {_q(table)} where {condition} order by _row").fetchall()
            rows_by_rule.append((rows, message))
        dupes = con.execute(
            f"select min(_row), {_q(key)} from {_q(table)} group by {_q(key)} having count(*) > 1 order by 1"
        ).fetchall()
        rows_by_rule.append((dupes, f"'{key}' appears more than once"))
        problems += [_examples(rows, wheres[table], key, msg) for rows, msg in rows_by_rule if rows]
    return problems + _check_nhs_numbers(con, wheres)


def _check_nhs_numbers(con: duckdb.DuckDBPyConnection, wheres: dict[str, str]) -> list[str]:
    """Refuse any id that is a valid NHS number: an extract must be pseudonymised."""
    problems = []
    for table, key in contract.KEYS.items():
        ids = [*{key}]
        if table in ("spend", "admissions"):
            ids.append("person_id")
        for col in ids:
            candidates = con.execute(
                f"select _row, {_q(col)} from {_q(table)} "
                f"where regexp_full_match(regexp_replace({_q(col)}, '[ -]', '', 'g'), '\\d{{10}}') order by _row"
            ).fetchall()
            bad = [(r, v) for r, v in candidates if contract.is_nhs_number(v)]
            if bad:
                rows = [(r, None) for r, _ in bad]
                problems.append(
                    _examples(
                        rows,
                        wheres[table],
                        col,
                        f"'{col}' holds what looks like a real NHS number; "
                        "an extract must be pseudonymised, so it is refused (values not shown)",
                    )
                )
    return problems


# ---------------------------------------------------------------------------------------------
# Building


def build(data_dir: Path, warehouse: Path, unit_costs: dict[str, float] | None = None) -> WarehouseInfo:
    """Check the extract and build a new warehouse file, swapping it in only when all is well."""
    started = time.perf_counter()
    files = extract_files(data_dir)
    version = content_hash(data_dir)
    tmp = warehouse.with_name(f".{warehouse.name}.building-{os.getpid()}")
    try:
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        secret = perturbation_key(warehouse)
        tmp.unlink(missing_ok=True)
        con = duckdb.connect(str(tmp))
    except (OSError, duckdb.Error) as exc:
        log.error("cannot write the warehouse %s: %s", warehouse, exc)
        raise _write_error(warehouse) from exc
    con.execute("set enable_progress_bar = false")
    try:
        wheres = {t: p.name if s is None or p.stem == t else f"{p.name}, sheet '{s}'" for t, (p, s) in files.items()}
        problems: list[str] = []
        for table, (path, sheet) in files.items():
            problems += _load_raw(con, table, path, sheet)
        if not problems:
            for table in contract.TABLES:
                problems += _check_types(con, table, wheres[table])
        if problems:
            raise ContractError(problems)
        for table in contract.TABLES:
            con.execute(f"create table {_q(table)} as {_typed_select(table)}")
            con.execute(f"drop table {_q('raw_' + table)}")
        problems = _check_rules(con, wheres)
        if problems:
            raise ContractError(problems)
        if con.execute(_period_sql()).fetchone()[0] is None:
            raise ContractError(["The extract holds no dates (no referrals, budgets, payments or admissions)."])
        _build_models(con, unit_costs or DEFAULT_UNIT_COSTS_GBP, secret)
        info = _write_meta(con, data_dir, version, build_signature(secret))
        con.execute("checkpoint")
    except duckdb.Error as exc:
        # anything the checks above did not foresee still leaves the working warehouse alone
        con.close()
        tmp.unlink(missing_ok=True)
        raise ContractError([_read_error("The extract", exc)]) from exc
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


def _write_error(warehouse: Path) -> WarehouseWriteError:
    return WarehouseWriteError(
        [
            f"The warehouse file '{warehouse.name}' could not be written (its folder is read-only or the disk "
            "is full), so the extract could not be loaded into it. Ask whoever runs the dashboard to make "
            "the warehouse folder (PHB_WAREHOUSE) writable."
        ]
    )


def _build_models(con: duckdb.DuckDBPyConnection, unit_costs: dict[str, float], secret: str) -> None:
    """Create the summary tables pages read, each from queries/build/<name>.sql; the perturbation
    key is bound as a parameter and only its keyed hashes (record keys) are stored."""
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
        con.execute(f"create table {_q(name)} as {sql}", _used_params(sql, params))


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
    except (duckdb.Error, OSError) as exc:
        log.warning("the warehouse %s does not open (%s): it will be rebuilt", warehouse, type(exc).__name__)
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


# ---------------------------------------------------------------------------------------------
# Running named queries


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


def _used_params(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k in query_params(sql)}


def run_query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> pd.DataFrame:
    """Run queries/<name>.sql with its $parameters bound from `params`; a missing one is an error."""
    sql = query_text(name)
    wanted = query_params(sql)
    missing = wanted - params.keys()
    if missing:
        raise QueryParameterError(f"query {name} needs {', '.join(sorted(missing))}")
    started = time.perf_counter()
    frame = con.cursor().execute(sql, {k: params[k] for k in wanted}).df()
    log.info(
        "query %s %s: %d rows in %.1f ms",
        name,
        {k: params[k] for k in sorted(wanted)},
        len(frame),
        (time.perf_counter() - started) * 1000,
    )
    return frame


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse."""
    return duckdb.connect(str(warehouse), read_only=True)
