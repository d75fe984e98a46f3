"""Episode format v1: writing, reading, and one clear error naming file and line for every malformation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inference.episodes import EpisodeMeta, find_episodes, read_episode, write_episode
from inference.errors import EpisodeError

EVENTS = [
    {"t": 0.0, "type": "mouse.move", "x": 10, "y": 20},
    {"t": 0.5, "type": "mouse.down", "x": 10, "y": 20, "button": "left"},
    {"t": 0.6, "type": "mouse.up", "x": 10, "y": 20, "button": "left"},
    {"t": 0.7, "type": "mouse.scroll", "x": 10, "y": 20, "dx": 0, "dy": -1},
    {"t": 1.0, "type": "key.down", "key": "A", "source": "user"},
    {"t": 1.1, "type": "key.up", "key": "enter", "source": "ghostpilot"},
]


def _episode(tmp_path: Path, lines: list[str], meta: dict | None = None) -> Path:
    folder = tmp_path / "ep"
    folder.mkdir()
    base = {"format": "ghostpilot-episode", "version": 1, "screen_width": 800, "screen_height": 600, "fps": 30}
    (folder / "meta.json").write_text(json.dumps(meta if meta is not None else base))
    (folder / "events.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def test_write_then_read_round_trips_events_meta_and_frames(tmp_path: Path) -> None:
    frame = np.zeros((60, 80, 3), np.uint8)
    frame[10:20, 10:30] = (255, 0, 0)
    meta = EpisodeMeta(80, 60, fps=10, goal="Click Save", app="test", extra={"note": "x"})
    write_episode(tmp_path / "ep", meta, EVENTS, frames=[(0, frame), (1234, frame)])
    episode = read_episode(tmp_path / "ep")
    assert episode.events == EVENTS
    assert episode.meta == meta
    assert episode.frame_times_ms == [0, 1234]
    assert (tmp_path / "ep" / "frames" / "0001234.png").exists()
    assert np.array_equal(episode.load_frame(1234), frame)
    assert find_episodes([tmp_path]) == [tmp_path / "ep"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "events.jsonl:2"),
        ('{"t": 1, "type": "mouse.teleport", "x": 1, "y": 1}', "unknown event type"),
        ('{"t": 1, "type": "mouse.down", "x": 1, "y": 1, "button": "thumb"}', "button"),
        ('{"t": 1, "type": "mouse.move", "x": "a", "y": 1}', "numeric 'x'"),
        ('{"t": 1, "type": "key.down", "key": "hyper"}', "invalid 'key'"),
        ('{"t": 1, "type": "key.down", "key": "a", "source": "robot"}', "'source'"),
        ('{"t": -1, "type": "key.down", "key": "a"}', "non-negative"),
        ('{"t": 0.0, "type": "key.down", "key": "a"}', "time-ordered"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_malformed_event_is_rejected_with_file_and_line(tmp_path: Path, line: str, reason: str) -> None:
    folder = _episode(tmp_path, ['{"t": 0.5, "type": "key.down", "key": "a"}', line])
    with pytest.raises(EpisodeError) as error:
        read_episode(folder)
    message = str(error.value)
    assert "events.jsonl:2" in message and reason in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("meta", "reason"),
    [
        ({"format": "other", "version": 1, "screen_width": 1, "screen_height": 1}, "'format'"),
        ({"format": "ghostpilot-episode", "version": 2, "screen_width": 1, "screen_height": 1}, "version"),
        ({"format": "ghostpilot-episode", "version": 1, "screen_width": 0, "screen_height": 1}, "screen_width"),
        ({"format": "ghostpilot-episode", "version": 1, "screen_width": 1, "screen_height": 1, "fps": -3}, "fps"),
    ],
)
def test_malformed_meta_is_rejected(tmp_path: Path, meta: dict, reason: str) -> None:
    with pytest.raises(EpisodeError, match=reason):
        read_episode(_episode(tmp_path, [], meta))


def test_missing_files_and_bad_frame_names_are_named(tmp_path: Path) -> None:
    with pytest.raises(EpisodeError, match="no such directory"):
        read_episode(tmp_path / "nope")
    folder = _episode(tmp_path, [])
    (folder / "frames").mkdir()
    (folder / "frames" / "frame1.png").write_bytes(b"")
    with pytest.raises(EpisodeError, match="frame1.png"):
        read_episode(folder)
    (folder / "events.jsonl").unlink()
    with pytest.raises(EpisodeError, match="events.jsonl: missing"):
        read_episode(folder)


def test_episode_without_frames_is_valid(tmp_path: Path) -> None:
    episode = read_episode(_episode(tmp_path, [json.dumps(e) for e in EVENTS]))
    assert episode.frame_times_ms == [] and len(episode.events) == len(EVENTS)


@given(st.lists(st.text(max_size=80) | st.binary(max_size=80).map(lambda b: b.decode("latin-1")), max_size=6))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_reader_never_fails_with_anything_but_episode_error(tmp_path: Path, lines: list[str]) -> None:
    folder = tmp_path / "fuzz"
    folder.mkdir(exist_ok=True)
    (folder / "meta.json").write_text(
        json.dumps({"format": "ghostpilot-episode", "version": 1, "screen_width": 9, "screen_height": 9})
    )
    (folder / "events.jsonl").write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    try:
        read_episode(folder)
    except EpisodeError as error:
        assert "events.jsonl" in str(error)
