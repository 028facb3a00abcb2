"""From Arrow record batches to NumPy chunks: one float64 array per role, missing values handled.

A role's columns become a (rows,) array for one scalar column, or (rows, k) for a column group or a
list column. Rows are numbered from 1 within their file (header not counted) in every message.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa

from losscli.engine import runs
from losscli.engine.runs import long_runs, run_heads
from losscli.errors import InputError, UsageError, option
from losscli.io.columns import ROLE_OPTIONS, option_for
from losscli.io.key_table import (
    TEXT_TYPES,
    DigitTemplate,
    KeyTable,
    Numbering,
    TextWords,
    fingerprints,
    float_repeats,
    integer_prints,
    plain_integers,
    stored_numbers,
    text_words,
    word_prints,
)

NAN = option("nan")  # the missing-value policy, as messages name it

NAN_POLICIES = ("error", "drop", "propagate")
Frame = dict[str, Any]  # column name -> np.ndarray (numbers) or pa.Array (ids); same length
# A frame's folded pred (``folded.FoldedRows``) goes by this name, which no column can have.
FOLDED = "\0pred"


class RowLocator:
    """Maps a global 0-based row index to 'row N of FILE' as sources are read one after another."""

    def __init__(self, name_files: bool = False) -> None:
        self.starts: list[tuple[int, str]] = []
        self.name_files = name_files  # several files, or a targets file beside the predictions

    def begin(self, first_row: int, name: str) -> None:
        self.starts.append((first_row, name))

    def describe(self, index: int, role: str | None = None) -> str:
        start, name = next(((s, n) for s, n in reversed(self.starts) if s <= index), (0, "input"))
        if self.name_files or len(self.starts) > 1 or name == "<stdin>":
            return f"row {index - start + 1} of {name}"
        return f"row {index - start + 1}"


@dataclass
class Chunk:
    """Rows ``start`` to ``start + size`` of the input, as NumPy arrays of the rows kept."""

    start: int
    size: int
    roles: dict[str, np.ndarray]
    weight: np.ndarray | None
    columns: Mapping[str, tuple[str, ...]]
    locate: Callable[[int, str | None], str]  # (global row, role) -> 'row N of FILE'
    kept: np.ndarray | None = None  # boolean mask over the ``size`` rows; None keeps all
    ids: Any = None
    groups: np.ndarray | None = None  # --by: each kept row's group code

    @property
    def rows(self) -> int:
        return self.size if self.kept is None else int(self.kept.sum())

    def where(self, index: int, role: str | None = None) -> str:
        """'row N of FILE' for the ``index``-th kept row."""
        if self.kept is not None:
            index = int(np.flatnonzero(self.kept)[index])
        return self.locate(self.start + index, role)

    def split(self, index: int) -> tuple[Chunk, Chunk]:
        """The chunk before its ``index``-th kept row, and from it on (dropped rows go with the
        kept row after them, so each part is a run of whole input rows)."""
        cut = index if self.kept is None else _raw_position(self.kept, index)
        return self._part(slice(0, index), slice(0, cut)), self._part(
            slice(index, None), slice(cut, self.size)
        )

    def _part(self, rows: slice, raw: slice) -> Chunk:
        return replace(
            self,
            start=self.start + raw.start,
            size=raw.stop - raw.start,
            roles={role: values[rows] for role, values in self.roles.items()},
            weight=None if self.weight is None else self.weight[rows],
            kept=None if self.kept is None else self.kept[raw],
            ids=None if self.ids is None else self.ids[raw],
            groups=None if self.groups is None else self.groups[rows],
        )

    def then(self, after: Chunk) -> Chunk:
        """This chunk and the one that follows it in the input, as one."""
        kept = None
        if self.kept is not None or after.kept is not None:
            kept = np.concatenate([_kept_mask(self), _kept_mask(after)])
        return replace(
            self,
            size=self.size + after.size,
            roles={
                role: np.concatenate([values, after.roles[role]])
                for role, values in self.roles.items()
            },
            weight=_joined(self.weight, after.weight),
            kept=kept,
            ids=_joined(self.ids, after.ids),
            groups=_joined(self.groups, after.groups),
        )


def _raw_position(kept: np.ndarray, index: int) -> int:
    """Where the ``index``-th kept row is among all rows (past the end: the size)."""
    positions = np.flatnonzero(kept)
    return int(positions[index]) if index < len(positions) else len(kept)


def _kept_mask(chunk: Chunk) -> np.ndarray:
    return np.ones(chunk.size, dtype=bool) if chunk.kept is None else chunk.kept


def _joined(first: Any, second: Any) -> Any:
    if first is None or second is None:
        return None
    if isinstance(first, np.ndarray):
        return np.concatenate([first, second])
    return pa.concat_arrays([_as_array(first), _as_array(second)])


def frames(
    readers: Iterable[Any],
    columns: list[str],
    numeric: set[str],
    locator: RowLocator,
    first_row: int = 0,
    read: Callable[..., Iterator[Frame]] | None = None,
) -> Iterator[Frame]:
    """Every reader's rows in order as frames of ``columns``; a missing column names its file.

    ``first_row`` is the global number of the first row read (a part of a larger input).
    ``read(reader, columns, numeric, kinds, where, first row in file)`` reads one file's frames
    (``folded_read``); by default its batches, converted."""
    seen = first_row
    widths = ListWidths()
    kinds = ColumnKinds()
    read = read or _converted_batches
    for reader in readers:
        where = reader.source.display
        try:
            present = set(reader.names)  # 10,000 names each looked up in a list: 10^8 steps
            absent = [name for name in columns if name not in present]
            if absent:
                raise InputError(
                    f"{where} has no column {', '.join(repr(n) for n in absent)}, "
                    "which the first file has.",
                    "Several files are read as one table: give them the same columns.",
                )
            # A part of a file (some of its row groups) starts after the rows before it.
            file_rows = reader.source.rows_before
            locator.begin(seen - file_rows, where)
            for frame in read(reader, columns, numeric, kinds, where, file_rows):
                widths.check(frame, where, file_rows)
                rows = _length(frame)
                seen += rows
                file_rows += rows
                yield frame
        finally:
            reader.close()


def _converted_batches(
    reader: Any,
    columns: list[str],
    numeric: set[str],
    kinds: ColumnKinds,
    where: str,
    row: int,
    stored: frozenset[str] = frozenset(),
    coded: frozenset[str] = frozenset(),
    rows: int | None = None,
) -> Iterator[Frame]:
    for batch in reader.batches(columns, numeric, coded, rows):
        yield converted(batch, columns, numeric, kinds, where, row, stored)
        row += batch.num_rows


def plan_read(plan: ReadPlan, rows: int | None = None) -> Callable[..., Iterator[Frame]] | None:
    """How ``frames`` reads each file when the plan's ``stored`` columns may keep their stored
    type, its key columns may come as dictionaries, or batches are held to ``rows`` rows (None,
    the default, when none of these)."""
    coded = plan.coded_columns()
    if not plan.stored and not coded and rows is None:
        return None
    return functools.partial(_converted_batches, stored=plan.stored, coded=coded, rows=rows)


def converted(
    batch: pa.RecordBatch,
    columns: list[str],
    numeric: set[str],
    kinds: ColumnKinds,
    where: str,
    file_rows: int,
    stored: frozenset[str] = frozenset(),
) -> Frame:
    """A batch as a frame: ``numeric`` columns as float64 arrays (the ``stored`` ones as stored,
    when narrow and whole), the others as written."""
    return {
        name: to_numbers(batch.column(name), name, where, file_rows, name in stored)
        if name in numeric
        else kinds.same(name, batch.column(name), where)
        for name in columns
    }


class ListWidths:
    """The width of each list column, set by its first row: every later batch must agree."""

    def __init__(self) -> None:
        self.first: dict[str, tuple[int, str]] = {}

    def check(self, frame: Frame, where: str, first_row: int) -> None:
        for name, values in frame.items():
            if not isinstance(values, np.ndarray) or not len(values):
                continue
            # A scalar column has width 0: one file's list must not meet another's number.
            here = values.shape[1] if values.ndim == 2 else 0
            width, seen_at = self.first.setdefault(name, (here, f"row {first_row + 1} of {where}"))
            if here != width:
                theirs = str(width) if here and width else _values(width)
                raise InputError(
                    f"{_column_kind(name, here)} has {_values(here)} at row {first_row + 1} "
                    f"of {where} but {theirs} at {seen_at}.",
                    "Every row of a list column needs the same number of values.",
                )


def _column_kind(name: str, width: int) -> str:
    return f"List column '{name}'" if width else f"Column '{name}'"


def _values(width: int) -> str:
    return f"{width} values" if width else "a single number"


class ColumnKinds:
    """The Arrow type of each column read as written (ids, --by, keys), set by the first file.

    A later file's column of the same kind (int32 after int64) is cast to that type; another kind
    (text after integers) is an input error: its values could never equal the first file's.
    """

    def __init__(self) -> None:
        self.first: dict[str, tuple[pa.DataType, str]] = {}

    def same(self, name: str, values: Any, where: str) -> Any:
        kind, seen_in = self.first.setdefault(name, (values.type, where))
        if values.type == kind:
            return values
        if column_family(values.type) == column_family(kind) is not None:
            with contextlib.suppress(pa.ArrowInvalid):
                return values.cast(kind)
        raise InputError(
            f"Column '{name}' holds {values.type} values in {where} but {kind} in {seen_in}.",
            "Several files are read as one table: give the column one type in all of them.",
        )


def column_family(kind: pa.DataType) -> str | None:
    """integer, floating or string (large and view strings too); None for other types."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_floating(kind):
        return "floating"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return "string"
    return None


def to_numbers(
    column: pa.Array, name: str, where: str, first_row: int = 0, stored: bool = False
) -> np.ndarray:
    """float64 values of a numeric or list column; nulls become NaN.

    ``first_row`` is the 0-based row of ``column[0]`` within its file, for messages. ``stored``:
    float32 and integers of 32 bits or fewer without a null stay as stored (no copy).
    """
    kind = column.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _list_to_matrix(column, name, where, first_row)
    if not (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_null(kind)
    ):
        raise InputError(
            f"Column '{name}' of {where} holds {kind} values, not numbers.",
            f"Select numeric columns with {ROLE_OPTIONS}/{option('columns')}.",
        )
    if stored and kind in NARROW and not column.null_count:
        values = stored_values(column)
        assert values is not None  # a number type
        return values
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        # Converted by NumPy: Arrow's cast would import pyarrow.compute (0.05 s a run) for the
        # integer labels of every classification file. Integers beyond 2^53 round to nearest.
        return float_values(column, np.dtype(kind.to_pandas_dtype()))
    return float_values(column.cast(pa.float64()))


# Types whose every value float64 holds exactly: a stored loss reads them without a copy.
NARROW = frozenset(
    [pa.float32(), pa.int8(), pa.int16(), pa.int32(), pa.uint8(), pa.uint16(), pa.uint32()]
)


def float_values(column: pa.Array, stored: np.dtype | None = None) -> np.ndarray:
    """A float64 (or ``stored``-typed) Arrow array as float64 NumPy, nulls as NaN.

    Zero-copy for float64 when nothing is null. Read from the buffers directly: Arrow's own
    ``to_numpy`` imports pandas, which would cost every run a third of a second.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    validity, data = column.buffers()[:2]
    start, length = column.offset, len(column)
    if data is None:
        return np.full(length, np.nan)
    values = np.frombuffer(data, dtype=np.float64 if stored is None else stored)
    values = values[start : start + length]
    if values.dtype != np.float64:
        values = values.astype(np.float64)
    if not column.null_count:
        return values
    bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
    return np.where(bits[start : start + length].astype(bool), values, np.nan)


def _list_to_matrix(column: pa.Array, name: str, where: str, first_row: int) -> np.ndarray:
    import pyarrow.compute as pc  # here: a tenth of a second that scalar columns never need

    if len(column) == 0:
        return np.zeros((0, 0))
    lengths = float_values(pc.list_value_length(column).cast(pa.float64()))  # a null list: NaN
    nulls = np.flatnonzero(np.isnan(lengths))
    if nulls.size:
        raise InputError(
            f"List column '{name}' of {where} has a null list at row {first_row + nulls[0] + 1}.",
            f"Give every row a list; a null or NaN inside a list is a missing value (see {NAN}).",
        )
    uneven = np.flatnonzero(lengths != lengths[0])
    if uneven.size:
        row = int(uneven[0])
        raise InputError(
            f"List column '{name}' of {where} has {lengths[row]:g} values at row "
            f"{first_row + row + 1} but {lengths[0]:g} at row {first_row + 1}.",
            "Every row of a list column needs the same number of values.",
        )
    values = pc.list_flatten(column)
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        raise InputError(f"List column '{name}' of {where} holds {values.type}, not numbers.")
    return float_values(values.cast(pa.float64())).reshape(len(column), -1)


def rebatch(stream: Iterable[Frame], rows: int, exact: bool) -> Iterator[Frame]:
    """Frames of at most ``rows`` rows; ``exact`` also joins small ones so two streams line up."""
    pending: list[Frame] = []
    count = 0
    for frame in stream:
        length = _length(frame)
        offset = 0
        while offset < length:
            take = min(rows - count, length - offset)
            piece = {key: value[offset : offset + take] for key, value in frame.items()}
            offset += take
            if not exact:
                yield piece
                continue
            pending.append(piece)
            count += take
            if count == rows:
                yield _join(pending)
                pending, count = [], 0
    if pending:
        yield _join(pending)


def _length(frame: Frame) -> int:
    return len(next(iter(frame.values()))) if frame else 0


def _join(frames_: list[Frame]) -> Frame:
    if len(frames_) == 1:
        return frames_[0]
    joined: Frame = {}
    for key, first in frames_[0].items():
        parts = [frame[key] for frame in frames_]
        if isinstance(first, np.ndarray):
            joined[key] = np.concatenate(parts)
        else:
            joined[key] = pa.concat_arrays([_as_array(part) for part in parts])
    return joined


def _as_array(value: Any) -> pa.Array:
    return value.combine_chunks() if isinstance(value, pa.ChunkedArray) else value


@dataclass(frozen=True)
class ReadPlan:
    """Role -> columns, and what to do with missing values.

    ``keys`` are roles whose column names a group (``sample``): any type, read as written and
    numbered 0, 1, 2, ... in order of first appearance over the whole input.
    """

    roles: Mapping[str, tuple[str, ...]]
    weight: str | None = None
    id_column: str | None = None
    nan: str = "error"
    keys: frozenset[str] = frozenset()
    groups: tuple[str, ...] = ()  # --by columns, read as written
    # A second input's columns travel under a prefix (so they never collide with the first's);
    # messages name them as their file does.
    shown: Mapping[str, str] | None = None
    # Target columns of class labels as text: column -> labels.LabelCoding, read as written and
    # coded as numbers chunk by chunk.
    labels: Mapping[str, Any] = field(default_factory=dict)
    # Numeric columns read as stored when they are float32 or integers of 32 bits or fewer, and
    # hold no null: the losses that read them compute in float64 themselves (``LossDef.stored``).
    stored: frozenset[str] = frozenset()
    # Frames read on a thread of their own, and assembled on the one ahead of the losses
    # (``chunk_stream``): a decoded file (Parquet) whose --by keys are text or that has a
    # sample or batch key, whose coding takes about as long as decoding the rows.
    apart: bool = False

    def shown_roles(self) -> dict[str, tuple[str, ...]]:
        """Role -> columns as the user named them, for messages."""
        shown = self.shown or {}
        return {role: tuple(shown.get(c, c) for c in cols) for role, cols in self.roles.items()}

    def numeric_columns(self) -> list[str]:
        names = [
            name
            for role, columns in self.roles.items()
            if role not in self.keys
            for name in columns
            if name not in self.labels
        ]
        if self.weight:
            names.append(self.weight)
        return list(dict.fromkeys(names))

    def coded_columns(self) -> frozenset[str]:
        """Key roles' columns that are only ever coded: not also an id, a label or a number."""
        keys = {self.roles[role][0] for role in self.roles if role in self.keys}
        other = {*self.labels, *self.groups, self.id_column, *self.numeric_columns()}
        return frozenset(keys - other)

    def other_columns(self) -> list[str]:
        """Columns read as written: key roles and the --id column."""
        names = [self.roles[role][0] for role in self.roles if role in self.keys]
        names.extend(self.labels)
        if self.id_column:
            names.append(self.id_column)
        names.extend(self.groups)
        return [name for name in dict.fromkeys(names) if name not in self.numeric_columns()]


def _narrow(codes: np.ndarray, kind: type) -> np.ndarray:
    """Run codes as ``kind``, or as int32 where float64 was asked and every code is a number
    below 2^31: half the bytes to repeat over a run's rows and to compare for its ends (per-pixel
    dice 0.96x the time). Every reader of a key role (run ends, ``astype(np.intp)``, the NaN
    checks, a comparison) takes either; a missing key (NaN) keeps float64."""
    if kind is not np.float64 or not len(codes) or np.isnan(codes.min()) or codes.max() >= 2**31:
        return codes.astype(kind, copy=False)
    return codes.astype(np.int32)


class KeyCodes:
    """Dense integer codes (as float64, NaN for a null; int32 for a chunk of runs without a null)
    of key values, stable across chunks.

    An empty text is a null too, as an empty number cell is: a CSV key column is read as text,
    and its empty cells would otherwise make one sample of their own. ``nulls`` gives a null
    its own code (a group of its own: --by) instead of NaN, and leaves an empty text a value.

    Codes follow the order of first appearance over all chunks. The keys are held in one Arrow
    array in code order and found by fingerprint (``KeyTable``): a chunk costs time for its own
    distinct keys only, however many were seen before. Keys Arrow treats as distinct but Python
    as equal are one key: every NaN, and 0.0 and -0.0. Text written plainly as integers (a CSV's
    ids) is found by those numbers, not by hashing it, and kept as the text it was. A chunk of
    short texts (ids like 'user_0042') is found row by row, each text held as a few integers
    (``text_words``), with no dictionary of the chunk made first.
    """

    def __init__(self, nulls: bool = False) -> None:
        self.nulls = "encode" if nulls else "mask"
        self.pieces: list[pa.Array] = []  # the keys in code order, one piece per chunk
        self.table: KeyTable | None = KeyTable()  # None: keys found by Arrow instead (see _exact)
        self.null_code = -1
        self.size = 0
        # How texts were found so far: None (none yet), "integers" (each an integer written
        # plainly, found by its number: a CSV's ids), "hashed" (by a hash of its text), "mixed"
        # (plain integers by their number, other texts by their hash).
        self.texts: str | None = None
        # Every key's text as words, while every key is a text of at most SHORT_BYTES: a chunk
        # of such texts is then coded by ``_short_codes``. None once a key is not.
        self.words: TextWords | None = TextWords()
        # While texts is "template": the texts' template, each key found by its number there.
        self.template: DigitTemplate | None = None

    def __call__(self, values: Any) -> np.ndarray:
        return self._found(values, np.float64)

    def integers(self, values: Any) -> np.ndarray:
        """The codes as int64, for keys whose nulls have a code of their own (``nulls``): the
        codes of integer keys are never made floats on the way."""
        assert self.nulls == "encode"
        return self._found(values, np.int64)

    def _found(self, values: Any, kind: type) -> np.ndarray:
        """The codes as ``kind``; a run's code is made so before it is repeated."""
        if isinstance(values, np.ndarray):
            values = pa.array(values, from_pandas=True)
        values = _as_array(values)
        runs = _runs(values)
        if runs is None:
            return self._codes(values).astype(kind, copy=False)
        # An image's pixels, rows sorted by group: code each run's value once (the same codes,
        # in the same order of first appearance), then repeat it. Hashing every row took ~9 ns.
        first, lengths = runs
        return np.repeat(_narrow(self._codes(first), kind), lengths)

    def _codes(self, values: pa.Array) -> np.ndarray:
        table = self.table
        written = None  # the type to keep keys as, when they are found by numbers they wrote
        numbers = self._integer_texts(values) if table is not None else None
        if numbers is not None:
            values, written = numbers, values.type
        elif table is not None and self.texts in (None, "template"):
            codes = self._template_codes(values, table)
            if codes is not None:
                return codes
            table = self.table  # a new one, if the texts left their template
        if table is not None and table.direct is not None and _plain_integers(values):
            return self._direct_codes(values, table, written)
        if table is not None and self.words is not None and self.texts in (None, "hashed"):
            codes = self._short_codes(values, table, self.words) if _plain_texts(values) else None
            if codes is not None:
                return codes
        import pyarrow.compute as pc  # here: integer keys (image ids) never need it

        encoded = pc.dictionary_encode(values, null_encoding=self.nulls)
        # A dictionary column comes back as it is: its dictionary may repeat a value.
        repeats = pa.types.is_dictionary(values.type)
        codes = np.append(self._lookup(encoded.dictionary, repeats, written), np.nan)
        return codes[_positions(encoded.indices)]  # a null row: -1, the NaN at the end

    def _integer_texts(self, values: pa.Array) -> pa.Array | None:
        """Text keys as int64, when every one is an integer written plainly and no text was
        found by its hash before (the table then holds numbers only, which find these exactly).
        A CSV's integer ids are text (read as written: '007' is not 7), and hashing them cost
        most of a --by run's time."""
        if self.texts not in (None, "integers") or not _plain_texts(values):
            return None
        numbers = plain_integers(values)
        if numbers is not None:
            self.texts, self.words = "integers", None  # found by number from now on
        return numbers

    def _short_codes(
        self, values: pa.Array, table: KeyTable, known: TextWords
    ) -> np.ndarray | None:
        """Texts without a null, none longer than SHORT_BYTES: each row's fingerprint found in
        the table, and its words compared with its code's (exact), with no dictionary of the
        chunk made first: Arrow's took as long as all the rest of a --by chunk of 10^5 ids.
        None, for the dictionary's way to decide, when a text is longer, an empty text is a
        null here, or two texts share a fingerprint."""
        marks = text_words(values)
        if marks is None:
            return None
        words, lengths = marks
        if self.nulls == "mask" and not lengths.all():
            return None
        prints = word_prints(words, lengths)
        codes = table.find(prints)
        if not known.same(codes, words, lengths):
            return None
        new = np.flatnonzero(codes < 0)
        if new.size:
            distinct, firsts, inverse = np.unique(
                prints[new], return_index=True, return_inverse=True
            )
            inverse = inverse.reshape(-1)
            rows = new[firsts][inverse]  # the first new row with each new row's fingerprint
            if not (
                np.array_equal(lengths[rows], lengths[new])
                and np.array_equal(words[rows], words[new])
            ):
                return None
            order = np.argsort(firsts)  # numbered in order of first appearance
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            numbers = np.arange(self.size, self.size + len(order))
            table.add(distinct[order], numbers)
            codes[new] = numbers[rank[inverse]]
            fresh = new[firsts[order]]
            marks = (words[fresh], lengths[fresh])
            self._remember(_taken(values, fresh), np.zeros(len(fresh), bool), numbers, marks)
        self.texts = "hashed"
        return codes

    def _direct_codes(
        self, values: pa.Array, table: KeyTable, written: pa.DataType | None = None
    ) -> np.ndarray:
        """Integer keys without a null, while they lie close together: each row looked up in the
        direct table, and only the new keys, each once in order of first appearance, added (no
        hashing of every row first). ``written``: the text type the keys were written as."""
        marks = fingerprints(values)
        assert marks is not None
        return self._exact_codes(
            marks[0], table, lambda rows: _as_written(_taken(values, rows), written)
        )

    def _exact_codes(
        self, prints: np.ndarray, table: KeyTable, keys: Callable[[np.ndarray], pa.Array]
    ) -> np.ndarray:
        """Codes of keys whose fingerprints are exact (equal only for equal keys); ``keys``
        gives the keys of some rows, to keep those new here."""
        codes = table.find(prints)
        new = np.flatnonzero(codes < 0)
        if len(new):
            first = table.first_places(prints[new])
            if first is None:
                _, first = np.unique(prints[new], return_index=True)
                first.sort()
            fresh = new[first]
            numbers = np.arange(self.size, self.size + len(fresh))
            table.add(prints[fresh], numbers)
            codes[new] = table.find(prints[new])
            self._remember(keys(fresh), np.zeros(len(fresh), bool), numbers)
        return codes  # int64: no null among them

    def _template_codes(self, values: pa.Array, table: KeyTable) -> np.ndarray | None:
        """Texts that fit one ``DigitTemplate`` (the first chunk's, if its texts have one): each
        found by its number, an exact key. A chunk that does not fit ends the template: the keys
        so far are found by their texts' fingerprints from then on (``_leave_template``)."""
        fits = _plain_texts(values)
        if self.texts is None:
            made = DigitTemplate.of(values) if fits and not self.size else None
            if made is None:
                return None
            self.template, numbers = made
            self.texts, self.words = "template", None
        else:
            assert self.template is not None
            found = self.template.numbers(values) if fits else None
            if found is None:
                self._leave_template()
                return None
            numbers = found
        return self._exact_codes(numbers.view(np.uint64), table, lambda rows: _taken(values, rows))

    def _leave_template(self) -> None:
        """Keys found by their texts' fingerprints (and words) from now on, as if never by
        their numbers; by comparing texts if two of them share a fingerprint."""
        self.texts, self.template = "hashed", None
        self.table, self.words = KeyTable(), TextWords()
        if not self.size:
            return
        marks = text_words(self.known())
        assert marks is not None  # a template's texts are short
        prints = word_prints(*marks)
        if len(np.unique(prints)) < len(prints):
            self.table, self.words = None, None
            return
        self.table.add(prints, np.arange(self.size))
        self.words.add(*marks)

    def _lookup(
        self, keys: pa.Array, repeats: bool, written: pa.DataType | None = None
    ) -> np.ndarray:
        """The code of each of a chunk's distinct ``keys``; new keys numbered on, in order."""
        counted = self._counted(keys)
        marks = None if self.table is None else fingerprints(keys)
        if marks is None or self.table is None:
            return self._exact(keys, counted)
        prints, exact = marks
        if _plain_texts(keys, nulls=True):
            if self.texts in ("integers", "mixed"):  # keys found by their number before
                prints, self.texts = integer_prints(keys, prints), "mixed"
            else:
                self.texts = "hashed"
        nulls = ~_valid(keys)
        codes = np.where(nulls, self.null_code, self.table.find(prints))
        new = np.flatnonzero(counted & (codes < 0))
        # Equal keys among the new: a dictionary repeating a value, NaNs or zeros of other bits.
        maybe_same = repeats or float_repeats(keys.type, prints[new])
        firsts, rank = _distinct(prints[new], nulls[new]) if maybe_same else (None, None)
        fresh = new if firsts is None else new[firsts]
        numbers = np.arange(self.size, self.size + len(fresh))
        valued = ~nulls[fresh]
        self.table.add(prints[fresh][valued], numbers[valued])
        # New texts that share a fingerprint get codes of their own, one of which the table
        # keeps: a later chunk's text found by it is compared with the code's text.
        if not exact and not self._same_values(keys, codes, new, firsts, rank):
            self.table = None  # two keys share a fingerprint: from now on, compare values
            return self._exact(keys, counted)
        codes[new] = numbers if rank is None else numbers[rank]
        self._remember(_as_written(keys.take(_indices(fresh)), written), nulls[fresh], numbers)
        return np.where(counted, codes, np.nan)

    def _counted(self, keys: pa.Array) -> np.ndarray:
        """The keys that get a code: all but empty texts, unless nulls are encoded."""
        if self.nulls == "encode" or not any(test(keys.type) for test in TEXT_TYPES):
            return np.ones(len(keys), dtype=bool)
        import pyarrow.compute as pc

        lengths = stored_values(pc.binary_length(keys))
        assert lengths is not None
        return ~((lengths == 0) & _valid(keys))

    def _same_values(
        self,
        keys: pa.Array,
        codes: np.ndarray,
        new: np.ndarray,
        firsts: np.ndarray | None,
        rank: np.ndarray | None,
    ) -> bool:
        """Whether keys found by a hash are the keys they were taken for."""
        import pyarrow.compute as pc

        found = np.flatnonzero((codes >= 0) & _valid(keys))
        pairs = []
        if found.size:
            pairs.append((self.known().take(_indices(codes[found])), keys.take(_indices(found))))
        if firsts is not None and rank is not None and len(firsts) < len(new):
            pairs.append((keys.take(_indices(new[firsts][rank])), keys.take(_indices(new))))
        return all(
            pc.all(pc.equal(known, given), skip_nulls=False).as_py() is True
            for known, given in pairs
        )

    def _remember(
        self,
        fresh: pa.Array,
        nulls: np.ndarray,
        numbers: np.ndarray,
        marks: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """Keep new keys with their codes ``numbers``; ``marks``: their ``text_words``."""
        if not len(fresh):
            return
        if self.words is not None:
            marks = marks or text_words(fresh)
            if marks is None:
                self.words = None
            else:
                self.words.add(*marks)
        self.pieces.append(fresh)
        self.size += len(fresh)
        if nulls.any():
            self.null_code = int(numbers[np.argmax(nulls)])

    def _exact(self, keys: pa.Array, counted: np.ndarray) -> np.ndarray:
        """Codes found by Arrow's own equality: for key types without fingerprints, and after
        two keys shared one. Costs time for every key seen so far."""
        import pyarrow.compute as pc

        kept = keys if counted.all() else keys.filter(_mask(counted))
        known = self.known() if self.size else kept.slice(0, 0)
        merged = pc.dictionary_encode(pa.concat_arrays([known, kept]), null_encoding="encode")
        self.pieces = [merged.dictionary]
        self.size = len(merged.dictionary)
        codes = np.full(len(keys), np.nan)
        codes[counted] = _positions(merged.indices.slice(len(known)))
        return codes

    def known(self) -> pa.Array:
        """Every key so far, in the order of their codes."""
        if len(self.pieces) > 1:
            self.pieces = [pa.concat_arrays(self.pieces)]
        return self.pieces[0]

    def values(self) -> list[Any]:
        """Each code's key as Python, a whole float (a label read as a number) as int."""
        if not self.size:
            return []
        known = self.known()
        if not pa.types.is_floating(known.type):
            return known.to_pylist()
        return [_whole(value) for value in known.to_pylist()]


def coded(encode: Callable[[Any], np.ndarray], values: Any, what: str) -> np.ndarray:
    """``encode(values)``; Arrow has no codes for a column of lists or structs."""
    try:
        return encode(values)
    except pa.ArrowNotImplementedError:
        kind = getattr(values, "type", "such")
        raise InputError(
            f"{what} holds {kind} values, which cannot be grouped.",
            "Use a column of labels or numbers, one per row.",
        ) from None


# Bytes types and the text types with the same layout.
BYTES_AS_TEXT = {
    pa.binary(): pa.string(),
    pa.large_binary(): pa.large_string(),
    pa.binary_view(): pa.string_view(),
}


def _bytes_as_text(values: Any, what: str, where: Callable[[int], str] | None) -> Any:
    """A --by column of bytes (or a dictionary of them) as the text they hold: a group is written
    out as text (JSON, CSV), and some writers store Parquet text as plain bytes. Bytes that are
    not UTF-8 are refused."""
    kind = getattr(values, "type", None)
    if not isinstance(kind, pa.DataType):
        return values
    inner = kind.value_type if pa.types.is_dictionary(kind) else kind
    text = pa.string() if pa.types.is_fixed_size_binary(inner) else BYTES_AS_TEXT.get(inner)
    if text is None:
        return values
    try:
        return values.cast(pa.dictionary(kind.index_type, text) if inner is not kind else text)
    except pa.ArrowInvalid:
        row = next(i for i, value in enumerate(values.to_pylist()) if not _utf8(value))
        place = f" ({where(row)})" if where is not None else ""
        raise InputError(
            f"{what} holds bytes that are not UTF-8 text{place}; a group is written as text.",
            "Group by a column of text or numbers: decode these bytes to text first.",
        ) from None


def _utf8(value: bytes | None) -> bool:
    if value is None:
        return True
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _runs(values: pa.Array) -> tuple[pa.Array, np.ndarray] | None:
    """The first value of each run of equal values and the runs' lengths; None if runs are short.

    Only without nulls (a null equals nothing), and for types Arrow can compare.
    """
    size = len(values)
    if size < 2 * runs.RUN_LENGTH or values.null_count:
        return None
    try:
        starts = long_runs(values, run_starts)
    except pa.ArrowNotImplementedError:  # lists, structs: no comparison kernel
        return None
    if starts is None:
        return None
    return _taken(values, starts), np.diff(starts, append=size)


def run_starts(values: Any) -> np.ndarray:
    """The start index of each run of equal consecutive values, as int64.

    0 (unless ``values`` is empty), then every position whose value differs from the one before
    it: ``[7, 7, 2, 7]`` gives ``[0, 2, 3]``. ``values`` is a 1-D NumPy array or an Arrow array.
    NaN and null equal nothing, so each starts a run of its own. Arrow types that cannot be
    compared (lists, structs) raise ``pyarrow.ArrowNotImplementedError``.
    """
    numbers = values if isinstance(values, np.ndarray) else None
    if numbers is None and not values.null_count:
        # A dictionary array's runs are those of its indices: the same index is the same value
        # (a dictionary that repeats a value cuts a run in two, which codes the same). Not for
        # floats: one index may stand for NaN, which equals nothing.
        kind = values.type
        indexed = pa.types.is_dictionary(kind) and not pa.types.is_floating(kind.value_type)
        numbers = stored_values(values.indices if indexed else values)
    if numbers is not None:  # NumPy compares numbers ~6x faster than Arrow's two kernels
        return run_heads(numbers)
    after = _changes(values)
    starts = np.zeros(len(after) + 1 if len(values) else 0, dtype=np.int64)
    starts[1:] = after
    starts[1:] += 1
    return starts


def _changes(values: pa.Array) -> np.ndarray:
    """Positions ``i`` of an Arrow array whose value ``i + 1`` is unlike value ``i``."""
    import pyarrow.compute as pc

    size = len(values)
    if size < 2:
        return np.zeros(0, dtype=np.int64)
    differs = pc.not_equal(values.slice(1), values.slice(0, size - 1))
    if differs.null_count:  # a null beside anything
        differs = differs.fill_null(True)
    found = pc.indices_nonzero(differs)
    if not len(found):
        return np.zeros(0, dtype=np.int64)
    after = np.frombuffer(found.buffers()[1], dtype=np.uint64)
    return after[found.offset : found.offset + len(found)]


def stored_values(values: pa.Array) -> np.ndarray | None:
    """An integer or floating Arrow array's values as NumPy, without a copy; else None."""
    kind = values.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)) or pa.types.is_float16(kind):
        return None
    numbers = np.frombuffer(values.buffers()[1], dtype=np.dtype(kind.to_pandas_dtype()))
    return numbers[values.offset : values.offset + len(values)]


class GroupCodes:
    """Dense codes of the --by columns' value combinations, stable across chunks and files.

    A chunk's new combinations are numbered in the order of their columns' codes.
    """

    def __init__(self, columns: tuple[str, ...]) -> None:
        self.columns = columns
        self.each = [KeyCodes(nulls=True) for _ in columns]
        # With 3 columns or more: codes of the first two columns' pairs, then of those and the
        # third's, and so on.
        self.pairs = [Numbering() for _ in columns[2:]]
        self.combined = Numbering()
        self.combinations: list[np.ndarray] = []  # each code's columns' codes, in code order

    def __call__(self, frame: Frame, where: Callable[[int], str] | None = None) -> np.ndarray:
        """Each row's group code; ``where`` names a row of the frame (for messages)."""
        codes = []
        for encode, name in zip(self.each, self.columns, strict=True):
            what = f"{option('by')} column '{name}'"
            codes.append(coded(encode.integers, _bytes_as_text(frame[name], what, where), what))
        if len(codes) == 1:
            return codes[0]
        key = codes[0]
        for part, pairs in zip(codes[1:-1], self.pairs, strict=True):
            key = pairs.codes(_pair(key, part))
        keys, first, inverse = np.unique(
            _pair(key, codes[-1]), return_index=True, return_inverse=True
        )
        found = self.combined.find(keys)
        new = np.flatnonzero(found < 0)
        new = new[np.lexsort([column[first[new]] for column in reversed(codes)])]
        if new.size:
            found[new] = self.combined.number(keys[new])
            self.combinations.append(np.column_stack([column[first[new]] for column in codes]))
        return found[inverse.reshape(-1)]

    def frame(self) -> Frame:
        """Each code's group as a frame of its key columns, in code order: another numbering
        of the same columns gives these groups its own codes by reading it."""
        if len(self.columns) == 1:
            return {self.columns[0]: self.each[0].known() if self.each[0].size else pa.nulls(0)}
        none = np.zeros((0, len(self.columns)), dtype=np.int64)
        combinations = np.concatenate([none, *self.combinations])
        return {
            name: each.known().take(_indices(combinations[:, i]))
            for i, (name, each) in enumerate(zip(self.columns, self.each, strict=True))
        }

    def finish(self) -> None:
        """Reading is over: the hash tables that found each column's keys are let go (a million
        keys' table is 32 MB). Should more keys come, they are found by comparing values."""
        for each in self.each:
            each.table = None

    def key_columns(self) -> list[tuple[str, Callable[[], np.ndarray], np.ndarray, Any, Any]]:
        """Each column's distinct values in the order of their codes (a function that makes
        them as an object array when first asked: a whole float as int, a NaN as None), for each
        group code the code of its value there, and the values as a NumPy array when they are
        all numbers, or as an Arrow array when they are text (for sorting and writing without a
        Python object per value)."""
        if len(self.columns) == 1:
            codes = [np.arange(self.each[0].size, dtype=np.int64)]
        else:
            none = np.zeros((0, len(self.columns)), dtype=np.int64)
            combinations = np.concatenate([none, *self.combinations])
            codes = [combinations[:, i] for i in range(len(self.columns))]
        found: list[tuple[str, Callable[[], np.ndarray], np.ndarray, Any, Any]] = []
        for name, each, code in zip(self.columns, self.each, codes, strict=True):
            objects = functools.cache(functools.partial(_key_objects, each))
            found.append((name, objects, code, _plain_numbers(each), _texts(each)))
        return found

    def labels(self) -> dict[int, dict[str, Any]]:
        """Each code's group as {column: value}; a whole float (a label read as a number) as int."""
        values = [each.values() for each in self.each]
        if len(self.columns) == 1:
            return {code: {self.columns[0]: value} for code, value in enumerate(values[0])}
        none = np.zeros((0, len(self.columns)), dtype=np.int64)
        combinations = np.concatenate([none, *self.combinations])
        columns = [_objects(column)[combinations[:, i]].tolist() for i, column in enumerate(values)]
        names = self.columns
        groups = enumerate(zip(*columns, strict=True))
        return {code: dict(zip(names, group, strict=True)) for code, group in groups}


def _key_objects(codes: KeyCodes) -> np.ndarray:
    """A column's distinct keys as an object array of Python values, a NaN as None."""
    return _objects([None if value != value else value for value in codes.values()])


def _plain_integers(values: pa.Array) -> bool:
    """Integers (not a dictionary of them), none of them null."""
    return pa.types.is_integer(values.type) and not values.null_count and len(values) > 0


def _as_written(keys: pa.Array, written: pa.DataType | None) -> pa.Array:
    """Keys found by the integers they wrote (``plain_integers``) as that text again."""
    return keys if written is None else keys.cast(written)


def _plain_texts(values: pa.Array, nulls: bool = False) -> bool:
    """Text (not a dictionary of it), none of it null unless ``nulls``."""
    kind = values.type
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    return text and (nulls or not values.null_count) and len(values) > 0


def _texts(codes: KeyCodes) -> pa.Array | None:
    """A column's distinct keys as an Arrow array of text, when they are text."""
    if not codes.size:
        return None
    known = codes.known()
    kind = known.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return known
    return None


def _plain_numbers(codes: KeyCodes) -> np.ndarray | None:
    """A column's distinct keys as int64 or float64 when they are numbers without a null or NaN."""
    if not codes.size:
        return None
    known = codes.known()
    kind = known.type
    numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind)
    if not numeric or known.null_count:
        return None
    # From the buffer: pyarrow's to_numpy imports pandas, a third of a second.
    numbers = stored_numbers(known, np.dtype(kind.to_pandas_dtype()))
    if numbers.dtype.kind == "f" and np.isnan(numbers).any():
        return None
    return numbers.astype(np.float64 if numbers.dtype.kind == "f" else np.int64, copy=False)


def _objects(values: list[Any]) -> np.ndarray:
    """A list of Python values as a NumPy array of them (to pick from by code)."""
    objects = np.empty(len(values), dtype=object)
    objects[:] = values
    return objects


def _pair(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """One 64-bit key per pair of codes (each below 2^32: far more keys than memory holds)."""
    return (first.astype(np.uint64) << np.uint64(32)) | second.astype(np.uint64)


def _distinct(
    prints: np.ndarray, nulls: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """The first position of each distinct key (its fingerprint, or null), in order, and each
    position's rank among them; (None, None) if every key is distinct."""
    valued = np.flatnonzero(~nulls)
    if len(valued) + 1 >= len(prints) and len(np.unique(prints[valued])) == len(valued):
        return None, None
    _, first, inverse = np.unique(prints[valued], return_index=True, return_inverse=True)
    representative = np.empty(len(prints), dtype=np.intp)
    representative[valued] = valued[first][inverse.reshape(-1)]
    empty = np.flatnonzero(nulls)
    representative[empty] = empty[:1].repeat(len(empty))
    firsts = np.unique(representative)
    return firsts, np.searchsorted(firsts, representative)


def _positions(indices: pa.Array) -> np.ndarray:
    """An Arrow integer array as NumPy positions, -1 for a null."""
    stored = stored_values(indices)
    assert stored is not None
    positions = stored.astype(np.intp)
    if indices.null_count:
        positions[~_valid(indices)] = -1
    return positions


def _valid(values: pa.Array) -> np.ndarray:
    """Whether each value is not null."""
    if not values.null_count:
        return np.ones(len(values), dtype=bool)
    bitmap = values.buffers()[0]
    if bitmap is None:  # the null type: no bitmap, every value null
        return np.zeros(len(values), dtype=bool)
    end = values.offset + len(values)
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), count=end, bitorder="little")
    return bits[values.offset :].astype(bool)


def _mask(kept: np.ndarray) -> pa.Array:
    """A NumPy boolean array as Arrow's, for ``filter``."""
    bits = np.packbits(kept, bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(kept), [None, pa.py_buffer(bits)])


def _taken(values: pa.Array, positions: np.ndarray) -> pa.Array:
    """``values.take(positions)``; numbers without nulls taken by NumPy, as Arrow's take would
    import pyarrow.compute (35 ms) for the integer ids of images."""
    numbers = stored_values(values) if not values.null_count else None
    if numbers is None:  # texts, dictionaries, nulls
        return values.take(_indices(positions))
    picked = numbers[positions]
    return pa.Array.from_buffers(values.type, len(picked), [None, pa.py_buffer(picked)])


def _indices(positions: np.ndarray) -> pa.Array:
    """Positions as an Arrow int64 array, for ``take``."""
    # From the buffer: pa.array on a NumPy array imports pandas, a third of a second.
    stored = np.ascontiguousarray(positions, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(stored), [None, pa.py_buffer(stored)])


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def assemble(
    frame: Frame,
    plan: ReadPlan,
    start: int,
    locate: Callable[[int, str | None], str],
    key_codes: KeyCodes | None = None,
    group_codes: GroupCodes | None = None,
) -> Chunk:
    """A chunk of role arrays from a frame, with the --nan policy and weight checks applied."""
    size = _length(frame)
    roles = {
        role: coded(key_codes, frame[columns[0]], f"Column '{columns[0]}' (for {option_for(role)})")
        if role in plan.keys and key_codes is not None
        else frame[FOLDED]
        if role == "pred" and FOLDED in frame
        else _labelled(frame, columns[0], plan, functools.partial(_row_of, locate, start, role))
        if columns[0] in plan.labels
        else _role_array(frame, columns)
        for role, columns in plan.roles.items()
    }
    weight = frame[plan.weight] if plan.weight else None
    if weight is not None and weight.ndim > 1:
        # A row of K weights would be multiplied in element by element: a number, and wrong.
        raise InputError(
            f"Weight column '{plan.weight}' holds lists of {weight.shape[1]} numbers; "
            "a weight is one number per row.",
            f"Give {option('weight')} a column of numbers.",
        )
    chunk = Chunk(
        start,
        size,
        roles,
        weight,
        plan.shown_roles() if plan.shown else plan.roles,
        locate,
        ids=frame[plan.id_column] if plan.id_column else None,
        groups=None
        if group_codes is None
        else group_codes(frame, functools.partial(_row_of, locate, start, None)),
    )
    missing = _missing_rows(chunk)
    if missing is not None:
        if plan.nan == "error":
            raise _missing_error(chunk, missing, plan)
        if plan.nan == "drop":
            keep = ~missing
            chunk.kept = keep
            chunk.roles = {role: values[keep] for role, values in roles.items()}
            chunk.weight = None if weight is None else weight[keep]
            chunk.groups = None if chunk.groups is None else chunk.groups[keep]
    if chunk.weight is not None:
        _check_weights(chunk, plan.weight or "weight")
    return chunk


def _row_of(
    locate: Callable[[int, str | None], str], start: int, role: str | None, row: int
) -> str:
    return locate(start + row, role)


def _labelled(frame: Frame, column: str, plan: ReadPlan, where: Callable[[int], str]) -> np.ndarray:
    """A target column of class labels as numbers (labels.LabelCoding); ``where`` names a row
    of the chunk."""
    coding = plan.labels[column]
    shown = (plan.shown or {}).get(column, column)
    return coding.encode(frame[column], where, lambda values: to_numbers(values, shown, "input"))


def _role_array(frame: Frame, columns: tuple[str, ...]) -> np.ndarray:
    if len(columns) == 1:
        return frame[columns[0]]
    parts = [frame[name] for name in columns]
    if any(part.ndim > 1 for part in parts):
        raise UsageError(
            f"Columns {', '.join(columns)} mix a list column with others in one role.",
            "Give a role either one list column or a group of scalar columns.",
        )
    # Column-major, as the columns arrive: a copy per column, and sums or maxima across a row
    # run down whole columns instead of ten numbers at a time.
    rows = np.empty((len(parts[0]), len(parts)), order="F")
    for index, part in enumerate(parts):
        rows[:, index] = part
    return rows


def _missing_rows(chunk: Chunk) -> np.ndarray | None:
    arrays = list(chunk.roles.values()) + ([chunk.weight] if chunk.weight is not None else [])
    missing = None
    for values in arrays:
        if not isinstance(values, np.ndarray):  # folded pred: its rows that miss a score
            missing = values.missing if missing is None else missing | values.missing
            continue
        if values.dtype.kind in "iub":  # integers as stored, run codes: no NaN to hold
            continue
        with contextlib.suppress(TypeError):
            # NaN propagates through min: one quick pass, no mask, in the usual case of none.
            if not values.size or not np.isnan(values.min()):
                continue
            bad = np.isnan(values)
            bad = bad if bad.ndim == 1 else bad.any(axis=1)
            missing = bad if missing is None else missing | bad
    if missing is None or not missing.any():
        return None
    return missing


def _missing_error(chunk: Chunk, missing: np.ndarray, plan: ReadPlan) -> InputError:
    row = int(np.flatnonzero(missing)[0])
    named = dict(chunk.columns)
    if plan.weight:
        named["weight"] = (plan.weight,)
    column, where = "?", None
    for role, columns in named.items():
        values = chunk.roles.get(role, chunk.weight)
        assert values is not None
        if not isinstance(values, np.ndarray):  # folded pred
            if values.missing[row]:
                column, where = columns[int(values.first_missing[row])], role
                break
            continue
        cell = np.isnan(values[row])
        if np.any(cell):
            column = (
                columns[int(np.flatnonzero(np.atleast_1d(cell))[0])]
                if len(columns) > 1
                else columns[0]
            )
            where = role
            break
    return InputError(
        f"Column '{column}' has a missing value (empty, null or NaN) at "
        f"{chunk.locate(chunk.start + row, where)}.",
        f"Fill it in, or pass {NAN} drop to skip such rows (or {NAN} propagate to get NaN).",
    )


def _check_weights(chunk: Chunk, column: str) -> None:
    weight = chunk.weight
    assert weight is not None
    bad = np.flatnonzero(~(weight >= 0) & ~np.isnan(weight) | np.isinf(weight))
    if bad.size:
        index = int(bad[0])
        raise InputError(
            f"Weight column '{column}' has {weight[index]:g} at {chunk.where(index)}; "
            "weights must be finite and >= 0.",
            f"Fix the weights, or leave out {option('weight')} to weight every row equally.",
        )
