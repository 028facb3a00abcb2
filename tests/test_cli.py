"""The command line: exit codes, stderr text, JSON shape, output formats, --per-row, pipes, help.

Most tests call ``losscli.cli.main`` in-process (fast); a real process is used where one matters:
piped stdin, a closed stdout, exit statuses and tracebacks of ``python -m losscli``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
import typer

import losscli
from losscli.cli import app, main
from losscli.losses import REGISTRY
from losscli.losses.registry import LossDef, format_value
from tests.conftest import (
    ROOT,
    SIMPLE,
    assert_user_error,
    process_env,
    random_pairs,
    results_of,
    run,
    run_command,
    run_process,
    run_script,
    write,
    write_data,
)

# -- 1. usage and input errors -----------------------------------------------------------------


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """Small files, one per way of going wrong."""
    files = {
        "ok.csv": SIMPLE,
        "ambiguous.csv": "pred,y_pred,target\n1,1,1\n",
        "nopred.csv": "foo,target\n1,1\n",
        "text.csv": "pred,target\n1,1\n2,x\n3,3\n",
        "blank.csv": "pred,target\n1,1\n2,\n3,3\n",
        "nan.csv": "pred,target\n1,1\nnan,2\n3,3\n",
        "empty.csv": "",
        "header.csv": "pred,target\n",
        "two_targets.csv": "target\n1\n2\n",
        "pred_only.csv": "pred\n1\n2\n3\n",
        "msle.csv": "pred,target\n1,1\n2,2\n-1.5,3\n",
        "variance.csv": "pred,target,sigma2\n1,1,1\n2,2,-0.5\n",
    }
    for name, text in files.items():
        write(tmp_path / name, text)
    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.table({"pred": np.arange(1000.0), "target": np.ones(1000)}), whole)
    data = whole.read_bytes()
    (tmp_path / "truncated.parquet").write_bytes(data[: len(data) // 2])
    return tmp_path


ERRORS = {
    "unknown loss": (["-l", "hubr", "ok.csv"], ["Unknown loss 'hubr'", "huber", "losscli list"]),
    "unknown parameter": (
        ["-l", "huber:deltaa=2", "ok.csv"],
        ["no parameter 'deltaa'", "delta", "losscli describe huber"],
    ),
    "out-of-range parameter": (
        ["-l", "huber:delta=-1", "ok.csv"],
        ["delta=-1", "out of range", "> 0", "Example: --loss huber:delta=1"],
    ),
    "non-numeric parameter": (
        ["-l", "huber:delta=abc", "ok.csv"],
        ["delta=abc", "not a valid float", "Example"],
    ),
    "missing -p column": (
        ["-l", "mse", "-p", "prd", "ok.csv"],
        ["'prd'", "-p/--pred", "Did you mean 'pred'", "Columns: pred, target"],
    ),
    "ambiguous pred column": (
        ["-l", "mse", "ambiguous.csv"],
        ["pred, y_pred", "Choose one with -p/--pred"],
    ),
    "no pred column": (
        ["-l", "mse", "nopred.csv"],
        ["No pred column", "mse needs one", "-p/--pred", "Columns: foo, target"],
    ),
    "non-numeric value": (
        ["-l", "mse", "text.csv"],
        ["Column 'target'", "'x'", "row 2", "Fix or remove"],
    ),
    "empty cell": (
        ["-l", "mse", "blank.csv"],
        ["Column 'target'", "missing value", "row 2", "--nan drop"],
    ),
    "NaN cell": (["-l", "mse", "nan.csv"], ["Column 'pred'", "row 2", "--nan drop"]),
    "empty input": (["-l", "mse", "empty.csv"], ["empty.csv is empty", "header row"]),
    "header only": (["-l", "mse", "header.csv"], ["header.csv has no data rows", "at least one"]),
    "row-count mismatch": (
        ["-l", "mse", "-p", "pred", "--targets", "two_targets.csv", "pred_only.csv"],
        ["has 3 rows", "has 2", "row by row"],
    ),
    "msle domain": (
        ["-l", "msle", "msle.csv"],
        ["msle needs pred > -1", "column 'pred'", "-1.5", "row 3", "use mse"],
    ),
    "negative variance": (
        ["-l", "gaussian_nll", "--col", "var=sigma2", "variance.csv"],
        ["var >= 0", "column 'sigma2'", "-0.5", "row 2", "cannot be negative"],
    ),
    "truncated parquet": (
        ["-l", "mse", "truncated.parquet"],
        ["Cannot read truncated.parquet as Parquet", "complete"],
    ),
    "nonexistent file": (["-l", "mse", "absent.csv"], ["No such file: 'absent.csv'", "path"]),
    "no --loss": (["ok.csv"], ["No --loss given", "--loss mse", "losscli list"]),
    "unknown option": (["--los", "mse", "ok.csv"], ["No such option: --los", "--loss", "--help"]),
    "bad --format": (["-l", "mse", "-f", "xml", "ok.csv"], ["--format xml", "json", "markdown"]),
    "bad --nan": (["-l", "mse", "--nan", "skip", "ok.csv"], ["--nan skip", "error, drop"]),
    "--chunk-rows 0": (
        ["-l", "mse", "--chunk-rows", "0", "ok.csv"],
        ["--chunk-rows 0", "at least 1"],
    ),
    "--chunk-rows text": (
        ["-l", "mse", "--chunk-rows", "many", "ok.csv"],
        ["--chunk-rows", "integer"],
    ),
    "bad --col": (["-l", "mse", "--col", "var", "ok.csv"], ["--col var", "ROLE=COLS"]),
    "--col for pred": (["-l", "mse", "--col", "pred=x", "ok.csv"], ["-p, -t or -w"]),
    "--per-row extension": (
        ["-l", "mse", "--per-row", "out.txt", "ok.csv"],
        ["out.txt", ".csv or .parquet"],
    ),
    "--id without --per-row": (["-l", "mse", "--id", "pred", "ok.csv"], ["--id", "--per-row"]),
}


@pytest.mark.parametrize(("args", "fragments"), ERRORS.values(), ids=ERRORS.keys())
def test_user_errors_are_two_lines_and_exit_2(inputs, monkeypatch, capsys, args, fragments):
    monkeypatch.chdir(inputs)
    assert_user_error(run(capsys, "eval", *args), *fragments)


@pytest.mark.parametrize(
    "args",
    [["-l", "hubr", "ok.csv"], ["-l", "mse", "truncated.parquet"], ["--los", "mse", "ok.csv"]],
    ids=["unknown loss", "truncated parquet", "unknown option"],
)
def test_a_real_process_exits_2_without_traceback(inputs, args):
    assert_user_error(run_process("eval", *args, cwd=inputs))


def test_domain_error_in_a_later_chunk_names_its_row(inputs, monkeypatch, capsys):
    monkeypatch.chdir(inputs)
    assert_user_error(run(capsys, "eval", "-l", "msle", "--chunk-rows", "1", "msle.csv"), "row 3")


# -- 2. the JSON document ----------------------------------------------------------------------


def test_json_has_exactly_the_documented_shape(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", "pred,target,w\n1,1.5,1\n2,2,2\n3,5,0.5\n")
    document = json.loads(run(capsys, "eval", "-l", "huber:delta=2", "-w", "w", data).out)
    assert set(document) == {"version", "inputs", "results"}
    assert document["version"] == losscli.__version__
    assert document["inputs"] == {
        "files": [str(data)],
        "targets": None,
        "rows_read": 3,
        "rows_used": 3,
        "rows_dropped": 0,
    }
    # errors 0.5, 0, 2 -> huber(delta=2): 0.125, 0, 2; weighted by 1, 2, 0.5 over 3.5
    assert document["results"] == [
        {
            "label": "huber:delta=2",
            "loss": "huber",
            "params": {"delta": 2.0, "reduction": "mean"},
            "value": pytest.approx((0.125 + 1.0) / 3.5, rel=1e-15),
            "n": 3,
            "weight_sum": 3.5,
            "direction": "lower",
        }
    ]


def test_params_hold_defaults_and_labels_only_what_was_given(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", SIMPLE)
    results = results_of(run(capsys, "eval", "-l", "huber,pinball:alpha=0.9", data))
    assert results["huber"]["params"] == {"delta": 1.0, "reduction": "mean"}
    assert results["pinball:alpha=0.9"]["params"] == {"alpha": 0.9, "reduction": "mean"}


def test_aliases_resolve_to_the_canonical_name(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", SIMPLE)
    results = results_of(run(capsys, "eval", "-l", "l2", "-l", "l1", data))
    assert [(r["label"], r["loss"]) for r in results.values()] == [("mse", "mse"), ("mae", "mae")]


def test_one_loss_with_different_params_gives_a_result_each(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", SIMPLE)
    outcome = run(capsys, "eval", "-l", "huber:delta=0.5", "--loss", "huber:delta=2,mse", data)
    results = results_of(outcome)
    assert list(results) == ["huber:delta=0.5", "huber:delta=2", "mse"]
    assert results["huber:delta=0.5"]["value"] == pytest.approx((0.125 + 0 + 0.875) / 3)
    assert results["huber:delta=2"]["value"] == pytest.approx((0.125 + 0 + 2) / 3)


def test_the_same_loss_asked_twice_is_reported_once(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", SIMPLE)
    assert list(results_of(run(capsys, "eval", "-l", "mse", "-l", "l2,mse", data))) == ["mse"]


def test_json_values_are_full_precision(tmp_path, capsys):
    pred, target = random_pairs(500, seed=7)
    data = write_data(tmp_path / "preds.csv", {"pred": pred, "target": target}, "csv")
    results = results_of(run(capsys, "eval", "-l", "mse,mae,rmse", data))
    expected = {
        "mse": np.mean((pred - target) ** 2),
        "mae": np.mean(np.abs(pred - target)),
        "rmse": np.sqrt(np.mean((pred - target) ** 2)),
    }
    for label, value in expected.items():
        assert math.isclose(results[label]["value"], value, rel_tol=1e-15, abs_tol=0), label
    # a table rounds; JSON does not
    assert len(repr(results["mse"]["value"])) > 10


def test_a_nan_result_is_null_with_a_note(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", "pred,target\n1,1\nnan,2\n")
    outcome = run(capsys, "eval", "-l", "mse", "--nan", "propagate", "-f", "json", data)
    result = results_of(outcome)["mse"]
    assert result["value"] is None
    assert "NaN" in result["note"]
    assert outcome.err == ""  # the note is in the document, not repeated on stderr


def test_an_infinite_parameter_is_a_usage_error(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", SIMPLE)
    outcome = run(capsys, "eval", "-l", "huber:delta=inf", "-f", "json", data)
    assert_user_error(outcome, "delta=inf must be a finite number")


def test_auto_format_is_json_when_stdout_is_not_a_terminal(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", SIMPLE)
    assert results_of(run(capsys, "eval", "-l", "mse", data))["mse"]["n"] == 3
    assert results_of(run_process("eval", "-l", "mse", data))["mse"]["n"] == 3


def test_chunk_rows_does_not_change_the_results(tmp_path, capsys):
    pred, target = random_pairs(50, seed=3)
    data = write_data(tmp_path / "preds.csv", {"pred": pred, "target": target}, "csv")
    whole = results_of(run(capsys, "eval", "-l", "mse,r2,max_error", data))
    for size in (1, 7):
        chunked = results_of(
            run(capsys, "eval", "-l", "mse,r2,max_error", "--chunk-rows", size, data)
        )
        for label, result in whole.items():
            assert chunked[label]["value"] == pytest.approx(result["value"], rel=1e-12)


def test_targets_from_a_second_file(tmp_path, capsys):
    preds = write(tmp_path / "preds.csv", "pred\n1\n2\n3\n")
    truth = write(tmp_path / "truth.csv", "target\n1.5\n2\n5\n")
    document = json.loads(run(capsys, "eval", "-l", "mae", "--targets", truth, preds).out)
    assert document["inputs"]["targets"] == [str(truth)]
    assert document["results"][0]["value"] == pytest.approx(2.5 / 3)


# -- 3. other formats, --quiet and notes -------------------------------------------------------


def test_csv_output_parses_and_keeps_full_precision(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", SIMPLE)
    outcome = run(capsys, "eval", "-l", "mse,huber:delta=2", "-f", "csv", data)
    rows = list(csv.DictReader(io.StringIO(outcome.out)))
    assert [row["label"] for row in rows] == ["mse", "huber:delta=2"]
    assert set(rows[0]) == {"label", "loss", "params", "value", "n", "weight_sum", "direction"}
    assert float(rows[0]["value"]) == (0.25 + 0 + 4) / 3
    assert json.loads(rows[1]["params"]) == {"delta": 2.0, "reduction": "mean"}
    assert rows[1]["n"] == "3"


def test_markdown_output_is_a_gfm_table(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", SIMPLE)
    lines = run(capsys, "eval", "-l", "mse,huber:delta=2", "-f", "markdown", data).out.splitlines()
    header, rule, *rows = lines[: lines.index("")]
    cells = header.strip("|").count("|") + 1
    assert re.fullmatch(r"\|( *:?-+:? *\|)+", rule) and rule.count("|") == cells + 1
    assert len(rows) == 2 and all(row.count("|") == cells + 1 for row in rows)
    assert "`huber:delta=2`" in rows[1] and "0.708333" in rows[1]
    assert "3 rows used of 3" in lines[-1]


def test_table_output_rounds_values(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", SIMPLE)
    outcome = run(capsys, "eval", "-l", "huber:delta=2,l2", "-f", "table", data)
    assert outcome.code == 0
    assert "huber:delta=2" in outcome.out and "0.708333" in outcome.out
    assert "1.41667" in outcome.out and "0.7083333" not in outcome.out
    assert "3 rows used of 3 read" in outcome.out
    assert all(line == line.rstrip() for line in outcome.out.splitlines())


def test_nan_drop_notes_on_stderr_unless_quiet(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", "pred,target\n1,1\nnan,2\n3,5\n")
    loud = run(capsys, "eval", "-l", "mse", "--nan", "drop", "-f", "csv", data)
    assert loud.code == 0
    assert loud.err == "note: 1 of 3 rows dropped for missing values (--nan drop).\n"
    assert float(next(csv.DictReader(io.StringIO(loud.out)))["value"]) == 2.0
    quiet = run(capsys, "eval", "-l", "mse", "--nan", "drop", "-f", "csv", "--quiet", data)
    assert (quiet.code, quiet.err, quiet.out) == (0, "", loud.out)


def test_nan_drop_counts_rows_in_json(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", "pred,target\n1,1\nnan,2\n3,5\n")
    document = json.loads(run(capsys, "eval", "-l", "mse", "--nan", "drop", "-q", data).out)
    assert document["inputs"] | {"files": None} == {
        "files": None,
        "targets": None,
        "rows_read": 3,
        "rows_used": 2,
        "rows_dropped": 1,
    }
    assert document["results"][0]["n"] == 2


def test_formats_without_a_note_field_explain_nan_on_stderr(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", "pred,target\n1,1\nnan,2\n")
    outcome = run(capsys, "eval", "-l", "mse", "--nan", "propagate", "-f", "csv", data)
    assert next(csv.DictReader(io.StringIO(outcome.out)))["value"] == ""
    assert outcome.err.startswith("note: mse: the value is NaN")
    quiet = run(capsys, "eval", "-l", "mse", "--nan", "propagate", "-f", "table", "-q", data)
    assert quiet.err == "" and "nan" in quiet.out


def test_successful_runs_write_nothing_on_stderr(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", SIMPLE)
    for fmt in ("json", "csv", "markdown", "table"):
        outcome = run(capsys, "eval", "-l", "mse", "-f", fmt, data)
        assert (outcome.code, outcome.err) == (0, ""), fmt


# -- 4. --per-row ------------------------------------------------------------------------------

PER_ROW = "id,pred,target\na,1,1.5\nb,nan,2\nc,3,5\nd,2,2\ne,-1,0.5\n"
PRED = np.array([1, np.nan, 3, 2, -1.0])
TARGET = np.array([1.5, 2, 5, 2, 0.5])


def huber(pred, target, delta):
    error = np.abs(pred - target)
    return np.where(error <= delta, 0.5 * error**2, delta * (error - 0.5 * delta))


def read_per_row(path: Path) -> dict[str, list]:
    table = pq.read_table(path) if path.suffix == ".parquet" else pa_csv.read_csv(path)
    return table.to_pydict()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("chunk_rows", [2, 1000])
def test_per_row_values_line_up_with_input_rows(tmp_path, capsys, suffix, chunk_rows):
    data = write(tmp_path / "preds.csv", PER_ROW)
    out = tmp_path / f"rows{suffix}"
    args = ["-l", "mse,huber:delta=0.5", "--nan", "drop", "--id", "id", "--per-row", out]
    outcome = run(capsys, "eval", *args, "--chunk-rows", chunk_rows, "-q", data)
    assert outcome.code == 0, outcome
    columns = read_per_row(out)
    assert list(columns) == ["id", "mse", "huber:delta=0.5"]
    assert columns["id"] == ["a", "b", "c", "d", "e"]
    for label, expected in (
        ("mse", (PRED - TARGET) ** 2),
        ("huber:delta=0.5", huber(PRED, TARGET, 0.5)),
    ):
        got = columns[label]
        assert got[1] is None, label  # the dropped row is empty, not removed
        kept = [0, 2, 3, 4]
        assert np.array_equal(np.array([got[i] for i in kept]), expected[kept]), label


def test_per_row_keeps_rows_of_a_chunk_dropped_entirely(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", PER_ROW)
    out = tmp_path / "rows.csv"
    args = ["-l", "mse", "--nan", "drop", "--id", "id", "--per-row", out, "--chunk-rows", "1"]
    assert run(capsys, "eval", *args, "-q", data).code == 0
    assert read_per_row(out)["id"] == ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_failed_run_leaves_no_per_row_file(tmp_path, capsys, suffix):
    # rows 1-2 are fine, so the first chunk is written before row 4 fails the domain check
    data = write(tmp_path / "preds.csv", "pred,target\n1,1\n2,2\n3,3\n-2,4\n")
    out = tmp_path / f"rows{suffix}"
    outcome = run(capsys, "eval", "-l", "msle", "--chunk-rows", "2", "--per-row", out, data)
    assert_user_error(outcome, "row 4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preds.csv"]


@pytest.mark.parametrize(
    ("text", "nan", "fragment"),
    [
        ("pred,target\n1,1\n2,2\n3,3\n-2,4\n", "error", "row 4"),  # in a later chunk
        ("pred,target\n", "error", "no data rows"),  # after the last chunk
        ("pred,target\nnan,1\n1,nan\n", "drop", "Every one of the 2 rows"),
    ],
    ids=["domain error", "header only", "every row dropped"],
)
def test_a_failed_run_does_not_clobber_an_existing_file(tmp_path, capsys, text, nan, fragment):
    data = write(tmp_path / "preds.csv", text)
    out = write(tmp_path / "rows.csv", "precious\n")
    args = ["-l", "msle", "--chunk-rows", "2", "--nan", nan, "--per-row", out]
    outcome = run(capsys, "eval", *args, data)
    assert_user_error(outcome, fragment)
    assert out.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preds.csv", "rows.csv"]


def test_a_successful_run_replaces_an_existing_file(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", SIMPLE)
    out = write(tmp_path / "rows.csv", "old\n")
    assert run(capsys, "eval", "-l", "mae", "--per-row", out, data).code == 0
    assert list(csv.DictReader(out.open())) == [{"mae": "0.5"}, {"mae": "0"}, {"mae": "2"}]


# -- 5. standard input -------------------------------------------------------------------------


def test_piped_stdin_without_file(tmp_path):
    outcome = run_process("eval", "-l", "mse", stdin=SIMPLE.encode())
    document = json.loads(outcome.out)
    assert document["inputs"]["files"] == ["<stdin>"]
    assert document["results"][0]["value"] == (0.25 + 0 + 4) / 3


def test_stdin_through_a_shell_pipe():
    line = f"printf '{SIMPLE}' | {sys.executable} -m losscli eval -l mae - -f csv"
    outcome = run_command(["bash", "-c", line])
    assert outcome.code == 0, outcome.err
    assert next(csv.DictReader(io.StringIO(outcome.out)))["value"] == repr(2.5 / 3)


class FakeStdin(io.TextIOWrapper):
    def __init__(self, data: bytes, terminal: bool) -> None:
        super().__init__(io.BytesIO(data))
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def test_dash_reads_stdin_in_process(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", FakeStdin(SIMPLE.encode(), terminal=False))
    assert results_of(run(capsys, "eval", "-l", "mae", "-"))["mae"]["value"] == 2.5 / 3


def test_no_file_reads_a_piped_stdin_in_process(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", FakeStdin(SIMPLE.encode(), terminal=False))
    assert results_of(run(capsys, "eval", "-l", "mae"))["mae"]["n"] == 3


def test_no_file_and_a_terminal_stdin_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", FakeStdin(b"", terminal=True))
    assert_user_error(run(capsys, "eval", "-l", "mse"), "No FILE given", "pipe data in")


def test_no_file_and_a_closed_stdin_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", None)
    assert_user_error(run(capsys, "eval", "-l", "mse"), "No FILE given")


# -- 6. a closed output pipe -------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["eval", "-l", "mse,mae,rmse,huber,log_cosh", "-f", "csv", "{data}"],
        ["eval", "-l", "mse,mae", "-f", "table", "{data}"],
        ["eval", "-l", "mse", "{data}"],
        ["list"],
        ["--help"],
    ],
    ids=["csv", "table", "json", "list", "help"],
)
def test_a_closed_stdout_ends_quietly(tmp_path, args):
    data = write(tmp_path / "preds.csv", SIMPLE)
    reader, writer = os.pipe()
    os.close(reader)  # nobody will read: the first write fails with EPIPE
    try:
        outcome = run_process(*(a.format(data=data) for a in args), stdout=writer)
    finally:
        os.close(writer)
    stderr = outcome.err
    assert outcome.code == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr and "Exception" not in stderr


def test_head_in_a_shell_pipeline_is_not_an_error(tmp_path):
    rows = "".join(f"{i % 7},{i % 5}\n" for i in range(20000))
    data = write(tmp_path / "big.csv", "pred,target\n" + rows)
    losses = "mse,mae,rmse,huber,log_cosh,smape"
    line = (
        f"{sys.executable} -m losscli eval -l {losses} {data} --format csv "
        f"--per-row {tmp_path}/rows.csv | head -c 1; exit ${{PIPESTATUS[0]}}"
    )
    outcome = run_command(["bash", "-c", line])
    assert (outcome.code, outcome.out) == (0, "l"), outcome.err
    assert "Traceback" not in outcome.err and "BrokenPipe" not in outcome.err


# -- 7. internal errors ------------------------------------------------------------------------


def broken_compute(self, inputs, params, shared=None):
    raise RuntimeError("boom")


def test_an_internal_error_exits_3_and_points_to_debug(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("LOSSCLI_DEBUG", raising=False)
    monkeypatch.setattr(LossDef, "compute", broken_compute)
    data = write(tmp_path / "preds.csv", SIMPLE)
    outcome = run(capsys, "eval", "-l", "mse", data)
    assert outcome.code == 3
    assert outcome.out == ""
    assert outcome.err.startswith("losscli: error: internal error: RuntimeError: boom\n")
    assert "--debug" in outcome.err and "LOSSCLI_DEBUG=1" in outcome.err
    assert len(outcome.err.strip().splitlines()) == 2 and "Traceback" not in outcome.err


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_lets_the_exception_through(tmp_path, monkeypatch, capsys, how):
    monkeypatch.setattr(LossDef, "compute", broken_compute)
    data = write(tmp_path / "preds.csv", SIMPLE)
    args = ["eval", "-l", "mse", str(data)]
    if how == "flag":
        monkeypatch.delenv("LOSSCLI_DEBUG", raising=False)
        args.insert(1, "--debug")
    else:
        monkeypatch.setenv("LOSSCLI_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        main(args)


def test_debug_is_harmless_on_a_good_run(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", SIMPLE)
    assert results_of(run(capsys, "--debug", "eval", "-l", "mae", data, "--debug"))["mae"]["n"] == 3


def test_an_internal_error_in_a_real_process(tmp_path):
    data = write(tmp_path / "preds.csv", SIMPLE)
    script = (
        "import sys; from losscli.losses.registry import LossDef\n"
        "def boom(*a, **k): raise RuntimeError('boom')\n"
        "LossDef.compute = boom\n"
        "from losscli.cli import main; sys.exit(main(sys.argv[1:]))\n"
    )
    outcome = run_script(script, "eval", "-l", "mse", data)
    assert outcome.code == 3
    assert "Traceback" not in outcome.err and "--debug" in outcome.err


# -- 8. help and version -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["--help"], ["-h"], ["eval", "--help"], ["list", "--help"], ["describe", "--help"]]
)
def test_help_exits_0(capsys, args):
    outcome = run(capsys, *args)
    assert outcome.code == 0
    assert outcome.out.startswith("Usage: losscli")
    assert outcome.err == ""


def test_root_help_names_the_commands_and_debug(capsys):
    out = run(capsys, "--help").out
    for command in ("eval", "list", "describe", "--version", "--debug", "LOSSCLI_DEBUG"):
        assert command in out


def test_eval_help_shows_metavars_not_python_types(capsys):
    out = run(capsys, "eval", "--help").out
    for shown in ("--loss SPEC", "--pred COLS", "--col ROLE=COLS", "--per-row PATH", "[FILE]..."):
        assert shown in out
    assert "<str>" not in out and "<list[str]>" not in out.split("Options:")[1]


def test_no_command_shows_help_on_stderr(capsys):
    outcome = run(capsys)
    assert outcome.code == 2
    assert outcome.err.startswith("Usage: losscli") and "Commands:" in outcome.err
    assert "error" not in outcome.err.splitlines()[0]


@pytest.mark.parametrize(
    ("args", "built"),
    [
        (["eval", "--loss", "mse", "x.csv"], ["eval"]),
        (["-V", "list"], ["list"]),
        (["evl"], None),  # no such command: every command, for click's "Did you mean"
        (["--help"], None),
        ([], None),
    ],
)
def test_a_run_builds_only_the_command_it_names(args, built):
    from losscli.cli import _command

    every = list(typer.main.get_command(app).commands)
    assert list(_command(args).commands) == (built or every)
    assert len(every) >= 7 and list(typer.main.get_command(app).commands) == every


def walk(command, path="losscli"):
    yield path, command
    for name, child in getattr(command, "commands", {}).items():
        yield from walk(child, f"{path} {name}")


def test_every_command_and_option_has_help_text():
    root = typer.main.get_command(app)
    seen = 0
    for path, command in walk(root):
        assert (command.help or "").strip(), path
        context = type(root).context_class(command, info_name=path)
        for param in command.get_params(context):
            assert (getattr(param, "help", None) or "").strip(), f"{path} {param.name}"
            seen += 1
    assert seen >= 20  # the walk really visited the eval options


def test_version_matches_pyproject(capsys):
    pyproject = (ROOT / "pyproject.toml").read_text()
    version = re.search(r'^version = "([^"]+)"', pyproject, re.MULTILINE).group(1)
    assert version == losscli.__version__
    outcome = run(capsys, "--version")
    assert (outcome.code, outcome.out) == (0, f"losscli {version}\n")


@pytest.mark.parametrize(
    ("args", "unused"),
    [
        (["--help"], ["numpy", "pyarrow", "pydantic", "rich", "pandas"]),
        (
            ["eval", "-l", "mse", "-f", "json", "{data}"],
            ["pydantic", "pyarrow.compute", "pyarrow.parquet", "rich", "pandas"]
            + ["losscli.engine.compare", "losscli.report.comparison", "losscli.config"]
            + ["losscli.report.junit", "losscli.tracking", "losscli.plugins", "losscli.scoring"]
            + ["losscli.io.progress"],
        ),
        (  # integer labels in Parquet are converted without pyarrow.compute
            ["eval", "-l", "bce", "-f", "json", "{labels}"],
            ["pydantic", "pyarrow.compute", "pyarrow.parquet", "pyarrow.fs", "rich", "pandas"],
        ),
    ],
)
def test_start_up_imports_only_what_is_used(tmp_path, args, unused):
    """Importing these costs 0.05-0.2 s each (our compare modules a few ms): a run that does not
    need them must not pay."""
    data = write(tmp_path / "ok.csv", SIMPLE)
    labels = tmp_path / "labels.parquet"
    pq.write_table(pa.table({"pred": [0.2, 0.9, 0.6], "target": [0, 1, 1]}), labels)
    script = (
        "import sys; from losscli.cli import main; code = main(sys.argv[1:]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'pyarrow', 'pydantic', 'rich', 'pandas', 'losscli')))"
    )
    outcome = run_script(script, *(arg.format(data=data, labels=labels) for arg in args))
    assert outcome.code == 0, outcome.err
    imported = set(eval(outcome.out.splitlines()[-1]))
    assert not imported & set(unused)


# -- 9. list and describe ----------------------------------------------------------------------


def test_list_names_every_loss_readably_off_a_terminal(monkeypatch, capsys):
    monkeypatch.delenv("COLUMNS", raising=False)
    outcome = run(capsys, "list")
    assert outcome.code == 0
    lines = outcome.out.splitlines()
    for loss in REGISTRY.values():
        # one line holds the name, its aliases and the whole summary: nothing is wrapped or cut
        assert any(
            re.search(rf"\b{loss.name}\b", line)
            and loss.summary in line
            and ", ".join(loss.aliases) in line
            for line in lines
        ), loss.name
    assert "…" not in outcome.out


def test_list_on_a_narrow_terminal_keeps_names_whole(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    outcome = run(capsys, "list")
    assert outcome.code == 0
    assert max(len(line) for line in outcome.out.splitlines()) <= 80
    words = set(re.findall(r"[\w.]+", outcome.out))
    for loss in REGISTRY.values():
        assert {loss.name, *loss.aliases} <= words, loss.name


def test_list_json(capsys):
    outcome = run(capsys, "list", "--format", "json")
    entries = {entry["name"]: entry for entry in json.loads(outcome.out)}
    assert set(entries) == set(REGISTRY)
    for name, loss in REGISTRY.items():
        assert entries[name]["aliases"] == list(loss.aliases)
        assert entries[name]["params"] == {p.name: p.default for p in loss.params}
        assert entries[name]["direction"] == loss.direction


def test_list_rejects_an_unknown_format(capsys):
    assert_user_error(run(capsys, "list", "-f", "xml"), "--format xml", "table, json or markdown")


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_describe_every_loss(capsys, name):
    loss = REGISTRY[name]
    outcome = run(capsys, "describe", name)
    assert outcome.code == 0 and outcome.err == ""
    assert outcome.out.startswith(f"{name}: ")
    assert f"  formula:     {loss.formula}\n" in outcome.out  # never wrapped: users copy it
    prose = " ".join(outcome.out.split())  # long fields wrap at 100 columns
    assert f"agrees with: {loss.reference}" in prose
    for param in loss.params:
        default = format_value(param.default)
        assert f"{param.name} ({param.kind.__name__}, default {default}" in prose
        assert " ".join(param.help.split()) in prose
    for role in loss.roles:
        assert role in prose
    for line in outcome.out.splitlines()[1:]:
        assert len(line) <= 100 or line.lstrip().startswith(("formula:", "example:")), line


def test_describe_an_alias(capsys):
    assert run(capsys, "describe", "L2").out.startswith("mse: ")


def test_describe_an_unknown_loss_suggests_one(capsys):
    assert_user_error(run(capsys, "describe", "hubber"), "Unknown loss 'hubber'", "huber")


def test_describe_without_a_name(capsys):
    assert_user_error(run(capsys, "describe"), "Missing argument 'NAME'", "describe --help")


# -- 10. python -m losscli ---------------------------------------------------------------------


def test_python_dash_m_is_the_console_script(tmp_path, capsys):
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'losscli = "losscli.__main__:main"' in pyproject
    data = write(tmp_path / "preds.csv", SIMPLE)
    args = ["eval", "-l", "mse,huber:delta=2", "-f", "json", str(data)]
    assert run_process(*args).out == run(capsys, *args).out
    version = run_process("--version")
    assert (version.code, version.out) == (0, f"losscli {losscli.__version__}\n")


@pytest.mark.parametrize("command", ["eval", "compare", "check"])
def test_the_command_collects_garbage_while_it_computes(tmp_path, command):
    """The entry point turns the collector off for the imports only: eval, compare and check run
    with it on (a run's own reference cycles are freed), past the objects the imports made."""
    data = write(tmp_path / "preds.csv", SIMPLE)
    check = f"[checks.fit]\nfiles = {str(data)!r}\nloss = 'mse'\nmax = {{ mse = 10 }}\n"
    checks = write(tmp_path / "losscli.toml", check)
    args = {
        "eval": ["eval", str(data), "-l", "mse"],
        "compare": ["compare", str(data), str(data), "-l", "mse"],
        "check": ["check", "--config", str(checks)],
    }[command]
    spied = "compare" if command == "compare" else "evaluate"
    probe = (
        "import gc, sys\n"
        "import losscli.api as api\n"
        f"real = api.{spied}\n"
        "def spy(*args, **kwargs):\n"
        "    print('collecting', gc.isenabled(), gc.get_freeze_count() > 0, file=sys.stderr)\n"
        "    return real(*args, **kwargs)\n"
        f"api.{spied} = spy\n"
        "from losscli.__main__ import main\n"
        f"sys.argv = ['losscli', *{args!r}, '-f', 'json']\n"
        "main()\n"
    )
    outcome = run_script(probe)
    assert outcome.code == 0, outcome.err
    assert "collecting True True" in outcome.err


def test_the_process_ends_without_losing_buffered_output(tmp_path, capsys):
    """The command skips Python's teardown: what it wrote must still all arrive, buffered or not."""
    rows = "pred,target\n" + "".join(f"{i / 7:.6f},{i % 5}\n" for i in range(20_000))
    data = write(tmp_path / "preds.csv", rows)
    env = process_env(PYTHONUNBUFFERED=None)
    listing = run_process("list", "--format", "markdown", env=env)
    assert listing.code == 0 and listing.out == run(capsys, "list", "--format", "markdown").out
    per_row = tmp_path / "rows.csv"
    args = ["eval", "-l", "mse", "-f", "json", "--per-row", per_row, data]
    outcome = run_process(*args, env=env)
    assert outcome.code == 0 and json.loads(outcome.out)["results"][0]["n"] == 20_000
    assert len(per_row.read_text().splitlines()) == 20_001
    failed = run_process(
        "eval",
        "-l",
        "msle",
        "-f",
        "json",
        write(tmp_path / "bad.csv", "pred,target\n-2,1\n"),
        env=env,
    )
    assert failed.code == 2 and failed.out == "" and "msle" in failed.err


def test_readme_loss_table_is_the_registry(capsys):
    # The README's loss list is `losscli list --format markdown`: a new loss must reach it.
    readme = (ROOT / "README.md").read_text()
    outcome = run(capsys, "list", "--format", "markdown")
    assert outcome.code == 0
    assert outcome.out in readme
    assert all(f"`{name}`" in outcome.out for name in REGISTRY)


def test_per_row_file_gets_the_usual_permissions(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", SIMPLE)
    out = tmp_path / "rows.csv"
    umask = os.umask(0o022)
    try:
        assert run(capsys, "eval", "-l", "mse", "--per-row", out, "-q", data).code == 0
    finally:
        os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o644


def test_a_bad_id_column_names_the_id_option(tmp_path, capsys):
    data = write(tmp_path / "preds.csv", SIMPLE)
    outcome = run(capsys, "eval", "-l", "mse", "--id", "key", "--per-row", tmp_path / "r.csv", data)
    assert_user_error(outcome, "for --id")


def test_ci_runs_exactly_the_readme_test_command():
    """A new user's command and CI's are one: a missing install step fails CI first."""
    readme = (ROOT / "README.md").read_text().splitlines()
    commands = readme[readme.index("```bash") + 1 : readme.index("```bash") + 3]
    assert all(
        line.startswith("python3 -m venv .venv && . .venv/bin/activate && ") for line in commands
    )
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci


def test_library_errors_name_python_parameters_and_the_cli_spells_them_as_flags():
    from losscli.cli import flag_of
    from losscli.errors import UsageError, option

    error = UsageError(f"{option('chunk_rows')} must be positive", f"give {option('pred')}")
    assert str(error) == "chunk_rows must be positive\n  give pred"
    assert error.spelled(flag_of) == "--chunk-rows must be positive\n  give -p"
    again = UsageError(f"check a: {error.message}", error.hint)
    assert again.spelled(flag_of).startswith("check a: --chunk-rows")
