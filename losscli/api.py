"""``losscli.evaluate``: the whole job for Python callers; the CLI is a thin layer over it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from losscli import __version__
from losscli.engine.run import evaluate_stream
from losscli.errors import InputError, UsageError
from losscli.io.ahead import ReadAhead
from losscli.io.chunks import (
    NAN_POLICIES,
    Chunk,
    KeyCodes,
    ReadPlan,
    RowLocator,
    assemble,
    frames,
    rebatch,
)
from losscli.io.columns import optional_role, resolve_roles, select
from losscli.io.memory import MemoryReader, is_in_memory
from losscli.io.readers import TableReader
from losscli.io.sources import FORMATS, expand_inputs
from losscli.io.writers import PerRowWriter
from losscli.losses import LossRequest, parse_specs
from losscli.losses.registry import KEY_ROLES
from losscli.report import Report, Result

DEFAULT_CHUNK_ROWS = 1 << 17
# A chunk holds at most this many numbers (8 MiB per copy): wide rows get fewer rows per chunk.
CHUNK_NUMBERS = 1 << 20


def evaluate(
    data: Any,
    losses: str | Sequence[str],
    pred: str | None = None,
    target: str | None = None,
    weight: str | None = None,
    *,
    columns: Mapping[str, str] | None = None,
    targets: str | PathLike[str] | Sequence[str] | None = None,
    nan: str = "error",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    per_row: str | PathLike[str] | None = None,
    id_column: str | None = None,
    input_format: str | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Report:
    """Compute ``losses`` over ``data`` in one streaming pass.

    ``data`` is a path, glob or directory (or a list of them, read as one table), ``"-"`` for stdin,
    a pandas DataFrame, a pyarrow Table or RecordBatchReader, or a dict of NumPy arrays (a 2-D array
    is a vector per row). ``losses`` are SPEC strings such as ``"mse,huber:delta=0.5"``. ``pred``,
    ``target`` and ``weight`` name columns (a comma list or glob for a group); ``columns`` names
    other roles (``{"var": "sigma2"}``). Without ``pred``/``target``, common names are recognised.
    """
    requests = parse_specs([losses] if isinstance(losses, str) else losses)
    if not requests:
        raise UsageError("No loss given.", "Name one, e.g. --loss mse; 'losscli list' shows all.")
    requests = [_with_files_read(request) for request in requests]
    _check_options(nan, chunk_rows, input_format)
    given = {"pred": pred, "target": target, **(columns or {})}
    needed = _roles_needed(requests)
    main = _open(data, input_format)
    try:
        side = _open(targets, input_format) if targets is not None else None
    except BaseException:
        main.close()
        raise
    try:
        main_roles = {r: by for r, by in needed.items() if side is None or r != "target"}
        roles = resolve_roles(main_roles, given, main.first.names, main.display)
        for role in _optional_roles(requests, needed):
            found = optional_role(role, given.get(role), main.first.names, main.display)
            if found:
                roles[role] = found
        plan = ReadPlan(
            roles=roles,
            keys=frozenset(role for role in roles if role in KEY_ROLES),
            weight=select(weight, main.first.names, "weight", main.display)[0] if weight else None,
            id_column=select(id_column, main.first.names, "id", main.display)[0]
            if id_column
            else None,
            nan=nan,
        )
        side_plan = None
        if side is not None:
            side_plan = ReadPlan(
                roles=resolve_roles(
                    {"target": needed["target"]},
                    _target_given(target, side),
                    side.first.names,
                    side.display,
                ),
            )
        counter = RowCounter()
        chunks = counter.watch(_chunks(main, side, plan, side_plan, chunk_rows), on_progress)
        writer = (
            PerRowWriter(per_row, [r.label for r in requests], plan.id_column) if per_row else None
        )
        with writer if writer else _nothing():
            states = evaluate_stream(chunks, requests, writer.write if writer else None)
            # Inside the writer's block: a run that fails here must not replace the --per-row file.
            counter.check(main.display)
            results = [_result(r, state) for r, state in zip(requests, states, strict=True)]
    finally:
        main.close()
        if side is not None:
            side.close()
    inputs = {
        "files": main.names,
        "targets": side.names if side is not None else None,
        "rows_read": counter.read,
        "rows_used": counter.used,
        "rows_dropped": counter.read - counter.used,
    }
    return Report(__version__, inputs, results)


def _check_options(nan: str, chunk_rows: int, input_format: str | None) -> None:
    if nan not in NAN_POLICIES:
        raise UsageError(f"--nan {nan} is not a policy.", "Use --nan error, drop or propagate.")
    if chunk_rows < 1:
        raise UsageError(
            f"--chunk-rows {chunk_rows} must be at least 1.", "Leave it out for the default."
        )
    if input_format is not None and input_format not in FORMATS:
        raise UsageError(
            f"--input-format {input_format} is unknown.", f"Use one of {', '.join(FORMATS)}."
        )


def _roles_needed(requests: Sequence[LossRequest]) -> dict[str, str]:
    """Each role some loss cannot do without, and the first loss that needs it."""
    needed: dict[str, str] = {}
    for request in requests:
        for role in request.definition.roles:
            if role not in request.definition.optional:
                needed.setdefault(role, request.label)
    return needed


def _with_files_read(request: LossRequest) -> LossRequest:
    """Parameters that name a file (center:centers=FILE) get the file's numbers."""
    files = {
        param.name: request.params[param.name]
        for param in request.definition.params
        if param.kind is Path and isinstance(request.params.get(param.name), str)
    }
    if not files:
        return request
    loaded = {name: _read_matrix(path, f"{request.name}: {name}=") for name, path in files.items()}
    return replace(request, params={**request.params, **loaded})


def _read_matrix(path: str, what: str) -> np.ndarray:
    """A small file's numbers as (rows, columns): its numeric columns, or its one list column."""
    try:
        source = _open(path, None)
        names = source.first.names
        parts = list(frames(source.readers(), names, set(names), RowLocator()))
    except InputError as error:
        raise InputError(f"{what}: {error.message}", error.hint) from None
    columns = [np.concatenate([part[name] for part in parts]) for name in names]
    matrix = columns[0] if len(columns) == 1 and columns[0].ndim == 2 else np.column_stack(columns)
    if np.isnan(matrix).any():
        raise InputError(f"{what}: {path} has a missing value.", "Give every number.")
    return matrix


def _optional_roles(requests: Sequence[LossRequest], needed: Mapping[str, str]) -> list[str]:
    optional = (role for request in requests for role in request.definition.optional)
    return [role for role in dict.fromkeys(optional) if role not in needed]


def _target_given(target: str | None, side: Inputs) -> dict[str, str | None]:
    """A targets file with a single column needs no -t."""
    if target is None and len(side.first.names) == 1:
        return {"target": side.first.names[0]}
    return {"target": target}


class Inputs:
    """The sources of one table: the first reader is open (its columns decide the plan)."""

    def __init__(
        self,
        first: Any,
        rest: Iterable[Any],
        names: list[str],
        display: str,
        streamed: bool = False,
    ) -> None:
        self.first = first
        self.rest = rest
        self.names = names
        self.display = display
        self.streamed = streamed  # standard input or a pipe among the sources
        self.ahead: ReadAhead | None = None

    def readers(self) -> Iterator[Any]:
        return itertools.chain([self.first], self.rest)

    def close(self) -> None:
        if self.ahead is not None:
            self.ahead.stop()  # the reading thread first: it may be inside the files
        self.first.close()


def _open(data: Any, input_format: str | None) -> Inputs:
    if is_in_memory(data):
        reader = MemoryReader(data)
        return Inputs(reader, [], [reader.source.display], reader.source.display)
    items = [data] if isinstance(data, (str, PathLike)) else list(data)
    sources = expand_inputs(
        [str(Path(i)) if isinstance(i, PathLike) else str(i) for i in items], input_format
    )
    first = TableReader(sources[0])
    rest = (TableReader(source) for source in sources[1:])
    display = sources[0].display if len(sources) == 1 else f"{len(sources)} files"
    streamed = any(source.is_stream for source in sources)
    return Inputs(first, rest, [s.display for s in sources], display, streamed)


def _chunks(
    main: Inputs,
    side: Inputs | None,
    plan: ReadPlan,
    side_plan: ReadPlan | None,
    chunk_rows: int,
) -> Iterator[Chunk]:
    """The input's chunks, read and assembled on a second thread while the losses run.

    Not from standard input or a pipe: a thread waiting there for data cannot be stopped when a
    run ends early (on a bad row, say), so streams are read on this thread.
    """
    chunks = _assembled(main, side, plan, side_plan, chunk_rows)
    if main.streamed or (side is not None and side.streamed):
        return chunks
    main.ahead = ReadAhead(chunks)
    return iter(main.ahead)


def _assembled(
    main: Inputs,
    side: Inputs | None,
    plan: ReadPlan,
    side_plan: ReadPlan | None,
    chunk_rows: int,
) -> Iterator[Chunk]:
    locator = RowLocator(name_files=len(main.names) > 1 or side is not None)
    locate = locator.describe
    columns = plan.numeric_columns() + plan.other_columns()
    stream, width = _peek_width(
        frames(main.readers(), columns, set(plan.numeric_columns()), locator)
    )
    if side is None or side_plan is None:
        rows = _chunk_rows(chunk_rows, width)
        batches: Iterable[dict[str, Any]] = rebatch(stream, rows, exact=False)
    else:
        side_columns = side_plan.numeric_columns()
        side_locator = RowLocator(name_files=True)
        side_stream, side_width = _peek_width(
            frames(side.readers(), side_columns, set(side_columns), side_locator)
        )
        rows = _chunk_rows(chunk_rows, width + side_width)
        batches = _aligned(
            rebatch(stream, rows, True),
            rebatch(side_stream, rows, True),
            main.display,
            side.display,
        )
        plan = ReadPlan(
            {**plan.roles, **side_plan.roles}, plan.weight, plan.id_column, plan.nan, plan.keys
        )
        locate = _by_role(locator, side_locator, set(side_plan.roles))
    start = 0
    key_codes = KeyCodes()
    for frame in batches:
        chunk = assemble(frame, plan, start, locate, key_codes)
        start += chunk.size
        yield chunk


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


def _by_role(main: RowLocator, side: RowLocator, side_roles: set[str]):
    """Rows of a role read from the targets file are named in that file."""

    def locate(index: int, role: str | None = None) -> str:
        return (side if role in side_roles else main).describe(index)

    return locate


def _aligned(main: Iterator[dict], side: Iterator[dict], main_name: str, side_name: str):
    """Frames of the two streams side by side; a differing row count is an input error."""
    counts = [0, 0]
    for left, right in itertools.zip_longest(main, side):
        # Both streams come in frames of exactly chunk_rows until their last: a shorter or
        # missing frame on one side means the row counts differ.
        if left is None or right is None or _rows(left) != _rows(right):
            counts[0] += _rows(left) + sum(_rows(frame) for frame in main)
            counts[1] += _rows(right) + sum(_rows(frame) for frame in side)
            raise InputError(
                f"{main_name} has {counts[0]} rows but the targets file {side_name} has "
                f"{counts[1]}.",
                "--targets is aligned row by row: both need the same rows in the same order.",
            )
        counts[0] += _rows(left)
        counts[1] += _rows(right)
        yield {**left, **right}


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
                "Check the columns chosen, or use --nan propagate to see NaN.",
            )


def _result(request: LossRequest, state: Any) -> Result:
    if state.weight_sum == 0 and not request.params.get("reduction") == "sum":
        raise InputError(
            f"{request.label}: the weights of the rows used sum to 0, so no mean exists.",
            "Give some rows a positive weight, or leave out -w.",
        )
    return Result(
        label=request.label,
        loss=request.name,
        params=dict(request.params),
        value=float(state.finalize()),
        n=state.n,
        weight_sum=state.weight_sum,
        direction=request.definition.direction,
    )


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


__all__ = ["DEFAULT_CHUNK_ROWS", "evaluate"]
