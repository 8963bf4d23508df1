"""Data quality by site, in the terms of NHS England's Data Quality Maturity Index: coverage,
completeness, validity and default values, with timeliness and volume by month beside them.

Every figure is worked out from counts as shown (`disclosure.count`), never from the raw counts:
shares are `disclosure.percent` of two shown counts (never over 100%), and a month is marked unusual from its shown
count. Coverage counts calendar months, and timeliness is the latest month with data (never one
person's date).

- **Coverage**: months from the site's go-live to its pilot end (or the end of the data, if earlier)
  with at least one row, out of all those months.
- **Completeness**: the share of rows with a value, for columns the contract lets be blank but
  expects (deprivation quintile, date offered for people on the budget pathway, admission cost).
- **Validity**: the share of rows passing every rule of the contract. A version that builds has
  passed them all (the build refuses any row that breaks one), so it is 100% for every version shown
  here. For an upload that fails, `upload_validity` gives it by site and table: the rows of people,
  spending lines and admissions its report names, against all the rows of each site (a spending line
  or admission takes its person's site), as shown counts.
- **Default values**: the share of rows holding a placeholder: sex or ethnicity not stated (or
  ethnicity 'other'), deprivation missing, primary need 'other', spending category 'other',
  admission method 'other'.
- **Timeliness**: the latest month with data in each table, and how many months it is behind the
  end of the data period.
- **Volume by month**: rows per month; a month is marked unusual when it has no rows between the
  site's first and last month with data, or when its shown count is under half or over twice the
  median of the shown counts of the 3 months either side (at least 4 of them shown as numbers), or
  when the data ends part way through it.
- **Late or incomplete**: a site whose spending or admissions end LATE_MONTHS or more months before
  the earlier of its pilot end and the end of the data gets a note on every page.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from phb import contract, disclosure
from phb import formatting as fmt
from phb.extract import extract_files, load_raw
from phb.queries import run_query

LATE_MONTHS = 3
TABLE_WORDS = {"people": "referrals", "spend": "spending", "admissions": "admissions"}
TABLE_LABELS = {"people": "People (referrals)", "spend": "Spending lines", "admissions": "Admissions"}
FIELD_WORDS = {
    ("imd_quintile", "filled"): "Deprivation quintile given",
    ("offered_on", "filled"): "Date offered given (people on the budget pathway)",
    ("cost_gbp", "filled"): "Admission cost given",
    ("sex", "default"): "Sex not stated",
    ("ethnicity", "default"): "Ethnicity not stated or 'other'",
    ("imd_quintile", "default"): "Deprivation missing",
    ("primary_need", "default"): "Primary need 'other'",
    ("category", "default"): "Spending category 'other'",
    ("admission_method", "default"): "Admission method 'other'",
}


def months_between(first: date, last: date) -> int:
    """Calendar months from the month of `first` to the month of `last`, both counted."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _month(value) -> date:
    return pd.Timestamp(value).date().replace(day=1)


@dataclass(frozen=True)
class Quality:
    timeliness: (
        pd.DataFrame
    )  # published: Site, Table, Months with data, Months expected, Coverage, Latest month, Months behind
    fields: pd.DataFrame  # published: Site, Table, Measure, Share
    volume: pd.DataFrame  # raw-free: site_code, tbl, month, shown (count as shown), unusual (bool)
    unusual: pd.DataFrame  # published: Site, Table, Month, Rows, Why
    notes: list[tuple[str, str]]  # (site code, the plain note for pages that show the site)
    names: dict[str, str]  # site code to name


def _shown(n, ckey):
    return disclosure.count(int(n), int(ckey))


def _share(hits, base):
    """A share worked out from two shown counts, never over 100% (each count is perturbed on its own)."""
    value = disclosure.percent(hits, base)
    return min(value, 100.0) if isinstance(value, int | float) else value


def volume(con, period_end: date) -> pd.DataFrame:
    """Rows per site, table and month as shown, with every month between a site's first and last month
    present (0 where there are none), and why a month is unusual (blank when it is not)."""
    raw = run_query(con, "monthly_volume")
    part_month = period_end.replace(day=1) if period_end != month_end(period_end) else None
    out = []
    for (code, tbl), group in raw.groupby(["site_code", "tbl"], sort=True):
        months = {_month(m): _shown(n, k) for m, n, k in zip(group["month"], group["n"], group["n_ckey"])}
        first, last = min(months), max(months)
        series, month = [], first
        while month <= last:
            series.append((month, months.get(month, 0)))
            month = _next(month)
        for i, (month, value) in enumerate(series):
            around = [v for _, v in series[max(0, i - 3) : i] + series[i + 1 : i + 4] if isinstance(v, int) and v > 0]
            median = statistics.median(around) if len(around) >= 4 else None
            why = ""
            if month == part_month:
                why = f"part of a month: the data ends on {fmt.day(period_end)}"
            elif value == 0:
                why = "no rows"
            elif median is not None and isinstance(value, int) and value < median / 2:
                why = "under half the median of the 3 months either side"
            elif median is not None and isinstance(value, int) and value > 2 * median:
                why = "over twice the median of the 3 months either side"
            out.append({"site_code": code, "tbl": tbl, "month": month, "shown": value, "why": why})
    return pd.DataFrame(out, columns=["site_code", "tbl", "month", "shown", "why"])


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_end(day: date) -> date:
    return _next(day.replace(day=1)) - pd.Timedelta(days=1).to_pytimedelta()


def assess(con, period_end: date, names: dict[str, str]) -> Quality:
    """Data quality by site for the warehouse `con`, whose data ends on `period_end`."""
    sites = run_query(con, "sites").set_index("site_code")
    vol = volume(con, period_end)
    rows, notes = [], []
    end_month = period_end.replace(day=1)
    # each site's and table's months, split once (filtering all of them for each of 42 sites and 3 tables
    # was a third of the Data page's time at a million people)
    by_site_table = {key: part for key, part in vol.groupby(["site_code", "tbl"], sort=False)}
    for code in sites.index:
        go_live = pd.Timestamp(sites.loc[code, "go_live"]).date()
        pilot_end = pd.Timestamp(sites.loc[code, "pilot_end"]).date()
        window_end = min(pilot_end, period_end)
        expected = months_between(go_live, window_end) if window_end >= go_live else 0
        for tbl, label in TABLE_LABELS.items():
            v = by_site_table.get((code, tbl), vol.iloc[:0])
            with_data = v[v["shown"] != 0]
            inside = with_data[(with_data["month"] >= go_live.replace(day=1)) & (with_data["month"] <= window_end)]
            latest = max(with_data["month"]) if len(with_data) else None
            behind = months_between(latest, end_month) - 1 if latest else None
            rows.append(
                {
                    "Site": names.get(code, code),
                    "Table": label,
                    "Months with data": f"{len(inside)} of {expected}",
                    "Coverage": disclosure.percent(len(inside), expected) if expected else None,
                    "Latest month": latest.strftime("%B %Y") if latest else "none",
                    "Months behind the end of the data": behind if behind is not None else "–",
                }
            )
            if tbl in ("spend", "admissions"):
                due = window_end.replace(day=1)
                if latest is None or months_between(latest, due) - 1 >= LATE_MONTHS:
                    name = names.get(code, code)
                    if latest is None:
                        notes.append((code, f"{name} has no {TABLE_WORDS[tbl]} in the extract: figures undercount it."))
                    else:
                        verb = "ends" if tbl == "spend" else "end"
                        notes.append(
                            (
                                code,
                                f"{name}'s {TABLE_WORDS[tbl]} {verb} in {latest:%B %Y}: later figures undercount it.",
                            )
                        )
    timeliness = disclosure.publish(
        pd.DataFrame(rows),
        {
            "Site": "label",
            "Table": "label",
            "Months with data": "label",
            "Coverage": "pct",
            "Latest month": "label",
            "Months behind the end of the data": "label",
        },
    )
    fq = run_query(con, "field_quality")
    field_rows = []
    for r in fq.itertuples(index=False):
        hits, base = _shown(r.hits, r.hits_ckey), _shown(r.base, r.base_ckey)
        field_rows.append(
            {
                "Site": names.get(r.site_code, r.site_code),
                "Table": TABLE_LABELS[r.tbl],
                "Measure": FIELD_WORDS[(r.field, r.measure)],
                "Kind": "Completeness" if r.measure == "filled" else "Default values",
                "Share": _share(hits, base),
                "Of rows": fmt.count(base),
            }
        )
    fields = disclosure.publish(
        pd.DataFrame(field_rows),
        {"Site": "label", "Table": "label", "Kind": "label", "Measure": "label", "Share": "pct", "Of rows": "count"},
    )
    odd = vol[vol["why"] != ""]
    unusual = pd.DataFrame(
        {
            "Site": [names.get(c, c) for c in odd["site_code"]],
            "Table": [TABLE_LABELS[t] for t in odd["tbl"]],
            "Month": [m.strftime("%B %Y") for m in odd["month"]],
            "Rows": [fmt.count(v) for v in odd["shown"]],
            "Why": list(odd["why"]),
        }
    )
    unusual = disclosure.publish(
        unusual, {"Site": "label", "Table": "label", "Month": "label", "Rows": "count", "Why": "label"}
    )
    return Quality(timeliness, fields, vol, unusual, notes, names)


def late_notes(con, period_end: date, names: dict[str, str], sites=None) -> list[str]:
    """The notes for sites whose spending or admissions are late or missing, for the sites chosen
    (all when `sites` is empty)."""
    chosen = set(sites or names)
    return [text for code, text in assess(con, period_end, names).notes if code in chosen]


def volume_frame(vol: pd.DataFrame, tbl: str, names: dict[str, str]) -> pd.DataFrame:
    """One table's rows per month for the volume chart: site, month, the count as shown (blank where
    withheld), its words, and why the month is unusual (blank when it is not)."""
    part = vol[vol["tbl"] == tbl]
    return pd.DataFrame(
        {
            "site": [names.get(c, c) for c in part["site_code"]],
            "month": [m.isoformat() for m in part["month"]],
            "count": [None if v == disclosure.SUPPRESSED else v for v in part["shown"]],
            "label": [fmt.count(v) for v in part["shown"]],
            "note": list(part["why"]),
        }
    )


NO_SITE = "No site (person not in the people file)"


def upload_validity(folder: Path, problems: list[contract.Problem], secret: str) -> pd.DataFrame | None:
    """Validity by site of an extract that failed its check: for each site and each person-level table,
    its rows, those named by at least one problem of the report, and the share passing every rule, from
    counts as shown (the same cell keys as the build: people and spending lines by the person,
    admissions by their own id). A table whose file could not be read at all (a missing column, another
    encoding) is listed as not read. None when the tables cannot be found in the folder at all."""
    try:
        files = extract_files(folder)
    except contract.ContractError:
        return None
    unreadable = {p.table for p in problems if p.table and not p.rows}
    broken: set[tuple[str, int]] = {(p.table, row) for p in problems if p.table for row, _ in p.rows}
    with duckdb.connect() as con:
        for table in ("sites", *TABLE_LABELS):
            if table in unreadable or load_raw(con, table, *files[table]):
                unreadable.add(table)  # counted as no rows, and a person-level table listed as not read
                columns = ", ".join(f"{contract.ident(c.name)} varchar" for c in contract.TABLES[table])
                con.execute(f"create or replace table {contract.ident('raw_' + table)} (_row integer, {columns})")
        rows = run_query(con, "upload_rows_by_site", perturbation_key=secret)
    names = dict(zip(rows["site_code"], rows["site_name"], strict=True))
    rows["bad"] = [(t, r) in broken for t, r in zip(rows["tbl"], rows["_row"], strict=True)]
    out = []
    rows["order"] = rows["tbl"].map(list(TABLE_LABELS).index)
    for (site, _, tbl), group in rows.groupby([rows["site_code"].fillna(""), "order", "tbl"], sort=True):
        good = group[~group["bad"]]
        all_rows = _shown(len(group), group["record_key"].sum() % 256)
        bad_rows = _shown(int(group["bad"].sum()), group.loc[group["bad"], "record_key"].sum() % 256)
        out.append(
            {
                "Site": (f"{names[site]} ({site})" if names.get(site) else site) if site else NO_SITE,
                "Table": TABLE_LABELS[tbl],
                "Rows": all_rows,
                "Rows breaking a rule": bad_rows,
                "Share valid (%)": _share(_shown(len(good), good["record_key"].sum() % 256), all_rows),
            }
        )
    for tbl in (t for t in TABLE_LABELS if t in unreadable):
        out.append(
            {
                "Site": "Not known: the file could not be read",
                "Table": TABLE_LABELS[tbl],
                "Rows": None,
                "Rows breaking a rule": None,
                "Share valid (%)": None,
            }
        )
    frame = pd.DataFrame(out, columns=["Site", "Table", "Rows", "Rows breaking a rule", "Share valid (%)"])
    frame["Table"] = frame["Table"].astype(object)
    return disclosure.publish(
        frame,
        {"Site": "label", "Table": "label", "Rows": "count", "Rows breaking a rule": "count", "Share valid (%)": "pct"},
    )
