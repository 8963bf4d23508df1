"""Statistical methods as pure functions: intervals now; funnels, SPC and effects to come."""

from __future__ import annotations

import math

import pandas as pd
from scipy.stats import norm


def wilson_ci(x: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion x/n, on the 0 to 1 scale (PHE's method)."""
    if n <= 0:
        raise ValueError("n must be more than 0")
    if not 0 <= x <= n:
        raise ValueError("x must be between 0 and n")
    z = norm.ppf(1 - (1 - conf) / 2)
    p = x / n
    centre = 2 * x + z**2
    spread = z * math.sqrt(z**2 + 4 * x * (1 - p))
    denom = 2 * (n + z**2)
    return max(0.0, float((centre - spread) / denom)), min(1.0, float((centre + spread) / denom))


def compare_to_rest(x, n, total_x, total_n) -> pd.DataFrame:
    """For each group (x of n) against the rest of its characteristic (total_x - x of total_n - n):
    Fisher's exact two-sided p-value, and Holm's adjustment across all the groups compared."""
    from scipy.stats import fisher_exact
    from statsmodels.stats.multitest import multipletests

    p = []
    for xi, ni, tx, tn in zip(x, n, total_x, total_n):
        table = [[int(xi), int(ni - xi)], [int(tx - xi), int((tn - ni) - (tx - xi))]]
        p.append(1.0 if min(ni, tn - ni) == 0 else float(fisher_exact(table).pvalue))
    adjusted = multipletests(p, method="holm")[1] if p else []
    return pd.DataFrame({"p": p, "p_adjusted": list(adjusted)}, index=getattr(x, "index", None))


def holm(pvalues) -> list[float]:
    """Holm's step-down adjustment of p-values (statsmodels' implementation)."""
    from statsmodels.stats.multitest import multipletests

    return [float(v) for v in multipletests(list(pvalues), method="holm")[1]]
