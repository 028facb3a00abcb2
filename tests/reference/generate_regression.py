"""Generate reference values for the regression losses from the reference implementations.

Every case's inputs come from a numpy Generator seeded from the case id, and its expected value is
computed by PyTorch (torch.nn losses), scikit-learn (sklearn.metrics) or, where neither library has
the loss, a hand formula stated in the case's ``source``. Nothing is rounded: the fixture stores
full float64 values, and rerunning a case rewrites it byte for byte on the same machine.

torch and scikit-learn are needed only to regenerate ``regression.json``, not to run the tests
that read it, and each only for the cases that use it. To regenerate, from the repository root
run (README.md beside this file says more):

    python3 tests/reference/generate_regression.py              # every case
    python3 tests/reference/generate_regression.py --only ID    # one case, the others untouched
    python3 tests/reference/generate_regression.py --add ID     # a case new in specs()
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import fixture
import numpy as np
from fixture import Builder, Inputs, Library, Spec, case_record, case_rng

OUTPUT = Path(__file__).with_name("regression.json")
torch = Library("torch")
metrics = Library("sklearn.metrics")


TORCH_LOSSES = {
    "mse": "MSELoss",
    "mae": "L1Loss",
    "huber": "HuberLoss",
    "smooth_l1": "SmoothL1Loss",
    "poisson_nll": "PoissonNLLLoss",
    "gaussian_nll": "GaussianNLLLoss",
}
SKLEARN_LOSSES = {
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "rmse": "root_mean_squared_error",
    "pinball": "mean_pinball_loss",
    "mape": "mean_absolute_percentage_error",
    "msle": "mean_squared_log_error",
    "rmsle": "root_mean_squared_log_error",
    "tweedie": "mean_tweedie_deviance",
    "r2": "r2_score",
    "max_error": "max_error",
}
# Losses that go to torch only without weights; weighted cases use sklearn's sample_weight.
SKLEARN_WHEN_WEIGHTED = {"mse", "mae"}


# ---------------------------------------------------------------------------- input builders


def pair(n: int, k: int = 0, loc: float = 0.0, scale: float = 1.0, noise: float = 1.0) -> Builder:
    """Target ~ N(loc, scale), pred = target + N(0, noise); shape (n,) or (n, k)."""

    def build(rng: np.random.Generator) -> Inputs:
        shape = (n, k) if k else (n,)
        target = rng.normal(loc, scale, shape)
        return {"pred": target + rng.normal(0.0, noise, shape), "target": target}

    return build


def independent(n: int, k: int = 0) -> Builder:
    """Pred and target unrelated N(0, 1) draws (gives a negative r2)."""

    def build(rng: np.random.Generator) -> Inputs:
        shape = (n, k) if k else (n,)
        return {"pred": rng.normal(0.0, 1.0, shape), "target": rng.normal(0.0, 1.0, shape)}

    return build


def dyadic_boundary(n: int, edge: float) -> Builder:
    """Exactly representable values with |pred - target| in {edge/2, edge, 3 edge} (edge = 2^-m)."""

    def build(rng: np.random.Generator) -> Inputs:
        target = rng.integers(-16, 17, n) / 8.0
        step = rng.choice([-3.0, -1.0, -0.5, 0.5, 1.0, 3.0], n) * edge
        step[: n // 3] = np.where(rng.random(n // 3) < 0.5, -edge, edge)
        return {"pred": target + step, "target": target}

    return build


def positive(n: int, k: int = 0, scale: float = 2.0) -> Builder:
    """Gamma-distributed target and pred (> 0)."""

    def build(rng: np.random.Generator) -> Inputs:
        shape = (n, k) if k else (n,)
        target = rng.gamma(2.0, scale, shape)
        pred = target * np.exp(rng.normal(0.0, 0.4, shape))
        return {"pred": pred, "target": target}

    return build


def counts(n: int, k: int = 0, log_input: bool = True, large: bool = False) -> Builder:
    """Poisson counts (some made non-integer) for a log-rate or rate prediction."""

    def build(rng: np.random.Generator) -> Inputs:
        shape = (n, k) if k else (n,)
        log_rate = rng.uniform(-5.0, 30.0, shape) if large else rng.normal(0.7, 1.0, shape)
        target = rng.poisson(np.exp(log_rate)).astype(np.float64)
        target += np.where(rng.random(shape) < 0.3, rng.random(shape), 0.0)
        pred = log_rate + rng.normal(0.0, 0.3, shape)
        if not log_input:
            pred = np.exp(pred)
            pred.flat[0] = 0.0  # exercises eps in log(pred + eps)
        return {"pred": pred, "target": target}

    return build


def with_var(n: int, k: int = 0, per_row: bool = False) -> Builder:
    """Normal pair plus a variance input, some entries 0 or below the default eps (1e-6)."""

    def build(rng: np.random.Generator) -> Inputs:
        inputs = pair(n, k, noise=0.8)(rng)
        var_shape = (n,) if (per_row or not k) else (n, k)
        var = rng.uniform(0.05, 3.0, var_shape)
        tiny = [0.0, 1e-9, 5e-7, 2e-3]
        where = rng.choice(var.size, size=len(tiny), replace=False)
        var.flat[where] = tiny
        # Keep d^2 / var moderate where var is tiny, so the clamped log(var) is not swamped.
        pred, target = inputs["pred"], inputs["target"]
        if per_row:
            pred[where] = target[where] + rng.normal(0.0, 1e-3, (len(tiny), k))
        else:
            pred.flat[where] = target.flat[where] + rng.normal(0.0, 1e-3, len(tiny))
        inputs["var"] = var
        return inputs

    return build


def large_pair(n: int, spread: float = 1.0, noise: float = 1e-3) -> Builder:
    """Values around 1e6 (target = 1e6 + N(0, spread)) with small prediction errors."""
    return pair(n, loc=1e6, scale=spread, noise=noise)


def tiny_diff(n: int) -> Builder:
    return pair(n, noise=1e-9)


def log_cosh_large(n: int) -> Builder:
    def build(rng: np.random.Generator) -> Inputs:
        target = rng.normal(0.0, 5.0, n)
        d = rng.uniform(-299.0, 299.0, n)
        d[:2] = [299.0, -298.5]
        return {"pred": target + d, "target": target}

    return build


def mape_eps(n: int) -> Builder:
    """Targets that hit the machine-eps clamp: exact zeros, tiny values, values near eps."""

    def build(rng: np.random.Generator) -> Inputs:
        inputs = pair(n, scale=2.0, noise=0.5)(rng)
        special = [0.0, 1e-20, -3e-17, 2e-16, -2.5e-16, 1e-15]
        inputs["target"][: len(special)] = special
        inputs["pred"][: len(special)] = rng.normal(0.0, 1e-3, len(special))
        return inputs

    return build


def smape_zeros(n: int) -> Builder:
    """Normal pair with some 0/0 elements and some pred = 0 or target = 0."""

    def build(rng: np.random.Generator) -> Inputs:
        inputs = pair(n, noise=1.0)(rng)
        inputs["pred"][:3] = 0.0
        inputs["target"][:3] = 0.0
        inputs["pred"][3] = 0.0
        inputs["target"][4] = 0.0
        return inputs

    return build


def near_minus_one(n: int) -> Builder:
    """msle inputs in (-1, 3): sklearn accepts values > -1."""

    def build(rng: np.random.Generator) -> Inputs:
        return {"pred": rng.uniform(-0.9, 3.0, n), "target": rng.uniform(-0.95, 3.0, n)}

    return build


def log_uniform(n: int, top: float) -> Builder:
    def build(rng: np.random.Generator) -> Inputs:
        target = np.expm1(rng.uniform(0.0, top, n))
        return {"pred": target * np.exp(rng.normal(0.0, 0.2, n)), "target": target}

    return build


def tweedie_data(n: int, power: float, k: int = 0) -> Builder:
    """Inputs inside sklearn's domain for the given power."""

    def build(rng: np.random.Generator) -> Inputs:
        shape = (n, k) if k else (n,)
        if power == 0:
            return pair(n, k, loc=1.0, scale=2.0)(rng)
        pred = rng.gamma(2.0, 1.5, shape)
        if power < 0:  # any real target, pred > 0
            target = rng.normal(1.0, 2.0, shape)
        elif power < 2:  # target >= 0, pred > 0
            target = rng.poisson(pred).astype(np.float64)
            target += np.where(target > 0, rng.random(shape), 0.0)
            target.flat[0] = 0.0
        else:  # target > 0, pred > 0
            target = pred * np.exp(rng.normal(0.0, 0.5, shape))
        return {"pred": pred, "target": target}

    return build


def r2_columns(n: int) -> Builder:
    """Three columns with different scales and fit quality."""

    def build(rng: np.random.Generator) -> Inputs:
        target = rng.normal([0.0, 10.0, -3.0], [1.0, 5.0, 0.1], (n, 3))
        pred = target + rng.normal(0.0, [0.3, 4.0, 0.2], (n, 3))
        return {"pred": pred, "target": target}

    return build


# ---------------------------------------------------------------------------- the cases


def specs() -> list[Spec]:
    s: list[Spec] = []

    def add(case_id: str, loss: str, build: Builder, weighted: bool = False, **params: Any) -> None:
        s.append(Spec(case_id, loss, build, params, weighted))

    add("mse-default-scalar", "mse", pair(23))
    add("mse-weighted-scalar", "mse", pair(19), weighted=True)
    add("mse-default-vector", "mse", pair(12, 3))
    add("mse-weighted-vector", "mse", pair(11, 3), weighted=True)
    add("mse-large-scalar", "mse", large_pair(31, spread=1e5))
    add("mse-tinydiff-scalar", "mse", tiny_diff(17))

    add("rmse-default-scalar", "rmse", pair(29, scale=3.0))
    add("rmse-weighted-scalar", "rmse", pair(21), weighted=True)
    add("rmse-large-scalar", "rmse", large_pair(25, spread=1e5))

    add("mae-default-scalar", "mae", pair(27))
    add("mae-weighted-scalar", "mae", pair(18), weighted=True)
    add("mae-default-vector", "mae", pair(10, 3))
    add("mae-large-scalar", "mae", large_pair(33, spread=1e5))
    add("mae-tinydiff-scalar", "mae", tiny_diff(15))

    add("huber-default-scalar", "huber", pair(30, noise=1.5))
    add("huber-delta0.3-scalar", "huber", pair(24), delta=0.3)
    add("huber-delta2.5-scalar", "huber", pair(24, noise=3.0), delta=2.5)
    add("huber-boundary-delta0.5-scalar", "huber", dyadic_boundary(18, 0.5), delta=0.5)
    add("huber-weighted-scalar", "huber", pair(20, noise=1.5), weighted=True)
    add("huber-default-vector", "huber", pair(13, 3, noise=1.5))
    add("huber-weighted-vector", "huber", pair(9, 3, noise=1.5), weighted=True, delta=0.7)
    add("huber-large-scalar", "huber", large_pair(26, spread=1e5, noise=2.0))

    add("smooth_l1-default-scalar", "smooth_l1", pair(28, noise=1.5))
    add("smooth_l1-beta0-scalar", "smooth_l1", pair(22), beta=0.0)
    add("smooth_l1-beta0.5-scalar", "smooth_l1", pair(22), beta=0.5)
    add("smooth_l1-boundary-beta0.25-scalar", "smooth_l1", dyadic_boundary(18, 0.25), beta=0.25)
    add("smooth_l1-weighted-scalar", "smooth_l1", pair(16, noise=1.5), weighted=True)
    add("smooth_l1-default-vector", "smooth_l1", pair(11, 3, noise=1.5))

    add("log_cosh-default-scalar", "log_cosh", pair(25, noise=2.0))
    add("log_cosh-weighted-scalar", "log_cosh", pair(17, noise=2.0), weighted=True)
    add("log_cosh-default-vector", "log_cosh", pair(10, 3, noise=2.0))
    add("log_cosh-bigdiff-scalar", "log_cosh", log_cosh_large(20))

    add("pinball-default-scalar", "pinball", pair(26))
    add("pinball-alpha0.1-scalar", "pinball", pair(26), alpha=0.1)
    add("pinball-alpha0.9-scalar", "pinball", pair(26), alpha=0.9)
    add("pinball-weighted-scalar", "pinball", pair(19), weighted=True, alpha=0.25)
    add("pinball-default-vector", "pinball", pair(12, 3))
    add("pinball-weighted-vector", "pinball", pair(10, 3), weighted=True, alpha=0.9)

    add("mape-default-scalar", "mape", pair(24, loc=3.0, scale=2.0))
    add("mape-weighted-scalar", "mape", pair(18, loc=3.0, scale=2.0), weighted=True)
    add("mape-default-vector", "mape", pair(11, 3, loc=1.0, scale=2.0))
    add("mape-epsclamp-scalar", "mape", mape_eps(14))

    add("smape-default-scalar", "smape", pair(25))
    add("smape-weighted-scalar", "smape", pair(17), weighted=True)
    add("smape-default-vector", "smape", pair(10, 3))
    add("smape-weighted-vector", "smape", pair(9, 3), weighted=True)
    add("smape-zeros-scalar", "smape", smape_zeros(15))

    add("msle-default-scalar", "msle", positive(26))
    add("msle-weighted-scalar", "msle", positive(18), weighted=True)
    add("msle-default-vector", "msle", positive(11, 3))
    add("msle-nearminus1-scalar", "msle", near_minus_one(22))

    add("rmsle-default-scalar", "rmsle", positive(27))
    add("rmsle-weighted-scalar", "rmsle", positive(19), weighted=True)
    add("rmsle-large-scalar", "rmsle", log_uniform(23, 15.0))

    add("poisson_nll-default-scalar", "poisson_nll", counts(30))
    add("poisson_nll-full-scalar", "poisson_nll", counts(30), full=True)
    add("poisson_nll-rate-scalar", "poisson_nll", counts(30, log_input=False), log_input=False)
    add(
        "poisson_nll-rate-full-scalar",
        "poisson_nll",
        counts(30, log_input=False),
        log_input=False,
        full=True,
    )
    add(
        "poisson_nll-rate-eps1e-3-scalar",
        "poisson_nll",
        counts(25, log_input=False),
        log_input=False,
        eps=1e-3,
    )
    add("poisson_nll-weighted-scalar", "poisson_nll", counts(21), weighted=True)
    add("poisson_nll-full-weighted-vector", "poisson_nll", counts(9, 3), weighted=True, full=True)
    add("poisson_nll-default-vector", "poisson_nll", counts(12, 3))
    add("poisson_nll-large-scalar", "poisson_nll", counts(24, large=True))

    add("gaussian_nll-default-scalar", "gaussian_nll", with_var(25))
    add("gaussian_nll-full-scalar", "gaussian_nll", with_var(25), full=True)
    add("gaussian_nll-eps1e-3-scalar", "gaussian_nll", with_var(25), eps=1e-3)
    add("gaussian_nll-weighted-scalar", "gaussian_nll", with_var(20), weighted=True)
    add("gaussian_nll-default-vector", "gaussian_nll", with_var(10, 3))
    add("gaussian_nll-rowvar-vector", "gaussian_nll", with_var(12, 3, per_row=True), full=True)
    add(
        "gaussian_nll-rowvar-weighted-vector",
        "gaussian_nll",
        with_var(10, 3, per_row=True),
        weighted=True,
    )

    add("tweedie-default-scalar", "tweedie", tweedie_data(24, 0))
    for power, name in [(1, "1"), (1.5, "1.5"), (2, "2"), (3, "3"), (-0.5, "-0.5")]:
        add(f"tweedie-power{name}-scalar", "tweedie", tweedie_data(24, power), power=power)
    add(
        "tweedie-power1.5-weighted-scalar",
        "tweedie",
        tweedie_data(20, 1.5),
        weighted=True,
        power=1.5,
    )
    add(
        "tweedie-power-0.5-weighted-scalar",
        "tweedie",
        tweedie_data(18, -0.5),
        weighted=True,
        power=-0.5,
    )
    add("tweedie-default-vector", "tweedie", tweedie_data(10, 0, k=3))
    add("tweedie-power1.5-vector", "tweedie", tweedie_data(10, 1.5, k=3), power=1.5)

    add("r2-default-scalar", "r2", pair(26, loc=2.0, scale=3.0))
    add("r2-weighted-scalar", "r2", pair(20, loc=2.0, scale=3.0), weighted=True)
    add("r2-default-vector", "r2", r2_columns(14))
    add("r2-weighted-vector", "r2", r2_columns(12), weighted=True)
    add("r2-large-scalar", "r2", large_pair(40, spread=1.0, noise=0.5))
    add("r2-negative-scalar", "r2", independent(22))

    add("max_error-default-scalar", "max_error", pair(30))
    add("max_error-large-scalar", "max_error", large_pair(21, spread=1e5))
    add("max_error-small-scalar", "max_error", pair(7, noise=0.01))
    return s


# ---------------------------------------------------------------------------- references


def weights_for(rng: np.random.Generator, n: int) -> np.ndarray:
    """Weights in (0, 3], two of them set to exactly 0."""
    w = 3.0 * (1.0 - rng.random(n))
    w[rng.choice(n, size=2, replace=False)] = 0.0
    return w


def kwargs_text(params: dict[str, Any]) -> str:
    return "".join(f"{key}={value!r}, " for key, value in params.items())


def tensor(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64)


def torch_reference(
    loss: str, params: dict[str, Any], inputs: Inputs, weight: np.ndarray | None
) -> tuple[float, str]:
    name = TORCH_LOSSES[loss]
    module_cls = getattr(torch.nn, name)
    pred = inputs["pred"]
    args = [tensor(pred), tensor(inputs["target"])]
    note = ""
    if loss == "gaussian_nll":
        var = inputs["var"]
        if var.ndim < pred.ndim:
            var = var[:, None]
            note = "; var passed with shape (n, 1)"
        args.append(tensor(var))
    if weight is None:
        value = module_cls(**params, reduction="mean")(*args).item()
        return value, f"torch.nn.{name}({kwargs_text(params)}reduction='mean'){note}"
    elementwise = module_cls(**params, reduction="none")(*args).numpy()
    row_means = elementwise.reshape(len(weight), -1).mean(axis=1)
    value = float(np.sum(weight * row_means) / np.sum(weight))
    return value, (
        f"torch.nn.{name}({kwargs_text(params)}reduction='none'){note}; mean over each row's "
        "elements, then sum(w * rowmean) / sum(w) in float64"
    )


def sklearn_reference(
    loss: str, params: dict[str, Any], inputs: Inputs, weight: np.ndarray | None
) -> tuple[float, str]:
    name = SKLEARN_LOSSES[loss]
    target, pred = inputs["target"], inputs["pred"]
    note = ""
    if loss == "tweedie" and pred.ndim == 2:
        # mean_tweedie_deviance rejects 2-D input; the mean over all elements is the same.
        if weight is not None:
            weight = np.repeat(weight, pred.shape[1])
        target, pred = target.ravel(), pred.ravel()
        note = " on the flattened (n * k,) arrays"
    kwargs = dict(params)
    if weight is not None:
        kwargs["sample_weight"] = weight
    value = float(getattr(metrics, name)(target, pred, **kwargs))
    weight_text = "sample_weight=weight, " if weight is not None else ""
    call = f"sklearn.metrics.{name}(target, pred, {weight_text}{kwargs_text(params)}"
    return value, call.rstrip(", ") + ")" + note


def weighted_mean_exact(rows: list[list[Fraction]], weight: np.ndarray | None) -> float:
    """Row means, then the (weighted) mean of the rows, all in exact rational arithmetic."""
    row_means = [sum(row, Fraction(0)) / len(row) for row in rows]
    if weight is None:
        return float(sum(row_means, Fraction(0)) / len(row_means))
    w = [Fraction(float(x)) for x in weight]
    return float(sum((wi * m for wi, m in zip(w, row_means, strict=True)), Fraction(0)) / sum(w))


def as_rows(a: np.ndarray) -> list[list[float]]:
    return [[float(x) for x in np.atleast_1d(row)] for row in a]


def log_cosh_reference(inputs: Inputs, weight: np.ndarray | None) -> tuple[float, str]:
    rows = [
        [Fraction(math.log(math.cosh(p - t))) for p, t in zip(prow, trow, strict=True)]
        for prow, trow in zip(as_rows(inputs["pred"]), as_rows(inputs["target"]), strict=True)
    ]
    source = "keras LogCosh formula, math.log(math.cosh(d)) per element"
    source += "; mean (sum(w * rowmean) / sum(w) if weighted) of those in exact rational arithmetic"
    return weighted_mean_exact(rows, weight), source


def smape_element(p: float, t: float) -> Fraction:
    fp, ft = Fraction(p), Fraction(t)
    denominator = abs(fp) + abs(ft)
    return Fraction(0) if denominator == 0 else 2 * abs(fp - ft) / denominator


def smape_reference(inputs: Inputs, weight: np.ndarray | None) -> tuple[float, str]:
    rows = [
        [smape_element(p, t) for p, t in zip(prow, trow, strict=True)]
        for prow, trow in zip(as_rows(inputs["pred"]), as_rows(inputs["target"]), strict=True)
    ]
    source = "hand formula, exact rational arithmetic"
    source += " (fractions.Fraction of the float inputs; 0/0 counts 0; float() of the mean)"
    return weighted_mean_exact(rows, weight), source


def reference(
    loss: str, params: dict[str, Any], inputs: Inputs, weight: np.ndarray | None
) -> tuple[float, str]:
    if loss == "log_cosh":
        return log_cosh_reference(inputs, weight)
    if loss == "smape":
        return smape_reference(inputs, weight)
    if loss in TORCH_LOSSES and not (weight is not None and loss in SKLEARN_WHEN_WEIGHTED):
        return torch_reference(loss, params, inputs, weight)
    return sklearn_reference(loss, params, inputs, weight)


def make_case(spec: Spec) -> dict[str, Any]:
    rng = case_rng(spec.case_id)
    inputs = {key: np.asarray(value, dtype=np.float64) for key, value in spec.build(rng).items()}
    n = len(inputs["pred"])
    weight = weights_for(rng, n) if spec.weighted else None
    expected, source = reference(spec.loss, spec.params, inputs, weight)
    return case_record(spec, inputs, weight, expected, source)


GENERATOR = fixture.Generator("tests/reference/generate_regression.py", OUTPUT, specs(), make_case)

if __name__ == "__main__":
    fixture.main(GENERATOR)
