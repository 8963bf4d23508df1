"""The headline figures as one JSON-ready dict, computed by the same code the pages use."""

from __future__ import annotations

from pathlib import Path

from phb import admissions, compare, overview, spending, uptake, value
from phb.filters import Filters
from phb.queries import run_query
from phb.warehouse import WarehouseInfo, connect


def site_names(con) -> dict[str, str]:
    """Site code to site name, in code order."""
    frame = run_query(con, "sites")
    return dict(zip(frame["site_code"], frame["site_name"]))


def facts(warehouse: Path, info: WarehouseInfo, filters: Filters) -> dict:
    """Every headline figure for a selection, after disclosure control."""
    with connect(warehouse) as con:
        names = site_names(con)
        data = overview.load(con, filters)
        extras = [
            uptake.facts_blocks(uptake.load(con, filters)),
            spending.facts_blocks(spending.load(con, filters, info.period_end)),
            admissions.facts_blocks(admissions.load(con, filters)),
            compare.facts_blocks(compare.load(con, filters), names),
        ]
        value_block = value.facts_block(value.load(con, filters))
    figures = overview.headline(data)
    for blocks in extras:
        for code, extra in blocks.items():
            block = figures["all_sites"] if code is None else figures["sites"].get(code)
            if block is not None:
                block.update(extra)
    figures["all_sites"]["value_for_money"] = value_block
    return {
        "data_version": info.data_version,
        "built_at": info.built_at,
        "synthetic": info.synthetic,
        "data_period": {"from": info.period_start.isoformat(), "to": info.period_end.isoformat()},
        "filters": {
            "sites": list(filters.sites) if filters.sites else list(names),
            "from": filters.date_from.isoformat(),
            "to": filters.date_to.isoformat(),
            "management": list(filters.management) if filters.management else "all",
        },
        **figures,
    }
