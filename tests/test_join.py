"""Matching predictions with ground truth: columns of two files never collide, rows are matched
by position (with their row ids checked) or by key (``--on``), and every mismatch is refused.

Expected values are computed here with NumPy on the rows paired by hand (by key), never taken
from losscli itself.
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import losscli
from losscli.errors import InputError
from tests.conftest import assert_user_error, encode, run, run_process, value_of, write

RNG = np.random.default_rng(16)


def _frames(n: int = 40) -> tuple[dict, dict]:
    """A Kaggle-style submission and its solution: both call their value column SalePrice."""
    ids = np.arange(1000, 1000 + n)
    truth = RNG.normal(200.0, 30.0, n).round(1)
    guess = (truth + RNG.normal(0.0, 10.0, n)).round(1)
    return {"Id": ids, "SalePrice": guess}, {"Id": ids, "SalePrice": truth}


def _csv(path, columns: dict, order=None) -> str:
    """``columns`` as CSV, rows in ``order`` (all, as they are, by default)."""
    rows = slice(None) if order is None else np.asarray(order, dtype=int)
    write(path, encode({name: np.asarray(values)[rows] for name, values in columns.items()}, "csv"))
    # Relative where the test runs in the file's directory, so messages name it briefly.
    return path.name if path.parent == Path.cwd() else str(path)


def _rmse(guess, truth) -> float:
    return math.sqrt(float(np.mean((np.asarray(guess) - np.asarray(truth)) ** 2)))


def test_same_column_name_in_both_files_is_two_columns(tmp_path, capsys):
    """Issue case: SalePrice in both files overwrote the predictions and gave rmse 0."""
    sub, sol = _frames()
    a, b = _csv(tmp_path / "sub.csv", sub), _csv(tmp_path / "sol.csv", sol)
    outcome = run(
        capsys,
        "eval",
        "-l",
        "rmse",
        "-p",
        "SalePrice",
        "-t",
        "SalePrice",
        a,
        "--targets",
        b,
        "-f",
        "json",
    )
    expected = _rmse(sub["SalePrice"], sol["SalePrice"])
    assert expected > 1
    assert value_of(outcome) == pytest.approx(expected, rel=1e-12)


def test_same_column_name_through_the_api_and_check(tmp_path, capsys, monkeypatch):
    sub, sol = _frames()
    a, b = _csv(tmp_path / "sub.csv", sub), _csv(tmp_path / "sol.csv", sol)
    expected = _rmse(sub["SalePrice"], sol["SalePrice"])
    report = losscli.evaluate(a, "rmse", pred="SalePrice", target="SalePrice", targets=b)
    assert report.results[0].value == pytest.approx(expected, rel=1e-12)
    (tmp_path / "losscli.toml").write_text(
        textwrap.dedent(
            """
            [checks.kaggle]
            files = "sub.csv"
            targets = "sol.csv"
            pred = "SalePrice"
            target = "SalePrice"
            loss = "rmse"
            max = { rmse = 0.5 }
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    outcome = run(capsys, "check", "-f", "json")
    assert outcome.code == 1  # rmse is ~10, over 0.5: with the collision it was 0 and passed
    assert "rmse" in outcome.err


def test_compare_with_a_targets_file_of_the_same_column_name(tmp_path, capsys):
    sub, sol = _frames()
    worse = {"Id": sub["Id"], "SalePrice": sub["SalePrice"] + 5.0}
    a = _csv(tmp_path / "a.csv", sub)
    b = _csv(tmp_path / "b.csv", worse)
    t = _csv(tmp_path / "sol.csv", sol)
    outcome = run(
        capsys,
        "compare",
        a,
        b,
        "-l",
        "mse",
        "-p",
        "SalePrice",
        "-t",
        "SalePrice",
        "--targets",
        t,
        "-f",
        "json",
    )
    assert outcome.code == 0, outcome.err
    entry = json.loads(outcome.out)["comparisons"][0]
    mse = lambda g: float(np.mean((g - sol["SalePrice"]) ** 2))  # noqa: E731
    assert entry["baseline"] == pytest.approx(mse(sub["SalePrice"]), rel=1e-12)
    assert entry["candidate"] == pytest.approx(mse(worse["SalePrice"]), rel=1e-12)


@pytest.mark.parametrize("chunk_rows", [1, 7, 1000])
def test_on_matches_rows_by_key_whatever_their_order(tmp_path, capsys, chunk_rows):
    sub, sol = _frames()
    order = RNG.permutation(len(sol["Id"]))
    a = _csv(tmp_path / "sub.csv", sub)
    b = _csv(tmp_path / "sol.csv", sol, order)
    expected = _rmse(sub["SalePrice"], sol["SalePrice"])
    outcome = run(
        capsys,
        "eval",
        "-l",
        "rmse",
        "-p",
        "SalePrice",
        "-t",
        "SalePrice",
        a,
        "--targets",
        b,
        "--on",
        "Id",
        "--chunk-rows",
        chunk_rows,
        "-f",
        "json",
    )
    assert value_of(outcome) == pytest.approx(expected, rel=1e-12)


def test_on_several_key_columns_and_mixed_formats(tmp_path):
    """Keys read as text from CSV match integer keys from Parquet; two columns make one key."""
    n = 30
    region = np.array(["eu", "us", "asia"])[np.arange(n) % 3]
    day = np.arange(n) // 3
    truth = RNG.normal(size=n)
    guess = truth + RNG.normal(size=n)
    a = _csv(tmp_path / "p.csv", {"region": region, "day": day, "pred": guess})
    order = RNG.permutation(n)
    table = pa.table({"day": day[order], "region": region[order], "target": truth[order]})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=7)
    report = losscli.evaluate(
        a, "mse", targets=str(tmp_path / "t.parquet"), on=["region", "day"], chunk_rows=4
    )
    assert report.results[0].value == pytest.approx(np.mean((guess - truth) ** 2), rel=1e-12)
    with pytest.raises(InputError, match="more than once"):
        losscli.evaluate(a, "mse", targets=str(tmp_path / "t.parquet"), on="region")


def test_on_key_order_follows_the_predictions_in_per_row_output(tmp_path, capsys):
    sub, sol = _frames(12)
    a = _csv(tmp_path / "sub.csv", sub)
    b = _csv(tmp_path / "sol.csv", sol, list(reversed(range(12))))
    out = tmp_path / "rows.csv"
    outcome = run(
        capsys,
        "eval",
        "-l",
        "mae",
        "-p",
        "SalePrice",
        "-t",
        "SalePrice",
        a,
        "--targets",
        b,
        "--on",
        "Id",
        "--per-row",
        out,
        "--id",
        "Id",
        "-f",
        "json",
    )
    assert outcome.code == 0, outcome.err
    lines = out.read_text().splitlines()[1:]
    got = [float(line.split(",")[1]) for line in lines]
    assert got == pytest.approx(np.abs(sub["SalePrice"] - sol["SalePrice"]).tolist())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "drop_target_rows",
            r"2 keys of sub.csv are not in the targets file .*\(Id=1003, Id=1007\)",
        ),
        ("drop_pred_rows", r"3 keys of the targets file .* are not in sub.csv \(Id=1000, Id=1001"),
        ("repeat_target", r"1 key appears more than once in the targets file .*Id=1005"),
        ("repeat_pred", r"1 key appears more than once in sub.csv \(Id=1004\)"),
    ],
)
def test_on_refuses_keys_on_one_side_or_repeated(tmp_path, capsys, monkeypatch, change, message):
    monkeypatch.chdir(tmp_path)
    sub, sol = _frames(10)
    pred_rows, target_rows = list(range(10)), list(range(10))
    if change == "drop_target_rows":
        target_rows = [i for i in target_rows if i not in (3, 7)]
    elif change == "drop_pred_rows":
        pred_rows = pred_rows[3:]
    elif change == "repeat_target":
        target_rows.append(5)
    else:
        pred_rows.insert(6, 4)
    a = _csv(tmp_path / "sub.csv", sub, pred_rows)
    b = _csv(tmp_path / "sol.csv", sol, target_rows)
    outcome = run(
        capsys,
        "eval",
        "-l",
        "mse",
        "-p",
        "SalePrice",
        "-t",
        "SalePrice",
        a,
        "--targets",
        b,
        "--on",
        "Id",
    )
    assert re.search(message, assert_user_error(outcome)), outcome.err


def test_on_counts_every_missing_key_and_shows_a_few(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sub, sol = _frames(50)
    a = _csv(tmp_path / "sub.csv", sub)
    b = _csv(tmp_path / "sol.csv", sol, list(range(20)))
    outcome = run(
        capsys,
        "eval",
        "-l",
        "mse",
        "-p",
        "SalePrice",
        "-t",
        "SalePrice",
        a,
        "--targets",
        b,
        "--on",
        "Id",
        "--chunk-rows",
        "8",
    )
    assert_user_error(
        outcome,
        "30 keys of sub.csv are not in the targets file",
        "(Id=1020, Id=1021, Id=1022, ... (30 in all))",
    )


def test_on_refuses_an_empty_key(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("sub.csv").write_text("Id,pred\n1,0.5\n,0.7\n")
    Path("sol.csv").write_text("Id,target\n1,0.4\n2,0.6\n")
    outcome = run(capsys, "eval", "-l", "mse", "sub.csv", "--targets", "sol.csv", "--on", "Id")
    assert_user_error(outcome, "Key column 'Id' (for --on) is empty at row 2 of sub.csv")


def test_on_names_a_missing_key_column_and_needs_two_inputs(tmp_path, capsys):
    a = tmp_path / "sub.csv"
    a.write_text("Id,pred\n1,0.5\n")
    b = tmp_path / "sol.csv"
    b.write_text("id,target\n1,0.4\n")
    outcome = run(capsys, "eval", "-l", "mse", a, "--targets", b, "--on", "Id")
    assert_user_error(
        outcome, "Column 'Id' (for --on) is not in the targets file", "Did you mean 'id'?"
    )
    outcome = run(capsys, "eval", "-l", "mse", "-t", "pred", a, "--on", "Id")
    assert_user_error(outcome, "--on matches rows of two inputs")


def test_a_missing_target_under_on_names_the_targets_row(tmp_path, capsys):
    a = tmp_path / "sub.csv"
    a.write_text("Id,pred\n1,0.5\n2,0.1\n3,0.2\n")
    b = tmp_path / "sol.csv"
    b.write_text("Id,target\n3,0.4\n2,\n1,0.6\n")
    outcome = run(capsys, "eval", "-l", "mse", a, "--targets", b, "--on", "Id")
    assert_user_error(outcome, "Column 'target' has a missing value", "row 2 of", "sol.csv")


def test_row_ids_that_disagree_by_position_suggest_on(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sub, sol = _frames(10)
    a = _csv(tmp_path / "sub.csv", sub)
    b = _csv(tmp_path / "sol.csv", sol, [0, 1, 2, 4, 3, 5, 6, 7, 8, 9])
    outcome = run(
        capsys,
        "eval",
        "-l",
        "rmse",
        "-p",
        "SalePrice",
        "-t",
        "SalePrice",
        a,
        "--targets",
        b,
        "--chunk-rows",
        "2",
    )
    assert_user_error(
        outcome, "row 4 of sub.csv has Id 1003 but row 4 of sol.csv has Id 1004", "--on Id"
    )


def test_row_ids_that_agree_across_formats_pass(tmp_path):
    """An integer Id in Parquet and the same Id as text in CSV agree."""
    sub, sol = _frames(25)
    a = _csv(tmp_path / "sub.csv", {"PassengerId": sub["Id"], "pred": sub["SalePrice"]})
    pq.write_table(
        pa.table({"PassengerId": sol["Id"], "target": sol["SalePrice"]}), tmp_path / "t.parquet"
    )
    report = losscli.evaluate(a, "mae", targets=str(tmp_path / "t.parquet"), chunk_rows=4)
    expected = np.mean(np.abs(sub["SalePrice"] - sol["SalePrice"]))
    assert report.results[0].value == pytest.approx(expected, rel=1e-12)


def test_compare_on_a_key_and_its_row_id_check(tmp_path, capsys):
    n = 20
    ids = np.arange(n)
    target = RNG.normal(size=n)
    base = target + RNG.normal(size=n)
    cand = target + 0.5 * RNG.normal(size=n)
    a = _csv(tmp_path / "a.csv", {"id": ids, "pred": base, "target": target})
    order = RNG.permutation(n)
    b = _csv(tmp_path / "b.csv", {"id": ids, "pred": cand, "target": target}, order)
    outcome = run(capsys, "compare", a, b, "-l", "mse", "-f", "json")
    assert_user_error(outcome, "--on id")
    outcome = run(capsys, "compare", a, b, "-l", "mse", "--on", "id", "-f", "json")
    assert outcome.code == 0, outcome.err
    entry = json.loads(outcome.out)["comparisons"][0]
    assert entry["baseline"] == pytest.approx(np.mean((base - target) ** 2), rel=1e-12)
    assert entry["candidate"] == pytest.approx(np.mean((cand - target) ** 2), rel=1e-12)


def test_on_in_a_configured_check(tmp_path, capsys, monkeypatch):
    sub, sol = _frames(15)
    _csv(tmp_path / "sub.csv", sub)
    _csv(tmp_path / "sol.csv", sol, list(reversed(range(15))))
    (tmp_path / "losscli.toml").write_text(
        textwrap.dedent(
            """
            [checks.kaggle]
            files = "sub.csv"
            targets = "sol.csv"
            on = "Id"
            pred = "SalePrice"
            target = "SalePrice"
            loss = "rmse"
            max = { rmse = 100 }
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    outcome = run(capsys, "check", "-f", "json")
    assert outcome.code == 0, outcome.err
    value = json.loads(outcome.out)["reports"][0]["results"][0]["value"]
    assert value == pytest.approx(_rmse(sub["SalePrice"], sol["SalePrice"]), rel=1e-12)


def test_an_undetected_pred_beside_a_same_named_target_says_how_to_name_both(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    sub, sol = _frames(5)
    _csv(tmp_path / "sub.csv", sub)
    _csv(tmp_path / "sol.csv", sol)
    outcome = run(capsys, "eval", "-l", "rmse", "sub.csv", "--targets", "sol.csv")
    assert_user_error(outcome, "No pred column found in sub.csv", "add -p SalePrice -t SalePrice")


@pytest.mark.parametrize(
    "args",
    [
        ["eval", "-l", "mse", "-p", "pred", "-t", "target", "-", "--targets", "-"],
        ["compare", "-", "-", "-l", "mse"],
        ["compare", "-", "b.csv", "-l", "mse", "--targets", "-"],
    ],
)
def test_standard_input_named_twice_is_refused(tmp_path, args):
    """It said '<stdin> is empty' once the first reader had taken it all."""
    (tmp_path / "b.csv").write_text("pred,target\n1,2\n")
    outcome = run_process(*args, stdin=b"pred,target\n1,2\n", cwd=tmp_path)
    assert_user_error(outcome, "Standard input ('-') is named for both")


def test_on_finds_keys_repeated_across_files_and_counts_each_key_once(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    Path("a.csv").write_text("Id,pred\n1,0.1\n2,0.2\n3,0.3\n")
    Path("b.csv").write_text("Id,pred\n2,0.5\n4,0.4\n2,0.6\n1,0.9\n")
    Path("t.csv").write_text("Id,target\n4,0\n3,1\n2,0\n1,1\n")
    outcome = run(capsys, "eval", "-l", "mse", "a.csv", "b.csv", "--targets", "t.csv", "--on", "Id")
    assert_user_error(outcome, "2 keys appear more than once in 2 files (Id=2, Id=1)")


def test_on_matches_across_several_files_on_both_sides(tmp_path):
    n = 40
    ids = RNG.permutation(n)
    target = RNG.normal(size=n)
    pred = target + RNG.normal(size=n)
    for i, part in enumerate(np.array_split(np.arange(n), 3)):
        _csv(tmp_path / f"p{i}.csv", {"key": ids[part], "pred": pred[part]})
    order = RNG.permutation(n)
    for i, part in enumerate(np.array_split(order, 2)):
        pq.write_table(
            pa.table({"key": ids[part], "target": target[part]}), tmp_path / f"t{i}.parquet"
        )
    report = losscli.evaluate(
        [str(tmp_path / f"p{i}.csv") for i in range(3)],
        "mae",
        targets=[str(tmp_path / f"t{i}.parquet") for i in range(2)],
        on="key",
        chunk_rows=5,
    )
    assert report.results[0].value == pytest.approx(np.mean(np.abs(pred - target)), rel=1e-12)


def test_on_a_hive_partition_key(tmp_path):
    """Partition keys are columns: region=eu/ holds rows whose region is eu, matched by key."""
    for region, rows in (("eu", "Id,pred\n1,0.5\n2,0.1\n"), ("us", "Id,pred\n1,0.3\n")):
        (tmp_path / "runs" / f"region={region}").mkdir(parents=True)
        (tmp_path / "runs" / f"region={region}" / "part-0.csv").write_text(rows)
    truth = tmp_path / "truth.csv"
    truth.write_text("region,Id,target\nus,1,0\neu,2,0\neu,1,1\n")
    report = losscli.evaluate(
        str(tmp_path / "runs"), "mse", targets=str(truth), on="region,Id", by="region"
    )
    assert report.results[0].value == pytest.approx((0.25 + 0.01 + 0.09) / 3, rel=1e-12)
    groups = {r.group["region"]: r.value for r in report.results if r.group}
    assert groups == pytest.approx({"eu": (0.25 + 0.01) / 2, "us": 0.09})


@pytest.mark.parametrize("keys", [["a", "b", "c"], [1, 2, 3]])
def test_on_dictionary_coded_keys(tmp_path, keys):
    """Parquet categoricals on both sides are matched by their values."""
    pq.write_table(
        pa.table({"k": pa.array(keys).dictionary_encode(), "pred": [1.0, 2.0, 3.0]}),
        tmp_path / "p.parquet",
    )
    order = [2, 0, 1]
    pq.write_table(
        pa.table(
            {"k": pa.array([keys[i] for i in order]).dictionary_encode(), "target": [3.0, 1.0, 2.5]}
        ),
        tmp_path / "t.parquet",
    )
    report = losscli.evaluate(
        str(tmp_path / "p.parquet"), "mse", targets=str(tmp_path / "t.parquet"), on="k"
    )
    assert report.results[0].value == pytest.approx(0.25 / 3, rel=1e-12)
