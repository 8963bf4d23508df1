"""Statistical methods as pure functions: intervals, funnel limits and z-scores, SPC charts (XmR and Laney's u')."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
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


# --- Counts and funnels ---------------------------------------------------------------------------------------------

BYARS_FROM = 10  # PHE switches from the exact Poisson interval to Byar's at 10 events (PHEindicatormethods ISRatio.R)


def _check_conf(conf: float) -> float:
    conf = float(conf)
    if not 0 < conf < 1:
        raise ValueError("conf must be between 0 and 1, such as 0.95 or 0.998")
    return conf


def count_ci(x: float, conf: float = 0.95) -> tuple[float, float]:
    """Confidence interval for a count of events (Poisson), on the count scale.

    PHE's convention (PHEindicatormethods calculate_ISRatio, R/ISRatio.R): below 10 events the exact interval from
    the chi-square distribution, lower chi2(a/2, 2x)/2 (0 when x is 0) and upper chi2(1 - a/2, 2x + 2)/2; from 10
    events Byar's approximation as in R/Byars.R, x(1 - 1/9x - z/3sqrt(x))^3 and (x+1)(1 - 1/9(x+1) + z/3sqrt(x+1))^3.
    """
    from scipy.stats import chi2

    conf = _check_conf(conf)
    x = float(x)
    if not math.isfinite(x) or x < 0:
        raise ValueError("x must be a count of 0 or more")
    alpha = 1 - conf
    if x < BYARS_FROM:
        lower = 0.0 if x == 0 else float(chi2.ppf(alpha / 2, 2 * x) / 2)
        return lower, float(chi2.ppf(1 - alpha / 2, 2 * x + 2) / 2)
    z = float(norm.ppf(1 - alpha / 2))
    lower = x * (1 - 1 / (9 * x) - z / (3 * math.sqrt(x))) ** 3
    y = x + 1
    upper = y * (1 - 1 / (9 * y) + z / (3 * math.sqrt(y))) ** 3
    return float(lower), float(upper)


def _scalar_or_array(a):
    return float(a) if np.ndim(a) == 0 else a


def proportion_funnel_limits(p0: float, n: ArrayLike, conf: float) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Funnel limits for a proportion with target p0 at denominator n: p0 +/- z sqrt(p0(1 - p0)/n), within 0 to 1.

    Spiegelhalter (2005)'s normal approximation, as funnelR's method="approximate" (R/fundata.R); clipped to 0..1
    as PHE's funnels clip theirs (PHEindicatormethods R/Funnels.R). n may be a number or an array (limits per n).
    """
    conf = _check_conf(conf)
    p0 = float(p0)
    if not 0 <= p0 <= 1:
        raise ValueError("p0 must be a proportion between 0 and 1")
    n = np.asarray(n, dtype=float)
    if np.any(~np.isfinite(n)) or np.any(n <= 0):
        raise ValueError("n must be more than 0")
    z = norm.ppf(1 - (1 - conf) / 2)
    spread = z * np.sqrt(p0 * (1 - p0) / n)
    return _scalar_or_array(np.clip(p0 - spread, 0.0, 1.0)), _scalar_or_array(np.clip(p0 + spread, 0.0, 1.0))


def ratio_funnel_limits(expected: ArrayLike, conf: float) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Funnel limits for an indirectly standardised ratio (observed/expected, target 1) at an expected count.

    The chi-square form of the exact Poisson limits, lower chi2((1 - conf)/2, 2E)/2E and upper
    chi2(1 - (1 - conf)/2, 2E + 2)/2E: what FunnelPlotR draws (R/calculate_limits.R, checked against its
    tests/testthat/test-poisson_limits.R). Spiegelhalter (2005)'s interpolated Poisson quantiles were not used:
    no peer implementation of them with published values was found to check against.
    """
    from scipy.stats import chi2

    conf = _check_conf(conf)
    e = np.asarray(expected, dtype=float)
    if np.any(~np.isfinite(e)) or np.any(e <= 0):
        raise ValueError("expected must be more than 0")
    alpha = 1 - conf
    lower = chi2.ppf(alpha / 2, 2 * e) / (2 * e)
    upper = chi2.ppf(1 - alpha / 2, 2 * e + 2) / (2 * e)
    return _scalar_or_array(lower), _scalar_or_array(upper)


@dataclass(frozen=True)
class FunnelLimits:
    """A funnel's limit lines as the chart draws them: the browser works them out from these few
    published figures along the denominator axis, so no grid of limit values is in any chart's data.

    kind: "proportion" (limits around the centre, a percentage, from `proportion_funnel_limits`'s
    formula) or "ratio" (limits around 1 at an expected count, by Byar's approximation to the exact
    Poisson limits, as PHEindicatormethods' byars_lower and byars_upper (R/Byars.R) work them out:
    within 0.02 of the exact limits from an expected count of 5, the smallest the grid reaches).
    start and stop: the span of the axis drawn (from the shown sites' denominators)."""

    kind: str
    centre: float
    start: float
    stop: float
    levels: tuple[float, ...] = (0.95, 0.998)

    def expressions(self) -> dict[str, tuple[str, str]]:
        """For each level's label (e.g. "95% limits"), the Vega expressions of its lower and upper
        line in terms of `datum.denominator`."""
        n = "datum.denominator"
        out = {}
        for conf in self.levels:
            z = float(norm.ppf(1 - (1 - conf) / 2))
            if self.kind == "proportion":
                p0 = round(self.centre / 100, 6)
                spread = f"{z!r} * sqrt({p0!r} * (1 - {p0!r}) / {n})"
                low, high = (f"100 * clamp({p0!r} {sign} {spread}, 0, 1)" for sign in "-+")
            elif self.kind == "ratio":
                low = f"pow(max(0, 1 - 1 / (9 * {n}) - {z!r} / (3 * sqrt({n}))), 3)"
                high = f"({n} + 1) * pow(1 - 1 / (9 * ({n} + 1)) + {z!r} / (3 * sqrt({n} + 1)), 3) / {n}"
            else:
                raise ValueError(f"unknown kind of funnel: {self.kind}")
            out[f"{100 * conf:g}% limits"] = (low, high)
        return out


# --- XmR chart (Making Data Count) ----------------------------------------------------------------------------------

XMR_LIMIT = 2.66  # process limits: mean +/- 2.66 x mean moving range
XMR_NEAR = 2 * XMR_LIMIT / 3  # "close to a limit": beyond two thirds of the way to it (NHSRplotthedots' limitclose)
XMR_SCREEN = 3.267  # moving ranges this many times the mean moving range, or more, are screened out
XMR_RUN = 7  # points on one side of the mean, or rising or falling in a row
_IMPROVEMENT = {"increase": 1, "decrease": -1, "neither": 0}


def _flag_stretches(keys: np.ndarray, length: int) -> np.ndarray:
    """Mark every position in a stretch of at least `length` equal non-zero keys."""
    flags = np.zeros(len(keys), dtype=bool)
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            if keys[start] != 0 and i - start >= length:
                flags[start:i] = True
            start = i
    return flags


def _trend_direction(y: np.ndarray) -> np.ndarray:
    """+1/-1 for points in 7 or more each rising/falling (a tie breaks a trend); a shared turning point takes the
    later trend's direction, as NHSRplotthedots' ptd_special_cause_type does. Unlike it, the last point of a trend
    followed at once by another trend keeps its own trend's direction (it takes the sign of the next step)."""
    direction = np.zeros(len(y), dtype=int)
    steps = np.sign(np.diff(y)).astype(int)
    start = 0
    for i in range(1, len(steps) + 1):
        if i == len(steps) or steps[i] != steps[start]:
            if steps[start] != 0 and i - start >= XMR_RUN - 1:
                direction[start : i + 1] = steps[start]
            start = i
    return direction


def xmr(values, improvement: str = "decrease", screen_outliers: bool = False) -> pd.DataFrame:
    """XmR (individuals) chart with NHS England's Making Data Count signals, as NHSRplotthedots' ptd_spc.

    Mean of the values; limits mean +/- 2.66 x mean moving range (screen_outliers drops moving ranges of 3.267 x the
    mean moving range or more first, unless that mean is 0). Signals, every point of a qualifying set marked:
    outside a limit (strictly); 7 or more in a row on one side of the mean (a point on it breaks the run); 7 or more
    each rising or each falling (a tie breaks the trend); 2 of 3 in a row close to a limit (beyond 2/3 of the way to
    it, but not outside) on the same side, marking only the close points, and, as NHSRplotthedots, only when all
    three are on that side of the mean. Precedence outside > trend > 2 of 3 > run; `rule` holds NHSRplotthedots'
    label of the signal (e.g. "Above UCL", "7 Point Trend (Increasing)") or "". Direction: side of the mean, or the
    trend's direction; `variation` is improvement/concern against `improvement`, neutral for "neither".
    """
    if improvement not in _IMPROVEMENT:
        raise ValueError(f"improvement must be one of {', '.join(_IMPROVEMENT)}")
    y = np.asarray(values, dtype=float)
    if y.ndim != 1:
        raise ValueError("values must be one-dimensional")
    bad = np.flatnonzero(~np.isfinite(y))
    if len(bad):
        raise ValueError(f"values must be finite numbers: NaN or infinite at position(s) {bad.tolist()}")
    if len(y) < 2:
        raise ValueError("an XmR chart needs at least 2 values (one moving range)")

    mean = float(y.mean())
    moving = np.abs(np.diff(y))
    mean_mr = float(moving.mean())
    if screen_outliers and mean_mr > 0:
        mean_mr = float(moving[moving < XMR_SCREEN * mean_mr].mean())
    lpl, upl = mean - XMR_LIMIT * mean_mr, mean + XMR_LIMIT * mean_mr
    near_low, near_high = mean - XMR_NEAR * mean_mr, mean + XMR_NEAR * mean_mr
    special, rule, variation = _signals(y, mean, lpl, upl, near_low, near_high, improvement)
    return pd.DataFrame(
        {
            "value": y,
            "mean": mean,
            "lpl": lpl,
            "upl": upl,
            "special_cause": special,
            "rule": rule,
            "variation": variation,
        },
        index=values.index if isinstance(values, pd.Series) else None,
    )


def _signals(y: np.ndarray, centre, lower, upper, near_low, near_high, improvement: str):
    """Making Data Count's signals for points y against a centre line and limits (numbers, or arrays of one per
    point for limits that vary): (special_cause, rule, variation) arrays, as described in `xmr`."""
    side = np.sign(y - centre).astype(int)
    outside = (y > upper) | (y < lower)
    close = ~outside & ((y < near_low) | (y > near_high))
    trend = _trend_direction(y)
    run = _flag_stretches(side, XMR_RUN)
    two_of_three = np.zeros(len(y), dtype=bool)
    for i in range(len(y) - 2):
        window = slice(i, i + 3)
        if close[window].sum() >= 2 and abs(side[window].sum()) == 3:
            two_of_three[window] |= close[window]

    above = np.where(side > 0, "Above", "Below")
    rule = np.select(
        [outside, trend != 0, two_of_three, run],
        [
            np.where(side > 0, "Above UCL", "Below LCL"),
            np.where(trend > 0, "7 Point Trend (Increasing)", "7 Point Trend (Decreasing)"),
            np.char.add(np.char.add("2 in 3 ", above), " CL"),
            np.char.add(np.char.add("7 Points ", above), " CL"),
        ],
        default="",
    )
    special = rule != ""
    direction = np.where(~outside & (trend != 0), trend, side) * _IMPROVEMENT[improvement]  # the rule that fired
    variation = np.select(
        [~special, _IMPROVEMENT[improvement] == 0, direction > 0],
        ["common_cause", "neutral", "improvement"],
        default="concern",
    )
    return special, rule.astype(object), variation.astype(object)


# --- Laney's u' chart (rates with a varying denominator) -----------------------------------------------------------

LANEY_D2 = 1.128  # the bias constant d2 for moving ranges of two points: sigma_z = mean moving range of z / d2
LANEY_LIMIT = 3  # limits at 3 sigma
LANEY_NEAR = 2  # "close to a limit": beyond 2 sigma (two thirds of the way to it), as for the XmR chart


def u_prime(events, exposure, improvement: str = "decrease") -> pd.DataFrame:
    """Laney's u' chart (Laney 2002, Quality Engineering 14(4)) for rates events/exposure with NHS England's Making
    Data Count signals against each point's own limits.

    Centre line u = sum(events) / sum(exposure); each point's Poisson sigma sqrt(u / exposure); z = (rate - u) /
    that sigma; sigma_z = mean moving range of z / 1.128 (no moving ranges screened out, as qicharts2's
    qic.uprime); limits u +/- 3 sigma_z sqrt(u / exposure), the lower one not below 0. Signals as `xmr`, with
    "close to a limit" beyond u +/- 2 sigma_z sqrt(u / exposure). Returns value (the rate), centre, lcl, ucl,
    sigma_z, special_cause, rule, variation.
    """
    if improvement not in _IMPROVEMENT:
        raise ValueError(f"improvement must be one of {', '.join(_IMPROVEMENT)}")
    c = np.asarray(events, dtype=float)
    n = np.asarray(exposure, dtype=float)
    if c.ndim != 1 or n.shape != c.shape:
        raise ValueError("events and exposure must be one-dimensional and the same length")
    if len(c) < 2:
        raise ValueError("a u' chart needs at least 2 points (one moving range)")
    if np.any(~np.isfinite(c)) or np.any(c < 0):
        raise ValueError("events must be finite numbers of 0 or more")
    if np.any(~np.isfinite(n)) or np.any(n <= 0):
        raise ValueError(f"exposure must be more than 0: not at position(s) {np.flatnonzero(~(n > 0)).tolist()}")
    rate = c / n
    centre = float(c.sum() / n.sum())
    if centre == 0:
        sigma_z, sigma = 0.0, np.zeros(len(c))
    else:
        sigma = np.sqrt(centre / n)
        z = (rate - centre) / sigma
        sigma_z = float(np.abs(np.diff(z)).mean() / LANEY_D2)
    spread = sigma_z * sigma
    lcl = np.maximum(centre - LANEY_LIMIT * spread, 0.0)
    ucl = centre + LANEY_LIMIT * spread
    special, rule, variation = _signals(
        rate, centre, lcl, ucl, centre - LANEY_NEAR * spread, centre + LANEY_NEAR * spread, improvement
    )
    return pd.DataFrame(
        {
            "value": rate,
            "centre": centre,
            "lcl": lcl,
            "ucl": ucl,
            "sigma_z": sigma_z,
            "special_cause": special,
            "rule": rule,
            "variation": variation,
        },
        index=events.index if isinstance(events, pd.Series) else None,
    )


# NHSRplotthedots' signal labels in the words of a commissioning brief
RULE_WORDS = {
    "": "",
    "Above UCL": "a point above the upper process limit",
    "Below LCL": "a point below the lower process limit",
    "7 Point Trend (Increasing)": "a trend of 7 rising points",
    "7 Point Trend (Decreasing)": "a trend of 7 falling points",
    "2 in 3 Above CL": "two of three points near the upper limit",
    "2 in 3 Below CL": "two of three points near the lower limit",
    "7 Points Above CL": "a run of 7 points above the mean",
    "7 Points Below CL": "a run of 7 points below the mean",
}


# --- Funnel plot z-scores and overdispersion ------------------------------------------------------------------------


def proportion_z(x: ArrayLike, n: ArrayLike, p0: float) -> np.ndarray:
    """Spiegelhalter's z-score of each proportion x/n against the target p0 (normal approximation)."""
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    return (x / n - p0) / np.sqrt(p0 * (1 - p0) / n)


def ratio_z(observed: ArrayLike, expected: ArrayLike) -> np.ndarray:
    """z-score of each observed count against its expected count on the square-root scale,
    2(sqrt(O) - sqrt(E)), as FunnelPlotR's 'SR' transformation for standardised ratios."""
    o, e = np.asarray(observed, dtype=float), np.asarray(expected, dtype=float)
    return 2 * (np.sqrt(o) - np.sqrt(e))


def dispersion_ratio(z: ArrayLike) -> tuple[float, float]:
    """Spiegelhalter's overdispersion check: phi = mean of z squared (1 when the spread is only
    chance), and the p-value of k*phi against chi-square with k degrees of freedom."""
    from scipy.stats import chi2

    z = np.asarray(z, dtype=float)
    k = len(z)
    if k == 0:
        raise ValueError("at least one unit is needed")
    phi = float(np.mean(z**2))
    return phi, float(chi2.sf(k * phi, k))
