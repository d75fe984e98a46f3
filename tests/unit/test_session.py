"""The live session feeds the model exactly what training fed it, with bounded state, on a real ONNX model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inference import load_predictor
from inference.actions import TICK_HZ
from inference.dataset import load_episode_data
from inference.episodes import read_episode
from inference.windows import window_inputs
from tests.conftest import scripted_episode


def _with_idle_gap(folder: Path, at: float, gap: float) -> None:
    """Shift every event after `at` by `gap` seconds: the user paused."""
    lines = (folder / "events.jsonl").read_text().splitlines()
    shifted = []
    for line in lines:
        event = json.loads(line)
        event["t"] = event["t"] + gap if event["t"] > at else event["t"]
        shifted.append(json.dumps(event))
    (folder / "events.jsonl").write_text("\n".join(shifted) + "\n")


@pytest.mark.parametrize(("segment", "end"), [(0, 5), (0, 40), (0, 200), (1, 3), (1, 70), (1, 150)])
def test_session_inputs_equal_training_windows(tmp_path: Path, tiny_onnx: Path, segment: int, end: int) -> None:
    folder = scripted_episode(tmp_path / "ep", seconds=20)
    _with_idle_gap(folder, at=9.0, gap=5.0)
    data = load_episode_data(folder)
    assert len(data.segments) == 2
    seg = data.segments[segment]
    predictor = load_predictor(tiny_onnx, device="cpu")
    context = predictor.config["context_ticks"]
    expected = window_inputs(data, seg, end, context)

    episode = read_episode(folder)
    session = predictor.new_session(640, 360)
    cut = seg.t0 + (end + 1) / TICK_HZ - 1e-6
    frames = iter(episode.frame_times_ms)
    pending = next(frames, None)
    for event in episode.events:
        if event["t"] > cut:
            break
        while pending is not None and pending / 1000 <= event["t"]:
            session.observe_frame(pending / 1000, episode.load_frame(pending))
            pending = next(frames, None)
        session.observe_event(event)
    inputs, _, _ = session.model_inputs(cut)
    for name, value in expected.items():
        np.testing.assert_allclose(inputs[name][0], value, rtol=1e-5, atol=1e-5, err_msg=name)


def test_state_stays_bounded_and_long_gaps_are_cheap(tiny_onnx: Path) -> None:
    predictor = load_predictor(tiny_onnx, device="cpu")
    session = predictor.new_session(1920, 1080)
    for i in range(5000):
        session.observe_event({"t": i * 0.01, "type": "mouse.move", "x": i % 1900, "y": 500})
        if i % 7 == 0:
            session.observe_event({"t": i * 0.01, "type": "mouse.down", "x": i % 1900, "y": 500, "button": "left"})
            session.observe_event({"t": i * 0.01, "type": "key.down", "key": "a"})
    session.observe_event({"t": 10 * 3600.0, "type": "mouse.move", "x": 5, "y": 5})  # ten hours later
    assert len(session.rows) <= predictor.config["context_ticks"]
    assert len(session.clicks) <= session.clicks.maxlen and len(session.keys) <= session.keys.maxlen
    suggestions = session.suggest(10 * 3600.0 + 0.01, min_confidence=0.0)
    pointer = [s for s in suggestions if s.kind == "pointer"]
    assert pointer and pointer[0].click is not None
    assert all(0.0 <= s.confidence <= 1.0 for s in suggestions)
    assert all(e["t"] >= 10 * 3600.0 for s in suggestions for e in s.events), "future events, absolute time"


def test_a_new_session_suggests_nothing_before_it_sees_the_pointer(tiny_onnx: Path) -> None:
    session = load_predictor(tiny_onnx, device="cpu").new_session(800, 600)
    assert session.suggest(1.0, min_confidence=0.0) == []
