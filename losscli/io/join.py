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

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from losscli.errors import InputError, excerpt, option
from losscli.io.chunks import column_family, run_starts
from losscli.io.columns import looks_like_row_id

SHOWN_KEYS = 3  # keys quoted in a message
RECENT_CHUNKS = 16  # chunks whose matched rows are remembered, for naming a row of the side


def shared_row_ids(first: Sequence[str], second: Sequence[str]) -> list[str]:
    """Row-id columns present in both inputs under the same name."""
    other = set(second)
    return [name for name in first if name in other and looks_like_row_id(name)]


def key_text(names: Sequence[str], values: Sequence[Any]) -> str:
    """One key, as a message shows it: ``Id=7`` or ``(region=eu, day=7)``."""
    shown = [f"{name}={_short(value)}" for name, value in zip(names, values, strict=True)]
    return shown[0] if len(shown) == 1 else "(" + ", ".join(shown) + ")"


def _short(value: Any) -> str:
    return "null" if value is None else excerpt(str(value))


def _listing(keys: list[str], count: int) -> str:
    more = f", ... ({count} in all)" if count > len(keys) else ""
    return ", ".join(keys) + more


def common_key_type(first: pa.DataType, second: pa.DataType, name: str, where: str) -> pa.DataType:
    """The type both sides' key column is compared as: integers and text match as text."""
    families = {column_family(first), column_family(second)}
    if families == {"string"}:
        return pa.string()  # large, view and dictionary-coded text alike
    if first == second and not pa.types.is_dictionary(first):
        return first
    if families == {"integer"}:
        return pa.int64()
    if families <= {"integer", "floating"}:
        return pa.float64()
    if families <= {"integer", "string"}:
        return pa.string()  # a CSV key is read as text, a Parquet one as a number
    raise InputError(
        f"Key column '{name}' holds {first} values in one input but {second} in {where}.",
        "Give the key the same type in both files (e.g. both integers or both text).",
    )


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

    ``keys`` holds one Arrow array per key column, every row of the indexed input. The lookup is
    pandas' hash index, built once: Arrow's ``index_in`` would rebuild its hash table for every
    chunk looked up. Text keys that are all plain integers (a CSV's ``Id``) are indexed as
    integers, exactly: only text that is an integer written the one plain way can match them.
    """

    def __init__(self, names: tuple[str, ...], keys: list[pa.Array], where: str) -> None:
        import pandas as pd

        self.names = names
        self.where = where
        self.keys = keys
        self.kinds = [column.type for column in keys]
        self.size = len(keys[0]) if keys else 0
        _refuse_nulls(names, keys, where, lambda row: f"row {row + 1} of {where}")
        self.as_integers = [pa.types.is_string(c.type) and _plain_integers(c) for c in keys]
        values = [_lookup_values(c, whole) for c, whole in zip(keys, self.as_integers, strict=True)]
        self.index = pd.MultiIndex.from_arrays(values) if len(values) > 1 else pd.Index(values[0])
        if not self.index.is_unique:
            self._refuse_repeats()
        self.seen = np.zeros(self.size, dtype=bool)

    def _refuse_repeats(self) -> None:
        repeated = np.flatnonzero(self.index.duplicated(keep="first"))
        distinct = self.index[repeated].unique()
        shown = [self.key_at(int(row)) for row in repeated[: SHOWN_KEYS * 4]]
        shown = list(dict.fromkeys(shown))[:SHOWN_KEYS]
        raise InputError(
            f"{option('on')} {','.join(self.names)}: {len(distinct)} key"
            f"{' appears' if len(distinct) == 1 else 's appear'} more than once in {self.where}: "
            f"{_listing(shown, len(distinct))}.",
            "A key join needs each key once on each side: deduplicate the rows, "
            f"or add a column to {option('on')} that tells them apart.",
        )

    def key_at(self, row: int) -> str:
        return key_text(self.names, [column[row].as_py() for column in self.keys])

    def rows_for(self, keys: list[pa.Array]) -> np.ndarray:
        """The indexed row of each key (float, NaN where the key is not in this input)."""
        import pandas as pd

        values, absent = [], np.zeros(len(keys[0]), dtype=bool)
        for column, whole in zip(keys, self.as_integers, strict=True):
            if whole:
                plain = _plain_integer_mask(column)
                absent |= ~plain
                column = _where(plain, column, "0")
            values.append(_lookup_values(column, whole))
        target = pd.MultiIndex.from_arrays(values) if len(values) > 1 else pd.Index(values[0])
        rows = self.index.get_indexer(target).astype(np.float64)
        rows[(rows < 0) | absent] = np.nan
        return rows

    def unmatched(self) -> tuple[int, list[str]]:
        """Keys never matched, and the first few of them."""
        rows = np.flatnonzero(~self.seen)
        return int(rows.size), [self.key_at(int(row)) for row in rows[:SHOWN_KEYS]]


# An integer written the one plain way (no sign but '-', no leading zero), within int64.
PLAIN_INTEGER = r"^-?(0|[1-9][0-9]{0,17})$"


def _plain_integer_mask(column: pa.Array) -> np.ndarray:
    import pyarrow.compute as pc

    return np.asarray(pc.fill_null(pc.match_substring_regex(column, PLAIN_INTEGER), False))


def _plain_integers(column: pa.Array) -> bool:
    return bool(_plain_integer_mask(column).all())


def _where(mask: np.ndarray, column: pa.Array, other: str) -> pa.Array:
    import pyarrow.compute as pc

    return pc.if_else(pa.array(mask), column, other)


def _lookup_values(column: pa.Array, whole: bool) -> np.ndarray:
    """A key column as NumPy for the index: integers as int64, text as Python strings."""
    if whole:
        column = column.cast(pa.int64())
    return column.to_numpy(zero_copy_only=False)


def _refuse_nulls(
    names: tuple[str, ...], keys: list[pa.Array], where: str, row_name: Callable[[int], str]
) -> None:
    import pyarrow.compute as pc

    for name, column in zip(names, keys, strict=True):
        empty = pc.is_null(column, nan_is_null=True)
        if pa.types.is_string(column.type):  # an empty CSV field is text, but no key
            empty = pc.or_(empty, pc.fill_null(pc.equal(column, ""), False))
        if pc.any(empty).as_py():
            row = int(np.flatnonzero(np.asarray(empty))[0])
            raise InputError(
                f"Key column '{name}' (for {option('on')}) is empty at {row_name(row)}.",
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
        self.repeats = np.zeros(index.size, dtype=bool)  # keys met more than once
        self.any_repeat = False
        self.matched = 0  # keys met so far
        self.recent: dict[int, np.ndarray] = {}  # chunk start -> indexed rows of its rows

    def frames(self, stream: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        start = 0
        for frame in stream:
            keys = [
                as_key(frame[name], kind)
                for name, kind in zip(self.index.names, self.index.kinds, strict=True)
            ]
            rows = self._match(keys, start).astype(np.int64)
            if not self._failed:
                self._remember(start, rows)
                yield {**frame, **{name: values[rows] for name, values in self.held.items()}}
            start += len(rows)
        self._finish()

    @property
    def _failed(self) -> bool:
        return bool(self.absent_count or self.any_repeat)

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
        seen = self.index.seen
        again = seen[matched]
        seen[matched] = True
        total = int(np.count_nonzero(seen))
        # Every key new, and none twice in this chunk: the count of matched keys says so at once.
        if again.any() or total - self.matched < matched.size:
            # Rows of the indexed input matched twice here: all but the first of each run.
            order = np.sort(matched)
            self.repeats[np.delete(order, run_starts(order))] = True
            self.repeats[matched[again]] = True
            self.any_repeat = True
        self.matched = total
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
        repeated = np.flatnonzero(self.repeats)
        if repeated.size:
            shown_repeats = [self.index.key_at(int(row)) for row in repeated[:SHOWN_KEYS]]
            problems.append(
                f"{_count(repeated.size)} "
                f"{'appears' if repeated.size == 1 else 'appear'} more than once in "
                f"{self.streamed_where} ({_listing(shown_repeats, int(repeated.size))})"
            )
        if unmatched:
            problems.append(
                f"{_count(unmatched)} of {self.index.where} {'is' if unmatched == 1 else 'are'} "
                f"not in {self.streamed_where} ({_listing(shown, unmatched)})"
            )
        if problems:
            raise InputError(
                f"{option('on')} {on}: {'; '.join(problems)}.",
                "A key join needs each key exactly once in each input: check that the files "
                f"belong together, or choose other {option('on')} columns.",
            )


def _count(number: int) -> str:
    return f"{number} key{'' if number == 1 else 's'}"


def check_row_ids(
    frame: dict[str, Any], column: tuple[str, str, str], start: int, here: Any, there: Any
) -> None:
    """A row-id column of two inputs aligned by position must agree on every row.

    ``column`` is the column's name and its two fields in the frame; ``here`` and ``there`` name
    each input's rows (``describe(index)``).
    """
    import pyarrow.compute as pc

    name, mine, theirs = column
    first, second = as_key(frame[mine], pa.string()), as_key(frame[theirs], pa.string())
    same = pc.fill_null(pc.equal(first, second), False)
    both_null = pc.and_(pc.is_null(first), pc.is_null(second))
    differ = np.flatnonzero(~np.asarray(pc.or_(same, both_null)))
    if differ.size:
        row = int(differ[0])
        ours, others = _short(first[row].as_py()), _short(second[row].as_py())
        raise InputError(
            f"The inputs are matched row by row, and {here.describe(start + row)} has {name} "
            f"{ours} but {there.describe(start + row)} has {name} {others}.",
            f"To match rows by their {name} instead, add {option('on')} {name}; or sort both files "
            "the same way.",
        )
