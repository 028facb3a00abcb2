"""A regular file's text mapped from the page cache, not copied, in blocks that end at line ends.

Reading a file copies every byte from the page cache into a block first: on a 10 M-row CSV that
copy was 6% of the run's CPU and most of its system time. Mapped pages count towards the
process's resident memory once touched, so each block's pages are let go once it is parsed
(``madvise(MADV_DONTNEED)``: the page cache keeps them) and resident memory stays a few blocks
whatever the file's size. That call is Linux's; elsewhere text is read as before.

Arrow owns the mapping, so a block held by one of its threads is freed without Python's lock. As
with any mapped reader, a file cut shorter while it is being read ends the process (SIGBUS).
"""

from __future__ import annotations

import functools
import mmap
import sys
from collections.abc import Callable, Iterator

import pyarrow as pa

MADV_DONTNEED = 4  # Linux's value
TAIL_BYTES = 1 << 16  # the first window searched backwards for a line end


def after_last_line_end(view: memoryview, start: int, end: int) -> int:
    """Position just after the last newline or carriage return in ``view[start:end]``; 0 if none."""
    window = TAIL_BYTES
    while True:
        low = max(start, end - window)
        tail = bytes(view[low:end])
        found = max(tail.rfind(b"\n"), tail.rfind(b"\r"))
        if found >= 0:
            return low + found + 1
        if low == start:
            return 0
        window *= 4


@functools.cache
def _madvise() -> Callable[..., int] | None:
    """libc's ``madvise``, on Linux; None elsewhere or if it cannot be found."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        call = ctypes.CDLL(None).madvise
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    call.restype = ctypes.c_int
    return call


class MappedText:
    """One mapped file: ``blocks`` in order, ``release_through`` each block once it is parsed."""

    def __init__(self, path: str, madvise: Callable[..., int]) -> None:
        self.file = pa.memory_map(path)
        self.data = self.file.read_buffer()
        self.madvise = madvise
        # Pages below this address (page-aligned) have been let go.
        self.released = -(-self.data.address // mmap.PAGESIZE) * mmap.PAGESIZE

    @classmethod
    def open(cls, path: str) -> MappedText | None:
        """``path`` mapped, or None where its pages could not be let go (then read it instead)."""
        madvise = _madvise()
        return None if madvise is None else cls(path, madvise)

    def blocks(self, size: int) -> Iterator[pa.Buffer]:
        """Blocks of about ``size`` bytes, each ending at a line end but the last.

        A line longer than ``size`` makes its block as long as the line.
        """
        view = memoryview(self.data).cast("B")
        total = self.data.size
        start = 0
        try:
            while start < total:
                end, cut = start, 0
                while not cut:  # only the bytes added since the last look can hold a line end
                    searched, end = end, min(total, end + size)
                    cut = total if end == total else after_last_line_end(view, searched, end)
                yield self.data.slice(start, cut - start)
                start = cut
        finally:
            view.release()

    def release_through(self, block: pa.Buffer) -> None:
        """Let go of every whole page before the end of ``block``, which has been parsed."""
        end = block.address + block.size
        end -= end % mmap.PAGESIZE
        if end > self.released:
            self.madvise(self.released, end - self.released, MADV_DONTNEED)
            self.released = end

    def close(self) -> None:
        # Blocks still held elsewhere keep the mapping until they are freed.
        self.file.close()
