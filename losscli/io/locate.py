"""The error path only: find the row of a problem that Arrow reported without one.

Arrow's parsers say *what* is wrong (a value, a field count, a JSON type) but not on which row, or
only relative to an internal block. Text inputs are parsed in blocks that end at a line end, so
the block that failed is at hand: these functions rescan it, slowly and simply, for the first row
with that problem. They return a 1-based row within the block (0 when they cannot tell), counting
data rows only: the header and blank lines are skipped, as the readers skip them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from losscli.io.sources import arrow_reader

REPLACEMENTS = re.compile("\ufffd+")
EXPONENT_NUMBER = re.compile(r"(-?\d+)(?:\.(\d*))?[eE]\+?(\d+)")
JSON_KINDS = {
    "number": (int, float),
    "string": (str,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def row_with_value(block: bytes, options: dict[str, Any], column: str, value: str) -> int:
    """Row where ``column`` first holds exactly the text ``value``.

    ``options`` are the read and parse options the block was read with, so both see the same rows.
    Bytes that are not UTF-8 reach ``value`` as replacement characters: each run of them matches
    any run of such bytes (read as binary, a cell that is not UTF-8 is still compared).
    """
    convert = pa_csv.ConvertOptions(include_columns=[column], column_types={column: pa.binary()})
    table = pa_csv.read_csv(arrow_reader(block), **options, convert_options=convert)
    wanted = _replaced(value)
    for row, cell in enumerate(table.column(0).to_pylist(), start=1):
        if cell is not None and _replaced(cell.decode("utf-8", errors="replace")) == wanted:
            return row
    return 0


def _replaced(text: str) -> str:
    """``text`` with each run of replacement characters as one: decoders count them apart."""
    return REPLACEMENTS.sub("\ufffd", text)


def row_with_wrong_width(block: bytes, delimiter: str, header: bool, width: int) -> int:
    """Row whose number of fields is not ``width``; ``header`` says the block starts with one."""
    text = io.StringIO(block.decode("utf-8", errors="replace").lstrip("\ufeff"), newline="")
    rows = csv.reader(text, delimiter=delimiter)
    if header:
        next(rows, None)
    data_rows = (row for row in rows if row)
    return next((n for n, row in enumerate(data_rows, start=1) if len(row) != width), 0)


def fields_of_wrong_width(
    block: bytes, delimiter: str, header: bool, width: int
) -> list[str] | None:
    """The fields of the row ``row_with_wrong_width`` finds, to tell what that row is."""
    text = io.StringIO(block.decode("utf-8", errors="replace").lstrip("\ufeff"), newline="")
    rows = csv.reader(text, delimiter=delimiter)
    if header:
        next(rows, None)
    return next((row for row in rows if row and len(row) != width), None)


def row_with_json_problem(block: bytes, path: list[str], expected: str | None) -> int:
    """Row that is not a JSON object, or whose field at ``path`` is not of kind ``expected``.

    ``path`` is Arrow's field path split at '/': ``["pred"]``, or ``["pred", "[]"]`` for the
    items of a list; empty to look for the first line that is not an object.
    """
    for row, line in enumerate(_lines(block), start=1):
        try:
            record = json.loads(line, parse_float=_double)
        except ValueError:  # JSONDecodeError too
            return row
        if not isinstance(record, dict):
            return row
        if path and expected and not _field_is(record.get(path[0]), path[1:], expected):
            return row
    return 0


def _double(text: str) -> float:
    """A JSON number, or a ValueError where Arrow's parser (RapidJSON) says 'Number too big'."""
    found = EXPONENT_NUMBER.fullmatch(text)
    if found and int(found.group(3)) > 308 + _fraction_digits_counted(*found.group(1, 2)):
        raise ValueError(f"number too big to be stored in double: {text}")
    return float(text)


def _fraction_digits_counted(integer: str, fraction: str | None) -> int:
    """How many fraction digits RapidJSON lets raise the largest exponent it takes (above 308).

    It reads the digits into a 64-bit integer while that stays below 2^53, then into a double
    up to 17 significant digits; past that a digit is skipped, and an integer part beyond 64 bits
    leaves none counted. Other numbers beyond a double's range become infinities, no error.
    """
    digits = integer.lstrip("-")
    value = int(digits)
    if value >= 1 << 64:
        return 0
    significant = len(digits.lstrip("0"))
    counted = 0
    for digit in fraction or "":
        if value < 1 << 53:
            value = value * 10 + int(digit)
            significant += value != 0
        elif significant < 17:
            significant += 1
        else:
            break
        counted += 1
    return counted


def _lines(block: bytes) -> list[str]:
    text = block.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [line for line in lines if line.strip()]


def _field_is(value: Any, inner: list[str], expected: str) -> bool:
    if inner[:1] == ["[]"] and isinstance(value, list):
        return all(_is_kind(item, expected) for item in value)
    return _is_kind(value, expected)


def _is_kind(value: Any, expected: str) -> bool:
    if value is None:
        return True
    if expected == "number" and isinstance(value, bool):
        return False
    return isinstance(value, JSON_KINDS.get(expected, (object,)))
