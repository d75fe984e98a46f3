"""The Predictor API (docs/predictor-api.md), version 2: what the live copilot, eval and bench talk to.

Importable without torch and without Qt. A `Predictor` is a loaded model; a `PredictorSession` follows one
user's input stream with bounded state and answers `suggest(t)`. Baselines implement the same protocol, so
`ghostpilot eval` scores models and baselines through one code path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from inference.episodes import Event
from inference.goal_features import TextSnapshot

PREDICTOR_API_VERSION = 2  # v2: PredictorSession.set_goal and observe_text (goals, docs/predictor-api.md)
DEFAULT_MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Suggestion:
    """One ghost: predicted future events (episode schema, absolute `t`), its click point, its confidence.

    kind is "pointer" (a path that ends in a click) or "keys" (ghost keystrokes).
    """

    kind: str
    events: list[Event]
    confidence: float
    click: tuple[float, float] | None = None
    details: dict[str, float] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return [e["key"] for e in self.events if e["type"] == "key.down"]


class PredictorSession(Protocol):
    def observe_event(self, event: Event) -> None:
        """Feed one input event (episode schema); events arrive in time order."""

    def observe_frame(self, t: float, frame: np.ndarray) -> None:
        """Feed one screen frame, H x W x 3 uint8 RGB, at time t (seconds, same clock as events)."""

    def suggest(self, t: float, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> list[Suggestion]:
        """Suggestions at time t, best first, each with confidence >= min_confidence.

        With min_confidence=0 a session returns at least one pointer suggestion whenever it has seen the
        pointer, so evaluation can score every movement.
        """
        ...

    def set_goal(self, goal: str | None) -> None:
        """The user's goal changed mid-session (None: cleared); later suggestions should follow the new one.

        A session that cannot use goals only keeps it: the goal is private text, so never log or print it.
        """

    def observe_text(self, snapshot: TextSnapshot) -> None:
        """The text on screen (OCR) and the goal, embedded, from a worker off the per-frame path
        (inference/goal_features.py). Sessions that do not read the screen ignore it."""


class Predictor(Protocol):
    name: str

    def new_session(self, screen_width: int, screen_height: int, goal: str | None = None) -> PredictorSession: ...
