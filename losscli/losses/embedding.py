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


# ------------------------------------------------------------------ losses over a whole batch
#
# A batch loss's value for a row depends on every other row of its batch (every pair is
# compared), so the engine hands it whole batches (losscli.engine.batches): the rows sharing a
# value of role ``batch``, one run of consecutive rows each, or the whole input without one.
# Anchors are compared with their batch in blocks of rows, so memory grows with the batch, not
# with its square.
ANCHOR_BLOCK = 512
BATCH_NOTE = (
    "A batch is the rows sharing a value of role batch (--col batch=COLUMN), one run of "
    "consecutive rows each (sorted by batch; a batch id that comes back after other rows is "
    "refused), of at most 20,000 rows; without a batch column the whole input is one batch "
    "(at most 20,000 rows). The value is the mean over batches of each batch's value as the "
    "library computes it on that batch alone; a weight column weighs batches (a batch counts "
    "with the mean weight of its rows), not rows inside a batch. Results do not depend on "
    "chunking or on the order of batches."
)
WHOLE_LABELS = Requirement(
    "target",
    lambda t, params: t == np.round(t),
    "whole-number labels (rows with the same label are a positive pair)",
    "give each row the integer id of its class or group",
)


def _batch_runs(batch: np.ndarray | None, rows: int) -> list[tuple[int, int]]:
    """(start, stop) of each batch in a chunk of whole batches (one run each)."""
    if batch is None or rows == 0:
        return [(0, rows)] if rows else []
    edges = np.flatnonzero(batch[1:] != batch[:-1]) + 1
    bounds = [0, *edges.tolist(), rows]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _per_anchor(function: Any, pred: np.ndarray, target: np.ndarray, batch: Any, **params: Any):
    """Each row's (loss part, count) from ``function`` applied batch by batch, block by block."""
    vectors = _vectors(pred)
    parts, counts = np.zeros(len(vectors)), np.zeros(len(vectors))
    for start, stop in _batch_runs(batch, len(vectors)):
        embeddings, labels = vectors[start:stop], target[start:stop]
        for first in range(0, stop - start, ANCHOR_BLOCK):
            rows = slice(first, min(first + ANCHOR_BLOCK, stop - start))
            part, count = function(embeddings, labels, rows, **params)
            parts[start + rows.start : start + rows.stop] = part
            counts[start + rows.start : start + rows.stop] = count
    return parts, counts


class Batches(Statistic):
    """Per batch (the inner key): sum of the rows' loss parts, sum of their counts, sum of the
    rows' weights and the number of rows. A batch's value is parts / counts (``empty`` where the
    counts are 0); the loss is the mean of the batch values, each batch weighing the mean weight
    of its rows."""

    width = 4
    inner_units = True  # an interval resamples whole batches

    def __init__(self, empty: float, rows_have_values: bool) -> None:
        self.empty, self.rows_have_values = empty, rows_have_values

    def per_row(self, values):
        return values[0] if self.rows_have_values else None

    def contribute(self, values, weight, inputs, shifts):
        part, count = values
        batch = inputs.get("batch")
        inner = np.zeros(len(part), np.intp) if batch is None else batch.astype(np.intp)
        return Contribution([part, count, ones_or(weight, len(part)), None], inner=inner)

    def finalize(self, totals):
        sums = totals.sums
        seen = sums[..., 3] > 0
        batch_weight = np.where(seen, sums[..., 2] / np.where(seen, sums[..., 3], 1.0), 0.0)
        if totals.draws is not None:  # a bootstrap replicate: a batch drawn k times counts k times
            batch_weight = batch_weight * totals.draws
        counted = sums[..., 1] > 0
        values = np.where(counted, sums[..., 0] / np.where(counted, sums[..., 1], 1.0), self.empty)
        values = np.where(seen, values, 0.0)
        return (batch_weight * values).sum(axis=-1) / batch_weight.sum(axis=-1)


def _circle_block(embeddings, labels, rows, *, gamma, margin, remove_diagonal):
    """Keras' circle loss of the anchors ``rows`` against their whole batch."""
    distance = np.maximum(1.0 - embeddings[rows] @ embeddings.T, 0.0)
    positive = labels[rows, None] == labels[None, :]
    negative = ~positive
    if remove_diagonal:
        positive[np.arange(rows.stop - rows.start), np.arange(rows.start, rows.stop)] = False
    pos_weight = np.maximum((margin + distance) * positive, 0.0)
    neg_weight = np.maximum((1.0 + margin - distance) * negative, 0.0)
    pos_logits = np.where(positive, -gamma * pos_weight * (margin - distance), -np.inf)
    neg_logits = np.where(negative, gamma * neg_weight * (1.0 - margin - distance), -np.inf)
    total = _logsumexp(pos_logits) + _logsumexp(neg_logits)
    loss = np.logaddexp(0.0, total)  # softplus; an anchor without a positive or negative: 0
    return loss, (loss > 0).astype(float)


def _logsumexp(values: np.ndarray) -> np.ndarray:
    """Row-wise log-sum-exp; -inf for a row of nothing but -inf."""
    top = values.max(axis=1)
    finite = np.isfinite(top)
    shift = np.where(finite, top, 0.0)
    return np.where(finite, np.log(np.exp(values - shift[:, None]).sum(axis=1)) + shift, top)


@register(
    name="circle",
    aliases=("circle_loss",),
    family=FAMILY,
    formula="per anchor i of a batch, d_ij = max(1 - x_i . x_j, 0): softplus(LSE_pos(-gamma "
    "max(margin + d, 0) (margin - d)) + LSE_neg(gamma max(1 + margin - d, 0) (1 - margin - d))); "
    "a batch's value is the mean over its anchors whose loss is > 0 (0 if none)",
    reference="Sun et al. 2020; keras.losses.Circle (the mean over the anchors it keeps)",
    params=[
        Param("gamma", float, 80.0, "the scale of the similarities", gt=0),
        Param("margin", float, 0.4, "the relaxation margin", ge=0),
        Param("remove_diagonal", bool, True, "leave each row out of its own positives"),
    ],
    statistic=lambda params: Batches(empty=0.0, rows_have_values=True),
    requires=[WHOLE_LABELS],
    examples=[
        Example(
            {"pred": [[1.0, 0.0], [1.0, 0.0]], "target": [0, 1]},
            math.log1p(math.exp(-80 * 0.4 * 0.4 + 80 * 1.4 * 0.6)),
            "hand-worked: two equal unit vectors with different labels (d = 0 for every pair); "
            "with remove_diagonal=false each row is its own positive: LSE_pos = -80 * 0.4 * 0.4, "
            "LSE_neg = 80 * 1.4 * 0.6",
            {"remove_diagonal": False},
        ),
    ],
    notes="pred holds each row's embedding (L2-normalised, as Keras expects: losscli does not "
    "normalise), target its integer label. Keras' mask keeps only anchors with a loss > 0 in "
    "the mean. " + BATCH_NOTE,
)
def circle(pred, target, batch=None, *, gamma, margin, remove_diagonal):
    """Circle loss of L2-normalised embeddings against integer labels, pairwise over each batch."""
    return _per_anchor(
        _circle_block,
        pred,
        target,
        batch,
        gamma=gamma,
        margin=margin,
        remove_diagonal=remove_diagonal,
    )


def _ntxent_block(embeddings, labels, rows, *, temperature):
    """NT-Xent of the anchors ``rows``: per anchor, the sum over its positive pairs of
    -log(e^s_ij / (e^s_ij + sum over negatives k of e^s_ik)), and the number of those pairs."""
    eps = np.finfo(np.float64).eps
    norms = np.sqrt(np.maximum((embeddings * embeddings).sum(axis=1), eps))
    unit = embeddings / norms[:, None]
    similarity = unit[rows] @ unit.T / temperature
    positive = labels[rows, None] == labels[None, :]
    negative = ~positive
    positive[np.arange(rows.stop - rows.start), np.arange(rows.start, rows.stop)] = False
    negatives = _logsumexp(np.where(negative, similarity, -np.inf))
    pair_loss = np.logaddexp(similarity, negatives[:, None]) - similarity
    return np.where(positive, pair_loss, 0.0).sum(axis=1), positive.sum(axis=1).astype(float)


@register(
    name="ntxent",
    aliases=("nt_xent",),
    family=FAMILY,
    formula="s_ij = cos(x_i, x_j) / temperature; per positive pair (i, j), same label, j != i: "
    "log(e^s_ij + sum_{k: other label} e^s_ik) - s_ij; a batch's value is the mean over its "
    "positive pairs",
    reference="Chen et al. 2020 (SimCLR); optax.losses.ntxent",
    params=[Param("temperature", float, 0.07, "divides the cosine similarities", gt=0)],
    statistic=lambda params: Batches(empty=math.nan, rows_have_values=False),
    requires=[WHOLE_LABELS],
    examples=[
        Example(
            {"pred": [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], "target": [0, 0, 1]},
            (math.log(math.exp(10) + 1) - 10) * 2 / 2,
            "hand-worked: rows 1 and 2 are a positive pair (cos 1), row 3 their negative "
            "(cos 0); temperature 0.1: each pair costs log(e^10 + e^0) - 10",
            {"temperature": 0.1},
        ),
    ],
    notes="pred holds each row's embedding (cosines are taken: no need to normalise), target "
    "the label that makes rows positive pairs. A batch without a positive pair is 0/0 (NaN), "
    "as in optax. " + BATCH_NOTE,
)
def ntxent(pred, target, batch=None, *, temperature):
    """NT-Xent (normalised temperature-scaled cross-entropy) of embeddings, over each batch."""
    return _per_anchor(_ntxent_block, pred, target, batch, temperature=temperature)
