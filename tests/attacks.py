"""The adversary's tools for tests/test_attacks.py (issue 10).

An outsider's view of one extract (`Surface`: `python -m phb facts` run in-process and the pages as
Streamlit runs them, each question asked once and remembered), the truth worked out independently
from the extract files with pandas and the data contract's definitions (`Truth`), and the attacks'
arithmetic: what true counts could lie behind a shown one under a known rule (`preimage`) and
interval constraint propagation over many shown sums (`propagate`).

Nothing here imports the code under attack except the public entry points an outsider uses
(`phb.cli.main` and the app through AppTest) and the published interval method (`phb.stats.count_ci`).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from tests.conftest import element_nodes

OPTIONS = ("direct_payment", "notional", "third_party")
BIG = 10**7

# ---------------------------------------------------------------------------------------------
# Shown values


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def withheld(value) -> bool:
    """A figure shown as withheld: `*` or any words in its place (e.g. "fewer than 8")."""
    return isinstance(value, str) or (isinstance(value, float) and math.isnan(value))


def leaf(block: dict, path: str):
    """A figure from a facts block by dotted path; None where the block has no such figure."""
    value = block
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


# The rules the attacker assumes: the old one (round to the nearest 5, 1 to 7 withheld) and the new
# one (cell key perturbation: noise -2..+2, then round to 5, never below 10; 1 to 7 withheld).
MODELS = ("round5", "ckey")


def published_rule() -> str:
    """The count rule the footer of every page and export states (the attacker reads it): cell key
    perturbation where it says so, else rounding to the nearest 5."""
    from phb import disclosure

    text = " ".join(str(getattr(disclosure, name, "")) for name in ("METHOD", "NOTE")).lower()
    return "ckey" if "perturbation" in text else "round5"


def resolution(values) -> float:
    """The finest unit the shown figures of one kind carry: the largest of 1000, 500, 100, 50, 10, 5, 1
    that divides every non-zero one, or 0.01 where any has pence. A difference of two such figures
    can be claimed to within GBP 1 or 1 day only when this is 1 or finer."""
    shown = [abs(float(v)) for v in values if is_number(v) and v != 0]
    if not shown:
        return 0.0
    if any(abs(v - round(v)) > 1e-9 for v in shown):
        return 0.01
    for unit in (1000, 500, 100, 50, 10, 5):
        if all(round(v) % unit == 0 for v in shown):
            return float(unit)
    return 1.0


def preimage(value, model: str) -> tuple[int, int] | None:
    """The true counts that could lie behind a shown count under a rule, as an interval."""
    if value is None:
        return None
    if withheld(value):
        return (1, 7)
    if not is_number(value):
        return None
    v = int(round(value))
    if v == 0:
        return (0, 0)
    spread = 2 if model == "round5" else 4
    return (max(8, v - spread), v + spread)


def propagate(constraints: list[tuple[tuple, int, int]], rounds: int = 60) -> dict | None:
    """Interval constraint propagation: each constraint says the sum of its atoms lies in [lo, hi];
    atoms are whole numbers of 0 or more. Returns each atom's interval, or None when the shown
    figures contradict the assumed rule."""
    bounds: dict = {}
    for atoms, _, _ in constraints:
        for a in atoms:
            bounds.setdefault(a, [0, BIG])
    for _ in range(rounds):
        changed = False
        for atoms, lo, hi in constraints:
            s_lo = sum(bounds[a][0] for a in atoms)
            s_hi = sum(bounds[a][1] for a in atoms)
            if s_lo > hi or s_hi < lo:
                return None
            for a in atoms:
                b = bounds[a]
                new_lo = max(b[0], lo - (s_hi - b[1]))
                new_hi = min(b[1], hi - (s_lo - b[0]))
                if new_lo > new_hi:
                    return None
                if (new_lo, new_hi) != (b[0], b[1]):
                    s_lo += new_lo - b[0]
                    s_hi += new_hi - b[1]
                    b[0], b[1] = new_lo, new_hi
                    changed = True
        if not changed:
            break
    return bounds


def pinned_sums(constraints, bounds) -> dict:
    """Every atom and every observed set whose value the propagation pins to one number."""
    out = {}
    for a, (lo, hi) in bounds.items():
        if lo == hi:
            out[(a,)] = lo
    for atoms, lo, hi in constraints:
        s_lo = max(lo, sum(bounds[a][0] for a in atoms))
        s_hi = min(hi, sum(bounds[a][1] for a in atoms))
        if s_lo == s_hi:
            out[tuple(sorted(atoms, key=str))] = s_lo
    return out


# ---------------------------------------------------------------------------------------------
# Months


def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end(d: date) -> date:
    nxt = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


def add_months(d: date, k: int) -> date:
    y, m = divmod(d.month - 1 + k, 12)
    return date(d.year + y, m + 1, 1)


# ---------------------------------------------------------------------------------------------
# The outsider's surfaces


@dataclass(frozen=True)
class Selection:
    """One question: sites (None for all), a period and management options (None for all)."""

    sites: tuple[str, ...] | None = None
    date_from: date | None = None
    date_to: date | None = None
    management: tuple[str, ...] | None = None

    def args(self) -> list[str]:
        out = ["facts"]
        if self.sites:
            out += ["--sites", ",".join(self.sites)]
        if self.date_from:
            out += ["--from", self.date_from.isoformat()]
        if self.date_to:
            out += ["--to", self.date_to.isoformat()]
        if self.management:
            out += ["--management", ",".join(self.management)]
        return out

    def query(self) -> dict:
        out: dict = {}
        if self.sites:
            out["site"] = list(self.sites)
        if self.date_from:
            out["from"] = self.date_from.isoformat()
        if self.date_to:
            out["to"] = self.date_to.isoformat()
        if self.management:
            out["management"] = list(self.management)
        return out

    def describe(self) -> str:
        return " ".join(self.args()[1:]) or "(everything)"


@contextlib.contextmanager
def _env(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _navigation_not_pages_folder():
    """As conftest's fixture: run the app with st.navigation, not the pages/ folder."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init
    try:
        yield
    finally:
        PagesManager.__init__ = original


@dataclass
class PageView:
    """What a page sends the browser: every chart's data sets and every table."""

    datasets: list[tuple[str, pd.DataFrame]]  # (chart title, data set)
    tables: list[pd.DataFrame]


@dataclass
class Surface:
    """The public surfaces over one extract, each question answered once."""

    data_dir: Path
    warehouse: Path
    app: Path
    _facts: dict = field(default_factory=dict)
    _pages: dict = field(default_factory=dict)

    def facts(self, sel: Selection) -> dict | None:
        if sel not in self._facts:
            from phb import cli

            out = io.StringIO()
            err = io.StringIO()
            with _env(PHB_DATA=self.data_dir, PHB_WAREHOUSE=self.warehouse):
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    code = cli.main(sel.args())
            # a refused question (exit code 2, the problem named) answers nothing: None
            assert code in (0, 2), (sel.describe(), err.getvalue())
            self._facts[sel] = json.loads(out.getvalue()) if code == 0 else None
        return self._facts[sel]

    def page(self, page: str, sel: Selection) -> PageView:
        key = (page, sel)
        if key not in self._pages:
            import pyarrow as pa
            from streamlit.testing.v1 import AppTest

            at = AppTest.from_file(str(self.app), default_timeout=90)
            for k, v in sel.query().items():
                at.query_params[k] = v
            with _env(PHB_DATA=self.data_dir, PHB_WAREHOUSE=self.warehouse), _navigation_not_pages_folder():
                at.run()
                if page != "pages/overview.py":
                    at.switch_page(page).run()
            assert not at.exception, (page, sel.describe(), at.exception)
            datasets = []
            for node in element_nodes(at._tree):
                if getattr(node, "type", "") != "vega_lite_chart":
                    continue
                spec = json.loads(node.proto.spec)
                title = spec.get("title")
                title = title.get("text") if isinstance(title, dict) else title
                title = " ".join(title) if isinstance(title, list) else str(title)
                for rows in spec.get("datasets", {}).values():
                    datasets.append((title, pd.DataFrame(rows)))
                for ds in node.proto.datasets:
                    if ds.data.data:
                        datasets.append((title, pa.ipc.open_stream(ds.data.data).read_all().to_pandas()))
            self._pages[key] = PageView(datasets, [d.value for d in at.dataframe])
        return self._pages[key]


# ---------------------------------------------------------------------------------------------
# The truth, from the extract files


class Truth:
    """The extract read with pandas, and the contract's definitions worked out over it."""

    def __init__(self, data_dir: Path):
        def read(name, dates=()):
            return pd.read_csv(data_dir / f"{name}.csv", parse_dates=list(dates), dtype={"site_code": str})

        self.sites = read("sites", ["go_live", "pilot_end"])
        people = read(
            "people", ["referred_on", "offered_on", "plan_agreed_on", "budget_start", "budget_end", "index_date"]
        )
        self.people = people
        spend = read("spend", ["paid_on"]).merge(
            people[["person_id", "site_code", "management_option"]], on="person_id"
        )
        self.spend = spend
        adm = read("admissions", ["admitted_on", "discharged_on"])
        dates = pd.concat(
            [
                people["referred_on"],
                people["budget_start"],
                spend["paid_on"],
                adm["admitted_on"],
                adm["discharged_on"],
            ]
        ).dropna()
        self.start, self.end = dates.min().date(), dates.max().date()
        adm = adm.merge(people, on="person_id")
        adm["grp"] = "other"
        adm.loc[adm["arm"] == "comparison", "grp"] = "Comparison group"
        adm.loc[adm["outcome"] == "budget_in_place", "grp"] = "Budget holders"
        adm["bed_days"] = (adm["discharged_on"].fillna(pd.Timestamp(self.end)) - adm["admitted_on"]).dt.days
        unit = adm["setting"].map({"mental_health": 334.0, "general_acute": 400.0})  # config.DEFAULT_UNIT_COSTS_GBP
        adm["cost"] = adm["cost_gbp"].fillna(adm["bed_days"] * unit)
        idx = adm["index_date"]
        pre = (adm["admitted_on"] >= idx - pd.DateOffset(months=12)) & (adm["admitted_on"] < idx)
        post = (adm["admitted_on"] >= idx) & (adm["admitted_on"] < idx + pd.DateOffset(months=12))
        adm["window"] = None
        adm.loc[pre, "window"] = "Year before"
        adm.loc[post, "window"] = "Year after"
        adm["setting_name"] = adm["setting"].map({"mental_health": "Mental health", "general_acute": "General acute"})
        self.admissions = adm[adm["grp"].isin(["Budget holders", "Comparison group"]) & adm["window"].notna()]
        self.site_codes = sorted(self.sites["site_code"])
        self._counts: dict = {}

    # -- the period a selection covers
    def period(self, sel: Selection) -> tuple[pd.Timestamp, pd.Timestamp]:
        return pd.Timestamp(sel.date_from or self.start), pd.Timestamp(sel.date_to or self.end)

    def _sites(self, sel: Selection, site: str | None):
        chosen = set(sel.sites or self.site_codes)
        return chosen & {site} if site else chosen

    # -- money
    def spend_lines(self, sel: Selection, site: str | None = None) -> pd.DataFrame:
        d0, d1 = self.period(sel)
        s = self.spend
        keep = s["paid_on"].between(d0, d1) & s["site_code"].isin(self._sites(sel, site))
        if sel.management:
            keep &= s["management_option"].isin(sel.management)
        return s[keep]

    def stays(self, sel: Selection) -> pd.DataFrame:
        d0, d1 = self.period(sel)
        a = self.admissions
        keep = a["index_date"].between(d0, d1) & a["site_code"].isin(self._sites(sel, None))
        if sel.management:
            keep &= (a["grp"] == "Comparison group") | a["management_option"].isin(sel.management)
        return a[keep]

    def holder_spend(self, sel: Selection, site: str | None = None) -> pd.Series:
        """Each holder's net spending paid in the period (0 for none): holders in place at some time in it."""
        d0, d1 = self.period(sel)
        p = self.people
        keep = (p["outcome"] == "budget_in_place") & p["site_code"].isin(self._sites(sel, site))
        if sel.management:
            keep &= p["management_option"].isin(sel.management)
        p = p[keep]
        last = (p["budget_end"] - pd.Timedelta(days=1)).fillna(pd.Timestamp(self.end)).clip(upper=d1)
        first = p["budget_start"].clip(lower=d0)
        p = p[last >= first]
        net = self.spend_lines(sel, site).groupby("person_id")["amount_gbp"].sum()
        return p["person_id"].map(net).fillna(0.0).round(2)

    # -- counts, by the contract's definitions and the pages' own words
    def count(self, path: str, sel: Selection, site: str | None = None) -> int | None:
        key = (path, sel, site)
        if key not in self._counts:
            self._counts[key] = self._count(path, sel, site)
        return self._counts[key]

    def _count(self, path: str, sel: Selection, site: str | None) -> int | None:
        d0, d1 = self.period(sel)
        p = self.people[self.people["site_code"].isin(self._sites(sel, site))]
        phb = p[p["arm"] == "phb"]
        holders = p[p["outcome"] == "budget_in_place"]
        if sel.management:
            holders = holders[holders["management_option"].isin(sel.management)]
        if path == "referred":
            return int(phb["referred_on"].between(d0, d1).sum())
        if path == "offered":
            return int(phb["offered_on"].between(d0, d1).sum())
        if path in ("budgets_in_place", "budgets_at_pilot_end"):
            on = pd.Series(d1, index=holders.index)
            if path == "budgets_at_pilot_end":
                pilot_end = holders["site_code"].map(self.sites.set_index("site_code")["pilot_end"])
                on = pilot_end.where(pilot_end < d1, d1)
            ended = holders["budget_end"].notna() & (holders["budget_end"] <= on)
            return int(((holders["budget_start"] <= on) & ~ended).sum())
        if path.startswith("management.") and path.endswith(".budgets"):
            option = path.split(".")[1]
            h = holders[holders["management_option"] == option]
            return int(h["budget_start"].between(d0, d1).sum())
        if path.startswith("pathway."):
            step = path.split(".")[1]
            cohort = phb[phb["referred_on"].between(d0, d1)]
            started = cohort["budget_start"].notna() & (cohort["budget_start"] <= d1)
            steps = {
                "referred": pd.Series(True, index=cohort.index),
                "offered": cohort["offered_on"].notna() & (cohort["offered_on"] <= d1),
                "plan_agreed": cohort["plan_agreed_on"].notna() & (cohort["plan_agreed_on"] <= d1),
                "budget_in_place": started,
                "declined": ~started & (cohort["outcome"] == "declined"),
                "withdrawn": ~started & (cohort["outcome"] == "withdrawn"),
            }
            steps["in_planning"] = ~started & ~steps["declined"] & ~steps["withdrawn"]
            return int(steps[step].sum()) if step in steps else None
        return None


# The money figures in facts, and how each is worked out from a set of spending lines; the
# categories as the published data contract lists them (an outsider's source, not the code's).
CATEGORIES = tuple(
    re.findall(
        r"`(\w+)`",
        re.search(
            r"^Categories: (.+?)\n\n",
            (Path(__file__).resolve().parent.parent / "docs/DATA_CONTRACT.md").read_text(encoding="utf-8"),
            re.M | re.S,
        ).group(1),
    )
)


def money_paths() -> dict:
    """facts path -> (value of a set of lines, the people contributing)."""

    def net(lines):
        return float(lines["amount_gbp"].sum()), set(lines["person_id"])

    def refunds(lines):
        neg = lines[lines["amount_gbp"] < 0]
        return float(neg["amount_gbp"].sum()), set(neg["person_id"])

    def category(cat):
        def f(lines):
            return net(lines[lines["category"] == cat])

        return f

    out = {
        "spend_gbp": net,
        "refunds_gbp": refunds,
        "spending.total_gbp": net,
        "spending.refunds_gbp": refunds,
    }
    for cat in CATEGORIES:
        out[f"spending.by_category_gbp.{cat}"] = category(cat)
    return out


def blocks(facts: dict | None) -> dict:
    """A facts answer's blocks: None for all selected sites, else the site code (none if refused)."""
    if facts is None:
        return {}
    out = {None: facts.get("all_sites", {})}
    out.update(facts.get("sites", {}))
    return out
