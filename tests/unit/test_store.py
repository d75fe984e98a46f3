"""The SQLite log on real files: round trips, concurrency, permissions, migrations and every failure path."""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sqlite_utils import Database

from app.paths import config_dir, data_dir, private_file
from app.store import (
    DecisionRecord,
    LogFileError,
    SessionRecord,
    Store,
    StoreOptions,
    SuggestionRecord,
    count_rows,
    frame_thumbnail,
    iter_events,
    iter_suggestions,
    read_events,
    read_sessions,
    read_suggestions,
)
from app.store_schema import APPLICATION_ID, MIGRATIONS, migrate
from inference.predictor import Suggestion

WAIT_S = 60.0  # generous: a slow 2-core CI machine must never fail on time


def wait_until(condition: Callable[[], bool], timeout: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class Notices:
    """Collects on_notice calls (they come from the writer thread)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)

    def seen(self, fragment: str) -> bool:
        with self._lock:
            return any(fragment in line for line in self.lines)


@pytest.fixture
def notices() -> Notices:
    return Notices()


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "log" / "ghostpilot.db"


@pytest.fixture
def store(log_path: Path, notices: Notices) -> Iterator[Store]:
    opened = Store.open(log_path, on_notice=notices)
    yield opened
    opened.close()


def moves(n: int, start: float = 0.0) -> list[dict[str, object]]:
    return [{"t": start + i / 30, "type": "mouse.move", "x": float(i), "y": 2.0 * i} for i in range(n)]


def session(**changes: object) -> SessionRecord:
    return replace(SessionRecord(started_at=1_700_000_000.5, screen_width=1920, screen_height=1080), **changes)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- paths ---


def test_data_and_config_dirs_follow_xdg_and_are_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        data, config = data_dir(), config_dir()
    finally:
        os.umask(previous)
    assert data == tmp_path / "xdg" / "xdg_data_home" / "ghostpilot"
    assert config == tmp_path / "xdg" / "xdg_config_home" / "ghostpilot"
    for folder in (data, config):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_an_existing_wide_open_data_dir_is_made_private(tmp_path: Path) -> None:
    folder = tmp_path / "xdg" / "xdg_data_home" / "ghostpilot"
    folder.mkdir(parents=True)
    folder.chmod(0o755)
    assert stat.S_IMODE(data_dir().stat().st_mode) == 0o700
    file = folder / "notes.txt"
    file.write_text("x")
    file.chmod(0o644)
    assert stat.S_IMODE(private_file(file).stat().st_mode) == 0o600


# --- round trips ---


def test_each_record_type_round_trips(store: Store, log_path: Path) -> None:
    session_id = store.begin_session(session(model_name="default", model_version="v3", goal="write a mail"))
    events = [*moves(3), {"t": 0.5, "type": "key.down", "key": "tab", "source": "ghostpilot"}]
    store.log_events(session_id, events)
    frame = np.zeros((90, 160, 3), np.uint8)
    frame[:, 80:] = (255, 0, 0)
    best = Suggestion("pointer", moves(2, start=1.0), 0.75, click=(40.0, 50.0))
    other = Suggestion("keys", [{"t": 1.1, "type": "key.down", "key": "a"}], 0.5)
    record = replace(
        SuggestionRecord.from_suggestion(session_id, 1.0, best, [other]),
        model_version="v3", latency_ms=4.5, goal="write a mail", window="Inbox - Mail", frame=frame,
    )  # fmt: skip
    suggestion_id = store.log_suggestion(record)
    undecided_id = store.log_suggestion(SuggestionRecord(session_id, 2.0, "keys", [], 0.6))
    correction = [{"t": 1.4, "type": "mouse.down", "x": 42.0, "y": 49.0, "button": "left"}]
    store.log_decision(DecisionRecord(suggestion_id, 1.5, "partial", 1, correction, endpoint_error_px=2.2))
    store.end_session(session_id, 1_700_000_060.0)
    assert store.flush()

    assert count_rows(log_path) == {"sessions": 1, "events": 4, "suggestions": 2, "decisions": 1, "context_frames": 0}
    [stored_session] = read_sessions(log_path)
    assert stored_session["id"] == session_id and stored_session["ended_at"] == 1_700_000_060.0
    assert (stored_session["goal"], stored_session["model_version"], stored_session["screen_width"]) == (
        "write a mail", "v3", 1920,
    )  # fmt: skip
    assert read_events(log_path, session_id) == events
    sources = sqlite3.connect(log_path).execute("SELECT source FROM events ORDER BY id").fetchall()
    assert [s for (s,) in sources] == ["user", "user", "user", "ghostpilot"]

    newest, oldest = read_suggestions(log_path)
    assert newest["id"] == undecided_id and newest["decision"] is None and newest["correction"] is None
    assert oldest["id"] == suggestion_id
    assert (oldest["kind"], oldest["events"], oldest["click_x"], oldest["click_y"]) == ("pointer", best.events, 40, 50)
    assert oldest["alternatives"] == [{"kind": "keys", "events": other.events, "confidence": 0.5, "click": None}]
    assert (oldest["window"], oldest["latency_ms"], oldest["goal"], oldest["confidence"]) == (
        "Inbox - Mail", 4.5, "write a mail", 0.75,
    )  # fmt: skip
    assert (oldest["decision"], oldest["decision_t"], oldest["steps_accepted"]) == ("partial", 1.5, 1)
    assert oldest["correction"] == correction and oldest["endpoint_error_px"] == 2.2
    from PIL import Image

    thumb = np.asarray(Image.open(io.BytesIO(oldest["frame"])).convert("RGB"))
    assert thumb.shape == (90, 160, 3) and tuple(thumb[45, 10]) == (0, 0, 0) and tuple(thumb[45, 150]) == (255, 0, 0)
    assert [r["id"] for r in read_suggestions(log_path, decision="partial")] == [suggestion_id]
    assert read_suggestions(log_path, decision="accepted") == []


def test_ids_come_back_without_touching_the_database(store: Store) -> None:
    ids = {store.begin_session(session()) for _ in range(50)}
    assert len(ids) == 50 and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_a_decision_can_be_revised(store: Store, log_path: Path) -> None:
    session_id = store.begin_session(session())
    suggestion_id = store.log_suggestion(SuggestionRecord(session_id, 1.0, "keys", [], 0.9))
    store.log_decision(DecisionRecord(suggestion_id, 1.2, "ignored"))
    store.log_decision(DecisionRecord(suggestion_id, 1.9, "accepted", steps_accepted=4))
    assert store.flush()
    [row] = read_suggestions(log_path)
    assert (row["decision"], row["decision_t"], row["steps_accepted"]) == ("accepted", 1.9, 4)


def test_invalid_values_are_refused_at_the_call(store: Store) -> None:
    with pytest.raises(ValueError, match="decision must be one of"):
        store.log_decision(DecisionRecord("x", 0.0, "maybe"))
    with pytest.raises(ValueError, match="kind must be one of"):
        store.log_suggestion(SuggestionRecord("s", 0.0, "teleport", [], 0.5))
    with pytest.raises(ValueError, match="H x W x 3 uint8"):
        store.log_suggestion(SuggestionRecord("s", 0.0, "keys", [], 0.5, frame=np.zeros((4, 4), np.uint8)))


def test_frame_thumbnail_is_a_small_png_with_the_aspect_kept() -> None:
    from PIL import Image

    frame = np.zeros((1080, 1920, 3), np.uint8)
    frame[:540] = (0, 200, 0)
    image = Image.open(io.BytesIO(frame_thumbnail(frame)))
    assert image.format == "PNG" and image.size == (320, 180)
    pixels = np.asarray(image.convert("RGB"))
    assert tuple(pixels[10, 10]) == (0, 200, 0) and tuple(pixels[170, 10]) == (0, 0, 0)


def test_a_frame_becomes_a_thumbnail_and_the_callers_buffer_can_be_reused(store: Store, log_path: Path) -> None:
    session_id = store.begin_session(session())
    frame = np.full((1080, 1920, 3), 77, np.uint8)
    store.log_suggestion(SuggestionRecord(session_id, 0.0, "keys", [], 0.5, frame=frame))
    frame[:] = 0  # the capture loop reuses its buffer at once
    assert store.flush()
    from PIL import Image

    [row] = read_suggestions(log_path)
    thumb = np.asarray(Image.open(io.BytesIO(row["frame"])).convert("RGB"))
    assert thumb.shape == (180, 320, 3) and int(thumb.min()) == 77


# --- concurrency, flush, close ---


def test_a_writer_thread_and_readers_run_side_by_side(store: Store, log_path: Path) -> None:
    session_id = store.begin_session(session())
    assert store.flush()
    total, errors = 20_000, []

    def produce() -> None:
        try:
            for start in range(0, total, 7):
                store.log_events(session_id, moves(min(7, total - start), start=start))
        except Exception as exc:  # reported below
            errors.append(exc)

    producer = threading.Thread(target=produce)
    producer.start()
    reads = 0
    while producer.is_alive() or reads < 3:
        seen = count_rows(log_path)["events"]
        assert 0 <= seen <= total
        assert sum(1 for _ in iter_events(log_path, session_id)) >= seen  # a later snapshot never has fewer
        reads += 1
    producer.join()
    assert not errors
    assert store.flush(WAIT_S)
    assert count_rows(log_path)["events"] == total
    times = [e["t"] for e in iter_events(log_path, session_id)]
    assert times == sorted(times) and len(times) == total


def test_flush_makes_everything_logged_before_it_visible_to_a_new_reader(store: Store, log_path: Path) -> None:
    assert store.flush()  # nothing queued: returns at once
    session_id = store.begin_session(session())
    for batch in range(20):
        store.log_events(session_id, moves(50, start=batch * 2))
        assert store.flush(WAIT_S)
        assert count_rows(log_path)["events"] == 50 * (batch + 1)


def test_close_writes_what_is_queued_and_is_idempotent(log_path: Path) -> None:
    store = Store.open(log_path)
    session_id = store.begin_session(session())
    store.log_events(session_id, moves(5000))
    assert store.close(WAIT_S)
    assert not Path(f"{log_path}-wal").exists()  # the last connection checkpointed and removed it
    assert store.close() and store.close()
    assert count_rows(log_path)["events"] == 5000
    with pytest.raises(RuntimeError, match="closed"):
        store.log_events(session_id, moves(1))


def test_a_store_left_open_at_exit_still_writes_its_queue(log_path: Path) -> None:
    code = f"""
from pathlib import Path
from app.store import SessionRecord, Store
store = Store.open(Path({str(log_path)!r}))
session_id = store.begin_session(SessionRecord(0.0, 800, 600))
store.log_events(session_id, [{{"t": i / 30, "type": "mouse.move", "x": i, "y": 0}} for i in range(20_000)])
"""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert count_rows(log_path)["events"] == 20_000


def test_the_store_is_a_context_manager(log_path: Path) -> None:
    with Store.open(log_path) as store:
        store.begin_session(session())
    assert count_rows(log_path)["sessions"] == 1


# --- permissions ---


def test_log_files_are_private_in_a_private_default_dir(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        store = Store.open()
        session_id = store.begin_session(session())
        store.log_events(session_id, moves(100))
        assert store.flush()
        folder = tmp_path / "xdg" / "xdg_data_home" / "ghostpilot"
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
        assert modes == {"ghostpilot.db": 0o600, "ghostpilot.db-wal": 0o600, "ghostpilot.db-shm": 0o600}
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        store.close()
        assert count_rows(folder / "ghostpilot.db")["events"] == 100  # a reader may recreate -wal and -shm
        assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o600}
    finally:
        os.umask(previous)


# --- migrations ---

# The v1 schema exactly as version 1 wrote it; frozen here so an edit of a released migration is caught.
V1_SQL = f"""
PRAGMA application_id = {APPLICATION_ID};
CREATE TABLE sessions (
    id TEXT PRIMARY KEY, started_at REAL NOT NULL, ended_at REAL,
    screen_width INTEGER NOT NULL, screen_height INTEGER NOT NULL,
    model_name TEXT, model_version TEXT, goal TEXT, app_version TEXT);
CREATE TABLE events (
    id INTEGER PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id),
    t REAL NOT NULL, type TEXT NOT NULL, source TEXT NOT NULL DEFAULT 'user', data TEXT NOT NULL);
CREATE INDEX events_session_t ON events(session_id, t);
CREATE TABLE suggestions (
    id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id), t REAL NOT NULL,
    kind TEXT NOT NULL, events TEXT NOT NULL, click_x REAL, click_y REAL, confidence REAL NOT NULL,
    alternatives TEXT NOT NULL DEFAULT '[]', model_version TEXT, latency_ms REAL, goal TEXT);
CREATE INDEX suggestions_session_t ON suggestions(session_id, t);
CREATE TABLE decisions (
    suggestion_id TEXT PRIMARY KEY REFERENCES suggestions(id), t REAL NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('accepted', 'partial', 'dismissed', 'ignored')),
    steps_accepted INTEGER NOT NULL DEFAULT 0, correction TEXT NOT NULL DEFAULT '[]');
INSERT INTO sessions VALUES ('s1', 1700000000.0, NULL, 800, 600, 'default', 'v1', 'old goal', '0.0.9');
INSERT INTO events (session_id, t, type, source, data)
    VALUES ('s1', 0.25, 'mouse.move', 'user', '{{"t":0.25,"type":"mouse.move","x":1,"y":2}}');
INSERT INTO suggestions VALUES ('g1', 's1', 0.5, 'pointer', '[]', 10, 20, 0.9, '[]', 'v1', 3.0, 'old goal');
INSERT INTO decisions VALUES ('g1', 0.7, 'accepted', 1, '[]');
PRAGMA user_version = 1;
"""


def _columns(path: Path) -> dict[str, list[tuple[str, str, int, object, int]]]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: [tuple(r[1:]) for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
    finally:
        conn.close()


def test_migration_one_still_builds_the_released_v1_schema(tmp_path: Path) -> None:
    frozen, rebuilt = tmp_path / "frozen.db", tmp_path / "rebuilt.db"
    sqlite3.connect(frozen).executescript(V1_SQL.split("INSERT INTO sessions")[0]).close()
    db = Database(rebuilt)
    assert migrate(db, target=1) == 1
    db.close()
    assert _columns(rebuilt) == _columns(frozen)


def test_a_v1_log_is_migrated_and_keeps_its_rows(log_path: Path, notices: Notices) -> None:
    log_path.parent.mkdir(parents=True)
    sqlite3.connect(log_path).executescript(V1_SQL).close()
    with Store.open(log_path, on_notice=notices) as store:
        store.log_suggestion(SuggestionRecord("s1", 0.9, "keys", [], 0.6, window="Terminal", frame=b"\x89PNG"))
        assert store.flush()
        rows = {r["id"]: r for r in read_suggestions(log_path)}
    assert sqlite3.connect(log_path).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 3
    old = rows["g1"]
    assert (old["click_x"], old["decision"], old["window"], old["frame"], old["endpoint_error_px"]) == (
        10, "accepted", None, None, None,
    )  # fmt: skip
    assert [(r["window"], r["frame"]) for r in rows.values() if r["id"] != "g1"] == [("Terminal", b"\x89PNG")]
    assert read_events(log_path, "s1") == [{"t": 0.25, "type": "mouse.move", "x": 1, "y": 2}]
    assert not notices.lines


def test_a_log_from_a_newer_version_is_refused_untouched(log_path: Path) -> None:
    Store.open(log_path).close()
    conn = sqlite3.connect(log_path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    before = digest(log_path)
    with pytest.raises(LogFileError, match="newer Ghostpilot"):
        Store.open(log_path)
    with pytest.raises(LogFileError, match="newer Ghostpilot"):
        count_rows(log_path)
    assert digest(log_path) == before


def test_readers_ask_for_an_upgrade_of_an_old_log(log_path: Path) -> None:
    log_path.parent.mkdir(parents=True)
    sqlite3.connect(log_path).executescript(V1_SQL).close()
    with pytest.raises(LogFileError, match="older log schema"):
        read_suggestions(log_path)
    with pytest.raises(LogFileError, match="no Ghostpilot log at"):
        count_rows(log_path.parent / "missing.db")


# --- bad files ---


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"episode,t,x,y\n0,0.1,5,5\n" * 100, "is not an SQLite database"),
        (b"SQLite format 3\x00" + bytes(range(256)) * 40, "is damaged or not a Ghostpilot log"),
    ],
)
def test_a_corrupt_file_gets_one_line_and_is_left_untouched(log_path: Path, content: bytes, expected: str) -> None:
    log_path.parent.mkdir(parents=True)
    log_path.write_bytes(content)
    with pytest.raises(LogFileError) as caught:
        Store.open(log_path)
    message = str(caught.value)
    assert expected in message and str(log_path) in message and "\n" not in message
    assert "untouched" in caught.value.hint
    assert log_path.read_bytes() == content
    assert sorted(p.name for p in log_path.parent.iterdir()) == [log_path.name]


def test_another_programs_sqlite_database_is_refused(log_path: Path) -> None:
    log_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(log_path)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.commit()
    conn.close()
    before = digest(log_path)
    with pytest.raises(LogFileError, match="not a Ghostpilot log"):
        Store.open(log_path)
    assert digest(log_path) == before


# --- failures while running ---


def _page_count(path: Path) -> tuple[int, int]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA page_count").fetchone()[0], conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()


def test_disk_full_pauses_logging_and_it_resumes_when_space_returns(
    store: Store, log_path: Path, notices: Notices
) -> None:
    session_id = store.begin_session(session())
    assert store.flush()
    pages, page_size = _page_count(log_path)
    store.set_size_limit((pages + 2) * page_size)  # PRAGMA max_page_count: SQLITE_FULL like a full disk
    for batch in range(100):
        store.log_events(session_id, moves(100, start=batch * 4))
    assert wait_until(lambda: notices.seen("logging paused: disk full"))
    assert store.status().paused is not None
    for batch in range(100, 120):  # callers keep logging while paused, without exceptions
        store.log_events(session_id, moves(100, start=batch * 4))
    assert not store.flush(timeout=0.2)  # nothing more can commit while the disk is full
    store.set_size_limit(None)
    assert store.flush(WAIT_S)
    assert notices.seen("logging resumed")
    assert count_rows(log_path)["events"] == 12_000
    assert store.status().paused is None and store.status().dropped_rows == 0


def test_a_full_queue_drops_the_oldest_records_with_a_count(log_path: Path, notices: Notices) -> None:
    options = StoreOptions(max_queue_bytes=200_000, batch_rows=100)
    with Store.open(log_path, on_notice=notices, options=options) as store:
        session_id = store.begin_session(session())
        assert store.flush()
        pages, page_size = _page_count(log_path)
        store.set_size_limit(pages * page_size)
        for batch in range(200):
            store.log_events(session_id, moves(10, start=batch))
        assert wait_until(lambda: notices.seen("logging paused: disk full"))
        late_session = store.begin_session(session(goal="started while paused"))
        for batch in range(200, 600):
            store.log_events(session_id, moves(10, start=batch))
        assert wait_until(lambda: notices.seen("logging queue full: dropped"))
        dropped = store.status().dropped_rows
        assert 0 < dropped < 6000
        store.set_size_limit(None)
        assert store.flush(WAIT_S)
    assert count_rows(log_path)["events"] == 6000 - dropped
    assert {s["id"] for s in read_sessions(log_path)} == {session_id, late_session}  # sessions are never shed
    times = [e["t"] for e in read_events(log_path, session_id)]
    assert times[-1] == pytest.approx(599 + 9 / 30)  # the newest records were kept


def test_under_memory_pressure_thumbnails_go_before_records(log_path: Path, notices: Notices) -> None:
    frame = np.full((360, 640, 3), 9, np.uint8)  # 691 KB queued
    options = StoreOptions(max_queue_bytes=2_000_000, batch_rows=1)
    with Store.open(log_path, on_notice=notices, options=options) as store:
        session_id = store.begin_session(session())
        assert store.flush()
        pages, page_size = _page_count(log_path)
        store.set_size_limit(pages * page_size)
        store.log_events(session_id, moves(300))  # the batch the paused writer holds
        assert wait_until(lambda: notices.seen("logging paused: disk full"))
        ids = [store.log_suggestion(SuggestionRecord(session_id, i, "keys", [], 0.5, frame=frame)) for i in range(6)]
        store.log_events(session_id, moves(100, start=10))
        assert wait_until(lambda: notices.seen("dropped the screen thumbnails of"))
        assert store.status().dropped_rows == 0
        store.set_size_limit(None)
        assert store.flush(WAIT_S)
    rows = {r["id"]: r["frame"] for r in read_suggestions(log_path)}
    assert set(rows) == set(ids) and rows[ids[0]] is None and rows[ids[-1]] is not None
    assert count_rows(log_path)["events"] == 400


def test_closing_while_the_disk_is_full_reports_what_is_lost(log_path: Path, notices: Notices) -> None:
    store = Store.open(log_path, on_notice=notices)
    session_id = store.begin_session(session())
    assert store.flush()
    pages, page_size = _page_count(log_path)
    store.set_size_limit(pages * page_size)
    store.log_events(session_id, moves(300))
    assert wait_until(lambda: notices.seen("logging paused: disk full"))
    store.log_events(session_id, moves(200))
    assert store.close(WAIT_S)
    assert notices.seen("logging stopped: 500 records not written")
    assert count_rows(log_path)["events"] == 0


LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
"""


def test_a_database_locked_by_another_process_delays_but_loses_nothing(log_path: Path, notices: Notices) -> None:
    options = StoreOptions(busy_timeout_ms=100)
    with Store.open(log_path, on_notice=notices, options=options) as store:
        session_id = store.begin_session(session())
        assert store.flush()
        locker = subprocess.Popen(
            [sys.executable, "-c", LOCKER, str(log_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            assert locker.stdout is not None and locker.stdin is not None
            assert locker.stdout.readline().strip() == "locked"
            store.log_events(session_id, moves(500))
            assert wait_until(lambda: notices.seen("is locked by another program"))
            assert not store.flush(timeout=0.2)
            locker.stdin.write("\n")
            locker.stdin.flush()
            assert locker.wait(WAIT_S) == 0
        finally:
            if locker.poll() is None:
                locker.kill()
        assert store.flush(WAIT_S)
        store.log_events(session_id, moves(10, start=100))
        assert store.flush(WAIT_S)
    assert count_rows(log_path)["events"] == 510
    assert notices.seen("logging resumed")


def test_bad_records_are_dropped_alone_with_a_notice(store: Store, log_path: Path, notices: Notices) -> None:
    session_id = store.begin_session(session())
    store.log_events(session_id, moves(3))
    store.log_events(session_id, [{"t": 1.0, "type": "key.down", "key": object()}])  # not JSON
    store.log_decision(DecisionRecord("no-such-suggestion", 1.0, "dismissed"))
    store.end_session("no-such-session", 2.0)
    store.log_events(session_id, moves(2, start=5))
    assert store.flush()
    assert count_rows(log_path) == {"sessions": 1, "events": 5, "suggestions": 0, "decisions": 0, "context_frames": 0}
    assert notices.seen("dropped 1 events row(s) that cannot be written (TypeError")
    assert notices.seen("FOREIGN KEY constraint failed")
    assert notices.seen("no session no-such-session")
    assert store.status().dropped_rows == 3


def test_a_failing_notice_callback_does_not_stop_the_writer(log_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    def broken(line: str) -> None:
        raise RuntimeError("the UI is gone")

    with Store.open(log_path, on_notice=broken) as store:
        store.log_decision(DecisionRecord("missing", 0.0, "ignored"))  # triggers a notice
        session_id = store.begin_session(session())
        store.log_events(session_id, moves(4))
        assert store.flush()
    assert count_rows(log_path)["events"] == 4
    assert "on_notice failed" in caplog.text


def test_streams_are_lazy_and_can_stop_early(store: Store, log_path: Path) -> None:
    session_id = store.begin_session(session())
    for i in range(600):
        store.log_suggestion(SuggestionRecord(session_id, float(i), "keys", [], 0.5, frame=b"png"))
    assert store.flush()
    stream = iter_suggestions(log_path, session_id=session_id, newest_first=False, frames=False)
    first = [next(stream) for _ in range(3)]
    assert [r["t"] for r in first] == [0.0, 1.0, 2.0] and first[0]["frame"] is None
    stream.close()
    assert [r["t"] for r in read_suggestions(log_path, limit=2)] == [599.0, 598.0]
