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

from losscli.engine.statistics import (
    Contribution,
    Largest,
    Mean,
    Statistic,
    ones_or,
    square_root,
    weighted,
)
from losscli.losses.registry import Example, Param, Requirement, register

FAMILY = "regression"
LOG_2 = math.log(2.0)
LOG_2PI = math.log(2.0 * math.pi)

HAND = "hand-worked"


def root_of_mean(params: Mapping[str, Any]) -> Statistic:
    return Mean(transform=square_root)


def largest(params: Mapping[str, Any]) -> Statistic:
    return Largest()


@register(
    name="rmse",
    family=FAMILY,
    elementwise=True,
    formula="sqrt( sum_i w_i mean_k (p - t)^2 / sum_i w_i )",
    reference="sklearn.metrics.root_mean_squared_error",
    statistic=root_of_mean,
    summary="Root of the mean squared error, in the target's units.",
    examples=[Example({"pred": [1, 2, 3], "target": [1, 1, 1]}, math.sqrt(5 / 3), HAND)],
    notes="The root of the mean over all elements. For vector rows scikit-learn's multioutput "
    "default averages per-column RMSEs instead. --per-row writes the squared error.",
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
    varies by 1 loses no digits.
    """

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
        score = np.where(constant, np.where(residual == 0, 1.0, 0.0), score)
        return score.mean(axis=-1)

    def moved(self, sums, delta):
        m, out = self.outputs, sums.copy()
        w = sums[..., m : m + 1]
        first = sums[..., m + 1 : 2 * m + 1]
        out[..., 2 * m + 1 :] += -2 * delta * first + w * delta * delta
        out[..., m + 1 : 2 * m + 1] -= w * delta
        return out


@register(
    name="r2",
    aliases=("score",),
    family=FAMILY,
    elementwise=True,
    formula="1 - sum w (t - p)^2 / sum w (t - mean_w(t))^2, per output column, averaged",
    reference="sklearn.metrics.r2_score",
    direction="higher",
    statistic=lambda params: ExplainedVariance(),
    examples=[Example({"pred": [1.0, 2.0, 4.0], "target": [1.0, 2.0, 3.0]}, 0.5, HAND)],
    notes="Higher is better. A constant target gives 1 when predicted exactly and 0 otherwise, "
    "as scikit-learn's force_finite does. Has no per-row value.",
)
def r2_residual(pred, target):
    """Coefficient of determination: the share of the target's variance the predictions explain."""
    return (pred - target) ** 2
