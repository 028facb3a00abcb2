"""The outcome of one evaluation: inputs read and one result per requested loss."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from os import PathLike
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from losscli.report.checks import Check


def plain(value: Any) -> Any:
    """A value as plain Python for output: a NumPy scalar as its Python number (so no
    ``np.float64(9.4)`` reaches a report), and a NaN label as None (a float column's null)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def plain_group(group: Mapping[str, Any]) -> dict[str, Any]:
    """A group's {column: value} with each value ``plain``."""
    return {key: plain(value) for key, value in group.items()}


# The columns of a results table (CSV, to_frame) besides the --by columns.
RESULT_COLUMNS = frozenset(
    {"label", "scope", "loss", "params", "value", "n", "weight_sum", "direction"}
    | {"ci_low", "ci_high", "ci_level", "note"}
)


def group_headers(groups: list[str]) -> list[str]:
    """The header of each --by column in a results table: its name, or ``by:NAME`` where the name
    is one of the table's own columns (a --by column called ``value`` must not replace the loss
    values)."""
    headers: list[str] = []
    for name in groups:
        header = name
        while header in RESULT_COLUMNS or header in headers:
            header = "by:" + header
        headers.append(header)
    return headers


@dataclass(frozen=True)
class Result:
    label: str
    loss: str
    params: dict[str, Any]
    value: float
    n: int
    weight_sum: float
    direction: str
    ci: dict[str, Any] | None = None  # --ci: {level, low, high, method, ...}
    group: dict[str, Any] | None = None  # --by: {column: value}; None for the overall result
    worst: list[dict[str, Any]] | None = None  # --worst: rows with the largest loss
    reason: str | None = None  # why the value is NaN or infinite (or a group has none)

    @property
    def note(self) -> str | None:
        if self.reason:
            return self.reason
        if math.isnan(self.value):
            return "the value is NaN: a missing value reached it (see --nan) or it is undefined"
        if math.isinf(self.value):
            return "the value is infinite: some input overflowed the loss or lies on its boundary"
        return None

    def to_dict(self) -> dict[str, Any]:
        finite = math.isfinite(self.value)
        entry: dict[str, Any] = {
            "label": self.label,
            "loss": self.loss,
            "params": dict(self.params),
            "value": self.value if finite else None,
            "n": self.n,
            "weight_sum": self.weight_sum,
            "direction": self.direction,
        }
        if self.note:
            entry["note"] = self.note
        if self.ci is not None:
            entry["ci"] = dict(self.ci)
        if self.group is not None:
            entry["group"] = plain_group(self.group)
        if self.worst is not None:
            entry["worst"] = [dict(row) for row in self.worst]
        return entry


@dataclass(frozen=True)
class Report:
    version: str
    inputs: dict[str, Any]
    results: list[Result] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    # evaluate(..., per_row=True): each row's loss values; never part of to_dict() (the JSON).
    per_row: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> bool | None:
        """None without checks; else True when no check failed (a skipped one does not fail)."""
        if not self.checks:
            return None
        return not any(check.failed for check in self.checks)

    def check(
        self,
        *,
        max: Mapping[str, float] | None = None,
        min: Mapping[str, float] | None = None,
        baseline: Report | Mapping[str, Any] | str | PathLike[str] | None = None,
        tolerance: str | float | Mapping[str, str | float] | None = None,
        allow_missing: bool = False,
        other_rows: bool = False,
    ) -> Report:
        """This report with checks added: thresholds by LABEL, and a baseline report.

        ``max={"mse": 1200}`` fails when the value is above 1200, ``min={"r2": 0.9}`` when below.
        ``baseline`` is an earlier Report, its ``to_dict()``, or the path of its JSON file; a result
        fails when worse than the baseline's by more than ``tolerance`` (``0.01`` absolute, ``"2%"``
        of the baseline value, or ``{"default": "1%", "mse": 0.5}``; 0 when not given). A loss on
        one side only fails, or is skipped when ``allow_missing``. A baseline over another number of
        rows (``inputs.rows_used``) is an InputError unless ``other_rows``. See ``passed``.
        """
        from losscli.errors import UsageError
        from losscli.report import checks as gate

        added = gate.threshold_checks(self, max=max, min=min)
        if baseline is not None:
            document = _baseline_document(baseline)
            added += gate.baseline_checks(self, document, tolerance, allow_missing, other_rows)
        elif tolerance is not None or allow_missing or other_rows:
            raise UsageError(
                "A tolerance and allowing missing losses apply to a baseline only.",
                "Give a baseline (--baseline FILE), or leave them out.",
            )
        return replace(self, checks=[*self.checks, *added])

    def __getitem__(self, label: str) -> float:
        """The overall value of the result called ``label`` (e.g. ``report["huber:delta=2"]``)."""
        for result in self.results:
            if result.label == label and result.group is None:
                return result.value
        known = ", ".join(result.label for result in self.results)
        raise KeyError(f"no result labelled {label!r}; labels: {known}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``losscli eval --format json``."""
        document: dict[str, Any] = {
            "version": self.version,
            "inputs": dict(self.inputs),
            "results": [result.to_dict() for result in self.results],
        }
        if self.checks:
            document["checks"] = [check.to_dict() for check in self.checks]
            document["passed"] = self.passed
        return document

    def to_frame(self) -> pd.DataFrame:
        """One row per result: label, with --by a ``scope`` ("all" for the overall rows, "group"
        for a group's) and the group columns (empty on the overall rows, None for a null group
        value), loss, params, value, n, weight_sum, direction, ci_low / ci_high with --ci, and
        ``note`` (why a value is NaN or infinite, else None)."""
        import pandas as pd

        groups = list(dict.fromkeys(key for r in self.results if r.group for key in r.group))
        headers = group_headers(groups)
        scope = ["scope"] if groups else []
        columns = ["label", *scope, *headers, "loss", "params", "value", "n", "weight_sum"]
        columns += ["direction"]
        with_ci = any(result.ci is not None for result in self.results)
        if with_ci:
            columns += ["ci_low", "ci_high"]
        columns += ["note"]
        rows = []
        for result in self.results:
            row = {**result.to_dict(), "value": result.value, "note": result.note}
            if groups:
                row["scope"] = "all" if result.group is None else "group"
            if with_ci:
                row["ci_low"] = (result.ci or {}).get("low")
                row["ci_high"] = (result.ci or {}).get("high")
            rows.append(row)
        frame = pd.DataFrame(rows, columns=columns)
        for key, header in zip(groups, headers, strict=True):
            # As objects: ints stay ints and a null stays None (pandas would make both floats).
            values = [plain((result.group or {}).get(key)) for result in self.results]
            frame[header] = pd.Series(values, dtype=object, index=frame.index)
        frame["note"] = pd.Series([r.note for r in self.results], dtype=object, index=frame.index)
        return frame


def _baseline_document(baseline: Report | Mapping[str, Any] | str | PathLike[str]) -> Any:
    from losscli.report.checks import baseline_results, read_baseline

    if isinstance(baseline, Report):
        return baseline.to_dict()
    if isinstance(baseline, Mapping):
        baseline_results(baseline)
        return baseline
    return read_baseline(baseline)
