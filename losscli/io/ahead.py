"""Reading ahead: a second thread reads and assembles chunks while the caller computes on them.

Arrow's parsers and NumPy release the GIL, so on two cores the next chunk is read while the losses
are computed on this one. At most ``depth`` chunks wait in between, so memory stays bounded.
``ordered_map`` does the same for the parsing of text blocks, on a few threads at once.
"""

from __future__ import annotations

import collections
import itertools
import os
import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
# How often a producer blocked on a full queue looks whether it has been told to stop.
POLL_SECONDS = 0.05


class ReadAhead(Generic[Item]):
    """The items of ``source`` in order, produced on a thread at most ``depth`` items ahead.

    An exception raised while producing reaches the caller in its place: after every item made
    before it, as if nothing ran ahead. ``stop`` ends the thread between two items and waits for
    it; it must be called before closing anything ``source`` reads.
    """

    def __init__(self, source: Iterator[Item], depth: int = 2) -> None:
        self.source = source
        self.queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._produce, name="losscli-read", daemon=True)

    def __iter__(self) -> Iterator[Item]:
        self.thread.start()
        try:
            while True:
                kind, value = self.queue.get()
                if kind == "done":
                    return
                if kind == "failed":
                    raise value
                yield value
        finally:
            self.stop()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join()

    def _produce(self) -> None:
        try:
            for item in self.source:
                if not self._put("item", item):
                    return
            self._put("done", None)
        except BaseException as error:
            self._put("failed", error)
        finally:
            # A source left half-way closes its files here, on the thread that read them.
            close = getattr(self.source, "close", None)
            if close is not None:
                close()

    def _put(self, kind: str, value: Any) -> bool:
        """Queue one entry unless told to stop first; True if it was queued."""
        while not self.stopping.is_set():
            try:
                self.queue.put((kind, value), timeout=POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False


def parse_workers() -> int:
    """Threads for parsing text blocks: the processors this process may use, at most four."""
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    return max(1, min(usable, 4))


def ordered_map(
    function: Callable[[Item], Result], items: Iterable[Item], workers: int
) -> Generator[tuple[Item, Result | None, BaseException | None], None, None]:
    """``(item, function(item), None)`` for each item in order, computed on ``workers`` threads.

    At most ``workers + 1`` items are in hand at once, so memory stays bounded. A call that raised
    gives ``(item, None, error)`` in its place, after every earlier result; the caller decides
    whether to go on. ``items`` is iterated on the calling thread only: it may read a stream.
    """
    items = iter(items)
    first = list(itertools.islice(items, 2))
    if workers <= 1 or len(first) < 2:  # one item (a small file) is not worth a thread
        for item in itertools.chain(first, items):
            try:
                yield item, function(item), None
            except Exception as error:
                yield item, None, error
        return
    from concurrent.futures import ThreadPoolExecutor

    pending: collections.deque = collections.deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="losscli-parse") as pool:
        try:
            for item in itertools.chain(first, items):
                pending.append((item, pool.submit(function, item)))
                if len(pending) > workers:
                    yield _settled(*pending.popleft())
            while pending:
                yield _settled(*pending.popleft())
        finally:
            for _, future in pending:
                future.cancel()


def _settled(item: Any, future: Any) -> tuple[Any, Any, BaseException | None]:
    error = future.exception()
    return item, (None if error is not None else future.result()), error
