"""``losscli compare``: two models' values per loss, their paired difference, and a verdict."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from losscli.report.formatting import (
    csv_line,
    escape_data,
    escape_property,
    exact,
    json_ready,
    md_cell,
    p_value,
    percent,
    shown,
    table_text,
)
from losscli.report.metrics import Metrics, metric_key, metrics_text

WORSE, BETTER, UNCLEAR = "worse", "better", "no clear difference"
UNDEFINED = "undefined"  # the difference is NaN: neither better nor worse can be said


def verdict(entry: dict[str, Any]) -> str:
    """Worse or better only when the whole interval of the difference says so, or when the
    difference is infinite (one model's loss is infinite, the other's is not): that is certain."""
    difference = entry.get("difference")
    if difference is None or math.isnan(difference):
        return UNDEFINED
    low, high = entry["ci"].get("low"), entry["ci"].get("high")
    if math.isinf(difference):
        low = high = difference
    if low is None or high is None:
        return UNCLEAR
    up = low > 0
    down = high < 0
    if entry["direction"] == "higher":
        up, down = down, up
    return WORSE if up else BETTER if down else UNCLEAR


FORMATS = ("table", "json", "csv", "markdown", "github", "metrics", "junit")
FRAME_COLUMNS = ["label", "loss", "params", "direction", "baseline", "candidate", "difference"]
FRAME_COLUMNS += ["relative", "ci_low", "ci_high", "ci_level", "p_value", "verdict", "note"]


@dataclass(frozen=True)
class Comparison:
    version: str
    inputs: dict[str, Any]
    entries: list[dict[str, Any]] = field(default_factory=list)
    level: float = 0.95

    FORMATS: ClassVar[tuple[str, ...]] = FORMATS

    def verdicts(self) -> dict[str, str]:
        return {entry["label"]: verdict(entry) for entry in self.entries}

    @property
    def worse(self) -> list[str]:
        """Labels of the losses on which the candidate is worse beyond the interval."""
        return [label for label, said in self.verdicts().items() if said == WORSE]

    @property
    def passed(self) -> bool:
        """No loss worse beyond its interval, and none undefined (a NaN difference)."""
        return not self.worse and UNDEFINED not in self.verdicts().values()

    def metrics(self) -> dict[str, float | None]:
        """Trackers' metrics: ``baseline/KEY``, ``candidate/KEY``, ``difference/KEY`` (and its
        interval's ends) and ``p_value/KEY`` for each loss's KEY (see ``report.metrics``)."""
        metrics = Metrics()
        for entry in self.entries:
            key, ci = metric_key(entry["label"]), entry["ci"]
            for name in ("baseline", "candidate", "difference"):
                metrics.add(f"{name}/{key}", entry[name], f"{entry['label']} {name}")
            metrics.add(f"difference_ci_low/{key}", ci.get("low"), f"{entry['label']} ci low")
            metrics.add(f"difference_ci_high/{key}", ci.get("high"), f"{entry['label']} ci high")
            metrics.add(f"p_value/{key}", entry["p_value"], f"{entry['label']} p-value")
        return metrics.values

    def to_frame(self) -> Any:
        """One row per loss: label, loss, params, direction, baseline, candidate, difference,
        relative, ci_low, ci_high, ci_level, p_value, verdict and note (None where there is none);
        NaN stays NaN."""
        import pandas as pd

        rows = [
            {
                **{key: entry[key] for key in ("label", "loss", "params", "direction")},
                **{key: entry[key] for key in ("baseline", "candidate", "difference")},
                "relative": entry["relative"],
                "ci_low": entry["ci"].get("low"),
                "ci_high": entry["ci"].get("high"),
                "ci_level": entry["ci"].get("level"),
                "p_value": entry["p_value"],
                "verdict": verdict(entry),
                "note": entry.get("note"),
            }
            for entry in self.entries
        ]
        return pd.DataFrame(rows, columns=FRAME_COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``losscli compare --format json``; NaN is null."""
        return {
            "version": self.version,
            "inputs": json_ready(dict(self.inputs)),
            "comparisons": [
                json_ready({**entry, "verdict": verdict(entry)}) for entry in self.entries
            ],
            "passed": self.passed,
        }

    def render(self, fmt: str, console: Any = None, *, fail_if_worse: bool = False) -> str:
        """The comparison as text in ``fmt``, one of FORMATS; ``console`` sets a table's width.
        ``fail_if_worse`` (GitHub): an undefined difference fails the build, so it is an error."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
        if fmt == "table":
            return table_text(to_table(self), console)
        if fmt == "github":
            return to_github(self, gate=fail_if_worse)
        if fmt == "metrics":
            return metrics_text(self.metrics())
        if fmt == "junit":
            return to_junit(self)
        return {"json": to_json, "csv": to_csv, "markdown": to_markdown}[fmt](self)


def _interval(entry: dict[str, Any]) -> str:
    ci = entry["ci"]
    return f"[{shown(ci.get('low'))}, {shown(ci.get('high'))}]"


HEAD = ["loss", "baseline", "candidate", "difference", "relative", "ci", "p", "verdict"]


def _cells(entry: dict[str, Any]) -> list[str]:
    return [
        entry["label"],
        shown(entry["baseline"]),
        shown(entry["candidate"]),
        shown(entry["difference"]),
        percent(entry["relative"]),
        _interval(entry),
        p_value(entry["p_value"]),
        verdict(entry),
    ]


def _caption(comparison: Comparison) -> str:
    inputs = comparison.inputs
    return (
        f"candidate - baseline over {inputs['rows_used']} rows; "
        f"{comparison.level:g} paired intervals"
    )


def to_table(comparison: Comparison) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold", caption=_caption(comparison))
    for name in HEAD:
        table.add_column(
            name, justify="left" if name in ("loss", "verdict") else "right", no_wrap=name == "ci"
        )
    for entry in comparison.entries:
        table.add_row(*map(Text, _cells(entry)))
    return table


def to_junit(comparison: Comparison) -> str:
    """A test case per loss, ``mse: candidate not worse``; worse beyond the interval, or an
    undefined difference, is a failure (as for the exit code of a failing gate)."""
    from losscli.report.junit import Case, Suite, junit_text  # XML: only when asked

    cases = []
    for entry in comparison.entries:
        said = verdict(entry)
        failed = said in (WORSE, UNDEFINED)
        message = (
            f"{entry['label']}: candidate {shown(entry['candidate'])} vs baseline "
            f"{shown(entry['baseline'])}, difference {shown(entry['difference'])} "
            f"{_interval(entry)} ({comparison.level:g} interval): {said}"
        )
        name = f"{entry['label']}: candidate not worse"
        cases.append(Case(name, "losscli.compare", message if failed else None, kind=said))
    return junit_text([Suite("losscli compare", cases)], "losscli")


def to_json(comparison: Comparison) -> str:
    return json.dumps(comparison.to_dict(), indent=2, allow_nan=False) + "\n"


def to_markdown(comparison: Comparison) -> str:
    marks = {
        WORSE: "❌ worse",
        BETTER: "✅ better",
        UNCLEAR: "➖ no clear difference",
        UNDEFINED: "⚠️ undefined",
    }
    lines = ["| " + " | ".join(HEAD) + " |", "|---|" + "---:|" * 6 + "---|"]
    for entry in comparison.entries:
        cells = _cells(entry)
        cells[0] = f"`{cells[0]}`"
        cells[-1] = marks[verdict(entry)]
        lines.append("| " + " | ".join(md_cell(cell) for cell in cells) + " |")
    inputs = comparison.inputs
    lines += [
        "",
        f"Baseline {', '.join(f'`{n}`' for n in inputs['baseline'])}, candidate "
        f"{', '.join(f'`{n}`' for n in inputs['candidate'])}: {_caption(comparison)}.",
    ]
    notes = [f"- `{e['label']}`: {e['note']}." for e in comparison.entries if e.get("note")]
    if notes:
        lines += ["", "Notes:", "", *notes]
    return "\n".join(lines) + "\n"


def to_csv(comparison: Comparison) -> str:
    names = ["label", "loss", "params", "direction", "baseline", "candidate", "difference"]
    names += ["relative", "ci_low", "ci_high", "ci_level", "ci_method", "p_value", "verdict"]
    with_note = any(entry.get("note") for entry in comparison.entries)
    lines = [csv_line(names + (["note"] if with_note else []))]
    for entry in comparison.entries:
        ci = entry["ci"]
        numbers = [entry[k] for k in ("baseline", "candidate", "difference", "relative")]
        lines.append(
            csv_line(
                [entry["label"], entry["loss"], json.dumps(json_ready(entry["params"]))]
                + [entry["direction"]]
                + [exact(v) for v in numbers + [ci.get("low"), ci.get("high")]]
                + [ci["level"], ci["method"], exact(entry["p_value"]), verdict(entry)]
                + ([entry.get("note", "")] if with_note else [])
            )
        )
    return "".join(lines)


def to_github(comparison: Comparison, gate: bool = False) -> str:
    """Workflow commands: an ::error for each loss the candidate is worse on, else a ::notice.

    An undefined difference is a ::warning, or an ::error under ``gate`` (--fail-if-worse), where
    it fails the build: a warning beside a red build would not say why.
    """
    lines = []
    undefined = "error" if gate else "warning"
    for entry in comparison.entries:
        said = verdict(entry)
        kind = {WORSE: "error", UNDEFINED: undefined}.get(said, "notice")
        message = (
            f"{entry['label']}: candidate {shown(entry['candidate'])} vs baseline "
            f"{shown(entry['baseline'])}, difference {shown(entry['difference'])} "
            f"{_interval(entry)} ({comparison.level:g} interval), p={p_value(entry['p_value'])}: "
            f"{said}"
        )
        if entry.get("note"):
            message += f" ({entry['note']})"
        title = escape_property(f"losscli compare {entry['label']}")
        lines.append(f"::{kind} title={title}::{escape_data(message)}")
    return "\n".join(lines) + "\n"
