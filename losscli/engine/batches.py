"""Chunks cut at batch boundaries, for losses whose value for a row depends on the other rows of
its batch (circle, ntxent): each chunk such a loss sees holds whole batches.

Rows sharing a value of role ``batch`` form one batch, as the library that defines the loss would
be handed it. A batch must come as one run of consecutive rows (any chunking, any number of files);
the rows of the open batch at a chunk's end wait, at most ``MAX_BATCH_ROWS`` of them, until the
run ends. A batch id that comes back after its run ended is refused, naming the row: summing two
runs as one batch, or as two, would each be a guess. Without a batch column the whole input is one
batch, refused past ``MAX_BATCH_ROWS`` rows (the loss compares every pair of rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from losscli.engine.runs import run_heads
from losscli.errors import InputError, option

# A batch's pairwise work and memory grow with its rows squared: 20,000 rows are 400 million
# pairs, a few seconds and about 3 GB at the peak. Larger batches are refused, naming the limit.
MAX_BATCH_ROWS = 20_000
BATCH = "batch"
BATCH_OPTION = option('columns["batch"]') + "="


def batch_losses(requests: Sequence[Any]) -> list[str]:
    """The labels of the requests whose loss reads whole batches."""
    return [r.label for r in requests if BATCH in r.definition.roles]


def whole_batches(chunks: Iterable[Any], label: str) -> Iterator[Any]:
    """``chunks`` regrouped so that no batch is split between two of them; ``label`` names the
    loss in a refusal."""
    waiting = None  # the rows of the batch still open at the last chunk's end
    finished = np.zeros(0, dtype=bool)  # by batch code: a run that has ended
    for chunk in chunks:
        chunk = chunk if waiting is None else waiting.then(chunk)
        codes = chunk.roles.get(BATCH)
        if codes is None:
            waiting = _one_batch(chunk, label)
            continue
        starts = _run_starts(codes, chunk)
        finished = _check_runs(codes, starts, finished, chunk, label)
        last = int(starts[-1]) if len(starts) else 0
        done, waiting = chunk.split(last)
        if chunk.rows - last > MAX_BATCH_ROWS:
            raise _too_large(label, chunk, last, in_batch=True)
        if done.size:
            yield done
    if waiting is not None:
        yield waiting


def _one_batch(chunk: Any, label: str) -> Any:
    if chunk.rows > MAX_BATCH_ROWS:
        raise _too_large(label, chunk, 0, in_batch=False)
    return chunk


def _run_starts(codes: np.ndarray, chunk: Any) -> np.ndarray:
    if len(codes) and np.isnan(codes.min()):
        row = int(np.flatnonzero(np.isnan(codes))[0])
        raise InputError(
            f"Column '{chunk.columns[BATCH][0]}' (the batch) has no value at {chunk.where(row)}, "
            "so the row belongs to no batch.",
            f"Fill in its batch, or drop such rows ({option('nan')} drop).",
        )
    return run_heads(codes)


def _check_runs(
    codes: np.ndarray, starts: np.ndarray, finished: np.ndarray, chunk: Any, label: str
) -> np.ndarray:
    """Refuse a batch whose run already ended; the runs ended in this chunk (all but its last)
    marked finished."""
    run_codes = codes[starts].astype(np.intp)
    size = max(len(finished), int(run_codes.max()) + 1 if len(run_codes) else 0)
    finished = np.concatenate([finished, np.zeros(size - len(finished), dtype=bool)])
    seen = finished[run_codes]
    # Within the chunk a code may start two runs: the second is a batch coming back too.
    order = np.argsort(run_codes, kind="stable")
    again = np.zeros(len(run_codes), dtype=bool)
    again[order[1:]] = run_codes[order[1:]] == run_codes[order[:-1]]
    back = np.flatnonzero(seen | again)
    if len(back):
        row = int(starts[back[0]])
        raise InputError(
            f"{label}: the batch of {chunk.where(row)} ('{chunk.columns[BATCH][0]}') appeared "
            "before, and other rows came between: a batch must be one run of consecutive rows.",
            "Sort the rows by the batch column (a stable sort keeps their order within a batch), "
            "or give each run its own batch id.",
        )
    finished[run_codes[:-1]] = True
    return finished


def _too_large(label: str, chunk: Any, first: int, in_batch: bool) -> InputError:
    if in_batch:
        return InputError(
            f"{label}: the batch starting at {chunk.where(first)} has more than "
            f"{MAX_BATCH_ROWS:,} rows, the limit: the loss compares every pair of rows in a batch.",
            "Split it into smaller batches (the batch size of training), or check the batch "
            "column.",
        )
    return InputError(
        f"{label} compares every pair of rows in a batch, and without a batch column the whole "
        f"input ({MAX_BATCH_ROWS:,}+ rows) is one batch.",
        f"Name the column that says which batch each row belongs to: {BATCH_OPTION}COLUMN.",
    )
