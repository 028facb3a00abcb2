"""In-memory tables for the Python API: pandas DataFrames, Arrow tables and readers, NumPy dicts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from losscli.errors import InputError
from losscli.io.sources import Source


def is_in_memory(data: Any) -> bool:
    if isinstance(data, (pa.Table, pa.RecordBatch, pa.RecordBatchReader, Mapping)):
        return True
    return type(data).__module__.startswith("pandas") and hasattr(data, "columns")


def to_arrow(data: Any) -> pa.Table | pa.RecordBatchReader:
    if isinstance(data, (pa.Table, pa.RecordBatchReader)):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, Mapping):
        return pa.table(
            {str(name): _column(np.asarray(values), str(name)) for name, values in data.items()}
        )
    frame = data.rename(columns=str)
    return pa.Table.from_pandas(frame, preserve_index=False)


def _column(values: np.ndarray, name: str) -> pa.Array:
    if values.ndim == 1:
        return pa.array(values)
    if values.ndim == 2:
        flat = pa.array(np.ascontiguousarray(values).reshape(-1))
        return pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
    raise InputError(
        f"Array '{name}' has {values.ndim} dimensions; give 1 (scalars) or 2 (vectors)."
    )


class MemoryReader:
    """The reader interface (names, types, batches, close) over an in-memory table."""

    def __init__(self, data: Any) -> None:
        self.table = to_arrow(data)
        self.source = Source(f"<{type(data).__name__}>", "memory")
        self.names = list(self.table.schema.names)
        self.types = {field.name: field.type for field in self.table.schema}

    def batches(self, columns: list[str], numeric: set[str]) -> Iterator[pa.RecordBatch]:
        batches = self.table.to_batches() if isinstance(self.table, pa.Table) else self.table
        for batch in batches:
            yield batch.select(columns)

    def close(self) -> None:
        return None
