"""Readers: one source -> its column names, then Arrow record batches of the columns asked for.

Memory stays bounded whatever the file size: CSV, TSV and JSON Lines are parsed in blocks,
Parquet by row group batches, Arrow IPC by record batch. Inputs that need seeking (Parquet, the
Arrow file format) arriving through a pipe or compressed are spooled to a temporary file, never
held in memory.

Arrow's threads only ever read native files and in-memory blocks, never a Python stream such as
standard input: an Arrow thread still reading one when the interpreter exits (after an error, say)
aborts the whole process. So text is cut into blocks here, on the calling thread, mapped from
the file (``MappedText``) or read straight into Arrow's memory, and each block is handed to Arrow
whole; several blocks are parsed at once, one per thread (``ordered_map``).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from losscli.errors import InputError, excerpt, option
from losscli.io import locate
from losscli.io.ahead import ordered_map, parse_workers
from losscli.io.columns import ROLE_OPTIONS
from losscli.io.mapped import MappedText, after_last_line_end
from losscli.io.sources import (
    ZIP_MAGIC,
    Partition,
    Source,
    arrow_buffer,
    refuse_archive,
    settle_compression,
    settle_format,
    stdin_binary,
)

BLOCK_BYTES = 4 << 20
BATCH_ROWS = 1 << 17
BATCH_NUMBERS = 1 << 21  # a Parquet batch of wide rows (1000 class scores) gets fewer rows
HEAD_BYTES = 1 << 16
MAX_HEADER_BYTES = 64 << 20
TEXT_FORMATS = ("csv", "tsv", "jsonl")
FORMAT_NAMES = {
    "csv": "CSV",
    "tsv": "TSV",
    "parquet": "Parquet",
    "arrow": "Arrow IPC",
    "jsonl": "JSON Lines",
}
# The Arrow type of a JSON field that is not read as a number, from its value in the first row.
JSON_TYPES = ((bool, pa.bool_()), (int, pa.int64()), (float, pa.float64()))
READ_ERRORS = (pa.ArrowException, OSError, ValueError, csv.Error)
# Text that is a missing number in CSV/TSV. Every spelling of NaN is one too: the float parser
# reads it as NaN. Arrow's own list adds those and MSVC's '1.#IND' forms, whose leading digit or
# sign sends every number down its match: this list parses 8-12% faster.
MISSING_TEXT = ["", "NA", "N/A", "n/a", "#N/A", "#N/A N/A", "#NA", "NULL", "null"]
PARTITION_TYPES = {"int64": pa.int64(), "float64": pa.float64(), "string": pa.string()}
# A batch gets partition columns this many rows at a time: a text column of one value repeated
# stays far below the 2 GiB that 32-bit offsets can address.
PARTITION_ROWS = 1 << 20


class PrefixedStream(io.RawIOBase):
    """A stream whose first bytes were already read (to sniff the format) and are given back."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.head:
            size = min(len(buffer), len(self.head))
            buffer[:size] = self.head[:size]
            self.head = self.head[size:]
            return size
        data = self.rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _prefixed(head: bytes, rest: Any) -> pa.PythonFile:
    """``rest`` with ``head`` put back in front, buffered so reads are never short."""
    buffered = io.BufferedReader(PrefixedStream(head, rest), buffer_size=1 << 20)
    return pa.PythonFile(buffered, mode="r")


def _through_first_line(head: bytes, rest: Any) -> bytes:
    """``head`` extended to the end of its first line: a wide header can be longer than it."""
    while b"\n" not in head and b"\r" not in head and len(head) < MAX_HEADER_BYTES:
        more = rest.read(HEAD_BYTES)
        if not more:
            break
        head += more
    return head


def _line_blocks(stream: Any) -> Iterator[pa.Buffer]:
    """``stream`` in blocks of about BLOCK_BYTES, each ending at a line end.

    Read straight into memory Arrow owns: the one copy of the bytes the parsers need (see
    ``arrow_buffer``). Only the part line after a block's last line end is copied again.
    """
    carry = b""
    while True:
        buffer = pa.allocate_buffer(len(carry) + BLOCK_BYTES)
        view = memoryview(buffer).cast("B")
        view[: len(carry)] = carry
        filled = len(carry) + _fill(stream, view[len(carry) :])
        if filled == len(carry):
            break
        cut = after_last_line_end(view, len(carry), filled)
        if cut:
            yield buffer.slice(0, cut)
        carry = bytes(view[cut:filled])
    if carry:
        yield arrow_buffer(carry)


def _fill(stream: Any, view: memoryview) -> int:
    """Bytes read into ``view``: all of it, unless the stream ends first."""
    filled = 0
    while filled < len(view):
        got = stream.readinto(view[filled:])
        if not got:
            break
        filled += got
    return filled


@dataclass(frozen=True)
class Block:
    """The text block being parsed when Arrow failed, for finding the row of the failure."""

    data: pa.Buffer
    first: bool  # the first block: a CSV header comes before its rows
    rows_before: int = 0  # known once the blocks before it are parsed


class TableReader:
    """An opened source: ``names`` and ``types`` now, ``batches(columns)`` later."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.format = source.format
        self.compression = source.compression
        self.names: list[str] = []  # the file's columns, then its partition keys
        self.file_names: list[str] = []
        self.types: dict[str, pa.DataType] = {}
        self.constants: dict[tuple[str, int], pa.Array] = {}
        self.first_record: dict[str, Any] = {}
        self.spooled: str | None = None
        self.delimiter = ","  # and the decimal mark: settled from a CSV's first bytes
        self.decimal = "."
        self._closers: list[Any] = []
        try:
            with self._translate_errors():
                self.stream, head = self._open_stream()
                self.file_names = self._read_names(head)
            self.names = self.file_names + self._partition_names()
        except BaseException:
            self.close()  # a spooled copy must not outlive a failed open
            raise

    # -- opening ------------------------------------------------------------------------------
    def _open_stream(self) -> tuple[Any, bytes]:
        """The stream to read from its first byte, and its first bytes (decompressed)."""
        if self.source.is_stream:
            raw = stdin_binary() if self.source.is_stdin else self._closing(self._open_pipe())
            head = raw.read(HEAD_BYTES)
            refuse_archive(self.source.name, head, self.source.display)
            if head.startswith(ZIP_MAGIC):
                raise InputError(
                    f"{self.source.display} is a zip archive, which cannot be read from a pipe.",
                    "Unzip it into the pipe instead: unzip -p FILE | losscli ...",
                )
            self.compression = settle_compression(self.compression, head, self.source.display)
            stream = _prefixed(head, raw)
            if self.compression:
                stream = self._closing(_decompressed(stream, self.compression))
            head = self._read_head(stream)
            return _prefixed(head, stream), head
        # A named file is opened twice rather than given its head back through Python.
        with contextlib.closing(self._open_file()) as probe:
            head = self._read_head(probe)
        return self._closing(self._open_file()), head

    def _read_head(self, stream: Any) -> bytes:
        head = stream.read(HEAD_BYTES)
        if not head:
            raise InputError(
                f"{self.source.display} is empty.", "Give a file with a header row and data rows."
            )
        self.format = settle_format(self.format, head, self.source.display)
        return _through_first_line(head, stream) if self.format in TEXT_FORMATS else head

    def _open_pipe(self) -> Any:
        # Python's buffered reader never returns short reads from a pipe; Arrow cannot open one.
        return open(self.source.name, "rb")  # noqa: SIM115 - closed by close()

    def _open_file(self) -> pa.NativeFile:
        try:
            if self.compression == "zip":
                return self._open_member()
            raw = pa.OSFile(self.source.name)
        except OSError as error:
            raise InputError(
                f"Cannot open {self.source.display}: {error}.", "Check the path and permissions."
            ) from None
        return _decompressed(raw, self.compression) if self.compression else raw

    def _open_member(self) -> pa.NativeFile:
        """The one data file of a zip archive, decompressed as it is read."""
        import zipfile
        import zlib

        with zipfile.ZipFile(self.source.name) as archive:
            # The member keeps the archive's file open after the archive is closed.
            member = archive.open(str(self.source.member))
        return _checked(member, (zipfile.BadZipFile, zlib.error, EOFError))

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

    def _closing(self, stream: Any) -> Any:
        self._closers.append(stream)
        return stream

    @property
    def _needs_spool(self) -> bool:
        return self.source.is_stream or bool(self.compression)

    def _seekable_path(self) -> str:
        """A path for formats that need seeking; pipes and compressed inputs are spooled to disk."""
        if not self._needs_spool:
            return self.source.name
        handle, path = tempfile.mkstemp(prefix="losscli-", suffix="." + str(self.format))
        self.spooled = path
        with os.fdopen(handle, "wb") as spool:
            shutil.copyfileobj(self.stream, spool, length=1 << 20)
        return path

    def _read_names(self, head: bytes) -> list[str]:
        if self.format in ("csv", "tsv"):
            return self._csv_dialect(head)
        if self.format == "jsonl":
            self.first_record = _first_json_object(head, self.source.display)
            return list(self.first_record)
        if self.format == "parquet":
            self.parquet = self._closing(open_parquet(self._seekable_path()))
            schema = self.parquet.schema_arrow
        else:
            schema = self._open_arrow(head)
        self.types = {field.name: field.type for field in schema}
        return list(schema.names)

    def _csv_dialect(self, head: bytes) -> list[str]:
        """The header's names, the delimiter and decimal mark settled from the first bytes."""
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
        self.delimiter = sniff_delimiter(text) if self.format == "csv" else "\t"
        if self.delimiter == ";":
            self.decimal = decimal_mark(text, self.source.display)
        return _csv_header(text, self.delimiter, self.source.display)

    def _open_arrow(self, head: bytes) -> pa.Schema:
        if head.startswith(b"ARROW1"):
            mapped = self._closing(pa.memory_map(self._seekable_path()))
            self.arrow_file = pa.ipc.open_file(mapped)
            return self.arrow_file.schema
        # The stream format is read in order, by this thread: no need to spool it.
        self.arrow_stream = pa.ipc.open_stream(self.stream)
        return self.arrow_stream.schema

    # -- reading ------------------------------------------------------------------------------
    def batches(self, columns: list[str], numeric: set[str]) -> Iterator[pa.RecordBatch]:
        """Record batches of ``columns``; CSV/JSON columns in ``numeric`` are parsed as float64.

        A partition key among ``columns`` is a column of its value on every row of the file.
        """
        keys = {key.name: key for key in self.source.partitions if key.name in columns}
        with self._translate_errors():
            if not keys:
                yield from self._batches(columns, numeric)
                return
            inner = [name for name in columns if name not in keys] or self.file_names[:1]
            for batch in self._batches(inner, numeric):
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

    def _batches(self, columns: list[str], numeric: set[str]) -> Iterator[pa.RecordBatch]:
        if self.format in TEXT_FORMATS:
            yield from self._text_batches(columns, numeric)
        elif self.format == "parquet":
            rows = max(1, min(BATCH_ROWS, BATCH_NUMBERS // self._parquet_width(columns)))
            yield from parquet_batches(self.parquet, rows, columns)
        elif hasattr(self, "arrow_file"):
            for index in range(self.arrow_file.num_record_batches):
                yield self.arrow_file.get_batch(index).select(columns)
        else:
            for batch in self.arrow_stream:
                yield batch.select(columns)

    def _text_batches(self, columns: list[str], numeric: set[str]) -> Iterator[pa.RecordBatch]:
        # Blocks are cut here, on this thread, and parsed on several at once (one each).
        parse = self._json_block if self.format == "jsonl" else self._csv_block
        mapped = None if self._needs_spool else MappedText.open(self.source.name)
        if mapped is not None:
            self._closing(mapped)
        texts = _line_blocks(self.stream) if mapped is None else mapped.blocks(BLOCK_BYTES)
        blocks = (Block(data, index == 0) for index, data in enumerate(texts))
        rows = 0
        parsed = ordered_map(lambda block: parse(block, columns, numeric), blocks, parse_workers())
        # Closed here, not when the garbage collector gets to it: an error's traceback keeps this
        # frame alive, and with it the parser threads.
        with contextlib.closing(parsed):
            for block, table, error in parsed:
                if error is not None:
                    if isinstance(error, READ_ERRORS):
                        raise self._explain(str(error), replace(block, rows_before=rows)) from None
                    raise error
                assert table is not None
                if mapped is not None:
                    mapped.release_through(block.data)
                rows += table.num_rows
                yield from table.to_batches()

    def _csv_options(self, block: Block) -> dict[str, Any]:
        # Our own header names (spaces stripped, byte-order mark gone) replace the file's, so the
        # columns asked for are found whatever the spacing around the commas.
        skip = 1 if block.first else 0
        return {
            "read_options": pa_csv.ReadOptions(
                column_names=self.file_names,
                skip_rows=skip,
                use_threads=False,  # blocks are parsed in parallel instead
                block_size=_whole(block),
            ),
            "parse_options": pa_csv.ParseOptions(delimiter=self.delimiter),
        }

    def _csv_block(self, block: Block, columns: list[str], numeric: set[str]) -> pa.Table:
        # Other columns (an --id) are kept as written: '007' stays '007', and every block gets
        # the same type whatever its values look like.
        types = {name: pa.float64() if name in numeric else pa.string() for name in columns}
        if block.first and not _has_line_end(block.data):
            # A header alone, without a line end: no rows (Arrow cannot skip a line never ended).
            return pa.schema(list(types.items())).empty_table()
        convert = pa_csv.ConvertOptions(
            include_columns=columns,
            column_types=types,
            null_values=MISSING_TEXT,
            decimal_point=self.decimal,
        )
        return pa_csv.read_csv(
            pa.BufferReader(block.data), **self._csv_options(block), convert_options=convert
        )

    def _json_block(self, block: Block, columns: list[str], numeric: set[str]) -> pa.Table:
        import pyarrow.json as pa_json

        example = self.first_record
        fields = [(name, _json_type(example.get(name), name in numeric)) for name in columns]
        options = pa_json.ParseOptions(
            explicit_schema=pa.schema(fields), unexpected_field_behavior="ignore"
        )
        reading = pa_json.ReadOptions(use_threads=False, block_size=_whole(block))
        return pa_json.read_json(
            pa.BufferReader(block.data), read_options=reading, parse_options=options
        )

    def _parquet_width(self, columns: list[str]) -> int:
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

    # -- errors -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _translate_errors(self) -> Iterator[None]:
        """Arrow's exceptions become one-line input errors that name the file and what to do."""
        try:
            yield
        except READ_ERRORS as error:
            raise self._explain(str(error)) from None

    def _explain(self, message: str, block: Block | None = None) -> InputError:
        for explain in (self._bad_number, self._bad_field_count, self._bad_json_type):
            error = explain(message, block)
            if error is not None:
                return error
        return self._unreadable(message, block)

    def _bad_number(self, message: str, block: Block | None) -> InputError | None:
        found = re.search(
            r"column #(\d+): (?:Row #\d+: )?CSV conversion error to \w+: invalid value '(.*)'",
            message,
        )
        if not found or block is None:
            return None
        column, value = self.file_names[int(found.group(1))], found.group(2)
        options = self._csv_options(block)
        row = self._row(block, locate.row_with_value, options, column, value)
        return InputError(
            f"Column '{excerpt(column)}' of {self.source.display} holds a non-numeric value "
            f"'{excerpt(value)}'{row}.",
            number_hint(value, self.delimiter, self.decimal),
        )

    def _bad_field_count(self, message: str, block: Block | None) -> InputError | None:
        found = re.search(r"Expected (\d+) columns, got (\d+)", message)
        if not found or block is None:
            return None
        expected, got = found.groups()
        row = self._row(
            block, locate.row_with_wrong_width, self.delimiter, block.first, int(expected)
        )
        return InputError(
            f"A row of {self.source.display} has {got} field{'' if got == '1' else 's'} but the "
            f"header has {expected}{row}.",
            self._width_hint(block, int(expected)),
        )

    def _width_hint(self, block: Block, expected: int) -> str:
        """What to do about a row of the wrong width, from what that row is."""
        fields = None
        with contextlib.suppress(*READ_ERRORS):
            fields = locate.fields_of_wrong_width(
                block.data.to_pybytes(), self.delimiter, block.first, expected
            )
        text = self.delimiter.join(fields or [])
        if text.lstrip().startswith("#"):
            return (
                "That row is a comment: losscli reads none; remove the lines that start with '#'."
            )
        if fields and not text.strip():
            return "That row holds only spaces: remove it (empty lines are skipped)."
        return "Fix that row; quote values that contain the delimiter."

    def _bad_json_type(self, message: str, block: Block | None) -> InputError | None:
        found = re.search(r"Column\(/(.*?)\) changed from (\w+) to (\w+)", message)
        if not found or block is None:
            return None
        path, expected, got = found.group(1).split("/"), found.group(2), found.group(3)
        row = self._row(block, locate.row_with_json_problem, path, expected)
        field = excerpt(path[0])
        if {expected, got} == {"boolean", "number"}:
            # A field is read as true/false or as numbers, from its first row: never both.
            return InputError(
                f"Field '{field}' of {self.source.display} mixes true/false and numbers: "
                f"{_a(got)}{row}, {_a(expected)} in its first row.",
                "Write the field one way throughout: as numbers (true as 1) or as true/false.",
            )
        return InputError(
            f"Field '{field}' of {self.source.display} holds {_a(got)} where {_a(expected)} "
            f"is needed{row}.",
            f"Fix that value, or select other fields with {ROLE_OPTIONS}.",
        )

    def _unreadable(self, message: str, block: Block | None) -> InputError:
        first_line = message.strip().splitlines()[0] if message.strip() else "unknown error"
        row = ""
        if block is not None and self.format == "jsonl":
            # Arrow counts JSON rows from the start of its own block, not of the file.
            first_line = re.sub(r"\.? in row \d+$", "", first_line)
            row = self._row(block, locate.row_with_json_problem, [], None)
        kind = FORMAT_NAMES.get(str(self.format), "data")
        if self.compression:
            kind = f"{self.compression}-compressed {kind}"
        hint = (
            "Check that the file is complete and in the format its name says "
            f"(or pass {option('input_format')})."
        )
        if "Number too big" in first_line:
            hint = "A number must be within a double's range (about ±1.8e308): fix that value."
        return InputError(
            f"Cannot read {self.source.display} as {kind}: {first_line.rstrip('.')}{row}.", hint
        )

    def _row(self, block: Block, finder: Callable[..., int], *args: Any) -> str:
        """' at row N' (of the whole input) from rescanning ``block``; '' if that cannot tell."""
        with contextlib.suppress(*READ_ERRORS):
            row = finder(block.data.to_pybytes(), *args)
            if row:
                return f" at row {block.rows_before + row}"
        return ""

    def close(self) -> None:
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):
                closer.close()
        if self.spooled:
            with contextlib.suppress(OSError):
                os.unlink(self.spooled)


def open_parquet(path: str) -> Any:
    """Arrow's reader of a Parquet file, reading column chunks as they are decoded.

    Not all of a row group up front: that keeps the peak near one batch, 110 MB instead of 250 MB
    on 10 M rows, no slower. The reader is ``pyarrow.parquet.ParquetFile``'s own, taken from
    ``pyarrow._parquet``: importing ``pyarrow.parquet`` also loads Arrow's cloud filesystems and
    ssl, about 40 ms of every Parquet run, for nothing a file on disk needs. Should a pyarrow
    release change that reader, ``ParquetFile`` serves instead (``parquet_batches`` reads either).
    """
    try:
        from pyarrow._parquet import ParquetReader

        reader = ParquetReader()
        reader.open(path, pre_buffer=False, buffer_size=1 << 20)
        if hasattr(reader, "column_paths"):
            return reader
        reader.close()
    except (ImportError, AttributeError, TypeError):
        pass
    import pyarrow.parquet as pq

    return pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)


def parquet_batches(reader: Any, rows: int, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """Batches of ``rows`` rows of the top-level ``columns``, from either kind of reader."""
    if not hasattr(reader, "column_paths"):
        yield from reader.iter_batches(batch_size=rows, columns=columns)
        return
    # A list column is stored as a leaf under its name (logits.list.element): select leaves by
    # their top-level name, in the order asked for, as ParquetFile does.
    leaves: dict[str, list[int]] = {}
    for index, path in enumerate(reader.column_paths):
        leaves.setdefault(path[0], []).append(index)
    indices = [index for name in columns for index in leaves.get(name, [])]
    yield from reader.iter_batches(rows, range(reader.num_row_groups), indices, True)


def _decompressed(stream: Any, codec: str) -> pa.NativeFile:
    """``stream`` decompressed as it is read: by Arrow, or by Python's lzma for xz."""
    if codec == "xz":
        import lzma

        # LZMAFile leaves the stream it was given open: closing the result closes both.
        return _checked(lzma.LZMAFile(stream), (lzma.LZMAError, EOFError), also=stream)
    return pa.CompressedInputStream(stream, codec)


class CheckedStream(io.RawIOBase):
    """A Python decompressor whose failures are OSErrors, as Arrow's decompressors report them.

    A truncated .xz raises EOFError, which click would take for an interrupted run; a corrupt
    one LZMAError, zip's a BadZipFile: an OSError is explained as the file being unreadable.
    """

    def __init__(self, stream: Any, errors: tuple[type[Exception], ...], also: Any = None) -> None:
        self.stream = stream
        self.errors = errors
        self.also = also  # the stream under ``stream``, if closing that leaves it open

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            return self.stream.readinto(buffer)
        except self.errors as error:
            raise OSError(str(error) or type(error).__name__) from None

    def close(self) -> None:
        self.stream.close()
        if self.also is not None:
            self.also.close()
        super().close()


def _checked(stream: Any, errors: tuple[type[Exception], ...], also: Any = None) -> pa.PythonFile:
    # Buffered so that a read returns all it asks for, short only at the end.
    buffered = io.BufferedReader(CheckedStream(stream, errors, also), buffer_size=1 << 20)
    return pa.PythonFile(buffered, mode="r")


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


def _whole(block: Block) -> int:
    """An Arrow block size that parses ``block`` in one piece: one record batch per block."""
    return max(block.data.size + 1, 1 << 20)


def _has_line_end(data: pa.Buffer) -> bool:
    # Every block but the last ends at a line end: a scan is only for the last, short one.
    view = np.frombuffer(data, dtype=np.uint8)
    if view.size and view[-1] in (0x0A, 0x0D):
        return True
    return bool(np.any((view == 0x0A) | (view == 0x0D)))


def _csv_header(text: str, delimiter: str, where: str) -> list[str]:
    line = re.split(r"\r|\n", text, maxsplit=1)[0]
    if line.lstrip().startswith("#"):
        # Else the comment is the header: "no pred column", naming '# ...' as the only column.
        raise InputError(
            f"The first line of {where} is a comment ('{excerpt(line.strip())}'): losscli reads "
            "the column names from the first line and reads no comment lines.",
            "Remove the lines that start with '#', e.g. grep -v '^#' FILE > clean.csv",
        )
    if not line.strip():
        # Else it reads as one column named '' (or '   '): "no pred column", naming none.
        raise InputError(
            f"{where} has no header: its first line is blank.",
            "Put the column names on the first line (e.g. pred,target), with no blank lines above.",
        )
    first = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    return [name.strip() for name in first]


def _json_type(example: Any, numeric: bool) -> pa.DataType:
    if numeric:
        if isinstance(example, list):
            return pa.list_(pa.float64())
        # true/false read as 0/1, as a Parquet bool column is (to_numbers casts them).
        return pa.bool_() if isinstance(example, bool) else pa.float64()
    return next((kind for python, kind in JSON_TYPES if isinstance(example, python)), pa.string())


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def _first_json_object(head: bytes, where: str) -> dict[str, Any]:
    line = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n").split("\n", 1)[0]
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        record = None
    if not isinstance(record, dict):
        raise InputError(
            f"The first line of {where} is not a JSON object.",
            'JSON Lines needs one object per line, e.g. {"pred": 0.5, "target": 1}.',
        )
    return record


# Delimiters a CSV header may use instead of a comma: Excel writes ';' where the comma is the
# decimal mark, some exports '|', and many '.csv' files hold tabs.
OTHER_DELIMITERS = (";", "|", "\t")
DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")
DECIMAL_POINT = re.compile(r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?")
THOUSANDS = re.compile(r"[+-]?\d{1,3}([, \u00a0'])\d{3}(?:\1\d{3})*(?:\.\d*)?")
THOUSANDS_DOT = re.compile(r"[+-]?\d{1,3}([. \u00a0])\d{3}(?:\1\d{3})*(?:,\d*)?")
EXCEL_ERRORS = ("#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")
WORD_LABELS = {"true", "false", "yes", "no", "y", "n", "t", "f"}


def sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV header line: a comma, unless the line has none and exactly one
    other delimiter (``pred;target``). The header decides, so there is no guess among several."""
    line = re.split(r"\r|\n", text, maxsplit=1)[0]
    if "," in line:
        return ","
    found = [delimiter for delimiter in OTHER_DELIMITERS if delimiter in line]
    return found[0] if len(found) == 1 else ","


def decimal_mark(text: str, where: str) -> str:
    """The decimal mark of a ';'-separated file, from the numbers of its first rows.

    Excel writes ';' where the comma is the decimal mark (0,5), other tools ';' with points
    (0.5). No number reads as two values under the two marks (1.5 is no number where the mark
    is a comma), so a file is read by the mark its first rows use; both there is refused.
    """
    fields = [
        field.strip().strip('"') for line in text.splitlines()[1:] for field in line.split(";")
    ]
    comma = next((f for f in fields if DECIMAL_COMMA.fullmatch(f)), None)
    point = next((f for f in fields if DECIMAL_POINT.fullmatch(f)), None)
    if comma is not None and point is not None:
        raise InputError(
            f"{where} writes numbers with both decimal marks ('{excerpt(comma)}' and "
            f"'{excerpt(point)}'), so which one is the decimal point cannot be told.",
            "Write every number with the same decimal mark (0,5 or 0.5).",
        )
    return "," if comma is not None else "."


def number_hint(value: str, delimiter: str, decimal: str) -> str:
    """How to fix a value that is no number, from what it looks like it was meant to be."""
    text = value.strip()
    if text.upper() in EXCEL_ERRORS:
        return f"{text} is a spreadsheet's error value: fix that cell's formula, or leave it empty."
    forms = (THOUSANDS_DOT,) if decimal == "," else (THOUSANDS, THOUSANDS_DOT)
    if any(form.fullmatch(text) for form in forms) and not DECIMAL_POINT.fullmatch(text):
        plain = re.sub(r"[., \u00a0'](?=\d{3}(?!\d))", "", text)
        if DECIMAL_COMMA.fullmatch(text):  # 1,234: a thousands separator or a decimal comma
            return (
                f"Write {plain} without the thousands separator, or {text.replace(',', '.')} "
                "if the comma is a decimal comma."
            )
        return f"Write numbers without a thousands separator: {plain}."
    if delimiter == ";" and (DECIMAL_POINT.fullmatch(text) or DECIMAL_COMMA.fullmatch(text)):
        first = "a comma (0,5)" if decimal == "," else "a point (0.5), or no decimals"
        return (
            f"The first rows of this ';'-separated file write {first}: write every number with "
            "that decimal mark."
        )
    if DECIMAL_COMMA.fullmatch(text):
        return (
            "A decimal comma is read only in a ';'-separated file (as Excel saves one in many "
            "languages); in a comma-separated file write 0.5."
        )
    if text.endswith("%"):
        return "Write a percentage as a fraction (50% as 0.5)."
    if text.lower() in WORD_LABELS:
        return "Write labels as numbers: 1 for true/yes, 0 for false/no."
    if text.startswith("#"):
        return "losscli reads no comment lines: remove the lines that start with '#'."
    return f"Fix or remove that value, or select other columns with {ROLE_OPTIONS}."
