"""The attack suite (issue 10): the reviewer's families of attack, played automatically through the
public surfaces only (`python -m phb facts`, the pages as Streamlit runs them and the data their
charts send the browser, which is what each chart's CSV export holds), on the bundled data (main
suite) and on a small generated extract (slow tier), and checked against the truth worked out independently from the
extract files (tests/attacks.py, pandas over the CSVs with the data contract's definitions).

An attack succeeds when it recovers, exactly, something the README's threat model says must never
be learnt: a count from 1 to 7, the exact count behind a shown one (pinned to one value), one or a
few people's spending, bed days or admission cost (to within GBP 1 or 1 day, where the shown figures
carry that precision: a difference of two figures rounded to GBP 100 that lands within GBP 1 of the
truth is luck the attacker cannot check), or a median or quartile that is one person's value to the
penny. Counts are solved under both the old rule (round to 5) and the new one (cell key
perturbation); a pin counts under the rule the footer states. Each test lists every success: surface,
selection, what was recovered and the truth.
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tests.attacks import (
    MODELS,
    OPTIONS,
    Selection,
    Surface,
    Truth,
    add_months,
    blocks,
    is_number,
    leaf,
    money_paths,
    month_end,
    preimage,
    propagate,
    published_rule,
    resolution,
    withheld,
)

ROOT = Path(__file__).resolve().parent.parent
SHOW = 30  # successes listed in a failure message


@dataclass
class World:
    name: str
    surface: Surface
    truth: Truth

    # the questions the attacker asks, each once
    @property
    def sites(self) -> list[str]:
        return self.truth.site_codes

    def base(self) -> Selection:
        return Selection()

    def leave_one_out(self) -> dict[str, Selection]:
        return {s: Selection(sites=tuple(c for c in self.sites if c != s)) for s in self.sites}

    def one_option(self) -> dict[str, Selection]:
        return {o: Selection(management=(o,)) for o in OPTIONS}

    def other_options(self) -> dict[str, Selection]:
        return {o: Selection(management=tuple(x for x in OPTIONS if x != o)) for o in OPTIONS}

    def months(self) -> list:
        """Six whole months from the month of the first referral: small counts, the attacker's target."""
        first = self.truth.people["referred_on"].min().date().replace(day=1)
        return [add_months(first, k) for k in range(6)]

    def windows(self) -> dict[tuple[int, int], Selection]:
        """Month windows i..j: every window of 1 or 2 months, and the first month to each later one."""
        m = self.months()
        spans = {(i, j) for i in range(6) for j in range(i, min(i + 2, 6))} | {(0, j) for j in range(6)}
        return {(i, j): Selection(date_from=m[i], date_to=month_end(m[j])) for i, j in sorted(spans)}

    def day_pair(self) -> tuple[Selection, Selection, str]:
        """A day on which one person alone was paid at a site: the period up to it and up to the day before."""
        lines = self.truth.spend.sort_values("paid_on")
        for (day, site), group in lines.groupby([lines["paid_on"].dt.date, "site_code"], sort=True):
            if 2 <= day.day <= 27 and group["person_id"].nunique() == 1:
                start = day.replace(day=1)
                return (
                    Selection(date_from=start, date_to=day),
                    Selection(date_from=start, date_to=day - pd.Timedelta(days=1)),
                    site,
                )
        raise AssertionError("no day with one payer")


@pytest.fixture(scope="session")
def generated_extract(tmp_path_factory) -> Path:
    """A small generated extract (scale 0.3, fixed seed): small cells everywhere."""
    from phb.generate import main

    out = tmp_path_factory.mktemp("generated")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["--out", str(out), "--seed", "11", "--scale", "0.3"]) == 0
    return out


@pytest.fixture(scope="session", params=["bundled", pytest.param("generated", marks=pytest.mark.slow)])
def world(request, tmp_path_factory) -> World:
    """Each attack on the bundled data (main suite) and on the small generated extract (slow tier, which CI
    also runs)."""
    data = ROOT / "data" if request.param == "bundled" else request.getfixturevalue("generated_extract")
    warehouse = tmp_path_factory.mktemp(f"attack-{request.param}") / "w.duckdb"
    return World(request.param, Surface(data, warehouse, ROOT / "app.py"), Truth(data))


def report(successes: list[str]) -> str:
    more = f"\n... and {len(successes) - SHOW} more" if len(successes) > SHOW else ""
    return f"{len(successes)} attacks succeeded:\n" + "\n".join(successes[:SHOW]) + more


# ---------------------------------------------------------------------------------------------
# Counts: interval constraint propagation over every shown figure of a family of questions

# counts that follow the site and period filters (and management, for holders)
COUNT_PATHS = [
    "referred",
    "offered",
    "budgets_in_place",
    "budgets_at_pilot_end",
    "pathway.referred",
    "pathway.offered",
    "pathway.plan_agreed",
    "pathway.budget_in_place",
    "pathway.declined",
    "pathway.withdrawn",
    "pathway.in_planning",
    *[f"management.{o}.budgets" for o in OPTIONS],
]
# counts that add up over months (people referred, offered or starting a budget in the window)
WINDOW_PATHS = [
    "referred",
    "offered",
    "pathway.referred",
    "pathway.declined",
    "pathway.withdrawn",
    *[f"management.{o}.budgets" for o in OPTIONS],
]
MANAGEMENT_PATHS = ["budgets_in_place", "budgets_at_pilot_end"]


def pins(observations, truth_of, model: str, label: str) -> list[str]:
    """Propagate every observation (atoms, shown value) under a rule; list the pins that hit the truth."""
    constraints = []
    for atoms, value, where in observations:
        bounds = preimage(value, model)
        if bounds is not None and atoms:
            constraints.append((tuple(atoms), *bounds, where))
    solved = propagate([c[:3] for c in constraints])
    if solved is None:
        return []
    out, seen = [], set()
    candidates = [((a,), f"cell {a}") for a in solved] + [(c[0], c[3]) for c in constraints]
    for atoms, where in candidates:
        key = tuple(sorted(atoms, key=str))
        if key in seen:
            continue
        seen.add(key)
        lo = max([sum(solved[a][0] for a in atoms), *(c[1] for c in constraints if c[0] == atoms)])
        hi = min([sum(solved[a][1] for a in atoms), *(c[2] for c in constraints if c[0] == atoms)])
        if lo == hi and lo >= 1:
            true = sum(truth_of(a) for a in atoms)
            if lo == true:
                out.append(f"{label} [{model}]: {where} pinned to {lo}, truth {true}")
    return out


def count_attacks(observations, truth_of, label: str) -> list[str]:
    """Pins under the rule the footer states. A pin under a rule the app does not use (the old
    rounding, once perturbation is stated) is a guess the attacker cannot check, so it is not a
    recovery; it is tried all the same and named in the failure message beside real ones."""
    rule = published_rule()
    real, guesses = [], []
    for model in MODELS:
        found = pins(observations, truth_of, model, label)
        (real if model == rule else guesses).extend(found)
    return real + ([f"(also, under a rule not stated: {g})" for g in guesses] if real else [])


def test_the_attacker_reads_the_figures_the_truth_predicts(world):
    """The attack's truth is right: every attacked figure is in facts and agrees with the extract
    within the published rule's noise (so no attack below passes by looking at the wrong thing)."""
    facts = world.surface.facts(world.base())
    wrong = []
    for code, block in blocks(facts).items():
        for path in COUNT_PATHS:
            shown, true = leaf(block, path), world.truth.count(path, world.base(), code)
            assert shown is not None, (world.name, code, path)
            ok = (
                (shown == 0 and true == 0)
                if shown == 0
                else (1 <= true <= 7 if withheld(shown) else abs(shown - true) <= 4)
            )
            if not ok:
                wrong.append(f"{code or 'all'} {path}: shown {shown}, truth {true}")
    total, _ = money_paths()["spend_gbp"](world.truth.spend_lines(world.base()))
    shown = facts["all_sites"]["spend_gbp"]
    assert is_number(shown) and abs(shown - total) <= 0.05 * abs(total), (shown, total)
    assert not wrong, wrong


def site_observations(world, path):
    obs = []
    for sel in [world.base(), *world.leave_one_out().values()]:
        for code, block in blocks(world.surface.facts(sel)).items():
            atoms = [code] if code else list(sel.sites or world.sites)
            obs.append((atoms, leaf(block, path), f"facts {sel.describe()} {code or 'all_sites'} {path}"))
    return obs


def test_differencing_site_selections_one_site_apart_pins_no_count(world):
    """All seven sites against each six (and each site alone, in the blocks): no count pinned."""
    found = []
    for path in COUNT_PATHS:
        obs = site_observations(world, path)
        found += count_attacks(obs, lambda s, p=path: world.truth.count(p, world.base(), s), f"{world.name} {path}")
    assert not found, report(found)


def test_differencing_management_options_pins_no_count(world):
    """Every management option against all of them, and all but one against all: no count pinned."""
    selections = [world.base(), *world.one_option().values(), *world.other_options().values()]
    found = []
    for path in MANAGEMENT_PATHS:
        obs = []
        for sel in selections:
            options = sel.management or OPTIONS
            for code, block in blocks(world.surface.facts(sel)).items():
                atoms = [(s, o) for s in ([code] if code else world.sites) for o in options]
                obs.append((atoms, leaf(block, path), f"facts {sel.describe()} {code or 'all_sites'} {path}"))

        def true(atom, p=path):
            return world.truth.count(p, Selection(management=(atom[1],)), atom[0])

        found += count_attacks(obs, true, f"{world.name} {path}")
    assert not found, report(found)


def test_sliding_month_windows_pin_no_count(world):
    """Many overlapping whole-month windows (1 or 2 months, and growing from the first month),
    solved together by interval constraint propagation: no count in a month or window pinned."""
    months = world.months()
    found = []
    for path in WINDOW_PATHS:
        obs = []
        for (i, j), sel in world.windows().items():
            for code, block in blocks(world.surface.facts(sel)).items():
                atoms = [(s, k) for s in ([code] if code else world.sites) for k in range(i, j + 1)]
                obs.append((atoms, leaf(block, path), f"facts {sel.describe()} {code or 'all_sites'} {path}"))

        def true(atom, p=path):
            s, k = atom
            return world.truth.count(p, Selection(date_from=months[k], date_to=month_end(months[k])), s)

        found += count_attacks(obs, true, f"{world.name} {path}")
    assert not found, report(found)


# ---------------------------------------------------------------------------------------------
# Money: differences of two totals against the people they differ by


def money_differences(world, pairs) -> list[str]:
    """For each pair of selections (wider, narrower) and each block both answers share, every money
    figure's difference against the truth of the spending lines the two selections differ by."""
    found = []
    for wide, narrow in pairs:
        a, b = blocks(world.surface.facts(wide)), blocks(world.surface.facts(narrow))
        unit = resolution([leaf(x, p) for x in [*a.values(), *b.values()] for p in money_paths()])
        for code in set(a) & set(b):
            lines_a = world.truth.spend_lines(wide, code)
            lines_b = world.truth.spend_lines(narrow, code)
            diff = lines_a[~lines_a["spend_id"].isin(lines_b["spend_id"])]
            for path, measure in money_paths().items():
                va, vb = leaf(a[code], path), leaf(b[code], path)
                if not (is_number(va) and is_number(vb)):
                    continue
                true, people = measure(diff)
                if 1 <= len(people) <= 7 and abs((va - vb) - true) <= 1.0 and unit <= 1:
                    found.append(
                        f"{world.name} facts {code or 'all_sites'} {path}: ({wide.describe()}) minus "
                        f"({narrow.describe()}) = {va - vb:.2f}; truth {true:.2f} from {len(people)} people"
                    )
    return found


def test_differencing_site_selections_gives_no_few_peoples_money(world):
    pairs = [(world.base(), sel) for sel in world.leave_one_out().values()]
    found = money_differences(world, pairs)
    assert not found, report(found)


def test_differencing_management_options_gives_no_few_peoples_money(world):
    pairs = [(world.base(), sel) for sel in world.one_option().values()]
    pairs += [(world.base(), sel) for sel in world.other_options().values()]
    pairs += [(world.other_options()[o], world.one_option()[x]) for o in OPTIONS for x in OPTIONS if x != o]
    found = money_differences(world, pairs)
    assert not found, report(found)


def test_differencing_adjacent_periods_gives_no_few_peoples_money(world):
    """A window against the same window one month longer (at either end); and a day window against
    the day before, which the whole-month grid must refuse or snap to the same answer."""
    windows = world.windows()
    pairs = [
        (windows[w], windows[v])
        for w, v in itertools.permutations(windows, 2)
        if (w[0] == v[0] and w[1] == v[1] + 1) or (w[1] == v[1] and w[0] == v[0] - 1)
    ]
    longer, shorter, _ = world.day_pair()
    found = money_differences(world, pairs + [(longer, shorter)])
    assert not found, report(found)


def test_a_day_window_is_snapped_to_whole_months_or_refused(world):
    """The reviewer told 0 from * in one-day windows and subtracted periods a day apart. On the
    whole-month grid a period ending on a day and the same period ending the day before are the
    same question (both snap to the month) or are refused: every figure must agree."""
    longer, shorter, site = world.day_pair()
    a, b = world.surface.facts(longer), world.surface.facts(shorter)
    if a is None or b is None:
        return  # refused: nothing to subtract
    differ = [
        f"{world.name} facts {code or 'all_sites'} {path}: ({longer.describe()}) {leaf(a_block, path)} "
        f"against ({shorter.describe()}) {leaf(blocks(b).get(code, {}), path)}"
        for code, a_block in blocks(a).items()
        for path in [*COUNT_PATHS, *money_paths()]
        if leaf(a_block, path) != leaf(blocks(b).get(code, {}), path)
    ]
    assert not differ, report(differ)


# ---------------------------------------------------------------------------------------------
# Derived figures turned back into counts


PERCENTAGES = [  # (percentage, numerator, denominator)
    ("pathway.offered_pct_of_referred", "pathway.offered", "pathway.referred"),
    ("pathway.plan_agreed_pct_of_offered", "pathway.plan_agreed", "pathway.offered"),
    ("pathway.budget_in_place_pct_of_plan_agreed", "pathway.budget_in_place", "pathway.plan_agreed"),
    ("pathway.budget_pct_of_referred", "pathway.budget_in_place", "pathway.referred"),
    ("uptake_pct", "budgets_at_pilot_end", "eligible_population"),
    ("budgets_pct_of_plan", "budgets_at_pilot_end", "planned_budgets"),
]
PUBLIC = {"eligible_population", "planned_budgets"}  # from sites.csv, published


def places(value: float) -> int:
    text = repr(float(value))
    return 0 if text.endswith(".0") else len(text.split(".")[1])


def test_percentages_give_back_no_exact_count(world):
    """A percentage, with the shown numerator and denominator (or a public one: eligible population,
    planned budgets), must not pin the true numerator: candidates are every pair of true counts the
    shown counts allow whose percentage, to the published places, is the one shown."""
    found = []
    sels = [world.base(), *world.leave_one_out().values(), *world.windows().values()]
    sites = world.truth.sites.set_index("site_code")
    for sel in sels:
        for code, block in blocks(world.surface.facts(sel)).items():
            chosen = [code] if code else list(sel.sites or world.sites)
            for pct_path, num, den in PERCENTAGES:
                pct = leaf(block, pct_path)
                if not is_number(pct):
                    continue
                tol = 0.5 * 10 ** -places(pct) + 1e-9
                for model in MODELS:
                    nums = preimage(leaf(block, num), model)
                    if den in PUBLIC:
                        d = int(sites.loc[chosen, den].sum())
                        dens = (d, d)
                    else:
                        dens = preimage(leaf(block, den), model)
                    if nums is None or dens is None:
                        continue
                    hits = {
                        a
                        for a in range(nums[0], nums[1] + 1)
                        for b in range(max(dens[0], 1), dens[1] + 1)
                        if abs(100 * a / b - pct) <= tol
                    }
                    shown = leaf(block, num)
                    # a pin on the shown count itself says only what the shown count says
                    if len(hits) != 1 or (not withheld(shown) and shown in hits):
                        continue
                    true = world.truth.count(num, sel, code)
                    if true in hits and true >= 1:
                        found.append(
                            f"{world.name} facts {sel.describe()} {code or 'all_sites'} {pct_path}={pct} "
                            f"[{model}] pins {num} = {true} (shown {leaf(block, num)})"
                        )
    assert not found, report(found)


RATES = [(f"{g}_rate_{w}", f"{c}_{w}") for g, c in (("holders", "emergency_admissions"),
         ("comparison", "comparison_admissions")) for w in ("pre", "post")]  # fmt: skip


@functools.cache
def _upper(k: int) -> float:
    from phb.stats import count_ci

    return count_ci(k)[1]


def counts_behind_interval(rate: float, low: float, high: float, limit: int = 3000) -> set[int]:
    """The counts k whose Poisson interval (the published method, phb.stats.count_ci) has the shape
    of the shown one: high/rate and low/rate, to the places shown."""
    if not (rate and rate > 0):
        return set()
    tol_rate = 0.5 * 10 ** -places(rate)
    tol_high = 0.5 * 10 ** -places(high)
    out = set()
    for k in range(1, limit):
        hi_k = _upper(k)
        # the rate is k / exposure; the limits lo_k / exposure, hi_k / exposure, for some exposure
        exposure_lo, exposure_hi = k / (rate + tol_rate), k / max(rate - tol_rate, 1e-12)
        if hi_k / exposure_hi - tol_high <= high <= hi_k / exposure_lo + tol_high:
            out.add(k)
    return out


def test_rates_and_intervals_give_back_no_count_beyond_the_shown_one(world):
    """A rate and its interval, inverted with the published interval method, must allow every count
    the shown count allows: it must not single out a count the shown figure hides."""
    found = []
    for sel in [world.base(), *world.leave_one_out().values()]:
        for code, block in blocks(world.surface.facts(sel)).items():
            for rate_path, count_path in RATES:
                rate, ci, shown = leaf(block, rate_path), leaf(block, f"{rate_path}_ci"), leaf(block, count_path)
                if not (is_number(rate) and isinstance(ci, list) and all(map(is_number, ci))):
                    continue
                ks = counts_behind_interval(rate, *ci)
                allowed = preimage(shown, "ckey")
                if (
                    ks
                    and allowed
                    and not any(allowed[0] <= k <= allowed[1] for k in ks)
                    or (ks and len(ks) == 1 and withheld(shown))
                ):
                    found.append(
                        f"{world.name} facts {sel.describe()} {code or 'all_sites'} {rate_path}={rate} {ci}: "
                        f"counts {sorted(ks)[:5]} against shown {shown}"
                    )
    assert not found, report(found)


def test_medians_and_quartiles_are_not_one_persons_value(world):
    """No median or quartile of spending per holder is, to the penny, a value only one to four
    holders in that group have."""
    found = []
    sels = [world.base(), *world.leave_one_out().values(), *world.one_option().values()]
    for sel in sels:
        for code, block in blocks(world.surface.facts(sel)).items():
            values = world.truth.holder_spend(sel, code)
            counts = values.value_counts()
            for q in ("per_holder_median_gbp", "per_holder_q1_gbp", "per_holder_q3_gbp"):
                shown = leaf(block, f"spending.{q}")
                if not is_number(shown):
                    continue
                same = int(counts.get(round(shown, 2), 0))
                if 1 <= same <= 4:
                    found.append(
                        f"{world.name} facts {sel.describe()} {code or 'all_sites'} {q} = {shown}: "
                        f"the exact value of {same} holder(s) of {len(values)}"
                    )
    assert not found, report(found)


# ---------------------------------------------------------------------------------------------
# The pages: bed days and cost by differencing; chart data that gives counts back

BED_COLUMNS = {"bed_days": ("Bed days", "bed_days"), "cost": ("Cost", "cost_gbp")}


def bed_day_figures(view) -> dict[tuple[str, str, str, str], float]:
    """(surface, group, setting, window) -> bed days or cost, from the table and the chart data."""
    out = {}
    frames = [("table", t) for t in view.tables] + [("chart data", d) for _, d in view.datasets]
    for surface, frame in frames:
        cols = {c.lower(): c for c in frame.columns}
        if not {"group", "setting", "window"} <= set(cols):
            continue
        for measure, (table_col, data_col) in BED_COLUMNS.items():
            col = next((c for c in frame.columns if c == data_col or str(c).startswith(table_col)), None)
            if col is None:
                continue
            for _, row in frame.iterrows():
                value = row[col]
                if isinstance(value, str):
                    text = value.replace("£", "").replace(",", "").strip()
                    try:
                        value = float(text)
                    except ValueError:
                        continue
                if is_number(value):
                    key = (f"{surface} {measure}", row[cols["group"]], row[cols["setting"]], row[cols["window"]])
                    out[key] = float(value)
    return out


def bed_day_pairs(world) -> list[tuple[Selection, Selection]]:
    """The attacker's best pairs: all sites against all but the site with the fewest people in some
    group, setting and year; and the whole period against the same without its first month with an
    index date in it (the pilots' first budgets: few people)."""
    stays = world.truth.stays(world.base())
    per_site = stays.groupby(["site_code", "grp", "setting", "window"])["person_id"].nunique()
    site = per_site[per_site >= 1].idxmin()[0]
    pairs = [(world.base(), world.leave_one_out()[site])]
    # the base question starts at the data's first day: drop the first month with an index date
    first = stays["index_date"].min().to_period("M")
    pairs.append((world.base(), Selection(date_from=(first + 1).to_timestamp().date())))
    return pairs


def test_bed_days_and_admission_cost_do_not_come_back_by_differencing(world):
    """The Hospital admissions page's bed days and cost (table and chart data), for two site
    selections one site apart and two periods one month apart: the difference must not give one
    or a few people's bed days (to 1 day) or cost (to GBP 1)."""
    found = []
    for wide, narrow in bed_day_pairs(world):
        a = bed_day_figures(world.surface.page("pages/admissions.py", wide))
        b = bed_day_figures(world.surface.page("pages/admissions.py", narrow))
        units = {m: resolution([v for k, v in [*a.items(), *b.items()] if m in k[0]]) for m in BED_COLUMNS}
        stays_a, stays_b = world.truth.stays(wide), world.truth.stays(narrow)
        diff = stays_a[~stays_a["admission_id"].isin(stays_b["admission_id"])]
        for key in set(a) & set(b):
            surface, grp, setting, window = key
            cell = diff[(diff["grp"] == grp) & (diff["setting_name"] == setting) & (diff["window"] == window)]
            people = cell["person_id"].nunique()
            true = float(cell["bed_days" if "bed_days" in surface else "cost"].sum())
            fine = units["bed_days" if "bed_days" in surface else "cost"] <= 1
            if 1 <= people <= 7 and abs((a[key] - b[key]) - true) <= 1.0 and fine:
                found.append(
                    f"{world.name} admissions page {surface} {grp} / {setting} / {window}: "
                    f"({wide.describe()}) minus ({narrow.describe()}) = {a[key] - b[key]:.2f}; "
                    f"truth {true:.2f} from {people} people"
                )
    assert not found, report(found)


FORBIDDEN = {"expected", "exposure", "person_years", "person_days", "years", "z", "z_score", "zscore"}


def test_chart_data_gives_no_count_exposure_or_expected_count_back(world):
    """What the admissions and compare pages send the browser (and so each chart's CSV): no exposure,
    expected count or z-score; a funnel point whose count is withheld has no denominator beside its
    value (value x denominator is the count); rates and ratios to 2 places at most; a rate with its
    interval inverts only to counts the shown count allows."""
    found = []
    for page in ("pages/admissions.py", "pages/compare.py"):
        view = world.surface.page(page, world.base())
        for title, data in view.datasets:
            where = f"{world.name} {page} chart '{title[:60]}'"
            bad = FORBIDDEN & {str(c).lower() for c in data.columns}
            if bad:
                found.append(f"{where}: publishes {sorted(bad)}")
            if {"count", "denominator", "value"} <= set(data.columns):
                for _, row in data.iterrows():
                    if withheld(row["count"]) and is_number(row["denominator"]) and is_number(row["value"]):
                        found.append(
                            f"{where}: {row.get('site')} count withheld but value {row['value']} x "
                            f"denominator {row['denominator']} shown"
                        )
            for col in ("rate", "rate_ratio"):
                if col in data.columns:
                    values = [v for v in data[col] if is_number(v)]
                    many = [v for v in values if abs(v * 100 - round(v * 100)) > 1e-6]
                    if many:
                        found.append(f"{where}: {col} published to more than 2 places, e.g. {many[0]!r}")
            if {"rate", "high", "admissions"} <= set(data.columns):
                for _, row in data.iterrows():
                    if not (is_number(row["rate"]) and is_number(row["high"]) and is_number(row.get("low", 0))):
                        continue
                    ks = counts_behind_interval(row["rate"], row.get("low", 0), row["high"])
                    allowed = preimage(row["admissions"], "ckey")
                    if ks and allowed and not any(allowed[0] <= k <= allowed[1] for k in ks):
                        found.append(
                            f"{where}: rate {row['rate']} inverts to {sorted(ks)[:5]}, shown {row['admissions']}"
                        )
    assert not found, report(found)


def test_the_suite_asked_enough_questions(world):
    """Guard against a vacuous pass: the attacks above read real figures from every family."""
    assert len(world.windows()) >= 15
    base = world.surface.facts(world.base())
    assert len(blocks(base)) == len(world.sites) + 1
    assert math.isfinite(float(base["all_sites"]["spend_gbp"]))


# ---------------------------------------------------------------------------------------------
# The budget effect beside the shown counts (independent review, 23 Nov 2026)


def _raw_candidates(shown: int) -> list[int]:
    """Every unrounded count of 8 or more the published rule could show as `shown` (noise -2 to +2,
    round to 5, at least 10)."""

    def shows(n: int, d: int) -> int:
        return max(10, 5 * math.floor((n + d) / 5 + 0.5))

    return [n for n in range(8, shown + 10) if any(shows(n, d) == shown for d in range(-2, 3))]


def _did_truth(data_dir: Path, site: str, lo: date, hi: date) -> list[int]:
    """Emergency admissions in the year before and after the index date, for budget holders and the
    comparison group whose index date is in the period, from the extract files (contract definitions)."""
    people = pd.read_csv(data_dir / "people.csv", parse_dates=["index_date"])
    adm = pd.read_csv(data_dir / "admissions.csv", parse_dates=["admitted_on"])
    people = people[((people.outcome == "budget_in_place") | (people.arm == "comparison")) & people.index_date.notna()]
    people = people[(people.site_code == site) & people.index_date.between(pd.Timestamp(lo), pd.Timestamp(hi))]
    e = adm[adm.admission_method == "emergency"].merge(people[["person_id", "outcome", "index_date"]], on="person_id")
    year = pd.DateOffset(months=12)
    pre = (e.admitted_on >= e.index_date - year) & (e.admitted_on < e.index_date)
    post = (e.admitted_on >= e.index_date) & (e.admitted_on < e.index_date + year)
    h = e.outcome == "budget_in_place"
    return [int((h & pre).sum()), int((h & post).sum()), int((~h & pre).sum()), int((~h & post).sum())]


@pytest.mark.parametrize(
    "site, months",
    [("DOR", ("2015-04", "2015-07")), ("DOR", ("2015-04", "2015-06")), ("DEV", ("2015-01", "2015-06"))],
)
def test_the_budget_effect_pins_no_count_beside_the_shown_ones(tmp_path_factory, monkeypatch, site, months):
    """The review's attack: the admissions page shows the four before/after counts (perturbed and rounded),
    each group's change (whole percent) and the rate ratio (2 places). Every 4-tuple of unrounded counts the
    rule allows, kept where it reproduces the changes and the ratio (person-years after over before for
    12-month windows lie in [365/366, 1]), must leave each count more than one value. Worked out from the
    unrounded counts, DOR April to July 2015 pinned all four (25, 15, 51, 29) and, differenced with April
    to June, 7 and 5 admissions of 14 people."""
    lo = date.fromisoformat(months[0] + "-01")
    hi = month_end(date.fromisoformat(months[1] + "-01"))
    monkeypatch.setenv("PHB_PERTURBATION_KEY", "reviewkey")  # the reviewer's key, so their case is replayed
    surface = Surface(ROOT / "data", tmp_path_factory.mktemp("did") / "w.duckdb", ROOT / "app.py")
    view = surface.page("pages/admissions.py", Selection(sites=(site,), date_from=lo, date_to=hi))
    bars = next((d for _, d in view.datasets if {"measure", "change_pct"} <= set(d.columns)), None)
    rates = next(d for _, d in view.datasets if {"group", "window", "admissions", "rate"} <= set(d.columns))
    if bars is None:
        pytest.skip("no budget effect published for this selection")  # nothing to attack
    ratio = next(d for _, d in view.datasets if "rate_ratio" in d.columns)["rate_ratio"].dropna().iloc[0]
    rates = rates[rates["site"] == rates["site"].iloc[0]]

    def get(group, window):
        return int(rates[(rates["group"] == group) & (rates["window"] == window)]["admissions"].iloc[0])

    shown = [get(g, w) for g in ("Budget holders", "Comparison group") for w in ("Year before", "Year after")]
    holders_change, comparison_change = (int(v) for v in bars["change_pct"].iloc[:2])
    spans = [365 / 366 + k * (1 - 365 / 366) / 20 for k in range(21)]
    kept = [
        (a, b, c, d)
        for a, b, c, d in itertools.product(*(_raw_candidates(s) for s in shown))
        if any(
            abs(100 * (b / a * rh - 1) - holders_change) <= 0.5 + 1e-9
            and abs(100 * (d / c * rc - 1) - comparison_change) <= 0.5 + 1e-9
            and abs((b / a * rh) / (d / c * rc) - ratio) <= 0.005 + 1e-9
            for rh in spans
            for rc in spans
        )
    ]
    truth = _did_truth(ROOT / "data", site, lo, hi)
    pinned = [(i, {k[i] for k in kept}) for i in range(4) if len({k[i] for k in kept}) == 1]
    # a pin at the shown count itself is what this solver returns whatever the truth, once the published
    # figures are worked out from the shown counts: it tells the attacker nothing the count did not
    recovered = [p for p in pinned if p[1] == {truth[p[0]]} and p[1] != {shown[p[0]]}]
    assert not recovered, (site, months, shown, truth, pinned)
