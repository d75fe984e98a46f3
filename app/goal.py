"""The user's goal and the prompt that sets it, on the copilot's side (no Qt): docs/goals.md.

The goal is private text the user typed: it goes only into the goal fields (predictor session, the log's
session and suggestion rows), never into the event log, the model's input stream or a notice. While the
prompt box is open every key the user types belongs to the prompt, so `PromptGuard` tells the copilot which
input events to drop: those from the moment the chord fired until the prompt closed, and the releases of keys
pressed in that time (the Enter that closed it is released after it closed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inference.episodes import Event
from inference.errors import GhostpilotError

if TYPE_CHECKING:
    from app.copilot_parts import CopilotParts

MAX_GOAL_CHARS = 300  # a goal is a sentence; the prompt box refuses more, and so does --goal
GOAL_HINT = 'say what you are trying to do in one line, e.g. --goal "file the March expenses"'


def normalize_goal(text: str | None) -> str | None:
    """Whitespace collapsed to single spaces; None for an empty goal (clearing it); too long is an error."""
    if text is None:
        return None
    goal = " ".join(text.split())
    if not goal:
        return None
    if len(goal) > MAX_GOAL_CHARS:
        raise GhostpilotError(f"the goal is {len(goal)} characters long; at most {MAX_GOAL_CHARS} fit", GOAL_HINT)
    return goal


def goal_argument(text: str | None) -> str | None:
    """`--goal TEXT`: like normalize_goal, but an empty goal given on purpose is a mistake worth saying."""
    if text is not None and not text.strip():
        raise GhostpilotError("--goal is empty", GOAL_HINT)
    return normalize_goal(text)


@dataclass
class PromptGuard:
    """Which input events were typed into the goal prompt (times on the copilot's clock, like events)."""

    opened_at: float | None = None  # the prompt is open since then
    last_window: tuple[float, float] | None = None  # (opened, closed) of the last prompt, for late events
    _held: set[str] = field(default_factory=set)  # keys pressed into the prompt, not yet released
    _outside: set[str] = field(default_factory=set)  # keys pressed outside it, not yet released

    @property
    def open(self) -> bool:
        return self.opened_at is not None

    def opened(self, t: float) -> None:
        if self.opened_at is None:
            self.opened_at = t

    def closed(self, t: float) -> None:
        if self.opened_at is not None:
            self.last_window = (self.opened_at, max(t, self.opened_at))
            self.opened_at = None

    def hides(self, event: Event) -> bool:
        """True for an event that went to the prompt: never observed, learned or logged.

        A key pressed before the prompt opened (the chord's own Ctrl) keeps its release, so the model never
        sees a key stuck down; a key pressed into the prompt loses its release too, even after it closed.
        """
        t, key, kind = float(event["t"]), event.get("key"), event["type"]
        inside = (self.opened_at is not None and t >= self.opened_at) or (
            self.last_window is not None and self.last_window[0] <= t <= self.last_window[1]
        )
        if key is None:
            return inside
        if kind == "key.up":
            if key in self._held:
                self._held.discard(key)
                return True
            if key in self._outside:
                self._outside.discard(key)
                return False
            return inside
        (self._held if inside else self._outside).add(key)
        return inside


class GoalControl:
    """The goal in force and the prompt's state, for the copilot loop (its thread only).

    A change reaches everything that keeps the goal: the predictor session (`set_goal`), the logbook (the
    session row and every later suggestion) and the key grabber (clear-goal is grabbed only while a goal is set).
    """

    def __init__(self, parts: CopilotParts, goal: str | None = None) -> None:
        self.parts = parts
        self.goal = normalize_goal(goal)
        self.prompt = PromptGuard()
        self._last_text: Any = None  # the screen-text snapshot last handed to the session

    def start(self) -> None:
        """A goal given at start (`--goal`) owns its clear key from the first moment."""
        if self.goal is not None:
            self._grab_clear_key(True)
            if self.parts.screen_text is not None:
                self.parts.screen_text.set_goal(self.goal)

    def offer_frame(self, t: float, rgb: Any) -> None:
        """The newest frame to the screen-text worker (O(1): OCR runs on its thread, when the screen changed)."""
        if self.parts.screen_text is not None:
            self.parts.screen_text.offer_frame(t, rgb)

    def pull_text(self) -> None:
        """The worker's newest screen text (and goal embedding) to the predictor session, once per snapshot."""
        feed = self.parts.screen_text
        latest = feed.latest if feed is not None else None
        if latest is not None and latest is not self._last_text and latest.model_input is not None:
            self._last_text = latest
            self.parts.session.observe_text(latest.model_input)

    def resend_text(self) -> None:
        """The next `pull_text` hands over the newest snapshot again (a new model's session has seen none)."""
        self._last_text = None

    def handle(self, message: tuple[Any, ...]) -> str | bool:
        """A message from Copilot.open_prompt / prompt_closed / set_goal; "opened", or whether the view changed."""
        if message[0] == "open":
            return "opened" if self.open_prompt(message[1]) else False
        if message[0] == "closed":
            self.close_prompt(message[1], message[2])
            return True  # the corner leaves "prompting"
        return self.set_text(message[1])

    def open_prompt(self, t: float) -> bool:
        """Hand the prompt to the UI; False when it is already open or there is no UI to show it."""
        if self.prompt.open:
            return False
        if self.parts.on_prompt is None:
            self.parts.on_notice('the goal prompt needs the overlay (not --console); start with --goal "..." instead')
            return False
        self.prompt.opened(t)
        self.parts.on_prompt(self.goal)
        return True

    def close_prompt(self, t: float, text: str | None) -> bool:
        """The prompt closed at `t`: with its text (Enter; empty clears) or None (Esc: nothing changes)."""
        self.prompt.closed(t)
        return False if text is None else self.set_text(text)

    def set_text(self, text: str | None) -> bool:
        """Set the goal from text as typed (blank or None clears it); a goal too long is a notice, not a crash."""
        try:
            return self.change(normalize_goal(text))
        except GhostpilotError as exc:
            self.parts.on_notice(f"goal not set: {exc.message}")
            return False

    def change(self, goal: str | None) -> bool:
        """Set (or clear, None) the goal everywhere it is kept; False when it is the goal already."""
        if goal == self.goal:
            return False
        had_goal, self.goal = self.goal is not None, goal
        self.parts.session.set_goal(goal)
        if self.parts.screen_text is not None:
            self.parts.screen_text.set_goal(goal)  # the worker embeds it and reads the screen again
        if self.parts.logbook is not None:
            self.parts.logbook.set_goal(goal)
        if had_goal != (goal is not None):
            self._grab_clear_key(goal is not None)
        self.parts.on_notice("goal set" if goal is not None else "goal cleared")  # the text itself stays private
        return True

    def _grab_clear_key(self, active: bool) -> None:
        hotkeys = self.parts.hotkeys
        if hotkeys is None:
            return
        try:
            hotkeys.goal_keys(active)
        except Exception as exc:  # a refused grab leaves the goal settable, only its key is missing
            self.parts.on_notice(f"clear-goal key unavailable: {exc}")
