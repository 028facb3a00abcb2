"""Overlap losses of soft masks: Dice, IoU (Jaccard), Tversky and focal Tversky.

A sample (an image) is a vector row (a list column or a column group of its pixels), or the rows
sharing a value of role ``sample`` (one row per pixel, in any order, across chunks and files), or,
with neither, the whole input. Each loss is a function of three sums over a sample's elements,
TP = sum p t, SP = sum p and ST = sum t, kept per sample in the engine's per-key state: memory
grows with the number of samples, never with the number of pixels. The registered functions
return each row's three sums; ``Overlap`` declares how they are summed and scored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from losscli.engine.runs import RUN_LENGTH, run_heads
from losscli.engine.statistics import Contribution, Statistic, ones_or
from losscli.errors import RowProblem, UsageError, option
from losscli.losses.probability import in_unit, log_softmax, sigmoid
from losscli.losses.registry import Example, Param, Requirement, register

FAMILY = "segmentation"
HAND = "hand-worked"

Score = Callable[..., np.ndarray]  # (tp, sp, st, **params) -> loss
# Runs this long on average are summed a slice at a time (see _summed), shorter ones together.
LONG_RUN = 1 << 13


def dice_score(tp, sp, st, *, smooth, floor=0.0, **_):
    return 1.0 - (2.0 * tp + smooth) / (sp + st + smooth + floor)


def iou_score(tp, sp, st, *, smooth, **_):
    return 1.0 - (tp + smooth) / (sp + st - tp + smooth)


def tversky_score(tp, sp, st, *, smooth, alpha, beta, floor=0.0, **_):
    return 1.0 - (tp + smooth) / (tp + alpha * (sp - tp) + beta * (st - tp) + smooth + floor)


def focal_tversky_score(tp, sp, st, *, gamma, **params):
    return np.maximum(tversky_score(tp, sp, st, **params), 0.0) ** gamma


def _element_sums(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each row's TP, SP and ST: three (n,) arrays of float64 for rows of many elements. Rows of
    one value (a pixel each) give pred and target as they came (float32 pred and uint8 masks for
    ``stored`` losses): ``Overlap`` sums them by sample before it widens what it can."""
    if pred.ndim == 1:
        return pred, target
    return (pred * target).sum(axis=1), pred.sum(axis=1), target.sum(axis=1)


def _row_sums(values: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """TP, SP and ST of each row, in float64: pixels (pred, target) are widened first."""
    if len(values) == 3:
        return values
    pred, target = (column.astype(np.float64, copy=False) for column in values)
    return pred * target, pred, target


def _run_sums(values: tuple[np.ndarray, ...], starts: np.ndarray) -> list[np.ndarray]:
    """TP, SP and ST of each run of rows (from each start to the next), in float64.

    Pixels are summed from pred and target as read: p t is exact in their narrower common type
    when a mask holds integers (0 or 1 by the [0, 1] check, so p t is p or 0), and integers are
    summed as integers. This widens one float32 column, the product, not three.
    """
    if len(values) == 2:
        pred, target = values
        integers = pred.dtype.kind in "iu" or target.dtype.kind in "iu"
        kind = np.result_type(pred, target) if integers else np.float64
        values = (pred.astype(kind, copy=False) * target.astype(kind, copy=False), pred, target)
    return [_summed(column, starts) for column in values]


def _summed(column: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each run's sum, in float64. An integer column (a mask, 0 or 1 by the [0, 1] check) is
    summed exactly as integers; runs of LONG_RUN rows or more (whole images) one slice at a
    time, which widens a float32 column as it sums, in the cache, and counts a mask's ones (a
    2^18-row chunk of four images: 100 against 153 us, 11 against 105 us)."""
    if not len(starts) or len(starts) * LONG_RUN > len(column):
        if column.dtype.kind in "iub":  # exactly, without a float copy
            return np.add.reduceat(column, starts, dtype=np.int64).astype(np.float64)
        return np.add.reduceat(column.astype(np.float64, copy=False), starts)
    ends = np.append(starts[1:], len(column))
    runs = [column[start:end] for start, end in zip(starts, ends, strict=True)]
    if column.dtype.kind in "iub":
        return np.array([np.count_nonzero(run) for run in runs], dtype=np.float64)
    return np.array([run.sum(dtype=np.float64) for run in runs])


class Overlap(Statistic):
    """TP, SP, ST per sample (aggregate=sample), per row (aggregate=row) or pooled over every
    element (aggregate=global).

    The loss function gives each row's TP, SP and ST. With role ``sample`` they are summed per
    sample (the inner key: an interval then resamples whole samples), and a sample's weight in the
    mean over samples is the mean weight of its rows; vector rows are samples of their own (a
    weighted mean of per-row losses); with neither, the whole input is one sample. Pooled sums
    count each element with its row's weight (pool_weights=elements), or count them alike, the
    weights then scaling the one pooled loss through ``reduction`` (pool_weights=none, Keras).
    ``reduction`` reduces the per-sample losses: their weighted mean, their weighted sum divided
    by the number of samples (sum_over_rows), or their weighted sum.
    """

    def __init__(self, score: Score, params: Mapping[str, Any]) -> None:
        self.score = score
        self.params = dict(params)
        self.reduction = self.params.get("reduction", "mean")
        self.total = self.reduction == "sum"
        self.mode = "pooled"  # until ``layout`` sees the first chunk

    def layout(self, values, inputs):
        keyed = inputs.get("sample") is not None
        self.inner_units = keyed
        aggregate = self.params["aggregate"]
        if aggregate == "row" and keyed:
            raise UsageError(
                f"aggregate=row scores each row alone, but {option('sample')} groups rows into "
                "samples.",
                "Leave out the sample column, or use aggregate=sample.",
            )
        if aggregate == "global" or (
            aggregate == "sample" and not keyed and inputs["pred"].ndim == 1
        ):
            self.mode, self.width = "pooled", 5
        elif keyed:
            self.mode, self.width = "samples", 5
        else:
            self.mode, self.width = "rows", 2
        # A sample's sums are finite only when its values are; a row's loss may be finite anyway
        # (1 - x / inf), and pooled sums take as long as the rows' own check.
        self.flags_from_sums = self.mode == "samples"

    def _loss(self, tp: Any, sp: Any, st: Any) -> np.ndarray:
        # smooth=0 on a sample with nothing in pred or target is 0/0: NaN, as the formula says,
        # reported with a note, not a warning.
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.score(tp, sp, st, **self.params)

    def per_row(self, values):
        return self._loss(*_row_sums(values)) if self.mode == "rows" else None

    def contribute(self, values, weight, inputs, shifts):
        if self.mode == "samples":
            return self._by_sample(values, weight, inputs["sample"])
        values = _row_sums(values)
        inner = _sample_codes(inputs.get("sample"))
        w = ones_or(weight, len(values[0]))
        if self.mode == "rows":
            shares = np.ones(len(w)) if self.reduction == "sum_over_rows" else w
            return Contribution([w * self._loss(*values), shares])
        if self.params.get("pool_weights", "elements") == "none":
            return Contribution([*values, w, None], inner=inner)
        return Contribution([*(w * column for column in values), w, None], inner=inner)

    def _by_sample(self, values, weight, sample) -> Contribution:
        """Each run of a sample's rows (an image's pixels, one after another) summed here, in one
        contribution: the rows' sample codes need no conversion and no table pass of their own.
        Rows of a --by run stay apart (a run may cross groups), as do samples in short runs."""
        starts = None if self.grouped else run_heads(sample)
        if starts is None or len(starts) * RUN_LENGTH > len(sample):
            return Contribution([*_row_sums(values), weight, None], inner=_sample_codes(sample))
        heads = sample[starts]
        if np.isnan(heads.min()):  # a NaN differs from the row before it: a head of its own
            _sample_codes(sample)  # says which row
        columns = _run_sums(values, starts)
        rows = np.diff(starts, append=len(sample)).astype(float)
        weights = rows if weight is None else np.add.reduceat(weight, starts)
        return Contribution([*columns, weights, rows], row=starts, inner=heads.astype(np.intp))

    def finalize(self, totals):
        sums = totals.sums
        if self.mode == "rows":
            return sums[..., 0, 0] if self.total else sums[..., 0, 0] / sums[..., 0, 1]
        if self.mode == "pooled":
            pooled = sums.sum(axis=-2)
            loss = self._loss(pooled[..., 0], pooled[..., 1], pooled[..., 2])
            return loss * self._pooled_scale(pooled[..., 3], pooled[..., 4])
        seen = sums[..., 4] > 0
        sample_weight = np.where(seen, sums[..., 3] / np.where(seen, sums[..., 4], 1.0), 0.0)
        counted = seen.astype(float)
        if totals.draws is not None:  # a bootstrap replicate: a sample drawn k times counts k times
            sample_weight, counted = sample_weight * totals.draws, counted * totals.draws
        losses = self._loss(sums[..., 0], sums[..., 1], sums[..., 2])
        weighted = (sample_weight * np.where(seen, losses, 0.0)).sum(axis=-1)
        if self.total:
            return weighted
        divisor = counted if self.reduction == "sum_over_rows" else sample_weight
        with np.errstate(divide="ignore", invalid="ignore"):
            return weighted / divisor.sum(axis=-1)

    def _pooled_scale(self, weights: Any, rows: Any) -> Any:
        """The one pooled loss counted once per row with the row's weight, then reduced."""
        if self.reduction == "sum":
            return weights
        if self.reduction == "sum_over_rows":
            with np.errstate(divide="ignore", invalid="ignore"):
                return weights / rows
        return 1.0


def _sample_codes(sample: np.ndarray | None) -> np.ndarray | None:
    """The rows' sample codes; a row with no sample (kept by nan=propagate) cannot be placed."""
    if sample is None:
        return None
    if np.isnan(sample.min()):  # one pass: a NaN wins the minimum
        raise RowProblem(
            int(np.flatnonzero(np.isnan(sample))[0]),
            "sample",
            "has no value, so the row belongs to no sample",
            f"Fill in the sample, or drop such rows ({option('nan')} drop)",
        )
    return sample.astype(np.intp)


def _overlap(score: Score) -> Callable[[Mapping[str, Any]], Statistic]:
    return lambda params: Overlap(score, params)


MASK_CHECKS = [
    Requirement(
        "pred",
        lambda v, params: in_unit(v),
        "in [0, 1] (soft mask probabilities)",
        "apply a sigmoid or softmax to logits first",
    ),
    Requirement(
        "target",
        lambda v, params: in_unit(v),
        "in [0, 1] (a mask)",
        "masks hold 0 and 1 (or soft values between)",
    ),
]
SMOOTH = Param("smooth", float, 1e-6, "added to numerator and denominator", ge=0)
AGGREGATE = Param(
    "aggregate",
    str,
    "sample",
    "sample: mean of per-sample losses; row: each row a sample of its own, even a row of one "
    "value (Keras' axis=-1); global: one loss over all elements pooled",
    choices=("sample", "row", "global"),
)
FLOOR = Param(
    "floor",
    float,
    0.0,
    "added to the denominator only (Keras' 1e-7): an empty mask scores 1, not 0/0",
    ge=0,
)
POOL_WEIGHTS = Param(
    "pool_weights",
    str,
    "elements",
    "aggregate=global: elements: each element counts with its row's weight; none: the "
    "elements count alike, and the one pooled loss counts once per row with the row's weight "
    "(Keras' sample_weight on its pooled Dice)",
    choices=("elements", "none"),
)
OVERLAP_REDUCTION = Param(
    "reduction",
    str,
    "mean",
    "mean: weighted mean of the per-sample losses; sum: their weighted sum; sum_over_rows: "
    "their weighted sum divided by the number of samples (Keras' sum_over_batch_size)",
    choices=("mean", "sum", "sum_over_rows"),
)
ALPHA = Param("alpha", float, 0.5, "weight of false positives", ge=0)
BETA = Param("beta", float, 0.5, "weight of false negatives", ge=0)
LAYOUT_NOTE = (
    "A sample is a vector row (pixels as a list column or a column group), or every row sharing "
    "a value of role sample (--col sample=COLUMN: one row per pixel, in any order, across "
    "chunks and files), or the whole input when there is neither. aggregate=sample averages "
    "per-sample losses (a sample weighs the mean weight of its rows); aggregate=global pools "
    "every element first. Libraries differ here: segmentation_models_pytorch and MONAI pool over "
    "the batch or average per image and channel depending on options. --per-row writes a value "
    "only for vector rows."
)
TWO_IMAGES: dict[str, Any] = {
    "pred": [[1.0, 1.0, 0.0, 0.0], [0.5, 0.5, 0.5, 0.5]],
    "target": [[1, 0, 0, 0]] * 2,
}


@register(
    name="dice",
    aliases=("dice_loss", "soft_dice"),
    family=FAMILY,
    elementwise=True,
    formula="1 - (2 sum(p t) + smooth) / (sum p + sum t + smooth) per sample",
    reference="soft Dice loss (Milletari et al. 2016)",
    params=[SMOOTH, AGGREGATE, FLOOR, POOL_WEIGHTS, OVERLAP_REDUCTION],
    statistic=_overlap(dice_score),
    stored=True,
    requires=MASK_CHECKS,
    examples=[
        Example(TWO_IMAGES, ((1 - 2 / 3) + (1 - 1 / 3)) / 2, HAND, {"smooth": 0}),
        Example(
            {"pred": [1, 1, 0, 0.5, 0.5], "target": [1, 0, 0, 1, 0], "sample": [0, 0, 0, 1, 1]},
            ((1 - 2 / 3) + (1 - 1 / 2)) / 2,
            "hand-worked: one row per pixel, two samples",
            {"smooth": 0},
        ),
    ],
    notes=LAYOUT_NOTE,
)
def dice(pred, target, sample=None):
    """One minus the soft Dice coefficient (F1 of the overlap) of predicted and true masks."""
    return _element_sums(pred, target)  # summed per sample by Overlap


@register(
    name="iou",
    aliases=("jaccard",),
    family=FAMILY,
    elementwise=True,
    formula="1 - (sum(p t) + smooth) / (sum p + sum t - sum(p t) + smooth) per sample",
    reference="soft Jaccard loss",
    params=[SMOOTH, AGGREGATE],
    statistic=_overlap(iou_score),
    stored=True,
    requires=MASK_CHECKS,
    examples=[Example(TWO_IMAGES, ((1 - 1 / 2) + (1 - 1 / 5)) / 2, HAND, {"smooth": 0})],
    notes=LAYOUT_NOTE,
)
def iou(pred, target, sample=None):
    """One minus the soft intersection over union of predicted and true masks."""
    return _element_sums(pred, target)  # summed per sample by Overlap


@register(
    name="tversky",
    family=FAMILY,
    elementwise=True,
    formula="1 - (TP + smooth) / (TP + alpha FP + beta FN + smooth), TP = sum p t, "
    "FP = sum p (1 - t), FN = sum (1 - p) t",
    reference="Salehi et al. 2017",
    params=[ALPHA, BETA, SMOOTH, AGGREGATE, FLOOR, POOL_WEIGHTS, OVERLAP_REDUCTION],
    statistic=_overlap(tversky_score),
    stored=True,
    requires=MASK_CHECKS,
    examples=[
        Example(TWO_IMAGES, ((1 - 2 / 3) + (1 - 1 / 3)) / 2, HAND, {"smooth": 0}),
    ],
    notes="alpha = beta = 0.5 is Dice; alpha = beta = 1 is IoU. " + LAYOUT_NOTE,
)
def tversky(pred, target, sample=None):
    """Dice generalised with separate weights on false positives and false negatives."""
    return _element_sums(pred, target)  # summed per sample by Overlap


@register(
    name="focal_tversky",
    family=FAMILY,
    elementwise=True,
    formula="tversky^gamma per sample",
    reference="Abraham & Khan 2019",
    params=[
        ALPHA,
        BETA,
        Param("gamma", float, 0.75, "exponent on each sample's Tversky loss", gt=0),
        SMOOTH,
        AGGREGATE,
    ],
    statistic=_overlap(focal_tversky_score),
    stored=True,
    requires=MASK_CHECKS,
    examples=[
        Example(
            TWO_IMAGES,
            ((1 - 2 / 3) ** 0.75 + (1 - 1 / 3) ** 0.75) / 2,
            HAND,
            {"smooth": 0},
        ),
    ],
    notes="The paper writes the exponent as 1/gamma with gamma = 4/3; here gamma is the exponent "
    "itself (0.75). " + LAYOUT_NOTE,
)
def focal_tversky(pred, target, sample=None):
    """Tversky loss raised to gamma, to focus on hard samples."""
    return _element_sums(pred, target)  # summed per sample by Overlap


# ------------------------------------------------------------------ Dice per class (optax)
#
# optax's dice_loss scores each class of an image on its own and then reduces the classes; its
# multiclass_generalized_dice_loss weighs each class by 1 / (its frequency^2 + 1e-7) over the
# whole input, normalised to sum to K. An image is the rows sharing role ``sample``, or each row
# alone (optax sums over the axes between the batch and the classes: a table row has none).
# A pixel's K class scores are a vector row (layout=classes); layout=pixels reads a vector row
# as one image's pixels of a single binary channel, as optax's binary_dice_loss does.
FREQUENCY_FLOOR = 1e-7  # optax's epsilon in 1 / (frequency^2 + epsilon)


def _class_sums(pred, target, *, input, layout):
    """Each row's I = sum p t, P = sum p and T = sum t per class: three (n, K) arrays."""
    scores = pred if pred.ndim == 2 else pred[:, None]
    if layout == "pixels" or scores.shape[1] == 1:
        p = sigmoid(scores) if input == "logits" else scores
    else:
        p = np.exp(log_softmax(scores)) if input == "logits" else scores
    if target.ndim == 1 and scores.shape[1] > 1 and layout == "classes":
        t = np.zeros_like(p)
        known = (target >= 0) & (target < p.shape[1]) & (target == np.round(target))
        t[np.flatnonzero(known), target[known].astype(np.intp)] = 1.0
        t[~known] = np.nan  # refused by the requirement before this runs
    else:
        t = target if target.ndim == 2 else target[:, None]
    if layout == "pixels":
        return (p * t).sum(axis=1)[:, None], p.sum(axis=1)[:, None], t.sum(axis=1)[:, None]
    return p * t, p, t


def _class_losses(sums: np.ndarray, k: int, params: Mapping[str, Any]) -> np.ndarray:
    """1 - (I + s) / (I + alpha (P - I) + beta (T - I) + s) per class: (..., K)."""
    i, p, t = sums[..., :k], sums[..., k : 2 * k], sums[..., 2 * k : 3 * k]
    alpha, beta = params.get("alpha", 0.5), params.get("beta", 0.5)
    smooth = params["smooth"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 - (i + smooth) / (i + alpha * (p - i) + beta * (t - i) + smooth)


class ClassOverlap(Statistic):
    """Per image (inner key: the sample; without one, each row is an image of its own) the sums
    I, P, T of every class, the image's weight and its rows. ``generalized``: the class weights
    come from the target's class totals over the whole input (each image counted with its
    weight); else from ``class_weights`` (1 each by default), and the classes are averaged or
    summed (``classes``)."""

    def __init__(self, params: Mapping[str, Any], generalized: bool) -> None:
        self.params, self.generalized = dict(params), generalized
        self.k, self.keyed = 1, False

    def layout(self, values, inputs):
        self.k = values[0].shape[1]
        self.keyed = inputs.get("sample") is not None
        self.inner_units = self.keyed
        # Keyed: I, P, T per class, weight, rows. Each row an image: its weighted class
        # losses, its weighted T per class, weight, rows.
        self.width = (3 if self.keyed else 2) * self.k + 2
        given = self.params.get("class_weights")
        if given is not None and len(given) != self.k:
            raise UsageError(
                f"class_weights has {len(given)} values, but pred has {self.k} classes.",
                f"Give one weight per class: class_weights=[{','.join(['1'] * self.k)}].",
            )

    def contribute(self, values, weight, inputs, shifts):
        columns = [column for part in values for column in part.T]
        inner = _sample_codes(inputs.get("sample"))
        if self.keyed:
            return Contribution([*columns, weight, None], inner=inner)
        # Each row an image: its class losses now, weighted; T weighted for the class weights.
        w = ones_or(weight, len(values[0]))
        losses = _class_losses(np.concatenate(values, axis=1), self.k, self.params)
        targets = values[2] * w[:, None]
        return Contribution([*(w[:, None] * losses).T, *targets.T, w, None])

    def per_row(self, values):
        if self.keyed or self.generalized:
            return None
        return self._reduce(_class_losses(np.concatenate(values, axis=1), self.k, self.params))

    def _weights(self, totals: np.ndarray) -> np.ndarray:
        """The class weights (..., K) from the weighted class totals of the target."""
        if not self.generalized:
            given = self.params.get("class_weights")
            return np.ones(self.k) if given is None else np.asarray(given, dtype=float)
        raw = 1.0 / (totals * totals + FREQUENCY_FLOOR)
        return raw / raw.sum(axis=-1, keepdims=True) * self.k

    def _reduce(self, weighted: np.ndarray) -> np.ndarray:
        """The classes of each image reduced: background left out, then mean (or sum)."""
        if self.params["ignore_background"] and self.k > 1:
            weighted = weighted[..., 1:]
        if self.params.get("classes", "mean") == "sum":
            return weighted.sum(axis=-1)
        return weighted.mean(axis=-1)

    def finalize(self, totals):
        sums, k = totals.sums, self.k
        if not self.keyed:
            pooled = sums[..., 0, :]
            weight = pooled[..., 2 * k]
            class_weights = self._weights(pooled[..., k : 2 * k])
            means = pooled[..., :k] / weight[..., None]
            return self._reduce(means * class_weights)
        seen = sums[..., -1] > 0
        image_weight = np.where(seen, sums[..., -2] / np.where(seen, sums[..., -1], 1.0), 0.0)
        if totals.draws is not None:
            image_weight = image_weight * totals.draws
        class_totals = (image_weight[..., None] * sums[..., 2 * k : 3 * k]).sum(axis=-2)
        class_weights = self._weights(class_totals)[..., None, :]
        losses = self._reduce(_class_losses(sums, k, self.params) * class_weights)
        losses = np.where(seen, losses, 0.0)
        return (image_weight * losses).sum(axis=-1) / image_weight.sum(axis=-1)


def _class_target_ok(t: np.ndarray, params: Mapping[str, Any]) -> Any:
    return in_unit(t) if t.ndim == 2 or params["layout"] == "pixels" else t >= 0


SCORES = Param(
    "input",
    str,
    "logits",
    "logits: softmax over the classes (a sigmoid for one class or layout=pixels); probs: "
    "used as given",
    choices=("logits", "probs"),
)
CLASS_CHECKS = [
    Requirement(
        "pred",
        lambda v, params: True if params["input"] == "logits" else in_unit(v),
        "in [0, 1] with input=probs",
        "write input=logits for raw scores",
    ),
    Requirement(
        "target",
        _class_target_ok,
        "one-hot rows in [0, 1] (or a class index)",
        "give K target columns beside the K scores, or a class index column",
    ),
]
IGNORE_BACKGROUND = Param(
    "ignore_background", bool, False, "leave class 0 (the background) out of the mean"
)
CLASS_NOTE = (
    "pred holds each pixel's K class scores (a vector row): logits by default (input=logits: "
    "a softmax over the classes, a sigmoid for one class), or probabilities with input=probs; "
    "target its one-hot row or class index. An image is the rows sharing role sample "
    "(--col sample=COLUMN), or each row alone, "
    "as optax sees a (batch, classes) array; the value is the mean over images (an image weighs "
    "the mean weight of its rows)."
)
TWO_PIXELS: dict[str, Any] = {"pred": [[1.0, 0.0], [0.5, 0.5]], "target": [[1, 0], [0, 1]]}
THREE_PIXELS: dict[str, Any] = {
    "pred": [[1.0, 0.0], [0.5, 0.5], [0.2, 0.8]],
    "target": [[1, 0], [0, 1], [0, 1]],
}


def _generalized_by_hand() -> float:
    raw = [1 / (1 + FREQUENCY_FLOOR), 1 / (4 + FREQUENCY_FLOOR)]
    w0, w1 = (2 * r / sum(raw) for r in raw)
    # Each class 1 - (I + 1) / (P / 2 + T / 2 + 1); rows 2 and 3 as (I, P, T) per class.
    background = (1 - 1 / 1.25) + (1 - 1 / 1.1)
    foreground = (1 - 1.5 / 1.75) + (1 - 1.8 / 1.9)
    return (w0 * background + w1 * foreground) / 6


@register(
    name="class_dice",
    aliases=("per_class_dice",),
    family=FAMILY,
    formula="per image and class c: 1 - (I_c + smooth) / (I_c + alpha (P_c - I_c) + beta "
    "(T_c - I_c) + smooth), times class_weights_c; the classes averaged (or summed)",
    reference="Milletari et al. 2016; optax.losses.dice_loss",
    params=[
        SCORES,
        Param("smooth", float, 1.0, "added to numerator and denominator", ge=0),
        ALPHA,
        BETA,
        Param("class_weights", list, None, "a weight per class (none: 1 each)"),
        IGNORE_BACKGROUND,
        Param(
            "classes",
            str,
            "mean",
            "how an image's class losses are reduced",
            choices=("mean", "sum"),
        ),
        Param(
            "layout",
            str,
            "classes",
            "classes: a vector row is a pixel's K class scores; pixels: a vector row is an "
            "image's pixels of one binary channel (optax's binary_dice_loss)",
            choices=("classes", "pixels"),
        ),
    ],
    statistic=lambda params: ClassOverlap(params, generalized=False),
    requires=CLASS_CHECKS,
    examples=[
        Example(
            TWO_PIXELS,
            ((1 - 2 / 2) + (1 - 1 / 1) + (1 - 1 / 1.25) + (1 - 1.5 / 1.75)) / 4,
            "hand-worked, smooth=1, probabilities: each class 1 - (I + 1) / (P / 2 + T / 2 + 1); "
            "row 1 costs 0 and 0, row 2 (I, P, T) = (0, 0.5, 0) and (0.5, 0.5, 1)",
            {"input": "probs"},
        ),
    ],
    notes=CLASS_NOTE + " layout=pixels reads a vector row as one image's pixels instead.",
)
def class_dice(pred, target, sample=None, *, input, layout):
    """Dice loss of each class of an image, then averaged over the classes (optax's dice_loss)."""
    return _class_sums(pred, target, input=input, layout=layout)


@register(
    name="generalized_dice",
    aliases=("gdl",),
    family=FAMILY,
    formula="mean over images and classes of w_c (1 - (I_c + smooth) / ((P_c + T_c) / 2 + "
    "smooth)), w_c = 1 / (F_c^2 + 1e-7) normalised to sum to K, F_c the target's total of "
    "class c over the whole input",
    reference="Sudre et al. 2017; optax.losses.multiclass_generalized_dice_loss",
    params=[
        SCORES,
        Param("smooth", float, 1.0, "added to numerator and denominator", ge=0),
        IGNORE_BACKGROUND,
    ],
    statistic=lambda params: ClassOverlap({**params, "layout": "classes"}, generalized=True),
    requires=CLASS_CHECKS[:1]
    + [
        Requirement(
            "target",
            lambda t, params: in_unit(t) if t.ndim == 2 else t >= 0,
            "one-hot rows in [0, 1] (or a class index)",
            "give K target columns beside the K scores, or a class index column",
        )
    ],
    examples=[
        Example(
            THREE_PIXELS,
            _generalized_by_hand(),
            "hand-worked, smooth=1, probabilities: class totals 1 and 2 weigh 1 / (1 + 1e-7) "
            "and 1 / (4 + 1e-7), scaled to sum to 2; the mean of the six weighted class losses",
            {"input": "probs"},
        ),
    ],
    notes=CLASS_NOTE + " The class weights come from the whole input's class totals (each "
    "image counted with its weight), as optax computes them over the batch it is given.",
)
def generalized_dice(pred, target, sample=None, *, input):
    """Generalised Dice loss: per-class Dice weighted by inverse squared class frequency."""
    return _class_sums(pred, target, input=input, layout="classes")
