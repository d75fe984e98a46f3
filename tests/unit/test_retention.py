"""Forget and retention on real SQLite files: rows go, and the deleted text is gone from the raw bytes."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from app.cli import main as cli_main
from app.retention import RetentionScheduler, apply_retention, forget, parse_window
from app.store import DecisionRecord, SessionRecord, Store, SuggestionRecord, count_rows, read_sessions
from inference.errors import GhostpilotError

CANARY = "zqx-canary-7731"
OLD_TEXT = "old-keep-4410"
NOW = 1_800_000_000.0


def typed(text: str, t0: float) -> list[dict]:
    return [{"t": t0 + 0.01 * i, "type": "key.down", "key": c} for i, c in enumerate(text)]


def raw_bytes(db: Path) -> bytes:
    return b"".join(
        Path(f"{db}{suffix}").read_bytes() for suffix in ("", "-wal", "-shm") if Path(f"{db}{suffix}").exists()
    )


def log_session(store: Store, started_at: float, text: str, ended: bool = True, t0: float = 1.0) -> str:
    session = store.begin_session(SessionRecord(started_at, 1920, 1080, goal=f"goal {text}"))
    store.log_events(session, typed(text, t0))
    suggestion = SuggestionRecord(session, t0 + 0.5, "keys", typed(text, 0.0), 0.9, window=f"window {text}")
    store.log_suggestion(suggestion)
    store.log_decision(DecisionRecord(suggestion.id, t0 + 1.0, "ignored", correction=typed(text, t0 + 1.0)))
    if ended:
        store.end_session(session, started_at + 60)
    return session


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "log.db"
    with Store.open(path) as store:
        log_session(store, NOW - 3 * 3600, OLD_TEXT)  # 3 hours ago
        log_session(store, NOW - 300, CANARY)  # 5 minutes ago
    return path


def test_parse_window() -> None:
    assert parse_window("10m") == 600 and parse_window("2h") == 7200 and parse_window("1d") == 86400
    for bad in ("10", "m", "-5m", "0h", "10 parsecs"):
        with pytest.raises(GhostpilotError):
            parse_window(bad)


def test_forget_last_10m_removes_the_text_from_the_file_and_keeps_older_sessions(db: Path) -> None:
    assert CANARY.encode() in raw_bytes(db)  # goal and window title hold it whole: the check can fail
    deleted = forget(db, parse_window("10m"), now=NOW)
    assert (deleted.events, deleted.suggestions, deleted.decisions, deleted.sessions) == (len(CANARY), 1, 1, 1)
    assert CANARY.encode() not in raw_bytes(db)
    assert OLD_TEXT.encode() in raw_bytes(db)
    assert Path(f"{db}-wal").stat().st_size == 0 if Path(f"{db}-wal").exists() else True
    counts = {"sessions": 1, "events": len(OLD_TEXT), "suggestions": 1, "decisions": 1, "context_frames": 0}
    assert count_rows(db) == counts


def test_forget_all_and_the_command_line(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["forget", "--all", "--database", str(db)]) == 0
    assert "deleted" in capsys.readouterr().out
    assert CANARY.encode() not in raw_bytes(db) and OLD_TEXT.encode() not in raw_bytes(db)
    assert count_rows(db) == {"sessions": 0, "events": 0, "suggestions": 0, "decisions": 0, "context_frames": 0}
    assert cli_main(["forget", "--last", "soon", "--database", str(db)]) == 2
    assert "time window" in capsys.readouterr().err


def test_forget_keeps_a_running_session_row_but_not_its_text(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    with Store.open(path) as store:
        session = log_session(store, NOW - 60, CANARY, ended=False)
    forget(path, 600, now=NOW)
    assert [s["id"] for s in read_sessions(path)] == [session]  # a running copilot's rows still refer to it
    assert read_sessions(path)[0]["goal"] is None
    assert CANARY.encode() not in raw_bytes(path)


def test_retention_deletes_what_is_older_than_the_limit(db: Path) -> None:
    with Store.open(db) as store:
        log_session(store, NOW - 40 * 86400, "ancient-text-1")
    store_path = db
    from app.store_schema import connect_writer

    conn = connect_writer(store_path, 5000).conn
    try:
        deleted = apply_retention(conn, retention_days=30, max_bytes=2**30, now=NOW)
    finally:
        conn.close()
    assert deleted.sessions == 1
    assert b"ancient-text-1" not in raw_bytes(db) and CANARY.encode() in raw_bytes(db)


def test_size_cap_deletes_oldest_sessions_first_on_the_store_writer(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    rng = np.random.default_rng(0)
    with Store.open(path) as store:
        for day in range(6):  # each session ~1 MB of incompressible frame bytes
            session = store.begin_session(SessionRecord(NOW - (6 - day) * 3600, 1920, 1080, goal=f"session-{day}"))
            blob = rng.integers(0, 255, 1_000_000, dtype=np.uint8).tobytes()
            store.log_suggestion(SuggestionRecord(session, 1.0, "keys", typed("a", 0), 0.5, frame=blob))
            store.end_session(session, NOW - (6 - day) * 3600 + 60)
        notices: list[str] = []
        scheduler = RetentionScheduler(store, 30, 3, notices.append, keep=session)  # a 3 MB cap
        deleted = scheduler.run_once().result(timeout=30)
    assert deleted.sessions >= 3
    remaining = [s["goal"] for s in read_sessions(path)]
    assert remaining == [f"session-{day}" for day in range(6 - len(remaining), 6)]  # the newest survive
    assert path.stat().st_size <= 3 * 2**20
    assert any("retention: deleted" in n for n in notices)


def test_the_store_keeps_logging_after_maintenance(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    with Store.open(path) as store:
        session = log_session(store, time.time(), "first", ended=False)
        store.run_maintenance(lambda conn: forget_none(conn)).result(timeout=30)
        store.log_events(session, typed("second", 5.0))
        store.end_session(session, time.time())
    assert count_rows(path)["events"] == len("first") + len("second")


def forget_none(conn: object) -> None:
    from app.retention import compact

    compact(conn)  # type: ignore[arg-type]


def test_forget_beside_a_running_store_empties_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    with Store.open(path) as store:  # the copilot's writer holds the file open, so its WAL stays
        session = log_session(store, time.time() - 60, CANARY, ended=False)
        assert store.flush(10)
        assert CANARY.encode() in raw_bytes(path)
        forget(path, 600)  # as `ghostpilot forget` does from another process: its own connection
        assert CANARY.encode() not in raw_bytes(path)
        store.log_events(session, typed("after", 100.0))  # the running session still logs
    assert count_rows(path)["events"] == len("after")
