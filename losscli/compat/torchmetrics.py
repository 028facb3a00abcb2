"""torchmetrics' functional metrics by their own names.

``kl_divergence(p, q)`` is KL(p || q) with the prediction first: the other way round from
losscli's ``kl_div`` (and PyTorch's), so the profile swaps the roles; it also renormalises rows.
``cosine_similarity`` sums over rows by default. torchmetrics takes no sample weights: with ``-w``
the value is losscli's weighted mean.
"""

from losscli.compat import PER_ROW, Arg, Entry, Profile

TM_EPS = 1.17e-06  # torchmetrics' floor on |t| in mean_absolute_percentage_error


IGNORE_INDEX = Arg(
    None,
    kind=float,
    help="none only: losscli's hinge keeps every row",
    values={None: {}},
)
VALIDATE_ARGS = Arg(
    False,
    kind=bool,
    ignored="losscli always checks the input (labels, widths) and refuses what it cannot read",
)
SQUARED = Arg(False, kind=bool, values={False: {"power": 1}, True: {"power": 2}})


def _entry(loss: str, rule: str, fixed=None, **args: Arg) -> Entry:  # type: ignore[no-untyped-def]
    return Entry(loss, rule, fixed=fixed or {}, args=args)


ENTRIES = {
    "mean_squared_error": _entry(
        "mse",
        "mean (p - t)^2; squared=false: its root (one root over all elements)",
        squared=Arg(True, kind=bool, values={True: {"loss": "mse"}, False: {"loss": "rmse"}}),
    ),
    "mean_absolute_error": _entry("mae", "mean |p - t|"),
    "log_cosh_error": _entry("log_cosh", "log(cosh(p - t))"),
    "r2_score": _entry(
        "r2",
        "1 - SS_res / SS_tot",
        adjusted=Arg(0, to="adjusted", kind=int, help="the number of regressors"),
    ),
    "mean_squared_log_error": _entry("msle", "(log1p(p) - log1p(t))^2"),
    "mean_absolute_percentage_error": _entry(
        "mape", "|p - t| / max(|t|, 1.17e-6): a fraction", {"eps": TM_EPS}
    ),
    "symmetric_mean_absolute_percentage_error": _entry(
        "smape", "2 |p - t| / (|p| + |t|), 0/0 counted as 0"
    ),
    "tweedie_deviance_score": _entry(
        "tweedie", "the Tweedie deviance of power", power=Arg(0.0, to="power")
    ),
    "cosine_similarity": Entry(
        "cosine",
        "cos(p, t) = 1 - losscli's cosine, summed over rows (reduction='sum', the default) or "
        "averaged",
        fixed={"eps": 0.0},
        args={
            "reduction": Arg(
                "sum",
                kind=str,
                values={
                    "sum": {"reduction": "sum"},
                    "mean": {"reduction": "mean"},
                    "none": PER_ROW,
                },
            )
        },
        scale=-1.0,
        shift=1.0,
    ),
    "kl_divergence": Entry(
        "kl_div",
        "KL(pred || target): the prediction is the first distribution, rows renormalised; "
        "log_prob=true: both are logs",
        fixed={"rows": "renormalize"},
        args={
            "log_prob": Arg(
                False,
                kind=bool,
                values={
                    False: {"input": "probs"},
                    True: {"input": "logprobs", "log_target": True, "rows": "as_given"},
                },
            ),
            "reduction": Arg(
                "mean",
                kind=str,
                values={
                    "mean": {"reduction": "mean"},
                    "sum": {"reduction": "sum"},
                    "none": PER_ROW,
                },
            ),
        },
        swap=True,
    ),
    "relative_squared_error": _entry(
        "rse",
        "sum (t - p)^2 / max(sum (t - mean t)^2, float eps) per output, averaged; "
        "squared=false: each output's root first. Not 1 - r2 for a constant target",
        squared=Arg(True, to="squared", kind=bool),
    ),
    "jensen_shannon_divergence": _entry("js_div", "the Jensen-Shannon divergence in nats"),
    "explained_variance": _entry("explained_variance", "1 - Var(t - p) / Var(t)"),
    "minkowski_distance": _entry(
        "minkowski", "(sum |p - t|^p)^(1/p) over every element", p=Arg(2.0, to="p")
    ),
    "normalized_root_mean_squared_error": _entry(
        "nrmse",
        "RMSE over a scale of the target: mean, std or l2",
        normalization=Arg(
            "mean", to="normalization", kind=str, values={"mean": {}, "std": {}, "l2": {}}
        ),
    ),
    "weighted_mean_absolute_percentage_error": _entry("wmape", "sum |p - t| / sum |t|"),
    "binary_hinge_loss": _entry(
        "hinge",
        "mean max(0, 1 - y s) over every element, y = 2t - 1 with labels {0, 1} (a -1 is refused: "
        "torchmetrics would read it as the positive class); when any score of the input lies "
        "outside [0, 1], s is the sigmoid of every score; squared=true: the terms squared",
        fixed={"labels": "zero_one", "squash": "auto"},
        squared=Arg(False, kind=bool, values={False: {}, True: {"loss": "squared_hinge"}}),
        ignore_index=IGNORE_INDEX,
        validate_args=VALIDATE_ARGS,
    ),
    "multiclass_hinge_loss": _entry(
        "multiclass_hinge",
        "crammer-singer: mean max(0, 1 - s_y + max_{j != y} s_j); one-vs-all: each class's "
        "binary hinge (s_y against +1, the others against -1) averaged over the K classes, the "
        "mean of torchmetrics' K per-class values; when any score of the input lies outside "
        "[0, 1], every row goes through a softmax first; squared=true: the terms squared",
        fixed={"squash": "auto"},
        num_classes=Arg(
            None,
            kind=int,
            ignored="the classes are pred's columns (torchmetrics reads them from pred too)",
        ),
        squared=SQUARED,
        multiclass_mode=Arg(
            "crammer-singer",
            kind=str,
            values={
                "crammer-singer": {"variant": "crammer_singer"},
                "one-vs-all": {"variant": "one_vs_all"},
            },
        ),
        ignore_index=IGNORE_INDEX,
        validate_args=VALIDATE_ARGS,
    ),
    "binary_calibration_error": _entry(
        "calibration_error",
        "the expected calibration error over equal-width bins",
        n_bins=Arg(15, to="bins", kind=int),
        norm=Arg("l1", to="norm", kind=str, values={"l1": {}, "l2": {}, "max": {}}),
    ),
}

PROFILE = Profile(
    name="torchmetrics",
    title="torchmetrics",
    checked_with="torchmetrics 1.9",
    entries=ENTRIES,
    missing={
        "continuous_ranked_probability_score": "it scores ensembles, not a prediction per row",
    },
    weights="torchmetrics takes no sample weights: a weight column gives losscli's weighted mean "
    "sum(w l) / sum(w).",
)
