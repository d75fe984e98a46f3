"""Synthetic episode generator: determinism, validity, aim, Fitts' law, typing, frames and goals."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from inference.episodes import Episode, read_episode
from inference.synthetic.generate import encode_png, generate_episode, generate_episodes
from inference.synthetic.params import MotorParams, load_motor_params
from inference.synthetic.user import ScriptedUser

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def episodes(tmp_path_factory: pytest.TempPathFactory) -> list[Episode]:
    out = tmp_path_factory.mktemp("synthetic")
    done: list[int] = []
    paths = generate_episodes(out, len(SEEDS), seed=SEEDS[0], progress=done.append)
    assert done == [1, 1, 1], "progress(1) after each episode, as tqdm.update expects"
    assert [p.name for p in paths] == [f"synth-{s:06d}" for s in SEEDS]
    return [read_episode(p) for p in paths]


def _inside(x: float, y: float, box: list[int]) -> bool:
    return box[0] <= x < box[2] and box[1] <= y < box[3]


def test_same_seed_same_episode(tmp_path: Path) -> None:
    a = generate_episode(tmp_path / "a", 7)
    b = generate_episode(tmp_path / "b", 7)
    assert (a / "events.jsonl").read_bytes() == (b / "events.jsonl").read_bytes()
    assert (a / "meta.json").read_bytes() == (b / "meta.json").read_bytes()
    frames_a = sorted(p.name for p in (a / "frames").iterdir())
    assert frames_a == sorted(p.name for p in (b / "frames").iterdir())
    assert (a / "frames" / frames_a[-1]).read_bytes() == (b / "frames" / frames_a[-1]).read_bytes()
    c = generate_episode(tmp_path / "c", 8)
    assert (a / "events.jsonl").read_bytes() != (c / "events.jsonl").read_bytes()


def test_episode_meta_and_duration(episodes: list[Episode]) -> None:
    for episode in episodes:
        meta = episode.meta
        assert meta.app == "synthetic" and meta.source == "synthetic"
        assert (meta.screen_width, meta.screen_height) == (1280, 720)
        assert meta.goal and meta.extra["tasks"]
        assert all(task["goal"] in meta.goal for task in meta.extra["tasks"])
        assert len(meta.extra["targets"]) >= len(meta.extra["tasks"])
        assert 8.0 <= episode.duration <= 80.0
        kinds = {e["type"] for e in episode.events}
        assert {"mouse.move", "mouse.down", "mouse.up"} <= kinds


def test_clicks_land_in_their_targets(episodes: list[Episode]) -> None:
    clicks = hits = 0
    for episode in episodes:
        tasks = episode.meta.extra["tasks"]
        for event in episode.events:
            if event["type"] != "mouse.down":
                continue
            task = next(t for t in tasks if t["t_start"] <= event["t"] <= t["t_end"])
            clicks += 1
            hits += any(_inside(event["x"], event["y"], target["box"]) for target in task["targets"])
    assert clicks >= 6
    assert hits == clicks  # the scripted user has no designed misses


def _typed(events: list[dict]) -> str:
    text = ""
    for event in events:
        if event["type"] == "key.down" and event["key"] == "backspace":
            text = text[:-1]
        elif event["type"] == "key.down" and len(event["key"]) == 1:
            text += event["key"]
    return text


def test_typed_text_matches_the_task() -> None:
    params = load_motor_params().with_overrides(typo_rate=0.3)
    user = ScriptedUser(np.random.default_rng(3), params)
    text = "Jane.Doe@Example.com OK"
    user.type_text(text)
    events = user.sorted_events()
    assert _typed(events) == text
    assert any(e["key"] == "backspace" for e in events)  # typos happened and were corrected
    downs = [e for e in events if e["type"] == "key.down"]
    ups = [e for e in events if e["type"] == "key.up"]
    assert len(downs) == len(ups)
    shift_down = [e["t"] for e in downs if e["key"] == "shift"]
    for event in downs:
        if event["key"] in ("J", "D", "E", "O", "K", "@"):  # shift held around upper case and symbols
            assert any(t <= event["t"] for t in shift_down)
    gaps = np.diff([e["t"] for e in downs if e["key"] != "shift"])
    assert 0.05 < float(np.median(gaps)) < 0.6


def test_typed_text_in_episodes(episodes: list[Episode]) -> None:
    for episode in episodes:
        for task in episode.meta.extra["tasks"]:
            if task["kind"] != "type":
                continue
            expected = task["goal"].split("'")[1]
            window = [e for e in episode.events if task["t_start"] <= e["t"] <= task["t_end"]]
            assert _typed(window) == expected


def _pointing_time(params: MotorParams, distance: float, width: int, seed: int) -> float:
    user = ScriptedUser(np.random.default_rng(seed), params, start=(100, 500))
    user.point_at(
        (int(100 + distance) - width // 2, 500 - width // 2, int(100 + distance) + width // 2, 500 + width // 2)
    )
    return user.press()


def test_fitts_law_holds_on_generated_movements() -> None:
    params = load_motor_params()
    means = []
    for distance, width in ((40, 60), (200, 40), (800, 16)):
        index = math.log2(distance / width + 1)
        times = [_pointing_time(params, distance, width, seed) for seed in range(60)]
        means.append((index, float(np.mean(times))))
    assert means[0][1] < means[1][1] < means[2][1]
    assert means[2][1] - means[0][1] > 0.2


def test_movements_are_human_like() -> None:
    user = ScriptedUser(np.random.default_rng(0), load_motor_params(), start=(100, 100))
    user.point_at((690, 390, 710, 410))
    moves = [e for e in user.events if e["type"] == "mouse.move"]
    times = np.array([e["t"] for e in moves])
    assert np.all(np.diff(times) >= 0)
    assert 0.008 < float(np.median(np.diff(times))) < 0.04  # ~60 Hz reports
    xy = np.array([(e["x"], e["y"]) for e in moves], dtype=float)
    assert np.all(np.any(np.diff(xy, axis=0) != 0, axis=1))  # only emitted when the pointer moved
    assert 690 <= xy[-1, 0] < 710 and 390 <= xy[-1, 1] < 410


def test_frames_exist_and_change_after_clicks(episodes: list[Episode]) -> None:
    for episode in episodes:
        times = episode.frame_times_ms
        assert times[0] == 0 and len(times) >= 3
        downs = [round(e["t"] * 1000) for e in episode.events if e["type"] == "mouse.down"]
        assert sum(t in times for t in downs) >= len(downs) // 2  # pressed looks differ from released ones
        first, later = episode.load_frame(times[0]), episode.load_frame(times[-1])
        assert first.shape == (720, 1280, 3)
        assert np.any(first != later)


def test_no_frames_option(tmp_path: Path) -> None:
    folder = generate_episode(tmp_path, 5, with_frames=False)
    assert read_episode(folder).frame_times_ms == []
    assert json.loads((folder / "meta.json").read_text())["source"] == "synthetic"


def test_png_encoder_round_trips() -> None:
    from io import BytesIO

    from PIL import Image

    frame = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    assert np.array_equal(np.asarray(Image.open(BytesIO(encode_png(frame)))), frame)
