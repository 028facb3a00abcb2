"""The shape of the code: short functions, and merging only in the engine's table."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import losscli
from losscli.engine import tally
from losscli.errors import InputError

PACKAGE = Path(losscli.__file__).parent


def _functions():
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield path.relative_to(PACKAGE), node


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = node.body
    documented = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    first = body[1] if documented and len(body) > 1 else body[0]
    return (node.end_lineno or first.lineno) - first.lineno + 1


def test_no_function_body_is_over_70_lines():
    long = [f"{path}:{node.name} ({_body_lines(node)})" for path, node in _functions()]
    long = [
        entry for entry, (_, node) in zip(long, _functions(), strict=True) if _body_lines(node) > 70
    ]
    assert not long


def test_no_loss_writes_a_merge_of_its_own():
    merges = {str(path) for path, node in _functions() if node.name == "merge"}
    assert merges <= {"engine/table.py", "engine/tally.py"}


def test_too_many_groups_stop_with_the_limit_named(monkeypatch):
    monkeypatch.setattr(tally, "MAX_GROUPS", 50)
    data = {"pred": np.zeros(200), "target": np.ones(200), "user": np.arange(200.0)}
    with pytest.raises(InputError, match="more than 50 groups, the limit"):
        losscli.evaluate(data, "mse", by="user")


def test_the_text_of_checks_is_parsed_outside_the_report():
    from losscli import gates
    from losscli.report import checks

    for name in ("CheckOptions", "parse_assignments", "parse_tolerances"):
        assert hasattr(gates, name) and not hasattr(checks, name)


def test_a_python_caller_reads_python_names_in_a_check_error():
    report = losscli.evaluate({"pred": [1.0, 2.0], "target": [1.0, 1.0]}, "mse")
    with pytest.raises(Exception, match="^max mse=abc: the threshold") as raised:
        report.check(max={"mse": "abc"})
    assert "--" not in str(raised.value)


def test_the_python_api_stays_a_facade():
    """api.py only checks options, assembles the run and builds the report; reading, the cluster,
    dialects, labels and scoring live in their own modules."""
    lines = (PACKAGE / "api.py").read_text().count("\n")
    assert lines < 450, f"api.py has {lines} lines"
