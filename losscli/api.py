"""``losscli.evaluate``, ``compare`` and ``check``: the whole job for Python callers; the CLI is a
thin layer over them.

Each call checks its options, decides what to read (``losscli.io.plan``), reads it as a stream of
chunks (``losscli.io.stream``), runs the engine over the stream and builds the report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from typing import TYPE_CHECKING, Any

from losscli import __version__
from losscli.engine.run import CANDIDATE, Outcome, evaluate_stream
from losscli.engine.tally import DEFAULT_REPLICATES, GroupColumns, Options
from losscli.errors import InputError, LossCliError, option
from losscli.io.chunks import GroupCodes, ReadPlan
from losscli.io.dialect import CsvDialect, csv_dialect
from losscli.io.folded import fold_plan
from losscli.io.labels import label_rule, with_labels
from losscli.io.memory import takes_in_memory
from losscli.io.plan import (
    CHUNK_ROWS,
    candidate_roles,
    chunk_rows_of,
    key_columns,
    read_plan,
    resolve,
    resolve_beside,
    targets_side,
)
from losscli.io.stream import (
    Opened,
    Side,
    counted_chunks,
)
from losscli.losses import LossRequest
from losscli.options import prepare
from losscli.report import Report, Result
from losscli.report.groups import (
    GroupArrays,
    GroupIntervals,
    GroupResults,
    KeyColumn,
    Results,
    rank_groups,
)

if TYPE_CHECKING:
    from losscli.config import NamedCheck
    from losscli.report.checkrun import CheckRun
    from losscli.report.comparison import Comparison

DEFAULT_CHUNK_ROWS = CHUNK_ROWS  # twice as many when every number is read as stored


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
    chunk_rows: int | None = None,
    per_row: bool | str | PathLike[str] | Any = None,
    id_column: str | None = None,
    input_format: str | None = None,
    on_progress: Callable[[int], None] | None = None,
    by: str | Sequence[str] | None = None,
    ci: float | None = None,
    bootstrap: int = DEFAULT_REPLICATES,
    seed: int = 0,
    worst: int = 0,
    on: str | Sequence[str] | None = None,
    csv: CsvDialect | Mapping[str, Any] | None = None,
    classes: str | Sequence[str] | None = None,
    pos_label: str | None = None,
    scheduler: Any = None,
    on_units: Callable[[int, int], None] | None = None,
    compat: str | None = None,
) -> Report:
    """Compute ``losses`` over ``data`` in one streaming pass.

    ``data`` is a path, glob or directory (or a list of them, read as one table), ``"-"`` for stdin,
    a pandas or polars DataFrame, a pyarrow Table, RecordBatch or RecordBatchReader, any object with
    the Arrow PyCapsule interface, or a dict of arrays (a 2-D array is a vector per row). ``losses``
    are SPEC strings such as ``"mse,huber:delta=0.5"``. ``pred``, ``target`` and ``weight`` name
    columns (a comma list or glob for a group); ``columns`` names other roles
    (``{"var": "sigma2"}``). Without ``pred``/``target``, common names are recognised. Any of them
    may hold the values instead (a Series, array or list, paired with ``data``'s rows by position;
    ``data`` may then be None). ``per_row`` is a .csv or .parquet path for each row's losses,
    True to get them as the DataFrame ``report.per_row``, or an object whose ``write(chunk,
    values)`` receives each chunk and its per-row values by label (a context manager).

    ``by`` adds a result per group of these columns' values; ``ci`` (a level such as 0.95) gives
    every result an interval, from the streamed variance for a plain mean and from ``bootstrap``
    Poisson replicates drawn with ``seed`` otherwise; ``worst`` lists that many rows with the
    largest loss under each result.

    ``targets`` reads the target column from a second input, matched row by row, or by the key
    columns ``on`` (a name, comma list or list of names) when given.

    ``csv`` says how to read CSV and TSV inputs where their first bytes cannot: a
    ``CsvDialect`` or a mapping of its fields, e.g. ``{"delimiter": ";", "header": False,
    "skip_rows": 2, "comment": "#", "decimal": ","}`` (without a header, columns are named
    "1", "2", ...).

    ``scheduler`` runs the job on a Dask cluster: ``"local"`` or ``"local:N"`` (N worker
    processes started for this call), a scheduler's address (``"tcp://host:8786"``) or a
    ``distributed.Client``. Each file, or row group of a Parquet file, is read on a worker;
    ``on_units(finished, units)`` hears of each one done.

    ``compat`` (``"torch"``, ``"keras"``, ``"sklearn"``, ``"optax"`` or ``"torchmetrics"``) reads
    ``losses`` as that library's names and keywords, with its defaults, and gives its numbers.
    """
    job = prepare(
        losses,
        {"pred": pred, "target": target},
        columns,
        (nan, chunk_rows, input_format),
        {"the predictions": data, option("targets"): targets},
        (ci, bootstrap, seed, worst, by is not None),
        lone_on=on is not None and targets is None,
        compat=compat,
    )
    parts = None
    if scheduler is not None:
        from losscli import cluster

        cluster.refuse_on_cluster({"the predictions": data, option("targets"): targets}, on)
        cluster.refuse_reading_on_cluster(csv, classes, pos_label)
        parts = cluster.part_directory(per_row, data, targets)
    elif per_row is not None and per_row is not False:
        from losscli.io.outputs import check_per_row

        check_per_row(per_row, data, targets)  # before anything is read: never over an input
    requests, options = job.requests, job.options
    writer = None
    with Opened(input_format, csv_dialect(csv)) as opened:
        main = opened.open(data)
        side = opened.open(targets) if targets is not None else None
        roles = resolve_beside(job.wanted, job.given, main, side)
        plan = read_plan(roles, job.wanted, main, nan, weight, id_column, by)
        chunk_rows = chunk_rows_of(plan, chunk_rows)
        rule = label_rule(classes, pos_label, plan.roles.get("pred", ()))
        plan = with_labels(plan, rule)
        group_codes = GroupCodes(plan.groups) if plan.groups else None
        sides = [targets_side(side, job.wanted, target, rule)] if side is not None else []
        if scheduler is not None:
            from losscli.cluster import on_cluster

            reading = (main, sides, chunk_rows)
            counter, outcomes, group_codes = on_cluster(
                scheduler, requests, options, plan, reading, on_units, parts=parts
            )
            counter.check(main.display)
            results = _results(requests, outcomes, group_codes, options)
        else:
            keys = key_columns(on, main)
            folds = None if sides else fold_plan(requests, plan, main.first)
            counter, chunks = counted_chunks(
                main, sides, plan, chunk_rows, keys, group_codes, on_progress, folds=folds
            )
            writer = _per_row_sink(per_row, [r.label for r in requests], plan.id_column)
            with writer if writer else contextlib.nullcontext():
                sink = writer.write if writer else None
                outcomes = evaluate_stream(chunks, requests, sink, options)
                # Inside the writer's block: a failed run must not replace the --per-row file.
                counter.check(main.display)
                results = _results(requests, outcomes, group_codes, options)
    inputs = {
        "files": main.names,
        "targets": side.names if side is not None else None,
        **counter.totals(),
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
    chunk_rows: int | None = None,
    input_format: str | None = None,
    ci: float = 0.95,
    bootstrap: int = DEFAULT_REPLICATES,
    seed: int = 0,
    on_progress: Callable[[int], None] | None = None,
    on: str | Sequence[str] | None = None,
    csv: CsvDialect | Mapping[str, Any] | None = None,
    per_row: Any = None,
    scheduler: Any = None,
    on_units: Callable[[int, int], None] | None = None,
    classes: str | Sequence[str] | None = None,
    pos_label: str | None = None,
    compat: str | None = None,
) -> Comparison:
    """Score two models' predictions of the same rows and the paired difference of each loss.

    ``baseline`` and ``candidate`` are inputs as for ``evaluate``, aligned row by row (or by the
    key columns ``on``). Column options apply to both; targets come from each (they must agree),
    or once from ``targets``.
    ``target`` and ``weight`` may hold the values, read beside the baseline's rows. Every
    difference (candidate - baseline) gets a ``ci``-level paired interval and a p-value.
    ``csv``, ``classes``, ``pos_label`` and ``compat`` work as for ``evaluate``.
    ``per_row``, an object as ``evaluate`` takes, receives each row's differences by label.
    ``scheduler`` runs it on a Dask cluster as for ``evaluate``: the i-th files of the inputs
    are read together, so each input needs as many files, each pair with the same rows.
    """
    # Here, not at the top: an ``eval`` run need not import what only comparing uses.
    from losscli.engine.compare import summary
    from losscli.report.comparison import Comparison

    inputs = {"the baseline": baseline, "the candidate": candidate, option("targets"): targets}
    job = prepare(
        losses,
        {"pred": pred, "target": target},
        columns,
        (nan, chunk_rows, input_format),
        inputs,
        (ci, bootstrap, seed, 0, False),
        compat=compat,
    )
    requests, options = job.requests, job.options
    if scheduler is not None:
        from losscli.cluster import refuse_comparing_on_cluster

        refuse_comparing_on_cluster(inputs, on, (csv, classes, pos_label), per_row)
    with Opened(input_format, csv_dialect(csv)) as opened:
        base, other = opened.open(baseline), opened.open(candidate)
        side = opened.open(targets) if targets is not None else None
        roles = resolve(job.wanted, job.given, base, skip_target=side is not None)
        plan = read_plan(roles, job.wanted, base, nan, weight)
        chunk_rows = chunk_rows_of(plan, chunk_rows)
        rule = label_rule(classes, pos_label, plan.roles.get("pred", ()))
        plan = with_labels(plan, rule)
        own = candidate_roles(roles, plan.keys, job.given, other, CANDIDATE, job.wanted.kinds)
        theirs = with_labels(ReadPlan(roles=own), rule, CANDIDATE + "target")
        sides = [Side(other, theirs, "the candidate", CANDIDATE)]
        if side is not None:
            sides.append(targets_side(side, job.wanted, target, rule))
        shared = [role for role in ("target",) if CANDIDATE + role in own]
        if scheduler is not None:
            from losscli.cluster import on_cluster

            reading = (base, sides, chunk_rows)
            counter, outcomes, _ = on_cluster(
                scheduler, requests, options, plan, reading, on_units, shared
            )
        else:
            keys = key_columns(on, base)
            counter, chunks = counted_chunks(base, sides, plan, chunk_rows, keys, None, on_progress)
            sink = _per_row_sink(per_row, [r.label for r in requests], None)
            with sink if sink else contextlib.nullcontext():
                outcomes = evaluate_stream(
                    chunks, requests, sink.write if sink else None, options, shared
                )
        counter.check(base.display)
    entries = [
        {
            "label": request.label,
            "loss": request.name,
            "params": dict(request.params),
            "direction": request.definition.direction,
            **summary(o.tally, o.tallies()[-1], o.difference, options.level or ci),
        }
        for request, o in zip(requests, outcomes, strict=True)
    ]
    inputs = {
        "baseline": base.names,
        "candidate": other.names,
        "targets": side.names if side is not None else None,
        **counter.totals(),
    }
    return Comparison(__version__, inputs, entries, ci)


def check(
    names: str | Sequence[str] = (),
    *,
    config: str | PathLike[str] | None = None,
    compat: str | None = None,
) -> CheckRun:
    """Run the checks declared in a configuration file and return their reports.

    ``names`` are the checks to run (a name or a list of them, in the order given; all of them
    when none is given). ``config`` is the file, ``losscli.toml`` or ``pyproject.toml`` with a
    ``[tool.losscli]`` table; without it, the first of those in the current directory. Every check
    is read and validated before any data is; each is ``evaluate`` on its files with its bounds
    or baseline applied. ``run.passed`` is False when any of them failed. ``compat`` reads the
    losses of every check without its own ``compat = "..."`` as that library's names.
    """
    # Here, not at the top: an ``eval`` run need not read configurations.
    from losscli.config import load_config
    from losscli.report.checkrun import CheckRun

    loaded = load_config(config, compat)
    chosen = loaded.select([names] if isinstance(names, str) else names)
    return CheckRun(str(loaded.path), {named.name: _checked(named, compat) for named in chosen})


def _checked(named: NamedCheck, compat: str | None = None) -> Report:
    """One named check's report with its checks applied; an error says which check it is."""
    arguments = named.arguments()
    if compat is not None:
        arguments.setdefault("compat", compat)
    try:
        return named.gate.apply(evaluate(**arguments))
    except LossCliError as error:
        raise type(error)(f"check {named.name}: {error.message}", error.hint) from None


def _per_row_sink(per_row: Any, labels: list[str], id_column: str | None) -> Any:
    """Where each row's values go, if anywhere; its modules load only for a run that asks."""
    if per_row is None or per_row is False:
        return None
    if hasattr(per_row, "write"):
        return per_row  # the caller's own sink (losscli.plot's accumulators)
    from losscli.io.collect import per_row_sink

    return per_row_sink(per_row, labels, id_column)


def _collected(writer: Any) -> Any:
    if writer is None:
        return None
    from losscli.io.collect import collected

    return collected(writer)


def _results(
    requests: Sequence[LossRequest],
    outcomes: Sequence[Outcome],
    group_codes: GroupCodes | None,
    options: Options,
) -> list[Result] | Results:
    """The whole input's result per request, and with --by each group's."""
    overall = [_result(r, outcome, options) for r, outcome in zip(requests, outcomes, strict=True)]
    if group_codes is None:
        return overall
    return Results(overall, _group_results(requests, outcomes, group_codes, options))


def _result(request: LossRequest, outcome: Outcome, options: Options) -> Result:
    state = outcome.tally
    if state.weight_sum == 0 and request.params.get("reduction") not in ("sum", "sum_over_rows"):
        raise InputError(
            f"{request.label}: the weights of the rows used sum to 0, so no mean exists.",
            f"Give some rows a positive weight, or leave out {option('weight')}.",
        )
    value, note = state.result()  # NaN or infinite: the note says why
    return Result(
        label=request.label,
        loss=request.name,
        params=dict(request.params),
        value=value,
        n=state.n,
        weight_sum=state.weight_sum,
        direction=request.definition.direction,
        ci=state.interval(options.level) if options.level is not None else None,
        worst=outcome.worst.rows() if outcome.worst is not None and outcome.has_rows else None,
        reason=note,
    )


def _group_results(
    requests: Sequence[LossRequest],
    outcomes: Sequence[Outcome],
    group_codes: GroupCodes,
    options: Options,
) -> GroupResults:
    """Each loss's results per group as arrays, groups in order of their values (a null last)."""
    group_codes.finish()
    keys = [KeyColumn(*column) for column in group_codes.key_columns()]
    ranks = rank_groups(keys)
    parts = []
    for request, outcome in zip(requests, outcomes, strict=True):
        columns = outcome.tally.group_columns(options.level)
        parts.append(_group_arrays(request, columns, keys, ranks))
    return GroupResults(parts)


def _group_arrays(
    request: LossRequest, columns: GroupColumns, keys: list[KeyColumn], ranks: Any
) -> GroupArrays:
    """One loss's groups from the engine's columns, with their --by values and report order."""
    return GroupArrays(
        label=request.label,
        loss=request.name,
        params=dict(request.params),
        direction=request.definition.direction,
        keys=[key.take(columns.codes) for key in keys],
        value=columns.value,
        n=columns.n,
        weight_sum=columns.weight_sum,
        reason=columns.reason,
        rank=ranks[columns.codes],
        interval=GroupIntervals.from_columns(columns.interval) if columns.interval else None,
    )


__all__ = ["DEFAULT_CHUNK_ROWS", "check", "compare", "evaluate"]
