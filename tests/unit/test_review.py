"""The review window's data on a real SQLite log filled through app/store.py: entries, filters, series, deletes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from app.review import ReviewLog, png_size, series
from app.store import DecisionRecord, SessionRecord, Store, SuggestionRecord, count_rows, read_suggestions
from inference.errors import GhostpilotError

START = 1_800_000_000.0  # the session's start (unix time)
DECISIONS = ["accepted", "dismissed", "ignored", "partial", "accepted", None]  # one per suggestion, oldest first


def ghost_events(i: int) -> list[dict]:
    """A predicted path from (100, 100) to (1000 + 100 i, 500), ending in a click."""
    end_x = 1000 + 100 * i
    moves = [{"t": i + k / 10, "type": "mouse.move", "x": 100 + (end_x - 100) * k / 9, "y": 100 + 400 * k / 9}
             for k in range(10)]  # fmt: skip
    return [*moves, {"t": i + 1, "type": "mouse.down", "x": end_x, "y": 500, "button": "left"}]


def correction(i: int) -> list[dict]:
    return [
        {"t": i + 1.2, "type": "mouse.move", "x": 960, "y": 900},
        {"t": i + 1.4, "type": "mouse.down", "x": 960, "y": 1000, "button": "left"},
        {"t": i + 1.5, "type": "key.down", "key": "a"},
    ]


def fill(path: Path, decisions: list[str | None] = DECISIONS, gap_s: float = 600.0, start: float = START) -> list[str]:
    """One 1920x1080 session; suggestion i shown at start + i * gap_s with a frame, latency 10 + i ms."""
    frame = np.zeros((1080, 1920, 3), dtype=np.uint8)
    ids = []
    with Store.open(path) as store:
        sid = store.begin_session(SessionRecord(start, 1920, 1080, "m", "v1"))
        for i, decision in enumerate(decisions):
            t = i * gap_s
            record = SuggestionRecord(sid, t, "pointer", ghost_events(i), 0.5 + i / 100, (1000 + 100 * i, 500),
                                      latency_ms=10.0 + i, frame=frame)  # fmt: skip
            ids.append(store.log_suggestion(record))
            if decision is not None:
                store.log_decision(DecisionRecord(ids[-1], t + 3, decision, 1, correction(i), 12.5))
        store.log_events(sid, [{"t": 1.0, "type": "mouse.move", "x": 1, "y": 2}])
        assert store.flush(30)
    return ids


@pytest.fixture
def log(tmp_path: Path) -> tuple[Path, list[str]]:
    path = tmp_path / "ghostpilot.db"
    return path, fill(path)


def test_entries_are_newest_first_with_paths_in_thumbnail_pixels(log: tuple[Path, list[str]]) -> None:
    path, ids = log
    entries = ReviewLog(path).entries()
    assert [e.id for e in entries] == ids[::-1]
    first = entries[-1]  # suggestion 0: ghost to (1000, 500), user pressed at (960, 1000)
    assert first.thumbnail is not None and png_size(first.thumbnail) == first.canvas == (320, 180)
    scale = 320 / 1920
    assert first.ghost_path[0] == pytest.approx((100 * scale, 100 * scale))
    assert first.ghost_click == pytest.approx((1000 * scale, 500 * scale))
    assert first.user_path == [pytest.approx((960 * scale, 900 * scale)), pytest.approx((960 * scale, 1000 * scale))]
    assert first.user_press == pytest.approx((960 * scale, 1000 * scale))
    assert first.user_keys == "a" and first.decision == "accepted" and first.endpoint_error_px == 12.5
    assert first.shown_at == START and first.latency_ms == 10.0 and first.confidence == pytest.approx(0.5)
    assert entries[0].decision is None and entries[0].user_path == [] and entries[0].user_press is None


@pytest.mark.parametrize(
    ("show", "expected"),
    [("all", [0, 1, 2, 3, 4, 5]), ("accepted", [0, 4]), ("rejected", [1, 2]), ("partial", [3])],
)
def test_filters(log: tuple[Path, list[str]], show: str, expected: list[int]) -> None:
    path, ids = log
    assert sorted(ids.index(e.id) for e in ReviewLog(path).entries(show)) == expected


def test_limit_and_unknown_filter(log: tuple[Path, list[str]]) -> None:
    path, ids = log
    assert [e.id for e in ReviewLog(path).entries(limit=2)] == [ids[5], ids[4]]
    with pytest.raises(ValueError, match="filter"):
        ReviewLog(path).entries("maybe")


def test_entry_without_frame_gets_a_canvas_of_the_screens_aspect(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    with Store.open(path) as store:
        sid = store.begin_session(SessionRecord(START, 1000, 500))
        store.log_suggestion(SuggestionRecord(sid, 1.0, "keys", [{"t": 1.0, "type": "key.down", "key": "Return"}], 0.9))
        assert store.flush(30)
    (entry,) = ReviewLog(path).entries()
    assert entry.thumbnail is None and entry.canvas == (320, 160) and entry.ghost_keys == "<Return>"


def test_series_buckets_acceptance_and_latency(log: tuple[Path, list[str]]) -> None:
    path, _ = log
    points = ReviewLog(path).series(buckets=6)  # 50 minutes, one every 10: 15-minute buckets (the round step >= 500 s)
    assert [p.start - points[0].start for p in points] == [0, 900, 1800, 2700]
    assert [p.suggestions for p in points] == [2, 1, 2, 1] and [p.decided for p in points] == [2, 1, 2, 0]
    assert [p.acceptance_rate for p in points] == [0.5, 0.0, 1.0, None]  # accepted+dismissed, ignored, ...
    assert [p.latency_ms for p in points] == [10.5, 12.0, 13.5, 15.0]
    assert sum(p.suggestions for p in ReviewLog(path).series(since=START + 1500)) == 3


def test_series_keeps_empty_buckets_and_handles_no_rows() -> None:
    points = series([(0.0, "accepted", 5.0), (3600.0 * 3, "dismissed", None)], buckets=12)
    assert len(points) == 13 and points[1].suggestions == 0 and points[1].acceptance_rate is None
    assert points[0].acceptance_rate == 1.0 and points[-1].acceptance_rate == 0.0 and points[-1].latency_ms is None
    assert series([]) == []


def _blob_count(path: Path, needle: bytes) -> int:
    return path.read_bytes().count(needle) + (path.with_name(path.name + "-wal").read_bytes().count(needle)
                                              if path.with_name(path.name + "-wal").exists() else 0)  # fmt: skip


def test_delete_entry_removes_suggestion_decision_and_frame_from_the_file(log: tuple[Path, list[str]]) -> None:
    path, ids = log
    deleted = ReviewLog(path).delete_entry(ids[0])
    assert (deleted.suggestions, deleted.decisions) == (1, 1)
    assert ids[0] not in {row["id"] for row in read_suggestions(path)}
    assert count_rows(path)["suggestions"] == 5 and count_rows(path)["decisions"] == 4
    assert count_rows(path)["events"] == 1  # the input log stays
    assert _blob_count(path, ids[0].encode()) == 0  # compacted: no copy left in free pages or the WAL
    assert ReviewLog(path).delete_entry("no-such-id").suggestions == 0


def test_delete_last_minutes_on_its_own_connection(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    ids = fill(path, ["accepted", "dismissed", "accepted"], gap_s=600, start=START)
    now = START + 1200 + 30  # the last suggestion was 30 s ago, the one before 10.5 minutes ago
    deleted = ReviewLog(path).delete_last(5, now=now)
    assert deleted.suggestions == 1 and deleted.decisions == 1
    assert [e.id for e in ReviewLog(path).entries()] == [ids[1], ids[0]]
    with pytest.raises(GhostpilotError, match="minutes"):
        ReviewLog(path).delete_last(0)


def test_deletes_run_on_a_running_stores_writer(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    ids = fill(path, ["accepted", "ignored", "partial"], gap_s=600, start=START)
    with Store.open(path) as store:
        running = store.begin_session(SessionRecord(START + 1500, 1920, 1080))  # still running: no end time
        store.log_events(running, [{"t": 0.5, "type": "mouse.move", "x": 5, "y": 5}])
        review = ReviewLog(tmp_path / "ignored-when-a-store-is-given.db", store=store)
        assert review.path == path
        assert review.delete_entry(ids[1]).suggestions == 1
        deleted = review.delete_last(10, now=START + 1200 + 60)
        assert deleted.suggestions == 1 and deleted.events == 1
        store.log_events(running, [{"t": 1.0, "type": "mouse.move", "x": 6, "y": 6}])  # its session row is kept
        assert store.flush(30) and store.status().dropped_rows == 0
    assert [e.id for e in ReviewLog(path).entries()] == [ids[0]]
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM sessions WHERE id = ?", (running,)).fetchone()[0] == 1
    conn.close()
