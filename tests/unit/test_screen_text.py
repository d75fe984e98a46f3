"""The background screen-text worker over a real frame sequence with the real OCR and encoder."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest

from app.screen_text import ScreenText, ScreenTextWorker, changed_region, screen_changed, thumbnail
from inference.goals.grounding import normalise, parse_goal
from inference.goals.ocr import OcrModel, TextBox
from inference.goals.ocr_decode import Box
from inference.goals.text_encoder import TextEncoder
from inference.synthetic.screens import Renderer, UIState, make_screen


class CountingReader:
    """The real OcrModel, counting calls (a wrapper, not a mock: it reads every frame for real)."""

    def __init__(self) -> None:
        self.model = OcrModel()
        self.calls = 0
        self.partial = 0

    def read(self, frame: np.ndarray, previous: Sequence[TextBox] = (), changed: Box | None = None) -> list[TextBox]:
        self.calls += 1
        self.partial += changed is not None
        return self.model.read(frame, previous, changed)


def _wait_for(snapshots: list[ScreenText], count: int, done: threading.Event) -> None:
    assert done.wait(60), f"no snapshot {count}"
    done.clear()
    assert len(snapshots) == count


def test_ocr_runs_only_when_the_screen_changes_or_a_goal_is_set() -> None:
    screen = make_screen(np.random.default_rng(3), 1280, 720)
    renderer = Renderer(screen)
    field = screen.of_kind("field")[0]
    still = renderer.render(UIState())
    typed = renderer.render(UIState(texts={field.id: "hello"}))
    reader, snapshots, done = CountingReader(), [], threading.Event()

    def publish(snapshot: ScreenText) -> None:
        snapshots.append(snapshot)
        done.set()

    worker = ScreenTextWorker(reader, TextEncoder(), on_update=publish, min_interval_s=0.0).start()
    try:
        worker.offer_frame(0.0, still)
        _wait_for(snapshots, 1, done)
        for t in (0.1, 0.2, 0.3):  # the same screen again: looked at, not read
            worker.offer_frame(t, still.copy())
        worker.offer_frame(0.4, typed)
        _wait_for(snapshots, 2, done)
        assert reader.calls == 2 and worker.ocr_runs == 2
        assert reader.partial == 1  # only the typed-into field's part of the screen was detected again
        assert snapshots[1].frame_time == 0.4
        assert "hello" in [b.text for b in snapshots[1].boxes]
        worker.set_goal(f"Type 'x' into the {field.label} field.")
        _wait_for(snapshots, 3, done)  # a goal re-reads the current screen at once
        assert reader.calls == 3
    finally:
        worker.stop()
    last = snapshots[-1]
    assert last.goal is not None and normalise(last.goal.target) == normalise(field.label)
    assert last.goal_embedding is not None and last.goal_embedding.shape == (384,)
    assert last.embeddings.shape == (len(last.boxes), 384) and not last.embeddings.flags.writeable
    best = last.ranked()[0][0]  # the field's label, e.g. "Email:" for "... into the Email field."
    assert normalise(best.text) == normalise(field.label)
    assert snapshots[0].ranked() == []  # no goal yet
    assert not worker._thread or not worker._thread.is_alive()


def test_the_live_worker_reads_only_while_a_goal_is_set_and_within_its_cpu_share() -> None:
    screen = make_screen(np.random.default_rng(4), 1280, 720)
    renderer = Renderer(screen)
    field = screen.of_kind("field")[0]
    frames = [renderer.render(UIState(texts={field.id: "x" * n})) for n in range(4)]  # a changing screen
    reader, snapshots, done = CountingReader(), [], threading.Event()

    def publish(snapshot: ScreenText) -> None:
        snapshots.append(snapshot)
        done.set()

    worker = ScreenTextWorker(reader, TextEncoder(), publish, min_interval_s=0.0, only_with_goal=True, duty=0.05)
    worker.start()
    try:
        for t, frame in enumerate(frames[:2]):  # no goal: the screen changes, nothing is read
            worker.offer_frame(float(t), frame)
            threading.Event().wait(0.3)
        assert reader.calls == 0 and snapshots == []
        worker.set_goal(f"Type 'x' into the {field.label} field.")
        _wait_for(snapshots, 1, done)  # at once, from the newest frame kept meanwhile
        assert reader.calls == 1 and snapshots[0].frame_time == 1.0 and snapshots[0].boxes
        worker.offer_frame(2.0, frames[2])  # a change right after a read waits for the duty cycle:
        threading.Event().wait(0.5)  # a read of ~0.3-1 s at 5 % of a core leaves 6-20 s before the next
        assert reader.calls == 1
        worker.set_goal(None)  # clearing the goal takes the screen's text along
        _wait_for(snapshots, 2, done)
        assert snapshots[1].boxes == () and snapshots[1].goal is None and reader.calls == 1
    finally:
        worker.stop()


def test_a_failing_reader_becomes_a_status_line() -> None:
    class Broken:
        def read(
            self, frame: np.ndarray, previous: Sequence[TextBox] = (), changed: Box | None = None
        ) -> list[TextBox]:
            raise RuntimeError("model exploded\nsecond line")

    class NoEmbed:
        def embed(self, texts: list[str]) -> np.ndarray:
            return np.zeros((len(texts), 384), np.float32)

    worker = ScreenTextWorker(Broken(), NoEmbed(), min_interval_s=0.0).start()
    worker.offer_frame(0.0, np.zeros((64, 64, 3), np.uint8))
    for _ in range(200):
        if "failed" in worker.status:
            break
        threading.Event().wait(0.01)
    worker.stop()
    assert worker.status == "screen text failed: RuntimeError: model exploded"
    assert worker.latest is None


@pytest.mark.parametrize("delta", [0, 5])
def test_change_check_ignores_identical_and_tiny_changes(delta: int) -> None:
    frame = np.full((100, 100, 3), 128, np.uint8)
    other = frame.copy()
    other[::4, ::4] += np.uint8(delta)
    assert not screen_changed(thumbnail(frame), thumbnail(other))
    other[40:60, 40:60] = 0
    assert screen_changed(thumbnail(frame), thumbnail(other))
    assert screen_changed(thumbnail(frame), thumbnail(frame[:50]))
    assert changed_region(thumbnail(frame), thumbnail(frame)) is None
    x0, y0, x1, y1 = changed_region(thumbnail(frame), thumbnail(other)) or (0, 0, 0, 0)
    assert x0 <= 40 and y0 <= 40 and x1 >= 60 and y1 >= 60 and x1 - x0 <= 32


def test_ranked_follows_the_goals_steps() -> None:
    encoder = TextEncoder()
    boxes = (TextBox("File", (10, 5, 40, 20), 0.99), TextBox("Export", (12, 60, 60, 75), 0.98))
    goal = parse_goal("Open the File menu and choose Export.")
    vectors = encoder.embed([b.text for b in boxes] + [goal.target, goal.text, *goal.steps])
    snapshot = ScreenText(0.0, boxes, vectors[:2], goal, vectors[2], vectors[3], 1.0, vectors[4:])
    assert snapshot.ranked()[0][0].text == "File"
    assert snapshot.ranked(step=1)[0][0].text == "Export"
    assert snapshot.ranked(step=2) == []
