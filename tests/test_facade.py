"""The Python facade: ``losscli.evaluate``, ``compare`` and ``check`` are the whole job, and the CLI
is a thin layer over them.

``losscli.check`` runs the checks a configuration declares (``losscli.config`` only reads it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import losscli
from losscli import api
from losscli.errors import InputError, UsageError
from losscli.report.checks import CheckRun
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
    from losscli.report.render import render_run

    assert outcome.out == render_run(losscli.check(config=SAMPLE_CONFIG), "json")


def test_the_check_command_runs_losscli_check(capsys, monkeypatch):
    calls = []
    real = api.check

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "check", spy)
    outcome = run(capsys, "check", "--config", str(SAMPLE_CONFIG), "-f", "json", "demand")
    assert outcome.code == 0
    assert calls == [((["demand"],), {"config": str(SAMPLE_CONFIG)})]


def test_the_config_module_reads_checks_but_never_runs_them():
    source = (ROOT / "losscli" / "config.py").read_text()
    assert "losscli.api" not in source and "evaluate(" not in source
