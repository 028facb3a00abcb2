"""Generate reference values for the losses taken from the libraries' catalogues and the seeds.

The losses here came to losscli from scikit-learn (median absolute error, explained variance, the
D^2 scores, multi-label Hamming and ranking losses, per-output RMSE), torchmetrics (NRMSE, WMAPE,
Minkowski distance, adjusted r2, calibration error), PyTorch, Keras and optax, and from the face
recognition articles (DeepID2, L-Softmax, COCO, L2-Softmax, GHM-R, FaceNet's triplet). Every case's
inputs come from a numpy Generator seeded from the case id, and its expected value is computed by
that library or, for a loss no library has, by the published formula in float64 (said in the
case's ``source``). Nothing is rounded.

The libraries are needed only to regenerate ``libraries.json``, each only for the cases that use
it (Keras runs on its torch backend: KERAS_BACKEND=torch; optax with jax's 64-bit mode on). From
the repository root (README.md beside this file says more):

    python3 tests/reference/generate_libraries.py              # every case
    python3 tests/reference/generate_libraries.py --only ID    # one case, the others untouched
    python3 tests/reference/generate_libraries.py --add ID     # a case new in specs()
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fixture
import numpy as np
from fixture import SETUP, Builder, Inputs, Library, Spec, case_record, case_rng
from generate_classification import as_array, binary, classes, log_softmax, sigmoid
from generate_regression import independent, large_pair, pair, positive, r2_columns, tweedie_data

OUTPUT = Path(__file__).with_name("libraries.json")
torch = Library("torch")
metrics = Library("sklearn.metrics")
tm = Library("torchmetrics.functional")
keras = Library("keras")
optax = Library("optax")
jnp = Library("jax.numpy")

os.environ.setdefault("KERAS_BACKEND", "torch")
SETUP["jax"] = lambda jax: jax.config.update("jax_enable_x64", True)
SETUP["optax"] = lambda optax: sys.modules["jax"].config.update("jax_enable_x64", True)
SETUP["keras"] = lambda keras: keras.config.set_floatx("float64")

Weight = np.ndarray | None
Reference = Callable[[dict[str, Any], Inputs, Weight], tuple[float, str]]
KERAS_TOLERANCE = 1e-6
WEIGHTED = "; then sum(w * l) / sum(w) over rows in float64"


# ---------------------------------------------------------------------------- input builders


def ties(n: int, k: int = 0) -> Builder:
    """Integer targets and predictions: absolute errors with many ties (and zeros)."""

    def build(rng: np.random.Generator) -> Inputs:
        shape = (n, k) if k else (n,)
        target = rng.integers(-5, 6, shape).astype(np.float64)
        return {"pred": target + rng.integers(-3, 4, shape), "target": target}

    return build


def even(n: int) -> Builder:
    """An even number of rows: the median averages the two middle errors."""
    return pair(n if n % 2 == 0 else n + 1, scale=2.0)


def constant_column(n: int) -> Builder:
    """Two columns, the second a constant target predicted with some error."""

    def build(rng: np.random.Generator) -> Inputs:
        target = np.column_stack([rng.normal(0.0, 1.0, n), np.full(n, 2.0)])
        return {"pred": target + rng.normal(0.0, 0.5, (n, 2)), "target": target}

    return build


def multilabel(n: int, k: int, scores: bool = False, zero_rows: bool = False) -> Builder:
    """K labels in {0, 1} per row (every label in some row), and K scores or 0/1 predictions."""

    def build(rng: np.random.Generator) -> Inputs:
        z = rng.normal(0.0, 1.5, (n, k))
        target = (rng.random((n, k)) < sigmoid(z)).astype(np.int64)
        target[0], target[1] = 1, 0
        if zero_rows:
            target[2] = 0
            target[3] = 1
        score = z + rng.normal(0.0, 1.0, (n, k))
        if scores:
            score[4, :2] = score[4, 2]  # a tie between a relevant and an irrelevant label
            return {"pred": score, "target": target}
        return {"pred": (score > 0).astype(np.int64), "target": target}

    return build


def calibration(n: int, edges: bool = False) -> Builder:
    """Probabilities and 0/1 outcomes drawn from a miscalibrated model; with ``edges`` some
    probabilities exactly 0, 1 and on bin edges."""

    def build(rng: np.random.Generator) -> Inputs:
        p = rng.random(n)
        target = (rng.random(n) < p**1.5).astype(np.int64)
        if edges:
            p[:6] = [0.0, 1.0, 0.5, 0.25, 1.0, 0.0]
        return {"pred": p, "target": target}

    return build


def hard_binary(n: int) -> Builder:
    """One column of 0/1 predictions and labels."""

    def build(rng: np.random.Generator) -> Inputs:
        target = rng.integers(0, 2, n)
        flip = rng.random(n) < 0.3
        return {"pred": np.where(flip, 1 - target, target), "target": target}

    return build


def label_indices(n: int, k: int) -> Builder:
    """PyTorch's multi-label targets: distinct class indices, then -1 (and anything after it)."""

    def build(rng: np.random.Generator) -> Inputs:
        target = np.full((n, k), -1, dtype=np.int64)
        for row in range(n):
            size = rng.integers(0, k + 1)
            target[row, :size] = rng.permutation(k)[:size]
            if size + 1 < k:
                target[row, size + 1 :] = rng.integers(0, k, k - size - 1)  # ignored after -1
        return {"pred": rng.normal(0.0, 1.0, (n, k)), "target": target}

    return build


def negative_scores(n: int, k: int) -> Builder:
    """Scores mostly below 0, so Keras' max over (1 - y) s is often the true class's 0."""

    def build(rng: np.random.Generator) -> Inputs:
        inputs = classes(n, k)(rng)
        inputs["pred"] = inputs["pred"] - 3.0
        return inputs

    return build


def graded(n: int, k: int) -> Builder:
    """Item scores and relevance grades 0..3 per list."""

    def build(rng: np.random.Generator) -> Inputs:
        return {"pred": rng.normal(0.0, 1.5, (n, k)), "target": rng.integers(0, 4, (n, k))}

    return build


def saturated(n: int) -> Builder:
    """Binary probabilities with some exactly 0 and 1, right and wrong."""

    def build(rng: np.random.Generator) -> Inputs:
        inputs = binary(n)(rng)
        inputs["pred"][:4] = [0.0, 1.0, 1.0, 0.0]
        inputs["target"][:4] = [0, 1, 0, 1]
        return inputs

    return build


NORMS4 = [0.5, 1.25, 2.0, 0.75]


def triplets(n: int, e: int) -> Builder:
    """Anchor, positive (near it) and negative embeddings of width e."""

    def build(rng: np.random.Generator) -> Inputs:
        anchor = rng.normal(0.0, 1.0, (n, e))
        return {
            "anchor": anchor,
            "positive": anchor + rng.normal(0.0, 0.7, (n, e)),
            "negative": rng.normal(0.0, 1.0, (n, e)),
        }

    return build


def cosines(n: int, k: int, norm: bool = False) -> Builder:
    """K cosines in [-1, 1] (the true class's higher), a class index and maybe feature norms."""

    def build(rng: np.random.Generator) -> Inputs:
        y = rng.integers(0, k, n)
        cos = np.clip(rng.normal(0.0, 0.4, (n, k)), -1.0, 1.0)
        cos[np.arange(n), y] = np.clip(cos[np.arange(n), y] + 0.5, -1.0, 1.0)
        cos[0, :2] = [1.0, -1.0]
        inputs: Inputs = {"pred": cos, "target": y}
        if norm:
            inputs["norm"] = rng.uniform(0.5, 6.0, n)
        return inputs

    return build


def embedding_batches(
    sizes: tuple[int, ...], e: int, k: int, ids: tuple[int, ...] | None = None, unit: bool = True
) -> Builder:
    """Batches of embeddings near their class's center (L2-normalised with ``unit``), integer
    labels from k classes, and each row's batch id (``ids``, in the order the batches come)."""

    def build(rng: np.random.Generator) -> Inputs:
        n = sum(sizes)
        labels = rng.integers(0, k, n)
        centers = rng.normal(0.0, 1.0, (k, e))
        x = centers[labels] + rng.normal(0.0, 0.8, (n, e))
        if unit:
            x = x / np.linalg.norm(x, axis=1, keepdims=True)
        batch = np.repeat(ids if ids is not None else range(len(sizes)), sizes)
        return {"pred": x, "target": labels.astype(float), "batch": batch.astype(float)}

    return build


def segments(images: int, pixels: int, k: int, keyed: bool = True, edge: bool = False) -> Builder:
    """Images of ``pixels`` rows each (role sample; without ``keyed`` each row is an image): K
    class logits per pixel (one logit for k=1) and one-hot targets (0/1 for k=1); ``edge``
    leaves the last class out of every target."""

    def build(rng: np.random.Generator) -> Inputs:
        n = images * pixels
        classes_present = k - 1 if edge and k > 1 else k
        y = rng.integers(0, max(classes_present, 2 if k == 1 else 1), n)
        z = rng.normal(0.0, 1.5, (n, max(k, 1)))
        if k == 1:
            z, target = z[:, 0] + 1.5 * (2 * y - 1), y.astype(float)
        else:
            z[np.arange(n), y] += 1.5
            target = np.eye(k)[y]
        inputs: Inputs = {"pred": z, "target": target}
        if keyed:
            inputs["sample"] = np.repeat(rng.permutation(images) + 10, pixels).astype(float)
        return inputs

    return build


def face_pairs(n: int, k: int, f: int) -> Builder:
    """Identity logits and class of one face; its feature, a partner's feature and class."""

    def build(rng: np.random.Generator) -> Inputs:
        y = rng.integers(0, k, n)
        partner = np.where(rng.random(n) < 0.5, y, rng.integers(0, k, n))
        x1 = rng.normal(0.0, 1.0, (n, f))
        near = x1 + rng.normal(0.0, 0.3, (n, f))
        x2 = np.where((partner == y)[:, None], near, rng.normal(0.0, 0.6, (n, f)))
        return {
            "pred": rng.normal(0.0, 2.0, (n, k)),
            "target": y,
            "x1": x1,
            "x2": x2,
            "partner": partner,
        }

    return build


def probability_classes(n: int, k: int) -> Builder:
    """Softmax rows and a class index drawn from them; every class occurs."""

    def build(rng: np.random.Generator) -> Inputs:
        inputs = classes(n, k, pred="probs")(rng)
        inputs["target"][:k] = np.arange(k)
        return inputs

    return build


# ---------------------------------------------------------------------------- the cases


def specs() -> list[Spec]:
    s: list[Spec] = []

    def add(case_id: str, loss: str, build: Builder, weighted: bool = False, **params: Any) -> None:
        s.append(Spec(case_id, loss, build, params, weighted))

    medae = "median_absolute_error"
    add(f"{medae}-default-scalar", medae, pair(25))
    add(f"{medae}-even-scalar", medae, even(24))
    add(f"{medae}-ties-scalar", medae, ties(30))
    add(f"{medae}-ties-even-scalar", medae, ties(20))
    add(f"{medae}-weighted-scalar", medae, pair(21), weighted=True)
    add(f"{medae}-ties-weighted-scalar", medae, ties(22), weighted=True)
    add(f"{medae}-default-vector", medae, pair(13, 3))
    add(f"{medae}-weighted-vector", medae, ties(12, 3), weighted=True)
    add(f"{medae}-large-scalar", medae, large_pair(27, spread=1e5, noise=2.0))

    add("d2_absolute_error-default-scalar", "d2_absolute_error", pair(26, scale=2.0))
    add("d2_absolute_error-ties-scalar", "d2_absolute_error", ties(24))
    add("d2_absolute_error-weighted-scalar", "d2_absolute_error", pair(20), weighted=True)
    add("d2_absolute_error-default-vector", "d2_absolute_error", ties(12, 3))
    add("d2_absolute_error-negative-scalar", "d2_absolute_error", independent(19))

    add("d2_pinball-default-scalar", "d2_pinball", pair(25, scale=2.0))
    add("d2_pinball-alpha0.1-scalar", "d2_pinball", ties(26), alpha=0.1)
    add("d2_pinball-alpha0.9-scalar", "d2_pinball", pair(25, scale=2.0), alpha=0.9)
    add("d2_pinball-weighted-scalar", "d2_pinball", ties(21), weighted=True, alpha=0.25)
    add("d2_pinball-weighted-vector", "d2_pinball", pair(11, 3), weighted=True, alpha=0.75)

    add("d2_tweedie-default-scalar", "d2_tweedie", tweedie_data(24, 0))
    for power, name in [(1, "1"), (1.5, "1.5"), (2, "2"), (3, "3"), (-0.5, "-0.5")]:
        add(f"d2_tweedie-power{name}-scalar", "d2_tweedie", tweedie_data(24, power), power=power)
    add(
        "d2_tweedie-power1-weighted-scalar",
        "d2_tweedie",
        tweedie_data(20, 1),
        weighted=True,
        power=1,
    )
    add("d2_tweedie-large-scalar", "d2_tweedie", large_pair(30, spread=1.0, noise=0.5))

    add("explained_variance-default-scalar", "explained_variance", pair(26, loc=2.0, scale=3.0))
    add(
        "explained_variance-weighted-scalar",
        "explained_variance",
        pair(20, loc=2.0, scale=3.0),
        weighted=True,
    )
    add("explained_variance-default-vector", "explained_variance", r2_columns(14))
    add("explained_variance-weighted-vector", "explained_variance", r2_columns(12), weighted=True)
    add("explained_variance-constant-vector", "explained_variance", constant_column(15))
    add("explained_variance-large-scalar", "explained_variance", large_pair(40, noise=0.5))
    add("explained_variance-torchmetrics-vector", "explained_variance", r2_columns(16))

    add("rmse-average-vector", "rmse", r2_columns(15), multioutput="uniform_average")
    add(
        "rmse-average-weighted-vector",
        "rmse",
        r2_columns(13),
        weighted=True,
        multioutput="uniform_average",
    )
    add("r2-adjusted2-scalar", "r2", pair(25, loc=2.0, scale=3.0), adjusted=2)
    add("r2-adjusted3-vector", "r2", r2_columns(20), adjusted=3)

    add("nrmse-default-scalar", "nrmse", pair(24, loc=5.0, scale=2.0))
    add("nrmse-std-scalar", "nrmse", pair(24, loc=5.0, scale=2.0), normalization="std")
    add("nrmse-l2-scalar", "nrmse", pair(24), normalization="l2")
    add("nrmse-default-vector", "nrmse", positive(12, 3))
    add("nrmse-std-vector", "nrmse", r2_columns(14), normalization="std")
    add("nrmse-large-scalar", "nrmse", large_pair(30, spread=1.0), normalization="std")

    add("wmape-default-scalar", "wmape", pair(25, loc=3.0, scale=2.0))
    add("wmape-default-vector", "wmape", positive(11, 3))
    add("wmape-zeros-scalar", "wmape", ties(23))

    add("rse-default-scalar", "rse", pair(24, loc=2.0, scale=3.0))
    add("rse-root-vector", "rse", r2_columns(14), squared=False)
    add("minkowski-default-scalar", "minkowski", pair(22))
    add("minkowski-p1-scalar", "minkowski", pair(22), p=1.0)
    add("minkowski-p3.5-vector", "minkowski", pair(10, 3), p=3.5)

    add("hamming-default-vector", "hamming", multilabel(20, 5))
    add("hamming-weighted-vector", "hamming", multilabel(18, 4), weighted=True)
    add("hamming-binary-scalar", "hamming", hard_binary(25))
    add("label_ranking-default-vector", "label_ranking", multilabel(20, 5, scores=True))
    add(
        "label_ranking-zerorows-weighted-vector",
        "label_ranking",
        multilabel(18, 4, scores=True, zero_rows=True),
        weighted=True,
    )
    add("multilabel_margin-default-vector", "multilabel_margin", multilabel(16, 5, scores=True))
    add(
        "multilabel_margin-weighted-vector",
        "multilabel_margin",
        multilabel(14, 4, scores=True, zero_rows=True),
        weighted=True,
    )
    add(
        "multilabel_margin-indices-vector",
        "multilabel_margin",
        label_indices(15, 5),
        labels="indices",
    )
    add("categorical_hinge-default-vector", "categorical_hinge", classes(20, 4))
    add("categorical_hinge-onehot-vector", "categorical_hinge", classes(18, 3, target="onehot"))
    add("categorical_hinge-negative-vector", "categorical_hinge", negative_scores(16, 4))
    add("perceptron-default-scalar", "perceptron", binary(24, pred="logits", labels="pm1"))
    add(
        "perceptron-weighted-scalar",
        "perceptron",
        binary(20, pred="logits", labels="pm1"),
        weighted=True,
    )
    add("sparsemax-default-scalar", "sparsemax", binary(26, pred="logits"))
    add("sparsemax-weighted-scalar", "sparsemax", binary(20, pred="logits"), weighted=True)
    add("multiclass_sparsemax-default-vector", "multiclass_sparsemax", classes(20, 4))
    add("multiclass_sparsemax-wide-vector", "multiclass_sparsemax", classes(15, 7, scale=0.5))
    add("ranking_softmax-default-vector", "ranking_softmax", graded(18, 5))
    add("ranking_softmax-binary-vector", "ranking_softmax", multilabel(16, 6, scores=True))

    add("d2_log_loss-binary-scalar", "d2_log_loss", binary(25))
    add("d2_log_loss-edges-scalar", "d2_log_loss", saturated(22))
    add("d2_log_loss-weighted-scalar", "d2_log_loss", binary(20), weighted=True)
    add("d2_log_loss-default-vector", "d2_log_loss", probability_classes(24, 4))
    add("d2_log_loss-weighted-vector", "d2_log_loss", probability_classes(20, 3), weighted=True)
    add("d2_brier-binary-scalar", "d2_brier", binary(25))
    add("d2_brier-weighted-scalar", "d2_brier", binary(21), weighted=True)
    add("d2_brier-default-vector", "d2_brier", probability_classes(24, 4))
    add("d2_brier-weighted-vector", "d2_brier", probability_classes(19, 3), weighted=True)

    add("calibration_error-default-scalar", "calibration_error", calibration(60))
    add("calibration_error-bins5-scalar", "calibration_error", calibration(40), bins=5)
    add("calibration_error-l2-scalar", "calibration_error", calibration(50), norm="l2")
    add("calibration_error-max-scalar", "calibration_error", calibration(50), bins=10, norm="max")
    add("calibration_error-edges-scalar", "calibration_error", calibration(30, edges=True), bins=4)
    add(
        "calibration_error-logits-scalar",
        "calibration_error",
        binary(40, pred="logits"),
        input="logits",
    )

    add("ghm_r-default-scalar", "ghm_r", pair(40, noise=0.5))
    add("ghm_r-mu0.5-bins5-scalar", "ghm_r", pair(40, noise=2.0), mu=0.5, bins=5)
    add("ghm_r-weighted-vector", "ghm_r", pair(15, 3), weighted=True)
    add("triplet-facenet-vector", "triplet", triplets(20, 6), squared=True, margin=0.2)
    add("triplet-facenet-swap-vector", "triplet", triplets(18, 4), squared=True, swap=True)
    add(
        "triplet-facenet-weighted-vector",
        "triplet",
        triplets(16, 5),
        weighted=True,
        squared=True,
        eps=0.0,
        margin=0.5,
    )
    add("l2_softmax-default-vector", "l2_softmax", cosines(20, 5))
    add("l2_softmax-norms-vector", "l2_softmax", cosines(18, 4), alpha=8.0, weight_norms=NORMS4)
    add("l2_softmax-weighted-vector", "l2_softmax", cosines(16, 3), weighted=True, alpha=4.0)
    add("l_softmax-default-vector", "l_softmax", cosines(20, 5, norm=True))
    add(
        "l_softmax-m4-norms-vector",
        "l_softmax",
        cosines(18, 4, norm=True),
        m=4,
        weight_norms=NORMS4,
    )
    add("l_softmax-m3-weighted-vector", "l_softmax", cosines(16, 3, norm=True), weighted=True, m=3)
    add("coco-default-vector", "coco", cosines(20, 5))
    add("coco-alpha5-weighted-vector", "coco", cosines(16, 4), weighted=True, alpha=5.0)
    add("deepid2-default-vector", "deepid2", face_pairs(20, 5, 4))
    add(
        "deepid2-weighted-vector",
        "deepid2",
        face_pairs(18, 3, 6),
        weighted=True,
        verification=0.5,
        margin=2.0,
    )
    add("circle-one-batch-vector", "circle", embedding_batches((24,), 4, 3))
    add("circle-batches-vector", "circle", embedding_batches((10, 7, 12), 5, 4, ids=(7, 2, 5)))
    add(
        "circle-params-vector",
        "circle",
        embedding_batches((9, 9), 3, 3),
        gamma=32.0,
        margin=0.25,
        remove_diagonal=False,
    )
    add("circle-lonely-vector", "circle", embedding_batches((8, 6), 4, 7))
    add("circle-weighted-vector", "circle", embedding_batches((8, 11, 5), 4, 3), weighted=True)
    add("ntxent-one-batch-vector", "ntxent", embedding_batches((20,), 4, 4, unit=False))
    add(
        "ntxent-batches-vector",
        "ntxent",
        embedding_batches((10, 8, 12), 5, 3, ids=(3, 1, 2), unit=False),
    )
    add("ntxent-temperature-vector", "ntxent", embedding_batches((12, 9), 3, 2), temperature=0.5)
    add(
        "ntxent-weighted-vector",
        "ntxent",
        embedding_batches((9, 12, 7), 4, 2, unit=False),
        weighted=True,
        temperature=0.2,
    )
    add("class_dice-images-vector", "class_dice", segments(4, 6, 3))
    add("class_dice-rows-vector", "class_dice", segments(1, 18, 3, keyed=False))
    add(
        "class_dice-params-vector",
        "class_dice",
        segments(3, 8, 4, edge=True),
        smooth=0.5,
        alpha=0.3,
        beta=0.7,
        class_weights=[1.0, 2.0, 0.5, 1.5],
        ignore_background=True,
    )
    add(
        "class_dice-sum-weighted-vector",
        "class_dice",
        segments(5, 4, 3),
        weighted=True,
        classes="sum",
    )
    add("class_dice-binary-scalar", "class_dice", segments(4, 7, 1))
    add("generalized_dice-images-vector", "generalized_dice", segments(4, 6, 3))
    add("generalized_dice-rows-vector", "generalized_dice", segments(1, 20, 4, keyed=False))
    add(
        "generalized_dice-absent-vector",
        "generalized_dice",
        segments(3, 8, 4, edge=True),
        smooth=0.1,
        ignore_background=True,
    )
    return s


# ---------------------------------------------------------------------------- references


def weights_for(rng: np.random.Generator, n: int) -> np.ndarray:
    """Weights in (0, 3], two of them set to exactly 0."""
    w = 3.0 * (1.0 - rng.random(n))
    w[rng.choice(n, size=2, replace=False)] = 0.0
    return w


def tensor(a: Any) -> Any:
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64)


def kwargs_text(params: dict[str, Any]) -> str:
    return "".join(f", {key}={value!r}" for key, value in params.items())


def sklearn_call(name: str, params: dict[str, Any], weight: Weight, *arrays: Any) -> tuple:
    kwargs = dict(params)
    if weight is not None:
        kwargs["sample_weight"] = weight
    value = float(getattr(metrics, name)(*arrays, **kwargs))
    weighted = ", sample_weight=weight" if weight is not None else ""
    return value, f"sklearn.metrics.{name}(target, pred{weighted}{kwargs_text(params)})"


def sklearn_regression(name: str, drop: tuple[str, ...] = ()) -> Reference:
    def reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
        kept = {key: value for key, value in params.items() if key not in drop}
        return sklearn_call(name, kept, weight, inputs["target"], inputs["pred"])

    return reference


def explained_variance_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    if weight is None and inputs["pred"].shape[0] == 16:  # the torchmetrics case
        value = tm.explained_variance(tensor(inputs["pred"]), tensor(inputs["target"])).item()
        return value, "torchmetrics.functional.explained_variance(pred, target) in float64"
    return sklearn_call("explained_variance_score", {}, weight, inputs["target"], inputs["pred"])


def rmse_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    return sklearn_call("root_mean_squared_error", {}, weight, inputs["target"], inputs["pred"])


def r2_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    pred, target = tensor(inputs["pred"]), tensor(inputs["target"])
    value = tm.r2_score(pred, target, adjusted=params["adjusted"]).item()
    return value, f"torchmetrics.functional.r2_score(pred, target, adjusted={params['adjusted']})"


def nrmse_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    pred, target = inputs["pred"], inputs["target"]
    normalization = params.get("normalization", "mean")
    outputs = 1 if pred.ndim == 1 else pred.shape[1]
    values = tm.normalized_root_mean_squared_error(
        tensor(pred), tensor(target), normalization=normalization, num_outputs=outputs
    )
    source = (
        "torchmetrics.functional.normalized_root_mean_squared_error(pred, target, "
        f"normalization={normalization!r}, num_outputs={outputs})"
    )
    return float(values.mean().item()), source + (
        "; the mean of the per-output values" if outputs > 1 else ""
    )


def wmape_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    value = tm.weighted_mean_absolute_percentage_error(
        tensor(inputs["pred"]), tensor(inputs["target"])
    ).item()
    return value, "torchmetrics.functional.weighted_mean_absolute_percentage_error(pred, target)"


def minkowski_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    p = params.get("p", 2.0)
    value = tm.minkowski_distance(tensor(inputs["pred"]), tensor(inputs["target"]), p=p).item()
    return value, f"torchmetrics.functional.minkowski_distance(pred, target, p={p!r})"


def rse_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    squared = params.get("squared", True)
    value = tm.relative_squared_error(
        tensor(inputs["pred"]), tensor(inputs["target"]), squared=squared
    ).item()
    return value, f"torchmetrics.functional.relative_squared_error(pred, target, squared={squared})"


def sklearn_classification(name: str, probabilities: bool = False) -> Reference:
    def reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
        pred, target = inputs["pred"], inputs["target"]
        kwargs: dict[str, Any] = {}
        if probabilities and pred.ndim == 2:
            kwargs["labels"] = list(range(pred.shape[1]))
        if weight is not None:
            kwargs["sample_weight"] = weight
        value = float(getattr(metrics, name)(target, pred, **kwargs))
        shown = "".join(
            f", {key}=" + ("weight" if key == "sample_weight" else repr(v))
            for key, v in kwargs.items()
        )
        return value, f"sklearn.metrics.{name}(target, pred{shown})"

    return reference


def weighted_rows(rows: np.ndarray, weight: Weight, source: str) -> tuple[float, str]:
    rows = np.asarray(rows, dtype=np.float64)
    if weight is None:
        return float(np.mean(rows)), source + "; mean over rows in float64"
    return float(np.sum(weight * rows) / np.sum(weight)), source + WEIGHTED


def multilabel_margin_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    target = inputs["target"]
    note = ""
    if params.get("labels", "multi_hot") == "multi_hot":
        indices = np.full(target.shape, -1, dtype=np.int64)
        for row, labels in enumerate(target):
            members = np.flatnonzero(labels == 1)
            indices[row, : len(members)] = members
        target, note = indices, " (0/1 rows written as class indices padded by -1)"
    rows = torch.nn.functional.multilabel_margin_loss(
        tensor(inputs["pred"]), torch.tensor(target), reduction="none"
    ).numpy()
    source = f"torch.nn.functional.multilabel_margin_loss(pred, target{note}, reduction='none')"
    return weighted_rows(rows, weight, source)


def categorical_hinge_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    pred, target = inputs["pred"], inputs["target"]
    onehot = target if target.ndim == 2 else np.eye(pred.shape[1])[target]
    rows = keras.losses.categorical_hinge(onehot, pred)
    rows = np.asarray(keras.ops.convert_to_numpy(rows), dtype=np.float64)
    source = "keras.losses.categorical_hinge(onehot, pred) per row, floatx float64"
    return weighted_rows(rows, weight, source)


def optax_rows(name: str, labels: Callable[[np.ndarray], Any] = lambda t: t) -> Reference:
    def reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
        function = getattr(optax.losses, name)
        pred = jnp.asarray(inputs["pred"], dtype=jnp.float64)
        rows = np.asarray(function(pred, labels(inputs["target"])), dtype=np.float64)
        return weighted_rows(rows, weight, f"optax.losses.{name}(pred, target), jax x64")

    return reference


def ranking_softmax_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    value = optax.losses.ranking_softmax_loss(
        jnp.asarray(inputs["pred"], dtype=jnp.float64),
        jnp.asarray(inputs["target"], dtype=jnp.float64),
    )
    return float(value), "optax.losses.ranking_softmax_loss(pred, target) (reduce_fn=mean), x64"


def calibration_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    bins, norm = params.get("bins", 15), params.get("norm", "l1")
    value = tm.classification.binary_calibration_error(
        tensor(inputs["pred"]), torch.tensor(inputs["target"]), n_bins=bins, norm=norm
    ).item()
    return value, (
        f"torchmetrics.functional.classification.binary_calibration_error(pred, target, "
        f"n_bins={bins}, norm={norm!r}) in float64 (a sigmoid first for scores outside [0, 1])"
    )


def ghm_r_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    mu, bins = params.get("mu", 0.02), params.get("bins", 10)
    d = (inputs["pred"] - inputs["target"]).reshape(len(inputs["pred"]), -1)
    loss = np.sqrt(d * d + mu * mu) - mu
    g = np.abs(d / np.sqrt(mu * mu + d * d))
    w = np.ones(len(d)) if weight is None else weight
    w = np.broadcast_to(w[:, None], d.shape)
    edges = np.arange(bins + 1) / bins
    edges[-1] += 1e-6  # mmdetection's last edge lies past 1
    means = []
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (g >= low) & (g < high) & (w > 0)
        if inside.any():
            means.append(np.sum(w[inside] * loss[inside]) / np.sum(w[inside]))
    source = (
        f"mmdetection GHMR(mu={mu}, bins={bins}, momentum=0) formula in float64 numpy: the mean "
        "over non-empty gradient bins of the (weighted) mean ASL1 loss in each bin"
    )
    return float(np.mean(means)), source


def triplet_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    margin, eps, swap = (
        params.get("margin", 1.0),
        params.get("eps", 1e-6),
        params.get("swap", False),
    )
    F = torch.nn.functional

    def squared(a: Any, b: Any) -> Any:
        return F.pairwise_distance(a, b, eps=eps) ** 2

    module = torch.nn.TripletMarginWithDistanceLoss(
        distance_function=squared, margin=margin, swap=swap, reduction="none"
    )
    rows = module(*(tensor(inputs[r]) for r in ("anchor", "positive", "negative"))).numpy()
    source = (
        "torch.nn.TripletMarginWithDistanceLoss(distance_function=pairwise_distance(a, b, "
        f"eps={eps}) ** 2, margin={margin}, swap={swap}, reduction='none')"
    )
    return weighted_rows(rows, weight, source)


def class_norms(params: dict[str, Any], k: int) -> np.ndarray:
    norms = params.get("weight_norms")
    return np.ones(k) if norms is None else np.asarray(norms, dtype=np.float64)


def torch_ce_rows(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    return torch.nn.functional.cross_entropy(
        tensor(logits), torch.tensor(target), reduction="none"
    ).numpy()


def l2_softmax_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    cos = inputs["pred"]
    alpha = params.get("alpha", 16.0)
    rows = torch_ce_rows(alpha * class_norms(params, cos.shape[1]) * cos, inputs["target"])
    source = (
        "Ranjan et al. 2017: torch.nn.functional.cross_entropy(alpha * ||W_j|| * cos, target, "
        f"reduction='none') in float64, alpha={alpha}"
    )
    return weighted_rows(rows, weight, source)


def psi(cos: np.ndarray, m: int) -> np.ndarray:
    theta = np.arccos(cos)
    k = np.minimum(np.floor(m * theta / np.pi), m - 1)
    return (-1.0) ** k * np.cos(m * theta) - 2.0 * k


def l_softmax_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    cos, y, norm = inputs["pred"], inputs["target"], inputs["norm"]
    m = params.get("m", 2)
    scale = norm[:, None] * class_norms(params, cos.shape[1])
    logits = scale * cos
    rows = np.arange(len(y))
    logits[rows, y] = scale[rows, y] * psi(cos[rows, y], m)
    source = (
        f"Liu et al. 2016 (L-Softmax, m={m}): logits ||W_j|| ||x|| cos_j, the true class's "
        "||W_y|| ||x|| psi(theta_y) in float64 numpy, then torch.nn.functional.cross_entropy"
        "(reduction='none')"
    )
    return weighted_rows(torch_ce_rows(logits, y), weight, source)


def coco_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    alpha = params.get("alpha", 30.0)
    rows = torch_ce_rows(alpha * inputs["pred"], inputs["target"])
    source = (
        "Liu et al. 2017 (COCO): torch.nn.functional.cross_entropy(alpha * cos, target, "
        f"reduction='none') in float64, alpha={alpha}"
    )
    return weighted_rows(rows, weight, source)


def deepid2_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    lam, margin = params.get("verification", 0.05), params.get("margin", 1.0)
    logits, y = inputs["pred"], inputs["target"]
    ident = -log_softmax(logits)[np.arange(len(y)), y]
    distance = np.linalg.norm(inputs["x1"] - inputs["x2"], axis=1)
    same = inputs["partner"] == y
    verify = np.where(same, 0.5 * distance**2, 0.5 * np.maximum(0.0, margin - distance) ** 2)
    source = (
        f"Sun et al. 2014 (DeepID2) in float64 numpy: -log softmax(pred)_y + {lam} * "
        f"(same: 0.5 d^2, else 0.5 max(0, {margin} - d)^2), d = ||x1 - x2||"
    )
    return weighted_rows(ident + lam * verify, weight, source)


def batch_runs(inputs: Inputs) -> list[slice]:
    """Each batch's rows (runs of equal batch ids; the whole input without a batch column)."""
    batch = inputs.get("batch")
    n = len(inputs["pred"])
    if batch is None:
        return [slice(0, n)]
    edges = [0, *(np.flatnonzero(batch[1:] != batch[:-1]) + 1).tolist(), n]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def per_batch(call: Callable[[np.ndarray, np.ndarray, dict[str, Any]], tuple[float, str]]):
    """The library's value on each batch alone, then their mean (weighted by each batch's mean
    row weight) in float64."""

    def reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
        values, weights, text = [], [], ""
        for rows in batch_runs(inputs):
            value, text = call(inputs["pred"][rows], inputs["target"][rows], params)
            values.append(value)
            weights.append(1.0 if weight is None else float(np.mean(weight[rows])))
        w, v = np.asarray(weights), np.asarray(values)
        mean = "weighted by each batch's mean weight" if weight is not None else "mean"
        return float((w * v).sum() / w.sum()), f"{text} on each batch, then their {mean}"

    return reference


def keras_circle(x: np.ndarray, labels: np.ndarray, params: dict[str, Any]) -> tuple[float, str]:
    value = keras.losses.Circle(**params)(labels.astype(np.int64), x)
    return float(value), f"keras.losses.Circle({kwargs_text(params)[2:]})(labels, embeddings)"


def optax_ntxent(x: np.ndarray, labels: np.ndarray, params: dict[str, Any]) -> tuple[float, str]:
    value = optax.losses.ntxent(
        jnp.asarray(x, dtype=jnp.float64), jnp.asarray(labels.astype(np.int64)), **params
    )
    return float(value), f"optax.losses.ntxent(embeddings, labels{kwargs_text(params)}), x64"


def images_of(inputs: Inputs) -> tuple[np.ndarray, np.ndarray, list[slice]]:
    """pred and target as (images, pixels, ...) arrays (rows of one sample together, as the
    builders write them; each row an image without role sample), and each image's rows."""
    n = len(inputs["pred"])
    sample = inputs.get("sample")
    if inputs["pred"].ndim == 1:  # one logit per pixel: a channel axis of 1
        inputs = {**inputs, "pred": inputs["pred"][:, None], "target": inputs["target"][:, None]}
    if sample is None:
        return (
            inputs["pred"][:, None],
            inputs["target"][:, None],
            [slice(i, i + 1) for i in range(n)],
        )
    edges = [0, *(np.flatnonzero(sample[1:] != sample[:-1]) + 1).tolist(), n]
    runs = [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    size = runs[0].stop
    return (
        inputs["pred"].reshape(len(runs), size, *inputs["pred"].shape[1:]),
        inputs["target"].reshape(len(runs), size, *inputs["target"].shape[1:]),
        runs,
    )


def optax_images(name: str, **fixed: Any) -> Reference:
    """optax's segmentation loss on the images as one array; its per-image values (dice_loss,
    binary_dice_loss) averaged, each image weighing the mean weight of its rows."""

    def reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
        pred, target, runs = images_of(inputs)
        params = {"reduction" if k == "classes" else k: v for k, v in params.items()}
        written = kwargs_text({**fixed, **params})
        if "class_weights" in params:
            params["class_weights"] = jnp.asarray(params["class_weights"], dtype=jnp.float64)
        value = np.asarray(
            getattr(optax.losses, name)(
                jnp.asarray(pred, dtype=jnp.float64),
                jnp.asarray(target, dtype=jnp.float64),
                **fixed,
                **params,
            ),
            dtype=np.float64,
        )
        shown = f"optax.losses.{name}(pred (images, pixels, ...), target{written}), x64"
        if value.ndim == 0:
            return float(value), shown
        w = np.ones(len(runs)) if weight is None else np.array([weight[r].mean() for r in runs])
        how = (
            ", per-image values weighted by each image's mean weight"
            if weight is not None
            else ", per-image values averaged"
        )
        return float((w * value).sum() / w.sum()), shown + how

    return reference


REFERENCES: dict[str, Reference] = {
    "class_dice": optax_images("dice_loss"),
    "generalized_dice": optax_images("multiclass_generalized_dice_loss"),
    "circle": per_batch(keras_circle),
    "ntxent": per_batch(optax_ntxent),
    "ghm_r": ghm_r_reference,
    "triplet": triplet_reference,
    "l2_softmax": l2_softmax_reference,
    "l_softmax": l_softmax_reference,
    "coco": coco_reference,
    "deepid2": deepid2_reference,
    "hamming": sklearn_classification("hamming_loss"),
    "label_ranking": sklearn_classification("label_ranking_loss"),
    "multilabel_margin": multilabel_margin_reference,
    "categorical_hinge": categorical_hinge_reference,
    "perceptron": optax_rows("perceptron_loss"),
    "sparsemax": optax_rows("sparsemax_loss"),
    "multiclass_sparsemax": optax_rows("multiclass_sparsemax_loss"),
    "ranking_softmax": ranking_softmax_reference,
    "d2_log_loss": sklearn_classification("d2_log_loss_score", probabilities=True),
    "d2_brier": sklearn_classification("d2_brier_score", probabilities=True),
    "calibration_error": calibration_reference,
    "median_absolute_error": sklearn_regression("median_absolute_error"),
    "d2_absolute_error": sklearn_regression("d2_absolute_error_score"),
    "d2_pinball": sklearn_regression("d2_pinball_score"),
    "d2_tweedie": sklearn_regression("d2_tweedie_score"),
    "explained_variance": explained_variance_reference,
    "rmse": rmse_reference,
    "r2": r2_reference,
    "nrmse": nrmse_reference,
    "wmape": wmape_reference,
    "minkowski": minkowski_reference,
    "rse": rse_reference,
}


def make_case(spec: Spec) -> dict[str, Any]:
    rng = case_rng(spec.case_id)
    inputs = {key: as_array(value) for key, value in spec.build(rng).items()}
    n = len(next(iter(inputs.values())))
    weight = weights_for(rng, n) if spec.weighted else None
    expected, source = REFERENCES[spec.loss](spec.params, inputs, weight)
    record = case_record(spec, inputs, weight, expected, source)
    if "keras" in record["versions"]:
        # Keras rounds to float32 on the way even with floatx float64 (its ops.maximum returns
        # float32): its values are held to 1e-6.
        record["tolerance"] = KERAS_TOLERANCE
    return record


GENERATOR = fixture.Generator("tests/reference/generate_libraries.py", OUTPUT, specs(), make_case)

if __name__ == "__main__":
    fixture.main(GENERATOR)
