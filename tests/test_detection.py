"""Column detection picks what the loss reads, or names the ambiguity: never a silent guess."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

import losscli
from losscli.errors import InputError
from tests.conftest import assert_user_error, run

LABELS = [1, 0, 1, 0]
DECISIONS = [1, 0, 0, 1]
PROBA = [0.8, 0.3, 0.45, 0.6]


def _bce(p, t) -> float:
    # torch.nn.BCELoss, worked by hand: -mean(t log p + (1 - t) log(1 - p)).
    return -float(
        np.mean([math.log(q) if y else math.log(1 - q) for q, y in zip(p, t, strict=True)])
    )


@pytest.mark.parametrize("proba_name", ["y_proba", "proba", "probability", "Pred_Proba", "prob"])
def test_bce_prefers_probabilities_to_decisions(proba_name):
    """Issue case: y_pred (0/1 decisions) beside y_proba gave bce the decisions."""
    data = {"y_true": LABELS, "y_pred": DECISIONS, proba_name: PROBA}
    report = losscli.evaluate({k: np.asarray(v, float) for k, v in data.items()}, "bce")
    assert report.results[0].value == pytest.approx(_bce(PROBA, LABELS), rel=1e-12)


def test_bce_with_logits_prefers_logits():
    logits = [2.0, -1.0, 0.5, -0.2]
    data = {"y_true": LABELS, "y_pred": DECISIONS, "y_proba": PROBA, "logits": logits}
    report = losscli.evaluate(
        {k: np.asarray(v, float) for k, v in data.items()}, "bce:input=logits"
    )
    expected = _bce([1 / (1 + math.exp(-s)) for s in logits], LABELS)
    assert report.results[0].value == pytest.approx(expected, rel=1e-12)


def test_a_regression_loss_refuses_to_choose_between_decisions_and_probabilities():
    data = {"y_true": LABELS, "y_pred": DECISIONS, "y_proba": PROBA}
    with pytest.raises(InputError, match="Several columns .* could be the pred: y_pred, y_proba"):
        losscli.evaluate({k: np.asarray(v, float) for k, v in data.items()}, "mse")


def test_losses_that_read_different_kinds_refuse_to_choose():
    data = {"y_true": LABELS, "y_pred": DECISIONS, "y_proba": PROBA, "logits": PROBA}
    with pytest.raises(InputError, match="Several columns"):
        losscli.evaluate(
            {k: np.asarray(v, float) for k, v in data.items()}, ["bce", "bce:input=logits"]
        )


def test_a_column_named_for_another_kind_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scores.csv").write_text("y_true,logits\n1,0.5\n0,0.25\n")
    outcome = run(capsys, "eval", "-l", "bce", "scores.csv")
    assert_user_error(
        outcome,
        "Column 'logits' of scores.csv looks like logits, but bce reads probabilities",
        "input=logits",
    )
    # Named explicitly, it is the user's choice.
    outcome = run(capsys, "eval", "-l", "bce", "-p", "logits", "scores.csv", "-f", "json")
    assert outcome.code == 0, outcome.err


@pytest.mark.parametrize("args", [["-p", "pred", "-t", "target"], []])
def test_a_header_naming_two_columns_alike_is_refused(tmp_path, capsys, monkeypatch, args):
    """pred,pred,target: -p pred read one of the two silently."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dup.csv").write_text("pred,pred,target\n1,2,3\n4,5,6\n")
    outcome = run(capsys, "eval", "-l", "mse", *args, "dup.csv")
    assert_user_error(outcome, "dup.csv has 2 columns named 'pred' (columns 1, 2)")


@pytest.mark.parametrize(
    ("args", "roles"),
    [
        (["-p", "y", "-t", "y"], "the pred and the target"),
        (["-p", "y", "-t", "t", "-w", "y"], "the pred and the weight"),
        (["-t", "y", "-p", "t,y"], "the pred and the target"),
    ],
)
def test_one_column_in_two_roles_is_refused(tmp_path, capsys, monkeypatch, args, roles):
    """-p y -t y gave a loss of 0 with exit 0: a gate would pass on it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.csv").write_text("y,t\n1,2\n4,5\n")
    outcome = run(capsys, "eval", "-l", "mse", *args, "s.csv")
    assert_user_error(outcome, f"Column 'y' of s.csv is given as both {roles}")


def test_an_optional_role_with_two_candidate_columns_is_refused():
    """gaussian_nll's var is required, but losses with optional roles must not pick silently."""
    from losscli.io.columns import optional_role

    with pytest.raises(InputError, match="could be the optional var: var, variance"):
        optional_role("var", None, ["pred", "var", "variance"], "x.csv")
    assert optional_role("var", None, ["pred", "variance"], "x.csv") == ("variance",)


def test_an_id_column_named_like_a_loss_label_is_refused(tmp_path, capsys, monkeypatch):
    """--id mse beside the loss mse: the per-row file kept one column 'mse', the ids lost."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.csv").write_text("mse,pred,target\na,1,2\nb,3,5\n")
    outcome = run(
        capsys,
        "eval",
        "-l",
        "mse",
        "--id",
        "mse",
        "-p",
        "pred",
        "-t",
        "target",
        "m.csv",
        "--per-row",
        "out.csv",
    )
    assert_user_error(outcome, "The --id column 'mse' has the name of a loss label")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("name", ["value", "n", "label", "scope"])
def test_a_by_column_named_like_a_result_column_keeps_both(tmp_path, capsys, monkeypatch, name):
    """--by value replaced the loss values with the group labels in to_frame()."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v.csv").write_text(f"{name},pred,target\na,1,2\nb,3,5\n")
    outcome = run(
        capsys,
        "eval",
        "-l",
        "mse",
        "-p",
        "pred",
        "-t",
        "target",
        "v.csv",
        "--by",
        name,
        "-f",
        "csv",
    )
    assert outcome.code == 0, outcome.err
    rows = list(csv.DictReader(io.StringIO(outcome.out)))
    assert [row[f"by:{name}"] for row in rows] == ["", "a", "b"]
    assert [float(row["value"]) for row in rows] == [2.5, 1.0, 4.0]
    frame = losscli.evaluate("v.csv", "mse", pred="pred", target="target", by=name).to_frame()
    assert frame["value"].tolist() == [2.5, 1.0, 4.0]
    assert frame[f"by:{name}"].tolist()[1:] == ["a", "b"]
