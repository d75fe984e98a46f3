"""The frames around each ghost: which frames the loop picks, how the store keeps them (real SQLite), what
forgetting removes, and how an export turns them back into screen frames that train like real ones."""

from __future__ import annotations

import io
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from app.context_frames import AFTER_S, MAX_PENDING, ContextFrameCollector, NearbyFrame
from app.export import ExportOptions, export_episodes, export_jsonl
from app.retention import delete_window
from app.review import delete_suggestions
from app.store import (
    ContextFrame,
    ContextFramesRecord,
    SessionRecord,
    Store,
    SuggestionRecord,
    count_rows,
    iter_context_frames,
)
from app.store_queue import QueuedItem, WriteQueue
from inference.episodes import read_episode
from inference.features import CROP, GLOBAL_H, GLOBAL_W, prepare_frame
from inference.synthetic.screens import Renderer, UIState, make_screen

WIDTH, HEIGHT = 800, 450


@dataclass
class Frame:
    t: float
    rgb: np.ndarray


def screens(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    return [Renderer(make_screen(rng, WIDTH, HEIGHT)).render(UIState()) for _ in range(count)]


class Collected:
    def __init__(self) -> None:
        self.frames: dict[str, list[NearbyFrame]] = {}

    def __call__(self, suggestion_id: str, frames: list[NearbyFrame]) -> None:
        self.frames.setdefault(suggestion_id, []).extend(frames)


def test_before_frames_are_the_ones_fed_and_after_frames_come_at_their_offsets() -> None:
    sink, frame = Collected(), screens(1)[0]
    collector = ContextFrameCollector(sink, denied_at=lambda _t: False)
    for t in (0.0, 0.1, 0.2, 0.3):  # the model keeps the last FRAME_SLOTS (2)
        collector.fed(t, frame, (100.0 + t, 50.0))
    collector.shown("g1", 0.35)
    assert [round(f.offset_s, 2) for f in sink.frames["g1"]] == [-0.15, -0.05]
    assert sink.frames["g1"][-1].pointer == (100.3, 50.0)
    for t in np.arange(0.4, 3.0, 0.1):  # the loop ticks with the newest captured frame
        collector.tick(Frame(float(t), frame), (300.0, 200.0))
    after = [f.offset_s for f in sink.frames["g1"][2:]]
    assert len(after) == len(AFTER_S)
    assert all(0 <= got - want < 0.1 + 1e-9 for got, want in zip(after, AFTER_S, strict=True)), after
    collector.tick(Frame(5.0, frame), (0.0, 0.0))
    assert len(sink.frames["g1"]) == 2 + len(AFTER_S)  # nothing more once every offset was reached


def test_private_stale_and_repeated_frames_are_never_logged() -> None:
    sink, frame = Collected(), screens(1)[0]
    private = {0.2, 1.0}
    collector = ContextFrameCollector(sink, denied_at=lambda t: round(t, 2) in private)
    collector.fed(-5.0, frame, (1.0, 1.0))  # too old to be "before"
    collector.fed(0.2, frame, (1.0, 1.0))  # fed, then found to be private (the guard's lookback)
    collector.shown("g1", 0.5)
    assert "g1" not in sink.frames
    collector.tick(Frame(1.0, frame), (1.0, 1.0))  # +0.5: captured while a password prompt had the focus
    collector.tick(Frame(1.6, frame), (1.0, 1.0))  # +1.1: logged for offset 1.0
    collector.tick(Frame(1.6, frame), (1.0, 1.0))  # the capture did not advance: not logged twice
    assert [round(f.offset_s, 2) for f in sink.frames["g1"]] == [1.1]
    collector.forget()  # pause: the remaining offsets are dropped
    collector.tick(Frame(3.0, frame), (1.0, 1.0))
    assert len(sink.frames["g1"]) == 1


def test_only_the_newest_ghosts_wait_for_frames() -> None:
    sink, frame = Collected(), screens(1)[0]
    collector = ContextFrameCollector(sink, denied_at=lambda _t: False)
    for index in range(MAX_PENDING + 3):
        collector.shown(f"g{index}", 0.0)
    collector.tick(Frame(0.6, frame), (1.0, 1.0))
    assert sorted(sink.frames) == sorted(f"g{i}" for i in range(3, MAX_PENDING + 3))


def _session_with_frames(store: Store, started_at: float, frames: list[np.ndarray]) -> tuple[str, list[str]]:
    session_id = store.begin_session(SessionRecord(started_at, WIDTH, HEIGHT))
    ids = []
    for index, rgb in enumerate(frames):
        t = 1.0 + 2.0 * index
        ghost = [{"t": t, "type": "mouse.move", "x": 400.0, "y": 200.0}]
        sid = store.log_suggestion(SuggestionRecord(session_id, t, "pointer", ghost, 0.8, (400.0, 200.0)))
        nearby = (ContextFrame(-0.2, (120.0, 80.0), rgb), ContextFrame(1.0, (790.0, 5.0), rgb))  # one at the edge
        store.log_context_frames(ContextFramesRecord(sid, nearby))
        ids.append(sid)
    return session_id, ids


def test_the_store_keeps_each_frame_at_the_model_resolution(tmp_path: Path) -> None:
    frames = screens(2)
    db = tmp_path / "log.db"
    with Store.open(db) as store:
        session_id, ids = _session_with_frames(store, time.time(), frames)
        assert store.flush()
    rows = list(iter_context_frames(db, session_id))
    assert [(r["suggestion_id"], r["offset_s"]) for r in rows] == [(i, o) for i in ids for o in (-0.2, 1.0)]
    for row, rgb in zip(rows, [f for f in frames for _ in range(2)], strict=True):
        global_view = np.asarray(Image.open(io.BytesIO(row["global_png"])))
        crop = np.asarray(Image.open(io.BytesIO(row["crop_png"])))
        want_global, want_crop = prepare_frame(rgb, row["pointer_x"], row["pointer_y"])
        assert global_view.shape == (GLOBAL_H, GLOBAL_W, 3) and crop.shape == (CROP, CROP, 3)
        assert (global_view == want_global).all() and (crop == want_crop).all()  # PNG is lossless
        assert (row["screen_width"], row["screen_height"]) == (WIDTH, HEIGHT)
        assert len(row["global_png"]) + len(row["crop_png"]) < 40_000


def test_a_full_queue_sheds_frames_before_any_record() -> None:
    queue = WriteQueue(max_bytes=10_000)
    frame = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    record = ContextFramesRecord("s", (ContextFrame(0.5, (1.0, 1.0), frame),))
    queue.put(QueuedItem("context_frames", record, 1, 500 + frame.nbytes, frame_size=frame.nbytes))
    queue.put(QueuedItem("events", ("x", [{"t": 0.0, "type": "mouse.move", "x": 1, "y": 1}]), 1, 400))
    batch = queue.take(10)
    assert batch is not None and [item.kind for item in batch] == ["context_frames", "events"]
    assert batch[0].payload.frames == ()  # the record stays (one row less to write), the pixels go


def test_forget_and_review_deletion_take_the_frames_with_them(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    now = time.time()
    with Store.open(db) as store:
        _session_with_frames(store, now - 3600, screens(2))  # an hour ago
        _, recent = _session_with_frames(store, now - 60, screens(2))  # a minute ago
        assert store.flush()
    assert count_rows(db)["context_frames"] == 8
    conn = sqlite3.connect(db)
    deleted = delete_window(conn, now - 600, now + 1)  # forget --last 10m
    assert deleted.frames == 4 and count_rows(db)["context_frames"] == 4
    conn.close()
    with Store.open(db) as store:
        _, again = _session_with_frames(store, now - 30, screens(1))
        assert store.flush()
    conn = sqlite3.connect(db)
    assert delete_suggestions(conn, again).frames == 2
    conn.close()
    assert count_rows(db)["context_frames"] == 4 and not set(recent) & {
        r[0] for r in sqlite3.connect(db).execute("SELECT suggestion_id FROM context_frames")
    }


def test_exports_carry_the_frames_and_episodes_rebuild_them(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    frames = screens(2)
    with Store.open(db) as store:
        _session_with_frames(store, time.time() - 100, frames)
        assert store.flush()
    summary = export_jsonl(tmp_path / "log.jsonl", ExportOptions(database=db))
    assert summary.frames == 4
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [[f["offset_s"] for f in r["context_frames"]] for r in records] == [[-0.2, 1.0], [-0.2, 1.0]]
    assert all(f["global_png_base64"] and f["crop_png_base64"] for r in records for f in r["context_frames"])
    export_episodes(tmp_path / "eps", ExportOptions(database=db))
    episode = read_episode(next((tmp_path / "eps").iterdir()))
    assert episode.frame_times_ms == [800, 2000, 2800, 4000]  # t - 0.2 s and t + 1 s for t = 1 s, 3 s
    for t_ms, rgb, pointer in zip(
        episode.frame_times_ms, [frames[0]] * 2 + [frames[1]] * 2, [(120.0, 80.0), (790.0, 5.0)] * 2, strict=True
    ):
        rebuilt = episode.load_frame(t_ms)
        assert rebuilt.shape == (HEIGHT, WIDTH, 3)
        got_global, got_crop = prepare_frame(rebuilt, *pointer)
        want_global, want_crop = prepare_frame(rgb, *pointer)
        assert (got_crop == want_crop).all()  # the model's full-resolution crop comes back exactly
        assert np.abs(got_global.astype(int) - want_global).mean() < 4  # the global view up to resampling


def test_a_frame_before_the_start_of_a_session_is_not_written(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    frame = screens(1)[0]
    with Store.open(db) as store:
        session_id = store.begin_session(SessionRecord(time.time(), WIDTH, HEIGHT))
        sid = store.log_suggestion(SuggestionRecord(session_id, 0.1, "keys", [], 0.6))
        store.log_context_frames(ContextFramesRecord(sid, (ContextFrame(-0.2, (5.0, 5.0), frame),)))
        assert store.flush()
    export_episodes(tmp_path / "eps", ExportOptions(database=db))
    assert read_episode(next((tmp_path / "eps").iterdir())).frame_times_ms == []  # t < 0 has no place in v1
