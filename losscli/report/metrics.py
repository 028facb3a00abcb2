"""Results as a tracker's metrics: one flat JSON object of numbers, keys trackers accept.

DVC (``dvc metrics show/diff``) reads any JSON of numbers; MLflow takes a metric name made of
letters, digits, ``_ - . / :`` and spaces that is a plain relative path (no empty, ``.`` or ``..``
part). A key here uses only ``[A-Za-z0-9_./ -]``: a label such as ``huber:delta=10`` becomes
``huber_delta_10``; a --by group's result is ``by/COLUMN/VALUE/KEY`` (``by/region/eu/mse``), with
``/`` in a value replaced too, so the parts of a key are the parts of the path. Two results whose
keys come out the same are refused, never one written over the other.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from losscli.errors import UsageError
from losscli.report.formatting import group_text, plain
from losscli.report.results import Result

# What a key may hold; anything else in a label or a group's value becomes '_'.
OUTSIDE_KEY = re.compile(r"[^A-Za-z0-9_. -]+")
# Replaced characters next to a '_' make one '_': 'ce:weight=[1,2]' is ce_weight_1_2.
REPEATED = re.compile(r"_{2,}")
NULL_VALUE = "null"
EMPTY_VALUE = "empty"


def metric_key(text: str) -> str:
    """``text`` (a label or a group's value) as one part of a metric key: accented letters lose
    their accents (``é`` is ``e``), other letters beyond ASCII are their code (``日`` is
    ``u65e5``), and the rest outside the key's alphabet becomes ``_``."""
    folded = "".join(_ascii(char) for char in text)
    key = REPEATED.sub("_", OUTSIDE_KEY.sub("_", folded)).strip("_ ")
    if not key:
        return EMPTY_VALUE
    if set(key) == {"."}:
        return key.replace(".", "_")  # '.' and '..' are not path parts MLflow takes
    return key


def _ascii(char: str) -> str:
    if char.isascii():
        return char
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if base.isascii() and base.isalnum():
        return base
    return f"u{ord(char):04x}" if char.isalnum() else "_"


def group_key(group: Mapping[str, Any]) -> str:
    """``by/region/eu/day/3`` for the group {region: eu, day: 3}."""
    parts = ["by"]
    for column, value in group.items():
        text = NULL_VALUE if plain(value) is None else metric_key(group_text(plain(value)))
        parts += [metric_key(column), text]
    return "/".join(parts)


def result_metrics(
    results: Iterable[Result], prefix: str = "", into: Metrics | None = None
) -> dict[str, float | None]:
    """Each result's value under its key (with an interval, also ``KEY_ci_low`` and
    ``KEY_ci_high``), added to ``into`` when given."""
    metrics = Metrics() if into is None else into
    for result in results:
        scope = group_key(result.group) + "/" if result.group is not None else ""
        key = prefix + scope + metric_key(result.label)
        metrics.add(key, result.value, f"{result.label}{_scope(result)}")
        if result.ci is not None:
            for end in ("low", "high"):
                metrics.add(f"{key}_ci_{end}", result.ci.get(end), f"{result.label} ci {end}")
    return metrics.values


def _scope(result: Result) -> str:
    if result.group is None:
        return ""
    return " (" + ", ".join(f"{k}={group_text(plain(v))}" for k, v in result.group.items()) + ")"


class Metrics:
    """Keys in the order added; a key made twice from different results is refused."""

    def __init__(self) -> None:
        self.values: dict[str, float | None] = {}
        self.sources: dict[str, str] = {}

    def add(self, key: str, value: Any, source: str) -> None:
        if key in self.values:
            raise UsageError(
                f"The results {self.sources[key]} and {source} both become the metric {key!r}.",
                "Metric names keep only letters, digits and _ . / - and spaces: give them labels "
                "or group values that differ in those, or use the json format, which keeps them.",
            )
        number = None if value is None else float(value)
        self.values[key] = number if number is not None and math.isfinite(number) else None
        self.sources[key] = source


def metrics_text(metrics: Mapping[str, float | None]) -> str:
    """The metrics as JSON; a NaN or infinite value is null (JSON has no NaN)."""
    return json.dumps(dict(metrics), indent=2, allow_nan=False) + "\n"
