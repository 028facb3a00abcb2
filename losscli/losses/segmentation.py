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

from losscli.engine.statistics import Contribution, Statistic, ones_or
from losscli.errors import RowProblem, option
from losscli.losses.probability import in_unit
from losscli.losses.registry import Example, Param, Requirement, register

FAMILY = "segmentation"
HAND = "hand-worked"

Score = Callable[..., np.ndarray]  # (tp, sp, st, **params) -> loss


def dice_score(tp, sp, st, *, smooth, **_):
    return 1.0 - (2.0 * tp + smooth) / (sp + st + smooth)


def iou_score(tp, sp, st, *, smooth, **_):
    return 1.0 - (tp + smooth) / (sp + st - tp + smooth)


def tversky_score(tp, sp, st, *, smooth, alpha, beta, **_):
    return 1.0 - (tp + smooth) / (tp + alpha * (sp - tp) + beta * (st - tp) + smooth)


def focal_tversky_score(tp, sp, st, *, gamma, **params):
    return np.maximum(tversky_score(tp, sp, st, **params), 0.0) ** gamma


def _element_sums(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, ...]:
    """TP, SP, ST of each row's elements: three (n,) arrays."""
    if pred.ndim == 1:
        return pred * target, pred, target
    return (pred * target).sum(axis=1), pred.sum(axis=1), target.sum(axis=1)


class Overlap(Statistic):
    """TP, SP, ST per sample (aggregate=sample) or pooled over every element (aggregate=global).

    The loss function gives each row's TP, SP and ST. With role ``sample`` they are summed per
    sample (the inner key: an interval then resamples whole samples), and a sample's weight in the
    mean over samples is the mean weight of its rows; vector rows are samples of their own (a
    weighted mean of per-row losses); with neither, the whole input is one sample. Pooled sums
    count each element with its row's weight.
    """

    def __init__(self, score: Score, params: Mapping[str, Any]) -> None:
        self.score = score
        self.params = dict(params)
        self.mode = "pooled"  # until ``layout`` sees the first chunk

    def layout(self, values, inputs):
        keyed = inputs.get("sample") is not None
        self.inner_units = keyed
        if self.params["aggregate"] == "global":
            self.mode, self.width = "pooled", 3
        elif keyed:
            self.mode, self.width = "samples", 5
        elif inputs["pred"].ndim == 1:
            self.mode, self.width = "pooled", 3
        else:
            self.mode, self.width = "rows", 2

    def _loss(self, tp: Any, sp: Any, st: Any) -> np.ndarray:
        # smooth=0 on a sample with nothing in pred or target is 0/0: NaN, as the formula says,
        # reported with a note, not a warning.
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.score(tp, sp, st, **self.params)

    def per_row(self, values):
        return self._loss(*values) if self.mode == "rows" else None

    def contribute(self, values, weight, inputs, shifts):
        inner = _sample_codes(inputs.get("sample"))
        if self.mode == "samples":
            return Contribution([*values, weight, None], inner=inner)
        w = ones_or(weight, len(values[0]))
        if self.mode == "rows":
            return Contribution([w * self._loss(*values), w])
        return Contribution([w * column for column in values], inner=inner)

    def finalize(self, totals):
        sums = totals.sums
        if self.mode == "rows":
            return sums[..., 0, 0] / sums[..., 0, 1]
        if self.mode == "pooled":
            pooled = sums.sum(axis=-2)
            return self._loss(pooled[..., 0], pooled[..., 1], pooled[..., 2])
        seen = sums[..., 4] > 0
        sample_weight = np.where(seen, sums[..., 3] / np.where(seen, sums[..., 4], 1.0), 0.0)
        if totals.draws is not None:  # a bootstrap replicate: a sample drawn k times counts k times
            sample_weight = sample_weight * totals.draws
        losses = self._loss(sums[..., 0], sums[..., 1], sums[..., 2])
        losses = np.where(seen, losses, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (sample_weight * losses).sum(axis=-1) / sample_weight.sum(axis=-1)


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
    "sample: mean of per-sample losses; global: one loss over all elements pooled",
    choices=("sample", "global"),
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
    params=[SMOOTH, AGGREGATE],
    statistic=_overlap(dice_score),
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
    params=[ALPHA, BETA, SMOOTH, AGGREGATE],
    statistic=_overlap(tversky_score),
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
