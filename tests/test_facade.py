"""The Python facade: ``losscli.evaluate``, ``compare`` and ``check`` are the whole job, and the CLI
is a thin layer over them.

``losscli.check`` runs the checks a configuration declares (``losscli.config`` only reads it).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

import losscli
from losscli import api
from losscli.cli import flag_of
from losscli.errors import MAX_LINE, InputError, LossCliError, UsageError
from losscli.report.checkrun import CheckRun
from tests.conftest import ROOT, run, write

HOUSES = str(ROOT / "sample_data" / "house_prices.csv")
SAMPLE_CONFIG = ROOT / "sample_data" / "losscli.toml"
MSE = losscli.evaluate(HOUSES, "mse")["mse"]

SEVERAL = """
[checks.good]
files = HOUSES
loss = ["mse", "r2"]
min = { r2 = 0.9 }

[checks.bad]
files = [HOUSES]
loss = "mse"
max = { mse = 1000 }
"""


def config(directory: Path, text: str, name: str = "losscli.toml") -> Path:
    return write(directory / name, text.replace("HOUSES", json.dumps(HOUSES)))


# -- losscli.check ----------------------------------------------------------------------------


def test_check_is_part_of_the_public_api():
    assert losscli.check is api.check
    assert "check" in losscli.__all__ and "check" in api.__all__


def test_check_runs_every_check_of_a_config_in_its_order(tmp_path):
    run = losscli.check(config=config(tmp_path, SEVERAL))
    assert isinstance(run, CheckRun)
    assert run.config == str(tmp_path / "losscli.toml")
    assert list(run.reports) == ["good", "bad"]
    assert run.reports["bad"]["mse"] == MSE
    assert {name: report.passed for name, report in run.reports.items()} == {
        "good": True,
        "bad": False,
    }
    assert run.passed is False


def test_check_runs_the_named_checks_in_the_order_given():
    assert list(losscli.check(["churn", "demand"], config=SAMPLE_CONFIG).reports) == [
        "churn",
        "demand",
    ]
    alone = losscli.check("churn", config=str(SAMPLE_CONFIG))
    assert list(alone.reports) == ["churn"] and alone.passed is True


def test_check_finds_the_config_in_the_current_directory(tmp_path, monkeypatch):
    config(tmp_path, SEVERAL)
    monkeypatch.chdir(tmp_path)
    assert list(losscli.check("good").reports) == ["good"]


def test_check_an_unknown_name_is_a_usage_error_naming_the_nearest():
    with pytest.raises(UsageError, match="(?s)no check named 'chrun'.*Did you mean 'churn'"):
        losscli.check("chrun", config=SAMPLE_CONFIG)


def test_check_an_error_inside_a_check_names_the_check(tmp_path):
    path = config(tmp_path, SEVERAL.replace('loss = "mse"', 'loss = "mse"\npred = "nope"'))
    with pytest.raises(InputError, match="^check bad: Column 'nope'"):
        losscli.check(config=path)


def test_check_gives_the_same_document_as_the_command(capsys):
    outcome = run(capsys, "check", "--config", str(SAMPLE_CONFIG), "-f", "json")
    assert outcome.code == 0
    assert outcome.out == losscli.check(config=SAMPLE_CONFIG).render("json")


def test_the_check_command_runs_losscli_check(capsys, monkeypatch):
    calls = []
    real = api.check

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "check", spy)
    outcome = run(capsys, "check", "--config", str(SAMPLE_CONFIG), "-f", "json", "demand")
    assert outcome.code == 0
    assert calls == [((["demand"],), {"config": str(SAMPLE_CONFIG), "compat": None})]


def test_the_config_module_reads_checks_but_never_runs_them():
    source = (ROOT / "losscli" / "config.py").read_text()
    assert "losscli.api" not in source and "evaluate(" not in source


# -- the library names Python parameters; the CLI spells them as flags ------------------------

PRED, TARGET = [1.0, 2.0, 3.0], [1.5, 2.0, 2.5]
TABLE = {"pred": PRED, "target": TARGET}
# A flag as the command line writes it: --chunk-rows, -p, -t, -w (alone or in -p/-t/-w).
FLAG = re.compile(r"(?<![\w-])--[a-z]|(?<![\w-])-[ptw](?=[\s)/,'.]|$)")


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"chunk_rows": 0}, "chunk_rows 0 must be at least 1."),
        ({"nan": "skip"}, "Use nan error, drop or propagate."),
        ({"input_format": "xlsx"}, "input_format xlsx is unknown."),
        ({"pred": "prd"}, "Column 'prd' (for pred=) is not in <dict>."),
        ({"losses": "gaussian_nll"}, 'Name it with columns["var"]= COLUMN.'),
        ({"losses": "mse,,mae"}, "e.g. losses mse,mae"),
        ({"losses": "huber:delta=-1"}, "Example: losses huber:delta=1"),
        ({"on": "Id"}, "Add targets FILE (the ground truth), or leave out on."),
        ({"per_row": "x.txt"}, "per_row x.txt must end in .csv or .parquet."),
        ({"columns": {"anchor": "pred"}}, 'columns["anchor"]=pred: no loss of this run reads'),
        ({"losses": "bce"}, "(e.g. losses bce:input=logits)"),
        ({"ci": 1.5}, "ci 1.5 is not a confidence level."),
        ({"worst": -1}, "worst -1 must be at least 1."),
    ],
)
def test_evaluate_errors_name_python_parameters_not_flags(arguments, words):
    arguments = {"data": TABLE, "losses": "mse", **arguments}
    with pytest.raises(LossCliError) as raised:
        losscli.evaluate(**arguments)
    assert words in str(raised.value)
    assert not FLAG.search(str(raised.value)), str(raised.value)


def test_a_weight_error_names_the_parameter_and_gives_an_example():
    data = {**TABLE, "w": [0.0, 0.0, 0.0]}
    with pytest.raises(InputError, match="or leave out weight[.]$"):
        losscli.evaluate(data, "mse", weight="w")
    with pytest.raises(UsageError) as raised:
        losscli.evaluate({**data, "v": PRED}, "mse", weight="w,v")
    assert str(raised.value) == "weight= names 2 columns (w, v); it takes one.\n  Example: weight=w"


def test_compare_and_check_errors_name_python_parameters_too(tmp_path, monkeypatch):
    with pytest.raises(UsageError, match="^chunk_rows 0 must be at least 1"):
        losscli.compare(TABLE, TABLE, "mse", chunk_rows=0)
    monkeypatch.chdir(tmp_path)  # no losscli.toml here
    with pytest.raises(UsageError, match="or name a file with config PATH[.]$"):
        losscli.check()
    with pytest.raises(UsageError, match="leave config out"):
        losscli.check(config="")


@pytest.mark.parametrize(
    ("parameter", "flag"),
    [
        ("chunk_rows", "--chunk-rows"),
        ("pred", "-p"),
        ("losses", "--loss"),
        ("columns", "--col"),
        ("id_column", "--id"),
        ("pred=", "-p/--pred"),
        ("target=", "-t/--target"),
        ("weight=", "-w/--weight"),
        ('columns["var"]', "--col var"),
        ("weight=w", "--weight w"),
        ("id_column=Id", "--id Id"),
        ("on", "--on"),
        ("per_row", "--per-row"),
    ],
)
def test_the_cli_spells_each_parameter_as_its_flag(parameter, flag):
    assert flag_of(parameter) == flag


def test_a_spelled_flag_never_makes_a_cli_line_longer_than_the_cap(capsys, tmp_path):
    """The cap applies to the marked message; -t/--target is longer than its mark."""
    path = write(tmp_path / "wide.csv", "pred," + "c" * 5000 + "\n1,1\n")
    outcome = run(capsys, "eval", "-l", "mse", "-f", "json", str(path))
    assert outcome.code == 2 and "-t/--target" in outcome.err
    assert max(len(line) for line in outcome.err.splitlines()) <= len("  ") + MAX_LINE


# Being rewritten on other branches: their messages move to errors.option marks after that.
# What `losscli describe` prints is text for the command line (each role's flag), not a message.
COMMAND_LINE_TEXT = ("losscli/report/catalogue.py",)
# Other programs' command lines quoted in hints: their flags are theirs, not losscli's.
# A whole losscli command line quoted as one (how to write a baseline) keeps its flags too.
OTHER_PROGRAMS = (
    "mkdir -p",
    "unzip -p",
    "iconv -f",
    "losscli eval --loss",
    "losscli list --compat",
    "losscli describe --compat",
)


def _documentation(tree: ast.AST) -> set[int]:
    """The string constants that document rather than tell: docstrings, and each loss's notes
    (``notes=``, ``..._NOTE(S)``), the text ``losscli describe`` prints as written."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
        if _is_notes(node):
            ids.update(id(inner) for inner in ast.walk(node))
    return ids


def _is_notes(node: ast.AST) -> bool:
    if isinstance(node, ast.keyword):
        return node.arg == "notes"
    if isinstance(node, ast.Assign):
        return any(isinstance(t, ast.Name) and re.search("NOTES?$", t.id) for t in node.targets)
    return False


def test_no_message_below_the_cli_spells_a_flag():
    """Messages mark the parameters they name (errors.option); only cli.py writes flags."""
    package = ROOT / "losscli"
    found = []
    for path in sorted(package.rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name == "losscli/cli.py" or name.startswith(COMMAND_LINE_TEXT):
            continue
        tree = ast.parse(path.read_text())
        skipped = _documentation(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            text = node.value
            if id(node) in skipped or any(other in text for other in OTHER_PROGRAMS):
                continue
            if FLAG.search(text):
                found.append(f"{name}:{node.lineno}: {text!r}")
    assert found == []


def test_the_flag_pattern_finds_what_it_is_for():
    for text in ["leave out -w.", "(-p)", "-p/--pred", "--col x1", "e.g. --loss mse", "-t label"]:
        assert FLAG.search(text), text
    for text in ["x1 - x2", "non-negative", "-1e4", "'-' for stdin", "log(1 + exp(-y s))"]:
        assert not FLAG.search(text), text
