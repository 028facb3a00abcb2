"""scikit-learn's ``sklearn.metrics`` functions by their own names.

``sample_weight`` divides by the sum of the weights, as losscli's weighted mean does, and
``multioutput='uniform_average'`` averages the outputs, as losscli's mean over a vector row does
for the means. ``log_loss`` clips probabilities at float64's machine epsilon and does not
renormalise rows.
"""

from losscli.compat import Arg, Entry, Profile

EPS = 2.220446049250313e-16  # numpy.finfo(float64).eps, log_loss's clip
NORMALIZE = Arg(
    True,
    kind=bool,
    help="true: the mean; false: the (weighted) sum",
    values={True: {"reduction": "mean"}, False: {"reduction": "sum"}},
)


def _entry(loss: str, rule: str, fixed=None, **args: Arg) -> Entry:  # type: ignore[no-untyped-def]
    return Entry(loss, rule, fixed=fixed or {}, args=args)


ENTRIES = {
    "mean_absolute_error": _entry("mae", "mean |p - t|"),
    "mean_squared_error": _entry("mse", "mean (p - t)^2"),
    "root_mean_squared_error": _entry(
        "rmse", "sqrt of the mean (p - t)^2 (one output; several are refused by losscli for now)"
    ),
    "r2_score": _entry("r2", "1 - SS_res / SS_tot (one output)"),
    "max_error": _entry("max_error", "max |p - t|"),
    "mean_pinball_loss": _entry(
        "pinball", "max(alpha (t - p), (alpha - 1)(t - p))", alpha=Arg(0.5, to="alpha")
    ),
    "mean_absolute_percentage_error": _entry(
        "mape", "|p - t| / max(|t|, 2.2e-16): a fraction, not percent"
    ),
    "mean_squared_log_error": _entry("msle", "(log1p(p) - log1p(t))^2; values <= -1 refused"),
    "root_mean_squared_log_error": _entry("rmsle", "sqrt of the mean squared log error"),
    "mean_tweedie_deviance": _entry(
        "tweedie", "the Tweedie deviance of power", power=Arg(0.0, to="power")
    ),
    "mean_poisson_deviance": _entry("tweedie", "2 (t log(t / p) - t + p)", fixed={"power": 1.0}),
    "mean_gamma_deviance": _entry("tweedie", "2 (log(p / t) + t / p - 1)", fixed={"power": 2.0}),
    "brier_score_loss": _entry("brier", "(p - t)^2 of the positive class's probability"),
    "hinge_loss": _entry("hinge", "max(0, 1 - y s), the two labels read as {-1, 1}"),
    "zero_one_loss": _entry(
        "zero_one",
        "the share (normalize=false: the count) of misclassified rows",
        normalize=NORMALIZE,
    ),
    "hamming_loss": _entry("zero_one", "the share of wrong labels (one label per row)"),
    "log_loss": Entry(
        "ce",
        "probabilities clipped to [2.2e-16, 1 - 2.2e-16], rows not renormalised, -sum y log p; "
        "a one-column pred is the positive class's probability",
        fixed={"input": "probs", "rows": "as_given", "clip": EPS},
        args={"normalize": NORMALIZE},
    ),
}

PROFILE = Profile(
    name="sklearn",
    title="scikit-learn",
    checked_with="scikit-learn 1.9",
    entries=ENTRIES,
    missing={
        "median_absolute_error": "losscli has no median absolute error yet",
        "explained_variance_score": "losscli has no explained variance yet",
        "d2_absolute_error_score": "losscli has no D2 scores yet",
        "d2_pinball_score": "losscli has no D2 scores yet",
        "d2_tweedie_score": "losscli has no D2 scores yet",
        "d2_log_loss_score": "losscli has no D2 scores yet",
        "d2_brier_score": "losscli has no D2 scores yet",
        "label_ranking_loss": "losscli has no label ranking loss yet",
        "roc_auc_score": "a rank statistic, not a mean of per-row losses",
    },
    weights="The weight column is sample_weight: weighted sums divided by sum(w).",
)
