"""phb.kept: a figure worked out once for a page's data, kept with it through the page's cache, and handed out as
a copy; the figures read back are those worked out afresh."""

from __future__ import annotations

import pickle
from types import SimpleNamespace

from phb import overview, spending
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


def test_figures_kept_through_the_cache_are_those_worked_out_afresh(bundled_warehouse):
    """What the Spending page and Overview keep (`worked_out`, then pickled and unpickled as st.cache_data does)
    gives the same facts blocks, grid and headline as the same data loaded again and worked out from nothing,
    for all sites, one site and a short period."""
    warehouse, info = bundled_warehouse
    with connect(warehouse) as con:
        end = info.period_end
        for filters in (Filters(None, info.period_start, end), Filters(("DOR",), info.period_start, end),
                        Filters(None, info.period_start, info.period_start.replace(month=12, day=31))):  # fmt: skip
            cached = pickle.loads(pickle.dumps(spending.worked_out(spending.load(con, filters, end))))
            assert {"grid", "facts"} <= set(cached.memo)
            fresh = spending.load(con, filters, end)
            assert cached.memo["facts"] == spending._facts_blocks(fresh)
            assert spending.facts_blocks(cached) == spending.facts_blocks(fresh)
            assert spending.protected_grid(cached) == spending.protected_grid(fresh)
            names = site_names(con)
            assert spending.site_category_grid(cached, names).equals(spending.site_category_grid(fresh, names))
            seen = pickle.loads(pickle.dumps(overview.worked_out(overview.load(con, filters))))
            assert "headline" in seen.memo and overview.headline(seen) == overview._headline(
                overview.load(con, filters)
            )
