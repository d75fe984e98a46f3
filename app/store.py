"""The copilot's log: sessions, input events, suggestions and decisions in one SQLite file (docs/store.md).

Logging calls come from input callbacks and the 30 Hz prediction loop, so they only enqueue: ids are made on the
caller's side (uuid4), and one writer thread owns the write connection and commits what is queued in batches.
Disk full, a locked file or a bad record pause or drop with a notice through `on_notice`; they never raise in the
caller and never end the writer. Readers open their own read-only connections (WAL: they never block it).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from sqlite_utils import Database

from app.paths import data_dir
from app.store_queue import QueuedItem, WriteQueue
from app.store_read import (
    count_rows,
    iter_context_frames,
    iter_events,
    iter_suggestions,
    read_events,
    read_sessions,
    read_suggestions,
)
from app.store_schema import (
    DECISIONS,
    SUGGESTION_KINDS,
    ContextFrame,
    ContextFramesRecord,
    DecisionRecord,
    LogFileError,
    SessionRecord,
    SuggestionRecord,
    check_rgb,
    connect_writer,
    context_frame_rows,
    decision_row,
    event_rows,
    frame_thumbnail,
    new_id,
    session_row,
    suggestion_row,
)
from inference.episodes import Event

__all__ = [
    "ContextFrame", "ContextFramesRecord", "DecisionRecord", "LogFileError", "SessionRecord", "Store",
    "StoreOptions", "StoreStatus", "SuggestionRecord", "count_rows", "frame_thumbnail", "iter_context_frames",
    "iter_events", "iter_suggestions", "new_id", "read_events", "read_sessions", "read_suggestions",
]  # fmt: skip

LOG_NAME = "ghostpilot.db"
EVENT_BYTES = 400  # rough memory of one queued event dict, for the queue's bound
Notice = Callable[[str], None]
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreOptions:
    """Tuning knobs; the defaults suit the live copilot."""

    busy_timeout_ms: int = 5000  # how long one write waits for another program's lock
    batch_rows: int = 2000  # rows committed per transaction at most
    max_queue_bytes: int = 64 * 2**20  # beyond this the oldest queued records are dropped (with a notice)
    max_db_bytes: int | None = None  # size limit of the log; reaching it pauses logging like a full disk
    retry_max_s: float = 2.0  # longest wait between retries while paused


@dataclass(frozen=True)
class StoreStatus:
    queued_rows: int
    written_rows: int
    dropped_rows: int
    paused: str | None  # why logging is paused; None while writing normally


_TRANSIENT = (sqlite3.SQLITE_FULL, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR)
_ROWS: dict[str, Callable[[Any], list[dict[str, Any]]]] = {
    "sessions": lambda record: [session_row(record)],
    "events": lambda payload: event_rows(*payload),
    "suggestions": lambda record: [suggestion_row(record)],
    "decisions": lambda record: [decision_row(record)],
    "context_frames": context_frame_rows,
    "end": lambda payload: [{"id": payload[0], "ended_at": payload[1]}],
}


def _error_code(exc: BaseException) -> int:
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF if isinstance(exc, sqlite3.OperationalError) else 0


class _Writer:
    """Runs on the writer thread and alone touches the write connection: batches, retries, notices."""

    def __init__(self, db: Database, path: Path, queue: WriteQueue, notice: Notice, options: StoreOptions) -> None:
        self._db, self._path, self._queue, self._notice, self._options = db, path, queue, notice, options
        self._default_max_pages = int(db.conn.execute("PRAGMA max_page_count").fetchone()[0])
        self._page_size = int(db.conn.execute("PRAGMA page_size").fetchone()[0])
        self._size_limit = options.max_db_bytes
        self._size_limit_changed = True
        self._wake = threading.Event()
        self.written_rows = 0
        self.trouble: str | None = None  # the notice of the current pause, until a commit succeeds

    def run(self) -> None:
        try:
            while (batch := self._queue.take(self._options.batch_rows)) is not None:
                try:
                    for part in _split_maintenance(batch):
                        self._maintain(part[0].payload) if part[0].kind == "maintenance" else self._write(part)
                    self._report_drops()
                except Exception as exc:  # a bug must not end logging silently
                    self._notify(f"log writer error ({type(exc).__name__}: {exc}); {_rows(batch)} records lost")
                finally:
                    self._queue.done()
        finally:
            self._close()

    def wake(self) -> None:
        self._wake.set()

    def _maintain(self, payload: tuple[Callable[[sqlite3.Connection], Any], Future[Any]]) -> None:
        """Run a queued maintenance function (retention, VACUUM) between two commits, outside a transaction."""
        fn, future = payload
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(self._db.conn))
        except BaseException as exc:
            if self._db.conn.in_transaction:
                self._db.conn.rollback()
            future.set_exception(exc)

    def request_size_limit(self, max_bytes: int | None) -> None:
        self._size_limit, self._size_limit_changed = max_bytes, True
        self._wake.set()

    def _write(self, batch: list[QueuedItem]) -> None:
        """Commit the batch, retrying while the disk is full or the file locked; isolate bad records."""
        attempt = 0
        while True:
            try:
                self._apply_size_limit()
                self._commit(batch)
                break
            except Exception as exc:
                if _error_code(exc) not in _TRANSIENT:
                    self._isolate(batch, exc)
                    return
                if not self._wait_out(exc, attempt):
                    lost = _rows(batch) + self._queue.discard_all()
                    self._queue.count_dropped(lost)
                    self._notify(f"logging stopped: {lost} records not written ({exc})")
                    return
                attempt += 1
        self.written_rows += _rows(batch)
        if self.trouble is not None:
            self.trouble = None
            self._notify(f"logging resumed: {self._path}")

    def _commit(self, batch: list[QueuedItem]) -> None:
        conn = self._db.conn
        conn.execute("BEGIN IMMEDIATE")  # take the write lock now, through the busy timeout
        try:
            for kind, rows in _grouped(batch):
                if kind == "end":
                    self._end_sessions(rows)
                else:  # a revised decision replaces the earlier one
                    self._db.table(kind).insert_all(rows, batch_size=1000, replace=kind == "decisions")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise

    def _end_sessions(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            update = self._db.conn.execute(
                "UPDATE sessions SET ended_at = ? WHERE id = ?", (row["ended_at"], row["id"])
            )
            if update.rowcount == 0:
                raise LookupError(f"no session {row['id']}")

    def _isolate(self, batch: list[QueuedItem], exc: Exception) -> None:
        """A bad record fails its whole transaction: write the others one by one, drop only the bad ones."""
        if len(batch) > 1:
            for item in batch:
                self._write([item])
            return
        item = batch[0]
        self._queue.count_dropped(item.rows)
        self._notify(f"dropped {item.rows} {item.kind} row(s) that cannot be written ({type(exc).__name__}: {exc})")

    def _wait_out(self, exc: Exception, attempt: int) -> bool:
        """Report the pause (once) and sleep before the next try; False when closing and still failing."""
        self._report_drops()
        if self._queue.closed and attempt >= 1:
            return False
        code = _error_code(exc)
        if self.trouble is None and (code == sqlite3.SQLITE_FULL or attempt >= 1):
            self.trouble = self._pause_message(code, exc)
            self._notify(self.trouble)
        self._wake.wait(min(0.05 * 2**attempt, self._options.retry_max_s))
        self._wake.clear()
        return True

    def _pause_message(self, code: int, exc: Exception) -> str:
        if code == sqlite3.SQLITE_FULL:
            where = f"size limit of {self._size_limit:,} bytes reached" if self._size_limit else "no space left"
            return f"logging paused: disk full ({where} for {self._path}); new records wait in memory"
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return f"logging paused: {self._path} is locked by another program; retrying"
        return f"logging paused: cannot write {self._path} ({exc}); retrying"

    def _apply_size_limit(self) -> None:
        if self._size_limit_changed:
            self._size_limit_changed = False
            limit = self._size_limit
            pages = self._default_max_pages if limit is None else max(1, limit // self._page_size)
            self._db.conn.execute(f"PRAGMA max_page_count = {int(pages)}")

    def _report_drops(self) -> None:
        rows, frames = self._queue.take_unreported_drops()
        if frames:
            self._notify(f"logging queue full: dropped the screen thumbnails of {frames} suggestions")
        if rows:
            self._notify(f"logging queue full: dropped the {rows} oldest records ({self._queue.dropped_rows} in all)")

    def _notify(self, message: str) -> None:
        try:
            self._notice(message)
        except Exception:  # the callback's own failure must not stop the writer
            logger.exception("on_notice failed for: %s", message)

    def _close(self) -> None:
        try:
            self._db.conn.close()
        except sqlite3.Error as exc:
            self._notify(f"closing {self._path} failed: {exc}")


def _shut_down(queue: WriteQueue, writer: _Writer, thread: threading.Thread, timeout: float) -> bool:
    if not queue.closed:
        queue.close()
        writer.wake()
    thread.join(timeout)
    return not thread.is_alive()


def _rows(batch: list[QueuedItem]) -> int:
    return sum(item.rows for item in batch)


def _split_maintenance(batch: list[QueuedItem]) -> Iterator[list[QueuedItem]]:
    """Runs of records, with each maintenance item on its own, in queue order."""
    run: list[QueuedItem] = []
    for item in batch:
        if item.kind != "maintenance":
            run.append(item)
            continue
        if run:
            yield run
            run = []
        yield [item]
    if run:
        yield run


def _grouped(batch: list[QueuedItem]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Consecutive items of one kind become one insert; order is kept (a decision follows its suggestion)."""
    kind, rows = batch[0].kind, list[dict[str, Any]]()
    for item in batch:
        if item.kind != kind:
            yield kind, rows
            kind, rows = item.kind, []
        rows.extend(_ROWS[item.kind](item.payload))
    yield kind, rows


class Store:
    """The write side of the log. Every logging method only enqueues; use `Store.open`."""

    def __init__(self, path: Path, db: Database, on_notice: Notice | None, options: StoreOptions) -> None:
        self.path = path
        self._queue = WriteQueue(options.max_queue_bytes)
        self._writer = _Writer(db, path, self._queue, on_notice or logger.warning, options)
        self._thread = threading.Thread(target=self._writer.run, name="ghostpilot-store-writer", daemon=True)
        self._thread.start()
        # a store that is dropped or still open at interpreter exit still writes what was queued
        self._finalizer = weakref.finalize(self, _shut_down, self._queue, self._writer, self._thread, 10.0)

    @classmethod
    def open(
        cls, path: Path | None = None, on_notice: Notice | None = None, options: StoreOptions | None = None
    ) -> Store:
        """Open (create, or migrate) the log; raises LogFileError with a one-line message, never overwrites.

        `on_notice` is called from the writer thread with one-line notices ("logging paused: disk full ...").
        """
        path = data_dir() / LOG_NAME if path is None else path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        options = options or StoreOptions()
        return cls(path, connect_writer(path, options.busy_timeout_ms), on_notice, options)

    def begin_session(self, record: SessionRecord) -> str:
        self._queue.put(QueuedItem("sessions", record, 1, 500, droppable=False))
        return record.id

    def log_events(self, session_id: str, events: Sequence[Event]) -> None:
        """Queue input events (episode schema); the list is copied, the event dicts must not change afterwards."""
        if events:
            self._queue.put(QueuedItem("events", (session_id, list(events)), len(events), EVENT_BYTES * len(events)))

    def log_suggestion(self, record: SuggestionRecord) -> str:
        if record.kind not in SUGGESTION_KINDS:
            raise ValueError(f"suggestion kind must be one of {SUGGESTION_KINDS}, got {record.kind!r}")
        frame_size = 0
        if isinstance(record.frame, np.ndarray):
            check_rgb(record.frame)
            frame = record.frame.copy()  # 0.15 ms for 1080p, so the caller may reuse its buffer
            record, frame_size = replace(record, frame=frame), frame.nbytes
        elif record.frame is not None:
            frame_size = len(record.frame)
        size = 2000 + EVENT_BYTES * (len(record.events) + len(record.alternatives)) + frame_size
        self._queue.put(QueuedItem("suggestions", record, 1, size, frame_size=frame_size))
        return record.id

    def log_context_frames(self, record: ContextFramesRecord) -> None:
        """Queue the frames around a suggestion (logged after it); the writer reduces them to the model's
        resolution, so the loop only hands over references to frames the capture never changes again."""
        for frame in record.frames:
            check_rgb(frame.rgb)
        size = 500 + sum(frame.rgb.nbytes for frame in record.frames)
        self._queue.put(QueuedItem("context_frames", record, 1, size, frame_size=size - 500))

    def log_decision(self, record: DecisionRecord) -> None:
        if record.decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}, got {record.decision!r}")
        self._queue.put(QueuedItem("decisions", record, 1, 500 + EVENT_BYTES * len(record.correction)))

    def end_session(self, session_id: str, ended_at: float) -> None:
        self._queue.put(QueuedItem("end", (session_id, ended_at), 1, 200, droppable=False))

    def run_maintenance(self, fn: Callable[[sqlite3.Connection], Any]) -> Future[Any]:
        """Queue `fn(connection)` for the writer thread, after what is queued now: the one safe way to delete or
        VACUUM while the copilot logs. The future holds its result or exception."""
        future: Future[Any] = Future()
        self._queue.put(QueuedItem("maintenance", (fn, future), 0, 100, droppable=False))
        return future

    def set_size_limit(self, max_bytes: int | None) -> None:
        """Change the log's size limit (None: only the disk limits it); a paused store retries at once."""
        self._writer.request_size_limit(max_bytes)

    def status(self) -> StoreStatus:
        return StoreStatus(
            self._queue.queued_rows, self._writer.written_rows, self._queue.dropped_rows, self._writer.trouble
        )

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything logged before this call is committed (or was reported dropped); False on timeout."""
        return self._queue.wait_settled(timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Write what is queued, then close the file. Idempotent; True when the writer finished in time."""
        self._finalizer.detach()
        return _shut_down(self._queue, self._writer, self._thread, timeout)

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
