"""The checks every built-in loss passes, for a plugin's losses: ``check_loss("my_loss")`` in a
plugin's own tests.

Each worked example (``losscli.Example``) is computed through ``evaluate``, as a run computes it,
and must give its expected value; in chunks of one and two rows and in reversed row order too, so
a loss whose statistic depends on how the rows are split or ordered is caught.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from losscli.losses.registry import Example, LossDef, format_value, get_loss

CHUNKINGS = (1, 2, 1 << 17)


def check_loss(name: str, *, rel: float = 1e-9, absolute: float = 1e-12) -> None:
    """Raise AssertionError listing every way the loss ``name`` falls short: no worked example,
    no formula or reference, or an example whose value differs from what it expects (beyond
    ``rel`` relative or ``absolute`` difference) in any chunking or row order."""
    definition = get_loss(name)
    problems = []
    if not definition.examples:
        problems.append("declares no worked example (examples=[losscli.Example(...)])")
    if not definition.formula or not definition.reference:
        problems.append("declares no formula or no reference")
    for number, example in enumerate(definition.examples, 1):
        for chunk_rows in CHUNKINGS:
            for order in ("as given", "reversed"):
                value = example_value(definition, example, chunk_rows, order == "reversed")
                if not math.isclose(value, example.expected, rel_tol=rel, abs_tol=absolute):
                    problems.append(
                        f"example {number} ({example.source}) gives {value!r}, not "
                        f"{example.expected!r}, in chunks of {chunk_rows} rows, rows {order}"
                    )
    if problems:
        raise AssertionError(f"{definition.name}: " + "; ".join(problems))


def example_value(definition: LossDef, example: Example, chunk_rows: int, backwards: bool) -> float:
    """The example's value through ``evaluate``, its rows in chunks of ``chunk_rows``."""
    from losscli.api import evaluate

    step = -1 if backwards else 1
    data = {
        role: np.asarray(values, dtype=float)[::step] for role, values in example.inputs.items()
    }
    if example.weight is not None:
        data["weight"] = np.asarray(example.weight, dtype=float)[::step]
    others = {role: role for role in data if role not in ("pred", "target", "weight")}
    report = evaluate(
        data,
        _spec(definition.name, example.params),
        pred="pred" if "pred" in data else None,
        target="target" if "target" in data else None,
        weight="weight" if "weight" in data else None,
        columns=others,
        chunk_rows=chunk_rows,
    )
    return report.overall[0].value


def _spec(name: str, params: Mapping[str, Any]) -> str:
    return name + "".join(
        f"{',' if i else ':'}{key}={format_value(value)}"
        for i, (key, value) in enumerate(params.items())
    )
