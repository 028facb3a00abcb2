"""Runs of equal consecutive values: keys that come in runs (an image's pixels, rows sorted by a
group) are taken a run at a time. Imports nothing of losscli's: readers, engine and losses use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# Keys whose runs of equal values average at least this many rows are taken run by run.
RUN_LENGTH = 16
RUN_PROBE = 4096  # rows whose runs are looked at first


def run_heads(codes: np.ndarray) -> np.ndarray:
    """Where each run of equal consecutive values of a NumPy array starts, as int64: 0 (unless
    ``codes`` is empty), then every position whose value differs from the one before it. A NaN
    equals nothing, so it starts a run of its own."""
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    after = np.flatnonzero(codes[1:] != codes[:-1])
    starts = np.empty(len(after) + 1, dtype=np.int64)
    starts[0] = 0
    np.add(after, 1, out=starts[1:])
    return starts


def long_runs(values: Any, heads: Callable[[Any], np.ndarray] = run_heads) -> np.ndarray | None:
    """``heads(values)`` (the runs' starts) when the runs average RUN_LENGTH rows or more, else
    None. ``values`` is anything ``heads`` reads that slices like a sequence (NumPy, Arrow).

    Runs a quarter as long as that in the first RUN_PROBE rows (ids in random order) give None
    without comparing the rest: a caller then takes the rows one by one, to the same result.
    """
    size = len(values)
    if size > 4 * RUN_PROBE and len(heads(values[:RUN_PROBE])) * RUN_LENGTH > 4 * RUN_PROBE:
        return None
    starts = heads(values)
    return None if len(starts) * RUN_LENGTH > size else starts
