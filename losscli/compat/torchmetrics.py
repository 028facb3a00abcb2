"""torchmetrics' functional metrics by their own names.

``kl_divergence(p, q)`` is KL(p || q) with the prediction first: the other way round from
losscli's ``kl_div`` (and PyTorch's), so the profile swaps the roles; it also renormalises rows.
``cosine_similarity`` sums over rows by default. torchmetrics takes no sample weights: with ``-w``
the value is losscli's weighted mean.
"""

from losscli.compat import PER_ROW, Arg, Entry, Profile

TM_EPS = 1.17e-06  # torchmetrics' floor on |t| in mean_absolute_percentage_error


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
        "binary_hinge_loss": "torchmetrics applies a sigmoid when scores leave [0, 1], a rule "
        "losscli's hinge does not have yet",
        "multiclass_hinge_loss": "torchmetrics applies a softmax when scores leave [0, 1], a rule "
        "losscli's multiclass_hinge does not have yet",
        "continuous_ranked_probability_score": "it scores ensembles, not a prediction per row",
    },
    weights="torchmetrics takes no sample weights: a weight column gives losscli's weighted mean "
    "sum(w l) / sum(w).",
)
