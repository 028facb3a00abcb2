"""``losscli.plot``: the numbers behind a picture of the losses, from one streaming pass.

The input is read as ``evaluate`` (or ``compare``) reads it; each chunk's per-row values (and,
for a reliability diagram or residuals, its scores and targets) go to the bounded accumulators of
``losscli.engine.pictures``. The result is a ``Picture``: its ``to_dict()`` is the JSON of the
numbers drawn; ``losscli.report.pictures`` draws it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from losscli import __version__
from losscli.compat import requests as parse_specs
from losscli.engine.pictures import Reliability, Residuals, RowValues
from losscli.errors import UsageError, option
from losscli.losses import LossRequest
from losscli.losses.probability import class_log_probs, sigmoid
from losscli.report import Report

KINDS = ("distribution", "calibration", "groups", "residuals", "compare", "curve")
STRATEGIES = ("uniform", "quantile")
# A groups picture draws this many groups, the worst first; the JSON says how many there were.
GROUPS_DRAWN = 30
# The curve's abscissa: the error pred - target (target 1), a probability, or a logit.
CURVE_POINTS = 401
CURVE_TARGET = 1.0


@dataclass(frozen=True)
class Picture:
    """What ``plot`` drew the numbers of: ``kind`` and one panel per loss label, plus the
    report of the same pass (None for a curve)."""

    kind: str
    panels: list[dict[str, Any]]
    inputs: dict[str, Any]
    report: Any = None

    def to_dict(self) -> dict[str, Any]:
        """The numbers drawn: bins, counts, edges, points per panel."""
        return {
            "version": __version__,
            "kind": self.kind,
            "inputs": dict(self.inputs),
            "panels": self.panels,
        }

    def save(self, path: Any) -> None:
        """Write the picture to ``path``, its format told by the extension (.json, .png, .svg,
        .pdf or .html); written to a temporary file and renamed."""
        from losscli.report.saving import save_picture

        save_picture(self, path)

    def text(self, width: int = 100, height: int = 30) -> str:
        """The picture as text for a terminal (plotext)."""
        from losscli.report.pictures import text_picture

        return text_picture(self.to_dict(), width, height)


def plot(
    data: Any = None,
    losses: str | Sequence[str] = (),
    kind: str = "distribution",
    *,
    bins: int = 10,
    strategy: str = "uniform",
    candidate: Any = None,
    by: str | Sequence[str] | None = None,
    ci: float | None = None,
    **options: Any,
) -> Picture:
    """The numbers of a ``kind`` picture of ``losses`` over ``data`` (see ``KINDS``).

    ``distribution``: a histogram and ECDF of each loss's per-row values, the mean and quantiles.
    ``calibration``: a reliability diagram of a classification loss's scores, ``bins`` bins by
    ``strategy`` (uniform or quantile, as scikit-learn's ``calibration_curve``) and the expected
    calibration error. ``groups``: the value per ``by`` group with its ``ci`` interval, worst
    first. ``residuals``: prediction vs target and residual vs prediction densities. ``compare``:
    the per-row differences of the losses of ``candidate`` and ``data`` (the baseline).
    ``curve``: each loss against the error (or the score) with no data. Other ``options`` are
    those of ``evaluate`` (``pred``, ``target``, ``weight``, ``columns``, ``nan``, ...).
    """
    requests = _checked(kind, losses, (bins, strategy), (by, ci), data, candidate)
    if kind == "curve":
        return Picture(kind, [curve(request) for request in requests], {})
    if kind == "compare":
        return _compared(data, candidate, losses, requests, options)
    from losscli.api import evaluate

    sink = _Sink({kind}, requests, bins, strategy)
    evaluated = evaluate(data, losses, by=by, ci=ci, per_row=sink, **options)
    panels = _groups(evaluated) if kind == "groups" else sink.panels(kind)
    return Picture(kind, panels, dict(evaluated.inputs), evaluated)


def _checked(
    kind: str,
    losses: str | Sequence[str],
    calibration: tuple[int, str],
    grouping: tuple[Any, float | None],
    data: Any,
    candidate: Any,
) -> list[LossRequest]:
    """The parsed losses, with every request that cannot be drawn refused before reading;
    ``calibration`` is (bins, strategy) and ``grouping`` (by, ci)."""
    (bins, strategy), (by, ci) = calibration, grouping
    if kind not in KINDS:
        raise UsageError(f"{option('kind')} {kind} is unknown.", f"Use one of {', '.join(KINDS)}.")
    requests = parse_specs([losses] if isinstance(losses, str) else losses)
    if not requests:
        raise UsageError("No loss given.", f"Name one, e.g. {option('losses')} mse.")
    if kind == "calibration":
        if strategy not in STRATEGIES:
            raise UsageError(
                f"{option('strategy')} {strategy} is unknown.", "Use uniform or quantile."
            )
        if bins < 1:
            raise UsageError(f"{option('bins')} {bins} must be at least 1.", "Example: 10")
        for request in requests:
            _refuse_uncalibrated(request)
    if kind != "groups" and (by is not None or ci is not None):
        raise UsageError(
            f"{option('by')} and {option('ci')} draw a groups picture, not a {kind} one.",
            f"Add {option('kind')} groups, or leave them out.",
        )
    if kind == "groups" and by is None:
        raise UsageError(
            f"A groups picture needs groups: {option('by')} names their columns.",
            f"Add {option('by')} COLS (e.g. {option('by')} region).",
        )
    if kind == "compare" and candidate is None:
        raise UsageError(
            "A compare picture needs two inputs: the baseline's and the candidate's predictions.",
            "Give both files: BASELINE CANDIDATE.",
        )
    if kind == "curve" and data is not None:
        raise UsageError(
            "A curve is drawn from the losses alone, with no input.", "Leave out the input."
        )
    return requests


def _refuse_uncalibrated(request: LossRequest) -> None:
    definition = request.definition
    if not calibrated(request):
        raise UsageError(
            f"A reliability diagram needs predicted probabilities or class scores, but "
            f"{request.label} is a {definition.family} loss without them.",
            f"Use a loss of class scores, e.g. {option('losses')} bce (probabilities), "
            "bce:input=logits or ce (K class logits).",
        )


def scores_and_outcomes(request: LossRequest, pred: np.ndarray, target: np.ndarray) -> Any:
    """Predicted probabilities and what happened, for a reliability diagram.

    One score a row (or element by element, for a multi-label loss): the probability of class 1
    (the sigmoid of a logit first) against the target. K class scores: the top label's
    probability (after softmax) against whether it is the target (or the target's probability
    of it, for probability rows), as ``calibration_curve`` is used for multiclass models.
    """
    kind = request.params.get("input", "logprobs")
    if request.definition.elementwise or pred.ndim == 1 or pred.shape[1] == 1:
        scores = pred.reshape(-1)
        prob = (
            sigmoid(scores)
            if kind == "logits"
            else np.exp(scores)
            if kind == "logprobs"
            else scores
        )
        return prob, np.asarray(target, np.float64).reshape(-1)
    probs = np.exp(class_log_probs(pred, kind, request.label))
    top = probs.argmax(axis=1)
    confidence = probs[np.arange(len(top)), top]
    if target.ndim == 2:
        return confidence, target[np.arange(len(top)), top]
    known = (target >= 0) & (target < probs.shape[1])
    return confidence, np.where(known, (target == top).astype(np.float64), np.nan)


def _numbers(chunk: Any) -> tuple[np.ndarray, np.ndarray]:
    """A chunk's pred and target as float64: a run of ``stored`` losses (dice, iou, ...) reads
    them as the file stores them, where uint8 masks would subtract modulo 256."""
    pred, target = (chunk.roles[role].astype(np.float64, copy=False) for role in ("pred", "target"))
    return pred, target


class _Sink:
    """Receives each chunk and its per-row values during the pass (``evaluate(per_row=...)``)
    and feeds the accumulators of every picture in ``kinds``."""

    def __init__(self, kinds: set[str], requests: list[LossRequest], bins: int, strategy: str):
        self.kinds = kinds
        self.requests = requests
        self.values = {request.label: RowValues() for request in requests}
        # Losses that read the scores alike (ce and softmax_focal on logits) share one diagram.
        self.readers: dict[tuple[str, bool], list[LossRequest]] = {}
        for request in filter(calibrated, requests):
            self.readers.setdefault(_reading(request), []).append(request)
        self.reliability = {
            sharing[0].label: Reliability(bins, strategy) for sharing in self.readers.values()
        }
        self.residuals = Residuals()
        self.without_rows: set[str] = set()

    def __enter__(self) -> _Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def write(self, chunk: Any, per_row: Mapping[str, np.ndarray | None]) -> None:
        if not chunk.rows:
            return
        if "residuals" in self.kinds:
            self.residuals.add(*_numbers(chunk))
        for request in self.requests:
            if "calibration" in self.kinds and request.label in self.reliability:
                self._calibrate(request, chunk)
            values = per_row.get(request.label)
            if values is None:
                self.without_rows.add(request.label)
            elif self.kinds & {"distribution", "compare"}:
                self.values[request.label].add(values, chunk.weight)

    def _calibrate(self, request: LossRequest, chunk: Any) -> None:
        prob, outcome = scores_and_outcomes(request, *_numbers(chunk))
        weight = chunk.weight
        if weight is not None and len(weight) != len(prob):  # a multi-label row's elements
            weight = np.repeat(weight, len(prob) // max(len(weight), 1))
        self.reliability[request.label].add(prob, outcome, weight)

    def panels(self, kind: str) -> list[dict[str, Any]]:
        if kind == "residuals":
            return [{"label": "residuals", **self.residuals.summary()}]
        if kind == "calibration":
            return self._diagrams()
        for label in self.without_rows:
            raise UsageError(
                f"{label} has no per-row values (it is computed from the rows together), so "
                "it has no distribution to draw.",
                "Draw a loss with a value per row, e.g. mse or mae, or ask for another kind.",
            )
        return [_panel(r, self.values[r.label].summary()) for r in self.requests]

    def drawn(self, kind: str) -> list[dict[str, Any]]:
        """The panels of ``kind`` that have something to draw (for the report page)."""
        if kind == "residuals":
            return self.panels(kind) if self.residuals.rows else []
        if kind == "calibration":
            return self._diagrams()
        return [
            _panel(r, self.values[r.label].summary())
            for r in self.requests
            if r.label not in self.without_rows and self.values[r.label].rows
        ]

    def _diagrams(self) -> list[dict[str, Any]]:
        """One reliability diagram per way of reading the scores, labelled with its losses."""
        panels = []
        for sharing in self.readers.values():
            panel = _panel(sharing[0], self.reliability[sharing[0].label].summary())
            panel["label"] = ", ".join(request.label for request in sharing)
            panel["losses"] = [request.label for request in sharing]
            panels.append(panel)
        return panels


def _reading(request: LossRequest) -> tuple[str, bool]:
    """How a loss turns its scores into probabilities: the kind of input, and whether it takes
    them element by element (binary, multi-label) or as a row of class scores."""
    return request.params.get("input", "logprobs"), request.definition.elementwise


def calibrated(request: LossRequest) -> bool:
    """Whether the loss reads probabilities or class scores (a reliability diagram fits)."""
    return request.definition.family == "classification" and (
        "input" in request.params or request.definition.name == "nll"
    )


def _residual_kind(requests: Sequence[LossRequest]) -> bool:
    """Residuals fit when every loss is a regression loss of pred and target."""
    return all(r.definition.family == "regression" for r in requests)


def report(
    data: Any,
    losses: str | Sequence[str],
    *,
    by: str | Sequence[str] | None = None,
    ci: float | None = None,
    worst: int = 10,
    **options: Any,
) -> tuple[Report, list[Picture]]:
    """``evaluate``'s report and the pictures that fit its losses, from one pass: the per-row
    distribution of the losses with per-row values, a reliability diagram of the classification
    losses of scores, residuals when every loss is a regression loss, and the groups with ``by``.
    """
    requests = parse_specs([losses] if isinstance(losses, str) else losses)
    if not requests:
        raise UsageError("No loss given.", f"Name one, e.g. {option('losses')} mse.")
    from losscli.api import evaluate

    kinds = {"distribution", "calibration"} | ({"residuals"} if _residual_kind(requests) else set())
    sink = _Sink(kinds, requests, 10, "uniform")
    result = evaluate(data, losses, by=by, ci=ci, worst=worst, per_row=sink, **options)
    inputs = dict(result.inputs)
    pictures = [
        Picture(kind, sink.drawn(kind), inputs, result)
        for kind in ("distribution", "calibration", "residuals")
    ]
    if by is not None:
        pictures.append(Picture("groups", _groups(result), inputs, result))
    return result, [picture for picture in pictures if picture.panels]


def _panel(request: LossRequest, numbers: dict[str, Any]) -> dict[str, Any]:
    return {
        "label": request.label,
        "loss": request.name,
        "direction": request.definition.direction,
        **numbers,
    }


def _groups(evaluated: Report) -> list[dict[str, Any]]:
    """Per loss, its groups sorted worst first (the largest value of a lower-is-better loss)."""
    assert evaluated.groups is not None
    panels = []
    for part in evaluated.groups.parts:
        value = np.asarray(part.value, np.float64)
        worse = -value if part.direction == "lower" else value
        order = np.argsort(np.where(np.isnan(worse), np.inf, worse), kind="stable")
        shown = order[:GROUPS_DRAWN]
        panels.append(
            {
                "label": part.label,
                "loss": part.loss,
                "direction": part.direction,
                "groups_total": len(part),
                "by": [key.name for key in part.keys],
                "groups": [_group_entry(part, int(row)) for row in shown],
            }
        )
    return panels


def _group_entry(part: Any, row: int) -> dict[str, Any]:
    result = part.result(row)
    entry = {"group": result.to_dict()["group"], "value": _finite(result.value), "n": result.n}
    if result.ci is not None:
        entry["low"], entry["high"] = _finite(result.ci["low"]), _finite(result.ci["high"])
    return entry


def _finite(value: Any) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def curve(request: LossRequest) -> dict[str, Any]:
    """One loss against the error pred - target (target 1) or, for a classification loss, the
    score of the true class (a probability, or a logit with input=logits)."""
    definition = request.definition
    if definition.roles[:2] != ("pred", "target") or set(definition.roles[2:]) - set(
        definition.optional
    ):
        raise UsageError(
            f"A curve draws a loss of pred and target alone; {request.label} also needs "
            f"{', '.join(r for r in definition.roles if r not in ('pred', 'target'))}.",
            "Choose regression or classification losses, e.g. mse,huber,log_cosh.",
        )
    kind = request.params.get("input")
    if definition.family == "classification" and kind is not None:
        return _score_curve(request, kind)
    if definition.family != "regression":
        raise UsageError(
            f"A curve draws regression losses against the error and classification losses "
            f"against the score; {request.label} is a {definition.family} loss.",
            "Choose e.g. mse,huber,log_cosh or bce,focal.",
        )
    error = np.linspace(-3.0, 3.0, CURVE_POINTS)
    target = np.full_like(error, CURVE_TARGET)
    values = _computed(request, error + target, target)
    return _curve_panel(request, "error", error, values, {"target": CURVE_TARGET})


def _score_curve(request: LossRequest, kind: str) -> dict[str, Any]:
    """A classification loss against the true class's score, with two classes (class 1 true)."""
    if kind == "logits":
        score = np.linspace(-6.0, 6.0, CURVE_POINTS)
    else:
        score = np.linspace(0.0, 1.0, CURVE_POINTS)[1:-1]
    if kind == "logprobs":
        score = np.log(score)
    target = np.ones_like(score)
    if request.definition.elementwise:
        pred = score
    else:
        other = {"logits": np.zeros_like(score), "probs": 1 - score}.get(kind)
        pred = np.column_stack([np.log1p(-np.exp(score)) if other is None else other, score])
    values = _computed(request, pred, target)
    return _curve_panel(
        request,
        {"logits": "logit", "probs": "probability"}.get(kind, "log_prob"),
        score,
        values,
        {"target": 1},
    )


def _computed(request: LossRequest, pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        values = request.definition.compute({"pred": pred, "target": target}, request.params)
    return np.asarray(values, np.float64).reshape(len(pred), -1).mean(axis=1)


def _curve_panel(
    request: LossRequest, axis: str, x: np.ndarray, y: np.ndarray, fixed: dict[str, Any]
) -> dict[str, Any]:
    finite = np.isfinite(y)
    return {
        "label": request.label,
        "loss": request.name,
        "x": axis,
        **fixed,
        "points": {axis: x[finite].tolist(), "loss": y[finite].tolist()},
    }


def _compared(
    baseline: Any,
    candidate: Any,
    losses: Any,
    requests: list[LossRequest],
    options: dict[str, Any],
) -> Picture:
    """The distribution of each row's loss difference, candidate minus baseline."""
    from losscli.api import compare

    sink = _Sink({"compare"}, requests, 10, "uniform")
    comparison = compare(baseline, candidate, losses, per_row=sink, **options)
    panels = sink.panels("compare")
    for panel, entry in zip(panels, comparison.entries, strict=True):
        panel["difference"] = entry.get("difference")
    return Picture("compare", panels, dict(comparison.inputs), comparison)
