"""Inputs as users have them: Hive-partitioned directories, odd file names and permissions, names
that lie about the bytes, archives, text that is not UTF-8, raw bytes in messages, and files of one
table that disagree with each other.

Every refusal is checked the way a user meets it, through the command: exit code 2, nothing on
stdout, at most three lines on stderr and no traceback. Every value read is checked against the
same numbers computed another way (NumPy, or the same rows from one plain file).
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import json
import lzma
import os
import pwd
import shutil
import tarfile
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import losscli
from losscli.errors import InputError, UsageError
from tests.conftest import (
    SIMPLE,
    SIMPLE_MSE,
    Outcome,
    assert_user_error,
    deny_opening,
    encode,
    groups_of,
    run,
    run_process,
    value_of,
    write,
)

CSV = SIMPLE.encode()  # squared errors 0.25, 0, 4
CSV_MSE = SIMPLE_MSE


def eval_json(capsys, *args: object) -> Outcome:
    return run(capsys, "eval", "-l", "mse", "-f", "json", *args)


def table(pred: list[float], target: list[float], **more: list) -> pa.Table:
    return pa.table({"pred": pred, "target": target, **more})


def columns(pred: list[float], target: list[float]) -> dict[str, np.ndarray]:
    """Float64 arrays by name, as :func:`tests.conftest.encode` writes them exactly."""
    return {"pred": np.asarray(pred, dtype=float), "target": np.asarray(target, dtype=float)}


def squared_mean(pred: list[float], target: list[float]) -> float:
    return float(np.mean((np.asarray(pred) - np.asarray(target)) ** 2))


# -- 1. Hive-partitioned directories -----------------------------------------------------------
@pytest.fixture
def hive(tmp_path: Path) -> Path:
    """Three partitions in three formats: region (text), day (a date: text), shard (integers)."""
    root = tmp_path / "table"
    parts = {
        "region=eu/day=2026-01-01/shard=1/part-0.parquet": ([1.0, 2.0], [1.5, 2.0]),
        "region=eu/day=2026-01-02/shard=2/part-0.csv.gz": ([3.0], [5.0]),
        "region=us/day=2026-01-01/shard=10/part-0.jsonl": ([0.0, 1.0, 4.0], [1.0, 1.0, 1.0]),
    }
    for relative, (pred, target) in parts.items():
        path = root / relative
        path.parent.mkdir(parents=True)
        fmt = path.name.split(".")[1]
        payload = encode(columns(pred, target), fmt)
        path.write_bytes(gzip.compress(payload) if path.name.endswith(".gz") else payload)
    return root


def test_partition_keys_group_rows_like_columns(capsys, hive):
    groups = groups_of(eval_json(capsys, hive, "--by", "region,day"))
    assert groups == {
        ("eu", "2026-01-01"): (squared_mean([1, 2], [1.5, 2]), 2),
        ("eu", "2026-01-02"): (4.0, 1),
        ("us", "2026-01-01"): (squared_mean([0, 1, 4], [1, 1, 1]), 3),
    }
    # Integer keys come out as integers, in numeric order (10 after 2), not as text.
    by_shard = groups_of(eval_json(capsys, hive, "--by", "shard"))
    assert list(by_shard) == [(1,), (2,), (10,)]


def test_numeric_partition_key_serves_as_weight_and_role(capsys, hive):
    pred = [1.0, 2.0, 3.0, 0.0, 1.0, 4.0]
    target = [1.5, 2.0, 5.0, 1.0, 1.0, 1.0]
    shard = [1, 1, 2, 10, 10, 10]
    weighted = value_of(eval_json(capsys, hive, "-w", "shard"))
    errors = (np.asarray(pred) - np.asarray(target)) ** 2
    assert weighted == pytest.approx(np.average(errors, weights=shard), rel=1e-12)
    # The same numbers as an ordinary column give the same gaussian_nll, with shard as var.
    in_memory = {"pred": pred, "target": target, "v": np.asarray(shard, dtype=float)}
    expected = losscli.evaluate(in_memory, "gaussian_nll", columns={"var": "v"}).results[0].value
    outcome = run(capsys, "eval", "-l", "gaussian_nll", "-f", "json", hive, "--col", "var=shard")
    assert value_of(outcome) == pytest.approx(expected, rel=1e-12)


def test_text_partition_key_as_weight_is_refused(capsys, hive):
    assert_user_error(eval_json(capsys, hive, "-w", "region"), "'region'", "not numbers")


def test_partition_key_in_per_row_ids_and_python_api(capsys, hive, tmp_path):
    per_row = tmp_path / "rows.csv"
    outcome = eval_json(capsys, hive, "--id", "day", "--per-row", per_row)
    assert outcome.code == 0, outcome
    days = [line.split(",")[0] for line in per_row.read_text().splitlines()[1:]]
    assert days == ['"2026-01-01"'] * 2 + ['"2026-01-02"'] + ['"2026-01-01"'] * 3
    report = losscli.evaluate(hive, "mse", by="region")
    groups = {tuple(r.group.values()): r.n for r in report.results if r.group}
    assert groups == {("eu",): 3, ("us",): 3}


def test_partition_type_is_decided_over_all_files(capsys, tmp_path):
    root = tmp_path / "t"
    # '1' alone would be an integer, '2.5' a number, 'x' makes the key text everywhere;
    # '007' keeps its zeros: a number never has them.
    for key, values in {"k": ["1", "2.5", "x"], "code": ["007", "010"], "f": ["1", "2.5"]}.items():
        for value in values:
            path = root / key / f"{key}={value}" / "part.csv"
            path.parent.mkdir(parents=True)
            path.write_bytes(CSV)
    assert list(groups_of(eval_json(capsys, root / "k", "--by", "k"))) == [("1",), ("2.5",), ("x",)]
    assert list(groups_of(eval_json(capsys, root / "code", "--by", "code"))) == [
        ("007",),
        ("010",),
    ]
    assert list(groups_of(eval_json(capsys, root / "f", "--by", "f"))) == [(1,), (2.5,)]


def test_hive_default_partition_is_a_null(capsys, tmp_path):
    for value in ("3", "__HIVE_DEFAULT_PARTITION__"):
        path = tmp_path / f"w={value}" / "part.csv"
        path.parent.mkdir()
        path.write_bytes(CSV)
    groups = groups_of(eval_json(capsys, tmp_path, "--by", "w"))
    assert groups == {(3,): (CSV_MSE, 3), (None,): (CSV_MSE, 3)}
    assert_user_error(eval_json(capsys, tmp_path, "-w", "w"), "'w'", "__HIVE_DEFAULT_PARTITION__")
    assert value_of(eval_json(capsys, tmp_path, "-w", "w", "--nan", "drop")) == CSV_MSE


def test_partition_key_that_is_also_a_column_is_refused(capsys, tmp_path):
    path = tmp_path / "region=eu" / "part.csv"
    path.parent.mkdir()
    path.write_text("pred,target,region\n1,2,us\n")
    assert_user_error(eval_json(capsys, tmp_path), "'region'", str(path), "two readings")


@pytest.mark.parametrize(
    "other", ["top.csv", "region=eu/day=1/deeper.csv", "day=1/region=eu/swapped.csv"]
)
def test_files_under_different_partition_keys_are_refused(capsys, tmp_path, other):
    (tmp_path / "region=eu").mkdir()
    (tmp_path / "region=eu" / "a.csv").write_bytes(CSV)
    (tmp_path / other).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / other).write_bytes(CSV)
    assert_user_error(eval_json(capsys, tmp_path), other.split("/")[-1], "partition keys")


# -- 2. odd file names and permissions ---------------------------------------------------------
@pytest.mark.parametrize("name", ["data[1].csv", "a*b.csv", "q?.csv"])
def test_existing_file_with_glob_characters_is_that_file(capsys, tmp_path, name):
    (tmp_path / name).write_bytes(CSV)
    # What the name matches as a glob: a file that must not be read instead.
    decoy = {"data[1].csv": "data1.csv", "a*b.csv": "axb.csv", "q?.csv": "qz.csv"}[name]
    (tmp_path / decoy).write_text("pred,target\n0,100\n")
    outcome = eval_json(capsys, tmp_path / name)
    assert value_of(outcome) == CSV_MSE
    assert json.loads(outcome.out)["inputs"]["files"] == [str(tmp_path / name)]


def test_a_pattern_without_such_a_file_is_still_a_glob(capsys, tmp_path):
    (tmp_path / "data1.csv").write_bytes(CSV)
    assert value_of(eval_json(capsys, tmp_path / "data[1].csv")) == CSV_MSE


def refuse_listing(monkeypatch, locked: Path) -> None:
    """Listing ``locked`` fails as it does for a user without read permission on it.

    Tests run as root here, where mode 000 stops nothing; the listing itself is made to fail.
    """
    real_scandir = os.scandir

    def scandir(path=".", *args):
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path, *args)

    monkeypatch.setattr(os, "scandir", scandir)


@pytest.mark.parametrize("nested", [False, True])
def test_unreadable_directory_says_permission_denied(capsys, tmp_path, monkeypatch, nested):
    (tmp_path / "a.csv").write_bytes(CSV)
    locked = tmp_path / "sub" if nested else tmp_path
    locked.mkdir(exist_ok=True)
    refuse_listing(monkeypatch, locked)
    assert_user_error(eval_json(capsys, tmp_path), "permission denied", str(locked))


def test_unreadable_file_says_permission_denied(capsys, tmp_path, monkeypatch):
    path = write(tmp_path / "locked.csv", CSV)
    deny_opening(monkeypatch, path)
    assert_user_error(eval_json(capsys, path), "Permission denied", str(path))


@contextlib.contextmanager
def without_privileges() -> Iterator[None]:
    """Permission bits apply in this block: as root, the effective user is 'nobody' meanwhile.

    Only the effective user changes (the real one stays root), so it can be changed back. A child
    process as 'nobody' could not run this interpreter, which lives under /root here.
    """
    if os.geteuid() != 0:
        yield
        return
    nobody = pwd.getpwnam("nobody")
    os.setegid(nobody.pw_gid)
    os.seteuid(nobody.pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder anyone may enter: pytest's own tmp_path is root's alone (mode 700)."""
    folder = Path(tempfile.mkdtemp(prefix="losscli-perm-"))
    folder.chmod(0o755)
    yield folder
    for path in folder.rglob("*"):
        path.chmod(0o755)
    shutil.rmtree(folder)


def test_mode_000_file_and_directory_are_refused(capsys, open_folder):
    readable = write(open_folder / "readable.csv", CSV)
    readable.chmod(0o644)
    locked = open_folder / "locked"
    locked.mkdir()
    (locked / "a.csv").write_bytes(CSV)
    file = write(open_folder / "locked.csv", CSV)
    locked.chmod(0)
    file.chmod(0)
    assert value_of(eval_json(capsys, readable)) == CSV_MSE  # every module a run needs, loaded
    with without_privileges():
        assert value_of(eval_json(capsys, readable)) == CSV_MSE
        folder_outcome = eval_json(capsys, locked)
        file_outcome = eval_json(capsys, file)
    assert_user_error(folder_outcome, "permission denied", str(locked))
    assert_user_error(file_outcome, "Permission denied", str(file))


# -- 3. names that lie, archives, text that is not UTF-8 ---------------------------------------
def arrow_stream(data: dict[str, np.ndarray]) -> bytes:
    return encode(data, "arrow-stream")


LYING = {
    "parquet.csv": lambda t: encode(t, "parquet"),
    "arrow.jsonl": lambda t: encode(t, "arrow-file"),
    "stream.csv": arrow_stream,
    "gzip.csv": lambda t: gzip.compress(encode(t, "csv")),
    "bz2.parquet": lambda t: bz2.compress(encode(t, "parquet")),
    "gz.csv.bz2": lambda t: gzip.compress(encode(t, "csv")),
    "xz.csv": lambda t: lzma.compress(encode(t, "csv")),
    "real.csv.xz": lambda t: lzma.compress(encode(t, "csv")),
    "real.tsv.lz4": lambda t: pa.compress(encode(t, "tsv"), codec="lz4", asbytes=True),
}


@pytest.mark.parametrize("name", list(LYING))
def test_unambiguous_magic_bytes_win_over_the_name(capsys, tmp_path, name):
    data = columns([1.0, 2.0, 3.0], [1.5, 2.0, 5.0])
    (tmp_path / name).write_bytes(LYING[name](data))
    assert value_of(eval_json(capsys, tmp_path / name)) == CSV_MSE


def test_xz_from_standard_input():
    outcome = run_process("eval", "-l", "mse", "-f", "json", stdin=lzma.compress(CSV))
    assert value_of(outcome) == CSV_MSE


def test_text_named_as_parquet_is_refused_with_a_fix(capsys, tmp_path):
    path = write(tmp_path / "data.parquet", CSV)
    assert_user_error(eval_json(capsys, path), str(path), "look like text", "--input-format csv")
    assert value_of(eval_json(capsys, path, "--input-format", "csv")) == CSV_MSE


def test_text_named_as_compressed_is_refused(capsys, tmp_path):
    path = write(tmp_path / "data.csv.zst", CSV)
    assert_user_error(eval_json(capsys, path), str(path), "zstd", "look like text")


def test_pipe_named_as_compressed_over_plain_text_is_refused(tmp_path):
    pipe = tmp_path / "fifo.csv.gz"
    os.mkfifo(pipe)

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError), open(pipe, "wb") as sink:
            sink.write(CSV)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    outcome = run_process("eval", "-l", "mse", pipe)
    writer.join(timeout=10)
    assert_user_error(outcome, str(pipe), "gzip", "look like text")


NOT_UTF8 = {
    "utf16-bom.csv": ("pred,target\n1,2\n".encode("utf-16"), "UTF-16"),
    "utf16-bare.csv": ("pred,target\n1,2\n".encode("utf-16-le"), "UTF-16"),
    "garbage.csv": (np.random.default_rng(1).bytes(3000).replace(b"\x00", b"\x01"), "binary"),
    "zeros.tsv": (b"pred\ttarget\n" + bytes(200), "binary"),
}


@pytest.mark.parametrize("name", list(NOT_UTF8))
def test_text_that_is_not_utf8_is_one_line(capsys, tmp_path, name):
    payload, what = NOT_UTF8[name]
    (tmp_path / name).write_bytes(payload)
    assert_user_error(eval_json(capsys, tmp_path / name), name, what)


def test_utf16_on_standard_input_is_refused():
    outcome = run_process("eval", "-l", "mse", stdin="pred,target\n1,2\n".encode("utf-16"))
    assert_user_error(outcome, "<stdin>", "UTF-16")


def zipped(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return path


def test_zip_of_one_data_file_is_read(capsys, tmp_path):
    one = zipped(tmp_path / "one.zip", {"preds/data.csv": CSV, "__MACOSX/._data.csv": b"x"})
    assert value_of(eval_json(capsys, one)) == CSV_MSE
    parquet = zipped(
        tmp_path / "named.csv", {"p.parquet": encode(columns([3.0], [5.0]), "parquet")}
    )
    assert value_of(eval_json(capsys, parquet)) == 4.0


def test_zip_of_several_files_is_refused(capsys, tmp_path):
    two = zipped(tmp_path / "two.zip", {"a.csv": CSV, "b.csv": CSV})
    assert_user_error(eval_json(capsys, two), str(two), "2 files", "unzip")
    assert_user_error(run_process("eval", "-l", "mse", stdin=two.read_bytes()), "zip", "unzip -p")


def damaged(payload: bytes, how: str) -> bytes:
    """``payload`` cut in half, or with 200 bytes in its middle zeroed."""
    middle = len(payload) // 2
    return (
        payload[:middle]
        if how == "cut"
        else payload[:middle] + bytes(200) + payload[middle + 200 :]
    )


def with_method(archive: bytes, method: int) -> bytes:
    """A zip of one member, its compression method field set to ``method`` (9: Deflate64)."""
    patched = bytearray(archive)
    for header, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = patched.find(header) + offset
        patched[at : at + 2] = method.to_bytes(2, "little")
    return bytes(patched)


def test_damaged_xz_and_zip_are_input_errors(capsys, tmp_path):
    # Random digits: compressed, they are long enough for the damage to fall in the data.
    numbers = np.random.default_rng(2).integers(0, 10**6, size=(20_000, 2))
    rows = b"pred,target\n" + "".join(f"{a},{b}\n" for a, b in numbers).encode()
    archive = zipped(tmp_path / "z", {"a.csv": rows}).read_bytes()
    small = zipped(tmp_path / "y", {"a.csv": CSV}).read_bytes()
    cases = {
        "cut.csv.xz": (damaged(lzma.compress(rows), "cut"), "ended before"),
        "corrupt.csv.xz": (damaged(lzma.compress(rows), "zeroed"), "corrupt"),
        "corrupt.zip": (damaged(archive, "zeroed"), "as zip-compressed CSV"),
        "deflate64.zip": (with_method(small, 9), "method"),
    }
    for name, (payload, fragment) in cases.items():
        (tmp_path / name).write_bytes(payload)
        assert_user_error(eval_json(capsys, tmp_path / name), name, fragment)


def tar_bytes(tmp_path: Path) -> bytes:
    source = write(tmp_path / "inside.csv", CSV)
    archive = tmp_path / "made.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(source, arcname="inside.csv")
    return archive.read_bytes()


ARCHIVES = {
    "data.tar.gz": (lambda tmp: gzip.compress(tar_bytes(tmp)), "tar -xf"),
    "tarred.csv": (tar_bytes, "tar archive"),
    "tarred.csv.gz": (lambda tmp: gzip.compress(tar_bytes(tmp)), "tar archive"),
    "book.xlsx": (lambda tmp: CSV, "Excel"),
    "book.csv": (
        lambda tmp: zipped(tmp / "b.zip", {"xl/workbook.xml": b"<x/>"}).read_bytes(),
        "Excel",
    ),
    "old.csv": (lambda tmp: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "Excel"),
    "data.7z": (lambda tmp: b"7z\xbc\xaf\x27\x1c" + bytes(100), "7z x"),
    "seven.csv": (lambda tmp: b"7z\xbc\xaf\x27\x1c" + bytes(100), "7z archive"),
}


@pytest.mark.parametrize("name", list(ARCHIVES))
def test_archives_and_workbooks_are_refused_with_what_to_do(capsys, tmp_path, name):
    build, fragment = ARCHIVES[name]
    (tmp_path / name).write_bytes(build(tmp_path))
    assert_user_error(eval_json(capsys, tmp_path / name), name, fragment)


# -- 4. raw bytes never reach the terminal ------------------------------------------------------
def test_control_characters_in_names_and_values_are_escaped(capsys, tmp_path):
    header = write(tmp_path / "header.csv", b"\x1b[31mred,target\n1,2\n")
    outcome = eval_json(capsys, header)
    assert_user_error(outcome, "\\x1b[31mred")
    value = write(tmp_path / "value.csv", b'pred,target\n"1\r2",2\n')
    outcome = eval_json(capsys, value)
    assert_user_error(outcome, "'1\\r2'", "row 1")
    name = write(tmp_path / "evil\u202e\x07.csv", b"pred,target\n")
    assert_user_error(eval_json(capsys, name), "evil\\u202e\\x07.csv")
    for err in (outcome.err, capsys.readouterr().err):
        assert not any(char in err for char in "\x1b\r\x00\x07\u202e")


def test_escaping_keeps_letters_and_the_hint_line():
    error = InputError("Colonne 'é中文\x1b[0m' absente\n", "Essayez\r 'prédiction'.")
    assert str(error) == "Colonne 'é中文\\x1b[0m' absente\\n\n  Essayez\\r 'prédiction'."
    assert error.message == "Colonne 'é中文\\x1b[0m' absente\\n"
    assert str(UsageError(str(error.message))) == error.message  # escaping twice changes nothing


def test_non_ascii_column_names_are_shown_as_written(capsys, tmp_path):
    path = write(tmp_path / "noms.csv", "prédiction,中文\n1,2\n")
    assert_user_error(eval_json(capsys, path), "prédiction, 中文")


# -- 5. files of one table that disagree -------------------------------------------------------
def test_a_number_in_one_file_and_text_in_another_names_the_file(capsys, tmp_path):
    first = tmp_path / "a.parquet"
    pq.write_table(table([1.0], [2.0]), first)
    text = write(tmp_path / "b.csv", "pred,target\n1,two\n")
    stored = tmp_path / "c.parquet"
    pq.write_table(table([1.0], ["2"]), stored)
    assert_user_error(eval_json(capsys, first, text), str(text), "'two'")
    assert_user_error(eval_json(capsys, first, stored), str(stored), "string")


def test_list_columns_of_other_widths_or_a_scalar_are_refused(capsys, tmp_path):
    three = tmp_path / "three.parquet"
    pq.write_table(table([[1.0, 2.0, 3.0]], [[0.0, 1.0, 0.0]]), three)
    four = tmp_path / "four.parquet"
    pq.write_table(table([[1.0, 2.0, 3.0, 4.0]], [[0.0, 1.0, 0.0, 0.0]]), four)
    scalar = tmp_path / "scalar.parquet"
    pq.write_table(table([1.0], [0.0]), scalar)
    assert_user_error(eval_json(capsys, three, four), str(four), "4 values", "but 3 at")
    assert_user_error(eval_json(capsys, three, scalar), str(scalar), "a single number")
    assert_user_error(eval_json(capsys, scalar, three), str(three), "a single number")


def test_a_grouping_or_id_column_of_another_type_names_the_file(capsys, tmp_path):
    numbers = tmp_path / "a.parquet"
    pq.write_table(table([1.0, 2.0], [1.5, 2.0], g=[1, 2]), numbers)
    text = write(tmp_path / "b.csv", "pred,target,g\n3,5,1\n")
    assert_user_error(eval_json(capsys, numbers, text, "--by", "g"), str(text), "int64", "string")
    per_row = tmp_path / "rows.parquet"
    outcome = eval_json(capsys, numbers, text, "--id", "g", "--per-row", per_row)
    assert_user_error(outcome, str(text), "'g'")
    assert not per_row.exists()


def test_integer_widths_of_an_id_column_are_one_kind(capsys, tmp_path):
    wide = tmp_path / "a.parquet"
    pq.write_table(table([1.0, 2.0], [1.5, 2.0], g=pa.array([1, 2], pa.int64())), wide)
    narrow = tmp_path / "b.parquet"
    pq.write_table(table([3.0], [5.0], g=pa.array([1], pa.int32())), narrow)
    groups = groups_of(eval_json(capsys, wide, narrow, "--by", "g"))
    assert groups == {(1,): (squared_mean([1, 3], [1.5, 5]), 2), (2,): (0.0, 1)}


def test_header_only_file_among_several_reads_the_others(capsys, tmp_path):
    full = write(tmp_path / "a.csv", CSV)
    header = write(tmp_path / "b.csv", "pred,target\n")
    outcome = eval_json(capsys, full, header, full)
    assert value_of(outcome) == CSV_MSE
    assert json.loads(outcome.out)["inputs"]["rows_read"] == 6


def test_zero_byte_file_among_several_is_refused_by_name(capsys, tmp_path):
    full = write(tmp_path / "a.csv", CSV)
    empty = write(tmp_path / "b.parquet", b"")
    assert_user_error(eval_json(capsys, full, empty), str(empty), "empty")


def test_refusals_through_a_real_process_have_no_traceback(tmp_path):
    path = write(tmp_path / "data.parquet", CSV)
    assert_user_error(run_process("eval", "-l", "mse", path), "look like text")


# -- 6. values and names of any size, in messages ------------------------------------------------
def test_a_huge_value_is_quoted_in_part_and_its_row_still_named(capsys, tmp_path):
    path = write(tmp_path / "huge.csv", b"pred,target\n1,1\n2,2\n" + b"9" * 300_000 + b"x,2\n")
    outcome = eval_json(capsys, path)
    assert_user_error(outcome, "Column 'pred'", "'" + "9" * 57 + "...'", "at row 3.")
    assert len(outcome.err) < 400, outcome.err


def test_a_huge_column_name_never_makes_a_line_longer_than_the_cap(capsys, tmp_path):
    path = write(tmp_path / "wide.csv", b"pred," + b"c" * 100_000 + b"\n1,1\n")
    outcome = eval_json(capsys, path)  # no target column: the hint lists the columns
    assert_user_error(outcome, "No target column", "Columns: pred, ccc")
    assert max(len(line) for line in outcome.err.splitlines()) <= 1002  # "  " + 1000


def test_a_long_message_line_keeps_its_start_and_its_end():
    error = InputError("Column 'x' holds '" + "y" * 5000 + "' at row 7.", "z" * 3000)
    assert len(error.message) == 1000
    assert error.message.startswith("Column 'x' holds 'yyy")
    assert error.message.endswith("yyy' at row 7.")
    assert " ... " in error.message
    assert len(error.hint or "") == 1000
    assert str(error) == f"{error.message}\n  {error.hint}"


# -- 7. header lines and rows that are almost there ----------------------------------------------
@pytest.mark.parametrize("text", [b"\n\npred,target\n1,2\n", b" \t \npred,target\n1,2\n", b"\r\n"])
def test_a_blank_first_line_is_no_header(capsys, tmp_path, text):
    path = write(tmp_path / "blank.csv", text)
    assert_user_error(eval_json(capsys, path), "blank.csv has no header: its first line is blank")


@pytest.mark.parametrize("name", ["a.csv", "a.tsv"])
def test_a_header_without_a_line_end_is_a_file_of_no_rows(capsys, tmp_path, name):
    full = write(tmp_path / "full.csv", CSV)
    header = write(tmp_path / name, "pred,target" if name.endswith("csv") else "pred\ttarget")
    assert_user_error(eval_json(capsys, header), f"{name} has no data rows")
    outcome = eval_json(capsys, full, header)
    assert value_of(outcome) == CSV_MSE
    assert json.loads(outcome.out)["inputs"]["rows_read"] == 3
    piped = run_process("eval", "-l", "mse", "-", stdin=b"pred,target")
    assert_user_error(piped, "<stdin> has no data rows")


def test_a_value_that_is_not_utf8_is_found_on_its_row(capsys, tmp_path):
    path = write(tmp_path / "latin1.csv", b"pred,target\n1,1\n2,2\n3,caf\xe9\xe8\n4,4\n")
    outcome = eval_json(capsys, path)
    assert_user_error(outcome, "Column 'target'", "'caf", "at row 3.")


def test_a_json_number_beyond_a_double_is_found_on_its_row(capsys, tmp_path):
    # Arrow refuses it even in a field that is not read; 2e308 (read as infinity) and NaN are
    # no such problem, so the rows holding them are not the row named.
    path = tmp_path / "big.jsonl"
    rows = ['{"pred": 1, "target": 1, "x": 2e308}', '{"pred": NaN, "target": 1}']
    rows += ['{"pred": 1, "target": 2}', '{"pred": 1, "target": 3, "x": -1e309}']
    path.write_text("\n".join(rows) + "\n")
    outcome = eval_json(capsys, path, "--nan", "drop")
    assert_user_error(outcome, "big.jsonl", "Number too big", "at row 4.", "double's range")


NUMBERS = ["2e308", "-1e309", "10e308", "1.5e309", "1.5e310", "0.001e312", "1E+309", "1e0309"]
NUMBERS += ["1." + "0" * 22 + "e320", "1." + "0" * 22 + "e330", "9" * 24 + ".5e308", "0.5e-999"]


@pytest.mark.parametrize("number", NUMBERS)
def test_the_row_finder_refuses_the_json_numbers_arrow_refuses(number):
    # 2e308 is read as infinity but 1e309 refused: the rule is RapidJSON's, on the exponent.
    import pyarrow.json as pa_json

    from losscli.io import locate

    text = b'{"pred": 1, "target": ' + number.encode() + b"}\n"
    try:
        pa_json.read_json(pa.BufferReader(text))
        refused = False
    except pa.ArrowInvalid as error:
        assert "Number too big" in str(error)
        refused = True
    assert (locate.row_with_json_problem(text, [], None) == 1) == refused


# -- 8. key roles and JSON Lines booleans ---------------------------------------------------------
def dice_value(capsys, path: Path, *more: object) -> tuple[float, int]:
    outcome = run(capsys, "eval", "-l", "dice", "--col", "sample=s", "-f", "json", path, *more)
    assert outcome.code == 0, outcome
    report = json.loads(outcome.out)
    return report["results"][0]["value"], report["inputs"]["rows_dropped"]


@pytest.mark.parametrize("name", ["keys.csv", "keys.jsonl", "keys.parquet"])
def test_an_empty_key_is_a_missing_value(capsys, tmp_path, name):
    rows = {"pred": [1.0, 0.0, 1.0, 1.0], "target": [1.0, 1.0, 0.0, 1.0], "s": ["a", "a", "", "b"]}
    path = tmp_path / name
    if name.endswith("parquet"):
        pq.write_table(pa.table(rows), path)
    elif name.endswith("jsonl"):
        jsonl(path, [dict(zip(rows, row, strict=True)) for row in zip(*rows.values(), strict=True)])
    else:
        path.write_text("pred,target,s\n1,1,a\n0,1,a\n1,0,\n1,1,b\n")
    assert_user_error(run(capsys, "eval", "-l", "dice", "--col", "sample=s", path), "'s'", "row 3")
    without = write(tmp_path / "without.csv", "pred,target,s\n1,1,a\n0,1,a\n1,1,b\n")
    # dice per sample: a = 1 - 2*1/(1+2) = 1/3, b = 0 (the empty one would add a loss of 1)
    value, dropped = dice_value(capsys, path, "--nan", "drop")
    assert dropped == 1
    assert value == pytest.approx(1 / 6, abs=1e-6)
    assert value == dice_value(capsys, without)[0]


def test_an_empty_by_value_is_still_a_group_of_its_own(capsys, tmp_path):
    # A guard: only key roles read an empty text as missing; --by keeps it as a value.
    path = tmp_path / "by.parquet"
    pq.write_table(table([1.0, 2.0, 4.0], [1.0, 1.0, 1.0], g=["x", "", "x"]), path)
    assert groups_of(eval_json(capsys, path, "--by", "g")) == {("x",): (4.5, 2), ("",): (1.0, 1)}


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_json_booleans_are_read_as_zero_and_one_like_parquet(capsys, tmp_path):
    pred, target = [True, False, True, False], [1.0, 1.0, 0.5, 0.0]
    expected = squared_mean([1, 0, 1, 0], target)  # 0, 1, 0.25, 0
    stored = tmp_path / "bools.parquet"
    pq.write_table(table(pred, target), stored)
    assert value_of(eval_json(capsys, stored)) == pytest.approx(expected)
    rows = [{"pred": p, "target": t} for p, t in zip(pred, target, strict=True)]
    assert value_of(eval_json(capsys, jsonl(tmp_path / "a.jsonl", rows))) == pytest.approx(expected)
    swapped = [{"pred": t, "target": p} for p, t in zip(pred, target, strict=True)]
    assert value_of(eval_json(capsys, jsonl(tmp_path / "b.jsonl", swapped))) == pytest.approx(
        expected
    )


def test_json_booleans_and_numbers_in_one_field_are_refused_by_row(capsys, tmp_path):
    first_bool = [
        {"pred": True, "target": 1},
        {"pred": False, "target": 1},
        {"pred": 0.5, "target": 0},
    ]
    outcome = eval_json(capsys, jsonl(tmp_path / "a.jsonl", first_bool))
    assert_user_error(outcome, "Field 'pred'", "mixes true/false and numbers", "a number at row 3")
    first_number = [{"pred": 1, "target": 1}, {"pred": 2, "target": 1}, {"pred": True, "target": 0}]
    outcome = eval_json(capsys, jsonl(tmp_path / "b.jsonl", first_number))
    assert_user_error(outcome, "Field 'pred'", "mixes true/false and numbers", "a boolean at row 3")
