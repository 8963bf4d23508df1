"""Figures worked out from a page's data, kept with the data.

A page's data (OverviewData, SpendingData, AdmissionsData) holds the unrounded result sets its queries gave. The
figures each view shows are worked out from them (disclosure control cell by cell, effects per site); at national
scale (42 sites) that took 0.1 to 0.25 s a figure, and a page asked for some of them on every rerun. `kept` works a
figure out once for the data and keeps it in the data's `memo`; the page's cached loader fills the memo (each
module's `worked_out`) before st.cache_data keeps the data, so a rerun, which gets a copy of what the cache keeps,
reads the figures instead of working them out again. Each call gets its own copy, so a caller that changes what it
was given changes nothing kept.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


def kept(data: Any, key: Hashable, work: Callable[[], T]) -> T:
    """`work()`, worked out once for `data` (kept in `data.memo` under `key`); a copy of it on every call."""
    if key not in data.memo:
        data.memo[key] = work()
    return copy.deepcopy(data.memo[key])
