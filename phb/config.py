"""Paths and settings, from the environment with defaults relative to the project."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUERIES_DIR = PROJECT_ROOT / "queries"
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_WAREHOUSE = PROJECT_ROOT / ".warehouse" / "phb.duckdb"

# 2011/12 reference costs (docs/PILOT_FACTS.md): the unit cost used where an admission has no cost.
DEFAULT_UNIT_COSTS_GBP = {"mental_health": 334.0, "general_acute": 400.0}
PRICE_BASE = "2011/12 prices"
UNIT_COST_SOURCE = (
    "Defaults: mental health £334 per bed day, the national average cost of a mental health admitted patient day "
    "across the care clusters in the Department of Health's Reference Costs 2011-12 (clusters ranged from £319 to "
    "£366); general acute £400 per bed day, an assumption of this dashboard with no published source checked. "
    "Both at 2011/12 prices (docs/PILOT_FACTS.md)."
)

SOURCE_NOTE = "Source: PHB mental health pilot extract"

# The secret behind the record keys of cell key perturbation (phb/disclosure.py): from the
# environment, else from a file beside the warehouse, made once and kept across rebuilds.
PERTURBATION_KEY_ENV = "PHB_PERTURBATION_KEY"
PERTURBATION_KEY_FILE = "perturbation.key"


@dataclass(frozen=True)
class Settings:
    """Where the extract is read from and where the warehouse lives.

    `data_dir` is the extract every page shows: the version store's current version, else the bundled
    extract `base_data_dir` (PHB_DATA). `store` is the version store (PHB_STORE)."""

    data_dir: Path
    warehouse: Path
    store: Path | None = None
    base_data_dir: Path | None = None


def settings(env: dict[str, str] | None = None) -> Settings:
    """Settings from PHB_DATA, PHB_WAREHOUSE and PHB_STORE, defaulting to data/, .warehouse/ and store/
    beside the warehouse; the extract read is the store's current version when one is published."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("PHB_DATA") or DEFAULT_DATA_DIR).expanduser().resolve()
    warehouse = env.get("PHB_WAREHOUSE")
    if warehouse:
        path = Path(warehouse).expanduser().resolve()
    elif data_dir == DEFAULT_DATA_DIR:
        path = DEFAULT_WAREHOUSE
    else:
        # Another extract gets its own warehouse beside the default one, never overwriting it.
        import hashlib

        tag = hashlib.sha256(str(data_dir).encode()).hexdigest()[:10]
        path = DEFAULT_WAREHOUSE.with_name(f"phb-{tag}.duckdb")
    from phb import store as version_store

    store = Path(env.get("PHB_STORE") or path.parent / "store").expanduser().resolve()
    return Settings(
        data_dir=version_store.current_dir(store, data_dir), warehouse=path, store=store, base_data_dir=data_dir
    )


def perturbation_key(warehouse: Path, env: dict[str, str] | None = None) -> str:
    """The secret for record keys: PHB_PERTURBATION_KEY, else `perturbation.key` beside the warehouse,
    created once (64 hex characters from `secrets.token_hex(32)`, readable by its owner only) and kept
    across rebuilds, so the same records always get the same keys and the same shown counts."""
    env = os.environ if env is None else env
    given = env.get(PERTURBATION_KEY_ENV, "").strip()
    if given:
        return given
    path = warehouse.parent / PERTURBATION_KEY_FILE
    if not path.is_file():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; read theirs
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    key = path.read_text().strip()
    if not key:
        raise ValueError(f"the perturbation key file {path.name} beside the warehouse is empty")
    return key


def output_problem(out: Path, flag: str = "--out") -> str | None:
    """Why files cannot be written into the folder `out`, in one line, or None if they can.

    Checked before any work: `out` must be a folder or not yet exist, and the nearest folder that
    does exist must take a new file (a read-only place such as /proc refuses one, even to root).
    Nothing is left behind by the check.
    """
    import tempfile

    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        return f"{flag} {out} is a file, not a folder."
    existing = path.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{flag} {out} cannot be written: {existing} is not a folder."
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError:
        return f"{flag} {out} cannot be written: {existing} does not take new files."
    return None


# The engine the queries run on (README, "Apache Spark as a second engine"): DuckDB by default, or
# Apache Spark, local (`local[2]`) or at a Spark Connect address, reading the extract folder or the
# four contract tables from Spark tables named in PHB_SPARK_TABLES.
ENGINES = ("duckdb", "spark")


class EngineUnavailable(Exception):
    """The engine chosen in the settings cannot be used (Spark unreachable, not installed, a setting
    not understood); the message says so in one line, without a traceback. Nothing falls back to
    another engine."""


@dataclass(frozen=True)
class EngineSettings:
    """Which engine runs the queries, and where Spark is and what it reads."""

    engine: str = "duckdb"
    spark_remote: str | None = None  # a Spark Connect address, sc://host:15002; None: local Spark
    spark_tables: tuple[tuple[str, str], ...] | None = None  # (contract table, Spark table name)


def engine_settings(env: dict[str, str] | None = None) -> EngineSettings:
    """PHB_ENGINE (duckdb or spark), PHB_SPARK_REMOTE and PHB_SPARK_TABLES, checked."""
    import re

    env = os.environ if env is None else env
    engine = (env.get("PHB_ENGINE") or "duckdb").strip().lower()
    if engine not in ENGINES:
        raise EngineUnavailable(f"PHB_ENGINE must be duckdb or spark, not {engine[:20]!r}.")
    remote = (env.get("PHB_SPARK_REMOTE") or "").strip() or None
    if remote is not None and not re.fullmatch(r"sc://[^\s]+", remote):
        raise EngineUnavailable("PHB_SPARK_REMOTE must be a Spark Connect address such as sc://host:15002.")
    tables = None
    given = (env.get("PHB_SPARK_TABLES") or "").strip()
    if given:
        from phb import contract

        pairs = {}
        for part in given.split(","):
            table, _, name = part.partition("=")
            table, name = table.strip(), name.strip()
            if table not in contract.TABLES or not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*){0,2}", name):
                raise EngineUnavailable(
                    "PHB_SPARK_TABLES must name each contract table's Spark table, as "
                    "sites=db.sites,people=db.people,spend=db.spend,admissions=db.admissions."
                )
            pairs[table] = name
        missing = [t for t in contract.TABLES if t not in pairs]
        if missing:
            raise EngineUnavailable(f"PHB_SPARK_TABLES does not name a Spark table for {', '.join(missing)}.")
        tables = tuple((t, pairs[t]) for t in contract.TABLES)
    return EngineSettings(engine=engine, spark_remote=remote, spark_tables=tables)
