"""Budget uptake: the pathway, progress against plan, uptake rates, how budgets are held and who
is reached. Every frame returned for display has been through disclosure control; percentages,
intervals and tests are worked out from the counts as shown (perturbed and rounded) and withheld
where a count they rest on is withheld.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from phb import contract, disclosure
from phb import formatting as fmt
from phb.filters import Filters
from phb.queries import run_query
from phb.stats import compare_to_rest, wilson_ci

STEPS = (
    ("referred", "Referred"),
    ("offered", "Offered a budget"),
    ("plan_agreed", "Plan agreed"),
    ("budget_in_place", "Budget in place"),
)
EXITS = (("declined", "Declined"), ("withdrawn", "Withdrew"), ("in_planning", "Still in planning"))
CHARACTERISTICS = {
    "age_band": "Age band",
    "sex": "Sex",
    "ethnicity": "Ethnicity",
    "imd_quintile": "Deprivation quintile",
    "primary_need": "Primary need",
}
GROUP_LABELS = {
    "female": "Female", "male": "Male", "other": "Other", "not_stated": "Not stated",
    "white": "White", "mixed": "Mixed", "asian": "Asian", "black": "Black",
    "1": "1 (most deprived)", "2": "2", "3": "3", "4": "4", "5": "5 (least deprived)", "not_recorded": "Not recorded",
    "psychosis": "Psychosis", "mood": "Mood disorder", "anxiety": "Anxiety", "personality": "Personality disorder",
    "substance_misuse": "Substance misuse",
}  # fmt: skip
ALL_SITES = "All selected sites"
SMALLER_SITES = "Smaller sites combined"


@dataclass(frozen=True)
class UptakeData:
    """The unrounded result sets the Uptake page is made from."""

    pathway: pd.DataFrame
    sites: pd.DataFrame
    monthly: pd.DataFrame
    management: pd.DataFrame
    groups: pd.DataFrame


def load(con: duckdb.DuckDBPyConnection, filters: Filters) -> UptakeData:
    """Run the Uptake page's queries for a selection."""
    params = filters.params()
    pathway_params = {k: params[k] for k in ("sites", "date_from", "date_to")}
    return UptakeData(
        pathway=run_query(con, "pathway_by_site", **pathway_params),
        sites=run_query(con, "site_summary", **params),
        monthly=run_query(con, "budgets_in_place_monthly", **params),
        management=run_query(con, "management_by_site", **params),
        groups=run_query(con, "conversion_by_group", **pathway_params),
    )


# ---------------------------------------------------------------------------------------------
# The pathway


def pathway_block(row: pd.Series) -> dict:
    """One site's (or all sites') pathway as it may be shown: counts, step conversions, median days."""
    block = {key: disclosure.count(int(row[key]), row[f"{key}_ckey"]) for key, _ in STEPS + EXITS}
    previous = "referred"
    for key, _ in STEPS[1:]:
        block[f"{key}_pct_of_{previous}"] = disclosure.percent(block[key], block[previous])
        previous = key
    block["budget_pct_of_referred"] = disclosure.percent(block["budget_in_place"], block["referred"])
    days = row["median_days_to_budget"]
    block["median_days_to_budget"] = disclosure.quantile_shown(
        None if pd.isna(days) else days, row["budget_in_place"], disclosure.DAYS_QUANTILE_UNIT
    )
    return block


def pathway_blocks(data: UptakeData) -> dict[str, dict]:
    """Pathway blocks keyed by site code, with None for all selected sites."""
    return {
        (None if pd.isna(row["site_code"]) else row["site_code"]): pathway_block(row)
        for _, row in data.pathway.iterrows()
    }


def pathway_table(data: UptakeData, site_names: dict[str, str]) -> pd.DataFrame:
    """A row per site and one for all selected sites: counts and conversions, ready to show."""
    blocks = pathway_blocks(data)
    rows = []
    for code, block in blocks.items():
        if code is None and len(blocks) == 2:
            continue  # one site: its own row says it all
        rows.append({"Site": ALL_SITES if code is None else site_names[code], **block})
    return pd.DataFrame(rows)


def pathway_steps(data: UptakeData) -> pd.DataFrame:
    """All selected sites: each step's shown count and its share of the people referred."""
    blocks = pathway_blocks(data)
    block = blocks.get(None)
    if block is None:
        return pd.DataFrame(columns=["step", "order", "people", "label", "pct_of_referred"])
    rows = []
    for order, (key, label) in enumerate(STEPS):
        shown = block[key]
        pct = disclosure.percent(shown, block["referred"])
        rows.append(
            {
                "step": label,
                "order": order,
                "people": disclosure.numeric(shown),
                "label": disclosure.words(shown),
                "pct_of_referred": disclosure.numeric(pct),
            }
        )
    return pd.DataFrame(rows)


def pathway_title(data: UptakeData) -> str:
    """The pathway's finding: overall conversion and the step where most people are lost."""
    block = pathway_blocks(data).get(None)
    if block is None or block["referred"] == 0:
        return "Nobody was referred in this period"
    overall = block["budget_pct_of_referred"]
    if overall == disclosure.SUPPRESSED:
        return "Too few people were referred in this period to describe the pathway"
    losses = []
    previous = "referred"
    for key, label in STEPS[1:]:
        before, after = block[previous], block[key]
        if disclosure.SUPPRESSED not in (before, after):
            losses.append((before - after, dict(STEPS)[previous], label))
        previous = key
    text = f"{overall:.0f}% of people referred have a budget in place"
    if losses:
        lost, frm, to = max(losses)
        if lost > 0:
            text += f"; most are lost between '{frm.lower()}' and '{to.lower()}'"
    return text


# ---------------------------------------------------------------------------------------------
# Progress against plan


def plan_progress(data: UptakeData, site_names: dict[str, str]) -> pd.DataFrame:
    """Each site's budgets at pilot end against its plan, from the shown (rounded) counts."""
    rows = []
    for _, site in data.sites.iterrows():
        shown = disclosure.count(int(site["budgets_at_pilot_end"]), site["budgets_at_pilot_end_ckey"])
        plan = disclosure.reference(int(site["planned_budgets"]))
        rows.append(
            {
                "site_code": site["site_code"],
                "site": site_names[site["site_code"]],
                "pilot_end": site["pilot_end"],
                **_against_plan(shown, plan),
            }
        )
    return pd.DataFrame(rows)


def _against_plan(shown, plan) -> dict:
    """Budgets as shown against a plan as shown: the percentage reached and how far that is."""
    pct = disclosure.percent(shown, plan)
    if pct == disclosure.SUPPRESSED or pct is None:
        # a withheld count is 1 to 7: below half of a plan of 16 or more
        status = "below half of plan" if plan not in (0, disclosure.SUPPRESSED) and plan >= 16 else "too few to say"
    elif pct >= 100:
        status = "passed plan"
    elif pct >= 50:
        status = "half of plan or more"
    else:
        status = "below half of plan"
    return {"budgets": shown, "plan": plan, "pct_of_plan": pct, "status": status}


def plan_overall(data: UptakeData) -> dict:
    """All selected sites together against the sum of their plans, as plan_progress does each site: the
    budgets at each site's pilot end (or the period's end) counted as one total."""
    shown = disclosure.total(data.sites, "budgets_at_pilot_end")
    plan = disclosure.reference(int(data.sites["planned_budgets"].sum()))
    return {"site_code": "", "site": ALL_SITES, **_against_plan(shown, plan)}


def plan_title(progress: pd.DataFrame) -> str:
    """E.g. 'Dorset and Devon passed their plans; four sites are below half of theirs'."""
    if progress.empty:
        return "No sites selected"
    passed = progress.loc[progress["status"] == "passed plan", "site"].tolist()
    below = progress.loc[progress["status"] == "below half of plan", "site"].tolist()
    if len(progress) == 1:
        row = progress.iloc[0]
        if row["pct_of_plan"] in (None, disclosure.SUPPRESSED):
            return f"{row['site']}: {row['status']}"
        return f"{row['site']} reached {row['pct_of_plan']:.0f}% of its plan by pilot end"
    parts = []
    if passed:
        parts.append(
            f"{fmt.some_sites(passed, len(progress))} passed {'its plan' if len(passed) == 1 else 'their plans'}"
        )
    if below:
        many = len(below) > 1
        parts.append(
            f"{fmt.number_words(len(below))} site{'s' if many else ''} {'are' if many else 'is'} below half of "
            f"{'theirs' if many else 'its'}"
            if passed
            else f"{fmt.some_sites(below, len(progress))} {'are' if many else 'is'} below half of plan"
        )
    if not parts:
        half = progress.loc[progress["status"] == "half of plan or more", "site"].tolist()
        if len(half) == len(progress):
            return "Every site reached at least half of its plan, none passed it"
        if not half:
            return "Too few budgets, or plans too small, to say how far any site got against its plan"
        # the rest are too few to say
        others = len(progress) - len(half)
        text = (
            f"{fmt.some_sites(half, len(progress))} reached at least half of "
            f"{'their plans' if len(half) > 1 else 'its plan'}; "
            f"{'the others have' if others > 1 else 'the other has'} too few budgets, or too small a plan, to say"
        )
        return text[0].upper() + text[1:]
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def plan_reached(progress: pd.DataFrame, overall: dict | None = None) -> pd.DataFrame:
    """Each site's budgets at pilot end as a percentage of its plan (`plan_progress`), for a bar per site: all
    selected sites together first (`overall`, from `plan_overall`), then the sites, the highest first, then those
    with no percentage in code order, each labelled with its percentage or why there is none."""

    def number(v) -> float:
        return float("nan") if v in (None, disclosure.SUPPRESSED) else float(v)

    # the sites ranked (no percentage last, ties in code order), then all selected sites put on top
    ranked = progress.assign(pct_of_plan=progress["pct_of_plan"].map(number)).sort_values(
        ["pct_of_plan", "site_code"], ascending=[False, True], na_position="last", kind="stable"
    )
    rows = pd.concat([pd.DataFrame([overall]) if overall else None, ranked], ignore_index=True)
    pct = rows["pct_of_plan"].map(number)

    def words(v, budgets, plan) -> str:
        if v == v:
            return f"{v:.0f}%"
        if budgets == disclosure.SUPPRESSED:
            return "budgets and plan withheld" if plan == disclosure.SUPPRESSED else "budgets withheld"
        return "plan withheld" if plan == disclosure.SUPPRESSED else "no plan"

    frame = rows.assign(
        pct_of_plan=pct,
        text=[words(*r) for r in zip(pct, rows["budgets"], rows["plan"], strict=True)],
        budgets_text=[disclosure.FEWER if b == disclosure.SUPPRESSED else f"{b:,}" for b in rows["budgets"]],
        plan_text=[
            disclosure.FEWER if p == disclosure.SUPPRESSED else "–" if p in (None, 0) else f"{p:,}"
            for p in rows["plan"]
        ],
    )
    return frame[["site", "budgets_text", "plan_text", "pct_of_plan", "status", "text"]].reset_index(drop=True)


def budgets_against_plan(data: UptakeData, site_names: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Budgets in place at each month end per site and for all selected sites (rounded), and each
    panel's target: the planned budgets at pilot end."""
    monthly = data.monthly.copy()
    monthly["site"] = monthly["site_code"].map(site_names)
    columns = ["budgets_in_place", "budgets_in_place_ckey"]
    parts = [monthly[["on_date", "site", *columns]]]
    if len(data.sites) > 1:
        parts.insert(0, monthly.groupby("on_date", as_index=False)[columns].sum().assign(site=ALL_SITES))
    frame = pd.concat(parts, ignore_index=True)
    frame["shown"] = disclosure.counts(frame, "budgets_in_place")
    frame["budgets"] = frame["shown"].map(disclosure.numeric)
    frame["label"] = frame["shown"].map(disclosure.words)
    targets = data.sites.assign(site=data.sites["site_code"].map(site_names))
    targets = pd.concat(
        [
            pd.DataFrame(
                [
                    {
                        "site": ALL_SITES,
                        "pilot_end": targets["pilot_end"].max(),
                        "planned_budgets": int(targets["planned_budgets"].sum()),
                    }
                ]
            ),
            targets[["site", "pilot_end", "planned_budgets"]],
        ],
        ignore_index=True,
    )
    targets["plan"] = targets["planned_budgets"].map(lambda n: disclosure.numeric(disclosure.reference(int(n))))
    return frame[["on_date", "site", "budgets", "label"]], targets[["site", "pilot_end", "plan"]]


# ---------------------------------------------------------------------------------------------
# Uptake rates


def uptake_by_site(data: UptakeData, site_names: dict[str, str]) -> tuple[pd.DataFrame, dict]:
    """Uptake at pilot end per site (% of eligible population, from rounded counts) with its
    Wilson interval from the shown count (withheld where the count is), and the all-sites rate."""
    rows = []
    x_all = disclosure.total(data.sites, "budgets_at_pilot_end")
    n_all = disclosure.reference(int(data.sites["eligible_population"].sum()))
    p_all = x_all / n_all if disclosure.usable(x_all, n_all) else None
    for _, site in data.sites.iterrows():
        x = disclosure.count(int(site["budgets_at_pilot_end"]), site["budgets_at_pilot_end_ckey"])
        n = disclosure.reference(int(site["eligible_population"]))
        wilson = _wilson(x, n)
        ci = disclosure.interval(wilson, x, scale=100, kind="uptake")
        # above or below all sites: the unrounded interval against the unrounded all-sites rate, both
        # from shown counts (the published figures are rounded; comparing those would blur the edges)
        versus = (
            ("above" if wilson[0] > p_all else "below" if wilson[1] < p_all else "similar")
            if wilson and p_all is not None
            else ""
        )
        rate = disclosure.percent(x, n, kind="uptake")
        rows.append(
            {
                "site_code": site["site_code"],
                "site": site_names[site["site_code"]],
                "budgets": x,
                "eligible": n,
                "uptake_pct": disclosure.numeric(rate),
                "low": disclosure.numeric(ci[0]) if isinstance(ci, list) else float("nan"),
                "high": disclosure.numeric(ci[1]) if isinstance(ci, list) else float("nan"),
                "versus": versus,
            }
        )
    frame = pd.DataFrame(rows)
    x, n = x_all, n_all
    overall = {
        "budgets": x,
        "uptake_pct": disclosure.percent(x, n, kind="uptake"),
        "ci": disclosure.interval(_wilson(x, n), x, scale=100, kind="uptake"),
    }
    if not frame.empty:
        frame = frame.sort_values("uptake_pct", ascending=False, na_position="last").reset_index(drop=True)
    return frame, overall


def _wilson(x, n):
    """The Wilson interval of two shown counts, or None where either is withheld or n is 0."""
    return wilson_ci(x, n) if disclosure.usable(x, n) else None


def uptake_title(frame: pd.DataFrame, overall: dict) -> str:
    """Which sites are above or below the all-sites rate beyond chance (their interval excludes it)."""
    shown = frame.dropna(subset=["uptake_pct"])
    if shown.empty or overall["uptake_pct"] in (None, disclosure.SUPPRESSED):
        return "Too few budgets to compare uptake"
    if len(frame) == 1:
        return f"Uptake at pilot end: {shown.iloc[0]['uptake_pct']:.1f}% of the eligible population"
    rate = overall["uptake_pct"]
    above = shown.loc[shown["versus"] == "above", "site"].tolist()
    below = shown.loc[shown["versus"] == "below", "site"].tolist()
    if not above and not below:
        return f"No site's uptake differs from the all-sites {rate:.1f}% beyond chance"

    def who(names: list[str]) -> str:
        if len(names) <= 2:
            return fmt.listed(names)
        return f"{fmt.number_words(len(names)).capitalize()} sites"

    parts = []
    if above:
        parts.append(f"{who(above)} {'is' if len(above) == 1 else 'are'} above")
    if below:
        # after a long list of sites above, the sites below are counted rather than named
        name = who(below) if not above or len(below) <= 2 else fmt.number_words(len(below))
        parts.append(f"{name} {'is' if len(below) == 1 else 'are'} below")
    return " and ".join(parts) + f" the all-sites uptake of {rate:.1f}%, beyond chance"


# ---------------------------------------------------------------------------------------------
# How budgets are held


def management_shares(data: UptakeData, site_names: dict[str, str]) -> pd.DataFrame:
    """Shares of budgets set up in the period by management option, per site. Sites where any
    option would be suppressed are pooled as 'Smaller sites combined' so few cells are withheld;
    a bar with a cell still suppressed after pooling has all its shares withheld."""
    options = list(contract.MANAGEMENT_OPTIONS)

    def pivot(values: str) -> pd.DataFrame:
        return data.management.pivot_table(
            index="site_code", columns="management_option", values=values, aggfunc="sum", fill_value=0
        ).reindex(columns=options, fill_value=0)

    counts, keys = pivot("budgets"), pivot("budgets_ckey")

    def shown_row(row: pd.Series, key: pd.Series) -> dict:
        return {opt: disclosure.count(int(row[opt]), int(key[opt])) for opt in options}

    small = [c for c in counts.index if disclosure.SUPPRESSED in shown_row(counts.loc[c], keys.loc[c]).values()]
    bars = {site_names[c]: (counts.loc[c], keys.loc[c], site_names[c]) for c in counts.index if c not in small}
    if len(small) == 1:
        bars[site_names[small[0]]] = (counts.loc[small[0]], keys.loc[small[0]], site_names[small[0]])
    elif small:
        bars[SMALLER_SITES] = (counts.loc[small].sum(), keys.loc[small].sum(), ", ".join(site_names[c] for c in small))
    if len(counts) > 1:
        bars[ALL_SITES] = (counts.sum(), keys.sum(), "all selected")
    rows = []
    for bar, (row, key, members) in bars.items():
        shown = shown_row(row, key)
        # secondary suppression: with one option withheld, the others' shares would give it away
        usable = 0 if disclosure.SUPPRESSED in shown.values() else sum(shown.values())
        for opt, value in shown.items():
            rows.append(
                {
                    "site": bar,
                    "sites_in_bar": members,
                    "option": contract.LABELS[opt],
                    "budgets": disclosure.words(value),
                    "share_pct": float("nan")
                    if value == disclosure.SUPPRESSED or not usable
                    else disclosure.percent(value, usable),
                }
            )
    return pd.DataFrame(rows, columns=["site", "sites_in_bar", "option", "budgets", "share_pct"])


def management_empty_reason(frame: pd.DataFrame) -> str:
    """Why the management chart has nothing to draw."""
    if frame.empty:
        return "No budgets were set up in this period at the sites chosen."
    return (
        "Too few budgets in at least one management option to show shares safely for this selection; "
        "choose more sites or a longer period."
    )


def management_block(data: UptakeData, site: str | None) -> dict:
    """Counts and shares of budgets set up in the period by management option, for facts."""
    rows = data.management if site is None else data.management[data.management["site_code"] == site]
    options = contract.MANAGEMENT_OPTIONS
    shown = {opt: disclosure.total(rows[rows["management_option"] == opt], "budgets") for opt in options}
    # secondary suppression: with one option withheld, the others' shares would give it away
    any_withheld = disclosure.SUPPRESSED in shown.values()
    total = 0 if any_withheld else sum(shown.values())
    return {
        opt: {
            "budgets": shown[opt],
            "share_pct": disclosure.SUPPRESSED if any_withheld else disclosure.percent(shown[opt], total),
        }
        for opt in options
    }


def management_title(frame: pd.DataFrame) -> str:
    """The most common option overall, and any site where another option leads."""
    if frame.empty:
        return "No budgets were set up in this period"
    overall = frame[frame["site"] == ALL_SITES] if (frame["site"] == ALL_SITES).any() else frame
    top = overall.dropna(subset=["share_pct"]).sort_values("share_pct", ascending=False)
    if top.empty:
        return "Too few budgets to show how they are held"
    lead = top.iloc[0]
    text = f"{lead['option']}s are the most common way to hold a budget ({lead['share_pct']:.0f}%)"
    others = []
    for site, rows in frame[frame["site"] != ALL_SITES].groupby("site", sort=False):
        best = rows.dropna(subset=["share_pct"]).sort_values("share_pct", ascending=False)
        if len(best) and best.iloc[0]["option"] != lead["option"] and site != SMALLER_SITES:
            others.append(f"{site} mostly uses {best.iloc[0]['option'].lower()}s")
    if others and (frame["site"] == ALL_SITES).any():
        text += "; " + "; ".join(others[:2])
    return text


# ---------------------------------------------------------------------------------------------
# Who is reached


def reach(data: UptakeData) -> pd.DataFrame:
    """Conversion from referral to budget for each group of each characteristic, with a Wilson
    interval and whether it differs from everyone else referred beyond chance (Fisher's exact
    test against the rest, Holm-adjusted across all the groups shown)."""
    frame = data.groups.copy()
    if frame.empty:
        return pd.DataFrame(
            columns=[
                "characteristic",
                "group",
                "referred",
                "budgets",
                "conversion_pct",
                "low",
                "high",
                "p_adjusted",
                "differs",
                "direction",
            ]
        )
    totals = frame.groupby("characteristic")[["referred", "budgets", "referred_ckey", "budgets_ckey"]].transform("sum")
    tests = compare_to_rest(frame["budgets"], frame["referred"], totals["budgets"], totals["referred"])
    rows = []
    for i, row in frame.iterrows():
        x, n = int(row["budgets"]), int(row["referred"])
        shown_x, shown_n = disclosure.count(x, row["budgets_ckey"]), disclosure.count(n, row["referred_ckey"])
        withheld = disclosure.SUPPRESSED in (shown_x, shown_n)
        ci = None if withheld or not shown_n else wilson_ci(min(shown_x, shown_n), shown_n)
        rest_x, rest_n = int(totals.loc[i, "budgets"]) - x, int(totals.loc[i, "referred"]) - n
        # the rest of the people referred are a cell too: their key is the total's less this group's
        rest_shown_x = disclosure.count(rest_x, int(totals.loc[i, "budgets_ckey"]) - int(row["budgets_ckey"]))
        rest_shown_n = disclosure.count(rest_n, int(totals.loc[i, "referred_ckey"]) - int(row["referred_ckey"]))
        rows.append(
            {
                "characteristic": CHARACTERISTICS[row["characteristic"]],
                "group": GROUP_LABELS.get(row["grp"], row["grp"]),
                "referred": shown_n,
                "budgets": shown_x,
                "conversion_pct": disclosure.numeric(disclosure.percent(shown_x, shown_n)),
                "low": float("nan") if ci is None else disclosure.numeric(disclosure.interval(ci, shown_x, 100)[0]),
                "high": float("nan") if ci is None else disclosure.numeric(disclosure.interval(ci, shown_x, 100)[1]),
                "rest_pct": disclosure.numeric(disclosure.percent(rest_shown_x, rest_shown_n)),
                "p_adjusted": float("nan") if withheld else tests.loc[i, "p_adjusted"],
                "differs": (not withheld) and bool(tests.loc[i, "p_adjusted"] < 0.05),
                "direction": "higher" if x / max(n, 1) > rest_x / max(rest_n, 1) else "lower",
            }
        )
    return pd.DataFrame(rows)


PHRASES = {
    "Age band": "aged {g}",
    "Sex": "recorded as {g}",
    "Ethnicity": "of {g} ethnicity",
    "Deprivation quintile": "in deprivation quintile {g}",
    "Primary need": "whose primary need is {g}",
}


def group_phrase(characteristic: str, group: str) -> str:
    """A group in words: 'aged 18-24', 'of Black ethnicity', 'whose primary need is substance misuse'."""
    if characteristic == "Deprivation quintile" and group.startswith("1"):
        return "from the most deprived areas"
    if characteristic == "Deprivation quintile" and group.startswith("5"):
        return "from the least deprived areas"
    if characteristic == "Ethnicity":
        return PHRASES[characteristic].format(g=group)
    return PHRASES[characteristic].format(g=group.lower())


def reach_statements(frame: pd.DataFrame) -> list[str]:
    """A plain sentence for each group whose conversion differs from the rest beyond chance."""
    out = []
    for _, row in frame[frame["differs"]].iterrows():
        out.append(
            f"People {group_phrase(row['characteristic'], row['group'])}: {row['conversion_pct']:.0f}% of those "
            f"referred have a budget, {row['direction']} than the {row['rest_pct']:.0f}% of everyone else referred "
            "(beyond chance, after allowing for the number of groups compared)."
        )
    return out


def reach_title(frame: pd.DataFrame) -> str:
    """The finding of the 'who is reached' chart."""
    differs = frame[frame["differs"]] if len(frame) else frame
    if frame.empty:
        return "Nobody was referred in this period"
    if differs.empty:
        return "No group's chance of getting a budget differs from the rest beyond chance"
    lower = differs[differs["direction"] == "lower"]
    chosen, word = (lower, "less") if len(lower) else (differs, "more")
    groups = [group_phrase(c, g) for c, g in zip(chosen["characteristic"], chosen["group"])]
    return f"People {fmt.listed(groups[:3])} are {word} likely to get a budget once referred"


def facts_blocks(data: UptakeData) -> dict[str | None, dict]:
    """The Uptake page's headline figures per site (and None for all sites), for `phb facts`."""
    out = {}
    for code, block in pathway_blocks(data).items():
        out[code] = {"pathway": block, "management": management_block(data, code)}
    return out
