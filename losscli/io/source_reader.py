"""What every format's reader shares: the partition keys of the source's path as columns, Arrow's
errors as one-line input errors, and the release of what was opened.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from losscli.errors import InputError, excerpt, option
from losscli.io.opening import SourceStream
from losscli.io.sources import Partition

FORMAT_NAMES = {
    "csv": "CSV",
    "tsv": "TSV",
    "parquet": "Parquet",
    "arrow": "Arrow IPC",
    "jsonl": "JSON Lines",
}
READ_ERRORS = (pa.ArrowException, OSError, ValueError, csv.Error)
PARTITION_TYPES = {"int64": pa.int64(), "float64": pa.float64(), "string": pa.string()}
# A batch gets partition columns this many rows at a time: a text column of one value repeated
# stays far below the 2 GiB that 32-bit offsets can address.
PARTITION_ROWS = 1 << 20


class SourceReader:
    """An opened source: ``names`` and ``types`` now, ``batches(columns, numeric)`` later.

    A subclass per format reads the file's own column names (``_read_names``) and batches
    (``_batches``), and may explain its parser's errors better (``_explain``).
    """

    # Whether the file's columns are decoded (Parquet), on the reading thread alone: text is
    # parsed on threads of its own, and Arrow's IPC formats are read as they are stored.
    decoded = False

    def __init__(self, opened: SourceStream) -> None:
        self.opened = opened
        self.source = opened.source
        self.format = opened.format
        self.compression = opened.compression
        self.types: dict[str, pa.DataType] = {}
        self.constants: dict[tuple[str, int], pa.Array] = {}
        self.file_names: list[str] = []
        with self._translate_errors():
            self.file_names = self._read_names(opened.head)
        self.names = self.file_names + self._partition_names()  # then its partition keys

    def _read_names(self, head: bytes) -> list[str]:
        """The file's column names, from its first bytes (``head``) or its metadata."""
        raise NotImplementedError

    def _batches(
        self,
        columns: list[str],
        numeric: set[str],
        coded: frozenset[str] = frozenset(),
        rows: int | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Record batches of the file's ``columns``; see ``batches``."""
        raise NotImplementedError

    def column_blocks(
        self, columns: list[str], wide: list[str], numeric: set[str]
    ) -> Iterator[tuple[pa.RecordBatch, Iterator[tuple[int, int, pa.RecordBatch]]]]:
        """Batches of ``columns``, each with its rows of the ``wide`` columns as blocks of
        columns ``(first row, first column, batch)``: here all of them in one block (a text
        file is parsed by rows); Parquet reads a row group's wide columns a block at a time."""
        for batch in self.batches(columns + wide, numeric):
            yield batch.select(columns), iter([(0, 0, batch.select(wide))])

    def _partition_names(self) -> list[str]:
        keys = [key.name for key in self.source.partitions]
        both = next((name for name in keys if name in self.file_names), None)
        if both is not None:
            raise InputError(
                f"'{excerpt(both)}' is both a column of {self.source.display} and a partition key "
                f"of its path ({excerpt(both)}=...): two readings of one column.",
                "Rename the column in the file or the key=value directory.",
            )
        self.types.update({key.name: PARTITION_TYPES[key.kind] for key in self.source.partitions})
        return keys

    def batches(
        self,
        columns: list[str],
        numeric: set[str],
        coded: frozenset[str] = frozenset(),
        rows: int | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Record batches of ``columns``; CSV/JSON columns in ``numeric`` are parsed as float64.

        ``coded`` columns are only ever turned into codes (keys: an image's id); a format that
        stores them by dictionary (Parquet) gives them as dictionary arrays, each text once. A
        partition key among ``columns`` is a column of its value on every row of the file.
        ``rows``: at most so many rows a batch, where the format decodes batches (Parquet).
        """
        keys = {key.name: key for key in self.source.partitions if key.name in columns}
        with self._translate_errors():
            if not keys:
                yield from self._batches(columns, numeric, coded, rows)
                return
            inner = [name for name in columns if name not in keys] or self.file_names[:1]
            for batch in self._batches(inner, numeric, coded, rows):
                for start in range(0, max(batch.num_rows, 1), PARTITION_ROWS):
                    yield self._with_keys(batch.slice(start, PARTITION_ROWS), columns, keys)

    def _with_keys(
        self, batch: pa.RecordBatch, columns: list[str], keys: dict[str, Partition]
    ) -> pa.RecordBatch:
        arrays = [
            self._constant(keys[name], batch.num_rows) if name in keys else batch.column(name)
            for name in columns
        ]
        return pa.RecordBatch.from_arrays(arrays, names=columns)

    def _constant(self, key: Partition, rows: int) -> pa.Array:
        """``key``'s value ``rows`` times, made once per batch length."""
        if (key.name, rows) not in self.constants:
            if len(self.constants) > 16:
                self.constants.clear()
            self.constants[key.name, rows] = constant_column(key, rows)
        return self.constants[key.name, rows]

    @contextlib.contextmanager
    def _translate_errors(self) -> Iterator[None]:
        """Arrow's exceptions become one-line input errors that name the file and what to do."""
        try:
            yield
        except READ_ERRORS as error:
            raise self._explain(str(error)) from None

    def _explain(self, message: str) -> InputError:
        return cannot_read(self.opened, first_line(message))

    def close(self) -> None:
        self.opened.close()


def first_line(message: str) -> str:
    """The first line of a parser's message: the rest is detail for its developers."""
    return message.strip().splitlines()[0] if message.strip() else "unknown error"


def cannot_read(opened: SourceStream, problem: str, row: str = "") -> InputError:
    """The source cannot be read as its format (as settled so far): ``problem`` says why."""
    kind = FORMAT_NAMES.get(str(opened.format), "data")
    if opened.compression:
        kind = f"{opened.compression}-compressed {kind}"
    hint = (
        "Check that the file is complete and in the format its name says (or pass "
        f"{option('input_format')})."
    )
    if "Number too big" in problem:
        hint = "A number must be within a double's range (about ±1.8e308): fix that value."
    return InputError(
        f"Cannot read {opened.source.display} as {kind}: {problem.rstrip('.')}{row}.", hint
    )


def constant_column(key: Partition, rows: int) -> pa.Array:
    """An Arrow array of ``rows`` copies of a partition value, of the key's type."""
    kind = PARTITION_TYPES[key.kind]
    if key.value is None:
        return pa.nulls(rows, kind)
    if key.kind == "string":
        text = str(key.value).encode()
        offsets = np.arange(rows + 1, dtype=np.int32) * np.int32(len(text))
        buffers = [None, pa.py_buffer(offsets), pa.py_buffer(text * rows)]
        return pa.Array.from_buffers(kind, rows, buffers)
    # From the buffer: pa.array on a NumPy array imports pandas, a third of a second.
    values = np.full(rows, key.value, dtype=np.int64 if key.kind == "int64" else np.float64)
    return pa.Array.from_buffers(kind, rows, [None, pa.py_buffer(values)])
