"""Matching the rows of two inputs: by key (``--on``), or by position with a check of their ids.

By key, the second input (a targets file, a candidate model) is read whole and indexed by its key;
the first is streamed and each of its chunks is given the second's values for the same keys. Every
key must be on both sides exactly once: a key on one side only, a repeated key or a missing key is
an input error that says how many and shows a few. Memory holds the indexed side's key columns and
the columns it contributes, nothing per row of the streamed side.

By position, columns that both inputs carry and that look like row ids (``Id``, ``row_id``,
``PassengerId``) must agree row by row: two files of the same rows in different orders would
otherwise pair each prediction with another row's target.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from losscli.errors import InputError

SHOWN_KEYS = 3  # keys quoted in a message
RECENT_CHUNKS = 16  # chunks whose matched rows are remembered, for naming a row of the side
ID_NAMES = frozenset({"id", "row_id", "rowid", "row", "index", "idx", "key", "uid", "uuid"})


def looks_like_row_id(name: str) -> bool:
    """``Id``, ``row_id``, ``PassengerId``, ``sample_id``: a column that names its row."""
    lowered = name.strip().lower()
    return lowered in ID_NAMES or lowered.endswith("_id") or bool(re.search(r"[a-z]I[dD]$", name))


def shared_row_ids(first: Sequence[str], second: Sequence[str]) -> list[str]:
    """Row-id columns present in both inputs under the same name."""
    other = set(second)
    return [name for name in first if name in other and looks_like_row_id(name)]


def key_text(names: Sequence[str], values: Sequence[Any]) -> str:
    """One key, as a message shows it: ``Id=7`` or ``(region=eu, day=7)``."""
    shown = [f"{name}={_short(value)}" for name, value in zip(names, values, strict=True)]
    return shown[0] if len(shown) == 1 else "(" + ", ".join(shown) + ")"


def _short(value: Any) -> str:
    text = "null" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _listing(keys: list[str], count: int) -> str:
    more = f", ... ({count} in all)" if count > len(keys) else ""
    return ", ".join(keys) + more


def common_key_type(first: pa.DataType, second: pa.DataType, name: str, where: str) -> pa.DataType:
    """The type both sides' key column is compared as: integers and text match as text."""
    first, second = _plain(first), _plain(second)
    if first == second:
        return first
    kinds = {_kind(first), _kind(second)}
    if kinds == {"int"}:
        return pa.int64()
    if kinds <= {"int", "float"}:
        return pa.float64()
    if kinds == {"int", "text"}:
        return pa.string()  # a CSV key is read as text, a Parquet one as a number
    raise InputError(
        f"Key column '{name}' holds {first} values in one input but {second} in {where}.",
        "Give the key the same type in both files (e.g. both integers or both text).",
    )


def _plain(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    return kind


def _kind(kind: pa.DataType) -> str:
    if pa.types.is_integer(kind):
        return "int"
    if pa.types.is_floating(kind):
        return "float"
    if pa.types.is_string(kind):
        return "text"
    return str(kind)


def as_key(values: Any, kind: pa.DataType) -> pa.Array:
    """A key column as one Arrow array of ``kind`` (NumPy keys arrive from in-memory inputs)."""
    if isinstance(values, np.ndarray):
        values = pa.array(values)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if values.type == kind:
        return values
    try:
        return values.cast(kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise InputError(
            f"A key column holds {values.type} values that cannot be read as {kind}.",
            "Give the key columns the same type in every file.",
        ) from None


class KeyIndex:
    """The rows of one input by their key: each key's row number, and which keys were matched.

    ``keys`` holds one Arrow array per key column, every row of the indexed input.
    """

    def __init__(self, names: tuple[str, ...], keys: list[pa.Array], where: str) -> None:
        import pyarrow.compute as pc

        self.names = names
        self.where = where
        self.keys = keys
        self.kinds = [column.type for column in keys]
        self.size = len(keys[0]) if keys else 0
        _refuse_nulls(names, keys, where, lambda row: f"row {row + 1} of {where}")
        self.uniques = [pc.unique(column) for column in keys]
        self.steps: list[np.ndarray] = []  # sorted combined codes after each extra key column
        codes = self._combine([self._codes(pc, i, column) for i, column in enumerate(keys)], True)
        self.row_of_code = np.empty(self.size, dtype=np.int64)
        self.row_of_code[codes] = np.arange(self.size)
        self.seen = np.zeros(self.size, dtype=bool)

    def _codes(self, pc: Any, index: int, column: pa.Array) -> np.ndarray:
        found = pc.index_in(column, value_set=self.uniques[index])
        return found.to_numpy(zero_copy_only=False).astype(np.float64)

    def _combine(self, codes: list[np.ndarray], building: bool) -> np.ndarray:
        """Codes of whole keys: the columns' codes folded in one at a time, kept dense."""
        combined = codes[0]
        for step, (part, unique) in enumerate(zip(codes[1:], self.uniques[1:], strict=False)):
            joined = combined * len(unique) + part  # NaN (absent) stays NaN
            if building:
                self.steps.append(np.unique(joined))
            sorted_codes = self.steps[step]
            position = np.searchsorted(sorted_codes, joined)
            inside = position < len(sorted_codes)
            found = inside & (sorted_codes[np.minimum(position, len(sorted_codes) - 1)] == joined)
            combined = np.where(found, position, np.nan)
        if building:
            self._refuse_repeats(combined)
        return combined.astype(np.int64) if building else combined

    def _refuse_repeats(self, codes: np.ndarray) -> None:
        counts = np.bincount(codes.astype(np.int64), minlength=self.size)
        repeated = np.flatnonzero(counts > 1)
        if not repeated.size:
            return
        rows = [int(np.flatnonzero(codes == code)[0]) for code in repeated[:SHOWN_KEYS]]
        raise InputError(
            f"--on {','.join(self.names)}: {repeated.size} key"
            f"{' appears' if repeated.size == 1 else 's appear'} more than once in {self.where}: "
            f"{_listing([self.key_at(row) for row in rows], int(repeated.size))}.",
            "A key join needs each key once on each side: deduplicate the rows, "
            "or add a column to --on that tells them apart.",
        )

    def key_at(self, row: int) -> str:
        return key_text(self.names, [column[row].as_py() for column in self.keys])

    def rows_for(self, keys: list[pa.Array]) -> np.ndarray:
        """The indexed row of each key (float, NaN where the key is not in this input)."""
        import pyarrow.compute as pc

        codes = self._combine([self._codes(pc, i, column) for i, column in enumerate(keys)], False)
        rows = np.full(len(codes), np.nan)
        present = ~np.isnan(codes)
        rows[present] = self.row_of_code[codes[present].astype(np.int64)]
        return rows

    def unmatched(self) -> tuple[int, list[str]]:
        """Keys never matched, and the first few of them."""
        rows = np.flatnonzero(~self.seen)
        return int(rows.size), [self.key_at(int(row)) for row in rows[:SHOWN_KEYS]]


def _refuse_nulls(
    names: tuple[str, ...], keys: list[pa.Array], where: str, row_name: Callable[[int], str]
) -> None:
    import pyarrow.compute as pc

    for name, column in zip(names, keys, strict=True):
        empty = pc.is_null(column)
        if pa.types.is_string(column.type):  # an empty CSV field is text, but no key
            empty = pc.or_(empty, pc.fill_null(pc.equal(column, ""), False))
        if pc.any(empty).as_py():
            row = int(np.flatnonzero(np.asarray(empty))[0])
            raise InputError(
                f"Key column '{name}' (for --on) is empty at {row_name(row)}.",
                "Every row needs a key to be matched: fill it in or remove the row.",
            )


class KeyedJoin:
    """The streamed input's frames, each given the indexed input's columns for the same keys.

    Problems (keys on one side only, repeated keys) are counted over the whole streamed input
    before the error is raised, so it can say how many.
    """

    def __init__(
        self,
        index: KeyIndex,
        held: dict[str, np.ndarray],
        streamed_where: str,
        locator: Any,
        streamed_locator: Any,
    ) -> None:
        self.index = index
        self.held = held
        self.streamed_where = streamed_where
        self.locator = locator  # names the indexed input's rows
        self.streamed_locator = streamed_locator
        self.absent: list[str] = []  # streamed keys the index does not have (first few)
        self.absent_count = 0
        self.repeated: list[str] = []
        self.repeated_count = 0
        self.recent: dict[int, np.ndarray] = {}  # chunk start -> indexed rows of its rows

    def frames(self, stream: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        start = 0
        for frame in stream:
            keys = [
                as_key(frame[name], kind)
                for name, kind in zip(self.index.names, self.index.kinds, strict=True)
            ]
            rows = self._match(keys, start)
            size = len(keys[0])
            if not self._failed:
                self._remember(start, rows.astype(np.int64))
                yield {
                    **frame,
                    **{name: values[rows.astype(np.int64)] for name, values in self.held.items()},
                }
            start += size
        self._finish()

    @property
    def _failed(self) -> bool:
        return bool(self.absent_count or self.repeated_count)

    def _match(self, keys: list[pa.Array], start: int) -> np.ndarray:
        describe = self.streamed_locator.describe
        _refuse_nulls(self.index.names, keys, self.streamed_where, lambda r: describe(start + r))
        rows = self.index.rows_for(keys)
        absent = np.flatnonzero(np.isnan(rows))
        if absent.size:
            self.absent_count += int(absent.size)
            self._note(self.absent, keys, absent)
            rows = np.where(np.isnan(rows), 0, rows)
        matched = np.delete(rows, absent).astype(np.int64)
        order = np.sort(matched)
        twice = np.unique(order[1:][order[1:] == order[:-1]])
        again = np.unique(matched[self.index.seen[matched]])
        repeated = np.union1d(twice, again)
        if repeated.size:
            self.repeated_count += int(repeated.size)
            self.repeated.extend(self.index.key_at(int(row)) for row in repeated[:SHOWN_KEYS])
            del self.repeated[SHOWN_KEYS:]
        self.index.seen[matched] = True
        return rows

    def _note(self, shown: list[str], keys: list[pa.Array], positions: np.ndarray) -> None:
        for position in positions[: SHOWN_KEYS - len(shown)]:
            values = [column[int(position)].as_py() for column in keys]
            shown.append(key_text(self.index.names, values))

    def _remember(self, start: int, rows: np.ndarray) -> None:
        self.recent[start] = rows
        while len(self.recent) > RECENT_CHUNKS:
            del self.recent[next(iter(self.recent))]

    def held_row(self, index: int) -> int | None:
        """The indexed input's row matched to the streamed input's row ``index``, if still known."""
        for start, rows in self.recent.items():
            if start <= index < start + len(rows):
                return int(rows[index - start])
        return None

    def _finish(self) -> None:
        unmatched, shown = self.index.unmatched()
        on = ",".join(self.index.names)
        problems = []
        if self.absent_count:
            problems.append(
                f"{_count(self.absent_count)} of {self.streamed_where} "
                f"{'is' if self.absent_count == 1 else 'are'} not in {self.index.where} "
                f"({_listing(self.absent, self.absent_count)})"
            )
        if self.repeated_count:
            problems.append(
                f"{_count(self.repeated_count)} "
                f"{'appears' if self.repeated_count == 1 else 'appear'} more than once in "
                f"{self.streamed_where} "
                f"({_listing(self.repeated, self.repeated_count)})"
            )
        if unmatched:
            problems.append(
                f"{_count(unmatched)} of {self.index.where} {'is' if unmatched == 1 else 'are'} "
                f"not in {self.streamed_where} ({_listing(shown, unmatched)})"
            )
        if problems:
            raise InputError(
                f"--on {on}: {'; '.join(problems)}.",
                "A key join needs each key exactly once in each input: check that the files "
                "belong together, or choose other --on columns.",
            )


def _count(number: int) -> str:
    return f"{number} key{'' if number == 1 else 's'}"


def check_row_ids(
    frame: dict[str, Any],
    pairs: Sequence[tuple[str, str, str]],
    start: int,
    where: Callable[[int], tuple[str, str]],
) -> None:
    """Row-id columns of two inputs aligned by position must agree on every row."""
    import pyarrow.compute as pc

    for name, mine, theirs in pairs:
        first, second = as_key(frame[mine], pa.string()), as_key(frame[theirs], pa.string())
        same = pc.fill_null(pc.equal(first, second), False)
        both_null = pc.and_(pc.is_null(first), pc.is_null(second))
        differ = np.flatnonzero(~np.asarray(pc.or_(same, both_null)))
        if differ.size:
            row = int(differ[0])
            here, there = where(start + row)
            mine, theirs = _short(first[row].as_py()), _short(second[row].as_py())
            raise InputError(
                f"The inputs are matched row by row, and {here} has {name} {mine} "
                f"but {there} has {name} {theirs}.",
                f"To match rows by their {name} instead, add --on {name}; or sort both files "
                "the same way.",
            )
