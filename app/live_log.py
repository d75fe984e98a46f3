"""This run's log, and the settings that change it while the copilot runs: retention limits and the data location.

`LiveLog` owns the store, the session's logbook and the retention scheduler. A new data location moves the log
without a restart: a mover thread opens the store in the new folder (made 0700, files 0600, by the same helpers
as at start) and hands a function to the copilot's loop, which owns the logbook. There, a shown ghost and every
pending decision are logged as they stand into the old session (their suggestions live in the old file), the old
session ends, and a new session begins in the new store with the current goal; the loop logs there from its next
step. Back on the mover thread the old store is flushed and closed and retention restarts on the new one. A
folder that cannot hold the log changes nothing, with a one-line notice.

The workflow memory (app/recall.py) keeps what it learned; it is seeded from the new folder's log at the next
start. `--database PATH` pins the log: a data-location change then waits for the next start.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial
from pathlib import Path
from typing import Any

from app.copilot import Copilot
from app.logbook import StoreLogbook
from app.paths import data_dir, private_dir
from app.retention import RetentionScheduler
from app.store import LOG_NAME, Store
from inference.errors import GhostpilotError

MOVE_TIMEOUT_S = 10.0  # the loop answers within a step; longer means it stopped


def log_folder(settings: Any) -> Path:
    """Where the log lives: settings `data_dir`, else the platform data folder; created private (0700)."""
    return private_dir(Path(settings.data_dir).expanduser()) if settings.data_dir else data_dir()


class LiveLog:
    """The store, the session's logbook and retention of one run; `book` is the logbook the loop writes to."""

    def __init__(self, copilot: Copilot, book: StoreLogbook, settings: Any, pinned: bool = False) -> None:
        self.copilot, self.book, self.pinned = copilot, book, pinned
        self._data_dir: str | None = settings.data_dir
        self._limits: tuple[float, int] = (settings.retention_days, settings.max_database_mb)
        self._retention_lock = threading.Lock()  # settings and a move may both restart retention
        self._retention = self._start_retention()
        self._move_lock = threading.Lock()  # one move at a time
        self._mover: threading.Thread | None = None
        self._pending: Future[StoreLogbook] | None = None  # the loop's answer to the move in progress

    @classmethod
    def open(
        cls, copilot: Copilot, predictor: Any, screen: tuple[int, int], settings: Any, database: Path | None = None
    ) -> LiveLog:
        """Open the log (`database`, else the data location's) and begin this run's session there."""
        path = database if database is not None else log_folder(settings) / LOG_NAME
        store = Store.open(path, on_notice=copilot.parts.on_notice)
        book = StoreLogbook.begin(store, predictor, screen, copilot.goal)
        return cls(copilot, book, settings, pinned=database is not None)

    @property
    def store(self) -> Store:
        return self.book.store

    def _notice(self, message: str) -> None:
        self.copilot.parts.on_notice(message)

    def _start_retention(self) -> RetentionScheduler:
        """Old and oversized history goes now and hourly, on the store's writer thread."""
        days, max_mb = self._limits
        scheduler = RetentionScheduler(self.store, days, max_mb, self._notice, keep=self.book.session_id)
        scheduler.start()
        return scheduler

    def _restart_retention(self) -> None:
        with self._retention_lock:
            self._retention.stop()
            self._retention = self._start_retention()

    def apply_settings(self, settings: Any) -> None:
        """New app.settings.Settings (any thread): new retention limits apply now; a new data location moves
        the log (in the background)."""
        limits = (settings.retention_days, settings.max_database_mb)
        if limits != self._limits:
            self._limits = limits
            self._restart_retention()
        if settings.data_dir == self._data_dir:
            return
        self._data_dir = settings.data_dir
        if self.pinned:
            self._notice(f"the log stays in {self.store.path} (--database) until Ghostpilot starts again")
        else:
            self.move_to(Path(settings.data_dir).expanduser() if settings.data_dir else None)

    def move_to(self, folder: Path | None) -> threading.Thread:
        """Move the log to `folder` (None: the platform data folder) on a mover thread; returns the thread."""
        thread = threading.Thread(target=self._move, args=(folder,), name="ghostpilot-log-move", daemon=True)
        self._mover = thread
        thread.start()
        return thread

    def _move(self, folder: Path | None) -> None:
        with self._move_lock:
            old_path = self.store.path
            try:
                target = (private_dir(folder) if folder is not None else data_dir()) / LOG_NAME
                if target.resolve() == old_path.resolve():
                    return
                store = Store.open(target, on_notice=self._notice)
            except (GhostpilotError, OSError) as exc:
                reason = exc.message if isinstance(exc, GhostpilotError) else f"{exc.strerror or exc}"
                self._notice(f"data location not changed, the log stays in {old_path.parent}: {reason}")
                return
            old = self._hand_over(store)
            if old is None:
                store.close()
                return
            old.store.close()  # its queue, the decisions and the session's end included, is written first
            self._restart_retention()  # on the new store, keeping the new session
            self._notice(f"now logging to {target}")

    def _hand_over(self, store: Store) -> StoreLogbook | None:
        """Have the loop switch logbooks; the old one, or None when the run stopped first."""
        done: Future[StoreLogbook] = Future()
        self._pending = done
        self.copilot.inbox.put(("run", partial(self._switch_books, store, done)))
        try:
            return done.result(timeout=MOVE_TIMEOUT_S)
        except (CancelledError, FutureTimeout):
            done.cancel()
            return None
        except Exception as exc:
            self._notice(f"data location not changed: {type(exc).__name__}: {exc}")
            return None

    def _switch_books(self, store: Store, done: Future[StoreLogbook], copilot: Copilot, now: float) -> bool:
        """On the loop: decide what is pending into the old session, end it, begin the new one."""
        if not done.set_running_or_notify_cancel():
            return False  # the mover gave up (the run is stopping)
        try:
            old = self.book
            new = old.continue_in(store, started_at=time.time() - now)  # `now` is the session clock
            copilot.replace_logbook(new, now)
            old.end()
            self.book = new
        except Exception as exc:
            done.set_exception(exc)
            return False
        done.set_result(old)
        return True

    def stop(self) -> None:
        """After the copilot's loop stopped: end the session and close the store (a move in progress first)."""
        if self._pending is not None:
            self._pending.cancel()
        if self._mover is not None:
            self._mover.join(MOVE_TIMEOUT_S + 5)
        self._retention.stop()
        self.book.end()
        self.book.store.close()
