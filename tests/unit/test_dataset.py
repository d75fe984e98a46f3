"""Training targets: where each tick's movement ends, and what the model must say there."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.actions import TICK_HZ, tick_of
from inference.dataset import load_episode_data
from inference.episodes import EpisodeMeta, read_episode, write_episode
from inference.windows import window_targets


def _episode(tmp_path: Path) -> Path:
    """Rest, move right for 0.5 s and click at (400, 300); rest 1 s; move down and stop without a click."""
    events = [{"t": 0.0, "type": "mouse.move", "x": 100, "y": 300}]
    events += [{"t": 0.5 + i / 60, "type": "mouse.move", "x": 100 + 10 * i, "y": 300} for i in range(1, 31)]
    events += [
        {"t": 1.05, "type": "mouse.down", "x": 400, "y": 300, "button": "left"},
        {"t": 1.12, "type": "mouse.up", "x": 400, "y": 300, "button": "left"},
    ]
    events += [{"t": 2.2 + i / 60, "type": "mouse.move", "x": 400, "y": 300 + 5 * i} for i in range(1, 31)]
    events.append({"t": 3.5, "type": "key.down", "key": "q"})
    return write_episode(tmp_path / "ep", EpisodeMeta(800, 600), events)


def test_targets_are_the_end_of_the_current_movement(tmp_path: Path) -> None:
    data = load_episode_data(_episode(tmp_path))
    seg = data.segments[0]
    targets = window_targets(data, seg, end=len(seg.ids) - 1, context=len(seg.ids), click_horizon=90, key_horizon=60)
    assert seg.true_xy is not None
    pos = seg.true_xy  # offsets are measured from the real pointer, where the session places them
    end = pos + targets["click_offset"] * 800
    moving_right = int(0.75 * TICK_HZ)  # mid-way through the first movement
    assert np.allclose(end[moving_right], (400, 300), atol=1.0), "ends at the press"
    assert targets["click_soon"][moving_right] == 1.0 and targets["click_button"][moving_right] == 0
    resting = int(1.6 * TICK_HZ)
    assert np.allclose(targets["click_offset"][resting], 0.0, atol=1e-3), "at rest the movement ends here"
    assert targets["click_soon"][resting] == 0.0
    moving_down = int(2.5 * TICK_HZ)
    assert np.allclose(end[moving_down], (400, 450), atol=2.0), "ends where the pointer stops, no press"
    assert targets["click_soon"][moving_down] == 0.0
    assert 0 < targets["click_ticks"][moving_right] <= 0.35 * TICK_HZ
    key_tick = int(3.0 * TICK_HZ)
    assert targets["key_class"][key_tick] > 0 and targets["key_class"][int(0.5 * TICK_HZ)] == 0, "key within 2 s"


def test_the_real_pointer_is_the_last_positioned_event_before_each_tick_ends(tmp_path: Path) -> None:
    data = load_episode_data(_episode(tmp_path))
    seg = data.segments[0]
    assert seg.true_xy is not None
    events = read_episode(tmp_path / "ep").events
    for tick, expected in ((12, (100, 300)), (22, (100 + 10 * 15, 300)), (48, (400, 300))):
        last = [e for e in events if "x" in e and tick_of(e["t"], seg.t0) <= tick][-1]
        assert tuple(seg.true_xy[tick]) == (last["x"], last["y"]) == expected


def test_endpoint_weights_score_press_ending_movements_once_each(tmp_path: Path) -> None:
    data = load_episode_data(_episode(tmp_path))
    seg = data.segments[0]
    args = (data, seg, len(seg.ids) - 1, len(seg.ids), 90, 60)
    every = window_targets(*args, endpoint_press_only=False, per_movement=False)["endpoint_weight"]
    pressed = window_targets(*args, endpoint_press_only=True, per_movement=False)["endpoint_weight"]
    weighted = window_targets(*args, endpoint_press_only=True, per_movement=True)["endpoint_weight"]
    moving_right, moving_down = int(0.75 * TICK_HZ), int(2.5 * TICK_HZ)
    assert every[moving_right] == every[moving_down] == 1.0
    assert pressed[moving_right] == 1.0 and pressed[moving_down] == 0.0, "the rest-ending movement drops out"
    assert np.isclose(weighted.sum(), 1.0), "one movement ends in a press; its ticks share one unit of weight"
    assert np.all((weighted > 0) == (pressed > 0))
