"""Metric-learning losses: distances and similarities of embeddings, pairs, triplets, class centers.

Embeddings are vectors per row (a column group such as ``--col anchor='a_*'`` or a list column);
roles that are compared must have the same width. Pair labels follow each reference: ``contrastive``
takes 0 for a similar pair (Hadsell et al.), the PyTorch losses take 1 and -1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from losscli.engine.statistics import Contribution, Mean, Statistic, ones_or
from losscli.errors import InputError, RowProblem, option
from losscli.losses.registry import Example, Param, Requirement, register

FAMILY = "metric_learning"
HAND = "hand-worked"

PLUS_MINUS_ONE = Requirement(
    "target",
    lambda t, params: (t == 1) | (t == -1),
    "labels in {1, -1}",
    "1 marks a similar pair (or x1 ranked higher), -1 a dissimilar one",
)
WIDTH_NOTE = "Compared roles must have the same width (the same number of columns)."

# The two embeddings of a pair: roles given through ``columns``.
X1, X2 = option('columns["x1"]'), option('columns["x2"]')


def _vectors(values: np.ndarray) -> np.ndarray:
    return values if values.ndim == 2 else values[:, None]


def _norm(values: np.ndarray, p: float) -> np.ndarray:
    return np.linalg.norm(_vectors(values), ord=p, axis=1)


def _cosine(a: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    a, b = _vectors(a), _vectors(b)
    norms = np.maximum(_norm(a, 2), eps) * np.maximum(_norm(b, 2), eps)
    return (a * b).sum(axis=1) / norms


@register(
    name="contrastive",
    family=FAMILY,
    elementwise=True,
    formula="similar: 0.5 D^2; dissimilar: 0.5 max(0, margin - D)^2; D = pred or ||x1 - x2||_p",
    reference="Hadsell, Chopra & LeCun 2006",
    params=[
        Param("margin", float, 1.0, "distance beyond which dissimilar pairs cost nothing", ge=0),
        Param("similar_label", int, 0, "the target label of a similar pair", ge=0, le=1),
        Param("p", float, 2.0, "the norm of x1 - x2 when D is computed", gt=0),
    ],
    requires=[
        Requirement(
            "target",
            lambda t, params: (t == 0) | (t == 1),
            "labels in {0, 1}",
            "with similar_label=0 (default) 0 marks a similar pair and 1 a dissimilar one",
        ),
        Requirement("pred", lambda d, params: d >= 0, ">= 0 (a distance)", "give distances"),
    ],
    examples=[
        Example({"pred": [0.5, 0.5], "target": [0, 1]}, (0.125 + 0.125) / 2, HAND),
        Example(
            {"x1": [[0.0, 0.0]], "x2": [[3.0, 4.0]], "target": [1]},
            0.0,
            "hand-worked: D = 5 beyond the margin",
        ),
        Example({"pred": [0.5], "target": [0]}, 0.125, HAND, {"similar_label": 1, "margin": 1}),
    ],
    notes="Labels as in the seed formula and Hadsell et al.: 0 = similar pair, 1 = dissimilar; "
    "similar_label=1 swaps them (the convention of many code bases). D is a pred column of "
    "ready distances, or the p-norm of x1 - x2 (--col x1=... --col x2=..., no eps). " + WIDTH_NOTE,
)
def contrastive(target, pred=None, x1=None, x2=None, *, margin, similar_label, p):
    """Pulls similar pairs together and pushes dissimilar ones beyond the margin."""
    if pred is None:
        if x1 is None or x2 is None:
            raise InputError(
                f"contrastive needs a distance column ({option('pred')}) or two embeddings "
                f"({X1}, {X2}).",
                "See 'losscli describe contrastive'.",
            )
        pred = _norm(x1 - x2, p)
    similar = target == similar_label
    loss = np.where(similar, 0.5 * pred**2, 0.5 * np.maximum(0.0, margin - pred) ** 2)
    return np.where(np.isnan(target), np.nan, loss)


@register(
    name="cosine",
    aliases=("cosine_distance",),
    family=FAMILY,
    formula="1 - p.t / (max(||p||, eps) max(||t||, eps))",
    reference="torch.nn.functional.cosine_similarity",
    params=[Param("eps", float, 1e-8, "floor on each norm (0: a zero vector gives NaN)", ge=0)],
    examples=[
        Example({"pred": [[1.0, 0.0], [1.0, 1.0]], "target": [[0.0, 1.0], [2.0, 2.0]]}, 0.5, HAND)
    ],
    notes="In [0, 2]. Keras' CosineSimilarity loss returns -cos (in [-1, 1]) instead. "
    + WIDTH_NOTE,
)
def cosine_distance(pred, target, *, eps):
    """One minus the cosine similarity of predicted and target vectors."""
    return 1.0 - _cosine(pred, target, eps)


@register(
    name="cosine_embedding",
    family=FAMILY,
    formula="y = 1: 1 - cos(x1, x2); y = -1: max(0, cos(x1, x2) - margin)",
    reference="torch.nn.CosineEmbeddingLoss",
    params=[
        Param("margin", float, 0.0, "cosine below which dissimilar pairs cost nothing", ge=-1, le=1)
    ],
    requires=[PLUS_MINUS_ONE],
    examples=[
        Example(
            {"x1": [[1.0, 0.0], [1.0, 0.0]], "x2": [[1.0, 1.0], [1.0, 1.0]], "target": [1, -1]},
            ((1 - math.sqrt(0.5)) + math.sqrt(0.5)) / 2,
            HAND,
        ),
    ],
    notes="Roles x1 and x2 (--col x1=... --col x2=...) and a target of 1 (similar) or -1. "
    + WIDTH_NOTE,
)
def cosine_embedding(x1, x2, target, *, margin):
    """Cosine-based pair loss: similar pairs aligned, dissimilar ones below the margin."""
    cos = _cosine(x1, x2, 1e-12)
    return np.where(target == 1, 1.0 - cos, np.maximum(0.0, cos - margin))


@register(
    name="triplet",
    aliases=("triplet_margin",),
    family=FAMILY,
    formula="max(0, D(a, p) - D(a, n) + margin), D(u, v) = ||u - v + eps||_p; "
    "swap: D(a, n) -> min(D(a, n), D(p, n)); squared: D^2 in place of D",
    reference="torch.nn.TripletMarginLoss",
    params=[
        Param("margin", float, 1.0, "the required gap between negative and positive", ge=0),
        Param("p", float, 2.0, "the norm", gt=0),
        Param("eps", float, 1e-6, "added to the difference, as PyTorch does", ge=0),
        Param("swap", bool, False, "use the closer of anchor and positive to the negative"),
        Param("squared", bool, False, "compare squared distances D^2, as FaceNet does"),
        Param(
            "eps_in",
            str,
            "difference",
            "where eps goes: difference, ||u - v + eps||_p (PyTorch); or sum, "
            "(sum (u - v)^p + eps)^(1/p), the differences not made absolute (optax)",
            choices=("difference", "sum"),
        ),
    ],
    examples=[
        Example(
            {"anchor": [[0.0, 0.0]], "positive": [[3.0, 4.0]], "negative": [[1.0, 0.0]]},
            5.0,
            HAND,
            {"eps": 0},
        ),
        Example(
            {"anchor": [[0.0, 0.0]], "positive": [[3.0, 4.0]], "negative": [[1.0, 0.0]]},
            24.2,
            "hand-worked: FaceNet's 25 - 1 + 0.2",
            {"eps": 0, "squared": True, "margin": 0.2},
        ),
    ],
    notes="Roles anchor, positive and negative (--col anchor=... etc.). " + WIDTH_NOTE + " "
    "squared=true is FaceNet's triplet loss (Schroff et al. 2015), [||a - p||^2 - ||a - n||^2 "
    "+ margin]_+, whose margin was 0.2 on L2-normalised embeddings; give eps=0 for its exact "
    "distances.",
)
def triplet(anchor, positive, negative, *, margin, p, eps, swap, squared, eps_in):
    """The anchor must be closer to the positive than to the negative by the margin."""

    def distance(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        if eps_in == "sum":
            # optax's form, signed differences and all: (a - b)^1 sums with their signs.
            return (((_vectors(u) - _vectors(v)) ** p).sum(axis=1) + eps) ** (1.0 / p)
        return _norm(u - v + eps, p)

    to_positive = distance(anchor, positive)
    to_negative = distance(anchor, negative)
    if swap:
        to_negative = np.minimum(to_negative, distance(positive, negative))
    if squared:
        to_positive, to_negative = to_positive * to_positive, to_negative * to_negative
    return np.maximum(0.0, to_positive - to_negative + margin)


@register(
    name="margin_ranking",
    family=FAMILY,
    formula="max(0, -y (x1 - x2) + margin)",
    reference="torch.nn.MarginRankingLoss",
    params=[Param("margin", float, 0.0, "how much the higher-ranked score must lead")],
    requires=[PLUS_MINUS_ONE],
    examples=[Example({"x1": [1.0, 1.0], "x2": [0.5, 0.5], "target": [1, -1]}, 0.25, HAND)],
    notes="Roles x1 and x2 hold one score each per row; target 1 means x1 should rank higher, "
    "-1 that x2 should.",
)
def margin_ranking(x1, x2, target, *, margin):
    """Pairwise ranking hinge: the preferred score must lead by the margin."""
    return np.maximum(0.0, -target * (x1 - x2) + margin)


@register(
    name="hinge_embedding",
    family=FAMILY,
    elementwise=True,
    formula="y = 1: x; y = -1: max(0, margin - x)",
    reference="torch.nn.HingeEmbeddingLoss",
    params=[Param("margin", float, 1.0, "distance beyond which dissimilar pairs cost nothing")],
    requires=[PLUS_MINUS_ONE],
    examples=[Example({"pred": [0.3, 0.3], "target": [1, -1]}, (0.3 + 0.7) / 2, HAND)],
    notes="pred is usually a distance (for example L1) between a pair; target 1 for a similar "
    "pair and -1 for a dissimilar one. Not the classification hinge (see hinge).",
)
def hinge_embedding(pred, target, *, margin):
    """Distance for similar pairs, hinge on the margin for dissimilar ones."""
    return np.where(target == 1, pred, np.maximum(0.0, margin - pred))


class ClassScatter(Statistic):
    """0.5 sum_i w_i ||x_i - c_{y_i}||^2 / sum_i w_i with c the weighted class means, one pass.

    Per class (the inner key): the weighted sums S1 of x - s and S2 of ||x - s||^2 around a
    shift s (the class's first row), and the weight W, so the scatter S2 - |S1|^2 / W loses no
    digits to a large mean.
    """

    def layout(self, values, inputs):
        self.dims = _vectors(inputs["pred"]).shape[1]
        self.width, self.shift_width = self.dims + 2, self.dims

    def contribute(self, values, weight, inputs, shifts):
        x, classes = _vectors(inputs["pred"]), _class_codes(inputs["target"])
        usable = np.isfinite(x).all(axis=1)
        centred = x - shifts(None, classes, x, usable)
        w = ones_or(weight, len(x))
        columns = [w * centred[:, j] for j in range(x.shape[1])]
        return Contribution([*columns, w * (centred**2).sum(axis=1), w], inner=classes)

    def finalize(self, totals):
        sums = totals.sums
        s1, s2, w = sums[..., : self.dims], sums[..., self.dims], sums[..., self.dims + 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            scatter = s2 - np.where(w > 0, (s1**2).sum(axis=-1) / np.where(w > 0, w, 1.0), 0.0)
            return 0.5 * scatter.sum(axis=-1) / w.sum(axis=-1)

    def moved(self, sums, delta):
        out, d = sums.copy(), self.dims
        s1, w = sums[..., :d], sums[..., d + 1 : d + 2]
        out[..., d] += (-2 * delta * s1 + w * delta * delta).sum(axis=-1)
        out[..., :d] -= w * delta
        return out


def _class_codes(target: np.ndarray) -> np.ndarray:
    bad = ~((target >= 0) & (target == np.floor(target)))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise RowProblem(
            row,
            "target",
            f"holds {target[row]:g}, not a class index 0, 1, 2, ...",
            "Give the class as a whole number per row",
        )
    return target.astype(np.intp)


def _center_statistic(params: Mapping[str, Any]) -> Statistic:
    if params.get("centers") is None:
        return ClassScatter()
    return Mean()


@register(
    name="center",
    aliases=("center_loss",),
    family=FAMILY,
    formula="0.5 sum_i w_i ||x_i - c_{y_i}||^2 / sum_i w_i, c_k the weighted mean of class k",
    reference="Wen et al. 2016 (center loss)",
    params=[
        Param(
            "centers",
            Path,
            None,
            "a file of K rows (one per class) of E numbers; without it, the class means",
        )
    ],
    statistic=_center_statistic,
    examples=[
        Example(
            {"pred": [[0.0, 0.0], [2.0, 0.0], [5.0, 5.0]], "target": [0, 0, 1]},
            0.5 * 2 / 3,
            "hand-worked: class 0 center (1, 0), class 1 alone",
        )
    ],
    notes="pred holds each row's features (E columns), target its class index. By default the "
    "centers are the class means of the evaluated data, from per-class sums in one pass, so the "
    "loss is the within-class scatter of the features (and --per-row has no value: a row's loss "
    "needs the final centers). centers=FILE reads a model's learned centers instead: row k of the "
    "file (its numeric columns, or one list column) is the center of class k.",
)
def center(pred, target, *, centers):
    """Half the squared distance of each feature vector to its class center, averaged."""
    if centers is None:
        return np.zeros(len(target))
    x, classes = _vectors(pred), _class_codes(target)
    table = np.asarray(centers, dtype=float)
    if table.ndim != 2 or table.shape[1] != x.shape[1]:
        raise InputError(
            f"center: the centers file has {table.shape[-1]} numbers per row but pred has "
            f"{x.shape[1]}.",
            "Give one row per class with as many numbers as the features.",
        )
    outside = np.flatnonzero(classes >= len(table))
    if outside.size:
        row = int(outside[0])
        raise RowProblem(
            row,
            "target",
            f"holds class {classes[row]}, but the centers file has {len(table)} rows",
            "Row k of the centers file is the center of class k",
        )
    return 0.5 * ((x - table[classes]) ** 2).sum(axis=1)
