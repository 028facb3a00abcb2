"""Reports as text: JSON (full precision), CSV, markdown, or a rich table for the terminal."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from losscli.report.report import Report, Result

FORMATS = ("auto", "table", "json", "csv", "markdown")


def short(value: float) -> str:
    """Tables round to 6 significant digits; JSON and CSV never do."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.6g}"


def params_text(result: Result) -> str:
    return ", ".join(f"{key}={value}" for key, value in result.params.items())


def to_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n"


def to_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["label", "loss", "params", "value", "n", "weight_sum", "direction"])
    for result in report.results:
        writer.writerow(
            [
                result.label,
                result.loss,
                json.dumps(result.params),
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

    table = Table(title=None, header_style="bold")
    table.add_column("loss")
    table.add_column("value", justify="right")
    table.add_column("n", justify="right")
    table.add_column("better")
    for result in report.results:
        table.add_row(result.label, short(result.value), str(result.n), result.direction)
    return table


def render_text(report: Report, fmt: str) -> str:
    return {"json": to_json, "csv": to_csv, "markdown": to_markdown}[fmt](report)
