"""The results of ``--by`` as columns: one set of arrays per loss, read as Result objects only
when a caller asks for one.

A million groups were a million Result objects (and their dicts) before any output was written;
as arrays they are a few dozen megabytes, and JSON and CSV are written from the arrays column by
column (``grouptext``). ``report.results`` still reads every group's Result, made when read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, overload

import numpy as np

from losscli.report.formatting import plain
from losscli.report.results import INFINITE_NOTE, NAN_NOTE, Result

# The terminal table shows this many groups; --format csv or json writes them all.
TABLE_GROUPS = 100
FLOAT_INTS = 2**53  # every int up to this is exactly a float64


def object_array(values: Iterable[Any], size: int) -> np.ndarray:
    """Python values as a 1-D object array (a tuple or list value stays one element)."""
    return np.fromiter(values, dtype=object, count=size)


def is_none(values: np.ndarray) -> np.ndarray:
    """Where an object array holds None."""
    return np.asarray(values == None, dtype=bool)  # noqa: E711 (element by element)


@dataclass(frozen=True, eq=False)
class KeyColumn:
    """One --by column's value for each group, dictionary-encoded.

    ``values`` (object) holds each distinct value once, as plain Python (int, float, str, bool,
    ...; None for a null); ``codes`` (int64, one per group) index it. Several losses' arrays share
    one ``values``: it is formatted once for all of them. ``distinct`` is that array, or a
    function that makes it when first read: ids that are numbers are written and sorted from
    ``numbers`` (int64 or float64, when all the values are numbers), and a million of them need
    not become Python objects.
    """

    name: str
    distinct: np.ndarray | Callable[[], np.ndarray]
    codes: np.ndarray
    numbers: np.ndarray | None = None
    texts: Any = None  # ``values`` as an Arrow array, when they are text

    @property
    def values(self) -> np.ndarray:
        return self.distinct() if callable(self.distinct) else self.distinct

    def __len__(self) -> int:
        return len(self.codes)

    def value(self, row: int) -> Any:
        return self.values[self.codes[row]]

    def take(self, rows: np.ndarray) -> KeyColumn:
        return KeyColumn(self.name, self.distinct, self.codes[rows], self.numbers, self.texts)


@dataclass(frozen=True, eq=False)
class GroupIntervals:
    """``--ci`` of one loss for every group.

    ``level`` and ``method`` (``"normal"`` or ``"bootstrap"``) are the loss's; ``low`` and
    ``high`` (float64) are the ends, NaN where an end is missing; ``note`` (object) says why an
    interval is missing or partial (None where it is whole). A normal interval has ``se``
    (float64, the standard error, NaN where there is none); a bootstrap one ``replicates``
    (int64, how many replicates it was drawn from).
    """

    level: float
    method: str
    low: np.ndarray
    high: np.ndarray
    note: np.ndarray
    se: np.ndarray | None = None
    replicates: np.ndarray | None = None
    blocks: int | None = None  # the blocks of rows a bootstrap drew, when rows shared blocks

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any]) -> GroupIntervals:
        """From the engine's interval columns (``GroupColumns.interval``)."""
        return cls(
            level=columns["level"],
            method=columns["method"],
            low=columns["low"],
            high=columns["high"],
            note=columns["note"],
            se=columns.get("se"),
            replicates=columns.get("replicates"),
            blocks=columns.get("blocks"),
        )

    @classmethod
    def from_dicts(cls, intervals: Sequence[Mapping[str, Any]]) -> GroupIntervals:
        """From the engine's interval dicts, one per group (all of one level and method)."""
        first = intervals[0]
        size = len(intervals)

        def numbers(key: str, kind: Any = float) -> np.ndarray:
            values = (math.nan if i.get(key) is None else i[key] for i in intervals)
            return np.fromiter(values, dtype=kind, count=size)

        return cls(
            level=first["level"],
            method=first["method"],
            low=numbers("low"),
            high=numbers("high"),
            note=object_array((i.get("note") for i in intervals), size),
            se=numbers("se") if "se" in first else None,
            replicates=numbers("replicates", np.int64) if "replicates" in first else None,
        )

    def entry(self, row: int) -> dict[str, Any]:
        """One group's interval as the engine writes it: level, low, high, method, se or
        replicates, and a note when there is one."""
        entry: dict[str, Any] = {
            "level": self.level,
            "low": _number(self.low[row]),
            "high": _number(self.high[row]),
            "method": self.method,
        }
        if self.se is not None:
            entry["se"] = _number(self.se[row])
        if self.replicates is not None:
            entry["replicates"] = int(self.replicates[row])
        if self.blocks is not None:
            entry["blocks"] = self.blocks
        if self.note[row] is not None:
            entry["note"] = self.note[row]
        return entry


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


@dataclass(frozen=True, eq=False)
class GroupArrays:
    """One loss's results for every --by group, as columns: the form in which groups are kept and
    written. Row ``i`` of every array is the same group.

    ``label``, ``loss``, ``params``, ``direction``: the loss, as on its overall result.
    ``keys``: one KeyColumn per --by column, in the order given: each group's value.
    ``value`` (float64): the loss's value per group; NaN or infinite where it has none.
    ``n`` (int64): the rows each group used. ``weight_sum`` (float64): their weights' sum.
    ``reason`` (object): why a group's value is NaN or infinite, as the engine says it (weights
    that sum to 0, no row counting toward a mean, ...); None where the value says it itself.
    ``interval``: with --ci, each group's interval (GroupIntervals); else None.
    ``rank`` (int64): the group's place in the report's order of groups (by value, each column
    in turn, a null last); the same group has the same rank in every loss's arrays.
    """

    label: str
    loss: str
    params: dict[str, Any]
    direction: str
    keys: list[KeyColumn]
    value: np.ndarray
    n: np.ndarray
    weight_sum: np.ndarray
    reason: np.ndarray
    rank: np.ndarray
    interval: GroupIntervals | None = None

    def __len__(self) -> int:
        return len(self.value)

    @cached_property
    def notes(self) -> np.ndarray:
        """Each group's note (object, None where there is none), as Result.note says it."""
        notes = self.reason.copy()
        missing = self._no_reason()
        notes[missing] = None
        notes[missing & np.isnan(self.value)] = NAN_NOTE
        notes[missing & np.isinf(self.value)] = INFINITE_NOTE
        return notes

    def has_notes(self) -> bool:
        """Whether any group has a note, without making ``notes`` (a million groups' take 70 ms)."""
        return not (np.isfinite(self.value).all() and self._no_reason().all())

    def _no_reason(self) -> np.ndarray:
        """Where ``reason`` holds no text (None or empty): None is found by identity in C, and
        only the few other values are asked for their truth."""
        missing = is_none(self.reason)
        given = np.flatnonzero(~missing)
        missing[given] = [not reason for reason in self.reason[given].tolist()]
        return missing

    def result(self, row: int) -> Result:
        """Group ``row`` as a Result, as the report's Python API shows it."""
        return Result(
            label=self.label,
            loss=self.loss,
            params=dict(self.params),
            value=_python_float(self.value[row]),
            n=int(self.n[row]),
            weight_sum=_python_float(self.weight_sum[row]),
            direction=self.direction,
            ci=self.interval.entry(row) if self.interval is not None else None,
            group={key.name: key.value(row) for key in self.keys},
            reason=self.reason[row],
        )


def _python_float(value: np.floating) -> float:
    """A Python float; a NaN as ``math.nan`` itself, as the engine gives it (results compare
    equal by identity of their NaN, as before)."""
    number = float(value)
    return math.nan if number != number else number


def _key_ranks(key: KeyColumn) -> np.ndarray:
    """Each of a key column's distinct values' rank (``rank_values``)."""
    if key.texts is not None:
        from losscli.report.textcolumns import text_ranks

        return text_ranks(key.texts)
    if key.numbers is None:
        return rank_values(key.values)
    numbers = key.numbers
    if numbers.dtype.kind == "i" and len(numbers):
        low, high = int(numbers.min()), int(numbers.max())
        if high - low < 4 * len(numbers):
            # Ids close together: each value's rank is how many distinct values lie below it.
            present = np.zeros(high - low + 1, dtype=bool)
            present[numbers - low] = True
            return (np.cumsum(present) - 1)[numbers - low]
    # Numbers without a null, sorted directly (equal values share a rank: any sort will do).
    order = np.argsort(key.numbers)
    ordered = key.numbers[order]
    ranks = np.empty(len(ordered), dtype=np.int64)
    ranks[order] = np.cumsum(np.r_[False, ordered[1:] != ordered[:-1]])
    return ranks


def rank_values(values: np.ndarray) -> np.ndarray:
    """Each value's rank in ascending order, a null (None) last; equal values share a rank."""
    known = np.flatnonzero(~is_none(values))
    ranks = np.full(len(values), len(known), dtype=np.int64)
    numbers = _numbers(values[known])
    if numbers is not None:
        within = np.argsort(numbers, kind="stable")
        order, ordered = known[within], numbers[within]
        new = ordered[1:] != ordered[:-1]
    else:
        order = np.asarray(sorted(known.tolist(), key=values.__getitem__), dtype=np.int64)
        ordered = values[order]
        new = np.fromiter(
            (ordered[i] != ordered[i - 1] for i in range(1, len(ordered))), bool, len(ordered) - 1
        )
    if len(order):
        ranks[order] = np.cumsum(np.r_[False, new])
    return ranks


def _numbers(values: np.ndarray) -> np.ndarray | None:
    """The values as an int64 or float64 array when they are all plain numbers (no bool), for a
    NumPy sort; else None (text, dates, mixed kinds: Python compares those)."""
    items = values.tolist()
    kinds = {type(value) for value in items}
    if not kinds or not kinds <= {int, float}:
        return None
    if kinds == {int, float} and max(abs(v) for v in items if type(v) is int) > FLOAT_INTS:
        return None  # as floats, such ints could tie or swap
    try:
        return np.asarray(items, dtype=np.int64 if kinds == {int} else np.float64)
    except OverflowError:  # an int beyond int64
        return None


def rank_groups(keys: Sequence[KeyColumn]) -> np.ndarray:
    """Each group's rank when groups are sorted by their values, first column first, a null
    last; groups equal in every column (two kinds of null) keep their order."""
    size = len(keys[0]) if keys else 0
    columns = [_key_ranks(key)[key.codes] for key in reversed(keys)]
    if len(columns) == 1 and (not size or int(columns[0].max()) + 1 == size):
        return columns[0]  # every group's value its own: the ranks of the values are the order
    order = np.lexsort([np.arange(size), *columns])
    ranks = np.empty(size, dtype=np.int64)
    ranks[order] = np.arange(size)
    return ranks


class GroupResults(Sequence[Result]):
    """Every loss's GroupArrays, read in the report's order: groups by rank, each group's losses in
    the order they were asked for. A row is made a Result only when it is read."""

    def __init__(self, parts: Sequence[GroupArrays]) -> None:
        self.parts = list(parts)
        part_of = _joined([np.full(len(p), i, np.int64) for i, p in enumerate(parts)])
        ranks = _joined([p.rank for p in parts])
        order = _report_order(part_of, ranks, len(parts))
        if len(self.parts) == 1:  # one loss: its rows, in the report's order, are the order
            self.part_of, self.row_of = part_of, order
        else:
            row_of = _joined([np.arange(len(p), dtype=np.int64) for p in parts])
            self.part_of, self.row_of = part_of[order], row_of[order]
        self.ranks = ranks[order]
        self.order = order  # each result's place among the parts' rows, laid end to end

    @classmethod
    def from_results(cls, results: Iterable[Result]) -> GroupResults:
        """Group results given as objects (a report built by hand), as arrays: one GroupArrays per
        loss (label, parameters) and kind of interval, groups ranked by first appearance."""
        return cls(_parts_of(list(results)))

    def __len__(self) -> int:
        return len(self.part_of)

    @overload
    def __getitem__(self, index: int) -> Result: ...

    @overload
    def __getitem__(self, index: slice) -> list[Result]: ...

    def __getitem__(self, index: int | slice) -> Result | list[Result]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        position = range(len(self))[index]
        return self.parts[self.part_of[position]].result(int(self.row_of[position]))

    def __iter__(self) -> Iterator[Result]:
        for part, row in zip(self.part_of.tolist(), self.row_of.tolist(), strict=True):
            yield self.parts[part].result(row)

    @property
    def columns(self) -> list[str]:
        """The --by columns, in the order given."""
        return list(dict.fromkeys(key.name for part in self.parts for key in part.keys))

    @property
    def group_count(self) -> int:
        """How many groups there are (a group counts once, whatever the number of losses)."""
        return len(np.unique(self.ranks))

    @property
    def with_ci(self) -> bool:
        return any(part.interval is not None and len(part) for part in self.parts)

    def any_note(self) -> bool:
        return any(part.has_notes() for part in self.parts)

    def column(self, name: str, by: bool = False) -> list[Any]:
        """One field of every group result, in order, as plain Python: ``label``, ``loss``,
        ``params`` (a dict per result), ``value``, ``n``, ``weight_sum``, ``direction``, ``note``,
        ``ci_low`` / ``ci_high`` (None where there is none); with ``by``, a --by column's values
        (None where a result has no such column)."""
        if name == "params" and not by:
            return [dict(self.parts[part].params) for part in self.part_of.tolist()]
        arrays = [_key_values(part, name) if by else _field(part, name) for part in self.parts]
        if not arrays:
            return []
        return np.concatenate(arrays)[self.order].tolist()

    def head(self, groups: int) -> list[Result]:
        """The results of the first ``groups`` groups, in order."""
        ranks = self.ranks  # in order: the first groups' rows come first
        if not len(ranks) or groups <= 0:
            return []
        starts = np.flatnonzero(np.r_[True, ranks[1:] != ranks[:-1]])
        end = starts[groups] if groups < len(starts) else len(ranks)
        return [self[position] for position in range(end)]


def _field(part: GroupArrays, name: str) -> np.ndarray:
    """One field of a part's rows (see GroupResults.column): numbers as numbers, the rest as
    objects."""
    size = len(part)
    if name in ("value", "n", "weight_sum"):
        return getattr(part, name)
    if name in ("label", "loss", "direction"):
        return np.full(size, getattr(part, name), dtype=object)
    if name == "note":
        return part.notes
    if name in ("ci_low", "ci_high"):
        ends = np.full(size, None, dtype=object)
        if part.interval is not None:
            found = getattr(part.interval, name[3:])
            known = ~np.isnan(found)
            ends[known] = found[known]
        return ends
    raise KeyError(name)


def _key_values(part: GroupArrays, name: str) -> np.ndarray:
    for key in part.keys:
        if key.name == name:
            return key.values[key.codes]
    return np.full(len(part), None, dtype=object)


def _report_order(part_of: np.ndarray, ranks: np.ndarray, parts: int) -> np.ndarray:
    """The rows in order of rank, then of part (a stable sort: rows equal in both keep theirs)."""
    key = ranks if parts == 1 else ranks * parts + part_of
    if len(key) and int(key.min()) >= 0 and int(key.max()) < 4 * len(key):
        # Each (rank, part) once, as always from the engine: placed by key, without a sort.
        slots = np.full(int(key.max()) + 1, -1, dtype=np.int64)
        slots[key] = np.arange(len(key))
        order = slots[slots >= 0]
        if len(order) == len(key):
            return order
    return np.lexsort((part_of, ranks))


def _joined(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays).astype(np.int64) if arrays else np.zeros(0, np.int64)


def _parts_of(results: list[Result]) -> list[GroupArrays]:
    """Results as GroupArrays: one per loss (label, parameters, group columns, interval kind)."""
    ranks: dict[Any, int] = {}
    members: dict[Any, list[int]] = {}
    for number, result in enumerate(results):
        group = {key: plain(value) for key, value in (result.group or {}).items()}
        ranks.setdefault(_identity(group), len(ranks))
        members.setdefault(_kind(result), []).append(number)
    return [_part([results[i] for i in numbers], ranks) for numbers in members.values()]


def _identity(group: Mapping[str, Any]) -> Any:
    items = tuple(group.items())
    try:
        hash(items)
    except TypeError:  # a list or dict as a group value
        return repr(items)
    return items


def _kind(result: Result) -> tuple[Any, ...]:
    """What one GroupArrays holds alike: the loss, the group's columns, the kind of interval."""
    ci = result.ci
    shape = None if ci is None else (repr(ci.get("level")), ci.get("method"), "se" in ci)
    loss = (result.label, result.loss, repr(result.params), result.direction)
    return (*loss, tuple(result.group or ()), shape)


def _float(value: Any) -> float:
    value = plain(value)
    return math.nan if value is None else float(value)


def _part(results: list[Result], ranks: Mapping[Any, int]) -> GroupArrays:
    size = len(results)
    first = results[0]
    names = list(first.group or ())
    groups = [{key: plain(value) for key, value in (r.group or {}).items()} for r in results]
    keys = [
        KeyColumn(name, object_array((g[name] for g in groups), size), np.arange(size))
        for name in names
    ]
    return GroupArrays(
        label=first.label,
        loss=first.loss,
        params=dict(first.params),
        direction=first.direction,
        keys=keys,
        value=np.fromiter((_float(r.value) for r in results), float, size),
        n=np.fromiter((int(r.n) for r in results), np.int64, size),
        weight_sum=np.fromiter((float(r.weight_sum) for r in results), float, size),
        reason=object_array((r.reason for r in results), size),
        rank=np.fromiter((ranks[_identity(g)] for g in groups), np.int64, size),
        interval=GroupIntervals.from_dicts([r.ci for r in results if r.ci is not None])
        if first.ci is not None
        else None,
    )


@dataclass(frozen=True, eq=False)
class Results(Sequence[Result]):
    """A report's results: the overall ones (objects), then every group's (arrays, each made a
    Result when read). Compares equal to a list of the same results."""

    overall: list[Result]
    groups: GroupResults = field(repr=False)

    def __len__(self) -> int:
        return len(self.overall) + len(self.groups)

    @overload
    def __getitem__(self, index: int) -> Result: ...

    @overload
    def __getitem__(self, index: slice) -> list[Result]: ...

    def __getitem__(self, index: int | slice) -> Result | list[Result]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        position = range(len(self))[index]
        if position < len(self.overall):
            return self.overall[position]
        return self.groups[position - len(self.overall)]

    def __iter__(self) -> Iterator[Result]:
        yield from self.overall
        yield from self.groups

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __repr__(self) -> str:
        return f"Results({len(self.overall)} overall, {len(self.groups)} per group)"
