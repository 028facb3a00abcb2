"""The readers layer: formats, compression, stdin, several files, column types, targets files,
vector roles, missing values and bad files.

Every value is checked against NumPy run on the very same numbers: the files are written from
float64 arrays with round-trip exact text (``repr``), so a reader that loses or reorders a single
row shows up at the 1e-12 level. Error tests assert on the message text, because the message is
what a user gets.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

import losscli
import losscli.api
import losscli.io.mapped
import losscli.io.opening
import losscli.io.text_readers
from losscli.errors import InputError, UsageError
from losscli.io.readers import open_reader
from losscli.io.sources import expand_inputs
from tests.conftest import (
    COMMAND,
    ROOT,
    Outcome,
    assert_close,
    assert_user_error,
    compress,
    delimited,
    deny_opening,
    encode,
    process_env,
    random_pairs,
    run_process,
    value_of,
    write_data,
)

ROWS = 1000

Data = dict[str, np.ndarray]


# -- data and files -----------------------------------------------------------------------------
def sample(rows: int = ROWS, seed: int = 0) -> Data:
    """An id column and normal pred/target columns; every format can hold it exactly."""
    pred, target = random_pairs(rows, seed)
    return {"id": np.arange(rows), "pred": pred, "target": target}


def numpy_mse(data: Data, pred: str = "pred", target: str = "target") -> float:
    return float(np.mean((np.asarray(data[pred]) - np.asarray(data[target])) ** 2))


def part(data: Data, start: int, stop: int) -> Data:
    return {name: values[start:stop] for name, values in data.items()}


def mse(path: Any, **options: Any) -> float:
    options = {"pred": "pred", "target": "target", **options}
    return losscli.evaluate(path, "mse", **options).results[0].value


def input_error(path: Any, **options: Any) -> str:
    """The message of the InputError / UsageError that reading ``path`` must raise."""
    with pytest.raises((InputError, UsageError)) as caught:
        mse(path, **options)
    return str(caught.value)


# -- 1. every format, every compression ------------------------------------------------------
FORMAT_CASES = [
    ("data.csv", "csv", None),
    ("data.tsv", "tsv", None),
    ("data.parquet", "parquet", None),
    ("data.arrow", "arrow-file", None),
    ("data.arrows", "arrow-stream", None),
    ("stream-named.arrow", "arrow-stream", None),
    ("data.feather", "feather", None),
    ("data.jsonl", "jsonl", None),
    ("data.csv.gz", "csv", "gzip"),
    ("data.csv.bz2", "csv", "bz2"),
    ("data.csv.zst", "csv", "zstd"),
    ("data.tsv.bz2", "tsv", "bz2"),
    ("data.jsonl.gz", "jsonl", "gzip"),
    ("data.parquet.gz", "parquet", "gzip"),
    ("data.arrow.zst", "arrow-file", "zstd"),
    ("data.arrows.gz", "arrow-stream", "gzip"),
]


@pytest.mark.parametrize(("name", "fmt", "codec"), FORMAT_CASES, ids=[c[0] for c in FORMAT_CASES])
def test_every_format_matches_numpy(tmp_path, name, fmt, codec):
    data = sample()
    path = write_data(tmp_path / name, data, fmt, codec)
    report = losscli.evaluate(path, "mse,mae", pred="pred", target="target", chunk_rows=300)
    assert_close(report.results[0].value, numpy_mse(data))
    assert_close(report.results[1].value, float(np.mean(np.abs(data["pred"] - data["target"]))))
    assert report.inputs["rows_read"] == ROWS
    assert report.inputs["files"] == [str(path)]


READER_CLASSES = {
    "csv": "CsvReader",
    "tsv": "CsvReader",
    "parquet": "ParquetReader",
    "arrow-file": "ArrowFileReader",
    "feather": "ArrowFileReader",
    "arrow-stream": "ArrowStreamReader",
    "jsonl": "JsonLinesReader",
}


@pytest.mark.parametrize(("name", "fmt", "codec"), FORMAT_CASES, ids=[c[0] for c in FORMAT_CASES])
def test_each_format_is_opened_by_its_own_reader(tmp_path, name, fmt, codec):
    """The class follows the bytes (an Arrow stream named .arrow is a stream), compressed or not."""
    path = write_data(tmp_path / name, sample(rows=10), fmt, codec)
    reader = open_reader(expand_inputs([str(path)], None)[0])
    try:
        assert type(reader).__name__ == READER_CLASSES[fmt]
        assert reader.names == ["id", "pred", "target"]
    finally:
        reader.close()


def test_common_column_names_are_recognised_in_every_format(tmp_path):
    data = sample()
    renamed = {"ID": data["id"], "y_pred": data["pred"], "Y_True": data["target"]}
    for fmt, name in (("csv", "a.csv"), ("parquet", "a.parquet"), ("jsonl", "a.jsonl")):
        path = write_data(tmp_path / name, renamed, fmt)
        assert_close(losscli.evaluate(path, "mse").results[0].value, numpy_mse(data))


def test_spooled_compressed_parquet_leaves_no_temporary_file(tmp_path, monkeypatch):
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    data = sample()
    path = write_data(tmp_path / "data.parquet.gz", data, "parquet", "gzip")
    assert_close(mse(path), numpy_mse(data))
    assert list(spool.iterdir()) == []


def test_csv_header_quirks_are_read_like_plain_names(tmp_path):
    # A byte-order mark, quoted names, spaces after commas, CRLF line ends and trailing blank lines.
    text = '\ufeff"id", pred , target\r\n1, 0.5, 2\r\n2,1.5,  -1\r\n\r\n'
    path = tmp_path / "quirks.csv"
    path.write_bytes(text.encode())
    expected = ((0.5 - 2) ** 2 + (1.5 + 1) ** 2) / 2
    assert_close(mse(path), expected)
    assert_close(losscli.evaluate(path, "mse").results[0].value, expected)


def test_csv_header_wider_than_the_sniffed_head(tmp_path):
    # 2 x 4000 columns make a header line of about 80 kB: longer than the bytes sniffed up front.
    rng = np.random.default_rng(1)
    width = 4000
    data = {f"pred_{k}": rng.normal(size=3) for k in range(width)}
    data |= {f"true_{k}": rng.normal(size=3) for k in range(width)}
    path = write_data(tmp_path / "wide.csv.gz", data, "csv", "gzip")
    report = losscli.evaluate(path, "mse", pred="pred_*", target="true_*")
    preds = np.column_stack([data[f"pred_{k}"] for k in range(width)])
    trues = np.column_stack([data[f"true_{k}"] for k in range(width)])
    assert_close(report.results[0].value, float(np.mean((preds - trues) ** 2)))


@pytest.mark.parametrize("codec", [None, "gzip"], ids=["mapped", "read"])
@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl"])
def test_text_parsed_in_small_blocks(tmp_path, monkeypatch, fmt, codec):
    # Text is cut into blocks at line ends; tiny blocks put a boundary inside almost every row.
    # A plain file is mapped, a compressed one read through its stream.
    monkeypatch.setattr(losscli.io.text_readers, "BLOCK_BYTES", 100)
    suffix = f".{fmt}.gz" if codec else f".{fmt}"
    data = sample()
    assert_close(mse(write_data(tmp_path / f"data{suffix}", data, fmt, codec)), numpy_mse(data))
    data["target"][876] = np.nan
    assert "row 877" in input_error(write_data(tmp_path / f"gap{suffix}", data, fmt, codec))


def test_non_numeric_value_row_counts_rows_of_earlier_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(losscli.io.text_readers, "BLOCK_BYTES", 64)
    lines = [f"{k},1" for k in range(500)]
    lines[432] = "oops,1"
    path = tmp_path / "late.csv"
    path.write_text("pred,target\n" + "\n".join(lines) + "\n")
    assert "'oops' at row 433" in input_error(path)


@pytest.mark.parametrize("codec", [None, "gzip"], ids=["mapped", "read"])
@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_lines_longer_than_a_block(tmp_path, monkeypatch, ending, codec):
    # A block holds no whole line until several reads are joined; the search for the last line
    # end widens from a window smaller than the block.
    monkeypatch.setattr(losscli.io.text_readers, "BLOCK_BYTES", 7)
    monkeypatch.setattr(losscli.io.opening, "HEAD_BYTES", 3)
    monkeypatch.setattr(losscli.io.mapped, "TAIL_BYTES", 3)
    preds = [1.0 + k / 7 for k in range(40)]
    targets = [float(k % 5) for k in range(40)]
    rows = [f"{p!r},{t!r}".encode() for p, t in zip(preds, targets, strict=True)]
    text = ending.join([b"pred,target", *rows]) + ending
    path = tmp_path / ("long.csv.gz" if codec else "long.csv")
    path.write_bytes(gzip.compress(text) if codec else text)
    expected = float(np.mean((np.array(preds) - np.array(targets)) ** 2))
    assert_close(mse(path), expected)


def test_old_mac_line_ends(tmp_path):
    path = tmp_path / "cr.csv"
    path.write_bytes(b"pred,target\r1,2\r3,5\r")
    assert_close(mse(path), (1 + 4) / 2)


# -- 2. format from magic bytes, and --input-format ----------------------------------------------
MAGIC_CASES = [
    ("data.bin", "parquet", None),
    ("x.dat", "csv", "gzip"),
    ("blob", "arrow-file", None),
    ("stream.bin", "arrow-stream", None),
    ("rows.log", "jsonl", "bz2"),
    ("table.dat", "tsv", None),
    ("noext", "parquet", "zstd"),
]


@pytest.mark.parametrize(("name", "fmt", "codec"), MAGIC_CASES, ids=[c[0] for c in MAGIC_CASES])
def test_format_from_magic_bytes(tmp_path, name, fmt, codec):
    data = sample()
    assert_close(mse(write_data(tmp_path / name, data, fmt, codec)), numpy_mse(data))


def test_input_format_overrides_the_extension(tmp_path):
    data = sample()
    path = write_data(tmp_path / "data.txt", data, "tsv")  # .txt says CSV; the content is TSV
    assert_close(mse(path, input_format="tsv"), numpy_mse(data))
    # Read as CSV, its header has tabs and no comma: the header says the delimiter.
    assert_close(mse(path), numpy_mse(data))


def test_unknown_input_format_is_a_usage_error(tmp_path):
    path = write_data(tmp_path / "data.csv", sample(), "csv")
    with pytest.raises(UsageError, match="^input_format xlsx is unknown"):
        mse(path, input_format="xlsx")


# -- 3. standard input --------------------------------------------------------------------------
def run_cli(args: list[str], stdin: bytes) -> Outcome:
    return run_process("eval", *args, stdin=stdin)


def cli_report(args: list[str], stdin: bytes) -> dict[str, Any]:
    outcome = run_cli(["--loss", "mse", "-p", "pred", "-t", "target", "-f", "json", *args], stdin)
    assert outcome.code == 0, outcome.err
    return json.loads(outcome.out)


STDIN_CASES = [
    ("csv-dash", "csv", None, ["-"]),
    ("csv-no-file", "csv", None, []),
    ("parquet", "parquet", None, ["-"]),
    ("csv-gzip", "csv", "gzip", ["-"]),
    ("arrow-stream", "arrow-stream", None, ["-"]),
    ("arrow-file", "arrow-file", None, ["-"]),
    ("jsonl", "jsonl", None, ["-"]),
    ("parquet-zstd", "parquet", "zstd", []),
]


@pytest.mark.parametrize(
    ("fmt", "codec", "args"), [c[1:] for c in STDIN_CASES], ids=[c[0] for c in STDIN_CASES]
)
def test_stdin(tmp_path, fmt, codec, args):
    data = sample()
    report = cli_report(args, compress(encode(data, fmt), codec))
    assert_close(report["results"][0]["value"], numpy_mse(data))
    assert report["inputs"]["files"] == ["<stdin>"]
    assert report["inputs"]["rows_read"] == ROWS


try:
    import fcntl
except ImportError:  # not a Unix
    fcntl = None  # type: ignore[assignment]
PIPE_SIZE = getattr(fcntl, "F_GETPIPE_SZ", None)


@pytest.mark.skipif(PIPE_SIZE is None, reason="pipes have a settable size on Linux only")
def test_stdin_pipe_is_widened_while_it_is_read():
    # Through a 64 KiB pipe the writer and losscli took turns every 64 KiB (a 166 MB Parquet
    # file spooled in 0.36-0.69 s instead of 0.13 s). The size is the pipe's: the writer sees it.
    data = sample()
    payload = encode(data, "parquet")
    command = [*COMMAND, "eval", "--loss", "mse", "-p", "pred", "-t", "target", "-f", "json", "-"]
    reading, writing = os.pipe()
    before = fcntl.fcntl(writing, PIPE_SIZE)  # measured before losscli starts
    with open(writing, "wb") as feed:
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
        run = subprocess.Popen(command, cwd=ROOT, env=process_env(), stdin=reading, **pipes)
        os.close(reading)
        try:
            feed.write(payload[:100])  # the head: losscli opens standard input to read it
            feed.flush()
            sizes = [before]
            while sizes[-1] == before and run.poll() is None and len(sizes) < 600:
                time.sleep(0.05)
                sizes.append(fcntl.fcntl(writing, PIPE_SIZE))
            if run.poll() is None:  # an early exit is told by its code and stderr below
                feed.write(payload[100:])
        except BaseException:
            run.kill()
            raise
    out, err = run.communicate(timeout=60)
    assert run.returncode == 0, err.decode()
    assert before < losscli.io.opening.PIPE_BYTES
    assert sizes[-1] == losscli.io.opening.PIPE_BYTES
    assert_close(json.loads(out)["results"][0]["value"], numpy_mse(data))


def test_a_piped_csv_gives_the_files_values_to_the_last_digit(tmp_path):
    # Three 4 MiB blocks and a last line without a line end: the pipe was cut into other blocks
    # than the mapped file, and log_cosh came out one ulp apart.
    rng = np.random.default_rng(3)
    pred = rng.normal(size=300_000)
    target = pred + rng.standard_t(3, pred.size)
    lines = [f"{p!r},{t!r}" for p, t in zip(pred.tolist(), target.tolist(), strict=True)]
    path = tmp_path / "preds.csv"
    path.write_text("pred,target\n" + "\n".join(lines))
    args = ["--loss", "mse,log_cosh", "-f", "json"]
    from_file = run_cli([*args, str(path)], b"")
    piped = run_cli([*args, "-"], path.read_bytes())
    assert from_file.code == piped.code == 0, from_file.err + piped.err
    values = [[r["value"] for r in json.loads(o.out)["results"]] for o in (from_file, piped)]
    assert values[0] == values[1]
    assert values[0][0] == pytest.approx(float(np.mean((pred - target) ** 2)), rel=1e-12)


def test_only_a_pipe_is_widened(tmp_path):
    # A file, a socket and a stream without a descriptor are left as they are, without an error.
    import socket

    path = tmp_path / "data.csv"
    path.write_bytes(b"pred,target\n1,2\n")
    left, right = socket.socketpair()
    with open(path, "rb") as file, left, right:
        for stream in (file, left, io.BytesIO(b"pred,target\n"), sys.stdin):
            losscli.io.opening.widen_pipe(stream)
        assert file.read() == b"pred,target\n1,2\n"


def test_stdin_errors_name_the_column_value_and_row():
    data = sample(rows=50)
    data["target"][36] = np.nan
    outcome = run_cli(["--loss", "mse", "-p", "pred", "-t", "target", "-"], delimited(data))
    assert_user_error(outcome, "Column 'target'", "row 37 of <stdin>")

    text = b"pred,target\n" + b"1,2\n" * 20 + b"1,abc\n"
    outcome = run_cli(["--loss", "mse", "-"], text)
    assert_user_error(outcome, "Column 'target' of <stdin>", "'abc' at row 21")


def test_stdin_error_with_more_data_behind_it_ends_cleanly():
    # Regression: an Arrow thread left reading standard input when the interpreter exited after
    # an error aborted the process ("terminate called without an active exception", exit -6)
    # in some runs. Several runs, each with megabytes still unread, make a relapse likely to show.
    tail = b"1,2\n" * 1_000_000
    inputs = [b"pred,target\n1,abc\n" + tail, gzip.compress(b"pred,target\n1,\n" + tail, 1)] * 2
    command = [*COMMAND, "eval", "--loss", "mse", "-"]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    runs = [subprocess.Popen(command, cwd=ROOT, env=process_env(), **pipes) for _ in inputs]
    for run, payload in zip(runs, inputs, strict=True):
        _, stderr = run.communicate(payload, timeout=60)
        assert run.returncode == 2, stderr.decode()
        assert "row 1" in stderr.decode()


def test_named_pipe_is_read_like_stdin(tmp_path):
    # bash's <(zcat preds.csv.gz) hands over a pipe by name: readable once, not seekable.
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    data = sample()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    source = write_data(tmp_path / "data.parquet.gz", data, "parquet", "gzip")
    copy = f"open({str(fifo)!r}, 'wb').write(open({str(source)!r}, 'rb').read())"
    feeder = subprocess.Popen([sys.executable, "-c", copy])  # waits for a reader of the pipe
    try:
        report = cli_report([str(fifo)], b"")
        assert feeder.wait(timeout=30) == 0
    finally:
        feeder.kill()
    assert_close(report["results"][0]["value"], numpy_mse(data))
    assert report["inputs"]["files"] == [str(fifo)]


def test_stdin_json_error_names_field_and_row():
    lines = b'{"pred": 1, "target": 2}\n' * 30 + b'{"pred": 1, "target": "two"}\n'
    message = "Field 'target' of <stdin> holds a string where a number is needed at row 31"
    assert_user_error(run_cli(["--loss", "mse", "-"], lines), message)


def test_stdin_empty_is_an_input_error():
    assert_user_error(run_cli(["--loss", "mse", "-"], b""), "<stdin> is empty")


# -- 4. several files, globs, directories --------------------------------------------------------
def test_several_files_of_mixed_formats_read_as_one_table(tmp_path):
    data = sample()
    one = mse(write_data(tmp_path / "all.csv", data, "csv"))
    paths = [
        write_data(tmp_path / "a.csv", part(data, 0, 100), "csv"),
        write_data(tmp_path / "b.parquet", part(data, 100, 450), "parquet", batch_rows=64),
        write_data(tmp_path / "c.jsonl.gz", part(data, 450, 451), "jsonl", "gzip"),
        write_data(tmp_path / "d.arrow", part(data, 451, ROWS), "arrow-file", batch_rows=100),
    ]
    report = losscli.evaluate(paths, "mse", pred="pred", target="target", chunk_rows=77)
    assert_close(report.results[0].value, numpy_mse(data))
    assert_close(report.results[0].value, one)
    assert report.inputs["files"] == [str(p) for p in paths]
    assert report.inputs["rows_read"] == ROWS


def test_glob_expands_in_natural_order(tmp_path):
    data = sample(rows=30)
    for number, start in ((1, 0), (2, 10), (10, 20)):
        write_data(tmp_path / f"part{number}.csv", part(data, start, start + 10), "csv")
    per_row = tmp_path / "rows.csv"
    report = losscli.evaluate(
        str(tmp_path / "part*.csv"), "mse", pred="pred", target="target", per_row=per_row
    )
    names = [Path(name).name for name in report.inputs["files"]]
    assert names == ["part1.csv", "part2.csv", "part10.csv"]
    # The per-row file follows the input rows, so it shows the order the files were read in.
    written = pa_csv.read_csv(per_row).column("mse").to_numpy()
    np.testing.assert_array_equal(written, (data["pred"] - data["target"]) ** 2)
    assert_close(report.results[0].value, numpy_mse(data))


def test_directory_with_hive_partitions_skips_hidden_and_marker_files(tmp_path):
    data = sample()
    root = tmp_path / "table"
    write_data(root / "year=2024" / "part-0.parquet", part(data, 0, 400), "parquet")
    write_data(root / "year=2024" / "part-1.parquet", part(data, 400, 500), "parquet")
    write_data(root / "year=2025" / "part-0.csv.gz", part(data, 500, ROWS), "csv", "gzip")
    (root / "_SUCCESS").write_text("")
    (root / "year=2024" / "_metadata").write_bytes(b"not data")
    (root / ".hidden.csv").write_text("pred,target\nnot,numbers\n")
    write_data(root / "_temporary" / "part-9.csv", sample(rows=5, seed=9), "csv")
    write_data(root / ".staging" / "part-9.parquet", sample(rows=5, seed=9), "parquet")
    (root / "README.md").write_text("not data")

    report = losscli.evaluate(root, "mse", pred="pred", target="target")
    relative = [Path(name).relative_to(root).as_posix() for name in report.inputs["files"]]
    assert relative == [
        "year=2024/part-0.parquet",
        "year=2024/part-1.parquet",
        "year=2025/part-0.csv.gz",
    ]
    assert_close(report.results[0].value, numpy_mse(data))
    assert_close(
        report.results[0].value, mse(write_data(tmp_path / "one.parquet", data, "parquet"))
    )


@pytest.mark.parametrize("pieces", [1, 2, 3, 7])
def test_number_of_files_does_not_change_the_value(tmp_path, pieces):
    data = sample(seed=3)
    edges = np.linspace(0, ROWS, pieces + 1).astype(int)
    paths = [
        write_data(tmp_path / f"p{k}.parquet", part(data, a, b), "parquet", batch_rows=33)
        for k, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True))
    ]
    assert_close(mse(paths), numpy_mse(data))
    assert_close(mse(paths, chunk_rows=101), mse(write_data(tmp_path / "one.csv", data, "csv")))


# -- 5. declared column types --------------------------------------------------------------------
def test_csv_integers_then_a_fraction_far_down(tmp_path):
    rows = 200_000
    pred = np.arange(rows, dtype=float) % 97
    target = np.arange(rows, dtype=float) % 89
    lines = [f"{int(p)},{int(t)}" for p, t in zip(pred, target, strict=True)]
    lines.append("0.5,0.25")
    path = tmp_path / "ints.csv"
    path.write_text("pred,target\n" + "\n".join(lines) + "\n")
    pred, target = np.append(pred, 0.5), np.append(target, 0.25)
    report = losscli.evaluate(path, "mse", pred="pred", target="target")
    assert report.inputs["rows_read"] == rows + 1
    assert_close(report.results[0].value, float(np.mean((pred - target) ** 2)))


@pytest.mark.parametrize("name", ["bad.csv", "bad.csv.gz", "bad.tsv"])
def test_non_numeric_value_names_column_value_and_row(tmp_path, name):
    rows = 150_000
    sep = "\t" if ".tsv" in name else ","
    lines = [f"{k}{sep}{k % 7}{sep}1" for k in range(rows)]
    lines[3] = f"3{sep}NA{sep}1"  # a null marker first: it is missing, not "non-numeric"
    lines[rows - 5] = f"x{sep}abc{sep}1"
    payload = (f"id{sep}pred{sep}target\n" + "\n".join(lines) + "\n").encode()
    path = tmp_path / name
    path.write_bytes(gzip.compress(payload) if name.endswith(".gz") else payload)
    message = input_error(path, nan="drop")
    assert "Column 'pred'" in message
    assert "'abc'" in message
    assert f"row {rows - 4}" in message
    assert name in message


MISSING_SPELLINGS = ["", "NA", "N/A", "n/a", "#N/A", "#NA", "NULL", "null", "nan", "NaN", "-nan"]


def test_every_missing_spelling_in_csv_is_a_missing_value(tmp_path):
    # Arrow's null markers (empty, NA, NULL, ...) and NaN's spellings, which the parser reads as
    # NaN, are all missing values: dropped alike, and the first one is the one --nan error names.
    lines = [f"{k}.5,{k % 3}" for k in range(40)]
    for row, spelling in enumerate(MISSING_SPELLINGS, start=7):
        lines[row] = f"{spelling},1"
    path = tmp_path / "missing.csv"
    path.write_text("pred,target\n" + "\n".join(lines) + "\n")
    report = losscli.evaluate(path, "mse", pred="pred", target="target", nan="drop")
    assert report.inputs["rows_dropped"] == len(MISSING_SPELLINGS)
    kept = [k for k in range(40) if not 7 <= k < 7 + len(MISSING_SPELLINGS)]
    assert_close(report.results[0].value, float(np.mean([(k + 0.5 - k % 3) ** 2 for k in kept])))
    message = input_error(path)
    assert "'pred'" in message
    assert "row 8" in message


def test_json_value_of_the_wrong_type_names_field_and_row(tmp_path):
    rows = [{"pred": 1.0, "target": 2.0}] * 40 + [{"pred": 1.0, "target": "high"}]
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    message = input_error(path)
    assert "'target'" in message
    assert "row 41" in message
    assert "bad.jsonl" in message


def test_string_column_of_a_parquet_file_is_not_a_number(tmp_path):
    table = pa.table({"pred": ["a", "b"], "target": [1.0, 2.0]})
    message = input_error(write_data(tmp_path / "s.parquet", table, "parquet"))
    assert "Column 'pred'" in message
    assert "string" in message


def test_id_column_keeps_its_type_in_json_lines(tmp_path):
    data = sample(rows=20)
    path = write_data(tmp_path / "ids.jsonl", data, "jsonl")
    per_row = tmp_path / "rows.parquet"
    value = mse(path, id_column="id", per_row=per_row)
    assert_close(value, numpy_mse(data))
    written = pq.read_table(per_row)
    assert written.column("id").to_pylist() == list(range(20))


def test_id_column_of_a_csv_is_copied_verbatim(tmp_path, monkeypatch):
    monkeypatch.setattr(losscli.io.text_readers, "BLOCK_BYTES", 32)  # each block infers on its own
    ids = ["007", "12", "x9"] * 20
    path = tmp_path / "ids.csv"
    path.write_text("id,pred,target\n" + "".join(f"{i},1,{k % 3}\n" for k, i in enumerate(ids)))
    per_row = tmp_path / "rows.parquet"
    value = mse(path, id_column="id", per_row=per_row)
    assert_close(value, float(np.mean((1 - np.arange(60) % 3) ** 2)))
    assert pq.read_table(per_row).column("id").to_pylist() == ids


# -- 6. a second file of targets ------------------------------------------------------------------
def test_targets_file_aligned_across_formats_and_batch_sizes(tmp_path):
    data = sample()
    preds = write_data(tmp_path / "preds.csv", {"pred": data["pred"]}, "csv")
    truth = write_data(
        tmp_path / "truth.parquet", {"y": data["target"], "w": data["id"]}, "parquet", batch_rows=37
    )
    for chunk_rows in (1_000_000, 50, 7):
        report = losscli.evaluate(
            preds, "mse", pred="pred", target="y", targets=truth, chunk_rows=chunk_rows
        )
        assert_close(report.results[0].value, numpy_mse(data))
        assert report.inputs["targets"] == [str(truth)]


def test_targets_file_with_one_column_needs_no_target_name(tmp_path):
    data = sample()
    preds = write_data(
        tmp_path / "preds.arrow", {"score": data["pred"]}, "arrow-file", batch_rows=90
    )
    truth = write_data(tmp_path / "truth.jsonl.gz", {"outcome": data["target"]}, "jsonl", "gzip")
    report = losscli.evaluate(preds, "mse", targets=truth, chunk_rows=64)
    assert_close(report.results[0].value, numpy_mse(data))


def test_targets_from_several_files_line_up_with_one_predictions_file(tmp_path):
    data = sample()
    preds = write_data(
        tmp_path / "preds.parquet", {"pred": data["pred"]}, "parquet", batch_rows=100
    )
    truth = [
        write_data(tmp_path / "t1.csv", {"target": data["target"][:333]}, "csv"),
        write_data(tmp_path / "t2.csv", {"target": data["target"][333:]}, "csv"),
    ]
    assert_close(mse(preds, targets=truth, chunk_rows=128), numpy_mse(data))


@pytest.mark.parametrize(("pred_rows", "target_rows"), [(100, 90), (90, 100), (5, 1000)])
def test_targets_row_count_mismatch_gives_both_counts(tmp_path, pred_rows, target_rows):
    preds = write_data(tmp_path / "preds.csv", {"pred": np.ones(pred_rows)}, "csv")
    truth = write_data(tmp_path / "truth.parquet", {"target": np.ones(target_rows)}, "parquet")
    message = input_error(preds, targets=truth, chunk_rows=16)
    assert f"has {pred_rows} rows" in message
    assert f"has {target_rows}" in message
    assert "truth.parquet" in message


# -- 7. vector roles -------------------------------------------------------------------------------
def test_column_group_glob_pairs_columns_in_natural_order(tmp_path):
    # Predictions p1..p12 (natural order differs from lexical order) against zero-padded t01..t12
    # (both orders agree), so only natural expansion pairs p2 with t02.
    rng = np.random.default_rng(5)
    width, rows = 12, 200
    preds = rng.normal(size=(rows, width))
    trues = rng.normal(size=(rows, width))
    data = {f"p{k + 1}": preds[:, k] for k in range(width)}
    data |= {f"t{k + 1:02d}": trues[:, k] for k in range(width)}
    path = write_data(tmp_path / "wide.parquet", data, "parquet")
    value = losscli.evaluate(path, "mse", pred="p*", target="t*").results[0].value
    assert_close(value, float(np.mean((preds - trues) ** 2)))
    lexical = sorted(range(width), key=lambda k: str(k + 1))
    assert not math.isclose(value, float(np.mean((preds[:, lexical] - trues) ** 2)), rel_tol=1e-6)


def test_comma_list_keeps_the_order_given(tmp_path):
    rng = np.random.default_rng(6)
    data = {name: rng.normal(size=50) for name in ("a", "b", "x", "y")}
    path = write_data(tmp_path / "pairs.csv", data, "csv")
    value = losscli.evaluate(path, "mse", pred="b,a", target="x,y").results[0].value
    pairs = np.column_stack([data["b"], data["a"]]) - np.column_stack([data["x"], data["y"]])
    assert_close(value, float(np.mean(pairs**2)))


@pytest.mark.parametrize("fmt", ["parquet", "arrow-file", "feather", "jsonl"])
def test_list_and_fixed_size_list_columns_are_vectors(tmp_path, fmt):
    rng = np.random.default_rng(7)
    preds, trues = rng.normal(size=(300, 3)), rng.normal(size=(300, 3))
    table = pa.table(
        {
            "pred": pa.array(list(preds), pa.list_(pa.float64())),
            "target": pa.FixedSizeListArray.from_arrays(pa.array(trues.reshape(-1)), 3),
        }
    )
    data = table if fmt != "jsonl" else {"pred": list(preds), "target": list(trues)}
    path = write_data(tmp_path / f"vectors.{fmt}", data, fmt, batch_rows=64)
    value = mse(path, chunk_rows=50)
    assert_close(value, float(np.mean((preds - trues) ** 2)))


@pytest.mark.parametrize("fmt", ["parquet", "arrow-file", "jsonl"])
def test_ragged_list_column_names_the_row(tmp_path, fmt):
    lists = [[1.0, 2.0]] * 60
    lists[44] = [1.0]
    table = pa.table({"pred": pa.array(lists), "target": pa.array(lists)})
    data = table if fmt != "jsonl" else {"pred": lists, "target": lists}
    path = write_data(tmp_path / f"ragged.{fmt}", data, fmt, batch_rows=10)
    message = input_error(path)
    assert "'pred'" in message
    assert "row 45" in message


def test_list_width_must_agree_across_batches_and_files(tmp_path):
    narrow = pa.table({"pred": [[1.0, 2.0]] * 20, "target": [[0.0, 0.0]] * 20})
    wide = pa.table({"pred": [[1.0, 2.0, 3.0]] * 20, "target": [[0.0, 0.0, 0.0]] * 20})
    mixed = pa.concat_tables([narrow, wide])
    path = write_data(tmp_path / "mixed.arrow", mixed, "arrow-file", batch_rows=10)
    message = input_error(path)
    assert "'pred' has 3 values at row 21" in message
    assert "but 2 at row 1" in message
    other = write_data(tmp_path / "wide.parquet", wide, "parquet")
    message = input_error([write_data(tmp_path / "narrow.parquet", narrow, "parquet"), other])
    assert f"at row 1 of {other}" in message


def test_null_list_names_the_row(tmp_path):
    lists: list[Any] = [[1.0, 2.0]] * 30
    lists[0] = None
    table = pa.table({"pred": pa.array(lists, pa.list_(pa.float64())), "target": [[0.0, 0.0]] * 30})
    message = input_error(write_data(tmp_path / "null.parquet", table, "parquet"))
    assert "'pred'" in message
    assert "row 1" in message


# -- 8. missing values -----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_nan_error_names_column_and_row_in_a_later_chunk(tmp_path, fmt):
    data = sample()
    data["target"][733] = np.nan
    path = write_data(tmp_path / f"gap.{fmt}", data, fmt, batch_rows=100)
    message = input_error(path, chunk_rows=64)
    assert "Column 'target'" in message
    assert "row 734" in message
    assert "pass nan drop" in message  # the Python parameter: the CLI says --nan


def test_nan_error_in_the_second_file_names_it(tmp_path):
    data = sample()
    data["pred"][600] = np.nan
    first = write_data(tmp_path / "a.csv", part(data, 0, 500), "csv")
    second = write_data(tmp_path / "b.parquet", part(data, 500, ROWS), "parquet", batch_rows=30)
    message = input_error([first, second], chunk_rows=64)
    assert "Column 'pred'" in message
    assert f"row 101 of {second}" in message


def test_nan_drop_skips_and_counts_the_rows(tmp_path):
    data = sample()
    bad = np.zeros(ROWS, dtype=bool)
    bad[[0, 17, 500, 999]] = True
    data["pred"][[0, 500]] = np.nan
    data["target"][[17, 999]] = np.nan
    path = write_data(tmp_path / "gaps.csv.gz", data, "csv", "gzip")
    report = losscli.evaluate(path, "mse", pred="pred", target="target", nan="drop", chunk_rows=99)
    assert report.inputs["rows_dropped"] == 4
    assert report.inputs["rows_used"] == ROWS - 4
    assert report.results[0].n == ROWS - 4
    kept = {"pred": data["pred"][~bad], "target": data["target"][~bad]}
    assert_close(report.results[0].value, numpy_mse(kept))


def test_nan_propagate_gives_nan(tmp_path):
    data = sample()
    data["target"][3] = np.nan
    path = write_data(tmp_path / "gap.parquet", data, "parquet")
    assert math.isnan(mse(path, nan="propagate"))


def test_parquet_null_counts_as_missing(tmp_path):
    table = pa.table({"pred": [1.0, None, 3.0], "target": [1.0, 1.0, 1.0]})
    path = write_data(tmp_path / "nulls.parquet", table, "parquet")
    assert "row 2" in input_error(path)
    assert_close(mse(path, nan="drop"), 2.0)


def test_every_row_missing_is_an_input_error(tmp_path):
    path = tmp_path / "holes.csv"
    path.write_text("pred,target\n,1\n2,\n")
    assert "Every one of the 2 rows" in input_error(path, nan="drop")


# -- 9. bad files ------------------------------------------------------------------------------
def _truncated_parquet(path: Path) -> None:
    payload = encode(sample(), "parquet")
    path.write_bytes(payload[: len(payload) // 2])


def _truncated_arrow(path: Path) -> None:
    payload = encode(sample(), "arrow-file")
    path.write_bytes(payload[: len(payload) - 100])


def _truncated_gzip(path: Path) -> None:
    payload = gzip.compress(delimited(sample(rows=20_000)))
    path.write_bytes(payload[: len(payload) // 2])


BAD_FILES = [
    ("empty.csv", lambda p: p.write_bytes(b""), ["empty.csv is empty"]),
    ("empty.parquet", lambda p: p.write_bytes(b""), ["empty.parquet is empty"]),
    ("header.csv", lambda p: p.write_text("pred,target\n"), ["header.csv has no data rows"]),
    ("header.csv.gz", lambda p: p.write_bytes(gzip.compress(b"pred,target\n")), ["no data rows"]),
    ("cut.parquet", _truncated_parquet, ["cut.parquet", "Parquet"]),
    ("cut.arrow", _truncated_arrow, ["cut.arrow", "Arrow"]),
    ("cut.csv.gz", _truncated_gzip, ["cut.csv.gz", "runcated"]),
    (
        "long.csv",
        lambda p: p.write_text("pred,target\n1,2\n1,2,3\n"),
        ["long.csv", "3 fields but the header has 2 at row 2"],
    ),
    (
        "short.csv",
        lambda p: p.write_text("pred,target\n1,2\n3,4\n5\n"),
        ["short.csv", "1 field but the header has 2 at row 3"],
    ),
    ("garbage.csv", lambda p: p.write_bytes(bytes(range(256)) * 40), ["garbage.csv"]),
    ("random.csv", lambda p: p.write_bytes(np.random.default_rng(0).bytes(5000)), ["random.csv"]),
    ("notgzip.csv.gz", lambda p: p.write_text("pred,target\n1,2\n"), ["notgzip.csv.gz", "gzip"]),
    ("notbz2.csv.bz2", lambda p: p.write_text("pred,target\n1,2\n"), ["notbz2.csv.bz2"]),
    ("first.jsonl", lambda p: p.write_text("[1, 2]\n"), ["first.jsonl", "not a JSON object"]),
    (
        "later.jsonl",
        lambda p: p.write_text('{"pred": 1, "target": 2}\nnot json\n'),
        ["later.jsonl", "JSON"],
    ),
    ("nocol.csv", lambda p: p.write_text("a,b\n1,2\n"), ["Column 'pred'", "nocol.csv", "a, b"]),
]


@pytest.mark.parametrize(("name", "build", "expected"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_file_is_an_input_error_that_says_what_and_where(tmp_path, name, build, expected):
    path = tmp_path / name
    build(path)
    message = input_error(path)
    for text in expected:
        assert text in message


def test_missing_file_glob_and_empty_directory(tmp_path):
    assert "No such file" in input_error(tmp_path / "absent.csv")
    assert "absent.csv" in input_error(tmp_path / "absent.csv")
    assert "No file matches" in input_error(str(tmp_path / "nothing*.parquet"))
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    (empty / "notes.md").write_text("no data here")
    (empty / "_SUCCESS").write_text("")
    assert "holds no data files" in input_error(empty)


def test_missing_column_in_the_second_file_names_it(tmp_path):
    first = write_data(tmp_path / "a.csv", sample(rows=10), "csv")
    second = write_data(
        tmp_path / "b.parquet", {"pred": np.ones(3), "truth": np.ones(3)}, "parquet"
    )
    message = input_error([first, second])
    assert str(second) in message
    assert "'target'" in message


def test_stdin_named_twice_is_an_input_error():
    with pytest.raises(InputError, match="only once"):
        mse(["-", "-"])


def test_unreadable_file_is_an_input_error(tmp_path, monkeypatch):
    path = write_data(tmp_path / "locked.csv", sample(rows=3), "csv")
    deny_opening(monkeypatch, path)
    message = input_error(path)
    assert "locked.csv" in message
    assert "Permission denied" in message


def test_failed_read_leaves_no_spooled_file(tmp_path, monkeypatch):
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    payload = encode(sample(), "parquet")
    path = tmp_path / "cut.parquet.gz"
    path.write_bytes(gzip.compress(payload[: len(payload) // 2]))
    assert "cut.parquet.gz" in input_error(path)
    assert list(spool.iterdir()) == []


# -- 10. bounded memory -------------------------------------------------------------------------
def test_no_chunk_exceeds_chunk_rows(tmp_path, monkeypatch):
    rows, chunk_rows = 50_000, 1_000
    data = sample(rows=rows)
    path = write_data(tmp_path / "many.csv", data, "csv")
    seen: list[int] = []
    real = losscli.api.evaluate_stream

    def counting(chunks, *args, **kwargs):
        def watched():
            for chunk in chunks:
                seen.append(chunk.size)
                yield chunk

        return real(watched(), *args, **kwargs)

    monkeypatch.setattr(losscli.api, "evaluate_stream", counting)
    progress: list[int] = []
    value = mse(path, chunk_rows=chunk_rows, on_progress=progress.append)
    assert_close(value, numpy_mse(data))
    assert sum(seen) == rows
    assert max(seen) <= chunk_rows
    assert len(seen) >= rows // chunk_rows
    assert progress == list(np.cumsum(seen))


@pytest.mark.parametrize("chunk_rows", [1, 13, 256, 10**6])
def test_chunk_rows_does_not_change_the_value(tmp_path, chunk_rows):
    data = sample(rows=400)
    path = write_data(tmp_path / "data.arrows", data, "arrow-stream", batch_rows=37)
    assert_close(mse(path, chunk_rows=chunk_rows), numpy_mse(data))


def test_temporary_files_are_not_left_behind_after_stdin_parquet(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    data = sample()
    env = process_env(TMPDIR=str(spool))
    outcome = run_process(
        "eval", "-l", "mse", "-f", "json", "-", stdin=encode(data, "parquet"), env=env
    )
    assert_close(value_of(outcome), numpy_mse(data))
    assert list(spool.iterdir()) == []


def test_a_missing_target_in_a_targets_file_names_that_file(tmp_path):
    preds = tmp_path / "preds.csv"
    preds.write_text("pred\n1\n2\n3\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("label,source\n1,a\n,b\n3,c\n")
    with pytest.raises(InputError, match=r"'label' .* at row 2 of .*labels\.csv"):
        losscli.evaluate(str(preds), "mse", target="label", targets=str(labels))


def test_a_missing_value_in_the_first_of_several_files_names_the_file(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("pred,target\n1,1\n,2\n")
    second.write_text("pred,target\n1,1\n")
    with pytest.raises(InputError, match=r"'pred' .* at row 2 of .*a\.csv"):
        losscli.evaluate([str(first), str(second)], "mse")


STORED = [pa.int8(), pa.int32(), pa.int64(), pa.uint16(), pa.uint64(), pa.float16(), pa.float32()]


@pytest.mark.parametrize("kind", STORED)
def test_every_stored_number_type_reads_as_float64_with_nulls_as_nan(kind):
    from losscli.io.chunks import to_numbers

    column = pa.array([3, None, 0, 7, 1, None, 2], type=kind).slice(1, 5)  # an offset too
    values = to_numbers(column, "label", "labels.parquet")
    assert values.dtype == np.float64
    np.testing.assert_array_equal(values, [np.nan, 0.0, 7.0, 1.0, np.nan])
    whole = to_numbers(pa.chunked_array([[5, 6], [100]], type=kind), "label", "labels.parquet")
    np.testing.assert_array_equal(whole, [5.0, 6.0, 100.0])


@pytest.mark.parametrize("reader", ["arrow", "fallback"])
def test_parquet_columns_read_alike_by_either_parquet_reader(tmp_path, monkeypatch, reader):
    """Arrow's own Parquet reader is used directly; pyarrow.parquet's ParquetFile stands in for it
    should a pyarrow release change it. Both select list and plain columns by name, in order."""
    import pyarrow._parquet

    import losscli.io.arrow_readers

    if reader == "fallback":

        class Changed:
            def open(self, *args, **kwargs):
                raise TypeError("open() got an unexpected keyword argument 'pre_buffer'")

        monkeypatch.setattr(pyarrow._parquet, "ParquetReader", Changed)
    rng = np.random.default_rng(4)
    n = 1_000
    logits = rng.normal(size=(n, 3))
    label = rng.integers(0, 3, size=n)
    table = pa.table(
        {
            "unused": rng.normal(size=n),
            "logits": pa.array(list(logits), type=pa.list_(pa.float64())),
            "label": label,
            "target": rng.normal(size=n),
            "pred": rng.normal(size=n),
        }
    )
    path = tmp_path / "mixed.parquet"
    pq.write_table(table, path, row_group_size=300)
    opened = losscli.io.arrow_readers.open_parquet(str(path))
    assert hasattr(opened, "column_paths") == (reader == "arrow")
    opened.close()

    ce = losscli.evaluate(path, "ce", "logits", "label", chunk_rows=128)["ce"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert ce == pytest.approx(-log_softmax[np.arange(n), label].mean(), rel=1e-13)
    # Asked for in the other order than stored; pinball tells pred from target.
    spec = "pinball:alpha=0.9"
    pinball = losscli.evaluate(path, spec, "pred", "target", chunk_rows=128)[spec]
    error = table["target"].to_numpy() - table["pred"].to_numpy()
    assert pinball == pytest.approx(np.maximum(0.9 * error, -0.1 * error).mean(), rel=1e-13)


@pytest.mark.parametrize("inflater", ["isal", "arrow"])
def test_gzip_reads_alike_with_or_without_isal(tmp_path, monkeypatch, capsys, inflater):
    """ISA-L inflates gzip where the isal package is installed; without it, Arrow's zlib does.
    Both read every member of a multi-member file, and both call a cut file truncated."""
    import sys

    from tests.test_cli import run

    if inflater == "arrow":
        monkeypatch.setitem(sys.modules, "isal", None)  # import isal fails
    rng = np.random.default_rng(4)
    pred, target = rng.normal(size=50_000), rng.normal(size=50_000)
    rows = [f"{p!r},{t!r}\n" for p, t in zip(pred.tolist(), target.tolist(), strict=True)]
    half = len(rows) // 2
    path = tmp_path / "members.csv.gz"
    path.write_bytes(
        gzip.compress(("pred,target\n" + "".join(rows[:half])).encode())
        + gzip.compress("".join(rows[half:]).encode())
    )
    assert_close(mse(path), float(np.mean((pred - target) ** 2)))
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(path.read_bytes()[:20_000])
    outcome = run(capsys, "eval", "-l", "mse", str(cut))
    assert outcome.code == 2 and "truncated" in outcome.err.lower() and "cut.csv.gz" in outcome.err
