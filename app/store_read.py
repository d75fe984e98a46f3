"""Reading the log: separate read-only connections (WAL: they never block the writer), streamed in chunks,
for the review window, the exporters and workflow recall."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from app.store_schema import TABLES, LogFileError, connect_reader
from inference.episodes import Event

_SUGGESTIONS_SQL = """
SELECT s.id, s.session_id, s.t, s.kind, s.events, s.click_x, s.click_y, s.confidence, s.alternatives,
       s.model_version, s.latency_ms, s.goal, s."window", {frame} AS frame,
       d.decision, d.t AS decision_t, d.steps_accepted, d.correction, d.endpoint_error_px
FROM suggestions s LEFT JOIN decisions d ON d.suggestion_id = s.id
WHERE (:decision IS NULL OR d.decision = :decision) AND (:session_id IS NULL OR s.session_id = :session_id)
ORDER BY s.rowid {order}
"""
_JSON_COLUMNS = ("events", "alternatives", "correction", "data")
Rows = Generator[Any, None, None]


def _decoded(row: sqlite3.Row) -> dict[str, Any]:
    record = dict(row)
    for name in _JSON_COLUMNS:
        if record.get(name) is not None:
            record[name] = json.loads(record[name])
    return record


def _stream(path: Path, sql: str, params: dict[str, Any], decode: Callable[[sqlite3.Row], Any]) -> Rows:
    conn = connect_reader(path)  # here, so a bad file raises at the call, not at the first next()

    def rows() -> Rows:
        try:
            cursor = conn.execute(sql, params)
            while chunk := cursor.fetchmany(256):
                yield from map(decode, chunk)
        except sqlite3.Error as exc:
            raise LogFileError(f"cannot read {path} ({exc})", "the log may be damaged") from None
        finally:
            conn.close()

    return rows()


def iter_suggestions(
    path: Path,
    decision: str | None = None,
    session_id: str | None = None,
    newest_first: bool = True,
    frames: bool = True,
) -> Generator[dict[str, Any], None, None]:
    """Suggestions with their decision joined (None where undecided), JSON columns decoded; one snapshot."""
    sql = _SUGGESTIONS_SQL.format(frame="s.frame" if frames else "NULL", order="DESC" if newest_first else "ASC")
    return _stream(path, sql, {"decision": decision, "session_id": session_id}, _decoded)


def read_suggestions(path: Path, limit: int = 100, decision: str | None = None) -> list[dict[str, Any]]:
    """The newest `limit` suggestions (with decisions), newest first."""
    stream = iter_suggestions(path, decision=decision)
    try:
        return list(itertools.islice(stream, limit))
    finally:
        stream.close()


def iter_events(path: Path, session_id: str) -> Generator[Event, None, None]:
    """One session's events as logged (episode schema), in time order."""
    sql = "SELECT data FROM events WHERE session_id = :session_id ORDER BY t, id"
    return _stream(path, sql, {"session_id": session_id}, lambda row: _decoded(row)["data"])


def read_events(path: Path, session_id: str) -> list[Event]:
    return list(iter_events(path, session_id))


def read_sessions(path: Path) -> list[dict[str, Any]]:
    """Every session, oldest first."""
    return list(_stream(path, "SELECT * FROM sessions ORDER BY started_at, rowid", {}, dict))


def count_rows(path: Path) -> dict[str, int]:
    conn = connect_reader(path)
    try:
        return {table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]) for table in TABLES}
    finally:
        conn.close()


_CONTEXT_FRAMES_SQL = """
SELECT c.suggestion_id, c.offset_s, c.pointer_x, c.pointer_y, c.screen_width, c.screen_height, c.global_png,
       c.crop_png
FROM context_frames c JOIN suggestions s ON s.id = c.suggestion_id
WHERE s.session_id = :session_id ORDER BY s.rowid, c.offset_s
"""


def iter_context_frames(path: Path, session_id: str) -> Generator[dict[str, Any], None, None]:
    """One session's context frames, in the order `iter_suggestions(newest_first=False)` gives their suggestions
    and by time within each, so an exporter merges the two streams without holding either."""
    return _stream(path, _CONTEXT_FRAMES_SQL, {"session_id": session_id}, dict)
