"""The copilot loop's collaborators, as small protocols: what app/copilot.py needs from each part.

app/live.py supplies the real ones (hotkeys, executor, capture, privacy guard, recall, logbook); tests run the
loop with only a predictor session and a view sink.
"""

from __future__ import annotations

import queue
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.ghost import GhostView
from app.tracker import ShownGhost
from inference.episodes import Event
from inference.predictor import PredictorSession, Suggestion


class Hotkeys(Protocol):
    def show(self) -> None: ...
    def hide(self) -> None: ...
    def goal_keys(self, active: bool) -> None: ...


class Executor(Protocol):
    def perform(self, events: list[Event], expected_window_id: int | None) -> Any: ...


class Capture(Protocol):
    def latest(self) -> Any: ...
    def set_mask(self, rects: list[tuple[int, int, int, int]]) -> None: ...


class ScreenTextFeed(Protocol):
    """The screen-text worker (app/screen_text.ScreenTextWorker): OCR and embeddings off the per-frame path."""

    latest: Any

    def offer_frame(self, frame_time: float, frame: Any) -> None: ...
    def set_goal(self, text: str | None) -> None: ...


class Privacy(Protocol):
    """Which input and frames came from a private window (app/privacy.PrivacyGuard)."""

    def current(self) -> Any: ...
    def check_now(self) -> Any: ...
    def denied_at(self, t: float) -> bool: ...


class Recall(Protocol):
    """The workflow memory (app/recall.WorkflowMemory): what the user did next last time in this context."""

    def observe(self, event: Event, window: Any = None) -> None: ...
    def wants_window(self, event: Event) -> bool: ...
    def suggest(self, now: float, pointer: tuple[float, float] | None) -> list[Suggestion]: ...


class Logbook(Protocol):
    """What the copilot tells the store (app/logbook.py adapts app/store.py to it)."""

    def events(self, events: list[Event]) -> None: ...
    def suggestion(self, ghost: ShownGhost, latency_ms: float, frame: Any, window: Any) -> None: ...
    def decision(self, decision: Any) -> None: ...
    def context_frames(self, suggestion_id: str, frames: list[Any]) -> None: ...
    def set_goal(self, goal: str | None) -> None: ...
    def use_model(self, name: str, version: str) -> None: ...


@dataclass
class LoopStats:
    """Counters a benchmark or the doctor can read without touching the loop."""

    model_runs: int = 0
    model_ms: deque[float] = field(default_factory=lambda: deque(maxlen=1000))  # the newest step times
    views: int = 0
    last_input_at: float = 0.0  # wall (perf_counter) time the latest input item was taken from the inbox


@dataclass
class CopilotParts:
    """The copilot's collaborators; only `session` and `on_view` are required (tests run the core bare)."""

    session: PredictorSession
    on_view: Callable[[GhostView], None]
    clock: Callable[[], float] = time.monotonic
    logbook: Logbook | None = None
    executor: Executor | None = None
    hotkeys: Hotkeys | None = None
    capture: Capture | None = None
    focused_window: Callable[[], Any] | None = None
    command_keys: frozenset[str] = frozenset()  # episode key names in the accept/dismiss chords
    privacy: Privacy | None = None  # deny-listed windows and password prompts: nothing seen, nothing suggested
    recall: Recall | None = None  # repeated workflows: offered ahead of the model's guesses
    on_notice: Callable[[str], None] = lambda _message: None
    on_prompt: Callable[[str | None], None] | None = None  # open the goal prompt (given the current goal); UI only
    screen_text: ScreenTextFeed | None = None  # OCR for goal-conditioned models (None: the model reads no text)


def drain(inbox: queue.SimpleQueue[Any], timeout: float) -> list[Any]:
    """Everything in the inbox, waiting up to `timeout` for the first item (an empty list: a quiet tick)."""
    try:
        items = [inbox.get(timeout=timeout)]
    except queue.Empty:
        return []
    while True:
        try:
            items.append(inbox.get_nowait())
        except queue.Empty:
            return items
