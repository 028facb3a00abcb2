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


# An interval resamples blocks of rows: row i is its own block while i < BLOCKS, so a small input
# gets the exact per-row bootstrap; later rows join a block by a hash of their number, so the
# cost of a replicate grows with the blocks, not the rows.
BLOCKS = 1024


def blocks_of(rows: np.ndarray, blocks: int = BLOCKS) -> np.ndarray:
    """The block of each row numbered ``rows`` (a pure function of the number)."""
    index = rows.astype(np.int64)
    hashed = _mix(index.astype(np.uint64) * np.uint64(GOLDEN)) % np.uint64(blocks)
    return np.where(index < blocks, index, hashed.astype(np.int64)).astype(np.intp)


def count_matrix(seed: int, units: np.ndarray, replicates: range) -> np.ndarray:
    """(replicates, units) Poisson(1) counts: how often each unit is drawn in each replicate."""
    return np.stack([poisson_counts(seed, units, b) for b in replicates])
