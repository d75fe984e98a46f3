"""A data-location change moves the running copilot's log (app/live_log.py): real model, real loop step, two real
SQLite files; the test runs the loop steps itself so the hand-over lands at a known moment."""

from __future__ import annotations

import sqlite3
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from app.bench import scripted_stream
from app.copilot import Copilot, CopilotParts
from app.copilot_parts import drain
from app.live_log import LiveLog
from app.settings import Settings
from app.store import LOG_NAME
from inference import load_predictor

SCREEN = (1920, 1080)


@pytest.fixture(scope="module")
def predictor() -> Any:
    return load_predictor(device="cpu")


class Rig:
    def __init__(self, predictor: Any, settings: Settings, database: Path | None = None) -> None:
        self.notices: list[str] = []
        session = predictor.new_session(*SCREEN)
        self.copilot = Copilot(CopilotParts(session, lambda _view: None, on_notice=self.notices.append))
        self.log = LiveLog.open(self.copilot, predictor, SCREEN, settings, database)
        self.copilot.parts.logbook = self.log.book
        self.events = iter(scripted_stream(120, seed=3, width=SCREEN[0], height=SCREEN[1]))
        self.now = 0.0

    def until_ghost(self) -> None:
        for event in self.events:
            self.now = float(event["t"])
            self.copilot.step([event], self.now)
            if self.copilot.tracker.shown is not None:
                return
        pytest.fail("no ghost on the scripted input")

    def run_loop_while(self, thread: threading.Thread, seconds: float = 30.0) -> None:
        """Loop steps (inbox items only) until the mover thread is done."""
        deadline = time.monotonic() + seconds
        while thread.is_alive():
            assert time.monotonic() < deadline, f"the move did not finish; notices: {self.notices}"
            self.copilot.step(drain(self.copilot.inbox, 0.0), self.now)
            time.sleep(0.01)

    def stop(self) -> None:
        self.copilot.stop()
        self.log.stop()


def _query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_location_moves_the_log_and_both_files_stay_consistent(tmp_path: Path, predictor: Any) -> None:
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    rig = Rig(predictor, Settings(data_dir=str(old_dir)))
    rig.copilot.goals.change("file the expenses")
    rig.until_ghost()
    shown = rig.copilot.tracker.shown
    assert shown is not None
    old_session = rig.log.book.session_id
    started = time.time()
    rig.log.apply_settings(Settings(data_dir=str(new_dir)))
    assert rig.log.book.session_id == old_session  # nothing moves until the loop takes it
    rig.run_loop_while(rig.log._mover)  # type: ignore[arg-type]
    assert rig.notices[-1] == f"now logging to {new_dir / LOG_NAME}"
    assert rig.copilot.parts.logbook is rig.log.book and rig.log.store.path == new_dir / LOG_NAME
    moved_at = rig.now
    rig.until_ghost()
    rig.stop()
    old_db, new_db = old_dir / LOG_NAME, new_dir / LOG_NAME
    for db in (old_db, new_db):
        assert _query(db, "PRAGMA integrity_check") == [("ok",)]
        assert _query(db, "PRAGMA foreign_key_check") == []
        for path in db.parent.iterdir():
            assert _mode(path) == 0o600, path
    assert _mode(new_dir) == 0o700
    ((old_id, old_end),) = _query(old_db, "SELECT id, ended_at FROM sessions")
    assert old_id == old_session and started <= old_end <= time.time()  # ended at the move
    ((new_id, new_start, new_end, goal),) = _query(new_db, "SELECT id, started_at, ended_at, goal FROM sessions")
    assert new_id != old_session and new_end is not None and goal == "file the expenses"
    assert abs(new_start + moved_at - started) < 5  # the session clock runs on: started_at + t is wall time
    assert _query(old_db, f"SELECT decision FROM decisions WHERE suggestion_id = '{shown.id}'") == [("ignored",)]
    assert _query(old_db, "SELECT max(t) FROM events")[0][0] <= moved_at
    assert _query(new_db, "SELECT min(t) FROM events")[0][0] > moved_at
    assert _query(new_db, "SELECT count(*) FROM suggestions")[0][0] >= 1


def test_an_unusable_folder_keeps_the_log_where_it_is(tmp_path: Path, predictor: Any) -> None:
    rig = Rig(predictor, Settings(data_dir=str(tmp_path / "a")))
    (tmp_path / "a-file").write_text("not a folder")
    book = rig.log.book
    rig.log.apply_settings(Settings(data_dir=str(tmp_path / "a-file")))
    rig.run_loop_while(rig.log._mover)  # type: ignore[arg-type]
    (notice,) = rig.notices
    assert notice.startswith(f"data location not changed, the log stays in {tmp_path / 'a'}: ")
    assert rig.log.book is book and rig.copilot.parts.logbook is book
    rig.until_ghost()
    rig.stop()
    assert _query(tmp_path / "a" / LOG_NAME, "SELECT count(*) FROM suggestions")[0][0] >= 1


def test_database_on_the_command_line_pins_the_log(tmp_path: Path, predictor: Any) -> None:
    rig = Rig(predictor, Settings(), database=tmp_path / "pinned.db")
    rig.log.apply_settings(Settings(data_dir=str(tmp_path / "elsewhere")))
    assert rig.notices == [f"the log stays in {tmp_path / 'pinned.db'} (--database) until Ghostpilot starts again"]
    assert rig.log._mover is None and not (tmp_path / "elsewhere").exists()
    rig.stop()


def test_new_retention_limits_apply_at_once(tmp_path: Path, predictor: Any) -> None:
    rig = Rig(predictor, Settings(data_dir=str(tmp_path)))
    first = rig.log._retention
    rig.log.apply_settings(Settings(data_dir=str(tmp_path), retention_days=7))
    assert rig.log._retention is not first and rig.log._retention.retention_days == 7
    assert rig.log._retention.keep == rig.log.book.session_id
    rig.stop()
