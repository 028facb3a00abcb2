"""Generate reference values for the classification losses from the reference implementations.

Every case's inputs come from a numpy Generator seeded from the case id, and its expected value is
computed by PyTorch (torch.nn losses), scikit-learn (sklearn.metrics), SciPy or, where none of them
has the loss, a hand formula evaluated with float64 torch tensors and stated in the case's
``source``. Nothing is rounded: the fixture stores full float64 values (class indices and hard
labels as integers), and rerunning a case rewrites it byte for byte on the same machine.

torch, scikit-learn and SciPy are needed only to regenerate ``classification.json``, not to run the
tests that read it, and each only for the cases that use it. To regenerate, from the repository
root run (README.md beside this file says more):

    python3 tests/reference/generate_classification.py              # every case
    python3 tests/reference/generate_classification.py --only ID    # one case, the others untouched
    python3 tests/reference/generate_classification.py --add ID     # a case new in specs()
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fixture
import numpy as np
from fixture import Builder, Inputs, Library, Spec, case_record, case_rng

OUTPUT = Path(__file__).with_name("classification.json")
torch = Library("torch")
metrics = Library("sklearn.metrics")
distance = Library("scipy.spatial.distance")

Weight = np.ndarray | None
Reference = Callable[[dict[str, Any], Inputs, Weight], tuple[float, str]]

EXTREME = 1e4  # logits this large saturate sigmoid/softmax; float64 references stay finite
TENSOR_KWARGS = {"weight", "pos_weight"}  # torch wants these as tensors
WEIGHTED = "; then sum(w * l) / sum(w) over rows in float64"
ROW_MEAN_WEIGHTED = "; mean over each row's elements, then sum(w * rowmean) / sum(w) in float64"


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def class_weights(k: int) -> list[float]:
    """Exactly representable per-class weights for k <= 10 classes."""
    return [1.0, 2.0, 0.5, 1.5, 0.25, 3.0, 0.75, 1.25, 2.5, 0.125][:k]


# ---------------------------------------------------------------------------- input builders


def binary(
    n: int,
    k: int = 0,
    pred: str = "probs",
    labels: str = "01",
    scale: float = 1.5,
    extreme: bool = False,
) -> Builder:
    """Binary targets drawn from sigmoid(z), z ~ N(0, scale), and a noisy score z + N(0, 1).

    ``pred`` is "probs" (sigmoid of the score) or "logits" (the score itself); ``labels`` is "01"
    or "pm1" (integer labels) or "soft" (targets in [0, 1], some exactly 0 or 1). The first two
    elements are one positive and one negative, so both labels always occur. ``extreme`` sets six
    scores to +-1e4, agreeing and disagreeing with their labels.
    """

    def build(rng: np.random.Generator) -> Inputs:
        shape = (n, k) if k else (n,)
        z = rng.normal(0.0, scale, shape)
        hit = rng.random(shape) < sigmoid(z)
        hit.flat[:2] = [True, False]
        score = z + rng.normal(0.0, 1.0, shape)
        if extreme:
            where = rng.choice(score.size, size=6, replace=False)
            score.flat[where] = [EXTREME, -EXTREME, EXTREME, -EXTREME, EXTREME, -EXTREME]
            hit.flat[where] = [True, False, False, True, True, False]
        if labels == "soft":
            target = np.clip(sigmoid(z) + rng.normal(0.0, 0.2, shape), 0.0, 1.0)
            target.flat[:2] = [1.0, 0.0]
        elif labels == "pm1":
            target = np.where(hit, 1, -1)
        else:
            target = hit.astype(np.int64)
        return {"pred": sigmoid(score) if pred == "probs" else score, "target": target}

    return build


def bce_clamp(n: int) -> Builder:
    """Probabilities with exact 0 and 1 (and 1e-50) against both labels: log is clamped at -100."""

    def build(rng: np.random.Generator) -> Inputs:
        inputs = binary(n)(rng)
        inputs["pred"][:6] = [0.0, 0.0, 1.0, 1.0, 1e-50, 1e-50]
        inputs["target"][:6] = [0, 1, 0, 1, 0, 1]
        return inputs

    return build


def classes(
    n: int,
    k: int,
    pred: str = "logits",
    target: str = "index",
    scale: float = 2.0,
    ignore: int | None = None,
    extreme: bool = False,
) -> Builder:
    """Logits z ~ N(0, scale) of shape (n, k) and a class y sampled from softmax(z) per row.

    ``pred`` is "logits" (z), "probs" (softmax rows) or "logprobs" (log-softmax rows); ``target``
    is "index" (y), "onehot" (rows of the identity) or "probs" (an unrelated softmax row).
    ``ignore`` sets a quarter of the rows' index to that value (at least three rows); ``extreme``
    sets eight logits to +-1e4, some of them on the target class.
    """

    def build(rng: np.random.Generator) -> Inputs:
        z = rng.normal(0.0, scale, (n, k))
        y = np.argmax(z + rng.gumbel(size=(n, k)), axis=1).astype(np.int64)
        if extreme:
            rows = rng.choice(n, size=8, replace=False)
            cols = rng.integers(0, k, 8)
            cols[:2] = y[rows[:2]]
            z[rows, cols] = [EXTREME, -EXTREME, EXTREME, -EXTREME, EXTREME, -EXTREME, EXTREME, 0.5]
        if ignore is not None:
            y[rng.choice(n, size=max(3, n // 4), replace=False)] = ignore
        inputs: Inputs = {"pred": z}
        if pred == "probs":
            inputs["pred"] = softmax(z)
        elif pred == "logprobs":
            inputs["pred"] = log_softmax(z)
        if target == "onehot":
            inputs["target"] = np.eye(k)[y]
        elif target == "probs":
            inputs["target"] = softmax(rng.normal(0.0, 1.5, (n, k)))
        else:
            inputs["target"] = y
        return inputs

    return build


def distributions(
    n: int, k: int, zeros: bool = False, pred_log: bool = False, target_log: bool = False
) -> Builder:
    """Target rows t = softmax(a) and pred rows q = softmax(a + noise), a ~ N(0, 1).

    ``zeros`` puts exact zeros into three target rows (one becomes one-hot) and renormalises them;
    ``pred_log`` / ``target_log`` give log-softmax rows instead.
    """

    def build(rng: np.random.Generator) -> Inputs:
        a = rng.normal(0.0, 1.0, (n, k))
        b = a + rng.normal(0.0, 0.7, (n, k))
        target = softmax(a)
        if zeros:
            target[0, : k // 2] = 0.0
            target[1, 1:] = 0.0
            target[2, -1] = 0.0
            target[:3] /= target[:3].sum(axis=1, keepdims=True)
        return {
            "pred": log_softmax(b) if pred_log else softmax(b),
            "target": log_softmax(a) if target_log else target,
        }

    return build


def js_pairs(n: int, k: int, zeros: bool = False) -> Builder:
    """Two probability rows per case; ``zeros`` puts exact zeros into both pred and target."""

    def build(rng: np.random.Generator) -> Inputs:
        inputs = distributions(n, k, zeros=zeros)(rng)
        if zeros:
            pred = inputs["pred"]
            pred[0, -1] = 0.0
            pred[3, :2] = 0.0
            pred[[0, 3]] /= pred[[0, 3]].sum(axis=1, keepdims=True)
        return inputs

    return build


def thresholded(n: int, threshold: float) -> Builder:
    """Binary probabilities with four of them exactly at the threshold, two just below it."""

    def build(rng: np.random.Generator) -> Inputs:
        inputs = binary(n)(rng)
        where = rng.choice(np.arange(2, n), size=6, replace=False)
        below = np.nextafter(threshold, 0.0)
        inputs["pred"][where] = [threshold] * 4 + [below] * 2
        return inputs

    return build


def ghm(n: int, saturated: bool = False) -> Builder:
    """Binary logits and {0, 1} targets; ``saturated`` adds logits of +-40 (g exactly 0 or 1)."""

    def build(rng: np.random.Generator) -> Inputs:
        inputs = binary(n, pred="logits", scale=2.5)(rng)
        if saturated:
            inputs["pred"][2:8] = [40.0, -40.0, 40.0, -40.0, 40.0, -40.0]
            inputs["target"][2:8] = [0, 1, 1, 0, 0, 1]
        return inputs

    return build


def tokens(n: int) -> Builder:
    """Token log-probabilities log(u), u ~ U[0.01, 1)."""

    def build(rng: np.random.Generator) -> Inputs:
        return {"pred": np.log(rng.uniform(0.01, 1.0, n))}

    return build


def discriminator(n: int, kind: str) -> Builder:
    """D outputs on real and fake rows: "probs" in (0, 1), otherwise real-valued scores."""

    def build(rng: np.random.Generator) -> Inputs:
        real = rng.normal(0.8, 1.2, n)
        fake = rng.normal(-0.8, 1.2, n)
        if kind == "probs":
            return {"real": sigmoid(real), "fake": sigmoid(fake)}
        return {"real": real, "fake": fake}

    return build


def generator_scores(n: int, kind: str) -> Builder:
    """D outputs on fake rows only."""

    def build(rng: np.random.Generator) -> Inputs:
        return {"fake": discriminator(n, kind)(rng)["fake"]}

    return build


def reconstruction(n: int, f: int, kind: str = "mse") -> Builder:
    """(n, f) rows: normal values, or for kind "bce" targets in [0, 1] and probabilities."""

    def build(rng: np.random.Generator) -> Inputs:
        if kind == "bce":
            target = np.clip(rng.normal(0.5, 0.35, (n, f)), 0.0, 1.0)
            pred = sigmoid(rng.normal(0.0, 1.0, (n, f)) + 3.0 * (target - 0.5))
            return {"pred": pred, "target": target}
        target = rng.normal(0.0, 1.0, (n, f))
        return {"pred": target + rng.normal(0.0, 0.5, (n, f)), "target": target}

    return build


# ---------------------------------------------------------------------------- the cases


def specs() -> list[Spec]:
    s: list[Spec] = []

    def add(case_id: str, loss: str, build: Builder, weighted: bool = False, **params: Any) -> None:
        s.append(Spec(case_id, loss, build, params, weighted))

    add("bce-default", "bce", binary(25))
    add("bce-weighted", "bce", binary(19), weighted=True)
    add("bce-soft", "bce", binary(24, labels="soft"))
    add("bce-clamp", "bce", bce_clamp(16))
    add("bce-multilabel", "bce", binary(12, 4))
    add("bce-multilabel-weighted", "bce", binary(10, 3, labels="soft"), weighted=True)
    add("bce-logits", "bce", binary(26, pred="logits"), input="logits")
    add("bce-logits-weighted", "bce", binary(18, pred="logits"), weighted=True, input="logits")
    add("bce-logits-extreme", "bce", binary(20, pred="logits", extreme=True), input="logits")
    add("bce-logits-posweight", "bce", binary(22, pred="logits"), input="logits", pos_weight=2.5)
    add(
        "bce-logits-posweight-multilabel-weighted",
        "bce",
        binary(9, 3, pred="logits", labels="soft"),
        weighted=True,
        input="logits",
        pos_weight=0.4,
    )
    add("bce-posweight", "bce", binary(22), pos_weight=3.0)
    add("bce-posweight-weighted", "bce", binary(17, labels="soft"), weighted=True, pos_weight=0.5)
    add("bce-labelsmoothing", "bce", binary(21), label_smoothing=0.1)
    add(
        "bce-logits-labelsmoothing",
        "bce",
        binary(21, pred="logits"),
        input="logits",
        label_smoothing=0.2,
    )

    add("ce-default-index", "ce", classes(25, 5))
    add("ce-weighted-index", "ce", classes(19, 5), weighted=True)
    add("ce-binary-index", "ce", classes(20, 2))
    add("ce-k10-index", "ce", classes(30, 10))
    add("ce-classweights-index", "ce", classes(24, 5), weight=class_weights(5))
    add(
        "ce-classweights-weighted-index",
        "ce",
        classes(18, 3),
        weighted=True,
        weight=class_weights(3),
    )
    add("ce-ignoreindex-default", "ce", classes(22, 5, ignore=-100))
    add("ce-ignoreindex-custom", "ce", classes(22, 5, ignore=3), ignore_index=3)
    add(
        "ce-ignoreindex-classweights-weighted",
        "ce",
        classes(20, 5, ignore=-100),
        weighted=True,
        weight=class_weights(5),
    )
    add("ce-labelsmoothing-index", "ce", classes(23, 5), label_smoothing=0.1)
    add(
        "ce-labelsmoothing-classweights-index",
        "ce",
        classes(23, 5),
        weight=class_weights(5),
        label_smoothing=0.2,
    )
    add(
        "ce-labelsmoothing-classweights-weighted-index",
        "ce",
        classes(16, 3),
        weighted=True,
        weight=class_weights(3),
        label_smoothing=0.3,
    )
    add("ce-probtarget", "ce", classes(21, 5, target="probs"))
    add("ce-probtarget-weighted", "ce", classes(17, 3, target="probs"), weighted=True)
    add(
        "ce-probtarget-labelsmoothing",
        "ce",
        classes(21, 5, target="probs"),
        label_smoothing=0.15,
    )
    add(
        "ce-probtarget-classweights",
        "ce",
        classes(18, 5, target="probs"),
        weight=class_weights(5),
    )
    add("ce-probs-index", "ce", classes(24, 5, pred="probs"), input="probs")
    add("ce-probs-weighted-index", "ce", classes(15, 3, pred="probs"), weighted=True, input="probs")
    add("ce-logprobs-index", "ce", classes(24, 5, pred="logprobs"), input="logprobs")
    add("ce-k1000-index", "ce", classes(20, 1000, scale=3.0))
    add("ce-extreme-index", "ce", classes(20, 5, extreme=True))

    add("label_smoothing_ce-default", "label_smoothing_ce", classes(25, 5))
    add("label_smoothing_ce-weighted", "label_smoothing_ce", classes(18, 5), weighted=True)
    add(
        "label_smoothing_ce-0.2-classweights",
        "label_smoothing_ce",
        classes(22, 5),
        weight=class_weights(5),
        label_smoothing=0.2,
    )

    add("nll-default", "nll", classes(25, 5, pred="logprobs"))
    add("nll-weighted", "nll", classes(18, 5, pred="logprobs"), weighted=True)
    add("nll-classweights", "nll", classes(24, 3, pred="logprobs"), weight=class_weights(3))
    add(
        "nll-classweights-weighted",
        "nll",
        classes(17, 5, pred="logprobs"),
        weighted=True,
        weight=class_weights(5),
    )
    add("nll-ignoreindex-default", "nll", classes(22, 5, pred="logprobs", ignore=-100))
    add(
        "nll-ignoreindex-custom-classweights",
        "nll",
        classes(22, 3, pred="logprobs", ignore=1),
        weight=class_weights(3),
        ignore_index=1,
    )

    add("kl_div-default", "kl_div", distributions(20, 5))
    add("kl_div-weighted", "kl_div", distributions(16, 5), weighted=True)
    add("kl_div-zerotarget", "kl_div", distributions(18, 4, zeros=True))
    add("kl_div-logprobs", "kl_div", distributions(20, 10, pred_log=True), input="logprobs")
    add("kl_div-logtarget", "kl_div", distributions(20, 3, target_log=True), log_target=True)
    add(
        "kl_div-logprobs-logtarget-weighted",
        "kl_div",
        distributions(15, 5, pred_log=True, target_log=True),
        weighted=True,
        input="logprobs",
        log_target=True,
    )

    add("js_div-default", "js_div", js_pairs(20, 5))
    add("js_div-weighted", "js_div", js_pairs(16, 3), weighted=True)
    add("js_div-zeros", "js_div", js_pairs(18, 4, zeros=True))

    add("hinge-default", "hinge", binary(25, pred="logits", labels="pm1"))
    add("hinge-weighted", "hinge", binary(19, pred="logits", labels="pm1"), weighted=True)
    add("hinge-01labels", "hinge", binary(24, pred="logits"))
    add("hinge-01labels-weighted", "hinge", binary(17, pred="logits"), weighted=True)

    add("squared_hinge-default", "squared_hinge", binary(25, pred="logits", labels="pm1"))
    add(
        "squared_hinge-weighted",
        "squared_hinge",
        binary(19, pred="logits", labels="pm1"),
        weighted=True,
    )
    add("squared_hinge-01labels", "squared_hinge", binary(24, pred="logits"))

    add("multiclass_hinge-default", "multiclass_hinge", classes(25, 5, scale=1.0))
    add(
        "multiclass_hinge-weighted",
        "multiclass_hinge",
        classes(18, 3, scale=1.0),
        weighted=True,
    )
    add("multiclass_hinge-margin2", "multiclass_hinge", classes(22, 5, scale=1.0), margin=2.0)
    add(
        "multiclass_hinge-ww",
        "multiclass_hinge",
        classes(25, 5, scale=1.0),
        variant="weston_watkins",
    )
    add(
        "multiclass_hinge-ww-power2",
        "multiclass_hinge",
        classes(21, 10, scale=1.0),
        variant="weston_watkins",
        power=2,
    )
    add(
        "multiclass_hinge-ww-margin0.5-power2-weighted",
        "multiclass_hinge",
        classes(17, 3, scale=1.0),
        weighted=True,
        variant="weston_watkins",
        margin=0.5,
        power=2,
    )

    add("soft_margin-default", "soft_margin", binary(25, pred="logits", labels="pm1"))
    add(
        "soft_margin-weighted",
        "soft_margin",
        binary(19, pred="logits", labels="pm1"),
        weighted=True,
    )
    add("soft_margin-multioutput", "soft_margin", binary(12, 3, pred="logits", labels="pm1"))
    add(
        "soft_margin-multioutput-weighted",
        "soft_margin",
        binary(10, 5, pred="logits", labels="pm1"),
        weighted=True,
    )
    add(
        "soft_margin-extreme",
        "soft_margin",
        binary(20, pred="logits", labels="pm1", extreme=True),
    )

    add("multilabel_soft_margin-default", "multilabel_soft_margin", binary(15, 4, pred="logits"))
    add(
        "multilabel_soft_margin-weighted",
        "multilabel_soft_margin",
        binary(12, 3, pred="logits"),
        weighted=True,
    )
    add(
        "multilabel_soft_margin-classweights",
        "multilabel_soft_margin",
        binary(14, 5, pred="logits"),
        weight=class_weights(5),
    )
    add(
        "multilabel_soft_margin-classweights-weighted",
        "multilabel_soft_margin",
        binary(11, 3, pred="logits"),
        weighted=True,
        weight=class_weights(3),
    )

    add("exponential-default", "exponential", binary(25, pred="logits", labels="pm1", scale=1.0))
    add(
        "exponential-weighted",
        "exponential",
        binary(19, pred="logits", labels="pm1", scale=1.0),
        weighted=True,
    )
    add("exponential-01labels", "exponential", binary(22, pred="logits", scale=1.0))

    add("focal-default", "focal", binary(25, pred="logits"))
    add("focal-weighted", "focal", binary(19, pred="logits"), weighted=True)
    add("focal-alpha-1", "focal", binary(24, pred="logits"), alpha=-1.0)
    add("focal-gamma0", "focal", binary(24, pred="logits"), alpha=-1.0, gamma=0.0)
    add("focal-alpha0.6-gamma0.5", "focal", binary(23, pred="logits"), alpha=0.6, gamma=0.5)
    add("focal-probs", "focal", binary(22), input="probs")
    add("focal-probs-weighted", "focal", binary(16), weighted=True, input="probs", gamma=1.0)
    add("focal-extreme", "focal", binary(20, pred="logits", extreme=True))

    add("softmax_focal-default", "softmax_focal", classes(25, 5))
    add("softmax_focal-weighted", "softmax_focal", classes(18, 3), weighted=True)
    add("softmax_focal-probs", "softmax_focal", classes(22, 5, pred="probs"), input="probs")
    add("softmax_focal-onehot", "softmax_focal", classes(20, 5, target="onehot"))
    add(
        "softmax_focal-alpha0.25-gamma0.5",
        "softmax_focal",
        classes(21, 10),
        alpha=0.25,
        gamma=0.5,
    )
    add("softmax_focal-gamma0", "softmax_focal", classes(21, 5), gamma=0.0)

    add("ghm_c-default", "ghm_c", ghm(200))
    add("ghm_c-bins5-saturated", "ghm_c", ghm(200, saturated=True), bins=5)
    add("ghm_c-weighted", "ghm_c", ghm(180), weighted=True)

    add("brier-default", "brier", binary(25))
    add("brier-weighted", "brier", binary(19), weighted=True)
    add("brier-multiclass", "brier", classes(24, 4, pred="probs"))
    add("brier-multiclass-weighted", "brier", classes(18, 3, pred="probs"), weighted=True)
    add("brier-multiclass-k2", "brier", classes(20, 2, pred="probs"))
    add("brier-onehot", "brier", classes(20, 5, pred="probs", target="onehot"))

    add("zero_one-default", "zero_one", thresholded(25, 0.5))
    add("zero_one-threshold0.3", "zero_one", thresholded(24, 0.3), threshold=0.3)
    add("zero_one-weighted", "zero_one", binary(19), weighted=True)
    add("zero_one-multiclass", "zero_one", classes(26, 5))
    add("zero_one-multiclass-weighted", "zero_one", classes(18, 3), weighted=True)

    add("poly1-default", "poly1", classes(25, 5))
    add("poly1-epsilon2", "poly1", classes(23, 5), epsilon=2.0)
    add("poly1-weighted", "poly1", classes(18, 3), weighted=True)

    add("gce-default", "gce", classes(25, 5))
    add("gce-q1", "gce", classes(23, 5), q=1.0)
    add("gce-q0.3", "gce", classes(23, 10), q=0.3)
    add("gce-weighted", "gce", classes(18, 3), weighted=True)

    add("perplexity-default", "perplexity", tokens(30))
    add("perplexity-weighted", "perplexity", tokens(21), weighted=True)
    add("perplexity-logits", "perplexity", classes(20, 10), input="logits")
    add("perplexity-logits-weighted", "perplexity", classes(16, 5), weighted=True, input="logits")

    add("gan_d-default", "gan_d", discriminator(25, "probs"))
    add("gan_d-weighted", "gan_d", discriminator(18, "probs"), weighted=True)
    add("gan_d-logits", "gan_d", discriminator(24, "scores"), input="logits")
    add("gan_d-lsgan", "gan_d", discriminator(22, "scores"), mode="lsgan")
    add("gan_d-hinge", "gan_d", discriminator(22, "scores"), mode="hinge")
    add("gan_d-hinge-weighted", "gan_d", discriminator(17, "scores"), weighted=True, mode="hinge")
    add("gan_d-wasserstein", "gan_d", discriminator(22, "scores"), mode="wasserstein")

    add("gan_g-default", "gan_g", generator_scores(25, "probs"))
    add("gan_g-weighted", "gan_g", generator_scores(18, "probs"), weighted=True)
    add("gan_g-logits", "gan_g", generator_scores(24, "scores"), input="logits")
    add("gan_g-minimax", "gan_g", generator_scores(22, "probs"), mode="minimax")
    add(
        "gan_g-minimax-logits",
        "gan_g",
        generator_scores(22, "scores"),
        mode="minimax",
        input="logits",
    )
    add("gan_g-lsgan", "gan_g", generator_scores(22, "scores"), mode="lsgan")
    add("gan_g-hinge", "gan_g", generator_scores(22, "scores"), mode="hinge")
    add("gan_g-wasserstein", "gan_g", generator_scores(22, "scores"), mode="wasserstein")

    add("reconstruction-default", "reconstruction", reconstruction(20, 6))
    add("reconstruction-weighted", "reconstruction", reconstruction(16, 4), weighted=True)
    add("reconstruction-mae", "reconstruction", reconstruction(20, 6), kind="mae")
    add("reconstruction-bce", "reconstruction", reconstruction(20, 6, "bce"), kind="bce")
    add("reconstruction-sum", "reconstruction", reconstruction(20, 6), features="sum")
    add(
        "reconstruction-bce-sum-weighted",
        "reconstruction",
        reconstruction(15, 5, "bce"),
        weighted=True,
        kind="bce",
        features="sum",
    )
    return s


# ---------------------------------------------------------------------------- reference helpers


def weights_for(rng: np.random.Generator, n: int) -> np.ndarray:
    """Positive sample weights in (0, 3]."""
    return 3.0 * (1.0 - rng.random(n))


def tensor(a: Any) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64)


def index_tensor(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.int64)


def call_text(name: str, kwargs: dict[str, Any], reduction: str) -> str:
    shown = "".join(
        f"{key}=torch.tensor({value!r}), " if key in TENSOR_KWARGS else f"{key}={value!r}, "
        for key, value in kwargs.items()
    )
    return f"torch.nn.{name}({shown}reduction={reduction!r})"


def torch_module(name: str, kwargs: dict[str, Any], reduction: str) -> torch.nn.Module:
    values = {key: tensor(v) if key in TENSOR_KWARGS else v for key, v in kwargs.items()}
    return getattr(torch.nn, name)(**values, reduction=reduction)


def weighted_mean(rows: np.ndarray, weight: np.ndarray) -> float:
    return float(np.sum(weight * rows) / np.sum(weight))


def torch_reference(
    name: str,
    kwargs: dict[str, Any],
    args: tuple[torch.Tensor, ...],
    weight: Weight,
    note: str = "",
) -> tuple[float, str]:
    """torch's own mean (over all elements; rows are equal-sized) or, weighted, rows' means."""
    if weight is None:
        value = torch_module(name, kwargs, "mean")(*args).item()
        return value, call_text(name, kwargs, "mean") + note
    elementwise = torch_module(name, kwargs, "none")(*args)
    rows = elementwise.reshape(len(weight), -1).mean(dim=1).numpy()
    suffix = WEIGHTED if elementwise.ndim == 1 else ROW_MEAN_WEIGHTED
    return weighted_mean(rows, weight), call_text(name, kwargs, "none") + note + suffix


def rows_reference(rows: torch.Tensor, weight: Weight, source: str) -> tuple[float, str]:
    """Mean of per-row values computed elsewhere (elements of a row averaged first)."""
    values = rows.reshape(rows.shape[0], -1).mean(dim=1)
    if weight is None:
        per_row = "mean over each row's elements, then " if rows.ndim > 1 else ""
        return values.mean().item(), f"{source}; {per_row}mean over rows"
    suffix = ROW_MEAN_WEIGHTED if rows.ndim > 1 else WEIGHTED
    return weighted_mean(values.numpy(), weight), source + suffix


def sklearn_reference(
    name: str, target: np.ndarray, pred: np.ndarray, weight: Weight, **kwargs: Any
) -> tuple[float, str]:
    extra = dict(kwargs)
    if weight is not None:
        extra["sample_weight"] = weight
    value = float(getattr(metrics, name)(target, pred, **extra))
    shown = "".join(f", {key}={v!r}" for key, v in kwargs.items())
    weight_text = ", sample_weight=weight" if weight is not None else ""
    return value, f"sklearn.metrics.{name}(target, pred{weight_text}{shown})"


def signed(target: np.ndarray) -> torch.Tensor:
    """Labels in {-1, 1} or {0, 1} as +-1 (0 means -1)."""
    return tensor(np.where(target == 0, -1, target))


def target_probability(
    pred: torch.Tensor, log_pred: torch.Tensor, target: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor]:
    """p_y and log p_y per row for an index target."""
    y = index_tensor(target)[:, None]
    return pred.gather(1, y)[:, 0], log_pred.gather(1, y)[:, 0]


def softmax_pair(inputs: Inputs) -> tuple[torch.Tensor, torch.Tensor]:
    """torch.softmax and torch.log_softmax of the (n, K) logits."""
    logits = tensor(inputs["pred"])
    return torch.softmax(logits, dim=1), torch.log_softmax(logits, dim=1)


# ---------------------------------------------------------------------------- references


def bce_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    pred, target = tensor(inputs["pred"]), tensor(inputs["target"])
    note = ""
    eps = params.get("label_smoothing", 0.0)
    if eps:
        target = target * (1.0 - eps) + eps / 2.0
        note = f"; target smoothed first to t * (1 - {eps!r}) + {eps!r} / 2"
    kwargs = {"pos_weight": params["pos_weight"]} if "pos_weight" in params else {}
    if params.get("input", "probs") == "logits":
        return torch_reference("BCEWithLogitsLoss", kwargs, (pred, target), weight, note)
    if not kwargs:
        return torch_reference("BCELoss", {}, (pred, target), weight, note)
    pw = params["pos_weight"]
    log_p = torch.clamp(torch.log(pred), min=-100.0)
    log_q = torch.clamp(torch.log(1.0 - pred), min=-100.0)
    rows = -(pw * target * log_p + (1.0 - target) * log_q)
    formula = (
        f"hand formula in torch: -[{pw!r} * t * max(log p, -100) + (1 - t) * max(log(1 - p), -100)]"
        " (torch.nn.BCELoss's clamp, with pos_weight)"
    )
    return rows_reference(rows, weight, formula + note)


def class_kwargs(params: dict[str, Any], default_smoothing: float = 0.0) -> dict[str, Any]:
    kwargs = {key: params[key] for key in ("weight", "ignore_index") if key in params}
    smoothing = params.get("label_smoothing", default_smoothing)
    if smoothing:
        kwargs["label_smoothing"] = smoothing
    return kwargs


def class_index_reference(
    name: str,
    kwargs: dict[str, Any],
    pred: torch.Tensor,
    target: np.ndarray,
    weight: Weight,
    note: str = "",
) -> tuple[float, str]:
    """CrossEntropyLoss / NLLLoss with index targets; weighted: sum(s l) / sum(s w[y])."""
    args = (pred, index_tensor(target))
    if weight is None:
        value = torch_module(name, kwargs, "mean")(*args).item()
        return value, call_text(name, kwargs, "mean") + note
    rows = torch_module(name, kwargs, "none")(*args).numpy()
    per_class = np.asarray(kwargs.get("weight", np.ones(pred.shape[1])), dtype=np.float64)
    kept = target != kwargs.get("ignore_index", -100)
    row_class_weight = np.where(kept, per_class[np.where(kept, target, 0)], 0.0)
    value = float(np.sum(weight * rows) / np.sum(weight * row_class_weight))
    if "weight" in kwargs:
        reduction = "; then sum(s * l) / sum(s * w[y]) over rows in float64 (s = sample weight,"
        reduction += " w[y] = class weight of the row's target)"
    else:
        reduction = WEIGHTED
    if not kept.all():
        reduction += ", ignored rows counting in neither sum"
    return value, call_text(name, kwargs, "none") + note + reduction


def cross_entropy(
    params: dict[str, Any], inputs: Inputs, weight: Weight, default_smoothing: float
) -> tuple[float, str]:
    mode = params.get("input", "logits")
    pred = tensor(inputs["pred"])
    note = ""
    if mode == "probs":
        pred = torch.log(pred)
        note = "; fed log(pred)"
    elif mode == "logprobs":
        note = "; fed the log-probabilities as they are (log_softmax is idempotent)"
    kwargs = class_kwargs(params, default_smoothing)
    target = inputs["target"]
    if target.ndim == 1:
        return class_index_reference("CrossEntropyLoss", kwargs, pred, target, weight, note)
    note += "; probability targets"
    return torch_reference("CrossEntropyLoss", kwargs, (pred, tensor(target)), weight, note)


def ce_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    return cross_entropy(params, inputs, weight, 0.0)


def label_smoothing_ce_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    return cross_entropy(params, inputs, weight, 0.1)


def nll_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    pred = tensor(inputs["pred"])
    return class_index_reference("NLLLoss", class_kwargs(params), pred, inputs["target"], weight)


def kl_div_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    pred = tensor(inputs["pred"])
    note = "; fed pred as log q"
    if params.get("input", "probs") != "logprobs":
        pred = torch.log(pred)
        note = "; fed log(pred)"
    kwargs = {"log_target": True} if params.get("log_target", False) else {}
    args = (pred, tensor(inputs["target"]))
    if weight is None:
        value = torch_module("KLDivLoss", kwargs, "batchmean")(*args).item()
        return value, call_text("KLDivLoss", kwargs, "batchmean") + note
    rows = torch_module("KLDivLoss", kwargs, "none")(*args).sum(dim=1).numpy()
    source = call_text("KLDivLoss", kwargs, "none") + note + "; summed over each row's classes"
    return weighted_mean(rows, weight), source + WEIGHTED


def js_div_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    rows = distance.jensenshannon(inputs["pred"], inputs["target"], axis=1) ** 2
    source = "scipy.spatial.distance.jensenshannon(pred, target, axis=1) ** 2 (natural log)"
    if weight is None:
        return float(np.mean(rows)), source + "; mean over rows"
    return weighted_mean(rows, weight), source + WEIGHTED


def hinge_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    return sklearn_reference("hinge_loss", inputs["target"], inputs["pred"], weight)


def squared_hinge_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    y = signed(inputs["target"])
    rows = torch.clamp(1.0 - y * tensor(inputs["pred"]), min=0.0) ** 2
    formula = "hand formula (keras SquaredHinge): max(0, 1 - y s)^2 in torch, label 0 read as -1"
    return rows_reference(rows, weight, formula)


def multiclass_hinge_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    margin = params.get("margin", 1.0)
    power = params.get("power", 1)
    pred, target = inputs["pred"], inputs["target"]
    k = pred.shape[1]
    if params.get("variant", "crammer_singer") == "weston_watkins":
        kwargs = {"p": power, "margin": margin}
        args = (tensor(pred), index_tensor(target))
        return torch_reference("MultiMarginLoss", kwargs, args, weight)
    if margin == 1.0 and power == 1:
        return sklearn_reference("hinge_loss", target, pred, weight, labels=list(range(k)))
    scores = tensor(pred)
    y = index_tensor(target)[:, None]
    own = scores.gather(1, y)[:, 0]
    others = scores.scatter(1, y, -math.inf).max(dim=1).values
    rows = torch.clamp(margin + others - own, min=0.0) ** power
    formula = (
        f"hand formula (Crammer & Singer) in torch: max(0, {margin!r} + max_(j != y) s_j - s_y)"
        f" ** {power!r}"
    )
    return rows_reference(rows, weight, formula)


def soft_margin_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    pred, target = tensor(inputs["pred"]), tensor(inputs["target"])
    if np.max(np.abs(inputs["pred"])) < 700.0:
        return torch_reference("SoftMarginLoss", {}, (pred, target), weight)
    note = (
        " on (pred, (target + 1) / 2), which is log(1 + exp(-y s)); torch.nn.SoftMarginLoss"
        " computes log1p(exp(-y s)) and overflows to inf for -y s > 709"
    )
    return torch_reference("BCEWithLogitsLoss", {}, (pred, (target + 1.0) / 2.0), weight, note)


def multilabel_soft_margin_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    kwargs = {"weight": params["weight"]} if "weight" in params else {}
    args = (tensor(inputs["pred"]), tensor(inputs["target"]))
    return torch_reference("MultiLabelSoftMarginLoss", kwargs, args, weight)


def exponential_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    rows = torch.exp(-signed(inputs["target"]) * tensor(inputs["pred"]))
    return rows_reference(rows, weight, "hand formula: exp(-y s) in torch, label 0 read as -1")


def focal_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    alpha = params.get("alpha", 0.25)
    gamma = params.get("gamma", 2.0)
    pred, t = tensor(inputs["pred"]), tensor(inputs["target"])
    if params.get("input", "logits") == "probs":
        p = pred
        ce = torch.nn.BCELoss(reduction="none")(pred, t)
        ce_text = "p = pred, ce = torch.nn.BCELoss(reduction='none')(p, t)"
    else:
        p = torch.sigmoid(pred)
        ce = torch.nn.BCEWithLogitsLoss(reduction="none")(pred, t)
        ce_text = "p = sigmoid(x), ce = torch.nn.BCEWithLogitsLoss(reduction='none')(x, t)"
    p_t = p * t + (1.0 - p) * (1.0 - t)
    rows = ce * (1.0 - p_t) ** gamma
    formula = "torchvision sigmoid_focal_loss formula in torch: "
    formula += f"{ce_text}, p_t = p t + (1 - p)(1 - t), ce * (1 - p_t) ** {gamma!r}"
    if alpha >= 0:
        rows = (alpha * t + (1.0 - alpha) * (1.0 - t)) * rows
        formula += f" * ({alpha!r} t + (1 - {alpha!r}) (1 - t))"
    return rows_reference(rows, weight, formula)


def softmax_focal_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    alpha = params.get("alpha", 1.0)
    gamma = params.get("gamma", 2.0)
    if params.get("input", "logits") == "probs":
        p = tensor(inputs["pred"])
        log_p = torch.log(p)
        where = "p = pred, log p = torch.log(pred)"
    else:
        p, log_p = softmax_pair(inputs)
        where = "p = torch.softmax(pred), log p = torch.log_softmax(pred)"
    target = inputs["target"]
    if target.ndim == 1:
        p_y, log_p_y = target_probability(p, log_p, target)
        rows = -alpha * (1.0 - p_y) ** gamma * log_p_y
        formula = f"-{alpha!r} (1 - p_y) ** {gamma!r} log p_y"
    else:
        rows = (-alpha * tensor(target) * (1.0 - p) ** gamma * log_p).sum(dim=1)
        formula = f"-sum_c {alpha!r} t_c (1 - p_c) ** {gamma!r} log p_c"
    source = f"hand formula (keras CategoricalFocalCrossentropy) in torch: {formula}, {where}"
    return rows_reference(rows, weight, source)


def ghm_c_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    bins = params.get("bins", 10)
    x, t = tensor(inputs["pred"]), tensor(inputs["target"])
    bce = torch.nn.BCEWithLogitsLoss(reduction="none")(x, t).numpy()
    g = torch.abs(torch.sigmoid(x) - t).numpy()
    edges = np.arange(bins + 1) / bins
    if np.min(np.abs(g[:, None] - edges[None, 1:-1])) < 1e-9:
        raise ValueError("a gradient norm lies within 1e-9 of a bin edge")
    w = np.ones_like(bce) if weight is None else weight
    total, filled = 0.0, 0
    for i in range(bins):
        upper = g < edges[i + 1] if i < bins - 1 else g <= 1.0
        inside = (g >= edges[i]) & upper
        if inside.any():
            total += np.sum(w[inside] * bce[inside]) / np.sum(w[inside])
            filled += 1
    weight_text = "weighted mean" if weight is not None else "mean"
    return total / filled, (
        "hand formula (Li et al. 2019, mmdetection GHMC without momentum): g = |sigmoid(x) - t|"
        f" (torch.sigmoid) in {bins} bins [i/{bins}, (i+1)/{bins}), the last one closed at 1;"
        f" the {weight_text} of torch.nn.BCEWithLogitsLoss(reduction='none') inside each bin,"
        " averaged over the non-empty bins, in float64"
    )


def brier_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    pred, target = inputs["pred"], inputs["target"]
    if pred.ndim == 1:
        return sklearn_reference("brier_score_loss", target, pred, weight)
    k = pred.shape[1]
    note = ""
    if target.ndim == 2:
        target = np.argmax(target, axis=1)
        note = " with target = argmax of the one-hot rows"
    value, source = sklearn_reference(
        "brier_score_loss", target, pred, weight, labels=list(range(k)), scale_by_half=False
    )
    return value, source + note + " (sum over classes of (p_c - y_c)^2 per row, not halved)"


def zero_one_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    pred, target = inputs["pred"], inputs["target"]
    if pred.ndim == 1:
        threshold = params.get("threshold", 0.5)
        decided = (pred >= threshold).astype(np.int64)
        rule = f"(pred >= {threshold!r})"
    else:
        top = np.sort(pred, axis=1)
        if np.any(top[:, -1] == top[:, -2]):
            raise ValueError("tied top scores")
        decided = np.argmax(pred, axis=1)
        rule = "argmax(pred, axis=1)"
    value, source = sklearn_reference("zero_one_loss", target, decided, weight)
    return value, source.replace("(target, pred", f"(target, {rule}", 1)


def poly1_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    epsilon = params.get("epsilon", 1.0)
    target = inputs["target"]
    p, log_p = softmax_pair(inputs)
    p_y, _ = target_probability(p, log_p, target)
    ce = torch.nn.CrossEntropyLoss(reduction="none")(tensor(inputs["pred"]), index_tensor(target))
    rows = ce + epsilon * (1.0 - p_y)
    formula = (
        "hand formula (Leng et al. 2022, Poly-1) in torch: torch.nn.CrossEntropyLoss("
        f"reduction='none') + {epsilon!r} * (1 - p_y), p = torch.softmax(pred)"
    )
    return rows_reference(rows, weight, formula)


def gce_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    q = params.get("q", 0.7)
    p, log_p = softmax_pair(inputs)
    p_y, _ = target_probability(p, log_p, inputs["target"])
    rows = (1.0 - p_y**q) / q
    formula = (
        f"hand formula (Zhang & Sabuncu 2018) in torch: (1 - p_y ** {q!r}) / {q!r},"
        " p = torch.softmax(pred)"
    )
    return rows_reference(rows, weight, formula)


def perplexity_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    pred = tensor(inputs["pred"])
    if params.get("input", "logprobs") == "logits":
        args = (pred, index_tensor(inputs["target"]))
        nll = torch.nn.CrossEntropyLoss(reduction="none")(*args)
        source = "l = torch.nn.CrossEntropyLoss(reduction='none')(pred, target)"
    else:
        nll = -pred
        source = "l = -pred (token log-probabilities), in torch"
    if weight is None:
        return torch.exp(nll.mean()).item(), source + ": exp(mean over rows)"
    mean = np.sum(weight * nll.numpy()) / np.sum(weight)
    return float(np.exp(mean)), source + ": exp(sum(w * l) / sum(w)) in float64"


def gan_d_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    mode = params.get("mode", "standard")
    real, fake = tensor(inputs["real"]), tensor(inputs["fake"])
    ones, zeros = torch.ones_like(real), torch.zeros_like(fake)
    if mode == "standard":
        name = "BCEWithLogitsLoss" if params.get("input", "probs") == "logits" else "BCELoss"
        module = getattr(torch.nn, name)(reduction="none")
        rows = module(real, ones) + module(fake, zeros)
        formula = f"torch.nn.{name}(reduction='none')(real, 1) + same(fake, 0) per row"
    elif mode == "lsgan":
        rows = 0.5 * ((real - 1.0) ** 2 + fake**2)
        formula = "hand formula (Mao et al. 2017) in torch: 0.5 [(D(x) - 1)^2 + D(G(z))^2]"
    elif mode == "hinge":
        rows = torch.relu(1.0 - real) + torch.relu(1.0 + fake)
        formula = "hand formula (Lim & Ye 2017) in torch: max(0, 1 - D(x)) + max(0, 1 + D(G(z)))"
    else:
        rows = fake - real
        formula = "hand formula (Arjovsky et al. 2017) in torch: D(G(z)) - D(x)"
    return rows_reference(rows, weight, formula)


def gan_g_reference(params: dict[str, Any], inputs: Inputs, weight: Weight) -> tuple[float, str]:
    mode = params.get("mode", "nonsaturating")
    fake = tensor(inputs["fake"])
    logits = params.get("input", "probs") == "logits"
    name = "BCEWithLogitsLoss" if logits else "BCELoss"
    module = getattr(torch.nn, name)(reduction="none")
    if mode == "nonsaturating":
        rows = module(fake, torch.ones_like(fake))
        formula = f"torch.nn.{name}(reduction='none')(fake, 1)"
        formula += " = softplus(-D(G(z)))" if logits else " = -log D(G(z))"
    elif mode == "minimax":
        rows = -module(fake, torch.zeros_like(fake))
        formula = f"-torch.nn.{name}(reduction='none')(fake, 0)"
        formula += " = -softplus(D(G(z)))" if logits else " = log(1 - D(G(z)))"
    elif mode == "lsgan":
        rows = 0.5 * (fake - 1.0) ** 2
        formula = "hand formula (Mao et al. 2017) in torch: 0.5 (D(G(z)) - 1)^2"
    else:
        rows = -fake
        formula = f"hand formula ({mode} generator loss): -D(G(z))"
    return rows_reference(rows, weight, formula)


def reconstruction_reference(
    params: dict[str, Any], inputs: Inputs, weight: Weight
) -> tuple[float, str]:
    kind = params.get("kind", "mse")
    features = params.get("features", "mean")
    name = {"mse": "MSELoss", "mae": "L1Loss", "bce": "BCELoss"}[kind]
    args = (tensor(inputs["pred"]), tensor(inputs["target"]))
    elementwise = torch_module(name, {}, "none")(*args)
    rows = elementwise.mean(dim=1) if features == "mean" else elementwise.sum(dim=1)
    source = f"{call_text(name, {}, 'none')}; {features} over each row's features"
    if weight is None:
        return rows.mean().item(), source + ", then mean over rows"
    return weighted_mean(rows.numpy(), weight), source + WEIGHTED


REFERENCES: dict[str, Reference] = {
    "bce": bce_reference,
    "ce": ce_reference,
    "label_smoothing_ce": label_smoothing_ce_reference,
    "nll": nll_reference,
    "kl_div": kl_div_reference,
    "js_div": js_div_reference,
    "hinge": hinge_reference,
    "squared_hinge": squared_hinge_reference,
    "multiclass_hinge": multiclass_hinge_reference,
    "soft_margin": soft_margin_reference,
    "multilabel_soft_margin": multilabel_soft_margin_reference,
    "exponential": exponential_reference,
    "focal": focal_reference,
    "softmax_focal": softmax_focal_reference,
    "ghm_c": ghm_c_reference,
    "brier": brier_reference,
    "zero_one": zero_one_reference,
    "poly1": poly1_reference,
    "gce": gce_reference,
    "perplexity": perplexity_reference,
    "gan_d": gan_d_reference,
    "gan_g": gan_g_reference,
    "reconstruction": reconstruction_reference,
}


def as_array(value: Any) -> np.ndarray:
    """Integer arrays (class indices, hard labels) stay integers; everything else is float64."""
    array = np.asarray(value)
    return array.astype(np.int64 if array.dtype.kind in "iub" else np.float64)


def make_case(spec: Spec) -> dict[str, Any]:
    rng = case_rng(spec.case_id)
    inputs = {key: as_array(value) for key, value in spec.build(rng).items()}
    n = len(next(iter(inputs.values())))
    weight = weights_for(rng, n) if spec.weighted else None
    expected, source = REFERENCES[spec.loss](spec.params, inputs, weight)
    return case_record(spec, inputs, weight, expected, source)


GENERATOR = fixture.Generator(
    "tests/reference/generate_classification.py", OUTPUT, specs(), make_case
)

if __name__ == "__main__":
    fixture.main(GENERATOR)
