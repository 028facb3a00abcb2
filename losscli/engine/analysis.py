"""What a run keeps per loss beyond its value: an interval (--ci), groups (--by), worst rows.

All of it is streamed with the value, in the same single pass, in memory that grows with the
number of groups, replicates and worst rows asked for, never with the number of rows.
"""

from __future__ import annotations

import heapq
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from losscli.engine.accumulators import (
    Accumulator,
    KeyedSums,
    NonFinite,
    WeightedMean,
    first_shift,
    mean_over_elements,
    nonfinite_note,
    ratio_standard_error,
    row_flags,
    spread_terms,
    weighted,
)
from losscli.errors import InputError

DEFAULT_REPLICATES = 1000
# Bootstrap replicates of every group are kept in memory: groups x replicates is capped.
MAX_GROUP_REPLICATES = 2_000_000


@dataclass(frozen=True)
class Options:
    """What to keep besides each loss's value."""

    level: float | None = None  # --ci: the confidence level of an interval per result
    replicates: int = DEFAULT_REPLICATES  # --bootstrap
    seed: int = 0  # --seed
    grouped: bool = False  # --by: chunks carry group codes
    worst: int = 0  # --worst K


Inputs = Mapping[str, np.ndarray]
Make = Callable[[], Accumulator]


def value_of(state: Accumulator, flags: int = 0) -> tuple[float, str | None]:
    """A state's value, and why when it is not a finite number (an empty group, weights summing
    to 0, an infinite row, ...); ``flags`` are the non-finite rows it saw (``NonFinite``)."""
    if state.weight_sum == 0 and not (isinstance(state, WeightedMean) and state.total):
        return math.nan, "the weights of its rows sum to 0"
    try:
        with np.errstate(all="ignore"):  # 0/0 in a finalize step is NaN, said in the note
            value = float(state.finalize())
    except InputError as error:
        return math.nan, error.message
    return value, nonfinite_note(value, flags, state.weight_sum)


class Estimate:
    """One loss's state, with what its interval needs: the streamed variance of a plain mean, or
    bootstrap replicates of any other state (rmse, r2, perplexity, global dice, ...)."""

    def __init__(self, make: Make, options: Options) -> None:
        self.state = make()
        self.seen = NonFinite()
        self.method: str | None = None
        self.replicates: list[Accumulator] = []
        if options.level is None:
            return
        if isinstance(self.state, WeightedMean) and self.state.is_plain_mean:
            self.state.track_spread()
            self.method = "normal"
        else:
            self.replicates = [make() for _ in range(options.replicates)]
            self.method = "bootstrap"

    def update(self, values: Any, weight: np.ndarray | None, inputs: Inputs) -> Any:
        """Fold a chunk into the state, noting any non-finite loss; returns the per-row values."""
        rows = self.state.update(values, weight, inputs)
        self.seen.observe(values, inputs)
        return rows

    def result(self) -> tuple[float, str | None]:
        """The value, and a note when it is not a finite number."""
        return value_of(self.state, self.seen.flags)

    def note(self, value: float) -> str | None:
        """Why ``value`` (this state's) is NaN or infinite; None when it is finite."""
        return nonfinite_note(value, self.seen.flags, self.state.weight_sum)

    def interval(self, level: float) -> dict[str, Any] | None:
        if self.method == "normal":
            assert isinstance(self.state, WeightedMean)
            value, _ = value_of(self.state)
            return normal_interval(level, value, self.state.standard_error())
        if self.method == "bootstrap":
            value, _ = value_of(self.state)
            return bootstrap_interval(level, [value_of(r)[0] for r in self.replicates], value)
        return None


def normal_interval(level: float, value: float, se: float) -> dict[str, Any]:
    from statistics import NormalDist  # here: only intervals need it

    z = NormalDist().inv_cdf(0.5 + level / 2)
    with np.errstate(all="ignore"):
        low, high = value - z * se, value + z * se
    interval = {
        "level": level,
        "low": low if math.isfinite(low) else None,
        "high": high if math.isfinite(high) else None,
        "method": "normal",
        "se": se if math.isfinite(se) else None,
    }
    if not math.isfinite(value):
        interval["note"] = _no_interval(value)
    elif math.isnan(se):
        interval["note"] = "no interval: too few rows (or weight) to estimate the spread"
    elif interval["low"] is None or interval["high"] is None:
        interval["note"] = "no interval: the spread of the rows is beyond the float64 range"
    return interval


def _no_interval(value: float) -> str:
    return f"no interval: the value is {'NaN' if math.isnan(value) else 'infinite'}"


def bootstrap_interval(
    level: float, values: list[float], value: float | None = None
) -> dict[str, Any]:
    """The percentile interval of the replicates' values; none if the value itself is not finite
    or most replicates have no value (NaN). An infinite end is null with a note."""
    replicates = np.asarray(values, dtype=float)
    known = replicates[~np.isnan(replicates)]
    interval: dict[str, Any] = {
        "level": level,
        "low": None,
        "high": None,
        "method": "bootstrap",
        "replicates": len(replicates),
    }
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


def take(inputs: Inputs, index: np.ndarray) -> dict[str, np.ndarray]:
    return {role: values[index] for role, values in inputs.items()}


def _rows(values: Any, index: np.ndarray) -> Any:
    """Some rows of a chunk's loss values: an array, or a tuple of arrays (dice's TP, SP, ST)."""
    if isinstance(values, tuple):
        return tuple(part[index] for part in values)
    return values[index]


def split(codes: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Each group code in a chunk with the positions of its rows (in row order)."""
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(order)]
    return [(int(ordered[a]), order[a:b]) for a, b in zip(starts, ends, strict=True)]


class Groups(ABC):
    """Per-group estimates of one loss; built by ``groups_for`` for the state's kind."""

    replicated = False  # whether groups keep bootstrap replicates

    @abstractmethod
    def update(self, codes: np.ndarray, values: np.ndarray, weight, inputs: Inputs) -> None:
        """Fold a chunk's rows into their groups (``codes`` per row)."""

    @abstractmethod
    def update_replicate(self, b: int, codes: np.ndarray, values, weight, inputs) -> None:
        """Fold the same rows into bootstrap replicate ``b`` with its weights."""

    @abstractmethod
    def results(self, level: float | None) -> Iterator[tuple[int, dict[str, Any]]]:
        """(code, {value, n, weight_sum, note, ci}) for every group seen."""


def groups_for(make: Make, options: Options) -> Groups:
    probe = make()
    if isinstance(probe, WeightedMean):
        return MeanGroups(probe, options)
    return StateGroups(make, options)


class MeanGroups(Groups):
    """Weighted means per group as arrays (one row per group), so 10^5 groups cost a few MB.

    Columns: sum w l, sum w d (the denominator), and for an interval the spread's three sums.
    """

    def __init__(self, like: WeightedMean, options: Options) -> None:
        self.like = like
        self.options = options
        spread = options.level is not None and like.is_plain_mean
        self.sums = KeyedSums(5 if spread else 2)
        self.shift: float | None = None
        self.flags = np.zeros(0, dtype=np.uint8)  # each group's NonFinite flags
        self.replicates: list[KeyedSums] = []
        if options.level is not None and not like.is_plain_mean:
            self.replicates = [KeyedSums(2) for _ in range(options.replicates)]
        self.replicated = bool(self.replicates)

    def _columns(self, values, weight, inputs) -> list[np.ndarray]:
        """sum w l, sum w d, and with an interval the spread's three terms, per row."""
        rows = mean_over_elements(values)
        shares = np.ones(len(rows)) if self.like.divisor is None else self.like.divisor(inputs)
        wd = shares if weight is None else weight * shares
        columns = [weighted(rows, weight), wd]
        if self.sums.width == 5:
            if self.shift is None:
                self.shift = first_shift(rows, weight, shares)
            columns += spread_terms(rows, weight, shares, self.shift)
        return columns

    def update(self, codes, values, weight, inputs) -> None:
        self.sums.add(codes, self._columns(values, weight, inputs), weight)
        flags = row_flags(values, inputs)
        if flags is not None:
            self.flags = np.concatenate(
                [self.flags, np.zeros(max(0, self.sums.size - len(self.flags)), np.uint8)]
            )
            np.bitwise_or.at(self.flags, codes.astype(np.intp), flags)
        if self.replicates and self.sums.size * len(self.replicates) > MAX_GROUP_REPLICATES:
            raise too_many_replicates(self.sums.size, len(self.replicates))

    def update_replicate(self, b, codes, values, weight, inputs) -> None:
        self.replicates[b].add(codes, self._columns(values, weight, inputs)[:2], weight)

    def _value(
        self, total: float, below: float, weight_sum: float, flags: int = 0
    ) -> tuple[float, str | None]:
        like = self.like
        if not like.total and below == 0:
            if weight_sum == 0:
                return math.nan, "the weights of its rows sum to 0"
            return math.nan, like.nothing_left[0] or "no row counts toward its mean"
        with np.errstate(all="ignore"):
            value = float(like.value_of(float(total), float(below), float(weight_sum)))
        return value, nonfinite_note(value, flags, float(weight_sum))

    def results(self, level):
        sums = self.sums.sums.value
        weights = self.sums.weights.value
        flags = np.concatenate([self.flags, np.zeros(self.sums.size, np.uint8)])
        for code in np.flatnonzero(self.sums.rows > 0):
            value, note = self._value(sums[code, 0], sums[code, 1], weights[code], int(flags[code]))
            entry: dict[str, Any] = {
                "value": value,
                "n": int(self.sums.rows[code]),
                "weight_sum": float(weights[code]),
                "note": note,
            }
            if level is not None and self.sums.width == 5:
                se = ratio_standard_error(
                    sums[code, 2:], self.shift or 0.0, entry["n"], value, sums[code, 1]
                )
                entry["ci"] = normal_interval(level, value, se)
            elif level is not None:
                replicated = []
                for replicate in self.replicates:
                    replicate.grow(code + 1)
                    r_sums, r_weights = replicate.sums.value, replicate.weights.value
                    replicated.append(
                        self._value(r_sums[code, 0], r_sums[code, 1], r_weights[code])[0]
                    )
                entry["ci"] = bootstrap_interval(level, replicated, value)
            yield int(code), entry


class StateGroups(Groups):
    """Any other state: one per group, fed the group's rows of each chunk."""

    def __init__(self, make: Make, options: Options) -> None:
        self.make = make
        self.options = options
        self.members: dict[int, Estimate] = {}
        self.replicated = options.level is not None  # never a plain mean: those are MeanGroups

    def _member(self, code: int) -> Estimate:
        member = self.members.get(code)
        if member is None:
            if self.options.level is not None:
                count = (len(self.members) + 1) * self.options.replicates
                if count > MAX_GROUP_REPLICATES:
                    raise too_many_replicates(len(self.members) + 1, self.options.replicates)
            member = self.members[code] = Estimate(self.make, self.options)
        return member

    def update(self, codes, values, weight, inputs) -> None:
        for code, index in split(codes):
            part = None if weight is None else weight[index]
            self._member(code).update(_rows(values, index), part, take(inputs, index))

    def update_replicate(self, b, codes, values, weight, inputs) -> None:
        for code, index in split(codes):
            member = self._member(code)
            if member.replicates:
                member.replicates[b].update(
                    _rows(values, index), weight[index], take(inputs, index)
                )

    def results(self, level):
        for code, member in self.members.items():
            value, note = member.result()
            entry: dict[str, Any] = {
                "value": value,
                "n": member.state.n,
                "weight_sum": member.state.weight_sum,
                "note": note,
            }
            if level is not None:
                entry["ci"] = member.interval(level)
            yield code, entry


def too_many_replicates(groups: int, replicates: int) -> InputError:
    return InputError(
        f"--ci with --by keeps {replicates} bootstrap replicates for each of {groups}+ groups, "
        f"more than {MAX_GROUP_REPLICATES:,} in all.",
        "Use fewer replicates (--bootstrap 200), coarser groups, or leave out --ci.",
    )


class Worst:
    """The K rows with the largest loss, kept in a bounded list while streaming.

    Ties are broken by row order and a NaN loss counts as the largest, so the list is exactly the
    first K of a full sort by (loss descending, row ascending).
    """

    def __init__(self, k: int) -> None:
        self.k = k
        # (0 for a NaN loss else 1, -loss, row, entry): sorted ascending, the worst come first.
        self.entries: list[tuple[int, float, int, dict[str, Any]]] = []

    def add(self, rows: np.ndarray, chunk: Any, inputs: Inputs) -> None:
        positions = np.arange(chunk.size) if chunk.kept is None else np.flatnonzero(chunk.kept)
        fresh = []
        for i in worst_positions(rows, self.k).tolist():
            index = chunk.start + int(positions[i])
            row: dict[str, Any] = {"row": index + 1}
            where = chunk.locate(index, None)
            if where != f"row {index + 1}":
                row["where"] = where  # several files: the row within its file
            if chunk.ids is not None:
                row["id"] = _identifier(chunk.ids[int(positions[i])])
            for role in ("pred", "target"):
                if role in inputs:
                    row[role] = _plain(inputs[role][i])
            loss = float(rows[i])
            row["loss"] = loss
            if not math.isfinite(loss):  # JSON writes it as null: say what it was
                row["note"] = f"the loss is {'NaN' if math.isnan(loss) else repr(loss)}"
            fresh.append((0, 0.0, index, row) if math.isnan(loss) else (1, -loss, index, row))
        self.entries = heapq.nsmallest(self.k, self.entries + fresh, key=lambda e: e[:3])

    def rows(self) -> list[dict[str, Any]]:
        return [entry[-1] for entry in self.entries]


def worst_positions(rows: np.ndarray, k: int) -> np.ndarray:
    """The positions of the first ``k`` of a stable sort by (NaN first, loss descending, position
    ascending), in O(n): every NaN and every loss above the K-th, then the earliest rows tied with
    it. ``np.argpartition`` alone would pick among the ties differently from one machine to
    another."""
    if len(rows) <= k:
        return np.arange(len(rows))
    missing = np.isnan(rows)
    nans = np.flatnonzero(missing)
    if len(nans) >= k:
        return nans[:k]
    left = k - len(nans)
    numbers = rows if not len(nans) else np.where(missing, -np.inf, rows)
    # The left-th largest among the numbers (NaN rows sit at -inf, below every number but
    # -inf itself: those are excluded from the ties below).
    cut = np.partition(numbers, len(numbers) - left)[len(numbers) - left]
    above = np.flatnonzero((numbers > cut) & ~missing)
    tied = np.flatnonzero((numbers == cut) & ~missing)[: left - len(above)]
    return np.concatenate([nans, above, tied])


def _identifier(value: Any) -> Any:
    """An --id value as Python: Arrow scalars as written, a numeric column's float as read."""
    if hasattr(value, "as_py"):
        return value.as_py()
    number = float(value)
    return int(number) if number.is_integer() else number


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [float(v) for v in value]
    return float(value)
