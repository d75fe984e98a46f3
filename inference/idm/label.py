"""`ghostpilot label RECORDING OUT_DIR`: a screen recording without an input log -> an episode of IDM events.

Recordings are mp4 / mkv / webm (decoded by PyAV straight to gray) or a folder of frames named by their
timestamp in ms (like an episode's frames/). Frames stream through a three-frame window and the decoder's
few-tick lookahead, so memory stays constant however long the video is. No torch: the IDM runs in onnxruntime.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from inference.actions import TICK_HZ
from inference.episodes import EpisodeMeta, write_episode
from inference.errors import GhostpilotError
from inference.idm.decode import decode_all
from inference.idm.runtime import IdmModel, TickAnalyzer, TickResult

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".mov", ".avi")
TimedFrames = Iterator[tuple[float, np.ndarray]]  # (seconds from the start, H x W uint8 gray)


class RecordingError(GhostpilotError):
    """A recording that cannot be read: missing, not a video, or an empty frame folder."""


def open_recording(path: Path) -> tuple[TimedFrames, int | None]:
    """Timed gray frames of a video file or a frame folder, and the tick count when it is known up front."""
    if path.is_dir():
        return _folder_frames(path)
    if not path.exists():
        raise RecordingError(f"{path}: no such file or directory")
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise RecordingError(f"{path}: not a recording", f"pass a {'/'.join(VIDEO_SUFFIXES)} file or a frame folder")
    return _video_frames(path)


def _folder_frames(folder: Path) -> tuple[TimedFrames, int | None]:
    names = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png" and p.stem.isdigit())
    if not names:
        raise RecordingError(f"{folder}: no frames", "frames must be PNGs named by their time in ms, like 0001234.png")
    names.sort(key=lambda p: int(p.stem))

    def frames() -> TimedFrames:
        from PIL import Image

        for p in names:
            try:
                with Image.open(p) as image:
                    gray = np.asarray(image.convert("L"))
            except (OSError, ValueError) as exc:
                raise RecordingError(f"{p}: unreadable frame ({exc})") from None
            yield int(p.stem) / 1000.0, gray

    return frames(), int(int(names[-1].stem) / 1000.0 * TICK_HZ) + 1


def _video_frames(path: Path) -> tuple[TimedFrames, int | None]:
    try:
        import av
    except ImportError:
        raise RecordingError("decoding video needs PyAV", "pip install av, or pass a folder of frames") from None

    try:
        container = av.open(str(path))
        stream = container.streams.video[0]
    except (av.FFmpegError, IndexError, OSError) as exc:
        raise RecordingError(f"{path}: cannot decode ({exc})") from None
    stream.thread_type = "AUTO"
    total = None
    if stream.duration is not None and stream.time_base is not None:
        total = int(float(stream.duration * stream.time_base) * TICK_HZ) + 1

    def frames() -> TimedFrames:
        first: float | None = None
        try:
            for frame in container.decode(stream):
                t = float(frame.time) if frame.time is not None else 0.0
                first = t if first is None else first
                yield t - first, frame.to_ndarray(format="gray")
        except av.FFmpegError as exc:
            raise RecordingError(f"{path}: decoding failed ({exc})") from None
        finally:
            container.close()

    return frames(), total


def tick_frames(frames: TimedFrames) -> Iterator[tuple[int, np.ndarray]]:
    """Resample to 30 Hz ticks: tick i shows the latest frame captured before the tick's end, (i+1)/30 s."""
    current: np.ndarray | None = None
    tick = 0
    for t, gray in frames:
        while current is not None and (tick + 1) / TICK_HZ <= t + 1e-9:
            yield tick, current
            tick += 1
        current = gray
    if current is not None:
        yield tick, current


def analyze(frames: Iterator[tuple[int, np.ndarray]], model: IdmModel) -> Iterator[TickResult]:
    analyzer = TickAnalyzer(model)
    for tick, gray in frames:
        result = analyzer.push(tick, gray)
        if result is not None:
            yield result
    last = analyzer.finish()
    if last is not None:
        yield last


def label_recording(
    recording: Path,
    out_dir: Path,
    model: IdmModel | None = None,
    mode: str = "peaks",
    progress: Callable[[int, int | None], None] | None = None,
) -> tuple[Path, int]:
    """Write an episode of IDM-labelled events for the recording; returns its folder and the event count.
    `progress(n, total)` is called after every tick (total: the tick count if the container knows it)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise RecordingError(f"{out_dir}: exists and is not empty", "choose a new output folder")
    frames, total = open_recording(Path(recording))
    ticks = tick_frames(frames)
    first = next(ticks, None)
    if first is None:
        raise RecordingError(f"{recording}: holds no frames")
    height, width = first[1].shape
    model = model or IdmModel()

    def with_progress() -> Iterator[tuple[int, np.ndarray]]:
        yield first
        for item in ticks:
            if progress is not None:
                progress(1, total)
            yield item

    count = [0]

    def counted(events: Iterator[Any]) -> Iterator[Any]:
        for event in events:
            count[0] += 1
            yield event

    meta = EpisodeMeta(width, height, float(TICK_HZ), app="recording", source="idm",
                       extra={"recording": Path(recording).name, "idm_decoding": mode})  # fmt: skip
    out_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
    write_episode(out_dir, meta, counted(decode_all(analyze(with_progress(), model), mode)))
    for name in ("meta.json", "events.jsonl"):
        os.chmod(out_dir / name, 0o600)
    os.chmod(out_dir, 0o700)
    return out_dir, count[0]
