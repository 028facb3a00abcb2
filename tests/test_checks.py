"""Checks: --max/--min thresholds, --baseline with tolerances, `losscli check` and CI formats.

Thresholds are set a little above or below the values losscli computes for sample_data, so every
test holds on its own numbers; the few worked values say where they come from.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

import losscli
from losscli.errors import InputError, UsageError
from losscli.report.checks import Check, parse_tolerance
from tests.conftest import HOUSES, ROOT, SAMPLE_DATA, assert_user_error, run, write

REPORT = losscli.evaluate(HOUSES, "mse,r2,huber:delta=10")
MSE, R2, HUBER = REPORT["mse"], REPORT["r2"], REPORT["huber:delta=10"]


# -- 1. the Python API: Report.check -----------------------------------------------------------


def test_a_report_without_checks_has_no_verdict():
    assert REPORT.checks == [] and REPORT.passed is None
    assert "checks" not in REPORT.to_dict() and "passed" not in REPORT.to_dict()


def test_max_and_min_pass_and_fail_with_their_margin():
    report = REPORT.check(max={"mse": MSE + 10, "huber:delta=10": HUBER - 1}, min={"r2": R2 - 0.01})
    by_kind = {(c.label, c.kind): c for c in report.checks}
    assert [c.status for c in report.checks] == ["passed", "failed", "passed"]
    assert by_kind["mse", "max"].margin == pytest.approx(10)
    assert by_kind["huber:delta=10", "max"].margin == pytest.approx(-1)
    assert by_kind["r2", "min"].margin == pytest.approx(0.01)
    assert report.passed is False
    assert REPORT.check(max={"mse": MSE}).passed is True  # equal to the bound passes


def test_min_fails_below_and_max_of_a_higher_is_better_loss_still_caps_it():
    assert REPORT.check(min={"r2": R2 + 0.01}).passed is False
    assert REPORT.check(max={"r2": R2 - 0.01}).passed is False
    assert REPORT.check(min={"mse": MSE + 1}).passed is False


@pytest.mark.parametrize(
    "label", ["huber:delta=10.0", "huber:delta=1e1", "huber:reduction=mean,delta=10"]
)
def test_a_label_matches_by_loss_and_effective_parameters(label):
    (check,) = REPORT.check(max={label: HUBER + 1}).checks
    assert check.label == "huber:delta=10" and check.passed


def test_an_alias_names_its_canonical_loss():
    (check,) = REPORT.check(max={"l2": MSE - 1}).checks
    assert (check.label, check.status) == ("mse", "failed")


@pytest.mark.parametrize("label", ["mae", "huber", "huber:delta=2", "hubber", "mse,r2"])
def test_a_label_naming_no_requested_loss_is_a_usage_error_listing_the_labels(label):
    with pytest.raises(UsageError) as caught:
        REPORT.check(max={label: 1})
    assert f"--max {label}" in caught.value.message
    assert caught.value.hint == "The labels are: mse, r2, huber:delta=10."


def test_a_nan_value_fails_every_kind_of_check():
    report = losscli.evaluate(
        {"pred": [1.0, math.nan], "target": [1.0, 2.0]}, "mse", nan="propagate"
    )
    # REPORT is over other rows: allowed here, the point is the NaN.
    checked = report.check(max={"mse": 1e9}, min={"mse": -1e9}, baseline=REPORT, other_rows=True)
    statuses = {(c.kind, c.status, c.reason) for c in checked.checks}
    assert statuses == {
        ("max", "failed", "the value is NaN"),
        ("min", "failed", "the value is NaN"),
        ("baseline", "failed", "the value is NaN"),
        ("baseline", "failed", "missing from the results"),
    }
    entry = checked.to_dict()["checks"][0]
    assert entry["value"] is None and entry["margin"] is None and entry["passed"] is False
    json.dumps(checked.to_dict(), allow_nan=False)


def test_check_entries_in_the_json_document():
    document = REPORT.check(max={"mse": 1200}).to_dict()
    assert document["passed"] is True
    assert document["checks"] == [
        {
            "label": "mse",
            "kind": "max",
            "threshold": 1200.0,
            "value": MSE,
            "passed": True,
            "status": "passed",
            "margin": 1200.0 - MSE,
            "direction": "lower",
        }
    ]


def shifted(report: losscli.Report, **factors: float) -> dict:
    """``report``'s document with some values multiplied: a baseline to compare against."""
    document = report.to_dict()
    for result in document["results"]:
        result["value"] *= factors.get(result["label"].split(":")[0], 1.0)
    return document


def test_baseline_equal_values_pass_with_no_tolerance():
    checked = REPORT.check(baseline=REPORT)
    assert checked.passed is True and len(checked.checks) == 3
    assert all(c.kind == "baseline" and c.margin == 0 for c in checked.checks)


def test_baseline_absolute_tolerance():
    earlier = shifted(REPORT, mse=0.999)  # mse is worse now by 0.1 % of it, about 1.04
    worse_by = MSE - MSE * 0.999
    assert REPORT.check(baseline=earlier).passed is False
    assert REPORT.check(baseline=earlier, tolerance=worse_by * 1.01).passed is True
    (mse, *_) = REPORT.check(baseline=earlier, tolerance=worse_by * 0.99).checks
    assert mse.failed and mse.threshold == pytest.approx(MSE * 0.999 + worse_by * 0.99)
    assert mse.baseline == pytest.approx(MSE * 0.999) and mse.tolerance == str(
        parse_tolerance(worse_by * 0.99, "")
    )


def test_baseline_relative_tolerance_is_a_share_of_the_baseline_value():
    earlier = shifted(REPORT, mse=1 / 1.015)  # now 1.5 % above the baseline
    assert REPORT.check(baseline=earlier, tolerance="1%").passed is False
    assert REPORT.check(baseline=earlier, tolerance="2%").passed is True
    (mse, *_) = REPORT.check(baseline=earlier, tolerance="2%").checks
    assert mse.threshold == pytest.approx(MSE / 1.015 * 1.02)


def test_a_per_label_tolerance_overrides_the_default():
    earlier = shifted(REPORT, mse=1 / 1.015, huber=1 / 1.015)
    checked = REPORT.check(baseline=earlier, tolerance={"default": "2%", "l2": "1%"})
    assert {c.label: c.status for c in checked.checks} == {
        "mse": "failed",
        "r2": "passed",
        "huber:delta=10": "passed",
    }
    assert checked.checks[0].tolerance == "1%"


def test_r2_is_higher_is_better_against_its_baseline():
    better = REPORT.check(baseline=shifted(REPORT, r2=0.99))  # baseline lower: r2 improved
    worse = REPORT.check(baseline=shifted(REPORT, r2=1.01))
    r2_better = next(c for c in better.checks if c.label == "r2")
    r2_worse = next(c for c in worse.checks if c.label == "r2")
    assert r2_better.passed and r2_better.direction == "higher" and r2_better.margin > 0
    assert r2_worse.failed and r2_worse.margin == pytest.approx(R2 - R2 * 1.01)
    assert REPORT.check(baseline=shifted(REPORT, r2=1.01), tolerance="1.5%").passed is True


def test_a_loss_missing_from_either_side_fails_unless_allowed():
    earlier = losscli.evaluate(HOUSES, "mse,mae").to_dict()
    checked = REPORT.check(baseline=earlier)
    statuses = {c.label: (c.status, c.reason) for c in checked.checks}
    assert statuses == {
        "mse": ("passed", None),
        "r2": ("failed", "missing from the baseline"),
        "huber:delta=10": ("failed", "missing from the baseline"),
        "mae": ("failed", "missing from the results"),
    }
    allowed = REPORT.check(baseline=earlier, allow_missing=True)
    assert allowed.passed is True
    skipped = [c for c in allowed.checks if c.status == "skipped"]
    assert len(skipped) == 3 and not any(c.passed for c in skipped)
    assert all(entry["passed"] is False for entry in allowed.to_dict()["checks"][1:])


def test_tolerance_without_a_baseline_is_a_usage_error():
    with pytest.raises(UsageError, match="baseline"):
        REPORT.check(max={"mse": 1}, tolerance="2%")


@pytest.mark.parametrize("tolerance", ["-1", "x%", "1%%", "nan", True])
def test_a_bad_tolerance_is_a_usage_error(tolerance):
    with pytest.raises(UsageError, match="is not a tolerance"):
        REPORT.check(baseline=REPORT, tolerance=tolerance)


def test_a_bad_baseline_document_is_an_input_error(tmp_path):
    for text in ("not json", "[1, 2]", '{"version": "0.1.0", "results": [{"label": "mse"}]}'):
        path = write(tmp_path / "baseline.json", text)
        with pytest.raises(InputError, match="baseline"):
            REPORT.check(baseline=path)
    with pytest.raises(InputError, match="Cannot read the baseline"):
        REPORT.check(baseline=tmp_path / "missing.json")


def test_check_describes_itself_in_words():
    check = Check("mse", "max", 1000.0, 1038.25, "failed")
    assert check.describe() == "mse = 1038.25 is above the max 1000 by 38.25"
    check = Check("r2", "baseline", 0.9, 0.95, "passed", "higher", baseline=0.92, tolerance="0.02")
    assert check.describe() == (
        "r2 = 0.95 is within the bound 0.9 (baseline 0.92 -0.02), margin 0.05"
    )


# -- 2. eval --max / --min / --baseline on the command line ------------------------------------


def eval_json(capsys, *args: object):
    """``losscli eval`` on the house prices with JSON output: the outcome and its document."""
    outcome = run(capsys, "eval", "-l", "mse,r2,huber:delta=10", "-f", "json", HOUSES, *args)
    return outcome, json.loads(outcome.out) if outcome.out else None


def test_eval_without_checks_keeps_its_document_and_exit_code(capsys):
    outcome, document = eval_json(capsys)
    assert outcome.code == 0 and set(document) == {"version", "inputs", "results"}


def test_eval_thresholds_exit_0_when_met(capsys):
    outcome, document = eval_json(capsys, "--max", f"mse={MSE + 1}", "--min", f"r2={R2 - 0.01}")
    assert (outcome.code, outcome.err) == (0, "")
    assert document["passed"] is True
    assert [(c["label"], c["kind"], c["passed"]) for c in document["checks"]] == [
        ("mse", "max", True),
        ("r2", "min", True),
    ]


@pytest.mark.parametrize(
    "args",
    [("--max", f"mse={MSE - 1}"), ("--min", f"r2={R2 + 0.01}"), ("--min", f"mse={MSE + 1}")],
    ids=["above-max", "below-min", "min-on-a-lower-is-better-loss"],
)
def test_eval_thresholds_exit_1_when_failed_with_the_report_on_stdout(capsys, args):
    outcome, document = eval_json(capsys, *args)
    assert outcome.code == 1
    assert document["passed"] is False and document["checks"][0]["passed"] is False
    assert len(document["results"]) == 3  # the full report still comes out
    assert outcome.err.startswith("check failed: ") and "Traceback" not in outcome.err


def test_eval_labels_match_by_params_and_alias(capsys):
    outcome, document = eval_json(
        capsys, "--max", f"huber:delta=10.0={HUBER + 1}", "--max", f"l2={MSE + 1}"
    )
    assert outcome.code == 0
    assert [c["label"] for c in document["checks"]] == ["huber:delta=10", "mse"]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--max", "mae=1"), ["--max mae: no requested loss", "mse, r2, huber:delta=10"]),
        (("--max", "huber=1"), ["--max huber: no requested loss", "huber:delta=10"]),
        (("--min", "hubber=1"), ["--min hubber: Unknown loss 'hubber'", "The labels are"]),
        (("--max", "mse"), ["--max mse is not LABEL=VALUE"]),
        (("--max", "mse=lots"), ["--max mse=lots", "not a finite number"]),
        (("--max", "mse=nan"), ["not a finite number"]),
        (("--tolerance", "1%"), ["--tolerance applies to a baseline", "--baseline FILE"]),
        (("--max", "mse=1", "--max", "mse=2"), ["--max mse is given twice"]),
        (("--allow-missing",), ["--allow-missing applies to a baseline"]),
    ],
)
def test_eval_check_options_that_cannot_work_exit_2(capsys, args, fragments):
    outcome = run(capsys, "eval", "-l", "mse,r2,huber:delta=10", HOUSES, *args)
    assert_user_error(outcome, *fragments)


def baseline_file(tmp_path: Path, **factors: float) -> Path:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(shifted(REPORT, **factors)))
    return path


def test_eval_baseline_with_no_tolerance(tmp_path, capsys):
    outcome, document = eval_json(capsys, "--baseline", baseline_file(tmp_path))
    assert outcome.code == 0 and document["passed"] is True
    entry = document["checks"][0]
    assert entry | {"value": None} == {
        "label": "mse",
        "kind": "baseline",
        "threshold": MSE,
        "value": None,
        "passed": True,
        "status": "passed",
        "margin": 0.0,
        "direction": "lower",
        "baseline": MSE,
        "tolerance": "0",
    }
    worse = eval_json(capsys, "--baseline", baseline_file(tmp_path, mse=0.9999))[0]
    assert worse.code == 1 and "mse = 1038.23 is above the bound" in worse.err


def test_eval_baseline_absolute_tolerance(tmp_path, capsys):
    path = baseline_file(tmp_path, huber=0.99)  # huber now 1 % worse: about 2.1 above
    allowance = HUBER - HUBER * 0.99
    assert eval_json(capsys, "--baseline", path, "--tolerance", f"{allowance * 1.01}")[0].code == 0
    outcome, document = eval_json(capsys, "--baseline", path, "--tolerance", f"{allowance * 0.99}")
    assert outcome.code == 1
    failed = [c for c in document["checks"] if not c["passed"]]
    assert [c["label"] for c in failed] == ["huber:delta=10"]
    assert failed[0]["threshold"] == pytest.approx(HUBER * 0.99 + allowance * 0.99)
    assert failed[0]["baseline"] == pytest.approx(HUBER * 0.99)


def test_eval_baseline_relative_and_per_label_tolerance(tmp_path, capsys):
    path = baseline_file(tmp_path, mse=1 / 1.015, huber=1 / 1.015)  # both 1.5 % worse now
    assert eval_json(capsys, "--baseline", path, "--tolerance", "1%")[0].code == 1
    assert eval_json(capsys, "--baseline", path, "--tolerance", "2%")[0].code == 0
    outcome, document = eval_json(
        capsys, "--baseline", path, "--tolerance", "2%", "--tolerance", "mse=1%"
    )
    assert outcome.code == 1
    assert {c["label"]: c["tolerance"] for c in document["checks"]} == {
        "mse": "1%",
        "r2": "2%",
        "huber:delta=10": "2%",
    }
    assert [c["label"] for c in document["checks"] if not c["passed"]] == ["mse"]
    per_label_only = eval_json(capsys, "--baseline", path, "--tolerance", "huber:delta=10.0=2%")
    assert per_label_only[0].code == 1  # mse keeps the default tolerance of 0


def test_eval_baseline_r2_is_higher_is_better(tmp_path, capsys):
    improved = eval_json(capsys, "--baseline", baseline_file(tmp_path, r2=0.95))
    assert improved[0].code == 0
    outcome, document = eval_json(capsys, "--baseline", baseline_file(tmp_path, r2=1.05))
    assert outcome.code == 1
    (r2,) = [c for c in document["checks"] if not c["passed"]]
    assert r2["label"] == "r2" and r2["direction"] == "higher"
    assert r2["threshold"] == pytest.approx(R2 * 1.05) and r2["margin"] < 0


def test_eval_baseline_missing_losses_fail_unless_allowed(tmp_path, capsys):
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(losscli.evaluate(HOUSES, "mse,mae").to_dict()))
    outcome, document = eval_json(capsys, "--baseline", path)
    assert outcome.code == 1
    reasons = {c["label"]: c.get("reason") for c in document["checks"] if not c["passed"]}
    assert reasons == {
        "r2": "missing from the baseline",
        "huber:delta=10": "missing from the baseline",
        "mae": "missing from the results",
    }
    allowed, document = eval_json(capsys, "--baseline", path, "--allow-missing")
    assert allowed.code == 0 and document["passed"] is True
    statuses = [(c["status"], c["passed"]) for c in document["checks"]]
    assert statuses == [("passed", True)] + [("skipped", False)] * 3


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is not JSON"),
        ("{not json", "is not JSON (line 1"),
        ("[]", "is not a losscli eval report"),
        ('{"version": "0.1.0", "rows": []}', "is not a losscli eval report"),
        ('{"version": "0.1.0", "results": [{"label": "mse", "value": 1}]}', "result 1 is not"),
        (
            '{"version": "0.1.0", "results": [{"label": "mse", "loss": "mse", "params": {}, '
            '"value": "big"}]}',
            "result 1 is not",
        ),
    ],
)
def test_eval_a_baseline_that_is_not_a_losscli_report_exits_2(tmp_path, capsys, text, fragment):
    path = write(tmp_path / "baseline.json", text)
    outcome = run(capsys, "eval", "-l", "mse", HOUSES, "--baseline", path)
    assert_user_error(outcome, str(path), fragment, "losscli eval")


def test_eval_an_unreadable_baseline_exits_2(tmp_path, capsys):
    missing = run(capsys, "eval", "-l", "mse", HOUSES, "--baseline", tmp_path / "none.json")
    assert_user_error(missing, "Cannot read the baseline", "none.json")
    directory = run(capsys, "eval", "-l", "mse", HOUSES, "--baseline", tmp_path)
    assert_user_error(directory, "Cannot read the baseline")


def test_eval_a_baseline_of_the_list_command_is_not_a_report(tmp_path, capsys):
    listing = run(capsys, "list", "--format", "json").out
    path = write(tmp_path / "baseline.json", listing)
    assert_user_error(run(capsys, "eval", "-l", "mse", HOUSES, "--baseline", path), "not a losscli")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--tolerance", "2%", "--tolerance", "3%"), "default tolerance was already given (2%)"),
        (("--tolerance", "mae=2%"), "--tolerance mae: no requested loss"),
        (("--tolerance", "-0.5"), "--tolerance: '-0.5' is not a tolerance"),
        (("--tolerance", "mse=two"), "--tolerance mse: 'two' is not a tolerance"),
    ],
)
def test_eval_bad_tolerances_exit_2(tmp_path, capsys, args, fragment):
    outcome = run(
        capsys, "eval", "-l", "mse,r2", HOUSES, "--baseline", baseline_file(tmp_path), *args
    )
    assert_user_error(outcome, fragment)


def test_eval_csv_output_is_unchanged_by_checks_but_the_exit_code_is_not(capsys):
    plain = run(capsys, "eval", "-l", "mse", "-f", "csv", HOUSES)
    checked = run(capsys, "eval", "-l", "mse", "-f", "csv", HOUSES, "--max", f"mse={MSE - 1}")
    assert (checked.code, checked.out) == (1, plain.out)
    assert checked.err.startswith("check failed: mse = ")
    quiet = run(capsys, "eval", "-l", "mse", "-f", "csv", "-q", HOUSES, "--max", f"mse={MSE - 1}")
    assert (quiet.code, quiet.err) == (1, "")


def test_eval_table_marks_pass_and_fail_with_the_margin(capsys):
    outcome = run(
        capsys,
        "eval",
        "-l",
        "mse,r2",
        "-f",
        "table",
        HOUSES,
        "--max",
        "mse=1000",
        "--min",
        "r2=0.9",
    )
    assert outcome.code == 1
    row = {
        line.split("│")[2].strip(): line
        for line in outcome.out.splitlines()
        if "│ max" in line or "│ min" in line
    }
    assert "FAIL" in row["mse"] and f"{1000 - MSE:+.6g}" in row["mse"]
    assert "pass" in row["r2"] and f"{R2 - 0.9:+.6g}" in row["r2"]
    assert "1 of 2 checks failed" in outcome.out


# -- 3. markdown and github formats ------------------------------------------------------------


def test_eval_markdown_has_the_checks_with_marks_and_margins(capsys):
    outcome = run(
        capsys,
        "eval",
        "-l",
        "mse,r2",
        "-f",
        "markdown",
        HOUSES,
        "--max",
        "mse=1000",
        "--min",
        "r2=0.9",
    )
    assert outcome.code == 1
    lines = outcome.out.splitlines()
    assert "**❌ 1 of 2 checks failed**" in lines
    header = lines.index("| result | loss | check | bound | value | margin |")
    assert re.fullmatch(r"\|(-+:?\|){6}", lines[header + 1].replace("---:", "---"))
    rows = lines[header + 2 :]
    assert rows == [
        f"| ❌ fail | `mse` | max | 1000 | {MSE:.6g} | {1000 - MSE:+.6g} |",
        f"| ✅ pass | `r2` | min | 0.9 | {R2:.6g} | {R2 - 0.9:+.6g} |",
    ]


def test_eval_markdown_without_checks_is_unchanged(capsys):
    out = run(capsys, "eval", "-l", "mse", "-f", "markdown", HOUSES).out
    assert "result" not in out and "✅" not in out and out.count("\n") == 5


def test_eval_github_has_one_error_command_per_failed_check(tmp_path, capsys):
    path = baseline_file(tmp_path, mse=0.9)  # mse 11 % worse than the baseline
    outcome = run(
        capsys,
        "eval",
        "-l",
        "mse,r2,huber:delta=10",
        "-f",
        "github",
        HOUSES,
        "--max",
        "huber:delta=10=200",
        "--min",
        "r2=0.9",
        "--baseline",
        path,
        "--tolerance",
        "5%",
    )
    assert outcome.code == 1
    lines = outcome.out.splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert commands == [
        f"::error title=losscli eval%3A huber%3Adelta=10 max::huber:delta=10 = {HUBER:.6g} is "
        f"above the max 200 by {HUBER - 200:.6g}",
        f"::error title=losscli eval%3A mse baseline::mse = {MSE:.6g} is above the bound "
        f"{MSE * 0.9 * 1.05:.6g} (baseline {MSE * 0.9:.6g} +5%25) by {MSE - MSE * 0.9 * 1.05:.6g}",
    ]
    assert f"mse = {MSE:.6g} (lower is better, n=200)" in lines
    assert any(line.startswith("pass: r2 = ") for line in lines)
    assert lines[-1] == "2 of 5 checks failed"


def test_eval_github_warns_for_a_skipped_check(tmp_path, capsys):
    path = baseline_file(tmp_path)
    outcome = run(
        capsys,
        "eval",
        "-l",
        "mse,mae",
        "-f",
        "github",
        HOUSES,
        "--baseline",
        path,
        "--allow-missing",
    )
    assert outcome.code == 0
    commands = [line for line in outcome.out.splitlines() if line.startswith("::")]
    assert commands == [
        "::warning title=losscli eval%3A mae baseline::mae: missing from the baseline",
        "::warning title=losscli eval%3A r2 baseline::r2: missing from the results",
        "::warning title=losscli eval%3A huber%3Adelta=10 baseline::huber:delta=10: missing from "
        "the results",
    ]


def test_github_escaping_follows_the_workflow_command_rules():
    from losscli.report.render import escape_data, escape_property

    assert escape_data("2% of\r\nx: a, b") == "2%25 of%0D%0Ax: a, b"
    assert escape_property("2% of\r\nx: a, b") == "2%25 of%0D%0Ax%3A a%2C b"


# -- 4. losscli check and its configuration ----------------------------------------------------

SAMPLE_CONFIG = SAMPLE_DATA / "losscli.toml"


def toml_path(path: object) -> str:
    return json.dumps(str(path))  # a TOML basic string


def config(tmp_path: Path, text: str, name: str = "losscli.toml") -> Path:
    return write(tmp_path / name, text.replace("HOUSES", toml_path(HOUSES)))


def test_check_runs_every_check_of_the_sample_config(capsys):
    outcome = run(capsys, "check", "--config", SAMPLE_CONFIG, "-f", "json")
    assert (outcome.code, outcome.err) == (0, "")
    document = json.loads(outcome.out)
    assert document["passed"] is True and document["config"] == str(SAMPLE_CONFIG)
    assert [report["name"] for report in document["reports"]] == ["house_prices", "demand", "churn"]
    total = sum(len(report["checks"]) for report in document["reports"])
    assert document["summary"] == {"passed": total, "failed": 0, "skipped": 0}
    houses = document["reports"][0]
    assert houses["inputs"]["files"] == [str(HOUSES)]
    assert {(c["label"], c["kind"]) for c in houses["checks"]} >= {
        ("r2", "min"),
        ("mse", "baseline"),
    }


def test_check_runs_the_named_checks_in_the_order_given(capsys):
    outcome = run(capsys, "check", "--config", SAMPLE_CONFIG, "-f", "json", "churn", "demand")
    assert [r["name"] for r in json.loads(outcome.out)["reports"]] == ["churn", "demand"]


def test_check_an_unknown_name_suggests_the_nearest(capsys):
    outcome = run(capsys, "check", "--config", SAMPLE_CONFIG, "chrun")
    assert_user_error(outcome, "no check named 'chrun'", "Did you mean 'churn'?", "house_prices")


SEVERAL = """
[checks.good]
files = HOUSES
loss = ["mse", "r2"]
min = { r2 = 0.9 }

[checks.bad]
files = [HOUSES]
loss = "mse,huber:delta=10"
max = { mse = 1000, "huber:delta=10" = 250 }

[checks.also_good]
files = HOUSES
loss = "mae"
max = { mae = 100 }
"""


def test_check_with_one_failing_check_exits_1_and_names_it(tmp_path, capsys):
    path = config(tmp_path, SEVERAL)
    outcome = run(capsys, "check", "--config", path, "-f", "json")
    assert outcome.code == 1
    document = json.loads(outcome.out)
    assert document["passed"] is False
    assert {r["name"]: r["passed"] for r in document["reports"]} == {
        "good": True,
        "bad": False,
        "also_good": True,
    }
    assert document["summary"] == {"passed": 3, "failed": 1, "skipped": 0}
    assert (
        outcome.err
        == f"check failed: bad: mse = {MSE:.6g} is above the max 1000 by {MSE - 1000:.6g}\n"
    )
    assert run(capsys, "check", "--config", path, "good", "also_good").code == 0


def test_check_markdown_marks_each_named_check(tmp_path, capsys):
    outcome = run(capsys, "check", "--config", config(tmp_path, SEVERAL), "-f", "markdown")
    assert outcome.code == 1
    lines = outcome.out.splitlines()
    assert lines[0] == "### ❌ losscli check: 1 of 4 checks failed"
    assert [line for line in lines if line.startswith("#### ")] == [
        "#### ✅ good",
        "#### ❌ bad",
        "#### ✅ also_good",
    ]
    assert f"| ❌ fail | `mse` | max | 1000 | {MSE:.6g} | {1000 - MSE:+.6g} |" in lines


def test_check_github_names_the_check_in_each_command(tmp_path, capsys):
    outcome = run(capsys, "check", "--config", config(tmp_path, SEVERAL), "-f", "github")
    assert outcome.code == 1
    lines = outcome.out.splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert commands == [
        f"::error title=losscli bad%3A mse max::bad: mse = {MSE:.6g} is above the max 1000 by "
        f"{MSE - 1000:.6g}"
    ]
    assert f"good: r2 = {R2:.6g} (higher is better, n=200)" in lines
    assert lines[-1] == "losscli check: 1 of 4 checks failed"


def test_check_table_shows_each_check_and_the_verdict(tmp_path, capsys):
    outcome = run(capsys, "check", "--config", config(tmp_path, SEVERAL), "-f", "table")
    assert outcome.code == 1
    assert "good: passed" in outcome.out and "bad: failed" in outcome.out
    assert outcome.out.rstrip().endswith("losscli check: 1 of 4 checks failed")


def test_check_finds_losscli_toml_before_pyproject_in_the_current_directory(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    pyproject = '[project]\nname = "x"\n\n[tool.losscli.checks.from_pyproject]\n'
    pyproject += 'files = HOUSES\nloss = "mse"\nmax = { mse = 2000 }\n'
    config(tmp_path, pyproject, "pyproject.toml")
    names = lambda: [r["name"] for r in json.loads(run(capsys, "check").out)["reports"]]  # noqa: E731
    assert names() == ["from_pyproject"]
    config(tmp_path, '[checks.from_losscli]\nfiles = HOUSES\nloss = "mse"\nmax = { mse = 2000 }\n')
    assert names() == ["from_losscli"]


def test_check_without_a_config_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert_user_error(run(capsys, "check"), "No losscli.toml", "--config PATH")
    missing = run(capsys, "check", "--config", tmp_path / "nothere.toml")
    assert_user_error(missing, "Cannot read the configuration", "nothere.toml")


def test_check_paths_are_relative_to_the_config_file(tmp_path, capsys):
    directory = tmp_path / "ci"
    directory.mkdir()
    (directory / "preds.csv").write_text("pred,target\n1,1.5\n2,2\n3,5\n")  # errors 0.5, 0, 2
    (directory / "base.json").write_text(
        json.dumps(
            {
                "version": "0.1.0",
                "results": [
                    {"label": "mae", "loss": "mae", "params": {"reduction": "mean"}, "value": 0.8}
                ],
            }
        )
    )
    text = '[checks.small]\nfiles = "preds.csv"\nloss = "mae"\nbaseline = "base.json"\n'
    path = write(directory / "losscli.toml", text + "tolerance = 0.05\n")
    document = json.loads(run(capsys, "check", "--config", path, "-f", "json").out)
    (check,) = document["reports"][0]["checks"]
    assert check["value"] == pytest.approx(2.5 / 3) and check["threshold"] == pytest.approx(0.85)
    assert check["passed"] is True
    write(directory / "losscli.toml", text + "tolerance = 0.01\n")
    assert run(capsys, "check", "--config", path).code == 1


def test_check_an_input_error_names_the_check(tmp_path, capsys):
    text = '[checks.broken]\nfiles = "missing.csv"\nloss = "mse"\nmax = { mse = 1 }\n'
    outcome = run(capsys, "check", "--config", config(tmp_path, text))
    assert_user_error(outcome, "check broken: ", "missing.csv")


GOOD = '[checks.houses]\nfiles = HOUSES\nloss = ["mse", "huber:delta=10"]\n'


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            GOOD + "max = { mse = 1 }\ntolerence = 1\n",
            [":5: checks.houses.tolerence: is not a known key", "Did you mean 'tolerance'?"],
        ),
        (
            GOOD + 'max = { mse = "1" }\n',
            [':4: checks.houses.max.mse: must be a finite number, not "1"'],
        ),
        (
            GOOD + 'max = { mse = 1, "huber:delta=2" = 3 }\n',
            [
                ':4: checks.houses.max."huber:delta=2": no requested loss has this label',
                "The labels are: mse, huber:delta=10.",
            ],
        ),
        (
            GOOD + "\n[checks.houses.min]\nmse = 1\nmae = 2\n",
            [":7: checks.houses.min.mae: no requested loss"],
        ),
        (
            GOOD.replace('"mse"', '"mse:delt=2"') + "max = { mse = 1 }\n",
            [":3: checks.houses.loss: mse has no parameter 'delt'"],
        ),
        (GOOD + "max = 3\n", [":4: checks.houses.max: must be a table"]),
        (
            '[checks.houses]\nloss = "mse"\nmax = { mse = 1 }\n',
            [":1: checks.houses: has no 'files'"],
        ),
        (GOOD, [":1: checks.houses: checks nothing: give max, min or baseline"]),
        (
            GOOD + 'max = { mse = 1 }\ntolerance = "2%"\n',
            [":5: checks.houses.tolerance: applies to a baseline"],
        ),
        (
            GOOD + 'baseline = "none.json"\n',
            [":4: checks.houses.baseline: Cannot read the baseline"],
        ),
        (
            GOOD + 'baseline = "b.json"\ntolerance = "2 %%"\n',
            [":5: checks.houses.tolerance: '2 %%' is not a tolerance"],
        ),
        (
            GOOD + 'baseline = "b.json"\ntolerance = { default = "2%", mae = 1 }\n',
            [":5: checks.houses.tolerance.mae: no requested loss"],
        ),
        (
            GOOD + "max = { mse = 1 }\nallow_missing = 1\n",
            [":5: checks.houses.allow_missing: must be true or false"],
        ),
        (
            GOOD + "max = { mse = 1 }\ncolumns = { var = 2 }\n",
            [":5: checks.houses.columns: must be a table of roles"],
        ),
        (GOOD + 'max = { mse = 1 }\npred = ["a"]\n', [":5: checks.houses.pred: must be a string"]),
        ("[check.houses]\n", [":1: check: is not a known key", "Did you mean 'checks'?"]),
        ("[checks]\n", [":1: checks: declares no checks"]),
        ("checks = 3\n", [":1: checks: declares no checks"]),
        ("[checks]\nhouses = 3\n", [":2: checks.houses: is not a table"]),
        (GOOD + "max = { mse = 1\n", ["losscli.toml: not valid TOML", "line 4"]),
    ],
    ids=lambda value: value[0] if isinstance(value, list) else None,
)
def test_check_config_errors_name_the_key_and_its_line(tmp_path, capsys, text, fragments):
    write(tmp_path / "b.json", json.dumps(REPORT.to_dict()))
    outcome = run(capsys, "check", "--config", config(tmp_path, text))
    assert_user_error(outcome, f"{tmp_path / 'losscli.toml'}", *fragments)


def test_check_config_errors_in_pyproject_count_its_lines(tmp_path, capsys):
    text = '[project]\nname = "x"\n\n[tool.losscli.checks.houses]\nfiles = HOUSES\nloss = "mse"\n'
    path = config(tmp_path, text + "max = { mse = 1 }\nbasline = 1\n", "pyproject.toml")
    outcome = run(capsys, "check", "--config", path)
    assert_user_error(outcome, "pyproject.toml:8: tool.losscli.checks.houses.basline", "'baseline'")
    no_section = config(tmp_path, '[project]\nname = "x"\n', "pyproject.toml")
    assert_user_error(run(capsys, "check", "--config", no_section), "no [tool.losscli] table")


def test_check_rejects_csv_output(capsys):
    outcome = run(capsys, "check", "--config", SAMPLE_CONFIG, "-f", "csv")
    assert_user_error(outcome, "--format csv is unknown for check", "markdown, github")


@pytest.mark.parametrize(
    ("keys", "line"),
    [
        (("checks", "a"), 2),
        (("checks", "a", "max"), 4),
        (("checks", "a", "max", "mse"), 4),
        (("checks", "a", "max", "huber:delta=2"), 4),
        (("checks", "a", "tolerance"), 5),
        (("checks", "b", "min", "r2"), 9),
        (("checks", "b", "files"), 7),
        (("checks", "c", "loss"), 11),
        (("checks", "c", "nothing"), 10),
        (("elsewhere",), 1),
    ],
)
def test_key_line_finds_headers_assignments_and_inline_keys(keys, line):
    from losscli.config import key_line

    text = (
        "# comment\n"
        "[checks.a]\n"
        'files = "x"\n'
        'max = { mse = 1, "huber:delta=2" = 2 }\n'
        "tolerance = '2%'\n"
        '[ checks . "b" ]\n'
        'files = ["a",\n  "b"]\n'
        "min.r2 = 0.5\n"
        "[checks.c]  # trailing\n"
        'loss = "mse"\n'
    )
    assert key_line(text, keys) == line


def test_help_shows_the_check_command_and_options(capsys):
    root = run(capsys, "--help").out
    assert re.search(r"^\s+check\s+Run the checks declared in losscli.toml", root, re.MULTILINE)
    check = run(capsys, "check", "--help")
    assert check.code == 0 and "[NAME]..." in check.out and "--config PATH" in check.out
    out = run(capsys, "eval", "--help").out
    for shown in ("--max LABEL=VALUE", "--min LABEL=VALUE", "--baseline FILE", "--allow-missing"):
        assert shown in out


def test_the_readme_shows_the_sample_config_and_its_real_output(capsys):
    readme = (ROOT / "README.md").read_text()
    assert f"```toml\n{SAMPLE_CONFIG.read_text()}```" in readme
    command = "check --config sample_data/losscli.toml --format markdown house_prices"
    shown = readme.split(f"$ losscli {command}\n", 1)[1].split("$ echo $?\n", 1)[0]
    outcome = run(capsys, *command.replace("sample_data", str(SAMPLE_DATA)).split())
    assert outcome.out.replace(str(ROOT) + "/", "") == shown
