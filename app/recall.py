"""Workflow memory: when the user repeats what they did before, offer what they did next last time.

Adaptation without training. The memory cuts the user's own input into actions (a click with its position,
button and window; a run of typed keys) and remembers, for each action, what came before it. When the actions
just completed match a context seen before, the action that followed then is offered as an ordinary
`Suggestion` (a pointer path ending in the same click, or the same keys), so the tracker, overlay, Tab accept
and executor treat it like any model ghost. Pure logic over plain events: no threads, no display, no Qt.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from inference.episodes import Event
from inference.predictor import Suggestion
from inference.suggestions import min_jerk_path

SAME_CLICK_PX = 30.0  # two presses this close (same button, same window) are the same action
MAX_ACTIONS = 2000  # bounded memory: the newest actions are kept
RECENCY = 0.7  # weight of each older occurrence relative to the next newer one
CLICK_SECONDS = 0.8  # how long the drawn path takes (people take about this long to point at a target)
KEY_INTERVAL = 0.12
IN_RUN_DISCOUNT = 0.95  # keys offered mid-run never outrank (replace) the ghost the user is typing through
MODIFIERS = frozenset({"shift", "ctrl", "alt", "cmd"})
SEED_SESSIONS = 3  # at start, the newest logged sessions the memory learns from
SEED_MAX_EVENTS = 200_000  # and at most this many of their events (bounded start-up time)


@dataclass(frozen=True)
class Action:
    """One completed user action: a click (`point`, `button`) or a typed run (`keys`)."""

    kind: str  # "click" | "type"
    window: str = ""  # the focused window ("wm_class|title"); "" when unknown
    point: tuple[float, float] | None = None
    button: str = "left"
    keys: tuple[str, ...] = ()

    def same(self, other: Action) -> bool:
        """The same step of a workflow: same kind, window and target (or text)."""
        if self.kind != other.kind or (self.window and other.window and self.window != other.window):
            return False
        if self.kind == "type":
            return self.keys == other.keys
        assert self.point is not None and other.point is not None
        return self.button == other.button and math.dist(self.point, other.point) <= SAME_CLICK_PX


def window_key(window: object) -> str:
    """A focused-window description (app.x11.WindowInfo or None) as the memory's window key."""
    if window is None:
        return ""
    return f"{getattr(window, 'wm_class', '')}|{getattr(window, 'title', '')}"


@dataclass
class _Candidate:
    action: Action
    weight: float
    count: int


class WorkflowMemory:
    """The user's recent actions and what followed each context; `suggest` offers the continuation."""

    def __init__(self, max_actions: int = MAX_ACTIONS, context_length: int = 2) -> None:
        self.actions: deque[Action] = deque(maxlen=max_actions)
        self.context_length = context_length
        self._typing: list[str] = []  # the run being typed, not yet an action
        self._typing_window = ""
        self._pressed: dict[str, tuple[float, float]] = {}  # button -> where it went down
        self._pressed_window = ""

    # ----- learning from the user's events -----
    def observe(self, event: Event, window: object = None) -> None:
        """One user event (never an injected one), with the focused window when known (queried on presses)."""
        kind = event["type"]
        if kind == "mouse.down":
            self._end_run()
            self._pressed[str(event.get("button", "left"))] = (float(event["x"]), float(event["y"]))
            self._pressed_window = window_key(window)
        elif kind == "mouse.up":
            button = str(event.get("button", "left"))
            point = self._pressed.pop(button, None)
            if point is not None:
                self.actions.append(Action("click", self._pressed_window, point, button))
        elif kind == "key.down" and event.get("key") not in MODIFIERS:
            if not self._typing:
                self._typing_window = window_key(window)
            self._typing.append(str(event["key"]))

    def wants_window(self, event: Event) -> bool:
        """Whether `observe` needs the focused window for this event (a press, or a run's first key): the
        caller queries the X server only then, not on every move or key."""
        if event["type"] == "mouse.down":
            return True
        return event["type"] == "key.down" and not self._typing and event.get("key") not in MODIFIERS

    def observe_all(self, events: Iterable[Event]) -> None:
        """Seed from a log (for example the last sessions in the store): the same as observing live."""
        for event in events:
            self.observe(event)
        self._end_run()
        self._pressed.clear()  # a press whose release was never logged must not hold back every offer

    def _end_run(self) -> None:
        if self._typing:
            self.actions.append(Action("type", self._typing_window, keys=tuple(self._typing)))
            self._typing = []

    @property
    def typing(self) -> tuple[str, ...]:
        return tuple(self._typing)

    # ----- offering -----
    def suggest(self, now: float, pointer: tuple[float, float] | None) -> list[Suggestion]:
        """What the user did next in this context before, best first (at most one per distinct action)."""
        if self._pressed:
            return []  # mid-click: the action is not over yet
        history = list(self.actions)
        if self._typing:
            return self._suggest_in_run(history, now, pointer)
        found = self._continuations(history, history)
        return [self._suggestion(c, now, pointer, total=sum(x.weight for x in found)) for c in found[:3]]

    def _suggest_in_run(
        self, history: list[Action], now: float, pointer: tuple[float, float] | None
    ) -> list[Suggestion]:
        """Typing under way: the rest of the text typed here before, or, once it is all typed, what followed."""
        typed = tuple(self._typing)
        whole = [*history, Action("type", self._typing_window, keys=typed)]
        found = self._continuations(whole, whole)
        if found:
            total = sum(x.weight for x in found)
            return [self._suggestion(c, now, pointer, total) for c in found[:3]]
        runs: list[_Candidate] = []
        weight = 1.0
        for index in range(len(history) - 1, -1, -1):
            action = history[index]
            longer = action.kind == "type" and len(action.keys) > len(typed) and action.keys[: len(typed)] == typed
            if longer and self._context_matches(history, index, history, len(history)):
                _add(runs, Action("type", action.window, keys=action.keys[len(typed) :]), weight)
                weight *= RECENCY
        runs.sort(key=lambda c: -c.weight)
        total = sum(c.weight for c in runs)
        return [self._suggestion(c, now, pointer, total, IN_RUN_DISCOUNT) for c in runs[:1]]

    def _continuations(self, history: list[Action], current: list[Action]) -> list[_Candidate]:
        """Actions that followed earlier occurrences of the current context, grouped, best first.

        The longest context that matched anywhere wins (two actions disambiguate a workflow that visits the
        same button twice); newer occurrences weigh more, so a changed habit takes over quickly."""
        if not current:
            return []
        for length in range(min(self.context_length, len(current)), 0, -1):
            found: list[_Candidate] = []
            weight = 1.0
            for end in range(len(history) - 1, length - 1, -1):  # history[end] followed context ending at end-1
                if self._same_context(history, end, current, len(current), length):
                    _add(found, history[end], weight)
                    weight *= RECENCY
            if found:
                return sorted(found, key=lambda c: -c.weight)
        return []

    @staticmethod
    def _same_context(history: list[Action], end: int, current: list[Action], now_end: int, length: int) -> bool:
        if end >= now_end:
            return False  # only the past can tell what follows now
        return all(history[end - k].same(current[now_end - k]) for k in range(1, length + 1))

    def _context_matches(self, history: list[Action], index: int, current: list[Action], now_end: int) -> bool:
        """The action before history[index] matches the action before now (or there is none on either side)."""
        if index == 0 or now_end == 0:
            return True
        return history[index - 1].same(current[now_end - 1])

    def _suggestion(
        self, candidate: _Candidate, now: float, pointer: tuple[float, float] | None, total: float, scale: float = 1.0
    ) -> Suggestion:
        """Confidence grows with how often this continuation followed (1 time: 0.75, 2: 0.88, 3: 0.94) and
        shrinks with how often something else followed the same context."""
        support = 1.0 - 0.5 ** (candidate.count + 1)
        confidence = round(scale * support * candidate.weight / max(total, 1e-9), 4)
        details = {"recall": 1.0, "recall_count": float(candidate.count)}
        action = candidate.action
        if action.kind == "type":
            events: list[Event] = []
            for i, key in enumerate(action.keys):
                events.append({"t": now + (i + 1) * KEY_INTERVAL, "type": "key.down", "key": key})
                events.append({"t": now + (i + 1) * KEY_INTERVAL + 0.05, "type": "key.up", "key": key})
            return Suggestion("keys", events, confidence, None, details)
        assert action.point is not None
        start = pointer or action.point
        events = min_jerk_path(start, action.point, now, CLICK_SECONDS)
        x, y = round(action.point[0], 1), round(action.point[1], 1)
        events.append({"t": now + CLICK_SECONDS, "type": "mouse.down", "x": x, "y": y, "button": action.button})
        events.append({"t": now + CLICK_SECONDS + 0.08, "type": "mouse.up", "x": x, "y": y, "button": action.button})
        details["seconds_to_click"] = CLICK_SECONDS
        return Suggestion("pointer", events, confidence, action.point, details)


def _add(found: list[_Candidate], action: Action, weight: float) -> None:
    """Group an occurrence with an earlier-found one for the same action (the newest keeps its position)."""
    for candidate in found:
        if candidate.action.same(action):
            candidate.weight += weight
            candidate.count += 1
            return
    found.append(_Candidate(action, weight, 1))


def seed_from_store(
    memory: WorkflowMemory, database: Path, exclude: str | None = None, sessions: int = SEED_SESSIONS,
    max_events: int = SEED_MAX_EVENTS,
) -> int:  # fmt: skip
    """Teach `memory` the newest logged sessions (oldest first), so a workflow repeats across restarts.

    The log holds no window per event, so these actions match any window. Returns the actions learned."""
    from app.store import iter_events, read_sessions

    chosen = [s["id"] for s in read_sessions(database) if s["id"] != exclude][-sessions:]
    before = len(memory.actions)
    budget = max_events
    for session_id in chosen:
        events = list(islice(iter_events(database, session_id), budget))
        budget -= len(events)
        memory.observe_all(events)
    return len(memory.actions) - before
