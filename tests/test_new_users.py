"""Files as real users have them: Excel and pandas CSVs, label codings, solution files.

Each test writes the file a user would have and checks losscli either gives the number NumPy gives
on the same values, or refuses in one message that names what is wrong and how to fix it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from losscli.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def value_of(capsys, *argv: str) -> float:
    code, out, err = run(capsys, "eval", "-f", "json", *argv)
    assert code == 0, err
    return json.loads(out)["results"][0]["value"]


def refusal(capsys, *argv: str) -> str:
    code, out, err = run(capsys, "eval", *argv)
    assert (code, out) == (2, ""), err
    assert err.startswith("losscli: error:") and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 3
    return err


def write(path: Path, text: str) -> str:
    path.write_bytes(text.encode())
    return str(path)


# -------------------------------------------------------------------------- a solution file


@pytest.mark.parametrize("header", ["Id", "id", "row_id", "", "Unnamed: 0"])
def test_targets_file_of_an_id_and_one_value_column_needs_no_t(tmp_path, capsys, header):
    # A Kaggle solution (Id,SalePrice) or a pandas to_csv with its index: one value column.
    preds = write(tmp_path / "p.csv", "Id,pred\n1,1.0\n2,2.0\n3,4.0\n")
    targets = write(tmp_path / "t.csv", f"{header},SalePrice\n1,3.0\n2,2.0\n3,1.0\n")
    got = value_of(capsys, "-l", "mse", "-p", "pred", preds, "--targets", targets)
    assert got == pytest.approx(np.mean((np.array([1, 2, 4]) - [3, 2, 1]) ** 2))


def test_targets_file_of_two_value_columns_still_needs_t(tmp_path, capsys):
    preds = write(tmp_path / "p.csv", "pred\n1\n2\n")
    targets = write(tmp_path / "t.csv", "Id,a,b\n1,3,4\n2,2,5\n")
    err = refusal(capsys, "-l", "mse", preds, "--targets", targets)
    assert "No target column found in" in err and "-t/--target" in err
