"""One loss over a run: its statistic, and the keyed tables that sum it.

A ``Tally`` keeps one table for the whole input and, with --by, one keyed by group. An interval
is a block axis of the same tables: a plain mean's comes from its summed spread (method
``normal``); any other loss's from a Poisson bootstrap whose replicates are counts of each block
(or each sample) times the block's sums, so its cost grows with blocks x replicates, never with
rows x replicates.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from losscli.engine.intervals import bootstrap_interval, normal_columns, normal_interval
from losscli.engine.resample import BLOCKS, blocks_of, count_matrix
from losscli.engine.statistics import Inputs, Mean, Statistic, nonfinite_note, row_flags
from losscli.engine.table import KeyedTable, Totals
from losscli.errors import InputError, option

DEFAULT_REPLICATES = 1000
# Bootstrap replicates of every group are evaluated at the end: groups x replicates is capped.
MAX_GROUP_REPLICATES = 2_000_000
# Each group keeps its own sums: past this many a run stops, naming the limit, rather than grow
# without bound (10^6 groups take about 100 MB).
MAX_GROUPS = 2_000_000
# Replicates are finalized in batches of at most this many summed numbers.
BATCH_NUMBERS = 1 << 22


@dataclass(frozen=True)
class Options:
    """What to keep besides each loss's value."""

    level: float | None = None  # ci: the confidence level of an interval per result
    replicates: int = DEFAULT_REPLICATES  # bootstrap
    seed: int = 0
    grouped: bool = False  # by: chunks carry group codes
    worst: int = 0


@dataclass
class Rows:
    """What every loss shares about a chunk: its group codes and its rows' resampling blocks."""

    groups: np.ndarray | None
    numbers: Callable[[], np.ndarray]  # each kept row's number in the whole input
    _blocks: np.ndarray | None = None

    def blocks(self) -> np.ndarray:
        if self._blocks is None:
            self._blocks = blocks_of(self.numbers())
        return self._blocks


class Tally:
    """A loss's statistic summed over a run, for the whole input and per group."""

    def __init__(self, make: Callable[[], Statistic], options: Options) -> None:
        self.statistic = make()
        self.options = options
        interval = options.level is not None
        if interval and self.statistic.method == "normal" and isinstance(self.statistic, Mean):
            self.statistic.with_spread()
        self.method = self.statistic.method if interval else None
        self.whole: KeyedTable | None = None
        self.grouped: KeyedTable | None = None

    # ------------------------------------------------------------------ adding chunks

    def add(self, values: Any, weight: np.ndarray | None, inputs: Inputs, rows: Rows) -> None:
        """Fold one chunk's per-element values into the tables."""
        if self.whole is None:
            self._start(values, inputs)
        assert self.whole is not None
        self.whole.bits = self.statistic.observe(inputs, self.whole.bits)
        late = self.statistic.flags_from_sums
        flags = None if late else row_flags(values, inputs)
        part, sums = self._add(self.whole, None, values, weight, inputs, rows, flags)
        if late and not _finite_sums(part.columns, sums):
            # A value that is not finite makes its sum so: only then are the rows looked at.
            flags = row_flags(values, inputs)
            if flags is not None:
                self.whole.flag(flags, None)
        if self.grouped is not None:
            # Centred columns depend on each table's shifts; any others are the same for both.
            same = None if self.statistic.shift_width else part
            self._add(self.grouped, rows.groups, values, weight, inputs, rows, flags, same)

    def _start(self, values: Any, inputs: Inputs) -> None:
        self.statistic.grouped = self.options.grouped
        self.statistic.layout(values, inputs)
        blocked = self.method == "bootstrap" and not self.statistic.inner_units
        blocks = BLOCKS if blocked else 1
        shape = (self.statistic.width, blocks, self.statistic.shift_width)
        largest = self.statistic.keeps_largest
        self.whole = KeyedTable(*shape, keeps_largest=largest)
        self.grouped = KeyedTable(*shape, keeps_largest=largest) if self.options.grouped else None

    def _add(self, table, groups, values, weight, inputs, rows, flags, part=None) -> Any:
        """Fold a chunk into ``table`` (its rows' ``groups``, or None); gives the contribution
        and its columns' sums when the table took them whole (else None)."""
        blocks = rows.blocks() if table.blocks > 1 else None
        if groups is not None and len(groups):
            size = int(groups.max()) + 1
            if self.method == "bootstrap":
                self._check_replicates(size)
            if size > MAX_GROUPS:
                raise InputError(
                    f"{option('by')} found more than {MAX_GROUPS:,} groups, the limit: each "
                    "group keeps its own sums in memory.",
                    f"Group by fewer or coarser columns (a prefix or a bucket of the key), or "
                    f"leave out {option('by')}.",
                )
            table.reserve(size, 1)

        def shifts(at, inner, candidates, usable):
            if inner is not None:
                table.reserve(1, int(inner.max()) + 1)
            return table.shifts_for(_at(groups, at), inner, candidates, usable)

        if part is None:
            part = self.statistic.contribute(values, weight, inputs, shifts)
        sums = None
        if part.columns:
            if part.inner is not None and len(part.inner):
                table.reserve(1, int(part.inner.max()) + 1)
            size = _size(values) if part.row is None else len(part.row)
            at = part.row
            sums = table.add(part.columns, _at(groups, at), _at(blocks, at), part.inner, size)
        table.count(weight, _size(values), groups, blocks)
        if self.statistic.keeps_largest:
            largest, kept = self.statistic.largest(values, weight)
            table.observe_largest(largest, _at(groups, kept), _at(blocks, kept))
        if flags is not None:
            table.flag(flags, groups)
        return part, sums

    def _check_replicates(self, groups: int) -> None:
        replicates = self.options.replicates
        if groups * replicates > MAX_GROUP_REPLICATES:
            raise InputError(
                f"{option('ci')} with {option('by')} keeps {replicates} bootstrap replicates for "
                f"each of {groups}+ groups, more than {MAX_GROUP_REPLICATES:,} in all.",
                f"Use fewer replicates ({option('bootstrap')} "
                f"{max(2, MAX_GROUP_REPLICATES // groups)}), coarser groups, or leave out "
                f"{option('ci')}.",
            )

    def merge(self, other: Tally) -> None:
        """Add another run's tables of the same loss (another part of the same input)."""
        for mine, theirs in ((self.whole, other.whole), (self.grouped, other.grouped)):
            if theirs is None:
                continue
            if mine is None:  # nothing seen here yet: the other's layout and tables as they are
                self.statistic, self.whole, self.grouped = (
                    other.statistic,
                    other.whole,
                    other.grouped,
                )
                return
            mine.merge(theirs, self.statistic.moved)
        if self.whole is not None:
            self.whole.bits = self.statistic.observe({}, self.whole.bits)

    def regroup(self, codes: np.ndarray) -> None:
        """Renumber the --by groups (group g becomes ``codes[g]``) before a merge."""
        if self.grouped is not None:
            self.grouped.regroup(codes)

    # ------------------------------------------------------------------ reading

    def _pooled(self, table: KeyedTable | None) -> Totals | None:
        return None if table is None else table.view().pooled()

    @property
    def n(self) -> int:
        totals = self._pooled(self.whole)
        return 0 if totals is None else int(totals.counts[0, 1])

    @property
    def weight_sum(self) -> float:
        totals = self._pooled(self.whole)
        return 0.0 if totals is None else float(totals.counts[0, 0])

    def result(self) -> tuple[float, str | None]:
        """The whole input's value, and why when it is not a finite number."""
        totals = self._pooled(self.whole)
        if totals is None:
            return math.nan, "the weights of its rows sum to 0"
        problem = self.statistic.nothing_left(totals)
        if problem is not None and problem[0][0]:
            raise InputError(problem[1], problem[2])
        values, notes = self._values(totals)
        return float(values[0]), notes[0]

    def _values(self, totals: Totals) -> tuple[np.ndarray, np.ndarray]:
        """Each group's value and note (an empty group, weights summing to 0, a NaN, ...)."""
        with np.errstate(all="ignore"):  # 0/0 in a finalize step is NaN, said in the note
            values = np.asarray(self.statistic.finalize(totals), dtype=float).reshape(-1)
        weights = totals.counts[..., 0]
        notes = np.full(len(values), None, dtype=object)  # a text where a value says why
        problem = self.statistic.nothing_left(totals)
        total = self.statistic.total
        for g in np.flatnonzero(~np.isfinite(values) | (weights == 0)):
            if weights[g] == 0 and not total:
                values[g], notes[g] = math.nan, "the weights of its rows sum to 0"
            elif problem is not None and problem[0][g]:
                values[g], notes[g] = math.nan, problem[1]
            else:
                notes[g] = nonfinite_note(float(values[g]), int(totals.flags[g]), weights[g])
        return values, notes

    def interval(self, level: float) -> dict[str, Any] | None:
        """The whole input's interval at ``level`` (None without an interval)."""
        if self.whole is None or self.method is None:
            return None
        return self._intervals(self.whole, level)[0]

    def standard_error(self) -> float:
        """The whole input's standard error (method ``normal``)."""
        totals = self._pooled(self.whole)
        assert totals is not None and isinstance(self.statistic, Mean)
        values, _ = self._values(totals)
        with np.errstate(all="ignore"):
            return float(self.statistic.standard_error(totals, values)[0])

    def _intervals(self, table: KeyedTable, level: float) -> list[dict[str, Any]]:
        totals = table.view().pooled()
        values, _ = self._values(totals)
        if self.method == "normal":
            assert isinstance(self.statistic, Mean)
            with np.errstate(all="ignore"):
                errors = self.statistic.standard_error(totals, values)
            return [
                normal_interval(level, float(v), float(e))
                for v, e in zip(values, errors, strict=True)
            ]
        replicated = self.replicates(table)
        blocks = self.blocks_shared(table)
        return [
            bootstrap_interval(level, replicated[:, g], float(values[g]), blocks)
            for g in range(len(values))
        ]

    def blocks_shared(self, table: KeyedTable | None = None) -> int | None:
        """The number of blocks the bootstrap drew when rows shared them (more rows than
        blocks); None when every row was a block of its own, or rows were not resampled."""
        table = self.whole if table is None else table
        if table is None or table.blocks == 1:
            return None
        rows = int(table.view().counts[..., 1].sum())
        return table.blocks if table.blocks < rows else None

    def replicates(self, table: KeyedTable | None = None) -> np.ndarray:
        """(replicates, groups) values of the bootstrap replicates of ``table`` (the whole's)."""
        table = self.whole if table is None else table
        assert table is not None
        totals, options = table.view(), self.options
        inner = self.statistic.inner_units
        units = np.arange(totals.sums.shape[2] if inner else table.blocks)
        batch = max(1, BATCH_NUMBERS // (totals.sums[:, 0].size + units.size))
        found = []
        for start in range(0, options.replicates, batch):
            which = range(start, min(start + batch, options.replicates))
            counts = count_matrix(options.seed, units, which)
            if inner:
                drawn = totals.resampled_inner(counts)
            else:
                drawn = totals.resampled(counts, self.statistic.keeps_largest)
            found.append(self._replicate_values(drawn))
        return np.concatenate(found)

    def _replicate_values(self, drawn: Totals) -> np.ndarray:
        with np.errstate(all="ignore"):
            values = np.asarray(self.statistic.finalize(drawn), dtype=float)
        empty = drawn.counts[..., 0] == 0
        if not self.statistic.total:
            values = np.where(empty, np.nan, values)
        problem = self.statistic.nothing_left(drawn)
        return values if problem is None else np.where(problem[0], np.nan, values)

    def group_columns(self, level: float | None) -> GroupColumns:
        """Every group seen, as columns in code order: what the report keeps and writes."""
        assert self.grouped is not None
        totals = self.grouped.view().pooled()
        seen = np.flatnonzero(totals.counts[..., 1] > 0)
        values, notes = self._values(totals)
        # Every group seen has rows unless all of its rows were left out: then views, not copies.
        pick = slice(None) if len(seen) == len(values) else seen
        columns = GroupColumns(
            codes=seen,
            value=values[pick],
            n=totals.counts[pick, 1].astype(np.int64),
            weight_sum=totals.counts[pick, 0],
            reason=notes[pick],
        )
        if level is not None and self.method is not None:
            columns.interval = self._interval_columns(totals, values, level, seen)
        return columns

    def _interval_columns(self, totals, values, level, seen) -> dict[str, Any]:
        found: dict[str, Any] = {"level": level, "method": self.method}
        if self.method == "normal":
            assert isinstance(self.statistic, Mean)
            with np.errstate(all="ignore"):
                errors = self.statistic.standard_error(totals, values)
            arrays = normal_columns(level, values[seen], errors[seen])
            return found | arrays
        assert self.grouped is not None
        every = self._intervals(self.grouped, level)
        intervals = [every[g] for g in seen.tolist()]
        found["low"] = np.array([_nan_for_none(i["low"]) for i in intervals], dtype=float)
        found["high"] = np.array([_nan_for_none(i["high"]) for i in intervals], dtype=float)
        found["note"] = np.array([i.get("note") for i in intervals] or [], dtype=object)
        found["replicates"] = np.full(len(seen), self.options.replicates, dtype=np.int64)
        found["blocks"] = intervals[0].get("blocks") if intervals else None
        return found


@dataclass
class GroupColumns:
    """One loss's results per --by group, as arrays (row i of each is the group ``codes[i]``).

    ``reason`` (object) says why a value is NaN or infinite (None where it is finite).
    ``interval``, with an interval: its ``level`` and ``method``, the ``low`` and ``high`` ends
    (NaN where missing) and a ``note`` per group, and ``se`` (normal) or ``replicates`` and
    ``blocks`` (bootstrap).
    """

    codes: np.ndarray
    value: np.ndarray
    n: np.ndarray
    weight_sum: np.ndarray
    reason: np.ndarray
    interval: dict[str, Any] | None = None


def _nan_for_none(value: float | None) -> float:
    return math.nan if value is None else value


def _size(values: Any) -> int:
    """The number of rows of a chunk's loss values (an array, or a tuple such as dice's sums)."""
    return len(values[0]) if isinstance(values, tuple) else len(values)


def _finite_sums(columns: list[np.ndarray | None], sums: list[float] | None = None) -> bool:
    """Whether the columns' sums are finite; ``sums`` are the sums, when already taken."""
    if sums is not None:
        return all(math.isfinite(total) for total in sums)
    with np.errstate(all="ignore"):
        return all(math.isfinite(column.sum()) for column in columns if column is not None)


def _at(codes: np.ndarray | None, rows: np.ndarray | None) -> np.ndarray | None:
    """The codes of some rows (all rows when ``rows`` is None)."""
    if codes is None or rows is None:
        return codes
    return codes[rows]
