"""Where each row's loss values go: a --per-row file, or a DataFrame held for ``Report.per_row``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from losscli.errors import UsageError, option
from losscli.io.writers import PerRowWriter

if TYPE_CHECKING:
    import pandas as pd


def per_row_sink(
    per_row: bool | str | os.PathLike[str] | None, labels: list[str], id_column: str | None
) -> PerRowWriter | RowCollector | None:
    """``True`` keeps the values in memory, a path writes them there, None or False neither."""
    if per_row is None or per_row is False:
        return None
    if id_column is not None and id_column in labels:
        raise UsageError(
            f"The {option('id_column')} column '{id_column}' has the name of a loss label: one "
            "would replace the other in the per-row output.",
            f"Rename the column in the file, or leave out {option('id_column')}.",
        )
    if per_row is True:
        return RowCollector(labels, id_column)
    if isinstance(per_row, (str, os.PathLike)):
        return PerRowWriter(per_row, labels, id_column)
    raise UsageError(
        f"per_row={per_row!r} is neither True nor a path.",
        "Give per_row=True for a DataFrame at report.per_row, or a .csv or .parquet path.",
    )


def collected(sink: PerRowWriter | RowCollector | None) -> pd.DataFrame | None:
    """The per-row DataFrame when it was kept in memory."""
    return sink.frame() if isinstance(sink, RowCollector) else None


class RowCollector:
    """Each chunk's per-row values as one float64 array per loss, joined once at the end.

    Columns are as in the --per-row file: the id column first, then one per loss label, a row
    dropped by --nan drop and a loss without per-row values (r2) giving NaN.
    """

    def __init__(self, labels: list[str], id_column: str | None) -> None:
        self.labels = labels
        self.id_column = id_column
        self.parts: dict[str, list[np.ndarray]] = {label: [] for label in labels}
        self.ids: list[pa.Array] = []

    def __enter__(self) -> RowCollector:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def write(self, chunk: Any, per_row: dict[str, np.ndarray | None]) -> None:
        if self.id_column is not None:
            self.ids.append(_array(chunk.ids))
        for label in self.labels:
            self.parts[label].append(_full_length(per_row.get(label), chunk.kept, chunk.size))

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        columns: dict[str, Any] = {}
        if self.id_column is not None:
            ids = pa.concat_arrays(self.ids) if self.ids else pa.array([])
            columns[self.id_column] = _id_series(ids)
        for label in self.labels:
            parts = self.parts.pop(label)  # each label's chunks freed once joined
            columns[label] = np.concatenate(parts) if parts else np.empty(0)
        return pd.DataFrame(columns, copy=False)


def _id_series(ids: pa.Array) -> pd.Series:
    """The ids as pandas: integers with a null stay integers (Int64), not floats that round."""
    import pandas as pd

    if pa.types.is_integer(ids.type) and ids.null_count:
        nullable = pd.api.types.pandas_dtype(NULLABLE_INTEGERS[str(ids.type)])
        return ids.to_pandas(types_mapper={ids.type: nullable}.get)
    return ids.to_pandas()


NULLABLE_INTEGERS = {
    f"{sign}int{bits}": f"{sign.upper()}Int{bits}" for sign in ("", "u") for bits in (8, 16, 32, 64)
}


def _array(values: Any) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _full_length(values: np.ndarray | None, kept: np.ndarray | None, size: int) -> np.ndarray:
    """A copy of one chunk's values over all its rows, NaN where a row was dropped.

    A copy: the engine's arrays may be views of the input, which the caller may change later.
    """
    if values is None:
        return np.full(size, np.nan)
    if kept is None:
        return np.array(values, dtype=np.float64)
    full = np.full(size, np.nan)
    full[kept] = values
    return full
