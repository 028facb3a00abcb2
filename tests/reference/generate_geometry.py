"""Generate reference values for the overlap, box, embedding and face losses.

Every case's inputs come from a numpy Generator seeded from the case id, and its expected value is
computed by PyTorch (torch.nn losses and torch.nn.functional) or, where torch has no such loss, by
the published formula evaluated with float64 torch tensors and stated in the case's ``source``:
the soft Dice / Jaccard / Tversky formulas, torchvision.ops' box-loss formulas (torchvision itself
is not needed), and the papers' margin formulas followed by torch's cross-entropy. Nothing is
rounded: the fixture stores full float64 values (class indices, labels, hard masks and sample ids
as integers), and rerunning a case rewrites it byte for byte on the same machine.

The mask cases come in pairs, ``<stem>-images`` (one row of pixels per image) and
``<stem>-pixels`` (the same pixels one per row, shuffled, with a ``sample`` id column), whose
expected values agree; the script checks that they do.

torch is needed only to regenerate ``geometry.json``, not to run the tests that read it, and only
for the cases that use it. To regenerate, from the repository root run (README.md beside this file
says more):

    python3 tests/reference/generate_geometry.py              # every case
    python3 tests/reference/generate_geometry.py --only ID    # one case, the others untouched
    python3 tests/reference/generate_geometry.py --add ID     # a case new in specs()
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fixture
import numpy as np
from fixture import Builder, Inputs, Library, Spec, case_record, case_rng

OUTPUT = Path(__file__).with_name("geometry.json")
torch = Library("torch")
F = Library("torch.nn.functional")

Weight = np.ndarray | None
Reference = Callable[[dict[str, Any], Inputs, Weight], tuple[float, str]]

WEIGHTED = "; then sum(w * l) / sum(w) over rows in float64"
SAMPLE_WEIGHTED = (
    "; then sum(v * l) / sum(v) over samples in float64, v = the mean weight of the sample's rows"
)
PAIR_TOLERANCE = 1e-12  # images and pixels layouts of one pair must agree this closely
BRANCH_GAP = 1e-9  # no target cosine this close to the arcface threshold cos(pi - m)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def unit_rows(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


# ---------------------------------------------------------------------------- input builders


def masks(n: int, e: int, soft: bool = False, empty: bool = True) -> Builder:
    """n images of e pixels, one image per row, pred and target (n, e).

    Each image has its own foreground rate q ~ U(0.1, 0.6); a pixel is foreground with
    probability q, and pred = sigmoid(3 (2 hit - 1) + N(0, 1.5)). Targets are the hits as 0/1
    integers, or with ``soft`` values in [0, 1] (clipped 0.1 + 0.8 hit + N(0, 0.15)). ``empty``
    makes image 0 all zeros in both pred and target (the smooth term decides: loss 0) and gives
    image 1 an all-zero target under its soft pred.
    """

    def build(rng: np.random.Generator) -> Inputs:
        q = rng.uniform(0.1, 0.6, (n, 1))
        hit = rng.random((n, e)) < q
        pred = sigmoid(3.0 * (2.0 * hit - 1.0) + rng.normal(0.0, 1.5, (n, e)))
        if soft:
            target = np.clip(0.1 + 0.8 * hit + rng.normal(0.0, 0.15, (n, e)), 0.0, 1.0)
        else:
            target = hit.astype(np.int64)
        if empty:
            pred[0] = 0.0
            target[0] = 0
            target[1] = 0
        return {"pred": pred, "target": target}

    return build


def pixels(images_id: str, images: Builder, weighted: bool = False) -> Builder:
    """The inputs of case ``images_id`` one pixel per row, rows shuffled, with a ``sample`` id.

    The images are rebuilt from that case's own generator, so they are the same numbers;
    ``weighted`` draws that case's row weights from it as well and gives every pixel its image's
    weight (returned under "weight").
    """

    def build(rng: np.random.Generator) -> Inputs:
        image_rng = case_rng(images_id)
        data = images(image_rng)
        n, e = data["pred"].shape
        order = rng.permutation(n * e)
        sample = np.repeat(np.arange(n), e)[order]
        out = {
            "pred": data["pred"].reshape(-1)[order],
            "target": data["target"].reshape(-1)[order],
            "sample": sample,
        }
        if weighted:
            out["weight"] = weights_for(image_rng, n)[sample]
        return out

    return build


def pixel_samples(s: int, low: int, high: int) -> Builder:
    """s samples of low..high pixels each (sizes differ), one pixel per row, rows shuffled.

    Pixels as in ``masks``; sample 0 has pred and target all zero.
    """

    def build(rng: np.random.Generator) -> Inputs:
        sizes = rng.integers(low, high + 1, s)
        sample = np.repeat(np.arange(s), sizes)
        q = rng.uniform(0.1, 0.6, s)[sample]
        hit = rng.random(sample.size) < q
        pred = sigmoid(3.0 * (2.0 * hit - 1.0) + rng.normal(0.0, 1.5, sample.size))
        target = hit.astype(np.int64)
        pred[sample == 0] = 0.0
        target[sample == 0] = 0
        order = rng.permutation(sample.size)
        return {"pred": pred[order], "target": target[order], "sample": sample[order]}

    return build


def boxes(n: int, kind: str = "overlap", fmt: str = "xyxy", scale: float = 1.0) -> Builder:
    """Target boxes with centres in [0, 200)^2 and sides in [5, 60), times ``scale``.

    ``kind`` "overlap": pred is the target with its centre moved by N(0, 0.15) of each side and its
    sides scaled by exp(N(0, 0.25)), overlapping the target (checked); "apart": pred sits right of
    or below the target with a gap of 1 to 30 (times ``scale``), so the boxes do not overlap;
    "same": pred equals the target. Boxes are written in ``fmt``: "xyxy" (x1, y1, x2, y2), "xywh"
    (x1, y1, w, h) or "cxcywh" (cx, cy, w, h).
    """

    def build(rng: np.random.Generator) -> Inputs:
        centre = rng.uniform(0.0, 200.0, (n, 2)) * scale
        side = rng.uniform(5.0, 60.0, (n, 2)) * scale
        if kind == "overlap":
            p_centre = centre + rng.normal(0.0, 0.15, (n, 2)) * side
            p_side = side * np.exp(rng.normal(0.0, 0.25, (n, 2)))
            reach = np.abs(p_centre - centre) < (p_side + side) / 2.0
            if not reach.all():
                raise ValueError("a pred box misses its target")
        elif kind == "apart":
            p_side = rng.uniform(5.0, 60.0, (n, 2)) * scale
            gap = rng.uniform(1.0, 30.0, n) * scale
            axis = rng.integers(0, 2, n)
            p_centre = centre + rng.normal(0.0, 10.0, (n, 2)) * scale
            rows = np.arange(n)
            p_centre[rows, axis] = (
                centre[rows, axis] + (side[rows, axis] + p_side[rows, axis]) / 2.0 + gap
            )
        else:
            p_centre, p_side = centre.copy(), side.copy()
        return {"pred": box_format(p_centre, p_side, fmt), "target": box_format(centre, side, fmt)}

    return build


def box_format(centre: np.ndarray, side: np.ndarray, fmt: str) -> np.ndarray:
    if fmt == "cxcywh":
        return np.concatenate([centre, side], axis=1)
    low = centre - side / 2.0
    if fmt == "xywh":
        return np.concatenate([low, side], axis=1)
    return np.concatenate([low, centre + side / 2.0], axis=1)


def distances(n: int, similar_label: int = 0, high: float = 2.0) -> Builder:
    """A distance column and labels: similar pairs |N(0, 0.6)|, dissimilar U(0, high).

    The label of a similar pair is ``similar_label`` and of a dissimilar one the other of {0, 1};
    rows 0 and 1 are one similar and one dissimilar pair.
    """

    def build(rng: np.random.Generator) -> Inputs:
        similar = rng.random(n) < 0.5
        similar[:2] = [True, False]
        d = np.where(similar, np.abs(rng.normal(0.0, 0.6, n)), rng.uniform(0.0, high, n))
        y = np.where(similar, similar_label, 1 - similar_label).astype(np.int64)
        return {"pred": d, "target": y}

    return build


def embedding_pairs(n: int, e: int, similar_label: int = 0) -> Builder:
    """Embeddings x1 ~ N(0, 1) and x2 = x1 + N(0, s) per row: s ~ U(0.02, 0.2) for similar pairs
    and U(0.1, 0.6) for dissimilar ones; labels as in ``distances``."""

    def build(rng: np.random.Generator) -> Inputs:
        similar = rng.random(n) < 0.5
        similar[:2] = [True, False]
        spread = np.where(similar, rng.uniform(0.02, 0.2, n), rng.uniform(0.1, 0.6, n))
        x1 = rng.normal(0.0, 1.0, (n, e))
        x2 = x1 + rng.normal(0.0, 1.0, (n, e)) * spread[:, None]
        y = np.where(similar, similar_label, 1 - similar_label).astype(np.int64)
        return {"x1": x1, "x2": x2, "target": y}

    return build


def vector_pairs(n: int, e: int, zero_row: bool = False) -> Builder:
    """pred = c target + N(0, 1), target ~ N(0, 1), c ~ U(-0.5, 2) per row; ``zero_row`` makes
    pred row 0 all zeros (cosine 0)."""

    def build(rng: np.random.Generator) -> Inputs:
        target = rng.normal(0.0, 1.0, (n, e))
        c = rng.uniform(-0.5, 2.0, (n, 1))
        pred = c * target + rng.normal(0.0, 1.0, (n, e))
        if zero_row:
            pred[0] = 0.0
        return {"pred": pred, "target": target}

    return build


def labelled_pairs(n: int, e: int) -> Builder:
    """x1 ~ N(0, 1), x2 = c x1 + N(0, 1) with labels y in {1, -1}: c ~ U(0.5, 3) for y = 1 and
    U(-1, 1.5) for y = -1 (so some y = -1 pairs still have a large cosine); rows 0 and 1 hold
    both labels."""

    def build(rng: np.random.Generator) -> Inputs:
        y = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int64)
        y[:2] = [1, -1]
        c = np.where(y == 1, rng.uniform(0.5, 3.0, n), rng.uniform(-1.0, 1.5, n))
        x1 = rng.normal(0.0, 1.0, (n, e))
        x2 = c[:, None] * x1 + rng.normal(0.0, 1.0, (n, e))
        return {"x1": x1, "x2": x2, "target": y}

    return build


def triplets(n: int, e: int) -> Builder:
    """anchor ~ N(0, 1), positive = anchor + N(0, 0.5), negative = anchor + N(0, s),
    s ~ U(0.2, 1.2) per row, so the margin is violated in some rows and met in others."""

    def build(rng: np.random.Generator) -> Inputs:
        anchor = rng.normal(0.0, 1.0, (n, e))
        positive = anchor + rng.normal(0.0, 0.5, (n, e))
        spread = rng.uniform(0.2, 1.2, (n, 1))
        negative = anchor + rng.normal(0.0, 1.0, (n, e)) * spread
        return {"anchor": anchor, "positive": positive, "negative": negative}

    return build


def rankings(n: int) -> Builder:
    """Scores x1, x2 ~ N(0, 1) and y = sign(x1 - x2 + N(0, 0.7)) in {1, -1}; rows 0 and 1 hold
    both labels."""

    def build(rng: np.random.Generator) -> Inputs:
        x1 = rng.normal(0.0, 1.0, n)
        x2 = rng.normal(0.0, 1.0, n)
        y = np.where(x1 - x2 + rng.normal(0.0, 0.7, n) > 0.0, 1, -1).astype(np.int64)
        y[:2] = [1, -1]
        return {"x1": x1, "x2": x2, "target": y}

    return build


def hinge_distances(n: int, high: float = 2.0) -> Builder:
    """Distances x with labels y in {1, -1}: |N(0, 0.5)| for y = 1, U(0, high) for y = -1."""

    def build(rng: np.random.Generator) -> Inputs:
        y = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int64)
        y[:2] = [1, -1]
        x = np.where(y == 1, np.abs(rng.normal(0.0, 0.5, n)), rng.uniform(0.0, high, n))
        return {"pred": x, "target": y}

    return build


def features(n: int, e: int, k: int) -> Builder:
    """Features means[y] + N(0, 1), means ~ N(0, 2), with class indices y covering all k classes."""

    def build(rng: np.random.Generator) -> Inputs:
        y = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])
        y = rng.permutation(y).astype(np.int64)
        means = rng.normal(0.0, 2.0, (k, e))
        return {"pred": means[y] + rng.normal(0.0, 1.0, (n, e)), "target": y}

    return build


def cosines(
    n: int,
    k: int,
    e: int = 16,
    target_cos: tuple[float, ...] = (),
    spread: int = 0,
) -> Builder:
    """Cosines (n, k) between unit embeddings and k unit class vectors W_j ~ N(0, I_e), and y.

    An embedding is unit(W_y + r g / sqrt(e)), g ~ N(0, I_e), r ~ U(0.5, 2), so its own class's
    cosine is usually the largest. ``target_cos`` overwrites the target cosine of the first rows
    with those values; ``spread`` = m overwrites the target cosine of the next 2m rows with
    cos(theta), theta ~ (k + U(0.1, 0.9)) pi / m, two rows for each k = 0..m-1.
    """

    def build(rng: np.random.Generator) -> Inputs:
        w = unit_rows(rng.normal(0.0, 1.0, (k, e)))
        y = rng.integers(0, k, n).astype(np.int64)
        r = rng.uniform(0.5, 2.0, (n, 1))
        x = unit_rows(w[y] + r * rng.normal(0.0, 1.0, (n, e)) / math.sqrt(e))
        cos = np.clip(x @ w.T, -1.0, 1.0)
        rows = np.arange(n)
        values = list(target_cos)
        if spread:
            ranges = np.repeat(np.arange(spread), 2)
            theta = (ranges + rng.uniform(0.1, 0.9, ranges.size)) * math.pi / spread
            values += list(np.cos(theta))
        cos[rows[: len(values)], y[: len(values)]] = values
        return {"pred": cos, "target": y}

    return build


# ---------------------------------------------------------------------------- the cases


def specs() -> list[Spec]:
    s: list[Spec] = []

    def add(case_id: str, loss: str, build: Builder, weighted: bool = False, **params: Any) -> None:
        s.append(Spec(case_id, loss, build, params, weighted))

    def pair(stem: str, loss: str, images: Builder, weighted: bool = False, **params: Any) -> None:
        """The same masks as one image per row and as one pixel per row."""
        add(f"{stem}-images", loss, images, weighted, **params)
        add(f"{stem}-pixels", loss, pixels(f"{stem}-images", images, weighted), weighted, **params)

    for loss in ("dice", "iou", "tversky", "focal_tversky"):
        pair(loss, loss, masks(8, 16))
        pair(f"{loss}-weighted", loss, masks(7, 16), weighted=True)
        pair(f"{loss}-global", loss, masks(6, 16), aggregate="global")
        pair(f"{loss}-global-weighted", loss, masks(6, 16), weighted=True, aggregate="global")
        pair(f"{loss}-smooth1", loss, masks(6, 16), smooth=1.0)
        add(f"{loss}-pixels-rowweights", loss, pixel_samples(6, 5, 30), weighted=True)
        add(
            f"{loss}-pixels-global-rowweights",
            loss,
            pixel_samples(5, 5, 30),
            weighted=True,
            aggregate="global",
        )
        add(f"{loss}-softtarget-images", loss, masks(10, 64, soft=True, empty=False))
    add("dice-sample-images", "dice", masks(5, 64), aggregate="sample")
    add("dice-smooth1-global-images", "dice", masks(6, 16), smooth=1.0, aggregate="global")
    add("iou-softtarget-weighted-images", "iou", masks(9, 16, soft=True), weighted=True)

    pair("tversky-alpha0.3-beta0.7", "tversky", masks(8, 16), alpha=0.3, beta=0.7)
    pair(
        "tversky-alpha0.3-beta0.7-weighted",
        "tversky",
        masks(7, 16),
        weighted=True,
        alpha=0.3,
        beta=0.7,
    )
    add(
        "tversky-alpha0.7-beta0.3-global-images",
        "tversky",
        masks(6, 16),
        alpha=0.7,
        beta=0.3,
        aggregate="global",
    )
    pair("focal_tversky-gamma2", "focal_tversky", masks(8, 16), gamma=2.0)
    pair("focal_tversky-gamma2-weighted", "focal_tversky", masks(7, 16), weighted=True, gamma=2.0)
    pair(
        "focal_tversky-alpha0.3-beta0.7-gamma0.75",
        "focal_tversky",
        masks(8, 16),
        alpha=0.3,
        beta=0.7,
        gamma=0.75,
    )
    add(
        "focal_tversky-alpha0.3-beta0.7-gamma2-global-images",
        "focal_tversky",
        masks(6, 16),
        alpha=0.3,
        beta=0.7,
        gamma=2.0,
        aggregate="global",
    )

    for loss in ("box_iou", "giou", "diou", "ciou"):
        add(f"{loss}-default", loss, boxes(20))
        add(f"{loss}-weighted", loss, boxes(17), weighted=True)
        add(f"{loss}-apart", loss, boxes(12, "apart"))
        add(f"{loss}-same", loss, boxes(8, "same"))
        add(f"{loss}-xywh", loss, boxes(18, fmt="xywh"), format="xywh")
        add(f"{loss}-cxcywh", loss, boxes(18, fmt="cxcywh"), format="cxcywh")
        add(
            f"{loss}-cxcywh-apart-weighted",
            loss,
            boxes(15, "apart", fmt="cxcywh"),
            weighted=True,
            format="cxcywh",
        )
        add(f"{loss}-small-eps0.01", loss, boxes(14, scale=0.05), eps=0.01)

    add("contrastive-default", "contrastive", distances(25))
    add("contrastive-weighted", "contrastive", distances(19), weighted=True)
    add("contrastive-similarlabel1", "contrastive", distances(22, similar_label=1), similar_label=1)
    add("contrastive-margin2", "contrastive", distances(22, high=3.0), margin=2.0)
    add("contrastive-embeddings", "contrastive", embedding_pairs(20, 8))
    add("contrastive-embeddings-p1", "contrastive", embedding_pairs(20, 8), p=1)
    add(
        "contrastive-embeddings-weighted",
        "contrastive",
        embedding_pairs(16, 8),
        weighted=True,
    )
    add(
        "contrastive-embeddings-p1-margin2-similarlabel1",
        "contrastive",
        embedding_pairs(18, 8, similar_label=1),
        p=1,
        margin=2.0,
        similar_label=1,
    )

    add("cosine-default", "cosine", vector_pairs(20, 8))
    add("cosine-weighted", "cosine", vector_pairs(17, 8), weighted=True)
    add("cosine-zerorow", "cosine", vector_pairs(12, 5, zero_row=True))

    add("cosine_embedding-default", "cosine_embedding", labelled_pairs(24, 8))
    add("cosine_embedding-weighted", "cosine_embedding", labelled_pairs(18, 8), weighted=True)
    add("cosine_embedding-margin0.3", "cosine_embedding", labelled_pairs(24, 8), margin=0.3)
    add(
        "cosine_embedding-margin0.3-weighted",
        "cosine_embedding",
        labelled_pairs(17, 8),
        weighted=True,
        margin=0.3,
    )

    add("triplet-default", "triplet", triplets(20, 8))
    add("triplet-weighted", "triplet", triplets(17, 8), weighted=True)
    add("triplet-p1", "triplet", triplets(20, 8), p=1)
    add("triplet-swap", "triplet", triplets(20, 8), swap=True)
    add("triplet-margin0.2", "triplet", triplets(20, 8), margin=0.2)
    add(
        "triplet-p1-swap-margin0.2-weighted",
        "triplet",
        triplets(15, 6),
        weighted=True,
        p=1,
        swap=True,
        margin=0.2,
    )

    add("margin_ranking-default", "margin_ranking", rankings(25))
    add("margin_ranking-weighted", "margin_ranking", rankings(19), weighted=True)
    add("margin_ranking-margin0.5", "margin_ranking", rankings(24), margin=0.5)

    add("hinge_embedding-default", "hinge_embedding", hinge_distances(25))
    add("hinge_embedding-weighted", "hinge_embedding", hinge_distances(19), weighted=True)
    add("hinge_embedding-margin2", "hinge_embedding", hinge_distances(22, high=3.0), margin=2.0)

    add("center-default", "center", features(24, 4, 3))
    add("center-weighted", "center", features(20, 4, 3), weighted=True)
    add("center-k6", "center", features(30, 2, 6))

    add("normface-default", "normface", cosines(25, 5))
    add("normface-weighted", "normface", cosines(19, 7), weighted=True)
    add("normface-s16", "normface", cosines(22, 10), s=16.0)

    add("cosface-default", "cosface", cosines(25, 5))
    add("cosface-weighted", "cosface", cosines(19, 7), weighted=True)
    add("cosface-s64-m0.2", "cosface", cosines(22, 10), s=64.0, m=0.2)

    fallback = (-0.95, -0.99, -0.9)  # below cos(pi - 0.5) = -0.8776
    add("arcface-default", "arcface", cosines(25, 5, target_cos=fallback))
    add("arcface-weighted", "arcface", cosines(19, 7, target_cos=fallback), weighted=True)
    add(
        "arcface-s30-m0.3",
        "arcface",
        cosines(22, 10, target_cos=(-0.99, -0.97, -0.93)),  # cos(pi - 0.3) = -0.9553
        s=30.0,
        m=0.3,
    )
    add(
        "arcface-fallback",
        "arcface",
        cosines(12, 6, target_cos=(-1.0, -0.99, -0.95, -0.9, -0.85, -0.5, 0.0)),
    )

    add("sphereface-default", "sphereface", cosines(25, 5, spread=4))
    add("sphereface-weighted", "sphereface", cosines(19, 7, spread=4), weighted=True)
    add("sphereface-m2", "sphereface", cosines(22, 6, spread=2), m=2)
    add("sphereface-s16-m3", "sphereface", cosines(22, 10, spread=3), s=16.0, m=3)
    return s


# ---------------------------------------------------------------------------- reference helpers


def weights_for(rng: np.random.Generator, n: int) -> np.ndarray:
    """Positive sample weights in (0.2, 3]."""
    return 0.2 + 2.8 * (1.0 - rng.random(n))


def tensor(a: Any) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64)


def index_tensor(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.int64)


def weighted_mean(rows: np.ndarray, weight: np.ndarray) -> float:
    return float(np.sum(weight * rows) / np.sum(weight))


def call_text(name: str, kwargs: dict[str, Any], reduction: str) -> str:
    shown = "".join(f"{key}={value!r}, " for key, value in kwargs.items())
    return f"torch.nn.{name}({shown}reduction={reduction!r})"


def torch_reference(
    name: str, kwargs: dict[str, Any], args: tuple[torch.Tensor, ...], weight: Weight
) -> tuple[float, str]:
    """torch's own mean over rows or, weighted, its per-row losses reduced in float64."""
    if weight is None:
        value = getattr(torch.nn, name)(**kwargs, reduction="mean")(*args).item()
        return value, call_text(name, kwargs, "mean")
    rows = getattr(torch.nn, name)(**kwargs, reduction="none")(*args).numpy()
    return weighted_mean(rows, weight), call_text(name, kwargs, "none") + WEIGHTED


def rows_reference(rows: torch.Tensor, weight: Weight, source: str) -> tuple[float, str]:
    """Mean of one loss per row computed elsewhere, or sum(w * l) / sum(w)."""
    if weight is None:
        return rows.mean().item(), f"{source}; mean over rows"
    return weighted_mean(rows.numpy(), weight), source + WEIGHTED


# ---------------------------------------------------------------------------- overlap losses

OVERLAP_TEXT = {
    "dice": "hand formula (soft Dice) in torch: 1 - (2 TP + {smooth!r}) / (SP + ST + {smooth!r})",
    "iou": (
        "hand formula (soft Jaccard) in torch: 1 - (TP + {smooth!r}) / (SP + ST - TP + {smooth!r})"
    ),
    "tversky": (
        "hand formula (Salehi et al. 2017, Tversky) in torch: 1 - (TP + {smooth!r}) /"
        " (TP + {alpha!r} FP + {beta!r} FN + {smooth!r}), FP = SP - TP, FN = ST - TP"
    ),
    "focal_tversky": (
        "hand formula (Abraham & Khan 2019, focal Tversky) in torch: (1 - (TP + {smooth!r}) /"
        " (TP + {alpha!r} FP + {beta!r} FN + {smooth!r})) ** {gamma!r}, FP = SP - TP,"
        " FN = ST - TP"
    ),
}


def overlap_value(
    loss: str, params: dict[str, Any], tp: torch.Tensor, sp: torch.Tensor, st: torch.Tensor
) -> torch.Tensor:
    smooth = params["smooth"]
    if loss == "dice":
        return 1.0 - (2.0 * tp + smooth) / (sp + st + smooth)
    if loss == "iou":
        return 1.0 - (tp + smooth) / (sp + st - tp + smooth)
    fp, fn = sp - tp, st - tp
    tversky = 1.0 - (tp + smooth) / (tp + params["alpha"] * fp + params["beta"] * fn + smooth)
    return tversky if loss == "tversky" else tversky ** params["gamma"]


def overlap_reference(loss: str) -> Reference:
    defaults: dict[str, Any] = {"smooth": 1e-6}
    if loss in ("tversky", "focal_tversky"):
        defaults |= {"alpha": 0.5, "beta": 0.5}
    if loss == "focal_tversky":
        defaults["gamma"] = 0.75

    def reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
        resolved = defaults | {key: v for key, v in params.items() if key != "aggregate"}
        pred, target = tensor(inputs["pred"]), tensor(inputs["target"])
        rows = len(inputs["pred"])
        row_weight = torch.ones(rows, dtype=torch.float64) if weight is None else tensor(weight)
        if "sample" in inputs:
            sample = index_tensor(inputs["sample"])
            layout = "sums over the rows of each sample id"
        else:
            e = pred.shape[1]
            sample = torch.arange(rows).repeat_interleave(e)
            pred, target = pred.reshape(-1), target.reshape(-1)
            row_weight = row_weight.repeat_interleave(e)
            layout = "sums over each row's pixels (one sample per row)"
        formula = OVERLAP_TEXT[loss].format(**resolved)
        if params.get("aggregate", "sample") == "global":
            tp = torch.sum(row_weight * pred * target)
            sp = torch.sum(row_weight * pred)
            st = torch.sum(row_weight * target)
            value = overlap_value(loss, resolved, tp, sp, st).item()
            pooled = "TP = sum p t, SP = sum p, ST = sum t pooled over all elements of all samples"
            if weight is not None:
                pooled = (
                    "TP = sum w p t, SP = sum w p, ST = sum w t pooled over all elements of all"
                    " samples, w = the element's row weight"
                )
            return value, f"{formula}; {pooled}; one loss"
        count = int(sample.max()) + 1

        def per_sample(values: torch.Tensor) -> torch.Tensor:
            return torch.zeros(count, dtype=torch.float64).index_add_(0, sample, values)

        tp, sp, st = per_sample(pred * target), per_sample(pred), per_sample(target)
        losses = overlap_value(loss, resolved, tp, sp, st)
        source = f"{formula}; TP = sum p t, SP = sum p, ST = sum t, {layout}; loss per sample"
        if weight is None:
            return losses.mean().item(), source + ", then mean over samples"
        elements = per_sample(torch.ones_like(pred))
        sample_weight = per_sample(row_weight) / elements
        return weighted_mean(losses.numpy(), sample_weight.numpy()), source + SAMPLE_WEIGHTED

    return reference


# ---------------------------------------------------------------------------- box losses

BOX_TEXT = {
    "box_iou": (
        "hand formula in torch: 1 - iou, iou = inter / (union + {eps!r}) (the IoU term of the"
        " torchvision.ops.generalized_box_iou_loss formula)"
    ),
    "giou": (
        "torchvision.ops.generalized_box_iou_loss formula in torch: 1 - (iou - (area_c - union)"
        " / (area_c + {eps!r})), iou = inter / (union + {eps!r}), area_c of the enclosing box"
    ),
    "diou": (
        "torchvision.ops.distance_box_iou_loss formula in torch: 1 - iou + cent2 / diag2,"
        " iou = inter / (union + {eps!r}), diag2 = enclosing box diagonal^2 + {eps!r},"
        " cent2 = squared distance of the centres"
    ),
    "ciou": (
        "torchvision.ops.complete_box_iou_loss formula in torch: diou loss + alpha v,"
        " v = 4 / pi^2 (atan(w_t / h_t) - atan(w_p / h_p))^2, alpha = v / (1 - iou + v + {eps!r}),"
        " diou loss = 1 - iou + cent2 / diag2, iou = inter / (union + {eps!r}),"
        " diag2 = enclosing box diagonal^2 + {eps!r}"
    ),
}
BOX_CONVERSION = {
    "xyxy": "",
    "xywh": "; boxes converted from xywh (x2 = x + w, y2 = y + h)",
    "cxcywh": "; boxes converted from cxcywh (x1 = cx - w / 2, x2 = cx + w / 2, y likewise)",
}


def to_xyxy(boxes: torch.Tensor, fmt: str) -> torch.Tensor:
    a, b, c, d = boxes.unbind(dim=1)
    if fmt == "xywh":
        return torch.stack([a, b, a + c, b + d], dim=1)
    if fmt == "cxcywh":
        return torch.stack([a - 0.5 * c, b - 0.5 * d, a + 0.5 * c, b + 0.5 * d], dim=1)
    return boxes


def box_losses(loss: str, pred: torch.Tensor, target: torch.Tensor, eps: float) -> torch.Tensor:
    x1, y1, x2, y2 = pred.unbind(dim=1)
    x1g, y1g, x2g, y2g = target.unbind(dim=1)
    inter_w = torch.clamp(torch.minimum(x2, x2g) - torch.maximum(x1, x1g), min=0.0)
    inter_h = torch.clamp(torch.minimum(y2, y2g) - torch.maximum(y1, y1g), min=0.0)
    inter = inter_w * inter_h
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    iou = inter / (union + eps)
    if loss == "box_iou":
        return 1.0 - iou
    xc1, yc1 = torch.minimum(x1, x1g), torch.minimum(y1, y1g)
    xc2, yc2 = torch.maximum(x2, x2g), torch.maximum(y2, y2g)
    if loss == "giou":
        area_c = (xc2 - xc1) * (yc2 - yc1)
        return 1.0 - (iou - (area_c - union) / (area_c + eps))
    diag2 = (xc2 - xc1) ** 2 + (yc2 - yc1) ** 2 + eps
    cent2 = ((x1 + x2) / 2.0 - (x1g + x2g) / 2.0) ** 2 + ((y1 + y2) / 2.0 - (y1g + y2g) / 2.0) ** 2
    diou = 1.0 - iou + cent2 / diag2
    if loss == "diou":
        return diou
    v = (4.0 / math.pi**2) * (
        torch.atan((x2g - x1g) / (y2g - y1g)) - torch.atan((x2 - x1) / (y2 - y1))
    ) ** 2
    alpha = v / (1.0 - iou + v + eps)
    return diou + alpha * v


def box_reference(loss: str) -> Reference:
    def reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
        fmt = params.get("format", "xyxy")
        eps = params.get("eps", 1e-7)
        pred = to_xyxy(tensor(inputs["pred"]), fmt)
        target = to_xyxy(tensor(inputs["target"]), fmt)
        rows = box_losses(loss, pred, target, eps)
        return rows_reference(rows, weight, BOX_TEXT[loss].format(eps=eps) + BOX_CONVERSION[fmt])

    return reference


# ---------------------------------------------------------------------------- embedding losses


def contrastive_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    margin = params.get("margin", 1.0)
    similar_label = params.get("similar_label", 0)
    p = params.get("p", 2)
    if "x1" in inputs:
        d = torch.linalg.vector_norm(tensor(inputs["x1"]) - tensor(inputs["x2"]), ord=p, dim=1)
        d_text = f"D = torch.linalg.vector_norm(x1 - x2, ord={p!r}, dim=1)"
    else:
        d = tensor(inputs["pred"])
        d_text = "D = pred"
    similar = index_tensor(inputs["target"]) == similar_label
    rows = torch.where(similar, 0.5 * d**2, 0.5 * torch.clamp(margin - d, min=0.0) ** 2)
    formula = (
        f"hand formula (Hadsell et al. 2006) in torch: 0.5 D^2 where y == {similar_label!r},"
        f" else 0.5 max(0, {margin!r} - D)^2; {d_text}"
    )
    return rows_reference(rows, weight, formula)


def cosine_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    eps = params.get("eps", 1e-8)
    cos = F.cosine_similarity(tensor(inputs["pred"]), tensor(inputs["target"]), dim=1, eps=eps)
    formula = f"1 - torch.nn.functional.cosine_similarity(pred, target, dim=1, eps={eps!r})"
    return rows_reference(1.0 - cos, weight, formula)


def cosine_embedding_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    args = (tensor(inputs["x1"]), tensor(inputs["x2"]), tensor(inputs["target"]))
    return torch_reference("CosineEmbeddingLoss", dict(params), args, weight)


def triplet_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    args = tuple(tensor(inputs[role]) for role in ("anchor", "positive", "negative"))
    return torch_reference("TripletMarginLoss", dict(params), args, weight)


def margin_ranking_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    args = (tensor(inputs["x1"]), tensor(inputs["x2"]), tensor(inputs["target"]))
    return torch_reference("MarginRankingLoss", dict(params), args, weight)


def hinge_embedding_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    args = (tensor(inputs["pred"]), tensor(inputs["target"]))
    return torch_reference("HingeEmbeddingLoss", dict(params), args, weight)


def center_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    x = tensor(inputs["pred"])
    y = index_tensor(inputs["target"])
    w = torch.ones(len(y), dtype=torch.float64) if weight is None else tensor(weight)
    k = int(y.max()) + 1
    sums = torch.zeros(k, x.shape[1], dtype=torch.float64).index_add_(0, y, w[:, None] * x)
    totals = torch.zeros(k, dtype=torch.float64).index_add_(0, y, w)
    centers = sums / totals[:, None]
    rows = 0.5 * ((x - centers[y]) ** 2).sum(dim=1)
    value = (torch.sum(w * rows) / torch.sum(w)).item()
    mean = "the weighted mean (sample weights w)" if weight is not None else "the mean"
    reduction = "sum(w l) / sum(w) over rows" if weight is not None else "mean over rows"
    return value, (
        f"hand formula (Wen et al. 2016) in torch: c_k = {mean} of the features of class k,"
        f" l = 0.5 ||x - c_y||^2; {reduction}"
    )


# ---------------------------------------------------------------------------- face margin losses


def face_reference(
    logits: torch.Tensor, inputs: Inputs, weight: Weight, formula: str
) -> tuple[float, str]:
    rows = F.cross_entropy(logits, index_tensor(inputs["target"]), reduction="none")
    source = f"{formula}; then torch.nn.functional.cross_entropy(logits, y, reduction='none')"
    return rows_reference(rows, weight, source)


def with_target(cos: torch.Tensor, y: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """cos with each row's target entry replaced by value."""
    return cos.scatter(1, y[:, None], value[:, None])


def normface_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    s = params.get("s", 30.0)
    formula = f"hand formula (Wang et al. 2017, NormFace) in torch: logits {s!r} cos_j"
    return face_reference(s * tensor(inputs["pred"]), inputs, weight, formula)


def cosface_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    s, m = params.get("s", 30.0), params.get("m", 0.35)
    cos, y = tensor(inputs["pred"]), index_tensor(inputs["target"])
    logits = s * (cos - m * F.one_hot(y, cos.shape[1]).to(torch.float64))
    formula = (
        f"hand formula (Wang et al. 2018, CosFace) in torch: logits {s!r} (cos_j - {m!r} [j = y])"
    )
    return face_reference(logits, inputs, weight, formula)


def arcface_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    s, m = params.get("s", 64.0), params.get("m", 0.5)
    cos, y = tensor(inputs["pred"]), index_tensor(inputs["target"])
    cos_y = cos.gather(1, y[:, None])[:, 0]
    threshold = math.cos(math.pi - m)
    if torch.min(torch.abs(cos_y - threshold)).item() < BRANCH_GAP:
        raise ValueError("a target cosine lies at the arcface threshold")
    phi = torch.where(
        cos_y > threshold,
        torch.cos(torch.acos(cos_y) + m),
        cos_y - m * math.sin(math.pi - m),
    )
    formula = (
        f"hand formula (Deng et al. 2019, ArcFace / insightface) in torch: logits {s!r} cos_j for"
        f" j != y and {s!r} phi for j = y, phi = cos(acos(cos_y) + {m!r}) where"
        f" cos_y > cos(pi - {m!r}), else cos_y - {m!r} sin(pi - {m!r})"
    )
    return face_reference(s * with_target(cos, y, phi), inputs, weight, formula)


def sphereface_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    s, m = params.get("s", 30.0), params.get("m", 4)
    cos, y = tensor(inputs["pred"]), index_tensor(inputs["target"])
    theta = torch.acos(torch.clamp(cos.gather(1, y[:, None])[:, 0], -1.0, 1.0))
    k = torch.clamp(torch.floor(m * theta / math.pi), 0, m - 1)
    psi = (-1.0) ** k * torch.cos(m * theta) - 2.0 * k
    formula = (
        f"hand formula (Liu et al. 2017, SphereFace) in torch: logits {s!r} cos_j for j != y and"
        f" {s!r} psi(theta_y) for j = y, theta_y = acos(cos_y), psi = (-1)^k cos({m!r} theta)"
        f" - 2k for theta in [k pi / {m!r}, (k + 1) pi / {m!r}], k = 0..{m - 1!r}"
    )
    return face_reference(s * with_target(cos, y, psi), inputs, weight, formula)


REFERENCES: dict[str, Reference] = {
    "dice": overlap_reference("dice"),
    "iou": overlap_reference("iou"),
    "tversky": overlap_reference("tversky"),
    "focal_tversky": overlap_reference("focal_tversky"),
    "box_iou": box_reference("box_iou"),
    "giou": box_reference("giou"),
    "diou": box_reference("diou"),
    "ciou": box_reference("ciou"),
    "contrastive": contrastive_reference,
    "cosine": cosine_reference,
    "cosine_embedding": cosine_embedding_reference,
    "triplet": triplet_reference,
    "margin_ranking": margin_ranking_reference,
    "hinge_embedding": hinge_embedding_reference,
    "center": center_reference,
    "normface": normface_reference,
    "cosface": cosface_reference,
    "arcface": arcface_reference,
    "sphereface": sphereface_reference,
}


def as_array(value: Any) -> np.ndarray:
    """Integer arrays (labels, class indices, hard masks, sample ids) stay integers."""
    array = np.asarray(value)
    return array.astype(np.int64 if array.dtype.kind in "iub" else np.float64)


def make_case(spec: Spec) -> dict[str, Any]:
    rng = case_rng(spec.case_id)
    built = spec.build(rng)
    given = built.pop("weight", None)
    inputs = {key: as_array(value) for key, value in built.items()}
    n = len(next(iter(inputs.values())))
    weight = given if given is not None else weights_for(rng, n) if spec.weighted else None
    expected, source = REFERENCES[spec.loss](spec.params, inputs, weight)
    return case_record(spec, inputs, weight, expected, source)


def check_pairs(cases: list[dict[str, Any]]) -> None:
    """Each ``-pixels`` case with an ``-images`` twin must have the twin's expected value."""
    expected = {case["id"]: case["expected"] for case in cases}
    for case_id, value in expected.items():
        twin = case_id.removesuffix("-pixels") + "-images"
        if not case_id.endswith("-pixels") or twin not in expected:
            continue
        if not math.isclose(value, expected[twin], rel_tol=PAIR_TOLERANCE):
            raise ValueError(f"{case_id}: {value} differs from {twin}: {expected[twin]}")


GENERATOR = fixture.Generator(
    "tests/reference/generate_geometry.py", OUTPUT, specs(), make_case, check_pairs
)

if __name__ == "__main__":
    fixture.main(GENERATOR)
