"""Quantiles from explicit-bucket histogram counts, interpolated linearly inside the bucket (as
Prometheus' histogram_quantile does)."""

from __future__ import annotations

import math


def quantile(q: float, counts: list[int], bounds: list[float]) -> float:
    """`counts` has len(bounds) + 1 buckets: (-inf, b0], (b0, b1], ..., (b_last, +inf). NaN if empty."""
    total = sum(counts)
    if total <= 0 or not bounds:
        return math.nan
    rank = q * total
    seen = 0
    for i, count in enumerate(counts):
        if count and seen + count >= rank:
            if i >= len(bounds):
                return bounds[-1]  # the overflow bucket has no upper bound
            lower = bounds[i - 1] if i > 0 else min(0.0, bounds[0])
            return lower + (bounds[i] - lower) * ((rank - seen) / count)
        seen += count
    return bounds[-1]
