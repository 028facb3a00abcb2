"""The numbers behind each picture, gathered chunk by chunk in bounded memory.

Nothing here keeps every row: a histogram's bins are fixed before any row is seen (log-spaced by
decade) or widen by doubling (linear bins aligned at 0, two neighbours joined into one), so its
counts are exact sums over the chunks and never depend on how the input was cut.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Log-spaced bins: this many per decade, over every positive float: |x| from 10^LOWEST to
# 10^HIGHEST, the first bin open below (down to 0, not included: subnormal numbers) and the last
# above; 0 is counted apart.
PER_DECADE = 20
LOWEST, HIGHEST = -307, 309
# Linear bins widen (by doubling) once the values span more than this many.
MOST_BINS = 256
# A density grid (residuals) has at most this many cells along each axis.
DENSITY_CELLS = 96
# A reliability diagram's quantile bins are cut on a grid of this many cells over [0, 1].
CALIBRATION_CELLS = 1 << 16
QUANTILES = (0.5, 0.9, 0.99)
# The tail asks for a log scale when the 99th percentile is this many times the median.
LOG_TAIL = 50.0


class DoublingGrid:
    """Counts of points on a grid of cells 2^e wide along each axis, aligned at 0.

    The grid starts fine enough for the first chunk and, when the points span more than
    ``most`` cells along an axis, joins neighbouring cells in pairs (e += 1): floor(x / 2w) is
    floor(floor(x / w) / 2), so the counts are those a grid of the final width would have had.
    """

    def __init__(self, dims: int, most: int = MOST_BINS, first: int = MOST_BINS // 4) -> None:
        self.dims = dims
        self.most_cells = most
        self.first = first  # the first chunk's span takes about this many cells
        self.least = self.most = np.zeros(dims)  # the points' extremes along each axis
        self.exponent: np.ndarray | None = None  # per axis
        self.low = np.zeros(dims, np.int64)  # the first cell's index along each axis
        self.counts = np.zeros((0,) * dims, np.int64)

    def add(self, *axes: np.ndarray) -> None:
        """One array of finite numbers per axis, as long as each other: the points."""
        if not len(axes[0]):
            return
        # floor(x / 2^e) never decreases with x: the extremes' cells bound every point's.
        least = np.array([axis.min() for axis in axes])
        most = np.array([axis.max() for axis in axes])
        if self.exponent is None:
            self.exponent = np.array(
                [_exponent(lo, hi, self.first) for lo, hi in zip(least, most, strict=True)]
            )
            self.least, self.most = least, most
        least = self.least = np.minimum(self.least, least)
        most = self.most = np.maximum(self.most, most)
        needed = [_exponent(lo, hi, self.most_cells) for lo, hi in zip(least, most, strict=True)]
        steps = np.maximum(np.array(needed) - self.exponent, 0)
        while steps.any():  # at most twice: flooring may leave one cell too many
            self._coarsen(steps)
            low, high = self._cells(least), self._cells(most)
            steps = ((high - low + 1) > self.most_cells).astype(np.int64)
        low, high = self._cells(least), self._cells(most)
        self._grow(low, high)
        flat = self._cells(axes[0], 0) - self.low[0]
        for dim in range(1, self.dims):  # the row-major index of each point's cell
            flat *= self.counts.shape[dim]
            flat += self._cells(axes[dim], dim) - self.low[dim]
        self.counts += np.bincount(flat, minlength=self.counts.size).reshape(self.counts.shape)

    def _cells(self, values: np.ndarray, axis: int | None = None) -> np.ndarray:
        """The cell index of each value along ``axis`` (or of one value per axis)."""
        assert self.exponent is not None
        exponent = self.exponent if axis is None else int(self.exponent[axis])
        scaled = np.ldexp(values, -exponent)
        cells = np.floor(scaled).astype(np.int64)
        # A tiny negative value can round to -0.0 when scaled down; its cell is still -1.
        tiny = scaled == 0
        if tiny.any():
            cells[tiny & (values < 0)] = -1
        return cells

    def _high(self) -> np.ndarray:
        return self.low + np.array(self.counts.shape) - 1

    def _coarsen(self, steps: np.ndarray) -> None:
        """Cells 2^steps times wider along each axis: each cell's index is divided by 2^steps,
        rounding down (an arithmetic shift; past 63 every index is 0 or -1)."""
        assert self.exponent is not None
        self.exponent = self.exponent + steps
        if not self.counts.size:
            return
        for axis in np.flatnonzero(steps):
            index = np.arange(self.counts.shape[axis]) + self.low[axis]
            halves = np.right_shift(index, min(int(steps[axis]), 63))
            joined = np.zeros(
                self.counts.shape[:axis]
                + (halves[-1] - halves[0] + 1,)
                + self.counts.shape[axis + 1 :],
                np.int64,
            )
            np.add.at(
                np.moveaxis(joined, axis, 0), halves - halves[0], np.moveaxis(self.counts, axis, 0)
            )
            self.counts, self.low[axis] = joined, halves[0]

    def _grow(self, low: np.ndarray, high: np.ndarray) -> None:
        if not self.counts.size:
            self.low = low.copy()
            self.counts = np.zeros(tuple(high - low + 1), np.int64)
            return
        before, after = self.low - low, high - self._high()
        self.counts = np.pad(self.counts, list(zip(before, after, strict=True)))
        self.low = low.copy()

    def edges(self, axis: int) -> np.ndarray:
        """The cell boundaries along ``axis``: len(counts along it) + 1 numbers."""
        assert self.exponent is not None
        index = np.arange(self.low[axis], self.low[axis] + self.counts.shape[axis] + 1)
        with np.errstate(over="ignore"):  # an outer edge past the float range is infinite
            return np.ldexp(index.astype(np.float64), int(self.exponent[axis]))


def _exponent(low: float, high: float, cells: int) -> int:
    """The least e for which cells 2^e wide put [low, high] in about ``cells`` cells, and no
    finer than a 2^-52 of the values' magnitude (a float has no finer steps there, and a cell's
    index then fits an int64)."""
    low, high = float(low), float(high)
    magnitude = max(abs(low), abs(high))
    span = high / 2 - low / 2  # half the span: high - low may overflow
    if span <= 0:
        span = magnitude / 2 or 0.5
    finest = math.frexp(magnitude)[1] - 52 if magnitude else -1074
    return max(math.ceil(math.log2(span) + 1 - math.log2(cells)), finest)


def _log_edges() -> np.ndarray:
    with np.errstate(over="ignore"):  # the last edge is +inf: the last bin is open above
        edges = 10.0 ** (LOWEST + np.arange((HIGHEST - LOWEST) * PER_DECADE + 1) / PER_DECADE)
    edges[0] = 0.0  # and the first holds every positive number below the second edge
    return edges


LOG_EDGES = _log_edges()


class LogBins:
    """Counts of |x| in fixed log-spaced bins (PER_DECADE a decade); negatives and zeros apart."""

    def __init__(self) -> None:
        size = len(LOG_EDGES) - 1
        self.positive = np.zeros(size, np.int64)
        self.negative = np.zeros(size, np.int64)
        self.zeros = 0

    def add(self, values: np.ndarray) -> None:
        magnitude = np.abs(values)
        zero = magnitude == 0
        self.zeros += int(zero.sum())
        if zero.any():
            magnitude, values = magnitude[~zero], values[~zero]
        last = len(self.positive) - 1
        index = np.floor((np.log10(magnitude) - LOWEST) * PER_DECADE).astype(np.int64)
        np.clip(index, 0, last, out=index)
        # log10 may round across an edge: the edges themselves decide.
        index -= magnitude < LOG_EDGES[index]
        index += magnitude >= LOG_EDGES[index + 1]
        np.clip(index, 0, last, out=index)
        signs = values < 0
        self.positive += np.bincount(index[~signs], minlength=len(self.positive))
        self.negative += np.bincount(index[signs], minlength=len(self.negative))

    @staticmethod
    def edges() -> np.ndarray:
        return LOG_EDGES


@dataclass
class RowValues:
    """One loss's per-row values: count, weighted mean, extremes, and both kinds of bins."""

    rows: int = 0
    not_finite: int = 0
    weight_sum: float = 0.0
    weighted_sum: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    linear: DoublingGrid = field(default_factory=lambda: DoublingGrid(1))
    log: LogBins = field(default_factory=LogBins)

    def add(self, values: np.ndarray, weight: np.ndarray | None) -> None:
        values = np.asarray(values, np.float64).reshape(-1)
        finite = np.isfinite(values)
        kept, w = values, None if weight is None else np.asarray(weight, np.float64)
        if not finite.all():  # the usual case keeps every row without copying it
            kept, w = values[finite], None if w is None else w[finite]
        self.rows += len(kept)
        self.not_finite += len(values) - len(kept)
        if not len(kept):
            return
        with np.errstate(over="ignore", invalid="ignore"):  # near the float limit: inf, NaN
            self.weight_sum += len(kept) if w is None else float(w.sum())
            self.weighted_sum += float(kept.sum() if w is None else w @ kept)
        self.low, self.high = min(self.low, float(kept.min())), max(self.high, float(kept.max()))
        self.linear.add(kept)
        self.log.add(kept)

    def summary(self, quantiles: Sequence[float] = QUANTILES) -> dict[str, Any]:
        """The histogram drawn (log bins when the tail asks, else linear), its ECDF at each upper
        edge, the weighted mean and the quantiles (within one bin of the exact ones)."""
        if not self.rows:
            return {
                "rows": 0,
                "not_finite": self.not_finite,
                "scale": "linear",
                "edges": [],
                "counts": [],
                "ecdf": [],
                "quantiles": {},
                "mean": None,
            }
        linear_edges, linear_counts = self.linear.edges(0), self.linear.counts
        marks = {
            q: _quantile(linear_edges, linear_counts, q, self.low, self.high) for q in quantiles
        }
        log = self.low >= 0 and _tail_asks(self.log, self.low, self.high)
        if log:
            edges, counts = _trimmed(LogBins.edges(), self.log.positive)
            marks = {
                q: _quantile(edges, counts, q, self.low, self.high, self.log.zeros, True)
                for q in quantiles
            }
        else:
            edges, counts = _trimmed(linear_edges, linear_counts)
        below = np.cumsum(counts) + (self.log.zeros if log else 0)
        return {
            "rows": self.rows,
            "not_finite": self.not_finite,
            "scale": "log" if log else "linear",
            "zeros": self.log.zeros if log else 0,
            "edges": edges.tolist(),
            "counts": counts.tolist(),
            "ecdf": (below / self.rows).tolist(),
            "mean": self.weighted_sum / self.weight_sum if self.weight_sum else None,
            "min": self.low,
            "max": self.high,
            "quantiles": {str(q): value for q, value in marks.items()},
        }


def _tail_asks(log: LogBins, low: float, high: float) -> bool:
    """A long right tail: the 99th percentile far above the median (both read from log bins)."""
    edges, counts = LogBins.edges(), log.positive
    if not counts.sum() or high <= 0:
        return False
    median = _quantile(edges, counts, 0.5, low, high, log.zeros, True)
    upper = _quantile(edges, counts, 0.99, low, high, log.zeros, True)
    return median <= 0 or upper / median > LOG_TAIL


def _trimmed(edges: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bins from the first non-empty one to the last."""
    filled = np.flatnonzero(counts)
    if not len(filled):
        return edges[:1], counts[:0]
    first, last = filled[0], filled[-1]
    return edges[first : last + 2], counts[first : last + 1]


def _quantile(
    edges: np.ndarray,
    counts: np.ndarray,
    q: float,
    low: float,
    high: float,
    zeros: int = 0,
    geometric: bool = False,
) -> float:
    """The q-quantile read from binned counts: interpolated within its bin (geometrically on
    log bins), clamped to the values' extremes; ``zeros`` values lie below the first bin."""
    total = int(counts.sum()) + zeros
    rank = q * total
    if rank <= zeros:
        return 0.0 if zeros else low
    cumulative = np.cumsum(counts) + zeros
    index = int(np.searchsorted(cumulative, rank))
    index = min(index, len(counts) - 1)
    before = cumulative[index] - counts[index]
    share = (rank - before) / counts[index] if counts[index] else 0.0
    left, right = edges[index], edges[index + 1]
    left, right = float(left), float(right)
    if not math.isfinite(left) or not math.isfinite(right):  # an edge past the float range
        value = low if not math.isfinite(left) else high
    elif geometric and left > 0:
        value = left * (right / left) ** share
    else:
        value = left + share * (right - left)
    return float(min(max(value, low), high))


class Reliability:
    """A reliability diagram's bins: the count, weight, and weighted sums of the predicted
    probability and the outcome, per bin, as scikit-learn's ``calibration_curve`` bins them
    (a bin holds (lower, upper]; the first holds 0)."""

    def __init__(self, bins: int, strategy: str) -> None:
        self.bins = bins
        self.strategy = strategy
        cells = bins if strategy == "uniform" else CALIBRATION_CELLS
        self.interior = np.linspace(0.0, 1.0, cells + 1)[1:-1]
        self.sums = np.zeros((4, cells))  # count, weight, sum w p, sum w y

    def add(self, prob: np.ndarray, outcome: np.ndarray, weight: np.ndarray | None) -> None:
        keep = np.isfinite(prob) & np.isfinite(outcome)
        prob, outcome = prob[keep], outcome[keep]
        w = np.ones(len(prob)) if weight is None else np.asarray(weight, np.float64)[keep]
        if self.strategy == "quantile":
            # Cell k holds (k / 2^16, (k + 1) / 2^16]: scaling by 2^16 is exact, so ceil finds it
            # as searching the edges would, without a search over 65535 of them.
            cell = np.clip(np.ceil(prob * CALIBRATION_CELLS) - 1, 0, CALIBRATION_CELLS - 1)
            cell = cell.astype(np.intp)
        else:
            cell = np.searchsorted(self.interior, prob)
        size = self.sums.shape[1]
        for row, values in enumerate((np.ones(len(prob)), w, w * prob, w * outcome)):
            self.sums[row] += np.bincount(cell, weights=values, minlength=size)

    def summary(self) -> dict[str, Any]:
        """Per non-empty bin: mean predicted probability, observed frequency and rows; the edges
        and the expected calibration error (sum of weight share x |observed - predicted|)."""
        sums, edges = self.sums, np.linspace(0.0, 1.0, self.sums.shape[1] + 1)
        if self.strategy == "quantile":
            sums, edges = _quantile_bins(self.sums, self.bins)
        count, weight, prob, outcome = sums
        filled = count > 0
        predicted, observed = prob[filled] / weight[filled], outcome[filled] / weight[filled]
        share = weight[filled] / weight.sum() if weight.sum() else weight[filled]
        return {
            "strategy": self.strategy,
            "bins": self.bins,
            "edges": edges.tolist(),
            "prob_pred": predicted.tolist(),
            "prob_true": observed.tolist(),
            "counts": count[filled].astype(np.int64).tolist(),
            "bin_low": edges[:-1][filled].tolist(),
            "bin_high": edges[1:][filled].tolist(),
            "rows": int(count.sum()),
            "ece": float(share @ np.abs(observed - predicted)) if filled.any() else None,
        }


def _quantile_bins(cells: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Fine cells joined into ``bins`` bins cut where ``np.percentile`` would put the edges.

    scikit-learn's edge j is the percentile 100 j / bins of the probabilities: it lies between
    the values of rank floor(h) and floor(h) + 1 (h = (n - 1) j / bins), so bin j ends with the
    cell holding rank floor(h). Exact whenever that cell holds one distinct value.
    """
    count = cells[0]
    n = int(count.sum())
    ranks = np.floor((n - 1) * (np.linspace(0, 1, bins + 1) * 100 / 100)[1:-1]).astype(np.int64)
    cumulative = np.cumsum(count)
    last_cell = np.searchsorted(cumulative, ranks, side="right")  # first cell with cum > rank
    cuts = np.concatenate([[0], last_cell + 1, [cells.shape[1]]])
    padded = np.pad(cells, ((0, 0), (0, 1)))  # a cut may fall after the last cell
    joined = np.add.reduceat(padded, np.minimum(cuts[:-1], cells.shape[1]), axis=1)
    empty = cuts[1:] == cuts[:-1]
    joined[:, empty] = 0
    return joined, cuts / cells.shape[1]


class Residuals:
    """Prediction against target and residual (target - prediction) against prediction, as
    density grids; the first ``keep`` points too, drawn as they are when the input is small."""

    def __init__(self, keep: int = 2000) -> None:
        self.fit = DoublingGrid(2, DENSITY_CELLS, DENSITY_CELLS // 2)
        self.spread = DoublingGrid(2, DENSITY_CELLS, DENSITY_CELLS // 2)
        self.keep = keep
        self.points: list[np.ndarray] = []
        self.rows = 0

    def add(self, pred: np.ndarray, target: np.ndarray) -> None:
        pred, target = pred.reshape(-1), target.reshape(-1)
        finite = np.isfinite(pred) & np.isfinite(target)
        pred, target = pred[finite], target[finite]
        self.rows += len(pred)
        self.fit.add(target, pred)
        self.spread.add(pred, target - pred)
        room = self.keep - sum(len(p) for p in self.points)
        if room > 0:
            self.points.append(np.column_stack([target[:room], pred[:room]]))

    def summary(self) -> dict[str, Any]:
        points = np.concatenate(self.points) if self.points else np.empty((0, 2))
        small = self.rows <= self.keep
        return {
            "rows": self.rows,
            "prediction_vs_target": _grid(self.fit, "target", "prediction"),
            "residual_vs_prediction": _grid(self.spread, "prediction", "residual"),
            "points": {"target": points[:, 0].tolist(), "prediction": points[:, 1].tolist()}
            if small
            else None,
        }


def _grid(grid: DoublingGrid, x: str, y: str) -> dict[str, Any]:
    if grid.exponent is None:
        return {"x": x, "y": y, "x_edges": [], "y_edges": [], "counts": []}
    return {
        "x": x,
        "y": y,
        "x_edges": grid.edges(0).tolist(),
        "y_edges": grid.edges(1).tolist(),
        "counts": grid.counts.tolist(),  # counts[i][j]: x bin i, y bin j
    }
