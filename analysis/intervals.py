"""Intervals over replicates: the t-interval of a mean, and keeping intervals of bounded quantities in range.

``t_interval``: mean +- t(0.975, n-1) x sd / sqrt(n), an interval for the mean over
replicates (not for one run); an all-equal sample gives [x, x].

Shares (0-1) and percentages (0-100) cannot leave their range, but a t-interval of a
mean near a bound can (a mean share of 0.01 with a wide sd gives a negative lower end).
``clip`` cuts such an interval at the bounds of the quantity: [0, 1] for a share, and
[-(hi - lo), hi - lo] for a difference of two shares. The clipped end is then the bound
itself, which the tables show as such (0.0%).
"""

from __future__ import annotations

import math

import numpy as np


def t_interval(x: np.ndarray | list[float], level: float = 0.95) -> tuple[int, float, float, float, float]:
    """(n, mean, sd, low, high): mean and t-interval of the mean; an all-equal sample gives [x, x]."""
    from scipy import stats

    a = np.asarray(x, dtype=np.float64)
    a = a[np.isfinite(a)]
    n = int(a.size)
    if n == 0:
        return 0, math.nan, math.nan, math.nan, math.nan
    mean = float(a.mean())
    if n == 1:
        return 1, mean, math.nan, math.nan, math.nan
    sd = float(a.std(ddof=1))
    if np.all(a == a[0]):
        return n, float(a[0]), 0.0, float(a[0]), float(a[0])
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return n, mean, sd, mean - half, mean + half


def clip(lo: float, hi: float, bounds: tuple[float, float] | None, diff: bool = False) -> tuple[float, float]:
    """An interval cut at the bounds of its quantity (of a difference of two such quantities if ``diff``)."""
    if bounds is None:
        return lo, hi
    b0, b1 = bounds
    if diff:
        b0, b1 = -(b1 - b0), b1 - b0
    return (max(lo, b0) if math.isfinite(lo) else lo, min(hi, b1) if math.isfinite(hi) else hi)
