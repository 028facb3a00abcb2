"""The streamed Poisson bootstrap: each row's count in each replicate, as a pure function.

A replicate weighs row i by k ~ Poisson(1) instead of drawing rows with replacement, so it can be
built in one pass. The count is a hash of (seed, row, replicate): the same rows get the same counts
whatever the chunk size or the number of files, and two models scored on the same rows (compare)
are resampled identically, which makes their difference a paired bootstrap.
"""

from __future__ import annotations

import math

import numpy as np

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def _poisson_thresholds(most: int = 20) -> np.ndarray:
    """2^64 times the Poisson(1) CDF at 0, 1, ..., most: a count is how many lie at or below x."""
    cdf, term, edges = 0.0, math.exp(-1.0), []
    for k in range(most + 1):
        cdf += term
        term /= k + 1
        edges.append(min(int(cdf * 2.0**64), MASK))
    return np.array(edges, dtype=np.uint64)


THRESHOLDS = _poisson_thresholds()


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, in place on uint64 (wrapping arithmetic is intended)."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _mix_int(x: int) -> int:
    """``_mix`` on one Python integer."""
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def _offset(seed: int, replicate: int) -> np.uint64:
    return np.uint64(_mix_int(_mix_int((seed * GOLDEN + replicate + 1) & MASK)))


def poisson_counts(seed: int, index: np.ndarray, replicate: int) -> np.ndarray:
    """Poisson(1) counts (float64) of the rows numbered ``index`` in replicate ``replicate``."""
    x = index.astype(np.uint64) * np.uint64(GOLDEN)
    x += _offset(seed, replicate)
    return np.searchsorted(THRESHOLDS, _mix(x), side="right").astype(np.float64)
