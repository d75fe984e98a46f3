"""The review window's data (Qt-free): recent ghosts with what the user did, acceptance and latency over time,
and deleting entries (docs/review.md).

Reading goes through the store's read-only readers (WAL: they never block a running copilot). Deleting follows
app/retention.py's rule: on a running store's writer thread (`Store.run_maintenance`) when this process logs,
else on a connection of its own through SQLite's locks; either way it ends with `compact` (VACUUM), so what was
deleted does not linger in free pages or the WAL.
"""

from __future__ import annotations

import math
import sqlite3
import statistics
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.retention import ALL_TIME, Deleted, compact, delete_window, forget
from app.store_read import iter_suggestions, read_sessions
from app.store_schema import LogFileError, connect_writer
from inference.errors import GhostpilotError

FILTERS: dict[str, tuple[str, ...] | None] = {  # filter name -> decisions shown (None: every entry)
    "all": None,
    "accepted": ("accepted",),
    "rejected": ("dismissed", "ignored"),
    "partial": ("partial",),
}
ACCEPTED = ("accepted", "partial")  # count toward the acceptance rate
THUMB_WIDTH = 320  # the store's thumbnail width: the canvas of an entry logged without a frame
BUCKET_STEPS_S = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400)
MAINTENANCE_TIMEOUT_S = 120.0
Point = tuple[float, float]


@dataclass(frozen=True)
class ReviewEntry:
    """One ghost as the gallery draws it; paths are in thumbnail pixels (screen scaled to the frame)."""

    id: str
    session_id: str
    shown_at: float  # unix time
    kind: str  # "pointer" | "keys"
    confidence: float
    latency_ms: float | None
    decision: str | None  # None: not decided yet (the copilot logs decisions a few seconds later)
    window: str | None
    thumbnail: bytes | None  # PNG, or None when no frame was logged
    canvas: tuple[int, int]  # the thumbnail's size, or the screen's aspect at THUMB_WIDTH without one
    ghost_path: list[Point]  # the predicted pointer path
    ghost_click: Point | None
    user_path: list[Point]  # the user's pointer moves in the seconds after
    user_press: Point | None  # where the user pressed first, if they did
    ghost_keys: str  # keys suggestions: the predicted keys; "" for pointer ghosts
    user_keys: str
    endpoint_error_px: float | None


@dataclass(frozen=True)
class SeriesPoint:
    """One time bucket of the plots; rate and latency are None where the bucket has no data for them."""

    start: float  # unix time
    suggestions: int
    decided: int
    accepted: int  # accepted or partly accepted
    acceptance_rate: float | None
    latency_ms: float | None  # median model latency


def png_size(png: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG header, without decoding it."""
    if len(png) < 24 or png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def _keys(events: Iterable[dict[str, Any]]) -> str:
    names = [str(e.get("key", "")) for e in events if e.get("type") == "key.down"]
    return "".join(n if len(n) == 1 else f"<{n}>" for n in names)


def _points(events: Iterable[dict[str, Any]], scale: float, types: tuple[str, ...]) -> list[Point]:
    return [
        (float(e["x"]) * scale, float(e["y"]) * scale)
        for e in events
        if e.get("type") in types and e.get("x") is not None and e.get("y") is not None
    ]


def to_entry(row: dict[str, Any], session: dict[str, Any]) -> ReviewEntry:
    """A joined suggestion row (iter_suggestions) and its session -> what a card shows."""
    screen_w = max(1, int(session.get("screen_width") or 1))
    screen_h = max(1, int(session.get("screen_height") or 1))
    frame = row.get("frame")
    size = png_size(frame) if frame else None
    canvas = size or (THUMB_WIDTH, max(1, round(THUMB_WIDTH * screen_h / screen_w)))
    scale = canvas[0] / screen_w
    ghost_events, correction = row.get("events") or [], row.get("correction") or []
    click_x, click_y = row.get("click_x"), row.get("click_y")
    presses = _points(correction, scale, ("mouse.down",))
    return ReviewEntry(
        id=row["id"],
        session_id=row["session_id"],
        shown_at=float(session["started_at"]) + float(row["t"]),
        kind=row["kind"],
        confidence=float(row["confidence"]),
        latency_ms=row.get("latency_ms"),
        decision=row.get("decision"),
        window=row.get("window"),
        thumbnail=frame or None,
        canvas=canvas,
        ghost_path=_points(ghost_events, scale, ("mouse.move", "mouse.down", "mouse.up")),
        ghost_click=None if click_x is None or click_y is None else (float(click_x) * scale, float(click_y) * scale),
        user_path=_points(correction, scale, ("mouse.move", "mouse.down")),
        user_press=presses[0] if presses else None,
        ghost_keys=_keys(ghost_events),
        user_keys=_keys(correction),
        endpoint_error_px=row.get("endpoint_error_px"),
    )


def caption(entry: ReviewEntry) -> str:
    """The card's line under the thumbnail: when, how sure, how fast, and the keys involved."""
    parts = [time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.shown_at)), f"{entry.confidence:.0%} sure"]
    if entry.latency_ms is not None:
        parts.append(f"{entry.latency_ms:.0f} ms")
    if entry.ghost_keys:
        parts.append(f"keys {entry.ghost_keys}")
    if entry.user_keys:
        parts.append(f"typed {entry.user_keys}")
    return " · ".join(parts)


def _bucket_s(span_s: float, buckets: int) -> float:
    """The smallest round bucket that covers the span in at most `buckets` buckets."""
    wanted = span_s / max(1, buckets)
    return float(next((step for step in BUCKET_STEPS_S if step >= wanted), math.ceil(wanted / 86400) * 86400))


def series(rows: list[tuple[float, str | None, float | None]], buckets: int = 24) -> list[SeriesPoint]:
    """(time, decision, latency_ms) rows -> consecutive buckets from the first to the last row, empty ones kept."""
    if not rows:
        return []
    first, last = min(r[0] for r in rows), max(r[0] for r in rows)
    width = _bucket_s(last - first, buckets)
    origin = math.floor(first / width) * width
    count = int((last - origin) // width) + 1
    grouped: list[list[tuple[float, str | None, float | None]]] = [[] for _ in range(count)]
    for row in rows:
        grouped[int((row[0] - origin) // width)].append(row)
    points = []
    for index, group in enumerate(grouped):
        decided = [d for _, d, _ in group if d is not None]
        accepted = sum(d in ACCEPTED for d in decided)
        latencies = [lat for _, _, lat in group if lat is not None]
        points.append(
            SeriesPoint(
                start=origin + index * width,
                suggestions=len(group),
                decided=len(decided),
                accepted=accepted,
                acceptance_rate=accepted / len(decided) if decided else None,
                latency_ms=statistics.median(latencies) if latencies else None,
            )
        )
    return points


class ReviewLog:
    """The log as the review window sees it. `store`: this process's running Store, so deletions run on its
    writer thread; None (the `ghostpilot review` command) deletes on a connection of its own."""

    def __init__(self, path: Path, store: Any | None = None) -> None:
        self.path = Path(store.path) if store is not None else Path(path)
        self.store = store

    def _sessions(self) -> dict[str, dict[str, Any]]:
        return {s["id"]: s for s in read_sessions(self.path)}

    def entries(self, show: str = "all", limit: int = 200) -> list[ReviewEntry]:
        """The newest `limit` entries that pass the filter ("all", "accepted", "rejected", "partial")."""
        if show not in FILTERS:
            raise ValueError(f"filter must be one of {list(FILTERS)}, got {show!r}")
        wanted = FILTERS[show]
        sessions = self._sessions()
        found: list[ReviewEntry] = []
        rows = iter_suggestions(self.path, decision=wanted[0] if wanted and len(wanted) == 1 else None)
        try:
            for row in rows:
                if len(found) >= limit:
                    break
                if (wanted is None or row["decision"] in wanted) and row["session_id"] in sessions:
                    found.append(to_entry(row, sessions[row["session_id"]]))
        finally:
            rows.close()
        return found

    def series(self, buckets: int = 24, since: float | None = None) -> list[SeriesPoint]:
        """Acceptance rate and median latency per time bucket, over every suggestion since `since` (unix time)."""
        sessions = self._sessions()
        rows = []
        for row in iter_suggestions(self.path, newest_first=False, frames=False):
            session = sessions.get(row["session_id"])
            if session is None:
                continue
            shown_at = float(session["started_at"]) + float(row["t"])
            if since is None or shown_at >= since:
                rows.append((shown_at, row["decision"], row["latency_ms"]))
        return series(rows, buckets)

    def delete_entry(self, suggestion_id: str) -> Deleted:
        """Delete one suggestion with its decision (and its frame, which is in the suggestion's row), then compact."""

        def work(conn: sqlite3.Connection) -> Deleted:
            deleted = delete_suggestions(conn, [suggestion_id])
            compact(conn)
            return deleted

        return self._maintain(work)

    def delete_last(self, minutes: float, now: float | None = None) -> Deleted:
        """Delete everything from the last `minutes` (events, suggestions, decisions, emptied sessions), as
        `ghostpilot forget --last`; a running copilot's own session keeps its row."""
        if minutes <= 0:
            raise GhostpilotError(f"minutes must be above 0, got {minutes:g}")
        now = time.time() if now is None else now
        if self.store is None:
            return forget(self.path, minutes * 60, now=now)

        def work(conn: sqlite3.Connection) -> Deleted:
            deleted = delete_window(conn, now - minutes * 60, ALL_TIME[1])
            compact(conn)
            return deleted

        return self._maintain(work)

    def _maintain(self, work: Callable[[sqlite3.Connection], Deleted]) -> Deleted:
        if self.store is not None:
            return self.store.run_maintenance(work).result(timeout=MAINTENANCE_TIMEOUT_S)
        if not self.path.is_file():
            raise LogFileError(f"no Ghostpilot log at {self.path}", "nothing was recorded there")
        db = connect_writer(self.path, busy_timeout_ms=10000)
        try:
            return work(db.conn)
        except sqlite3.Error as exc:
            raise GhostpilotError(f"cannot delete from {self.path} ({exc})", "close other programs and retry") from None
        finally:
            db.conn.close()


def delete_suggestions(conn: sqlite3.Connection, ids: list[str]) -> Deleted:
    """Delete suggestions (frames included) and their decisions; the input events stay."""
    deleted = Deleted()
    conn.execute("PRAGMA secure_delete = ON")
    with conn:
        for suggestion_id in ids:
            deleted.frames += conn.execute(
                "DELETE FROM context_frames WHERE suggestion_id = ?", (suggestion_id,)
            ).rowcount
            deleted.decisions += conn.execute(
                "DELETE FROM decisions WHERE suggestion_id = ?", (suggestion_id,)
            ).rowcount
            deleted.suggestions += conn.execute("DELETE FROM suggestions WHERE id = ?", (suggestion_id,)).rowcount
    return deleted
