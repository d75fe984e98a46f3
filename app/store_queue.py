"""The store's bounded queue between callers and its one writer thread (app/store.py).

`put` never blocks a caller (input callbacks, the 30 Hz loop); when the bound is reached the oldest
sheddable records go first, frames before rows, and session rows never.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass
class QueuedItem:
    kind: str  # a table name, "end" (a session's end time) or "maintenance" (a function run on the connection)
    payload: Any
    rows: int
    size: int  # approximate bytes held while queued
    droppable: bool = True  # session rows are never shed: everything else refers to them
    frame_size: int = 0  # bytes of screen frames in the payload: shed (`without_frames()`) before any record
    seq: int = 0


class WriteQueue:
    """Bounded FIFO between callers and the writer: `put` never blocks; overflow sheds the oldest records."""

    def __init__(self, max_bytes: int) -> None:
        self._items: deque[QueuedItem] = deque()
        self._cond = threading.Condition()
        self._max_bytes = max_bytes
        self._bytes = self._rows = self._seq = 0
        self._in_flight: int | None = None  # lowest sequence number the writer holds
        self._unreported = 0  # rows shed since the writer last reported
        self._unreported_frames = 0
        self.dropped_rows = 0
        self.closed = False

    def put(self, item: QueuedItem) -> None:
        with self._cond:
            if self.closed:
                raise RuntimeError("the store is closed")
            self._seq += 1
            item.seq = self._seq
            self._items.append(item)
            self._bytes += item.size
            self._rows += item.rows
            self._shed()
            self._cond.notify_all()

    def _shed(self) -> None:
        """Over the bound: strip screen frames from the oldest suggestions first, then drop the oldest records."""
        for item in self._items:
            if self._bytes <= self._max_bytes:
                return
            if item.frame_size:
                item.payload = item.payload.without_frames()
                self._bytes -= item.frame_size
                item.size -= item.frame_size
                item.frame_size = 0
                self._unreported_frames += 1
        index = 0
        while self._bytes > self._max_bytes and index < len(self._items):
            item = self._items[index]
            if not item.droppable:
                index += 1
                continue
            del self._items[index]
            self._bytes -= item.size
            self._rows -= item.rows
            self._unreported += item.rows
            self.dropped_rows += item.rows

    def take(self, max_rows: int) -> list[QueuedItem] | None:
        """The next batch (oldest first), blocking until there is one; None once closed and empty."""
        with self._cond:
            self._cond.wait_for(lambda: bool(self._items) or self.closed)
            batch: list[QueuedItem] = []
            rows = 0
            while self._items and (not batch or rows + self._items[0].rows <= max_rows):
                item = self._items.popleft()
                self._bytes -= item.size
                self._rows -= item.rows
                rows += item.rows
                batch.append(item)
            self._in_flight = batch[0].seq if batch else None
            return batch or None

    def done(self) -> None:
        with self._cond:
            self._in_flight = None
            self._cond.notify_all()

    def wait_settled(self, timeout: float) -> bool:
        """Wait until nothing enqueued before this call is still queued or being written."""
        with self._cond:
            target = self._seq

            def settled() -> bool:
                queued = bool(self._items) and self._items[0].seq <= target
                return not queued and (self._in_flight is None or self._in_flight > target)

            return self._cond.wait_for(settled, timeout)

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def discard_all(self) -> int:
        with self._cond:
            rows = self._rows
            self._items.clear()
            self._bytes = self._rows = 0
            self._cond.notify_all()
            return rows

    def count_dropped(self, rows: int) -> None:
        with self._cond:
            self.dropped_rows += rows

    def take_unreported_drops(self) -> tuple[int, int]:
        """(rows, frames) shed since the last call."""
        with self._cond:
            counts = self._unreported, self._unreported_frames
            self._unreported = self._unreported_frames = 0
            return counts

    @property
    def queued_rows(self) -> int:
        return self._rows
