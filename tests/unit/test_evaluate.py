"""The evaluator and baselines on hand-made episodes whose scores can be worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inference.baselines import ConstantVelocityPredictor, StayPredictor
from inference.episodes import EpisodeMeta, Event, validate_event, write_episode
from inference.evaluate import (
    Movement,
    evaluate,
    evaluate_many,
    find_movements,
    keystrokes_used,
)
from inference.predictor import DEFAULT_MIN_CONFIDENCE, Suggestion
from inference.report import format_report, report_to_json

META = EpisodeMeta(screen_width=1920, screen_height=1080, extra={"user": "42"})


def move(t: float, x: float, y: float = 500.0, **extra: str) -> Event:
    return {"t": t, "type": "mouse.move", "x": x, "y": y, **extra}


def press(t: float, x: float, y: float = 500.0, button: str = "left", **extra: str) -> Event:
    return {"t": t, "type": "mouse.down", "x": x, "y": y, "button": button, **extra}


def key(t: float, name: str, **extra: str) -> Event:
    return {"t": t, "type": "key.down", "key": name, **extra}


def test_movement_segmentation() -> None:
    events = [
        move(0.0, 0),
        move(1.0, 10),  # onset: 1 s rest before it
        move(1.1, 20),
        press(1.2, 20),
        {"t": 1.3, "type": "mouse.up", "x": 20, "y": 500, "button": "left"},
        press(1.4, 20),  # second click of a double click: same onset, still no new rest
        move(2.0, 20),  # onset after a rest, but the pointer did not move
        press(2.0, 20),  # zero duration and no motion: skipped
        move(3.0, 30),
        move(3.1, 40),
        press(3.2, 40, button="right"),  # not a left press
        press(3.3, 40, source="ghostpilot"),  # Ghostpilot's own click is not a user action
        move(3.4, 50),
        press(3.5, 55),
    ]
    movements, skipped = find_movements(events)
    assert movements == [
        Movement(1.0, 1.2, 20, 500),
        Movement(1.0, 1.4, 20, 500),
        Movement(3.0, 3.5, 55, 500),
    ]
    assert skipped == 1


def test_keystrokes_used() -> None:
    keys = list("hello")
    assert keystrokes_used(keys, [()] * 5) == 5
    assert keystrokes_used(keys, [("x",), ("e", "l", "l"), (), (), ()]) == 3  # type h, Tab(ell), type o
    assert keystrokes_used(keys, [("e",), ("l", "l", "o"), (), (), ()]) == 5  # each guess is one key off
    assert keystrokes_used(keys, [("h", "e", "l", "l", "o", "!")] * 5) == 5  # longer than what is left: never
    assert keystrokes_used(keys, [("h", "e", "l", "l", "o")] + [()] * 4) == 1


def straight_line(tmp_path: Path) -> Path:
    """Rest at x=100 until t=1, then 1024 px/s to the right in 1/64 s steps; left press at t=2, x=1124."""
    events = [move(0.0, 100)] + [move(1 + k / 64, 100 + 16 * k) for k in range(65)] + [press(2.0, 1124)]
    return write_episode(tmp_path / "line", META, events)


def test_stay_and_constant_velocity_on_a_straight_line(tmp_path: Path) -> None:
    reports = evaluate_many(
        {"stay": StayPredictor(), "cv": ConstantVelocityPredictor()}, [straight_line(tmp_path)], fractions=(0.5,)
    )
    stay, cv = reports["stay"].overall.pointer[0], reports["cv"].overall.pointer[0]
    # at the cut t=1.5 the last sample seen is k=32, x=612; the press is at 1124
    assert stay.n == 1 and stay.mean == pytest.approx(512.0) and stay.within_30 == 0.0
    # velocity: (612 - 548) / 0.05 = 1280 px/s (548 is at t=1.4375, the last sample at or before 1.45);
    # horizon 0.5 s since onset: 612 + 640 = 1252, error 128
    assert cv.mean == pytest.approx(128.0) and cv.mean < stay.mean
    assert stay.fallbacks == 0 and reports["stay"].overall.movements == 1
    assert reports["cv"].by_user["42"].pointer[0] == cv
    # speed 1280 px/s: confidence exp(-1280/300) is below the default threshold, nothing is shown
    assert stay.shown_rate == 0.0


def test_a_fast_predictor_never_sees_the_future(tmp_path: Path) -> None:
    """At 90 % of the line the stay error is exactly the distance still to go, so no later sample leaked in."""
    report = evaluate(StayPredictor(), [straight_line(tmp_path)], fractions=(0.25, 0.9))
    quarter, late = report.overall.pointer
    assert quarter.median == pytest.approx(1124 - 356)  # t=1.25: k=16, x=356
    assert late.median == pytest.approx(1124 - 1012)  # t=1.9: k=57 (t=1.890625), x=1012


class _FixedKeys:
    """A test predictor that always suggests typing the same string, with a fixed confidence."""

    name = "fixed"

    def __init__(self, text: str, confidence: float = 0.9) -> None:
        self.text, self.confidence = text, confidence

    def new_session(self, screen_width: int, screen_height: int, goal: str | None = None) -> _FixedKeys:
        return self

    def observe_event(self, event: Event) -> None:
        pass

    def observe_frame(self, t: float, frame: np.ndarray) -> None:
        pass

    def suggest(self, t: float, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> list[Suggestion]:
        if self.confidence < min_confidence:
            return []
        events = [{"t": t + 0.1 * (i + 1), "type": "key.down", "key": k} for i, k in enumerate(self.text)]
        return [Suggestion("keys", events, self.confidence)]


def test_next_key_accuracy_and_ksr(tmp_path: Path) -> None:
    events = [key(1.0 + 0.2 * i, k) for i, k in enumerate("hello")]
    events.insert(2, key(1.25, "x", source="ghostpilot"))  # not typed by the user: not counted
    path = write_episode(tmp_path / "typing", META, events)
    typing = evaluate(_FixedKeys("ello"), [path]).overall.typing
    assert typing.n_keys == 5
    assert typing.top1 == pytest.approx(1 / 5)  # only the "e" is predicted right
    assert typing.ksr == pytest.approx(1 - 2 / 5)  # type "h", then Tab accepts "ello"
    assert typing.ksr_shown == pytest.approx(1 - 2 / 5)
    assert typing.shown_rate == 1.0 and typing.shown_right == pytest.approx(1 / 5)
    shy = evaluate(_FixedKeys("ello", confidence=0.1), [path]).overall.typing
    assert shy.ksr == pytest.approx(1 - 2 / 5) and shy.ksr_shown == 0.0 and shy.shown_rate == 0.0


class _Recorder:
    """A test predictor that logs what it is fed, to check the replay order."""

    name = "recorder"

    def __init__(self) -> None:
        self.log: list[tuple[str, float]] = []

    def new_session(self, screen_width: int, screen_height: int, goal: str | None = None) -> _Recorder:
        return self

    def observe_event(self, event: Event) -> None:
        self.log.append(("event", event["t"]))

    def observe_frame(self, t: float, frame: np.ndarray) -> None:
        assert frame.shape == (4, 6, 3)
        self.log.append(("frame", t))

    def suggest(self, t: float, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> list[Suggestion]:
        self.log.append(("suggest", t))
        return []


def test_replay_interleaves_frames_events_and_queries(tmp_path: Path) -> None:
    frames = [(t_ms, np.zeros((4, 6, 3), np.uint8)) for t_ms in (0, 1100, 1500, 3000)]
    path = write_episode(tmp_path / "f", META, [move(0.0, 0), move(1.0, 10), press(2.0, 10)], frames)
    recorder = _Recorder()
    report = evaluate(recorder, [path], fractions=(0.5,))
    assert report.overall.pointer[0].fallbacks == 1  # no suggestion: scored at the pointer, x=10
    assert report.overall.pointer[0].mean == 0.0
    assert recorder.log == [
        ("frame", 0.0),
        ("event", 0.0),
        ("event", 1.0),
        ("frame", 1.1),
        ("frame", 1.5),
        ("suggest", 1.5),
        ("suggest", 1.5),
        ("event", 2.0),
    ]


def test_baseline_suggestions_are_valid_ghosts(tmp_path: Path) -> None:
    session = ConstantVelocityPredictor().new_session(1920, 1080)
    assert session.suggest(0.0, 0.0) == []  # has not seen the pointer
    for k in range(10):
        session.observe_event(move(1 + k / 64, 1800 + 16 * k))
    [ghost] = session.suggest(1.15, min_confidence=0.0)
    assert ghost.kind == "pointer" and ghost.keys == [] and 0.0 <= ghost.confidence <= 1.0
    assert ghost.click == (1919.0, 500.0)  # clipped to the screen
    for event in ghost.events:
        validate_event(event)
    assert [e["type"] for e in ghost.events[-3:]] == ["mouse.move", "mouse.down", "mouse.up"]
    assert (ghost.events[-2]["x"], ghost.events[-2]["y"]) == ghost.click
    assert ghost.events[0]["t"] >= 1.15
    with pytest.raises(ValueError):
        ConstantVelocityPredictor(fixed_horizon=-1)


def test_report_formats(tmp_path: Path) -> None:
    reports = evaluate_many({"stay": StayPredictor(), "cv": ConstantVelocityPredictor()}, [straight_line(tmp_path)])
    text = format_report(reports)
    assert "stay" in text and "constant_velocity" not in text and "cv" in text and "User 42" in text
    data = report_to_json(reports)
    json.dumps(data, allow_nan=False)  # NaN (no keys typed) became null
    assert data["stay"]["overall"]["typing"]["top1"] is None
    assert data["cv"]["overall"]["pointer"][1]["fraction"] == 0.5
