"""The input side of a run: its inputs opened, matched with a second input (a targets file, a
candidate model) by position or by key, and read as chunks of role arrays on a second thread.

``losscli.api`` decides what to read (a ``ReadPlan`` per input, see ``losscli.io.plan``); this
module reads it: ``open_inputs`` for each input, ``counted_chunks`` for the stream the engine runs
over, and a ``RowCounter`` of the rows read and used.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from losscli.errors import InputError, UsageError, option
from losscli.io.ahead import ReadAhead
from losscli.io.chunks import (
    Chunk,
    GroupCodes,
    KeyCodes,
    ReadPlan,
    RowLocator,
    assemble,
    frames,
    plan_read,
    rebatch,
    to_numbers,
)
from losscli.io.columns import select
from losscli.io.folded import folded_read
from losscli.io.memory import MemoryReader, is_in_memory
from losscli.io.readers import open_reader
from losscli.io.sources import Source, expand_inputs

if TYPE_CHECKING:
    from losscli.io.join import KeyedJoin

TARGETS = "targets:"  # the targets file's columns carry this prefix in a frame


# A chunk holds at most this many numbers (8 MiB per copy): wide rows get fewer rows per chunk.
CHUNK_NUMBERS = 1 << 20


def stdin_once(inputs: Mapping[str, Any]) -> None:
    """Standard input can be read once: two inputs naming it would see it whole and empty."""
    readers = [what for what, data in inputs.items() if "-" in _named_paths(data)]
    if len(readers) > 1:
        raise UsageError(
            f"Standard input ('-') is named for both {readers[0]} and {readers[1]}; "
            "it can be read only once.",
            "Read one of them from a file.",
        )


def _named_paths(data: Any) -> list[str]:
    """The paths a data argument names (none for in-memory data; a generator is not consumed)."""
    if isinstance(data, (str, PathLike)):
        return [str(data)]
    if isinstance(data, (list, tuple)):
        return [str(item) for item in data if isinstance(item, (str, PathLike))]
    return []


def read_matrix(path: str, what: str) -> np.ndarray:
    """A small file's numbers as (rows, columns): its numeric columns, or its one list column."""
    try:
        source = open_inputs(path, None)
        names = source.first.names
        parts = list(frames(source.readers(), names, set(names), RowLocator()))
    except InputError as error:
        raise InputError(f"{what}: {error.message}", error.hint) from None
    columns = [np.concatenate([part[name] for part in parts]) for name in names]
    matrix = columns[0] if len(columns) == 1 and columns[0].ndim == 2 else np.column_stack(columns)
    if np.isnan(matrix).any():
        raise InputError(f"{what}: {path} has a missing value.", "Give every number.")
    return matrix


class Inputs:
    """The sources of one table: the first reader is open (its columns decide the plan)."""

    def __init__(
        self,
        first: Any,
        rest: Iterable[Any],
        names: list[str],
        display: str,
        streamed: bool = False,
        sources: Sequence[Source] = (),
    ) -> None:
        self.first = first
        self.rest = rest
        self.names = names
        self.display = display
        self.streamed = streamed  # standard input or a pipe among the sources
        self.sources = list(sources)  # the files in order (none for in-memory data)
        self.ahead: ReadAhead | None = None

    def readers(self) -> Iterator[Any]:
        return itertools.chain([self.first], self.rest)

    def close(self) -> None:
        if self.ahead is not None:
            self.ahead.stop()  # the reading thread first: it may be inside the files
        self.first.close()


def open_inputs(data: Any, input_format: str | None, dialect: Any = None) -> Inputs:
    if is_in_memory(data):
        reader = MemoryReader(data)
        return Inputs(reader, [], [reader.source.display], reader.source.display)
    items = [data] if isinstance(data, (str, PathLike)) else list(data)
    sources = expand_inputs(
        [str(Path(i)) if isinstance(i, PathLike) else str(i) for i in items], input_format
    )
    if dialect is not None:
        sources = [replace(source, dialect=dialect) for source in sources]
    return inputs_of(sources)


def inputs_of(sources: Sequence[Source]) -> Inputs:
    """Expanded sources as one input, its first file opened."""
    first = open_reader(sources[0])
    rest = (open_reader(source) for source in sources[1:])
    display = sources[0].display if len(sources) == 1 else f"{len(sources)} files"
    streamed = any(source.is_stream for source in sources)
    return Inputs(first, rest, [s.display for s in sources], display, streamed, sources)


class Opened:
    """The inputs of a run, closed in the order they were opened when its block ends.

    The main input goes first both ways: its read-ahead thread, which reads the others too, is
    stopped by its ``close`` before anything it reads is closed. An input that cannot be opened
    leaves the block, closing the ones opened before it.
    """

    def __init__(self, input_format: str | None, dialect: Any = None) -> None:
        self.input_format = input_format
        self.dialect = dialect  # a CSV's dialect.CsvDialect, for every CSV input
        self.inputs: list[Inputs] = []

    def __enter__(self) -> Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        for inputs in self.inputs:
            inputs.close()

    def open(self, data: Any) -> Inputs:
        inputs = open_inputs(data, self.input_format, self.dialect)
        self.inputs.append(inputs)
        return inputs


@dataclass(frozen=True)
class Side:
    """A second input matched with the main one: a targets file, a candidate model.

    Its columns are renamed with ``prefix`` so they can never collide with the main input's:
    a targets file's ``SalePrice`` is not the predictions' ``SalePrice``.
    """

    inputs: Inputs
    plan: ReadPlan
    what: str  # how messages name it: "the targets file", "the candidate"
    prefix: str

    def roles(self) -> dict[str, tuple[str, ...]]:
        roles = self.plan.roles.items()
        return {role: tuple(self.prefix + name for name in names) for role, names in roles}

    def shown(self) -> dict[str, str]:
        return {self.prefix + name: name for names in self.plan.roles.values() for name in names}

    @property
    def where(self) -> str:
        return f"{self.what} {self.inputs.display}"


@dataclass(frozen=True)
class Part:
    """Where a part of a larger input (a cluster's unit of work) sits in the whole of it."""

    first_row: int = 0  # the global number of its first row
    name_files: bool = False  # the whole input has several files: messages name the file


def chunk_stream(
    main: Inputs,
    sides: Sequence[Side],
    plan: ReadPlan,
    chunk_rows: int,
    group_codes: GroupCodes | None = None,
    on: tuple[str, ...] = (),
    part: Part | None = None,
    folds: Mapping[str, Any] | None = None,
) -> Iterator[Chunk]:
    """The input's chunks, read and assembled on a second thread while the losses run.

    Not from standard input or a pipe: a thread waiting there for data cannot be stopped when a
    run ends early (on a bad row, say), so streams are read on this thread. With ``folds``
    (``folded.fold_plan``) the chunks' pred is folded as it is read.
    """
    streamed = main.streamed or any(side.inputs.streamed for side in sides)
    # Text --by keys or sample keys from Parquet (``ReadPlan.apart``): coding a chunk's
    # keys takes about as long as decoding it, so frames are read on a thread of their own and
    # assembled on the one that runs ahead of the losses. (Integer --by keys are coded in a
    # fraction of that, and a CSV's blocks are parsed on threads of their own already; a third
    # thread made those runs slower: five losses on Parquet 1.06x.)
    split = plan.apart and not streamed
    chunks = _assembled(
        main, sides, plan, chunk_rows, group_codes, on, part or Part(), folds, split
    )
    if streamed:
        return chunks
    main.ahead = ReadAhead(chunks)
    return iter(main.ahead)


def counted_chunks(
    main: Inputs,
    sides: Sequence[Side],
    plan: ReadPlan,
    chunk_rows: int,
    on: tuple[str, ...] = (),
    group_codes: GroupCodes | None = None,
    on_progress: Callable[[int], None] | None = None,
    part: Part | None = None,
    folds: Mapping[str, Any] | None = None,
) -> tuple[RowCounter, Iterator[Any]]:
    """``chunk_stream``'s chunks, passing a ``RowCounter`` that counts them as they go."""
    counter = RowCounter()
    chunks = counter.watch(
        chunk_stream(main, sides, plan, chunk_rows, group_codes, on, part, folds), on_progress
    )
    return counter, chunks


def _assembled(
    main: Inputs,
    sides: Sequence[Side],
    plan: ReadPlan,
    chunk_rows: int,
    group_codes: GroupCodes | None = None,
    on: tuple[str, ...] = (),
    part: Part = Part(),
    folds: Mapping[str, Any] | None = None,
    split: bool = False,
) -> Iterator[Chunk]:
    locator = RowLocator(name_files=len(main.names) > 1 or bool(sides) or part.name_files)
    numeric = plan.numeric_columns()
    if not sides:
        columns = numeric + plan.other_columns()
        # Read apart: a Parquet batch no longer than a chunk, which each thread holds one of
        # (text --by keys in 2^17-row batches: 0.9x the time and 20-30 MB less than 2^18).
        rows = chunk_rows if split else None
        read = folded_read(plan, folds) if folds else plan_read(plan, rows)
        stream, width = _peek_width(
            frames(main.readers(), columns, set(numeric), locator, part.first_row, read)
        )
        batches: Iterable[dict[str, Any]] = rebatch(stream, _chunk_rows(chunk_rows, width), False)
        locate: Callable[[int, str | None], str] = locator.describe
    else:
        matched = _on_key(main, sides, plan, locator, chunk_rows, on) if on else None
        if matched is None:
            matched = _by_position(main, sides, plan, locator, chunk_rows, part.first_row)
        batches, locate = matched
        roles = dict(plan.roles)
        shown: dict[str, str] = {}
        for side in sides:
            roles.update(side.roles())
            shown.update(side.shown())
        plan = replace(plan, roles=roles, shown=shown)
    start = part.first_row
    key_codes = KeyCodes()
    # One frame waiting between the two: a second saved no time, and held 10-15 MB more.
    ahead = ReadAhead(iter(batches), depth=1) if split else None
    try:
        for frame in batches if ahead is None else ahead:
            chunk = assemble(frame, plan, start, locate, key_codes, group_codes)
            start += chunk.size
            yield chunk
    finally:
        if ahead is not None:
            ahead.stop()  # before the files it reads are closed


def _main_columns(plan: ReadPlan, extra: Sequence[str]) -> list[str]:
    columns = plan.numeric_columns() + plan.other_columns()
    return columns + [name for name in extra if name not in columns]


def _by_position(
    main: Inputs,
    sides: Sequence[Side],
    plan: ReadPlan,
    locator: RowLocator,
    chunk_rows: int,
    first_row: int = 0,
) -> tuple[Iterator[dict[str, Any]], Callable[[int, str | None], str]]:
    """Frames of every input side by side, row N with row N; shared row ids must agree."""
    numeric = plan.numeric_columns()
    ids = {side.prefix: _row_ids(main, side, plan) for side in sides}
    wanted = list(dict.fromkeys(name for names in ids.values() for name in names))
    stream, total = _peek_width(
        frames(main.readers(), _main_columns(plan, wanted), set(numeric), locator, first_row)
    )
    streams, locators = [], []
    for side in sides:
        side_locator = RowLocator(name_files=True)
        side_frames = _side_frames(side, ids[side.prefix], side_locator, first_row)
        side_stream, side_width = _peek_width(_renamed(side_frames, side.prefix))
        streams.append(side_stream)
        locators.append(side_locator)
        total += side_width
    rows = _chunk_rows(chunk_rows, total)
    batches = _aligned(
        [rebatch(s, rows, True) for s in [stream, *streams]],
        [main.display] + [side.where for side in sides],
    )
    pairs = [
        (name, name, side.prefix + name, loc)
        for side, loc in zip(sides, locators, strict=True)
        for name in ids[side.prefix]
    ]
    locate = _by_role(
        locator, [(loc, set(side.roles())) for loc, side in zip(locators, sides, strict=True)]
    )
    return _ids_checked(batches, pairs, locator, first_row), locate


def _row_ids(main: Inputs, side: Side, plan: ReadPlan) -> list[str]:
    """Row-id columns both inputs have, unless a role reads them as numbers on either side."""
    from losscli.io.join import shared_row_ids

    numeric = set(plan.numeric_columns()) | set(side.plan.numeric_columns())
    shared = shared_row_ids(main.first.names, side.inputs.first.names)
    return [name for name in shared if name not in numeric]


def _ids_checked(
    batches: Iterator[dict[str, Any]],
    pairs: list[tuple[str, str, str, RowLocator]],
    main: RowLocator,
    start: int = 0,
) -> Iterator[dict[str, Any]]:
    from losscli.io.join import check_row_ids

    for frame in batches:
        for name, mine, theirs, side in pairs:
            check_row_ids(frame, (name, mine, theirs), start, main, side)
        start += _rows(frame)
        yield frame


def _on_key(
    main: Inputs,
    sides: Sequence[Side],
    plan: ReadPlan,
    locator: RowLocator,
    chunk_rows: int,
    on: tuple[str, ...],
) -> tuple[Iterator[dict[str, Any]], Callable[[int, str | None], str]]:
    """Frames of the main input, each given every side's values for the same keys."""
    numeric = plan.numeric_columns()
    stream, width = _peek_width(
        frames(main.readers(), _main_columns(plan, on), set(numeric), locator)
    )
    first = next(stream, None)
    stream = itertools.chain([first] if first is not None else [], stream)
    joins, total = [], width
    for side in sides:
        join = _indexed(side, on, first, main.display, locator)
        stream = join.frames(stream)
        joins.append(join)
        total += sum(v.shape[1] if v.ndim > 1 else 1 for v in join.held.values())
    batches = rebatch(stream, _chunk_rows(chunk_rows, total), False)
    side_roles = [(join, set(side.roles())) for join, side in zip(joins, sides, strict=True)]

    def locate(index: int, role: str | None = None) -> str:
        for join, roles in side_roles:
            if role in roles:
                row = join.held_row(index)
                if row is not None:
                    return join.locator.describe(row)
        return locator.describe(index)

    return batches, locate


def _indexed(
    side: Side,
    on: tuple[str, ...],
    first: dict[str, Any] | None,
    streamed: str,
    streamed_locator: RowLocator,
) -> KeyedJoin:
    """A side read whole and indexed by its key columns, for the main input's keys to find."""
    from losscli.io.join import KeyedJoin, KeyIndex, as_key, common_key_type

    numeric = side.plan.numeric_columns() + list(side.plan.labels)
    side_locator = RowLocator(name_files=True)
    for name in on:  # each key column in this input too, once
        select(name, side.inputs.first.names, "on", side.where)
    parts = list(_side_frames(side, on, side_locator))
    kinds = [
        common_key_type(
            _key_type(parts, name), _key_type([first] if first else [], name), name, side.where
        )
        for name in on
    ]
    keys = [
        as_key(pa.chunked_array([as_key(p[name], kind) for p in parts], type=kind), kind)
        for name, kind in zip(on, kinds, strict=True)
    ]
    held = {
        side.prefix + name: np.concatenate([p[name] for p in parts]) if parts else np.empty(0)
        for name in numeric
    }
    index = KeyIndex(on, keys, side.where)
    return KeyedJoin(index, held, streamed, side_locator, streamed_locator)


def _side_frames(
    side: Side, extra: Sequence[str], locator: RowLocator, first_row: int = 0
) -> Iterator[dict[str, Any]]:
    """A second input's frames: its role columns as numbers, a column of class labels coded
    (``plan.labels``) as it is read, and ``extra`` columns as written."""
    numeric = side.plan.numeric_columns()
    labels = list(side.plan.labels)
    columns = numeric + [name for name in [*labels, *extra] if name not in numeric]
    stream = frames(side.inputs.readers(), columns, set(numeric), locator, first_row)
    return _labels_coded(stream, side.plan, locator, first_row) if labels else stream


def _labels_coded(
    stream: Iterator[dict[str, Any]], plan: ReadPlan, locator: RowLocator, start: int
) -> Iterator[dict[str, Any]]:
    for frame in stream:
        rows = _rows(frame)
        for column, coding in plan.labels.items():
            frame[column] = coding.encode(
                frame[column],
                lambda row, first=start: locator.describe(first + row),
                lambda values, name=column: to_numbers(values, name, "input"),
            )
        start += rows
        yield frame


def _key_type(parts: list[dict[str, Any]], name: str) -> pa.DataType:
    if not parts:
        return pa.string()
    values = parts[0][name]
    return pa.float64() if isinstance(values, np.ndarray) else values.type


def _renamed(stream: Iterator[dict[str, Any]], prefix: str) -> Iterator[dict[str, Any]]:
    return ({prefix + name: values for name, values in frame.items()} for frame in stream)


def _peek_width(stream: Iterator[dict[str, Any]]) -> tuple[Iterator[dict[str, Any]], int]:
    """The stream unchanged, and how many numbers one row holds (a list column counts wide)."""
    first = next(stream, None)
    if first is None:
        return iter(()), 1
    width = sum(
        v.shape[1] if isinstance(v, np.ndarray) and v.ndim > 1 else 1 for v in first.values()
    )
    return itertools.chain([first], stream), max(width, 1)


def _chunk_rows(chunk_rows: int, width: int) -> int:
    """Rows per chunk: as asked, but never more than CHUNK_NUMBERS numbers (1000-class rows)."""
    return max(1, min(chunk_rows, CHUNK_NUMBERS // width))


def _by_role(main: RowLocator, sides: list[tuple[RowLocator, set[str]]]):
    """Rows of a role read from a side input are named in that input."""

    def locate(index: int, role: str | None = None) -> str:
        for locator, roles in sides:
            if role in roles:
                return locator.describe(index)
        return main.describe(index)

    return locate


def _aligned(streams: list[Iterator[dict]], names: list[str]):
    """Frames of the streams side by side; a differing row count is an input error."""
    counts = [0] * len(streams)
    for frames_ in itertools.zip_longest(*streams):
        # Every stream comes in frames of exactly chunk_rows until its last: a shorter or
        # missing frame on one side means the row counts differ.
        lengths = [_rows(frame) for frame in frames_]
        if None in frames_ or len(set(lengths)) > 1:
            totals = [
                c + n + sum(_rows(f) for f in s)
                for c, n, s in zip(counts, lengths, streams, strict=True)
            ]
            other = next(i for i in range(1, len(totals)) if totals[i] != totals[0])
            raise InputError(
                f"{names[0]} has {totals[0]} rows but {names[other]} has {totals[other]}.",
                "The inputs are aligned row by row: they need the same rows in the same order.",
            )
        counts = [c + n for c, n in zip(counts, lengths, strict=True)]
        merged: dict[str, Any] = {}
        for frame in frames_:
            merged.update(frame)
        yield merged


def _rows(frame: dict | None) -> int:
    return len(next(iter(frame.values()))) if frame else 0


class RowCounter:
    """Counts rows read and used while passing chunks through, and reports progress."""

    def __init__(self) -> None:
        self.read = 0
        self.used = 0

    def watch(self, chunks: Iterator[Chunk], on_progress: Callable[[int], None] | None):
        for chunk in chunks:
            self.read += chunk.size
            self.used += chunk.rows
            yield chunk
            if on_progress is not None:
                on_progress(self.read)

    def check(self, where: str) -> None:
        if self.read == 0:
            raise InputError(
                f"{where} has no data rows (only a header, or nothing).",
                "Give a file with at least one row of values.",
            )
        if self.used == 0:
            raise InputError(
                f"Every one of the {self.read} rows of {where} has a missing value.",
                f"Check the columns chosen, or use {option('nan')} propagate to see NaN.",
            )

    def totals(self) -> dict[str, int]:
        """The counts as a report's ``inputs`` give them."""
        return {
            "rows_read": self.read,
            "rows_used": self.used,
            "rows_dropped": self.read - self.used,
        }


def with_files_read(request: Any) -> Any:
    """Parameters that name a file (center:centers=FILE) get the file's numbers."""
    files = {
        param.name: request.params[param.name]
        for param in request.definition.params
        if param.kind is Path and isinstance(request.params.get(param.name), str)
    }
    if not files:
        return request
    loaded = {name: read_matrix(path, f"{request.name}: {name}=") for name, path in files.items()}
    return replace(request, params={**request.params, **loaded})
