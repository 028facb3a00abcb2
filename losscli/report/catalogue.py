"""``losscli list`` and ``losscli describe``: the registry as tables and text."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from losscli.losses import LossDef
from losscli.losses.registry import Param, every_loss, format_value


def param_text(param: Param, short: bool = False) -> str:
    """``name=default``; ``short`` writes floats to 6 digits (eps=2.22045e-16) for tables."""
    default = param.default
    if short and isinstance(default, float):
        return f"{param.name}={default:.6g}"
    return f"{param.name}={format_value(default)}"


def catalogue_rows() -> list[dict[str, Any]]:
    return [
        {
            "name": loss.name,
            "aliases": list(loss.aliases),
            "family": loss.family,
            "params": {p.name: p.default for p in loss.params},
            "roles": list(loss.roles),
            "direction": loss.direction,
            "interval": interval_method(loss),
            "summary": loss.summary,
        }
        for loss in every_loss()
    ]


def catalogue_json() -> str:
    return json.dumps(catalogue_rows(), indent=2) + "\n"


def catalogue_markdown() -> str:
    """Every loss as a GitHub table: the README's loss list is exactly this output."""
    lines = [
        "| name (aliases) | family | per-row loss | params (default) | better | agrees with |",
        "|---|---|---|---|---|---|",
    ]
    for loss in every_loss():
        aliases = f" ({', '.join(loss.aliases)})" if loss.aliases else ""
        params = ", ".join(f"`{param_text(p, short=True)}`" for p in loss.params)
        cells = [
            f"`{loss.name}`{aliases}",
            loss.family,
            loss.formula,
            params,
            loss.direction,
            loss.reference,
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def catalogue_table(compact: bool = False) -> Any:
    """Every loss as a rich table; ``compact`` fits a narrow terminal (aliases under the name).

    Only the summary wraps: a name or parameter cut in half cannot be typed back.
    """
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold")
    table.add_column("name", no_wrap=True)
    if not compact:
        table.add_column("aliases")
        table.add_column("family", no_wrap=True)
    table.add_column("params", no_wrap=True)
    table.add_column("better", no_wrap=True)
    table.add_column("what it measures", ratio=1, min_width=16)
    for loss in every_loss():
        # Text, not markup: a bracket in a summary or a list default must print as written.
        params = Text("\n".join(param_text(p, short=True) for p in loss.params))
        summary = Text(loss.summary)
        if compact:
            name = Text(loss.name)
            for alias in loss.aliases:
                name.append(f"\n= {alias}", style="dim")
            table.add_row(name, params, Text(loss.direction), summary)
        else:
            cells = (loss.name, ", ".join(loss.aliases), loss.family)
            table.add_row(*map(Text, cells), params, Text(loss.direction), summary)
    return table


def description(loss: LossDef) -> str:
    """Formula, parameters with defaults and ranges, roles, conventions and a worked example."""
    lines = [f"{loss.name}: {loss.summary}"]
    if loss.aliases:
        lines.append(_field("aliases", ", ".join(loss.aliases)))
    lines += [
        _field("family", loss.family),
        _field("formula", loss.formula, wrap=False),
        _field("reduction", _reduction_text(loss)),
        _field("interval", _interval_text(loss)),
        _field("better", loss.direction),
        _field("agrees with", loss.reference),
        _field("roles", ", ".join(_role_text(role, role in loss.optional) for role in loss.roles)),
    ]
    if loss.params:
        lines.append("  parameters:")
        for param in loss.params:
            bound = param.range_text()
            text = (
                f"{param.name} ({param.kind.__name__}, default {format_value(param.default)}"
                f"{', ' + bound if bound else ''}): {param.help}"
            )
            lines.append(_wrap(text, "    ", "      "))
    for requirement in loss.requires:
        lines.append(_field("requires", f"{requirement.role} {requirement.needs}"))
    if loss.notes:
        lines.append(_field("notes", loss.notes))
    if loss.examples:
        example = loss.examples[0]
        spec = loss.name + "".join(
            (":" if i == 0 else ",") + f"{k}={format_value(v)}"
            for i, (k, v) in enumerate(example.params.items())
        )
        inputs = "; ".join(f"{role}={list(values)}" for role, values in example.inputs.items())
        lines.append(
            _field("example", f"--loss {spec} on {inputs} gives {example.expected:.10g}", False)
        )
    return "\n".join(lines) + "\n"


DESCRIBE_WIDTH = 100
LABEL_WIDTH = 13


def _field(label: str, text: str, wrap: bool = True) -> str:
    """``  label:  text`` with long prose wrapped under the text; formulas stay on one line."""
    head = f"  {label + ':':<{LABEL_WIDTH}}"
    if not wrap:
        return head + text
    return _wrap(text, head, " " * len(head))


def _wrap(text: str, first: str, rest: str) -> str:
    return textwrap.fill(
        text,
        DESCRIBE_WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _role_text(role: str, optional: bool = False) -> str:
    flags = {"pred": "-p", "target": "-t"}
    return f"{role} ({flags.get(role, f'--col {role}=')}{', optional' if optional else ''})"


def interval_method(loss: LossDef) -> str:
    """How an interval of the loss (with its default parameters) is made: normal or bootstrap."""
    return loss.statistic(loss.resolve_params({})).method


def _interval_text(loss: LossDef) -> str:
    if interval_method(loss) == "normal":
        return "normal: from the streamed spread of the mean (method normal)"
    return (
        "bootstrap: Poisson counts of blocks of rows (each of the first 1024 rows a block of "
        "its own, later rows hashed into the 1024), or of whole samples for per-sample losses "
        "(method bootstrap)"
    )


def _reduction_text(loss: LossDef) -> str:
    if any(p.name == "reduction" for p in loss.params):
        return (
            "weighted mean of per-row values (a vector row counts as the mean of its "
            "elements); reduction=sum gives the weighted sum"
        )
    return "its own finalize step (see formula); weights as in the formula"


# ------------------------------------------------------------------ convention profiles


def compat_rows(library: str) -> list[dict[str, Any]]:
    """A library's names (``--compat``) with the losscli spec each computes."""
    from losscli.compat import profile

    found = profile(library)
    rows: list[dict[str, Any]] = [
        {
            "name": name,
            "also": list(entry.names),
            "losscli": entry.spec_text(),
            "keywords": {key: arg.default for key, arg in entry.args.items()},
            "rule": entry.rule,
        }
        for name, entry in found.entries.items()
    ]
    rows += [
        {"name": name, "also": [], "losscli": None, "keywords": {}, "rule": f"not computed: {why}"}
        for name, why in found.missing.items()
    ]
    return rows


def compat_json(library: str) -> str:
    return json.dumps(compat_rows(library), indent=2) + "\n"


def compat_table(library: str) -> Any:
    """A library's names as a rich table: the name, its other spellings, the losscli loss."""
    from rich.table import Table
    from rich.text import Text

    from losscli.compat import profile

    found = profile(library)
    table = Table(header_style="bold", title=f"--compat {found.name}: {found.title}'s names")
    table.add_column("name", no_wrap=True)
    table.add_column("also")
    table.add_column("keywords (default)")
    table.add_column("losscli", ratio=1, min_width=16)
    for row in compat_rows(library):
        keywords = "\n".join(f"{k}={format_value(v)}" for k, v in row["keywords"].items())
        losscli = row["losscli"] if row["losscli"] is not None else row["rule"]
        cells = (row["name"], ", ".join(row["also"]), keywords, losscli)
        table.add_row(*map(Text, cells))
    return table


def compat_description(library: str, name: str) -> str:
    """One library name: its exact rule, its keywords and what they map to, and the losscli
    loss it runs with how that loss differs when used without ``--compat``."""
    from losscli.compat import profile
    from losscli.losses import get_loss

    found = profile(library)
    key, entry = found.find(name)
    loss = get_loss(entry.translate({})[1]["loss"])
    lines = [f"{key} ({found.title}, --compat {found.name}): {entry.rule}"]
    if entry.names:
        lines.append(_field("also", ", ".join(entry.names)))
    lines.append(_field("computes", entry.spec_text(), wrap=False))
    for keyword, arg in entry.args.items():
        if arg.ignored:
            meaning = f"any value: {arg.ignored}"
        elif arg.to is not None:
            meaning = f"losscli's {arg.to}"
        else:
            meaning = "; ".join(
                f"{format_value(v)}: {s if isinstance(s, str) else _setting_text(s)}"
                for v, s in arg.values.items()
            )
        lines.append(
            _field("keyword", f"{keyword} (default {format_value(arg.default)}): {meaning}")
        )
    lines.append(_field("weights", found.weights))
    if found.notes:
        lines.append(_field("notes", found.notes))
    lines.append(
        _field(
            "checked",
            f"against {found.checked_with}: reference cases in tests/reference/compat.json",
        )
    )
    lines.append(
        _field(
            "differs from",
            f"losscli's own {loss.name} with its defaults ({loss.formula}); the parameters "
            "above are what makes the library's number. " + loss.notes,
        )
    )
    return "\n".join(lines) + "\n"


def _setting_text(setting: Any) -> str:
    return ", ".join(f"{k}={format_value(v)}" for k, v in setting.items()) or "as is"
