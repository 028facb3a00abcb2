"""Results for the tools users already have: trackers' metrics, JUnit for CI, reports in files.

Metric keys are checked against the rules of the trackers that read them: MLflow's own validator
(``mlflow.utils.validation._validate_metric_name``) and, written out from its documentation, the
name rule MLflow states (letters, digits, ``_ - . / :`` and spaces, a plain relative path); DVC
reads any JSON whose leaves are numbers and shows a flat key as it is.
"""

from __future__ import annotations

import json
import math
import os
import posixpath
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import losscli
from losscli.report.metrics import metric_key
from tests.conftest import CANDIDATE, HOUSES, SIMPLE, assert_user_error, run, write

# MLflow's documented metric name rule ("Names may only contain alphanumerics, underscores (_),
# dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)"), and its path rule: the name
# is a normalised relative path (no '', '.' or '..' part, no leading '/').
MLFLOW_NAME = re.compile(r"^[/\w.\- :]*$")
# The keys losscli promises: a subset of both trackers' rules.
OUR_KEY = re.compile(r"^[A-Za-z0-9_./ -]+$")


def mlflow_accepts(name: str) -> bool:
    norm = posixpath.normpath(name)
    documented = (
        bool(MLFLOW_NAME.match(name))
        and norm == name
        and norm != "."
        and not norm.startswith(("..", "/"))
    )
    from mlflow.exceptions import MlflowException
    from mlflow.utils.validation import _validate_metric_name

    try:
        _validate_metric_name(name)
        validator = True
    except MlflowException:
        validator = False
    assert documented == validator, name  # the documented rule is the validator's
    return validator


def dvc_accepts(document: dict) -> bool:
    """DVC flattens nested objects with '.'; a flat object of numbers (or null) is shown as is."""
    return all(
        isinstance(key, str) and (value is None or isinstance(value, (int, float)))
        for key, value in document.items()
    )


def test_the_mlflow_rule_written_here_is_mlflows_own():
    for name in ["mse", "by/region/eu/mse", "a b", "x:y", "../x", "a//b", "/a", ".", "a/./b", "é"]:
        mlflow_accepts(name)
    assert not mlflow_accepts("huber=10") and mlflow_accepts("huber_delta_10")


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("mse", "mse"),
        ("huber:delta=10", "huber_delta_10"),
        ("huber:delta=0.5", "huber_delta_0.5"),
        ("ce:weight=[1,2,0.5],label_smoothing=0.1", "ce_weight_1_2_0.5_label_smoothing_0.1"),
        ("pinball:alpha=0.9", "pinball_alpha_0.9"),
        ("..", "__"),
        ("", "empty"),
        ("a/b", "a_b"),
    ],
)
def test_labels_become_keys_both_trackers_accept(label, key):
    assert metric_key(label) == key
    assert OUR_KEY.match(key) and mlflow_accepts(key)


def test_metrics_of_eval_are_the_json_values_under_tracker_keys(capsys, tmp_path):
    data = write(tmp_path / "groups.csv", "pred,target,region\n1,1.5,eu\n2,2,us/east\n3,5,eu\n")
    outcome = run(
        capsys, "eval", "-l", "mse,huber:delta=0.5", "--by", "region", "-f", "metrics", data
    )
    assert outcome.code == 0, outcome.err
    metrics = json.loads(outcome.out)
    # by hand: errors 0.5, 0, 2; eu rows 0.5 and 2, us/east row 0.
    assert metrics == {
        "mse": pytest.approx((0.25 + 0 + 4) / 3),
        "huber_delta_0.5": pytest.approx((0.125 + 0 + 0.5 * (2 - 0.25)) / 3),
        "by/region/eu/mse": pytest.approx((0.25 + 4) / 2),
        "by/region/eu/huber_delta_0.5": pytest.approx((0.125 + 0.875) / 2),
        "by/region/us_east/mse": 0.0,
        "by/region/us_east/huber_delta_0.5": 0.0,
    }
    assert dvc_accepts(metrics)
    assert all(OUR_KEY.match(key) and mlflow_accepts(key) for key in metrics)


def test_metrics_of_awkward_group_values_stay_valid_paths():
    values = ["..", ".", "", "a/b", " x ", "ü", None, "tab\there"]
    data = {"pred": np.arange(8.0), "target": np.zeros(8), "g": values}
    report = losscli.evaluate(data, "mae", by="g")
    metrics = json.loads(report.render("metrics"))
    assert len(metrics) == 1 + len(values)
    assert all(OUR_KEY.match(key) and mlflow_accepts(key) for key in metrics)
    assert metrics["by/g/null/mae"] == 6.0


def test_two_results_with_one_key_are_refused_not_merged():
    data = {"pred": [1.0, 2.0], "target": [0.0, 0.0], "g": ["a:b", "a=b"]}
    report = losscli.evaluate(data, "mae", by="g")
    with pytest.raises(losscli.errors.UsageError, match="both become the metric 'by/g/a_b/mae'"):
        report.render("metrics")


def test_a_nan_metric_is_null(capsys, tmp_path):
    data = write(tmp_path / "nan.csv", "pred,target\n1,1\nnan,2\n")
    outcome = run(capsys, "eval", "-l", "mse", "--nan", "propagate", "-f", "metrics", data)
    assert outcome.code == 0 and json.loads(outcome.out) == {"mse": None}


def test_metrics_of_intervals_compare_and_check(capsys, tmp_path):
    report = losscli.evaluate(str(HOUSES), "mse", ci=0.9)
    metrics = json.loads(report.render("metrics"))
    assert metrics["mse_ci_low"] == report.overall[0].ci["low"]
    comparison = losscli.compare(str(HOUSES), str(CANDIDATE), "mse,r2")
    metrics = json.loads(comparison.render("metrics"))
    for entry in comparison.to_dict()["comparisons"]:
        assert metrics[f"difference/{entry['loss']}"] == entry["difference"]
        assert metrics[f"baseline/{entry['loss']}"] == entry["baseline"]
    config = write(
        tmp_path / "losscli.toml",
        f'[checks.houses]\nfiles = ["{HOUSES}"]\nloss = ["mse", "huber:delta=10"]\n'
        "max = { mse = 2000 }\n",
    )
    outcome = run(capsys, "check", "--config", config, "-f", "metrics")
    assert set(json.loads(outcome.out)) == {"houses/mse", "houses/huber_delta_10"}


# -- JUnit ----------------------------------------------------------------------------------------


def junit_cases(text: str) -> dict[str, ET.Element]:
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    cases = {case.get("name"): case for case in root.iter("testcase")}
    failures = sum(case.find("failure") is not None for case in cases.values())
    assert int(root.get("tests")) == len(cases) and int(root.get("failures")) == failures
    for suite in root.iter("testsuite"):
        assert int(suite.get("tests")) == len(suite.findall("testcase"))
    return cases


def test_junit_of_eval_gates_has_a_failure_per_failed_check(capsys):
    outcome = run(
        capsys,
        "eval",
        "-l",
        "mse,r2",
        "--max",
        "mse=1000",
        "--min",
        "r2=0.9",
        "-f",
        "junit",
        HOUSES,
    )
    assert outcome.code == 1
    cases = junit_cases(outcome.out)
    assert set(cases) == {"mse max", "r2 min"}
    failure = cases["mse max"].find("failure")
    assert failure is not None and "above the max 1000" in failure.get("message")
    assert cases["r2 min"].find("failure") is None
    assert "check failed: mse" in outcome.err


def test_junit_of_a_baseline_with_a_missing_loss_skips_it(capsys, tmp_path):
    base = tmp_path / "base.json"
    base.write_text(losscli.evaluate(str(HOUSES), "mse").render("json"))
    outcome = run(
        capsys,
        "eval",
        "-l",
        "mse,mae",
        "--baseline",
        base,
        "--allow-missing",
        "-f",
        "junit",
        HOUSES,
    )
    cases = junit_cases(outcome.out)
    assert outcome.code == 0
    skipped = [name for name, case in cases.items() if case.find("skipped") is not None]
    assert len(skipped) == 1 and skipped[0].startswith("mae")


def test_junit_of_check_is_a_suite_per_named_check(capsys, tmp_path):
    config = write(
        tmp_path / "losscli.toml",
        f'[checks.good]\nfiles = ["{HOUSES}"]\nloss = ["mse"]\nmax = {{ mse = 2000 }}\n'
        f'[checks.bad]\nfiles = ["{HOUSES}"]\nloss = ["r2"]\nmin = {{ r2 = 0.99 }}\n',
    )
    outcome = run(capsys, "check", "--config", config, "-f", "junit")
    assert outcome.code == 1
    root = ET.fromstring(outcome.out)
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert set(suites) == {"good", "bad"}
    assert suites["bad"].get("failures") == "1" and suites["good"].get("failures") == "0"


def test_junit_of_compare_fails_a_worse_loss(capsys):
    outcome = run(
        capsys, "compare", "-l", "mse", "--fail-if-worse", "-f", "junit", HOUSES, CANDIDATE
    )
    comparison = losscli.compare(str(HOUSES), str(CANDIDATE), "mse")
    cases = junit_cases(outcome.out)
    worse = comparison.worse == ["mse"]
    assert (cases["mse: candidate not worse"].find("failure") is not None) == worse
    assert outcome.code == (1 if worse else 0)


def test_junit_without_a_check_is_refused(capsys):
    assert_user_error(run(capsys, "eval", "-l", "mse", "-f", "junit", HOUSES), "no check")


def test_junit_text_that_xml_cannot_hold_is_replaced():
    from losscli.report.junit import Case, Suite, junit_text

    text = junit_text([Suite("s", [Case("a\x01<b>&", "c", failure='"\x1b')])], "n")
    case = ET.fromstring(text).find("testsuite/testcase")
    assert case.get("name") == "a\ufffd<b>&" and case.find("failure").text == '"\ufffd'


# -- -o/--output ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("report.json", lambda text: json.loads(text)["results"][0]["label"] == "mse"),
        ("report.csv", lambda text: text.startswith("label,loss,params,value")),
        ("report.md", lambda text: text.startswith("| loss | value |")),
        ("report.txt", lambda text: "mse" in text and "\x1b" not in text),
    ],
)
def test_output_takes_its_format_from_the_extension(capsys, tmp_path, name, check):
    data = write(tmp_path / "in.csv", SIMPLE)
    outcome = run(capsys, "eval", "-l", "mse", data, "-o", tmp_path / name)
    assert outcome.code == 0 and outcome.out == ""
    assert check((tmp_path / name).read_text())


def test_output_with_a_format_writes_that_format(capsys, tmp_path):
    data = write(tmp_path / "in.csv", SIMPLE)
    target = tmp_path / "metrics.json"
    assert run(capsys, "eval", "-l", "mse", data, "-f", "metrics", "-o", target).code == 0
    assert json.loads(target.read_text()) == {"mse": pytest.approx((0.25 + 4) / 3)}
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    junit = tmp_path / "compare.xml"
    assert run(capsys, "compare", "-l", "mse", HOUSES, HOUSES, "-o", junit).code == 0
    assert junit_cases(junit.read_text())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-o", "{data}"], ["-o", "would overwrite the input"]),
        (["-o", "{dir}/"], ["ends in '/'"]),
        (["-o", "{dir}"], ["is a directory"]),
        (["-o", "{dir}/missing/r.json"], ["does not exist"]),
        (["-o", "{dir}/r.yaml"], ["'.yaml' names no report format", "--format"]),
        (["-o", "{dir}/r.csv", "--per-row", "{dir}/r.csv"], ["--per-row", "-o"]),
    ],
)
def test_output_is_refused_before_anything_is_read(capsys, tmp_path, args, words):
    data = write(tmp_path / "in.csv", SIMPLE)
    before = data.read_text()
    filled = [arg.format(data=data, dir=tmp_path) for arg in args]
    assert_user_error(run(capsys, "eval", "-l", "mse", data, *filled), *words)
    assert data.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_a_failed_run_leaves_the_output_file_as_it_was(capsys, tmp_path):
    data = write(tmp_path / "in.csv", "pred,target\n1,1\n2,x\n")
    target = write(tmp_path / "old.json", "{}")
    assert_user_error(run(capsys, "eval", "-l", "mse", data, "-o", target), "'x'")
    assert target.read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "old.json"]


def test_output_of_check_is_never_its_input(capsys, tmp_path):
    data = write(tmp_path / "in.csv", SIMPLE)
    config = write(
        tmp_path / "losscli.toml",
        '[checks.a]\nfiles = ["in.csv"]\nloss = ["mse"]\nmax = { mse = 9 }\n',
    )
    assert_user_error(
        run(capsys, "check", "--config", config, "-o", data), "would overwrite the input"
    )
    assert data.read_text() == SIMPLE
    out = tmp_path / "out.json"
    assert run(capsys, "check", "--config", config, "-o", out).code == 0
    assert math.isclose(
        json.loads(out.read_text())["reports"][0]["results"][0]["value"], (0.25 + 4) / 3
    )


def test_the_report_file_is_replaced_not_appended(capsys, tmp_path):
    data = write(tmp_path / "in.csv", SIMPLE)
    target = write(tmp_path / "r.json", "x" * 10_000)
    assert run(capsys, "eval", "-l", "mse", data, "-o", target).code == 0
    assert json.loads(Path(target).read_text())["results"][0]["loss"] == "mse"
