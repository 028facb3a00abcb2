"""Loss math: worked examples, reference values from torch/scikit-learn, identities, numerics.

Reference values come from ``tests/reference/*.json``, each written by running PyTorch, scikit-learn
or SciPy (or a formula it names) in the ``generate_*.py`` script beside it; each case names its
source and the library versions it came from (``tests/reference/README.md``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from losscli.errors import DomainError, InputError, UsageError
from losscli.losses import REGISTRY, get_loss, parse_specs
from tests.conftest import REFERENCE_CASES, close, evaluate_arrays, run_script

CASES = REFERENCE_CASES
EXAMPLES = [
    pytest.param(loss, example, id=f"{loss.name}-{index}")
    for loss in REGISTRY.values()
    for index, example in enumerate(loss.examples)
]


@pytest.mark.parametrize(("loss", "example"), EXAMPLES)
def test_worked_example(loss, example):
    value = evaluate_arrays(loss.name, example.inputs, example.params, example.weight)
    assert close(value, example.expected, 1e-12), (value, example.expected, example.source)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_reference_value(case):
    value = evaluate_arrays(case["loss"], case["inputs"], case["params"], case["weight"])
    tolerance = case.get("tolerance", 1e-9)  # Keras' float32 rounding: 1e-6
    assert close(value, case["expected"], tolerance), (value, case["expected"], case["source"])


@pytest.mark.parametrize("chunk_rows", [1, 3, 64])
def test_reference_value_in_chunks(chunk_rows):
    for case in CASES:
        value = evaluate_arrays(
            case["loss"], case["inputs"], case["params"], case["weight"], chunk_rows=chunk_rows
        )
        tolerance = case.get("tolerance", 1e-9)
        assert close(value, case["expected"], tolerance), (case["id"], value, case["expected"])


def test_every_loss_has_examples_and_reference_values():
    referenced = {case["loss"] for case in CASES}
    for loss in REGISTRY.values():
        assert loss.examples, f"{loss.name} has no worked example"
        assert all(example.source for example in loss.examples)
        assert loss.name in referenced, f"{loss.name} has no reference value"


def test_reference_file_names_only_registered_losses_and_params():
    for case in CASES:
        definition = get_loss(case["loss"])
        definition.resolve_params(case["params"])  # raises on an unknown or bad parameter


def test_every_loss_documents_itself():
    for loss in REGISTRY.values():
        assert loss.summary and loss.formula and loss.reference, loss.name
        assert loss.direction in ("lower", "higher")
        assert all(param.help for param in loss.params), loss.name


RNG = np.random.default_rng(7)
P = RNG.normal(2.0, 1.5, 40)
T = RNG.normal(2.0, 1.5, 40)
W = RNG.uniform(0.1, 3.0, 40)


def value(spec: str, pred=P, target=T, weight=None, **roles) -> float:
    name, _, given = spec.partition(":")
    params = dict(item.split("=") for item in given.split(",")) if given else {}
    return evaluate_arrays(name, {"pred": pred, "target": target, **roles}, params, weight)


@pytest.mark.parametrize("weight", [None, W])
def test_identities(weight):
    assert math.isclose(
        value("rmse", weight=weight) ** 2, value("mse", weight=weight), rel_tol=1e-12
    )
    for beta in (0.3, 1.0, 2.5):
        smooth = value(f"smooth_l1:beta={beta}", weight=weight)
        assert math.isclose(
            smooth, value(f"huber:delta={beta}", weight=weight) / beta, rel_tol=1e-12
        )
    assert math.isclose(value("pinball:alpha=0.5", weight=weight), value("mae", weight=weight) / 2)
    assert math.isclose(value("tweedie:power=0", weight=weight), value("mse", weight=weight))
    big = value("huber:delta=1e6", weight=weight)
    assert math.isclose(big, value("mse", weight=weight) / 2, rel_tol=1e-12)
    assert value("max_error", weight=weight) >= value("mae", weight=weight)
    positive_p, positive_t = np.abs(P) + 0.1, np.abs(T) + 0.1
    msle = value("msle", positive_p, positive_t, weight)
    assert math.isclose(value("rmsle", positive_p, positive_t, weight) ** 2, msle, rel_tol=1e-12)


def test_reduction_sum_is_the_weighted_sum():
    total = value("mse:reduction=sum", weight=W)
    assert math.isclose(total, float(np.sum(W * (P - T) ** 2)), rel_tol=1e-12)
    assert math.isclose(value("mae:reduction=sum"), float(np.sum(np.abs(P - T))), rel_tol=1e-12)


def test_integer_weights_equal_repeated_rows():
    counts = RNG.integers(0, 4, len(P))
    counts[0] = 1
    repeated_p, repeated_t = np.repeat(P, counts), np.repeat(T, counts)
    for spec in (
        "mse",
        "huber:delta=0.5",
        "r2",
        "rmse",
        "max_error",
        "log_cosh",
        "pinball:alpha=0.2",
    ):
        weighted = value(spec, weight=counts)
        assert math.isclose(weighted, value(spec, repeated_p, repeated_t), rel_tol=1e-12), spec


def test_vector_rows_average_over_elements():
    pred, target = RNG.normal(size=(30, 4)), RNG.normal(size=(30, 4))
    flat = value("huber", pred.ravel(), target.ravel())
    assert math.isclose(value("huber", pred, target), flat, rel_tol=1e-12)
    row_means = np.mean((pred - target) ** 2, axis=1)
    weighted = float(np.sum(W[:30] * row_means) / np.sum(W[:30]))
    assert math.isclose(value("mse", pred, target, W[:30]), weighted, rel_tol=1e-12)


def test_r2_of_constant_target_follows_scikit_learn():
    # scikit-learn's r2_score (force_finite=True): 1.0 for an exact prediction, else 0.0.
    constant = np.full(5, 3.0)
    assert value("r2", constant, constant) == 1.0
    assert value("r2", constant + 1, constant) == 0.0


def test_r2_is_stable_for_large_targets_with_small_spread():
    # Hand-worked: target 1e9 + [-1, 0, 1], pred off by [0, 1, 0] -> SS_res = 1, SS_tot = 2.
    target = 1e9 + np.array([-1.0, 0.0, 1.0])
    pred = target + np.array([0.0, 1.0, 0.0])
    for chunk_rows in (1, 2, 3):
        r2 = evaluate_arrays("r2", {"pred": pred, "target": target}, chunk_rows=chunk_rows)
        assert r2 == 0.5


def test_extreme_inputs_stay_finite_where_the_loss_is():
    far = np.array([1e6, -1e6, 1e300])
    zero = np.zeros(3)
    assert math.isclose(value("log_cosh", far[:2], zero[:2]), 1e6 - math.log(2), rel_tol=1e-15)
    assert math.isfinite(value("log_cosh", far, zero))
    assert math.isclose(value("huber", far[:2], zero[:2]), 1e6 - 0.5, rel_tol=1e-15)
    assert math.isfinite(value("huber", far, zero))
    assert math.isfinite(value("smooth_l1:beta=0.5", far, zero))
    assert value("smape", zero, zero) == 0.0


@pytest.mark.parametrize(
    ("spec", "roles", "column", "needs"),
    [
        ("msle", {"pred": [0.5, -1.0, 2.0], "target": [1.0, 1.0, 1.0]}, "pred", "> -1"),
        ("rmsle", {"pred": [0.5, 1.0], "target": [1.0, -3.0]}, "target", "> -1"),
        (
            "gaussian_nll",
            {"pred": [1.0, 2.0], "target": [1.0, 1.0], "var": [1.0, -0.5]},
            "var",
            ">= 0",
        ),
        ("poisson_nll:log_input=false", {"pred": [-1.0], "target": [1.0]}, "pred", ">= 0"),
        ("poisson_nll", {"pred": [0.0], "target": [-2.0]}, "target", ">= 0"),
        ("tweedie:power=2", {"pred": [1.0, 1.0], "target": [1.0, 0.0]}, "target", "> 0"),
        ("tweedie:power=1.5", {"pred": [0.0], "target": [1.0]}, "pred", "> 0"),
    ],
)
def test_domain_errors_name_the_column_row_and_value(spec, roles, column, needs):
    name, _, given = spec.partition(":")
    params = dict(item.split("=") for item in given.split(",")) if given else {}
    with pytest.raises(DomainError) as raised:
        evaluate_arrays(name, roles, params)
    message = str(raised.value)
    assert f"column '{column}'" in message and needs in message and "row " in message


def test_domain_error_gives_the_first_bad_row():
    pred = np.ones(10)
    pred[6] = -2.0
    with pytest.raises(DomainError, match=r"is -2 at row 7"):
        evaluate_arrays("msle", {"pred": pred, "target": np.ones(10)}, chunk_rows=4)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("hubber", "Did you mean huber"),
        ("huber:delta=0", "out of range"),
        ("huber:delta=abc", "not a valid float"),
        ("huber:alpha=1", "no parameter 'alpha'"),
        ("pinball:alpha=1", "< 1"),
        ("tweedie:power=0.5", "<= 0 or >= 1"),
        ("mse:reduction=median", "one of mean, sum"),
        ("poisson_nll:full=maybe", "not a valid bool"),
        ("delta=2", "names no loss"),
        ("huber:delta=[1", "Unbalanced"),
    ],
)
def test_bad_specs_are_usage_errors(spec, message):
    with pytest.raises(UsageError, match=message.replace("[", r"\[")):
        parse_specs([spec])


def test_spec_grammar():
    labels = [r.label for r in parse_specs(["mse,mae,rmse", "huber:delta=0.5,l1", "HUBER:delta=2"])]
    assert labels == ["mse", "mae", "rmse", "huber:delta=0.5", "huber:delta=2"]
    (request,) = parse_specs(["smooth_l1:beta=0.5,reduction=sum"])
    assert dict(request.params) == {"beta": 0.5, "reduction": "sum"}
    assert request.label == "smooth_l1:beta=0.5,reduction=sum"
    assert [r.name for r in parse_specs(["l2,squared_error,quantile,score"])] == [
        "mse",
        "pinball",
        "r2",
    ]


def test_losses_import_no_cli_or_io_library():
    code = (
        "import sys, losscli.losses; "
        "print(sorted(m for m in ('typer', 'rich', 'pyarrow', 'pandas') if m in sys.modules))"
    )
    outcome = run_script(code)
    assert outcome.code == 0, outcome.err
    assert outcome.out.strip() == "[]"


ELEMENTWISE = [loss.name for loss in REGISTRY.values() if loss.elementwise]


def _paired_inputs(name: str, pred: np.ndarray, target: np.ndarray) -> dict[str, np.ndarray]:
    """0/1 targets, or -1/1 for the losses that take those; a var of ones where one is used."""
    signs = {"soft_margin", "hinge_embedding"}
    extra = {"var": np.ones(len(pred))} if "var" in get_loss(name).roles else {}
    return {"pred": pred, "target": 2 * target - 1 if name in signs else target, **extra}


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("rows", [2, 3])  # 2 rows of 2 values would broadcast without an error
def test_elementwise_losses_refuse_a_vector_beside_a_scalar(name, rows):
    pred = np.linspace(0.2, 0.8, 2 * rows).reshape(rows, 2)
    labels = np.arange(rows) % 2.0
    for inputs in (_paired_inputs(name, pred, labels), _paired_inputs(name, labels, pred)):
        with pytest.raises(InputError, match="pairs pred and target value by value"):
            evaluate_arrays(name, inputs)


@pytest.mark.parametrize("name", [n for n in ELEMENTWISE if n != "multilabel_soft_margin"])
def test_a_one_wide_list_column_is_one_value_per_row(name):
    pred, labels = np.array([0.2, 0.9, 0.6, 0.3]), np.array([0.0, 1.0, 1.0, 0.0])
    plain = evaluate_arrays(name, _paired_inputs(name, pred, labels))
    wide_pred = _paired_inputs(name, pred[:, None], labels)
    assert close(evaluate_arrays(name, wide_pred), plain, 0)
    wide_target = _paired_inputs(name, pred, labels)
    wide_target["target"] = wide_target["target"][:, None]
    assert close(evaluate_arrays(name, wide_target), plain, 0)


def test_the_losses_that_are_not_elementwise_take_a_vector_beside_a_scalar():
    """The flag is complete: a loss NumPy would broadcast element by element is marked."""
    pred = np.array([[0.2, 0.7], [0.9, 0.4], [0.5, 0.5]])
    target = np.array([1.0, 0.0, 1.0])
    for loss in REGISTRY.values():
        if (
            loss.elementwise
            or not {"pred", "target"} <= set(loss.roles)
            or set(loss.roles) - set(loss.optional) - {"pred", "target"}  # norm, x1, ...
            or loss.family == "detection"
        ):
            continue
        inputs = {"pred": pred, "target": target, "sample": None}
        with np.errstate(all="ignore"):
            values = loss.compute(inputs, loss.resolve_params({}))
        rows = values[0] if isinstance(values, tuple) else values  # (parts, counts) of a batch
        assert len(rows) == len(pred), loss.name


@pytest.mark.parametrize("d", [1e-12, 1e-8, 1e-5, 1e-3, 0.05, 0.124, 0.126, 0.7, 3.0, 40.0])
def test_log_cosh_keeps_its_digits_for_small_errors(d):
    # Hand-worked: log cosh d = d^2/2 - d^4/12 + d^6/45 - 17 d^8/2520 + ... (the last term kept
    # is below 1e-16 of the sum for d <= 0.05); beyond, math.log(math.cosh(d)) cancels little.
    expected = (
        d * d / 2 - d**4 / 12 + d**6 / 45 - 17 * d**8 / 2520 + 31 * d**10 / 14175
        if d <= 0.05
        else math.log(math.cosh(d))
    )
    value = evaluate_arrays("log_cosh", {"pred": [d, -d], "target": [0.0, 0.0]})
    assert math.isclose(value, expected, rel_tol=1e-13), (value, expected)


def test_unit_interval_check_answers_by_extremes_or_by_mask():
    from losscli.losses.probability import in_unit

    assert in_unit(np.array([0.0, 0.5, 1.0])) is True
    assert in_unit(np.array([[0.2, 1.0], [0.0, 0.3]])) is True
    np.testing.assert_array_equal(in_unit(np.array([0.5, 1.5, -0.1])), [True, False, False])
    # A missing value hides the extremes: the mask marks it, and the engine forgives it as missing.
    np.testing.assert_array_equal(in_unit(np.array([0.5, np.nan, 0.2])), [True, False, True])
    assert in_unit(np.empty(0)).size == 0


SHARING = ["mae", "huber", "smooth_l1:beta=0.5", "smooth_l1:beta=0", "log_cosh", "mape", "smape"]


def test_losses_sharing_the_absolute_error_give_alone_what_they_give_together():
    # Each takes |pred - target| from the others of its chunk: one that changed it in place, or
    # a stale one from an earlier chunk of the same length, would move a later loss's value.
    import losscli

    rng = np.random.default_rng(11)
    data = {"pred": rng.normal(size=5600) * 3, "target": rng.normal(size=5600)}
    together = losscli.evaluate(data, SHARING + ["max_error"], chunk_rows=700)
    for result in together.results:
        alone = losscli.evaluate(data, result.label, chunk_rows=5600).results[0]
        assert math.isclose(result.value, alone.value, rel_tol=1e-12), result.label


def test_absolute_error_is_made_once_per_chunk_and_is_read_only():
    pred, target = np.array([1.0, -2.0, 3.5]), np.array([0.5, 1.0, 3.5])
    inputs = {"pred": pred, "target": target}
    shared: dict = {}
    mae = REGISTRY["mae"].compute(inputs, {}, shared)
    assert shared["abs_error"] is mae and mae.tolist() == [0.5, 3.0, 0.0]
    huber = REGISTRY["huber"].compute(inputs, {"delta": 1.0}, shared)
    assert huber.tolist() == [0.125, 2.5, 0.0]
    assert REGISTRY["mae"].compute(inputs, {}, shared) is mae  # the same array, made once
    with pytest.raises(ValueError, match="read-only"):
        mae += 1.0
    # Without a chunk's shared arrays (a direct call) each loss makes its own.
    assert REGISTRY["mae"].compute(inputs, {}) is not mae
    assert REGISTRY["mae"].derived == ("abs_error",) and REGISTRY["mse"].derived == ()


@pytest.mark.parametrize("accuracy", [1e-2, 1e-3])
def test_a_streamed_median_keeps_its_stated_relative_error(accuracy):
    # 20 000 continuous errors: the median's bucket holds many values, so the sketch answers
    # with the bucket's centre, within relative_accuracy of numpy's median.
    rng = np.random.default_rng(11)
    target = rng.normal(0.0, 3.0, 20_000)
    pred = target + rng.standard_t(3, 20_000)
    exact = float(np.median(np.abs(pred - target)))
    params = {"relative_accuracy": accuracy}
    for chunk_rows in (20_000, 777):
        streamed = evaluate_arrays(
            "median_absolute_error", {"pred": pred, "target": target}, params, chunk_rows=chunk_rows
        )
        assert abs(streamed - exact) <= accuracy * exact
        assert streamed != exact  # the bound, not luck: the bucket is not one value


def test_a_median_of_ties_is_exact_at_any_accuracy():
    rng = np.random.default_rng(12)
    target = rng.integers(-50, 50, 5_000).astype(float)
    pred = target + rng.integers(-9, 10, 5_000) * 0.25
    exact = float(np.median(np.abs(pred - target)))
    value = evaluate_arrays(
        "median_absolute_error",
        {"pred": pred, "target": target},
        {"relative_accuracy": 0.1},
        chunk_rows=333,
    )
    assert value == exact


def test_l2_softmax_is_no_longer_normface_but_equals_it_with_unit_weight_norms():
    cos = np.array([[0.3, -0.2, 0.9], [0.1, 0.5, -0.7]])
    target = np.array([2, 1])
    inputs = {"pred": cos, "target": target}
    assert get_loss("l2_softmax").name == "l2_softmax"
    plain = evaluate_arrays("l2_softmax", inputs, {"alpha": 7})
    assert close(plain, evaluate_arrays("normface", inputs, {"s": 7}))
    heavier = evaluate_arrays("l2_softmax", inputs, {"alpha": 7, "weight_norms": [1, 1, 2]})
    assert not close(heavier, plain, 1e-6)


def test_l_softmax_with_a_constant_feature_norm_is_sphereface():
    cos = np.array([[0.3, -0.2, 0.9], [0.1, 0.5, -0.7]])
    inputs = {"pred": cos, "target": np.array([0, 1])}
    sphere = evaluate_arrays("sphereface", inputs, {"s": 5, "m": 3})
    large = evaluate_arrays("l_softmax", {**inputs, "norm": np.full(2, 5.0)}, {"m": 3})
    assert close(large, sphere)


def test_multilabel_margin_refuses_a_target_of_the_other_form():
    scores = np.array([[0.1, 0.2, 0.4, 0.8]])
    with pytest.raises(InputError, match="(?s)holds 3, not a 0/1 label.*labels=indices"):
        evaluate_arrays("multilabel_margin", {"pred": scores, "target": [[3, 0, -1, 1]]})
    with pytest.raises(InputError, match="labels=multi_hot"):
        evaluate_arrays(
            "multilabel_margin",
            {"pred": scores, "target": [[3, 0, 0.5, 1]]},
            {"labels": "indices"},
        )
