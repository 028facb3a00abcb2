"""Odd corners of the trust contract: a Python caller's wrong argument types, a compare whose
difference is undefined, and an internal error's text."""

from __future__ import annotations

import numpy as np
import pytest

import losscli
from losscli.errors import UsageError
from losscli.losses.registry import LossDef
from tests.conftest import assert_user_error, run

DATA = {"pred": np.array([1.0, 2.0]), "target": np.array([1.0, 3.0])}


@pytest.mark.parametrize(
    ("option", "shown"),
    [
        ({"chunk_rows": "10"}, "chunk_rows='10' is not a whole number"),
        ({"chunk_rows": 2.5}, "chunk_rows=2.5 is not a whole number"),
        ({"bootstrap": 100.0}, "bootstrap=100.0 is not a whole number"),
        ({"seed": None}, "seed=None is not a whole number"),
        ({"worst": True}, "worst=True is not a whole number"),
        ({"ci": "0.9"}, "'0.9' is not a confidence level"),
        ({"nan": None}, "None is not a policy"),
    ],
)
def test_a_python_caller_gets_a_usage_error_for_a_wrong_type(option, shown):
    """chunk_rows="10" ended in a TypeError from a comparison deep inside."""
    with pytest.raises(UsageError, match=shown.replace("(", r"\(").replace(")", r"\)")):
        losscli.evaluate(DATA, "mse", **option)


def test_compare_fails_a_gate_when_a_difference_is_undefined(tmp_path, capsys, monkeypatch):
    """Both models infinite: the difference is NaN, the JSON says passed false: the gate fails."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.csv").write_text("pred,target\ninf,0\n1,0\n")
    (tmp_path / "b.csv").write_text("pred,target\ninf,0\n2,0\n")
    outcome = run(capsys, "compare", "a.csv", "b.csv", "-l", "mse", "--fail-if-worse", "-f", "json")
    assert outcome.code == 1
    assert '"passed": false' in outcome.out
    assert "undefined (NaN) on mse" in outcome.err
    outcome = run(capsys, "compare", "a.csv", "b.csv", "-l", "mse", "-f", "json")
    assert outcome.code == 0  # without the gate, the report alone


def test_an_internal_error_does_not_echo_control_characters(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LOSSCLI_DEBUG", raising=False)

    def broken(self, inputs, params, shared=None):
        raise RuntimeError("bad \x1b[31mred\r\n" + "x" * 1000)

    monkeypatch.setattr(LossDef, "compute", broken)
    (tmp_path / "p.csv").write_text("pred,target\n1,2\n")
    outcome = run(capsys, "eval", "-l", "mse", tmp_path / "p.csv")
    assert outcome.code == 3
    assert "\x1b" not in outcome.err and "\r" not in outcome.err
    assert "bad \\x1b[31mred\\r\\n" in outcome.err
    assert len(outcome.err.splitlines()) == 2
    assert len(outcome.err.splitlines()[0]) < 400


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["--bootstrap", "500"], "--bootstrap sets how many replicates --ci draws"),
        (["--ci", "0.9", "--bootstrap", "1000000000000"], "--bootstrap 1000000000000 is more"),
    ],
)
def test_bootstrap_without_ci_or_beyond_reason_is_refused(tmp_path, capsys, args, shown):
    """--bootstrap without --ci was ignored; 10^12 replicates ran for hours."""
    (tmp_path / "p.csv").write_text("pred,target\n1,2\n3,3\n")
    outcome = run(capsys, "eval", "-l", "r2", tmp_path / "p.csv", *args)
    assert_user_error(outcome, shown)
