"""Where losscli writes: an output path is checked before anything is read, and never is an input.

A ``--per-row`` path is refused when it is one of the inputs under any spelling (``./x.csv``,
``a/../x.csv``, a symlink, a hard link), when it lies in an input directory or matches an input
glob (the next run would read it as data), and when its directory is missing or not writable.
An OS error met while writing (a full disk, say) becomes a one-line message naming the path and
the reason, with a hint: never an internal error.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import glob
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from losscli.errors import UsageError, option
from losscli.io.sources import STDIN, expand_inputs

# The parameters messages here name, marked (``errors.option``) for their reader to spell.
PER_ROW = option("per_row")
OUTPUT = option("output")
TARGETS_FILE = option("targets") + " file"

PER_ROW_SUFFIXES = (".csv", ".parquet", ".pq")
# A report's format named by the extension of the file it is written to.
REPORT_SUFFIXES = {
    ".json": "json",
    ".csv": "csv",
    ".md": "markdown",
    ".markdown": "markdown",
    ".xml": "junit",
    ".txt": "table",
}
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
NOT_ALLOWED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


def check_per_row(
    per_row: bool | str | os.PathLike[str] | None,
    data: Any = None,
    targets: Any = None,
    baseline: Any = None,
    report: Any = None,
) -> None:
    """Refuse a ``per_row`` path that cannot be written or would overwrite or join an input.

    ``data`` and ``targets`` are what ``evaluate`` reads (paths, globs, directories, ``-``; data in
    memory has no path and is skipped), ``baseline`` a report file read before the run, ``report``
    the stream the report goes to. Called before any input is read: a refused run changes nothing.
    """
    if not isinstance(per_row, (str, os.PathLike)):
        return  # None, or per_row=True (values kept in memory): no file
    target = per_row_path(per_row)
    writable_directory(target)
    shown = os.fspath(per_row)  # as the user spelled it: './x.csv', not 'x.csv'
    for role, items in (("input", data), (TARGETS_FILE, targets)):
        for item in _paths(items):
            _refuse_input(target, shown, item, role)
    for item in _paths(baseline):
        if _same_file(target, item):
            raise _overwrites(target, shown, f"the {option('baseline')} report {item}")
    if report is not None and _is_stream_of(target, report):
        raise UsageError(
            f"{PER_ROW} {shown} is also where the report goes (standard output).",
            "Send one of them elsewhere.",
        )


def check_report_output(
    output: str | os.PathLike[str],
    data: Any = None,
    targets: Any = None,
    baseline: Any = None,
    per_row: Any = None,
) -> Path:
    """The path a report is written to (``output``), refused as ``check_per_row`` refuses: onto
    an input (``data``, ``targets``, a ``baseline`` report) or into its directory or pattern, or
    onto the ``per_row`` file. Returns the path to write (a symbolic link's target)."""
    target = _followed(_file_path(output, OUTPUT), OUTPUT)
    writable_directory(target, OUTPUT)
    shown = os.fspath(output)
    for role, items in (("input", data), (TARGETS_FILE, targets), ("baseline", baseline)):
        for item in _paths(items):
            _refuse_input(target, shown, item, role, OUTPUT)
    for item in _paths(per_row):
        if _same_file(target, item):
            raise UsageError(
                f"{OUTPUT} {shown} is also the {PER_ROW} file.", "Send one of them elsewhere."
            )
    return target


def output_format(output: str | os.PathLike[str]) -> str:
    """The report format a path's extension names: .json, .csv, .md, .xml (JUnit), .txt."""
    suffix = Path(os.fspath(output)).suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        known = ", ".join(f"{s} ({f})" for s, f in REPORT_SUFFIXES.items())
        raise UsageError(
            f"{OUTPUT} {os.fspath(output)}: the extension '{suffix}' names no report format.",
            f"Name the format with {option('output_format')} (e.g. metrics), or use one of "
            f"{known}.",
        )
    return REPORT_SUFFIXES[suffix]


def write_text(path: Path, pieces: Iterable[bytes]) -> None:
    """The text of ``pieces`` (UTF-8 bytes) in place of the -o file ``path``, atomically."""
    replace_atomically(path, pieces, OUTPUT)


def check_report_stream(stream: Any, data: Any = None, targets: Any = None) -> None:
    """Refuse a report whose stream is a file among the inputs (``>> preds.csv``, or ``>`` into
    an input directory): the report would be appended to the data, or read as data."""
    status = _stream_status(stream)
    if status is None or not stat.S_ISREG(status.st_mode):
        return  # a terminal or a pipe is no input
    for role, items in (("input", data), (TARGETS_FILE, targets)):
        for item in _paths(items):
            if item == STDIN:
                if _same_status(status, _stream_status(sys.stdin)):
                    raise _into_input("the file on standard input")
                continue
            for source in expand_inputs([item]):
                if _same_inode(status, source.name):
                    raise _into_input(f"the {role} {source.name}")


def _into_input(what: str) -> UsageError:
    return UsageError(
        f"Standard output is {what}: the report would be written into it.",
        "Redirect the report to another file.",
    )


def per_row_path(per_row: str | os.PathLike[str]) -> Path:
    """The ``--per-row`` path as given, if it names a .csv or .parquet file."""
    path = _file_path(per_row, PER_ROW)
    if path.suffix.lower() not in PER_ROW_SUFFIXES:
        raise UsageError(
            f"{PER_ROW} {path} must end in .csv or .parquet.", f"Example: {PER_ROW} losses.parquet"
        )
    return _followed(path, PER_ROW)


def _file_path(given: str | os.PathLike[str], name: str) -> Path:
    """``given`` as a path, if it may name a file: neither empty nor ending in '/'."""
    text = os.fspath(given)
    if not text.strip():
        raise UsageError(f"{name} is empty.", "Name a file to write, or leave it out.")
    if text.endswith(("/", os.sep)):
        raise UsageError(
            f"{name} {text} ends in '/', which names a directory.",
            f"Name a file: {name} {text.rstrip('/' + os.sep)}",
        )
    return Path(text)


def _followed(path: Path, name: str = PER_ROW) -> Path:
    """A symbolic link is written through, as a shell's '>' does: its target is replaced and the
    link stays. A target that is no regular file (a device, a pipe) cannot be replaced whole."""
    if not path.is_symlink():
        if path.exists() and not path.is_file() and not path.is_dir():
            raise _not_a_file(path, path, name)
        return path
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        raise _not_a_file(path, target, name)
    return target


def _not_a_file(path: Path, target: Path, name: str) -> UsageError:
    named = f"{path}" if path == target else f"{path} (a link to {target})"
    return UsageError(
        f"{name} {named} is not a regular file, so it cannot be written whole and replaced.",
        "Name a regular file to write.",
    )


def writable_directory(path: Path, name: str = PER_ROW) -> Path:
    """The directory of ``path``, if a new file can be made there and ``path`` is no directory.
    ``name`` is the marked parameter that gave the path."""
    if path.is_dir():
        example = path / {PER_ROW: "rows.csv", OUTPUT: "report.json"}.get(name, "picture.png")
        raise UsageError(f"{name} {path} is a directory.", f"Name a file in it: {name} {example}")
    directory = path.parent
    if directory.exists() and not directory.is_dir():
        raise UsageError(
            f"{name} {path}: '{directory}' is a file, not a directory.",
            "Name a path in an existing directory.",
        )
    if not directory.is_dir():
        raise UsageError(
            f"{name}: directory '{directory}' does not exist.",
            f"Create it first (mkdir -p '{directory}'), or write the file elsewhere.",
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        code = errno.EROFS if _on_read_only_disk(directory) else errno.EACCES
        raise write_error(f"{name} {path} (in '{directory}')", OSError(code, os.strerror(code)))
    return directory


def check_output(
    path: str | os.PathLike[str], suffixes: tuple[str, ...], what: str, inputs: Any = ()
) -> Path:
    """An output file's path (``what`` names its option), checked before anything is read: its
    extension is one of ``suffixes``, its directory writable, and it is none of ``inputs``."""
    text = os.fspath(path)
    target = Path(text)
    if target.suffix.lower() not in suffixes:
        raise UsageError(
            f"{what} {text}: the extension '{target.suffix}' is not one losscli writes.",
            f"End the name in {', '.join(suffixes)}.",
        )
    target = _followed(target, what)
    writable_directory(target, what)
    for item in _paths(list(inputs)):
        _refuse_input(target, text, item, "input", what)
    return target


def replace_atomically(path: Path, pieces: Iterable[bytes], what: str) -> None:
    """Write ``pieces`` to a temporary file beside ``path``, flush it to disk, then rename it over
    ``path``: a failed write (or a piece that fails to be made) leaves the old file, or none."""
    directory = writable_directory(path, what)
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as a new file would be, not mkstemp's 0600
        with os.fdopen(handle, "wb") as stream:
            for piece in pieces:
                stream.write(piece)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
        temporary = None
    except OSError as error:
        raise write_error(f"{what} {path}", error) from None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def write_error(what: str, error: OSError) -> UsageError:
    """'Cannot write WHAT: the OS's reason.' and a hint fitting that reason."""
    reason = os.strerror(error.errno) if error.errno else (error.strerror or str(error))
    if error.errno == errno.EFBIG:
        hint = "It is larger than a file may be here (ulimit -f): raise the limit or write Parquet."
    elif error.errno in NO_SPACE:
        hint = "Free some space, or write it to another disk."
    elif error.errno in NOT_ALLOWED:
        hint = "Write it where you are allowed to, e.g. in your home directory."
    else:
        hint = "Check the path, or write it elsewhere."
    return UsageError(f"Cannot write {what}: {reason}.", hint)


def _on_read_only_disk(directory: Path) -> bool:
    try:
        return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _paths(items: Any) -> list[str]:
    """The path texts among ``items`` (one or a list); nothing for data held in memory."""
    if items is None:
        return []
    if isinstance(items, (str, os.PathLike)):
        items = [items]
    if not isinstance(items, (list, tuple)):
        return []
    return [os.fspath(item) for item in items if isinstance(item, (str, os.PathLike))]


def _refuse_input(target: Path, shown: str, item: str, role: str, name: str = PER_ROW) -> None:
    if item == STDIN:
        return  # read to its end before the file is replaced: the rename cannot reach it
    for source in expand_inputs([item]):
        if not source.is_stdin and _same_file(target, source.name):
            raise _overwrites(target, shown, f"the {role} {source.name}", name)
    if glob.has_magic(item) and _matches(target, item):
        raise UsageError(
            f"{name} {shown} matches the {role} pattern '{item}': a later run would read it "
            "as data.",
            "Write it where the pattern does not reach, or narrow the pattern.",
        )
    if os.path.isdir(item) and _inside(target, item):
        raise UsageError(
            f"{name} {shown} is inside the {role} directory '{item}': a later run would "
            "read it as data.",
            f"Write it elsewhere, outside '{item}'.",
        )


def _overwrites(target: Path, shown: str, what: str, name: str = PER_ROW) -> UsageError:
    other = target.with_name(f"{target.stem}.{'rows' if name == PER_ROW else 'out'}{target.suffix}")
    return UsageError(
        f"{name} {shown} would overwrite {what}.",
        f"Write it elsewhere, e.g. {name} {other}",
    )


def _same_file(target: Path, name: str) -> bool:
    """One file under two spellings: the same real path, or the same inode (a hard link)."""
    if os.path.realpath(target) == os.path.realpath(name):
        return True
    try:
        return _same_inode(os.stat(target), name)
    except OSError:
        return False  # a path that does not exist yet is no other file


def _inside(target: Path, directory: str) -> bool:
    """Whether the file written at ``target`` lands under ``directory`` (compared by inode)."""
    try:
        wanted = os.stat(directory)
    except OSError:
        return False
    ancestors = _ancestors(Path(os.path.realpath(target.parent)))
    return any(_same_inode(wanted, ancestor) for ancestor in ancestors)


def _ancestors(path: Path) -> Iterator[Path]:
    yield path
    yield from path.parents


def _matches(target: Path, pattern: str) -> bool:
    """Whether ``glob.glob(pattern, recursive=True)`` would list ``target`` once it exists,
    as spelled or with symlinked directories resolved on both sides."""
    rules = Path(os.path.abspath(pattern)).parts
    if _parts_match(Path(os.path.abspath(target)).parts, rules):
        return True
    first_magic = next(i for i, rule in enumerate(rules) if glob.has_magic(rule))
    real_rules = Path(os.path.realpath(Path(*rules[:first_magic]))).parts + rules[first_magic:]
    real_target = Path(os.path.realpath(target.parent), target.name)
    return _parts_match(real_target.parts, real_rules)


def _parts_match(parts: tuple[str, ...], rules: tuple[str, ...]) -> bool:
    if not rules:
        return not parts
    if rules[0] == "**":  # any number of directories, none included
        rest = rules[1:]
        return any(_parts_match(parts[skip:], rest) for skip in range(len(parts) + 1))
    if not parts or not _part_matches(parts[0], rules[0]):
        return False
    return _parts_match(parts[1:], rules[1:])


def _part_matches(part: str, rule: str) -> bool:
    # glob leaves out hidden names unless the pattern itself starts with a dot.
    if part.startswith(".") and not rule.startswith("."):
        return False
    return fnmatch.fnmatchcase(part, rule)


def _is_stream_of(target: Path, stream: Any) -> bool:
    status = _stream_status(stream)
    return status is not None and _same_inode(status, target)


def _stream_status(stream: Any) -> os.stat_result | None:
    try:
        return os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return None  # closed, or without a descriptor (a test's capture)


def _same_inode(status: os.stat_result, path: str | Path) -> bool:
    try:
        return _same_status(status, os.stat(path))
    except OSError:
        return False  # no file yet


def _same_status(one: os.stat_result, other: os.stat_result | None) -> bool:
    return other is not None and (one.st_dev, one.st_ino) == (other.st_dev, other.st_ino)
