"""The process around a run: the garbage collector, the allocator, and how the command ends.

Nothing here knows about losses or files; the CLI's entry point and ``losscli.api`` call it. Only
the standard library is imported, so ``losscli --help`` pays nothing for it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys


def collect_later() -> None:
    """Cyclic garbage collection off while the command's modules load.

    Importing Typer, NumPy and pyarrow makes objects that live as long as the process; the
    collector's passes over them freed nothing and took 15-20 ms of a run (7 ms of ``--help``'s
    85). ``collect_again`` turns it back on before a command computes.
    """
    gc.disable()


def collect_again() -> None:
    """Cyclic garbage collection back on, if the entry point turned it off for the imports.

    Every command that computes losses (eval, compare, check) calls this before it starts.

    The modules, classes and functions made so far live as long as the process: they are frozen
    out of every later collection, which then looks only at what the run itself makes. (The
    imports leave about 400 unreachable objects, a few kilobytes, which stay.)
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def start_run() -> None:
    """What a command that computes losses (eval, compare, check) does before it starts: the
    garbage collector back on, and Arrow's buffers from an allocator that returns memory."""
    collect_again()
    arrow_returns_memory()


def arrow_returns_memory() -> None:
    """Arrow's buffers from jemalloc, where this pyarrow has it (not on every platform).

    Arrow's default, mimalloc, keeps the pages of freed buffers per thread: a million groups of
    --by peaked at 430-440 MB with it, 360-380 MB with jemalloc, for about the same time. Only
    the command line does this; a Python caller's process keeps the pool it has.
    """
    import pyarrow as pa

    with contextlib.suppress(NotImplementedError, pa.ArrowNotImplementedError):
        if os.environ.get("ARROW_DEFAULT_MEMORY_POOL") is None:  # the user's choice stands
            pa.set_memory_pool(pa.jemalloc_memory_pool())
            # Freed pages kept a second for reuse (Arrow sets 0: every buffer faulted in anew,
            # 3x the page faults of a million groups' run).
            pa.jemalloc_set_decay_ms(1000)


# glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD = 8 << 20
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
_allocator_set = False


def keep_freed_memory() -> None:
    """Let glibc reuse one chunk's freed arrays for the next instead of returning them each time,
    without holding on to much more than that.

    A fresh process maps each array of 128 KiB or more afresh and unmaps it when freed; with
    several temporaries per loss the page faults cost a third of a second per 10 million rows.
    Arrays below 8 MiB (a chunk's columns are 1 MiB) now come from the heap and are reused; larger
    ones (the sums of a million groups) are mapped and given back when freed, and at most 16 MiB
    is kept free at the heap's top. One arena for all threads: the reader's own arena held its
    freed chunks apart from the main thread's. With both thresholds at 32 MiB and one arena
    per thread, as before, a million groups of --by peaked 100 MB higher, for the same
    time. Set once per process, on Linux.
    """
    global _allocator_set
    if _allocator_set or not sys.platform.startswith("linux"):
        return
    _allocator_set = True
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        libc.mallopt(M_ARENA_MAX, 1)


def quiet_blas() -> None:
    """NumPy's OpenBLAS starts a thread at import that spins for about 0.1 s of CPU waiting for
    matrix work losscli never gives it, on a core the parser needs; told so, it sleeps at once."""
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")


def leave(code: int) -> None:
    """End the process with ``code`` once its streams are flushed, without Python's teardown.

    By the time a command returns, every output is written and closed and every file replaced.
    Python's teardown after that (freeing each module of NumPy and Arrow, joining idle pools) cost
    60-140 ms of a run here, a fifth of a short one.
    """
    for stream in (sys.stdout, sys.stderr):
        # A reader that went away (| head) or a closed stream has nothing left to take.
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.flush()
    os._exit(code)
