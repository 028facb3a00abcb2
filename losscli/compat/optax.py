"""optax's ``optax.losses`` functions by their own names.

optax returns unreduced values, one per example (or per element); ``--compat optax`` reports
their mean, or with ``reduction=sum`` their sum. optax takes no sample weights: with ``-w`` the
value is losscli's weighted mean of optax's values, sum(w l) / sum(w).
"""

from losscli.compat import PER_ROW, Arg, Entry, Profile

REDUCTION = Arg(
    "mean",
    kind=str,
    help="how optax's unreduced values are reduced here: mean or sum",
    values={
        "mean": {"reduction": "mean"},
        "sum": {"reduction": "sum", "sum_elements": True},
        "none": PER_ROW,
    },
)


def _entry(
    loss: str,
    rule: str,
    fixed=None,
    scale: float = 1.0,
    shift: float = 0.0,  # type: ignore[no-untyped-def]
    **args: Arg,
) -> Entry:
    return Entry(
        loss,
        rule,
        fixed=fixed or {},
        args={"reduction": REDUCTION, **args},
        scale=scale,
        shift=shift,
    )


LOGITS = {"input": "logits"}
SOFTMAX = {True: {"input": "logits"}, False: {"input": "probs"}}
ENTRIES = {
    "squared_error": _entry("mse", "(p - t)^2 per element"),
    "l2_loss": _entry("mse", "0.5 (p - t)^2 per element", scale=0.5),
    "huber_loss": _entry("huber", "Huber with delta", delta=Arg(1.0, to="delta")),
    "log_cosh": _entry("log_cosh", "log(cosh(p - t))"),
    "sigmoid_binary_cross_entropy": _entry("bce", "the logits form of bce", fixed=LOGITS),
    "softmax_cross_entropy": _entry("ce", "-sum q log softmax(s) against label rows", LOGITS),
    "softmax_cross_entropy_with_integer_labels": _entry(
        "ce", "-log softmax(s)_y against class indices", LOGITS
    ),
    "safe_softmax_cross_entropy": _entry(
        "ce", "-sum q log softmax(s), -inf logits allowed", LOGITS
    ),
    "kl_divergence": _entry(
        "kl_div",
        "pred is log q: sum t (log t - log q), 0 log 0 = 0; rows are not checked",
        fixed={"input": "logprobs", "rows": "as_given"},
    ),
    "kl_divergence_with_log_targets": _entry(
        "kl_div",
        "pred and target are logs: sum exp(t) (t - log q); rows are not checked",
        fixed={"input": "logprobs", "log_target": True, "rows": "as_given"},
    ),
    "multiclass_hinge_loss": _entry(
        "multiclass_hinge", "max(0, 1 + max_{j != y} s_j - s_y)", {"variant": "crammer_singer"}
    ),
    "multiclass_perceptron_loss": _entry(
        "multiclass_hinge",
        "max(0, max_{j != y} s_j - s_y)",
        {"variant": "crammer_singer", "margin": 0.0},
    ),
    "cosine_distance": _entry(
        "cosine", "1 - cos(p, t), each norm floored at epsilon", epsilon=Arg(0.0, to="eps", ge=0)
    ),
    "cosine_similarity": _entry(
        "cosine",
        "cos(p, t) = 1 - losscli's cosine, each norm floored at epsilon",
        scale=-1.0,
        shift=1.0,
        epsilon=Arg(0.0, to="eps", ge=0),
    ),
    "sigmoid_focal_loss": _entry(
        "focal",
        "bce of logits times (1 - p_t)^gamma, times alpha_t when alpha is given",
        LOGITS,
        alpha=Arg(None, to="alpha", none=-1.0, help="none: no class balancing"),
        gamma=Arg(2.0, to="gamma"),
    ),
    "poly_loss_cross_entropy": _entry(
        "poly1", "ce + epsilon (1 - p_y)", LOGITS, epsilon=Arg(2.0, to="epsilon")
    ),
    "hinge_loss": _entry(
        "hinge", "max(0, 1 - y s) with y as given: a label 0 costs 1", {"labels": "as_given"}
    ),
    "perceptron_loss": _entry("perceptron", "max(0, -y s), labels {0, 1} read as {-1, 1}"),
    "sparsemax_loss": _entry("sparsemax", "the binary sparsemax loss of a score"),
    "multiclass_sparsemax_loss": _entry(
        "multiclass_sparsemax", "the sparsemax loss of K scores against a class index"
    ),
    "ranking_softmax_loss": _entry(
        "ranking_softmax", "softmax cross-entropy of item scores against relevance labels"
    ),
    "triplet_margin_loss": _entry(
        "triplet",
        "max(0, D(a, p) - D(a, n) + margin), D = (sum |u - v|^p + eps)^(1/p)",
        {"eps_in": "sum"},
        norm_degree=Arg(2.0, to="p"),
        margin=Arg(1.0, to="margin"),
        eps=Arg(1e-6, to="eps"),
    ),
    "ntxent": Entry(
        "ntxent",
        "NT-Xent over each batch (the rows sharing a value of role batch; without one the "
        "whole input): the mean over "
        "positive pairs (same label) of -log(e^s_ij / (e^s_ij + sum of e^s_ik over the other "
        "labels)), s = cos / temperature with norms floored at sqrt(eps); then the mean over "
        "batches",
        args={"temperature": Arg(0.07, to="temperature")},
    ),
    "generalized_kl_divergence": _entry(
        "kl_div",
        "pred is log q: sum t (log t - log q) + sum (q - t), 0 log 0 = 0: rows need not be "
        "distributions",
        fixed={"input": "logprobs", "rows": "as_given", "generalized": True},
    ),
    "convex_kl_divergence": _entry(
        "kl_div",
        "the same as generalized_kl_divergence (optax's older name for it)",
        fixed={"input": "logprobs", "rows": "as_given", "generalized": True},
    ),
    "dice_loss": Entry(
        "class_dice",
        "per image (the rows sharing a value of role sample, or each row) and class: "
        "1 - (I + smooth) / (I + alpha "
        "(P - I) + beta (T - I) + smooth) on softmax(s) (sigmoid for one class), times "
        "class_weights, the classes averaged (reduction=sum: summed); the mean over images",
        args={
            "class_weights": Arg(None, to="class_weights", kind=list),
            "smooth": Arg(1.0, to="smooth", ge=0),
            "alpha": Arg(0.5, to="alpha", ge=0),
            "beta": Arg(0.5, to="beta", ge=0),
            "apply_softmax": Arg(True, kind=bool, values=SOFTMAX),
            "reduction": Arg(
                "mean",
                kind=str,
                help="how an image's class losses are reduced",
                values={
                    "mean": {"classes": "mean"},
                    "sum": {"classes": "sum"},
                    "none": "per-class values are not one number per image",
                },
            ),
            "ignore_background": Arg(False, to="ignore_background", kind=bool),
        },
    ),
    "binary_dice_loss": Entry(
        "class_dice",
        "1 - (I + smooth) / ((P + T) / 2 + smooth) on sigmoid(s) per image: a vector row is one "
        "image's pixels, or rows sharing a sample are; the mean over images",
        fixed={"layout": "pixels"},
        args={
            "smooth": Arg(1.0, to="smooth", ge=0),
            "apply_sigmoid": Arg(True, kind=bool, values=SOFTMAX),
        },
    ),
    "multiclass_generalized_dice_loss": Entry(
        "generalized_dice",
        "per-class Dice of each image on softmax(s), weighted by 1 / (F_c^2 + 1e-7) normalised "
        "to sum to K (F_c: the target's class totals over the whole input), averaged over "
        "images and classes",
        args={
            "smooth": Arg(1.0, to="smooth", ge=0),
            "apply_softmax": Arg(True, kind=bool, values=SOFTMAX),
            "ignore_background": Arg(False, to="ignore_background", kind=bool),
        },
    ),
}

PROFILE = Profile(
    name="optax",
    title="optax",
    checked_with="optax 0.2.8 (jax, x64)",
    entries=ENTRIES,
    missing={
        "ctc_loss": "it aligns sequences, and a table row holds no sequence of log-probabilities",
        "ctc_loss_with_forward_probs": "it aligns sequences",
        "make_fenchel_young_loss": "a factory of losses, not a loss",
        "smooth_labels": "a transform of labels, not a loss",
    },
    weights="optax takes no sample weights: a weight column gives losscli's weighted mean "
    "sum(w l) / sum(w) of optax's values.",
)
