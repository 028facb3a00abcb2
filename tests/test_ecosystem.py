"""losscli in the Python ecosystem: ``compute`` on values, ``scorer`` in scikit-learn's model
selection, ``Comparison.to_frame``. Expected values come from scikit-learn's own metrics and
scorers on the same data."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

import losscli
from losscli.errors import UsageError
from tests.conftest import CANDIDATE, HOUSES, run_script

RNG = np.random.default_rng(11)
PRED = RNG.normal(size=60)
TARGET = PRED + RNG.normal(scale=0.7, size=60)
WEIGHT = RNG.uniform(0.2, 2.0, size=60)


@pytest.mark.parametrize(
    ("spec", "params", "reference"),
    [
        ("mse", {}, lambda t, p, w: metrics.mean_squared_error(t, p, sample_weight=w)),
        ("mae", {}, lambda t, p, w: metrics.mean_absolute_error(t, p, sample_weight=w)),
        ("r2", {}, lambda t, p, w: metrics.r2_score(t, p, sample_weight=w)),
        (
            "pinball",
            {"alpha": 0.9},
            lambda t, p, w: metrics.mean_pinball_loss(t, p, alpha=0.9, sample_weight=w),
        ),
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_compute_agrees_with_scikit_learn(spec, params, reference, weighted):
    weight = WEIGHT if weighted else None
    value = losscli.compute(spec, PRED, TARGET, weight, **params)
    assert value == pytest.approx(reference(TARGET, PRED, weight), rel=1e-12)


def test_compute_of_max_error_agrees_with_scikit_learn():
    assert losscli.compute("max_error", PRED, TARGET) == metrics.max_error(TARGET, PRED)


def test_compute_takes_series_lists_and_params_in_the_spec_or_as_keywords():
    series = pd.Series(PRED, index=range(100, 160))
    by_keyword = losscli.compute("huber", pred=series, target=list(TARGET), delta=0.5)
    in_spec = losscli.compute("huber:delta=0.5", PRED, TARGET)
    error = np.abs(PRED - TARGET)  # torch.nn.HuberLoss(delta=0.5), written out
    expected = np.mean(np.where(error <= 0.5, 0.5 * error**2, 0.5 * (error - 0.25)))
    assert by_keyword == pytest.approx(expected, rel=1e-12) and in_spec == by_keyword


def test_compute_takes_other_roles_as_keywords():
    var = RNG.uniform(0.5, 2.0, size=60)
    value = losscli.compute("gaussian_nll", PRED, TARGET, var=var)
    # torch.nn.GaussianNLLLoss(full=False): 0.5 (log var + (p - t)^2 / var), averaged
    assert value == pytest.approx(np.mean(0.5 * (np.log(var) + (PRED - TARGET) ** 2 / var)))


def test_compute_of_probabilities_agrees_with_log_loss():
    labels = (RNG.uniform(size=60) < 0.4).astype(float)
    probs = RNG.uniform(0.05, 0.95, size=60)
    assert losscli.compute("bce", probs, labels) == pytest.approx(
        metrics.log_loss(labels, probs), rel=1e-12
    )


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: losscli.compute("mse,mae", PRED, TARGET), "names 2 losses"),
        (lambda: losscli.compute("huber:delta=1", PRED, TARGET, delta=2), "delta given both"),
        (lambda: losscli.compute("huber", PRED, TARGET, dleta=2), "no parameter 'dleta'"),
        (lambda: losscli.compute("mse", PRED, TARGET[:5]), "60"),
        (lambda: losscli.compute(["mse"], PRED, TARGET), "not a loss spec"),
    ],
)
def test_compute_refuses_what_it_cannot_do(call, words):
    with pytest.raises(losscli.errors.LossCliError, match=words):
        call()


# -- scorers --------------------------------------------------------------------------------------


def regression():
    return make_regression(n_samples=120, n_features=5, noise=10.0, random_state=0)


@pytest.mark.parametrize(("spec", "builtin"), [("mse", "neg_mean_squared_error"), ("r2", "r2")])
def test_a_scorer_scores_as_scikit_learns_own(spec, builtin):
    x, y = regression()
    folds = KFold(4, shuffle=True, random_state=0)
    ours = cross_val_score(Ridge(), x, y, cv=folds, scoring=losscli.scorer(spec))
    theirs = cross_val_score(Ridge(), x, y, cv=folds, scoring=builtin)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert (ours < 0).all() == (spec == "mse")  # lower-is-better losses are negated


def test_a_scorer_chooses_what_grid_search_chooses_with_the_builtin_scorer():
    x, y = regression()
    grid = {"alpha": [0.01, 1.0, 100.0, 10_000.0]}
    ours = GridSearchCV(Ridge(), grid, scoring=losscli.scorer("mae"), cv=3).fit(x, y)
    theirs = GridSearchCV(Ridge(), grid, scoring="neg_mean_absolute_error", cv=3).fit(x, y)
    assert ours.best_params_ == theirs.best_params_
    assert ours.best_score_ == pytest.approx(theirs.best_score_, rel=1e-12)


def test_a_probability_loss_reads_predict_proba():
    x, y = make_classification(n_samples=150, random_state=1)
    ours = cross_val_score(LogisticRegression(), x, y, cv=3, scoring=losscli.scorer("bce"))
    theirs = cross_val_score(LogisticRegression(), x, y, cv=3, scoring="neg_log_loss")
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)


def test_cross_entropy_over_classes_reads_probabilities_from_predict_proba():
    x, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500)
    folds = KFold(3, shuffle=True, random_state=0)
    ours = cross_val_score(model, x, y, cv=folds, scoring=losscli.scorer("ce"))
    theirs = cross_val_score(model, x, y, cv=folds, scoring="neg_log_loss")
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)


def test_a_scorer_pickles_for_worker_processes():
    x, y = regression()
    scorer = pickle.loads(pickle.dumps(losscli.scorer("huber:delta=5")))
    model = Ridge().fit(x, y)
    error = np.abs(model.predict(x) - y)
    expected = np.mean(np.where(error <= 5, 0.5 * error**2, 5 * (error - 2.5)))
    assert scorer(model, x, y) == pytest.approx(-expected, rel=1e-12)


def test_a_scorer_refuses_an_unknown_method():
    with pytest.raises(UsageError, match="response_method='predict_log_proba'"):
        losscli.scorer("mse", response_method="predict_log_proba")


def test_without_scikit_learn_a_scorer_says_what_to_install():
    outcome = run_script(
        "import sys; sys.modules['sklearn'] = None\n"
        "import losscli\n"
        "try:\n    losscli.scorer('mse')\nexcept losscli.errors.UsageError as e:\n    print(e)\n"
    )
    assert "pip install scikit-learn" in outcome.out, outcome.err


# -- compare(...).to_frame() ----------------------------------------------------------------------


def test_a_comparison_as_a_frame_holds_its_json_numbers():
    comparison = losscli.compare(str(HOUSES), str(CANDIDATE), "mse,r2")
    frame = comparison.to_frame()
    assert list(frame["label"]) == ["mse", "r2"]
    for row, entry in zip(
        frame.to_dict("records"), comparison.to_dict()["comparisons"], strict=True
    ):
        for key in ("baseline", "candidate", "difference", "p_value", "verdict"):
            assert row[key] == entry[key]
        assert row["ci_low"] == entry["ci"]["low"] and row["ci_level"] == entry["ci"]["level"]
    assert not math.isnan(frame["difference"].sum())
