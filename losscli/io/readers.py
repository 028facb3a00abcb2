"""Readers: one source -> its column names, then Arrow record batches of the columns asked for.

One reader class per format, chosen by ``open_reader``: ``CsvReader`` (CSV and TSV),
``JsonLinesReader``, ``ParquetReader``, ``ArrowFileReader`` and ``ArrowStreamReader``, all
``SourceReader``s. Memory stays bounded whatever the file size: CSV, TSV and JSON Lines are parsed
in blocks, Parquet by row group batches, Arrow IPC by record batch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from losscli.io.arrow_readers import ArrowFileReader, ArrowStreamReader, ParquetReader
from losscli.io.opening import SourceStream
from losscli.io.source_reader import READ_ERRORS, SourceReader, cannot_read, first_line
from losscli.io.sources import Source
from losscli.io.text_readers import CsvReader, JsonLinesReader

READERS: dict[str, type[SourceReader]] = {
    "csv": CsvReader,
    "tsv": CsvReader,
    "jsonl": JsonLinesReader,
    "parquet": ParquetReader,
    "arrow": ArrowStreamReader,
}


def open_reader(source: Source) -> SourceReader:
    """The reader of ``source``'s format, its column names read.

    The format is the one --input-format or the name gives, unless the first bytes say otherwise
    (``SourceStream.open``); an Arrow IPC file is told from a stream by its magic bytes.
    """
    opened = SourceStream(source)
    try:
        with _explained(opened):
            opened.open()
        return reader_class(str(opened.format), opened.head)(opened)
    except BaseException:
        opened.close()  # a spooled copy must not outlive a failed open
        raise


def reader_class(format_name: str, head: bytes) -> type[SourceReader]:
    """The reader of a settled format, whose first bytes are ``head``."""
    if format_name == "arrow" and head.startswith(b"ARROW1"):
        return ArrowFileReader
    return READERS[format_name]


@contextlib.contextmanager
def _explained(opened: SourceStream) -> Iterator[None]:
    """Arrow's exceptions while opening become one-line input errors, as a reader's do."""
    try:
        yield
    except READ_ERRORS as error:
        raise cannot_read(opened, first_line(str(error))) from None
