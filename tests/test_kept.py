"""phb.kept: a figure worked out once for a page's data, kept with it through the page's cache, and handed out as
a copy; the figures read back are those worked out afresh."""

from __future__ import annotations

import pickle
from datetime import date
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from phb import contract, disclosure, overview, spending
from phb.facts import site_names
from phb.filters import Filters
from phb.kept import kept
from phb.warehouse import connect


def test_a_kept_figure_is_worked_out_once_and_each_caller_gets_a_copy():
    data = SimpleNamespace(memo={})
    calls = []

    def work():
        calls.append(1)
        return {"total": [1, 2]}

    first = kept(data, "k", work)
    first["total"].append(3)  # a caller changing what it was given
    assert kept(data, "k", work) == {"total": [1, 2]} and len(calls) == 1
    assert kept(data, "other", work) == {"total": [1, 2]} and len(calls) == 2


def site_category_grid_one_site_at_a_time(data, site_names):
    """The site-by-category shares as spending.site_category_grid worked them out before it read each site's total
    in one pass (commit ed6e8a0): each site's rows grouped out, its total shown with _one. Kept as a reference."""
    frame = data.by_site_category
    grid = spending.protected_grid(data)
    rows = []
    for code, part in frame[frame["site_code"].notna()].groupby("site_code", sort=True):
        cats = part[part["category"].notna()].reset_index(drop=True)
        total_shown = spending._one(part[part["category"].isna()])
        for category in cats["category"]:
            value = grid[(code, category)]
            ok = value != disclosure.SUPPRESSED and total_shown not in (None, disclosure.SUPPRESSED) and total_shown > 0
            rows.append({
                "site": site_names[code], "category": contract.LABELS[category],
                "share_pct": round(100 * value / total_shown, 1) if ok else float("nan"),
                "spend_text": disclosure.FEWER_OR_DOMINATED if not ok else f"£{value:,.0f}",
            })  # fmt: skip
    return pd.DataFrame(rows, columns=["site", "category", "share_pct", "spend_text"])


def facts_one_site_at_a_time(data):
    """The Spending facts blocks as spending.facts_blocks worked them out before it split the sites' rows out once
    (commit ed6e8a0): each site's rows and holders filtered from the whole frames (the holders' figures added by
    the same rule, spending._with_holders). Kept as a reference."""
    sites = [c for c in data.by_site_category["site_code"].dropna().unique()]
    holders = data.holders[data.holders["management_option"].isna()]
    out = {}
    for code in [None, *sites]:
        row = holders[holders["site_code"].isna()] if code is None else holders[holders["site_code"] == code]
        record = row.iloc[0].to_dict() if len(row) else None
        out[code] = {"spending": spending._with_holders(spending.total_block(data, code), record)}
    spending._protect_sites(out, data.by_site_category, sites)
    return out


def test_figures_kept_through_the_cache_are_those_worked_out_one_site_at_a_time(bundled_warehouse):
    """What the Spending page and Overview keep (`worked_out`, then pickled and unpickled as st.cache_data does)
    gives the facts blocks and the site-by-category grid that working them out one site at a time gives (the
    references above), and the headline worked out afresh: for all sites, one site, two sites, a management option,
    a year and a quarter in which some sites spent nothing."""
    warehouse, info = bundled_warehouse
    start, end = info.period_start, info.period_end
    selections = [
        Filters(None, start, end), Filters(("DOR",), start, end), Filters(("KIN", "STP"), start, end),
        Filters(None, start, end, ("notional",)), Filters(None, date(2015, 1, 1), date(2015, 12, 31)),
        Filters(None, date(2014, 7, 1), date(2014, 9, 30)),
    ]  # fmt: skip
    with connect(warehouse) as con:
        names = site_names(con)
        for filters in selections:
            cached = pickle.loads(pickle.dumps(spending.worked_out(spending.load(con, filters, end))))
            assert {"grid", "facts"} <= set(cached.memo)
            fresh = spending.load(con, filters, end)
            expected = facts_one_site_at_a_time(fresh)
            assert spending.facts_blocks(cached) == expected and len(expected) > 1
            pd.testing.assert_frame_equal(
                spending.site_category_grid(cached, names), site_category_grid_one_site_at_a_time(fresh, names)
            )
            seen = pickle.loads(pickle.dumps(overview.worked_out(overview.load(con, filters))))
            assert "headline" in seen.memo and overview.headline(seen) == overview._headline(
                overview.load(con, filters)
            )


@pytest.mark.slow
def test_every_kept_figure_is_the_one_worked_out_afresh_for_every_site_period_boundary_and_option(bundled_warehouse):
    """The sweep of the test above and of value for money's page copy: for each site alone and all sites, over the
    whole period, its first and its last month, every calendar year, a period cut inside the data, and each
    management option, what the pages keep (worked_out / for_page, then pickled and unpickled as st.cache_data does)
    equals what is worked out afresh: the Spending facts blocks and site-by-category grid (against the one site at a
    time references), the Overview headline, the budget effect and the effect by site, and value for money's
    headline, parts and by-site-and-option table."""
    from phb import admissions, value
    from tests.test_admissions_sweep import selections

    warehouse, info = bundled_warehouse
    start, end = info.period_start, info.period_end
    with connect(warehouse) as con:
        names = site_names(con)
        chosen = selections(sorted(names), start, end)
        chosen += [
            Filters(None, max(date(y, 1, 1), start), min(date(y, 12, 31), end)) for y in range(start.year, end.year + 1)
        ]

        def round_trip(data):
            return pickle.loads(pickle.dumps(data))

        checked = 0
        for filters in chosen:
            spend = round_trip(spending.worked_out(spending.load(con, filters, end)))
            fresh = spending.load(con, filters, end)
            assert spending.facts_blocks(spend) == facts_one_site_at_a_time(fresh), filters
            pd.testing.assert_frame_equal(
                spending.site_category_grid(spend, names), site_category_grid_one_site_at_a_time(fresh, names)
            )
            seen = round_trip(overview.worked_out(overview.load(con, filters)))
            assert overview.headline(seen) == overview._headline(overview.load(con, filters)), filters
            adm = round_trip(admissions.worked_out(admissions.load(con, filters), names))
            plain = admissions.load(con, filters)
            assert admissions.effect(adm) == admissions.did_effect(plain.effect_summary), filters
            pd.testing.assert_frame_equal(
                admissions.effects_by_site(adm, names), admissions._effects_by_site(plain, names)
            )
            page = round_trip(value.load(con, filters).for_page(names))
            alone = value.load(con, filters)
            if alone.headline is None:
                assert page.headline is None
            else:
                assert page.headline.result == alone.headline.result, filters
                np.testing.assert_array_equal(page.headline.boot["net"], alone.headline.boot["net"])
            pd.testing.assert_frame_equal(page.scopes(names), alone.scopes(names))
            checked += 1
    assert checked == len(chosen) > 50
