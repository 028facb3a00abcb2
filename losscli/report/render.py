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
from losscli.report.report import Report

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
    if report.checks:
        lines += ["", f"**{_mark(report.checks)} {verdict(report.checks)}**", ""]
        lines += checks_markdown(report.checks)
    return "\n".join(lines) + "\n"


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
    table = Table(header_style="bold", caption=caption)
    table.add_column("loss")
    table.add_column("value", justify="right")
    table.add_column("n", justify="right")
    table.add_column("better")
    for result in report.results:
        # Text, not markup: a label such as ce:weight=[1,2] must print as written.
        cells = (result.label, short(result.value), str(result.n), result.direction)
        table.add_row(*map(Text, cells))
    if not report.checks:
        return table
    return Group(table, checks_table(report.checks))


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
