"""The streaming loop: every chunk is read once and fed to every requested loss's accumulator."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from losscli.engine.accumulators import Accumulator
from losscli.engine.analysis import Estimate, Groups, Options, Worst, groups_for
from losscli.engine.resample import poisson_counts
from losscli.errors import DomainError, InputError, RowProblem


class ChunkLike(Protocol):
    roles: dict[str, np.ndarray]
    weight: np.ndarray | None
    columns: Mapping[str, tuple[str, ...]]
    start: int
    size: int
    groups: Any

    def locate(self, index: int, role: str | None = None) -> str: ...

    @property
    def rows(self) -> int: ...

    def where(self, index: int, role: str | None = None) -> str: ...


class RequestLike(Protocol):
    @property
    def label(self) -> str: ...

    @property
    def params(self) -> Mapping[str, Any]: ...

    @property
    def definition(self) -> Any: ...


RowSink = Callable[[ChunkLike, dict[str, np.ndarray | None]], None]


@dataclass
class Outcome:
    """One request after the pass: its estimate, and its groups and worst rows when asked for."""

    estimate: Estimate
    groups: Groups | None = None
    worst: Worst | None = None
    has_rows: bool = True  # the loss gave per-row values (not per-pixel dice, r2, ...)

    @property
    def state(self) -> Accumulator:
        return self.estimate.state


def evaluate_stream(
    chunks: Iterable[ChunkLike],
    requests: Sequence[RequestLike],
    on_rows: RowSink | None = None,
    options: Options | None = None,
) -> list[Outcome]:
    """Every request's outcome after one pass over ``chunks``."""
    options = options or Options()
    outcomes = [_outcome(request, options) for request in requests]
    for chunk in chunks:
        if chunk.rows == 0:
            # Every row was dropped (--nan drop); the per-row file still gets its empty rows.
            if on_rows is not None:
                on_rows(chunk, {request.label: np.empty(0) for request in requests})
            continue
        check_widths(chunk)
        per_row: dict[str, np.ndarray | None] = {}
        computed = []
        for request, outcome in zip(requests, outcomes, strict=True):
            with located(request, chunk):
                values, inputs = compute(request, chunk)
                rows = outcome.estimate.update(values, chunk.weight, inputs)
                if outcome.groups is not None:
                    outcome.groups.update(chunk.groups, values, chunk.weight, inputs)
            outcome.has_rows = rows is not None
            if outcome.worst is not None and rows is not None:
                outcome.worst.add(rows, chunk, inputs)
            per_row[request.label] = rows
            computed.append((outcome, values, inputs))
        _resample(chunk, computed, options)
        if on_rows is not None:
            on_rows(chunk, per_row)
    return outcomes


def _outcome(request: RequestLike, options: Options) -> Outcome:
    def make() -> Accumulator:
        return request.definition.accumulator(request.params)

    return Outcome(
        Estimate(make, options),
        groups_for(make, options) if options.grouped else None,
        Worst(options.worst) if options.worst else None,
    )


def _resample(chunk: ChunkLike, computed: list, options: Options) -> None:
    """Fold the chunk into every bootstrap replicate, one replicate's counts at a time."""
    busy = [
        item
        for item in computed
        if item[0].estimate.replicates or (item[0].groups and item[0].groups.replicated)
    ]
    if not busy:
        return
    with np.errstate(all="ignore"):
        for b, weight in replicate_weights(chunk, options):
            for outcome, values, inputs in busy:
                if outcome.estimate.replicates:
                    outcome.estimate.replicates[b].update(values, weight, inputs)
                if outcome.groups is not None and outcome.groups.replicated:
                    outcome.groups.update_replicate(b, chunk.groups, values, weight, inputs)


def replicate_weights(chunk: ChunkLike, options: Options) -> Iterator[tuple[int, np.ndarray]]:
    """Each bootstrap replicate's row weights for a chunk: its Poisson counts times the weights."""
    units = resampling_units(chunk)
    for b in range(options.replicates):
        counts = poisson_counts(options.seed, units, b)
        yield b, counts if chunk.weight is None else chunk.weight * counts


def resampling_units(chunk: ChunkLike) -> np.ndarray:
    """What the bootstrap draws: samples when rows carry a sample key (pixel masks), else rows."""
    if "sample" in chunk.roles:
        return chunk.roles["sample"].astype(np.int64)
    kept = getattr(chunk, "kept", None)
    positions = np.arange(chunk.rows) if kept is None else np.flatnonzero(kept)
    return chunk.start + positions


def compute(request: RequestLike, chunk: ChunkLike) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The loss's per-element values on a chunk, after its domain checks."""
    definition = request.definition
    inputs = {role: chunk.roles[role] for role in definition.roles if role in chunk.roles}
    if definition.elementwise:
        inputs = _paired(inputs, request, chunk)
    for requirement in definition.requires:
        if requirement.role in inputs:
            _check(requirement, inputs[requirement.role], request, chunk)
    with np.errstate(all="ignore"):
        return definition.compute(inputs, request.params), inputs


def _paired(
    inputs: dict[str, np.ndarray], request: RequestLike, chunk: ChunkLike
) -> dict[str, np.ndarray]:
    """pred and target of an element-by-element loss, checked to be equally wide.

    NumPy would otherwise pair a column of targets with a row's K predictions along the wrong
    axis: an error, or a wrong number when a chunk happens to have K rows. A one-wide list
    column and a plain column are both one value per row.
    """
    pred, target = inputs.get("pred"), inputs.get("target")
    if pred is None or target is None:
        return inputs
    widths = [1 if values.ndim == 1 else values.shape[1] for values in (pred, target)]
    if widths[0] != widths[1]:
        shown = [_columns(chunk.columns[role]) for role in ("pred", "target")]
        raise InputError(
            f"{request.label} pairs pred and target value by value, but pred has "
            f"{widths[0]} values per row ({shown[0]}) and target has {widths[1]} ({shown[1]}).",
            "Give -p and -t as many columns each; for class scores against a class index "
            "use ce, nll or multiclass_hinge.",
        )
    if pred.ndim != target.ndim:  # both one wide: make both plain columns
        return {**inputs, "pred": pred.reshape(-1), "target": target.reshape(-1)}
    return inputs


def _columns(names: tuple[str, ...]) -> str:
    return f"{names[0]}..{names[-1]}" if len(names) > 1 else names[0]


def update(state: Accumulator, request: RequestLike, chunk: ChunkLike) -> np.ndarray | None:
    """Compute one request on a chunk and fold it into ``state``; returns the per-row values."""
    with located(request, chunk):
        values, inputs = compute(request, chunk)
        return state.update(values, chunk.weight, inputs)


@contextlib.contextmanager
def located(request: RequestLike, chunk: ChunkLike) -> Iterator[None]:
    """A loss's complaint about a row becomes an input error naming the column and the row."""
    try:
        with np.errstate(all="ignore"):
            yield
    except RowProblem as problem:
        columns = chunk.columns[problem.role]
        element = problem.element if problem.element is not None and len(columns) > 1 else 0
        raise InputError(
            f"{request.label}: column '{columns[element]}' {problem.problem} at "
            f"{chunk.where(problem.row, problem.role)}.",
            _sentence(problem.hint, request),
        ) from None


def _check(requirement: Any, values: np.ndarray, request: RequestLike, chunk: ChunkLike) -> None:
    with np.errstate(invalid="ignore"):
        holds = np.asarray(requirement.holds(values, request.params))
        if holds.all():
            return  # the usual case, decided without looking for missing values
        missing = np.isnan(values)
        if requirement.rowwise is not None and values.ndim > 1:
            missing = missing.any(axis=1)
        holds = holds | missing
    if holds.all():
        return
    columns = chunk.columns[requirement.role]
    if requirement.rowwise is not None:
        row = int(np.flatnonzero(~np.broadcast_to(holds, values.shape[:1]))[0])
        found = f"the row of '{_columns(columns)}' {requirement.rowwise(values[row])}"
    else:
        flat = np.broadcast_to(holds, values.shape)
        position = tuple(np.argwhere(~flat)[0])
        row, element = int(position[0]), position[1:]
        column = columns[element[0]] if element and len(columns) > 1 else columns[0]
        found = f"column '{column}' is {values[position]:g}"
    raise DomainError(
        f"{request.label} needs {requirement.role} {requirement.needs}, but {found} "
        f"at {chunk.where(row, requirement.role)}.",
        _sentence(requirement.hint, request),
    )


def _sentence(hint: str, request: RequestLike) -> str:
    text = hint.replace("{loss}", request.definition.name)
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def check_widths(chunk: ChunkLike) -> None:
    """Vector roles must agree in width; a scalar role applies to every element of a row."""
    widths = {role: values.shape[1] for role, values in chunk.roles.items() if values.ndim > 1}
    if len(set(widths.values())) > 1:
        described = ", ".join(
            f"{role} has {width} ({', '.join(chunk.columns[role][:4])}"
            f"{', ...' if len(chunk.columns[role]) > 4 else ''})"
            for role, width in widths.items()
        )
        raise InputError(
            f"Vector roles differ in width: {described}.",
            "Select the same number of columns for each role (check the globs).",
        )
