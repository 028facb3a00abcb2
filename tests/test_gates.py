"""CI gates that must not pass on a wrong comparison: each either compares like with like or is
refused (exit 2, what is wrong and how to fix it).

Every test runs the command line, as a CI job does, on sample_data and files written here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import ROOT, assert_user_error, run

HOUSES = ROOT / "sample_data" / "house_prices.csv"


def first_rows(tmp_path: Path, count: int) -> Path:
    """The header and the first ``count`` rows of the houses file."""
    lines = HOUSES.read_text().splitlines()[: count + 1]
    path = tmp_path / f"first{count}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def baseline_of(tmp_path: Path, capsys, *args: object) -> Path:
    outcome = run(capsys, "eval", *args, "--format", "json")
    assert outcome.code == 0, outcome
    path = tmp_path / "baseline.json"
    path.write_text(outcome.out)
    return path


# -- a baseline from other rows ----------------------------------------------------------------


def test_a_baseline_over_other_rows_is_refused(tmp_path, capsys):
    # Before: the run on 200 rows passed against a baseline of 50 rows, with exit 0.
    baseline = baseline_of(tmp_path, capsys, "-l", "mse", first_rows(tmp_path, 50))
    outcome = run(capsys, "eval", "-l", "mse", HOUSES, "--baseline", baseline, "--tolerance", "50%")
    assert_user_error(outcome, "computed on 50 rows, this run on 200", "--allow-other-rows")


def test_allow_other_rows_compares_anyway(tmp_path, capsys):
    baseline = baseline_of(tmp_path, capsys, "-l", "mse", first_rows(tmp_path, 50))
    args = ("--baseline", baseline, "--tolerance", "50%", "--allow-other-rows", "-f", "json")
    outcome = run(capsys, "eval", "-l", "mse", HOUSES, *args)
    assert outcome.code == 0, outcome
    assert json.loads(outcome.out)["passed"] is True


def test_allow_other_rows_without_a_baseline_is_refused(capsys):
    outcome = run(capsys, "eval", "-l", "mse", HOUSES, "--max", "mse=2000", "--allow-other-rows")
    assert_user_error(outcome, "--allow-other-rows applies to a baseline")


def test_a_check_refuses_a_baseline_over_other_rows_and_can_allow_it(tmp_path, capsys):
    baseline = baseline_of(tmp_path, capsys, "-l", "mse", first_rows(tmp_path, 50))
    config = tmp_path / "losscli.toml"
    body = f'files = "{HOUSES}"\nloss = "mse"\nbaseline = "{baseline}"\ntolerance = "50%"\n'
    config.write_text("[checks.houses]\n" + body)
    assert_user_error(run(capsys, "check", "--config", config), "computed on 50 rows")
    config.write_text("[checks.houses]\n" + body + "allow_other_rows = true\n")
    assert run(capsys, "check", "--config", config).code == 0


# -- a baseline with nothing in it -------------------------------------------------------------


@pytest.mark.parametrize("allow", [[], ["--allow-missing"]])
def test_a_baseline_without_results_is_refused(tmp_path, capsys, allow):
    # Before: with --allow-missing every loss was "skipped" and the gate passed with exit 0.
    baseline = baseline_of(tmp_path, capsys, "-l", "mse", HOUSES)
    document = json.loads(baseline.read_text())
    baseline.write_text(json.dumps({**document, "results": []}))
    outcome = run(capsys, "eval", "-l", "mse", HOUSES, "--baseline", baseline, *allow)
    assert_user_error(outcome, "The baseline has no results")
