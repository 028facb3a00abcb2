"""Readers of Arrow's binary formats: Parquet by batches of row groups, Arrow IPC by record batch.

Parquet and the Arrow file format need seeking: arriving through a pipe or compressed, they are
read from a spooled copy (``SourceStream.seekable_path``). The Arrow stream format is read in
order, by the calling thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from losscli.io.source_reader import SourceReader

BATCH_ROWS = 1 << 17
BATCH_NUMBERS = 1 << 21  # a Parquet batch of wide rows (1000 class scores) gets fewer rows
# Each column read from a Parquet file has a buffer of its own: 1 MiB each, but no more than
# READ_BUFFERS in all (1000 class scores: 32 KiB each), and no less than 16 KiB.
COLUMN_BUFFER = 1 << 20
READ_BUFFERS = 32 << 20


class ParquetReader(SourceReader):
    """A Parquet file, in batches of at most BATCH_ROWS rows and about BATCH_NUMBERS numbers."""

    def _read_names(self, head: bytes) -> list[str]:
        self.path = self.opened.seekable_path()
        self.parquet = self.opened.closing(open_parquet(self.path))
        schema = self.parquet.schema_arrow
        self.types = {field.name: field.type for field in schema}
        return list(schema.names)

    def _batches(self, columns: list[str], numeric: set[str]) -> Iterator[pa.RecordBatch]:
        rows = max(1, min(BATCH_ROWS, BATCH_NUMBERS // self._width(columns)))
        buffer = max(16 << 10, min(COLUMN_BUFFER, READ_BUFFERS // max(1, len(columns))))
        if buffer < COLUMN_BUFFER:  # many columns: opened again with smaller buffers
            self.parquet = self.opened.closing(open_parquet(self.path, buffer))
        yield from parquet_batches(self.parquet, rows, columns, self.source.row_groups)

    def _width(self, columns: list[str]) -> int:
        """Numbers per row in ``columns``, a list column counting its values (from the metadata)."""
        metadata = self.parquet.metadata
        if metadata.num_row_groups == 0 or metadata.row_group(0).num_rows == 0:
            return max(1, len(columns))
        group = metadata.row_group(0)
        wanted = set(columns)
        values = sum(
            group.column(index).num_values
            for index in range(group.num_columns)
            if group.column(index).path_in_schema.split(".")[0] in wanted
        )
        return max(1, len(columns), values // group.num_rows)


class ArrowFileReader(SourceReader):
    """The Arrow IPC file format (``ARROW1`` magic), mapped from disk, by record batch."""

    def _read_names(self, head: bytes) -> list[str]:
        where = self.opened.seekable_path()
        mapped = self.opened.closing(pa.memory_map(where)) if isinstance(where, str) else where
        self.arrow_file = pa.ipc.open_file(mapped)
        self.types = {field.name: field.type for field in self.arrow_file.schema}
        return list(self.arrow_file.schema.names)

    def _batches(self, columns: list[str], numeric: set[str]) -> Iterator[pa.RecordBatch]:
        for index in range(self.arrow_file.num_record_batches):
            yield self.arrow_file.get_batch(index).select(columns)


class ArrowStreamReader(SourceReader):
    """The Arrow IPC stream format, read in order from the source: never spooled."""

    def _read_names(self, head: bytes) -> list[str]:
        self.arrow_stream = pa.ipc.open_stream(self.opened.stream)
        self.types = {field.name: field.type for field in self.arrow_stream.schema}
        return list(self.arrow_stream.schema.names)

    def _batches(self, columns: list[str], numeric: set[str]) -> Iterator[pa.RecordBatch]:
        for batch in self.arrow_stream:
            yield batch.select(columns)


def open_parquet(path: Any, buffer: int = COLUMN_BUFFER) -> Any:
    """Arrow's reader of a Parquet file, reading column chunks as they are decoded.

    Not all of a row group up front: that keeps the peak near one batch, 110 MB instead of 250 MB
    on 10 M rows, no slower. The reader is ``pyarrow.parquet.ParquetFile``'s own, taken from
    ``pyarrow._parquet``: importing ``pyarrow.parquet`` also loads Arrow's cloud filesystems and
    ssl, about 40 ms of every Parquet run, for nothing a file on disk needs. Should a pyarrow
    release change that reader, ``ParquetFile`` serves instead (``parquet_batches`` reads either).
    """
    try:
        from pyarrow._parquet import ParquetReader as ArrowParquetReader

        reader = ArrowParquetReader()
        reader.open(path, pre_buffer=False, buffer_size=buffer)
        if hasattr(reader, "column_paths"):
            return reader
        reader.close()
    except (ImportError, AttributeError, TypeError):
        pass
    import pyarrow.parquet as pq

    return pq.ParquetFile(path, pre_buffer=False, buffer_size=buffer)


def parquet_batches(
    reader: Any, rows: int, columns: list[str], row_groups: tuple[int, int] | None = None
) -> Iterator[pa.RecordBatch]:
    """Batches of ``rows`` rows of the top-level ``columns``, from either kind of reader; only
    the row groups ``[first, stop)`` when given."""
    groups = range(reader.num_row_groups) if row_groups is None else range(*row_groups)
    if not hasattr(reader, "column_paths"):
        yield from reader.iter_batches(batch_size=rows, row_groups=groups, columns=columns)
        return
    # A list column is stored as a leaf under its name (logits.list.element): select leaves by
    # their top-level name, in the order asked for, as ParquetFile does.
    leaves: dict[str, list[int]] = {}
    for index, path in enumerate(reader.column_paths):
        leaves.setdefault(path[0], []).append(index)
    indices = [index for name in columns for index in leaves.get(name, [])]
    yield from reader.iter_batches(rows, groups, indices, True)


def parquet_metadata(source: Any) -> Any:
    """A Parquet file's footer: its row groups and their row counts, without reading data."""
    import pyarrow.parquet as pq

    from losscli.io.remote import is_url, open_url

    try:
        if is_url(source.name):
            with open_url(source.name) as remote:
                return pq.read_metadata(remote)
        return pq.read_metadata(source.name)
    except (OSError, pa.ArrowException) as error:
        from losscli.errors import InputError

        raise InputError(
            f"Cannot read the Parquet footer of {source.display}: {error}.",
            "Check that the file is a whole Parquet file.",
        ) from None
