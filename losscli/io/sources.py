"""Where the rows come from: paths, globs, directories and standard input, with their formats.

Formats come from the file extension, else from the first bytes (magic numbers), so a pipe of
Parquet or gzip-compressed CSV is recognised like a named file.
"""

from __future__ import annotations

import glob
import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from losscli.errors import InputError

FORMATS = ("csv", "tsv", "parquet", "arrow", "jsonl")
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
    ".arrows": "arrow",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".zst": "zstd", ".zstd": "zstd"}
MAGIC_COMPRESSION = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\x28\xb5\x2f\xfd", "zstd"))
STDIN = "-"


@dataclass(frozen=True)
class Source:
    """One input: a file path (or ``-`` for stdin), its format and its compression."""

    name: str
    format: str | None = None  # None until sniffed from the first bytes
    compression: str | None = None
    pipe: bool = False  # a named pipe such as bash's <(zcat x.gz): readable once, not seekable

    @property
    def is_stdin(self) -> bool:
        return self.name == STDIN

    @property
    def is_stream(self) -> bool:
        """Read once from the front: standard input or a pipe (sniffed, spooled if need be)."""
        return self.is_stdin or self.pipe

    @property
    def display(self) -> str:
        return "<stdin>" if self.is_stdin else self.name


def natural_key(text: str) -> list[object]:
    """Sort key under which ``p2`` comes before ``p10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def expand_inputs(items: list[str], format_hint: str | None = None) -> list[Source]:
    """Paths, globs and directories as one ordered list of sources; no items means stdin."""
    if not items:
        items = [STDIN]
    sources: list[Source] = []
    for item in items:
        for name in _expand_one(item):
            sources.append(describe_path(name, format_hint))
    if sum(source.is_stdin for source in sources) > 1:
        raise InputError("Standard input ('-') can be read only once.", "Name it once.")
    return sources


def _expand_one(item: str) -> list[str]:
    if item == STDIN:
        return [STDIN]
    if glob.has_magic(item):
        matches = sorted(
            (m for m in glob.glob(item, recursive=True) if os.path.isfile(m)), key=natural_key
        )
        if not matches:
            raise InputError(f"No file matches '{item}'.", "Check the pattern and quote it.")
        return matches
    path = Path(item)
    if path.is_dir():
        found = [str(p) for p in path.rglob("*") if _is_data_file(p, path)]
        if not found:
            raise InputError(
                f"Directory '{item}' holds no data files.",
                "losscli reads .csv, .tsv, .parquet, .arrow/.feather and .jsonl "
                "(optionally .gz/.bz2/.zst).",
            )
        return sorted(found, key=natural_key)
    if not path.exists():
        raise InputError(f"No such file: '{item}'.", "Check the path, or pass '-' to read stdin.")
    return [item]


def _is_data_file(path: Path, root: Path) -> bool:
    # Hidden files and markers such as _SUCCESS or _metadata are not data.
    parts = path.relative_to(root).parts
    if any(part.startswith((".", "_")) for part in parts) or not path.is_file():
        return False
    return split_extension(path.name)[0] is not None


def split_extension(name: str) -> tuple[str | None, str | None]:
    """(format, compression) from a file name such as ``preds.csv.gz``; None where unknown."""
    lowered = name.lower()
    compression = None
    for suffix, codec in COMPRESSIONS.items():
        if lowered.endswith(suffix):
            compression = codec
            lowered = lowered[: -len(suffix)]
            break
    fmt = next((f for ext, f in EXTENSIONS.items() if lowered.endswith(ext)), None)
    return fmt, compression


def describe_path(name: str, format_hint: str | None = None) -> Source:
    if name == STDIN:
        return Source(STDIN, format_hint)
    fmt, compression = split_extension(name)
    try:
        if not stat.S_ISREG(os.stat(name).st_mode):
            # Sniffing a pipe here would eat its first bytes: the reader sniffs it instead.
            return Source(name, format_hint or fmt, compression, pipe=True)
        if compression is None:
            with open(name, "rb") as handle:
                compression = sniff_compression(handle.read(4))
    except OSError as error:
        raise InputError(
            f"Cannot open '{name}': {error.strerror or error}.", "Check the path and permissions."
        ) from None
    return Source(name, format_hint or fmt, compression)


def sniff_compression(head: bytes) -> str | None:
    return next((codec for magic, codec in MAGIC_COMPRESSION if head.startswith(magic)), None)


def sniff_format(head: bytes) -> str:
    """The format of uncompressed bytes: binary magics first, then JSON, then CSV or TSV."""
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"ARROW1") or head.startswith(b"\xff\xff\xff\xff"):
        return "arrow"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return "jsonl"
    first_line = text.split(b"\n", 1)[0]
    return "tsv" if first_line.count(b"\t") > first_line.count(b",") else "csv"


def stdin_binary() -> BinaryIO:
    return sys.stdin.buffer


def arrow_buffer(data: bytes) -> Any:
    """``data`` copied into memory Arrow owns, for Arrow's threaded parsers.

    A reader over the Python bytes themselves is released by whichever Arrow thread finishes
    last, which must then take the GIL; during interpreter shutdown (right after an input error,
    say) that thread is killed mid-unwind and the process aborts ("terminate called without an
    active exception"). The copy costs well under a millisecond per 4 MiB block.
    """
    import pyarrow as pa  # here, not at the top: this module serves `--help` too

    buffer = pa.allocate_buffer(len(data))
    memoryview(buffer).cast("B")[:] = data
    return buffer


def arrow_reader(data: bytes) -> Any:
    """A reader over a copy of ``data`` in Arrow's memory (see ``arrow_buffer``)."""
    import pyarrow as pa

    return pa.BufferReader(arrow_buffer(data))
