"""Readers of text: CSV (and TSV) and JSON Lines, parsed in blocks so memory stays bounded.

Arrow's threads only ever read native files and in-memory blocks, never a Python stream such as
standard input: an Arrow thread still reading one when the interpreter exits (after an error, say)
aborts the whole process. So text is cut into blocks here, on the calling thread, mapped from
the file (``MappedText``) or read straight into Arrow's memory, and each block is handed to Arrow
whole; several blocks are parsed at once, one per thread (``ordered_map``).
"""

from __future__ import annotations

import contextlib
import re
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
from losscli.io.dialect import (
    CsvDialect,
    csv_header,
    decimal_mark,
    first_json_object,
    is_comment,
    number_hint,
    numbered_names,
    sniff_delimiter,
)
from losscli.io.mapped import MappedText, after_last_line_end
from losscli.io.source_reader import READ_ERRORS, SourceReader, cannot_read, first_line

BLOCK_BYTES = 4 << 20
# Arrow's CSV parser keeps about 10 KB of its own per column of a block it parses (outside its
# memory pool, whatever the block's rows): 100 MB a block at 10,000 columns. Blocks are parsed
# on as many threads at once as PARSING_BYTES of that allows, and on one at least.
COLUMN_PARSE_BYTES = 10 << 10
PARSING_BYTES = 64 << 20
# The Arrow type of a JSON field that is not read as a number, from its value in the first row.
JSON_TYPES = ((bool, pa.bool_()), (int, pa.int64()), (float, pa.float64()))
# Text that is a missing number in CSV/TSV. Every spelling of NaN is one too: the float parser
# reads it as NaN. Arrow's own list adds those and MSVC's '1.#IND' forms, whose leading digit or
# sign sends every number down its match: this list parses 8-12% faster.
MISSING_TEXT = ["", "NA", "N/A", "n/a", "#N/A", "#N/A N/A", "#NA", "NULL", "null"]


@dataclass(frozen=True)
class Block:
    """The text block being parsed when Arrow failed, for finding the row of the failure."""

    data: pa.Buffer
    first: bool  # the first block: a CSV header comes before its rows
    rows_before: int = 0  # known once the blocks before it are parsed


class TextReader(SourceReader):
    """Text cut into blocks at line ends on this thread, each parsed whole by ``_parse``."""

    def _parse(self, block: Block, columns: list[str], numeric: set[str]) -> pa.Table:
        raise NotImplementedError

    def _batches(
        self,
        columns: list[str],
        numeric: set[str],
        coded: frozenset[str] = frozenset(),
        rows: int | None = None,
    ) -> Iterator[pa.RecordBatch]:
        # Blocks are cut here, on this thread, and parsed on several at once (one each).
        opened = self.opened
        mapped = MappedText.open(self.source.name) if opened.mappable else None
        if mapped is not None:
            opened.closing(mapped)
        texts = _line_blocks(opened.text_stream()) if mapped is None else mapped.blocks(BLOCK_BYTES)
        # A byte range after the file's start has no header line.
        header = self.source.byte_range is None or self.source.byte_range[0] == 0
        blocks = (Block(data, header and index == 0) for index, data in enumerate(texts))
        rows = 0
        parse = self._parse
        workers = parsers_for(len(columns))
        parsed = ordered_map(lambda block: parse(block, columns, numeric), blocks, workers)
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

    def _explain(self, message: str, block: Block | None = None) -> InputError:
        return cannot_read(self.opened, first_line(message))

    def _row(self, block: Block, finder: Callable[..., int], *args: Any) -> str:
        """' at row N' (of the whole input) from rescanning ``block``; '' if that cannot tell."""
        with contextlib.suppress(*READ_ERRORS):
            row = finder(block.data.to_pybytes(), *args)
            if row:
                return f" at row {self.source.rows_before + block.rows_before + row}"
        return ""


class CsvReader(TextReader):
    """CSV or TSV; a CSV's delimiter and decimal mark are settled from its first bytes."""

    def _read_names(self, head: bytes) -> list[str]:
        """The header's names, the delimiter and decimal mark settled from the first bytes (or
        given by the source's dialect)."""
        dialect = self.source.dialect or CsvDialect()
        text = dialect.skipped(head.decode("utf-8", errors="replace").lstrip("\ufeff"))
        self.dialect = dialect
        # With decimal commas, a comma is no delimiter: the header's other one is.
        line = text if dialect.decimal != "," else text.replace(",", "")
        sniffed = sniff_delimiter(line) if self.format == "csv" else "\t"
        self.delimiter = dialect.delimiter or sniffed
        self.decimal = dialect.decimal or "."
        if dialect.decimal is None and self.delimiter == ";":
            self.decimal = decimal_mark(text, self.source.display)
        if self.decimal == self.delimiter:
            raise InputError(
                f"{self.source.display} is read with {self.delimiter!r} as the delimiter, which "
                f"is also the decimal mark {option('decimal')} gives.",
                f"Name the delimiter too, e.g. {option('delimiter')} ';'",
            )
        if not dialect.header:
            return numbered_names(text, self.delimiter)
        return csv_header(text, self.delimiter, self.source.display)

    def _csv_options(self, block: Block) -> dict[str, Any]:
        # Our own header names (spaces stripped, byte-order mark gone) replace the file's, so the
        # columns asked for are found whatever the spacing around the commas.
        skip = 1 if block.first and self.dialect.header else 0
        return {
            "read_options": pa_csv.ReadOptions(
                column_names=self.file_names,
                skip_rows=skip,
                use_threads=False,  # blocks are parsed in parallel instead
                block_size=_whole(block),
            ),
            "parse_options": pa_csv.ParseOptions(delimiter=self.delimiter),
        }

    def _dialected(self, block: Block) -> Block:
        """The block as Arrow reads it: the first ``skip_rows`` lines and comment lines gone."""
        dialect = self.dialect
        if not (dialect.comment or (block.first and dialect.skip_rows)):
            return block
        lines = block.data.to_pybytes().splitlines(keepends=True)
        if block.first:
            lines = lines[dialect.skip_rows :]
            if lines:
                lines[0] = lines[0].removeprefix(b"\xef\xbb\xbf")
        if dialect.comment:
            lines = [line for line in lines if not is_comment(line, dialect.comment)]
        return replace(block, data=pa.py_buffer(b"".join(lines)))

    def _parse(self, block: Block, columns: list[str], numeric: set[str]) -> pa.Table:
        # Other columns (an --id) are kept as written: '007' stays '007', and every block gets
        # the same type whatever its values look like.
        block = self._dialected(block)
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

    def _explain(self, message: str, block: Block | None = None) -> InputError:
        if block is not None:
            for explain in (self._bad_number, self._bad_field_count):
                error = explain(message, block)
                if error is not None:
                    return error
        return cannot_read(self.opened, first_line(message))

    def _bad_number(self, message: str, block: Block) -> InputError | None:
        found = re.search(
            r"column #(\d+): (?:Row #\d+: )?CSV conversion error to \w+: invalid value '(.*)'",
            message,
        )
        if not found:
            return None
        column, value = self.file_names[int(found.group(1))], found.group(2)
        options = self._csv_options(block)
        row = self._row(block, locate.row_with_value, options, column, value)
        return InputError(
            f"Column '{excerpt(column)}' of {self.source.display} holds a non-numeric value "
            f"'{excerpt(value)}'{row}.",
            number_hint(value, self.delimiter, self.decimal),
        )

    def _bad_field_count(self, message: str, block: Block) -> InputError | None:
        found = re.search(r"Expected (\d+) columns, got (\d+)", message)
        if not found:
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
                f"That row is a comment: add {option('comment')} '#' to skip such lines, or "
                "remove them."
            )
        if fields and not text.strip():
            return "That row holds only spaces: remove it (empty lines are skipped)."
        return "Fix that row; quote values that contain the delimiter."


class JsonLinesReader(TextReader):
    """JSON Lines; a field's type, unless read as a number, is its type in the first record."""

    def _read_names(self, head: bytes) -> list[str]:
        self.first_record = first_json_object(head, self.source.display)
        return list(self.first_record)

    def _parse(self, block: Block, columns: list[str], numeric: set[str]) -> pa.Table:
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

    def _explain(self, message: str, block: Block | None = None) -> InputError:
        if block is None:
            return cannot_read(self.opened, first_line(message))
        error = self._bad_type(message, block)
        if error is not None:
            return error
        # Arrow counts JSON rows from the start of its own block, not of the file.
        problem = re.sub(r"\.? in row \d+$", "", first_line(message))
        return cannot_read(
            self.opened, problem, self._row(block, locate.row_with_json_problem, [], None)
        )

    def _bad_type(self, message: str, block: Block) -> InputError | None:
        found = re.search(r"Column\(/(.*?)\) changed from (\w+) to (\w+)", message)
        if not found:
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


def parsers_for(width: int) -> int:
    """Threads parsing blocks of ``width`` columns at once: fewer for wide rows (see above)."""
    return max(1, min(parse_workers(), PARSING_BYTES // (width * COLUMN_PARSE_BYTES)))


def _line_blocks(stream: Any) -> Iterator[pa.Buffer]:
    """``stream`` in blocks of about BLOCK_BYTES, each ending at a line end but the last.

    Cut as a mapped file is (``MappedText.blocks``): each block is the whole lines of the
    BLOCK_BYTES after its start (or of as many BLOCK_BYTES as its first line needs), and the
    rest of the text is the last block. A file piped in parses into the blocks it would as a
    file, and sums the same rows in the same order, to the last digit.

    Read straight into memory Arrow owns: the one copy of the bytes the parsers need (see
    ``arrow_buffer``). Only the part line after a block's last line end is copied again.
    """
    carry, searched = b"", 0  # carry[:searched] holds no line end
    while True:
        window = (searched // BLOCK_BYTES + 1) * BLOCK_BYTES
        # A byte past the window tells whether the text ends with it, as a mapping knows.
        buffer = pa.allocate_buffer(window + 1)
        view = memoryview(buffer).cast("B")
        view[: len(carry)] = carry
        filled = len(carry) + _fill(stream, view[len(carry) :])
        if filled <= window:  # the text ends within the window: the rest is one block
            if filled:
                yield buffer.slice(0, filled)
            return
        cut = after_last_line_end(view, searched, window)
        if cut:
            yield buffer.slice(0, cut)
        carry, searched = bytes(view[cut:filled]), window - cut


def _fill(stream: Any, view: memoryview) -> int:
    """Bytes read into ``view``: all of it, unless the stream ends first."""
    filled = 0
    while filled < len(view):
        got = stream.readinto(view[filled:])
        if not got:
            break
        filled += got
    return filled


def _whole(block: Block) -> int:
    """An Arrow block size that parses ``block`` in one piece: one record batch per block."""
    return max(block.data.size + 1, 1 << 20)


def _has_line_end(data: pa.Buffer) -> bool:
    # Every block but the last ends at a line end: a scan is only for the last, short one.
    view = np.frombuffer(data, dtype=np.uint8)
    if view.size and view[-1] in (0x0A, 0x0D):
        return True
    return bool(np.any((view == 0x0A) | (view == 0x0D)))


def _json_type(example: Any, numeric: bool) -> pa.DataType:
    if numeric:
        if isinstance(example, list):
            return pa.list_(pa.float64())
        # true/false read as 0/1, as a Parquet bool column is (to_numbers casts them).
        return pa.bool_() if isinstance(example, bool) else pa.float64()
    return next((kind for python, kind in JSON_TYPES if isinstance(example, python)), pa.string())


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"
