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

    @property
    def note(self) -> str | None:
        if math.isnan(self.value):
            return "the value is NaN: a missing value reached it (see --nan) or it is undefined"
        if math.isinf(self.value):
            return "the value is infinite: some input overflowed the loss or lies on its boundary"
        return None

    def to_dict(self) -> dict[str, Any]:
        finite = math.isfinite(self.value)
        entry = {
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
        return entry


@dataclass(frozen=True)
class Report:
    version: str
    inputs: dict[str, Any]
    results: list[Result] = field(default_factory=list)

    def __getitem__(self, label: str) -> float:
        """The value of the result called ``label`` (e.g. ``report["huber:delta=2"]``)."""
        for result in self.results:
            if result.label == label:
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
        """One row per result: label, loss, params, value, n, weight_sum, direction."""
        import pandas as pd

        rows = [{**result.to_dict(), "value": result.value} for result in self.results]
        columns = ["label", "loss", "params", "value", "n", "weight_sum", "direction"]
        return pd.DataFrame(rows, columns=columns)
