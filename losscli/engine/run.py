"""The streaming loop: every chunk is read once and tallied for every requested loss."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from losscli.engine.batches import batch_losses, whole_batches
from losscli.engine.statistics import Statistic
from losscli.engine.tally import Options, Rows, Tally
from losscli.engine.worst import Worst
from losscli.errors import DomainError, InputError, RowProblem, option


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


CANDIDATE = "candidate:"  # the candidate's roles and columns carry this prefix in a chunk

RowSink = Callable[[ChunkLike, dict[str, np.ndarray | None]], None]


@dataclass
class Outcome:
    """One request after the pass: its tally, and its worst rows when asked for; in a comparison
    the candidate's tally too, and for a plain mean the tally of the per-row differences."""

    tally: Tally
    worst: Worst | None = None
    has_rows: bool = True  # the loss gave per-row values (not per-pixel dice, r2, ...)
    candidate: Tally | None = None
    difference: Tally | None = None

    def tallies(self) -> list[Tally]:
        return [self.tally] if self.candidate is None else [self.tally, self.candidate]


def evaluate_stream(
    chunks: Iterable[ChunkLike],
    requests: Sequence[RequestLike],
    on_rows: RowSink | None = None,
    options: Options | None = None,
    shared: Sequence[str] | None = None,
) -> list[Outcome]:
    """Every request's outcome after one pass over ``chunks``.

    With ``shared`` (the roles both inputs must agree on) the chunks hold two models' columns
    and each request is tallied for both, on the same rows and the same resampling.
    """
    options = options or Options()
    compare = shared is not None
    outcomes = [_outcome(request, options, compare) for request in requests]
    batched = batch_losses(requests)
    if batched:
        chunks = whole_batches(chunks, batched[0])
    for chunk in chunks:
        if chunk.rows == 0:
            # Every row was dropped (--nan drop); the per-row file still gets its empty rows.
            if on_rows is not None:
                on_rows(chunk, {request.label: np.empty(0) for request in requests})
            continue
        check_widths(chunk)
        views = [chunk]
        if shared is not None:
            check_shared(chunk, shared)
            views = list(candidate_views(chunk))
        rows = Rows(_group_codes(chunk, options), _numbers_of(chunk))
        common: list[dict[str, np.ndarray]] = [{} for _ in views]
        per_row = {
            request.label: _fold(request, outcome, views, rows, common, on_rows is not None)
            for request, outcome in zip(requests, outcomes, strict=True)
        }
        if on_rows is not None:
            on_rows(chunk, per_row)
    return outcomes


def _outcome(request: RequestLike, options: Options, compare: bool) -> Outcome:
    def make() -> Statistic:
        return request.definition.statistic(request.params)

    outcome = Outcome(Tally(make, options), Worst(options.worst) if options.worst else None)
    if compare:
        outcome.candidate = Tally(make, options)
        if outcome.tally.method == "normal":
            outcome.difference = Tally(make, Options(level=options.level or 0.95))
    return outcome


def _fold(
    request: RequestLike, outcome: Outcome, views: list, rows: Rows, shared: list, wants_rows: bool
) -> np.ndarray | None:
    """Compute a request on a chunk (on each model's view of it) and tally it."""
    computed = []
    for view, tally, common in zip(views, outcome.tallies(), shared, strict=True):
        with located(request, view):
            values, inputs = compute(request, view, common)
            tally.add(values, view.weight, inputs, rows)
        computed.append((values, inputs))
    if outcome.difference is not None:
        (base, base_inputs), (values, _) = computed
        with np.errstate(all="ignore"):
            outcome.difference.add(values - base, views[0].weight, base_inputs, rows)
    if not wants_rows and outcome.worst is None:
        return None
    values, inputs = computed[0]
    per_row = outcome.tally.statistic.per_row(values)
    outcome.has_rows = per_row is not None
    if len(computed) > 1 and per_row is not None:  # a comparison's rows: candidate - baseline
        theirs = outcome.tally.statistic.per_row(computed[1][0])
        with np.errstate(all="ignore"):
            per_row = theirs - per_row
    if outcome.worst is not None and per_row is not None:
        outcome.worst.add(per_row, views[0], inputs)
    return per_row


def _group_codes(chunk: ChunkLike, options: Options) -> np.ndarray | None:
    if not options.grouped:
        return None
    return np.asarray(chunk.groups).astype(np.intp, copy=False)


def _numbers_of(chunk: ChunkLike) -> Callable[[], np.ndarray]:
    return lambda: _numbers(chunk)


def _numbers(chunk: ChunkLike) -> np.ndarray:
    """Each kept row's number in the whole input: what the bootstrap resamples."""
    kept = getattr(chunk, "kept", None)
    positions = np.arange(chunk.rows) if kept is None else np.flatnonzero(kept)
    return chunk.start + positions


def compute(
    request: RequestLike, chunk: ChunkLike, shared: dict[str, np.ndarray] | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The loss's per-element values on a chunk, after its domain checks; ``shared`` keeps what
    the losses of one chunk have in common (|pred - target|), made once."""
    definition = request.definition
    inputs = {role: chunk.roles[role] for role in definition.roles if role in chunk.roles}
    if definition.elementwise:
        inputs = _paired(inputs, request, chunk)
    # A wide pred folded as it was read (io.folded) holds each loss's per-row state; its fold
    # makes the checks on pred's whole rows.
    pred: Any = inputs.get("pred")
    folded = pred is not None and not isinstance(pred, np.ndarray)
    for requirement in definition.requires:
        if requirement.role in inputs and not (folded and requirement.role == "pred"):
            _check(requirement, inputs[requirement.role], request, chunk)
    with np.errstate(all="ignore"):
        if folded:
            return pred.folded_values(request.label, inputs["target"]), inputs
        return definition.compute(inputs, request.params, shared), inputs


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
            f"Give {option('pred')} and {option('target')} as many columns each; for class scores "
            "against a class index "
            "use ce, nll or multiclass_hinge.",
        )
    if pred.ndim != target.ndim:  # both one wide: make both plain columns
        return {**inputs, "pred": pred.reshape(-1), "target": target.reshape(-1)}
    return inputs


def _columns(names: tuple[str, ...]) -> str:
    return f"{names[0]}..{names[-1]}" if len(names) > 1 else names[0]


def update(tally: Tally, request: RequestLike, chunk: ChunkLike) -> None:
    """Compute one request on a chunk and fold it into ``tally`` (no groups)."""
    rows = Rows(None, _numbers_of(chunk))
    with located(request, chunk):
        values, inputs = compute(request, chunk)
        tally.add(values, chunk.weight, inputs, rows)


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


# Embedding roles are compared among themselves, never element by element with pred: a face's
# K identity logits (pred) beside its F-wide feature (x1) are both right.
WIDTH_GROUPS = {"x1": "pair", "x2": "pair", "anchor": "triplet", "positive": "triplet"}
WIDTH_GROUPS["negative"] = "triplet"


def check_widths(chunk: ChunkLike) -> None:
    """Vector roles must agree in width (embedding roles within their pair or triplet); a scalar
    role applies to every element of a row."""
    widths = {role: values.shape[1] for role, values in chunk.roles.items() if values.ndim > 1}
    for group in set(WIDTH_GROUPS.get(role, "") for role in widths):
        among = {r: w for r, w in widths.items() if WIDTH_GROUPS.get(r, "") == group}
        if len(set(among.values())) > 1:
            described = ", ".join(
                f"{role} has {width} ({', '.join(chunk.columns[role][:4])}"
                f"{', ...' if len(chunk.columns[role]) > 4 else ''})"
                for role, width in among.items()
            )
            raise InputError(
                f"Vector roles differ in width: {described}.",
                "Select the same number of columns for each role (check the globs).",
            )


def candidate_views(chunk: Any) -> tuple[Any, Any]:
    """The chunk as the baseline sees it and as the candidate sees it (its own roles first)."""
    base_roles = {r: v for r, v in chunk.roles.items() if not r.startswith(CANDIDATE)}
    own = {r[len(CANDIDATE) :] for r in chunk.roles if r.startswith(CANDIDATE)}
    roles = {r: chunk.roles[CANDIDATE + r] if r in own else v for r, v in base_roles.items()}
    columns = {
        r: chunk.columns[CANDIDATE + r] if r in own else chunk.columns[r] for r in base_roles
    }

    def locate(index: int, role: str | None = None) -> str:
        return chunk.locate(index, CANDIDATE + role if role is not None and role in own else role)

    base = dataclasses.replace(chunk, roles=base_roles)  # type: ignore[type-var]
    candidate = dataclasses.replace(  # type: ignore[type-var]
        chunk, roles=roles, columns=columns, locate=locate
    )
    return base, candidate


def check_shared(chunk: Any, shared: Sequence[str]) -> None:
    """Targets read from both files must be the same: else the rows are not the same rows."""
    for role in shared:
        mine, theirs = chunk.roles[role], chunk.roles[CANDIDATE + role]
        same = (mine == theirs) | (np.isnan(mine) & np.isnan(theirs))
        if same.all():
            continue
        row = int(np.flatnonzero(~(same if same.ndim == 1 else same.all(axis=1)))[0])
        raise InputError(
            f"The two inputs disagree on the {role} at {chunk.where(row, role)}: "
            f"{_shown(mine[row])} in the baseline, {_shown(theirs[row])} in the candidate.",
            "compare needs both models scored on the same rows in the same order "
            f"(or give the targets once with {option('targets')}).",
        )


def _shown(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return "[" + ", ".join(f"{v:g}" for v in value[:4]) + (", ...]" if len(value) > 4 else "]")
    return f"{value:g}"
