"""A source's bytes, opened: a file, a zip archive's member, standard input or a pipe, decompressed.

Its first bytes are read up front to settle the format and compression; what was opened to read
them (and any copy spooled to disk) is released by one ``close``. Inputs that need seeking
(Parquet, the Arrow file format) arriving through a pipe or compressed are spooled to a
temporary file, never held in memory.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import tempfile
from typing import Any

import pyarrow as pa

from losscli.errors import InputError
from losscli.io.remote import is_url, open_seekable, open_url
from losscli.io.sources import (
    ZIP_MAGIC,
    Source,
    refuse_archive,
    settle_compression,
    settle_format,
    stdin_binary,
)

HEAD_BYTES = 1 << 16
MAX_HEADER_BYTES = 64 << 20
TEXT_FORMATS = ("csv", "tsv", "jsonl")
# A pipe read from holds this much (Linux gives 64 KiB, and lets a user ask for up to 1 MiB).
PIPE_BYTES = 1 << 20


class SourceStream:
    """A source opened for reading: ``stream`` from its first byte and ``head``, its first bytes
    (decompressed), from which ``format`` and ``compression`` are settled by ``open``.

    It owns every stream opened for the source, and a spooled copy: ``close`` releases them all.
    """

    def __init__(self, source: Source) -> None:
        self.source = source
        self.format = source.format
        self.compression = source.compression
        self.stream: Any = None
        self.head = b""
        self.spooled: str | None = None
        self._closers: list[Any] = []

    def open(self) -> None:
        """Open the source and read its head; the format is settled once this returns."""
        self.stream, self.head = self._open_stream()

    def _open_stream(self) -> tuple[Any, bytes]:
        """The stream to read from its first byte, and its first bytes (decompressed)."""
        if self.source.is_stream:
            raw = stdin_binary() if self.source.is_stdin else self.closing(self._open_pipe())
            widen_pipe(raw)
            head = raw.read(HEAD_BYTES)
            refuse_archive(self.source.name, head, self.source.display)
            if head.startswith(ZIP_MAGIC):
                raise InputError(
                    f"{self.source.display} is a zip archive, which cannot be read from a pipe.",
                    "Unzip it into the pipe instead: unzip -p FILE | losscli ...",
                )
            self.compression = settle_compression(self.compression, head, self.source.display)
            stream = _prefixed(head, raw)
            if self.compression:
                stream = self.closing(_decompressed(stream, self.compression))
            head = self._read_head(stream)
            return _prefixed(head, stream), head
        # A named file is opened twice rather than given its head back through Python.
        with contextlib.closing(self._open_file()) as probe:
            head = self._read_head(probe)
        return self.closing(self._open_file()), head

    def _read_head(self, stream: Any) -> bytes:
        head = stream.read(HEAD_BYTES)
        if not head:
            raise InputError(
                f"{self.source.display} is empty.", "Give a file with a header row and data rows."
            )
        self.format = settle_format(self.format, head, self.source.display)
        return _through_first_line(head, stream) if self.format in TEXT_FORMATS else head

    def _open_pipe(self) -> Any:
        # Python's buffered reader never returns short reads from a pipe; Arrow cannot open one.
        return open(self.source.name, "rb")  # noqa: SIM115 - closed by close()

    def _open_file(self) -> pa.NativeFile:
        try:
            if self.compression == "zip":
                return self._open_member()
            if is_url(self.source.name):
                raw = pa.PythonFile(open_url(self.source.name), mode="r")
            else:
                raw = pa.OSFile(self.source.name)
        except OSError as error:
            raise InputError(
                f"Cannot open {self.source.display}: {error}.", "Check the path and permissions."
            ) from None
        return _decompressed(raw, self.compression) if self.compression else raw

    def _open_member(self) -> pa.NativeFile:
        """The one data file of a zip archive, decompressed as it is read."""
        import zipfile
        import zlib

        with zipfile.ZipFile(self.source.name) as archive:
            # The member keeps the archive's file open after the archive is closed.
            member = archive.open(str(self.source.member))
        return _checked(member, (zipfile.BadZipFile, zlib.error, EOFError))

    def closing(self, stream: Any) -> Any:
        """``stream``, to be closed with the source."""
        self._closers.append(stream)
        return stream

    @property
    def needs_spool(self) -> bool:
        """Whether the bytes come only in order: from a pipe, or through a decompressor."""
        return self.source.is_stream or bool(self.compression)

    @property
    def mappable(self) -> bool:
        """Whether the bytes are a local file as it is, to map into memory."""
        local = not is_url(self.source.name)
        return not self.needs_spool and local and self.source.byte_range is None

    def text_stream(self) -> Any:
        """The text to parse: the whole stream, or the lines of a byte range of the file."""
        if self.source.byte_range is None:
            return self.stream
        name = self.source.name
        # Closed by close(), as every stream of the source is.
        raw = open_url(name) if is_url(name) else open(name, "rb")  # noqa: SIM115
        return self.closing(LineRange(self.closing(raw), *self.source.byte_range))

    def seekable_path(self) -> Any:
        """A path (or a URL's file) for formats that need seeking; pipes and compressed inputs
        are spooled to disk."""
        stream = self.stream
        if not self.needs_spool:
            if not is_url(self.source.name):
                return self.source.name
            remote, seekable = open_seekable(self.source.name)
            if seekable:
                return self.closing(pa.PythonFile(remote, mode="r"))
            stream = self.closing(remote)  # a web server without ranges: read it once, to disk
        handle, path = tempfile.mkstemp(prefix="losscli-", suffix="." + str(self.format))
        self.spooled = path
        with os.fdopen(handle, "wb") as spool:
            shutil.copyfileobj(stream, spool, length=1 << 20)
        return path

    def close(self) -> None:
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):
                closer.close()
        if self.spooled:
            with contextlib.suppress(OSError):
                os.unlink(self.spooled)


class LineRange(io.RawIOBase):
    """The lines of a file that start within bytes [start, stop), as ``dask.dataframe.read_csv``
    cuts a large file: a range that starts inside a line leaves it to the range before, and
    the last line that starts inside the range is read to its end. A line end is a newline;
    a quoted field holding one would be cut (see the README)."""

    def __init__(self, raw: Any, start: int, stop: int) -> None:
        self.raw, self.stop = raw, stop
        self.position = _next_line_start(raw, start)
        raw.seek(self.position)
        self.done = self.position >= stop

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.done:
            return 0
        inside = self.stop - self.position
        data = self.raw.read(min(len(buffer), inside) if inside > 0 else min(len(buffer), 1 << 16))
        if not data:
            self.done = True
            return 0
        if inside <= 0:  # past the range: the rest of its last line
            end = data.find(b"\n")
            if end >= 0:
                data, self.done = data[: end + 1], True
        elif len(data) == inside and data.endswith(b"\n"):
            self.done = True  # the range ends at a line end: the next line is the next range's
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


def widen_pipe(stream: Any) -> None:
    """Let the pipe ``stream`` reads from hold PIPE_BYTES, where the system allows it.

    Through Linux' 64 KiB the writer and this process take turns every 64 KiB: spooling a 166 MB
    Parquet file from ``cat`` took 0.36-0.69 s, and 0.13 s through 1 MiB. Anything but a pipe
    (a file, a terminal, a socket), a system without the call and a refusal leave it as it is.
    """
    try:
        import fcntl

        descriptor = stream.fileno()
        if stat.S_ISFIFO(os.fstat(descriptor).st_mode):
            fcntl.fcntl(descriptor, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError, ValueError):
        pass


def _next_line_start(raw: Any, start: int) -> int:
    """Where the first line that starts at or after byte ``start`` starts."""
    if start == 0:
        return 0
    raw.seek(start - 1)
    position = start - 1
    while True:
        data = raw.read(1 << 16)
        if not data:
            return position
        end = data.find(b"\n")
        if end >= 0:
            return position + end + 1
        position += len(data)


class PrefixedStream(io.RawIOBase):
    """A stream whose first bytes were already read (to sniff the format) and are given back."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.head:
            size = min(len(buffer), len(self.head))
            buffer[:size] = self.head[:size]
            self.head = self.head[size:]
            return size
        data = self.rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _prefixed(head: bytes, rest: Any) -> pa.PythonFile:
    """``rest`` with ``head`` put back in front, buffered so reads are never short."""
    buffered = io.BufferedReader(PrefixedStream(head, rest), buffer_size=1 << 20)
    return pa.PythonFile(buffered, mode="r")


def _through_first_line(head: bytes, rest: Any) -> bytes:
    """``head`` extended to the end of its first line: a wide header can be longer than it."""
    while b"\n" not in head and b"\r" not in head and len(head) < MAX_HEADER_BYTES:
        more = rest.read(HEAD_BYTES)
        if not more:
            break
        head += more
    return head


def _decompressed(stream: Any, codec: str) -> pa.NativeFile:
    """``stream`` decompressed as it is read: gzip by ISA-L on a thread of its own (where the
    isal package is installed), xz by Python's lzma, the rest by Arrow."""
    if codec == "xz":
        import lzma

        # LZMAFile leaves the stream it was given open: closing the result closes both.
        return _checked(lzma.LZMAFile(stream), (lzma.LZMAError, EOFError), also=stream)
    if codec == "gzip":
        try:
            from isal import igzip, igzip_threaded, isal_zlib
        except ImportError:
            return pa.CompressedInputStream(stream, codec)
        # ISA-L inflates 2x as fast as zlib, and its thread inflates while blocks are parsed.
        inflated = igzip_threaded.open(stream, "rb", threads=1)
        # isal_zlib.error is a class (its stubs call it an instance).
        zlib_error: type[Exception] = getattr(isal_zlib, "error")  # noqa: B009
        errors = (zlib_error, igzip.BadGzipFile, EOFError)
        return _checked(inflated, errors, also=stream)
    return pa.CompressedInputStream(stream, codec)


class CheckedStream(io.RawIOBase):
    """A Python decompressor whose failures are OSErrors, as Arrow's decompressors report them.

    A truncated .xz or .gz raises EOFError, which click would take for an interrupted run (it is
    said to be truncated); a corrupt one LZMAError or a zlib error, zip's a BadZipFile: an OSError
    is explained as the file being unreadable.
    """

    def __init__(self, stream: Any, errors: tuple[type[Exception], ...], also: Any = None) -> None:
        self.stream = stream
        self.errors = errors
        self.also = also  # the stream under ``stream``, if closing that leaves it open

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            return self.stream.readinto(buffer)
        except self.errors as error:
            said = str(error) or type(error).__name__
            raise OSError(f"truncated: {said}" if isinstance(error, EOFError) else said) from None

    def close(self) -> None:
        self.stream.close()
        if self.also is not None:
            self.also.close()
        super().close()


def _checked(stream: Any, errors: tuple[type[Exception], ...], also: Any = None) -> pa.PythonFile:
    # Buffered so that a read returns all it asks for, short only at the end.
    buffered = io.BufferedReader(CheckedStream(stream, errors, also), buffer_size=1 << 20)
    return pa.PythonFile(buffered, mode="r")
