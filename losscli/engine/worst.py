"""The K rows with the largest loss, kept in a bounded list while streaming."""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

Inputs = Mapping[str, np.ndarray]


class Worst:
    """The K rows with the largest loss, kept in a bounded list while streaming.

    Ties are broken by row order and a NaN loss counts as the largest, so the list is exactly the
    first K of a full sort by (loss descending, row ascending).
    """

    def __init__(self, k: int) -> None:
        self.k = k
        # (0 for a NaN loss else 1, -loss, row, entry): sorted ascending, the worst come first.
        self.entries: list[tuple[int, float, int, dict[str, Any]]] = []

    def add(self, rows: np.ndarray, chunk: Any, inputs: Inputs) -> None:
        positions = np.arange(chunk.size) if chunk.kept is None else np.flatnonzero(chunk.kept)
        fresh = []
        for i in worst_positions(rows, self.k).tolist():
            index = chunk.start + int(positions[i])
            row: dict[str, Any] = {"row": index + 1}
            where = chunk.locate(index, None)
            if where != f"row {index + 1}":
                row["where"] = where  # several files: the row within its file
            if chunk.ids is not None:
                row["id"] = _identifier(chunk.ids[int(positions[i])])
            for role in ("pred", "target"):
                if isinstance(inputs.get(role), np.ndarray):  # not a folded pred (io.folded)
                    row[role] = _plain(inputs[role][i])
            loss = float(rows[i])
            row["loss"] = loss
            if not math.isfinite(loss):  # JSON writes it as null: say what it was
                row["note"] = f"the loss is {'NaN' if math.isnan(loss) else repr(loss)}"
            fresh.append((0, 0.0, index, row) if math.isnan(loss) else (1, -loss, index, row))
        self.entries = heapq.nsmallest(self.k, self.entries + fresh, key=lambda e: e[:3])

    def rows(self) -> list[dict[str, Any]]:
        return [entry[-1] for entry in self.entries]


def worst_positions(rows: np.ndarray, k: int) -> np.ndarray:
    """The positions of the first ``k`` of a stable sort by (NaN first, loss descending, position
    ascending), in O(n): every NaN and every loss above the K-th, then the earliest rows tied with
    it. ``np.argpartition`` alone would pick among the ties differently from one machine to
    another."""
    if len(rows) <= k:
        return np.arange(len(rows))
    missing = np.isnan(rows)
    nans = np.flatnonzero(missing)
    if len(nans) >= k:
        return nans[:k]
    left = k - len(nans)
    numbers = rows if not len(nans) else np.where(missing, -np.inf, rows)
    # The left-th largest among the numbers (NaN rows sit at -inf, below every number but
    # -inf itself: those are excluded from the ties below).
    cut = np.partition(numbers, len(numbers) - left)[len(numbers) - left]
    above = np.flatnonzero((numbers > cut) & ~missing)
    tied = np.flatnonzero((numbers == cut) & ~missing)[: left - len(above)]
    return np.concatenate([nans, above, tied])


def _identifier(value: Any) -> Any:
    """An --id value as Python: Arrow scalars as written, a numeric column's float as read."""
    if hasattr(value, "as_py"):
        return value.as_py()
    number = float(value)
    return int(number) if number.is_integer() else number


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [float(v) for v in value]
    return float(value)
