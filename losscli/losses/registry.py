"""The one registry of losses: a decorator records each pure function with everything said about it.

``list``, ``describe``, the SPEC parser, the engine and the registry-wide tests all read from here,
so a loss is added by decorating one function in its family module.
"""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from losscli.engine.statistics import Mean, Statistic
from losscli.errors import UsageError, option

Pointwise = Callable[..., np.ndarray]
StatisticFactory = Callable[[Mapping[str, Any]], Statistic]
# A loss over rows of K class scores may also be computed a block of columns at a time (a wide
# Parquet file is read so): given its parameters, a fold, or None where they need whole rows.
FoldFactory = Callable[[Mapping[str, Any]], "ColumnFold | None"]


class ColumnFold:
    """A loss over ``pred``'s rows of K scores, folded over blocks of its columns.

    ``start`` gives the per-row state (arrays of one value per row: a block of rows is a slice
    of it); ``add`` folds in a block of the columns ``offset`` .. ``offset + width``, updating
    the state's arrays in place; ``finish`` gives the per-row values the loss's own function
    gives on whole rows, from the state of the rows kept. ``finish`` also makes the checks on
    ``pred`` the loss's requirements make on whole rows.
    """

    def start(self, target: np.ndarray, classes: int) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def add(self, state: dict[str, np.ndarray], block: np.ndarray, offset: int) -> None:
        raise NotImplementedError

    def finish(
        self, state: Mapping[str, np.ndarray], target: np.ndarray, classes: int
    ) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class Param:
    """A keyword-only hyperparameter: its type, default and the range it must lie in."""

    name: str
    kind: type
    default: Any
    help: str
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    choices: tuple[str, ...] = ()
    valid: Callable[[Any], bool] | None = None
    valid_text: str = ""

    def range_text(self) -> str:
        parts = []
        if self.gt is not None:
            parts.append(f"> {format_value(self.gt)}")
        if self.ge is not None:
            parts.append(f">= {format_value(self.ge)}")
        if self.lt is not None:
            parts.append(f"< {format_value(self.lt)}")
        if self.le is not None:
            parts.append(f"<= {format_value(self.le)}")
        if self.choices:
            parts.append("one of " + ", ".join(self.choices))
        if self.valid_text:
            parts.append(self.valid_text)
        return " and ".join(parts)

    def coerce(self, raw: Any, loss: str) -> Any:
        """Turn a command-line string or a Python value into a checked value of this type."""
        value = self._convert(raw, loss)
        if not self._in_range(value):
            raise UsageError(
                f"{loss}: {self.name}={format_value(value)} is out of range; it must be "
                f"{self.range_text()}.",
                f"Example: {option('losses')} {loss}:{self.name}={format_value(self.default)}",
            )
        return value

    def _convert(self, raw: Any, loss: str) -> Any:
        text = raw.strip() if isinstance(raw, str) else raw
        try:
            if self.kind is bool:
                return _to_bool(text)
            if self.kind is float:
                if self.default is None and str(text).lower() == "none":
                    return None  # an optional number: 'none' leaves it out
                value = float(text)
                if not math.isfinite(value):
                    raise UsageError(
                        f"{loss}: {self.name}={raw!s} must be a finite number.",
                        f"Example: {option('losses')} {loss}:{self.name}="
                        f"{format_value(self.default)}",
                    )
                return value
            if self.kind is int:
                if isinstance(text, float) and not text.is_integer():
                    raise ValueError
                return int(text)
            if self.kind is str:
                return str(text).lower()
            if self.kind is list:
                # The default 'none' (describe and hints show it) may be written out too.
                if self.default is None and str(text).lower() == "none":
                    return None
                return _to_numbers(text)
            if self.kind is Path:
                return str(text)  # a file the caller loads (losscli.api), kept as written
        except (TypeError, ValueError):
            pass
        else:
            raise AssertionError(f"unsupported parameter kind {self.kind}")
        shown = "[" + ",".join(map(str, raw)) + "]" if isinstance(raw, (list, tuple)) else raw
        raise UsageError(
            f"{loss}: {self.name}={shown!s} is not a valid {self.kind.__name__}"
            f"{' of numbers' if self.kind is list else ''}.",
            f"Example: {option('losses')} {loss}:{self.name}={self._example()}",
        )

    def _example(self) -> str:
        return (
            "[1,2,0.5]"
            if self.default is None and self.kind is list
            else format_value(self.default)
        )

    def _in_range(self, value: Any) -> bool:
        if self.choices:
            return value in self.choices
        if isinstance(value, tuple):
            return all(self._in_range(item) for item in value)
        if value is None:
            return True
        checks = [
            self.gt is None or value > self.gt,
            self.ge is None or value >= self.ge,
            self.lt is None or value < self.lt,
            self.le is None or value <= self.le,
            self.valid is None or self.valid(value),
        ]
        return all(checks)


def _to_numbers(raw: Any) -> tuple[float, ...]:
    """A list parameter: ``[1,2,0.5]`` (text or the SPEC parser's list of texts) or numbers."""
    if isinstance(raw, str):
        text = raw.strip()
        if not (text.startswith("[") and text.endswith("]")):
            raise ValueError(raw)
        raw = text[1:-1].split(",")
    values = tuple(float(item) for item in raw)
    if not values or not all(math.isfinite(value) for value in values):
        raise ValueError(raw)
    return values


def _to_bool(text: Any) -> bool:
    if isinstance(text, bool):
        return text
    lowered = str(text).lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise ValueError(text)


@dataclass(frozen=True)
class Requirement:
    """A domain condition on one input role, checked on every chunk before the loss is computed."""

    role: str
    holds: Callable[..., Any]  # (values, params) -> mask of valid elements (True: all valid)
    needs: str  # completes "<loss> needs <role> <needs>"
    hint: str  # may name the loss as {loss}
    rowwise: Callable[[np.ndarray], str] | None = None  # holds judges whole rows; says why not


class Params(dict):  # type: ignore[type-arg]
    """Every parameter's effective value; ``given`` names those the user wrote.

    A check may hold back where the user chose a value on purpose (``input=logits`` written out)
    and speak up where a default was merely taken.
    """

    given: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Example:
    """A small worked case: inputs per role, parameters, the expected value and its source."""

    inputs: Mapping[str, Sequence[Any]]
    expected: float
    source: str
    params: Mapping[str, Any] = field(default_factory=dict)
    weight: Sequence[float] | None = None


@dataclass(frozen=True)
class LossDef:
    name: str
    family: str
    function: Pointwise
    roles: tuple[str, ...]
    optional: tuple[str, ...]  # roles used when present (a default of None in the function)
    params: tuple[Param, ...]
    aliases: tuple[str, ...]
    formula: str
    reference: str
    direction: str
    keywords: tuple[str, ...]  # the function's keyword-only parameters
    statistic: StatisticFactory
    requires: tuple[Requirement, ...]
    examples: tuple[Example, ...]
    notes: str
    summary: str
    elementwise: bool = False  # pred and target pair up value by value: equal widths required
    derived: tuple[str, ...] = ()  # arrays of ``DERIVED`` the function takes by keyword
    fold: FoldFactory | None = None  # the loss a block of pred's columns at a time
    # pred and target come as stored (float32, integers of 32 bits or fewer) when every loss of a
    # run takes them so: the loss computes in float64 itself, without a widened copy of each.
    stored: bool = False

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        known = ", ".join(p.name for p in self.params) or "none"
        raise UsageError(
            f"{self.name} has no parameter '{name}' (its parameters: {known}).",
            f"See 'losscli describe {self.name}'.",
        )

    def resolve_params(self, given: Mapping[str, Any]) -> Params:
        """Every parameter with its effective value, given ones checked, defaults filled in."""
        resolved = Params({p.name: p.default for p in self.params})
        for key, raw in given.items():
            resolved[key] = self.param(key).coerce(raw, self.name)
        resolved.given = frozenset(given)
        return resolved

    def compute(
        self,
        inputs: Mapping[str, np.ndarray],
        params: Mapping[str, Any],
        shared: dict[str, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Per-element loss values for the roles in ``inputs``.

        ``shared`` holds the ``DERIVED`` arrays already made for this chunk's inputs: every loss
        of a run that takes one gets the same read-only array, made once.
        """
        arguments: dict[str, Any] = {name: params[name] for name in self.keywords}
        for name in self.derived:
            found = None if shared is None else shared.get(name)
            if found is None:
                found = DERIVED[name](inputs)
                found.flags.writeable = False
                if shared is not None:
                    shared[name] = found
            arguments[name] = found
        return self.function(*(inputs.get(role) for role in self.roles), **arguments)


REGISTRY: dict[str, LossDef] = {}
# Arrays that several losses of a run read, made once per chunk and handed to each loss function
# that names one as a keyword-only parameter: |pred - target| for mae, huber, smooth_l1, log_cosh
# and the percentage errors (in one run they took it once each, two passes over the chunk apiece).
DERIVED: dict[str, Callable[[Mapping[str, np.ndarray]], np.ndarray]] = {
    "abs_error": lambda inputs: np.abs(inputs["pred"] - inputs["target"]),
}
# Roles whose values name a group rather than measure anything: read as written (strings too) and
# handed to the losses as dense integer codes 0, 1, 2, ... (NaN for a missing one).
KEY_ROLES = frozenset({"sample", "batch"})
_ALIASES: dict[str, str] = {}

REDUCTION = Param(
    "reduction",
    str,
    "mean",
    "mean: weighted mean of the per-row losses; sum: their weighted sum; sum_over_rows: their "
    "weighted sum divided by the number of rows (Keras' default with sample weights)",
    choices=("mean", "sum", "sum_over_rows"),
)


def reduced(params: Mapping[str, Any]) -> dict[str, Any]:
    """The keywords of ``Mean`` that a ``reduction`` parameter asks for."""
    reduction = params.get("reduction")
    return {"total": reduction == "sum", "over_rows": reduction == "sum_over_rows"}


def mean_of_rows(params: Mapping[str, Any]) -> Statistic:
    """The default statistic: a weighted mean (or sum) of the per-row values."""
    return Mean(**reduced(params))


def register(
    *,
    name: str,
    family: str,
    formula: str = "",
    reference: str = "",
    aliases: Iterable[str] = (),
    params: Iterable[Param] = (),
    direction: str = "lower",
    statistic: StatisticFactory | None = None,
    requires: Iterable[Requirement] = (),
    examples: Iterable[Example] = (),
    notes: str = "",
    summary: str | None = None,
    elementwise: bool = False,
    fold: FoldFactory | None = None,
    stored: bool = False,
) -> Callable[[Pointwise], Pointwise]:
    """Record a pure per-element loss function under ``name``: ``losscli.loss`` for plugins.

    Positional parameters of the function are its input roles (``pred``, ``target``, ``var``, ...),
    optional when they default to None; keyword-only ones are its hyperparameters and must each be
    described by a ``Param``. A loss without its own ``statistic`` is a weighted mean of per-row
    values and gains ``reduction``.
    ``summary`` defaults to the first line of the function's docstring. An ``elementwise`` loss
    pairs pred and target value by value, so the engine requires them to be equally wide. A
    loss over rows of class scores may give a ``fold`` (``ColumnFold``): a wide file is then
    read a block of columns at a time. A ``stored`` loss takes pred and target as the file
    stores them (float32, small integers), for it computes and sums in float64 itself.
    """

    def decorate(function: Pointwise) -> Pointwise:
        declared = tuple(params) + (() if statistic else (REDUCTION,))
        signature = inspect.signature(function).parameters.values()
        positional = [p for p in signature if p.kind is p.POSITIONAL_OR_KEYWORD]
        roles = tuple(p.name for p in positional)
        optional = tuple(p.name for p in positional if p.default is None)
        named = tuple(p.name for p in signature if p.kind is p.KEYWORD_ONLY)
        keywords = tuple(k for k in named if k not in DERIVED)
        undeclared = set(keywords) - {p.name for p in declared}
        if undeclared:
            raise TypeError(f"{name}: keyword parameters {undeclared} have no Param")
        definition = LossDef(
            name=name,
            family=family,
            function=function,
            roles=roles,
            optional=optional,
            params=declared,
            aliases=tuple(aliases),
            formula=formula,
            reference=reference,
            direction=direction,
            keywords=keywords,
            derived=tuple(k for k in named if k in DERIVED),
            statistic=statistic or mean_of_rows,
            requires=tuple(requires),
            examples=tuple(examples),
            notes=notes,
            summary=summary or (function.__doc__ or "").strip().splitlines()[0],
            elementwise=elementwise,
            fold=fold,
            stored=stored,
        )
        if direction not in ("lower", "higher"):
            raise ValueError(f"{name}: direction is 'lower' or 'higher', not {direction!r}")
        for key in (name, *definition.aliases):
            if key in _ALIASES or key != key.strip().lower() or not key:
                raise ValueError(f"loss name {key!r} is taken or not a lower-case name")
        for key in (name, *definition.aliases):
            _ALIASES[key] = name
        REGISTRY[name] = definition
        return function

    return decorate


def all_names() -> list[str]:
    return sorted(_ALIASES)


def every_loss() -> list[LossDef]:
    """Every loss, installed plugins' included, by family and name."""
    load_installed()
    return sorted(REGISTRY.values(), key=lambda loss: (loss.family, loss.name))


# Installed packages declare losses under this entry-point group; read only when a name is not
# built in, or the whole catalogue is asked for, so a run of built-in losses never pays for it.
ENTRY_POINT_GROUP = "losscli.losses"
_installed: list[str] = []  # the entry points loaded, once


def load_installed() -> None:
    """Import each installed package's ``losscli.losses`` entry point (once); a broken one is a
    usage error naming it and its package."""
    if _installed:
        return
    from importlib.metadata import entry_points

    _installed.append(ENTRY_POINT_GROUP)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        package = f" of the package {point.dist.name}" if point.dist is not None else ""
        try:
            point.load()
        except Exception as error:
            raise UsageError(
                f"The loss plugin '{point.name}'{package} ({point.value}) failed to load: "
                f"{type(error).__name__}: {error}",
                "Fix or uninstall that package (pip uninstall); built-in losses work without it.",
            ) from None
        _installed.append(point.name)


def is_loss_name(name: str) -> bool:
    """Whether ``name`` is a loss or an alias (built in or of an installed plugin)."""
    key = name.strip().lower()
    if key not in _ALIASES:
        load_installed()
    return key in _ALIASES


def get_loss(name: str) -> LossDef:
    """The loss called ``name`` or one of its aliases; an unknown name suggests the nearest ones.
    A name not built in is looked for among the installed plugins first."""
    key = name.strip().lower()
    if key not in _ALIASES:
        load_installed()
    if key in _ALIASES:
        return REGISTRY[_ALIASES[key]]
    nearest = difflib.get_close_matches(key, all_names(), n=3, cutoff=0.5)
    suggestion = f"Did you mean {', '.join(nearest)}? " if nearest else ""
    raise UsageError(
        f"Unknown loss '{name}'.",
        f"{suggestion}Run 'losscli list' to see every loss.",
    )


def format_value(value: Any) -> str:
    """How a parameter value is written in a label: ``2.0`` as ``2``, booleans in lower case."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(float(value))  # a NumPy float's repr names its type
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    return str(value)
