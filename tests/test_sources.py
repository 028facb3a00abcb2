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

from losscli.errors import InputError, UsageError
from tests.test_cli import Outcome, run

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
