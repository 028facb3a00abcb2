"""CSV dialects the first bytes cannot tell: --delimiter, --no-header, --skip-rows, --comment,
--decimal (``csv=`` in Python). Each file holds the rows of ``SIMPLE`` (absolute errors 0.5, 0
and 2, so mse (0.25 + 0 + 4) / 3), written another way."""

from __future__ import annotations

import json

import pytest

import losscli
from losscli.errors import UsageError
from tests.conftest import SIMPLE_MSE, assert_user_error, run, write


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("1,1.5\n2,2\n3,5\n", ["--no-header", "-p", "1", "-t", "2"]),
        ("pred|target\n1|1.5\n2|2\n3|5\n", ["--delimiter", "|"]),
        ("a b c\npred:target\n1:1.5\n2:2\n3:5\n", ["--skip-rows", "1", "--delimiter", ":"]),
        ("# made by hand\npred,target\n1,1.5\n# a note, here\n2,2\n3,5\n", ["--comment", "#"]),
        ("pred;target\n1;1,5\n2;2\n3;5\n", ["--decimal", ","]),
        ("x\ty\n1\t1.5\n2\t2\n3\t5\n", ["--delimiter", "\\t", "-p", "x", "-t", "y"]),
        (
            "% exported\n% units: EUR\n1;1,5\n%\n2;2\n3;5\n",
            ["--comment", "%", "--no-header", "--delimiter", ";", "--decimal", ","]
            + ["-p", "1", "-t", "2"],
        ),
    ],
)
def test_a_dialect_reads_the_same_rows(capsys, tmp_path, text, options):
    data = write(tmp_path / "rows.csv", text)
    outcome = run(capsys, "eval", "-l", "mse", "-f", "json", data, *options)
    assert outcome.code == 0, outcome.err
    assert json.loads(outcome.out)["results"][0]["value"] == pytest.approx(SIMPLE_MSE, rel=1e-15)


def test_without_a_header_columns_are_numbered(capsys, tmp_path):
    data = write(tmp_path / "rows.csv", "9,1,1.5\n9,2,2\n9,3,5\n")
    outcome = run(capsys, "eval", "-l", "mse", "--no-header", data)
    assert_user_error(outcome, "Columns: 1, 2, 3")


def test_the_python_api_takes_a_dialect(tmp_path):
    data = write(tmp_path / "rows.csv", "# x\n1;1,5\n2;2\n3;5\n")
    dialect = {"header": False, "comment": "#", "delimiter": ";", "decimal": ","}
    report = losscli.evaluate(str(data), "mse", pred="1", target="2", csv=dialect)
    assert report["mse"] == pytest.approx(SIMPLE_MSE, rel=1e-15)
    with pytest.raises(UsageError, match="csv=.*is not a CSV dialect"):
        losscli.evaluate(str(data), "mse", csv={"delimeter": ";"})


def test_compare_reads_both_files_with_the_dialect(capsys, tmp_path):
    base = write(tmp_path / "a.csv", "1;1,5\n2;2\n3;5\n")
    other = write(tmp_path / "b.csv", "1;1,5\n2;2\n4;5\n")
    args = ["--no-header", "--decimal", ",", "-p", "1", "-t", "2", "-f", "json"]
    outcome = run(capsys, "compare", "-l", "mse", base, other, *args)
    entry = json.loads(outcome.out)["comparisons"][0]
    assert entry["baseline"] == pytest.approx(SIMPLE_MSE) and entry["candidate"] == pytest.approx(
        (0.25 + 0 + 1) / 3
    )


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--delimiter", ";;"], ["--delimiter ';;' is not one character"]),
        (["--decimal", ",", "--delimiter", ","], ["--decimal and --delimiter are both ','"]),
        (["--decimal", ","], ["also the decimal mark --decimal gives", "--delimiter"]),
        (["--decimal", "x"], ["neither '.' nor ','"]),
        (["--skip-rows", "-1"], ["--skip-rows -1 is negative"]),
    ],
)
def test_a_dialect_that_cannot_work_is_refused(capsys, tmp_path, options, words):
    data = write(tmp_path / "rows.csv", "pred,target\n1,1.5\n")
    assert_user_error(run(capsys, "eval", "-l", "mse", data, *options), *words)


@pytest.mark.parametrize(
    ("options", "word"),
    [
        ({"csv": {"delimiter": ";"}}, "csv"),
        ({"classes": "auto"}, "classes"),
        ({"pos_label": "yes"}, "pos_label"),
    ],
)
def test_dialects_and_text_labels_are_refused_on_a_cluster_before_it_starts(
    tmp_path, options, word
):
    data = write(tmp_path / "rows.csv", "pred;target\n1;1\n")
    with pytest.raises(UsageError, match=f"^{word} is not available with scheduler yet"):
        losscli.evaluate(str(data), "mse", scheduler="local", **options)
