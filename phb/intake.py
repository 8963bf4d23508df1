"""Checking an extract before it is published: the data contract's checks (the very ones the warehouse
build runs, by building a scratch warehouse), the report a person can act on, and publishing through
the version store. Used by `python -m phb check | publish` and by the Data page alike.
"""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from phb import config, store
from phb.contract import ContractError, Problem  # noqa: F401 - ContractError for the page
from phb.warehouse import WarehouseInfo, WarehouseWriteError, build

REPORT_COLUMNS = ("rule", "table", "file", "row", "column", "key", "id")


@dataclass
class CheckResult:
    """What checking an extract found: its problems (none when it passes) and, when it passes, what the
    scratch warehouse built from it holds."""

    problems: list[Problem] = field(default_factory=list)
    info: WarehouseInfo | None = None
    warehouse: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


def check(folder: Path, cfg: config.Settings, scratch: Path) -> CheckResult:
    """Check the extract in `folder` by building a scratch warehouse in the folder `scratch` with the
    published warehouse's perturbation key; the published warehouse and the store are not touched."""
    secret = config.perturbation_key(cfg.warehouse)
    target = scratch / "candidate.duckdb"
    try:
        info = build(folder, target, secret=secret)
    except ContractError as exc:
        return CheckResult(problems=exc.details)
    except WarehouseWriteError as exc:
        return CheckResult(problems=[Problem(where="", rule=p, text=p) for p in exc.problems])
    return CheckResult(info=info, warehouse=target)


def checker(cfg: config.Settings):
    """A check for store.publish: raises ContractError when the extract fails."""

    def run(folder: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="phb-check-") as tmp:
            result = check(folder, cfg, Path(tmp))
        if not result.ok:
            raise ContractError(result.problems)

    return run


def publish(folder: Path, cfg: config.Settings, by: str, note: str = "", source_files=None) -> store.Version:
    """Check and publish the extract in `folder` as the current version of the store."""
    base = cfg.base_data_dir or cfg.data_dir
    return store.publish(folder, cfg.store, base, checker(cfg), by=by, note=note, source_files=source_files)


def report_rows(problems: list[Problem]) -> list[dict]:
    """One row per offending row of the file (a problem with the file as a whole is one row with no row
    number): rule, table, file, row, column, key and id. An id that may be personal is blank."""
    out = []
    for p in problems:
        base = {"rule": p.rule, "table": p.table or "", "file": p.where, "column": p.column or "", "key": p.key or ""}
        if not p.rows:
            out.append({**base, "row": "", "id": ""})
        for row, ident in p.rows:
            out.append({**base, "row": row, "id": "" if ident is None else ident})
    return out


def report_json(result: CheckResult) -> dict:
    """The check's result for machines (`python -m phb check --json`)."""
    return {
        "passed": result.ok,
        "data_version": result.info.data_version if result.info else None,
        "problems": [
            {
                "message": str(p),
                "rule": p.rule,
                "table": p.table,
                "file": p.where,
                "column": p.column,
                "key": p.key,
                "rows": [row for row, _ in p.rows],
            }
            for p in result.problems
        ],
    }


def report_csv(problems: list[Problem]) -> bytes:
    """Every offending row as CSV (UTF-8 with a byte-order mark), each cell neutralised so a spreadsheet
    never runs it as a formula."""
    from phb.exports import safe_cell

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(REPORT_COLUMNS))
    writer.writeheader()
    for row in report_rows(problems):
        writer.writerow({k: safe_cell(v) if isinstance(v, str) else v for k, v in row.items()})
    return ("\ufeff" + out.getvalue()).encode("utf-8")
