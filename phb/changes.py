"""What an extract would change against the published version, under disclosure control: rows added
and removed per table and site, people whose outcome changed, totals per site before and after, and
the headline figures before and after.

Both warehouses are built with the same perturbation key, so a person has the same record key in each
and every count here is shown as counts are (`disclosure.count`, keyed by the records it counts);
money comes from `facts`, already through the disclosure layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from phb import disclosure
from phb import formatting as fmt
from phb.facts import facts, site_names
from phb.filters import parse_filters
from phb.queries import run_query
from phb.warehouse import WarehouseInfo, connect

TABLE_LABELS = {"people": "People", "spend": "Spending lines", "admissions": "Admissions"}
HEADLINES = (
    ("referred", "People referred", fmt.count),
    ("budgets_in_place", "Budgets in place at the end of the data", fmt.count),
    ("budgets_at_pilot_end", "Budgets in place at pilot end", fmt.count),
    ("spend_gbp", "Total spending", fmt.money),
    ("emergency_admissions_pre", "Emergency admissions of budget holders, 12 months before", fmt.count),
    ("emergency_admissions_post", "Emergency admissions of budget holders, 12 months after", fmt.count),
)
PER_SITE = (
    ("budgets_in_place", "Budgets in place", fmt.count),
    ("spend_gbp", "Spending", fmt.money),
    ("emergency_admissions_post", "Emergency admissions after budgets started", fmt.count),
)


@dataclass(frozen=True)
class Changes:
    rows: pd.DataFrame  # Site, Table, Added, Removed (published)
    outcomes: pd.DataFrame  # Site, People whose outcome changed (published)
    sites: pd.DataFrame  # Site, Figure, Before, After (published)
    headline: pd.DataFrame  # Figure, Before, After (published)


def _shown(frame: pd.DataFrame) -> str:
    """The count of the rows in `frame`, as shown, keyed by their record keys."""
    return fmt.count(disclosure.count(len(frame), int(frame["record_key"].sum()) % 256))


def _everything(warehouse: Path, info: WarehouseInfo) -> dict:
    with connect(warehouse) as con:
        names = site_names(con)
    filters, _ = parse_filters(
        sites=None,
        date_from=None,
        date_to=None,
        management=None,
        site_names=names,
        period=(info.period_start, info.period_end),
    )
    return facts(warehouse, info, filters)


def compare(old: Path, old_info: WarehouseInfo, new: Path, new_info: WarehouseInfo) -> Changes:
    """The changes from the published warehouse `old` to the checked upload's warehouse `new`."""
    with connect(old) as con:
        before = run_query(con, "row_ids")
        old_names = site_names(con)
    with connect(new) as con:
        after = run_query(con, "row_ids")
        new_names = site_names(con)
    names = {**old_names, **new_names}
    codes = sorted(names)

    rows = []
    for table, label in TABLE_LABELS.items():
        b = before[before["tbl"] == table]
        a = after[after["tbl"] == table]
        added = a[~a["row_id"].isin(b["row_id"])]
        removed = b[~b["row_id"].isin(a["row_id"])]
        for code in codes:
            rows.append(
                {
                    "Site": names[code],
                    "Table": label,
                    "Added": _shown(added[added["site_code"] == code]),
                    "Removed": _shown(removed[removed["site_code"] == code]),
                }
            )
    rows_frame = disclosure.publish(
        pd.DataFrame(rows), {"Site": "label", "Table": "label", "Added": "count", "Removed": "count"}
    )

    people_b = before[before["tbl"] == "people"][["row_id", "outcome"]]
    people_a = after[after["tbl"] == "people"]
    joined = people_a.merge(people_b, on="row_id", suffixes=("", "_before"))
    changed = joined[joined["outcome"] != joined["outcome_before"]]
    outcomes = pd.DataFrame(
        [{"Site": names[c], "People whose outcome changed": _shown(changed[changed["site_code"] == c])} for c in codes]
    )
    outcomes = disclosure.publish(outcomes, {"Site": "label", "People whose outcome changed": "count"})

    facts_before, facts_after = _everything(old, old_info), _everything(new, new_info)
    per_site = []
    for code in codes:
        fb = facts_before["sites"].get(code, {})
        fa = facts_after["sites"].get(code, {})
        for key, label, show in PER_SITE:
            per_site.append(
                {
                    "Site": names[code],
                    "Figure": label,
                    "Before": show(fb.get(key)) if fb else "–",
                    "After": show(fa.get(key)) if fa else "–",
                }
            )
    sites_frame = disclosure.publish(
        pd.DataFrame(per_site), {"Site": "label", "Figure": "label", "Before": "figure", "After": "figure"}
    )
    headline = pd.DataFrame(
        [
            {
                "Figure": label,
                "Before": show(facts_before["all_sites"].get(key)),
                "After": show(facts_after["all_sites"].get(key)),
            }
            for key, label, show in HEADLINES
        ]
    )
    headline = disclosure.publish(headline, {"Figure": "label", "Before": "figure", "After": "figure"})
    return Changes(rows_frame, outcomes, sites_frame, headline)
