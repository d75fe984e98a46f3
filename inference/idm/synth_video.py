"""Synthetic screen recordings as real video files (H.264 via PyAV), for IDM evaluation, tests and benchmarks.

Evaluating on encoded video rather than on rendered frames measures what `ghostpilot label` really faces:
codec blur, blocking and chroma subsampling.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from inference.actions import TICK_HZ
from inference.idm.synth_frames import RecordingLook, iter_frames, n_ticks
from inference.synthetic.generate import Simulation, simulate_episode


def write_video(frames: Iterable[np.ndarray], path: Path, crf: int = 23, preset: str = "veryfast") -> int:
    """Encode H x W x 3 uint8 frames at 30 fps (H.264 yuv420p in mp4/mkv, VP9 in webm); returns the count."""
    import av

    codec = "libvpx-vp9" if path.suffix == ".webm" else "libx264"
    count = 0
    with av.open(str(path), "w") as container:
        stream: Any = container.add_stream(codec, rate=TICK_HZ)
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": preset} if codec == "libx264" else {"crf": str(crf), "b": "0"}
        for frame in frames:
            if count == 0:
                stream.height, stream.width = frame.shape[0] & ~1, frame.shape[1] & ~1
            image = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[: stream.height, : stream.width]), "rgb24")
            for packet in stream.encode(image):
                container.mux(packet)
            count += 1
        for packet in stream.encode():
            container.mux(packet)
    return count


def synthetic_video(
    seed: int, path: Path, look: RecordingLook, screen_size: tuple[int, int] | None = (1280, 720), crf: int = 23
) -> Simulation:
    """Render episode `seed` with the pointer drawn, one frame per tick, into a video file; returns the episode."""
    sim = simulate_episode(seed, screen_size)
    write_video((frame for _, frame in iter_frames(sim, look, n_ticks(sim))), path, crf)
    return sim
