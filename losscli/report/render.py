"""Reports as text: JSON (full precision), CSV, markdown, or a rich table for the terminal."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from losscli.report.report import Report

FORMATS = ("auto", "table", "json", "csv", "markdown")


def short(value: float) -> str:
    """Tables round to 6 significant digits; JSON and CSV never do."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.6g}"


def to_json(report: Report) -> str:
    return json.dumps(json_ready(report.to_dict()), indent=2, allow_nan=False) + "\n"


def json_ready(value: Any) -> Any:
    """``value`` with every non-finite float written as a string ("inf"): JSON has no infinity.

    A result's ``value`` is already null with a note, and parameters must be finite; this covers
    a weight sum that overflowed.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    return value


def to_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["label", "loss", "params", "value", "n", "weight_sum", "direction"])
    for result in report.results:
        writer.writerow(
            [
                result.label,
                result.loss,
                json.dumps(json_ready(result.params), allow_nan=False),
                repr(result.value) if math.isfinite(result.value) else "",
                result.n,
                repr(result.weight_sum),
                result.direction,
            ]
        )
    return buffer.getvalue()


def to_markdown(report: Report) -> str:
    lines = ["| loss | value | n | better |", "|---|---:|---:|---|"]
    for result in report.results:
        lines.append(
            f"| `{result.label}` | {short(result.value)} | {result.n} | {result.direction} |"
        )
    inputs = report.inputs
    files = ", ".join(f"`{name}`" for name in inputs.get("files", []))
    lines.append("")
    lines.append(
        f"{inputs.get('rows_used')} rows used of {inputs.get('rows_read')} read from {files}."
    )
    return "\n".join(lines) + "\n"


def to_table(report: Report) -> Any:
    from rich.table import Table
    from rich.text import Text

    inputs = report.inputs
    caption = f"{inputs.get('rows_used')} rows used of {inputs.get('rows_read')} read"
    table = Table(header_style="bold", caption=caption)
    table.add_column("loss")
    table.add_column("value", justify="right")
    table.add_column("n", justify="right")
    table.add_column("better")
    for result in report.results:
        # Text, not markup: a label such as ce:weight=[1,2] must print as written.
        cells = (result.label, short(result.value), str(result.n), result.direction)
        table.add_row(*map(Text, cells))
    return table


def render_text(report: Report, fmt: str) -> str:
    return {"json": to_json, "csv": to_csv, "markdown": to_markdown}[fmt](report)
