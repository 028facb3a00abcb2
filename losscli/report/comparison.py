"""``losscli compare``: two models' values per loss, their paired difference, and a verdict."""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True)
class Comparison:
    version: str
    inputs: dict[str, Any]
    entries: list[dict[str, Any]] = field(default_factory=list)
    level: float = 0.95

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

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``losscli compare --format json``; NaN is null."""
        return {
            "version": self.version,
            "inputs": _finite(dict(self.inputs)),
            "comparisons": [
                _finite({**entry, "verdict": verdict(entry)}) for entry in self.entries
            ],
            "passed": self.passed,
        }


def _finite(value: Any) -> Any:
    """``value`` as plain JSON: NumPy arrays and scalars as lists and numbers (a parameter read
    from a file is an array), a NaN or infinite float as null."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def _short(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.6g}"


def _percent(value: Any) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:+.2%}"


def _interval(entry: dict[str, Any]) -> str:
    ci = entry["ci"]
    return f"[{_short(ci.get('low'))}, {_short(ci.get('high'))}]"


def _p(value: Any) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return "< 0.0001" if value < 1e-4 else f"{value:.4f}"


HEAD = ["loss", "baseline", "candidate", "difference", "relative", "ci", "p", "verdict"]


def _cells(entry: dict[str, Any]) -> list[str]:
    return [
        entry["label"],
        _short(entry["baseline"]),
        _short(entry["candidate"]),
        _short(entry["difference"]),
        _percent(entry["relative"]),
        _interval(entry),
        _p(entry["p_value"]),
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
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
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
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    names = ["label", "loss", "params", "direction", "baseline", "candidate", "difference"]
    names += ["relative", "ci_low", "ci_high", "ci_level", "ci_method", "p_value", "verdict"]
    with_note = any(entry.get("note") for entry in comparison.entries)
    writer.writerow(names + (["note"] if with_note else []))
    for entry in comparison.entries:
        ci = entry["ci"]
        numbers = [entry[k] for k in ("baseline", "candidate", "difference", "relative")]
        writer.writerow(
            [entry["label"], entry["loss"], json.dumps(_finite(entry["params"]))]
            + [entry["direction"]]
            + [_number(v) for v in numbers + [ci.get("low"), ci.get("high")]]
            + [ci["level"], ci["method"], _number(entry["p_value"]), verdict(entry)]
            + ([entry.get("note", "")] if with_note else [])
        )
    return buffer.getvalue()


def _number(value: Any) -> str:
    """A number as it reads back exactly (a NumPy scalar as its Python float); empty when NaN or
    infinite (the note says why)."""
    value = _finite(value)
    return repr(value) if isinstance(value, (float, int)) and not isinstance(value, bool) else ""


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
            f"{entry['label']}: candidate {_short(entry['candidate'])} vs baseline "
            f"{_short(entry['baseline'])}, difference {_short(entry['difference'])} "
            f"{_interval(entry)} ({comparison.level:g} interval), p={_p(entry['p_value'])}: {said}"
        )
        if entry.get("note"):
            message += f" ({entry['note']})"
        title = _escape(f"losscli compare {entry['label']}").replace(":", "%3A").replace(",", "%2C")
        lines.append(f"::{kind} title={title}::{_escape(message)}")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


FORMATS = ("auto", "table", "json", "csv", "markdown", "github")
