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
        "rmse",
        "sqrt of the mean (p - t)^2 per output, the outputs averaged (multioutput="
        "'uniform_average')",
        {"multioutput": "uniform_average"},
    ),
    "median_absolute_error": _entry(
        "median_absolute_error", "the (weighted) median of |p - t|, from losscli's quantile sketch"
    ),
    "explained_variance_score": _entry("explained_variance", "1 - Var(t - p) / Var(t)"),
    "d2_absolute_error_score": _entry("d2_absolute_error", "1 - sum |t - p| / sum |t - median(t)|"),
    "d2_pinball_score": _entry("d2_pinball", "D2 of the pinball loss", alpha=Arg(0.5, to="alpha")),
    "d2_tweedie_score": _entry(
        "d2_tweedie", "D2 of the Tweedie deviance", power=Arg(0.0, to="power")
    ),
    "d2_log_loss_score": _entry("d2_log_loss", "1 - log_loss / log_loss of the class frequencies"),
    "d2_brier_score": _entry("d2_brier", "1 - brier / brier of the class frequencies"),
    "label_ranking_loss": _entry("label_ranking", "the share of misordered label pairs"),
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
    "hamming_loss": _entry("hamming", "the share of wrong labels (multi-label rows too)"),
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
        "roc_auc_score": "a rank statistic, not a mean of per-row losses",
    },
    weights="The weight column is sample_weight: weighted sums divided by sum(w).",
)
