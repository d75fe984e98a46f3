"""Forgetting: `ghostpilot forget --last 10m`, and retention by age and size, oldest first (docs/privacy.md).

Deleting a row leaves its text in free pages and in the WAL, so every deletion ends with `compact`: a TRUNCATE
checkpoint, VACUUM (temp store in memory, so no copy lands in TMPDIR) and another TRUNCATE checkpoint; with
`secure_delete` on, freed pages are zeroed too. Functions take a connection, so the same code runs in the
`forget` command (its own connection, through SQLite's locks) and on a running store's writer thread
(`Store.run_maintenance`), never beside it on a second in-process writer.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from inference.errors import GhostpilotError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
EVERY_S = 3600.0  # the copilot applies retention at startup and then this often
ALL_TIME = (-1e18, 1e18)


@dataclass
class Deleted:
    """Rows removed by one forget or retention pass."""

    events: int = 0
    suggestions: int = 0
    decisions: int = 0
    sessions: int = 0
    frames: int = 0  # context frames (app/context_frames.py)

    def __iadd__(self, other: Deleted) -> Deleted:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    @property
    def total(self) -> int:
        return self.events + self.suggestions + self.decisions + self.sessions + self.frames

    def describe(self) -> str:
        return (
            f"{self.events} events, {self.suggestions} suggestions, {self.decisions} decisions, "
            f"{self.sessions} sessions, {self.frames} frames"
        )


def parse_window(text: str) -> float:
    """'10m', '2h', '1d', '90s', '1w' -> seconds; a one-line error otherwise."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text.lower())
    if match is None or float(match.group(1)) <= 0:
        raise GhostpilotError(f"cannot read the time window {text!r}", "use a number and a unit: 10m, 2h, 1d, 1w")
    return float(match.group(1)) * UNITS[match.group(2)]


def _in_window(column: str) -> str:
    return f"se.started_at + {column} >= :since AND se.started_at + {column} < :until"


_SUGGESTIONS_IN = f"SELECT s.id FROM suggestions s JOIN sessions se ON se.id = s.session_id WHERE {_in_window('s.t')}"
_DECIDED_IN = (
    "SELECT d.suggestion_id FROM decisions d JOIN suggestions s ON s.id = d.suggestion_id "
    f"JOIN sessions se ON se.id = s.session_id WHERE {_in_window('d.t')}"
)
_FRAMES_IN = (
    "SELECT c.rowid FROM context_frames c JOIN suggestions s ON s.id = c.suggestion_id "
    f"JOIN sessions se ON se.id = s.session_id WHERE {_in_window('s.t + c.offset_s')} "
    f"OR c.suggestion_id IN ({_SUGGESTIONS_IN})"
)  # frames taken in the window, and every frame of a suggestion that goes
_EVENTS_IN = f"SELECT e.id FROM events e JOIN sessions se ON se.id = e.session_id WHERE {_in_window('e.t')}"
_EMPTY_SESSIONS = """
DELETE FROM sessions WHERE started_at >= :since AND started_at < :until AND id IS NOT :keep
  AND (ended_at IS NOT NULL OR :unended)
  AND NOT EXISTS (SELECT 1 FROM events WHERE session_id = sessions.id)
  AND NOT EXISTS (SELECT 1 FROM suggestions WHERE session_id = sessions.id)"""


def delete_window(
    conn: sqlite3.Connection, since: float, until: float, keep: str | None = None, unended: bool = False
) -> Deleted:
    """Delete what happened in [since, until) (unix time): events, suggestions, their decisions and frames, and
    the sessions left empty. A session still running (no end time) keeps its row unless `unended`, with its goal
    cleared: a running copilot's later rows refer to it."""
    window = {"since": since, "until": until, "keep": keep, "unended": int(unended)}
    conn.execute("PRAGMA secure_delete = ON")
    with conn:
        deleted = Deleted()
        deleted.frames = conn.execute(f"DELETE FROM context_frames WHERE rowid IN ({_FRAMES_IN})", window).rowcount
        deleted.decisions = conn.execute(
            f"DELETE FROM decisions WHERE suggestion_id IN ({_SUGGESTIONS_IN} UNION {_DECIDED_IN})", window
        ).rowcount
        deleted.suggestions = conn.execute(f"DELETE FROM suggestions WHERE id IN ({_SUGGESTIONS_IN})", window).rowcount
        deleted.events = conn.execute(f"DELETE FROM events WHERE id IN ({_EVENTS_IN})", window).rowcount
        deleted.sessions = conn.execute(_EMPTY_SESSIONS, window).rowcount
        conn.execute("UPDATE sessions SET goal = NULL WHERE started_at >= :since AND started_at < :until", window)
    return deleted


def delete_sessions(conn: sqlite3.Connection, ids: list[str]) -> Deleted:
    """Delete whole sessions with everything they recorded."""
    deleted = Deleted()
    conn.execute("PRAGMA secure_delete = ON")
    with conn:
        for session_id in ids:
            args = (session_id,)
            deleted.frames += conn.execute(
                "DELETE FROM context_frames WHERE suggestion_id IN (SELECT id FROM suggestions WHERE session_id = ?)",
                args,
            ).rowcount
            deleted.decisions += conn.execute(
                "DELETE FROM decisions WHERE suggestion_id IN (SELECT id FROM suggestions WHERE session_id = ?)", args
            ).rowcount
            deleted.suggestions += conn.execute("DELETE FROM suggestions WHERE session_id = ?", args).rowcount
            deleted.events += conn.execute("DELETE FROM events WHERE session_id = ?", args).rowcount
            deleted.sessions += conn.execute("DELETE FROM sessions WHERE id = ?", args).rowcount
    return deleted


def compact(conn: sqlite3.Connection) -> bool:
    """Rewrite the file without free pages and empty the WAL; False when a reader kept the WAL from emptying."""
    conn.execute("PRAGMA temp_store = MEMORY")  # VACUUM's working copy stays out of TMPDIR
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    return int(busy) == 0


def database_bytes(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA page_count").fetchone()[0]) * int(conn.execute("PRAGMA page_size").fetchone()[0])


_SESSION_SIZES = """
SELECT se.id,
  (SELECT coalesce(sum(length(data)), 0) + 48 * count(*) FROM events WHERE session_id = se.id)
  + (SELECT coalesce(sum(length(events) + length(alternatives) + coalesce(length(frame), 0)), 0) + 160 * count(*)
     FROM suggestions WHERE session_id = se.id)
  + (SELECT coalesce(sum(length(c.global_png) + length(c.crop_png)), 0) + 64 * count(*)
     FROM context_frames c JOIN suggestions s ON s.id = c.suggestion_id WHERE s.session_id = se.id) + 200
FROM sessions se ORDER BY se.started_at, se.rowid"""


def oldest_over(conn: sqlite3.Connection, max_bytes: int, keep: str | None = None) -> list[str]:
    """The oldest sessions to delete so the rest fits in `max_bytes` (content sizes scaled to the file's size)."""
    sizes = [(str(session_id), int(size)) for session_id, size in conn.execute(_SESSION_SIZES)]
    scale = database_bytes(conn) / max(1, sum(size for _, size in sizes))
    remaining = sum(size for _, size in sizes) * scale
    doomed = []
    for session_id, size in sizes:
        if remaining <= max_bytes * 0.95:
            break
        if session_id != keep:
            doomed.append(session_id)
            remaining -= size * scale
    return doomed


def apply_retention(
    conn: sqlite3.Connection, retention_days: float, max_bytes: int, now: float | None = None, keep: str | None = None
) -> Deleted:
    """Delete what is older than `retention_days`, then the oldest sessions past `max_bytes`; compact if anything
    went. `keep` is the running session (never deleted whole)."""
    now = time.time() if now is None else now
    deleted = delete_window(conn, ALL_TIME[0], now - retention_days * 86400, keep=keep, unended=True)
    dirty = deleted.total > 0
    for _ in range(3):  # the size estimate is refined by each compaction
        if dirty:
            compact(conn)
            dirty = False
        doomed = oldest_over(conn, max_bytes, keep) if database_bytes(conn) > max_bytes else []
        if not doomed:
            break
        deleted += delete_sessions(conn, doomed)
        dirty = True
    if dirty:
        compact(conn)
    return deleted


def forget(path: Path, last_s: float | None, now: float | None = None) -> Deleted:
    """`ghostpilot forget`: delete the last `last_s` seconds (None: everything) from the log at `path`, then
    compact. Runs beside a running copilot through SQLite's locks; what that copilot logs afterwards stays."""
    from app.store_schema import connect_writer

    if not path.is_file():
        raise GhostpilotError(f"no Ghostpilot log at {path}", "nothing was recorded there; pass --database PATH")
    now = time.time() if now is None else now
    since = ALL_TIME[0] if last_s is None else now - last_s
    db = connect_writer(path, busy_timeout_ms=10000)
    try:
        deleted = delete_window(db.conn, since, ALL_TIME[1])
        if not compact(db.conn):
            raise GhostpilotError(
                f"deleted {deleted.describe()}, but another program kept {path}-wal from being emptied",
                "close programs reading the log (and quit Ghostpilot), then run forget again",
            )
        return deleted
    except sqlite3.Error as exc:
        hint = "close other programs using the log and retry"
        raise GhostpilotError(f"cannot forget in {path} ({exc})", hint) from None
    finally:
        db.conn.close()


class RetentionScheduler:
    """Applies retention on a running store's writer thread: now, then every `every_s` seconds."""

    def __init__(
        self,
        store: Any,
        retention_days: float,
        max_database_mb: int,
        on_notice: Callable[[str], None],
        keep: str | None = None,
        every_s: float = EVERY_S,
    ) -> None:
        self.store, self.retention_days, self.max_bytes = store, retention_days, max_database_mb * 2**20
        self.on_notice, self.keep, self.every_s = on_notice, keep, every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ghostpilot-retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)

    def run_once(self) -> Any:
        """Queue one pass; the future holds its `Deleted`."""

        def work(conn: sqlite3.Connection) -> Deleted:
            return apply_retention(conn, self.retention_days, self.max_bytes, keep=self.keep)

        future = self.store.run_maintenance(work)
        future.add_done_callback(self._report)
        return future

    def _report(self, future: Any) -> None:
        exc = future.exception()
        if exc is not None:
            self.on_notice(f"retention failed: {type(exc).__name__}: {exc}")
        elif future.result().total:
            self.on_notice(f"retention: deleted {future.result().describe()}")

    def _run(self) -> None:
        while True:
            try:
                self.run_once()
            except RuntimeError:  # the store closed
                return
            if self._stop.wait(self.every_s):
                return
