"""Wide rows of class scores, folded a block of columns at a time as they are read.

A run whose every loss can be computed over blocks of ``pred``'s columns (``ColumnFold``: ce on
logits, say) over a wide group of scalar columns never holds whole rows: each row group (or
batch, for text) gives its narrow columns (the target, a weight, ids) whole and its ``pred``
columns in blocks, and each loss folds the blocks into a per-row state (a running log-sum-exp).
The chunk's ``pred`` is then a ``FoldedRows``: the states, which rows miss a score, and the
width, from which the engine has each loss give its per-row values as on whole rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from losscli.io.ahead import ReadAhead
from losscli.io.chunks import (
    FOLDED,
    ColumnKinds,
    Frame,
    ReadPlan,
    converted,
    stored_values,
    to_numbers,
)

# A pred group at least this wide is folded, when every loss of the run has a fold: narrower rows
# fit in memory whole, and keep the path of every other loss.
FOLD_COLUMNS = 64


@dataclass
class FoldedRows:
    """A wide ``pred`` role of some rows, folded: each loss's per-row state (by label), which
    rows miss a score, and each such row's first column missing one (-1 where none is)."""

    width: int
    folds: Mapping[str, Any]  # label -> the loss's ColumnFold
    states: dict[str, dict[str, np.ndarray]]
    missing: np.ndarray
    first_missing: np.ndarray
    ndim = 2

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.missing), self.width)

    @property
    def size(self) -> int:
        return len(self.missing) * self.width

    def __len__(self) -> int:
        return len(self.missing)

    def __getitem__(self, rows: Any) -> FoldedRows:
        """The rows ``rows`` (a slice or a mask) selects."""
        states = {
            label: {name: values[rows] for name, values in state.items()}
            for label, state in self.states.items()
        }
        return FoldedRows(
            self.width, self.folds, states, self.missing[rows], self.first_missing[rows]
        )

    def folded_values(self, label: str, target: np.ndarray) -> np.ndarray:
        """The per-row values of the loss ``label``, as its function gives them on whole rows."""
        return self.folds[label].finish(self.states[label], target, self.width)


def fold_plan(requests: Sequence[Any], plan: ReadPlan, reader: Any):
    """Each request's fold (by label) when the run can fold ``pred``; else None.

    Only when every loss has a fold for its parameters, ``pred`` is a group of at least
    FOLD_COLUMNS scalar number columns of a file (``reader``, the first) and the target one
    column of numbers.
    """
    pred, target = plan.roles.get("pred", ()), plan.roles.get("target", ())
    if len(pred) < FOLD_COLUMNS or len(target) != 1 or plan.labels or plan.keys:
        return None
    types = reader.types if isinstance(getattr(reader, "types", None), dict) else {}
    if set(plan.roles) - {"pred", "target"} or not all(_scalar(types.get(c)) for c in pred):
        return None
    folds = {}
    for request in requests:
        factory = request.definition.fold
        fold = factory(request.params) if factory is not None else None
        if fold is None:
            return None
        folds[request.label] = fold
    return folds


def _scalar(kind: pa.DataType | None) -> bool:
    return kind is not None and (pa.types.is_integer(kind) or pa.types.is_floating(kind))


def folded_read(plan: ReadPlan, folds: Mapping[str, Any]):
    """How ``frames`` reads each file when ``pred`` is folded: the frames of its narrow
    columns, each with its rows' ``pred`` folded under FOLDED."""
    wide = list(plan.roles["pred"])
    target = plan.roles["target"][0]

    def read(
        reader: Any, columns: list[str], numeric: set[str], kinds: ColumnKinds, where: str, row: int
    ) -> Iterator[Frame]:
        narrow = [name for name in columns if name not in set(wide)]
        for batch, blocks in reader.column_blocks(narrow, wide, numeric):
            frame = converted(batch, narrow, numeric, kinds, where, row)
            frame[FOLDED] = fold_rows(blocks, frame[target], folds, wide, where, row)
            row += batch.num_rows
            yield frame

    return read


def fold_rows(
    blocks: Iterator[tuple[int, int, pa.RecordBatch]],
    target: np.ndarray,
    folds: Mapping[str, Any],
    wide: list[str],
    where: str,
    first_row: int,
) -> FoldedRows:
    """The rows of ``target`` with their ``wide`` scores folded block by block."""
    rows = len(target)
    states = {label: fold.start(target, len(wide)) for label, fold in folds.items()}
    missing = np.zeros(rows, dtype=bool)
    first_missing = np.full(rows, -1, dtype=np.int32)
    # Blocks are read and widened on a thread of their own while the losses fold the last one.
    matrices = ReadAhead(
        (start, offset, block_matrix(batch, where, first_row + start))
        for start, offset, batch in blocks
    )
    for start, offset, block in matrices:
        stop = start + len(block)
        _note_missing(block, offset, missing[start:stop], first_missing[start:stop])
        for label, fold in folds.items():
            fold.add({name: v[start:stop] for name, v in states[label].items()}, block, offset)
    return FoldedRows(len(wide), folds, states, missing, first_missing)


def block_matrix(batch: pa.RecordBatch, where: str, first_row: int) -> np.ndarray:
    """A block of scalar columns as a float64 (rows, columns) matrix, column-major as read."""
    block = np.empty((batch.num_rows, batch.num_columns), order="F")
    for index, name in enumerate(batch.schema.names):
        column = batch.column(index)
        # Stored numbers without a null go straight in, widened by the copy (no float64 between).
        stored = None if column.null_count else stored_values(column)
        block[:, index] = to_numbers(column, name, where, first_row) if stored is None else stored
    return block


def _note_missing(
    block: np.ndarray, offset: int, missing: np.ndarray, first_missing: np.ndarray
) -> None:
    """Rows of ``block`` with a NaN: marked missing, their first such column noted."""
    if not block.size or not np.isnan(block.min()):
        return
    holes = np.isnan(block)
    fresh = np.flatnonzero(holes.any(axis=1) & ~missing)
    first_missing[fresh] = offset + holes[fresh].argmax(axis=1)
    missing[fresh] = True
