"""The outcome of one evaluation: inputs read and one result per requested loss."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


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
    reason: str | None = None  # why a group has no value

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
            entry["group"] = dict(self.group)
        if self.worst is not None:
            entry["worst"] = [dict(row) for row in self.worst]
        return entry


@dataclass(frozen=True)
class Report:
    version: str
    inputs: dict[str, Any]
    results: list[Result] = field(default_factory=list)

    def __getitem__(self, label: str) -> float:
        """The overall value of the result called ``label`` (e.g. ``report["huber:delta=2"]``)."""
        for result in self.results:
            if result.label == label and result.group is None:
                return result.value
        known = ", ".join(result.label for result in self.results)
        raise KeyError(f"no result labelled {label!r}; labels: {known}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``losscli eval --format json``."""
        return {
            "version": self.version,
            "inputs": dict(self.inputs),
            "results": [result.to_dict() for result in self.results],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per result: label, any --by columns (empty on the overall rows), loss, params,
        value, n, weight_sum, direction, and ci_low / ci_high with --ci."""
        import pandas as pd

        groups = list(dict.fromkeys(key for r in self.results if r.group for key in r.group))
        columns = ["label", *groups, "loss", "params", "value", "n", "weight_sum", "direction"]
        with_ci = any(result.ci is not None for result in self.results)
        if with_ci:
            columns += ["ci_low", "ci_high"]
        rows = []
        for result in self.results:
            row = {**result.to_dict(), "value": result.value}
            for key in groups:
                row[key] = (result.group or {}).get(key)
            if with_ci:
                row["ci_low"] = (result.ci or {}).get("low")
                row["ci_high"] = (result.ci or {}).get("high")
            rows.append(row)
        return pd.DataFrame(rows, columns=columns)
