"""A corpus of bad inputs: every one must end in a clear error, never a traceback or a wrong 0.

The cases live in ``tests/bad_inputs/cases.toml``; each is a real ``losscli`` invocation on real
files written into a fresh directory. For every case the test asserts: the expected exit code;
at most three lines and 2000 characters on stderr, the first starting with ``losscli: error:`` and
matching the case's pattern (what is wrong and where); no traceback, no "internal error", no raw
control characters; nothing on stdout; every file in the directory (temporary files included:
TMPDIR points into it) byte-for-byte unchanged and no file added; and every ``--loss SPEC`` a
hint gives as an example parses.

Most cases run ``losscli.cli.main`` in-process: it is the whole command short of the interpreter
(``python -m losscli`` only adds ``os._exit(main())``), so exit code, stdout, stderr and the files
are the same, at a twentieth of the cost. Cases that need a process (bytes on stdin, stdout sent
to ``/dev/full``) and a sample marked ``process = true`` (some of every class) run ``python -m
losscli`` instead, which also proves that nothing escapes ``main`` as an interpreter traceback;
one test runs a case both ways and compares the outcomes.

A case with ``pending = "area: reason"`` fails today in a part of the code being changed
elsewhere; it is an xfail(strict=True), so it turns into a failure the day it passes, and its
``pending`` line is then removed.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from losscli.losses import parse_specs
from tests.conftest import (
    COMMAND,
    DROP_OVERRIDE,
    PERMISSIONS_HOLD,
    Outcome,
    process_env,
    run,
    run_command,
    snapshot,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CORPUS = Path(__file__).parent / "bad_inputs"
MAX_STDERR_LINES = 3
# A message echoes values and names; a screenful is the most anyone reads.
MAX_STDERR_CHARS = 2000
# C0 controls other than newline and tab (ESC of ANSI sequences among them), DEL, C1 controls,
# and the invisible marks a BOM or a copied name may smuggle in (zero-width spaces, BOM, line
# and paragraph separators).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")


# -- builders: files whose bytes are easier made than written out --------------------------------


def _table(rows: int = 6) -> pa.Table:
    return pa.table({"pred": np.linspace(0.1, 0.9, rows), "target": np.ones(rows)})


def _parquet(table: pa.Table | None = None) -> bytes:
    sink = io.BytesIO()
    pq.write_table(_table() if table is None else table, sink)
    return sink.getvalue()


def build_parquet(spec: dict[str, Any]) -> bytes:
    """A Parquet file of ``columns`` (name -> list), or of pred/target.

    TOML has no null: ``nulls = { name = [row, ...] }`` nulls those rows (counted from 0).
    """
    columns = spec.get("columns")
    if columns is None:
        return _parquet()
    for name, rows in spec.get("nulls", {}).items():
        columns[name] = [None if i in rows else v for i, v in enumerate(columns[name])]
    return _parquet(pa.table(columns))


def build_truncated_parquet(spec: dict[str, Any]) -> bytes:
    data = _parquet(_table(200))
    return data[: len(data) // 2]


def build_parquet_no_footer(spec: dict[str, Any]) -> bytes:
    # Magic at both ends, garbage between: looks like Parquet to a sniffer.
    return b"PAR1" + b"\x00" * 64 + b"PAR1"


def build_arrow(spec: dict[str, Any]) -> bytes:
    sink = io.BytesIO()
    feather.write_feather(_table(), sink, compression="uncompressed")
    return sink.getvalue()


def build_truncated_arrow(spec: dict[str, Any]) -> bytes:
    data = build_arrow(spec)
    return data[: len(data) // 2]


def build_gzip(spec: dict[str, Any]) -> bytes:
    data = gzip.compress(spec["text"].encode(), mtime=0)
    return data[: spec["cut"]] if "cut" in spec else data


def build_gzip_parquet(spec: dict[str, Any]) -> bytes:
    """A gzip-compressed Parquet file (spooled to disk to be read), cut to ``cut`` if given."""
    data = build_parquet(spec) if "columns" in spec else build_truncated_parquet(spec)
    return gzip.compress(data, mtime=0)


def build_bz2(spec: dict[str, Any]) -> bytes:
    data = bz2.compress(spec["text"].encode())
    return data[: spec["cut"]] if "cut" in spec else data


def build_xz(spec: dict[str, Any]) -> bytes:
    return lzma.compress(spec["text"].encode())


def build_zip(spec: dict[str, Any]) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        archive.writestr(spec["name"], spec["text"])
    return sink.getvalue()


def build_corrupt_zstd(spec: dict[str, Any]) -> bytes:
    # The zstd frame magic, then bytes that are no frame header.
    return b"\x28\xb5\x2f\xfd" + bytes(range(200, 256)) * 4


def build_bytes(spec: dict[str, Any]) -> bytes:
    """``hex``: the exact bytes, for content no TOML string can hold (non-UTF-8)."""
    return bytes.fromhex(spec["hex"])


def build_huge_field(spec: dict[str, Any]) -> bytes:
    return b"pred,target\n1,1\n" + b"9" * spec.get("size", 1 << 20) + b"x,2\n"


def build_nested_json(spec: dict[str, Any]) -> bytes:
    """Arrays nested ``depth`` deep: deeper than any recursive parser's stack."""
    return b"[" * spec["depth"] + b"]" * spec["depth"]


def build_nested_toml(spec: dict[str, Any]) -> bytes:
    return b"a = " + b"[" * spec["depth"] + b"]" * spec["depth"] + b"\n"


def build_many_rows(spec: dict[str, Any]) -> bytes:
    """``rows`` good rows, then the ``last`` line: a fault far from the start."""
    body = "".join(f"{i % 7}.5,{i % 5}\n" for i in range(spec["rows"]))
    return ("pred,target\n" + body + spec["last"]).encode()


BUILDERS: dict[str, Callable[[dict[str, Any]], bytes]] = {
    name.removeprefix("build_"): function
    for name, function in globals().items()
    if name.startswith("build_")
}


# -- the manifest -------------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    argv: list[str]
    stderr: str
    exit: int = 2
    hint: str | None = None
    files: list[str] = field(default_factory=list)
    write: dict[str, Any] = field(default_factory=dict)
    dirs: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    stdin: str | None = None
    stdin_hex: str | None = None
    stdin_file: str | None = None
    stdout: str | None = None
    process: bool = False
    pending: str | None = None
    skip_as_root: str | None = None

    @property
    def stdin_bytes(self) -> bytes | None:
        if self.stdin_hex is not None:
            return bytes.fromhex(self.stdin_hex)
        return None if self.stdin is None else self.stdin.encode()

    @property
    def needs_process(self) -> bool:
        """stdin, devices and streams only a real process has."""
        piped = self.stdin_bytes is not None or self.stdin_file is not None
        # Permission cases run as a process that root's override of permission bits is taken from.
        return self.process or piped or self.stdout is not None or bool(self.skip_as_root)


def load_manifest() -> tuple[dict[str, Any], list[Case]]:
    document = tomllib.loads((CORPUS / "cases.toml").read_text(encoding="utf-8"))
    return document.get("file", {}), [Case(**case) for case in document["case"]]


SHARED_FILES, CASES = load_manifest()


def file_bytes(spec: Any) -> bytes:
    """A file's content from its manifest entry: text, a builder or a committed file."""
    if isinstance(spec, str):
        return spec.encode()
    if "text" in spec and "build" not in spec:
        return spec["text"].encode()
    if "committed" in spec:
        return (CORPUS / "files" / spec["committed"]).read_bytes()
    return BUILDERS[spec["build"]](spec)


def materialise(case: Case, directory: Path) -> None:
    for name in case.dirs:
        (directory / name).mkdir(parents=True, exist_ok=True)
    wanted = {name: SHARED_FILES[name] for name in case.files}
    wanted.update(case.write)
    for name, target in case.links.items():
        (directory / name).symlink_to(target)
    for name, spec in wanted.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file_bytes(spec))
    for name, mode in case.modes.items():
        (directory / name).chmod(int(mode, 8))


# -- running a case -------------------------------------------------------------------------------


def run_as_process(case: Case, directory: Path) -> Outcome:
    stdin = case.stdin_bytes
    if case.stdin_file is not None:
        stdin = (directory / case.stdin_file).read_bytes()
    with contextlib.ExitStack() as stack:
        stdout = stack.enter_context(open(case.stdout, "wb")) if case.stdout else subprocess.PIPE
        prefix = DROP_OVERRIDE if case.skip_as_root else []
        return run_command(
            [*prefix, *COMMAND, *case.argv],
            stdin=subprocess.DEVNULL if stdin is None else stdin,
            stdout=stdout,
            cwd=directory,
            env=process_env(CI="1"),
        )


def check_outcome(case: Case, outcome: Outcome) -> None:
    lines = outcome.err.splitlines()
    assert outcome.code == case.exit, (outcome.code, outcome.err)
    assert outcome.out == "", outcome.out[:500]
    assert lines, "nothing on stderr"
    assert len(lines) <= MAX_STDERR_LINES, outcome.err
    assert len(outcome.err) <= MAX_STDERR_CHARS, outcome.err[:MAX_STDERR_CHARS]
    assert lines[0].startswith("losscli: error: "), outcome.err
    assert "Traceback" not in outcome.err, outcome.err
    assert "internal error" not in outcome.err, outcome.err
    assert not CONTROL.search(outcome.err), repr(outcome.err)
    assert re.search(case.stderr, lines[0]), (case.stderr, lines[0])
    if case.hint is not None:
        assert re.search(case.hint, "\n".join(lines[1:])), (case.hint, outcome.err)
    for spec in suggested_specs("\n".join(lines[1:])):
        parse_specs([spec])  # a fix that is itself an error would send the user in a circle


def suggested_specs(hint: str) -> list[str]:
    """The SPEC of every example in a hint: ``Example: --loss SPEC``, ``e.g. --loss SPEC``."""
    found = re.findall(r"(?:Example:|e\.g\.) (?:losscli \w+ )?--loss (\S+)", hint)
    return [spec.rstrip(".,;)") for spec in found]


def _param(case: Case) -> Any:
    marks = []
    if case.pending:
        marks.append(pytest.mark.xfail(strict=True, reason=case.pending))
    if case.skip_as_root and not PERMISSIONS_HOLD and not DROP_OVERRIDE:
        marks.append(pytest.mark.skip(reason=f"{case.skip_as_root}, and setpriv is missing"))
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_bad_input_is_a_clear_error(case, tmp_path, monkeypatch, capsysbinary):
    materialise(case, tmp_path)
    # Temporary files (a spooled stdin, say) go here too, so a leftover one is seen.
    temporary = tmp_path / ".tmp"
    temporary.mkdir()
    before = snapshot(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "1")
    monkeypatch.setenv("TMPDIR", str(temporary))
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    monkeypatch.delenv("LOSSCLI_DEBUG", raising=False)
    if case.needs_process:
        outcome = run_as_process(case, tmp_path)
    else:
        outcome = run(capsysbinary, *case.argv)
    try:
        check_outcome(case, outcome)
        assert snapshot(tmp_path) == before, "an input changed or a file was left behind"
    finally:
        _writable_again(tmp_path)


def _writable_again(directory: Path) -> None:
    # A case may lock a file or a directory; pytest must be able to remove them.
    for path in [directory, *directory.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


# -- the manifest itself ------------------------------------------------------------------------


def test_the_corpus_is_large_and_every_case_is_well_formed():
    ids = [case.id for case in CASES]
    assert len(CASES) >= 170
    assert len(set(ids)) == len(ids), [i for i in ids if ids.count(i) > 1]
    for case in CASES:
        re.compile(case.stderr)
        re.compile(case.hint or "")
        assert case.stderr.strip(), case.id
        assert all(name in SHARED_FILES for name in case.files), case.id
        for spec in [*case.write.values(), *(SHARED_FILES[name] for name in case.files)]:
            assert isinstance(file_bytes(spec), bytes)
    assert sum(case.needs_process for case in CASES) >= 30


def test_every_committed_file_is_used():
    committed = {path.name for path in (CORPUS / "files").iterdir() if path.name[0] != "."}
    used = {
        spec["committed"]
        for case in CASES
        for spec in [*case.write.values(), *(SHARED_FILES[name] for name in case.files)]
        if isinstance(spec, dict) and "committed" in spec
    }
    assert committed == used


def test_the_in_process_path_sees_what_a_process_sees(tmp_path, monkeypatch, capsysbinary):
    """The same case run both ways: the same code, stdout and stderr."""
    case = next(case for case in CASES if case.id == "file-non-numeric-at-row")
    materialise(case, tmp_path)
    monkeypatch.chdir(tmp_path)
    inside = run(capsysbinary, *case.argv)
    outside = run_as_process(case, tmp_path)
    assert (inside.code, inside.out, inside.err) == (outside.code, outside.out, outside.err)
