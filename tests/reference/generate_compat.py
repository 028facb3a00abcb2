"""Generate reference values for ``--compat``: each library's own loss, run by that library.

Every case names a library (``compat``), one of its loss functions by its own name (``loss``) and
its own keyword arguments (``params``); its expected value is what that library returns on the
case's inputs: PyTorch (torch.nn.functional), Keras 3 on its torch backend, scikit-learn
(sklearn.metrics), optax (jax with x64) or torchmetrics (torchmetrics.functional). Where the
library returns unreduced values (optax), the case says how they were reduced. The edge data
the profiles exist for is here: zero targets, probabilities exactly 0 and 1, labels {0, 1} and
{-1, 1}, rows that do not sum to 1, sample weights and several outputs.

Keras computes in float32 even with floatx float64; its cases hold its float32 result, and the
tests hold losscli to 1e-6 relative there (1e-9 for every other library).

    python3 tests/reference/generate_compat.py              # every case
    python3 tests/reference/generate_compat.py --only ID    # one case, the others untouched
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fixture
import numpy as np
from fixture import Builder, Inputs, Library, Spec, case_record, case_rng

os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras runs on the torch wheel installed
OUTPUT = Path(__file__).with_name("compat.json")
torch = Library("torch")
F = Library("torch.nn.functional")
keras = Library("keras")
metrics = Library("sklearn.metrics")
jax = Library("jax")
optax = Library("optax")
tm = Library("torchmetrics.functional.regression")
tmc = Library("torchmetrics.functional.classification")
Reference = Callable[[Inputs, Any, dict[str, Any]], tuple[float, str]]


# ---------------------------------------------------------------------------- input builders


def pair(n: int, k: int = 0, zeros: bool = False, positive: bool = False) -> Builder:
    """Targets ~ N(0, 2) (|.| + 0.1 with ``positive``), pred = target + N(0, 1); ``zeros`` sets
    three targets to exactly 0."""

    def build(rng: np.random.Generator) -> Inputs:
        shape = (n, k) if k else (n,)
        target = rng.normal(0.0, 2.0, shape)
        if positive:
            target = np.abs(target) + 0.1
        pred = target + rng.normal(0.0, 1.0, shape)
        if positive:
            pred = np.abs(pred) + 0.05
        if zeros:
            target.flat[:3] = 0.0
        return {"pred": pred, "target": target}

    return build


def binary(n: int, k: int = 0, pred: str = "probs", labels: str = "01", edge: bool = False):
    """Labels and probabilities (or logits); ``edge`` puts exact 0 and 1 against both labels."""

    def build(rng: np.random.Generator) -> Inputs:
        shape = (n, k) if k else (n,)
        z = rng.normal(0.0, 2.0, shape)
        hit = rng.random(shape) < 1 / (1 + np.exp(-z))
        score = z + rng.normal(0.0, 1.0, shape)
        p = 1 / (1 + np.exp(-score))
        if edge:
            p.flat[:4] = [0.0, 0.0, 1.0, 1.0]
            hit.flat[:4] = [False, True, False, True]
        target = np.where(hit, 1.0, -1.0 if labels == "pm1" else 0.0)
        if labels == "soft":
            target = np.clip(1 / (1 + np.exp(-z)) + rng.normal(0, 0.2, shape), 0, 1)
        return {"pred": p if pred == "probs" else score, "target": target}

    return build


def classes(
    n: int,
    k: int,
    pred: str = "probs",
    target: str = "index",
    loose: bool = False,
    edge: bool = False,
) -> Builder:
    """Class scores (logits, probability rows or log-probability rows) and targets (an index,
    one-hot rows or probability rows); ``loose`` rows do not sum to 1; ``edge`` puts exact 0
    and 1 probabilities in."""

    def build(rng: np.random.Generator) -> Inputs:
        z = rng.normal(0.0, 2.0, (n, k))
        y = np.argmax(z + rng.gumbel(size=(n, k)), axis=1)
        probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        if edge:
            probs[0] = np.eye(k)[y[0]]
            probs[1] = np.eye(k)[(y[1] + 1) % k]
        if loose:
            probs = probs * rng.uniform(0.4, 0.95, (n, 1))
        scores = {"logits": z, "probs": probs, "logprobs": np.log(probs)}[pred]
        if target == "index":
            t = y.astype(np.float64)
        elif target == "onehot":
            t = np.eye(k)[y]
        else:
            w = np.exp(rng.normal(0.0, 1.0, (n, k)))
            t = w / w.sum(axis=1, keepdims=True)
            if loose:
                t = t * rng.uniform(0.4, 0.95, (n, 1))
        return {"pred": scores, "target": t}

    return build


def masks(n: int, k: int, soft: bool = False) -> Builder:
    """Predicted masks in [0, 1] with exact 0s and 1s and true masks (0/1, or soft); row 0 is
    empty in both, row 1 predicted exactly."""

    def build(rng: np.random.Generator) -> Inputs:
        target = (rng.random((n, k)) < 0.4).astype(np.float64)
        pred = np.clip(target * 0.7 + rng.normal(0.15, 0.3, (n, k)), 0.0, 1.0)
        if soft:
            target = np.clip(target + rng.normal(0.0, 0.2, (n, k)), 0.0, 1.0)
        pred[0], target[0] = 0.0, 0.0
        pred[1] = target[1]
        return {"pred": pred, "target": target}

    return build


def vectors(n: int, k: int, zero: bool = False) -> Builder:
    def build(rng: np.random.Generator) -> Inputs:
        pred, target = rng.normal(0, 1, (n, k)), rng.normal(0, 1, (n, k))
        target = target + 0.5 * pred
        return {"pred": pred, "target": target}

    return build


def triplets(n: int, k: int) -> Builder:
    def build(rng: np.random.Generator) -> Inputs:
        a = rng.normal(0, 1, (n, k))
        return {
            "anchor": a,
            "positive": a + rng.normal(0, 0.7, (n, k)),
            "negative": rng.normal(0, 1, (n, k)),
        }

    return build


def pairs_with(role_target: str, n: int, k: int = 0) -> Builder:
    """x1, x2 and labels in {-1, 1}."""

    def build(rng: np.random.Generator) -> Inputs:
        shape = (n, k) if k else (n,)
        return {
            "x1": rng.normal(0, 1, shape),
            "x2": rng.normal(0, 1, shape),
            "target": np.where(rng.random(n) < 0.5, 1.0, -1.0),
        }

    return build


def with_var(n: int) -> Builder:
    def build(rng: np.random.Generator) -> Inputs:
        inputs = pair(n)(rng)
        inputs["var"] = rng.uniform(0.2, 2.0, n)
        return inputs

    return build


def counts(n: int) -> Builder:
    def build(rng: np.random.Generator) -> Inputs:
        rate = rng.uniform(0.2, 4.0, n)
        return {"pred": rate + rng.uniform(0, 1, n), "target": rng.poisson(rate).astype(float)}

    return build


def embedding_batches(sizes: tuple[int, ...], e: int, k: int, unit: bool = True) -> Builder:
    """Batches of embeddings near their class's center (L2-normalised with ``unit``), integer
    labels and each row's batch id (ids not in sorted order: they only name the runs)."""

    def build(rng: np.random.Generator) -> Inputs:
        n = sum(sizes)
        labels = rng.integers(0, k, n)
        x = rng.normal(0.0, 1.0, (k, e))[labels] + rng.normal(0.0, 0.8, (n, e))
        if unit:
            x = x / np.linalg.norm(x, axis=1, keepdims=True)
        batch = np.repeat(rng.permutation(len(sizes)) * 3 + 1, sizes).astype(np.float64)
        return {"pred": x, "target": labels.astype(np.float64), "batch": batch}

    return build


# ---------------------------------------------------------------------------- references


def _t(values: np.ndarray) -> Any:
    return torch.tensor(np.asarray(values), dtype=torch.float64)


def _wcol(weight: np.ndarray, like: np.ndarray) -> np.ndarray:
    return weight if like.ndim == 1 else weight[:, None] * np.ones_like(like)


def torch_pointwise(function: str) -> Reference:
    def compute(inputs: Inputs, weight: Any, params: dict[str, Any]) -> tuple[float, str]:
        p, t = inputs["pred"], inputs["target"]
        kwargs = dict(params)
        if weight is not None:
            kwargs["weight"] = _t(_wcol(weight, p))
        if function == "binary_cross_entropy_with_logits" and "pos_weight" in kwargs:
            kwargs["pos_weight"] = _t(np.array(kwargs["pos_weight"]))
        value = getattr(F, function)(_t(p), _t(t), **kwargs)
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return float(
            value
        ), f"torch.nn.functional.{function}(pred, target{', ' if shown else ''}{shown}" + (
            ", weight=w per row)" if weight is not None else ")"
        )

    return compute


def torch_classes(function: str) -> Reference:
    def compute(inputs: Inputs, weight: Any, params: dict[str, Any]) -> tuple[float, str]:
        p, t = inputs["pred"], inputs["target"]
        kwargs = dict(params)
        if kwargs.get("weight") is not None:
            kwargs["weight"] = _t(np.array(kwargs["weight"]))
        indices = t.ndim == 1 or function == "multilabel_margin_loss"  # -1-padded classes
        target = torch.tensor(t.astype(np.int64)) if indices else _t(t)
        value = getattr(F, function)(_t(p), target, **kwargs)
        return float(value), f"torch.nn.functional.{function}(pred, target, **{params!r})"

    return compute


def torch_roles(function: str, roles: tuple[str, ...]) -> Reference:
    def compute(inputs: Inputs, weight: Any, params: dict[str, Any]) -> tuple[float, str]:
        args = [_t(inputs[role]) for role in roles]
        value = getattr(F, function)(*args, **params)
        return float(value), f"torch.nn.functional.{function}({', '.join(roles)}, **{params!r})"

    return compute


def torch_cosine_similarity(inputs: Inputs, weight: Any, params: dict[str, Any]):
    value = F.cosine_similarity(_t(inputs["pred"]), _t(inputs["target"]), dim=1, **params).mean()
    return float(
        value
    ), f"torch.nn.functional.cosine_similarity(pred, target, dim=1, **{params!r}).mean()"


def torch_gaussian(inputs: Inputs, weight: Any, params: dict[str, Any]):
    value = F.gaussian_nll_loss(
        _t(inputs["pred"]), _t(inputs["target"]), _t(inputs["var"]), **params
    )
    return float(value), f"torch.nn.functional.gaussian_nll_loss(pred, target, var, **{params!r})"


TORCH: dict[str, Reference] = {
    "l1_loss": torch_pointwise("l1_loss"),
    "mse_loss": torch_pointwise("mse_loss"),
    "huber_loss": torch_pointwise("huber_loss"),
    "smooth_l1_loss": torch_pointwise("smooth_l1_loss"),
    "binary_cross_entropy": torch_pointwise("binary_cross_entropy"),
    "binary_cross_entropy_with_logits": torch_pointwise("binary_cross_entropy_with_logits"),
    "kl_div": torch_pointwise("kl_div"),
    "poisson_nll_loss": torch_pointwise("poisson_nll_loss"),
    "soft_margin_loss": torch_pointwise("soft_margin_loss"),
    "cross_entropy": torch_classes("cross_entropy"),
    "nll_loss": torch_classes("nll_loss"),
    "multi_margin_loss": torch_classes("multi_margin_loss"),
    "multilabel_soft_margin_loss": torch_pointwise("multilabel_soft_margin_loss"),
    "gaussian_nll_loss": torch_gaussian,
    "hinge_embedding_loss": torch_pointwise("hinge_embedding_loss"),
    "margin_ranking_loss": torch_roles("margin_ranking_loss", ("x1", "x2", "target")),
    "cosine_embedding_loss": torch_roles("cosine_embedding_loss", ("x1", "x2", "target")),
    "triplet_margin_loss": torch_roles("triplet_margin_loss", ("anchor", "positive", "negative")),
    "cosine_similarity": torch_cosine_similarity,
    "multilabel_margin_loss": torch_classes("multilabel_margin_loss"),
}


def segments(images: int, pixels: int, k: int, keyed: bool = True, wide: bool = False) -> Builder:
    """Images of ``pixels`` rows each (role sample; without ``keyed`` each row is an image): K
    class logits and a one-hot target per pixel (k=1: one logit, a 0/1 target); ``wide``: one
    row per image holding its pixels (k=1)."""

    def build(rng: np.random.Generator) -> Inputs:
        n = images * pixels
        y = rng.integers(0, max(k, 2), n)
        z = rng.normal(0.0, 1.5, (n, k))
        if k == 1:
            z, target = z[:, 0] + 1.5 * (2 * y - 1), y.astype(float)
        else:
            z[np.arange(n), y] += 1.5
            target = np.eye(k)[y]
        if wide:
            return {"pred": z.reshape(images, pixels), "target": target.reshape(images, pixels)}
        inputs: Inputs = {"pred": z, "target": target}
        if keyed:
            inputs["sample"] = np.repeat(rng.permutation(images) * 2 + 5, pixels).astype(float)
        return inputs

    return build


def per_batch(call: Callable[[np.ndarray, np.ndarray, dict[str, Any]], tuple[float, str]]):
    """The library's value on each batch alone (a run of equal batch ids), then their mean,
    each batch weighing the mean weight of its rows."""

    def compute(inputs: Inputs, weight: Any, params: dict[str, Any]) -> tuple[float, str]:
        batch, n = inputs["batch"], len(inputs["batch"])
        edges = [0, *(np.flatnonzero(batch[1:] != batch[:-1]) + 1).tolist(), n]
        values, weights, text = [], [], ""
        for start, stop in zip(edges[:-1], edges[1:], strict=True):
            value, text = call(inputs["pred"][start:stop], inputs["target"][start:stop], params)
            values.append(value)
            weights.append(1.0 if weight is None else float(np.mean(weight[start:stop])))
        w, v = np.asarray(weights), np.asarray(values)
        how = "weighted by each batch's mean weight" if weight is not None else "mean"
        return float((w * v).sum() / w.sum()), f"{text} on each batch, then their {how}"

    return compute


def keras_circle(x: np.ndarray, labels: np.ndarray, params: dict[str, Any]) -> tuple[float, str]:
    value = keras.losses.Circle(**params)(labels.astype(np.int64), x)
    return float(value), f"keras.losses.Circle(**{params!r})(labels, embeddings)"


def optax_ntxent(x: np.ndarray, labels: np.ndarray, params: dict[str, Any]) -> tuple[float, str]:
    jax.config.update("jax_enable_x64", True)
    value = optax.losses.ntxent(
        jax.numpy.asarray(x), jax.numpy.asarray(labels.astype(np.int64)), **params
    )
    return float(value), f"optax.losses.ntxent(embeddings, labels, **{params!r}), x64"


def optax_images(name: str) -> Reference:
    """optax's segmentation loss on the images as one (images, pixels, ...) array (each row an
    image without role sample; a wide row is an image already); per-image values averaged."""

    def compute(inputs: Inputs, weight: Any, params: dict[str, Any]) -> tuple[float, str]:
        jax.config.update("jax_enable_x64", True)
        pred, target, n = inputs["pred"], inputs["target"], len(inputs["pred"])
        sample = inputs.get("sample")
        if sample is not None:
            if pred.ndim == 1:
                pred, target = pred[:, None], target[:, None]
            images = len(np.unique(sample))
            pred = pred.reshape(images, n // images, -1)
            target = target.reshape(images, n // images, -1)
        elif pred.ndim == 2 and name != "binary_dice_loss":
            pred, target = pred[:, None], target[:, None]
        kwargs = dict(params)
        if "class_weights" in kwargs:
            kwargs["class_weights"] = jax.numpy.asarray(kwargs["class_weights"])
        value = np.asarray(
            getattr(optax.losses, name)(
                jax.numpy.asarray(pred), jax.numpy.asarray(target), **kwargs
            )
        )
        shown = f"optax.losses.{name}(pred (images, pixels, ...), target, **{params!r}), x64"
        if value.ndim == 0:
            return float(value), shown
        return float(value.mean()), shown + ", per-image values averaged"

    return compute


def keras_loss(cls: str, sparse: bool = False) -> Reference:
    """A Keras loss class called on (target, pred) with sample_weight: float64 arrays in, and
    Keras' float32 arithmetic inside."""

    def compute(inputs: Inputs, weight: Any, params: dict[str, Any]) -> tuple[float, str]:
        p, t = inputs["pred"], inputs["target"]
        if p.ndim == 1:  # Keras averages the last axis: one column is one value per sample
            p, t = p[:, None], t[:, None]
        if sparse:
            t = inputs["target"].astype(np.int64)
        loss = getattr(keras.losses, cls)(**params)
        value = loss(t, p, sample_weight=weight)
        shown = f"keras.losses.{cls}(**{params!r})(target, pred" + (
            ", sample_weight=w)" if weight is not None else ")"
        )
        return float(value), shown

    return compute


KERAS: dict[str, Reference] = {
    "mean_squared_error": keras_loss("MeanSquaredError"),
    "MeanSquaredError": keras_loss("MeanSquaredError"),
    "mse": keras_loss("MeanSquaredError"),
    "mean_absolute_error": keras_loss("MeanAbsoluteError"),
    "mean_absolute_percentage_error": keras_loss("MeanAbsolutePercentageError"),
    "MeanAbsolutePercentageError": keras_loss("MeanAbsolutePercentageError"),
    "mape": keras_loss("MeanAbsolutePercentageError"),
    "mean_squared_logarithmic_error": keras_loss("MeanSquaredLogarithmicError"),
    "huber": keras_loss("Huber"),
    "log_cosh": keras_loss("LogCosh"),
    "cosine_similarity": keras_loss("CosineSimilarity"),
    "hinge": keras_loss("Hinge"),
    "squared_hinge": keras_loss("SquaredHinge"),
    "kl_divergence": keras_loss("KLDivergence"),
    "poisson": keras_loss("Poisson"),
    "binary_crossentropy": keras_loss("BinaryCrossentropy"),
    "BinaryCrossentropy": keras_loss("BinaryCrossentropy"),
    "categorical_crossentropy": keras_loss("CategoricalCrossentropy"),
    "sparse_categorical_crossentropy": keras_loss("SparseCategoricalCrossentropy", sparse=True),
    "categorical_hinge": keras_loss("CategoricalHinge"),
    "binary_focal_crossentropy": keras_loss("BinaryFocalCrossentropy"),
    "BinaryFocalCrossentropy": keras_loss("BinaryFocalCrossentropy"),
    "categorical_focal_crossentropy": keras_loss("CategoricalFocalCrossentropy"),
    "CategoricalFocalCrossentropy": keras_loss("CategoricalFocalCrossentropy"),
    "categorical_generalized_cross_entropy": keras_loss(
        "CategoricalGeneralizedCrossEntropy", sparse=True
    ),
    "CategoricalGeneralizedCrossEntropy": keras_loss(
        "CategoricalGeneralizedCrossEntropy", sparse=True
    ),
    "dice": keras_loss("Dice"),
    "Dice": keras_loss("Dice"),
    "tversky": keras_loss("Tversky"),
    "Tversky": keras_loss("Tversky"),
    "circle": per_batch(keras_circle),
    "Circle": per_batch(keras_circle),
}


def sklearn_metric(function: str, labels: bool = False) -> Reference:
    def compute(inputs: Inputs, weight: Any, params: dict[str, Any]) -> tuple[float, str]:
        p, t = inputs["pred"], inputs["target"]
        if labels:
            t = t.astype(np.int64)
        kwargs = dict(params)
        if weight is not None:
            kwargs["sample_weight"] = weight
        value = getattr(metrics, function)(t, p, **kwargs)
        return float(value), f"sklearn.metrics.{function}(target, pred, **{params!r})" + (
            " with sample_weight=w" if weight is not None else ""
        )

    return compute


def sklearn_log_loss(inputs: Inputs, weight: Any, params: dict[str, Any]):
    p, t = inputs["pred"], inputs["target"].astype(np.int64)
    k = 2 if p.ndim == 1 else p.shape[1]
    value = metrics.log_loss(t, p, sample_weight=weight, labels=list(range(k)), **params)
    return float(
        value
    ), f"sklearn.metrics.log_loss(target, pred, labels=range(K), **{params!r})" + (
        " with sample_weight=w" if weight is not None else ""
    )


SKLEARN: dict[str, Reference] = {
    name: sklearn_metric(name)
    for name in (
        "mean_absolute_error",
        "mean_squared_error",
        "root_mean_squared_error",
        "r2_score",
        "max_error",
        "mean_pinball_loss",
        "mean_absolute_percentage_error",
        "mean_squared_log_error",
        "root_mean_squared_log_error",
        "mean_tweedie_deviance",
        "mean_poisson_deviance",
        "mean_gamma_deviance",
        "brier_score_loss",
        "hinge_loss",
        "median_absolute_error",
        "explained_variance_score",
        "d2_absolute_error_score",
        "d2_pinball_score",
        "d2_tweedie_score",
    )
}
SKLEARN.update(
    zero_one_loss=sklearn_metric("zero_one_loss", labels=True),
    hamming_loss=sklearn_metric("hamming_loss", labels=True),
    label_ranking_loss=sklearn_metric("label_ranking_loss", labels=True),
    d2_log_loss_score=sklearn_metric("d2_log_loss_score", labels=True),
    d2_brier_score=sklearn_metric("d2_brier_score", labels=True),
    log_loss=sklearn_log_loss,
)


def optax_values(function: str, roles: tuple[str, ...] = ("pred", "target"), ints: bool = False):
    """optax's unreduced values, reduced by their (weighted) mean or their sum as the case says."""

    def compute(inputs: Inputs, weight: Any, params: dict[str, Any]) -> tuple[float, str]:
        kwargs = {k: v for k, v in params.items() if k != "reduction"}
        jax.config.update("jax_enable_x64", True)  # jax may have come in with another library
        args = [jax.numpy.asarray(inputs[role]) for role in roles]
        if ints:
            args[1] = jax.numpy.asarray(inputs["target"].astype(np.int64))
        values = np.asarray(getattr(optax.losses, function)(*args, **kwargs), dtype=np.float64)
        shown = f"optax.losses.{function}({', '.join(roles)}, **{kwargs!r})"
        if values.ndim == 0:  # reduced by optax itself (its reduce_fn=mean)
            return float(values), shown
        rows = values if values.ndim == 1 else values.mean(axis=1)
        w = np.ones(len(rows)) if weight is None else weight
        if params.get("reduction") == "sum":  # every value, each element of a vector row
            value, how = float((_wcol(w, values) * values).sum()), "summed"
        else:
            value, how = float((w * rows).sum() / w.sum()), "averaged"
        return value, shown + f", {how}" + (" with weights w" if weight is not None else "")

    return compute


OPTAX: dict[str, Reference] = {
    "squared_error": optax_values("squared_error"),
    "l2_loss": optax_values("l2_loss"),
    "huber_loss": optax_values("huber_loss"),
    "log_cosh": optax_values("log_cosh"),
    "sigmoid_binary_cross_entropy": optax_values("sigmoid_binary_cross_entropy"),
    "softmax_cross_entropy": optax_values("softmax_cross_entropy"),
    "softmax_cross_entropy_with_integer_labels": optax_values(
        "softmax_cross_entropy_with_integer_labels", ints=True
    ),
    "safe_softmax_cross_entropy": optax_values("safe_softmax_cross_entropy"),
    "kl_divergence": optax_values("kl_divergence"),
    "kl_divergence_with_log_targets": optax_values("kl_divergence_with_log_targets"),
    "multiclass_hinge_loss": optax_values("multiclass_hinge_loss", ints=True),
    "multiclass_perceptron_loss": optax_values("multiclass_perceptron_loss", ints=True),
    "cosine_distance": optax_values("cosine_distance"),
    "cosine_similarity": optax_values("cosine_similarity"),
    "sigmoid_focal_loss": optax_values("sigmoid_focal_loss"),
    "poly_loss_cross_entropy": optax_values("poly_loss_cross_entropy"),
    "hinge_loss": optax_values("hinge_loss"),
    "triplet_margin_loss": optax_values("triplet_margin_loss", ("anchor", "positive", "negative")),
    "perceptron_loss": optax_values("perceptron_loss"),
    "sparsemax_loss": optax_values("sparsemax_loss"),
    "multiclass_sparsemax_loss": optax_values("multiclass_sparsemax_loss", ints=True),
    "ranking_softmax_loss": optax_values("ranking_softmax_loss"),
    "ntxent": per_batch(optax_ntxent),
    "generalized_kl_divergence": optax_values("generalized_kl_divergence"),
    "convex_kl_divergence": optax_values("convex_kl_divergence"),
    "dice_loss": optax_images("dice_loss"),
    "binary_dice_loss": optax_images("binary_dice_loss"),
    "multiclass_generalized_dice_loss": optax_images("multiclass_generalized_dice_loss"),
}


def torchmetrics_metric(function: str, swap: bool = False) -> Reference:
    def compute(inputs: Inputs, weight: Any, params: dict[str, Any]) -> tuple[float, str]:
        p, t = _t(inputs["pred"]), _t(inputs["target"])
        value = getattr(tm, function)(p, t, **params)
        source = f"torchmetrics.functional.regression.{function}(pred, target, **{params!r})"
        if value.ndim:  # one value per output column: their mean
            value, source = value.mean(), source + ".mean() over the outputs"
        return float(value), source

    return compute


TORCHMETRICS: dict[str, Reference] = {
    name: torchmetrics_metric(name)
    for name in (
        "mean_squared_error",
        "mean_absolute_error",
        "log_cosh_error",
        "r2_score",
        "mean_squared_log_error",
        "mean_absolute_percentage_error",
        "symmetric_mean_absolute_percentage_error",
        "tweedie_deviance_score",
        "cosine_similarity",
        "kl_divergence",
        "jensen_shannon_divergence",
        "explained_variance",
        "minkowski_distance",
        "normalized_root_mean_squared_error",
        "weighted_mean_absolute_percentage_error",
        "relative_squared_error",
    )
}


def torchmetrics_calibration(inputs: Inputs, weight: Any, params: dict[str, Any]):
    p, t = _t(inputs["pred"]), torch.tensor(inputs["target"].astype(np.int64))
    value = tmc.binary_calibration_error(p, t, **params)
    source = "torchmetrics.functional.classification.binary_calibration_error"
    return float(value), f"{source}(pred, target, **{params!r})"


TORCHMETRICS["binary_calibration_error"] = torchmetrics_calibration


def torchmetrics_hinge(function: str) -> Reference:
    """torchmetrics' classification hinge on float64 scores and integer labels; a multiclass
    call is given num_classes = pred's width, and one-vs-all's per-class values are averaged."""

    def compute(inputs: Inputs, weight: Any, params: dict[str, Any]) -> tuple[float, str]:
        p, t = _t(inputs["pred"]), torch.tensor(inputs["target"].astype(np.int64))
        call = dict(params)
        if function.startswith("multiclass"):
            call.setdefault("num_classes", inputs["pred"].shape[1])
        value = getattr(tmc, function)(p, t, **call)
        source = f"torchmetrics.functional.classification.{function}(pred, target, **{call!r})"
        if value.ndim:
            value, source = value.mean(), source + ".mean() over the classes"
        return float(value), source

    return compute


TORCHMETRICS["binary_hinge_loss"] = torchmetrics_hinge("binary_hinge_loss")
TORCHMETRICS["multiclass_hinge_loss"] = torchmetrics_hinge("multiclass_hinge_loss")
REFERENCES = {
    "torch": TORCH,
    "keras": KERAS,
    "sklearn": SKLEARN,
    "optax": OPTAX,
    "torchmetrics": TORCHMETRICS,
}


# ---------------------------------------------------------------------------- the cases


def specs() -> list[Spec]:
    cases: list[Spec] = []

    def add(case_id: str, loss: str, build: Builder, weighted: bool = False, **params: Any):
        cases.append(Spec(case_id, loss, build, params, weighted))

    # torch
    add("torch-l1_loss-vector", "l1_loss", pair(20, 3))
    add("torch-l1_loss-weighted", "l1_loss", pair(20), weighted=True)
    add("torch-l1_loss-sum", "l1_loss", pair(20, 2), reduction="sum")
    add("torch-mse_loss-zeros", "mse_loss", pair(20, zeros=True))
    add("torch-mse_loss-weighted-vector", "mse_loss", pair(20, 3), weighted=True)
    add("torch-huber_loss-delta2", "huber_loss", pair(30), delta=2.0)
    add("torch-huber_loss-weighted", "huber_loss", pair(30), weighted=True)
    add("torch-huber_loss-weighted-vector", "huber_loss", pair(20, 3), weighted=True, delta=0.5)
    add("torch-huber_loss-weighted-sum", "huber_loss", pair(20), weighted=True, reduction="sum")
    add("torch-smooth_l1_loss-beta", "smooth_l1_loss", pair(30), beta=0.4)
    add("torch-binary_cross_entropy-edge", "binary_cross_entropy", binary(30, edge=True))
    add("torch-binary_cross_entropy-weighted", "binary_cross_entropy", binary(30), weighted=True)
    add("torch-binary_cross_entropy-soft", "binary_cross_entropy", binary(30, labels="soft"))
    add("torch-binary_cross_entropy-multilabel", "binary_cross_entropy", binary(20, 3))
    add("torch-binary_cross_entropy-sum", "binary_cross_entropy", binary(20), reduction="sum")
    add("torch-bce_logits", "binary_cross_entropy_with_logits", binary(30, pred="logits"))
    add(
        "torch-bce_logits-pos_weight",
        "binary_cross_entropy_with_logits",
        binary(30, pred="logits"),
        pos_weight=2.5,
    )
    add(
        "torch-bce_logits-weighted",
        "binary_cross_entropy_with_logits",
        binary(30, pred="logits"),
        weighted=True,
    )
    add("torch-cross_entropy", "cross_entropy", classes(30, 4, pred="logits"))
    add(
        "torch-cross_entropy-class-weights",
        "cross_entropy",
        classes(30, 3, pred="logits"),
        weight=[1.0, 2.0, 0.5],
    )
    add(
        "torch-cross_entropy-smoothing",
        "cross_entropy",
        classes(30, 3, pred="logits"),
        label_smoothing=0.1,
    )
    add(
        "torch-cross_entropy-prob-target",
        "cross_entropy",
        classes(20, 3, pred="logits", target="probs"),
    )
    add("torch-cross_entropy-sum", "cross_entropy", classes(20, 3, pred="logits"), reduction="sum")
    add("torch-nll_loss", "nll_loss", classes(30, 4, pred="logprobs"))
    add("torch-kl_div-mean", "kl_div", classes(20, 4, pred="logprobs", target="probs"))
    add(
        "torch-kl_div-batchmean",
        "kl_div",
        classes(20, 4, pred="logprobs", target="probs"),
        reduction="batchmean",
    )
    add(
        "torch-kl_div-sum",
        "kl_div",
        classes(20, 3, pred="logprobs", target="probs"),
        reduction="sum",
    )
    add(
        "torch-kl_div-loose",
        "kl_div",
        classes(20, 3, pred="logprobs", target="probs", loose=True),
        reduction="batchmean",
    )
    add("torch-kl_div-onehot-zeros", "kl_div", classes(20, 3, pred="logprobs", target="onehot"))
    add("torch-poisson_nll_loss", "poisson_nll_loss", counts(30))
    add("torch-poisson_nll_loss-rates", "poisson_nll_loss", counts(30), log_input=False)
    add("torch-poisson_nll_loss-full", "poisson_nll_loss", counts(30), log_input=False, full=True)
    add("torch-gaussian_nll_loss", "gaussian_nll_loss", with_var(30))
    add("torch-gaussian_nll_loss-full", "gaussian_nll_loss", with_var(30), full=True)
    add("torch-soft_margin_loss", "soft_margin_loss", binary(30, pred="logits", labels="pm1"))
    add(
        "torch-multilabel_soft_margin_loss",
        "multilabel_soft_margin_loss",
        binary(20, 3, pred="logits"),
    )
    add(
        "torch-hinge_embedding_loss",
        "hinge_embedding_loss",
        binary(30, pred="logits", labels="pm1"),
        margin=0.5,
    )
    add("torch-margin_ranking_loss", "margin_ranking_loss", pairs_with("target", 30), margin=0.2)
    add(
        "torch-cosine_embedding_loss",
        "cosine_embedding_loss",
        pairs_with("target", 20, 4),
        margin=0.1,
    )
    add("torch-triplet_margin_loss", "triplet_margin_loss", triplets(20, 4))
    add(
        "torch-triplet_margin_loss-p1-swap",
        "triplet_margin_loss",
        triplets(20, 4),
        p=1.0,
        swap=True,
    )
    add("torch-multi_margin_loss", "multi_margin_loss", classes(30, 4, pred="logits"))
    add(
        "torch-multi_margin_loss-p2",
        "multi_margin_loss",
        classes(30, 4, pred="logits"),
        p=2,
        margin=0.5,
    )
    add("torch-cosine_similarity", "cosine_similarity", vectors(20, 4))
    add("torch-multilabel_margin_loss", "multilabel_margin_loss", lambda rng: _indices(rng, 20, 4))

    # keras
    add("keras-mean_squared_error", "mean_squared_error", pair(30))
    add("keras-mse-weighted", "mse", pair(30), weighted=True)
    add(
        "keras-MeanSquaredError-weighted-mean",
        "MeanSquaredError",
        pair(30),
        weighted=True,
        reduction="mean_with_sample_weight",
    )
    add("keras-mean_squared_error-sum", "mean_squared_error", pair(20, 3), reduction="sum")
    add(
        "keras-mean_squared_error-vector-weighted", "mean_squared_error", pair(20, 3), weighted=True
    )
    add("keras-mean_absolute_error-vector", "mean_absolute_error", pair(20, 3))
    add("keras-mean_absolute_error-weighted", "mean_absolute_error", pair(30), weighted=True)
    add("keras-mape-zeros", "mean_absolute_percentage_error", pair(30, zeros=True))
    add(
        "keras-MeanAbsolutePercentageError-weighted",
        "MeanAbsolutePercentageError",
        pair(30),
        weighted=True,
    )
    add("keras-mape-alias", "mape", pair(20, 2))
    add("keras-msle-negatives", "mean_squared_logarithmic_error", pair(30, zeros=True))
    add("keras-msle-positive", "mean_squared_logarithmic_error", pair(30, positive=True))
    add("keras-huber", "huber", pair(30))
    add("keras-huber-delta", "huber", pair(30), delta=0.4)
    add("keras-huber-weighted", "huber", pair(30), weighted=True, delta=2.0)
    add("keras-log_cosh", "log_cosh", pair(30))
    add("keras-cosine_similarity", "cosine_similarity", vectors(20, 4))
    add("keras-cosine_similarity-weighted", "cosine_similarity", vectors(20, 3), weighted=True)
    add("keras-hinge-01", "hinge", binary(30, pred="logits"))
    add("keras-hinge-pm1", "hinge", binary(30, pred="logits", labels="pm1"))
    add("keras-hinge-weighted", "hinge", binary(30, pred="logits", labels="pm1"), weighted=True)
    add("keras-squared_hinge-01", "squared_hinge", binary(30, pred="logits"))
    add("keras-squared_hinge-pm1-vector", "squared_hinge", binary(20, 3, "logits", labels="pm1"))
    add("keras-kl_divergence", "kl_divergence", classes(20, 4, target="probs"))
    add("keras-kl_divergence-onehot", "kl_divergence", classes(20, 3, target="onehot", edge=True))
    add("keras-kl_divergence-loose", "kl_divergence", classes(20, 3, target="probs", loose=True))
    add("keras-poisson", "poisson", counts(30))
    add("keras-poisson-weighted", "poisson", counts(30), weighted=True)
    add("keras-binary_crossentropy-edge", "binary_crossentropy", binary(30, edge=True))
    add("keras-BinaryCrossentropy-weighted", "BinaryCrossentropy", binary(30), weighted=True)
    add(
        "keras-binary_crossentropy-logits",
        "binary_crossentropy",
        binary(30, pred="logits"),
        from_logits=True,
    )
    add(
        "keras-binary_crossentropy-smoothing",
        "binary_crossentropy",
        binary(30, edge=True),
        label_smoothing=0.1,
    )
    add("keras-binary_crossentropy-multilabel", "binary_crossentropy", binary(20, 3, edge=True))
    add("keras-binary_crossentropy-soft", "binary_crossentropy", binary(30, labels="soft"))
    add(
        "keras-categorical_crossentropy",
        "categorical_crossentropy",
        classes(30, 4, target="onehot"),
    )
    add(
        "keras-categorical_crossentropy-edge",
        "categorical_crossentropy",
        classes(30, 3, target="onehot", edge=True),
    )
    add(
        "keras-categorical_crossentropy-loose",
        "categorical_crossentropy",
        classes(30, 3, target="onehot", loose=True),
    )
    add(
        "keras-categorical_crossentropy-logits",
        "categorical_crossentropy",
        classes(30, 4, pred="logits", target="probs"),
        from_logits=True,
    )
    add(
        "keras-categorical_crossentropy-weighted",
        "categorical_crossentropy",
        classes(30, 3, target="probs"),
        weighted=True,
    )
    add(
        "keras-categorical_crossentropy-smoothing",
        "categorical_crossentropy",
        classes(30, 3, target="onehot"),
        label_smoothing=0.2,
    )
    add(
        "keras-sparse_categorical_crossentropy",
        "sparse_categorical_crossentropy",
        classes(30, 4, edge=True),
    )
    add(
        "keras-sparse_categorical_crossentropy-weighted",
        "sparse_categorical_crossentropy",
        classes(30, 3, loose=True),
        weighted=True,
    )
    add(
        "keras-sparse_categorical_crossentropy-logits",
        "sparse_categorical_crossentropy",
        classes(30, 3, pred="logits"),
        from_logits=True,
    )

    add(
        "keras-categorical_hinge",
        "categorical_hinge",
        classes(30, 4, pred="logits", target="onehot"),
    )

    bfc, cfc = "binary_focal_crossentropy", "categorical_focal_crossentropy"
    add(f"keras-{bfc}-edge", bfc, binary(30, edge=True))
    add(
        "keras-BinaryFocalCrossentropy-balanced-weighted",
        "BinaryFocalCrossentropy",
        binary(30, edge=True),
        weighted=True,
        apply_class_balancing=True,
        alpha=0.4,
    )
    add(f"keras-{bfc}-logits", bfc, binary(30, pred="logits"), from_logits=True, gamma=1.5)
    add(f"keras-{bfc}-smoothing", bfc, binary(30, edge=True), label_smoothing=0.1)
    add(
        f"keras-{bfc}-multilabel-weighted-mean",
        bfc,
        binary(20, 3, edge=True),
        weighted=True,
        reduction="mean_with_sample_weight",
    )
    add(f"keras-{bfc}-soft-sum", bfc, binary(30, labels="soft"), reduction="sum", axis=1)
    add(f"keras-{cfc}-edge", cfc, classes(20, 4, target="onehot", edge=True))
    add(f"keras-{cfc}-loose", cfc, classes(20, 3, target="onehot", loose=True), gamma=0.5)
    add(
        f"keras-{cfc}-logits-smoothing",
        cfc,
        classes(20, 4, pred="logits", target="onehot"),
        from_logits=True,
        label_smoothing=0.1,
    )
    add(
        "keras-CategoricalFocalCrossentropy-weighted",
        "CategoricalFocalCrossentropy",
        classes(20, 3, target="probs", edge=True),
        weighted=True,
        alpha=1.0,
        gamma=3.0,
    )
    gce = "categorical_generalized_cross_entropy"
    add(f"keras-{gce}-edge", gce, classes(20, 4, edge=True))
    add(f"keras-{gce}-loose-weighted", gce, classes(20, 3, loose=True), weighted=True, q=0.3)
    add(
        "keras-CategoricalGeneralizedCrossEntropy",
        "CategoricalGeneralizedCrossEntropy",
        classes(20, 3),
    )
    add("keras-dice-pooled", "dice", masks(10, 6))
    add("keras-dice-pooled-weighted", "dice", masks(10, 6), weighted=True)
    add(
        "keras-Dice-pooled-weighted-mean",
        "Dice",
        masks(10, 4, soft=True),
        weighted=True,
        reduction="mean_with_sample_weight",
    )
    add("keras-dice-column", "dice", binary(30, edge=True))
    add("keras-dice-rows-weighted", "dice", masks(12, 5), weighted=True, axis=-1)
    add("keras-dice-rows-column", "dice", binary(20, edge=True), axis=-1)
    add(
        "keras-Dice-rows-weighted-mean",
        "Dice",
        masks(12, 5, soft=True),
        weighted=True,
        axis=-1,
        reduction="mean_with_sample_weight",
    )
    add("keras-tversky-pooled", "tversky", masks(10, 6), alpha=0.3, beta=0.7)
    add("keras-tversky-pooled-weighted", "tversky", masks(10, 5, soft=True), weighted=True)
    add(
        "keras-Tversky-rows-weighted",
        "Tversky",
        masks(12, 5),
        weighted=True,
        axis=-1,
        alpha=0.8,
        beta=0.1,
    )
    add("keras-tversky-column", "tversky", binary(30, edge=True), alpha=0.6, beta=0.4)
    add("keras-circle", "circle", embedding_batches((12, 10, 9), 4, 3))
    add("keras-Circle-params", "Circle", embedding_batches((14,), 3, 4), gamma=40.0, margin=0.3)
    add(
        "keras-circle-diagonal",
        "circle",
        embedding_batches((9, 9), 4, 6),
        remove_diagonal=False,
    )
    add("keras-circle-weighted", "circle", embedding_batches((8, 10, 7), 4, 3), weighted=True)

    # sklearn
    add("sklearn-mean_absolute_error", "mean_absolute_error", pair(30))
    add(
        "sklearn-mean_absolute_error-weighted-outputs",
        "mean_absolute_error",
        pair(20, 3),
        weighted=True,
    )
    add("sklearn-mean_squared_error-zeros", "mean_squared_error", pair(30, zeros=True))
    add("sklearn-mean_squared_error-weighted", "mean_squared_error", pair(30), weighted=True)
    add("sklearn-mean_squared_error-outputs", "mean_squared_error", pair(20, 3))
    add("sklearn-root_mean_squared_error", "root_mean_squared_error", pair(30))
    add(
        "sklearn-root_mean_squared_error-weighted",
        "root_mean_squared_error",
        pair(30),
        weighted=True,
    )
    add("sklearn-r2_score", "r2_score", pair(30))
    add("sklearn-r2_score-weighted", "r2_score", pair(30), weighted=True)
    add("sklearn-max_error", "max_error", pair(30))
    add("sklearn-mean_pinball_loss", "mean_pinball_loss", pair(30), alpha=0.9)
    add("sklearn-mean_pinball_loss-weighted", "mean_pinball_loss", pair(30), weighted=True)
    add("sklearn-mape-zeros", "mean_absolute_percentage_error", pair(30, zeros=True))
    add("sklearn-mape-weighted", "mean_absolute_percentage_error", pair(30), weighted=True)
    add("sklearn-mean_squared_log_error", "mean_squared_log_error", pair(30, positive=True))
    add(
        "sklearn-root_mean_squared_log_error",
        "root_mean_squared_log_error",
        pair(30, positive=True),
    )
    add(
        "sklearn-mean_tweedie_deviance", "mean_tweedie_deviance", pair(30, positive=True), power=1.5
    )
    add("sklearn-mean_poisson_deviance", "mean_poisson_deviance", counts(30))
    add("sklearn-mean_gamma_deviance", "mean_gamma_deviance", pair(30, positive=True))
    add(
        "sklearn-mean_gamma_deviance-weighted",
        "mean_gamma_deviance",
        pair(30, positive=True),
        weighted=True,
    )
    add("sklearn-brier_score_loss", "brier_score_loss", binary(30, edge=True))
    add("sklearn-brier_score_loss-weighted", "brier_score_loss", binary(30), weighted=True)
    add("sklearn-hinge_loss-pm1", "hinge_loss", binary(30, pred="logits", labels="pm1"))
    add(
        "sklearn-hinge_loss-weighted",
        "hinge_loss",
        binary(30, pred="logits", labels="pm1"),
        weighted=True,
    )
    add("sklearn-zero_one_loss", "zero_one_loss", lambda rng: _labels(rng, 30))
    add(
        "sklearn-zero_one_loss-count",
        "zero_one_loss",
        lambda rng: _labels(rng, 30),
        normalize=False,
    )
    add(
        "sklearn-zero_one_loss-weighted",
        "zero_one_loss",
        lambda rng: _labels(rng, 30),
        weighted=True,
    )
    add("sklearn-hamming_loss", "hamming_loss", lambda rng: _labels(rng, 30))
    add("sklearn-log_loss-binary-edge", "log_loss", binary(30, edge=True))
    add("sklearn-log_loss-binary-weighted", "log_loss", binary(30, edge=True), weighted=True)
    add("sklearn-log_loss-binary-sum", "log_loss", binary(30), normalize=False)
    add("sklearn-log_loss-classes", "log_loss", classes(30, 4))
    add("sklearn-log_loss-classes-edge", "log_loss", classes(30, 3, edge=True))
    add("sklearn-log_loss-classes-weighted", "log_loss", classes(30, 3), weighted=True)
    add("sklearn-log_loss-classes-sum", "log_loss", classes(30, 3, edge=True), normalize=False)
    add("sklearn-log_loss-two-columns", "log_loss", classes(30, 2))
    add("sklearn-mean_absolute_error-outputs", "mean_absolute_error", pair(20, 2, zeros=True))
    add("sklearn-mean_pinball_loss-outputs", "mean_pinball_loss", pair(20, 3), alpha=0.2)
    add("sklearn-max_error-zeros", "max_error", pair(30, zeros=True))
    add("sklearn-mape-outputs", "mean_absolute_percentage_error", pair(20, 2))
    add("sklearn-root_mean_squared_error-outputs", "root_mean_squared_error", pair(20, 3))
    add("sklearn-median_absolute_error", "median_absolute_error", pair(31))
    add("sklearn-explained_variance_score", "explained_variance_score", pair(30))
    add("sklearn-d2_absolute_error_score", "d2_absolute_error_score", pair(31))
    add("sklearn-d2_pinball_score", "d2_pinball_score", pair(31), alpha=0.8)
    add("sklearn-d2_tweedie_score", "d2_tweedie_score", pair(30, positive=True), power=1.0)
    add("sklearn-d2_log_loss_score", "d2_log_loss_score", binary(30))
    add("sklearn-d2_brier_score", "d2_brier_score", binary(30))
    add("sklearn-hamming_loss-multilabel", "hamming_loss", lambda rng: _multilabel(rng, 20, 4))
    add("sklearn-label_ranking_loss", "label_ranking_loss", binary(20, 4, pred="logits"))

    # optax
    add("optax-squared_error", "squared_error", pair(30))
    add("optax-squared_error-vector", "squared_error", pair(20, 3))
    add("optax-squared_error-sum", "squared_error", pair(20, 3), reduction="sum")
    add("optax-l2_loss", "l2_loss", pair(30, zeros=True))
    add("optax-huber_loss", "huber_loss", pair(30))
    add("optax-huber_loss-delta", "huber_loss", pair(20, 3), delta=0.3)
    add("optax-log_cosh", "log_cosh", pair(30))
    add(
        "optax-sigmoid_binary_cross_entropy",
        "sigmoid_binary_cross_entropy",
        binary(30, pred="logits"),
    )
    add(
        "optax-sigmoid_binary_cross_entropy-soft",
        "sigmoid_binary_cross_entropy",
        binary(30, pred="logits", labels="soft"),
    )
    add(
        "optax-sigmoid_binary_cross_entropy-multilabel",
        "sigmoid_binary_cross_entropy",
        binary(20, 3, pred="logits"),
    )
    add(
        "optax-softmax_cross_entropy",
        "softmax_cross_entropy",
        classes(30, 4, pred="logits", target="onehot"),
    )
    add(
        "optax-softmax_cross_entropy-probs",
        "softmax_cross_entropy",
        classes(30, 3, pred="logits", target="probs"),
    )
    add(
        "optax-softmax_cross_entropy-sum",
        "softmax_cross_entropy",
        classes(30, 3, pred="logits", target="probs"),
        reduction="sum",
    )
    add(
        "optax-softmax_cross_entropy_with_integer_labels",
        "softmax_cross_entropy_with_integer_labels",
        classes(30, 4, pred="logits"),
    )
    add(
        "optax-safe_softmax_cross_entropy",
        "safe_softmax_cross_entropy",
        classes(30, 3, pred="logits", target="onehot"),
    )
    add("optax-kl_divergence", "kl_divergence", classes(20, 4, pred="logprobs", target="probs"))
    add(
        "optax-kl_divergence-onehot",
        "kl_divergence",
        classes(20, 3, pred="logprobs", target="onehot"),
    )
    add(
        "optax-kl_divergence-loose",
        "kl_divergence",
        classes(20, 3, pred="logprobs", target="probs", loose=True),
    )
    add(
        "optax-kl_divergence_with_log_targets",
        "kl_divergence_with_log_targets",
        lambda rng: _log_targets(rng, 20, 4),
    )
    add("optax-multiclass_hinge_loss", "multiclass_hinge_loss", classes(30, 4, pred="logits"))
    add(
        "optax-multiclass_perceptron_loss",
        "multiclass_perceptron_loss",
        classes(30, 4, pred="logits"),
    )
    add("optax-cosine_distance", "cosine_distance", vectors(20, 4))
    add("optax-cosine_distance-epsilon", "cosine_distance", vectors(20, 3), epsilon=1e-6)
    add("optax-cosine_similarity", "cosine_similarity", vectors(20, 4))
    add("optax-sigmoid_focal_loss", "sigmoid_focal_loss", binary(30, pred="logits"))
    add(
        "optax-sigmoid_focal_loss-alpha",
        "sigmoid_focal_loss",
        binary(30, pred="logits"),
        alpha=0.25,
        gamma=1.5,
    )
    add("optax-sigmoid_focal_loss-multilabel", "sigmoid_focal_loss", binary(20, 3, "logits"))
    add(
        "optax-poly_loss_cross_entropy",
        "poly_loss_cross_entropy",
        classes(30, 4, pred="logits", target="onehot"),
    )
    add(
        "optax-poly_loss_cross_entropy-epsilon",
        "poly_loss_cross_entropy",
        classes(30, 3, pred="logits", target="probs"),
        epsilon=-0.5,
    )
    add("optax-hinge_loss-pm1", "hinge_loss", binary(30, pred="logits", labels="pm1"))
    add("optax-hinge_loss-01", "hinge_loss", binary(30, pred="logits"))
    add("optax-triplet_margin_loss", "triplet_margin_loss", triplets(20, 4))
    add(
        "optax-triplet_margin_loss-norm1",
        "triplet_margin_loss",
        triplets(20, 3),
        norm_degree=1.0,
        margin=0.5,
    )
    add("optax-squared_error-weighted", "squared_error", pair(30), weighted=True)
    add("optax-huber_loss-weighted", "huber_loss", pair(30), weighted=True)
    add(
        "optax-sigmoid_binary_cross_entropy-weighted",
        "sigmoid_binary_cross_entropy",
        binary(30, pred="logits"),
        weighted=True,
    )
    add("optax-log_cosh-zeros", "log_cosh", pair(30, zeros=True))
    add("optax-hinge_loss-sum", "hinge_loss", binary(30, pred="logits"), reduction="sum")
    add("optax-l2_loss-vector", "l2_loss", pair(20, 2))
    add(
        "optax-multiclass_hinge_loss-sum",
        "multiclass_hinge_loss",
        classes(30, 3, pred="logits"),
        reduction="sum",
    )
    add("optax-cosine_distance-weighted", "cosine_distance", vectors(20, 3), weighted=True)
    add("optax-perceptron_loss", "perceptron_loss", binary(30, pred="logits", labels="pm1"))
    add("optax-sparsemax_loss", "sparsemax_loss", binary(30, pred="logits"))
    add(
        "optax-multiclass_sparsemax_loss",
        "multiclass_sparsemax_loss",
        classes(30, 4, pred="logits"),
    )
    add("optax-ranking_softmax_loss", "ranking_softmax_loss", lambda rng: _relevance(rng, 20, 5))
    add(
        "optax-generalized_kl_divergence",
        "generalized_kl_divergence",
        classes(20, 4, pred="logprobs", target="probs", loose=True),
    )
    add(
        "optax-generalized_kl_divergence-onehot",
        "generalized_kl_divergence",
        classes(20, 3, pred="logprobs", target="onehot", loose=True),
        weighted=True,
    )
    add(
        "optax-convex_kl_divergence",
        "convex_kl_divergence",
        classes(15, 3, pred="logprobs", target="probs"),
    )
    add("optax-dice_loss-images", "dice_loss", segments(4, 6, 3))
    add("optax-dice_loss-rows", "dice_loss", segments(1, 16, 4, keyed=False), reduction="sum")
    add(
        "optax-dice_loss-params",
        "dice_loss",
        segments(3, 7, 3),
        class_weights=[0.5, 1.0, 2.0],
        alpha=0.7,
        beta=0.3,
        smooth=0.0,
        ignore_background=True,
    )
    add("optax-binary_dice_loss-images", "binary_dice_loss", segments(4, 6, 1))
    add("optax-binary_dice_loss-wide", "binary_dice_loss", segments(5, 8, 1, wide=True))
    add("optax-binary_dice_loss-pixels", "binary_dice_loss", segments(1, 12, 1, keyed=False))
    add("optax-generalized_dice", "multiclass_generalized_dice_loss", segments(4, 6, 3))
    add(
        "optax-generalized_dice-rows",
        "multiclass_generalized_dice_loss",
        segments(1, 20, 4, keyed=False),
        smooth=0.5,
        ignore_background=True,
    )
    add("optax-ntxent", "ntxent", embedding_batches((12, 9, 10), 4, 3, unit=False))
    add("optax-ntxent-temperature", "ntxent", embedding_batches((16,), 3, 2), temperature=0.3)
    add("optax-ntxent-weighted", "ntxent", embedding_batches((8, 8, 6), 4, 2), weighted=True)

    # torchmetrics
    add("torchmetrics-mean_squared_error", "mean_squared_error", pair(30))
    add("torchmetrics-mean_squared_error-outputs", "mean_squared_error", pair(20, 3))
    add("torchmetrics-rmse", "mean_squared_error", pair(30), squared=False)
    add("torchmetrics-relative_squared_error", "relative_squared_error", pair(30, zeros=True))
    add("torchmetrics-rrse", "relative_squared_error", pair(20, 3), squared=False)
    add("torchmetrics-rmse-outputs", "mean_squared_error", pair(20, 3), squared=False)
    add("torchmetrics-mean_absolute_error", "mean_absolute_error", pair(30, zeros=True))
    add("torchmetrics-mean_absolute_error-outputs", "mean_absolute_error", pair(20, 2))
    add("torchmetrics-log_cosh_error", "log_cosh_error", pair(30))
    add("torchmetrics-r2_score", "r2_score", pair(30))
    add("torchmetrics-mean_squared_log_error", "mean_squared_log_error", pair(30, positive=True))
    add("torchmetrics-mape", "mean_absolute_percentage_error", pair(30))
    add("torchmetrics-mape-zeros", "mean_absolute_percentage_error", pair(30, zeros=True))
    add("torchmetrics-smape", "symmetric_mean_absolute_percentage_error", pair(30))
    add(
        "torchmetrics-smape-zeros", "symmetric_mean_absolute_percentage_error", pair(30, zeros=True)
    )
    add("torchmetrics-tweedie_deviance_score", "tweedie_deviance_score", pair(30))
    add(
        "torchmetrics-tweedie_deviance_score-poisson",
        "tweedie_deviance_score",
        counts(30),
        power=1.0,
    )
    add(
        "torchmetrics-tweedie_deviance_score-gamma",
        "tweedie_deviance_score",
        pair(30, positive=True),
        power=2.0,
    )
    add("torchmetrics-cosine_similarity", "cosine_similarity", vectors(20, 4))
    add(
        "torchmetrics-cosine_similarity-mean", "cosine_similarity", vectors(20, 3), reduction="mean"
    )
    add("torchmetrics-kl_divergence", "kl_divergence", classes(20, 4, target="probs"))
    add(
        "torchmetrics-kl_divergence-loose",
        "kl_divergence",
        classes(20, 3, target="probs", loose=True),
    )
    add(
        "torchmetrics-kl_divergence-sum",
        "kl_divergence",
        classes(20, 3, target="probs"),
        reduction="sum",
    )
    add(
        "torchmetrics-kl_divergence-logs",
        "kl_divergence",
        lambda rng: _both_logs(rng, 20, 4),
        log_prob=True,
    )
    add(
        "torchmetrics-jensen_shannon_divergence",
        "jensen_shannon_divergence",
        classes(20, 4, target="probs"),
    )
    add("torchmetrics-r2_score-zeros", "r2_score", pair(30, zeros=True))
    add("torchmetrics-rmse-zeros", "mean_squared_error", pair(30, zeros=True), squared=False)
    add("torchmetrics-explained_variance", "explained_variance", pair(30))
    add("torchmetrics-minkowski_distance", "minkowski_distance", pair(30), p=3.0)
    add("torchmetrics-nrmse", "normalized_root_mean_squared_error", pair(30, positive=True))
    add(
        "torchmetrics-nrmse-std",
        "normalized_root_mean_squared_error",
        pair(30),
        normalization="std",
    )
    add("torchmetrics-wmape", "weighted_mean_absolute_percentage_error", pair(30, zeros=True))
    add("torchmetrics-r2_score-adjusted", "r2_score", pair(30), adjusted=3)
    add("torchmetrics-binary_calibration_error", "binary_calibration_error", binary(60), n_bins=5)
    add(
        "torchmetrics-binary_calibration_error-max",
        "binary_calibration_error",
        binary(60, edge=True),
        n_bins=10,
        norm="max",
    )
    for k in (2, 3):
        add(f"torchmetrics-mean_squared_error-{k}", "mean_squared_error", pair(15, k, zeros=True))
        add(f"torchmetrics-mean_absolute_error-{k}", "mean_absolute_error", pair(15, k))
        add(f"torchmetrics-relative_squared_error-{k}", "relative_squared_error", pair(15, k))
        add(f"torchmetrics-log_cosh_error-{k}", "log_cosh_error", pair(15, k, zeros=True))
        add(f"torchmetrics-smape-{k}", "symmetric_mean_absolute_percentage_error", pair(15, k))
        add(f"torchmetrics-mape-{k}", "mean_absolute_percentage_error", pair(15, k))
        add(f"torchmetrics-msle-{k}", "mean_squared_log_error", pair(15, k, positive=True))
        add(f"torchmetrics-cosine_similarity-{k}", "cosine_similarity", vectors(15, k + 1))
        add(
            f"torchmetrics-jensen_shannon_divergence-{k}",
            "jensen_shannon_divergence",
            classes(15, k + 1, target="probs"),
        )
    add("torchmetrics-binary_hinge_loss-probs-edge", "binary_hinge_loss", binary(30, edge=True))
    add("torchmetrics-binary_hinge_loss-logits", "binary_hinge_loss", binary(30, pred="logits"))
    add(
        "torchmetrics-binary_hinge_loss-squared-logits",
        "binary_hinge_loss",
        binary(30, pred="logits"),
        squared=True,
    )
    add(
        "torchmetrics-binary_hinge_loss-squared-probs",
        "binary_hinge_loss",
        binary(25, labels="01"),
        squared=True,
    )
    add("torchmetrics-binary_hinge_loss-multilabel", "binary_hinge_loss", binary(15, 3, edge=True))
    add(
        "torchmetrics-binary_hinge_loss-one-outside",
        "binary_hinge_loss",
        _one_score_outside(30),
    )
    mch = "multiclass_hinge_loss"
    add(f"torchmetrics-{mch}-probs-edge", mch, classes(20, 4, edge=True))
    add(f"torchmetrics-{mch}-logits", mch, classes(20, 3, pred="logits"), num_classes=3)
    add(f"torchmetrics-{mch}-squared-logits", mch, classes(20, 4, pred="logits"), squared=True)
    add(
        f"torchmetrics-{mch}-one-vs-all-probs",
        mch,
        classes(20, 3, loose=True),
        multiclass_mode="one-vs-all",
    )
    add(
        f"torchmetrics-{mch}-one-vs-all-logits-squared",
        mch,
        classes(20, 4, pred="logits"),
        multiclass_mode="one-vs-all",
        squared=True,
    )
    return cases


def _one_score_outside(n: int) -> Builder:
    """Probabilities with exact 0s and 1s, and one score of 1.5: torchmetrics then reads every
    score as a logit."""

    def build(rng: np.random.Generator) -> Inputs:
        inputs = binary(n, edge=True)(rng)
        inputs["pred"][n // 2] = 1.5
        return inputs

    return build


def _labels(rng: np.random.Generator, n: int) -> Inputs:
    target = (rng.random(n) < 0.5).astype(np.float64)
    pred = np.where(rng.random(n) < 0.7, target, 1 - target)
    return {"pred": pred, "target": target}


def _multilabel(rng: np.random.Generator, n: int, k: int) -> Inputs:
    target = (rng.random((n, k)) < 0.4).astype(np.float64)
    pred = np.where(rng.random((n, k)) < 0.75, target, 1 - target)
    return {"pred": pred, "target": target}


def _relevance(rng: np.random.Generator, n: int, k: int) -> Inputs:
    return {"pred": rng.normal(0, 1, (n, k)), "target": rng.integers(0, 3, (n, k)).astype(float)}


def _indices(rng: np.random.Generator, n: int, k: int) -> Inputs:
    """torch's multilabel_margin targets: each row's classes first, then -1."""
    target = -np.ones((n, k))
    for row in range(n):
        chosen = rng.choice(k, size=rng.integers(1, k), replace=False)
        target[row, : len(chosen)] = chosen
    return {"pred": rng.normal(0, 1, (n, k)), "target": target}


def _log_targets(rng: np.random.Generator, n: int, k: int) -> Inputs:
    inputs = classes(n, k, pred="logprobs", target="probs")(rng)
    return {"pred": inputs["pred"], "target": np.log(inputs["target"])}


def _both_logs(rng: np.random.Generator, n: int, k: int) -> Inputs:
    inputs = classes(n, k, target="probs")(rng)
    return {"pred": np.log(inputs["pred"]), "target": np.log(inputs["target"])}


def make_case(spec: Spec) -> fixture.Case:
    library = spec.case_id.split("-")[0]
    rng = case_rng(spec.case_id)
    inputs = spec.build(rng)
    weight = rng.uniform(0.0, 2.0, len(next(iter(inputs.values())))) if spec.weighted else None
    if weight is not None:
        weight[:2] = [0.0, 2.0]
    value, source = REFERENCES[library][spec.loss](inputs, weight, dict(spec.params))
    record = case_record(spec, inputs, weight, value, source)
    return {"compat": library, **record}


def check_counts(cases: list[fixture.Case]) -> None:
    for library in REFERENCES:
        count = sum(case["compat"] == library for case in cases)
        if count < 40:
            raise SystemExit(f"{library}: {count} cases, fewer than the 40 each library needs")


GENERATOR = fixture.Generator(
    "tests/reference/generate_compat.py", OUTPUT, specs(), make_case, check_counts
)

if __name__ == "__main__":
    fixture.main(GENERATOR)
