"""Kinematic baselines behind the Predictor API, so every model is scored next to what needs no learning.

- `StayPredictor`: the click happens where the pointer is now.
- `ConstantVelocityPredictor`: the pointer keeps its velocity of the last 50 ms for as long again as the
  movement has lasted so far (a symmetric velocity profile puts "now" at the middle), clipped to the screen.

Both keep O(1) state, return one "pointer" suggestion once they have seen the pointer, and never suggest keys.
docs/metrics.md defines the horizon and the confidence heuristics exactly.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from inference.episodes import Event
from inference.predictor import DEFAULT_MIN_CONFIDENCE, Suggestion

VELOCITY_WINDOW = 0.05
"""Seconds of pointer history the velocity is measured over (about 3 samples at the usual 60 Hz)."""
REST_GAP = 0.25
"""A movement starts at the first move after more than this many seconds without any event."""
MAX_HORIZON = 1.0
"""Longest extrapolation in seconds: past a second of motion the constant-velocity guess is meaningless."""
CONFIDENCE_SPEED = 300.0
"""px/s at which the confidence falls to 1/e: a fast pointer is far from where it will click."""
PATH_STEP = 1 / 30
CLICK_DURATION = 0.08


def pointer_suggestion(
    t: float, start: tuple[float, float], click: tuple[float, float], arrive: float, confidence: float
) -> Suggestion:
    """A ghost path: straight moves at 30 Hz from `start` to `click` arriving at t+arrive, then down/up there."""
    steps = max(1, min(8, math.ceil(arrive / PATH_STEP)))
    events: list[Event] = []
    for i in range(1, steps + 1):
        a = i / steps
        x, y = start[0] + a * (click[0] - start[0]), start[1] + a * (click[1] - start[1])
        events.append({"t": t + a * arrive, "type": "mouse.move", "x": x, "y": y})
    end = t + arrive
    events.append({"t": end, "type": "mouse.down", "x": click[0], "y": click[1], "button": "left"})
    events.append({"t": end + CLICK_DURATION, "type": "mouse.up", "x": click[0], "y": click[1], "button": "left"})
    return Suggestion("pointer", events, confidence, click)


class _PointerTracker:
    """Bounded pointer history: position samples of the last VELOCITY_WINDOW plus one older, and the onset."""

    def __init__(self) -> None:
        self.samples: deque[tuple[float, float, float]] = deque()
        self.last_event_t: float | None = None
        self.onset: float | None = None

    def observe(self, event: Event) -> None:
        t = float(event["t"])
        if event["type"] == "mouse.move" and (self.last_event_t is None or t - self.last_event_t > REST_GAP):
            self.onset = t
        self.last_event_t = t
        if "x" in event:
            self.samples.append((t, float(event["x"]), float(event["y"])))
            while len(self.samples) >= 2 and self.samples[1][0] <= t - VELOCITY_WINDOW:
                self.samples.popleft()

    @property
    def position(self) -> tuple[float, float] | None:
        return None if not self.samples else (self.samples[-1][1], self.samples[-1][2])

    def velocity(self, t: float) -> tuple[float, float]:
        """(p(t) - p(t - W)) / W in px/s, p the last sample at or before a time (the oldest one if none)."""
        if not self.samples:
            return 0.0, 0.0
        back = self.samples[0]
        for sample in self.samples:
            if sample[0] > t - VELOCITY_WINDOW:
                break
            back = sample
        _, x, y = self.samples[-1]
        return (x - back[1]) / VELOCITY_WINDOW, (y - back[2]) / VELOCITY_WINDOW


class _KinematicSession:
    """Shared session: tracks the pointer; subclasses say where the click will be."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pointer = _PointerTracker()
        self.goal: str | None = None  # kept for the API; kinematic baselines do not read the screen or goals

    def set_goal(self, goal: str | None) -> None:
        self.goal = goal

    def observe_text(self, snapshot: Any) -> None:
        pass  # this session does not read the screen

    def observe_event(self, event: Event) -> None:
        self.pointer.observe(event)

    def observe_frame(self, t: float, frame: np.ndarray) -> None:
        """Kinematic baselines ignore the screen."""

    def predict(self, t: float, position: tuple[float, float]) -> tuple[tuple[float, float], float, float]:
        """(click point, seconds until the click, confidence)."""
        raise NotImplementedError

    def suggest(self, t: float, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> list[Suggestion]:
        position = self.pointer.position
        if position is None:
            return []
        click, arrive, confidence = self.predict(t, position)
        if confidence < min_confidence:
            return []
        return [pointer_suggestion(t, position, click, arrive, confidence)]


class _StaySession(_KinematicSession):
    def predict(self, t: float, position: tuple[float, float]) -> tuple[tuple[float, float], float, float]:
        speed = math.hypot(*self.pointer.velocity(t))
        return position, 0.0, math.exp(-speed / CONFIDENCE_SPEED)


class _ConstantVelocitySession(_KinematicSession):
    def __init__(self, width: int, height: int, fixed_horizon: float | None) -> None:
        super().__init__(width, height)
        self.fixed_horizon = fixed_horizon

    def horizon(self, t: float) -> float:
        """Seconds since the movement's onset (a symmetric profile has as long to go), at most MAX_HORIZON."""
        if self.fixed_horizon is not None:
            return self.fixed_horizon
        onset = self.pointer.onset
        return 0.0 if onset is None else min(max(t - onset, 0.0), MAX_HORIZON)

    def predict(self, t: float, position: tuple[float, float]) -> tuple[tuple[float, float], float, float]:
        vx, vy = self.pointer.velocity(t)
        h = self.horizon(t)
        x = min(max(position[0] + vx * h, 0.0), self.width - 1.0)
        y = min(max(position[1] + vy * h, 0.0), self.height - 1.0)
        return (x, y), h, math.exp(-math.hypot(vx, vy) / CONFIDENCE_SPEED)


class StayPredictor:
    """ "The click happens where the pointer is now": the floor any pointer model must beat."""

    name = "stay"

    def new_session(self, screen_width: int, screen_height: int, goal: str | None = None) -> _StaySession:
        session = _StaySession(screen_width, screen_height)
        session.set_goal(goal)
        return session


class ConstantVelocityPredictor:
    """Linear extrapolation of the last 50 ms velocity: the simplest kinematic model.

    By default over the time since movement onset (symmetric profile); `fixed_horizon` (seconds) extrapolates
    over a constant time instead, for comparison.
    """

    def __init__(self, fixed_horizon: float | None = None) -> None:
        if fixed_horizon is not None and not 0 <= fixed_horizon <= MAX_HORIZON:
            raise ValueError(f"fixed_horizon must be in [0, {MAX_HORIZON}] s, got {fixed_horizon}")
        self.fixed_horizon = fixed_horizon
        self.name = "constant_velocity" if fixed_horizon is None else f"constant_velocity_{fixed_horizon * 1000:g}ms"

    def new_session(self, screen_width: int, screen_height: int, goal: str | None = None) -> _ConstantVelocitySession:
        session = _ConstantVelocitySession(screen_width, screen_height, self.fixed_horizon)
        session.set_goal(goal)
        return session
