"""Face-recognition margin losses: softmax cross-entropy on scaled, margin-adjusted cosines.

``pred`` holds K cosine similarities per row (between a face embedding and each class's weight
vector, both normalised), ``target`` the class index. Each loss changes the true class's cosine,
scales every cosine by ``s`` and takes the cross-entropy, in the log-sum-exp form.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

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
    aliases=("l2_softmax",),
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
