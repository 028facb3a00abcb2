"""Keras 3's losses by their function names, class names and short aliases.

Every Keras loss averages the last axis into one value per sample and then reduces the samples:
``sum_over_batch_size`` (the default) divides the weighted sum by the number of rows, whatever
the weights; ``mean_with_sample_weight`` by the sum of the weights. Probabilities are clipped to
[1e-7, 1 - 1e-7] and rows of class probabilities renormalised. Keras computes in float32 even
with floatx float64: its numbers agree with these to about 1e-7 relative.
"""

from losscli.compat import PER_ROW, Arg, Entry, Profile

EPSILON = 1e-7  # keras.config.epsilon()
# 1 - 1e-7 as Keras computes it, in float32: 1 - 2^-23 (it clips a probability of 1 there).
BELOW_ONE = 0.9999998807907104
REDUCTION = Arg(
    "sum_over_batch_size",
    kind=str,
    help="how the per-sample values are reduced",
    values={
        "sum_over_batch_size": {"reduction": "sum_over_rows"},
        "mean_with_sample_weight": {"reduction": "mean"},
        "sum": {"reduction": "sum"},
        "none": PER_ROW,
    },
)
FROM_LOGITS = {True: {"input": "logits"}, False: {"input": "probs"}}
# Dice and Tversky: axis=None pools every element of the input; -1 scores each row alone.
OVERLAP_AXIS = Arg(
    "none",
    kind=str,
    help="none: one value pooled over the whole input; -1 (or 1): one value per row",
    values={
        "none": {"aggregate": "global", "pool_weights": "none"},
        "-1": {"aggregate": "row"},
        "1": {"aggregate": "row"},
    },
)
OVERLAP_REDUCTION = Arg(
    "sum_over_batch_size",
    kind=str,
    help="how the per-row values (or the one pooled value, counted once per row) are reduced",
    values={
        **REDUCTION.values,
        "sum": "Keras' sum of its Dice is the pooled value itself without weights but "
        "Dice x sum(w) with them: use sum_over_batch_size",
    },
)
# A table row is one sample: its last axis is its only axis besides the rows.
AXIS = Arg(-1, kind=int, values={-1: {}, 1: {}}, help="the axis averaged (the row's columns)")


def _entry(loss: str, rule: str, *names: str, fixed=None, **args: Arg) -> Entry:  # type: ignore[no-untyped-def]
    return Entry(loss, rule, fixed=fixed or {}, args={"reduction": REDUCTION, **args}, names=names)


ENTRIES = {
    "mean_squared_error": _entry("mse", "mean (p - t)^2", "MeanSquaredError", "mse"),
    "mean_absolute_error": _entry("mae", "mean |p - t|", "MeanAbsoluteError", "mae"),
    "mean_absolute_percentage_error": Entry(
        "mape",
        "100 |p - t| / max(|t|, 1e-7): in percent",
        fixed={"eps": EPSILON},
        args={"reduction": REDUCTION},
        scale=100.0,
        names=("MeanAbsolutePercentageError", "mape"),
    ),
    "mean_squared_logarithmic_error": _entry(
        "msle",
        "(log(max(p, 1e-7) + 1) - log(max(t, 1e-7) + 1))^2: negatives are floored, not refused",
        "MeanSquaredLogarithmicError",
        "msle",
        fixed={"floor": EPSILON},
    ),
    "huber": _entry("huber", "Huber with delta", "Huber", delta=Arg(1.0, to="delta")),
    "log_cosh": _entry("log_cosh", "log(cosh(p - t))", "LogCosh", "logcosh"),
    "cosine_similarity": Entry(
        "cosine",
        "-cos(p, t): the negative similarity (losscli's cosine - 1), each vector divided by "
        "its norm floored at 1e-12",
        fixed={"eps": 1e-12},
        args={"reduction": REDUCTION},
        shift=-1.0,
        names=("CosineSimilarity",),
    ),
    "hinge": _entry(
        "hinge",
        "max(0, 1 - y s), labels {0, 1} read as {-1, 1}; labels mixing 0 and -1 are refused "
        "(Keras would keep them as they are)",
        "Hinge",
    ),
    "squared_hinge": _entry(
        "squared_hinge", "max(0, 1 - y s)^2, labels as for hinge", "SquaredHinge"
    ),
    "categorical_hinge": _entry(
        "categorical_hinge",
        "max(0, 1 + max((1 - y) s) - sum(y s))",
        "CategoricalHinge",
    ),
    "kl_divergence": _entry(
        "kl_div",
        "sum t log(t / q) with t and q clipped to [1e-7, 1]; rows are not checked",
        "KLDivergence",
        "kld",
        "kullback_leibler_divergence",
        fixed={"input": "probs", "rows": "as_given", "clip": EPSILON},
    ),
    "poisson": _entry(
        "poisson_nll",
        "p - t log(p + 1e-7)",
        "Poisson",
        fixed={"log_input": False, "eps": EPSILON},
    ),
    "binary_crossentropy": _entry(
        "bce",
        "p clipped to [1e-7, 1 - 2^-23] (1 - 1e-7 in float32), then "
        "-[t log p + (1 - t) log(1 - p)]; from_logits=true: the logits form",
        "BinaryCrossentropy",
        fixed={"clip": EPSILON, "clip_high": BELOW_ONE},
        from_logits=Arg(False, kind=bool, values=FROM_LOGITS),
        label_smoothing=Arg(0.0, to="label_smoothing"),
    ),
    "categorical_crossentropy": _entry(
        "ce",
        "probability rows renormalised and clipped to [1e-7, 1 - 2^-23], -sum y log p; "
        "from_logits=true: log-softmax",
        "CategoricalCrossentropy",
        fixed={"rows": "renormalize", "clip": EPSILON, "clip_high": BELOW_ONE},
        from_logits=Arg(False, kind=bool, values=FROM_LOGITS),
        label_smoothing=Arg(0.0, to="label_smoothing"),
    ),
    "sparse_categorical_crossentropy": _entry(
        "ce",
        "as categorical_crossentropy with a class index target",
        "SparseCategoricalCrossentropy",
        fixed={"rows": "renormalize", "clip": EPSILON, "clip_high": BELOW_ONE},
        from_logits=Arg(False, kind=bool, values=FROM_LOGITS),
    ),
    "binary_focal_crossentropy": _entry(
        "focal",
        "t smoothed to t (1 - ls) + ls / 2; bce on p clipped to [1e-7, 1 - 2^-23], times "
        "(1 - p_t)^gamma with p_t from the unclipped p (the sigmoid's with from_logits=true); "
        "times alpha_t only with apply_class_balancing=true",
        "BinaryFocalCrossentropy",
        fixed={"clip": EPSILON, "clip_high": BELOW_ONE},
        alpha=Arg(0.25, to="alpha", help="weight of positives (with apply_class_balancing)"),
        apply_class_balancing=Arg(False, kind=bool, values={False: {"alpha": -1.0}, True: {}}),
        gamma=Arg(2.0, to="gamma", ge=0),
        from_logits=Arg(False, kind=bool, values=FROM_LOGITS),
        label_smoothing=Arg(0.0, to="label_smoothing"),
        axis=AXIS,
    ),
    "categorical_focal_crossentropy": _entry(
        "softmax_focal",
        "target rows smoothed to y (1 - ls) + ls / K; p (the softmax with from_logits=true) "
        "renormalised and clipped to [1e-7, 1 - 2^-23]; -alpha sum_c y_c (1 - p_c)^gamma log p_c",
        "CategoricalFocalCrossentropy",
        fixed={"rows": "renormalize", "clip": EPSILON, "clip_high": BELOW_ONE},
        alpha=Arg(0.25, to="alpha", ge=0),
        gamma=Arg(2.0, to="gamma", ge=0),
        from_logits=Arg(False, kind=bool, values=FROM_LOGITS),
        label_smoothing=Arg(0.0, to="label_smoothing"),
        axis=AXIS,
    ),
    "categorical_generalized_cross_entropy": _entry(
        "gce",
        "(1 - p_y^q) / q on the probability of the target class index as given: no clip, no "
        "renormalisation (p_y = 0 gives 1 / q)",
        "CategoricalGeneralizedCrossEntropy",
        fixed={"input": "probs", "rows": "as_given"},
        q=Arg(0.5, to="q"),
    ),
    "dice": _entry(
        "dice",
        "axis=none (the default): 1 - 2 sum(p t) / (sum p + sum t + 1e-7) over every element of "
        "the input, unweighted; a weight column scales that one value by sum(w) / N "
        "(mean_with_sample_weight: by 1). axis=-1: the same per row, then reduced as any Keras "
        "loss",
        "Dice",
        fixed={"smooth": 0.0, "floor": EPSILON},
        axis=OVERLAP_AXIS,
        reduction=OVERLAP_REDUCTION,
    ),
    "tversky": _entry(
        "tversky",
        "1 - TP / (TP + alpha FN + beta FP + 1e-7), FN = sum t (1 - p), FP = sum p (1 - t): "
        "Keras' alpha weighs what losscli's beta does (false negatives), and the other way "
        "round; pooled or per row as for dice",
        "Tversky",
        fixed={"smooth": 0.0, "floor": EPSILON},
        alpha=Arg(0.5, to="beta", ge=0, help="weight of false negatives (losscli's beta)"),
        beta=Arg(0.5, to="alpha", ge=0, help="weight of false positives (losscli's alpha)"),
        axis=OVERLAP_AXIS,
        reduction=OVERLAP_REDUCTION,
    ),
    "circle": Entry(
        "circle",
        "per anchor, softplus of the log-sum-exps of its weighted positive and negative "
        "similarities over its batch (embeddings L2-normalised by the caller); a batch's value "
        "is the mean over the anchors whose loss is > 0 (Keras' mask), then the mean over "
        "batches (the rows sharing a value of role batch); ref_labels and ref_embeddings are "
        "the batch itself",
        args={
            "reduction": Arg(
                "sum_over_batch_size",
                kind=str,
                help="how an anchor's values are reduced within a batch",
                values={
                    "sum_over_batch_size": {},
                    "none": PER_ROW,
                    "sum": "losscli averages the circle loss over each batch's anchors",
                    "mean_with_sample_weight": "a weight column weighs batches, not anchors",
                },
            ),
            "gamma": Arg(80.0, to="gamma"),
            "margin": Arg(0.4, to="margin"),
            "remove_diagonal": Arg(True, to="remove_diagonal", kind=bool),
        },
        names=("Circle",),
    ),
}

PROFILE = Profile(
    name="keras",
    title="Keras",
    checked_with="keras 3.15 (torch backend)",
    entries=ENTRIES,
    missing={
        "ctc": "it aligns sequences, and a table row holds no sequence of probabilities",
    },
    weights="The weight column is sample_weight (for circle it weighs whole batches); with the "
    "default reduction "
    "sum_over_batch_size the weighted sum is divided by the number of rows, with "
    "reduction=mean_with_sample_weight by sum(w).",
)
