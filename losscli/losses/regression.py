"""Regression losses: pure per-element functions of ``pred``, ``target`` (and ``var``).

Each function returns unreduced values with the shape of its inputs; the engine folds a vector row
into the mean of its elements (as torch's ``reduction='mean'`` does) and reduces rows by their
weighted mean unless the loss declares another statistic. Worked examples give their source.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from losscli.engine.quantiles import Buckets, LogBuckets, bucket_sums
from losscli.engine.statistics import (
    Binned,
    Contribution,
    Largest,
    Mean,
    Statistic,
    ones_or,
    square_root,
    weighted,
)
from losscli.errors import InputError
from losscli.losses.registry import Example, Param, Requirement, register

FAMILY = "regression"
LOG_2 = math.log(2.0)
LOG_2PI = math.log(2.0 * math.pi)

HAND = "hand-worked"


def root_of_mean(params: Mapping[str, Any]) -> Statistic:
    if params.get("multioutput") == "uniform_average":
        return PerOutputRoot()
    return Mean(transform=square_root)


class PerOutputRoot(Statistic):
    """The root of each output column's weighted mean, averaged over the columns (scikit-learn's
    multioutput='uniform_average'): sums w and w l per column."""

    def layout(self, values, inputs):
        self.outputs = 1 if values.ndim == 1 else values.shape[1]
        self.width = self.outputs + 1

    def per_row(self, values):
        return values if values.ndim == 1 else values.mean(axis=1)

    def contribute(self, values, weight, inputs, shifts):
        rows = len(values)
        columns = weighted(values.reshape(rows, -1), weight)
        return Contribution([ones_or(weight, rows), *columns.T])

    def finalize(self, totals):
        sums = totals.sums[..., 0, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sqrt(sums[..., 1:] / sums[..., :1]).mean(axis=-1)


def largest(params: Mapping[str, Any]) -> Statistic:
    return Largest()


@register(
    name="rmse",
    family=FAMILY,
    elementwise=True,
    formula="sqrt( sum_i w_i mean_k (p - t)^2 / sum_i w_i )",
    reference="sklearn.metrics.root_mean_squared_error",
    statistic=root_of_mean,
    params=[
        Param(
            "multioutput",
            str,
            "pooled",
            "vector rows: pooled (one root over every element, as torch and torchmetrics) or "
            "uniform_average (the mean of each column's RMSE, as scikit-learn)",
            choices=("pooled", "uniform_average"),
        )
    ],
    summary="Root of the mean squared error, in the target's units.",
    examples=[
        Example({"pred": [1, 2, 3], "target": [1, 1, 1]}, math.sqrt(5 / 3), HAND),
        Example(
            {"pred": [[1, 3], [1, 1]], "target": [[0, 1], [0, 1]]},
            (1 + math.sqrt(2)) / 2,
            "hand-worked: column RMSEs 1 and sqrt(2)",
            {"multioutput": "uniform_average"},
        ),
    ],
    notes="The root of the mean over all elements. For vector rows multioutput=uniform_average "
    "gives scikit-learn's default, the mean of the per-column RMSEs. --per-row writes the "
    "squared error.",
)
@register(
    name="mse",
    aliases=("l2", "squared_error"),
    family=FAMILY,
    elementwise=True,
    formula="(p - t)^2",
    reference="torch.nn.MSELoss",
    examples=[
        Example({"pred": [1, 2, 3], "target": [1, 1, 1]}, 5 / 3, HAND),
        Example({"pred": [[1, 2], [0, 0]], "target": [[0, 0], [0, 3]]}, 14 / 4, HAND),
        Example({"pred": [1, 2, 3], "target": [1, 1, 1]}, 12 / 4, HAND, weight=[1, 0, 3]),
    ],
)
def squared_error(pred, target):
    """Squared difference between prediction and target."""
    error = pred - target
    error *= error  # in place: one array per chunk
    return error


@register(
    name="max_error",
    family=FAMILY,
    elementwise=True,
    formula="max_i |p_i - t_i| over rows of positive weight",
    reference="sklearn.metrics.max_error",
    statistic=largest,
    summary="The worst absolute error of any row.",
    examples=[Example({"pred": [1, -2, 3], "target": [1, 1, 1]}, 3.0, HAND)],
    notes="Weights only select rows (weight 0 leaves a row out). Vector rows take their largest "
    "element; scikit-learn accepts scalar targets only.",
)
@register(
    name="mae",
    aliases=("l1", "absolute_error"),
    family=FAMILY,
    elementwise=True,
    formula="|p - t|",
    reference="torch.nn.L1Loss",
    examples=[Example({"pred": [1, -2, 3], "target": [1, 1, 1]}, 5 / 3, HAND)],
)
def absolute_error(pred, target, *, abs_error):
    """Absolute difference between prediction and target."""
    return abs_error


@register(
    name="huber",
    family=FAMILY,
    elementwise=True,
    formula="0.5 d^2 if |d| <= delta else delta (|d| - 0.5 delta)",
    reference="torch.nn.HuberLoss",
    params=[Param("delta", float, 1.0, "where the loss turns from quadratic to linear", gt=0)],
    examples=[
        Example({"pred": [0.5, 3.0], "target": [0.0, 0.0]}, (0.125 + 2.5) / 2, HAND),
        Example({"pred": [0.5, 3.0], "target": [0.0, 0.0]}, (0.125 + 4.0) / 2, HAND, {"delta": 2}),
    ],
)
def huber(pred, target, *, delta, abs_error):
    """Quadratic near zero, linear beyond delta: robust to outliers."""
    error = abs_error
    inner = np.minimum(error, delta)
    # Written without a branch: 0.5 q^2 + delta (|d| - q) equals both pieces and never overflows.
    # In place after the first two: the same operations in the same order.
    outer = error - inner
    outer *= delta
    inner *= inner
    inner *= 0.5
    inner += outer
    return inner


@register(
    name="smooth_l1",
    family=FAMILY,
    elementwise=True,
    formula="0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta; beta = 0 is L1",
    reference="torch.nn.SmoothL1Loss (= huber(delta=beta) / beta)",
    params=[Param("beta", float, 1.0, "width of the quadratic zone; 0 gives L1", ge=0)],
    examples=[
        Example({"pred": [0.5, 3.0], "target": [0.0, 0.0]}, (0.125 + 2.5) / 2, HAND),
        Example({"pred": [0.5, 3.0], "target": [0.0, 0.0]}, (0.0625 + 2.0) / 2, HAND, {"beta": 2}),
        Example({"pred": [0.5, 3.0], "target": [0.0, 0.0]}, 1.75, HAND, {"beta": 0}),
    ],
)
def smooth_l1(pred, target, *, beta, abs_error):
    """Huber scaled by 1/beta, as in Fast R-CNN's box regression."""
    error = abs_error
    if beta == 0:
        return error
    inner = np.minimum(error, beta)
    # As huber: the same operations in the same order.
    outer = error - inner
    inner *= inner
    inner *= 0.5
    inner /= beta
    inner += outer
    return inner


@register(
    name="log_cosh",
    family=FAMILY,
    elementwise=True,
    formula="log(cosh(d)) = |d| + log(1 + exp(-2|d|)) - log 2; |d| < 1/8: its Taylor series",
    reference="keras.losses.LogCosh",
    examples=[
        Example({"pred": [0.0, 1.0], "target": [0.0, 0.0]}, math.log(math.cosh(1)) / 2, HAND)
    ],
    notes="Computed in the overflow-free form, so |d| of 1e6 gives |d| - log 2. Near d = 0 that "
    "form cancels (Keras' values lose digits as |d| shrinks, all of them below 1e-8), so small "
    "errors take the series d^2/2 - d^4/12 + ...: within 3e-14 of log(cosh(d)) everywhere.",
)
def log_cosh(pred, target, *, abs_error):
    """Logarithm of the hyperbolic cosine of the error: quadratic near zero, linear far out."""
    error = abs_error
    tail = -2.0 * error
    np.exp(tail, out=tail)  # in place: two arrays per chunk instead of five
    # log(1 + y), not log1p(y), at half the time: 1 + y rounds by half an ulp of 1, no more
    # than the - log 2 below cancels anyway; where y is tiny the |d| term dominates.
    tail += 1.0
    np.log(tail, out=tail)
    tail += error
    tail -= LOG_2
    # Only these pay for the series; positions, not a mask: a third faster to gather and scatter.
    near = np.flatnonzero(error < LOG_COSH_NEAR)
    if near.size:
        square = error.take(near)
        square *= square
        series = np.full_like(square, LOG_COSH_SERIES[0])
        for coefficient in LOG_COSH_SERIES[1:]:
            series *= square
            series += coefficient
        series *= square
        tail.put(near, series)
    return tail


# Taylor series of log(cosh(d)) in d^2, highest power first: 2^2n (2^2n - 1) B_2n / (2n (2n)!)
# for n = 9 .. 1. Below |d| = 1/8 its tenth term is under 1e-17 of the sum.
LOG_COSH_NEAR = 0.125
LOG_COSH_SERIES = (
    3202291 / 97692469875,
    -929569 / 10216206000,
    10922 / 42567525,
    -691 / 935550,
    31 / 14175,
    -17 / 2520,
    1 / 45,
    -1 / 12,
    1 / 2,
)


@register(
    name="pinball",
    aliases=("quantile",),
    family=FAMILY,
    elementwise=True,
    formula="max(alpha (t - p), (alpha - 1) (t - p))",
    reference="sklearn.metrics.mean_pinball_loss",
    params=[Param("alpha", float, 0.5, "the quantile the prediction targets", gt=0, lt=1)],
    examples=[
        Example({"pred": [0.0, 2.0], "target": [1.0, 1.0]}, (0.9 + 0.1) / 2, HAND, {"alpha": 0.9}),
    ],
)
def pinball(pred, target, *, alpha):
    """Quantile loss: under-prediction costs alpha, over-prediction 1 - alpha per unit."""
    residual = target - pred
    return np.maximum(alpha * residual, (alpha - 1.0) * residual)


@register(
    name="mape",
    family=FAMILY,
    elementwise=True,
    formula="|p - t| / max(|t|, eps)",
    reference="sklearn.metrics.mean_absolute_percentage_error",
    params=[
        Param("eps", float, float(np.finfo(np.float64).eps), "floor on |t| in the divisor", gt=0)
    ],
    examples=[Example({"pred": [110.0, 45.0], "target": [100.0, 50.0]}, 0.1, HAND)],
    notes="A fraction, not a percentage (Keras reports percent: 100 times this).",
)
def absolute_percentage_error(pred, target, *, eps, abs_error):
    """Absolute error relative to the target's magnitude."""
    return abs_error / np.maximum(np.abs(target), eps)


@register(
    name="smape",
    family=FAMILY,
    elementwise=True,
    formula="2 |p - t| / (|p| + |t|), with 0/0 counted as 0",
    reference="symmetric MAPE as a fraction in [0, 2]",
    examples=[
        Example({"pred": [110.0, 0.0, 0.0], "target": [90.0, 0.0, 5.0]}, (0.2 + 0 + 2) / 3, HAND)
    ],
)
def symmetric_percentage_error(pred, target, *, abs_error):
    """Absolute error relative to the mean magnitude of prediction and target."""
    scale = np.abs(pred) + np.abs(target)
    error = 2.0 * abs_error
    return np.divide(error, scale, out=np.zeros_like(error), where=scale != 0)


ABOVE_MINUS_ONE = "log1p is undefined there; shift the values or use mse"
LOG1P_DOMAIN = (
    Requirement(
        "pred", lambda p, params: params.get("floor") is not None or p > -1, "> -1", ABOVE_MINUS_ONE
    ),
    Requirement(
        "target",
        lambda t, params: params.get("floor") is not None or t > -1,
        "> -1",
        ABOVE_MINUS_ONE,
    ),
)
FLOOR = Param(
    "floor",
    float,
    None,
    "raise p and t to at least this before log1p (Keras' msle: 1e-7); none refuses values <= -1",
    ge=-1,
)


@register(
    name="rmsle",
    family=FAMILY,
    elementwise=True,
    formula="sqrt( weighted mean of (log1p(p) - log1p(t))^2 )",
    reference="sklearn.metrics.root_mean_squared_log_error",
    statistic=root_of_mean,
    summary="Root of the mean squared log error.",
    params=[FLOOR],
    requires=LOG1P_DOMAIN,
    examples=[
        Example({"pred": [math.e - 1, 0.0], "target": [0.0, 0.0]}, math.sqrt(0.5), HAND),
    ],
    notes="--per-row writes the squared log error.",
)
@register(
    name="msle",
    family=FAMILY,
    elementwise=True,
    formula="(log1p(p) - log1p(t))^2",
    reference="sklearn.metrics.mean_squared_log_error",
    params=[FLOOR],
    requires=LOG1P_DOMAIN,
    examples=[
        Example({"pred": [math.e - 1, 0.0], "target": [0.0, 0.0]}, 0.5, HAND),
        Example(
            {"pred": [math.e - 1], "target": [-5.0]},
            1.0,
            "hand-worked: the target raised to floor=0 first (Keras floors at 1e-7)",
            {"floor": 0.0},
        ),
    ],
    notes="floor=f computes (log1p(max(p, f)) - log1p(max(t, f)))^2 and accepts any values, as "
    "Keras' mean_squared_logarithmic_error does with f = 1e-7.",
)
def squared_log_error(pred, target, *, floor):
    """Squared difference of log(1 + x): relative error for positive quantities."""
    if floor is not None:
        pred, target = np.maximum(pred, floor), np.maximum(target, floor)
    return (np.log1p(pred) - np.log1p(target)) ** 2


@register(
    name="poisson_nll",
    family=FAMILY,
    elementwise=True,
    formula="log_input: exp(p) - t p; else p - t log(p + eps); "
    "full adds t log t - t + 0.5 log(2 pi t) where t > 1",
    reference="torch.nn.PoissonNLLLoss",
    params=[
        Param("log_input", bool, True, "pred is the log of the rate (true) or the rate itself"),
        Param("full", bool, False, "add the Stirling approximation of log(t!)"),
        Param("eps", float, 1e-8, "added to the rate before its log when log_input=false", gt=0),
    ],
    requires=[
        Requirement(
            "pred",
            lambda p, params: params["log_input"] | (p >= 0),
            ">= 0 when log_input=false",
            "a rate cannot be negative; pass log_input=true if pred holds log-rates",
        ),
        Requirement("target", lambda t, params: t >= 0, ">= 0", "Poisson targets are counts"),
    ],
    examples=[
        Example({"pred": [0.0, 1.0], "target": [1.0, 2.0]}, (1.0 + math.e - 2.0) / 2, HAND),
        Example(
            {"pred": [1.0], "target": [2.0]},
            1.0 - 2.0 * math.log(1.0 + 1e-8),
            HAND,
            {"log_input": False},
        ),
    ],
)
def poisson_nll(pred, target, *, log_input, full, eps):
    """Negative log-likelihood of a Poisson count given a predicted rate."""
    loss = np.exp(pred) - target * pred if log_input else pred - target * np.log(pred + eps)
    if full:
        safe = np.where(target > 1, target, 1.0)
        stirling = safe * np.log(safe) - safe + 0.5 * np.log(2.0 * math.pi * safe)
        loss = loss + np.where(target > 1, stirling, 0.0)
    return loss


@register(
    name="gaussian_nll",
    family=FAMILY,
    elementwise=True,
    formula="0.5 (log(max(var, eps)) + d^2 / max(var, eps)) [+ 0.5 log(2 pi) if full]",
    reference="torch.nn.GaussianNLLLoss",
    params=[
        Param("full", bool, False, "add the constant 0.5 log(2 pi)"),
        Param("eps", float, 1e-6, "floor on the variance", gt=0),
    ],
    requires=[
        Requirement("var", lambda v, params: v >= 0, ">= 0", "a variance cannot be negative")
    ],
    examples=[
        Example({"pred": [1.0], "target": [0.0], "var": [4.0]}, 0.5 * (math.log(4) + 0.25), HAND),
    ],
    notes="Needs role var (--col var=COLUMN): one column per row, or one per element of a "
    "vector row.",
)
def gaussian_nll(pred, target, var, *, full, eps):
    """Negative log-likelihood of the target under a Gaussian with predicted mean and variance."""
    if var.ndim < pred.ndim:
        var = var[:, None]
    var = np.maximum(var, eps)
    loss = 0.5 * (np.log(var) + (pred - target) ** 2 / var)
    return loss + 0.5 * LOG_2PI if full else loss


def _tweedie_pred_ok(p, params):
    return (p > 0) | (params["power"] == 0)


def _tweedie_target_ok(t, params):
    power = params["power"]
    if 1 <= power < 2:
        return t >= 0
    if power >= 2:
        return t > 0
    return np.ones(np.shape(t), dtype=bool)


@register(
    name="tweedie",
    family=FAMILY,
    elementwise=True,
    formula="Tweedie deviance of power p: 0 squared error, 1 Poisson, 2 gamma, "
    "else 2 (max(t,0)^(2-p)/((1-p)(2-p)) - t mu^(1-p)/(1-p) + mu^(2-p)/(2-p))",
    reference="sklearn.metrics.mean_tweedie_deviance",
    params=[
        Param(
            "power",
            float,
            0.0,
            "Tweedie power: 0 normal, 1 Poisson, 2 gamma, 3 inverse Gaussian",
            valid=lambda v: v <= 0 or v >= 1,
            valid_text="<= 0 or >= 1",
        )
    ],
    requires=[
        Requirement("pred", _tweedie_pred_ok, "> 0 when power != 0", "the mean must be positive"),
        Requirement(
            "target",
            _tweedie_target_ok,
            ">= 0 for 1 <= power < 2 and > 0 for power >= 2",
            "choose a power whose distribution covers these targets",
        ),
    ],
    examples=[
        Example({"pred": [2.0], "target": [1.0]}, 1.0, HAND),
        Example({"pred": [1.0, 2.0], "target": [1.0, 0.0]}, 2.0, HAND, {"power": 1}),
        Example({"pred": [2.0], "target": [1.0]}, 2 * (math.log(2) - 0.5), HAND, {"power": 2}),
    ],
)
def tweedie_deviance(pred, target, *, power):
    """Unit deviance of the Tweedie distribution with the given power."""
    if power == 0:
        return (target - pred) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        if power == 1:
            ratio_log = np.where(target > 0, target * np.log(target / pred), 0.0)
            return 2.0 * (ratio_log - target + pred)
        if power == 2:
            return 2.0 * (np.log(pred / target) + target / pred - 1.0)
    one, two = 1.0 - power, 2.0 - power
    return 2.0 * (
        np.maximum(target, 0.0) ** two / (one * two) - target * pred**one / one + pred**two / two
    )


class ExplainedVariance(Statistic):
    """1 - SS_res / SS_tot per output column, averaged (scikit-learn's uniform average).

    Per output column j it sums w r_j (the residual), and the target's moments about a shift s
    (a key's first row): sum w, sum w (t_j - s_j), sum w (t_j - s_j)^2, so a target near 1e9 that
    varies by 1 loses no digits. ``adjusted`` = k > 0 gives the adjusted score
    1 - (1 - r2) (n - 1) / (n - k - 1) over the n rows.
    """

    def __init__(self, adjusted: int = 0) -> None:
        self.adjusted = adjusted

    def layout(self, values, inputs):
        self.outputs = 1 if inputs["target"].ndim == 1 else inputs["target"].shape[1]
        self.width = 3 * self.outputs + 1
        self.shift_width = self.outputs

    def contribute(self, values, weight, inputs, shifts):
        rows = len(values)
        target = inputs["target"].reshape(rows, -1)
        residual = weighted(values.reshape(rows, -1), weight)
        usable = np.isfinite(target).all(axis=1)
        if weight is not None:
            usable &= weight > 0
        centred = target - shifts(None, None, target, usable)
        first = weighted(centred, weight)
        second = weighted(centred * centred, weight)
        w = ones_or(weight, rows)
        return Contribution([*residual.T, w, *first.T, *second.T])

    def finalize(self, totals):
        m = self.outputs
        sums = totals.sums[..., 0, :]
        residual, w = sums[..., :m], sums[..., m : m + 1]
        first, second = sums[..., m + 1 : 2 * m + 1], sums[..., 2 * m + 1 :]
        total = second - first * first / w
        with np.errstate(divide="ignore", invalid="ignore"):
            score = 1.0 - residual / total
        # scikit-learn's force_finite: a constant target scores 1 if predicted exactly, else 0.
        constant = total == 0
        score = np.where(constant, np.where(residual == 0, 1.0, 0.0), score).mean(axis=-1)
        return adjusted_score(score, totals.counts[..., 1], self.adjusted)

    def moved(self, sums, delta):
        m, out = self.outputs, sums.copy()
        w = sums[..., m : m + 1]
        first = sums[..., m + 1 : 2 * m + 1]
        out[..., 2 * m + 1 :] += -2 * delta * first + w * delta * delta
        out[..., m + 1 : 2 * m + 1] -= w * delta
        return out


def adjusted_score(score: np.ndarray, rows: np.ndarray, regressors: int) -> np.ndarray:
    """1 - (1 - score) (n - 1) / (n - k - 1); NaN where n - k - 1 <= 0 (torchmetrics falls
    back to the plain score there, a number that is not the one asked for)."""
    if not regressors:
        return score
    spare = rows - regressors - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        adjusted = 1.0 - (1.0 - score) * (rows - 1) / spare
    return np.where(spare > 0, adjusted, np.nan)


@register(
    name="r2",
    aliases=("score",),
    family=FAMILY,
    elementwise=True,
    formula="1 - sum w (t - p)^2 / sum w (t - mean_w(t))^2, per output column, averaged",
    reference="sklearn.metrics.r2_score",
    direction="higher",
    statistic=lambda params: ExplainedVariance(params["adjusted"]),
    params=[
        Param(
            "adjusted",
            int,
            0,
            "k > 0: the adjusted r2 for k regressors, 1 - (1 - r2) (n - 1) / (n - k - 1)",
            ge=0,
        )
    ],
    examples=[
        Example({"pred": [1.0, 2.0, 4.0], "target": [1.0, 2.0, 3.0]}, 0.5, HAND),
        Example(
            {"pred": [1.0, 2.0, 4.0, 4.0], "target": [1.0, 2.0, 3.0, 4.0]},
            1 - (1 - 0.8) * 3 / 2,
            "hand-worked: r2 = 1 - 1/5, n = 4, k = 1",
            {"adjusted": 1},
        ),
    ],
    notes="Higher is better. A constant target gives 1 when predicted exactly and 0 otherwise, "
    "as scikit-learn's force_finite does. Has no per-row value. adjusted=k is torchmetrics' "
    "r2_score(adjusted=k) with n the number of rows read; where n - k - 1 <= 0 it is NaN "
    "(torchmetrics warns and returns the plain r2).",
)
def r2_residual(pred, target):
    """Coefficient of determination: the share of the target's variance the predictions explain."""
    return (pred - target) ** 2


class RelativeSquaredError(ExplainedVariance):
    """SS_res / max(SS_tot, eps) per output column (its root with ``squared`` false), averaged:
    torchmetrics' relative_squared_error, which floors SS_tot at the float64 epsilon where 1 - r2
    has scikit-learn's rule for a constant target."""

    def __init__(self, squared: bool) -> None:
        super().__init__()
        self.squared = squared

    def finalize(self, totals):
        m = self.outputs
        sums = totals.sums[..., 0, :]
        residual, w = sums[..., :m], sums[..., m : m + 1]
        first, second = sums[..., m + 1 : 2 * m + 1], sums[..., 2 * m + 1 :]
        total = np.maximum(second - first * first / w, np.finfo(np.float64).eps)
        ratio = residual / total
        return (ratio if self.squared else np.sqrt(ratio)).mean(axis=-1)


@register(
    name="rse",
    aliases=("relative_squared_error",),
    family=FAMILY,
    elementwise=True,
    formula="sum w (t - p)^2 / max(sum w (t - mean_w(t))^2, eps) per output column, averaged; "
    "squared=false: the root of each column's ratio (RRSE)",
    reference="torchmetrics.functional.relative_squared_error",
    statistic=lambda params: RelativeSquaredError(params["squared"]),
    params=[Param("squared", bool, True, "false: the root relative squared error")],
    examples=[
        Example({"pred": [1.0, 2.0, 4.0], "target": [1.0, 2.0, 3.0]}, 0.5, HAND),
        Example(
            {"pred": [1.0, 2.0, 4.0], "target": [1.0, 2.0, 3.0]},
            math.sqrt(0.5),
            HAND,
            {"squared": False},
        ),
    ],
    notes="1 - r2 where the target varies; a constant target divides by the float64 epsilon "
    "(a huge number unless predicted exactly), as torchmetrics does. Has no per-row value.",
)
def rse_residual(pred, target):
    """Relative squared error: the residual sum of squares over the target's total."""
    return (pred - target) ** 2


# ------------------------------------------------------------ medians and quantiles (a sketch)

ACCURACY = Param(
    "relative_accuracy",
    float,
    1e-3,
    "the sketch's bound: a quantile that is not returned exactly is within this relative error",
    gt=0,
    le=0.1,
)
SKETCH_NOTE = (
    "Streamed in bounded memory through a log-bucket sketch of the values (buckets of relative "
    "width 2 relative_accuracy, summed per bucket, merged by adding): the result is exact "
    "whenever the bucket holding the quantile holds one distinct value (ties, discrete or "
    "rounded data, small inputs), and otherwise within relative_accuracy of scikit-learn's "
    "value. The state grows with the spread of the values (about ln(max/min) / "
    "(2 relative_accuracy) buckets), never with the rows."
)


def _outputs(values: np.ndarray) -> int:
    return 1 if values.ndim == 1 else values.shape[1]


class BucketQuantiles(Statistic):
    """Per output column, the weighted ``q`` quantile of the loss's per-element values (or of
    the target, ``of_target``), from a log-bucket sketch whose buckets are inner keys; with
    ``pinball`` also the sum of the loss's values, for a D^2 score against that quantile.

    Columns per (bucket, output): w, w (v - c), w (v - c)^2 about the bucket's centre c, and
    with ``pinball`` the loss values w l.
    """

    def __init__(self, accuracy: float, q: float, pinball: bool = False) -> None:
        self.sketch, self.q, self.pinball = LogBuckets(accuracy), q, pinball
        self.width = 4 if pinball else 3

    def layout(self, values, inputs):
        self.outputs = _outputs(values)

    def per_row(self, values):
        return None if self.pinball else (values if values.ndim == 1 else values.mean(axis=1))

    def contribute(self, values, weight, inputs, shifts):
        rows, m = len(values), self.outputs
        sketched = (inputs["target"] if self.pinball else values).reshape(rows, m)
        codes = self.sketch.codes(sketched)
        w = np.repeat(ones_or(weight, rows), m)
        columns = bucket_sums(sketched.reshape(-1), self.sketch.centres(codes).reshape(-1), w)
        if self.pinball:
            columns.append(weighted(values.reshape(rows, m), weight).reshape(-1))
        inner = (codes * m + np.arange(m)).reshape(-1)
        return Contribution(columns, np.repeat(np.arange(rows), m), inner)

    def finalize(self, totals):
        sums = totals.sums
        leading = sums.shape[:-2]
        result = np.empty(leading)
        rows = np.broadcast_to(totals.counts[..., 1], leading)
        centres = self.sketch.centres(np.arange(sums.shape[-2]) // self.outputs)
        for at in np.ndindex(*leading):
            scores = [self._output(sums[at], centres, j) for j in range(self.outputs)]
            result[at] = np.mean(scores)
            if self.pinball and rows[at] < 2:
                result[at] = np.nan  # scikit-learn: D^2 is not defined below two samples
        return result

    def _output(self, sums: np.ndarray, centres: np.ndarray, j: int) -> float:
        cells = sums[j :: self.outputs]
        buckets = Buckets(
            cells[:, 0], cells[:, 1], cells[:, 2], centres[j :: self.outputs], self.sketch.accuracy
        )
        quantile = buckets.quantile(self.q)
        if not self.pinball:
            return quantile
        loss, null = float(cells[:, 3].sum()), buckets.pinball_about(quantile, self.q)
        if null == 0:  # scikit-learn's force_finite
            return 1.0 if loss == 0 else 0.0
        return 1.0 - loss / null


@register(
    name="median_absolute_error",
    aliases=("medae", "median_ae"),
    family=FAMILY,
    elementwise=True,
    formula="weighted median of |p - t| per output column, averaged over columns",
    reference="sklearn.metrics.median_absolute_error",
    params=[ACCURACY],
    statistic=lambda params: BucketQuantiles(params["relative_accuracy"], 0.5),
    examples=[
        Example({"pred": [1.0, 2.0, 3.0, 9.0], "target": [0.0, 0.0, 0.0, 0.0]}, 2.5, HAND),
        Example({"pred": [1.0, 2.0, 3.0], "target": [0.0, 0.0, 0.0]}, 2.0, HAND, weight=[1, 1, 1]),
        Example(
            {
                "pred": [[0.0, 2.0], [-1.0, 2.0], [8.0, -5.0]],
                "target": [[0.5, 1], [-1, 1], [7, -6]],
            },
            0.75,
            "scikit-learn's docstring example (column medians 0.5 and 1)",
        ),
    ],
    notes="Robust to outliers. Weights as scikit-learn's sample_weight (its weighted percentile "
    "with average=True: the first value whose cumulative weight reaches half the total, averaged "
    "with the next where it reaches it exactly; unweighted, numpy's median). " + SKETCH_NOTE,
)
def median_absolute_error(pred, target, *, abs_error):
    """Median of the absolute errors: the typical error, untouched by outliers."""
    return abs_error


D2_NOTE = (
    "Higher is better; 1 is perfect and 0 is no better than predicting the target's quantile. "
    "Per output column, averaged; a column whose null loss is 0 scores 1 when predicted exactly "
    "and 0 otherwise (scikit-learn's force_finite). NaN below two rows. Has no per-row value. "
)


@register(
    name="d2_pinball",
    aliases=("d2_pinball_score",),
    family=FAMILY,
    elementwise=True,
    formula="1 - sum w pinball_alpha(t - p) / sum w pinball_alpha(t - q_alpha(t)), "
    "q_alpha the weighted alpha-quantile of the target",
    reference="sklearn.metrics.d2_pinball_score",
    direction="higher",
    params=[
        Param("alpha", float, 0.5, "the quantile", gt=0, lt=1),
        ACCURACY,
    ],
    statistic=lambda params: BucketQuantiles(params["relative_accuracy"], params["alpha"], True),
    examples=[
        Example({"pred": [2.0, 2.0, 2.0], "target": [1.0, 2.0, 3.0]}, 0.0, HAND),
        Example(
            {"pred": [1.0, 2.0, 2.0], "target": [1.0, 2.0, 4.0]},
            1 - (0.9 * 2) / (0.1 * (3 + 2)),
            "hand-worked: alpha 0.9, quantile 4; loss 0.9*2, null 0.1*(3+2)",
            {"alpha": 0.9},
        ),
    ],
    notes=D2_NOTE + SKETCH_NOTE + " The null loss is exact except for the values in the bucket "
    "of the quantile when they differ.",
)
def d2_pinball(pred, target, *, alpha):
    """D^2 of the pinball loss: the share of the quantile-null loss the predictions remove."""
    return pinball(pred, target, alpha=alpha)


@register(
    name="d2_absolute_error",
    aliases=("d2_absolute_error_score",),
    family=FAMILY,
    elementwise=True,
    formula="1 - sum w |t - p| / sum w |t - median_w(t)|",
    reference="sklearn.metrics.d2_absolute_error_score",
    direction="higher",
    params=[ACCURACY],
    statistic=lambda params: BucketQuantiles(params["relative_accuracy"], 0.5, True),
    examples=[
        Example({"pred": [3.0, 2.0, 1.0], "target": [1.0, 2.0, 3.0]}, -1.0, "scikit-learn docs"),
        Example({"pred": [1.0, 2.0, 3.0], "target": [1.0, 2.0, 3.0]}, 1.0, "scikit-learn docs"),
    ],
    notes=D2_NOTE + SKETCH_NOTE,
)
def d2_absolute_error(pred, target, *, abs_error):
    """D^2 of the absolute error: 1 - MAE / MAE of predicting the target's median."""
    return 0.5 * abs_error


class ResidualVariance(Statistic):
    """1 - Var_w(t - p) / Var_w(t) per output column, averaged: centred moments of the
    residual r and of the target, each about its key's first row."""

    shift_width = 0

    def layout(self, values, inputs):
        self.outputs = m = _outputs(values)
        self.width, self.shift_width = 1 + 4 * m, 2 * m

    def contribute(self, values, weight, inputs, shifts):
        rows, m = len(values), self.outputs
        both = np.hstack([values.reshape(rows, m), inputs["target"].reshape(rows, m)])
        usable = np.isfinite(both).all(axis=1)
        if weight is not None:
            usable &= weight > 0
        centred = both - shifts(None, None, both, usable)
        first, second = weighted(centred, weight), weighted(centred * centred, weight)
        return Contribution([ones_or(weight, rows), *first.T, *second.T])

    def finalize(self, totals):
        sums, m = totals.sums[..., 0, :], self.outputs
        w = sums[..., :1]
        first, second = sums[..., 1 : 2 * m + 1], sums[..., 2 * m + 1 :]
        with np.errstate(divide="ignore", invalid="ignore"):
            variance = second / w - (first / w) ** 2
        residual, total = variance[..., :m], variance[..., m:]
        with np.errstate(divide="ignore", invalid="ignore"):
            score = 1.0 - residual / total
        # scikit-learn's force_finite: 1 for no residual spread, 0 for spread on a constant.
        score = np.where(residual == 0, 1.0, np.where(total == 0, 0.0, score))
        return score.mean(axis=-1)

    def moved(self, sums, delta):
        m, out = self.outputs, sums.copy()
        w = sums[..., :1]
        first = sums[..., 1 : 2 * m + 1]
        out[..., 2 * m + 1 :] += -2 * delta * first + w * delta * delta
        out[..., 1 : 2 * m + 1] -= w * delta
        return out


@register(
    name="explained_variance",
    aliases=("explained_variance_score",),
    family=FAMILY,
    elementwise=True,
    formula="1 - Var_w(t - p) / Var_w(t) per output column, averaged",
    reference="sklearn.metrics.explained_variance_score / torchmetrics explained_variance",
    direction="higher",
    statistic=lambda params: ResidualVariance(),
    examples=[
        Example(
            {"pred": [2.5, 0.0, 2.0, 8.0], "target": [3.0, -0.5, 2.0, 7.0]},
            0.9571734475374732,
            "scikit-learn's docstring example",
        ),
        Example({"pred": [2.0, 3.0, 4.0], "target": [1.0, 2.0, 3.0]}, 1.0, "hand-worked: bias"),
    ],
    notes="Higher is better. Unlike r2 a constant bias costs nothing: the residual's mean is "
    "taken out. A column with no residual spread scores 1, and one with spread on a constant "
    "target 0 (scikit-learn's force_finite; torchmetrics does the same). Has no per-row value.",
)
def explained_variance(pred, target):
    """The share of the target's variance that the predictions explain, bias aside."""
    return target - pred


def _tweedie_sum(target: np.ndarray, power: float) -> np.ndarray:
    """The per-row term whose sum, with sum w and sum w t, gives the deviance of the mean."""
    if power == 1:
        return np.where(target > 0, target * np.log(np.where(target > 0, target, 1.0)), 0.0)
    if power == 2:
        return np.log(target)
    return np.maximum(target, 0.0) ** (2.0 - power)


class TweedieNull(Statistic):
    """1 - sum w dev(t, p) / sum w dev(t, mean_w(t)), the null deviance from additive sums:
    sum w, the target's moments about a shift, and sum w a(t) for the power's term a."""

    width, shift_width = 5, 1

    def __init__(self, power: float) -> None:
        self.power = power

    def contribute(self, values, weight, inputs, shifts):
        target = inputs["target"]
        rows = len(values)
        usable = np.isfinite(target)
        if weight is not None:
            usable &= weight > 0
        centred = target - shifts(None, None, target.reshape(-1, 1), usable)[:, 0]
        columns = [values, np.ones(rows), centred, centred * centred]
        columns.append(_tweedie_sum(target, self.power) if self.power else np.zeros(rows))
        return Contribution([weighted(column, weight) for column in columns])

    def finalize(self, totals):
        sums = totals.sums[..., 0, :]
        loss, w, first, second, term = (sums[..., j] for j in range(5))
        power = self.power
        with np.errstate(all="ignore"):
            mean = totals.shift[..., 0, 0] + first / w
            if power == 0:
                null = second - first * first / w
            elif power == 1:
                null = 2.0 * (term - w * mean * np.log(mean))
            elif power == 2:
                null = 2.0 * (w * np.log(mean) - term)
            else:
                null = 2.0 * (term - w * mean ** (2.0 - power)) / ((1.0 - power) * (2.0 - power))
            score = 1.0 - loss / null
        return np.where(totals.counts[..., 1] < 2, np.nan, score)

    def moved(self, sums, delta):
        out = sums.copy()
        move, w, first = delta[..., 0], sums[..., 1], sums[..., 2]
        out[..., 3] += -2 * move * first + w * move * move
        out[..., 2] -= w * move
        return out


@register(
    name="d2_tweedie",
    aliases=("d2_tweedie_score",),
    family=FAMILY,
    elementwise=True,
    formula="1 - sum w dev_p(t, p) / sum w dev_p(t, mean_w(t)), dev_p the Tweedie deviance",
    reference="sklearn.metrics.d2_tweedie_score",
    direction="higher",
    params=[
        Param(
            "power",
            float,
            0.0,
            "Tweedie power: 0 normal (r2), 1 Poisson, 2 gamma, 3 inverse Gaussian",
            valid=lambda v: v <= 0 or v >= 1,
            valid_text="<= 0 or >= 1",
        )
    ],
    statistic=lambda params: TweedieNull(params["power"]),
    requires=[
        Requirement("pred", _tweedie_pred_ok, "> 0 when power != 0", "the mean must be positive"),
        Requirement(
            "target",
            _tweedie_target_ok,
            ">= 0 for 1 <= power < 2 and > 0 for power >= 2",
            "choose a power whose distribution covers these targets",
        ),
    ],
    examples=[
        Example({"pred": [1.0, 2.0, 4.0], "target": [1.0, 2.0, 3.0]}, 0.5, "hand-worked: = r2"),
        Example(
            {"pred": [1.0, 3.0], "target": [1.0, 3.0]},
            1.0,
            "hand-worked: an exact prediction",
            {"power": 1},
        ),
    ],
    notes="Higher is better. The deviance of the target's weighted mean comes from sums (of w, "
    "w t and w t^(2-p), w t log t or w log t), so it streams exactly. One column only, as "
    "scikit-learn. NaN below two rows. Has no per-row value.",
)
def d2_tweedie(pred, target, *, power):
    """D^2 of the Tweedie deviance: the share of the mean-only deviance the predictions remove."""
    if pred.ndim == 2:
        raise InputError(
            f"d2_tweedie takes one pred and one target column, not {pred.shape[1]}.",
            "Give one column each (scikit-learn's d2_tweedie_score has no multioutput).",
        )
    return tweedie_deviance(pred, target, power=power)


# ---------------------------------------------------------------- torchmetrics' regression


class NormalisedRoot(Statistic):
    """RMSE / a scale of the target, per output column, averaged. Sums w, w d^2 and the
    target's moments about a shift per column."""

    def __init__(self, normalization: str) -> None:
        self.normalization = normalization

    def layout(self, values, inputs):
        self.outputs = m = _outputs(values)
        self.width, self.shift_width = 1 + 3 * m, m

    def per_row(self, values):
        return values if values.ndim == 1 else values.mean(axis=1)

    def contribute(self, values, weight, inputs, shifts):
        rows, m = len(values), self.outputs
        target = inputs["target"].reshape(rows, m)
        usable = np.isfinite(target).all(axis=1)
        if weight is not None:
            usable &= weight > 0
        centred = target - shifts(None, None, target, usable)
        columns = [values.reshape(rows, m), centred, centred * centred]
        stacked = np.hstack([weighted(column, weight) for column in columns])
        return Contribution([ones_or(weight, rows), *stacked.T])

    def finalize(self, totals):
        sums, m = totals.sums[..., 0, :], self.outputs
        w = sums[..., :1]
        squares, first, second = (sums[..., 1 + j * m : 1 + (j + 1) * m] for j in range(3))
        shift = totals.shift[..., 0, :]
        with np.errstate(all="ignore"):
            rmse = np.sqrt(squares / w)
            if self.normalization == "mean":
                scale = shift + first / w
            elif self.normalization == "std":
                scale = np.sqrt(np.maximum(second / w - (first / w) ** 2, 0.0))
            else:  # l2: the root of sum w t^2, from the moments about the shift
                scale = np.sqrt(second + 2 * shift * first + w * shift * shift)
            return (rmse / scale).mean(axis=-1)

    def moved(self, sums, delta):
        m, out = self.outputs, sums.copy()
        w, first = sums[..., :1], sums[..., 1 + m : 1 + 2 * m]
        out[..., 1 + 2 * m :] += -2 * delta * first + w * delta * delta
        out[..., 1 + m : 1 + 2 * m] -= w * delta
        return out


@register(
    name="nrmse",
    aliases=("normalized_root_mean_squared_error",),
    family=FAMILY,
    elementwise=True,
    formula="sqrt(mean_w (p - t)^2) / scale(t): mean_w(t), std_w(t) (population) or "
    "sqrt(sum w t^2), per output column, averaged",
    reference="torchmetrics normalized_root_mean_squared_error",
    params=[
        Param(
            "normalization",
            str,
            "mean",
            "the target's scale: mean, std or l2 (its Euclidean norm)",
            choices=("mean", "std", "l2"),
        )
    ],
    statistic=lambda params: NormalisedRoot(params["normalization"]),
    examples=[
        Example({"pred": [1.0, 3.0], "target": [2.0, 2.0]}, 0.5, "hand-worked: RMSE 1 / mean 2"),
        Example({"pred": [1.0, 3.0], "target": [1.0, 3.0]}, 0.0, HAND, {"normalization": "std"}),
        Example(
            {"pred": [0.0, 0.0], "target": [3.0, 4.0]},
            math.sqrt(12.5) / 5,
            "hand-worked: RMSE sqrt(12.5) / norm 5",
            {"normalization": "l2"},
        ),
    ],
    notes="torchmetrics' 'range' (max - min of the target) is not offered: the extremes of a "
    "stream are not sums. With several output columns torchmetrics returns one value per "
    "column; here they are averaged. Weights weigh the means and the norm (sum w t^2). "
    "--per-row writes the squared error.",
)
def normalized_root_mean_squared_error(pred, target):
    """RMSE divided by the target's mean, standard deviation or norm: a scale-free error."""
    return squared_error(pred, target)


@register(
    name="wmape",
    aliases=("weighted_mape", "weighted_mean_absolute_percentage_error"),
    family=FAMILY,
    elementwise=True,
    formula="sum w |p - t| / sum w |t|",
    reference="torchmetrics weighted_mean_absolute_percentage_error",
    statistic=lambda params: Mean(
        divisor=lambda inputs: np.abs(inputs["target"]).reshape(len(inputs["target"]), -1).mean(1),
        nothing_left=(
            "every target is 0: wmape divides by the sum of |t|",
            "use mae, or mape with its eps floor",
        ),
    ),
    examples=[Example({"pred": [110.0, 45.0], "target": [100.0, 50.0]}, 15 / 150, HAND)],
    notes="A fraction: the total absolute error over the total size of the targets, so a row "
    "with a small target cannot dominate as in mape. torchmetrics floors sum |t| at 1.17e-6; "
    "here a sum of 0 is an input error. --per-row writes |p - t|.",
)
def weighted_absolute_percentage_error(pred, target, *, abs_error):
    """Total absolute error relative to the total absolute target (WMAPE)."""
    return abs_error


@register(
    name="minkowski",
    aliases=("minkowski_distance",),
    family=FAMILY,
    elementwise=True,
    formula="( sum_i w_i sum_k |p_ik - t_ik|^p )^(1/p)",
    reference="torchmetrics minkowski_distance",
    params=[Param("p", float, 2.0, "the order of the norm", ge=1)],
    statistic=lambda params: Mean(total=True, transform=lambda v: v ** (1.0 / params["p"])),
    examples=[
        Example({"pred": [3.0, 0.0], "target": [0.0, 4.0]}, 5.0, HAND),
        Example({"pred": [1.0, -2.0], "target": [0.0, 0.0]}, 3.0, HAND, {"p": 1}),
    ],
    notes="A distance over the whole input, not a mean: it grows with the number of rows. "
    "--per-row writes each row's sum of |d|^p.",
)
def minkowski_distance(pred, target, *, p, abs_error):
    """The p-norm of all the errors together (the Minkowski distance of pred and target)."""
    powered = abs_error**p
    return powered if powered.ndim == 1 else powered.sum(axis=1)


@register(
    name="ghm_r",
    family=FAMILY,
    elementwise=True,
    formula="mean over non-empty bins b of [sum_{i in b} w_i asl1_i / sum_{i in b} w_i], "
    "asl1 = sqrt(d^2 + mu^2) - mu, bins of g = |d| / sqrt(d^2 + mu^2) on [0, 1]",
    reference="Li et al. 2019 (GHM-R; mmdetection GHMR without momentum)",
    params=[
        Param("mu", float, 0.02, "the smoothing of the authentic smooth L1 loss", gt=0),
        Param("bins", int, 10, "number of equal gradient-norm bins on [0, 1]", ge=1, le=10_000),
    ],
    statistic=lambda params: _ghm_bins(params),
    examples=[
        Example(
            {"pred": [0.0, 0.0, 3.0], "target": [0.0, 0.0, 0.0]},
            (0.0 + math.sqrt(9.0 + 1e-4) - 0.01) / 2,
            "hand-worked (mu 0.01): two rows in bin 0, one in bin 9",
            {"mu": 0.01},
        )
    ],
    notes="The regression half of gradient harmonising (the seed articles' GHM loss): each "
    "error's authentic smooth L1 loss is weighted by the inverse density of its gradient norm "
    "over the whole input (per-bin sums, one pass), so the many easy and the few outlying "
    "errors count less. --per-row writes the plain ASL1 loss. No momentum.",
)
def gradient_harmonized_regression(pred, target, *, mu):
    """Authentic smooth L1 re-weighted by gradient density (GHM-R)."""
    error = pred - target
    return np.sqrt(error * error + mu * mu) - mu


def _ghm_bins(params: Mapping[str, Any]) -> Statistic:
    mu = params["mu"]

    def gradient(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        error = inputs["pred"] - inputs["target"]
        return np.abs(error / np.sqrt(error * error + mu * mu))

    return Binned(params["bins"], gradient)
