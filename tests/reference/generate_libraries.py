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
from generate_classification import as_array, binary, classes, sigmoid
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


REFERENCES: dict[str, Reference] = {
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
