"""Output safety: --per-row never lands on an input, every failed write is a clear exit 2 that
leaves no temporary file, and a stopping signal (Ctrl-C, SIGTERM, SIGHUP) cleans up like an error.

Exit codes, signals and stdout on a full device belong to the process, so those tests run
``python -m losscli``; the refusals run in-process, with reading the inputs made to fail the test.
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import losscli
from losscli.errors import UsageError
from losscli.io import stream, writers
from tests.conftest import (
    COMMAND,
    DROP_OVERRIDE,
    PERMISSIONS_HOLD,
    ROOT,
    SIMPLE,
    Outcome,
    assert_user_error,
    process_env,
    results_of,
    run,
    run_command,
    run_process,
    run_script,
    snapshot,
    write,
)

# -- 1. --per-row onto an input is refused before anything is read ------------------------------


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Inputs in every shape, with the working directory at their top."""
    (tmp_path / "x.csv").write_text(SIMPLE)
    (tmp_path / "t.csv").write_text("target\n1.5\n2\n5\n")
    (tmp_path / "preds.csv").write_text("pred\n1\n2\n3\n")
    for name in ("d", "d/sub", "runs", "a", "out"):
        (tmp_path / name).mkdir()
    (tmp_path / "d/a.csv").write_text(SIMPLE)
    (tmp_path / "runs/r1.csv").write_text(SIMPLE)
    (tmp_path / "link.csv").symlink_to("x.csv")
    (tmp_path / "runs_link").symlink_to("runs")
    os.link(tmp_path / "x.csv", tmp_path / "hard.csv")
    os.link(tmp_path / "t.csv", tmp_path / "t_hard.csv")
    result = {"label": "mse", "loss": "mse", "params": {"reduction": "mean"}, "value": 1.4}
    report = {"version": "0.1.0", "results": [result]}
    (tmp_path / "base.json").write_text(json.dumps(report))
    (tmp_path / "base_link.csv").symlink_to("base.json")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def no_reading(*args: object, **kwargs: object) -> None:
    raise AssertionError("an input was opened before --per-row was checked")


OVER_AN_INPUT = {
    "the same path": (["x.csv"], "x.csv", "x.csv"),
    "./ spelling": (["x.csv"], "./x.csv", "x.csv"),
    "a/.. spelling": (["x.csv"], "a/../x.csv", "x.csv"),
    "absolute spelling": (["x.csv"], "{root}/x.csv", "x.csv"),
    "a symlink to the input": (["x.csv"], "link.csv", "x.csv"),
    "the input through a symlink": (["link.csv"], "x.csv", "link.csv"),
    "a hard link to the input": (["x.csv"], "hard.csv", "x.csv"),
    "one of several inputs": (["preds.csv", "x.csv"], "x.csv", "x.csv"),
    "a file a glob expands to": (["runs/*.csv"], "runs/r1.csv", "runs/r1.csv"),
    "a file of an input directory": (["d"], "d/a.csv", "d/a.csv"),
    "the --targets file": (["preds.csv", "--targets", "t.csv"], "t.csv", "t.csv"),
    "the --targets file by a hard link": (
        ["preds.csv", "--targets", "t.csv"],
        "t_hard.csv",
        "t.csv",
    ),
}
JOINS_AN_INPUT = {
    "a new file in an input directory": (["d"], "d/new.csv", "'d'"),
    "a new file deeper in an input directory": (["d"], "d/sub/new.parquet", "'d'"),
    "a hidden new file in an input directory": (["d"], "d/.new.csv", "'d'"),
    "a new file in an input directory spelled ./d/": (["./d/"], "d/new.csv", "'./d/'"),
    "a new file matching an input glob": (["runs/*.csv"], "runs/r2.csv", "'runs/*.csv'"),
    "a new file matching an input glob through a symlinked directory": (
        ["runs/*.csv"],
        "runs_link/r2.csv",
        "'runs/*.csv'",
    ),
    "a new file matching an input glob spelled through a symlinked directory": (
        ["runs_link/*.csv"],
        "runs/r2.csv",
        "'runs_link/*.csv'",
    ),
    "a new file matching a recursive glob": (["**/*.csv"], "out/rows.csv", "'**/*.csv'"),
    "a new file on top of a recursive glob": (["**/*.csv"], "rows.csv", "'**/*.csv'"),
}


@pytest.mark.parametrize(
    ("files", "per_row", "input_name"), OVER_AN_INPUT.values(), ids=OVER_AN_INPUT.keys()
)
def test_per_row_over_an_input_is_refused(layout, monkeypatch, capsys, files, per_row, input_name):
    before = snapshot(layout)
    monkeypatch.setattr(stream, "open_inputs", no_reading)
    per_row = per_row.format(root=layout)
    outcome = run(capsys, "eval", "-l", "mse", "-p", "pred", "--per-row", per_row, *files)
    assert_user_error(outcome, f"--per-row {per_row}", input_name, "would overwrite", "elsewhere")
    assert snapshot(layout) == before


@pytest.mark.parametrize(
    ("files", "per_row", "where"), JOINS_AN_INPUT.values(), ids=JOINS_AN_INPUT.keys()
)
def test_per_row_a_later_run_would_read_is_refused(
    layout, monkeypatch, capsys, files, per_row, where
):
    before = snapshot(layout)
    monkeypatch.setattr(stream, "open_inputs", no_reading)
    outcome = run(capsys, "eval", "-l", "mse", "--per-row", per_row, *files)
    assert_user_error(outcome, f"--per-row {per_row}", where, "read it as data")
    assert snapshot(layout) == before


def test_per_row_over_the_baseline_report_is_refused(layout, monkeypatch, capsys):
    before = snapshot(layout)
    monkeypatch.setattr(stream, "open_inputs", no_reading)
    args = ["-l", "mse", "--baseline", "base.json", "--per-row", "base_link.csv", "x.csv"]
    outcome = run(capsys, "eval", *args)
    assert_user_error(outcome, "base_link.csv", "--baseline report base.json", "elsewhere")
    assert snapshot(layout) == before


def test_the_library_refuses_too(layout):
    before = snapshot(layout)
    with pytest.raises(UsageError, match="would overwrite the input ./x.csv"):
        losscli.evaluate(["./x.csv"], "mse", per_row=layout / "hard.csv")
    with pytest.raises(UsageError, match="would overwrite the targets file t.csv"):
        losscli.evaluate("preds.csv", "mse", pred="pred", targets="t.csv", per_row="t_hard.csv")
    assert snapshot(layout) == before


def test_per_row_beside_the_inputs_is_written(layout, capsys):
    """The checks leave room for the usual layout: the per-row file next to its input."""
    outcome = run(capsys, "eval", "-l", "mae", "--per-row", "x.rows.csv", "x.csv", "runs/*.csv")
    assert results_of(outcome)["mae"]["n"] == 6
    assert (layout / "x.rows.csv").read_text().splitlines()[0] == '"mae"'
    assert (layout / "x.csv").read_text() == SIMPLE


def test_data_in_memory_has_no_path_to_collide_with(layout):
    data = {"pred": np.array([1.0, 2.0]), "target": np.array([1.0, 4.0])}
    report = losscli.evaluate(data, "mse", per_row="x.rows.parquet")
    assert report.results[0].value == 2.0
    assert pq.read_table(layout / "x.rows.parquet").column("mse").to_pylist() == [0.0, 4.0]


def test_per_row_over_its_own_stdin_is_allowed(tmp_path):
    """Read from '-', the file is read to its end before the finished per-row file replaces it:
    nothing is lost that the user did not ask to replace."""
    data = write(tmp_path / "x.csv", SIMPLE)
    with data.open("rb") as stdin:
        outcome = run_process("eval", "-l", "mae", "--per-row", data, "-", stdin=stdin)
    assert results_of(outcome)["mae"]["value"] == pytest.approx(2.5 / 3)
    assert data.read_text().splitlines() == ['"mae"', "0.5", "0", "2"]


def test_per_row_where_the_report_goes_is_refused(tmp_path):
    data = write(tmp_path / "x.csv", SIMPLE)
    target = tmp_path / "out.csv"
    with target.open("wb") as stdout:
        outcome = run_process("eval", "-l", "mse", "--per-row", target, data, stdout=stdout)
    assert_user_error(outcome, "standard output")
    assert target.read_bytes() == b"" and data.read_text() == SIMPLE


def report_into(path: Path, mode: str, args: list[object], stdin: Path | None = None) -> Outcome:
    """``losscli ARGS > PATH`` (mode "wb") or ``>> PATH`` ("ab"), as a real process."""
    with path.open(mode) as stdout, (stdin or Path(os.devnull)).open("rb") as given:
        return run_process(*args, stdin=given, stdout=stdout)


def test_a_report_appended_to_an_input_is_refused(tmp_path):
    data = write(tmp_path / "x.csv", SIMPLE)
    outcome = report_into(data, "ab", ["eval", "-l", "mse", data])
    assert_user_error(outcome, "Standard output is the input", "x.csv", "another file")
    assert data.read_text() == SIMPLE


def test_a_report_appended_to_the_file_on_stdin_is_refused(tmp_path):
    data = write(tmp_path / "x.csv", SIMPLE)
    outcome = report_into(data, "ab", ["eval", "-l", "mse", "-"], stdin=data)
    assert_user_error(outcome, "Standard output is the file on standard input")
    assert data.read_text() == SIMPLE


def test_a_report_into_an_input_directory_is_refused(tmp_path):
    """``> d/report.csv`` makes the file (empty) before losscli starts, inside the directory it
    reads: say so, rather than that d/report.csv is empty, and do not fill it."""
    (tmp_path / "d").mkdir()
    (tmp_path / "d/a.csv").write_text(SIMPLE)
    report = tmp_path / "d/report.csv"
    outcome = report_into(report, "wb", ["eval", "-l", "mse", "-f", "csv", tmp_path / "d"])
    assert_user_error(outcome, "Standard output is the input", "report.csv")
    assert report.read_bytes() == b"" and (tmp_path / "d/a.csv").read_text() == SIMPLE


def test_a_report_into_another_file_is_written(tmp_path):
    data = write(tmp_path / "x.csv", SIMPLE)
    report = tmp_path / "report.json"
    assert report_into(report, "wb", ["eval", "-l", "mse", "-"], stdin=data).code == 0
    assert json.loads(report.read_text())["results"][0]["n"] == 3


# -- 2. a per-row path that cannot be written -----------------------------------------------------


UNWRITABLE = {
    "an existing directory": ("out.csv", "is a directory"),
    "a missing directory": ("missing/rows.csv", "does not exist"),
    "under a file": ("x.csv/rows.csv", "'x.csv' is a file"),
    "a trailing slash": ("rows.csv/", "ends in '/'"),
    "an empty path": ("", "--per-row is empty"),
    "another extension": ("rows.txt", "must end in .csv or .parquet"),
}


@pytest.mark.parametrize(("per_row", "fragment"), UNWRITABLE.values(), ids=UNWRITABLE.keys())
def test_per_row_that_cannot_be_written_is_refused_first(
    tmp_path, monkeypatch, capsys, per_row, fragment
):
    (tmp_path / "x.csv").write_text(SIMPLE)
    (tmp_path / "out.csv").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(stream, "open_inputs", no_reading)
    before = snapshot(tmp_path)
    outcome = run(capsys, "eval", "-l", "mse", "--per-row", per_row, "x.csv")
    assert_user_error(outcome, fragment)
    assert snapshot(tmp_path) == before


def test_per_row_in_a_directory_without_write_permission_is_refused(tmp_path):
    """Honestly read-only: the directory's mode is 0555, and the process is not allowed to
    ignore it (root runs without CAP_DAC_OVERRIDE)."""
    if not PERMISSIONS_HOLD and not DROP_OVERRIDE:
        pytest.skip("needs setpriv to drop root's override of permission bits")
    data = write(tmp_path / "x.csv", SIMPLE)
    locked = tmp_path / "locked"
    locked.mkdir()
    old = write(locked / "rows.csv", "old rows\n")
    locked.chmod(0o555)
    try:
        command = [*DROP_OVERRIDE, *COMMAND, "eval", "-l", "mse", "--per-row", old, data]
        outcome = run_command(command)
    finally:
        locked.chmod(0o755)
    assert_user_error(outcome, f"--per-row {old}", "Permission denied", "allowed")
    assert os.listdir(locked) == ["rows.csv"] and old.read_text() == "old rows\n"
    assert data.read_text() == SIMPLE


def test_per_row_on_a_read_only_filesystem_is_refused(tmp_path):
    """A read-only bind mount, made in a private mount namespace that ends with the process."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare to mount a read-only filesystem")
    data = write(tmp_path / "x.csv", SIMPLE)
    frozen = tmp_path / "frozen"
    frozen.mkdir()
    script = (
        f'mount --bind "{frozen}" "{frozen}" && mount -o remount,ro,bind "{frozen}" || exit 99\n'
        f'exec "{sys.executable}" -m losscli eval -l mse --per-row "{frozen}/rows.csv" "{data}"\n'
    )
    outcome = run_command(["unshare", "--mount", "--propagation", "private", "sh", "-c", script])
    if outcome.code == 99 or "unshare:" in outcome.err:
        pytest.skip(f"cannot mount here: {outcome.err.strip()}")
    assert_user_error(outcome, "rows.csv", "Read-only file system", "allowed")
    assert os.listdir(frozen) == [] and data.read_text() == SIMPLE


def test_a_failure_to_create_the_temporary_file_is_a_clear_error(tmp_path, monkeypatch, capsys):
    """The directory became read-only after the check (or a filesystem says no only then):
    mkstemp's PermissionError is the message, not an internal error."""
    data = write(tmp_path / "x.csv", SIMPLE)

    def refused(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(writers.tempfile, "mkstemp", refused)
    outcome = run(capsys, "eval", "-l", "mse", "--per-row", tmp_path / "rows.csv", data)
    assert_user_error(outcome, "rows.csv", "Permission denied")
    assert sorted(os.listdir(tmp_path)) == ["x.csv"]


class FailingWriter:
    """Stands in for Arrow's writer on a disk that fills up while writing or while closing."""

    def __init__(self, path: str, fail_on: str) -> None:
        self.path = path
        self.fail_on = fail_on

    def write_table(self, table: pa.Table) -> None:
        with open(self.path, "ab") as handle:
            handle.write(b"some rows\n")
        if self.fail_on == "write":
            raise OSError(errno.ENOSPC, "Error writing bytes to file")

    def close(self) -> None:
        raise OSError(errno.ENOSPC, "Error closing file")


@pytest.mark.parametrize("fail_on", ["write", "close"])
def test_a_full_disk_while_writing_is_a_clear_error(tmp_path, monkeypatch, capsys, fail_on):
    data = write(tmp_path / "x.csv", SIMPLE)
    old = write(tmp_path / "rows.csv", "old rows\n")

    def failing_open(self: writers.PerRowWriter, schema: pa.Schema) -> FailingWriter:
        return FailingWriter(self.temporary, fail_on)

    monkeypatch.setattr(writers.PerRowWriter, "_open", failing_open)
    outcome = run(capsys, "eval", "-l", "mse", "--per-row", old, data)
    assert_user_error(outcome, f"--per-row {old}", "No space left on device", "Free some space")
    assert sorted(os.listdir(tmp_path)) == ["rows.csv", "x.csv"]
    assert old.read_text() == "old rows\n" and data.read_text() == SIMPLE


def big_input(directory: Path, rows: int = 20_000) -> Path:
    values = np.random.default_rng(0).random((rows, 2))
    path = write(
        directory / "big.csv", "pred,target\n" + "".join(f"{p:.17g},{t:.17g}\n" for p, t in values)
    )
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_really_full_disk(tmp_path, suffix):
    """ENOSPC from the kernel: a 64 KiB tmpfs mounted in a private mount namespace (so it goes
    away with the process), listed from inside after the run."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare to mount a small filesystem")
    data = big_input(tmp_path)
    full = tmp_path / "full"
    full.mkdir()
    script = (
        f'mount -t tmpfs -o size=64k tmpfs "{full}" || exit 99\n'
        f'"{sys.executable}" -m losscli eval -l mse,mae --per-row "{full}/rows{suffix}" '
        f'"{data}" >/dev/null\ncode=$?\nls -A "{full}"\nexit $code\n'
    )
    outcome = run_command(["unshare", "--mount", "--propagation", "private", "sh", "-c", script])
    if outcome.code == 99 or "unshare:" in outcome.err:
        pytest.skip(f"cannot mount a tmpfs here: {outcome.err.strip()}")
    # Nothing on stdout: nothing left in the full directory, no temporary file.
    assert_user_error(outcome, "No space left on device")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_file_size_limit_is_a_clear_error(tmp_path, suffix):
    """RLIMIT_FSIZE makes the kernel refuse the write past the limit (EFBIG; Python ignores
    SIGXFSZ, which would otherwise kill the process)."""
    import resource

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    data = big_input(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    per_row = out / f"rows{suffix}"
    outcome = run_process("eval", "-l", "mse,mae", "--per-row", per_row, data, preexec_fn=limited)
    assert_user_error(outcome, f"--per-row {per_row}", "File too large", "ulimit")
    assert os.listdir(out) == []


# -- 3. stdout on a device that takes nothing ---------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["eval", "-l", "mse", "{data}"], "to standard output"),
        (["eval", "-l", "mse", "-f", "table", "{data}"], "to standard output"),
        (["eval", "-l", "mse", "--per-row", "{rows}", "{data}"], "to standard output"),
        (["list"], "to standard output"),
        (["describe", "huber"], "to standard output"),
        (["--help"], "Cannot write the output"),
        (["--version"], "Cannot write the output"),
    ],
    ids=["json", "table", "with-per-row", "list", "describe", "help", "version"],
)
def test_stdout_to_dev_full_is_a_clear_error(tmp_path, args, fragment):
    data = write(tmp_path / "x.csv", SIMPLE)
    rows = tmp_path / "rows.csv"
    argv = [a.format(data=data, rows=rows) for a in args]
    with open("/dev/full", "wb") as full:
        outcome = run_process(*argv, stdout=full)
    assert_user_error(outcome, fragment, "No space left on device", "Free some space")
    assert data.read_text() == SIMPLE
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


# -- 4. stopping signals -------------------------------------------------------------------------


STOPS = {
    "SIGTERM": (signal.SIGTERM, "losscli: error: terminated.\n"),
    "SIGINT": (signal.SIGINT, "losscli: error: interrupted.\n"),
    "SIGHUP": (signal.SIGHUP, "losscli: error: hung up (SIGHUP).\n"),
}


def wait_for(condition: object, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"the run never got to {what}"
        time.sleep(0.02)


def stopped_mid_run(
    args: list[object], first_bytes: bytes, ready: object, number: int, tmpdir: Path
) -> Outcome:
    """``losscli ARGS`` reading a stdin that stays open, stopped by ``number`` once ``ready``."""
    out, err = tmpdir.parent / "stdout", tmpdir.parent / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [*COMMAND, *map(str, args)],
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=stderr,
            cwd=ROOT,
            env=process_env(TMPDIR=str(tmpdir)),
            # The run must see the signal as a terminal sends it, even when these tests run under
            # nohup (losscli keeps a signal its parent ignores ignored, as nohup intends).
            preexec_fn=lambda: signal.signal(number, signal.SIG_DFL),
        )
    assert process.stdin is not None
    try:
        process.stdin.write(first_bytes)
        process.stdin.flush()
        wait_for(ready, "the point to stop it at")
        process.send_signal(number)
        # stdin stays open (no end of input to wake a blocked read): the signal alone ends the run.
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdin.close()
    return Outcome(process.returncode, out.read_text(), err.read_text())


@pytest.mark.parametrize(("number", "message"), STOPS.values(), ids=STOPS.keys())
def test_a_stopped_run_removes_its_temporary_per_row_file(tmp_path, number, message):
    out, spool = tmp_path / "out", tmp_path / "tmp"
    out.mkdir()
    spool.mkdir()
    old = write(out / "rows.csv", "old rows\n")
    first = b"pred,target\n" + b"1,2\n" * 40_000  # more than the head read before the writer opens
    outcome = stopped_mid_run(
        ["eval", "-l", "mse", "--per-row", old],
        first,
        lambda: len(os.listdir(out)) > 1,
        number,
        spool,
    )
    assert (outcome.code, outcome.out, outcome.err) == (128 + number, "", message)
    assert os.listdir(out) == ["rows.csv"] and old.read_text() == "old rows\n"
    assert os.listdir(spool) == []


@pytest.mark.parametrize(("number", "message"), STOPS.values(), ids=STOPS.keys())
def test_a_stopped_run_removes_its_spooled_input(tmp_path, number, message):
    """Parquet through a pipe is spooled to a temporary file in TMPDIR, here stopped half-way."""
    spool = tmp_path / "tmp"
    spool.mkdir()
    buffer = io.BytesIO()
    values = np.random.default_rng(0).random((2, 50_000))
    pq.write_table(pa.table({"pred": values[0], "target": values[1]}), buffer)
    half = buffer.getvalue()[: buffer.tell() // 2]
    assert len(half) > 2 * 65536  # past the head read: the spooling has begun
    outcome = stopped_mid_run(
        ["eval", "-l", "mse"], half, lambda: bool(os.listdir(spool)), number, spool
    )
    assert (outcome.code, outcome.out, outcome.err) == (128 + number, "", message)
    assert os.listdir(spool) == []


def wakeup_fd() -> int:
    current = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(current)
    return current


def test_main_puts_the_signal_handlers_back(tmp_path, capsys):
    data = write(tmp_path / "x.csv", SIMPLE)
    numbers = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    before = [signal.getsignal(n) for n in numbers], wakeup_fd(), threading.active_count()
    assert results_of(run(capsys, "eval", "-l", "mse", data))["mse"]["n"] == 3
    assert run(capsys, "eval", "-l", "nope", data).code == 2
    after = [signal.getsignal(n) for n in numbers], wakeup_fd(), threading.active_count()
    assert after == before


def test_an_ignored_sighup_stays_ignored(tmp_path):
    """Under nohup SIGHUP is ignored, and the run goes on through it."""
    data = write(tmp_path / "x.csv", SIMPLE)
    script = (
        "import os, signal, sys\n"
        "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
        "import losscli.losses.registry as registry\n"
        "compute = registry.LossDef.compute\n"
        "def hung_up(*args, **kwargs):\n"
        "    os.kill(os.getpid(), signal.SIGHUP)\n"
        "    return compute(*args, **kwargs)\n"
        "registry.LossDef.compute = hung_up\n"
        "from losscli.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    assert results_of(run_script(script, "eval", "-l", "mse", data))["mse"]["n"] == 3


def test_per_row_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path, capsys):
    """As a shell's '>' does; before, the run replaced the link itself with a file."""
    data = write(tmp_path / "p.csv", SIMPLE)
    target = write(tmp_path / "real.csv", "old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    outcome = run(capsys, "eval", "-l", "mae", data, "--per-row", link, "-f", "json")
    assert outcome.code == 0, outcome.err
    assert link.is_symlink() and link.resolve() == target
    assert target.read_text().splitlines() == ['"mae"', "0.5", "0", "2"]


@pytest.mark.parametrize("kind", ["device link", "fifo"])
def test_per_row_onto_what_is_no_regular_file_is_refused(tmp_path, capsys, kind):
    """--per-row full.csv -> /dev/full ended with exit 0 and the link replaced by a file."""
    data = write(tmp_path / "p.csv", SIMPLE)
    path = tmp_path / "out.csv"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/full")
    outcome = run(capsys, "eval", "-l", "mae", data, "--per-row", path)
    assert_user_error(outcome, "is not a regular file")
    assert path.is_symlink() if kind != "fifo" else path.is_fifo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "p.csv"]
