"""How numbers and values read in every output format: one copy, used by all of them.

Two roundings exist. Tables, markdown and GitHub lines round to 6 significant digits (``short``,
``shown``); JSON and CSV never round (``exact``: the shortest text that reads back as the same
float, Python's ``repr``, which is also what the json module writes). A NaN or infinite number
has no text in JSON and CSV (null, an empty cell): the note beside it says why.

``textcolumns`` does the same for a whole column at once (in Arrow, no object per row), for the
groups of ``--by``; tests hold it equal to the one-value forms here.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Sequence
from json.encoder import encode_basestring_ascii
from typing import Any

NOT_AVAILABLE = "n/a"  # a rounded number that is NaN, infinite or absent
NULL_GROUP = "(null)"  # a null --by value in tables and GitHub lines


def plain(value: Any) -> Any:
    """A value as plain Python for output: a NumPy scalar as its Python number (so no
    ``np.float64(9.4)`` reaches a report), and a NaN label as None (a float column's null)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def json_ready(value: Any) -> Any:
    """``value`` as plain JSON: NumPy scalars and arrays as numbers and lists, and a NaN or
    infinite float as null (JSON has neither)."""
    if isinstance(value, (str, bool)) or value is None:
        return value
    if hasattr(value, "tolist"):  # a NumPy array (a parameter read from a file) or scalar
        return json_ready(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    return value


def json_text(value: Any, depth: int = 0) -> str:
    """``value`` as JSON indented by 2, its lines after the first shifted ``depth`` levels in,
    as it reads inside a document."""
    text = json.dumps(json_ready(value), indent=2, allow_nan=False)
    return text.replace("\n", "\n" + "  " * depth) if depth else text


# -- rounded: tables, markdown, GitHub ----------------------------------------------------------


def short(value: float | None) -> str:
    """6 significant digits; ``inf`` / ``nan`` as Python writes them, ``none`` for no value."""
    if value is None:
        return "none"
    if not math.isfinite(value):
        return str(value)
    return f"{value:.6g}"


def shown(value: float | None) -> str:
    """A number in markdown and GitHub text: rounded as in tables, 'n/a' when it is NaN, infinite
    or absent (the note beside it says which and why)."""
    if value is None or not math.isfinite(value):
        return NOT_AVAILABLE
    return short(value)


def signed(value: float) -> str:
    """A margin: rounded as in tables, with its sign."""
    return f"{value:+.6g}"


def percent(value: float | None) -> str:
    """A relative change, signed, to two decimals of a percent."""
    if value is None or not math.isfinite(value):
        return NOT_AVAILABLE
    return f"{value:+.2%}"


def p_value(value: float | None) -> str:
    """A p-value to 4 decimals; one below 0.0001 as ``< 0.0001``."""
    if value is None or not math.isfinite(value):
        return NOT_AVAILABLE
    return "< 0.0001" if value < 1e-4 else f"{value:.4f}"


def interval(low: float | None, high: float | None) -> str:
    """``[low, high]`` rounded as in tables."""
    return f"[{shown(low)}, {shown(high)}]"


def group_text(value: Any) -> str:
    """A --by value in tables and GitHub lines: a float as it reads back, a null as (null)."""
    value = plain(value)
    if value is None:
        return NULL_GROUP
    return repr(value) if isinstance(value, float) else str(value)


# -- exact: JSON and CSV ------------------------------------------------------------------------


def exact(value: Any) -> str:
    """A number as it reads back exactly (a float's ``repr``, an int as an int); empty when there
    is none, or it is NaN or infinite."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return repr(value)


def json_value_text(value: Any) -> str:
    """One value as ``json.dumps`` writes it, without its call cost for the common kinds."""
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "null"
    if isinstance(value, int) and not isinstance(value, bool):
        return repr(value)
    return json.dumps(json_ready(value), allow_nan=False)


def csv_label(value: Any) -> Any:
    """A --by value in a CSV cell: text as text, numbers as numbers, a null as an empty cell."""
    value = plain(value)
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else value


# Text the csv module may quote; any other text it writes as it is.
CSV_SPECIAL = re.compile(r'[,"\r\n]')


def csv_cells(values: Iterable[Any]) -> list[str]:
    """Each value as the csv module writes it as one cell of a row (quoted where it must be; None
    as an empty cell)."""
    return [_csv_cell(value if isinstance(value, str) else _csv_str(value)) for value in values]


def _csv_str(value: Any) -> str:
    return "" if value is None else str(value)


def _csv_cell(text: str) -> str:
    if not CSV_SPECIAL.search(text):
        return text
    buffer = io.StringIO()
    # A second cell: a row of one empty cell would be written as "".
    csv.writer(buffer, lineterminator="\n").writerow([text, ""])
    return buffer.getvalue()[:-2]


def csv_line(cells: Sequence[Any]) -> str:
    """One CSV row, as the csv module writes it."""
    return ",".join(csv_cells(cells)) + "\n"


# -- markdown and GitHub ------------------------------------------------------------------------


def md_cell(text: str) -> str:
    """Text in a markdown table cell: a ``|`` would end the cell."""
    return text.replace("|", "\\|")


def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF escaped as GitHub's runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (``title=``): also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


# -- tables -------------------------------------------------------------------------------------


def table_text(renderable: Any, console: Any = None) -> str:
    """A rich renderable as text, each line without the padding rich adds to the table's width
    (a centred caption too). Without ``console``, a default one (its width that of the terminal,
    or 80)."""
    if console is None:
        from rich.console import Console

        console = Console()
    with console.capture() as capture:
        console.print(renderable)
    return "".join(line.rstrip(" ") + "\n" for line in capture.get().splitlines())
