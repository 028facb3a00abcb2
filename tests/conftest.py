"""Shared helpers: evaluate NumPy inputs through the public API and compare floats."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

import losscli
from losscli.losses.registry import format_value

REFERENCE_DIR = Path(__file__).parent / "reference"
# Every reference case (id, loss, params, inputs, weight, expected, source) of every family.
REFERENCE_CASES: list[dict[str, Any]] = [
    case
    for path in sorted(REFERENCE_DIR.glob("*.json"))
    for case in json.loads(path.read_text())["cases"]
]


def spec_of(name: str, params: Mapping[str, Any]) -> str:
    """``name:k=v,...`` for a loss and its parameters."""
    given = ",".join(f"{key}={format_value(value)}" for key, value in params.items())
    return f"{name}:{given}" if given else name


def evaluate_arrays(
    name: str,
    inputs: Mapping[str, Any],
    params: Mapping[str, Any] | None = None,
    weight: Any = None,
    **options: Any,
) -> float:
    """One loss over in-memory arrays (role -> values) via ``losscli.evaluate``."""
    data = {role: np.asarray(values, dtype=float) for role, values in inputs.items()}
    if weight is not None:
        data["weight"] = np.asarray(weight, dtype=float)
    by = options.get("by") or ()
    grouping = {by} if isinstance(by, str) else set(by)  # --by columns are no role
    extra = {role: role for role in data if role not in ("pred", "target", "weight", *grouping)}
    report = losscli.evaluate(
        data,
        spec_of(name, params or {}),
        pred="pred" if "pred" in data else None,
        target="target" if "target" in data else None,
        weight="weight" if weight is not None else None,
        columns=extra,
        **options,
    )
    return report.results[0].value


def close(actual: float, expected: float, rel: float) -> bool:
    if math.isnan(expected):
        return math.isnan(actual)
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=rel * 1e-3)
