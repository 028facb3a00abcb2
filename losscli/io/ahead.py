"""Reading ahead: a second thread reads and assembles chunks while the caller computes on them.

Arrow's parsers and NumPy release the GIL, so on two cores the next chunk is read while the losses
are computed on this one. At most ``depth`` chunks wait in between, so memory stays bounded.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
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
