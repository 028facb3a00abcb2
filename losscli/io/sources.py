"""Where the rows come from: paths, globs, directories and standard input, with their formats.

Formats come from the file extension, else from the first bytes (magic numbers), so a pipe of
Parquet or gzip-compressed CSV is recognised like a named file. Where the bytes are unambiguous
(a compression's or a binary format's magic number) they win over the name: a file named
``.csv`` that holds Parquet is read as Parquet. Archives and bytes that are no data format are
refused in one line that says what they look like.

A directory laid out in Hive partitions (``root/region=eu/day=3/part-0.parquet``) gives every row
of a file its partition values as columns (``region``, ``day``), typed once over all files.
"""

from __future__ import annotations

import codecs
import glob
import os
import re
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, BinaryIO, NamedTuple

from losscli.errors import InputError, option
from losscli.io.remote import full_url, is_url, url_paths

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
COMPRESSIONS = {
    ".gz": "gzip",
    ".gzip": "gzip",
    ".bz2": "bz2",
    ".zst": "zstd",
    ".zstd": "zstd",
    ".lz4": "lz4",  # the LZ4 frame format, as the lz4 command writes it
    ".xz": "xz",  # Arrow has no xz codec: Python's lzma decompresses it
}
MAGIC_COMPRESSION = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x04\x22\x4d\x18", "lz4"),
    (b"\xfd7zXZ\x00", "xz"),
)
ZIP_MAGIC = b"PK\x03\x04"
# What files that are no data format are, by name and by their first bytes, and what to do.
ARCHIVE_NAMES = {
    ".tar.gz": "tar",
    ".tgz": "tar",
    ".tar.bz2": "tar",
    ".tar.xz": "tar",
    ".tar.zst": "tar",
    ".tar": "tar",
    ".7z": "7z",
    ".rar": "rar",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
}
ARCHIVE_MAGIC = (
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "excel"),  # OLE2, as .xls workbooks are stored
)
ARCHIVES = {
    "tar": ("a tar archive", "Unpack it first (tar -xf FILE) and pass the files or their folder."),
    "7z": ("a 7z archive", "Extract it first (7z x FILE) and pass the files or their folder."),
    "rar": ("a RAR archive", "Extract it first (unrar x FILE) and pass the files."),
    "excel": ("an Excel workbook", "Save the sheet as CSV (File > Save As) and pass that file."),
    "zip": ("a zip archive", "Unzip it first (unzip FILE) and pass the files or their folder."),
}
SNIFF_BYTES = 512  # a tar header's 'ustar' is at 257
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
INT64 = 1 << 63
STDIN = "-"


class Partition(NamedTuple):
    """One Hive partition key of a file and its value there; None is a null (the default).

    A named tuple, not a dataclass: those compile their methods when the module loads.
    """

    name: str
    value: int | float | str | None
    kind: str = "string"  # "int64", "float64" or "string": decided over all files of the input


@dataclass(frozen=True)
class Source:
    """One input: a file path (or ``-`` for stdin), its format and its compression."""

    name: str
    format: str | None = None  # None until sniffed from the first bytes
    compression: str | None = None
    pipe: bool = False  # a named pipe such as bash's <(zcat x.gz): readable once, not seekable
    partitions: tuple[Partition, ...] = ()  # key=value directories above a file of a directory
    member: str | None = None  # the data file inside a zip archive
    dialect: Any = None  # a CSV's dialect.CsvDialect, when the options give one
    # A part of a Parquet file read as a unit of its own (on a cluster): row groups
    # [first, stop), after ``rows_before`` rows of the file's earlier row groups.
    row_groups: tuple[int, int] | None = None
    rows_before: int = 0
    # A part of a large text file read as a unit of its own: the lines that start in bytes
    # [start, stop). ``rows_known`` is False when the rows before it were not counted: its
    # messages then number rows from the part's start and name its bytes.
    byte_range: tuple[int, int] | None = None
    rows_known: bool = True

    @property
    def is_stdin(self) -> bool:
        return self.name == STDIN

    @property
    def is_stream(self) -> bool:
        """Read once from the front: standard input or a pipe (sniffed, spooled if need be)."""
        return self.is_stdin or self.pipe

    @property
    def display(self) -> str:
        if self.is_stdin:
            return "<stdin>"
        if self.byte_range is not None and not self.rows_known:
            return f"{self.name} (bytes {self.byte_range[0]}-{self.byte_range[1]})"
        return self.name


def natural_key(text: str) -> list[object]:
    """Sort key under which ``p2`` comes before ``p10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def expand_inputs(items: list[str], format_hint: str | None = None) -> list[Source]:
    """Paths, globs and directories as one ordered list of sources; no items means stdin."""
    if not items:
        items = [STDIN]
    sources: list[Source] = []
    for item in items:
        for name, keys in _expand_one(item):
            sources.append(replace(describe_path(name, format_hint), partitions=keys))
    if sum(source.is_stdin for source in sources) > 1:
        raise InputError("Standard input ('-') can be read only once.", "Name it once.")
    return typed_partitions(sources)


def _expand_one(item: str) -> list[tuple[str, tuple[Partition, ...]]]:
    if item == STDIN:
        return [(STDIN, ())]
    if is_url(item):
        return _url_inputs(item)
    kind = _path_kind(item)
    if kind == "directory":
        return _directory_inputs(item)
    # A file that exists is that file, even with '[', '*' or '?' in its name.
    if kind is None and glob.has_magic(item):
        matches = sorted(
            (m for m in glob.glob(item, recursive=True) if os.path.isfile(m)), key=natural_key
        )
        if not matches:
            raise InputError(f"No file matches '{item}'.", "Check the pattern and quote it.")
        return [(match, ()) for match in matches]
    if kind is None:
        raise InputError(f"No such file: '{item}'.", "Check the path, or pass '-' to read stdin.")
    return [(item, ())]


def _path_kind(item: str) -> str | None:
    """'directory', 'file' (or anything else that can be opened), or None where nothing is."""
    try:
        mode = os.stat(item).st_mode
    except FileNotFoundError:
        return None
    except OSError as error:
        raise _cannot_open(item, error) from None
    return "directory" if stat.S_ISDIR(mode) else "file"


def _url_inputs(item: str) -> list[tuple[str, tuple[Partition, ...]]]:
    """A URL's files: itself, a glob's matches, or a folder's data files with their keys."""
    fs, root, paths = url_paths(item)
    if paths == [root]:
        return [(item, ())]
    if not paths:
        raise InputError(f"No file matches '{item}'.", "Check the pattern and quote it.")
    if _has_magic(root):
        return [(full_url(path, item), ()) for path in sorted(paths, key=natural_key)]
    folders = [path[len(root) :].split("/") for path in paths]
    data = [
        path
        for path, parts in zip(paths, folders, strict=True)
        if _is_data_file(parts[-1]) and not any(p.startswith((".", "_")) for p in parts[:-1])
    ]
    keyed = _keyed(root, data, item)
    return [(full_url(path, item), keys) for path, keys in keyed]


def _has_magic(path: str) -> bool:
    return glob.has_magic(path)


def _directory_inputs(item: str) -> list[tuple[str, tuple[Partition, ...]]]:
    return _keyed(item, _data_files(item), item)


def _keyed(root: str, files: list[str], item: str) -> list[tuple[str, tuple[Partition, ...]]]:
    """A folder's data files in natural order, each with its key=value folders' keys."""
    found = sorted(files, key=natural_key)
    if not found:
        raise InputError(
            f"Directory '{item}' holds no data files.",
            "losscli reads .csv, .tsv, .parquet, .arrow/.feather and .jsonl "
            "(optionally .gz/.bz2/.zst/.lz4/.xz).",
        )
    keyed = [(name, _partition_texts(root, name)) for name in found]
    first_name, first_keys = keyed[0]
    for name, keys in keyed[1:]:
        if [key.name for key in keys] != [key.name for key in first_keys]:
            raise InputError(
                f"'{name}' has {_key_list(keys)} but '{first_name}' has {_key_list(first_keys)}.",
                "Every file of a partitioned directory needs the same key=value "
                "directories, in the same order.",
            )
    return keyed


def _data_files(root: str) -> list[str]:
    """The data files under ``root``; an unreadable directory on the way is an input error."""

    def refuse(error: OSError) -> None:
        raise InputError(
            f"Cannot list directory '{error.filename or root}': "
            f"{(error.strerror or str(error)).lower()}.",
            "Check its permissions (ls -ld), or pass the files it holds.",
        )

    found = []
    for folder, subfolders, files in os.walk(root, onerror=refuse):
        # Hidden folders and markers such as _temporary, _SUCCESS or _metadata are not data.
        subfolders[:] = [name for name in subfolders if not name.startswith((".", "_"))]
        for name in files:
            path = os.path.join(folder, name)
            if _is_data_file(name) and os.path.isfile(path):
                found.append(path)
    return found


def _is_data_file(name: str) -> bool:
    return not name.startswith((".", "_")) and split_extension(name)[0] is not None


def _partition_texts(root: str, path: str) -> tuple[Partition, ...]:
    """The key=value folders between ``root`` and ``path``, values as written (URL-decoded)."""
    folders = os.path.relpath(os.path.dirname(path), root).split(os.sep)
    keys: list[Partition] = []
    for folder in folders:
        key, sep, text = folder.partition("=")
        if not sep or not key:
            continue
        if any(known.name == key for known in keys):
            raise InputError(
                f"'{path}' has partition key '{key}' twice in its path.",
                "Give each key=value directory level its own key.",
            )
        text = unquote(text)  # Hive writes '/', '=', '%' and the like as %2F, %3D, %25
        keys.append(Partition(key, None if text in ("", HIVE_NULL) else text))
    return tuple(keys)


def unquote(text: str) -> str:
    import urllib.parse  # here: only partitioned directories need it

    return urllib.parse.unquote(text)


def _key_list(keys: Sequence[Partition]) -> str:
    names = ", ".join(key.name for key in keys)
    return f"partition keys ({names})" if keys else "no partition keys"


def typed_partitions(sources: list[Source]) -> list[Source]:
    """Partition values as int64 if every value of the key is an integer, float64 if every one
    is a number, else as text; decided over all the sources, so every file agrees."""
    texts: dict[str, list[str]] = {}
    for source in sources:
        for key in source.partitions:
            if isinstance(key.value, str):
                texts.setdefault(key.name, []).append(key.value)
    kinds = {name: _kind_of(values) for name, values in texts.items()}
    return [
        replace(
            source,
            partitions=tuple(
                _typed(key, kinds.get(key.name, "string")) for key in source.partitions
            ),
        )
        if source.partitions
        else source
        for source in sources
    ]


# Numbers as numbers are written: a leading zero ('007') makes a code, kept as text.
INTEGER = re.compile(r"[+-]?(0|[1-9][0-9]*)")
NUMBER = re.compile(
    r"[+-]?(0|[1-9][0-9]*)(\.[0-9]*)?([eE][+-]?[0-9]+)?|[+-]?\.[0-9]+([eE][+-]?[0-9]+)?"
)


def _kind_of(values: list[str]) -> str:
    if all(_int64(v) for v in values):
        return "int64"
    # An integer beyond int64 is an identifier: as float64, neighbours would fall together.
    if all(_int64(v) or NUMBER.fullmatch(v) and not INTEGER.fullmatch(v) for v in values):
        return "float64"
    return "string"


def _int64(text: str) -> bool:
    return bool(INTEGER.fullmatch(text)) and -INT64 <= int(text) < INT64


def _typed(key: Partition, kind: str) -> Partition:
    if key.value is None or kind == "string":
        return key._replace(kind=kind)
    value = int(key.value) if kind == "int64" else float(str(key.value))
    return Partition(key.name, value, kind)


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
    if is_url(name):  # its first bytes are sniffed when it is opened
        return Source(name, format_hint or fmt, compression)
    try:
        if not stat.S_ISREG(os.stat(name).st_mode):
            # Sniffing a pipe here would eat its first bytes: the reader sniffs it instead.
            return Source(name, format_hint or fmt, compression, pipe=True)
        with open(name, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as error:
        raise _cannot_open(name, error) from None
    refuse_archive(name, head, name)
    if head.startswith(ZIP_MAGIC) or name.lower().endswith(".zip"):
        return _zip_source(name, format_hint)
    return Source(name, format_hint or fmt, settle_compression(compression, head, name))


def settle_compression(named: str | None, head: bytes, where: str) -> str | None:
    """The compression of raw ``head``: its magic number wins over the name (gzip bytes named
    .csv are read); a name that says compressed over bytes that are not is refused."""
    found = sniff_compression(head)
    if named and head and not found:
        # Missing magic may as well be a damaged file as a misnamed one: not read as text.
        raise InputError(
            f"{where} is named as {named}-compressed but its bytes are not: "
            f"they {looks_like(head)}.",
            "Rename it without the compression ending, or give the compressed file.",
        )
    return found


def _cannot_open(name: str, error: OSError) -> InputError:
    return InputError(
        f"Cannot open '{name}': {error.strerror or error}.", "Check the path and permissions."
    )


def refuse_archive(name: str, head: bytes, where: str) -> None:
    """An input error if ``name`` or ``head`` is an archive or workbook rather than data."""
    lowered = name.lower()
    kind = next((k for ext, k in ARCHIVE_NAMES.items() if lowered.endswith(ext)), None)
    kind = kind or next((k for magic, k in ARCHIVE_MAGIC if head.startswith(magic)), None)
    if kind is None and head[257:262] == b"ustar":
        kind = "tar"
    if kind is not None:
        what, hint = ARCHIVES[kind]
        raise InputError(f"{where} is {what}, not a data file.", hint.replace("FILE", where))


def _zip_source(name: str, format_hint: str | None) -> Source:
    """A zip archive holding exactly one data file is read as that file; others are refused."""
    import zipfile  # here: a few milliseconds that only a zip needs

    try:
        with zipfile.ZipFile(name) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(
            f"Cannot read {name} as a zip archive: {error}.", "Check that the file is complete."
        ) from None
    if any(info.filename.startswith("xl/") for info in members):
        what, hint = ARCHIVES["excel"]
        raise InputError(f"{name} is {what}, not a data file.", hint)
    data = [info for info in members if not _hidden_member(info.filename)]
    problem = _zip_problem(data, zipfile)
    if problem is not None:
        raise InputError(
            f"{name} is a zip archive {problem}; losscli reads a zip of one plain data file.",
            ARCHIVES["zip"][1].replace("FILE", name),
        )
    member = data[0].filename
    return Source(name, format_hint or split_extension(member)[0], "zip", member=member)


def _zip_problem(data: list[Any], zipfile: Any) -> str | None:
    """Why a zip's data members cannot be read as one file, or None if they can."""
    if len(data) != 1:
        return f"holding {len(data)} files"
    info = data[0]
    if split_extension(info.filename)[1] is not None:
        return f"holding the compressed file {info.filename}"
    if info.flag_bits & 0x1:
        return f"holding {info.filename} encrypted"
    readable = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
    if info.compress_type not in readable:
        return f"holding {info.filename} compressed by a method Python cannot read"
    return None


def _hidden_member(member: str) -> bool:
    # macOS adds __MACOSX/ resource forks and .DS_Store files to the zips it makes.
    return any(part.startswith((".", "_")) for part in member.split("/"))


def sniff_compression(head: bytes) -> str | None:
    return next((codec for magic, codec in MAGIC_COMPRESSION if head.startswith(magic)), None)


def binary_format(head: bytes) -> str | None:
    """'parquet' or 'arrow' where the bytes start with that format's magic, else None."""
    if head.startswith(b"PAR1"):
        return "parquet"
    # A continuation marker (0xFFFFFFFF) never starts UTF-8 text: this is Arrow's stream format.
    if head.startswith(b"ARROW1") or head.startswith(b"\xff\xff\xff\xff"):
        return "arrow"
    return None


def settle_format(declared: str | None, head: bytes, where: str) -> str:
    """The format to read uncompressed ``head`` as: a binary magic number wins over the name or
    --input-format; text named as a binary format, and bytes that are not text, are refused."""
    found = binary_format(head)
    if found is not None:
        return found
    refuse_archive("", head, where)
    problem = not_text(head)
    if problem is not None:
        what, hint = problem
        raise InputError(f"{where} {what}; losscli reads text as UTF-8.", hint)
    if declared in ("parquet", "arrow"):
        name = "Parquet" if declared == "parquet" else "Arrow IPC"
        guess = sniff_format(head)
        raise InputError(
            f"{where} is taken for {name} (by its name or {option('input_format')}) but its "
            f"bytes look like text ({TEXT_NAMES[guess]}), not {name}.",
            f"Rename it to end in .{guess}, or pass {option('input_format')} {guess}.",
        )
    return declared or sniff_format(head)


TEXT_NAMES = {"csv": "CSV", "tsv": "TSV", "jsonl": "JSON Lines"}
UTF16_HINT = "Convert it first, e.g. iconv -f UTF-16 -t UTF-8 FILE > FILE.utf8.csv"
BINARY_HINT = "Check that it is the file you meant; losscli reads CSV, TSV, Parquet, Arrow, JSONL."


def looks_like(head: bytes) -> str:
    """What uncompressed ``head`` looks like, for messages: 'look like Parquet', ..."""
    found = binary_format(head)
    if found is not None:
        return f"look like {'Parquet' if found == 'parquet' else 'Arrow IPC'}"
    return "look like text" if not_text(head) is None else "hold binary data"


def not_text(head: bytes) -> tuple[str, str] | None:
    """What ``head`` is if it cannot be UTF-8 text, and what to do; None if it can."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "is UTF-16 text (it starts with a UTF-16 byte-order mark)", UTF16_HINT
    if b"\x00" in head:
        # UTF-16 without a byte-order mark: ASCII text with a zero byte beside every character.
        zeros = sorted((head[0::2].count(0), head[1::2].count(0)))
        if zeros[1] * 3 > len(head) and zeros[0] * 20 < len(head):
            return "looks like UTF-16 text (every other byte is zero)", UTF16_HINT
        return "holds binary data, not text (it has zero bytes)", BINARY_HINT
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        # Text in another encoding (Latin-1, cp1251) is read as before: its numbers are ASCII.
        # Binary data also has control bytes all through it.
        controls = sum(byte < 0x20 and byte not in b"\t\n\r\x0c\x1b" for byte in head)
        if controls * 20 > len(head):
            return "holds binary data, not text", BINARY_HINT
    return None


def sniff_format(head: bytes) -> str:
    """The format of uncompressed bytes: binary magics first, then JSON, then CSV or TSV."""
    found = binary_format(head)
    if found is not None:
        return found
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
