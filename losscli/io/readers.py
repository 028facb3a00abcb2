"""Readers: one source -> its column names, then Arrow record batches of the columns asked for.

Memory stays bounded whatever the file size: CSV, TSV and JSON Lines are parsed in blocks,
Parquet by row group batches, Arrow IPC by record batch. Inputs that need seeking (Parquet, the
Arrow file format) arriving through a pipe or compressed are spooled to a temporary file, never
held in memory.
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
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from losscli.errors import InputError
from losscli.io.sources import Source, sniff_compression, sniff_format, stdin_binary

BLOCK_BYTES = 4 << 20
HEAD_BYTES = 1 << 16
FORMAT_NAMES = {
    "csv": "CSV",
    "tsv": "TSV",
    "parquet": "Parquet",
    "arrow": "Arrow IPC",
    "jsonl": "JSON Lines",
}


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


class TableReader:
    """An opened source: ``names`` and ``types`` now, ``batches(columns)`` later."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._closers: list[Any] = []
        self.spooled: str | None = None
        self.stream, head = self._open_stream()
        self.format = source.format or sniff_format(head)
        self.types: dict[str, pa.DataType] = {}
        with self._translate_errors():
            self.names = self._read_names(head)

    # -- opening ------------------------------------------------------------------------------
    def _open_stream(self) -> tuple[Any, bytes]:
        source = self.source
        try:
            raw: Any = stdin_binary() if source.is_stdin else pa.OSFile(source.name)
        except OSError as error:
            raise InputError(f"Cannot open {source.display}: {error}.") from None
        if not source.is_stdin:
            self._closers.append(raw)
        compression = source.compression
        if source.is_stdin:
            head = raw.read(HEAD_BYTES)
            compression = compression or sniff_compression(head)
            raw = _prefixed(head, raw)
        if compression:
            raw = pa.CompressedInputStream(raw, compression)
            self._closers.append(raw)
        head = raw.read(HEAD_BYTES)
        if source.is_stdin or compression:
            stream = _prefixed(head, raw)
        else:
            raw.seek(0)
            stream = raw
        if not head:
            raise InputError(
                f"{source.display} is empty.", "Give a file with a header row and data rows."
            )
        return stream, head

    def _seekable_path(self) -> str:
        """A path for formats that need seeking; pipes and compressed inputs are spooled to disk."""
        if not self.source.is_stdin and not self.source.compression:
            return self.source.name
        handle, path = tempfile.mkstemp(prefix="losscli-", suffix="." + self.format)
        with os.fdopen(handle, "wb") as spool:
            shutil.copyfileobj(self.stream, spool, length=1 << 20)
        self.spooled = path
        return path

    def _read_names(self, head: bytes) -> list[str]:
        if self.format in ("csv", "tsv"):
            text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
            delimiter = "\t" if self.format == "tsv" else ","
            first = next(csv.reader(io.StringIO(text.split("\n", 1)[0]), delimiter=delimiter), [])
            return [name.strip() for name in first]
        if self.format == "jsonl":
            return list(_first_json_object(head, self.source.display))
        if self.format == "parquet":
            self.parquet = pq.ParquetFile(self._seekable_path())
            schema = self.parquet.schema_arrow
        else:
            schema = self._open_arrow()
        self.types = {field.name: field.type for field in schema}
        return list(schema.names)

    def _open_arrow(self) -> pa.Schema:
        if self.source.is_stdin or self.source.compression:
            stream_head = self.stream.read(6)
            if stream_head == b"ARROW1":
                self.arrow_file = pa.ipc.open_file(
                    pa.memory_map(self._seekable_path_rest(stream_head))
                )
                return self.arrow_file.schema
            self.arrow_stream = pa.ipc.open_stream(_prefixed(stream_head, self.stream))
            return self.arrow_stream.schema
        with contextlib.suppress(pa.ArrowInvalid):
            self.arrow_file = pa.ipc.open_file(pa.memory_map(self.source.name))
            return self.arrow_file.schema
        self.arrow_stream = pa.ipc.open_stream(self.stream)
        return self.arrow_stream.schema

    def _seekable_path_rest(self, head: bytes) -> str:
        self.stream = _prefixed(head, self.stream)
        return self._seekable_path()

    # -- reading ------------------------------------------------------------------------------
    def batches(self, columns: list[str], numeric: set[str]) -> Iterator[pa.RecordBatch]:
        """Record batches of ``columns``; CSV/JSON columns in ``numeric`` are parsed as float64."""
        with self._translate_errors(numeric):
            yield from self._batches(columns, numeric)

    def _batches(self, columns: list[str], numeric: set[str]) -> Iterator[pa.RecordBatch]:
        if self.format in ("csv", "tsv"):
            reader = pa_csv.open_csv(
                self.stream,
                read_options=pa_csv.ReadOptions(block_size=BLOCK_BYTES, use_threads=True),
                parse_options=pa_csv.ParseOptions(delimiter="\t" if self.format == "tsv" else ","),
                convert_options=pa_csv.ConvertOptions(
                    include_columns=columns,
                    column_types={name: pa.float64() for name in columns if name in numeric},
                ),
            )
            yield from reader
        elif self.format == "jsonl":
            fields = [(name, pa.float64() if name in numeric else pa.string()) for name in columns]
            reader = pa_json.open_json(
                self.stream,
                read_options=pa_json.ReadOptions(block_size=BLOCK_BYTES, use_threads=True),
                parse_options=pa_json.ParseOptions(
                    explicit_schema=pa.schema(fields), unexpected_field_behavior="ignore"
                ),
            )
            yield from reader
        elif self.format == "parquet":
            yield from self.parquet.iter_batches(batch_size=1 << 17, columns=columns)
        elif hasattr(self, "arrow_file"):
            for index in range(self.arrow_file.num_record_batches):
                yield self.arrow_file.get_batch(index).select(columns)
        else:
            for batch in self.arrow_stream:
                yield batch.select(columns)

    @contextlib.contextmanager
    def _translate_errors(self, numeric: set[str] | None = None) -> Iterator[None]:
        """Arrow's exceptions become one-line input errors that name the file and what to do."""
        try:
            yield
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, ValueError) as error:
            raise self._explain(str(error)) from None

    def _explain(self, message: str) -> InputError:
        where = self.source.display
        kind = FORMAT_NAMES.get(self.format, self.format)
        conversion = re.search(
            r"column #(\d+): CSV conversion error to \w+: invalid value '(.*)'", message
        )
        if conversion:
            column = self.names[int(conversion.group(1))]
            return InputError(
                f"Column '{column}' of {where} holds a non-numeric value '{conversion.group(2)}'"
                f"{self._locate_text(column, conversion.group(2))}.",
                "Fix or remove that value, or select other columns with -p/-t/-w.",
            )
        json_type = re.search(r"Column\(/(.*?)\) changed from number to (\w+)", message)
        if json_type:
            return InputError(
                f"Field '{json_type.group(1)}' of {where} holds a {json_type.group(2)} where a "
                "number is needed.",
                "Fix that value, or select other fields with -p/-t/-w.",
            )
        first_line = message.strip().splitlines()[0] if message.strip() else "unknown error"
        return InputError(
            f"Cannot read {where} as {kind}: {first_line}.",
            "Check that the file is complete and in the format its name says "
            "(or pass --input-format).",
        )

    def _locate_text(self, column: str, value: str) -> str:
        """Rescan a named file for the first bad value of ``column``: the error path only."""
        if self.source.is_stdin:
            return ""
        with contextlib.suppress(Exception):
            row = first_non_numeric_row(self.source, self.format, column)
            if row is not None:
                return f" at row {row}"
        return ""

    def close(self) -> None:
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):
                closer.close()
        if self.spooled:
            with contextlib.suppress(OSError):
                os.unlink(self.spooled)


def first_non_numeric_row(source: Source, fmt: str, column: str) -> int | None:
    """1-based data row of the first value in ``column`` that does not parse as a number."""
    raw: Any = pa.OSFile(source.name)
    if source.compression:
        raw = pa.CompressedInputStream(raw, source.compression)
    reader = pa_csv.open_csv(
        raw,
        parse_options=pa_csv.ParseOptions(delimiter="\t" if fmt == "tsv" else ","),
        convert_options=pa_csv.ConvertOptions(
            include_columns=[column], column_types={column: pa.string()}
        ),
    )
    seen = 0
    for batch in reader:
        for offset, text in enumerate(batch.column(0).to_pylist()):
            if text is not None and not _parses_as_float(text):
                return seen + offset + 1
        seen += batch.num_rows
    return None


def _parses_as_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text.strip() == ""
    return True


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
