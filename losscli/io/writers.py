"""The --per-row file: each row's loss values, written atomically (temporary file, then rename)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from losscli.errors import UsageError


class PerRowWriter:
    """Streams per-row values to CSV or Parquet; only a completed run replaces ``path``."""

    def __init__(self, path: str | os.PathLike[str], labels: list[str], id_column: str | None):
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in (".csv", ".parquet", ".pq"):
            raise UsageError(
                f"--per-row {self.path} must end in .csv or .parquet.",
                "Example: --per-row losses.parquet",
            )
        self.parquet = suffix != ".csv"
        self.labels = labels
        self.id_column = id_column
        self.writer: Any = None
        self.temporary: str | None = None

    def __enter__(self) -> PerRowWriter:
        directory = self.path.parent if str(self.path.parent) else Path(".")
        if not directory.is_dir():
            raise UsageError(f"--per-row: directory '{directory}' does not exist.")
        handle, self.temporary = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=directory
        )
        os.close(handle)
        return self

    def write(self, chunk: Any, per_row: dict[str, np.ndarray | None]) -> None:
        columns: dict[str, pa.Array] = {}
        if self.id_column:
            columns[self.id_column] = chunk.ids
        for label in self.labels:
            values = per_row.get(label)
            # A loss without per-row values (r2, per-pixel dice) keeps an empty column.
            columns[label] = (
                pa.nulls(chunk.size, pa.float64())
                if values is None
                else _full_length(values, chunk.kept, chunk.size)
            )
        table = pa.table(columns)
        if self.writer is None:
            self.writer = self._open(table.schema)
        self.writer.write_table(table)

    def _open(self, schema: pa.Schema) -> Any:
        if self.parquet:
            import pyarrow.parquet as pq

            return pq.ParquetWriter(self.temporary, schema)
        import pyarrow.csv as pa_csv

        return pa_csv.CSVWriter(self.temporary, schema)

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if self.writer is not None:
            self.writer.close()
        assert self.temporary is not None
        if kind is None:
            # mkstemp makes the file private (0600); give it the mode a plain open() would.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.temporary, 0o666 & ~umask)
            os.replace(self.temporary, self.path)
        else:
            with contextlib.suppress(OSError):
                os.unlink(self.temporary)


def _full_length(values: np.ndarray, kept: np.ndarray | None, size: int) -> pa.Array:
    """Per-row values aligned with the input rows; rows dropped by --nan drop are left empty."""
    if kept is None:
        return pa.array(values, type=pa.float64())
    full = np.full(size, np.nan)
    full[kept] = values
    return pa.array(full, mask=~kept, type=pa.float64())
