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
from losscli.report.report import Report, Result, group_headers, plain

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


def shown(value: float | None) -> str:
    """A number in markdown and GitHub text: rounded as in tables, 'n/a' when it is NaN or
    infinite (the note beside it says which and why)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return short(value)


def to_json(report: Report | CheckRun) -> str:
    return json.dumps(json_ready(report.to_dict()), indent=2, allow_nan=False) + "\n"


def json_ready(value: Any) -> Any:
    """``value`` as plain JSON: NumPy scalars and arrays as numbers and lists, and a NaN or
    infinite float as null (JSON has neither). A result's value carries a note saying why; this
    also covers a weight sum that overflowed."""
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


def group_columns(report: Report) -> list[str]:
    """The --by columns, in the order given."""
    return list(dict.fromkeys(key for r in report.results if r.group for key in r.group))


def interval_text(result: Result) -> str:
    ci = result.ci
    if not ci or ci.get("low") is None or ci.get("high") is None:
        return "" if not ci else "n/a"
    return f"[{short(ci['low'])}, {short(ci['high'])}]"


def group_text(value: Any) -> str:
    value = plain(value)
    if value is None:
        return "(null)"
    return repr(value) if isinstance(value, float) else str(value)


def to_csv(report: Report) -> str:
    """One row per result; a NaN or infinite number is an empty cell (the command says why on
    stderr). With --by, ``scope`` tells the overall rows ("all") from the groups' ("group"), whose
    null values are empty cells, and ``note`` (when some result has one) says why a value is
    missing: the notes of groups are not written on stderr."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    groups = group_columns(report)
    scope = ["scope"] if groups else []
    with_ci = any(result.ci for result in report.results)
    with_note = bool(groups) and any(result.note for result in report.results)
    head = ["label", *scope, *group_headers(groups), "loss", "params", "value", "n"]
    head += ["weight_sum", "direction"]
    head += ["ci_low", "ci_high", "ci_level"] if with_ci else []
    writer.writerow(head + (["note"] if with_note else []))
    for result in report.results:
        cells: list[Any] = [result.label]
        if groups:
            cells.append("all" if result.group is None else "group")
        cells += [_label_cell((result.group or {}).get(key)) for key in groups]
        cells += [
            result.loss,
            json.dumps(json_ready(result.params), allow_nan=False),
            _number_cell(result.value),
            result.n,
            _number_cell(result.weight_sum),
            result.direction,
        ]
        if with_ci:
            ci = result.ci or {}
            cells += [_number_cell(ci.get(k)) for k in ("low", "high", "level")]
        writer.writerow(cells + ([result.note or ""] if with_note else []))
    return buffer.getvalue()


def _number_cell(value: Any) -> Any:
    """A number as it reads back exactly (``repr`` of a float, an int as an int); empty when
    there is none or it is NaN or infinite."""
    value = plain(value)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return repr(value) if isinstance(value, float) else value


def _label_cell(value: Any) -> Any:
    """A group's value: text as text, numbers as numbers, a null as an empty cell."""
    value = plain(value)
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else value


def _scope(result: Result) -> str:
    """A group as ``col=value, ...``, or 'all rows' for the overall result."""
    if result.group is None:
        return "all rows"
    return ", ".join(f"{key}={group_text(value)}" for key, value in result.group.items())


def _notes(report: Report) -> list[str]:
    """Each result whose value is NaN or infinite, and why."""
    return [
        f"`{result.label}` ({_md(_scope(result))}): {result.note}."
        for result in report.results
        if result.note and not math.isfinite(result.value)
    ]


def to_markdown(report: Report) -> str:
    groups = group_columns(report)
    with_ci = any(result.ci for result in report.results)
    head = ["loss", *groups, "value"] + (["ci"] if with_ci else []) + ["n", "better"]
    align = ["---"] + ["---"] * len(groups) + ["---:"] + (["---"] if with_ci else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(align + ["---:", "---"]) + "|"]
    for result in report.results:
        cells = [f"`{result.label}`"]
        cells += [
            "*all*" if result.group is None else _md_group(result.group.get(key)) for key in groups
        ]
        cells.append(shown(result.value))
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
    notes = _notes(report)
    if notes:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in notes]
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


def _md_group(value: Any) -> str:
    """A group's value in a markdown cell; a null is *null*, unlike any text value."""
    return "*null*" if plain(value) is None else _md_text(group_text(value))


def _md_text(text: str) -> str:
    """A group's value as literal text: a value such as ``*all*`` must not read as emphasis
    (the overall row's mark)."""
    for special in ("\\", "`", "*", "_"):
        text = text.replace(special, "\\" + special)
    return _md(text)


def _markdown_rows(rows: list[dict[str, Any]]) -> list[str]:
    keys = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(keys) + " |", "|" + "|".join("---" for _ in keys) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_md(_cell(row.get(key), shown)) for key in keys) + " |")
    return lines


def _cell(value: Any, number: Any = short) -> str:
    value = plain(value) if not isinstance(value, list) else value
    if isinstance(value, float):
        return number(value)
    if isinstance(value, list):
        items = ", ".join(_cell(item, number) for item in value[:4])
        return f"[{items}{', ...' if len(value) > 4 else ''}]"
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
        cells = [Text(result.label)]
        cells += [_table_group(result, key) for key in groups]
        cells.append(Text(short(result.value)))
        if with_ci:
            cells.append(Text(interval_text(result)))
        cells += [Text(str(result.n)), Text(result.direction)]
        table.add_row(*cells, end_section=bool(groups) and number == overall - 1)
    parts: list[Any] = [table]
    for result in report.results:
        if result.worst:
            parts.append(_worst_table(result))
    if report.checks:
        parts.append(checks_table(report.checks))
    return parts[0] if len(parts) == 1 else Group(*parts)


def _table_group(result: Result, key: str) -> Any:
    """A group cell; the overall row's 'all' and a null's '(null)' in italics, unlike text."""
    from rich.text import Text

    if result.group is None:
        return Text("all", style="italic")
    value = result.group.get(key)
    if plain(value) is None:
        return Text("(null)", style="italic dim")
    return Text(group_text(value))


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
    lines = []
    for result in report.results:
        scope = f" [{_scope(result)}]" if result.group is not None else ""
        note = f": {result.note}" if result.note and not math.isfinite(result.value) else ""
        lines.append(
            f"{prefix}{result.label}{scope} = {shown(result.value)}{note} "
            f"({result.direction} is better, n={result.n})"
        )
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
        shown(check.threshold) if check.threshold is not None else "",
        shown(check.value) if check.value is not None else "",
        f"{margin:+.6g}" if margin is not None else "",
    )


def render_text(report: Report, fmt: str) -> str:
    return {"json": to_json, "csv": to_csv, "markdown": to_markdown, "github": to_github}[fmt](
        report
    )


def render_run(run: CheckRun, fmt: str) -> str:
    return {"json": to_json, "markdown": run_markdown, "github": run_github}[fmt](run)
