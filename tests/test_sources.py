"""Inputs as users have them: Hive-partitioned directories, odd file names and permissions, names
that lie about the bytes, archives, text that is not UTF-8, raw bytes in messages, and files of one
table that disagree with each other.

Every refusal is checked the way a user meets it, through the command: exit code 2, nothing on
stdout, at most three lines on stderr and no traceback. Every value read is checked against the
same numbers computed another way (NumPy, or the same rows from one plain file).
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from losscli.errors import InputError, UsageError
from tests.test_cli import Outcome, run, run_process

CSV = b"pred,target\n1,1.5\n2,2\n3,5\n"  # squared errors 0.25, 0, 4
CSV_MSE = (0.25 + 0 + 4) / 3


def assert_refused(outcome: Outcome, *fragments: str) -> None:
    """What every refused input must look like to the user."""
    assert outcome.code == 2, outcome
    assert outcome.out == ""
    assert "Traceback" not in outcome.err
    assert 1 <= len(outcome.err.strip().splitlines()) <= 3, outcome.err
    for fragment in fragments:
        assert fragment.lower() in outcome.err.lower(), (fragment, outcome.err)


def value_of(outcome: Outcome) -> float:
    assert outcome.code == 0, outcome
    return json.loads(outcome.out)["results"][0]["value"]


def eval_json(capsys, *args: object) -> Outcome:
    return run(capsys, "eval", "-l", "mse", "-f", "json", *args)


def groups_of(outcome: Outcome) -> dict[tuple, tuple[float, int]]:
    """Each group's (values of the --by keys) -> (value, n)."""
    assert outcome.code == 0, outcome
    results = json.loads(outcome.out)["results"]
    return {tuple(r["group"].values()): (r["value"], r["n"]) for r in results if r.get("group")}


def table(pred: list[float], target: list[float], **more: list) -> pa.Table:
    return pa.table({"pred": pred, "target": target, **more})


def columns(pred: list[float], target: list[float]) -> dict[str, np.ndarray]:
    """What the writers of tests/test_io.py take: float64 arrays by name."""
    return {"pred": np.asarray(pred, dtype=float), "target": np.asarray(target, dtype=float)}


def squared_mean(pred: list[float], target: list[float]) -> float:
    return float(np.mean((np.asarray(pred) - np.asarray(target)) ** 2))


# -- 4. raw bytes never reach the terminal ------------------------------------------------------
def test_control_characters_in_names_and_values_are_escaped(capsys, tmp_path):
    header = tmp_path / "header.csv"
    header.write_bytes(b"\x1b[31mred,target\n1,2\n")
    outcome = eval_json(capsys, header)
    assert_refused(outcome, "\\x1b[31mred")
    value = tmp_path / "value.csv"
    value.write_bytes(b'pred,target\n"1\r2",2\n')
    outcome = eval_json(capsys, value)
    assert_refused(outcome, "'1\\r2'", "row 1")
    name = tmp_path / "evil\u202e\x07.csv"
    name.write_bytes(b"pred,target\n")
    assert_refused(eval_json(capsys, name), "evil\\u202e\\x07.csv")
    for err in (outcome.err, capsys.readouterr().err):
        assert not any(char in err for char in "\x1b\r\x00\x07\u202e")


def test_escaping_keeps_letters_and_the_hint_line():
    error = InputError("Colonne 'é中文\x1b[0m' absente\n", "Essayez\r 'prédiction'.")
    assert str(error) == "Colonne 'é中文\\x1b[0m' absente\\n\n  Essayez\\r 'prédiction'."
    assert error.message == "Colonne 'é中文\\x1b[0m' absente\\n"
    assert str(UsageError(str(error.message))) == error.message  # escaping twice changes nothing


def test_non_ascii_column_names_are_shown_as_written(capsys, tmp_path):
    path = tmp_path / "noms.csv"
    path.write_text("prédiction,中文\n1,2\n")
    assert_refused(eval_json(capsys, path), "prédiction, 中文")


# -- 5. files of one table that disagree -------------------------------------------------------
def test_a_number_in_one_file_and_text_in_another_names_the_file(capsys, tmp_path):
    first = tmp_path / "a.parquet"
    pq.write_table(table([1.0], [2.0]), first)
    text = tmp_path / "b.csv"
    text.write_text("pred,target\n1,two\n")
    stored = tmp_path / "c.parquet"
    pq.write_table(table([1.0], ["2"]), stored)
    assert_refused(eval_json(capsys, first, text), str(text), "'two'")
    assert_refused(eval_json(capsys, first, stored), str(stored), "string")


def test_list_columns_of_other_widths_or_a_scalar_are_refused(capsys, tmp_path):
    three = tmp_path / "three.parquet"
    pq.write_table(table([[1.0, 2.0, 3.0]], [[0.0, 1.0, 0.0]]), three)
    four = tmp_path / "four.parquet"
    pq.write_table(table([[1.0, 2.0, 3.0, 4.0]], [[0.0, 1.0, 0.0, 0.0]]), four)
    scalar = tmp_path / "scalar.parquet"
    pq.write_table(table([1.0], [0.0]), scalar)
    assert_refused(eval_json(capsys, three, four), str(four), "4 values", "but 3 at")
    assert_refused(eval_json(capsys, three, scalar), str(scalar), "a single number")
    assert_refused(eval_json(capsys, scalar, three), str(three), "a single number")


def test_a_grouping_or_id_column_of_another_type_names_the_file(capsys, tmp_path):
    numbers = tmp_path / "a.parquet"
    pq.write_table(table([1.0, 2.0], [1.5, 2.0], g=[1, 2]), numbers)
    text = tmp_path / "b.csv"
    text.write_text("pred,target,g\n3,5,1\n")
    assert_refused(eval_json(capsys, numbers, text, "--by", "g"), str(text), "int64", "string")
    per_row = tmp_path / "rows.parquet"
    outcome = eval_json(capsys, numbers, text, "--id", "g", "--per-row", per_row)
    assert_refused(outcome, str(text), "'g'")
    assert not per_row.exists()


def test_integer_widths_of_an_id_column_are_one_kind(capsys, tmp_path):
    wide = tmp_path / "a.parquet"
    pq.write_table(table([1.0, 2.0], [1.5, 2.0], g=pa.array([1, 2], pa.int64())), wide)
    narrow = tmp_path / "b.parquet"
    pq.write_table(table([3.0], [5.0], g=pa.array([1], pa.int32())), narrow)
    groups = groups_of(eval_json(capsys, wide, narrow, "--by", "g"))
    assert groups == {(1,): (squared_mean([1, 3], [1.5, 5]), 2), (2,): (0.0, 1)}


def test_header_only_file_among_several_reads_the_others(capsys, tmp_path):
    full = tmp_path / "a.csv"
    full.write_bytes(CSV)
    header = tmp_path / "b.csv"
    header.write_text("pred,target\n")
    outcome = eval_json(capsys, full, header, full)
    assert value_of(outcome) == CSV_MSE
    assert json.loads(outcome.out)["inputs"]["rows_read"] == 6


def test_zero_byte_file_among_several_is_refused_by_name(capsys, tmp_path):
    full = tmp_path / "a.csv"
    full.write_bytes(CSV)
    empty = tmp_path / "b.parquet"
    empty.write_bytes(b"")
    assert_refused(eval_json(capsys, full, empty), str(empty), "empty")
