"""Statistical methods as pure functions: intervals now; funnels, SPC and effects to come."""

from __future__ import annotations

import math

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
