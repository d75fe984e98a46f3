"""Episode format v1: the one on-disk format for recording, export, training and evaluation.

An episode is a folder with `meta.json`, `events.jsonl` and optional `frames/NNNNNNN.png` (timestamp in ms).
The full specification is `docs/episode-format.md`; this module is its reference reader and writer.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inference.errors import EpisodeError
from inference.keys import is_valid_key

FORMAT_NAME = "ghostpilot-episode"
FORMAT_VERSION = 1

MOUSE_TYPES = ("mouse.move", "mouse.down", "mouse.up", "mouse.scroll")
KEY_TYPES = ("key.down", "key.up")
EVENT_TYPES = MOUSE_TYPES + KEY_TYPES
BUTTONS = ("left", "right", "middle")
SOURCES = ("user", "ghostpilot", "idm")

Event = dict[str, Any]
"""One input event in the episode schema, e.g. `{"t": 1.2, "type": "mouse.move", "x": 10, "y": 20}`."""


@dataclass(frozen=True)
class EpisodeMeta:
    """The contents of `meta.json`; `extra` keeps any documented optional field we do not model."""

    screen_width: int
    screen_height: int
    fps: float = 30.0
    goal: str | None = None
    app: str | None = None
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "screen_width": self.screen_width,
            "screen_height": self.screen_height,
            "fps": self.fps,
        }
        for key in ("goal", "app", "source"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        data.update(self.extra)
        return data


@dataclass
class Episode:
    """A validated episode: its metadata, its time-ordered events and the timestamps of its frames."""

    path: Path
    meta: EpisodeMeta
    events: list[Event]
    frame_times_ms: list[int]

    @property
    def duration(self) -> float:
        last_event = self.events[-1]["t"] if self.events else 0.0
        last_frame = self.frame_times_ms[-1] / 1000 if self.frame_times_ms else 0.0
        return max(last_event, last_frame)

    def frame_path(self, t_ms: int) -> Path:
        return self.path / "frames" / frame_name(t_ms)

    def load_frame(self, t_ms: int) -> np.ndarray:
        """The frame as an H x W x 3 uint8 RGB array."""
        from PIL import Image

        path = self.frame_path(t_ms)
        try:
            with Image.open(path) as image:
                return np.asarray(image.convert("RGB"))
        except (OSError, ValueError) as exc:
            raise EpisodeError(f"{path}: unreadable frame ({exc})") from exc


def frame_name(t_ms: int) -> str:
    return f"{t_ms:07d}.png"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def validate_event(raw: Any) -> Event:
    """Check one event against the schema and return it; raises ValueError with a short reason."""
    if not isinstance(raw, Mapping):
        raise ValueError("an event must be a JSON object")
    event = dict(raw)
    if not _number(event.get("t")) or event["t"] < 0:
        raise ValueError("'t' must be a non-negative number of seconds")
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        raise ValueError(f"unknown event type {kind!r} (expected one of {', '.join(EVENT_TYPES)})")
    if kind in MOUSE_TYPES:
        for axis in ("x", "y"):
            if not _number(event.get(axis)):
                raise ValueError(f"{kind} needs a numeric '{axis}'")
    if kind in ("mouse.down", "mouse.up") and event.get("button") not in BUTTONS:
        raise ValueError(f"{kind} needs 'button' in {BUTTONS}, got {event.get('button')!r}")
    if kind == "mouse.scroll":
        for axis in ("dx", "dy"):
            if not _number(event.get(axis)):
                raise ValueError(f"mouse.scroll needs a numeric '{axis}'")
    if kind in KEY_TYPES and not is_valid_key(event.get("key")):
        raise ValueError(f"{kind} has an invalid 'key' {event.get('key')!r}: see docs/episode-format.md")
    if "source" in event and event["source"] not in SOURCES:
        raise ValueError(f"'source' must be one of {SOURCES}, got {event['source']!r}")
    if "confidence" in event and not (_number(event["confidence"]) and 0 <= event["confidence"] <= 1):
        raise ValueError(f"'confidence' must be a number in [0, 1], got {event['confidence']!r}")
    return event


def parse_meta(raw: Any, where: str) -> EpisodeMeta:
    if not isinstance(raw, dict):
        raise EpisodeError(f"{where}: must be a JSON object")
    if raw.get("format") != FORMAT_NAME:
        raise EpisodeError(f"{where}: 'format' must be {FORMAT_NAME!r}, got {raw.get('format')!r}")
    if raw.get("version") != FORMAT_VERSION:
        raise EpisodeError(f"{where}: unsupported version {raw.get('version')!r} (this reader reads {FORMAT_VERSION})")
    for key in ("screen_width", "screen_height"):
        value = raw.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise EpisodeError(f"{where}: '{key}' must be a positive integer, got {value!r}")
    fps = raw.get("fps", 30.0)
    if not _number(fps) or fps <= 0:
        raise EpisodeError(f"{where}: 'fps' must be a positive number, got {fps!r}")
    for key in ("goal", "app", "source"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise EpisodeError(f"{where}: '{key}' must be a string")
    known = {"format", "version", "screen_width", "screen_height", "fps", "goal", "app", "source"}
    return EpisodeMeta(
        screen_width=raw["screen_width"],
        screen_height=raw["screen_height"],
        fps=float(fps),
        goal=raw.get("goal"),
        app=raw.get("app"),
        source=raw.get("source"),
        extra={k: v for k, v in raw.items() if k not in known},
    )


def iter_events(path: Path) -> Iterator[Event]:
    """Stream and validate `events.jsonl`; raises EpisodeError naming the file and line."""
    previous_t = 0.0
    try:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    event = validate_event(json.loads(line))
                except (ValueError, RecursionError) as exc:
                    raise EpisodeError(f"{path}:{number}: {exc}") from None
                if event["t"] < previous_t:
                    raise EpisodeError(f"{path}:{number}: events must be time-ordered ('t' went back)")
                previous_t = event["t"]
                yield event
    except UnicodeDecodeError:
        raise EpisodeError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise EpisodeError(f"{path}: cannot read ({exc.strerror})") from None


def list_frame_times(frames_dir: Path) -> list[int]:
    if not frames_dir.is_dir():
        return []
    times = []
    for entry in frames_dir.iterdir():
        stem, suffix = entry.stem, entry.suffix
        if suffix != ".png" or not stem.isdigit() or len(stem) != 7:
            raise EpisodeError(f"{entry}: frames must be named by their timestamp in ms, like 0001234.png")
        times.append(int(stem))
    return sorted(times)


def read_episode(path: str | os.PathLike[str]) -> Episode:
    """Read and validate a whole episode folder."""
    folder = Path(path)
    if not folder.is_dir():
        raise EpisodeError(f"{folder}: not an episode folder (no such directory)")
    meta_path = folder / "meta.json"
    try:
        raw_meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EpisodeError(f"{meta_path}: missing") from None
    except (ValueError, OSError) as exc:
        raise EpisodeError(f"{meta_path}: not valid JSON ({exc})") from None
    meta = parse_meta(raw_meta, str(meta_path))
    events_path = folder / "events.jsonl"
    if not events_path.exists():
        raise EpisodeError(f"{events_path}: missing")
    events = list(iter_events(events_path))
    return Episode(folder, meta, events, list_frame_times(folder / "frames"))


def write_episode(
    path: str | os.PathLike[str],
    meta: EpisodeMeta,
    events: Iterable[Event],
    frames: Iterable[tuple[int, np.ndarray]] = (),
) -> Path:
    """Write an episode folder (events validated on the way); `frames` yields (t_ms, H x W x 3 uint8)."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").write_text(json.dumps(meta.to_json(), indent=2) + "\n", encoding="utf-8")
    previous_t = 0.0
    with open(folder / "events.jsonl", "w", encoding="utf-8") as out:
        for number, event in enumerate(events, start=1):
            try:
                validate_event(event)
            except ValueError as exc:
                raise EpisodeError(f"event {number}: {exc}") from None
            if event["t"] < previous_t:
                raise EpisodeError(f"event {number}: events must be time-ordered")
            previous_t = event["t"]
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
    frame_list = list(frames)
    if frame_list:
        from PIL import Image

        (folder / "frames").mkdir(exist_ok=True)
        for t_ms, frame in frame_list:
            Image.fromarray(frame).save(folder / "frames" / frame_name(t_ms), optimize=False, compress_level=1)
    return folder


def find_episodes(roots: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Every episode folder (a folder holding meta.json) under the given paths, sorted."""
    found: set[Path] = set()
    for root in roots:
        root_path = Path(root)
        if (root_path / "meta.json").exists():
            found.add(root_path)
            continue
        if not root_path.exists():
            raise EpisodeError(f"{root_path}: no such file or directory")
        found.update(meta.parent for meta in root_path.rglob("meta.json"))
    return sorted(found)
