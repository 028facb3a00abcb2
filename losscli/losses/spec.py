"""The SPEC grammar of ``--loss``: ``mse,mae``, ``huber:delta=0.5``, ``ce:weight=[1,2]``.

Tokens are separated by commas outside brackets. A token whose name part has no ``=`` starts a loss
(``name`` or ``name:param=value``); a ``param=value`` token adds a parameter to the loss before it.
An empty token (``mse,``), a bare ``mse:`` and a parameter given twice are errors: each most
likely means that something the user wrote was lost, and a guess would compute another loss.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from losscli.errors import UsageError, option
from losscli.losses.registry import LossDef, format_value, get_loss


@dataclass(frozen=True)
class LossRequest:
    """One loss to compute: its definition, every parameter's effective value and its label."""

    definition: LossDef
    params: Mapping[str, Any]
    label: str

    @property
    def name(self) -> str:
        return self.definition.name


def build_request(name: str, given: Mapping[str, Any]) -> LossRequest:
    """Check ``given`` against the loss's parameters; the label shows only what was given."""
    definition = get_loss(name)
    params = definition.resolve_params(given)
    shown = [f"{key}={format_value(params[key])}" for key in given]
    label = definition.name + (":" + ",".join(shown) if shown else "")
    return LossRequest(definition, params, label)


def parse_specs(specs: Iterable[str]) -> list[LossRequest]:
    """Every loss named by the SPEC strings, in order, without repeating an identical label.

    ``losscli.compat.requests`` is this with a library's names, and hints for them without."""
    requests: dict[str, LossRequest] = {}
    for spec in specs:
        for name, given in split_spec(spec):
            request = build_request(name, given)
            requests.setdefault(request.label, request)
    return list(requests.values())


def split_spec(spec: str) -> list[tuple[str, dict[str, str]]]:
    losses: list[tuple[str, dict[str, str]]] = []
    for token in _tokens(spec):
        head, colon, rest = token.partition(":")
        if "=" not in head:
            losses.append((head.strip(), {}))
            if colon and head.strip() and not rest.strip():
                # 'mse:' reads as a loss whose parameters were lost (an empty shell variable).
                raise UsageError(
                    f"Loss spec '{spec}': '{token}' has no parameter after ':'.",
                    f"Write {head.strip()}:param=value, or {head.strip()} alone.",
                )
            if not rest:
                continue
            token = rest
        elif not losses:
            raise UsageError(
                f"Loss spec '{spec}' starts with a parameter '{token}' but names no loss.",
                f"Write the loss first, e.g. {option('losses')} huber:delta=0.5",
            )
        _add_param(losses[-1], token, spec)
    if not losses or any(not name for name, _ in losses):
        raise UsageError(
            f"Empty loss name in spec '{spec}'.", f"Example: {option('losses')} mse,mae"
        )
    return losses


def _add_param(loss: tuple[str, dict[str, str]], token: str, spec: str) -> None:
    key, _, value = token.partition("=")
    if not key.strip() or not value.strip():
        raise UsageError(
            f"Cannot read '{token}' in loss spec '{spec}': write param=value.",
            f"Example: {option('losses')} huber:delta=0.5,mae",
        )
    name, params = loss
    key = key.strip().lower()
    if key in params:
        # Silently keeping one of the two values would compute a loss nobody asked for.
        raise UsageError(
            f"{name}: {key} is given twice in loss spec '{spec}'.",
            f"Give {key} once (for two variants of {name}, give {option('losses')} twice).",
        )
    params[key] = _list_or_text(value.strip())


def _tokens(spec: str) -> list[str]:
    tokens, depth, current = [], 0, ""
    for char in spec:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            tokens.append(current)
            current = ""
        else:
            current += char
    if depth != 0:
        raise UsageError(f"Unbalanced brackets in loss spec '{spec}'.", "Example: weight=[1,2,0.5]")
    tokens.append(current)
    tokens = [token.strip() for token in tokens]
    if any(tokens) and not all(tokens):
        # 'mse,' or 'mse,,mae': something between the commas was meant and is missing.
        raise UsageError(
            f"Empty item in loss spec '{spec}': a comma with nothing after it (or before it).",
            f"Remove the extra comma, e.g. {option('losses')} mse,mae",
        )
    return [token for token in tokens if token]


def _list_or_text(value: str) -> Any:
    # Empty items stay, for the parameter to refuse: '[1,,2]' dropped to [1, 2] would give the
    # weights to the wrong classes.
    if value.startswith("[") and value.endswith("]"):
        return [item.strip() for item in value[1:-1].split(",")]
    return value
