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


def group_columns(report: Report) -> list[str]:
    """The --by columns, in the order given."""
    return list(dict.fromkeys(key for r in report.results if r.group for key in r.group))


def interval_text(result: Result) -> str:
    ci = result.ci
    if not ci or ci.get("low") is None or ci.get("high") is None:
        return "" if not ci else "n/a"
    return f"[{short(ci['low'])}, {short(ci['high'])}]"


def group_text(value: Any) -> str:
    return "(null)" if value is None else str(value)


def to_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    groups = group_columns(report)
    with_ci = any(result.ci for result in report.results)
    head = ["label", *groups, "loss", "params", "value", "n", "weight_sum", "direction"]
    writer.writerow(head + (["ci_low", "ci_high", "ci_level"] if with_ci else []))
    for result in report.results:
        cells = [
            result.label,
            *[_csv_cell((result.group or {}).get(key, "")) for key in groups],
            result.loss,
            json.dumps(json_ready(result.params), allow_nan=False),
            repr(result.value) if math.isfinite(result.value) else "",
            result.n,
            repr(result.weight_sum),
            result.direction,
        ]
        if with_ci:
            ci = result.ci or {}
            cells += [_csv_cell(ci.get("low")), _csv_cell(ci.get("high")), ci.get("level", "")]
        writer.writerow(cells)
    return buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else value


def _scope(result: Result) -> str:
    """A group as ``col=value, ...``, or 'all' for the overall result."""
    if result.group is None:
        return "all rows"
    return ", ".join(f"{key}={group_text(value)}" for key, value in result.group.items())


def to_markdown(report: Report) -> str:
    groups = group_columns(report)
    with_ci = any(result.ci for result in report.results)
    head = ["loss", *groups, "value"] + (["ci"] if with_ci else []) + ["n", "better"]
    align = ["---"] + ["---"] * len(groups) + ["---:"] + (["---"] if with_ci else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align + ["---:", "---"]) + "|"]
    for result in report.results:
        cells = [f"`{result.label}`"]
        cells += [
            "*all*" if result.group is None else _md(group_text(result.group.get(key)))
            for key in groups
        ]
        cells.append(short(result.value))
        if with_ci:
            cells.append(interval_text(result))
        cells += [str(result.n), result.direction]
        lines.append("| " + " | ".join(cells) + " |")
    inputs = report.inputs
    files = ", ".join(f"`{name}`" for name in inputs.get("files", []))
    lines.append("")
    lines.append(
        f"{inputs.get('rows_used')} rows used of {inputs.get('rows_read')} read from {files}."
    )
    if with_ci:
        levels = sorted({r.ci["level"] for r in report.results if r.ci})
        lines.append(f"Intervals at {', '.join(f'{level:g}' for level in levels)} confidence.")
    for result in report.results:
        if result.worst:
            lines += ["", f"Worst rows by `{result.label}`:", ""]
            lines += _markdown_rows(result.worst)
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _markdown_rows(rows: list[dict[str, Any]]) -> list[str]:
    keys = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(keys) + " |", "|" + "|".join("---" for _ in keys) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_md(_cell(row.get(key))) for key in keys) + " |")
    return lines


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return short(value)
    if isinstance(value, list):
        shown = ", ".join(_cell(item) for item in value[:4])
        return f"[{shown}{', ...' if len(value) > 4 else ''}]"
    return "" if value is None else str(value)


def to_table(report: Report) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    inputs = report.inputs
    caption = f"{inputs.get('rows_used')} rows used of {inputs.get('rows_read')} read"
    groups = group_columns(report)
    with_ci = any(result.ci for result in report.results)
    if with_ci:
        levels = sorted({r.ci["level"] for r in report.results if r.ci})
        caption += f"; intervals at {', '.join(f'{level:g}' for level in levels)} confidence"
    table = Table(header_style="bold", caption=caption)
    table.add_column("loss")
    for key in groups:
        table.add_column(key)
    table.add_column("value", justify="right")
    if with_ci:
        table.add_column("ci", justify="right")
    table.add_column("n", justify="right")
    table.add_column("better")
    overall = sum(result.group is None for result in report.results)
    for number, result in enumerate(report.results):
        # Text, not markup: a label such as ce:weight=[1,2] must print as written.
        cells = [result.label]
        cells += [
            "all" if result.group is None else group_text(result.group.get(key)) for key in groups
        ]
        cells.append(short(result.value))
        if with_ci:
            cells.append(interval_text(result))
        cells += [str(result.n), result.direction]
        table.add_row(*map(Text, cells), end_section=bool(groups) and number == overall - 1)
    parts: list[Any] = [table]
    for result in report.results:
        if result.worst:
            parts.append(_worst_table(result))
    return parts[0] if len(parts) == 1 else Group(*parts)


def _worst_table(result: Result) -> Any:
    from rich.table import Table
    from rich.text import Text

    rows = result.worst or []
    keys = list(dict.fromkeys(key for row in rows for key in row))
    table = Table(header_style="bold", title=f"worst rows by {result.label}")
    for key in keys:
        table.add_column(key, justify="right" if key in ("row", "loss") else "left")
    for row in rows:
        table.add_row(*(Text(_cell(row.get(key))) for key in keys))
    return table


def render_text(report: Report, fmt: str) -> str:
    return {"json": to_json, "csv": to_csv, "markdown": to_markdown}[fmt](report)
