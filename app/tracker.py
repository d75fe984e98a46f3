"""Which ghost is on screen, and what became of it: accepted, partly accepted, dismissed or ignored.

Pure logic with no threads, display or Qt, so every rule is unit-tested on plain event lists. The copilot
loop feeds it the model's suggestions once per tick and every user input event; it answers with the view to
draw, the events to perform on accept, and the decisions to log once their correction window has closed.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field

from app.ghost import GhostPath, GhostView, ghost_path
from inference.episodes import Event
from inference.predictor import Suggestion
from inference.suggestions import min_jerk_path

SAME_TARGET_PX = 40.0  # a fresh prediction this close to the shown click refreshes the ghost instead of replacing it
KEYS_MOVE_AWAY_PX = 150.0  # a key ghost ends when the pointer travels this far from where it appeared
MOVE_AWAY_PX = 40.0  # the pointer heading this far back out from its closest approach means the user went elsewhere
CORRECTION_S = 3.0  # how long after a ghost ends we keep recording what the user really did
MAX_ALTERNATIVES = 3
MODIFIERS = frozenset({"shift", "ctrl", "alt", "cmd"})  # held for a chord or a capital: not a change of plan


@dataclass
class ShownGhost:
    """One suggestion while it is visible (its alternatives ride along)."""

    id: str
    alternatives: list[Suggestion]
    shown_at: float
    origin: tuple[float, float]
    selected: int = 0
    keys_done: int = 0  # ghost keys the user has already typed through
    moved: bool = False  # pointer ghost: Ctrl+Right already moved to the target
    steps_accepted: int = 0  # Tab / Ctrl+Right presses taken on this ghost
    closest: float = math.inf  # pointer ghost: closest approach to the click so far
    window_id: int | None = None

    @property
    def current(self) -> Suggestion:
        return self.alternatives[self.selected]


@dataclass
class Decision:
    """What became of one shown ghost, with what the user did in the following seconds."""

    suggestion_id: str
    t: float
    decision: str  # "accepted" | "partial" | "dismissed" | "ignored"
    steps_accepted: int
    predicted_click: tuple[float, float] | None
    correction: list[Event] = field(default_factory=list)
    closes_at: float = 0.0

    @property
    def endpoint_error_px(self) -> float | None:
        """Distance from the predicted click to the user's first own press after the ghost ended."""
        press = next((e for e in self.correction if e["type"] == "mouse.down"), None)
        if press is None or self.predicted_click is None:
            return None
        return math.hypot(float(press["x"]) - self.predicted_click[0], float(press["y"]) - self.predicted_click[1])


def _same(a: Suggestion, b: Suggestion) -> bool:
    if a.kind != b.kind:
        return False
    if a.kind == "keys":
        return a.keys[:1] == b.keys[:1]
    assert a.click is not None and b.click is not None
    return math.dist(a.click, b.click) <= SAME_TARGET_PX


def _distinct(suggestions: list[Suggestion]) -> list[Suggestion]:
    kept: list[Suggestion] = []
    for s in suggestions:
        if not any(_same(s, k) for k in kept):
            kept.append(s)
    return kept[:MAX_ALTERNATIVES]


def _next_word(keys: list[str]) -> int:
    """How many keys make the next word (Ctrl+Right accepts one word, like editors' inline completions)."""
    for i, key in enumerate(keys):
        if i > 0 and key in (" ", "enter", "tab"):
            return i + 1
    return len(keys)


class GhostTracker:
    """The rules for showing, keeping, replacing and ending ghosts."""

    def __init__(self, min_confidence: float) -> None:
        self.min_confidence = min_confidence
        self.shown: ShownGhost | None = None
        self.pending: list[Decision] = []
        self.new_ghost: ShownGhost | None = None  # set when a ghost first appears, for logging

    # ----- the model's side -----
    def offer(self, suggestions: list[Suggestion], now: float, pointer: tuple[float, float]) -> bool:
        """Take one tick's suggestions (best first). Returns True when what is drawn changed."""
        good = _distinct([s for s in suggestions if s.confidence >= self.min_confidence])
        if not good:
            return False  # keep a visible ghost until the user diverges: no flicker on a dip in confidence
        shown = self.shown
        if shown is not None and _same(good[0], shown.current):
            if shown.keys_done or shown.moved:
                return False  # a partly performed or typed-through ghost keeps its own plan
            shown.alternatives = [shown.current, *[s for s in good if not _same(s, shown.current)]][:MAX_ALTERNATIVES]
            shown.selected = 0
            return True
        if shown is not None and good[0].confidence <= shown.current.confidence:
            return False
        if shown is not None:
            self._end(now, "ignored")
        self.shown = ShownGhost(uuid.uuid4().hex, good, now, pointer)
        self.new_ghost = self.shown
        return True

    # ----- the user's side -----
    def observe(self, event: Event) -> bool:
        """A user (not injected) input event. Returns True when what is drawn changed."""
        t = float(event["t"])
        for decision in self.pending:
            if t <= decision.closes_at:
                decision.correction.append(event)
        shown = self.shown
        if shown is None:
            return False
        suggestion = shown.current
        if suggestion.kind == "keys":
            return self._observe_keys(shown, event)
        if event["type"] == "mouse.down":
            assert suggestion.click is not None
            self._end(t, "ignored", keep_event=event)  # the press itself is the start of the correction
            return True
        if event["type"] == "mouse.move" and suggestion.click is not None:
            distance = math.dist((float(event["x"]), float(event["y"])), suggestion.click)
            shown.closest = min(shown.closest, distance)
            if distance > shown.closest + MOVE_AWAY_PX:
                self._end(t, "ignored")
                return True
            return True  # the path is redrawn from the pointer
        if event["type"] == "key.down" and event["key"] not in MODIFIERS:
            self._end(t, "ignored", keep_event=event)
            return True
        return False

    def _observe_keys(self, shown: ShownGhost, event: Event) -> bool:
        if event["type"] == "mouse.down" or (
            event["type"] == "mouse.move" and math.dist((event["x"], event["y"]), shown.origin) > KEYS_MOVE_AWAY_PX
        ):
            self._end(float(event["t"]), "ignored", keep_event=event)  # the user went to point somewhere else
            return True
        if event["type"] != "key.down":
            return False
        remaining = shown.current.keys[shown.keys_done :]
        if remaining and event["key"] == remaining[0]:
            shown.keys_done += 1  # typing through the ghost keeps the rest of it
            if shown.keys_done >= len(shown.current.keys):
                self._end(float(event["t"]), "ignored")
            return True
        if event["key"] in MODIFIERS:
            return False
        self._end(float(event["t"]), "ignored", keep_event=event)
        return True

    # ----- the keys bound while a ghost shows -----
    def accept(self, now: float, pointer: tuple[float, float], whole: bool = True) -> list[Event]:
        """The events to perform for Tab (whole) or Ctrl+Right (next step). The ghost ends or shrinks."""
        shown = self.shown
        if shown is None:
            return []
        suggestion = shown.current
        if suggestion.kind == "keys":
            keys = suggestion.keys[shown.keys_done :]
            count = len(keys) if whole else _next_word(keys)
            events = _key_events(keys[:count], now)
            shown.keys_done += count
            done = shown.keys_done >= len(suggestion.keys)
        else:
            assert suggestion.click is not None
            events = [] if shown.moved else min_jerk_path(pointer, suggestion.click, now, 0.15)
            done = whole or shown.moved
            if done:
                events += _click(suggestion.click, _button(suggestion), now + 0.15)
            shown.moved = True
        shown.steps_accepted += 1
        if done:
            self._end(now, "accepted")
        return events

    def dismiss(self, now: float) -> None:
        if self.shown is not None:
            self._end(now, "dismissed")

    def abandon(self, now: float) -> None:
        """The copilot stops or pauses with a ghost showing: the user neither took nor refused it."""
        if self.shown is not None:
            self._end(now, "ignored")

    def cycle(self, step: int) -> None:
        if self.shown is not None and not (self.shown.keys_done or self.shown.moved):
            self.shown.selected = (self.shown.selected + step) % len(self.shown.alternatives)

    def _end(self, t: float, decision: str, keep_event: Event | None = None) -> None:
        """Close the visible ghost; a ghost the user took part of before leaving it counts as "partial"."""
        shown = self.shown
        assert shown is not None
        if decision != "accepted" and shown.steps_accepted:
            decision = "partial"
        record = Decision(shown.id, t, decision, shown.steps_accepted, shown.current.click, closes_at=t + CORRECTION_S)
        if keep_event is not None:
            record.correction.append(keep_event)
        self.pending.append(record)
        self.shown = None

    def due(self, now: float) -> list[Decision]:
        """Decisions whose correction window has closed: ready to log."""
        ready = [d for d in self.pending if d.closes_at <= now]
        self.pending = [d for d in self.pending if d.closes_at > now]
        return ready

    # ----- drawing -----
    def view(self, now: float, pointer: tuple[float, float] | None, status: str, goal: str | None) -> GhostView:
        shown = self.shown
        if shown is None:
            return GhostView(pointer=pointer, status=status, goal=goal)
        paths = tuple(self._path(s, shown, now, pointer) for s in shown.alternatives)
        return GhostView(paths, shown.selected, pointer, None, goal, "suggesting" if status == "watching" else status)

    def _path(self, s: Suggestion, shown: ShownGhost, now: float, pointer: tuple[float, float] | None) -> GhostPath:
        if s.kind == "keys":
            rest = Suggestion("keys", _key_events(s.keys[shown.keys_done :], now), s.confidence)
            return ghost_path(rest, now)
        assert s.click is not None
        start = pointer or shown.origin
        seconds = max(float(s.details.get("seconds_to_click", 0.5)) - (now - shown.shown_at), 0.2)
        events = min_jerk_path(start, s.click, now, seconds) + _click(s.click, _button(s), now + seconds)
        return ghost_path(Suggestion("pointer", events, s.confidence, s.click), now)


def carried_out(shown: ShownGhost, event: Event) -> bool:
    """The user's own event completed what the ghost showed: a press on its click, or its last key typed."""
    ghost = shown.current
    if ghost.kind == "keys":
        return shown.keys_done >= len(ghost.keys)
    if event["type"] != "mouse.down" or ghost.click is None:
        return False
    return math.dist((float(event["x"]), float(event["y"])), ghost.click) <= SAME_TARGET_PX


def _button(s: Suggestion) -> str:
    return next((str(e["button"]) for e in s.events if e["type"] == "mouse.down"), "left")


def _click(point: tuple[float, float], button: str, t: float) -> list[Event]:
    x, y = round(point[0], 1), round(point[1], 1)
    return [
        {"t": t, "type": "mouse.down", "x": x, "y": y, "button": button},
        {"t": t + 0.05, "type": "mouse.up", "x": x, "y": y, "button": button},
    ]


def _key_events(keys: list[str], t: float, interval: float = 0.02) -> list[Event]:
    events: list[Event] = []
    for i, key in enumerate(keys):
        events.append({"t": t + i * interval, "type": "key.down", "key": key})
        events.append({"t": t + i * interval + interval / 2, "type": "key.up", "key": key})
    return events
