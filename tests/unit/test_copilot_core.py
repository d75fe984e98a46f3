"""The copilot loop without a display: the real shipped model, scripted input, commands, decisions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from app.bench import scripted_stream
from app.copilot import Copilot, CopilotParts, ghost_rects
from app.ghost import GhostView
from inference import load_predictor


@dataclass
class Result:
    performed: int
    total: int
    aborted: str | None = None


class RecordingExecutor:
    """Stands in for the X11 executor (tested on a real X server in tests/e2e): remembers what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[dict], Any]] = []

    def perform(self, events: list[dict], expected_window_id: Any) -> Result:
        self.calls.append((events, expected_window_id))
        return Result(len(events), len(events))


class ListLogbook:
    def __init__(self) -> None:
        self.logged: list[dict] = []
        self.suggestions: list[Any] = []
        self.decisions: list[Any] = []

    def events(self, events: list[dict]) -> None:
        self.logged += events

    def suggestion(self, ghost: Any, latency_ms: float, frame: Any, window: Any) -> None:
        self.suggestions.append((ghost, latency_ms))

    def decision(self, decision: Any) -> None:
        self.decisions.append(decision)


@pytest.fixture(scope="module")
def predictor() -> Any:
    return load_predictor(device="cpu")


def run_until_ghost(copilot: Copilot, events: list[dict]) -> float:
    for event in events:
        copilot.step([event], event["t"])
        if copilot.tracker.shown is not None:
            return float(event["t"])
    pytest.fail("the shipped model never showed a ghost on 60 s of scripted pointing")


def make(predictor: Any, views: list[GhostView], **parts: Any) -> Copilot:
    session = predictor.new_session(1920, 1080)
    return Copilot(CopilotParts(session=session, on_view=views.append, **parts), min_confidence=0.5)


def test_ghosts_show_and_every_one_ends_in_a_logged_decision(predictor: Any) -> None:
    views: list[GhostView] = []
    book = ListLogbook()
    copilot = make(predictor, views, logbook=book)
    events = scripted_stream(60, seed=3, width=1920, height=1080)
    for event in events:
        copilot.step([event], event["t"])
    copilot.step([], events[-1]["t"] + 10)
    assert any(v.current is not None for v in views)
    assert len(book.logged) == len(events)
    shown_ids = {ghost.id for ghost, _ in book.suggestions}
    assert shown_ids and {d.suggestion_id for d in book.decisions} >= shown_ids - {
        copilot.tracker.shown and copilot.tracker.shown.id
    }
    assert all(latency > 0 for _, latency in book.suggestions)


def test_accept_sends_the_ghost_to_the_executor_and_returns_to_watching(predictor: Any) -> None:
    views: list[GhostView] = []
    executor = RecordingExecutor()
    copilot = make(predictor, views, executor=executor)
    t = run_until_ghost(copilot, scripted_stream(60, seed=3, width=1920, height=1080))
    click, accepted = copilot.tracker.shown.current.click, copilot.tracker.shown.id
    copilot.step(["accept"], t + 0.01)
    assert copilot.status == "performing"
    result = copilot.inbox.get(timeout=5)  # the executor thread reports back through the inbox
    copilot.step([result], t + 0.2)
    assert copilot.status == "watching"
    ((events, _window),) = executor.calls
    if click is not None:
        assert events[-1]["type"] == "mouse.up" and (events[-1]["x"], events[-1]["y"]) == pytest.approx(click, abs=0.1)
    shown = copilot.tracker.shown  # the accepted ghost is gone (the model may already offer a next one)
    assert shown is None or shown.id != accepted


def test_dismiss_and_pause(predictor: Any) -> None:
    views: list[GhostView] = []
    copilot = make(predictor, views)
    events = scripted_stream(60, seed=3, width=1920, height=1080)
    t = run_until_ghost(copilot, events)
    copilot.step(["dismiss"], t + 0.01)
    assert copilot.tracker.shown is None and views[-1].current is None
    copilot.step(["pause"], t + 0.02)
    runs = copilot.stats.model_runs
    later = [dict(e, t=e["t"] + t) for e in events[:200]]
    for event in later:
        copilot.step([event], event["t"])
    assert copilot.stats.model_runs == runs and views[-1].status == "paused"
    copilot.step(["pause"], later[-1]["t"] + 0.1)
    assert copilot.status == "watching"


def test_ghost_rects_cover_path_ring_and_keys() -> None:
    from app.ghost import GhostPath

    view = GhostView((GhostPath(((100, 100, 0.0), (300, 200, 0.2)), (300, 200), "left", "", 0.9),), pointer=(100, 100))
    ((x, y, w, h),) = ghost_rects(view)
    assert x < 100 and y < 100 and x + w > 300 and y + h > 200
    keys = GhostView((GhostPath(keys="hello", confidence=0.8),), pointer=(50, 60))
    ((x, y, w, h),) = ghost_rects(keys)
    assert x <= 50 <= x + w and w > 5 * 10


class StepCapture:
    """A capture whose newest frame is stamped with the loop's time (the real mss capture runs in tests/e2e)."""

    def __init__(self, frame: Any) -> None:
        self.frame, self.t = frame, 0.0

    def latest(self) -> Any:
        from app.capture import CapturedFrame

        return CapturedFrame(self.t, self.frame, (0, 0))

    def set_mask(self, rects: list) -> None:
        pass


class FramesLogbook(ListLogbook):
    def __init__(self) -> None:
        super().__init__()
        self.frames: dict[str, list[Any]] = {}

    def context_frames(self, suggestion_id: str, frames: list[Any]) -> None:
        self.frames.setdefault(suggestion_id, []).extend(frames)


def test_each_logged_ghost_gets_the_frames_it_was_made_from_and_the_ones_after(predictor: Any) -> None:
    import numpy as np

    from app.context_frames import AFTER_S

    capture = StepCapture(np.full((1080, 1920, 3), 90, np.uint8))
    book = FramesLogbook()
    copilot = make(predictor, [], logbook=book, capture=capture)
    events = scripted_stream(30, seed=3, width=1920, height=1080)
    for event in events:
        capture.t = event["t"]
        copilot.step([event], event["t"])
    for tick in range(40):  # the user rests: the loop keeps ticking
        capture.t = events[-1]["t"] + 0.1 * (tick + 1)
        copilot.step([], capture.t)
    shown = [ghost for ghost, _ in book.suggestions]
    assert shown and set(book.frames) <= {ghost.id for ghost in shown}
    for ghost in shown[:-1]:
        offsets = [frame.offset_s for frame in book.frames.get(ghost.id, [])]
        before = [o for o in offsets if o <= 0]
        assert before and all(-2.0 <= o <= 0 for o in before), offsets  # the model's own inputs
    last = [frame.offset_s for frame in book.frames[shown[-1].id]]
    assert len([o for o in last if o > 0]) == len(AFTER_S), last  # the user's next seconds, at each offset
