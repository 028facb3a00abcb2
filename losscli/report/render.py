"""Reports as text: JSON (full precision), CSV, markdown, GitHub workflow commands, or a rich
table for the terminal. Checks, when a report has them, follow its results in every format but CSV.

``Report.render`` is the way in. With --by, JSON and CSV are written from the groups' arrays
(``grouptext``); the table shows the first TABLE_GROUPS groups.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from losscli.report.checks import FAILED, PASSED, SKIPPED, Check, summary
from losscli.report.formatting import (
    csv_line,
    escape_data,
    escape_property,
    exact,
    group_text,
    json_ready,
    json_text,
    md_cell,
    plain,
    short,
    shown,
    signed,
    table_text,
)
from losscli.report.groups import TABLE_GROUPS, GroupResults
from losscli.report.metrics import metrics_text, result_metrics
from losscli.report.results import Result, group_headers

FORMATS = ("table", "json", "csv", "markdown", "github", "metrics", "junit")
MARK = {PASSED: "✅", FAILED: "❌", SKIPPED: "⚠️"}
WORD = {PASSED: "pass", FAILED: "FAIL", SKIPPED: "skipped"}
STYLE = {PASSED: "green", FAILED: "bold red", SKIPPED: "yellow"}

__all__ = ["FORMATS", "escape_data", "escape_property", "render_report", "short", "shown"]


class Shown(Protocol):
    """What the formats read of a report (``report.Report``)."""

    @property
    def version(self) -> str: ...

    @property
    def inputs(self) -> Mapping[str, Any]: ...

    @property
    def results(self) -> Sequence[Result]: ...

    @property
    def overall(self) -> list[Result]: ...

    @property
    def groups(self) -> GroupResults | None: ...

    @property
    def checks(self) -> list[Check]: ...

    @property
    def passed(self) -> bool | None: ...


def pick_format(fmt: str, formats: Sequence[str]) -> str:
    """``fmt`` when it is one of ``formats``; else a ValueError naming them."""
    if fmt not in formats:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(formats)}")
    return fmt


def render_report(report: Shown, fmt: str, console: Any = None) -> str:
    """``report`` as text in ``fmt`` (one of FORMATS); ``console`` (rich) sets a table's width."""
    if pick_format(fmt, FORMATS) == "table":
        return table_text(to_table(report), console)
    writers: dict[str, Callable[[Shown], str]] = {
        "json": to_json,
        "csv": to_csv,
        "markdown": to_markdown,
        "github": to_github,
        "metrics": to_metrics,
        "junit": to_junit,
    }
    return writers[fmt](report)


def to_metrics(report: Shown) -> str:
    """Each result's value under a key trackers accept (``metrics``)."""
    return metrics_text(result_metrics(report.results))


def to_junit(report: Shown, name: str = "eval") -> str:
    """The report's checks as JUnit XML: a test case per check."""
    from losscli.report.junit import Suite, check_cases, junit_text  # XML: only when asked

    suite = Suite(f"losscli {name}", check_cases(report.checks, f"losscli.{name}"))
    return junit_text([suite], "losscli")


def render_pieces(report: Shown, fmt: str) -> Iterator[bytes]:
    """``render_report(report, fmt)`` as UTF-8 bytes, in pieces made as they are asked for (JSON
    and CSV: a million groups' text is never held whole, nor made a Python string)."""
    if fmt == "json":
        return json_pieces(report)
    if fmt == "csv":
        return csv_pieces(report)
    return iter([render_report(report, fmt).encode()])


def to_json(report: Shown) -> str:
    """The JSON of ``report.to_dict()`` as ``json.dumps(indent=2)`` writes it."""
    return b"".join(json_pieces(report)).decode()


def json_pieces(report: Shown) -> Iterator[bytes]:
    """``to_json``'s text in pieces, made as they are asked for: the groups' part written from
    their arrays a block at a time, never held whole."""
    yield ("{\n" + f'  "version": {json_text(report.version, 1)},\n').encode()
    yield f'  "inputs": {json_text(dict(report.inputs), 1)},\n'.encode()
    items: Iterable[bytes] = [
        ("    " + json_text(result.to_dict(), 2)).encode() for result in report.overall
    ]
    if report.groups is not None and len(report.groups):
        # Here, not at the top: the text of groups is built in Arrow, which a run without
        # groups need not load.
        from losscli.report.grouptext import json_entries

        items = itertools.chain(items, json_entries(report.groups, 2))
    yield b'  "results": ['
    between = b"\n"
    for item in items:
        yield between + item
        between = b",\n"
    yield b"]" if between == b"\n" else b"\n  ]"
    if report.checks:
        checks = json_text([check.to_dict() for check in report.checks], 1)
        yield f',\n  "checks": {checks}'.encode()
        yield f',\n  "passed": {json_text(report.passed, 1)}'.encode()
    yield b"\n}\n"


def _columns(report: Shown) -> list[str]:
    """The --by columns, in the order given."""
    return report.groups.columns if report.groups is not None else []


def _with_ci(report: Shown) -> bool:
    groups = report.groups
    return any(result.ci for result in report.overall) or (groups is not None and groups.with_ci)


def _levels(report: Shown) -> list[float]:
    """The confidence levels of the intervals, each once."""
    levels = {result.ci["level"] for result in report.overall if result.ci}
    if report.groups is not None:
        parts = report.groups.parts
        levels |= {p.interval.level for p in parts if p.interval is not None and len(p)}
    return sorted(levels)


def interval_text(result: Result) -> str:
    ci = result.ci
    if not ci or ci.get("low") is None or ci.get("high") is None:
        return "" if not ci else "n/a"
    return f"[{short(ci['low'])}, {short(ci['high'])}]"


def to_csv(report: Shown) -> str:
    """One row per result; a NaN or infinite number is an empty cell (the command says why on
    stderr). With --by, ``scope`` tells the overall rows ("all") from the groups' ("group"), whose
    null values are empty cells, and ``note`` (when some result has one) says why a value is
    missing: the notes of groups are not written on stderr."""
    return b"".join(csv_pieces(report)).decode()


def csv_pieces(report: Shown) -> Iterator[bytes]:
    """``to_csv``'s text in pieces, made as they are asked for: groups from their arrays, a
    block at a time, never held whole."""
    groups = report.groups
    columns = _columns(report)
    with_ci = _with_ci(report)
    with_note = bool(columns) and (
        any(result.note for result in report.overall) or (groups is not None and groups.any_note())
    )
    head = ["label", *(["scope"] if columns else []), *group_headers(columns), "loss", "params"]
    head += ["value", "n", "weight_sum", "direction"]
    head += ["ci_low", "ci_high", "ci_level"] if with_ci else []
    lines = [csv_line(head + (["note"] if with_note else []))]
    lines += [csv_line(_csv_cells(r, columns, with_ci, with_note)) for r in report.overall]
    yield "".join(lines).encode()
    if groups is not None:
        from losscli.report.grouptext import csv_rows

        yield from csv_rows(groups, columns, with_ci, with_note)


def _csv_cells(result: Result, columns: list[str], with_ci: bool, with_note: bool) -> list[Any]:
    """An overall result's cells (a group's are written by ``grouptext.csv_rows``)."""
    cells: list[Any] = [result.label, *(["all"] + [""] * len(columns) if columns else [])]
    cells += [
        result.loss,
        json.dumps(json_ready(result.params), allow_nan=False),
        exact(result.value),
        result.n,
        exact(result.weight_sum),
        result.direction,
    ]
    if with_ci:
        ci = result.ci or {}
        cells += [exact(ci.get(key)) for key in ("low", "high", "level")]
    return cells + ([result.note or ""] if with_note else [])


def _scope(result: Result) -> str:
    """A group as ``col=value, ...``, or 'all rows' for the overall result."""
    if result.group is None:
        return "all rows"
    return ", ".join(f"{key}={group_text(value)}" for key, value in result.group.items())


def _notes(report: Shown) -> list[str]:
    """Each result whose value is NaN or infinite, and why."""
    return [
        f"`{result.label}` ({md_cell(_scope(result))}): {result.note}."
        for result in report.results
        if result.note and not math.isfinite(result.value)
    ]


def to_markdown(report: Shown) -> str:
    groups = _columns(report)
    with_ci = _with_ci(report)
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
        levels = _levels(report)
        lines.append(f"Intervals at {', '.join(f'{level:g}' for level in levels)} confidence.")
    notes = _notes(report)
    if notes:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in notes]
    for result in report.overall:
        if result.worst:
            lines += ["", f"Worst rows by `{result.label}`:", ""]
            lines += _markdown_rows(result.worst)
    if report.checks:
        lines += ["", f"**{verdict_mark(report.checks)} {verdict(report.checks)}**", ""]
        lines += checks_markdown(report.checks)
    return "\n".join(lines) + "\n"


def _md_group(value: Any) -> str:
    """A group's value in a markdown cell; a null is *null*, unlike any text value."""
    return "*null*" if plain(value) is None else _md_text(group_text(value))


def _md_text(text: str) -> str:
    """A group's value as literal text: a value such as ``*all*`` must not read as emphasis
    (the overall row's mark)."""
    for special in ("\\", "`", "*", "_"):
        text = text.replace(special, "\\" + special)
    return md_cell(text)


def _markdown_rows(rows: list[dict[str, Any]]) -> list[str]:
    keys = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(keys) + " |", "|" + "|".join("---" for _ in keys) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(md_cell(_cell(row.get(key), shown)) for key in keys) + " |")
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
        lines.append("| " + " | ".join(md_cell(cell) for cell in cells) + " |")
    return lines


def to_table(report: Shown) -> Any:
    """The results as a rich table (with --by, of the first TABLE_GROUPS groups), then each
    --worst table and the checks."""
    from rich.console import Group

    parts: list[Any] = [_results_table(report)]
    for result in report.overall:
        if result.worst:
            parts.append(_worst_table(result))
    if report.checks:
        parts.append(checks_table(report.checks))
    return parts[0] if len(parts) == 1 else Group(*parts)


def _results_table(report: Shown) -> Any:
    from rich.table import Table
    from rich.text import Text

    inputs = report.inputs
    caption = f"{inputs.get('rows_used')} rows used of {inputs.get('rows_read')} read"
    groups = _columns(report)
    with_ci = _with_ci(report)
    if with_ci:
        levels = _levels(report)
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
    overall = len(report.overall)
    shown_groups = report.groups.head(TABLE_GROUPS) if report.groups is not None else []
    for number, result in enumerate([*report.overall, *shown_groups]):
        # Text, not markup: a label such as ce:weight=[1,2] must print as written.
        cells = [Text(result.label)]
        cells += [_table_group(result, key) for key in groups]
        cells.append(Text(short(result.value)))
        if with_ci:
            cells.append(Text(interval_text(result)))
        cells += [Text(str(result.n)), Text(result.direction)]
        table.add_row(*cells, end_section=bool(groups) and number == overall - 1)
    return table


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


def to_github(report: Shown, name: str | None = None) -> str:
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


def verdict_mark(checks: Sequence[Check]) -> str:
    """The mark of a set of checks: a cross when one failed, else a tick."""
    return MARK[FAILED] if any(check.failed for check in checks) else MARK[PASSED]


def _numbers(check: Check) -> tuple[str, str, str]:
    """Bound, value and signed margin as shown in tables; blank where there is none."""
    margin = check.margin
    return (
        shown(check.threshold) if check.threshold is not None else "",
        shown(check.value) if check.value is not None else "",
        signed(margin) if margin is not None else "",
    )
