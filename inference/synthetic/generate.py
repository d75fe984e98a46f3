"""Write synthetic episodes (format v1): a procedural screen, a few goal-directed tasks, human-like input.

Usage: `python -m inference.synthetic.generate OUT_DIR --count 200 [--seed 0] [--no-frames]`.
Episode `synth-{seed:06d}` is fully determined by its seed. Frames are written only when the screen changes
(plus one at t=0), named by the ms of the event that changed it; the pointer is not drawn.
"""

from __future__ import annotations

import argparse
import shutil
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.episodes import EpisodeMeta, Event, frame_name, read_episode, write_episode
from inference.synthetic.params import MotorParams, load_motor_params
from inference.synthetic.screens import Renderer, Screen, UIState, make_screen
from inference.synthetic.tasks import Context, run_session
from inference.synthetic.user import ScriptedUser

GENERATOR_VERSION = 1
DEFAULT_SIZE = (1280, 720)
RESOLUTIONS = ((1280, 720), (1366, 768), (1440, 900), (1600, 900), (1920, 1080))
"""Sampled when `screen_size=None`; 1280x720 is the default because frames are downscaled for the model anyway
and smaller PNGs make generation and training I/O cheaper."""


def episode_name(seed: int) -> str:
    return f"synth-{seed:06d}"


def _frames(timeline: list[tuple[float, UIState]]) -> list[tuple[int, UIState]]:
    """One state per ms at which the screen changed: the last state committed in that ms wins."""
    frames: list[tuple[int, UIState]] = []
    for t, state in sorted(timeline, key=lambda item: item[0]):
        t_ms = int(round(t * 1000))
        if frames and frames[-1][0] == t_ms:
            frames[-1] = (t_ms, state)
        else:
            frames.append((t_ms, state))
    kept: list[tuple[int, UIState]] = []
    for t_ms, state in frames:  # drop states that look identical to the previous frame
        if not kept or state.key() != kept[-1][1].key():
            kept.append((t_ms, state))
    return kept


def encode_png(frame: np.ndarray, level: int = 3) -> bytes:
    """A plain RGB PNG (filter type 0): 3x faster than Pillow's adaptive filtering, same size on flat GUIs."""
    height, width, _ = frame.shape
    raw = np.zeros((height, width * 3 + 1), np.uint8)
    raw[:, 1:] = frame.reshape(height, width * 3)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw.tobytes(), level)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def write_frames(folder: Path, screen: Screen, timeline: list[tuple[float, UIState]]) -> int:
    """Render and save every changed frame; streams one frame at a time to keep memory flat."""
    frames_dir = folder / "frames"
    shutil.rmtree(frames_dir, ignore_errors=True)
    frames_dir.mkdir(parents=True)
    renderer = Renderer(screen)
    frames = _frames([(0.0, UIState()), *timeline])
    for t_ms, state in frames:
        (frames_dir / frame_name(t_ms)).write_bytes(encode_png(renderer.render(state)))
    return len(frames)


@dataclass
class Simulation:
    """One synthetic episode in memory: what `generate_episode` writes, plus the screen and its state timeline
    (the IDM renders per-tick frames from them: inference/idm/synth_frames.py)."""

    meta: EpisodeMeta
    events: list[Event]
    screen: Screen
    timeline: list[tuple[float, UIState]]
    start: tuple[int, int]


def simulate_episode(
    seed: int, screen_size: tuple[int, int] | None = DEFAULT_SIZE, params: MotorParams | None = None
) -> Simulation:
    """Episode `synth-{seed:06d}` without touching the disk."""
    rng = np.random.default_rng(seed)
    width, height = screen_size or RESOLUTIONS[int(rng.integers(len(RESOLUTIONS)))]
    screen = make_screen(rng, width, height)
    start = (int(rng.integers(0, width)), int(rng.integers(0, height)))
    user = ScriptedUser(rng, params or load_motor_params(), start)
    ctx = Context(screen, user, rng)
    records = run_session(ctx, float(rng.uniform(9.0, 32.0)))  # the last task runs over: ~10-40 s
    meta = EpisodeMeta(
        screen_width=width,
        screen_height=height,
        goal=" ".join(r.goal for r in records),
        app="synthetic",
        source="synthetic",
        extra={
            "generator": {"name": "inference.synthetic", "version": GENERATOR_VERSION, "seed": seed},
            "theme": screen.theme.name,
            "pointer_start": list(start),
            "tasks": [r.to_json() for r in records],
            "targets": [t.to_json() | {"task": i} for i, r in enumerate(records) for t in r.targets],
        },
    )
    return Simulation(meta, user.sorted_events(), screen, ctx.timeline, start)


def generate_episode(
    out_dir: Path,
    seed: int,
    with_frames: bool = True,
    screen_size: tuple[int, int] | None = DEFAULT_SIZE,
    params: MotorParams | None = None,
) -> Path:
    """Generate episode `synth-{seed:06d}` under out_dir, validate it by reading it back, return its folder."""
    sim = simulate_episode(seed, screen_size, params)
    folder = Path(out_dir) / episode_name(seed)
    write_episode(folder, sim.meta, sim.events)
    if with_frames:
        write_frames(folder, sim.screen, sim.timeline)
    else:
        shutil.rmtree(folder / "frames", ignore_errors=True)
    read_episode(folder)
    return folder


def generate_episodes(
    out_dir: Path,
    count: int,
    seed: int = 0,
    with_frames: bool = True,
    progress: Callable[[int], None] | None = None,
) -> list[Path]:
    """Episodes for seeds seed .. seed+count-1; `progress(n)` is called with 1 after each (tqdm.update)."""
    params = load_motor_params()
    paths = []
    for index in range(count):
        paths.append(generate_episode(out_dir, seed + index, with_frames, params=params))
        if progress is not None:
            progress(1)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate synthetic Ghostpilot episodes.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-frames", action="store_true")
    args = parser.parse_args(argv)
    paths = generate_episodes(args.out, args.count, args.seed, not args.no_frames)
    print(f"wrote {len(paths)} episodes to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
