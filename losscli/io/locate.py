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
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from losscli.io.sources import arrow_reader

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
    """
    convert = pa_csv.ConvertOptions(include_columns=[column], column_types={column: pa.string()})
    table = pa_csv.read_csv(arrow_reader(block), **options, convert_options=convert)
    texts = table.column(0).to_pylist()
    return texts.index(value) + 1 if value in texts else 0


def row_with_wrong_width(block: bytes, delimiter: str, header: bool, width: int) -> int:
    """Row whose number of fields is not ``width``; ``header`` says the block starts with one."""
    text = io.StringIO(block.decode("utf-8", errors="replace").lstrip("\ufeff"), newline="")
    rows = csv.reader(text, delimiter=delimiter)
    if header:
        next(rows, None)
    data_rows = (row for row in rows if row)
    return next((n for n, row in enumerate(data_rows, start=1) if len(row) != width), 0)


def row_with_json_problem(block: bytes, path: list[str], expected: str | None) -> int:
    """Row that is not a JSON object, or whose field at ``path`` is not of kind ``expected``.

    ``path`` is Arrow's field path split at '/': ``["pred"]``, or ``["pred", "[]"]`` for the
    items of a list; empty to look for the first line that is not an object.
    """
    for row, line in enumerate(_lines(block), start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            return row
        if not isinstance(record, dict):
            return row
        if path and expected and not _field_is(record.get(path[0]), path[1:], expected):
            return row
    return 0


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
