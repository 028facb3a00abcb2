"""What the first bytes of a text file say about how to read it: a CSV's delimiter, decimal mark
and header, a JSON Lines file's first record; and how to fix a value that is no number.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from losscli.errors import InputError, UsageError, excerpt, option
from losscli.io.columns import ROLE_OPTIONS

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
        return (
            f"Name the label that counts as positive ({option('pos_label')} yes), or write "
            "labels as numbers: 1 for true/yes, 0 for false/no."
        )
    if text.startswith("#"):
        return f"Lines that start with '#' are comments: add {option('comment')} '#', or drop them."
    if WORD.fullmatch(text):
        return (
            f"Fix or remove that value, or select other columns with {ROLE_OPTIONS}; class "
            f"labels written as words are read with {option('classes')} auto (score columns "
            f"named after them: score_{excerpt(text, 20)}) or {option('classes')} A,B,..."
        )
    return f"Fix or remove that value, or select other columns with {ROLE_OPTIONS}."


WORD = re.compile(r"[^\W\d][\w\- ]*")  # a word (a class label), not a number gone wrong


def csv_header(text: str, delimiter: str, where: str) -> list[str]:
    line = re.split(r"\r|\n", text, maxsplit=1)[0]
    if line.lstrip().startswith("#"):
        # Else the comment is the header: "no pred column", naming '# ...' as the only column.
        raise InputError(
            f"The first line of {where} is a comment ('{excerpt(line.strip())}'): losscli reads "
            "the column names from the first line.",
            f"Add {option('comment')} '#' to skip the lines that start with '#', or remove them.",
        )
    if not line.strip():
        # Else it reads as one column named '' (or '   '): "no pred column", naming none.
        raise InputError(
            f"{where} has no header: its first line is blank.",
            "Put the column names on the first line (e.g. pred,target), with no blank lines above.",
        )
    first = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    return [name.strip() for name in first]


def first_json_object(head: bytes, where: str) -> dict[str, Any]:
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


@dataclass(frozen=True)
class CsvDialect:
    """How to read CSV and TSV inputs when their first bytes cannot say: the ``delimiter``,
    whether the first line is a ``header`` (else columns are named 1, 2, ...), lines to skip
    before it (``skip_rows``), a ``comment`` mark whose lines are left out, and the ``decimal``
    mark. None leaves each to be settled from the file, as without a dialect."""

    delimiter: str | None = None
    header: bool = True
    skip_rows: int = 0
    comment: str | None = None
    decimal: str | None = None

    def __post_init__(self) -> None:
        for name in ("delimiter", "comment", "decimal"):
            value = getattr(self, name)
            if value is not None and (len(value) != 1 or value in '\r\n"'):
                raise UsageError(
                    f"{option(name)} {value!r} is not one character.",
                    f"Example: {option(name)} {EXAMPLES[name]}",
                )
        if self.decimal is not None and self.decimal not in ".,":
            raise UsageError(f"{option('decimal')} {self.decimal!r} is neither '.' nor ','.")
        if self.skip_rows < 0:
            raise UsageError(f"{option('skip_rows')} {self.skip_rows} is negative.")
        if self.decimal is not None and self.decimal == self.delimiter:
            raise UsageError(
                f"{option('decimal')} and {option('delimiter')} are both {self.decimal!r}: a "
                "number such as 0,5 would read as two fields.",
                f"Give another delimiter, e.g. {option('delimiter')} ';'",
            )

    def skipped(self, text: str) -> str:
        """``text`` (a file's first bytes) without its first ``skip_rows`` lines and, with a
        ``comment`` mark, the comment lines before the header."""
        lines = text.splitlines(keepends=True)[self.skip_rows :]
        if self.comment is not None:
            lines = [line for line in lines if not is_comment(line, self.comment)]
        return "".join(lines)


EXAMPLES = {"delimiter": "';'", "comment": "'#'", "decimal": ","}


def is_comment(line: str | bytes, mark: str) -> bool:
    text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
    return text.lstrip().startswith(mark)


def numbered_names(text: str, delimiter: str) -> list[str]:
    """Columns named 1, 2, ... for a file without a header, as many as its first line has."""
    first = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    return [str(number) for number in range(1, len(first) + 1)]


def csv_dialect(csv: CsvDialect | Mapping[str, Any] | None) -> CsvDialect | None:
    """``csv=`` as a dialect: None, a CsvDialect, or a mapping of its fields."""
    if csv is None or isinstance(csv, CsvDialect):
        return csv
    known = ("delimiter", "header", "skip_rows", "comment", "decimal")
    if not isinstance(csv, Mapping) or set(csv) - set(known):
        raise UsageError(
            f"csv={csv!r} is not a CSV dialect.",
            f"Give a mapping of {', '.join(known)}, e.g. csv={{'delimiter': ';'}}.",
        )
    return CsvDialect(**csv)
