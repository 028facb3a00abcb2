"""``--compat LIBRARY``: each library's own names, keywords and numbers.

Every case of ``tests/reference/compat.json`` was computed by running the library itself
(``generate_compat.py``); here it is evaluated through ``losscli.evaluate(..., compat=...)`` and
held to 1e-9 relative (Keras, which computes in float32, to 1e-6).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import losscli
from losscli.compat import LIBRARIES, profile
from losscli.errors import LossCliError, UsageError
from losscli.losses.registry import format_value
from tests.conftest import COMPAT_CASES, close, run

TOLERANCE = {"keras": 1e-6}
# Library functions that compute in float32 whatever they are given.
FLOAT32 = {("torchmetrics", "cosine_similarity")}
ROLES = ("pred", "target")


def spec_of(case: dict) -> str:
    params = ",".join(f"{k}={format_value(v)}" for k, v in case["params"].items())
    return case["loss"] + (f":{params}" if params else "")


def value_of(case: dict, chunk_rows: int = 1 << 17) -> float:
    inputs = {role: np.asarray(values, dtype=float) for role, values in case["inputs"].items()}
    data = dict(inputs)
    if case["weight"] is not None:
        data["w"] = np.asarray(case["weight"])
    others = {role: role for role in inputs if role not in ROLES}
    report = losscli.evaluate(
        data,
        spec_of(case),
        pred="pred" if "pred" in inputs else None,
        target="target" if "target" in inputs else None,
        weight="w" if case["weight"] is not None else None,
        columns=others or None,
        chunk_rows=chunk_rows,
        compat=case["compat"],
    )
    return report.overall[0].value


@pytest.mark.parametrize("case", COMPAT_CASES, ids=[case["id"] for case in COMPAT_CASES])
def test_library_value(case):
    rel = TOLERANCE.get(case["compat"], 1e-9)
    if (case["compat"], case["loss"]) in FLOAT32:
        rel = 1e-6
    actual = value_of(case)
    assert close(actual, case["expected"], rel=rel, abs_tol=rel * 1e-3), (actual, case["source"])


@pytest.mark.parametrize("case", COMPAT_CASES[::7], ids=[c["id"] for c in COMPAT_CASES[::7]])
def test_library_value_does_not_depend_on_chunks(case):
    assert close(value_of(case, chunk_rows=3), value_of(case), rel=1e-12)


def test_every_library_has_forty_cases_and_every_entry_is_exercised():
    for library in LIBRARIES:
        cases = [case for case in COMPAT_CASES if case["compat"] == library]
        assert len(cases) >= 40, library
        found = {profile(library).find(case["loss"])[0] for case in cases}
        assert found == set(profile(library).entries), library


def test_cli_compat_gives_the_library_number(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("pred,target\n0,1\n1,1\n0.5,0\n")
    outcome = run(
        capsys, "eval", "--compat", "keras", "-l", "binary_crossentropy", str(path), "-f", "json"
    )
    assert outcome.code == 0, outcome.err
    result = json.loads(outcome.out)["results"][0]
    expected = -(math.log(1e-7) + math.log(0.9999998807907104) + math.log(0.5)) / 3
    assert result["label"] == "binary_crossentropy" and result["loss"] == "bce"
    assert math.isclose(result["value"], expected, rel_tol=1e-12)


def test_library_name_without_compat_is_a_one_line_hint(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("pred,target\n0,1\n")
    outcome = run(capsys, "eval", "-l", "mean_squared_logarithmic_error", str(path))
    assert outcome.code == 2
    assert "Keras's name: add --compat keras, or use msle" in outcome.err
    assert "Traceback" not in outcome.err


def test_a_library_function_without_equivalent_is_refused_in_one_line(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("pred,target\n0,1\n")
    outcome = run(capsys, "eval", "--compat", "torch", "-l", "ctc_loss", str(path))
    assert outcome.code == 2
    assert "ctc_loss has no losscli equivalent: it aligns" in outcome.err
    outcome = run(capsys, "eval", "-l", "ctc_loss", str(path))
    assert outcome.code == 2 and "no losscli equivalent" in outcome.err


@pytest.mark.parametrize(
    ("library", "spec", "message"),
    [
        ("keras", "bce", "not a Keras loss name (losscli's own bce: leave out"),
        ("torch", "huber_loss:beta=2", "has no keyword 'beta'"),
        ("torch", "l1_loss:reduction=none", "write them with per_row PATH"),
        ("keras", "huber:reduction=avg", "reduction=avg is out of range"),
        ("tensorflow", "mse", "is not a library losscli has a profile of"),
        ("keras", "dice:reduction=sum", "Dice x sum(w) with them"),
        ("keras", "binary_focal_crossentropy:axis=0", "Use axis=-1, 1"),
    ],
)
def test_bad_compat_requests_are_usage_errors(library, spec, message):
    with pytest.raises(UsageError, match=None) as error:
        losscli.evaluate({"pred": [1.0], "target": [0.0]}, spec, compat=library)
    assert message in str(error.value)


def test_compute_takes_library_keywords():
    p, t = np.array([0.0, 3.0]), np.array([1.0, 0.0])
    assert losscli.compute("huber_loss", p, t, compat="torch", delta=2.0) == pytest.approx(
        (0.5 + 2 * (3 - 1)) / 2
    )


def test_keras_weights_divide_by_rows_and_mean_with_sample_weight_by_their_sum():
    data = {"pred": [1.0, 3.0], "target": [0.0, 0.0], "w": [1.0, 0.0]}
    over_rows = losscli.evaluate(data, "mean_squared_error", weight="w", compat="keras")
    by_weight = losscli.evaluate(
        data, "mean_squared_error:reduction=mean_with_sample_weight", weight="w", compat="keras"
    )
    assert over_rows.overall[0].value == 0.5
    assert by_weight.overall[0].value == 1.0


def test_every_profile_entry_names_a_registered_loss_and_parameters():
    for library in LIBRARIES:
        for name, entry in profile(library).entries.items():
            assert entry.rule, name
            assert entry.spec_text()


def test_a_check_in_losscli_toml_takes_compat(tmp_path, capsys):
    (tmp_path / "p.csv").write_text("pred,target\n110,100\n45,50\n")
    (tmp_path / "losscli.toml").write_text(
        '[checks.percent]\nfiles = "p.csv"\nloss = "mape"\ncompat = "keras"\n'
        "max = { mape = 11 }\n"
        '[checks.plain]\nfiles = "p.csv"\nloss = "mean_absolute_error"\n'
        "max = { mean_absolute_error = 8 }\n"
    )
    run_ = losscli.check(config=tmp_path / "losscli.toml", compat="sklearn")
    assert run_.reports["percent"].overall[0].value == pytest.approx(10.0)
    assert run_.reports["plain"].overall[0].value == pytest.approx(7.5)
    outcome = run(capsys, "check", "--config", tmp_path / "losscli.toml", "-f", "json")
    assert outcome.code == 2 and "mean_absolute_error" in outcome.err and "--compat" in outcome.err


def test_list_and_describe_show_the_profile(capsys):
    outcome = run(capsys, "list", "--compat", "keras", "-f", "json")
    rows = {row["name"]: row for row in json.loads(outcome.out)}
    assert rows["mean_absolute_percentage_error"]["losscli"].startswith("100 x mape:eps=1e-07")
    assert "MeanAbsolutePercentageError" in rows["mean_absolute_percentage_error"]["also"]
    assert rows["ctc"]["losscli"] is None
    outcome = run(capsys, "describe", "--compat", "sklearn", "log_loss")
    assert outcome.code == 0
    assert "clip=2.220446049250313e-16" in outcome.out and "losscli's own ce" in outcome.out


@pytest.mark.parametrize(
    "case",
    [c for c in COMPAT_CASES if c["loss"] in ("binary_hinge_loss", "multiclass_hinge_loss")],
    ids=lambda c: c["id"],
)
def test_torchmetrics_squash_rule_sees_the_whole_input_whatever_the_chunks(case):
    # One score outside [0, 1] in any chunk squashes every score of every chunk.
    assert close(value_of(case, chunk_rows=2), case["expected"], rel=1e-9)


def test_torchmetrics_hinge_refuses_what_it_would_misread():
    data = {"pred": [0.2, 0.7], "target": [-1.0, 1.0]}
    with pytest.raises(LossCliError, match="labels=zero_one"):
        losscli.evaluate(data, "binary_hinge_loss", compat="torchmetrics")
    data = {"pred": [0.2, 0.7], "target": [0.0, 1.0]}
    with pytest.raises(UsageError, match="ignore_index=255 is not one losscli computes"):
        losscli.evaluate(data, "binary_hinge_loss:ignore_index=255", compat="torchmetrics")


def test_torchmetrics_hinge_per_group_decides_the_squash_on_the_group_rows():
    data = {"pred": [0.2, 0.9, 3.0, -1.0], "target": [0.0, 1.0, 1.0, 0.0], "g": [1, 1, 2, 2]}
    report = losscli.evaluate(data, "binary_hinge_loss", compat="torchmetrics", by=["g"])
    values = {row.group["g"] if row.group else None: row.value for row in report.results}
    assert values[1] == pytest.approx((1.2 + 0.1) / 2, rel=1e-12)  # group 1's scores as given
    sigmoid = {s: 1 / (1 + math.exp(-s)) for s in (0.2, 0.9, 3.0, -1.0)}
    second = 1 - sigmoid[3.0] + 1 + sigmoid[-1.0]
    assert values[2] == pytest.approx(second / 2, rel=1e-12)
    whole = 1 + sigmoid[0.2] + 1 - sigmoid[0.9] + second  # the whole input has scores outside
    assert values[None] == pytest.approx(whole / 4, rel=1e-12)
