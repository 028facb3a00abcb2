"""``losscli list`` and ``losscli describe``: the registry as tables and text."""

from __future__ import annotations

import json
from typing import Any

from losscli.losses import REGISTRY, LossDef
from losscli.losses.registry import Param, format_value


def param_text(param: Param) -> str:
    return f"{param.name}={format_value(param.default)}"


def catalogue_rows() -> list[dict[str, Any]]:
    return [
        {
            "name": loss.name,
            "aliases": list(loss.aliases),
            "family": loss.family,
            "params": {p.name: p.default for p in loss.params},
            "roles": list(loss.roles),
            "direction": loss.direction,
            "summary": loss.summary,
        }
        for loss in sorted(REGISTRY.values(), key=lambda loss: (loss.family, loss.name))
    ]


def catalogue_json() -> str:
    return json.dumps(catalogue_rows(), indent=2) + "\n"


def catalogue_table() -> Any:
    from rich.table import Table

    table = Table(header_style="bold")
    for column in ("name", "aliases", "family", "params", "better", "what it measures"):
        table.add_column(column)
    for loss in sorted(REGISTRY.values(), key=lambda loss: (loss.family, loss.name)):
        table.add_row(
            loss.name,
            ", ".join(loss.aliases),
            loss.family,
            " ".join(param_text(p) for p in loss.params),
            loss.direction,
            loss.summary,
        )
    return table


def description(loss: LossDef) -> str:
    """Formula, parameters with defaults and ranges, roles, conventions and a worked example."""
    lines = [f"{loss.name}: {loss.summary}"]
    if loss.aliases:
        lines.append(f"  aliases:    {', '.join(loss.aliases)}")
    lines += [
        f"  family:     {loss.family}",
        f"  formula:    {loss.formula}",
        "  reduction:  " + _reduction_text(loss),
        f"  better:     {loss.direction}",
        f"  agrees with {loss.reference}",
        "  roles:      " + ", ".join(_role_text(role) for role in loss.roles),
    ]
    if loss.params:
        lines.append("  parameters:")
        for param in loss.params:
            bound = param.range_text()
            lines.append(
                f"    {param.name} ({param.kind.__name__}, default {format_value(param.default)}"
                f"{', ' + bound if bound else ''}): {param.help}"
            )
    for requirement in loss.requires:
        lines.append(f"  requires:   {requirement.role} {requirement.needs}")
    if loss.notes:
        lines.append(f"  notes:      {loss.notes}")
    if loss.examples:
        example = loss.examples[0]
        spec = loss.name + "".join(
            (":" if i == 0 else ",") + f"{k}={format_value(v)}"
            for i, (k, v) in enumerate(example.params.items())
        )
        inputs = "; ".join(f"{role}={list(values)}" for role, values in example.inputs.items())
        lines.append(f"  example:    --loss {spec} on {inputs} gives {example.expected:.10g}")
    return "\n".join(lines) + "\n"


def _role_text(role: str) -> str:
    flags = {"pred": "-p", "target": "-t"}
    return f"{role} ({flags.get(role, f'--col {role}=')})"


def _reduction_text(loss: LossDef) -> str:
    if any(p.name == "reduction" for p in loss.params):
        return (
            "weighted mean of per-row values (a vector row counts as the mean of its "
            "elements); reduction=sum gives the weighted sum"
        )
    return "its own finalize step (see formula); weights as in the formula"
