"""IDM training samples from synthetic episodes, rendered in memory and stored only as network inputs.

Per episode: a few random ticks teach the cursor networks where the pointer is; every tick where the screen
changed, or where a visible event happened, teaches the change network what the change was. The same
preprocessing (inference/idm/preprocess.py) runs at label time on decoded video frames.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from inference.idm import preprocess as pp
from inference.idm.classes import NONE, tick_classes, tick_pointer
from inference.idm.synth_frames import iter_frames, n_ticks, random_look, tick_states
from inference.synthetic.generate import Simulation, simulate_episode

CURSOR_TICKS = 24  # random ticks per episode for the cursor networks


@dataclass
class Samples:
    """Network inputs and targets, as compact arrays (uint8 views and crops)."""

    views: list[np.ndarray] = field(default_factory=list)  # (2, GLOBAL_H, GLOBAL_W) uint8: previous, current
    heat_target: list[int] = field(default_factory=list)  # cell index, HEAT_CELLS = pointer not visible
    refine_crop: list[np.ndarray] = field(default_factory=list)  # (REFINE, REFINE) uint8
    refine_target: list[int] = field(default_factory=list)  # hotspot pixel index in the crop
    change_image: list[np.ndarray] = field(default_factory=list)  # (3, CHANGE, CHANGE) uint8: prev, cur, next
    change_numbers: list[np.ndarray] = field(default_factory=list)
    change_target: list[int] = field(default_factory=list)

    def extend(self, other: Samples) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name).extend(getattr(other, name))


def _chosen_ticks(sim: Simulation, count: int, classes: np.ndarray, rng: np.random.Generator) -> tuple[set, set]:
    states = tick_states(sim, count)
    changed = {i for i in range(1, count - 1) if states[i] != states[i - 1] or classes[i] != NONE}
    cursor = set(rng.integers(1, count - 1, CURSOR_TICKS).tolist())
    quiet = set(rng.integers(1, count - 1, CURSOR_TICKS // 2).tolist())  # pointer-only motion: mostly "none"
    return cursor, changed | quiet


def episode_samples(seed: int, look_seed: int, screen_size: tuple[int, int] | None = None) -> Samples:
    """Samples from synthetic episode `seed` recorded with a random look (cursor sprite, codec damage)."""
    sim = simulate_episode(seed, screen_size)
    rng = np.random.default_rng(look_seed)
    look = random_look(rng)
    count = n_ticks(sim)
    classes = tick_classes(sim.events, count)
    pointer = tick_pointer(sim.events, count, (float(sim.start[0]), float(sim.start[1])))
    cursor_ticks, change_ticks = _chosen_ticks(sim, count, classes, rng)
    wanted = {j for i in cursor_ticks | change_ticks for j in (i - 1, i, i + 1)}
    gray: dict[int, np.ndarray] = {}
    for tick, frame in iter_frames(sim, look, count, wanted):
        gray[tick] = pp.degrade(pp.to_gray(frame), rng, look.blur, look.gain)
    views = {tick: pp.global_view(g) for tick, g in gray.items()}
    out = Samples()
    for tick in sorted(cursor_ticks):
        _cursor_sample(out, views[tick - 1], views[tick], gray[tick], pointer[tick], rng)
    for tick in sorted(change_ticks):
        moved = [tuple(p) for p in (pointer[tick - 1], pointer[tick])] if _moved(pointer, tick) else []
        change = pp.find_change(gray[tick - 1], gray[tick], moved)
        if change is None:
            continue
        image, numbers = pp.change_input(gray[tick - 1], gray[tick], gray[tick + 1], change, tuple(pointer[tick]))
        out.change_image.append((np.clip(image[:3], 0, 1) * 255 + 0.5).astype(np.uint8))
        out.change_numbers.append(numbers)
        out.change_target.append(int(classes[tick]))
    return out


def _moved(pointer: np.ndarray, tick: int) -> bool:
    return bool(np.abs(pointer[tick] - pointer[tick - 1]).max() > 0.5)


def _cursor_sample(
    out: Samples, prev_view: np.ndarray, view: np.ndarray, gray: np.ndarray, xy: np.ndarray, rng: np.random.Generator
) -> None:
    height, width = gray.shape
    sx, sy = pp.view_scale(width, height)
    x, y = float(xy[0]), float(xy[1])
    col, row = int(x / sx / pp.STRIDE), int(y / sy / pp.STRIDE)
    visible = 0 <= col < pp.HEAT_W and 0 <= row < pp.HEAT_H
    out.views.append(np.stack([prev_view, view]))
    out.heat_target.append(row * pp.HEAT_W + col if visible else pp.HEAT_W * pp.HEAT_H)
    if not visible:
        return
    jitter = rng.uniform(-1, 1, 2) * np.array([sx, sy]) * pp.STRIDE * 0.75  # where the coarse stage may land
    cx, cy = x + jitter[0], y + jitter[1]
    ox, oy = pp.refine_origin(cx, cy)
    out.refine_crop.append(pp.crop(gray, cx, cy, pp.REFINE))
    out.refine_target.append((int(round(y)) - oy) * pp.REFINE + (int(round(x)) - ox))


def extra_cursor_samples(seed: int, count: int, look_seed: int) -> Samples:
    """`count` pointer-network samples from episode `seed`'s screen states, with the pointer anywhere.

    Per-episode random ticks give too few samples to find a 16 px sprite in a 320x180 view reliably; here
    each sample is one render of a random state of the episode with a random sprite at a random place (half
    the time where the episode's pointer really was), and a previous frame with the pointer still (40 %) or
    a little way off, showing the state before (50 %: something else changed too) or the same state.
    """
    from inference.idm.cursor import composite
    from inference.synthetic.screens import Renderer, UIState

    sim = simulate_episode(seed, None)
    rng = np.random.default_rng(look_seed)
    renderer = Renderer(sim.screen)
    width, height = sim.meta.screen_width, sim.meta.screen_height
    moves = [(float(e["x"]), float(e["y"])) for e in sim.events if "x" in e]
    out = Samples()
    for _ in range(count):
        look = random_look(rng)
        index = int(rng.integers(0, len(sim.timeline))) if sim.timeline else -1
        frame = renderer.render(sim.timeline[index][1] if index >= 0 else UIState())
        before = frame  # half the time the screen changed too (a glyph, a menu): not every change is the pointer
        if index > 0 and rng.random() < 0.5:
            before = renderer.render(sim.timeline[index - 1][1])
        if moves and rng.random() < 0.5:
            x, y = moves[int(rng.integers(len(moves)))]
        else:
            x, y = float(rng.uniform(0, width)), float(rng.uniform(0, height))
        step = np.zeros(2) if rng.random() < 0.4 else rng.normal(0, float(rng.choice([8.0, 40.0, 150.0])), 2)
        px, py = float(np.clip(x - step[0], 0, width - 1)), float(np.clip(y - step[1], 0, height - 1))
        grays = [pp.degrade(pp.to_gray(composite(f, *p, look.style)), rng, look.blur, look.gain)
                 for f, p in ((before, (px, py)), (frame, (x, y)))]  # fmt: skip
        _cursor_sample(out, pp.global_view(grays[0]), pp.global_view(grays[1]), grays[1], np.array([x, y]), rng)
    return out


def build_cursor_samples(seeds: Iterable[int], per_episode: int = 100, look_seed: int = 1) -> Samples:
    out = Samples()
    for seed in seeds:
        try:
            out.extend(extra_cursor_samples(seed, per_episode, look_seed * 1_000_003 + seed))
        except ValueError:  # the generator bug at some seeds (see build_samples)
            continue
    return out


def build_samples(seeds: Iterable[int], look_seed: int = 0, progress: Callable[[int], None] | None = None) -> Samples:
    """Samples from many episodes; screen sizes are drawn from the generator's list (1280x720 .. 1920x1080)."""
    out = Samples()
    for seed in seeds:
        try:
            out.extend(episode_samples(seed, look_seed * 1_000_003 + seed))
        except ValueError:  # a generator bug at some seeds with random screen sizes (an empty list): skip it
            print(f"skipped synthetic seed {seed}: the generator failed on it")
        if progress is not None:
            progress(1)
    return out
