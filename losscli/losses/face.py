"""Face-recognition margin losses: softmax cross-entropy on scaled, margin-adjusted cosines.

``pred`` holds K cosine similarities per row (between a face embedding and each class's weight
vector, both normalised), ``target`` the class index. Each loss changes the true class's cosine,
scales every cosine by ``s`` and takes the cross-entropy, in the log-sum-exp form.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from losscli.errors import InputError
from losscli.losses.probability import class_index, class_scores, log_softmax, pick
from losscli.losses.registry import Example, Param, Requirement, register

FAMILY = "face"

COSINES = Requirement(
    "pred",
    lambda v, params: (v >= -1) & (v <= 1),
    "to be cosine similarities in [-1, 1]",
    "give cosines of normalised embeddings and class weights, not logits",
)
NOTES = (
    "pred holds K cosines per row (a column group or list column), target the class index. "
    "The margin applies to the true class only; every logit is then scaled by s."
)


def _margin_ce(pred, target, true_logit, s):
    """Cross-entropy of s cos_j with the true class's cosine replaced by ``true_logit(cos_y)``."""
    cosines = class_scores(pred, "face margin losses")
    index, counted = class_index(target, cosines.shape[1])
    logits = s * cosines
    np.put_along_axis(logits, index[:, None], s * true_logit(pick(cosines, index))[:, None], axis=1)
    return np.where(counted, -pick(log_softmax(logits), index), np.nan)


TWO: dict[str, Any] = {"pred": [[0.5, 0.5]], "target": [0]}


@register(
    name="normface",
    family=FAMILY,
    formula="ce over s cos_j",
    reference="Wang et al. 2017 (NormFace)",
    params=[Param("s", float, 30.0, "the scale of the cosines", gt=0)],
    requires=[COSINES],
    examples=[Example(TWO, math.log(2), "hand-worked: equal cosines")],
    notes=NOTES,
)
def normface(pred, target, *, s):
    """Softmax cross-entropy on cosine similarities scaled by s."""
    return _margin_ce(pred, target, lambda cos: cos, s)


@register(
    name="cosface",
    aliases=("am_softmax",),
    family=FAMILY,
    formula="ce over s (cos_j - m [j = y])",
    reference="Wang et al. 2018 (CosFace / AM-Softmax)",
    params=[
        Param("s", float, 30.0, "the scale of the cosines", gt=0),
        Param("m", float, 0.35, "the additive cosine margin", ge=0),
    ],
    requires=[COSINES],
    examples=[Example(TWO, math.log1p(math.exp(0.35)), "hand-worked", {"s": 1})],
    notes=NOTES,
)
def cosface(pred, target, *, s, m):
    """Cross-entropy with the true class's cosine lowered by m."""
    return _margin_ce(pred, target, lambda cos: cos - m, s)


@register(
    name="arcface",
    family=FAMILY,
    formula="ce over s cos_j, with s phi for j = y: phi = cos(theta_y + m) where "
    "cos_y > cos(pi - m), else cos_y - m sin(pi - m)",
    reference="Deng et al. 2019 (ArcFace, insightface's easy_margin=False)",
    params=[
        Param("s", float, 64.0, "the scale of the cosines", gt=0),
        Param("m", float, 0.5, "the additive angular margin (radians)", ge=0, lt=math.pi / 2),
    ],
    requires=[COSINES],
    examples=[
        Example(
            {"pred": [[0.0, 0.0]], "target": [0]},
            math.log1p(math.exp(math.sin(0.5))),
            "hand-worked: theta = pi/2, cos(pi/2 + 0.5) = -sin 0.5",
            {"s": 1},
        )
    ],
    notes=NOTES + " Past theta_y = pi - m the margin turns into the linear fallback "
    "cos_y - m sin(pi - m), as insightface does, so the loss keeps growing with the angle.",
)
def arcface(pred, target, *, s, m):
    """Cross-entropy with an additive angular margin on the true class."""
    threshold, fallback = math.cos(math.pi - m), m * math.sin(math.pi - m)

    def phi(cos: np.ndarray) -> np.ndarray:
        sin = np.sqrt(np.clip(1.0 - cos**2, 0.0, 1.0))
        shifted = cos * math.cos(m) - sin * math.sin(m)
        return np.where(cos > threshold, shifted, cos - fallback)

    return _margin_ce(pred, target, phi, s)


@register(
    name="sphereface",
    aliases=("a_softmax",),
    family=FAMILY,
    formula="ce over s cos_j, with s psi(theta_y) for j = y: psi(theta) = (-1)^k cos(m theta) "
    "- 2k on [k pi/m, (k+1) pi/m]",
    reference="Liu et al. 2017 (SphereFace), normalised features, no lambda annealing",
    params=[
        Param("s", float, 30.0, "the scale of the cosines", gt=0),
        Param("m", int, 4, "the multiplicative angular margin (an integer)", ge=1),
    ],
    requires=[COSINES],
    examples=[
        Example(
            {"pred": [[0.0, 0.0]], "target": [0]},
            math.log1p(math.exp(3.0)),
            "hand-worked: theta = pi/2, m = 4: k = 2, psi = cos(2 pi) - 4 = -3",
            {"s": 1},
        )
    ],
    notes=NOTES + " psi is the monotone extension of cos(m theta) of the paper; training "
    "schedules that blend it with cos (lambda annealing) are not applied.",
)
def sphereface(pred, target, *, s, m):
    """Cross-entropy with a multiplicative angular margin on the true class."""

    def psi(cos: np.ndarray) -> np.ndarray:
        theta = np.arccos(np.clip(cos, -1.0, 1.0))
        k = np.clip(np.floor(m * theta / math.pi), 0, m - 1)
        return (-1.0) ** k * np.cos(m * theta) - 2.0 * k

    return _margin_ce(pred, target, psi, s)


# ------------------------------------------------- unnormalised weights or features, pairs

WEIGHT_NORMS = Param(
    "weight_norms",
    list,
    None,
    "||W_j|| of each class's weight vector, e.g. [1.2,0.9,1]; none: all 1 (normalised)",
    gt=0,
)
FEATURE_NORM = Requirement(
    "norm", lambda v, params: v >= 0, ">= 0", "give ||x||, the feature's Euclidean norm"
)


def _class_norms(weight_norms: tuple[float, ...] | None, classes: int, loss: str) -> np.ndarray:
    if weight_norms is None:
        return np.ones(classes)
    if len(weight_norms) != classes:
        raise InputError(
            f"{loss}: weight_norms has {len(weight_norms)} values but pred has {classes} columns.",
            "Give one norm per class, in the order of the pred columns.",
        )
    return np.asarray(weight_norms, dtype=float)


def _ce(logits: np.ndarray, index: np.ndarray, counted: np.ndarray) -> np.ndarray:
    return np.where(counted, -pick(log_softmax(logits), index), np.nan)


def _psi(cos: np.ndarray, m: int) -> np.ndarray:
    """(-1)^k cos(m theta) - 2k on [k pi/m, (k+1) pi/m]: cos(m theta), kept decreasing."""
    theta = np.arccos(np.clip(cos, -1.0, 1.0))
    k = np.clip(np.floor(m * theta / math.pi), 0, m - 1)
    return (-1.0) ** k * np.cos(m * theta) - 2.0 * k


@register(
    name="l2_softmax",
    family=FAMILY,
    formula="ce over alpha ||W_j|| cos_j: the feature scaled to norm alpha, the weights not "
    "normalised",
    reference="Ranjan et al. 2017 (L2-constrained softmax)",
    params=[
        Param("alpha", float, 16.0, "the norm every feature is scaled to", gt=0),
        WEIGHT_NORMS,
    ],
    requires=[COSINES],
    examples=[
        Example(TWO, math.log(2), "hand-worked: equal cosines"),
        Example(
            {"pred": [[0.5, 0.5]], "target": [0]},
            math.log1p(math.exp(0.5)),
            "hand-worked: alpha 1, logits 1 * 0.5 and 2 * 0.5",
            {"alpha": 1, "weight_norms": [1, 2]},
        ),
    ],
    notes=NOTES.replace("every logit is then scaled by s", "each logit is alpha ||W_j|| cos_j")
    + " Unlike normface the class weights keep their norms (weight_norms; all 1 makes it "
    "normface with s = alpha).",
)
def l2_softmax(pred, target, *, alpha, weight_norms):
    """Softmax cross-entropy with every feature scaled to the norm alpha (L2-Softmax)."""
    cosines = class_scores(pred, "l2_softmax")
    index, counted = class_index(target, cosines.shape[1])
    norms = _class_norms(weight_norms, cosines.shape[1], "l2_softmax")
    return _ce(alpha * norms * cosines, index, counted)


@register(
    name="l_softmax",
    aliases=("large_margin_softmax",),
    family=FAMILY,
    formula="ce over ||W_j|| ||x|| cos_j, with ||W_y|| ||x|| psi(theta_y) for j = y: "
    "psi(theta) = (-1)^k cos(m theta) - 2k on [k pi/m, (k+1) pi/m]",
    reference="Liu et al. 2016 (L-Softmax), no lambda annealing",
    params=[
        Param("m", int, 2, "the multiplicative angular margin (an integer)", ge=1),
        WEIGHT_NORMS,
    ],
    requires=[COSINES, FEATURE_NORM],
    examples=[
        Example(
            {"pred": [[0.0, 0.0]], "target": [0], "norm": [1.0]},
            math.log1p(math.exp(3.0)),
            "hand-worked: theta = pi/2, m = 4: psi = -3, logits -3 and 0",
            {"m": 4},
        ),
        Example(
            {"pred": [[1.0, 0.0]], "target": [0], "norm": [2.0]},
            math.log1p(math.exp(-4.0)),
            "hand-worked: theta 0, logits 2 * 1 * 1 and 2 * 2 * 0",
            {"weight_norms": [2, 2]},
        ),
    ],
    notes="The large-margin softmax on unnormalised features: pred holds K cosines between the "
    "feature and each class's weight vector, role norm the feature's norm ||x|| (--col "
    "norm=COLUMN), weight_norms the class weights' norms (PyTorch: W.norm(dim=1)); pred "
    "cosines are W_j x / (||W_j|| ||x||). With norms all equal to s it is sphereface with that "
    "s. The annealing schedule that blends psi with cos in training is not applied.",
)
def l_softmax(pred, target, norm, *, m, weight_norms):
    """Cross-entropy with a multiplicative angular margin, features and weights unnormalised."""
    cosines = class_scores(pred, "l_softmax")
    index, counted = class_index(target, cosines.shape[1])
    scale = norm.reshape(-1, 1) * _class_norms(weight_norms, cosines.shape[1], "l_softmax")
    logits = scale * cosines
    true = pick(scale, index) * _psi(pick(cosines, index), m)
    np.put_along_axis(logits, index[:, None], true[:, None], axis=1)
    return _ce(logits, index, counted)


@register(
    name="coco",
    aliases=("congenerous_cosine",),
    family=FAMILY,
    formula="ce over alpha cos(f, c_j), c_j the centroid of class j (both normalised)",
    reference="Liu et al. 2017 (COCO loss, congenerous cosine)",
    params=[Param("alpha", float, 30.0, "the scale of the cosines", gt=0)],
    requires=[COSINES],
    examples=[
        Example(TWO, math.log(2), "hand-worked: equal cosines"),
        Example(
            {"pred": [[1.0, 0.0]], "target": [1]},
            math.log1p(math.exp(2.0)),
            "hand-worked: alpha 2, logits 2 and 0",
            {"alpha": 2},
        ),
    ],
    notes="pred holds K cosines between the normalised feature and each class's normalised "
    "centroid, target the class index. The paper bounds alpha from below by the number of "
    "classes; set it for yours. The arithmetic is normface's with s = alpha, on centroid "
    "cosines rather than class-weight cosines.",
)
def coco(pred, target, *, alpha):
    """Congenerous cosine loss: softmax over scaled cosines to the class centroids."""
    return _margin_ce(pred, target, lambda cos: cos, alpha)


@register(
    name="deepid2",
    aliases=("deepid",),
    family=FAMILY,
    formula="-log softmax(s)_y + lambda verif(x1, x2): same identity 0.5 ||x1 - x2||^2, "
    "else 0.5 max(0, margin - ||x1 - x2||)^2",
    reference="Sun et al. 2014 (DeepID2 identification + verification)",
    params=[
        Param("verification", float, 0.05, "lambda, the weight of the verification term", ge=0),
        Param("margin", float, 1.0, "the distance a different-identity pair must keep", ge=0),
    ],
    examples=[
        Example(
            {
                "pred": [[0.0, 0.0]],
                "target": [0],
                "x1": [[0.0, 0.0]],
                "x2": [[3.0, 4.0]],
                "partner": [0],
            },
            math.log(2) + 0.05 * 12.5,
            "hand-worked: same identity, distance 5",
        ),
        Example(
            {
                "pred": [[0.0, 0.0]],
                "target": [0],
                "x1": [[0.0, 0.0]],
                "x2": [[0.3, 0.4]],
                "partner": [1],
            },
            math.log(2) + 0.5 * 0.125,
            "hand-worked: different identities at distance 0.5, margin 1",
            {"verification": 0.5},
        ),
    ],
    notes="Each row pairs a face with another: pred its K identity logits, target its "
    "identity, x1 its feature, x2 the other face's feature and partner the other face's "
    "identity (--col x1=... x2=... partner=...); the pair is of the same identity when "
    "partner equals target. The verification term is the contrastive loss of Hadsell et al.",
)
def deepid2(pred, target, x1, x2, partner, *, verification, margin):
    """DeepID2's joint loss: identification cross-entropy plus a pair verification term."""
    logits = class_scores(pred, "deepid2")
    index, counted = class_index(target, logits.shape[1])
    difference = np.atleast_2d((x1 - x2).T).T
    distance = np.sqrt((difference * difference).sum(axis=1))
    same = partner == target
    verify = np.where(same, 0.5 * distance**2, 0.5 * np.maximum(0.0, margin - distance) ** 2)
    return _ce(logits, index, counted) + verification * verify
