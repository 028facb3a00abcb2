"""Shell conventions: -V, examples under every command's --help, and the progress bar's fraction
of the input read (from Parquet footers, or estimated from a text file's size)."""

from __future__ import annotations

import gzip

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from losscli import __version__
from losscli.cli import EXAMPLES
from losscli.io.progress import ESTIMATED_AT_MOST, Meter
from tests.conftest import process_env, run, run_process, write


def test_dash_capital_v_prints_the_version(capsys):
    assert run(capsys, "-V") == (0, f"losscli {__version__}\n", "")


@pytest.mark.parametrize("command", ["eval", "check", "compare", "plot", "list", "describe"])
def test_every_command_help_ends_with_examples(capsys, command):
    outcome = run(capsys, command, "--help")
    assert outcome.code == 0
    examples = outcome.out.split("Examples:", 1)[1]
    for line in EXAMPLES[command]:
        assert f"  {line}\n" in examples  # one example a line, as written
        assert line.startswith(f"losscli {command}")


def table(rows: int) -> pa.Table:
    rng = np.random.default_rng(1)
    return pa.table({"pred": rng.normal(size=rows), "target": rng.normal(size=rows)})


def test_parquet_files_give_their_exact_row_count(tmp_path):
    for number, rows in enumerate((300, 700)):
        pq.write_table(table(rows), tmp_path / f"part-{number}.parquet")
    meter = Meter([str(tmp_path)])
    assert meter.known and meter.total_rows == 1000
    assert meter.fraction(250) == 0.25 and meter.fraction(1000) == 1.0


def test_a_csv_file_gives_an_estimate_close_to_its_rows(tmp_path):
    path = tmp_path / "big.csv"
    pa_csv.write_csv(table(200_000), path)
    meter = Meter([str(path)])
    assert meter.total_rows == pytest.approx(200_000, rel=0.02)
    assert meter.fraction(100_000) == pytest.approx(0.5, rel=0.02)
    assert meter.fraction(200_000) <= ESTIMATED_AT_MOST  # an estimate never says "done"


def test_no_fraction_where_the_size_says_nothing(tmp_path):
    packed = tmp_path / "rows.csv.gz"
    packed.write_bytes(gzip.compress(b"pred,target\n1,2\n"))
    for files in (["-"], [str(packed)], [str(tmp_path / "absent.csv")]):
        meter = Meter(files)
        assert not meter.known and meter.fraction(10) is None


def completions(words: str, cword: int) -> list[str]:
    env = process_env(_LOSSCLI_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(cword))
    outcome = run_process(env=env)
    assert outcome.code == 0, outcome.err
    return outcome.out.split()


def test_completion_offers_loss_names_in_a_comma_list():
    assert completions("losscli eval --loss hu", 3) == ["huber"]
    assert completions("losscli eval --loss mse,smooth", 3) == ["mse,smooth_l1"]


def test_completion_offers_the_columns_of_the_file_typed(tmp_path):
    data = write(tmp_path / "preds.csv", "id,prediction,pred_low,target\n1,2,1,2\n")
    assert completions(f"losscli eval {data} -p pre", 4) == ["prediction", "pred_low"]
    assert completions(f"losscli eval -l mse {data} -t prediction,t", 6) == ["prediction,target"]
    assert completions("losscli eval -p pre", 3) == []  # no file typed yet


def test_completion_scripts_are_offered(capsys):
    outcome = run_process("--show-completion", "bash", env=process_env(SHELL="/bin/bash"))
    assert outcome.code == 0 and "_losscli_completion" in outcome.out
