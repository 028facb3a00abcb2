"""The streaming loop: every chunk is read once and fed to every requested loss's accumulator."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from losscli.engine.accumulators import Accumulator
from losscli.errors import DomainError, InputError, RowProblem


class ChunkLike(Protocol):
    roles: dict[str, np.ndarray]
    weight: np.ndarray | None
    columns: Mapping[str, tuple[str, ...]]

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


def evaluate_stream(
    chunks: Iterable[ChunkLike],
    requests: Sequence[RequestLike],
    on_rows: RowSink | None = None,
) -> list[Accumulator]:
    """Accumulators of every request after one pass over ``chunks``."""
    states = [request.definition.accumulator(request.params) for request in requests]
    for chunk in chunks:
        if chunk.rows == 0:
            # Every row was dropped (--nan drop); the per-row file still gets its empty rows.
            if on_rows is not None:
                on_rows(chunk, {request.label: np.empty(0) for request in requests})
            continue
        _check_widths(chunk)
        per_row: dict[str, np.ndarray | None] = {}
        for request, state in zip(requests, states, strict=True):
            per_row[request.label] = update(state, request, chunk)
        if on_rows is not None:
            on_rows(chunk, per_row)
    return states


def update(state: Accumulator, request: RequestLike, chunk: ChunkLike) -> np.ndarray | None:
    definition = request.definition
    inputs = {role: chunk.roles[role] for role in definition.roles if role in chunk.roles}
    for requirement in definition.requires:
        if requirement.role in inputs:
            _check(requirement, inputs[requirement.role], request, chunk)
    try:
        with np.errstate(all="ignore"):
            values = definition.compute(inputs, request.params)
            return state.update(values, chunk.weight, inputs)
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
        shown = f"{columns[0]}..{columns[-1]}" if len(columns) > 1 else columns[0]
        found = f"the row of '{shown}' {requirement.rowwise(values[row])}"
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


def _check_widths(chunk: ChunkLike) -> None:
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
