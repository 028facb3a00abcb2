"""The engine's one state: compensated sums of a loss's declared statistics, keyed by cell.

A cell is (group, block, inner): the --by group, the resampling block of an interval, and a key a
loss sums within (a sample for per-sample dice, a class for the center loss, a bin for ghm_c).
Each is a dense integer code, so the state is a few arrays whose size grows with the groups,
blocks and inner keys, never with the rows. Two tables of one loss merge by adding arrays: no
loss writes a merge of its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from losscli.engine.runs import long_runs
from losscli.errors import InputError

# Keyed rows are folded in passes of at least PENDING_ROWS rows (or as many as there are cells),
# never more than MAX_PENDING_ROWS at once: the memory they wait in stays bounded.
PENDING_ROWS = 1 << 20
SMALL_TABLE = 1 << 16
MAX_PENDING_ROWS = 1 << 20
# The numbers a table may hold (cells x columns); past it a run stops with the limit named.
MAX_STATE = 1 << 27


class CompensatedSum:
    """Neumaier (improved Kahan) summation of chunk totals; works on floats and float arrays.

    Within a chunk NumPy's pairwise summation keeps the error at O(log n) ulps; across chunks the
    compensation term carries what each addition rounded away.
    """

    __slots__ = ("total", "compensation")

    def __init__(self, shape: tuple[int, ...] = ()) -> None:
        self.total: Any = np.zeros(shape) if shape else 0.0
        self.compensation: Any = np.zeros(shape) if shape else 0.0

    def add(self, value: Any) -> None:
        if np.ndim(self.total) or np.ndim(value):
            with np.errstate(all="ignore"):  # the infinities are dealt with: no warning
                self.total, lost = two_sum(self.total, value)
                self.compensation = self.compensation + lost
            return
        total = self.total + value
        if not math.isfinite(total):
            # Once a sum is infinite (or NaN) nothing was rounded away: inf - inf here would
            # turn an honest +inf into NaN.
            lost = 0.0
        elif abs(self.total) >= abs(value):
            lost = (self.total - total) + value
        else:
            lost = (value - total) + self.total
        self.compensation = self.compensation + lost
        self.total = total

    def merge(self, other: CompensatedSum) -> None:
        self.add(other.total)
        self.compensation = self.compensation + other.compensation

    @property
    def value(self) -> Any:
        return self.value_of(slice(None))

    def value_of(self, cells: Any) -> Any:
        """The compensated sum of ``cells`` (an index of the sums' array; ``slice(None)``: all)."""
        # The compensation is finite; a non-finite total is the sum as it stands.
        if np.ndim(self.total):
            total = self.total[cells]
            with np.errstate(all="ignore"):
                value = total + self.compensation[cells]
            stands = ~np.isfinite(total)
            value[stands] = total[stands]
            return value
        return self.total + self.compensation if math.isfinite(self.total) else self.total


SLICE_CELLS = 1 << 15  # cells compensated at a time when pending rows are folded


def two_sum(a: Any, b: Any) -> tuple[Any, Any]:
    """a + b and what the addition rounded away (0 where the sum is not finite).

    Knuth's branch-free form: with t = a + b and v = t - a, the error is (a - (t - v)) + (b - v).
    """
    total = a + b
    v = total - a
    lost = total - v
    np.subtract(a, lost, out=lost)
    np.subtract(b, v, out=v)
    lost += v
    finite = np.isfinite(total)
    if not finite.all():
        lost = np.where(finite, lost, 0.0)
    return total, lost


def _dense_columns(
    parts: list[tuple[Any, ...]],
    used: int,
    rows: int,
    shared: dict[Any, Any],
    spare: dict[str, np.ndarray],
) -> Iterator[np.ndarray]:
    """Each column of the parts summed into each of ``used`` cells, one column at a time (a
    column of ones, the rows per cell, counted once). ``shared`` keeps joined cells and their
    counts for parts of the same rows (a chunk's sums and its counts share their cells);
    ``spare`` holds the arrays parts are joined in, from one flush to the next."""
    width = len(parts[0][1])
    if len(parts) * used < rows:
        # Fewer cells than rows per part: part by part, without a copy of the waiting rows.
        for j in range(width):
            sums = np.zeros(used)
            for cells, columns, _ in parts:
                sums += np.bincount(cells, columns[j], used)
            yield sums
        return
    # Many cells (a million groups): the parts joined, one pass over the cells per column.
    key = (used, *(id(part[0]) for part in parts))
    if key not in shared:
        shared[key] = [_joined([part[0] for part in parts], spare, "cells"), None]
    cells = shared[key][0]
    for j in range(width):
        each = [part[1][j] for part in parts]
        if any(column is not None for column in each):
            pieces = [
                np.ones(len(p[0])) if c is None else c for p, c in zip(parts, each, strict=True)
            ]
            yield np.bincount(cells, _joined(pieces, spare, "column"), used)
            continue
        if shared[key][1] is None:
            shared[key][1] = np.bincount(cells, None, used)  # whole numbers, added as they are
        yield shared[key][1]


def _joined(arrays: list[np.ndarray], spare: dict[str, np.ndarray], name: str) -> np.ndarray:
    """``arrays`` end to end, in ``spare[name]`` (grown as needed): a flush writes into the pages
    the one before it faulted in, not into fresh ones (16 MB a million rows)."""
    if len(arrays) == 1:
        return arrays[0]
    rows = sum(len(array) for array in arrays)
    dtype = np.result_type(*arrays)
    held = spare.get(name)
    if held is None or len(held) < rows or held.dtype != dtype:
        held = spare[name] = np.empty(rows, dtype)
    return np.concatenate(arrays, out=held[:rows])


def _joined_parts(parts: list[tuple[Any, ...]]) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """The pending parts' cells and columns, each as one array (None: a column of ones)."""
    if len(parts) == 1:
        return parts[0][0], list(parts[0][1])
    cells = np.concatenate([part[0] for part in parts])
    columns: list[np.ndarray | None] = []
    for each in zip(*(part[1] for part in parts), strict=True):
        if all(column is None for column in each):
            columns.append(None)
            continue
        pieces = [np.ones(len(p[0])) if c is None else c for p, c in zip(parts, each, strict=True)]
        columns.append(np.concatenate(pieces))
    return cells, columns


def _grown(values: np.ndarray, shape: tuple[int, ...], fill: Any = 0) -> np.ndarray:
    """``values`` in a larger array of ``shape`` (``fill`` elsewhere), the old part kept."""
    # Zeros come from the allocator untouched: room not yet used costs no memory or time.
    out = np.zeros(shape, values.dtype) if not fill else np.full(shape, fill, values.dtype)
    out[tuple(slice(0, n) for n in values.shape)] = values
    return out


class KeyedTable:
    """Compensated sums per cell (group, block, inner) of ``width`` declared columns.

    Per (group, block) it also keeps the weight and the row count of the rows seen, and the
    largest value when a loss declares one; per group the non-finite flags of its rows; per
    (group, inner) the shift a loss centres its moments on (set from the first row seen, so a
    large mean with a small spread loses no digits). ``blocks`` is fixed; groups and inner keys
    grow as their codes are seen.
    """

    def __init__(
        self, width: int, blocks: int = 1, shift_width: int = 0, keeps_largest: bool = False
    ) -> None:
        self.width, self.blocks, self.shift_width = width, blocks, shift_width
        self.keeps_largest = keeps_largest  # else ``largest`` stays one row of -inf
        self.groups, self.inner = 1, 1  # extents seen (a table always has cell 0)
        self.sums = CompensatedSum((1, blocks, 1, width))
        self.counts = CompensatedSum((1, blocks, 2))  # weight, rows
        self.largest = np.full((1, blocks), -np.inf)
        self.flags = np.zeros(1, dtype=np.uint8)
        self.shift = np.zeros((1, 1, shift_width))
        self.shifted = np.zeros((1, 1), dtype=bool)
        self.bits = 0  # what a loss observes about the whole input (label conventions)
        # Keyed rows wait here until there are about as many as cells: one dense pass over the
        # cells then folds them all, instead of one pass (or a sort) per chunk.
        self.pending: list[tuple[CompensatedSum, np.ndarray, list[np.ndarray], int]] = []
        self.pending_rows = 0
        self._waiting = [0, 0]  # rows waiting for the counts, for the sums
        self._runs: tuple[np.ndarray, np.ndarray | None] | None = None  # last cells' long runs
        self._spare: dict[str, np.ndarray] = {}  # where pending rows are joined (_dense_columns)

    @property
    def capacity(self) -> tuple[int, int]:
        return self.sums.total.shape[0], self.sums.total.shape[2]

    def reserve(self, groups: int, inner: int) -> None:
        """Make room for group codes below ``groups`` and inner codes below ``inner``."""
        self.groups, self.inner = max(self.groups, groups), max(self.inner, inner)
        have_groups, have_inner = self.capacity
        if groups <= have_groups and inner <= have_inner:
            return
        self._check_size(self.groups, self.inner)
        # Room for four times the groups: the allocator maps room not yet used without touching
        # it, and each growth copies (and faults in) what is held. Half as much again for inner
        # keys, whose growth also folds the pending rows.
        most = MAX_STATE // (self.blocks * max(inner, have_inner) * (self.width + 2))
        g = have_groups if groups <= have_groups else max(groups, min(4 * have_groups, most))
        i = max(have_inner, inner if inner <= have_inner else max(inner, have_inner * 3 // 2))
        self._resize(g, i)

    def _check_size(self, groups: int, inner: int) -> None:
        if groups * self.blocks * inner * (self.width + 2) > MAX_STATE:
            raise InputError(
                f"The state of this run would hold {groups:,} groups x {self.blocks:,} blocks x "
                f"{inner:,} inner keys x {self.width} sums, more than the limit of "
                f"{MAX_STATE:,} numbers.",
                "Use coarser groups, fewer samples or classes, or leave out the interval.",
            )

    def _resize(self, g: int, i: int) -> None:
        """Hold ``g`` groups and ``i`` inner keys (never fewer than it holds)."""
        if (g, i) == self.capacity:
            return
        if i != self.capacity[1]:
            self.flush()  # the pending rows' cell numbers count this many inner keys
        self._check_size(g, i)
        for total in (self.sums, self.counts):
            tail = total.total.shape[1:]
            shape = (g, *tail) if total is self.counts else (g, tail[0], i, tail[2])
            total.total = _grown(total.total, shape)
            total.compensation = _grown(total.compensation, shape)
        if self.keeps_largest:
            self.largest = _grown(self.largest, (g, self.blocks), -np.inf)
        self.flags = _grown(self.flags, (g,))
        self.shift = _grown(self.shift, (g, i, self.shift_width))
        self.shifted = _grown(self.shifted, (g, i), False)

    # ------------------------------------------------------------------ adding rows

    def add(
        self,
        columns: Sequence[np.ndarray | None],
        group: np.ndarray | None,
        block: np.ndarray | None,
        inner: np.ndarray | None,
        size: int,
    ) -> list[float] | None:
        """Fold ``size`` contributions: ``columns`` of (size,) values (None: 1 each), and each
        one's codes (None: all 0). Gives the columns' sums when it took them whole (all in one
        cell), else None."""
        if not size:
            return None
        if group is None and block is None and inner is None:
            totals = [float(size) if c is None else float(c.sum()) for c in columns]
            self.sums.add(np.array(totals).reshape(1, 1, 1, -1))
            return totals
        cells = self._cells(group, block, inner, size)
        self._pend(self.sums, cells, list(columns), self.width)
        return None

    def count(self, weight: np.ndarray | None, rows: int, group: Any, block: Any) -> None:
        """Fold the weight and the number of a chunk's rows into their (group, block)."""
        if group is None and block is None:
            weights = float(rows) if weight is None else float(weight.sum())
            self.counts.add(np.array([weights, float(rows)]).reshape(1, 1, 2))
            return
        cells = self._cells(group, block, None, rows, inner_width=1)
        self._pend(self.counts, cells, [weight, None], 2)

    def observe_largest(self, values: np.ndarray, group: Any, block: Any) -> None:
        """Keep each (group, block)'s largest value; a NaN wins, as in the result."""
        if not len(values):
            return
        if group is None and block is None:
            self.largest[0, 0] = np.maximum(self.largest[0, 0], values.max())
            return
        cells = self._cells(group, block, None, len(values), inner_width=1)
        np.maximum.at(self.largest.reshape(-1), cells, values)

    def flag(self, flags: np.ndarray, group: np.ndarray | None) -> None:
        """OR each row's non-finite flags into its group's."""
        if group is None:
            self.flags[0] |= np.bitwise_or.reduce(flags)
        else:
            np.bitwise_or.at(self.flags, group, flags)

    def _cells(
        self, group: Any, block: Any, inner: Any, size: int, inner_width: int | None = None
    ) -> np.ndarray:
        """Each row's flat cell index in an array of (groups, blocks, inner_width) cells."""
        width = self.capacity[1] if inner_width is None else inner_width
        terms = [
            codes if scale == 1 else codes * scale
            for codes, scale in ((group, self.blocks * width), (block, width), (inner, 1))
            if codes is not None
        ]
        if not terms:
            return np.zeros(size, dtype=np.intp)
        flat = terms[0].astype(np.intp, copy=False)  # read, never written in place
        for term in terms[1:]:
            flat = flat + term
        return flat

    def _pend(
        self, total: CompensatedSum, cells: np.ndarray, columns: list[Any], width: int
    ) -> None:
        # A chunk's sums and counts share their cells: their runs are found once.
        if self._runs is None or self._runs[0] is not cells:
            self._runs = (cells, long_runs(cells))
        starts = self._runs[1]  # None: runs too short to sum first
        if starts is not None:
            # Keys that come in runs (an image's pixels, rows sorted by group): each run is
            # summed now, and only the runs wait.
            runs = np.diff(starts, append=len(cells)).astype(float)
            columns = [runs if c is None else np.add.reduceat(c, starts) for c in columns]
            cells = cells[starts]
        self.pending.append((total, cells, columns, width))  # a None column: 1 per row
        # Rows may wait twice (their sums and their counts): count the larger share.
        waiting = self._waiting[total is self.sums] + len(cells)
        self._waiting[total is self.sums] = waiting
        self.pending_rows = max(self.pending_rows, waiting)
        size = self.groups * self.blocks * self.capacity[1]
        # A small table waits until it has as many rows as cells, then costs one pass over its
        # cells: an interval's 1024 blocks fold chunk by chunk, as many rows come in each; a few
        # images' sums, a few rows a chunk, fold seldom.
        limit = size if size <= SMALL_TABLE else min(max(size, PENDING_ROWS), MAX_PENDING_ROWS)
        if self.pending_rows >= limit:
            self.flush()

    def flush(self) -> None:
        """Fold the pending rows into the sums."""
        pending, self.pending, self.pending_rows = self.pending, [], 0
        self._waiting = [0, 0]
        shared: dict[Any, Any] = {}  # held while ``pending`` holds the cells it is keyed by
        for total in (self.sums, self.counts):
            parts = [part[1:] for part in pending if part[0] is total]
            if parts:
                self._add_parts(total, parts, shared)

    def _add_parts(
        self, total: CompensatedSum, parts: list[tuple[Any, ...]], shared: dict[Any, Any]
    ) -> None:
        """Add the parts' (cells, columns, width) rows to ``total``, compensated once."""
        width = parts[0][2]
        # The cells of the groups seen come first: the capacity past them is still zero.
        used = self.groups * total.total[0].size // width
        flat_total = total.total.reshape(-1, width)[:used]
        flat_lost = total.compensation.reshape(-1, width)[:used]
        rows = sum(len(part[0]) for part in parts)
        if 4 * rows >= used:
            for j, sums in enumerate(_dense_columns(parts, used, rows, shared, self._spare)):
                if all(part[1][j] is None for part in parts):
                    # Counts of rows: whole numbers below 2^53 add exactly, nothing is lost.
                    flat_total[:, j] += sums
                    continue
                # Compensated a slice at a time: the temporaries stay small.
                for start in range(0, used, SLICE_CELLS):
                    at = slice(start, start + SLICE_CELLS)
                    with np.errstate(all="ignore"):
                        flat_total[at, j], lost = two_sum(flat_total[at, j], sums[at])
                    flat_lost[at, j] += lost
            return
        # Few cells of many touched: sum by the touched cells only, not over every cell.
        cells, columns = _joined_parts(parts)
        touched, where = np.unique(cells, return_inverse=True)
        sums = np.column_stack([np.bincount(where, c, len(touched)) for c in columns])
        with np.errstate(all="ignore"):
            flat_total[touched], lost = two_sum(flat_total[touched], sums)
        flat_lost[touched] += lost

    # ------------------------------------------------------------------ shifts

    def shifts_for(
        self,
        group: np.ndarray | None,
        inner: np.ndarray | None,
        candidates: np.ndarray,
        usable: np.ndarray,
    ) -> np.ndarray:
        """Each row's shift (its (group, inner)'s), set from the first usable row of a new key.

        ``candidates`` (m, shift_width) are the rows' own values; ``usable`` marks rows fit to
        centre on (finite, of positive weight): a shift of inf would make every value NaN.
        """
        g = np.zeros(len(candidates), np.intp) if group is None else group
        i = np.zeros(len(candidates), np.intp) if inner is None else inner
        fresh = usable & ~self.shifted[g, i]
        if fresh.any():
            rows = np.flatnonzero(fresh)
            keys = g[rows] * self.capacity[1] + i[rows]
            _, first = np.unique(keys, return_index=True)
            chosen = rows[first]
            self.shift[g[chosen], i[chosen]] = candidates[chosen]
            self.shifted[g[chosen], i[chosen]] = True
        return self.shift[g, i]

    # ------------------------------------------------------------------ merging and reading

    def merge(self, other: KeyedTable, moved: Callable[..., np.ndarray] | None = None) -> None:
        """Add ``other``'s sums to these; ``moved`` re-centres its moments on these shifts."""
        self.flush()
        other.flush()
        self.reserve(other.groups, other.inner)
        other.reserve(self.groups, self.inner)
        size = tuple(max(a, b) for a, b in zip(self.capacity, other.capacity, strict=True))
        self._resize(*size)
        other._resize(*size)
        sums = other.sums.value
        if self.shift_width and moved is not None:
            both = self.shifted & other.shifted
            delta = np.where(both[..., None], self.shift - other.shift, 0.0)
            sums = moved(sums, delta[:, None, :, :])
            self.shift = np.where(self.shifted[..., None], self.shift, other.shift)
            self.shifted |= other.shifted
        self.sums.add(sums)
        self.counts.merge(other.counts)
        self.largest = np.maximum(self.largest, other.largest)
        self.flags |= other.flags
        self.bits |= other.bits

    def __getstate__(self) -> dict[str, Any]:
        """The table as sent to another process: only the groups and inner keys seen, not the
        room grown for more (a cluster's tallies travel between workers)."""
        self.flush()
        g, i = self.groups, self.inner
        state = dict(self.__dict__)
        state["_spare"], state["_runs"] = {}, None  # working arrays, not state
        for name, cut in (("sums", (slice(g), slice(None), slice(i))), ("counts", (slice(g),))):
            whole, trimmed = getattr(self, name), CompensatedSum()
            trimmed.total = whole.total[cut].copy()
            trimmed.compensation = whole.compensation[cut].copy()
            state[name] = trimmed
        state["largest"] = self.largest[:g].copy()  # one row of -inf unless it keeps largest
        state["flags"] = self.flags[:g].copy()
        state["shift"], state["shifted"] = self.shift[:g, :i].copy(), self.shifted[:g, :i].copy()
        return state

    def regroup(self, codes: np.ndarray) -> None:
        """Renumber the groups: group g becomes ``codes[g]`` (distinct codes, as another run
        numbered the same groups), so that the table merges with that run's."""
        self.flush()
        size = int(codes.max()) + 1 if len(codes) else 1
        used = codes[: self.groups]
        for total in (self.sums, self.counts):
            for name in ("total", "compensation"):
                old = getattr(total, name)
                new = np.zeros((size, *old.shape[1:]))
                new[used] = old[: len(used)]
                setattr(total, name, new)
        fills = [("flags", 0), ("shift", 0.0), ("shifted", False)]
        if self.keeps_largest:
            fills.append(("largest", -np.inf))
        for name, fill in fills:
            old = getattr(self, name)
            new = np.full((size, *old.shape[1:]), fill, dtype=old.dtype)
            new[used] = old[: len(used)]
            setattr(self, name, new)
        self.groups = size

    def _no_largest(self, groups: int) -> np.ndarray:
        """-inf for every (group, block): what a loss that keeps no largest value reads."""
        return np.broadcast_to(self.largest[:1], (groups, self.blocks))

    def view(self) -> Totals:
        """The sums of the groups and inner keys seen, as plain arrays."""
        self.flush()
        self._spare = {}  # the sums are read: the rows they were joined in are let go
        g, i = self.groups, self.inner
        return Totals(
            sums=self.sums.value_of((slice(0, g), slice(None), slice(0, i))),
            counts=self.counts.value_of(slice(0, g)),
            largest=self.largest[:g] if self.keeps_largest else self._no_largest(g),
            flags=self.flags[:g],
            shift=self.shift[:g, :i],
        )


class Totals:
    """A table's sums as arrays: ``sums`` (groups, blocks, inner, width), ``counts`` (groups,
    blocks, 2: weight and rows), ``largest`` (groups, blocks), ``flags`` (groups,), ``shift``
    (groups, inner, shift width)."""

    def __init__(self, sums, counts, largest, flags, shift, draws=None) -> None:
        self.sums, self.counts, self.largest = sums, counts, largest
        self.flags, self.shift = flags, shift
        # With inner keys resampled: how often each was drawn (replicates, 1, inner), for a loss
        # that averages over inner keys (a sample drawn twice counts twice in the mean).
        self.draws = draws

    def pooled(self) -> Totals:
        """Every block added together: the sums of the rows as they are."""
        if self.sums.shape[1] == 1:  # one block: the sums themselves, without a copy
            sums, counts, largest = self.sums[:, 0], self.counts[:, 0], self.largest[:, 0]
            return Totals(sums, counts, largest, self.flags, self.shift)
        return Totals(
            self.sums.sum(axis=1),
            self.counts.sum(axis=1),
            self.largest.max(axis=1),
            self.flags,
            self.shift,
        )

    def resampled(self, counts: np.ndarray, largest: bool = False) -> Totals:
        """Replicates: ``counts`` (replicates, blocks) of each block, leading the group axis;
        with ``largest``, each replicate's largest value over the blocks it draws."""
        # A matrix product over the blocks (BLAS), not a loop over replicates x groups x blocks.
        with np.errstate(all="ignore"):  # inf x 0 in a replicate is NaN, said in its note
            sums = np.tensordot(counts, self.sums, axes=([1], [1]))
            totals = np.tensordot(counts, self.counts, axes=([1], [1]))
        most = np.full(totals.shape[:2], -np.inf)
        if largest:
            drawn = counts > 0
            for g in range(self.largest.shape[0]):
                most[:, g] = np.where(drawn, self.largest[g], -np.inf).max(axis=1)
        return Totals(sums, totals, most, self.flags, self.shift)

    def resampled_inner(self, counts: np.ndarray) -> Totals:
        """Replicates that draw inner keys (whole samples): ``counts`` (replicates, inner)."""
        pooled = self.pooled()
        sums = counts[:, None, :, None] * pooled.sums[None]
        shape = (len(counts), *pooled.counts.shape)
        largest = np.broadcast_to(pooled.largest, shape[:2])
        counts_shape = np.broadcast_to(pooled.counts, shape)
        draws = counts[:, None, :]
        return Totals(sums, counts_shape, largest, self.flags, self.shift, draws)
