"""Readers of Arrow's binary formats: Parquet by batches of row groups, Arrow IPC by record batch.

Parquet and the Arrow file format need seeking: arriving through a pipe or compressed, they are
read from a spooled copy (``SourceStream.seekable_path``). The Arrow stream format is read in
order, by the calling thread.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from losscli.io.key_table import is_text
from losscli.io.source_reader import SourceReader

# Twice a chunk's rows: the chunks are slices of a batch (no copy), and each batch costs Arrow's
# reader about 0.3 ms however small. Per-pixel masks (float32, uint8) ran 10-15% faster.
BATCH_ROWS = 1 << 18
# A batch of wider rows gets fewer: 10 class scores about 2^17 rows (as before 2^18 batches, whose
# 2^21 numbers took ce's peak from 220 MB to 235 MB), 1000 of them about 1,500.
BATCH_NUMBERS = 3 << 19
# Each column read from a Parquet file has a buffer of its own: 1 MiB each, but no more than
# READ_BUFFERS in all (1000 class scores: 32 KiB each), and no less than 16 KiB.
COLUMN_BUFFER = 1 << 20
READ_BUFFERS = 32 << 20
# Read a block of columns at a time (a loss that folds them, over a wide file), each column
# reader holds its dictionary page and a data page (up to about 1 MiB each by Arrow's defaults)
# or its whole column chunk when smaller: a block's columns hold about BLOCK_BYTES in all.
BLOCK_BYTES = 16 << 20
PAGES_HELD = 2 << 20
BLOCK_NUMBERS = 1 << 18  # and a batch of a block about this many numbers (2 MiB as float64)
# Texts read by dictionary come in batches that end with their row group: worth it from row
# groups of this many rows (a batch costs ~0.6 ms in all; reading a text ~15 ns more than an index).
DICTIONARY_GROUP_ROWS = 1 << 16


class ParquetReader(SourceReader):
    """A Parquet file, in batches of at most BATCH_ROWS rows and about BATCH_NUMBERS numbers."""

    decoded = True

    def _read_names(self, head: bytes) -> list[str]:
        self.path = self.opened.seekable_path()
        self.parquet = self.opened.closing(open_parquet(self.path))
        schema = self.parquet.schema_arrow
        self.types = {field.name: field.type for field in schema}
        return list(schema.names)

    def _batches(
        self,
        columns: list[str],
        numeric: set[str],
        coded: frozenset[str] = frozenset(),
        rows: int | None = None,
    ) -> Iterator[pa.RecordBatch]:
        rows = max(1, min(rows or BATCH_ROWS, BATCH_NUMBERS // self._width(columns)))
        buffer = max(16 << 10, min(COLUMN_BUFFER, READ_BUFFERS // max(1, len(columns))))
        # Texts only ever coded (an image's id) are read as the file's dictionary, not as a text
        # per row: a scan id column of 20 M rows took 0.30 s to read as texts, 0.04 s so. Such
        # batches end with their row group, so only where row groups are long.
        texts = [name for name in columns if name in coded and is_text(self.types.get(name))]
        if texts and self._group_rows() < DICTIONARY_GROUP_ROWS:
            texts = []
        if buffer < COLUMN_BUFFER or texts:  # opened again: smaller buffers, dictionaries
            self.parquet = self.opened.closing(open_parquet(self.path, buffer, texts))
        yield from parquet_batches(self.parquet, rows, columns, self.source.row_groups)

    def column_blocks(
        self, columns: list[str], wide: list[str], numeric: set[str]
    ) -> Iterator[tuple[pa.RecordBatch, Iterator[tuple[int, int, pa.RecordBatch]]]]:
        """Each row group's ``columns`` whole, with its ``wide`` columns in blocks: batches
        ``(first row, first column, batch)`` of a block of columns, block after block.

        Reading every column of a row group at once holds every column's pages: 1000 float
        columns of 60,000 rows took 700 MB. A block's columns hold BLOCK_BYTES in all.
        """
        if any(key.name in columns for key in self.source.partitions):
            yield from super().column_blocks(columns, wide, numeric)
            return
        metadata = self.parquet.metadata
        first, stop = self.source.row_groups or (0, metadata.num_row_groups)
        width, buffer = self._block_width(wide), 0
        if width < len(wide):
            buffer = max(16 << 10, min(COLUMN_BUFFER, BLOCK_BYTES // (4 * width)))
            self.parquet = self.opened.closing(open_parquet(self.path, buffer))
        for group in range(first, stop):
            rows = metadata.row_group(group).num_rows
            span = (group, group + 1)
            with self._translate_errors():
                whole = list(parquet_batches(self.parquet, max(rows, 1), columns, span))
            if not whole:
                continue
            narrow = pa.Table.from_batches(whole).combine_chunks().to_batches()
            batch = narrow[0] if narrow else whole[0].slice(0, 0)
            yield batch, self._blocks(group, wide, width, rows)

    def _blocks(
        self, group: int, wide: list[str], width: int, rows: int
    ) -> Iterator[tuple[int, int, pa.RecordBatch]]:
        step = max(1, min(rows, BLOCK_NUMBERS // width))
        for offset in range(0, len(wide), width):
            names = wide[offset : offset + width]
            start = 0
            with self._translate_errors():
                for batch in parquet_batches(self.parquet, step, names, (group, group + 1)):
                    yield start, offset, batch
                    start += batch.num_rows

    def _block_width(self, wide: list[str]) -> int:
        """Columns per block: as many as BLOCK_BYTES holds, by the first row group's sizes."""
        metadata = self.parquet.metadata
        if metadata.num_row_groups == 0 or not wide:
            return max(1, len(wide))
        group = metadata.row_group(0)
        wanted = set(wide)
        sizes = [
            group.column(index).total_uncompressed_size
            for index in range(group.num_columns)
            if group.column(index).path_in_schema.split(".")[0] in wanted
        ]
        held = min(PAGES_HELD, max(sizes, default=0)) + (64 << 10)
        return max(1, min(len(wide), BLOCK_BYTES // held))

    def _group_rows(self) -> float:
        """The rows of an average row group read."""
        metadata = self.parquet.metadata
        first, stop = self.source.row_groups or (0, metadata.num_row_groups)
        rows = sum(metadata.row_group(group).num_rows for group in range(first, stop))
        return rows / max(1, stop - first)

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

    def _batches(
        self,
        columns: list[str],
        numeric: set[str],
        coded: frozenset[str] = frozenset(),
        rows: int | None = None,
    ) -> Iterator[pa.RecordBatch]:
        for index in range(self.arrow_file.num_record_batches):
            yield self.arrow_file.get_batch(index).select(columns)


class ArrowStreamReader(SourceReader):
    """The Arrow IPC stream format, read in order from the source: never spooled."""

    def _read_names(self, head: bytes) -> list[str]:
        self.arrow_stream = pa.ipc.open_stream(self.opened.stream)
        self.types = {field.name: field.type for field in self.arrow_stream.schema}
        return list(self.arrow_stream.schema.names)

    def _batches(
        self,
        columns: list[str],
        numeric: set[str],
        coded: frozenset[str] = frozenset(),
        rows: int | None = None,
    ) -> Iterator[pa.RecordBatch]:
        for batch in self.arrow_stream:
            yield batch.select(columns)


def open_parquet(path: Any, buffer: int = COLUMN_BUFFER, dictionary: Sequence[str] = ()) -> Any:
    """Arrow's reader of a Parquet file, reading column chunks as they are decoded.

    Not all of a row group up front: that keeps the peak near one batch, 110 MB instead of 250 MB
    on 10 M rows, no slower. The reader is ``pyarrow.parquet.ParquetFile``'s own, taken from
    ``pyarrow._parquet``: importing ``pyarrow.parquet`` also loads Arrow's cloud filesystems and
    ssl, about 40 ms of every Parquet run, for nothing a file on disk needs. Should a pyarrow
    release change that reader, ``ParquetFile`` serves instead (``parquet_batches`` reads either).
    The ``dictionary`` columns (texts) come as dictionary arrays.
    """
    try:
        from pyarrow._parquet import ParquetReader as ArrowParquetReader

        reader = ArrowParquetReader()
        reader.open(path, pre_buffer=False, buffer_size=buffer, read_dictionary=dictionary or None)
        if hasattr(reader, "column_paths"):
            return reader
        reader.close()
    except (ImportError, AttributeError, TypeError):
        pass
    import pyarrow.parquet as pq

    return pq.ParquetFile(
        path, pre_buffer=False, buffer_size=buffer, read_dictionary=dictionary or None
    )


def parquet_batches(
    reader: Any, rows: int, columns: list[str], row_groups: tuple[int, int] | None = None
) -> Iterator[pa.RecordBatch]:
    """Batches of ``rows`` rows of the top-level ``columns``, from either kind of reader; only
    the row groups ``[first, stop)`` when given."""
    groups = range(reader.num_row_groups) if row_groups is None else range(*row_groups)
    leaves = parquet_leaves(reader)
    # Decoded on this thread, not Arrow's pool: the reading thread already runs beside the losses,
    # and Arrow's threads only shared the same two cores (0.91-0.98x the wall time, 0.89-0.95x
    # the CPU and peaks 7-18 MB lower over the Parquet benchmark cases).
    if leaves is None:
        yield from reader.iter_batches(
            batch_size=rows, row_groups=groups, columns=columns, use_threads=False
        )
        return
    indices = [index for name in columns for index in leaves.get(name, [])]
    yield from reader.iter_batches(rows, groups, indices, False)


def parquet_leaves(reader: Any) -> dict[str, list[int]] | None:
    """The leaf columns under each top-level name (None from a ``ParquetFile``), found once per
    reader: Arrow makes its ``column_paths`` anew each time (3 ms for 10,000 columns).

    A list column is stored as a leaf under its name (logits.list.element): leaves are selected
    by their top-level name, in the order asked for, as ParquetFile does.
    """
    if reader in _LEAVES:
        return _LEAVES[reader]
    if not hasattr(reader, "column_paths"):
        return None
    leaves: dict[str, list[int]] = {}
    for index, path in enumerate(reader.column_paths):
        leaves.setdefault(path[0], []).append(index)
    _LEAVES[reader] = leaves
    return leaves


_LEAVES: weakref.WeakKeyDictionary[Any, dict[str, list[int]]] = weakref.WeakKeyDictionary()


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
