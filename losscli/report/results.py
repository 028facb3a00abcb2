"""One loss's result (over all rows, or one --by group's), shared by reports, checks and groups."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from losscli.report.formatting import plain

NAN_NOTE = "the value is NaN: a missing value reached it (nan=propagate) or it is undefined"
INFINITE_NOTE = "the value is infinite: some input overflowed the loss or lies on its boundary"


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


def value_note(reason: str | None, value: float) -> str | None:
    """Why a value is missing: the reason given, else what a NaN or infinite value means."""
    if reason:
        return reason
    if math.isnan(value):
        return NAN_NOTE
    if math.isinf(value):
        return INFINITE_NOTE
    return None


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
        return value_note(self.reason, self.value)

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
