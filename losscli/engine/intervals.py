"""Intervals from a loss's sums: the normal interval of a mean from its spread, and the
percentile interval of bootstrap replicates."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def normal_interval(level: float, value: float, se: float) -> dict[str, Any]:
    """value +- z se at ``level``: missing ends and se are None, and a note says why."""
    found = normal_columns(level, np.array([value], dtype=float), np.array([se], dtype=float))
    interval: dict[str, Any] = {"level": level}
    for key in ("low", "high"):
        interval[key] = _known(found[key][0])
    interval |= {"method": "normal", "se": _known(found["se"][0])}
    if found["note"][0] is not None:
        interval["note"] = found["note"][0]
    return interval


def _known(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def normal_columns(level: float, values: np.ndarray, se: np.ndarray) -> dict[str, np.ndarray]:
    """The normal intervals of many values at once: low, high, se (NaN where missing), and a
    note where there is no interval (or only part of one)."""
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + level / 2)
    with np.errstate(all="ignore"):
        low, high = values - z * se, values + z * se
    note = np.full(len(values), None, dtype=object)
    note[~np.isfinite(low) | ~np.isfinite(high)] = (
        "no interval: the spread of the rows is beyond the float64 range"
    )
    note[np.isnan(se)] = "no interval: too few rows (or weight) to estimate the spread"
    note[np.isinf(values)] = _no_interval(math.inf)
    note[np.isnan(values)] = _no_interval(math.nan)
    return {
        "low": np.where(np.isfinite(low), low, np.nan),
        "high": np.where(np.isfinite(high), high, np.nan),
        "se": np.where(np.isfinite(se), se, np.nan),
        "note": note,
    }


def _no_interval(value: float) -> str:
    return f"no interval: the value is {'NaN' if math.isnan(value) else 'infinite'}"


def bootstrap_interval(
    level: float, values: Any, value: float | None = None, blocks: int | None = None
) -> dict[str, Any]:
    """The percentile interval of the replicates' values; none if the value itself is not finite
    or most replicates have no value (NaN). An infinite end is null with a note. ``blocks`` is
    the number of blocks of rows resampled, when rows were resampled in blocks."""
    replicates = np.asarray(values, dtype=float)
    known = replicates[~np.isnan(replicates)]
    interval: dict[str, Any] = {
        "level": level,
        "low": None,
        "high": None,
        "method": "bootstrap",
        "replicates": len(replicates),
    }
    if blocks is not None:
        interval["blocks"] = blocks
    if value is not None and not math.isfinite(value):
        interval["note"] = _no_interval(value)
    elif not len(known) or len(known) * 2 < len(replicates):
        interval["note"] = "no interval: most bootstrap replicates have no value (NaN)"
    else:
        low, high = percentiles(known, [(1 - level) / 2, (1 + level) / 2])
        interval["low"] = low if math.isfinite(low) else None
        interval["high"] = high if math.isfinite(high) else None
        ends = [name for name, end in (("lower", low), ("upper", high)) if not math.isfinite(end)]
        if ends:
            interval["note"] = (
                f"the interval's {' and '.join(ends)} end is not finite: "
                "some replicates are infinite"
            )
    return interval


def percentiles(values: np.ndarray, levels: list[float]) -> list[float]:
    """np.quantile's linear percentiles; with infinite values among them, an end between an
    infinity and a number is that infinity (NumPy's interpolation would give inf - inf = NaN)."""
    if np.isfinite(values).all():
        return [float(q) for q in np.quantile(values, levels)]
    ordered = np.sort(values)
    found = []
    for level in levels:
        h = (len(ordered) - 1) * level
        low, high = ordered[math.floor(h)], ordered[math.ceil(h)]
        if low == high or h == math.floor(h):
            found.append(float(low))
        elif math.isinf(low) and math.isinf(high):
            found.append(math.nan)
        elif math.isinf(low) or math.isinf(high):
            found.append(float(low if math.isinf(low) else high))
        else:
            found.append(float(low + (h - math.floor(h)) * (high - low)))
    return found
