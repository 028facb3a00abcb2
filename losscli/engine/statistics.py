"""What a loss sums, declared: the engine's table does the summing, merging and resampling.

A ``Statistic`` turns a chunk's per-element loss values into columns of per-row contributions
(``contribute``) and turns the summed columns into the loss's value (``finalize``), vectorised
over any leading axes (groups, bootstrap replicates). It never keeps state of its own and never
merges: the engine's ``KeyedTable`` adds its columns per (group, block, inner key), keeps the
shifts its moments are centred on, and merges two tables by adding them.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from losscli.engine.table import Totals

Inputs = Mapping[str, np.ndarray]
# (chunk rows or None for all, inner codes or None, candidates (m, k), usable (m,)) -> shifts
Shifts = Callable[[Any, Any, np.ndarray, np.ndarray], np.ndarray]


class Contribution(NamedTuple):
    """A chunk's columns to sum: one value per contribution in each column.

    ``row`` is the chunk row of each contribution (None: one contribution per row, in order);
    ``inner`` its inner key (a sample, a class, a bin; None: key 0).
    """

    columns: list[np.ndarray | None]  # None: 1 for each contribution (a count)
    row: np.ndarray | None = None
    inner: np.ndarray | None = None


class Statistic(ABC):
    """A loss's declared sums. Subclasses set ``width`` (and ``shift_width`` for centred
    moments) and define ``contribute`` and ``finalize``; both are pure."""

    width = 2
    total = False  # the value is a sum, defined even where the weights sum to 0
    shift_width = 0
    keeps_largest = False  # the table keeps each cell's largest per-row value
    inner_units = False  # an interval resamples inner keys (whole samples), not rows
    method = "bootstrap"  # how an interval is made: "normal" (from the spread) or "bootstrap"
    # The run keeps a table per --by group (set by the engine): a contribution may then stand for
    # one row only, never for a run of rows that could span two groups.
    grouped = False
    # Every column of a contribution sums loss values, so finite sums mean finite values: the
    # engine then looks at each row's values only when a sum is not finite.
    flags_from_sums = False

    def layout(self, values: Any, inputs: Inputs) -> None:  # noqa: B027 (most need none)
        """Fix the shape of the sums from the first chunk (the number of target columns, ...)."""

    @abstractmethod
    def contribute(
        self, values: Any, weight: np.ndarray | None, inputs: Inputs, shifts: Shifts
    ) -> Contribution:
        """The chunk's columns to sum; ``shifts`` gives rows the shift of their key."""

    @abstractmethod
    def finalize(self, totals: Totals) -> np.ndarray:
        """The value per leading index of ``totals.sums`` (..., inner, width)."""

    def per_row(self, values: Any) -> np.ndarray | None:
        """Each row's loss (for --per-row and --worst), or None when rows have none."""
        return None

    def nothing_left(self, totals: Totals) -> tuple[np.ndarray, str, str] | None:
        """Where rows were seen but none counts toward the value: (mask, message, hint)."""
        return None

    def observe(self, inputs: Inputs, bits: int) -> int:
        """Facts about the whole input a loss checks across chunks (label conventions)."""
        return bits

    def moved(self, sums: np.ndarray, delta: np.ndarray) -> np.ndarray:
        """``sums`` (groups, blocks, inner, width) re-centred on shifts moved by ``delta``."""
        return sums

    def largest(self, values: Any, weight: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The per-row values a maximum looks at, and their rows (with ``keeps_largest``)."""
        raise TypeError(f"{type(self).__name__} keeps no largest value")


def mean_over_elements(values: np.ndarray) -> np.ndarray:
    """A vector row counts as the mean of its elements, as torch's ``reduction='mean'`` does."""
    return values if values.ndim == 1 else values.mean(axis=1)


def weighted(values: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """``weight * values`` row by row, where a row of weight 0 adds 0 whatever its value (IEEE's
    0 * inf and 0 * NaN are NaN): a row that does not count cannot spoil a sum, as it cannot
    reach a maximum."""
    if weight is None:
        return values
    w = weight if values.ndim == 1 else weight.reshape(-1, *([1] * (values.ndim - 1)))
    product = w * values
    if not np.isnan(product.sum()):
        return product  # the usual case: one quick pass decides it
    return np.where(w == 0, 0.0, product)


def ones_or(weight: np.ndarray | None, rows: int) -> np.ndarray:
    return np.ones(rows) if weight is None else weight


class Mean(Statistic):
    """sum(w l) / sum(w d) of per-row values (or sum(w l) with ``total``), then ``transform``.

    ``divisor`` gives each row's share d of the denominator instead of 1: PyTorch's class-weighted
    mean divides by sum(w_i c_{y_i}), and an ignored row adds 0. A denominator of 0 with rows seen
    is the input error ``nothing_left`` (message, hint). ``over_rows`` divides by the number of
    rows instead, whatever their weights (Keras' ``sum_over_batch_size``, PyTorch's ``weight=`` of
    BCELoss and HuberLoss). With ``spread`` it also sums what the
    standard error of the mean needs: with e = w (l - s d) about a shift s (the first row's loss),
    sum e^2, sum e w d and sum (w d)^2 (the ratio estimator's linearised variance).
    """

    # A row of weight 0 adds 0 whatever its loss, so an infinite loss there leaves the sums
    # finite and is not flagged: it cannot reach the value a note would explain.
    flags_from_sums = True

    def __init__(
        self,
        total: bool = False,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
        divisor: Callable[[Inputs], np.ndarray] | None = None,
        nothing_left: tuple[str, str] = ("", ""),
        over_rows: bool = False,
    ) -> None:
        self.total, self.transform, self.over_rows = total, transform, over_rows
        self.divisor, self.nothing_left_text = divisor, nothing_left
        self.method = "normal" if transform is None else "bootstrap"
        self.spread = False

    def with_spread(self) -> Mean:
        """Sum the spread too (an interval from the standard error)."""
        self.spread, self.width, self.shift_width = True, 5, 1
        return self

    def per_row(self, values):
        return mean_over_elements(values)

    def contribute(self, values, weight, inputs, shifts):
        rows = mean_over_elements(values)
        shares = None if self.divisor is None or self.total else self.divisor(inputs)
        ones = self.over_rows or (weight is None and shares is None)
        if not self.spread and ones:
            # Each row's share 1: the table counts the rows (a None column) without an array.
            return Contribution([weighted(rows, weight), None])
        if ones:
            wd = np.ones(len(rows))
        else:
            wd = ones_or(weight, len(rows)) if shares is None else weighted(shares, weight)
        columns = [weighted(rows, weight), wd]
        if self.spread:
            d = 1.0 if shares is None else shares
            usable = np.isfinite(rows) & (wd > 0)
            shift = shifts(None, None, rows.reshape(-1, 1), usable)[:, 0]
            e = weighted(rows - shift * d, weight)
            columns += [e * e, e * wd, wd * wd]
        return Contribution(columns)

    def finalize(self, totals):
        sums = totals.sums[..., 0, :]
        value = sums[..., 0] if self.total else sums[..., 0] / sums[..., 1]
        if self.transform is None:
            return value
        return self.transform(value)

    def nothing_left(self, totals):
        if self.divisor is None or self.total or self.over_rows:
            return None
        empty = (totals.sums[..., 0, 1] == 0) & (totals.counts[..., 0] > 0)
        message, hint = self.nothing_left_text
        return empty, message or "no row counts toward its mean", hint

    def standard_error(self, totals: Totals, value: np.ndarray) -> np.ndarray:
        """The standard error of the mean (of the total with ``total``); NaN under 2 rows."""
        sums, rows = totals.sums[..., 0, :], totals.counts[..., 1]
        below = sums[..., 1]
        r = sums[..., 0] / below - totals.shift[..., 0, 0]
        ee, ed, dd = sums[..., 2], sums[..., 3], sums[..., 4]
        squares = np.maximum(ee - 2 * r * ed + r * r * dd, 0.0)
        se = np.sqrt(rows / (rows - 1) * squares)
        se = se if self.total else se / np.abs(below)
        unknown = (rows < 2) | (below == 0) | ~np.isfinite(value)
        return np.where(unknown, np.nan, se)

    def moved(self, sums, delta):
        if not self.spread:
            return sums
        out = sums.copy()
        move = delta[..., 0]
        ee, ed, dd = sums[..., 2], sums[..., 3], sums[..., 4]
        out[..., 2] = ee - 2 * move * ed + move * move * dd
        out[..., 3] = ed - move * dd
        return out


class Binned(Statistic):
    """GHM: the mean over non-empty gradient-norm bins of the weighted mean loss in each bin.

    Sums per bin (the inner key): sum w l and sum w of the elements whose gradient norm
    g = ``gradient(inputs)`` (in [0, 1]) falls in it. GHM-C takes g = |p - t|, GHM-R (in the
    regression losses) g = |d| / sqrt(d^2 + mu^2).
    """

    def __init__(self, bins: int, gradient: Callable[[Inputs], np.ndarray]) -> None:
        self.edges = np.arange(bins + 1) / bins
        self.gradient = gradient

    def per_row(self, values):
        return values if values.ndim == 1 else values.mean(axis=1)

    def contribute(self, values, weight, inputs, shifts):
        gradient = self.gradient(inputs).reshape(-1)
        bins = len(self.edges) - 1
        # The edges of the reference: [i / bins, (i + 1) / bins), the last one closed at 1.
        where = np.clip(np.searchsorted(self.edges, gradient, side="right") - 1, 0, bins - 1)
        row_weight = ones_or(weight, len(values))
        w = np.broadcast_to(row_weight.reshape(-1, *([1] * (values.ndim - 1))), values.shape)
        flat_w, flat_l = w.reshape(-1), values.reshape(-1)
        row = np.repeat(np.arange(len(values)), values.size // max(1, len(values)))
        return Contribution([flat_w * flat_l, flat_w.copy()], row, where.astype(np.intp))

    def finalize(self, totals):
        losses, weights = totals.sums[..., 0], totals.sums[..., 1]
        filled = weights > 0
        means = np.where(filled, losses / np.where(filled, weights, 1.0), 0.0)
        count = filled.sum(axis=-1)
        return np.where(count > 0, means.sum(axis=-1) / np.maximum(count, 1), np.nan)


def square_root(value: np.ndarray) -> np.ndarray:
    return np.sqrt(value)


def exp_or_inf(value: np.ndarray) -> np.ndarray:
    """exp, with values past float64's range infinite (no overflow warning)."""
    with np.errstate(over="ignore"):
        return np.exp(value)


class Largest(Statistic):
    """The largest per-element value over rows of positive weight; a NaN wins."""

    width = 0
    keeps_largest = True

    def per_row(self, values):
        return values if values.ndim == 1 else values.max(axis=1)

    def contribute(self, values, weight, inputs, shifts):
        return Contribution([])

    def largest(self, values, weight):
        rows = self.per_row(values)
        if weight is None:
            return rows, np.arange(len(rows))
        kept = np.flatnonzero(weight > 0)
        return rows[kept], kept

    def finalize(self, totals):
        # A missing weight (--nan propagate) leaves its row out of the comparison above, but
        # must still reach the result, as it does in a mean.
        return np.where(np.isnan(totals.counts[..., 0]), np.nan, totals.largest)


# What kinds of non-finite per-row loss came in, as bit flags: the note on a NaN or infinite
# result says what happened instead of guessing (a missing value is blamed only if there was one).
MISSING = 1  # NaN from a NaN in the data (only --nan propagate lets one through)
UNDEFINED = 2  # NaN from numbers alone: inf - inf or 0 * inf inside the loss
PLUS_INF = 4
MINUS_INF = 8


def row_flags(values: Any, inputs: Inputs) -> np.ndarray | None:
    """Each row's flags, or None when every value is finite (one quick pass decides that).

    ``values`` is a chunk's per-element losses, (n,) or (n, k), or a tuple of such arrays.
    """
    parts = [
        np.asarray(part).reshape(len(part), -1)
        for part in (values if isinstance(values, (tuple, list)) else (values,))
        if np.asarray(part).dtype.kind == "f" and np.ndim(part)
    ]
    with np.errstate(all="ignore"):
        if all(math.isfinite(part.sum()) for part in parts):
            return None
    flags = np.zeros(len(parts[0]), dtype=np.uint8)
    for part in parts:
        flags[np.isnan(part).any(axis=1)] |= UNDEFINED
        flags[np.isposinf(part).any(axis=1)] |= PLUS_INF
        flags[np.isneginf(part).any(axis=1)] |= MINUS_INF
    # A NaN loss on a row with a NaN input is that missing value, not an undefined loss.
    blamed = _missing_rows(inputs, len(flags)) & ((flags & UNDEFINED) > 0)
    flags[blamed] -= UNDEFINED
    flags[blamed] |= MISSING
    return flags


def _missing_rows(inputs: Inputs, rows: int) -> np.ndarray:
    missing = np.zeros(rows, dtype=bool)
    for values in inputs.values():
        if isinstance(values, np.ndarray) and values.dtype.kind == "f" and len(values) == rows:
            missing |= np.isnan(values.reshape(rows, -1)).any(axis=1)
    return missing


def nonfinite_note(value: float, flags: int, weight_sum: float = 1.0) -> str | None:
    """Why ``value`` is NaN or infinite, from what came in; None for a finite value."""
    if math.isfinite(value):
        return None
    if math.isinf(value):
        if flags & (PLUS_INF | MINUS_INF):
            return "the value is infinite: the loss of some row is infinite"
        return (
            "the value is infinite: every row's loss is finite, but a sum or the final step "
            "overflowed float64 (past 1.8e308; large weights can be scaled down)"
        )
    if flags & MISSING or math.isnan(weight_sum):
        return "the value is NaN: a missing value in the data reached it (kept by nan=propagate)"
    if flags & PLUS_INF and flags & MINUS_INF:
        return "the value is NaN: some rows' losses are +inf and others -inf (inf - inf)"
    if flags & UNDEFINED:
        return "the value is NaN: the loss is undefined at some row (inf - inf or 0 * inf)"
    if flags & (PLUS_INF | MINUS_INF):
        return "the value is NaN: an infinite loss of some row leaves it undefined (inf / inf)"
    if math.isinf(weight_sum):
        return "the value is NaN: the weights sum beyond the float64 range (scale them down)"
    return "the value is NaN: the loss is undefined for these rows (0 / 0)"
