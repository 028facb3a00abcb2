"""CI gates that must not pass on a wrong comparison: each either compares like with like or is
refused (exit 2, what is wrong and how to fix it).

Every test runs the command line, as a CI job does, on sample_data and files written here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CANDIDATE, HOUSES, SAMPLE_DATA, assert_user_error, run, write_report


def first_rows(tmp_path: Path, count: int) -> Path:
    """The header and the first ``count`` rows of the houses file."""
    lines = HOUSES.read_text().splitlines()[: count + 1]
    path = tmp_path / f"first{count}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def baseline_of(tmp_path: Path, capsys, *args: object) -> Path:
    return write_report(capsys, tmp_path / "baseline.json", *args)


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


# -- a baseline from another release -----------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "fragment"),
    [("9.0.0", "newer than this"), ("0.2", "newer than this"), (1, "not a losscli version")],
)
def test_a_baseline_from_a_newer_or_no_release_is_refused(tmp_path, capsys, version, fragment):
    # Before: a baseline of version 9.0.0 (or 1) was compared as if this release wrote it.
    baseline = baseline_of(tmp_path, capsys, "-l", "mse", HOUSES)
    document = json.loads(baseline.read_text())
    baseline.write_text(json.dumps({**document, "version": version}))
    outcome = run(capsys, "eval", "-l", "mse", HOUSES, "--baseline", baseline)
    assert_user_error(outcome, fragment)


def test_a_baseline_from_an_older_release_is_compared(tmp_path, capsys):
    baseline = baseline_of(tmp_path, capsys, "-l", "mse", HOUSES)
    document = json.loads(baseline.read_text())
    baseline.write_text(json.dumps({**document, "version": "0.0.9"}))
    assert run(capsys, "eval", "-l", "mse", HOUSES, "--baseline", baseline).code == 0


# -- tolerance ---------------------------------------------------------------------------------


@pytest.mark.parametrize("tolerance", ["-2%", "-0.5", "mse=-1"])
def test_a_negative_tolerance_says_why_it_is_refused(capsys, tolerance):
    # Before: "'-2%' is not a tolerance", without saying that the sign was the trouble.
    args = ("--baseline", SAMPLE_DATA / "house_prices_baseline.json")
    outcome = run(capsys, "eval", "-l", "mse", HOUSES, *args, f"--tolerance={tolerance}")
    assert_user_error(outcome, "is negative")


# -- exit codes in a pipeline ------------------------------------------------------------------


@pytest.mark.parametrize("quiet", [[], ["--quiet"]])
def test_a_failed_gate_exits_1_with_valid_json_saying_so(capsys, quiet):
    outcome = run(capsys, "eval", "-l", "mse", HOUSES, "--max", "mse=20", "-f", "json", *quiet)
    assert outcome.code == 1
    document = json.loads(outcome.out)
    assert document["passed"] is False and document["checks"][0]["status"] == "failed"


# -- compare --fail-if-worse -------------------------------------------------------------------


def test_an_undefined_difference_that_fails_the_build_is_an_error_annotation(tmp_path, capsys):
    # Before: exit 1 with only a ::warning annotation, so the run showed no error to explain it.
    (tmp_path / "a.csv").write_text("prediction,target\n1,1\n2,3\n")
    (tmp_path / "b.csv").write_text("prediction,target\nnan,1\n2,3\n")
    args = ("-l", "mse", "--nan", "propagate", "-f", "github")
    gated = run(capsys, "compare", tmp_path / "a.csv", tmp_path / "b.csv", *args, "--fail-if-worse")
    assert gated.code == 1
    assert gated.out.startswith("::error title=losscli compare mse::"), gated.out
    plain = run(capsys, "compare", tmp_path / "a.csv", tmp_path / "b.csv", *args)
    assert plain.code == 0 and plain.out.startswith("::warning "), plain.out


# -- one loss bounded twice --------------------------------------------------------------------


def test_one_loss_bounded_twice_through_an_alias_is_refused(tmp_path, capsys):
    # Before: both bounds were checked and the stricter one decided, without a word.
    outcome = run(capsys, "eval", "-l", "mse", HOUSES, "--max", "mse=1", "--max", "l2=2000")
    assert_user_error(outcome, "--max l2: mse already has this bound (as --max mse)")
    config = tmp_path / "losscli.toml"
    body = f'files = "{HOUSES}"\nloss = "mse"\nmin = {{ mse = 1, l2 = 2 }}\n'
    config.write_text("[checks.houses]\n" + body)
    assert_user_error(run(capsys, "check", "--config", config), "min.l2: mse already has")


# -- already right: kept so -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "now"),
    [("huber:delta=2", "huber:delta=1"), ("mse:reduction=sum", "mse")],
)
def test_a_baseline_of_other_params_is_never_compared_as_the_same_loss(
    tmp_path, capsys, before, now
):
    baseline = baseline_of(tmp_path, capsys, "-l", before, HOUSES)
    outcome = run(capsys, "eval", "-l", now, HOUSES, "--baseline", baseline, "-f", "json")
    assert outcome.code == 1
    reasons = {c["label"]: c["reason"] for c in json.loads(outcome.out)["checks"]}
    assert reasons == {now: "missing from the baseline", before: "missing from the results"}


@pytest.mark.parametrize("command", ["compare", "check"])
def test_a_baseline_written_by_compare_or_check_is_refused(tmp_path, capsys, command):
    args = {
        "compare": (HOUSES, CANDIDATE, "-l", "mse"),
        "check": ("--config", SAMPLE_DATA / "losscli.toml", "house_prices"),
    }[command]
    written = run(capsys, command, *args, "-f", "json")
    baseline = tmp_path / "baseline.json"
    baseline.write_text(written.out)
    outcome = run(capsys, "eval", "-l", "mse", HOUSES, "--baseline", baseline)
    assert_user_error(outcome, "is not a losscli eval report")


def test_a_null_baseline_value_fails_and_markdown_says_why(tmp_path, capsys):
    nan_rows = tmp_path / "nan.csv"
    nan_rows.write_text("prediction,target\n1,\n2,3\n")
    baseline = baseline_of(tmp_path, capsys, "-l", "mse", nan_rows, "--nan", "propagate")
    args = ("--nan", "propagate", "--baseline", baseline, "-f", "markdown")
    outcome = run(capsys, "eval", "-l", "mse", nan_rows, *args)
    assert outcome.code == 1
    assert "n/a" in outcome.out and "the baseline has no value for it" in outcome.out


def test_a_check_on_an_empty_file_exits_2_naming_the_check(tmp_path, capsys):
    # The file is found next to the configuration, not in the working directory.
    good = f'[checks.good]\nfiles = "{HOUSES}"\nloss = "mse"\nmax = {{ mse = 2000 }}\n'
    bad = '[checks.bad]\nfiles = "empty.csv"\nloss = "mse"\nmax = { mse = 2000 }\n'
    config = tmp_path / "sub" / "losscli.toml"
    config.parent.mkdir()
    (tmp_path / "sub" / "empty.csv").write_text("")
    config.write_text(good + bad)
    assert_user_error(
        run(capsys, "check", "--config", config, "-f", "github"), "check bad:", "is empty"
    )
