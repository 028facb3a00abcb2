"""Quantiles from additive sums: a log-bucket sketch whose buckets are a table's inner keys.

A value v falls in the bucket (gamma^(k-1), gamma^k] of |v| (gamma = (1 + a) / (1 - a), a the
relative accuracy) on its side of zero; zero has a bucket of its own. Each bucket sums w,
w (v - c) and w (v - c)^2 about its centre c = 2 gamma^k / (gamma + 1), so the state is sums
(merged by adding, in any order) and its size grows with the spread of the values, never with the
rows: about ln(max / min) / (2 a) buckets per side.

A quantile lands in one bucket. When every value in it is the same number (a spread of 0, as with
discrete values, ties or small data), that number is returned exactly; otherwise the bucket's
centre, within a relative ``a`` of every value the bucket holds (the DDSketch bound).
"""

from __future__ import annotations

import math

import numpy as np

# A bucket whose values spread by less than this share of its width holds one distinct value.
PURE = 1e-7


class LogBuckets:
    """The bucket codes of a relative accuracy: 0 for zero (and for values that are not finite,
    which then spoil that bucket's sums and the result, as they would a mean), odd codes for
    positive values and even ones for negative values, small codes for buckets near 1."""

    def __init__(self, accuracy: float) -> None:
        self.accuracy = accuracy
        self.gamma = (1.0 + accuracy) / (1.0 - accuracy)
        self.log_gamma = math.log(self.gamma)

    def codes(self, values: np.ndarray) -> np.ndarray:
        size = np.abs(values)
        usable = np.isfinite(size) & (size > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.ceil(np.log(np.where(usable, size, 1.0)) / self.log_gamma).astype(np.int64)
        zigzag = np.where(k >= 0, 2 * k, -2 * k - 1)  # 0, -1, 1, -2, ... -> 0, 1, 2, 3, ...
        codes = 1 + 2 * zigzag + (values < 0)
        return np.where(usable, codes, 0).astype(np.intp)

    def centres(self, codes: np.ndarray) -> np.ndarray:
        """The centre of each bucket: its value to the stated accuracy, and the shift its sums
        are taken about."""
        codes = np.asarray(codes, dtype=np.int64)
        zigzag = (codes - 1) // 2
        negative = (codes - 1) % 2 == 1
        k = np.where(zigzag % 2 == 0, zigzag // 2, -(zigzag + 1) // 2)
        with np.errstate(over="ignore"):
            centre = 2.0 * np.exp(k * self.log_gamma) / (self.gamma + 1.0)
        return np.where(codes == 0, 0.0, np.where(negative, -centre, centre))


class Buckets:
    """One output's buckets, in value order: weight, value and spread of each non-empty one."""

    def __init__(
        self,
        weight: np.ndarray,
        first: np.ndarray,
        second: np.ndarray,
        centre: np.ndarray,
        accuracy: float,
    ) -> None:
        kept = weight != 0
        order = np.argsort(centre[kept], kind="stable")
        self.weight = weight[kept][order]
        self.centre = centre[kept][order]
        mean_offset = first[kept][order] / self.weight
        spread = second[kept][order] / self.weight - mean_offset * mean_offset
        width = 2.0 * accuracy * np.abs(self.centre) + np.finfo(float).tiny
        pure = spread <= (PURE * width) ** 2
        # A value that is not finite (it is kept in the bucket of 0) leaves the result NaN.
        self.undefined = not np.isfinite(mean_offset).all()
        # A bucket of one distinct value gives it back (its offset from the centre is exact up
        # to the rounding of a mean); any other bucket gives its centre.
        self.value = np.where(pure, self.centre + mean_offset, self.centre)
        self.offset = first[kept][order]  # sum w (v - centre)

    def quantile(self, q: float) -> float:
        """scikit-learn's weighted percentile with ``average=True``: the first value whose
        cumulative weight reaches q W, averaged with the next one where it reaches q W exactly."""
        if not len(self.weight) or self.undefined:
            return math.nan
        cumulative = np.cumsum(self.weight)
        rank = q * cumulative[-1]
        at = min(int(np.searchsorted(cumulative, rank, side="left")), len(cumulative) - 1)
        value = float(self.value[at])
        if cumulative[at] - rank > np.finfo(float).eps or at + 1 == len(cumulative):
            return value
        return (value + float(self.value[at + 1])) / 2.0

    def pinball_about(self, q: float, alpha: float) -> float:
        """sum_i w_i pinball_alpha(v_i - q): exact for buckets that lie wholly on one side of q
        (their sums give it) and for the bucket holding q when its values all equal q."""
        # sum w (v - q) per bucket, from the offsets about its centre.
        excess = self.weight * (self.centre - q) + self.offset
        return float(np.sum(np.where(excess > 0, alpha * excess, (alpha - 1.0) * excess)))


def bucket_sums(values: np.ndarray, centres: np.ndarray, weight: np.ndarray) -> list[np.ndarray]:
    """The three columns a value adds to its bucket: w, w (v - c), w (v - c)^2."""
    offset = values - centres
    weighted_offset = weight * offset
    return [weight, weighted_offset, weighted_offset * offset]
