"""A run on a Dask cluster: the input cut into units, each read and tallied on a worker.

Only the work travels: each task gets the job (the losses, the read plan, the options) and its
unit (a file, or one row group of a Parquet file) and returns its tallies, a few arrays whose
size grows with the groups and blocks, never with the rows. The tallies are added as they
arrive, two at a time on the workers (a tree), so the client receives one.

This module imports Dask's ``distributed``; nothing else in losscli does, and ``losscli.api``
imports this module only for a run given a scheduler.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from os import PathLike
from typing import TYPE_CHECKING, Any

from losscli import runtime
from losscli.engine.batches import batch_losses
from losscli.engine.partial import Partial, combined
from losscli.engine.run import Outcome, evaluate_stream
from losscli.engine.tally import Options
from losscli.errors import UsageError, option
from losscli.io.chunks import GroupCodes, ReadPlan
from losscli.io.memory import is_in_memory
from losscli.io.sources import Source
from losscli.io.stream import Inputs, Part, RowCounter, Side, counted_chunks, inputs_of
from losscli.io.units import Unit, count_rows, parquet_row_groups, units_of

if TYPE_CHECKING:
    from losscli.losses import LossRequest

INSTALL = "pip install 'losscli[distributed]'"
LOCAL = "local"
# How long to wait for a scheduler that does not answer.
CONNECT_SECONDS = 10


@dataclass(frozen=True)
class UnitJob:
    """What every task of a run needs besides its unit: small, and sent with each task."""

    requests: Sequence[Any]
    options: Options
    plan: ReadPlan
    chunk_rows: int
    name_files: bool  # the whole input has several files: messages name them
    sides: tuple[tuple[ReadPlan, str, str], ...] = ()  # each side input's (plan, what, prefix)
    shared: tuple[str, ...] | None = None  # compare: the roles both inputs must agree on
    per_row: str | None = None  # the directory of the units' per-row part files


def run_unit(job: UnitJob, unit: Unit) -> Partial:
    """One unit read and tallied (on a worker): the tallies of its rows, nothing of the rows."""
    # A worker process reuses freed arrays as a losscli process does: Dask starts its workers
    # with glibc returning every freed block, and the page faults made each unit 2-4 times slower.
    runtime.keep_freed_memory()
    main = inputs_of([unit.sources[0]])
    sides = [
        Side(inputs_of([source]), plan, what, prefix)
        for source, (plan, what, prefix) in zip(unit.sources[1:], job.sides, strict=True)
    ]
    try:
        groups = GroupCodes(job.plan.groups) if job.plan.groups else None
        # A range of a file whose rows before it were not counted names its bytes.
        part = Part(unit.first_row, job.name_files or not unit.sources[0].rows_known)
        counter, chunks = counted_chunks(
            main, sides, job.plan, job.chunk_rows, (), groups, None, part
        )
        with _rows_of(job, unit) as writer:
            sink = writer.write if writer is not None else None
            outcomes = evaluate_stream(chunks, job.requests, sink, job.options, job.shared)
    finally:
        for side in sides:
            side.inputs.close()
        main.close()
    return Partial(outcomes, counter.read, counter.used, groups)


@contextlib.contextmanager
def _rows_of(job: UnitJob, unit: Unit) -> Iterator[Any]:
    """The writer of the unit's per-row part file, when asked for."""
    if job.per_row is None:
        yield None
        return
    from losscli.io.parts import part_writer

    labels = [request.label for request in job.requests]
    with part_writer(job.per_row, unit.name, labels, job.plan.id_column) as writer:
        yield writer


def run_on_cluster(
    scheduler: Any,
    job: UnitJob,
    sources: Sequence[Source],
    sides: Sequence[Sequence[Source]] = (),
    on_units: Callable[[int, int], None] | None = None,
) -> Partial:
    """Every unit of the input run on the cluster ``scheduler`` names, and added up;
    ``on_units(finished, units)`` hears of each unit done."""
    distributed = _distributed()
    with _quiet_once_stopped(connected(scheduler, distributed)) as client:
        count = _counter(client) if _needs_row_numbers(job.options) else None
        units = units_of(sources, sides, count, _footers(client))
        if job.per_row is not None:
            from losscli.io.parts import part_name

            units = [replace(u, name=part_name(i, len(units))) for i, u in enumerate(units)]
        futures = [client.submit(run_unit, job, unit, pure=False) for unit in units]
        return _reduced(client, distributed, futures, on_units)


# Dask's client logs the tasks it could not gather after they were cancelled, on stderr.
CLIENT_LOG = "distributed.client"
# What a cluster started for a run (its scheduler, and workers printing on the run's stderr)
# logs: nothing short of critical. A failed task's error comes back to the run, which says it in
# its own words; the worker's log of it ('Compute Failed', a traceback) and the warnings of tasks
# a Ctrl-C cancelled would only bury that line.
CLUSTER_LOGS = logging.CRITICAL


@contextlib.contextmanager
def _quiet_once_stopped(client: contextlib.AbstractContextManager[Any]) -> Iterator[Any]:
    """The client ``client`` gives; a run stopped (Ctrl-C, a failed unit) says so once: while
    its client closes, gathers in flight that find their tasks cancelled are not logged."""
    logger = logging.getLogger(CLIENT_LOG)
    level = logger.level
    try:
        with client as entered:
            try:
                yield entered
            except BaseException:
                logger.setLevel(logging.ERROR)
                raise
    finally:
        logger.setLevel(level)


def _needs_row_numbers(options: Options) -> bool:
    """Whether rows must carry their global number: resampled blocks, or the worst rows."""
    return options.level is not None or options.worst > 0


def _counter(client: Any) -> Callable[[list[Source]], list[int]]:
    def count(sources: list[Source]) -> list[int]:
        return _gathered(client, count_rows, sources)

    return count


def _footers(client: Any) -> Callable[[list[Source]], list[list[int] | None]]:
    """Parquet footers read by the workers, all at once: from object storage each is a round
    trip, which one client would make one after another."""

    def read(sources: list[Source]) -> list[list[int] | None]:
        if len(sources) < 2:
            return [parquet_row_groups(source) for source in sources]
        return _gathered(client, parquet_row_groups, sources)

    return read


def _gathered(client: Any, function: Callable[[Source], Any], sources: list[Source]) -> list[Any]:
    """``function`` of each source, on the workers; stopped, the cluster drops what is left."""
    futures = client.map(function, sources, pure=False)
    try:
        return client.gather(futures)
    except BaseException:
        client.cancel(futures)
        raise


def _reduced(
    client: Any,
    distributed: Any,
    futures: list[Any],
    on_units: Callable[[int, int], None] | None,
) -> Partial:
    """The futures' partials added two by two as they finish; a failed task stops the run."""
    waiting = distributed.as_completed(futures)
    live = set(futures)  # what the cluster still holds or works on for this run
    unit_keys = {future.key for future in futures}
    units = len(futures)
    futures.clear()  # held here no longer: a tally added into another is let go
    finished, ready = 0, None
    try:
        for future in waiting:
            if future.status == "error":
                future.result()  # raises the task's own error, a LossCliError included
            if future.key in unit_keys:
                finished += 1
                if on_units is not None:
                    on_units(finished, units)
            if ready is None:
                ready = future
                continue
            merged = client.submit(_added, ready, future, pure=False)
            # The two are let go: once added, their tallies need not stay in workers' memory.
            live -= {ready, future}
            live.add(merged)
            waiting.add(merged)
            ready = None
        assert ready is not None
        return ready.result()
    except BaseException:
        client.cancel(list(live))  # Ctrl-C or a failed unit: the cluster stops this run
        # Every future let go here, while the client is open: the error's traceback keeps this
        # frame, and a future freed once the client has closed printed Dask's own traceback.
        live.clear()
        waiting.clear()
        ready = future = merged = None
        raise


def _added(first: Partial, second: Partial) -> Partial:
    """Two partials added into a new one (on a worker). Copies: Dask hands a task the objects
    it holds, which a task run again after a lost worker must find as they were."""
    return combined(copy.deepcopy(first), copy.deepcopy(second))


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise UsageError(
            f"{option('scheduler')} runs on Dask, which is not installed.", f"Run: {INSTALL}"
        ) from None
    return distributed


@contextlib.contextmanager
def connected(scheduler: Any, distributed: Any) -> Iterator[Any]:
    """A client of the cluster ``scheduler`` names: a client as it is, ``local`` or ``local:N``
    (a cluster of N worker processes for this run, the cores by default), or an address."""
    if hasattr(scheduler, "submit"):
        yield scheduler  # the caller's client: theirs to close
        return
    text = str(scheduler).strip()
    if text == LOCAL or text.startswith(LOCAL + ":"):
        workers = _local_workers(text)
        with _ctrl_c_ignored():
            cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=CLUSTER_LOGS,
            )
        with cluster, distributed.Client(cluster) as client:
            yield client
        return
    with _client_at(text, distributed) as client:
        yield client


@contextlib.contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """Ctrl-C ignored while a local cluster starts: its worker processes inherit it ignored. A
    terminal sends Ctrl-C to every process of the job, and each worker would print a traceback;
    this process stops the run and its cluster. A Ctrl-C while the workers start (about a
    second) is not seen, a trade for that: the run stops at the next one."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set a handler
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)


def _local_workers(text: str) -> int:
    count = text[len(LOCAL) + 1 :]
    if not count:
        return max(1, os.cpu_count() or 1)
    if not count.isdigit() or int(count) < 1:
        raise UsageError(
            f"{option('scheduler')} {text}: the number of workers must be a whole number >= 1.",
            "Use local, local:4, or the address of a scheduler (tcp://HOST:8786).",
        )
    return int(count)


@contextlib.contextmanager
def _client_at(address: str, distributed: Any) -> Iterator[Any]:
    if "://" not in address and ":" not in address:
        raise UsageError(
            f"{option('scheduler')} {address} is neither local nor a scheduler's address.",
            "Use local, local:4, or tcp://HOST:8786.",
        )
    try:
        client = distributed.Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as error:
        raise UsageError(
            f"Cannot reach the Dask scheduler at {address}: {_first_line(error)}.",
            "Check the address and that 'dask scheduler' runs there (its log shows the address).",
        ) from None
    with client:
        yield client


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0].rstrip(".")


# -- what api.py calls for a run given a scheduler -------------------------------------------


def refuse_reading_on_cluster(csv: Any, classes: Any, pos_label: Any) -> None:
    """CSV dialects and text labels are read in this process only, so far: on a cluster, a part
    of a file would not know the lines its file skips, nor the labels its other parts saw."""
    given = [
        name
        for name, value in (("csv", csv), ("classes", classes), ("pos_label", pos_label))
        if value is not None
    ]
    if given:
        raise UsageError(
            f"{option(given[0])} is not available with {option('scheduler')} yet.",
            f"Leave out {option('scheduler')}, or write the file as plain CSV with numbers.",
        )


def refuse_comparing_on_cluster(
    inputs: Mapping[str, Any], on: Any, reading: tuple[Any, Any, Any], per_row: Any
) -> None:
    """What ``compare`` cannot do on a cluster: ``refuse_on_cluster``'s inputs and keys, the
    reading options (csv, classes, pos_label), and per-row differences."""
    refuse_on_cluster(inputs, on)
    refuse_reading_on_cluster(*reading)
    if per_row is not None:
        raise UsageError(
            f"compare's {option('per_row')} is not available with {option('scheduler')}: "
            "each row's differences would have to come back to this process.",
            f"Leave out {option('scheduler')} to get the per-row differences.",
        )


def part_directory(per_row: Any, data: Any, targets: Any) -> str | None:
    """On a cluster, the directory of --per-row part files, checked before any reading."""
    if per_row is None or per_row is False:
        return None
    from losscli.io.parts import check_part_directory

    return check_part_directory(per_row, data, targets)


def refuse_on_cluster(inputs: Mapping[str, Any], on: Any) -> None:
    """What a cluster cannot do, refused before anything is read."""
    for what, data in inputs.items():
        if data is None:
            continue
        if is_in_memory(data) or "-" in _paths(data):
            source = "standard input" if not is_in_memory(data) else "data in memory"
            raise UsageError(
                f"{option('scheduler')} reads the input on the cluster's workers, but "
                f"{what} is {source}.",
                f"Write it to a file the workers can read (Parquet), or leave out "
                f"{option('scheduler')}.",
            )
    if on is not None:
        raise UsageError(
            f"{option('on')} is not available with {option('scheduler')}: every worker would "
            "need the whole of the other input.",
            f"Leave out {option('scheduler')}, or align the rows by position.",
        )


def _paths(data: Any) -> list[str]:
    if isinstance(data, (str, PathLike)):
        return [str(data)]
    return [str(item) for item in data] if isinstance(data, (list, tuple)) else []


def on_cluster(
    scheduler: Any,
    requests: Sequence[LossRequest],
    options: Options,
    plan: ReadPlan,
    reading: tuple[Inputs, Sequence[Side], int],
    on_units: Callable[[int, int], None] | None,
    shared: Sequence[str] | None = None,
    parts: str | None = None,
) -> tuple[RowCounter, list[Outcome], GroupCodes | None]:
    """The run's outcomes from a Dask cluster; ``reading`` is (main, sides, chunk_rows);
    ``shared`` as ``evaluate_stream`` takes it (compare)."""
    main, sides, chunk_rows = reading
    batched = batch_losses(requests)
    if batched:
        raise UsageError(
            f"{batched[0]} compares the rows of each batch with one another, which cannot run "
            "on a cluster yet: one batch's rows may be read by several workers.",
            f"Leave out {option('scheduler')} for it.",
        )
    if plan.keys:
        role = sorted(plan.keys)[0]
        flag = option('columns["' + role + '"]')
        raise UsageError(
            f"Losses that sum per {role} ({flag}) cannot run on a "
            f"cluster yet: one {role}'s rows may be read by several workers.",
            f"Leave out {option('scheduler')} for them.",
        )
    unit_job = UnitJob(
        requests,
        options,
        plan,
        chunk_rows,
        len(main.names) > 1 or bool(sides),
        tuple((side.plan, side.what, side.prefix) for side in sides),
        None if shared is None else tuple(shared),
        parts,
    )
    side_sources = [side.inputs.sources for side in sides]
    partial = run_on_cluster(scheduler, unit_job, main.sources, side_sources, on_units)
    counter = RowCounter()
    counter.read, counter.used = partial.rows_read, partial.rows_used
    return counter, partial.outcomes, partial.group_codes
