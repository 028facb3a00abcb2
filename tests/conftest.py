"""What every test file shares: running the command, reading its output, writing data files, and
comparing numbers.

The test files import these with ``from tests.conftest import ...``; each does one job:

- running: :func:`run` (``losscli ARGS`` in-process), :func:`run_process` (``python -m losscli``),
  :func:`run_script` (``python -c``), :func:`run_command` (anything else), each giving an
  :class:`Outcome`; :func:`process_env` is the environment they run in.
- reading: :func:`results_of`, :func:`value_of`, :func:`groups_of` read a JSON report,
  :func:`write_report` keeps one as a baseline; :func:`assert_user_error` is the one check of a
  refused run.
- writing: :func:`write` (text or bytes), :func:`write_data` and :func:`encode` (columns in any
  format, compressed or not), :func:`random_pairs` (pred and target to write).
- comparing: :func:`close` and :func:`assert_close`.
- the library on arrays: :func:`evaluate_report` and :func:`evaluate_arrays`.
- the file system: :func:`snapshot` (a directory's state), :func:`deny_opening`,
  :data:`DROP_OVERRIDE` (permission bits that hold, for root too).
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

import losscli
from losscli.cli import main
from losscli.losses.registry import format_value

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA = ROOT / "sample_data"
HOUSES = SAMPLE_DATA / "house_prices.csv"
CANDIDATE = SAMPLE_DATA / "house_prices_candidate.csv"
# The small file most command-line tests read: absolute errors 0.5, 0 and 2.
SIMPLE = "pred,target\n1,1.5\n2,2\n3,5\n"
SIMPLE_MSE = (0.25 + 0 + 4) / 3
# ``python -m losscli``: the command a user runs, short of the console script's wrapper.
COMMAND = (sys.executable, "-m", "losscli")

REFERENCE_DIR = Path(__file__).parent / "reference"
_EVERY_CASE = [
    case
    for path in sorted(REFERENCE_DIR.glob("*.json"))
    for case in json.loads(path.read_text())["cases"]
]
# Every reference case (id, loss, params, inputs, weight, expected, source) of every family.
REFERENCE_CASES: list[dict[str, Any]] = [case for case in _EVERY_CASE if "compat" not in case]
# The cases of compat.json: a library's own name and keywords, read with --compat LIBRARY.
COMPAT_CASES: list[dict[str, Any]] = [case for case in _EVERY_CASE if "compat" in case]

Data = Mapping[str, Any]


# -- running the command ------------------------------------------------------------------------


class Outcome(NamedTuple):
    """What a run left: its exit code, stdout and stderr (``code, out, err = outcome`` works)."""

    code: int
    out: str
    err: str


def text_of(stream: bytes | str | None) -> str:
    """Output as text; bytes that are not UTF-8 survive (as lone surrogates), so nothing is lost."""
    if stream is None:
        return ""
    return stream if isinstance(stream, str) else stream.decode("utf-8", "surrogateescape")


def run(capture: pytest.CaptureFixture, *args: object) -> Outcome:
    """``losscli ARGS`` in-process through ``losscli.cli.main``; ``capture`` is capsys or
    capsysbinary. It is the whole command short of the interpreter, at a fraction of the cost."""
    code = main([str(arg) for arg in args])
    captured = capture.readouterr()
    return Outcome(code, text_of(captured.out), text_of(captured.err))


def process_env(**changes: str | None) -> dict[str, str]:
    """This environment with the checkout importable and no debug switch; ``NAME=value`` sets a
    variable, ``NAME=None`` removes it."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    env.pop("LOSSCLI_DEBUG", None)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_command(command: Sequence[object], stdin: Any = None, **options: Any) -> Outcome:
    """``command`` as a real process, from the checkout's root in :func:`process_env`.

    ``stdin`` is bytes to pipe in, or a file, descriptor or ``subprocess.DEVNULL`` to read; other
    options go to ``subprocess.run`` (``stdout`` a file to send the report into, ``cwd``, ``env``).
    """
    piped = isinstance(stdin, bytes)
    done = subprocess.run(
        [str(part) for part in command],
        input=stdin if piped else None,
        stdin=None if piped else stdin,
        stdout=options.pop("stdout", subprocess.PIPE),
        stderr=subprocess.PIPE,
        cwd=options.pop("cwd", ROOT),
        env=options.pop("env", None) or process_env(),
        timeout=options.pop("timeout", 60),
        **options,
    )
    return Outcome(done.returncode, text_of(done.stdout), text_of(done.stderr))


def run_process(*args: object, **options: Any) -> Outcome:
    """``python -m losscli ARGS`` as a real process: for piped stdin, closed or full stdout, exit
    statuses and anything else only a process has. Options as for :func:`run_command`."""
    return run_command([*COMMAND, *args], **options)


def run_script(script: str, *args: object, **options: Any) -> Outcome:
    """``python -c SCRIPT ARGS`` as a real process (a fresh interpreter: imports, patched code)."""
    return run_command([sys.executable, "-c", script, *args], **options)


# -- reading what a run printed -----------------------------------------------------------------


def results_of(outcome: Outcome) -> dict[str, dict[str, Any]]:
    """A successful run's JSON results by label."""
    assert outcome.code == 0, outcome
    return {result["label"]: result for result in json.loads(outcome.out)["results"]}


def value_of(outcome: Outcome) -> float:
    """The value of the first result of a successful run's JSON report."""
    assert outcome.code == 0, outcome
    return json.loads(outcome.out)["results"][0]["value"]


def groups_of(outcome: Outcome) -> dict[tuple, tuple[float, int]]:
    """Each group's (values of the --by keys) -> (value, n) of a successful run's JSON report."""
    assert outcome.code == 0, outcome
    results = json.loads(outcome.out)["results"]
    return {tuple(r["group"].values()): (r["value"], r["n"]) for r in results if r.get("group")}


def write_report(capture: pytest.CaptureFixture, path: Path, *args: object) -> Path:
    """The JSON report of ``losscli eval ARGS`` saved at ``path`` (a baseline for a later run)."""
    outcome = run(capture, "eval", *args, "--format", "json")
    assert outcome.code == 0, outcome
    return write(path, outcome.out)


def assert_user_error(outcome: Outcome, *fragments: str) -> str:
    """A refused run as the user must meet it: exit 2, nothing on stdout, one or two lines on
    stderr (what is wrong, how to fix it) starting ``losscli: error:``, no traceback, and every
    fragment in the message. Gives the message, for more checks."""
    assert outcome.code == 2, outcome
    assert outcome.out == "", outcome
    assert outcome.err.startswith("losscli: error: "), outcome.err
    assert 1 <= len(outcome.err.strip().splitlines()) <= 2, outcome.err
    assert "Traceback" not in outcome.err, outcome.err
    for fragment in fragments:
        assert fragment in outcome.err, (fragment, outcome.err)
    return outcome.err


# -- writing data -------------------------------------------------------------------------------


def write(path: Path, content: str | bytes) -> Path:
    """``content`` (text as UTF-8, or bytes as they are) at ``path``, its directory made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def random_pairs(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(pred, target): two standard normal columns, drawn in that order from ``seed``."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=rows), rng.normal(size=rows)


def cell(value: Any) -> str:
    """A value as CSV text that reads back exactly: ``repr`` of a float, empty for NaN."""
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else repr(float(value))
    return str(value)


def delimited(data: Data, sep: str = ",") -> bytes:
    """Columns as CSV (or TSV) bytes: a header, then one line per row, every float exact."""
    lines = [sep.join(data)]
    lines += [sep.join(cell(value) for value in row) for row in zip(*data.values(), strict=True)]
    return ("\n".join(lines) + "\n").encode()


def json_value(value: Any) -> Any:
    """A NumPy value as JSON has it: NaN as null, arrays as lists."""
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.ndarray):
        return [json_value(item) for item in value]
    return value.item() if isinstance(value, np.generic) else value


def json_lines(data: Data) -> bytes:
    """Columns as JSON Lines: one object per row."""
    rows = (
        dict(zip(data, map(json_value, row), strict=True))
        for row in zip(*data.values(), strict=True)
    )
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def encode(data: Data | pa.Table, fmt: str, batch_rows: int = 256) -> bytes:
    """The bytes of ``data`` in one format (csv, tsv, jsonl, parquet, feather, arrow-file,
    arrow-stream); ``batch_rows`` sets row groups / record batches."""
    if fmt in ("csv", "tsv"):
        return delimited(data, "\t" if fmt == "tsv" else ",")
    if fmt == "jsonl":
        return json_lines(data)
    table = data if isinstance(data, pa.Table) else pa.table(data)
    sink = pa.BufferOutputStream()
    if fmt == "parquet":
        pq.write_table(table, sink, row_group_size=batch_rows)
    elif fmt == "feather":
        feather.write_feather(table, sink)
    else:
        opener = pa.ipc.new_file if fmt == "arrow-file" else pa.ipc.new_stream
        with opener(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=batch_rows)
    return sink.getvalue().to_pybytes()


def compress(payload: bytes, codec: str | None) -> bytes:
    """``payload`` compressed with gzip, bz2 or any codec Arrow streams (zstd, ...), or as is."""
    if codec is None:
        return payload
    if codec == "gzip":
        return gzip.compress(payload)
    if codec == "bz2":
        return bz2.compress(payload)
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, codec) as out:
        out.write(payload)
    return sink.getvalue().to_pybytes()


def write_data(path: Path, data: Data | pa.Table, fmt: str, codec: str | None = None, **kw) -> Path:
    """``data`` written at ``path`` in ``fmt``, compressed with ``codec``; ``kw`` as for
    :func:`encode`."""
    return write(path, compress(encode(data, fmt, **kw), codec))


# -- comparing numbers --------------------------------------------------------------------------


def close(actual: float, expected: float, rel: float = 1e-12, abs_tol: float | None = None) -> bool:
    """Within ``rel`` of ``expected`` (and ``abs_tol``, by default ``rel / 1000``, near zero);
    an expected NaN wants a NaN."""
    if math.isnan(expected):
        return math.isnan(actual)
    floor = rel * 1e-3 if abs_tol is None else abs_tol
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=floor)


def assert_close(
    actual: float, expected: float, rel: float = 1e-12, abs_tol: float | None = None
) -> None:
    """:func:`close`, failing with both values."""
    assert close(actual, expected, rel, abs_tol), (actual, expected)


# -- the library on in-memory arrays ------------------------------------------------------------


def spec_of(name: str, params: Mapping[str, Any]) -> str:
    """``name:k=v,...`` for a loss and its parameters."""
    given = ",".join(f"{key}={format_value(value)}" for key, value in params.items())
    return f"{name}:{given}" if given else name


def evaluate_report(data: Data, spec: Any, **options: Any) -> losscli.Report:
    """``losscli.evaluate`` over arrays by role (pred, target, weight, var, ...): every column
    but a ``by`` one is passed as the role it is named for."""
    arrays = {role: np.asarray(values, dtype=float) for role, values in data.items()}
    by = options.get("by") or ()
    grouping = {by} if isinstance(by, str) else set(by)  # --by columns are no role
    extra = {role: role for role in arrays if role not in ("pred", "target", "weight", *grouping)}
    return losscli.evaluate(
        arrays,
        spec,
        pred="pred" if "pred" in arrays else None,
        target="target" if "target" in arrays else None,
        weight="weight" if "weight" in arrays else None,
        columns=extra,
        **options,
    )


def evaluate_arrays(
    name: str,
    inputs: Data,
    params: Mapping[str, Any] | None = None,
    weight: Any = None,
    **options: Any,
) -> float:
    """One loss's value over in-memory arrays (role -> values), weighted by ``weight``."""
    data = dict(inputs) if weight is None else {**inputs, "weight": weight}
    return evaluate_report(data, spec_of(name, params or {}), **options).results[0].value


# -- the file system ----------------------------------------------------------------------------


def snapshot(directory: Path) -> dict[str, str]:
    """Every entry under ``directory``: its mode and a hash of a file's bytes (its size and time
    when unreadable), a link's target. Equal snapshots: nothing changed, added or removed."""
    state = {}
    for path in sorted(directory.rglob("*")):
        name = str(path.relative_to(directory))
        mode = oct(path.lstat().st_mode)
        if path.is_symlink():
            state[name] = f"link to {os.readlink(path)}"
        elif path.is_file() and os.access(path, os.R_OK):
            state[name] = f"{mode} {hashlib.sha256(path.read_bytes()).hexdigest()}"
        elif path.is_file():
            stat = path.stat()
            state[name] = f"{mode} unreadable, {stat.st_size} bytes, {stat.st_mtime_ns}"
        else:
            state[name] = f"{mode} directory"
    return state


def deny_opening(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Opening ``path`` fails as it does for a user without read permission on it (root, which
    tests may run as, reads any file)."""
    real_open = open

    def refuse(name: Any, *args: Any, **kwargs: Any) -> Any:
        if str(name) == str(path):
            raise PermissionError(13, "Permission denied", str(name))
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refuse)


def _permissions_hold() -> bool:
    """Whether a file without read permission is unreadable here (not so for root)."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, "locked")
        path.write_bytes(b"")
        path.chmod(0)
        try:
            path.open("rb").close()
        except PermissionError:
            return True
        return False


PERMISSIONS_HOLD = _permissions_hold()
# A command prefix under which permission bits hold: as root, a process runs without the
# capabilities that override them (it stays root, so it can still reach the interpreter under
# root's private home). Empty where they hold already, or where setpriv is missing.
DROP_OVERRIDE = (
    ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    if not PERMISSIONS_HOLD and shutil.which("setpriv")
    else []
)
