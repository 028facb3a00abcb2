"""The --per-row file: each row's loss values, written atomically (temporary file, then rename)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any

import numpy as np
import pyarrow as pa

from losscli.errors import UsageError, option
from losscli.io.outputs import per_row_path, writable_directory, write_error


class PerRowWriter:
    """Streams per-row values to CSV or Parquet; only a completed run replaces ``path``."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        labels: list[str],
        id_column: str | None,
        keep_empty: bool = True,
    ):
        self.path = per_row_path(path)
        self.keep_empty = keep_empty  # False: a run without rows leaves no file
        self.parquet = self.path.suffix.lower() != ".csv"
        self.labels = labels
        self.id_column = id_column
        self.writer: Any = None
        self.temporary: str | None = None

    def __enter__(self) -> PerRowWriter:
        directory = writable_directory(self.path)
        try:
            handle, self.temporary = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=directory
            )
        except OSError as error:
            raise self._error(error) from None
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
        try:
            if self.writer is None:
                self.writer = self._open(table.schema)
            self.writer.write_table(table)
        except OSError as error:
            raise self._error(error) from None

    def _open(self, schema: pa.Schema) -> Any:
        if self.parquet:
            import pyarrow.parquet as pq

            return pq.ParquetWriter(self.temporary, schema)
        import pyarrow.csv as pa_csv

        return pa_csv.CSVWriter(self.temporary, schema)

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            if kind is None and (self.writer is not None or self.keep_empty):
                self._replace()
            elif self.writer is not None:
                # The run failed already (a full disk, say): closing may fail again, and must
                # not hide that first error or keep the temporary file.
                with contextlib.suppress(Exception):
                    self.writer.close()
        finally:
            if self.temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(self.temporary)

    def _replace(self) -> None:
        """The temporary file closed, on disk and in place of ``path``; else a one-line error."""
        assert self.temporary is not None
        try:
            if self.writer is not None:
                self.writer.close()
            # On disk before the rename: a crash just after it must not leave an empty file.
            with open(self.temporary, "rb") as written:
                os.fsync(written.fileno())
            # mkstemp makes the file private (0600); give it the mode a plain open() would.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.temporary, 0o666 & ~umask)
            os.replace(self.temporary, self.path)
        except OSError as error:
            raise self._error(error) from None
        self.temporary = None

    def _error(self, error: OSError) -> UsageError:
        return write_error(f"{option('per_row')} {self.path}", error)


def _full_length(values: np.ndarray, kept: np.ndarray | None, size: int) -> pa.Array:
    """Per-row values aligned with the input rows; rows dropped by --nan drop are left empty."""
    if kept is None:
        return pa.array(values, type=pa.float64())
    full = np.full(size, np.nan)
    full[kept] = values
    return pa.array(full, mask=~kept, type=pa.float64())
