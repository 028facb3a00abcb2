"""Checks: --max/--min thresholds, --baseline with tolerances, `losscli check` and CI formats.

Thresholds are set a little above or below the values losscli computes for sample_data, so every
test holds on its own numbers; the few worked values say where they come from.
"""

from __future__ import annotations

import json
import math

import pytest

import losscli
from losscli.errors import InputError, UsageError
from losscli.report.checks import Check, parse_tolerance
from tests.test_cli import ROOT, write

HOUSES = str(ROOT / "sample_data" / "house_prices.csv")
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
    checked = report.check(max={"mse": 1e9}, min={"mse": -1e9}, baseline=REPORT)
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
        path = write(tmp_path, "baseline.json", text)
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
