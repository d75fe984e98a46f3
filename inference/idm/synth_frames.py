"""Per-tick frames of a synthetic episode as a screen recording would show them: pointer drawn, codec damage.

The generator writes frames only when the screen changes and never draws the pointer; IDM training and
evaluation need one frame per 30 Hz tick with the cursor in it. Frames are rendered in memory (renders are
cached per UI state) and never written to disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from inference.actions import TICK_HZ
from inference.idm.classes import tick_pointer
from inference.idm.cursor import CursorStyle, composite, random_style
from inference.synthetic.generate import Simulation
from inference.synthetic.screens import Renderer


@dataclass(frozen=True)
class RecordingLook:
    """How one simulated recording looks: cursor sprite, I-beam over text fields or not, codec damage."""

    style: CursorStyle
    ibeam_over_fields: bool
    blur: float
    gain: float
    noise_seed: int


def random_look(rng: np.random.Generator, damage: bool = True) -> RecordingLook:
    blur = float(rng.uniform(0.0, 0.8)) if damage and rng.random() < 0.7 else 0.0
    gain = float(rng.uniform(0.9, 1.08)) if damage else 1.0
    return RecordingLook(random_style(rng), bool(rng.random() < 0.5), blur, gain, int(rng.integers(2**31)))


def n_ticks(sim: Simulation) -> int:
    last = max([e["t"] for e in sim.events] + [t for t, _ in sim.timeline] + [0.0])
    return int(np.ceil(last * TICK_HZ)) + 2


def tick_states(sim: Simulation, count: int) -> list[int]:
    """For each tick, the index into sim.timeline of the state shown at its end (-1: the initial state)."""
    times = [t for t, _ in sim.timeline]
    order = np.argsort(times, kind="stable")
    sorted_t = np.asarray(times)[order] if times else np.zeros(0)
    out = []
    for tick in range(count):
        n = int(np.searchsorted(sorted_t, (tick + 1) / TICK_HZ - 1e-9, side="left"))
        out.append(int(order[n - 1]) if n else -1)
    return out


def _style_at(sim: Simulation, look: RecordingLook, x: float, y: float) -> CursorStyle:
    if look.ibeam_over_fields:
        for element in sim.screen.of_kind("field"):
            x0, y0, x1, y1 = element.box
            if x0 <= x < x1 and y0 <= y < y1:
                return CursorStyle("ibeam", look.style.scale, look.style.fill, look.style.outline)
    return look.style


def iter_frames(
    sim: Simulation, look: RecordingLook, count: int | None = None, wanted: set[int] | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """(tick, H x W x 3 uint8 RGB frame) for every tick (or only the `wanted` ones), the pointer composited at
    its true position. Codec damage is not applied here (see `preprocess.degrade`, which works on gray)."""
    from inference.synthetic.screens import UIState

    count = count or n_ticks(sim)
    renderer = Renderer(sim.screen)
    pointer = tick_pointer(sim.events, count, (float(sim.start[0]), float(sim.start[1])))
    cache: dict[int, np.ndarray] = {}
    for tick, state_index in enumerate(tick_states(sim, count)):
        if wanted is not None and tick not in wanted:
            continue
        if state_index not in cache:
            cache.clear()  # states only move forward: one cached render is enough
            state = sim.timeline[state_index][1] if state_index >= 0 else UIState()
            cache[state_index] = renderer.render(state)
        x, y = pointer[tick]
        yield tick, composite(cache[state_index], x, y, _style_at(sim, look, x, y))
