"""``--per-row`` on a cluster: a directory of Parquet part files, one per unit of work.

Each worker writes its unit's rows to ``part-00000.parquet``, ``part-00001.parquet``, ... in the
order of the units, so the parts in name order are the rows in input order. A part is written
whole or not at all (a temporary file renamed into place, or one object stored on completion);
a unit without rows writes no part. The directory is local or in object storage.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from losscli.errors import UsageError, option
from losscli.io.remote import explained, filesystem, is_url
from losscli.io.writers import PerRowWriter

PER_ROW = option("per_row")


def part_name(index: int, units: int) -> str:
    """The file name of unit ``index`` of ``units``: zero-padded, so names sort in row order."""
    return f"part-{index:0{max(5, len(str(units - 1)))}d}.parquet"


def check_part_directory(per_row: Any, data: Any, targets: Any) -> str:
    """The directory for the parts (made if need be), refused before anything is read when it
    cannot hold them: a CSV name, a file, an earlier run's parts, or a place inside an input."""
    if not isinstance(per_row, (str, os.PathLike)):
        raise UsageError(
            f"{PER_ROW}=True keeps each row's values in this process, which a cluster does not "
            "send back.",
            f"Give {PER_ROW} a directory for Parquet part files, or leave out "
            f"{option('scheduler')}.",
        )
    text = os.fspath(per_row).rstrip("/")
    if text.lower().endswith(".csv"):
        raise UsageError(
            f"On a cluster {PER_ROW} writes a directory of Parquet part files, not {text}.",
            f"Name a directory, e.g. {PER_ROW} {text[:-4]}/",
        )
    if is_url(text):
        _check_remote(text)
        return text
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise UsageError(
            f"{PER_ROW} {text} is a file; on a cluster it names a directory of part files.",
            f"Name a new directory, e.g. {PER_ROW} {text}.parts/",
        )
    _refuse_earlier_parts([str(found) for found in path.glob("part-*.parquet")], text)
    made = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    try:
        from losscli.io.outputs import check_per_row

        check_per_row(str(path / part_name(0, 1)), data, targets)
    except UsageError:
        if made:
            path.rmdir()
        raise
    return text


def _check_remote(url: str) -> None:
    fs, path = filesystem(url)
    with explained(url):
        found = fs.glob(path + "/part-*.parquet") if fs.exists(path) else []
    _refuse_earlier_parts(found, url)


def _refuse_earlier_parts(found: list[str], shown: str) -> None:
    if found:
        raise UsageError(
            f"{PER_ROW} {shown} already holds part files ({len(found)}) of an earlier run: "
            "the two runs' rows would mix.",
            "Remove them, or name a new directory.",
        )


@contextlib.contextmanager
def part_writer(
    directory: str, name: str, labels: list[str], id_column: str | None
) -> Iterator[PerRowWriter]:
    """A writer of one unit's rows into ``directory``/``name``, in place only when whole."""
    if not is_url(directory):
        with PerRowWriter(os.path.join(directory, name), labels, id_column, keep_empty=False) as w:
            yield w
        return
    # Object storage: written here, then stored as one object (complete or absent).
    local = tempfile.mkdtemp(prefix="losscli-part-")
    try:
        path = os.path.join(local, name)
        with PerRowWriter(path, labels, id_column, keep_empty=False) as writer:
            yield writer
        if os.path.exists(path):
            url = f"{directory}/{name}"
            fs, remote = filesystem(url)
            with explained(url):
                fs.put_file(path, remote)
    finally:
        shutil.rmtree(local, ignore_errors=True)
