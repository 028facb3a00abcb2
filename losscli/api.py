"""``losscli.evaluate``: the whole job for Python callers; the CLI is a thin layer over it."""

from __future__ import annotations

import contextlib
import itertools
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from losscli import __version__
from losscli.engine.analysis import DEFAULT_REPLICATES, Options
from losscli.engine.run import Outcome, evaluate_stream
from losscli.errors import InputError, UsageError
from losscli.io.ahead import ReadAhead
from losscli.io.chunks import (
    NAN_POLICIES,
    Chunk,
    GroupCodes,
    KeyCodes,
    ReadPlan,
    RowLocator,
    assemble,
    frames,
    rebatch,
)
from losscli.io.columns import (
    only_value_column,
    optional_role,
    refuse_shared,
    resolve_roles,
    select,
)
from losscli.io.memory import MemoryReader, is_in_memory, takes_in_memory
from losscli.io.readers import TableReader
from losscli.io.sources import FORMATS, expand_inputs
from losscli.losses import LossRequest, parse_specs
from losscli.losses.registry import KEY_ROLES
from losscli.report import Report, Result
from losscli.report.formatting import plain
from losscli.report.groups import (
    GroupArrays,
    GroupIntervals,
    GroupResults,
    KeyColumn,
    Results,
    object_array,
    rank_groups,
)

if TYPE_CHECKING:
    from losscli.io.join import KeyedJoin
    from losscli.report.comparison import Comparison

DEFAULT_CHUNK_ROWS = 1 << 17
# Each replicate is a pass of additions over every row: more than this is hours, not a setting.
MAX_REPLICATES = 100_000
TARGETS = "targets:"  # the targets file's columns carry this prefix in a frame
# A chunk holds at most this many numbers (8 MiB per copy): wide rows get fewer rows per chunk.
CHUNK_NUMBERS = 1 << 20


@takes_in_memory("data")
def evaluate(
    data: Any = None,
    losses: str | Sequence[str] = (),
    pred: str | Any = None,  # a column name, or the values (see takes_in_memory)
    target: str | Any = None,
    weight: str | Any = None,
    *,
    columns: Mapping[str, str | Any] | None = None,
    targets: str | PathLike[str] | Sequence[str] | Any = None,
    nan: str = "error",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    per_row: bool | str | PathLike[str] | None = None,
    id_column: str | None = None,
    input_format: str | None = None,
    on_progress: Callable[[int], None] | None = None,
    by: str | Sequence[str] | None = None,
    ci: float | None = None,
    bootstrap: int = DEFAULT_REPLICATES,
    seed: int = 0,
    worst: int = 0,
    on: str | Sequence[str] | None = None,
) -> Report:
    """Compute ``losses`` over ``data`` in one streaming pass.

    ``data`` is a path, glob or directory (or a list of them, read as one table), ``"-"`` for stdin,
    a pandas or polars DataFrame, a pyarrow Table, RecordBatch or RecordBatchReader, any object with
    the Arrow PyCapsule interface, or a dict of arrays (a 2-D array is a vector per row). ``losses``
    are SPEC strings such as ``"mse,huber:delta=0.5"``. ``pred``, ``target`` and ``weight`` name
    columns (a comma list or glob for a group); ``columns`` names other roles
    (``{"var": "sigma2"}``). Without ``pred``/``target``, common names are recognised. Any of them
    may hold the values instead (a Series, array or list, paired with ``data``'s rows by position;
    ``data`` may then be None). ``per_row`` is a .csv or .parquet path for each row's losses, or
    True to get them as the DataFrame ``report.per_row``.

    ``by`` adds a result per group of these columns' values; ``ci`` (a level such as 0.95) gives
    every result an interval, from the streamed variance for a plain mean and from ``bootstrap``
    Poisson replicates drawn with ``seed`` otherwise; ``worst`` lists that many rows with the
    largest loss under each result.

    ``targets`` reads the target column from a second input, matched row by row, or by the key
    columns ``on`` (a name, comma list or list of names) when given.
    """
    requests = _requests(losses)
    _check_options(nan, chunk_rows, input_format)
    if on is not None and targets is None:
        raise UsageError(
            "--on matches rows of two inputs by key, but there is only one.",
            "Add --targets FILE (the ground truth), or leave out --on.",
        )
    _stdin_once({"the predictions": data, "--targets": targets})
    _keep_freed_memory()
    options = analysis_options(ci, bootstrap, seed, worst, by is not None)
    _refuse_unread_roles(columns, requests)
    given = {"pred": pred, "target": target, **(columns or {})}
    needed = _roles_needed(requests)
    if per_row is not None and per_row is not False:
        from losscli.io.outputs import check_per_row

        check_per_row(per_row, data, targets)  # before anything is read: never over an input
    main = _open(data, input_format)
    try:
        side = _open(targets, input_format) if targets is not None else None
    except BaseException:
        main.close()
        raise
    try:
        roles = _resolve_beside(requests, needed, given, main, side)
        plan = ReadPlan(
            roles=roles,
            keys=frozenset(role for role in roles if role in KEY_ROLES),
            weight=select(weight, main.first.names, "weight", main.display)[0] if weight else None,
            id_column=select(id_column, main.first.names, "id", main.display)[0]
            if id_column
            else None,
            nan=nan,
            groups=_group_columns(by, main) if by is not None else (),
        )
        refuse_shared(_with_weight(plan), main.display)
        group_codes = GroupCodes(plan.groups) if plan.groups else None
        counter = RowCounter()
        sides = [_targets_side(side, needed, target)] if side is not None else []
        keys = _key_columns(on, main)
        chunks = counter.watch(
            _chunks(main, sides, plan, chunk_rows, group_codes, keys), on_progress
        )
        writer = _per_row_sink(per_row, [r.label for r in requests], plan.id_column)
        with writer if writer else _nothing():
            outcomes = evaluate_stream(chunks, requests, writer.write if writer else None, options)
            # Inside the writer's block: a run that fails here must not replace the --per-row file.
            counter.check(main.display)
            overall = [
                _result(r, outcome, options) for r, outcome in zip(requests, outcomes, strict=True)
            ]
            results: list[Result] | Results = overall
            if group_codes is not None:
                groups = _group_results(requests, outcomes, group_codes, options)
                results = Results(overall, groups)
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
    return Report(__version__, inputs, results, per_row=_collected(writer))


@takes_in_memory("baseline", "candidate")
def compare(
    baseline: Any,
    candidate: Any,
    losses: str | Sequence[str],
    pred: str | None = None,
    target: str | Any = None,  # a column name, or the values (see takes_in_memory)
    weight: str | Any = None,
    *,
    columns: Mapping[str, str | Any] | None = None,
    targets: str | PathLike[str] | Sequence[str] | Any = None,
    nan: str = "error",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    input_format: str | None = None,
    ci: float = 0.95,
    bootstrap: int = DEFAULT_REPLICATES,
    seed: int = 0,
    on_progress: Callable[[int], None] | None = None,
    on: str | Sequence[str] | None = None,
) -> Comparison:
    """Score two models' predictions of the same rows and the paired difference of each loss.

    ``baseline`` and ``candidate`` are inputs as for ``evaluate``, aligned row by row (or by the
    key columns ``on``). Column
    options apply to both; targets come from each (they must agree), or once from ``targets``.
    ``target`` and ``weight`` may hold the values, read beside the baseline's rows.
    Every difference (candidate - baseline) gets a ``ci``-level paired interval and a p-value.
    """
    # Here, not at the top: an ``eval`` run need not import what only comparing uses.
    from losscli.engine.compare import CANDIDATE, compare_stream
    from losscli.report.comparison import Comparison

    requests = _requests(losses)
    _check_options(nan, chunk_rows, input_format)
    _stdin_once({"the baseline": baseline, "the candidate": candidate, "--targets": targets})
    _keep_freed_memory()
    options = analysis_options(ci, bootstrap, seed, 0, False)
    _refuse_unread_roles(columns, requests)
    given = {"pred": pred, "target": target, **(columns or {})}
    needed = _roles_needed(requests)
    opened: list[Inputs] = []
    try:
        base = _open(baseline, input_format)
        opened.append(base)
        other = _open(candidate, input_format)
        opened.append(other)
        side = _open(targets, input_format) if targets is not None else None
        if side is not None:
            opened.append(side)
        roles = _resolve(requests, needed, given, base, skip_target=side is not None)
        plan = ReadPlan(
            roles=roles,
            keys=frozenset(role for role in roles if role in KEY_ROLES),
            weight=select(weight, base.first.names, "weight", base.display)[0] if weight else None,
            nan=nan,
        )
        refuse_shared(_with_weight(plan), base.display)
        own = _candidate_roles(roles, plan.keys, given, other, CANDIDATE, _pred_kind(requests))
        sides = [Side(other, ReadPlan(roles=own), "the candidate", CANDIDATE)]
        if side is not None:
            sides.append(_targets_side(side, needed, target))
        counter = RowCounter()
        keys = _key_columns(on, base)
        chunks = counter.watch(_chunks(base, sides, plan, chunk_rows, None, keys), on_progress)
        shared = [role for role in ("target",) if CANDIDATE + role in own]
        pairs = compare_stream(chunks, requests, shared, options)
        counter.check(base.display)
    finally:
        for source in opened:
            source.close()
    entries = [
        {
            "label": request.label,
            "loss": request.name,
            "params": dict(request.params),
            "direction": request.definition.direction,
            **pair.summary(options.level or ci),
        }
        for request, pair in zip(requests, pairs, strict=True)
    ]
    inputs = {
        "baseline": base.names,
        "candidate": other.names,
        "targets": side.names if side is not None else None,
        "rows_read": counter.read,
        "rows_used": counter.used,
        "rows_dropped": counter.read - counter.used,
    }
    return Comparison(__version__, inputs, entries, ci)


def _resolve(
    requests: Sequence[LossRequest],
    needed: Mapping[str, str],
    given: Mapping[str, str | None],
    source: Inputs,
    skip_target: bool,
) -> dict[str, tuple[str, ...]]:
    """Role -> columns of ``source``: every role needed, and optional roles that are there."""
    wanted = {r: label for r, label in needed.items() if not (skip_target and r == "target")}
    roles = resolve_roles(wanted, given, source.first.names, source.display, _pred_kind(requests))
    for role in _optional_roles(requests, needed):
        found = optional_role(role, given.get(role), source.first.names, source.display)
        if found:
            roles[role] = found
    return roles


def _per_row_sink(per_row: Any, labels: list[str], id_column: str | None) -> Any:
    """Where each row's values go, if anywhere; its modules load only for a run that asks."""
    if per_row is None or per_row is False:
        return None
    from losscli.io.collect import per_row_sink

    return per_row_sink(per_row, labels, id_column)


def _collected(writer: Any) -> Any:
    if writer is None:
        return None
    from losscli.io.collect import collected

    return collected(writer)


def _row_id(name: str) -> bool:
    from losscli.io.join import looks_like_row_id

    return looks_like_row_id(name)


def _resolve_beside(
    requests: Sequence[LossRequest],
    needed: Mapping[str, str],
    given: Mapping[str, str | None],
    main: Inputs,
    side: Inputs | None,
) -> dict[str, tuple[str, ...]]:
    """``_resolve`` on the predictions; with a targets file whose value column has the same name
    (a submission and its solution), an undetected pred says how to name both."""
    try:
        return _resolve(requests, needed, given, main, skip_target=side is not None)
    except InputError as error:
        shared = [
            name
            for name in main.first.names
            if side is not None and name in side.first.names and not _row_id(name)
        ]
        if given.get("pred") or len(shared) != 1 or "No pred column" not in error.message:
            raise
        name = shared[0]
        raise InputError(
            error.message,
            f"Both files have '{name}': to score {main.display}'s {name} against the targets "
            f"file's, add -p {name} -t {name}.",
        ) from None


def _stdin_once(inputs: Mapping[str, Any]) -> None:
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


def _with_weight(plan: ReadPlan) -> dict[str, tuple[str, ...]]:
    return {**plan.roles, **({"weight": (plan.weight,)} if plan.weight else {})}


def _pred_kind(requests: Sequence[LossRequest]) -> dict[str, str]:
    """What pred holds (a loss's ``input``: probs, logits, logprobs) when every loss agrees."""
    kinds = {
        request.params.get("input") for request in requests if "pred" in request.definition.roles
    }
    kind = kinds.pop() if len(kinds) == 1 else None
    return {"pred": kind} if isinstance(kind, str) else {}


def _candidate_roles(
    roles: Mapping[str, tuple[str, ...]],
    keys: frozenset[str],
    given: Mapping[str, str | None],
    other: Inputs,
    prefix: str,
    kinds: Mapping[str, str],
) -> dict[str, tuple[str, ...]]:
    """The roles the candidate gives itself (pred, and var, x1, ... where it has them), renamed
    with ``prefix``."""
    own: dict[str, tuple[str, ...]] = {}
    for role in roles:
        if role in keys:
            continue
        try:
            found = resolve_roles({role: role}, given, other.first.names, other.display, kinds)
        except InputError:
            if role == "pred":
                raise
            continue  # read from the baseline's file, as the rows' own data
        own[prefix + role] = found[role]
    return own


def _targets_side(side: Inputs, needed: Mapping[str, str], target: str | None) -> Side:
    plan = ReadPlan(
        roles=resolve_roles(
            {"target": needed["target"]},
            _target_given(target, side),
            side.first.names,
            side.display,
        ),
    )
    return Side(side, plan, "the targets file", TARGETS)


def _key_columns(on: str | Sequence[str] | None, main: Inputs) -> tuple[str, ...]:
    """The --on key columns, checked to be in the main input."""
    return () if on is None else _named_columns(on, main, "--on", "--on Id or --on region,day")


def _requests(losses: str | Sequence[str]) -> list[LossRequest]:
    """The parsed SPECs, with the files that parameters name read in."""
    requests = parse_specs([losses] if isinstance(losses, str) else losses)
    if not requests:
        raise UsageError("No loss given.", "Name one, e.g. --loss mse; 'losscli list' shows all.")
    return [_with_files_read(request) for request in requests]


# glibc's mallopt parameters (malloc.h), and the values its own adaptive thresholds reach.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
_allocator_set = False


def _keep_freed_memory() -> None:
    """Let glibc reuse one chunk's freed arrays for the next instead of returning them each time.

    A fresh process maps each array of a megabyte or more afresh and unmaps it when freed; with
    several temporaries per loss the page faults cost a third of a second per 10 million rows.
    glibc raises both thresholds by itself as a process frees mapped blocks, up to these same
    values (a 32 MiB block); setting them starts a run there, and stops the adapting. Memory kept
    back is bounded by them. Set once per process, on Linux.
    """
    global _allocator_set
    if _allocator_set or not sys.platform.startswith("linux"):
        return
    _allocator_set = True
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)


def _whole_number(value: Any, name: str) -> None:
    """Python callers can pass anything: a count must be an int (not "10", 2.5 or True)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise UsageError(
            f"{name}={value!r} is not a whole number.", f"Give an int, e.g. {name}=10."
        )


def _check_options(nan: str, chunk_rows: int, input_format: str | None) -> None:
    _whole_number(chunk_rows, "chunk_rows")
    if not isinstance(nan, str) or nan not in NAN_POLICIES:
        raise UsageError(f"--nan {nan} is not a policy.", "Use --nan error, drop or propagate.")
    if chunk_rows < 1:
        raise UsageError(
            f"--chunk-rows {chunk_rows} must be at least 1.", "Leave it out for the default."
        )
    if input_format is not None and input_format not in FORMATS:
        raise UsageError(
            f"--input-format {input_format} is unknown.", f"Use one of {', '.join(FORMATS)}."
        )


def analysis_options(
    ci: float | None, bootstrap: int, seed: int, worst: int, grouped: bool
) -> Options:
    """The checked options of what a run keeps besides each value."""
    for value, name in ((bootstrap, "bootstrap"), (seed, "seed"), (worst, "worst")):
        _whole_number(value, name)
    if ci is not None and (
        isinstance(ci, bool) or not isinstance(ci, (int, float)) or not 0 < ci < 1
    ):
        raise UsageError(
            f"--ci {ci!r} is not a confidence level.", "Give a level between 0 and 1, e.g. 0.95."
        )
    if bootstrap > MAX_REPLICATES:
        raise UsageError(
            f"--bootstrap {bootstrap} is more replicates than losscli draws "
            f"(each one is a pass over every row).",
            f"Use at most {MAX_REPLICATES:,}; the default is {DEFAULT_REPLICATES}.",
        )
    if bootstrap < 10:
        raise UsageError(
            f"--bootstrap {bootstrap} is too few replicates for an interval.",
            f"Use at least 10; the default is {DEFAULT_REPLICATES}.",
        )
    if worst < 0:
        raise UsageError(f"--worst {worst} must be at least 1.", "Example: --worst 10")
    if not 0 <= seed < 2**63:
        raise UsageError(f"--seed {seed} is out of range.", "Give a whole number from 0 up.")
    return Options(level=ci, replicates=bootstrap, seed=seed, grouped=grouped, worst=worst)


def _group_columns(by: str | Sequence[str], main: Inputs) -> tuple[str, ...]:
    return _named_columns(by, main, "--by", "--by region or --by region,month")


def _named_columns(
    given: str | Sequence[str], main: Inputs, option: str, example: str
) -> tuple[str, ...]:
    """Columns of the main input named by an option (a name, comma list or list of them)."""
    names: list[str] = []
    for item in [given] if isinstance(given, str) else given:
        names.extend(select(item, main.first.names, option, main.display))
    if not names:
        raise UsageError(f"{option} names no column.", f"Example: {example}")
    return tuple(dict.fromkeys(names))


def _refuse_unread_roles(columns: Any, requests: Sequence[LossRequest]) -> None:
    """A role no loss of the run reads (--col anchor=x with mse) is a typo or a wrong loss: it
    would be ignored, and the run would not be the one meant."""
    if not isinstance(columns, Mapping):
        return
    read = {role for request in requests for role in request.definition.roles}
    for role in columns:
        if role not in read:
            losses = ", ".join(
                f"{r.label} reads {', '.join(r.definition.roles)}" for r in requests[:3]
            )
            raise UsageError(
                f"--col {role}={_shown_columns(columns[role])}: no loss of this run reads the "
                f"role '{role}' ({losses}).",
                "Check its spelling ('losscli describe LOSS' lists its roles), or leave it out.",
            )


def _shown_columns(given: Any) -> str:
    return given if isinstance(given, str) else "<values>"


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
    """A targets file with a single value column (beside row ids such as ``Id``) needs no -t."""
    if target is None:
        return {"target": only_value_column(side.first.names)}
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


def _chunks(
    main: Inputs,
    sides: Sequence[Side],
    plan: ReadPlan,
    chunk_rows: int,
    group_codes: GroupCodes | None = None,
    on: tuple[str, ...] = (),
) -> Iterator[Chunk]:
    """The input's chunks, read and assembled on a second thread while the losses run.

    Not from standard input or a pipe: a thread waiting there for data cannot be stopped when a
    run ends early (on a bad row, say), so streams are read on this thread.
    """
    chunks = _assembled(main, sides, plan, chunk_rows, group_codes, on)
    if main.streamed or any(side.inputs.streamed for side in sides):
        return chunks
    main.ahead = ReadAhead(chunks)
    return iter(main.ahead)


def _assembled(
    main: Inputs,
    sides: Sequence[Side],
    plan: ReadPlan,
    chunk_rows: int,
    group_codes: GroupCodes | None = None,
    on: tuple[str, ...] = (),
) -> Iterator[Chunk]:
    locator = RowLocator(name_files=len(main.names) > 1 or bool(sides))
    numeric = plan.numeric_columns()
    if not sides:
        stream, width = _peek_width(
            frames(main.readers(), numeric + plan.other_columns(), set(numeric), locator)
        )
        batches: Iterable[dict[str, Any]] = rebatch(stream, _chunk_rows(chunk_rows, width), False)
        locate: Callable[[int, str | None], str] = locator.describe
    else:
        matched = _on_key(main, sides, plan, locator, chunk_rows, on) if on else None
        if matched is None:
            matched = _by_position(main, sides, plan, locator, chunk_rows)
        batches, locate = matched
        roles = dict(plan.roles)
        shown: dict[str, str] = {}
        for side in sides:
            roles.update(side.roles())
            shown.update(side.shown())
        plan = replace(plan, roles=roles, shown=shown)
    start = 0
    key_codes = KeyCodes()
    for frame in batches:
        chunk = assemble(frame, plan, start, locate, key_codes, group_codes)
        start += chunk.size
        yield chunk


def _main_columns(plan: ReadPlan, extra: Sequence[str]) -> list[str]:
    columns = plan.numeric_columns() + plan.other_columns()
    return columns + [name for name in extra if name not in columns]


def _by_position(
    main: Inputs, sides: Sequence[Side], plan: ReadPlan, locator: RowLocator, chunk_rows: int
) -> tuple[Iterator[dict[str, Any]], Callable[[int, str | None], str]]:
    """Frames of every input side by side, row N with row N; shared row ids must agree."""
    numeric = plan.numeric_columns()
    ids = {side.prefix: _row_ids(main, side, plan) for side in sides}
    wanted = list(dict.fromkeys(name for names in ids.values() for name in names))
    stream, total = _peek_width(
        frames(main.readers(), _main_columns(plan, wanted), set(numeric), locator)
    )
    streams, locators = [], []
    for side in sides:
        side_numeric = side.plan.numeric_columns()
        side_locator = RowLocator(name_files=True)
        columns = side_numeric + [n for n in ids[side.prefix] if n not in side_numeric]
        side_stream, side_width = _peek_width(
            _renamed(
                frames(side.inputs.readers(), columns, set(side_numeric), side_locator),
                side.prefix,
            )
        )
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
    return _ids_checked(batches, pairs, locator), locate


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
) -> Iterator[dict[str, Any]]:
    from losscli.io.join import check_row_ids

    start = 0
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

    numeric = side.plan.numeric_columns()
    side_locator = RowLocator(name_files=True)
    columns = numeric + [name for name in on if name not in numeric]
    for name in on:  # each key column in this input too, once
        select(name, side.inputs.first.names, "on", side.where)
    parts = list(frames(side.inputs.readers(), columns, set(numeric), side_locator))
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
                "Check the columns chosen, or use --nan propagate to see NaN.",
            )


def _result(request: LossRequest, outcome: Outcome, options: Options) -> Result:
    state = outcome.state
    if state.weight_sum == 0 and not request.params.get("reduction") == "sum":
        raise InputError(
            f"{request.label}: the weights of the rows used sum to 0, so no mean exists.",
            "Give some rows a positive weight, or leave out -w.",
        )
    value, note = _finalized(outcome)
    return Result(
        label=request.label,
        loss=request.name,
        params=dict(request.params),
        value=value,
        n=state.n,
        weight_sum=state.weight_sum,
        direction=request.definition.direction,
        ci=outcome.estimate.interval(options.level) if options.level is not None else None,
        worst=outcome.worst.rows() if outcome.worst is not None and outcome.has_rows else None,
        reason=note,
    )


def _finalized(outcome: Outcome) -> tuple[float, str | None]:
    """The value, and why when it is NaN or infinite; 0/0 in a finalize step is NaN with a note,
    not a warning."""
    with np.errstate(all="ignore"):
        value = float(outcome.state.finalize())
    return value, outcome.estimate.note(value)


def _group_results(
    requests: Sequence[LossRequest],
    outcomes: Sequence[Outcome],
    group_codes: GroupCodes,
    options: Options,
) -> GroupResults:
    """Each loss's results per group as arrays, groups in order of their values (a null last).

    An adapter: the engine hands each group's result as a dict, gathered here into columns.
    """
    keys = _group_key_columns(group_codes)
    ranks = rank_groups(keys)
    parts = []
    for request, outcome in zip(requests, outcomes, strict=True):
        assert outcome.groups is not None
        entries = list(outcome.groups.results(options.level))
        parts.append(_group_arrays(request, entries, keys, ranks, options.level is not None))
    return GroupResults(parts)


def _group_key_columns(group_codes: GroupCodes) -> list[KeyColumn]:
    """Each --by column's distinct values (in the order of their codes) and, for each group code,
    the code of its value: what ``GroupCodes.labels()`` gives, without a dict per group."""
    combined = (
        np.array(list(group_codes.combined), dtype=np.int64).reshape(-1, len(group_codes.columns))
        if len(group_codes.columns) > 1
        else None
    )
    columns = []
    for i, (name, each) in enumerate(zip(group_codes.columns, group_codes.each, strict=True)):
        values = object_array(map(_group_value, each.codes), len(each.codes))
        codes = np.arange(len(values), dtype=np.int64) if combined is None else combined[:, i]
        columns.append(KeyColumn(name, values, codes))
    return columns


def _group_value(value: Any) -> Any:
    """A group's value as reports show it: a whole float (a label read as a number) as an int,
    a NaN as None (a float column's null)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return plain(value)


def _group_arrays(
    request: LossRequest,
    entries: list[tuple[int, dict[str, Any]]],
    keys: list[KeyColumn],
    ranks: np.ndarray,
    with_ci: bool,
) -> GroupArrays:
    """One loss's (code, result) pairs from the engine as columns."""
    size = len(entries)
    codes = np.fromiter((code for code, _ in entries), np.int64, size)
    return GroupArrays(
        label=request.label,
        loss=request.name,
        params=dict(request.params),
        direction=request.definition.direction,
        keys=[key.take(codes) for key in keys],
        value=np.fromiter((entry["value"] for _, entry in entries), np.float64, size),
        n=np.fromiter((entry["n"] for _, entry in entries), np.int64, size),
        weight_sum=np.fromiter((entry["weight_sum"] for _, entry in entries), np.float64, size),
        reason=object_array((entry["note"] for _, entry in entries), size),
        rank=ranks[codes],
        interval=GroupIntervals.from_dicts([entry["ci"] for _, entry in entries])
        if with_ci and entries
        else None,
    )


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


__all__ = ["DEFAULT_CHUNK_ROWS", "compare", "evaluate"]
