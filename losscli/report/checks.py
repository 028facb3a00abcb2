"""Checks on a report: thresholds (``max``, ``min``) and a baseline report with a tolerance.

A comparison that cannot be made never reads as a pass: a NaN value fails its check, and a loss
missing from the results or from the baseline fails, or is skipped when missing losses are allowed.
A LABEL names a result by its canonical loss and effective parameters, so ``huber:delta=2.0`` and
``huber:delta=2`` are the same result and an alias names its loss.

Checks read a report through ``Evaluated`` (its overall results and inputs), so this module needs
no report class: ``report.Report`` uses it, never the other way round.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from losscli.errors import InputError, UsageError, option
from losscli.report.formatting import json_ready, short
from losscli.report.results import Result

if TYPE_CHECKING:
    from os import PathLike

    from losscli.losses.spec import LossRequest


class Evaluated(Protocol):
    """What checks read of a report."""

    @property
    def inputs(self) -> Mapping[str, Any]: ...

    @property
    def overall(self) -> Sequence[Result]: ...


class Checkable(Protocol):
    """A report that takes checks (``Report.check``)."""

    def check(
        self,
        *,
        max: Mapping[str, float] | None = ...,
        min: Mapping[str, float] | None = ...,
        baseline: Any = ...,
        tolerance: str | float | Mapping[str, str | float] | None = ...,
        allow_missing: bool = ...,
        other_rows: bool = ...,
    ) -> Any: ...


Checked = TypeVar("Checked", bound=Checkable)

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
KINDS = ("max", "min", "baseline")
# The key of the default tolerance in a mapping of per-label ones ({"default": "1%", "mse": 0.5}).
DEFAULT = "default"
BASELINE_HINT = "Make one with: losscli eval --loss ... --format json FILE > baseline.json"


@dataclass(frozen=True)
class Check:
    """One comparison of a result's value with a bound.

    ``threshold`` is the bound the value must not pass: the given value for ``max`` and ``min``,
    the baseline value plus the tolerance (in the worse direction) for ``baseline``.
    """

    label: str
    kind: str
    threshold: float | None
    value: float | None
    status: str
    direction: str = "lower"
    baseline: float | None = None
    tolerance: str | None = None
    reason: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    @property
    def upper(self) -> bool:
        """True when the bound is a ceiling (``max``, or a baseline of a lower-is-better loss)."""
        return self.kind == "max" or (self.kind == "baseline" and self.direction != "higher")

    @property
    def margin(self) -> float | None:
        """How far the value is inside its bound: positive passes, negative fails by that much."""
        if self.value is None or self.threshold is None:
            return None
        margin = self.threshold - self.value if self.upper else self.value - self.threshold
        return margin if math.isfinite(margin) else None

    def describe(self) -> str:
        """The check in words, e.g. ``mse = 1038.23 is above the max 1000 by 38.2285``."""
        if self.reason:
            return f"{self.label}: {self.reason}"
        bound = f"the {self.kind} {short(self.threshold)}"
        if self.kind == "baseline":
            bound = f"the bound {short(self.threshold)} ({self.bound_text()})"
        side = "within" if self.passed else "above" if self.upper else "below"
        margin = self.margin
        if margin is None:
            return f"{self.label} = {short(self.value)} is {side} {bound}"
        by = f", margin {short(margin)}" if self.passed else f" by {short(-margin)}"
        return f"{self.label} = {short(self.value)} is {side} {bound}{by}"

    def bound_text(self) -> str:
        """What the bound is: ``max``, ``min`` or ``baseline 1038.23 +2%``."""
        if self.kind != "baseline":
            return self.kind
        if self.baseline is None:
            return "baseline"
        sign = "+" if self.upper else "-"
        extra = f" {sign}{self.tolerance}" if self.tolerance not in (None, "0") else ""
        return f"baseline {short(self.baseline)}{extra}"

    def to_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "label": self.label,
            "kind": self.kind,
            "threshold": json_ready(self.threshold),
            "value": json_ready(self.value),
            "passed": self.passed,
            "status": self.status,
            "margin": self.margin,
            "direction": self.direction,
        }
        if self.kind == "baseline":
            entry["baseline"] = json_ready(self.baseline)
            entry["tolerance"] = self.tolerance
        if self.reason:
            entry["reason"] = self.reason
        return entry


@dataclass(frozen=True)
class Tolerance:
    """How much worse than its baseline a value may be: absolute, or a percentage of it."""

    amount: float
    relative: bool = False

    def allowance(self, baseline: float) -> float:
        return abs(baseline) * self.amount / 100 if self.relative else self.amount

    def __str__(self) -> str:
        return f"{short(self.amount)}%" if self.relative else short(self.amount)


def parse_tolerance(value: str | float, where: str) -> Tolerance:
    """``0.01`` (absolute) or ``2%`` (relative to the baseline value); never negative."""
    text = str(value).strip()
    relative = text.endswith("%")
    try:
        amount = float(text[:-1] if relative else text) if not isinstance(value, bool) else None
    except ValueError:
        amount = None
    if amount is not None and amount < 0:
        raise UsageError(
            f"{where}: '{value!s}' is not a tolerance: it is negative, and a tolerance is how "
            "much worse than the baseline may pass.",
            "Give 0 or more (0.01, or 2% of the baseline value); 0 allows no change for the worse.",
        )
    if amount is None or not math.isfinite(amount):
        raise UsageError(
            f"{where}: '{value!s}' is not a tolerance.",
            "Write a number (0.01, absolute) or a percentage of the baseline value (2%).",
        )
    return Tolerance(amount, relative)


def parse_bounds(given: Mapping[str, Any], option: str) -> dict[str, float]:
    """Threshold values as floats; a value that is not a finite number is a usage error."""
    bounds: dict[str, float] = {}
    for label, value in given.items():
        number = None if isinstance(value, bool) else _number(value)
        if number is None or not math.isfinite(number):
            raise UsageError(
                f"{option} {label}={value}: the threshold is not a finite number.",
                f"Example: {option} {label}=0.5",
            )
        bounds[label] = number
    return bounds


class Labels:
    """The results a LABEL may name: by its exact label, or by canonical loss and parameters."""

    def __init__(self, entries: Iterable[tuple[str, str, Mapping[str, Any]]]) -> None:
        self.labels: list[str] = []
        self.by_key: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
        for label, loss, params in entries:
            self.labels.append(label)
            self.by_key.setdefault(loss_key(loss, params), label)

    @classmethod
    def of_requests(cls, requests: Iterable[LossRequest]) -> Labels:
        return cls((r.label, r.name, r.params) for r in requests)

    @classmethod
    def of_results(cls, results: Iterable[Result]) -> Labels:
        return cls((r.label, r.loss, r.params) for r in results)

    def match(self, label: str, loss: str, params: Mapping[str, Any]) -> str | None:
        return self.by_key.get(loss_key(loss, params)) or (label if label in self.labels else None)

    def resolve(self, text: str, where: str) -> str:
        """The label ``text`` names; naming none is a usage error (``where: why``) listing them."""
        from losscli.losses import parse_specs

        if text in self.labels:
            return text
        known = f"The labels are: {', '.join(self.labels)}."
        try:
            requests = parse_specs([text])
        except UsageError as error:
            raise UsageError(f"{where}: {error.message}", known) from None
        found = None
        if len(requests) == 1:
            found = self.by_key.get(loss_key(requests[0].name, requests[0].params))
        if found is None:
            raise UsageError(f"{where}: no requested loss has this label.", known)
        return found


def loss_key(loss: str, params: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A loss with its effective parameters, written as labels write them (``2.0`` as ``2``)."""
    from losscli.losses.registry import format_value

    return loss, tuple(sorted((key, format_value(value)) for key, value in params.items()))


def overall(results: Iterable[Result]) -> list[Result]:
    """The results over all rows: per-group results are not checked."""
    return [result for result in results if getattr(result, "group", None) is None]


def threshold_checks(
    report: Evaluated,
    max: Mapping[str, Any] | None = None,
    min: Mapping[str, Any] | None = None,
) -> list[Check]:
    """One check per ``max`` / ``min`` entry (LABEL -> value), in the order given."""
    results = list(report.overall)
    labels = Labels.of_results(results)
    by_label = {result.label: result for result in results}
    checks = []
    for kind, given in (("max", max), ("min", min)):
        for text, threshold in parse_bounds(given or {}, option(kind)).items():
            result = by_label[labels.resolve(text, f"--{kind} {text}")]
            checks.append(_threshold_check(result, kind, threshold))
    return checks


def _threshold_check(result: Result, kind: str, threshold: float) -> Check:
    value = result.value
    reason = _not_comparable(value)
    inside = value <= threshold if kind == "max" else value >= threshold
    return Check(
        label=result.label,
        kind=kind,
        threshold=threshold,
        value=value,
        status=PASSED if inside and reason is None else FAILED,
        direction=result.direction,
        reason=reason,
    )


def baseline_checks(
    report: Evaluated,
    baseline: Mapping[str, Any],
    tolerance: str | float | Mapping[str, str | float] | None = None,
    allow_missing: bool = False,
    other_rows: bool = False,
) -> list[Check]:
    """Each result against the same loss in ``baseline`` (an ``eval --format json`` document).

    ``tolerance`` is one for every loss (``0.01`` or ``"2%"``) or a mapping of LABEL to tolerance
    with ``"default"`` for the rest; the default default is 0. A loss on one side only fails, or is
    skipped when ``allow_missing``. A baseline over another number of rows is refused unless
    ``other_rows``: its value is of other data, so a pass or a fail against it means nothing.
    """
    results = list(report.overall)
    entries = baseline_results(baseline)
    if not entries:
        # Every loss would be "missing", and --allow-missing would turn that into a pass.
        raise InputError("The baseline has no results to compare with.", BASELINE_HINT)
    if not other_rows:
        same_rows(report.inputs, baseline.get("inputs"))
    tolerances = tolerances_by_label(tolerance, Labels.of_results(results))
    earlier = Labels((e["label"], e["loss"], e["params"]) for e in entries)
    by_label = {entry["label"]: entry for entry in entries}
    matched: set[str] = set()
    checks = []
    for result in results:
        found = earlier.match(result.label, result.loss, result.params)
        tolerance_here = tolerances.get(result.label, tolerances[DEFAULT])
        if found is None:
            checks.append(_missing(result.label, result.direction, None, "baseline", allow_missing))
            continue
        matched.add(found)
        checks.append(_baseline_check(result, by_label[found]["value"], tolerance_here))
    for entry in entries:
        if entry["label"] not in matched:
            direction = entry.get("direction", "lower")
            missing = _missing(entry["label"], direction, entry["value"], "results", allow_missing)
            checks.append(missing)
    return checks


def same_rows(inputs: Mapping[str, Any], earlier: Any) -> None:
    """Refuse a baseline whose ``inputs.rows_used`` differs from this run's.

    A regression check on other rows (a sample, last week's file) compares other data: the
    classic silent mistake. The number of rows is the one trace of the data a report keeps;
    file names are not compared, since a CI checkout names the same file by another path.
    """
    now = inputs.get("rows_used")
    then = earlier.get("rows_used") if isinstance(earlier, Mapping) else None
    if not _is_count(now) or not _is_count(then) or now == then:
        return
    raise InputError(
        f"The baseline was computed on {then} rows, this run on {now}: its values are of other "
        "data.",
        f"Write the baseline again from the same rows, or add {option('allow_other_rows')} "
        "(allow_other_rows = true in a check) if the change is intended.",
    )


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def tolerances_by_label(
    tolerance: str | float | Mapping[str, str | float] | None, labels: Labels
) -> dict[str, Tolerance]:
    given = tolerance if isinstance(tolerance, Mapping) else {DEFAULT: tolerance or 0}
    parsed = {DEFAULT: Tolerance(0.0)}
    named: dict[str, str | float] = {}
    for text, value in given.items():
        label = (
            DEFAULT if text == DEFAULT else labels.resolve(text, f"{option('tolerance')} {text}")
        )
        where = option("tolerance") if text == DEFAULT else f"{option('tolerance')} {text}"
        if label in named:
            raise UsageError(*tolerance_twice(where, label, named[label]))
        named[label] = value
        parsed[label] = parse_tolerance(value, where)
    return parsed


def tolerance_twice(where: str, label: str, first: str | float) -> tuple[str, str]:
    """Two tolerances for one loss (``mse=1%`` and ``l2=2%``): the message and its hint."""
    return (
        f"{where}: {label} already has a tolerance ({first}).",
        "Give each loss one tolerance.",
    )


def _baseline_check(result: Result, earlier: float | None, tolerance: Tolerance) -> Check:
    value = result.value
    reason = _not_comparable(value)
    bound = None
    if earlier is None or math.isnan(earlier):  # a mapping given in Python may hold a NaN
        reason = "the baseline has no value for it (NaN or infinite there)"
        earlier = None
    else:
        allowance = tolerance.allowance(earlier)
        bound = earlier - allowance if result.direction == "higher" else earlier + allowance
    higher = result.direction == "higher"
    inside = bound is not None and (value >= bound if higher else value <= bound)
    return Check(
        label=result.label,
        kind="baseline",
        threshold=bound,
        value=value,
        status=PASSED if inside and reason is None else FAILED,
        direction=result.direction,
        baseline=earlier,
        tolerance=str(tolerance),
        reason=reason,
    )


def _missing(label: str, direction: str, earlier: float | None, side: str, allowed: bool) -> Check:
    return Check(
        label=label,
        kind="baseline",
        threshold=None,
        value=None,
        status=SKIPPED if allowed else FAILED,
        direction=direction,
        baseline=earlier,
        reason=f"missing from the {side}",
    )


def _not_comparable(value: float) -> str | None:
    return "the value is NaN" if math.isnan(value) else None


def read_baseline(path: str | PathLike[str]) -> dict[str, Any]:
    """A baseline report from a file written by ``losscli eval --format json``."""
    if not str(path):
        # Path('') is the current directory: 'Is a directory' would hide what happened.
        raise InputError("The baseline path is empty.", BASELINE_HINT)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError(f"Cannot read the baseline {path}: {reason}.", BASELINE_HINT) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"The baseline {path} is not JSON (line {error.lineno}: {error.msg}).", BASELINE_HINT
        ) from None
    except RecursionError:
        # Arrays nested thousands deep exhaust the parser's stack; no report is shaped so.
        raise InputError(
            f"The baseline {path} is not JSON of a report (nested too deeply to read).",
            BASELINE_HINT,
        ) from None
    baseline_results(document, str(path))
    return document


def baseline_results(document: Any, name: str = "the baseline") -> list[dict[str, Any]]:
    """The overall results of a baseline document, checked to be a losscli eval report."""
    results = document.get("results") if isinstance(document, Mapping) else None
    if not isinstance(results, list) or "version" not in document:
        raise InputError(
            f"{name} is not a losscli eval report (it needs 'version' and a 'results' list).",
            BASELINE_HINT,
        )
    _known_version(document["version"], name)
    first: dict[str, int] = {}
    for number, entry in enumerate(results, 1):
        if not _is_result_entry(entry):
            raise InputError(
                f"{name}: result {number} is not a losscli result "
                "(it needs 'label', 'loss', 'params' and a numeric or null 'value').",
                BASELINE_HINT,
            )
        if entry.get("group") is None:
            # One value per label: which of two a check compared against would be a guess.
            label = entry["label"]
            if label in first:
                raise InputError(
                    f"{name}: results {first[label]} and {number} are both '{label}'.",
                    "Keep one result per label (edit the file, or write it again).",
                )
            first[label] = number
    return [entry for entry in results if entry.get("group") is None]


def _known_version(version: Any, name: str) -> None:
    """Refuse a baseline from a newer losscli, or whose version is not one.

    A newer release may define a loss or a default differently: its numbers would be compared as
    if they were this one's. An older one is read (a baseline outlives an upgrade).
    """
    from losscli import __version__

    then, now = _release(version), _release(__version__)
    if then is None:
        raise InputError(
            f"{name}: 'version' is {json.dumps(version)[:60]}, not a losscli version.",
            BASELINE_HINT,
        )
    if now is not None and then > now:
        raise InputError(
            f"{name} was written by losscli {version}, newer than this {__version__}.",
            f"Upgrade losscli to {version} or later, or write the baseline again with this one.",
        )


def _release(version: Any) -> tuple[int, ...] | None:
    """``"1.2.3"`` as ``(1, 2, 3)``; a suffix after the numbers (``1.2.3rc1``) is left out."""
    if not isinstance(version, str):
        return None
    numbers = []
    for part in version.split(".")[:3]:
        digits = part[: len(part) - len(part.lstrip("0123456789"))] or None
        if digits is None:
            break
        numbers.append(int(digits))
    return tuple(numbers) or None


def _is_result_entry(entry: Any) -> bool:
    if not isinstance(entry, Mapping):
        return False
    value = entry.get("value")
    return (
        isinstance(entry.get("label"), str)
        and isinstance(entry.get("loss"), str)
        and isinstance(entry.get("params"), Mapping)
        and (value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)))
    )


def summary(checks: Sequence[Check]) -> dict[str, int]:
    """How many checks passed, failed and were skipped."""
    statuses = [check.status for check in checks]
    return {status: statuses.count(status) for status in (PASSED, FAILED, SKIPPED)}


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
