"""Reports as text: JSON (full precision), CSV, markdown, GitHub workflow commands, or a rich
table for the terminal. Checks, when a report has them, follow its results in every format but CSV.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Any

from losscli.report.checks import FAILED, PASSED, SKIPPED, Check, CheckRun, summary
from losscli.report.report import Report, Result

FORMATS = ("auto", "table", "json", "csv", "markdown", "github")
# `losscli check` shows several reports: one CSV table cannot hold them.
RUN_FORMATS = ("auto", "table", "json", "markdown", "github")
MARK = {PASSED: "✅", FAILED: "❌", SKIPPED: "⚠️"}
WORD = {PASSED: "pass", FAILED: "FAIL", SKIPPED: "skipped"}
STYLE = {PASSED: "green", FAILED: "bold red", SKIPPED: "yellow"}


def short(value: float) -> str:
    """Tables round to 6 significant digits; JSON and CSV never do."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:.6g}"


def to_json(report: Report | CheckRun) -> str:
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
    if report.checks:
        lines += ["", f"**{_mark(report.checks)} {verdict(report.checks)}**", ""]
        lines += checks_markdown(report.checks)
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


def checks_markdown(checks: Sequence[Check]) -> list[str]:
    """A GitHub-flavoured table of checks: result, loss, bound, value and margin."""
    lines = ["| result | loss | check | bound | value | margin |", "|---|---|---|---:|---:|---:|"]
    for check in checks:
        result = f"{MARK[check.status]} {WORD[check.status].lower()}"
        if check.reason:
            result += f": {check.reason}"
        cells = (result, f"`{check.label}`", check.bound_text(), *_numbers(check))
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return lines


def run_markdown(run: CheckRun) -> str:
    """``losscli check`` as markdown: a verdict, then each named check's results and checks."""
    lines = [f"### {_mark(run.checks)} losscli check: {verdict(run.checks)}", ""]
    for name, report in run.reports.items():
        lines += [f"#### {_mark(report.checks)} {name}", "", to_markdown(report)]
    return "\n".join(lines)


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
    if report.checks:
        parts.append(checks_table(report.checks))
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


def checks_table(checks: Sequence[Check]) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold", caption=verdict(checks))
    for name in ("result", "loss", "check", "bound", "value", "margin"):
        table.add_column(name, justify="right" if name in ("bound", "value", "margin") else "left")
    for check in checks:
        result = WORD[check.status] + (f": {check.reason}" if check.reason else "")
        cells = (check.label, check.bound_text(), *_numbers(check))
        table.add_row(Text(result, style=STYLE[check.status]), *map(Text, cells))
    return table


def run_table(run: CheckRun) -> Any:
    from rich.console import Group
    from rich.text import Text

    parts: list[Any] = []
    for name, report in run.reports.items():
        status = FAILED if report.passed is False else PASSED
        parts += [Text(f"{name}: {status}", style=STYLE[status]), to_table(report)]
    parts.append(Text(f"losscli check: {verdict(run.checks)}", style="bold"))
    return Group(*parts)


def to_github(report: Report, name: str | None = None) -> str:
    """Plain lines for the results and checks, and a workflow command per check not passed.

    GitHub turns ``::error title=...::message`` into an annotation on the run; a skipped check is
    a warning.
    """
    prefix = f"{name}: " if name else ""
    lines = [
        f"{prefix}{result.label} = {short(result.value)} ({result.direction} is better, "
        f"n={result.n})"
        for result in report.results
    ]
    for check in report.checks:
        if check.passed:
            lines.append(f"{prefix}pass: {check.describe()}")
            continue
        command = "error" if check.failed else "warning"
        title = f"losscli {name or 'eval'}: {check.label} {check.kind}"
        lines.append(
            f"::{command} title={escape_property(title)}::{escape_data(prefix + check.describe())}"
        )
    if report.checks and name is None:
        lines.append(verdict(report.checks))
    return "".join(line + "\n" for line in lines)


def run_github(run: CheckRun) -> str:
    text = "".join(to_github(report, name) for name, report in run.reports.items())
    return text + f"losscli check: {verdict(run.checks)}\n"


def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF escaped as GitHub's runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (``title=``): also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def verdict(checks: Sequence[Check]) -> str:
    """``1 of 3 checks failed``, ``all 3 checks passed``, ``2 checks passed, 1 skipped``."""
    counts = summary(checks)
    total = len(checks)
    skipped = f", {counts[SKIPPED]} skipped" if counts[SKIPPED] else ""
    noun = "check" if total == 1 else "checks"
    if counts[FAILED]:
        return f"{counts[FAILED]} of {total} {noun} failed{skipped}"
    if not counts[SKIPPED]:
        everything = {1: "1 check", 2: "both checks"}.get(total, f"all {total} checks")
        return f"{everything} passed"
    return f"{counts[PASSED]} of {total} {noun} passed{skipped}"


def _mark(checks: Sequence[Check]) -> str:
    return MARK[FAILED] if any(check.failed for check in checks) else MARK[PASSED]


def _numbers(check: Check) -> tuple[str, str, str]:
    """Bound, value and signed margin as shown in tables; blank where there is none."""
    margin = check.margin
    return (
        short(check.threshold) if check.threshold is not None else "",
        short(check.value) if check.value is not None else "",
        f"{margin:+.6g}" if margin is not None else "",
    )


def render_text(report: Report, fmt: str) -> str:
    return {"json": to_json, "csv": to_csv, "markdown": to_markdown, "github": to_github}[fmt](
        report
    )


def render_run(run: CheckRun, fmt: str) -> str:
    return {"json": to_json, "markdown": run_markdown, "github": run_github}[fmt](run)
