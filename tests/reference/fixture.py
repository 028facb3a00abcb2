"""What the ``generate_*.py`` scripts share: a case's spec, its seeded inputs and the JSON file.

Each case's inputs come from a numpy Generator seeded from the case id, so rerunning a script
rewrites its fixture byte for byte. Imported by the scripts beside it (run them from anywhere).
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

Inputs = dict[str, np.ndarray]
Builder = Callable[[np.random.Generator], Inputs]


@dataclass
class Spec:
    case_id: str
    loss: str
    build: Builder
    params: dict[str, Any] = field(default_factory=dict)
    weighted: bool = False


def case_rng(case_id: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(case_id.encode()))


def case_record(
    spec: Spec, inputs: Inputs, weight: np.ndarray | None, expected: float, source: str
) -> dict[str, Any]:
    """One fixture entry; a non-finite expected value is a bug in the case, not a reference."""
    if not math.isfinite(expected):
        raise ValueError(f"{spec.case_id}: non-finite expected value {expected}")
    return {
        "id": spec.case_id,
        "loss": spec.loss,
        "params": spec.params,
        "inputs": {key: value.tolist() for key, value in inputs.items()},
        "weight": None if weight is None else weight.tolist(),
        "expected": float(expected),
        "source": source,
    }


def check_unique(specs: list[Spec]) -> None:
    ids = [spec.case_id for spec in specs]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate case ids")


def write_fixture(
    output: Path, script: str, versions: dict[str, str], cases: list[dict[str, Any]]
) -> None:
    fixture = {"generated_by": script, "versions": versions, "cases": cases}
    with output.open("w", encoding="utf-8") as f:
        json.dump(fixture, f, indent=1, sort_keys=False, allow_nan=False)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {output}")
