"""Files as real users have them: Excel and pandas CSVs, label codings, solution files.

Each test writes the file a user would have and checks losscli either gives the number NumPy gives
on the same values, or refuses in one message that names what is wrong and how to fix it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import losscli
from tests.conftest import assert_user_error, run, value_of, write


def eval_value(capsys, *argv: object) -> float:
    """``losscli eval -f json ARGV``: the value of its one loss."""
    return value_of(run(capsys, "eval", "-f", "json", *argv))


def refusal(capsys, *argv: object) -> str:
    """``losscli eval ARGV`` refused as a user error: its message."""
    return assert_user_error(run(capsys, "eval", *argv))


# -------------------------------------------------------------------------- a solution file


@pytest.mark.parametrize("header", ["Id", "id", "row_id", "", "Unnamed: 0"])
def test_targets_file_of_an_id_and_one_value_column_needs_no_t(tmp_path, capsys, header):
    # A Kaggle solution (Id,SalePrice) or a pandas to_csv with its index: one value column.
    preds = write(tmp_path / "p.csv", "Id,pred\n1,1.0\n2,2.0\n3,4.0\n")
    targets = write(tmp_path / "t.csv", f"{header},SalePrice\n1,3.0\n2,2.0\n3,1.0\n")
    got = eval_value(capsys, "-l", "mse", "-p", "pred", preds, "--targets", targets)
    assert got == pytest.approx(np.mean((np.array([1, 2, 4]) - [3, 2, 1]) ** 2))


def test_targets_file_of_two_value_columns_still_needs_t(tmp_path, capsys):
    preds = write(tmp_path / "p.csv", "pred\n1\n2\n")
    targets = write(tmp_path / "t.csv", "Id,a,b\n1,3,4\n2,2,5\n")
    err = refusal(capsys, "-l", "mse", preds, "--targets", targets)
    assert "No target column found in" in err and "-t/--target" in err


# ------------------------------------------------------------------------------ CSV dialects

PRED, TARGET = np.array([0.5, 1.5, -2.25]), np.array([1.0, 2.0, -2.0])
MSE = float(np.mean((PRED - TARGET) ** 2))


@pytest.mark.parametrize(
    "text",
    [
        # Excel in a language whose decimal mark is a comma: ';', a byte-order mark, CRLF.
        "\ufeffpred;target\r\n0,5;1\r\n1,5;2\r\n-2,25;-2\r\n",
        '"pred";"target"\n"0,5";"1"\n"1,5";"2"\n"-2,25";"-2"\n',
        "pred;target\n0.5;1\n1.5;2\n-2.25;-2\n",  # pandas to_csv(sep=';')
        "pred|target\n0.5|1\n1.5|2\n-2.25|-2\n",
        "pred\ttarget\n0.5\t1\n1.5\t2\n-2.25\t-2\n",  # a TSV named .csv
    ],
    ids=["excel-semicolon", "semicolon-quoted", "semicolon-points", "pipe", "tab"],
)
def test_a_header_without_commas_says_the_delimiter(tmp_path, capsys, text):
    path = write(tmp_path / "export.csv", text)
    assert eval_value(capsys, "-l", "mse", path) == pytest.approx(MSE)


@pytest.mark.parametrize(
    "text",
    [
        '"pred","target"\n"0.5","1"\n"1.5","2"\n"-2.25","-2"\n',  # every value quoted
        "pred,target\n 0.5 , 1 \n1.5 ,2\n -2.25,-2\n",  # spaces around numbers
        "pred,target,\n0.5,1,\n1.5,2,\n-2.25,-2,\n",  # a comma ending every row
        ",pred,target\n0,0.5,1\n1,1.5,2\n2,-2.25,-2\n",  # pandas to_csv with its index
        "Unnamed: 0,pred,target\n0,0.5,1\n1,1.5,2\n2,-2.25,-2\n",  # that file read and rewritten
        "pred,target\n0.5,1\n\n1.5,2\n-2.25,-2\n\n\n",  # blank lines inside and at the end
    ],
    ids=["quoted", "spaces", "trailing-comma", "pandas-index", "unnamed-0", "blank-lines"],
)
def test_common_csv_habits_give_the_numpy_value(tmp_path, capsys, text):
    path = write(tmp_path / "p.csv", text)
    assert eval_value(capsys, "-l", "mse", path) == pytest.approx(MSE)


def test_semicolon_file_with_both_decimal_marks_is_refused(tmp_path, capsys):
    path = write(tmp_path / "mixed.csv", "pred;target\n0,5;1\n1.5;2\n")
    err = refusal(capsys, "-l", "mse", path)
    assert "mixed.csv writes numbers with both decimal marks ('0,5' and '1.5')" in err


def test_semicolon_file_changing_its_decimal_mark_later_names_the_value(tmp_path, capsys):
    rows = "".join(f"{i},5;1\n" for i in range(20000)) + "0.5;1\n"  # past the first bytes
    path = write(tmp_path / "later.csv", "pred;target\n" + rows)
    err = refusal(capsys, "-l", "mse", path)
    assert "holds a non-numeric value '0.5' at row 20001" in err
    assert "write a comma (0,5)" in err


@pytest.mark.parametrize(
    ("cell", "hint"),
    [
        ('"1,234.5"', "without a thousands separator: 1234.5"),
        ("50%", "a percentage as a fraction (50% as 0.5)"),
        ('"0,5"', "in a comma-separated file write 0.5"),
        ("True", "1 for true/yes, 0 for false/no"),
        ("yes", "1 for true/yes, 0 for false/no"),
    ],
)
def test_a_value_that_is_almost_a_number_gets_the_fix(tmp_path, capsys, cell, hint):
    path = write(tmp_path / "p.csv", f"pred,target\n0.5,1\n{cell},0\n")
    err = refusal(capsys, "-l", "mse", path)
    assert "at row 2" in err and hint in err


def test_a_comment_line_first_is_named_a_comment(tmp_path, capsys):
    path = write(tmp_path / "c.csv", "# exported 2024-05-01\npred,target\n0.5,1\n")
    err = refusal(capsys, "-l", "mse", path)
    assert "The first line of" in err and "is a comment ('# exported 2024-05-01')" in err
    assert "--comment '#'" in err
    # The fix it names works.
    assert losscli.evaluate(path, "mse", csv={"comment": "#"}).results[0].value == 0.25


def test_a_comment_line_inside_is_named_a_comment(tmp_path, capsys):
    path = write(tmp_path / "c.csv", "pred,target\n0.5,1\n# the second run\n1.5,2\n")
    err = refusal(capsys, "-l", "mse", path)
    assert "has 1 field but the header has 2 at row 2" in err
    assert "That row is a comment" in err


@pytest.mark.parametrize("spelling", ["inf", "Infinity", "-inf", "-Infinity", "+inf"])
def test_infinite_spellings_are_an_infinite_result_never_a_number(tmp_path, capsys, spelling):
    path = write(tmp_path / "p.csv", f"pred,target\n{spelling},1\n0.5,1\n")
    assert eval_value(capsys, "-l", "mse", path) is None


# ------------------------------------------------------------------------------ label codings


@pytest.mark.parametrize("labels", [(-1, 1), (1, 2)])
def test_bce_with_two_labels_not_0_1_says_to_recode(tmp_path, capsys, labels):
    low, high = labels
    path = write(tmp_path / "p.csv", f"prob,label\n0.8,{high}\n0.3,{low}\n")
    err = refusal(capsys, "-l", "bce", path)
    assert "bce needs target in [0, 1]" in err
    assert "recode labels such as -1/1 or 1/2 as 0/1, with 1 for the positive class" in err


def test_hinge_with_labels_1_2_says_to_recode(tmp_path, capsys):
    path = write(tmp_path / "p.csv", "score,label\n0.8,2\n-0.3,1\n")
    err = refusal(capsys, "-l", "hinge", path)
    assert "hinge needs target labels in {-1, 1} or {0, 1}" in err and "recode other labels" in err


def test_hinge_reads_0_1_labels_as_sklearn_does(tmp_path, capsys):
    # sklearn.metrics.hinge_loss maps the lower of two labels to -1: the same value either way.
    scores = np.array([0.8, -0.3, 0.6, -1.5])
    signed = np.array([1, -1, -1, 1])
    expected = float(np.mean(np.maximum(0, 1 - signed * scores)))
    for name, labels in (("zero_one", (signed + 1) // 2), ("signed", signed)):
        text = "score,label\n" + "".join(f"{s},{y}\n" for s, y in zip(scores, labels, strict=True))
        path = write(tmp_path / f"{name}.csv", text)
        assert eval_value(capsys, "-l", "hinge", path) == pytest.approx(expected)


def test_ce_with_1_based_labels_says_to_subtract_1(tmp_path, capsys):
    path = write(tmp_path / "p.csv", "a,b,c,label\n1,2,3,1\n0,0,1,3\n2,1,0,2\n")
    err = refusal(capsys, "-l", "ce", "-p", "a,b,c", path)
    assert "holds 3, which is not a class index 0..2 at row 2" in err
    assert "Labels 1..3? Class indices count from 0, as in PyTorch: subtract 1 from them" in err


def test_ce_with_float_labels_is_the_numpy_value(tmp_path, capsys):
    scores = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0], [2.0, 1.0, 0.0]])
    labels = np.array([2, 0, 1])
    log_softmax = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    expected = -float(np.mean(log_softmax[np.arange(3), labels]))
    text = "a,b,c,label\n" + "".join(
        f"{r[0]},{r[1]},{r[2]},{y:.1f}\n" for r, y in zip(scores, labels, strict=True)
    )
    path = write(tmp_path / "p.csv", text)
    assert eval_value(capsys, "-l", "ce", "-p", "a,b,c", path) == pytest.approx(expected)


def test_probabilities_that_do_not_sum_to_1_are_refused_for_ce(tmp_path, capsys):
    path = write(tmp_path / "p.csv", "a,b,c,label\n0.2,0.3,0.4,1\n")
    err = refusal(capsys, "-l", "ce:input=probs", "-p", "a,b,c", path)
    assert "needs pred rows to sum to 1" in err and "sums to 0.9 at row 1" in err


@pytest.mark.parametrize(
    ("header", "cell", "hint"),
    [
        ("pred,target", "#DIV/0!", "#DIV/0! is a spreadsheet's error value"),
        ("pred,target", '"1 234"', "without a thousands separator: 1234."),
        ("pred,target", '"1,234"', "Write 1234 without the thousands separator, or 1.234 if"),
        ("pred;target", "1.234,5", "without a thousands separator: 1234,5."),
    ],
)
def test_spreadsheet_values_get_their_fix(tmp_path, capsys, header, cell, hint):
    delimiter = header[4]
    path = write(tmp_path / "p.csv", f"{header}\n{cell}{delimiter}1\n")
    err = refusal(capsys, "-l", "mse", path)
    assert "at row 1" in err and hint in err


def test_a_line_of_spaces_is_named(tmp_path, capsys):
    path = write(tmp_path / "p.csv", "pred,target\n0.5,1\n   \n1.5,2\n")
    err = refusal(capsys, "-l", "mse", path)
    assert "has 1 field but the header has 2 at row 2" in err and "only spaces" in err


PROBA = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]])  # predict_proba rows
CLASSES = np.array([1, 2, 0])


def proba_file(tmp_path: Path) -> Path:
    text = "p0,p1,p2,label\n" + "".join(
        f"{r[0]},{r[1]},{r[2]},{y}\n" for r, y in zip(PROBA, CLASSES, strict=True)
    )
    return write(tmp_path / "proba.csv", text)


@pytest.mark.parametrize("loss", ["ce", "softmax_focal", "poly1", "gce", "label_smoothing_ce"])
def test_probability_rows_are_not_taken_for_logits(tmp_path, capsys, loss):
    # ce on predict_proba's rows would be softmax of probabilities: 0.894, not log_loss's 0.646.
    err = refusal(capsys, "-l", loss, "-p", "p0,p1,p2", proba_file(tmp_path))
    assert f"{loss} needs pred to be logits (input=logits, the default)" in err
    assert "sums to 1 with every value in [0, 1]" in err and "at row 1" in err
    assert f"add input=probs (e.g. --loss {loss}:input=probs)" in err


def test_probability_rows_with_input_probs_give_sklearn_log_loss(tmp_path, capsys):
    expected = -float(np.mean(np.log(PROBA[np.arange(3), CLASSES])))  # sklearn's log_loss
    got = eval_value(capsys, "-l", "ce:input=probs", "-p", "p0,p1,p2", proba_file(tmp_path))
    assert got == pytest.approx(expected)


def test_input_logits_written_out_reads_them_as_logits(tmp_path, capsys):
    log_softmax = PROBA - np.log(np.exp(PROBA).sum(axis=1, keepdims=True))
    expected = -float(np.mean(log_softmax[np.arange(3), CLASSES]))
    got = eval_value(capsys, "-l", "ce:input=logits", "-p", "p0,p1,p2", proba_file(tmp_path))
    assert got == pytest.approx(expected)


def test_one_hot_logits_are_still_logits(tmp_path, capsys):
    path = write(tmp_path / "p.csv", "a,b,label\n0,1,1\n1,0,1\n")
    expected = float(np.mean([np.log1p(np.exp(-1.0)), np.log1p(np.exp(1.0))]))
    assert eval_value(capsys, "-l", "ce", "-p", "a,b", path) == pytest.approx(expected)


def test_an_excel_solution_file_matched_by_id(tmp_path, capsys):
    # Predictions from pandas, the solution saved by a spreadsheet in another order: ';', 0,5.
    preds = write(tmp_path / "sub.csv", "Id,SalePrice\n1,3\n2,2.5\n3,10\n")
    solution = write(tmp_path / "sol.csv", "\ufeffId;SalePrice\r\n3;9,5\r\n1;3,5\r\n2;2\r\n")
    got = eval_value(
        capsys, "-l", "mse", "-p", "SalePrice", preds, "--targets", solution, "--on", "Id"
    )
    assert got == pytest.approx(np.mean((np.array([3, 2.5, 10]) - [3.5, 2, 9.5]) ** 2))
