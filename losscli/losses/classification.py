"""Classification and probabilistic losses: pure per-row functions of class scores and targets.

``pred`` is one column for binary losses or K columns (a group or a list column) of class scores;
``input=`` says whether it holds probabilities, logits or log-probabilities. ``target`` is a class
index column, K one-hot or probability columns, or binary labels. Every log is taken in a form that
cannot overflow. Functions return one value per row (or per element of a multi-label row).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from losscli.engine.statistics import (
    Binned,
    Contribution,
    Mean,
    Statistic,
    exp_or_inf,
    mean_over_elements,
    ones_or,
    weighted,
)
from losscli.errors import InputError, RowProblem, option
from losscli.losses.probability import (
    LOG_CLAMP,
    ROW_SUM_TOLERANCE,
    binary_logs,
    binary_nll,
    class_index,
    class_log_probs,
    class_scores,
    class_weights,
    default_logits,
    hard_class,
    in_unit,
    input_param,
    log_probability_checks,
    log_sigmoid,
    log_softmax,
    log_target_row_checks,
    pick,
    probability_checks,
    require_labels,
    sigmoid,
    softplus,
    target_row_checks,
    target_rows,
    unit_interval,
)
from losscli.losses.registry import (
    REDUCTION,
    ColumnFold,
    Example,
    Param,
    Requirement,
    reduced,
    register,
)

FAMILY = "classification"
HAND = "hand-worked"
LOG_2 = math.log(2.0)
LOG_3 = math.log(3.0)
SOFTMAX_TOTAL = math.exp(0.2) + math.exp(0.5) + math.exp(0.3)  # of an example's row

CLASS_WEIGHT = Param("weight", list, None, "one weight per class, e.g. [1,2,0.5]", ge=0)
IGNORE_INDEX = Param("ignore_index", int, -100, "target class whose rows are left out")
SMOOTHING = Param(
    "label_smoothing", float, 0.0, "eps: the target becomes (1 - eps) q + eps / K", ge=0, le=1
)
CLIP = Param(
    "clip",
    float,
    0.0,
    "input=probs: probabilities are clipped to [clip, 1 - clip] and logged plainly (Keras "
    "1e-7, scikit-learn 2.22e-16); 0 keeps PyTorch's floor of -100 on each log",
    ge=0,
    lt=0.5,
)
CLIP_HIGH = Param(
    "clip_high",
    float,
    None,
    "the upper end of clip= instead of 1 - clip (Keras: 1 - 2^-23, its float32 1 - 1e-7)",
    gt=0.5,
    le=1,
)
ROWS = Param(
    "rows",
    str,
    "check",
    "input=probs rows: check that each sums to 1, renormalize them (Keras) or take them "
    "as_given (scikit-learn's log_loss)",
    choices=("check", "renormalize", "as_given"),
)


# ------------------------------------------------------------------------ binary targets


def _binary_target_checks() -> tuple[Requirement, ...]:
    # -1/1 and 1/2 are common codings of two classes: the fix is to recode, and which label is
    # the positive class is the user's to say, so the hint names it rather than guessing.
    return (
        Requirement(
            "target",
            lambda v, params: in_unit(v),
            "in [0, 1]",
            "binary targets lie between 0 and 1 (soft labels allowed): recode labels such as "
            "-1/1 or 1/2 as 0/1, with 1 for the positive class",
        ),
    )


@register(
    name="bce",
    aliases=("binary_cross_entropy", "log_loss"),
    family=FAMILY,
    elementwise=True,
    formula="-[pw t log p + (1 - t) log(1 - p)], each log clamped at >= -100; "
    "input=logits: pw t softplus(-s) + (1 - t) softplus(s)",
    reference="torch.nn.BCELoss / torch.nn.BCEWithLogitsLoss",
    params=[
        input_param("probs", ("probs", "logits")),
        Param("pos_weight", float, 1.0, "weight of the positive term", ge=0),
        SMOOTHING,
        CLIP,
        CLIP_HIGH,
    ],
    requires=[
        *probability_checks(rows=False),
        *_binary_target_checks(),
    ],
    examples=[
        Example({"pred": [0.8, 0.4], "target": [1, 0]}, -(math.log(0.8) + math.log(0.6)) / 2, HAND),
        Example({"pred": [0.0], "target": [1]}, -math.log(0.5), HAND, {"input": "logits"}),
        Example({"pred": [1.0], "target": [0]}, 100.0, "torch.nn.BCELoss clamps log(0) at -100"),
    ],
    notes="pred holds probabilities unless input=logits (then the overflow-free logits form, as "
    "BCEWithLogitsLoss). Targets may be soft, in [0, 1]. label_smoothing=eps moves targets to "
    "t (1 - eps) + eps / 2. A row of K columns (multi-label) counts as the mean of its elements. "
    "scikit-learn's log_loss clips probabilities at 1e-15 instead of clamping logs at -100, and "
    "Keras clips at 1e-7, so values differ when a prediction is exactly 0 or 1: clip=1e-7 "
    "(Keras) or clip=2.220446049250313e-16 (scikit-learn) moves probabilities into "
    "[clip, 1 - clip] before the plain logs, as they do.",
)
def binary_cross_entropy(pred, target, *, input, pos_weight, label_smoothing, clip, clip_high):
    """Negative log-likelihood of binary (or soft) labels under predicted probabilities."""
    if input == "probs" and clip:
        t = target * (1.0 - label_smoothing) + 0.5 * label_smoothing
        p = np.clip(pred, clip, 1.0 - clip if clip_high is None else clip_high)
        return binary_nll(t, np.log(p), np.log(1.0 - p), pos_weight)
    if input == "probs" and pos_weight == 1 and not label_smoothing:
        hard = _hard_label_bce(pred, target)
        if hard is not None:
            return hard
    t = target * (1.0 - label_smoothing) + 0.5 * label_smoothing
    log_p, log_not_p = binary_logs(pred, input)
    return binary_nll(t, log_p, log_not_p, pos_weight)


def _hard_label_bce(pred: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """With labels that are all 0 or 1 one log per element is enough: -log of p or of 1 - p.

    None when some label is soft (or missing): the general form takes both logs.
    """
    if not ((target == 1) | (target == 0)).all():
        return None
    # |(1 - t) - p| is exactly p (t = 1: |0 - p|) or 1 - p (t = 0), in three passes and without
    # np.where's branch on every element, which mispredicts on labels in random order.
    likelihood = 1.0 - target
    likelihood -= pred
    np.abs(likelihood, out=likelihood)
    np.log(likelihood, out=likelihood)
    np.maximum(likelihood, LOG_CLAMP, out=likelihood)
    return np.negative(likelihood, out=likelihood)


# ------------------------------------------------------------------ softmax cross-entropy


def _class_weighted(params: Mapping[str, Any]) -> Statistic:
    """PyTorch's weighted mean: index targets divide by the sum of their classes' weights."""
    weight, ignore = params.get("weight"), params.get("ignore_index")

    def divisor(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        target, pred = inputs["target"], inputs["pred"]
        classes = 2 if pred.ndim == 1 else pred.shape[1]  # one column: a positive class's p
        if target.ndim == 2:
            return np.ones(len(target))
        index, counted = class_index(target, classes, ignore)
        return np.where(counted, class_weights(weight, classes, "")[index], 0.0)

    return Mean(
        **reduced(params),
        divisor=divisor,
        nothing_left=(
            f"Every row's target is ignore_index={ignore} (or has class weight 0): "
            "no row is left to average.",
            f"Check {option('target')} and ignore_index=, or the class weights.",
        ),
    )


def _smoothed_rows(rows: np.ndarray, eps: float) -> np.ndarray:
    return rows * (1.0 - eps) + eps / rows.shape[1]


CE_NOTES = (
    "pred holds K logits per row (input=probs or logprobs for other kinds; every kind is "
    "normalised with log-softmax, as PyTorch does). target is a class index column "
    "(ignore_index rows are left out and add 0 to --per-row) or K probability columns. With "
    "class weights, index targets give PyTorch's weighted mean: sum of w_y l / sum of w_y; "
    "probability targets divide by the number of rows. label_smoothing mixes eps / K into the "
    "target, with the class weights applied to the smoothing term as PyTorch does. Keras' "
    "CategoricalCrossentropy takes probabilities by default (from_logits=False)."
)


def _cross_entropy(
    pred, target, input, weight, ignore_index, label_smoothing, loss, rows, clip, clip_high=None
):
    log_p = _clipped_log_probs(pred, input, loss, rows, clip, clip_high)
    classes = log_p.shape[1]
    w = class_weights(weight, classes, loss)
    if target.ndim == 2:
        rows = _smoothed_rows(target, label_smoothing)
        return -(np.where(rows > 0, rows * log_p, 0.0) * w).sum(axis=1)
    return _index_nll(log_p, target, w, ignore_index, label_smoothing)


def _index_nll(log_p, target, w, ignore_index, label_smoothing=0.0):
    """-w_y log p_y (smoothed as PyTorch does); ignored rows give 0 and missing targets NaN."""
    index, counted = class_index(target, log_p.shape[1], ignore_index)
    nll = -w[index] * pick(log_p, index)
    if label_smoothing:
        smooth = -(log_p * w).sum(axis=1) / log_p.shape[1]
        nll = (1.0 - label_smoothing) * nll + label_smoothing * smooth
    return np.where(counted, nll, np.where(np.isnan(target), np.nan, 0.0))


def _clipped_log_probs(pred, input, loss, rows, clip, clip_high=None):
    """Log-probabilities of class scores; with input=probs, rows renormalised (or taken as
    given) and clipped to [clip, 1 - clip] first, as Keras and scikit-learn do."""
    if input != "probs" or (rows == "check" and not clip):
        return class_log_probs(pred, input, loss)
    if pred.ndim == 1 or pred.shape[1] == 1:  # the positive class's probability (scikit-learn)
        positive = pred.reshape(-1)
        pred = np.stack([1.0 - positive, positive], axis=1)
    p = class_scores(pred, loss)
    if rows != "as_given":
        p = p / p.sum(axis=1, keepdims=True)
    high = 1.0 - clip if clip_high is None else clip_high
    return np.log(np.clip(p, clip, high)) if clip else np.log(p)


class SoftmaxFold(ColumnFold):
    """ce on logits against class indices, a block of columns at a time.

    Each row keeps a running log-sum-exp (its largest logit so far and the sum of exp(s - top),
    rescaled when the top rises), the target's logit once its column has passed, and for
    label smoothing the class-weighted sum of its logits. Logits read by default are also
    watched for rows that all look like probabilities (in [0, 1], summing to 1), which the
    whole-row path refuses too (``logit_checks``).
    """

    def __init__(self, params: Mapping[str, Any], loss: str) -> None:
        self.weight = params.get("weight")
        self.ignore_index = params.get("ignore_index")
        self.label_smoothing = params.get("label_smoothing", 0.0)
        self.watch = default_logits(params)
        self.loss = loss

    def start(self, target: np.ndarray, classes: int) -> dict[str, np.ndarray]:
        self.w = class_weights(self.weight, classes, self.loss)
        rows = len(target)
        whole = np.isfinite(target) & (target == np.floor(target)) & (target >= 0)
        whole &= target < classes
        state = {
            "index": np.where(whole, target, -1).astype(np.int64),
            "top": np.full(rows, -np.inf),
            "total": np.zeros(rows),
            "picked": np.full(rows, np.nan),
        }
        if self.label_smoothing:
            state["weighted"] = np.zeros(rows)
        if self.watch:
            state |= {"sum": np.zeros(rows), "unit": np.ones(rows, bool)}
            state["fractional"] = np.zeros(rows, bool)
        return state

    def add(self, state: dict[str, np.ndarray], block: np.ndarray, offset: int) -> None:
        top = state["top"]
        high = np.maximum(top, block.max(axis=1))
        # A row of -inf so far adds nothing yet: exp(-inf - -inf) would be NaN.
        shift = np.where(high == -np.inf, 0.0, high)
        total = state["total"]
        total *= np.exp(top - shift)
        shifted = np.subtract(block, shift[:, None], order="F")
        total += np.exp(shifted, out=shifted).sum(axis=1)
        top[...] = high
        index = state["index"] - offset
        here = np.flatnonzero((index >= 0) & (index < block.shape[1]))
        state["picked"][here] = block[here, index[here]]
        if self.label_smoothing:
            w = self.w[offset : offset + block.shape[1]]
            state["weighted"] += block @ w if self.weight is not None else block.sum(axis=1)
        if self.watch:
            self._watch(state, block)

    def _watch(self, state: dict[str, np.ndarray], block: np.ndarray) -> None:
        unit = state["unit"]
        if not unit.any():
            return
        state["sum"] += block.sum(axis=1)
        unit &= (block.min(axis=1) >= 0) & (block.max(axis=1) <= 1)
        state["fractional"] |= ((block > 0) & (block < 1)).any(axis=1)

    def finish(
        self, state: Mapping[str, np.ndarray], target: np.ndarray, classes: int
    ) -> np.ndarray:
        if self.watch:
            self._refuse_probabilities(state)
        w = class_weights(self.weight, classes, self.loss)
        index, counted = class_index(target, classes, self.ignore_index)
        log_sum = state["top"] + np.log(state["total"])
        nll = w[index] * (log_sum - state["picked"])
        if self.label_smoothing:
            smooth = (log_sum * w.sum() - state["weighted"]) / classes
            nll = (1.0 - self.label_smoothing) * nll + self.label_smoothing * smooth
        return np.where(counted, nll, np.where(np.isnan(target), np.nan, 0.0))

    def _refuse_probabilities(self, state: Mapping[str, np.ndarray]) -> None:
        """Default logits whose rows (two or more, not all one-hot) all look like probabilities
        are refused, as ``logit_checks`` refuses them on whole rows."""
        valid = ~np.isnan(state["sum"])
        if valid.sum() < 2 or not state["unit"][valid].all():
            return
        sums = np.abs(state["sum"][valid] - 1.0) <= ROW_SUM_TOLERANCE
        if state["fractional"][valid].any() and sums.all():
            raise RowProblem(
                0,
                "pred",
                "holds rows that sum to 1 with every value in [0, 1], as probabilities do, "
                "not logits (input=logits, the default)",
                f"These look like probabilities: add input=probs (e.g. {option('losses')} "
                f"{self.loss}:input=probs), or write input=logits if they are logits",
            )


def _softmax_fold(loss: str):
    """ce's fold where its parameters allow one: logits (given or by default); probabilities
    and log-probabilities keep whole rows (their checks and clipping are per row)."""

    def fold(params: Mapping[str, Any]) -> ColumnFold | None:
        return SoftmaxFold(params, loss) if params.get("input") == "logits" else None

    return fold


def _rows_checked(params: Mapping[str, Any]) -> bool:
    return params.get("rows", "check") == "check"


CE_PARAMS = [input_param("logits"), CLASS_WEIGHT, IGNORE_INDEX]
CE_CHECKS = [
    *probability_checks(rows_when=_rows_checked),
    *log_probability_checks(),
    *target_row_checks(),
]


@register(
    name="ce",
    aliases=("cross_entropy", "softmax_ce"),
    family=FAMILY,
    formula="-sum_c w_c q_c log softmax(s)_c, q = one-hot of the class (or given rows), "
    "smoothed q = (1 - eps) q + eps / K",
    reference="torch.nn.CrossEntropyLoss",
    params=[*CE_PARAMS, SMOOTHING, ROWS, CLIP, CLIP_HIGH, REDUCTION],
    statistic=_class_weighted,
    requires=CE_CHECKS,
    fold=_softmax_fold("ce"),
    examples=[
        Example({"pred": [[0.0, 0.0]], "target": [1]}, LOG_2, HAND),
        Example(
            {"pred": [[0.2, 0.2]], "target": [1]},
            LOG_2,
            "hand-worked: the row renormalised to [0.5, 0.5] (Keras)",
            {"input": "probs", "rows": "renormalize", "clip": 1e-7},
        ),
        Example({"pred": [[0.0, 0.0, 0.0]], "target": [[0.5, 0.5, 0.0]]}, LOG_3, HAND),
        Example(
            {"pred": [[0.0, math.log(3)], [0.0, 0.0]], "target": [1, 0]},
            (2 * math.log(4 / 3) + LOG_2) / 3,
            "hand-worked: weights [1,2] divide by w_1 + w_0 = 3",
            {"weight": [1, 2]},
        ),
        Example({"pred": [[0.0, 0.0], [5.0, 1.0]], "target": [0, -100]}, LOG_2, HAND),
    ],
    notes=CE_NOTES + " With input=probs, rows=renormalize divides each row by its sum and "
    "rows=as_given takes it as it is (neither checks the sums), and clip=c clips each "
    "probability to [c, 1 - c] before the log: Keras is rows=renormalize,clip=1e-7, "
    "scikit-learn's log_loss rows=as_given,clip=2.220446049250313e-16.",
)
def cross_entropy(
    pred, target, *, input, weight, ignore_index, label_smoothing, rows, clip, clip_high
):
    """Softmax cross-entropy of class scores against class indices or probability rows."""
    return _cross_entropy(
        pred, target, input, weight, ignore_index, label_smoothing, "ce", rows, clip, clip_high
    )


@register(
    name="label_smoothing_ce",
    family=FAMILY,
    formula="ce with label_smoothing (default 0.1): q = (1 - eps) onehot(y) + eps / K",
    reference="torch.nn.CrossEntropyLoss(label_smoothing=0.1)",
    params=[*CE_PARAMS, replace(SMOOTHING, default=0.1), REDUCTION],
    statistic=_class_weighted,
    requires=CE_CHECKS,
    fold=_softmax_fold("label_smoothing_ce"),
    examples=[
        Example(
            {"pred": [[0.0, math.log(3)]], "target": [1]},
            0.95 * math.log(4 / 3) + 0.05 * math.log(4),
            HAND,
        )
    ],
    notes="ce with label_smoothing=0.1 unless given. " + CE_NOTES,
)
def label_smoothing_cross_entropy(pred, target, *, input, weight, ignore_index, label_smoothing):
    """Cross-entropy against targets smoothed toward the uniform distribution."""
    return _cross_entropy(
        pred, target, input, weight, ignore_index, label_smoothing, "label_smoothing_ce", "check", 0
    )


@register(
    name="nll",
    aliases=("nll_loss",),
    family=FAMILY,
    formula="-w_y logprob_y",
    reference="torch.nn.NLLLoss",
    params=[CLASS_WEIGHT, IGNORE_INDEX, REDUCTION],
    statistic=_class_weighted,
    requires=log_probability_checks(always=True),
    examples=[
        Example({"pred": [[math.log(0.25), math.log(0.75)]], "target": [1]}, -math.log(0.75), HAND)
    ],
    notes="pred holds K log-probabilities per row (a log_softmax output); target is a class "
    "index column. For logits use ce. Class weights and ignore_index as in ce.",
)
def negative_log_likelihood(pred, target, *, weight, ignore_index):
    """Negative log-probability of the true class."""
    log_p = class_scores(pred, "nll")
    if target.ndim == 2:
        raise InputError(
            "nll needs a class index column as target, not K columns.",
            f"Give class indices with {option('target')}, or use ce:input=logprobs for "
            "probability rows.",
        )
    return _index_nll(log_p, target, class_weights(weight, log_p.shape[1], "nll"), ignore_index)


# ------------------------------------------------------------------------- divergences


def _log_of(values: np.ndarray, input: str) -> np.ndarray:
    return values if input == "logprobs" else np.log(values)


def _relative_entropy(t: np.ndarray, log_t: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """t (log t - log q) with 0 log 0 = 0, summed over a row."""
    terms = np.where(t > 0, t * (log_t - log_q), 0.0)
    return terms if terms.ndim == 1 else terms.sum(axis=1)


@register(
    name="kl_div",
    aliases=("kl",),
    family=FAMILY,
    formula="sum_c t_c (log t_c - log q_c), 0 log 0 = 0, summed per row",
    reference="torch.nn.KLDivLoss(reduction='batchmean')",
    params=[
        input_param("probs", ("probs", "logprobs")),
        Param("log_target", bool, False, "target holds log-probabilities"),
        replace(
            ROWS,
            help="rows of pred and target: check that each is a distribution, renormalize "
            "them (torchmetrics) or take them as_given (PyTorch, Keras)",
        ),
        replace(CLIP, help="clip target and pred probabilities to [clip, 1] first (Keras 1e-7)"),
        Param(
            "generalized",
            bool,
            False,
            "add sum_c (q_c - t_c): the divergence of unnormalised measures (optax's "
            "generalized_kl_divergence)",
        ),
    ],
    requires=[
        *probability_checks(rows_when=_rows_checked),
        *log_probability_checks(rows_when=_rows_checked),
        # A target row that is no distribution gives a number, even a negative one, that is
        # no divergence.
        *target_row_checks(when=lambda params: not params["log_target"] and _rows_checked(params)),
        *log_target_row_checks(when=lambda params: params["log_target"] and _rows_checked(params)),
    ],
    examples=[
        Example({"pred": [[0.5, 0.5]], "target": [[1.0, 0.0]]}, LOG_2, HAND),
        Example({"pred": [[0.25, 0.75]], "target": [[0.25, 0.75]]}, 0.0, HAND),
        Example(
            {"pred": [[0.5, 0.25]], "target": [[1.0, 0.5]]},
            1.5 * LOG_2 - 0.75,
            "hand-worked: 1 log(1 / 0.5) + 0.5 log(0.5 / 0.25), plus (0.75 - 1.5)",
            {"rows": "as_given", "generalized": True},
        ),
    ],
    notes="KL(target || pred): pred is the model's distribution q (probabilities, or "
    "input=logprobs), target the true one (log_target=true if it is in logs; a class index "
    "column counts as one-hot). Each row's divergence is summed over classes and rows are "
    "averaged: PyTorch's reduction='batchmean'. PyTorch's default reduction='mean' divides by "
    "the number of elements (rows x K) instead, which is not a divergence. rows=as_given "
    "takes rows that are no distributions as they are, and clip=c clips both to [c, 1] "
    "first (Keras' kl_divergence is clip=1e-7). generalized=true adds sum_c (q_c - t_c), "
    "the divergence of unnormalised measures (use it with rows=as_given).",
)
def kl_divergence(pred, target, *, input, log_target, rows, clip, generalized):
    """Kullback-Leibler divergence of the predicted distribution from the target one."""
    if target.ndim == 1 and pred.ndim == 2:
        target = target_rows(target, pred.shape[1])
    value = _kl_rows(pred, target, input=input, log_target=log_target, rows=rows, clip=clip)
    if not generalized:
        return value
    q = np.exp(_log_of(class_scores(pred, "kl_div"), input))
    t = np.exp(target) if log_target else target
    return value + (q - t if q.ndim == 1 else (q - t).sum(axis=1))


def _kl_rows(pred, target, *, input, log_target, rows, clip):
    # One column is no distribution: its pointwise t log(t / q) can even be negative.
    log_q = _log_of(class_scores(pred, "kl_div"), input)
    if rows == "renormalize" and input == "probs" and not log_target:
        log_q = np.log(pred / pred.sum(axis=1, keepdims=True))
        target = target / target.sum(axis=1, keepdims=True)
    if clip:
        t = np.clip(np.exp(target) if log_target else target, clip, 1.0)
        return _relative_entropy(t, np.log(t), np.log(np.clip(np.exp(log_q), clip, 1.0)))
    if log_target:
        return _relative_entropy(np.exp(target), target, log_q)
    return _relative_entropy(target, np.log(target), log_q)


@register(
    name="js_div",
    aliases=("jensen_shannon",),
    family=FAMILY,
    formula="0.5 KL(p || m) + 0.5 KL(t || m), m = (p + t) / 2, natural log",
    reference="scipy.spatial.distance.jensenshannon(p, t) ** 2",
    params=[input_param("probs", ("probs", "logprobs"))],
    requires=[
        *probability_checks(),
        *log_probability_checks(),
        *target_row_checks(),
    ],
    examples=[
        Example({"pred": [[1.0, 0.0]], "target": [[0.0, 1.0]]}, LOG_2, HAND),
        Example({"pred": [[0.5, 0.5]], "target": [[0.5, 0.5]]}, 0.0, HAND),
    ],
    notes="pred and target hold probability rows (input=logprobs if pred is in logs); a class "
    "index target counts as one-hot. Symmetric and bounded by log 2. In nats: scipy's "
    "jensenshannon returns the square root (a distance) and takes base= for other logs.",
)
def jensen_shannon(pred, target, *, input):
    """Jensen-Shannon divergence between predicted and target distributions."""
    pred = class_scores(pred, "js_div")
    p = np.exp(pred) if input == "logprobs" else pred
    if target.ndim == 1 and p.ndim == 2:
        target = target_rows(target, p.shape[1])
    middle = 0.5 * (p + target)
    log_middle = np.log(middle)
    return 0.5 * (
        _relative_entropy(p, np.log(p), log_middle)
        + _relative_entropy(target, np.log(target), log_middle)
    )


# ------------------------------------------------------------------ margin-based, +-1 labels


# What an input's labels showed so far, as bits a run keeps across chunks.
ZERO_SEEN, MINUS_SEEN = 1, 2


class SignedMean(Mean):
    """A weighted mean whose targets are labels in {-1, 1} or {0, 1}, never both in one input."""

    def observe(self, inputs, bits):
        if "target" not in inputs:  # merging two runs' tables: their bits together
            if bits & ZERO_SEEN and bits & MINUS_SEEN:
                raise InputError("The target mixes labels 0 and -1.", "Use {-1, 1} or {0, 1}.")
            return bits
        target = inputs["target"]
        zeros, minuses = np.flatnonzero(target == 0), np.flatnonzero(target == -1)
        if bits & MINUS_SEEN and zeros.size:
            raise _mixed(int(zeros[0]))
        if bits & ZERO_SEEN and minuses.size:
            raise _mixed(int(minuses[0]))
        if zeros.size and minuses.size:
            raise _mixed(int(max(zeros[0], minuses[0])))
        return bits | (ZERO_SEEN if zeros.size else 0) | (MINUS_SEEN if minuses.size else 0)


def _mixed(row: int) -> RowProblem:
    return RowProblem(
        row,
        "target",
        "mixes label conventions: it holds both 0 and -1",
        "Use labels {-1, 1} or {0, 1} (0 means -1), not both",
    )


class SquashedWhenOutside(Statistic):
    """torchmetrics' rule for scores: when any score of the input lies outside [0, 1], every
    score is read as a logit and squashed (a sigmoid, or a softmax per row) first.

    The loss function gives each row's loss on the raw scores, its loss on the squashed scores
    and whether a score of the row lies outside [0, 1]; both losses are summed, and the count
    of rows outside picks one at the end, so one pass decides it for the whole input (for
    each group of --by on its own rows, as the library run on them would). No value per row:
    which one counts is known only at the end.
    """

    width = 4

    def __init__(self, params: Mapping[str, Any], signed: bool) -> None:
        keywords = reduced(params)
        self.total, self.over_rows = keywords["total"], keywords["over_rows"]
        self.labels = SignedMean() if signed else None

    def observe(self, inputs, bits):
        return bits if self.labels is None else self.labels.observe(inputs, bits)

    def contribute(self, values, weight, inputs, shifts):
        raw, squashed, outside = values
        rows = len(outside)
        shares = np.ones(rows) if self.over_rows else ones_or(weight, rows)
        columns = [mean_over_elements(raw), mean_over_elements(squashed)]
        return Contribution([*(weighted(c, weight) for c in columns), shares, outside * 1.0])

    def finalize(self, totals):
        sums = totals.sums[..., 0, :]
        value = np.where(sums[..., 3] > 0, sums[..., 1], sums[..., 0])
        return value if self.total else value / sums[..., 2]


def _outside_unit(pred: np.ndarray) -> np.ndarray:
    outside: np.ndarray = (pred < 0) | (pred > 1)
    return outside if outside.ndim == 1 else np.any(outside, axis=1)


def _signed(params: Mapping[str, Any]) -> Statistic:
    if params.get("squash") == "auto":
        return SquashedWhenOutside(params, signed=params.get("labels") == "signed")
    if params.get("labels", "signed") != "signed":
        return Mean(**reduced(params))
    return SignedMean(**reduced(params))


LABELS = Param(
    "labels",
    str,
    "signed",
    "signed: {-1, 1} or {0, 1} with 0 read as -1; zero_one: {0, 1} only, 0 read as -1 "
    "(torchmetrics); as_given: y used as it is (optax)",
    choices=("signed", "zero_one", "as_given"),
)
SQUASH = Param(
    "squash",
    str,
    "none",
    "none: scores as given; auto: when any score of the input lies outside [0, 1], a sigmoid "
    "on every score first (torchmetrics' rule)",
    choices=("none", "auto"),
)


SIGNED_LABELS = Requirement(
    "target",
    lambda t, params: (
        params.get("labels", "signed") != "signed" or ((t == 1) | (t == -1) | (t == 0))
    ),
    "labels in {-1, 1} or {0, 1}",
    "0 is read as -1; recode other labels (such as 1/2) as -1/1, with 1 for the positive class",
)
ZERO_ONE_LABELS = Requirement(
    "target",
    lambda t, params: params.get("labels") != "zero_one" or ((t == 1) | (t == 0)),
    "labels in {0, 1} (labels=zero_one)",
    "torchmetrics would read a -1 as the positive class: recode the negative class as 0",
)
LABEL_NOTE = (
    "Labels are {-1, 1} or {0, 1} (0 is read as -1); an input holding both 0 and -1 is an "
    "error, since the convention would be ambiguous. labels=zero_one takes {0, 1} only "
    "(torchmetrics, which would read -1 as the positive class); labels=as_given takes y as it "
    "is (optax's hinge_loss: a label 0 costs 1 whatever the score). squash=auto is "
    "torchmetrics' rule: when any score of the input lies outside [0, 1], all are read as "
    "logits and go through a sigmoid first (then no value per row is written)."
)


def _hinge_terms(pred, target, labels, squash, power):
    """max(0, 1 - y s)^power; with squash=auto also on sigmoid(s), and the rows outside [0, 1]."""
    y = _sign(target, labels)
    raw = np.maximum(0.0, 1.0 - y * pred) ** power
    if squash == "none":
        return raw
    return raw, np.maximum(0.0, 1.0 - y * sigmoid(pred)) ** power, _outside_unit(pred)


def _sign(target: np.ndarray, labels: str = "signed") -> np.ndarray:
    return target if labels == "as_given" else np.where(target == 0, -1.0, target)


@register(
    name="hinge",
    family=FAMILY,
    elementwise=True,
    formula="max(0, 1 - y s)",
    reference="sklearn.metrics.hinge_loss",
    params=[LABELS, SQUASH, REDUCTION],
    statistic=_signed,
    requires=[SIGNED_LABELS, ZERO_ONE_LABELS],
    examples=[
        Example({"pred": [0.5, -2.0, 2.0], "target": [1, 1, -1]}, (0.5 + 3 + 3) / 3, HAND),
        Example({"pred": [0.5, 2.0], "target": [1, 0]}, 0.75, HAND, {"labels": "as_given"}),
        Example(
            {"pred": [0.5, 0.0], "target": [1, 0]},
            (0.5 + 1.0) / 2,
            "hand-worked: every score in [0, 1], none squashed",
            {"squash": "auto"},
        ),
        Example(
            {"pred": [0.0, 2.0], "target": [1, 0]},
            (0.5 + 1.0 + 1.0 / (1.0 + math.exp(-2.0))) / 2,
            "hand-worked: 2 lies outside [0, 1], so both scores go through the sigmoid",
            {"squash": "auto"},
        ),
    ],
    notes="pred is a raw decision score (not a probability). " + LABEL_NOTE + " scikit-learn "
    "maps any two labels to {-1, 1} the same way; PyTorch's HingeEmbeddingLoss is a different "
    "loss (see hinge_embedding).",
)
def hinge(pred, target, *, labels, squash):
    """Margin loss of a linear classifier: zero once y s >= 1."""
    return _hinge_terms(pred, target, labels, squash, 1)


@register(
    name="squared_hinge",
    family=FAMILY,
    elementwise=True,
    formula="max(0, 1 - y s)^2",
    reference="keras.losses.SquaredHinge",
    params=[LABELS, SQUASH, REDUCTION],
    statistic=_signed,
    requires=[SIGNED_LABELS, ZERO_ONE_LABELS],
    examples=[
        Example({"pred": [0.5, 2.0], "target": [1, 0]}, (0.25 + 9) / 2, HAND),
        Example(
            {"pred": [0.0, -1.0], "target": [1, 0]},
            (0.25 + (1.0 + 1.0 / (1.0 + math.exp(1.0))) ** 2) / 2,
            "hand-worked: -1 lies outside [0, 1], so both scores go through the sigmoid",
            {"squash": "auto", "labels": "zero_one"},
        ),
    ],
    notes=LABEL_NOTE + " Keras also converts {0, 1} labels to {-1, 1}.",
)
def squared_hinge(pred, target, *, labels, squash):
    """The hinge loss squared: smooth at the margin, harsher on large violations."""
    return _hinge_terms(pred, target, labels, squash, 2)


@register(
    name="exponential",
    aliases=("adaboost",),
    family=FAMILY,
    elementwise=True,
    formula="exp(-y s)",
    reference="AdaBoost's exponential loss (Freund & Schapire 1997)",
    params=[REDUCTION],
    statistic=_signed,
    requires=[SIGNED_LABELS, ZERO_ONE_LABELS],
    examples=[Example({"pred": [0.0, -math.log(2)], "target": [1, 0]}, (1 + 0.5) / 2, HAND)],
    notes=LABEL_NOTE + " Large negative margins overflow to inf, as the loss itself does.",
)
def exponential(pred, target):
    """AdaBoost's loss: exponential in the negative margin."""
    return np.exp(-_sign(target) * pred)


@register(
    name="soft_margin",
    family=FAMILY,
    elementwise=True,
    formula="log(1 + exp(-y s))",
    reference="torch.nn.SoftMarginLoss",
    requires=[
        Requirement(
            "target",
            lambda t, params: (t == 1) | (t == -1),
            "labels in {-1, 1}",
            "soft_margin takes -1 and 1 only; for 0/1 labels use bce:input=logits (the same loss)",
        )
    ],
    examples=[Example({"pred": [0.0, 0.0], "target": [1, -1]}, LOG_2, HAND)],
    notes="Labels must be -1 or 1, as in PyTorch. It equals bce with input=logits on 0/1 labels.",
)
def soft_margin(pred, target):
    """Logistic loss on {-1, 1} labels: a smooth hinge."""
    return softplus(-target * pred)


@register(
    name="multiclass_hinge",
    aliases=("multi_margin",),
    family=FAMILY,
    formula="crammer_singer: max(0, margin + max_{j != y} s_j - s_y)^power; "
    "weston_watkins: sum_{j != y} max(0, margin - s_y + s_j)^power / K; "
    "one_vs_all: mean_c max(0, margin - m_c)^power, m_y = s_y, m_c = -s_c for c != y",
    reference="sklearn.metrics.hinge_loss (crammer_singer) / torch.nn.MultiMarginLoss "
    "(weston_watkins) / torchmetrics multiclass_hinge_loss (crammer_singer, one_vs_all)",
    params=[
        Param(
            "variant",
            str,
            "crammer_singer",
            "crammer_singer (worst rival), weston_watkins (every rival) or one_vs_all (each "
            "class as a binary hinge)",
            choices=("crammer_singer", "weston_watkins", "one_vs_all"),
        ),
        Param("margin", float, 1.0, "the required gap between the true score and the rivals", ge=0),
        Param("power", int, 1, "exponent of each term (PyTorch's p; 2: squared)", ge=1, le=2),
        replace(
            SQUASH,
            help="none: scores as given; auto: when any score of the input lies outside "
            "[0, 1], a softmax on every row first (torchmetrics' rule)",
        ),
        REDUCTION,
    ],
    statistic=lambda params: (
        SquashedWhenOutside(params, signed=False)
        if params["squash"] == "auto"
        else Mean(**reduced(params))
    ),
    examples=[
        Example({"pred": [[2.0, 1.5, 0.0]], "target": [0]}, 0.5, HAND),
        Example(
            {"pred": [[2.0, 1.5, 0.0]], "target": [0]},
            0.5 / 3,
            HAND,
            {"variant": "weston_watkins"},
        ),
        Example(
            {"pred": [[2.0, 1.5, 0.0]], "target": [0]},
            (0.0 + 2.5 + 1.0) / 3,
            HAND,
            {"variant": "one_vs_all"},
        ),
        Example(
            {"pred": [[0.0, 0.0, 5.0], [0.2, 0.5, 0.3]], "target": [2, 1]},
            (
                1
                + (1 - math.exp(5)) / (2 + math.exp(5))
                + 1
                + (math.exp(0.3) - math.exp(0.5)) / SOFTMAX_TOTAL
            )
            / 2,
            "hand-worked: 5 lies outside [0, 1], so every row goes through the softmax",
            {"squash": "auto"},
        ),
    ],
    notes="pred holds K raw scores, target a class index (or one-hot rows). crammer_singer is "
    "scikit-learn's multiclass hinge_loss; weston_watkins with power 1 or 2 is PyTorch's "
    "MultiMarginLoss (which divides by K); one_vs_all scores each class as a binary hinge "
    "(the true class's score against +1, the others' against -1) and averages the K terms. "
    "squash=auto is torchmetrics' rule: when any score of the input lies outside [0, 1], "
    "every row goes through a softmax first (then no value per row is written).",
)
def multiclass_hinge(pred, target, *, variant, margin, power, squash):
    """Multi-class margin loss: the true class must beat the others by the margin."""
    scores = class_scores(pred, "multiclass_hinge")
    index, counted = hard_class(target, scores.shape[1])
    raw = _multiclass_margins(scores, index, counted, variant, margin, power)
    if squash == "none":
        return raw
    squashed = np.exp(log_softmax(scores))
    soft = _multiclass_margins(squashed, index, counted, variant, margin, power)
    return raw, soft, _outside_unit(scores)


def _multiclass_margins(scores, index, counted, variant, margin, power):
    true = pick(scores, index)
    if variant == "one_vs_all":
        signs = np.full(scores.shape, -1.0)
        np.put_along_axis(signs, index[:, None], 1.0, axis=1)
        loss = (np.maximum(0.0, margin - signs * scores) ** power).mean(axis=1)
        return np.where(counted, loss, np.nan)
    rivals = scores.copy()
    np.put_along_axis(rivals, index[:, None], -np.inf, axis=1)
    if variant == "crammer_singer":
        loss = np.maximum(0.0, margin + rivals.max(axis=1) - true) ** power
    else:
        loss = (np.maximum(0.0, margin - true[:, None] + rivals) ** power).sum(axis=1)
        loss = loss / scores.shape[1]
    return np.where(counted, loss, np.nan)


@register(
    name="multilabel_soft_margin",
    family=FAMILY,
    elementwise=True,
    formula="-(1/K) sum_c w_c [y_c log sigmoid(s_c) + (1 - y_c) log sigmoid(-s_c)]",
    reference="torch.nn.MultiLabelSoftMarginLoss",
    params=[CLASS_WEIGHT],
    requires=[unit_interval("target", "multi-label targets")],
    examples=[Example({"pred": [[0.0, 0.0]], "target": [[1, 0]]}, LOG_2, HAND)],
    notes="pred holds K logits per row, target K labels in {0, 1}. Equals bce:input=logits "
    "averaged over the K labels, with optional per-class weights.",
)
def multilabel_soft_margin(pred, target, *, weight):
    """Per-label logistic loss averaged over the K labels of a row."""
    scores = class_scores(pred, "multilabel_soft_margin")
    w = class_weights(weight, scores.shape[1], "multilabel_soft_margin")
    terms = target * log_sigmoid(scores) + (1.0 - target) * log_sigmoid(-scores)
    return -(terms * w).sum(axis=1) / scores.shape[1]


# -------------------------------------------------------------------------------- focal


@register(
    name="focal",
    aliases=("sigmoid_focal",),
    family=FAMILY,
    elementwise=True,
    formula="bce * (1 - p_t)^gamma * alpha_t, p_t = p t + (1 - p)(1 - t), "
    "alpha_t = alpha t + (1 - alpha)(1 - t) (alpha < 0: 1)",
    reference="torchvision.ops.sigmoid_focal_loss",
    params=[
        input_param("logits", ("logits", "probs")),
        Param("alpha", float, 0.25, "weight of positives; -1 turns the balancing off", ge=-1, le=1),
        Param("gamma", float, 2.0, "focusing exponent; 0 gives (balanced) bce", ge=0),
        SMOOTHING,
        replace(
            CLIP,
            help="bce's probabilities (after the sigmoid with input=logits) are "
            "clipped to [clip, 1 - clip] and logged plainly, as Keras' "
            "binary_focal_crossentropy does with 1e-7; p_t keeps the unclipped p; 0: no clip",
        ),
        CLIP_HIGH,
    ],
    requires=[*probability_checks(rows=False), *_binary_target_checks()],
    examples=[
        Example({"pred": [0.0], "target": [1]}, 0.25 * 0.25 * LOG_2, HAND),
        Example({"pred": [0.0], "target": [0]}, LOG_2, HAND, {"alpha": -1, "gamma": 0}),
        Example(
            {"pred": [1.0], "target": [0]},
            -(0.1 * math.log(0.9) + 0.9 * math.log(0.1)) * 0.9**2,
            "hand-worked: clip 0.1, t smoothed to 0.1, p_t = 0.1 from the unclipped p",
            {"input": "probs", "alpha": -1, "clip": 0.1, "label_smoothing": 0.2},
        ),
    ],
    notes="Binary or multi-label (K columns, averaged per element as torchvision's mean). pred "
    "holds logits unless input=probs. alpha weights positives and 1 - alpha negatives; "
    "alpha=-1 disables it as torchvision does. label_smoothing=eps moves targets to "
    "t (1 - eps) + eps / 2 before everything else (alpha_t and p_t too, as Keras does). "
    "Keras' binary_focal_crossentropy is alpha=-1 (alpha only with apply_class_balancing), "
    "input=probs and clip=1e-7.",
)
def sigmoid_focal(pred, target, *, input, alpha, gamma, label_smoothing, clip, clip_high):
    """Binary cross-entropy down-weighted on well-classified examples (RetinaNet)."""
    t = target * (1.0 - label_smoothing) + 0.5 * label_smoothing if label_smoothing else target
    p = sigmoid(pred) if input == "logits" else pred
    if clip:
        clipped = np.clip(p, clip, 1.0 - clip if clip_high is None else clip_high)
        bce = binary_nll(t, np.log(clipped), np.log(1.0 - clipped))
    else:
        bce = binary_nll(t, *binary_logs(pred, input))
    p_t = p * t + (1.0 - p) * (1.0 - t)
    loss = bce * (1.0 - p_t) ** gamma
    if alpha >= 0:
        loss = loss * (alpha * t + (1.0 - alpha) * (1.0 - t))
    return loss


def _log_probs_and_rows(pred, target, input, loss):
    log_p = class_log_probs(pred, input, loss)
    return log_p, target_rows(target, log_p.shape[1])


def _clipped_class_probs(pred, input, loss, rows, clip, clip_high):
    """Class probabilities (a softmax of logits; probability rows renormalised unless taken
    as_given), clipped to [clip, 1 - clip] even after a softmax, as Keras' focal loss does."""
    if input == "probs":
        p = class_scores(pred, loss)
        if rows != "as_given":
            p = p / p.sum(axis=1, keepdims=True)
    else:
        p = np.exp(class_log_probs(pred, input, loss))
    return np.clip(p, clip, 1.0 - clip if clip_high is None else clip_high) if clip else p


@register(
    name="softmax_focal",
    family=FAMILY,
    formula="-alpha sum_c q_c (1 - p_c)^gamma log p_c = -alpha (1 - p_y)^gamma log p_y",
    reference="keras.losses.CategoricalFocalCrossentropy (alpha set)",
    params=[
        input_param("logits"),
        Param("alpha", float, 1.0, "overall weight", ge=0),
        Param("gamma", float, 2.0, "focusing exponent; 0 gives alpha * ce", ge=0),
        SMOOTHING,
        ROWS,
        replace(
            CLIP,
            help="p (the softmax of logits, or the probability rows) is clipped to "
            "[clip, 1 - clip] before the log and the focal factor (Keras 1e-7); 0: no clip",
        ),
        CLIP_HIGH,
    ],
    requires=[*CE_CHECKS],
    examples=[
        Example({"pred": [[0.0, 0.0]], "target": [1]}, 0.25 * LOG_2, HAND),
        Example(
            {"pred": [[0.0, 1.0]], "target": [1]},
            -(0.95 * 0.1**2 * math.log(0.9) + 0.05 * 0.9**2 * math.log(0.1)),
            "hand-worked: p clipped to [0.1, 0.9], target smoothed to [0.05, 0.95]",
            {"input": "probs", "clip": 0.1, "label_smoothing": 0.1},
        ),
    ],
    notes="pred holds K logits (or input=probs/logprobs); target a class index, one-hot or "
    "probability rows (the sum over classes). label_smoothing=eps mixes eps / K into the "
    "target rows. Keras' default alpha is 0.25; here it is 1 unless given. Keras' "
    "categorical_focal_crossentropy also renormalises rows and clips at 1e-7 "
    "(rows=renormalize, clip=1e-7), after its softmax too.",
)
def softmax_focal(pred, target, *, input, alpha, gamma, label_smoothing, rows, clip, clip_high):
    """Multi-class focal loss: cross-entropy scaled by (1 - p_y)^gamma."""
    if clip or (input == "probs" and rows == "as_given"):
        p = _clipped_class_probs(pred, input, "softmax_focal", rows, clip, clip_high)
        log_p = np.log(p)
        q = target_rows(target, p.shape[1])
    else:
        log_p, q = _log_probs_and_rows(pred, target, input, "softmax_focal")
        p = np.exp(log_p)
    if label_smoothing:
        q = _smoothed_rows(q, label_smoothing)
    terms = np.where(q > 0, q * (1.0 - p) ** gamma * log_p, 0.0)
    return -alpha * terms.sum(axis=1)


def _probability_gap(input: str) -> Any:
    def gradient(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        pred, target = inputs["pred"], inputs["target"]
        return np.abs((sigmoid(pred) if input == "logits" else pred) - target)

    return gradient


@register(
    name="ghm_c",
    aliases=("ghmc",),
    family=FAMILY,
    elementwise=True,
    formula="mean over non-empty bins b of [sum_{i in b} w_i bce_i / sum_{i in b} w_i], "
    "bins of g = |sigmoid(s) - t| on [0, 1]",
    reference="Li et al. 2019 (GHM-C; mmdetection GHMC without momentum)",
    params=[
        Param("bins", int, 10, "number of equal gradient-norm bins on [0, 1]", ge=1, le=10_000),
        input_param("logits", ("logits", "probs")),
    ],
    statistic=lambda params: Binned(params["bins"], _probability_gap(params["input"])),
    requires=[*probability_checks(rows=False), *_binary_target_checks()],
    examples=[
        Example(
            {"pred": [0.0, 0.0, 10.0], "target": [1, 1, 1]},
            (LOG_2 + math.log1p(math.exp(-10.0))) / 2,
            "hand-worked: two rows in bin 5, one in bin 0",
        )
    ],
    notes="Each example's bce is weighted by the inverse density of its gradient norm g over "
    "the whole input (one pass, per-bin sums), so easy and outlier examples count less. "
    "--per-row writes the plain bce. No momentum: the density is that of the evaluated data.",
)
def gradient_harmonized_bce(pred, target, *, input):
    """Binary cross-entropy re-weighted by gradient density (GHM-C)."""
    log_p, log_not_p = binary_logs(pred, input)
    return binary_nll(target, log_p, log_not_p)


# ---------------------------------------------------------------- scores and probabilities


@register(
    name="brier",
    family=FAMILY,
    formula="binary: (p - t)^2; multiclass: sum_c (p_c - q_c)^2",
    reference="sklearn.metrics.brier_score_loss",
    params=[input_param("probs", ("probs", "logits"))],
    requires=[*probability_checks(), *target_row_checks()],
    examples=[
        Example({"pred": [0.9, 0.2], "target": [1, 1]}, (0.01 + 0.64) / 2, HAND),
        Example({"pred": [[0.5, 0.25, 0.25]], "target": [0]}, 0.375, HAND),
    ],
    notes="Binary when pred is one column (target 0/1), else K probability columns against a "
    "class index, one-hot or probability rows, summed over classes. input=logits applies a "
    "sigmoid or softmax first. The multiclass sum ranges over [0, 2]; scikit-learn halves it "
    "for two-column scores (scale_by_half='auto'), and some texts divide it by K.",
)
def brier(pred, target, *, input):
    """Squared error of predicted probabilities against the outcome."""
    if pred.ndim == 1:
        require_labels(target, (0.0, 1.0), "brier", soft=True)
        p = sigmoid(pred) if input == "logits" else pred
        return (p - target) ** 2
    p = np.exp(class_log_probs(pred, "logits", "brier")) if input == "logits" else pred
    return ((p - target_rows(target, p.shape[1])) ** 2).sum(axis=1)


@register(
    name="zero_one",
    aliases=("error_rate",),
    family=FAMILY,
    formula="1 if argmax_c s_c != y (binary: [p >= threshold] != t) else 0",
    reference="sklearn.metrics.zero_one_loss",
    params=[Param("threshold", float, 0.5, "binary: predict 1 when pred >= threshold")],
    examples=[
        Example({"pred": [0.7, 0.4, 0.5], "target": [1, 1, 1]}, 1 / 3, HAND),
        Example({"pred": [[0.1, 0.7, 0.2], [3.0, 1.0, 2.0]], "target": [1, 2]}, 0.5, HAND),
    ],
    notes="The misclassification rate (1 - accuracy). Binary when pred is one column: labels "
    "0/1 and pred >= threshold counts as 1 (threshold=0 for logits). Otherwise K scores against "
    "a class index or one-hot rows; ties go to the first class, as argmax does.",
)
def zero_one(pred, target, *, threshold):
    """Misclassification: 1 for a wrong predicted class, 0 for a right one."""
    if pred.ndim == 1:
        require_labels(target, (0.0, 1.0), "zero_one")
        wrong = (pred >= threshold).astype(float) != target
        return np.where(np.isnan(pred) | np.isnan(target), np.nan, wrong.astype(float))
    index, counted = hard_class(target, pred.shape[1])
    wrong = (pred.argmax(axis=1) != index).astype(float)
    return np.where(counted & ~np.isnan(pred).any(axis=1), wrong, np.nan)


@register(
    name="poly1",
    family=FAMILY,
    formula="ce + epsilon (1 - p_y), p = softmax(s) (soft rows: p_y = sum_c q_c p_c)",
    reference="Leng et al. 2022 (PolyLoss); optax.poly_loss_cross_entropy",
    params=[
        input_param("logits"),
        Param("epsilon", float, 1.0, "weight of the first polynomial term", ge=-1),
    ],
    requires=[*CE_CHECKS],
    examples=[Example({"pred": [[0.0, 0.0]], "target": [0]}, LOG_2 + 0.5, HAND)],
    notes="pred holds K logits; target a class index, one-hot or probability rows.",
)
def poly1(pred, target, *, input, epsilon):
    """Cross-entropy plus epsilon times the first polynomial term (1 - p_y)."""
    log_p, rows = _log_probs_and_rows(pred, target, input, "poly1")
    ce = -np.where(rows > 0, rows * log_p, 0.0).sum(axis=1)
    return ce + epsilon * (1.0 - (rows * np.exp(log_p)).sum(axis=1))


@register(
    name="gce",
    aliases=("generalized_ce",),
    family=FAMILY,
    formula="(1 - p_y^q) / q, p = softmax(s)",
    reference="Zhang & Sabuncu 2018 (generalized cross-entropy)",
    params=[
        input_param("logits"),
        Param("q", float, 0.7, "between ce (q -> 0) and mae (q = 1)", gt=0, le=1),
        replace(
            ROWS,
            help="input=probs rows: check that each sums to 1, or take them as_given (p_y as "
            "it is: Keras)",
            choices=("check", "as_given"),
        ),
    ],
    requires=[*probability_checks(rows_when=_rows_checked), *log_probability_checks()],
    examples=[
        Example({"pred": [[0.0, 0.0]], "target": [1]}, (1 - 0.5**0.7) / 0.7, HAND),
        Example(
            {"pred": [[0.2, 0.0]], "target": [1]},
            2.0,
            "hand-worked: p_y = 0 taken as given",
            {"input": "probs", "q": 0.5, "rows": "as_given"},
        ),
    ],
    notes="Robust to noisy labels. pred holds K logits (or input=probs/logprobs); target a "
    "class index or one-hot rows. Keras' categorical_generalized_cross_entropy is "
    "input=probs, rows=as_given, q=0.5: no clip, no renormalisation, p_y = 0 gives 1 / q.",
)
def generalized_cross_entropy(pred, target, *, input, q, rows):
    """Box-Cox cross-entropy: ce as q -> 0, mean absolute error on p at q = 1."""
    if input == "probs" and rows == "as_given":
        p = class_scores(pred, "gce")
        index, counted = hard_class(target, p.shape[1])
        loss = (1.0 - pick(p, index) ** q) / q
    else:
        log_p = class_log_probs(pred, input, "gce")
        index, counted = hard_class(target, log_p.shape[1])
        loss = (1.0 - np.exp(q * pick(log_p, index))) / q
    return np.where(counted, loss, np.nan)


def _exp_of_mean(params: Mapping[str, Any]) -> Statistic:
    return Mean(transform=exp_or_inf)


@register(
    name="perplexity",
    aliases=("ppl",),
    family=FAMILY,
    formula="exp( sum_i w_i nll_i / sum_i w_i ), nll_i = -log p(token_i)",
    reference="exp of the corpus-level mean negative log-likelihood",
    params=[input_param("logprobs")],
    statistic=_exp_of_mean,
    requires=[*probability_checks(), *log_probability_checks()],
    examples=[
        Example({"pred": [math.log(0.5), math.log(0.125)]}, 4.0, HAND),
        Example({"pred": [[0.0, 0.0, 0.0, 0.0]], "target": [2]}, 4.0, HAND, {"input": "logits"}),
    ],
    notes="From one pred column of token log-probabilities (no target needed), or from K "
    "scores per row with a class index target (input=logits or probs). The mean is over all "
    "tokens of the input (corpus level), not a mean of per-sentence perplexities. --per-row "
    "writes each token's negative log-likelihood.",
)
def perplexity(pred, target=None, *, input):
    """Exponential of the mean negative log-likelihood per token."""
    if pred.ndim == 1:
        if input == "logits":
            raise InputError(
                "perplexity with input=logits needs K class scores per row and the true class.",
                "For one column of token log-probabilities leave out input= (or input=probs).",
            )
        return -(pred if input == "logprobs" else np.log(pred))
    if target is None:
        raise InputError(
            f"perplexity over {pred.shape[1]} class scores per row needs the true class.",
            f"Name the class index column with {option('target')}, or give one column of token "
            "log-probabilities.",
        )
    if input == "logprobs":
        log_p = class_scores(pred, "perplexity")
    else:
        log_p = class_log_probs(pred, input, "perplexity")
    index, counted = class_index(target, log_p.shape[1])
    return np.where(counted, -pick(log_p, index), np.nan)


# ------------------------------------------------------------------- multi-label rows


MULTI_HOT = Requirement(
    "target",
    lambda t, params: (t == 0) | (t == 1),
    "labels in {0, 1}",
    "give one 0/1 column per label (1: the label applies)",
)


@register(
    name="hamming",
    aliases=("hamming_loss",),
    family=FAMILY,
    elementwise=True,
    formula="mean_k [ [p_k >= threshold] != t_k ]",
    reference="sklearn.metrics.hamming_loss (multi-label indicator rows)",
    params=[Param("threshold", float, 0.5, "pred >= threshold counts as label 1")],
    requires=[MULTI_HOT],
    examples=[
        Example({"pred": [[1, 0, 1], [0, 0, 0]], "target": [[1, 1, 1], [0, 0, 0]]}, 1 / 6, HAND),
        Example({"pred": [[0.7, 0.2]], "target": [[1, 1]]}, 0.5, HAND),
    ],
    notes="The share of wrong labels: pred and target hold K 0/1 columns per row (pred may hold "
    "probabilities, cut at threshold; threshold=0 for logits). With one column it is zero_one's "
    "binary error. torchmetrics' binary_hamming_distance cuts at p > 0.5, the same for 0/1 "
    "predictions.",
)
def hamming(pred, target, *, threshold):
    """Share of labels predicted wrongly (multi-label Hamming loss)."""
    wrong = ((pred >= threshold) != (target == 1)).astype(float)
    return np.where(np.isnan(pred) | np.isnan(target), np.nan, wrong)


def _label_rows(pred: np.ndarray, target: np.ndarray, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """K scores and K labels per row (a single column is a list of one)."""
    scores = pred if pred.ndim == 2 else pred[:, None]
    labels = target if target.ndim == 2 else target[:, None]
    if labels.shape != scores.shape:
        raise InputError(
            f"{loss} needs one target column per score column ({scores.shape[1]}).",
            f"Give one target column per label with {option('target')}.",
        )
    return scores, labels


@register(
    name="label_ranking",
    aliases=("label_ranking_loss",),
    family=FAMILY,
    elementwise=True,
    formula="|{(j, k): t_j = 1, t_k = 0, s_j <= s_k}| / (|relevant| |irrelevant|); 0 for a row "
    "whose labels are all 0 or all 1",
    reference="sklearn.metrics.label_ranking_loss",
    requires=[MULTI_HOT],
    examples=[
        Example({"pred": [[0.9, 0.5, 0.1]], "target": [[0, 1, 0]]}, 0.5, HAND),
        Example({"pred": [[0.2, 0.2], [1.0, 0.0]], "target": [[1, 0], [1, 1]]}, 0.5, HAND),
    ],
    notes="pred holds K scores per row, target K 0/1 labels. A tie between a relevant and an "
    "irrelevant label counts as wrongly ordered, as in scikit-learn. Each row costs K^2 "
    "comparisons.",
)
def label_ranking(pred, target):
    """Share of (relevant, irrelevant) label pairs that the scores order wrongly."""
    scores, target = _label_rows(pred, target, "label_ranking")
    relevant, irrelevant = target == 1, target == 0
    wrong = scores[:, :, None] <= scores[:, None, :]  # [i, j, k]: s_j <= s_k
    pairs = relevant[:, :, None] & irrelevant[:, None, :]
    count = (wrong & pairs).sum(axis=(1, 2))
    total = relevant.sum(axis=1) * irrelevant.sum(axis=1)
    loss = np.divide(count, total, out=np.zeros(len(scores)), where=total > 0)
    missing = np.isnan(scores).any(axis=1) | np.isnan(target).any(axis=1)
    return np.where(missing, np.nan, loss)


@register(
    name="multilabel_margin",
    aliases=("multilabel_margin_loss",),
    family=FAMILY,
    elementwise=True,
    formula="sum_{j in Y} sum_{k not in Y} max(0, 1 - (s_j - s_k)) / K",
    reference="torch.nn.MultiLabelMarginLoss",
    params=[
        Param(
            "labels",
            str,
            "multi_hot",
            "how target gives the set Y: multi_hot (K 0/1 columns) or indices (PyTorch's form: "
            "class indices, then -1 after the last one)",
            choices=("multi_hot", "indices"),
        )
    ],
    examples=[
        Example({"pred": [[0.1, 0.2, 0.4, 0.8]], "target": [[1, 0, 0, 1]]}, 0.85, "torch docs"),
        Example(
            {"pred": [[0.1, 0.2, 0.4, 0.8]], "target": [[3, 0, -1, 1]]},
            0.85,
            "torch docs: MultiLabelMarginLoss()(x, [[3, 0, -1, 1]]) = 0.85",
            {"labels": "indices"},
        ),
    ],
    notes="pred holds K scores per row. target holds K columns: 0/1 labels (multi_hot), or "
    "with labels=indices PyTorch's class indices padded by -1 (everything from the first -1 "
    "on is ignored). Both read the same columns, so a target that fits neither form is an "
    "error that names the other.",
)
def multilabel_margin(pred, target, *, labels):
    """Every relevant label's score must beat every irrelevant one's by 1 (PyTorch)."""
    scores, target = _label_rows(pred, target, "multilabel_margin")
    member = _label_sets(target, labels, scores.shape[1])
    gaps = np.maximum(0.0, 1.0 - (scores[:, :, None] - scores[:, None, :]))
    pairs = member[:, :, None] & ~member[:, None, :]
    loss = np.where(pairs, gaps, 0.0).sum(axis=(1, 2)) / scores.shape[1]
    return np.where(np.isnan(target).any(axis=1), np.nan, loss)


def _label_sets(target: np.ndarray, labels: str, classes: int) -> np.ndarray:
    """Membership (n, K) of each row's label set."""
    known = np.isnan(target) | (target == -1) if labels == "indices" else np.isnan(target)
    if labels == "indices":
        known |= (target == np.floor(target)) & (target >= 0) & (target < classes)
        other = "for 0/1 label columns give labels=multi_hot"
        needs = f"a class index 0..{classes - 1} or -1"
    else:
        known |= (target == 0) | (target == 1)
        other = "for PyTorch's class indices padded by -1 give labels=indices"
        needs = "a 0/1 label"
    if not known.all():
        row, column = (int(i) for i in np.argwhere(~known)[0])
        raise RowProblem(row, "target", f"holds {target[row, column]:g}, not {needs}", other)
    if labels == "multi_hot":
        return target == 1
    ended = np.cumsum(target == -1, axis=1) > 0
    member = np.zeros(target.shape, dtype=bool)
    rows, columns = np.nonzero(~ended & ~np.isnan(target))
    member[rows, target[rows, columns].astype(np.intp)] = True
    return member


# ---------------------------------------------------------------- Keras and optax margins


@register(
    name="categorical_hinge",
    family=FAMILY,
    formula="max(0, 1 + max_c (1 - y_c) s_c - sum_c y_c s_c)",
    reference="keras.losses.CategoricalHinge",
    requires=[*target_row_checks()],
    examples=[
        Example({"pred": [[2.0, 1.5, 0.0]], "target": [0]}, 0.5, HAND),
        Example(
            {"pred": [[2.0, -1.5, -3.0]], "target": [[0, 1, 0]]},
            4.5,
            "hand-worked: 1 + max(2, 0, -3) - (-1.5)",
        ),
    ],
    notes="pred holds K scores, target a class index or one-hot rows. As Keras computes it, the "
    "rival maximum runs over (1 - y) s, in which the true class counts 0: with every rival "
    "score below 0 the maximum is 0 (multiclass_hinge takes the largest rival score).",
)
def categorical_hinge(pred, target):
    """Keras' multi-class hinge: 1 + the largest of (1 - y) s over the true class's score."""
    scores = class_scores(pred, "categorical_hinge")
    rows = target_rows(target, scores.shape[1])
    positive = (rows * scores).sum(axis=1)
    negative = ((1.0 - rows) * scores).max(axis=1)
    return np.maximum(0.0, negative - positive + 1.0)


@register(
    name="perceptron",
    aliases=("perceptron_loss",),
    family=FAMILY,
    elementwise=True,
    formula="max(0, -y s)",
    reference="optax.losses.perceptron_loss",
    params=[REDUCTION],
    statistic=_signed,
    requires=[SIGNED_LABELS, ZERO_ONE_LABELS],
    examples=[Example({"pred": [0.5, -2.0, 2.0], "target": [1, 1, -1]}, 4 / 3, HAND)],
    notes="pred is a raw score. " + LABEL_NOTE + " optax uses the labels as given, so there a "
    "label 0 costs nothing.",
)
def perceptron(pred, target):
    """The perceptron's loss: the score's size when its sign is wrong."""
    return np.maximum(0.0, -_sign(target) * pred)


def _sparse_plus(x: np.ndarray) -> np.ndarray:
    """0 below -1, x above 1, (x + 1)^2 / 4 between: a smoothed ReLU (jax.nn.sparse_plus)."""
    return np.where(x <= -1.0, 0.0, np.where(x >= 1.0, x, (x + 1.0) ** 2 / 4.0))


@register(
    name="sparsemax",
    aliases=("sparsemax_loss",),
    family=FAMILY,
    elementwise=True,
    formula="sparse_plus(-s) for t = 1, sparse_plus(s) for t = 0; sparse_plus(x) = 0 (x <= -1), "
    "(x + 1)^2 / 4 (|x| < 1), x (x >= 1)",
    reference="optax.losses.sparsemax_loss",
    requires=[*_binary_target_checks()],
    examples=[
        Example({"pred": [0.0, 3.0, -3.0], "target": [1, 1, 1]}, (0.25 + 0 + 3) / 3, HAND),
    ],
    notes="Binary: pred holds logits, target labels in {0, 1} (soft labels mix the two terms). "
    "The loss is exactly 0 once the logit passes 1 on the right side.",
)
def sparsemax(pred, target):
    """Binary sparsemax loss: a logistic-like loss that reaches 0 at a finite margin."""
    return target * _sparse_plus(-pred) + (1.0 - target) * _sparse_plus(pred)


def sparsemax_projection(scores: np.ndarray) -> np.ndarray:
    """The Euclidean projection of each row onto the probability simplex (sparsemax)."""
    ordered = -np.sort(-scores, axis=1)
    cumulative = np.cumsum(ordered, axis=1)
    k = np.arange(1, scores.shape[1] + 1)
    support = (1.0 + k * ordered > cumulative).sum(axis=1)
    tau = (np.take_along_axis(cumulative, support[:, None] - 1, axis=1)[:, 0] - 1.0) / support
    return np.maximum(scores - tau[:, None], 0.0)


@register(
    name="multiclass_sparsemax",
    aliases=("multiclass_sparsemax_loss",),
    family=FAMILY,
    formula="sum_c p_c (s_c - s_y) + (1 - sum_c p_c^2) / 2, p = sparsemax(s)",
    reference="optax.losses.multiclass_sparsemax_loss",
    requires=[*target_row_checks()],
    examples=[
        Example({"pred": [[0.0, 0.0]], "target": [0]}, 0.25, HAND),
        Example({"pred": [[5.0, 0.0, 0.0]], "target": [0]}, 0.0, HAND),
    ],
    notes="pred holds K scores, target a class index or one-hot rows. 0 once the true class "
    "leads every other by 1 (sparsemax gives it probability 1).",
)
def multiclass_sparsemax(pred, target):
    """Sparsemax loss: the Fenchel-Young loss of sparsemax, zero beyond a finite margin."""
    scores = class_scores(pred, "multiclass_sparsemax")
    index, counted = hard_class(target, scores.shape[1])
    p = sparsemax_projection(scores)
    gaps = scores - pick(scores, index)[:, None]
    loss = (p * gaps).sum(axis=1) + 0.5 * (1.0 - (p * p).sum(axis=1))
    return np.where(counted, loss, np.nan)


@register(
    name="ranking_softmax",
    aliases=("ranking_softmax_loss", "listnet"),
    family=FAMILY,
    elementwise=True,
    formula="-sum_k r_k log softmax(s)_k over a list's K items",
    reference="optax.losses.ranking_softmax_loss",
    requires=[
        Requirement(
            "target",
            lambda t, params: t >= 0,
            ">= 0",
            "relevance labels are grades 0, 1, 2, ... (0: not relevant)",
        )
    ],
    examples=[Example({"pred": [[0.0, 0.0]], "target": [[1, 0]]}, LOG_2, HAND)],
    notes="Each row is a list: pred holds its K item scores, target K relevance labels (not "
    "normalised, as optax does). The mean over rows is optax's default reduce_fn=mean.",
)
def ranking_softmax(pred, target):
    """Listwise softmax cross-entropy of item scores against relevance labels."""
    scores, target = _label_rows(pred, target, "ranking_softmax")
    terms = np.where(target > 0, target * log_softmax(scores), 0.0)
    return -terms.sum(axis=1)


# ------------------------------------------------------- D^2 scores and calibration


class NullRatio(Statistic):
    """1 - sum w l / (the same loss of always predicting the weighted class frequencies): per
    class (the inner key) sum w l and sum w, from which the null loss follows exactly."""

    width = 2

    def __init__(self, null: str) -> None:
        self.null = null  # "log_loss" or "brier"

    def contribute(self, values, weight, inputs, shifts):
        pred, target = inputs["pred"], inputs["target"]
        if pred.ndim == 1:
            index = np.where(target == 1, 1, 0).astype(np.intp)
        else:
            index, _ = hard_class(target, pred.shape[1])
        w = ones_or(weight, len(values))
        return Contribution([np.where(w == 0, 0.0, w * values), w], None, index)

    def finalize(self, totals):
        sums = totals.sums
        loss, per_class = sums[..., 0].sum(axis=-1), sums[..., 1]
        total = per_class.sum(axis=-1)
        with np.errstate(all="ignore"):
            share = per_class / total[..., None]
            if self.null == "log_loss":
                null = -np.where(per_class > 0, per_class * np.log(share), 0.0).sum(axis=-1)
            else:
                # sum_i w_i sum_c (e_{y_i c} - pi_c)^2 = W (1 - sum_c pi_c^2); with one pred
                # column (binary) the loss counts the positive class only: half of that.
                null = total * (1.0 - (share * share).sum(axis=-1))
                null = null / 2.0 if self.binary else null
            score = 1.0 - loss / null
        return np.where(totals.counts[..., 1] < 2, np.nan, score)

    def layout(self, values, inputs):
        self.binary = inputs["pred"].ndim == 1


D2_CLASS_NOTE = (
    "Higher is better: 1 - loss / the loss of always predicting the input's (weighted) class "
    "frequencies, which per-class sums give exactly. pred holds one probability column with "
    "0/1 targets, or K probability columns with a class index (or one-hot) target. NaN below "
    "two rows. Has no per-row value. "
)


def _clipped_log_loss(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    eps = np.finfo(np.float64).eps
    if pred.ndim == 1:
        require_labels(target, (0.0, 1.0), "d2_log_loss")
        p = np.clip(pred, eps, 1.0 - eps)
        return -np.where(target == 1, np.log(p), np.log1p(-p))
    index, counted = hard_class(target, pred.shape[1])
    loss = -np.log(np.clip(pick(pred, index), eps, 1.0 - eps))
    return np.where(counted, loss, np.nan)


@register(
    name="d2_log_loss",
    aliases=("d2_log_loss_score",),
    family=FAMILY,
    formula="1 - sum w log_loss / sum w log_loss(class frequencies), probabilities clipped to "
    "[eps, 1 - eps] (eps = 2.2e-16)",
    reference="sklearn.metrics.d2_log_loss_score",
    direction="higher",
    statistic=lambda params: NullRatio("log_loss"),
    requires=[*probability_checks()],
    examples=[
        Example({"pred": [0.5, 0.5], "target": [1, 0]}, 0.0, "hand-worked: the null model"),
        Example(
            {"pred": [[1.0, 0.0], [0.0, 1.0]], "target": [0, 1]},
            1 - 2 * -math.log(1 - np.finfo(float).eps) / (2 * LOG_2),
            "hand-worked: clipped at 1 - eps",
        ),
    ],
    notes=D2_CLASS_NOTE + "Probabilities are clipped as scikit-learn's log_loss does, not "
    "floored at log -100 as bce.",
)
def d2_log_loss(pred, target):
    """D^2 of the log loss: the share of the class-frequency log loss the predictions remove."""
    return _clipped_log_loss(pred, target)


@register(
    name="d2_brier",
    aliases=("d2_brier_score",),
    family=FAMILY,
    formula="1 - sum w brier / sum w brier(class frequencies)",
    reference="sklearn.metrics.d2_brier_score",
    direction="higher",
    statistic=lambda params: NullRatio("brier"),
    requires=[*probability_checks(), *target_row_checks()],
    examples=[
        Example({"pred": [0.5, 0.5], "target": [1, 0]}, 0.0, "hand-worked: the null model"),
        Example({"pred": [0.75, 0.25], "target": [1, 0]}, 0.75, HAND),
    ],
    notes=D2_CLASS_NOTE,
)
def d2_brier(pred, target):
    """D^2 of the Brier score: the share of the class-frequency Brier score removed."""
    if pred.ndim == 1:
        require_labels(target, (0.0, 1.0), "d2_brier")
        return (pred - target) ** 2
    index, counted = hard_class(target, pred.shape[1])
    rows = np.zeros(pred.shape)
    rows[np.arange(len(pred)), index] = 1.0
    return np.where(counted, ((pred - rows) ** 2).sum(axis=1), np.nan)


def _torch_linspace(bins: int) -> np.ndarray:
    """0..1 in ``bins`` steps as torch.linspace computes it (from each end toward the middle),
    so probabilities on an edge fall in the same bin as in torchmetrics."""
    step = 1.0 / bins
    index = np.arange(bins + 1)
    halfway = (bins + 1) // 2
    return np.where(index < halfway, index * step, 1.0 - (bins - index) * step)


class Calibration(Statistic):
    """Per confidence bin (the inner key): sum w, sum w p, sum w t; the gaps |acc - conf| per
    bin, combined by the norm."""

    width = 3

    def __init__(self, bins: int, norm: str, input: str) -> None:
        self.edges, self.norm, self.input = _torch_linspace(bins), norm, input

    def contribute(self, values, weight, inputs, shifts):
        pred, target = inputs["pred"], inputs["target"]
        p = sigmoid(pred) if self.input == "logits" else pred
        where = np.searchsorted(self.edges, p, side="right") - 1
        where = np.clip(where, 0, len(self.edges) - 1).astype(np.intp)
        w = ones_or(weight, len(p))
        return Contribution([w, np.where(w == 0, 0.0, w * p), w * target], None, where)

    def finalize(self, totals):
        w, confidence, accuracy = (totals.sums[..., j] for j in range(3))
        filled = w > 0
        safe = np.where(filled, w, 1.0)
        gap = np.where(filled, np.abs(accuracy / safe - confidence / safe), 0.0)
        share = w / w.sum(axis=-1, keepdims=True)
        if self.norm == "l1":
            return (gap * share).sum(axis=-1)
        if self.norm == "l2":
            return np.sqrt((gap * gap * share).sum(axis=-1))
        return gap.max(axis=-1)


@register(
    name="calibration_error",
    aliases=("binary_calibration_error", "ece"),
    family=FAMILY,
    elementwise=True,
    formula="l1: sum_b (W_b / W) |acc_b - conf_b|; l2: its root mean square; max: max_b, over "
    "equal-width bins b of the predicted probability",
    reference="torchmetrics binary_calibration_error",
    params=[
        Param("bins", int, 15, "number of equal-width probability bins", ge=1, le=10_000),
        Param(
            "norm",
            str,
            "l1",
            "l1 (expected calibration error), l2 (root mean square) or max (maximum)",
            choices=("l1", "l2", "max"),
        ),
        input_param("probs", ("probs", "logits")),
    ],
    statistic=lambda params: Calibration(params["bins"], params["norm"], params["input"]),
    requires=[*probability_checks(rows=False), *_binary_target_checks()],
    examples=[
        Example(
            {"pred": [0.25, 0.25, 0.55, 0.75, 0.75], "target": [0, 0, 1, 1, 1]},
            0.29,
            "torchmetrics docs: binary_calibration_error(n_bins=2, norm='l1') = 0.2900",
            {"bins": 2},
        ),
        Example(
            {"pred": [0.25, 0.25, 0.55, 0.75, 0.75], "target": [0, 0, 1, 1, 1]},
            0.31666666666666665,
            "torchmetrics docs: norm='max' = 0.3167",
            {"bins": 2, "norm": "max"},
        ),
    ],
    notes="Binary: pred is the probability of class 1 (input=logits applies a sigmoid, as "
    "torchmetrics does for scores outside [0, 1]), target 0/1. Bin b is [b/B, (b+1)/B); a "
    "probability of exactly 1 has a bin of its own, as in torchmetrics. Weights weigh the bins' "
    "means and shares. Has no per-row value.",
)
def calibration_error(pred, target, *, input):
    """Expected calibration error: how far predicted probabilities are from observed rates."""
    return np.zeros(np.shape(pred))
