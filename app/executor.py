"""Performs an accepted suggestion: quickly, at a human-like pace, and never against the user.

Safety rules (docs/keys-and-execution.md): any physical input aborts at once; so does a change of the focused
window or the pointer in a screen corner (pyautogui's failsafe); injected events are rate-capped; no key or
button is ever left down. It runs on the caller's worker thread; `abort()` and `note_user_input()` are
callable from any thread (the input listener's).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from app.inject import BUTTONS, InjectionLedger, Injector
from inference.errors import GhostpilotError
from inference.keys import is_valid_key

ABORT_USER_INPUT = "user input"
ABORT_FOCUS = "focus changed"
ABORT_FAILSAFE = "failsafe: pointer in a screen corner"
ABORT_REQUESTED = "aborted"
EVENT_TYPES = ("mouse.move", "mouse.down", "mouse.up", "mouse.scroll", "key.down", "key.up")


class Desktop(Protocol):
    """The checks the executor makes before each step (app.x11.X11Desktop on X11)."""

    def focused_window_id(self) -> int | None: ...
    def pointer_position(self) -> tuple[int, int]: ...
    def screen_size(self) -> tuple[int, int]: ...


@dataclass(frozen=True)
class ExecutionPlan:
    """How to perform one accepted suggestion. The predicted timing is compressed to these paces."""

    expected_window_id: int | None = None  # the window the suggestion was made for; None skips the check
    max_path_s: float = 0.15  # a run of pointer moves takes at most this long (shorter if predicted so)
    key_gap_s: float = 0.01  # between key events: key.down to key.down is two gaps (20 ms)
    click_hold_s: float = 0.03  # mouse.down -> mouse.up
    settle_s: float = 0.01  # before a press after moving, and before a scroll
    max_events_per_s: float = 500.0  # rate cap on injected events (the abort releases are not capped)
    failsafe_px: int = 2  # the pointer within this many px of a screen corner aborts


@dataclass(frozen=True)
class ExecutionResult:
    performed: int  # accepted events done (a move skipped by thinning counts once the next one is done)
    total: int
    aborted: str | None  # None when all were performed; else one of the ABORT_* reasons
    first_event_latency: float | None = None  # seconds from perform() to the first injected event


@dataclass(frozen=True)
class Step:
    offset: float  # seconds from the start of execution
    event: Mapping[str, Any]
    index: int  # position in the accepted events; performing it completes events[: index + 1]


def pace(events: Sequence[Mapping[str, Any]], plan: ExecutionPlan) -> list[Step]:
    """The compressed schedule: paths squeezed into `max_path_s` and thinned to the rate cap; fixed gaps
    between presses and keys (the model's timing for those is a guess, a steady pace reads as deliberate)."""
    steps: list[Step] = []
    offset, prev_type, prev_t = 0.0, None, None
    min_gap = 1.0 / plan.max_events_per_s
    i = 0
    while i < len(events):
        event = events[i]
        if event["type"] == "mouse.move":
            end = i
            while end < len(events) and events[end]["type"] == "mouse.move":
                end += 1
            path = _path_steps(events, i, end, prev_t, offset, plan)
            steps.extend(path)
            offset, prev_type, prev_t, i = path[-1].offset, "mouse.move", float(events[end - 1]["t"]), end
            continue
        gap = _gap(prev_type, str(event["type"]), plan) if steps else 0.0
        offset += max(gap, min_gap) if steps else 0.0
        steps.append(Step(offset, event, i))
        prev_type, prev_t, i = str(event["type"]), float(event.get("t", prev_t or 0.0)), i + 1
    return steps


def _gap(prev_type: str | None, kind: str, plan: ExecutionPlan) -> float:
    if kind == "mouse.up" and prev_type == "mouse.down":
        return plan.click_hold_s
    if kind.startswith("key."):
        return plan.key_gap_s
    return plan.settle_s


def _path_steps(
    events: Sequence[Mapping[str, Any]], start: int, end: int, prev_t: float | None, offset: float, plan: ExecutionPlan
) -> list[Step]:
    """A run of moves: predicted timing scaled into at most max_path_s, thinned to the rate cap.

    Without predicted timing (all at one instant) the moves go at the rate cap instead."""
    times = [float(events[k].get("t", 0.0)) for k in range(start, end)]
    t0 = prev_t if prev_t is not None else times[0]
    span = max(times[-1] - t0, 0.0)
    min_gap = 1.0 / plan.max_events_per_s
    if span <= 0:
        first = 1 if prev_t is not None else 0
        return [Step(offset + (k + first) * min_gap, events[start + k], start + k) for k in range(len(times))]
    duration = min(span, plan.max_path_s)
    keep_every = max(1, -(-len(times) // max(1, int(duration * plan.max_events_per_s))))
    kept = [k for k in range(len(times)) if (len(times) - 1 - k) % keep_every == 0]
    return [Step(offset + (times[k] - t0) / span * duration, events[start + k], start + k) for k in kept]


class Executor:
    """Performs accepted events through an `Injector`, checking the desktop before every step."""

    def __init__(
        self,
        injector: Injector,
        ledger: InjectionLedger,
        clock: Callable[[], float] = time.monotonic,
        desktop: Desktop | None = None,
    ) -> None:
        self.injector = injector
        self.ledger = ledger
        self.clock = clock
        self.first_event_latency: float | None = None  # of the last perform(): for the latency benchmark
        self._desktop = desktop
        self._busy = threading.Lock()
        self._wake = threading.Event()
        self._abort_reason: str | None = None
        self._running = False
        self._buttons_down: list[str] = []
        self._keys_down: list[str] = []
        self._pointer: tuple[int, int] | None = None
        self._last_inject = float("-inf")

    @property
    def running(self) -> bool:
        return self._running

    def abort(self, reason: str = ABORT_REQUESTED) -> None:
        """Stop the current execution as soon as possible (any thread); the first reason wins."""
        if self._running and self._abort_reason is None:
            self._abort_reason = reason
            self._wake.set()

    def note_user_input(self, event: Mapping[str, Any]) -> None:
        """An input event the ledger did not claim: the user is acting, so stop.

        Key releases are not new input: the accept chord's own releases (Tab, or Ctrl after Ctrl+Right)
        arrive while the suggestion is being performed.
        """
        if event.get("type") != "key.up":
            self.abort(ABORT_USER_INPUT)

    def observe(self, event: Mapping[str, Any]) -> bool:
        """For the input listener: True if the event is ours (claimed); otherwise it counts as user input."""
        if self.ledger.claim(event):
            return True
        self.note_user_input(event)
        return False

    def perform(self, events: Sequence[Mapping[str, Any]], plan: ExecutionPlan) -> ExecutionResult:
        """Perform `events` (episode schema) now; returns when done or aborted, with nothing held down."""
        started = self.clock()
        _validate(events)
        if not self._busy.acquire(blocking=False):
            raise GhostpilotError("already performing a suggestion", "wait for it to finish or abort it")
        try:
            self._abort_reason, self.first_event_latency = None, None
            self._wake.clear()
            self._running = True
            performed = self._run(pace(events, plan), plan, started)
            return ExecutionResult(performed, len(events), self._abort_reason, self.first_event_latency)
        finally:
            self._running = False
            self._busy.release()

    def _run(self, steps: list[Step], plan: ExecutionPlan, started: float) -> int:
        desktop = self._desktop_here()
        screen = desktop.screen_size()
        performed = 0
        try:
            for step in steps:
                if not self._wait_until(max(started + step.offset, self._last_inject + 1.0 / plan.max_events_per_s)):
                    break
                reason = self._check(desktop, plan, screen)
                if reason is not None:
                    self.abort(reason)
                    break
                self._inject(step.event, plan, screen, started)
                performed = step.index + 1
        finally:
            self._release_held()
        return performed

    def _desktop_here(self) -> Desktop:
        if self._desktop is None:
            from app.x11 import X11Desktop

            self._desktop = X11Desktop()  # on the worker thread that performs
        return self._desktop

    def _wait_until(self, deadline: float) -> bool:
        """Sleep until `deadline` unless aborted first; False when aborted."""
        remaining = deadline - self.clock()
        if remaining > 0:
            self._wake.wait(remaining)
        return self._abort_reason is None

    def _check(self, desktop: Desktop, plan: ExecutionPlan, screen: tuple[int, int]) -> str | None:
        if _in_corner(desktop.pointer_position(), screen, plan.failsafe_px):
            return ABORT_FAILSAFE
        if plan.expected_window_id is not None and desktop.focused_window_id() != plan.expected_window_id:
            return ABORT_FOCUS
        return None

    def _inject(self, event: Mapping[str, Any], plan: ExecutionPlan, screen: tuple[int, int], started: float) -> None:
        kind = event["type"]
        if kind in ("mouse.move", "mouse.down", "mouse.up", "mouse.scroll") and "x" in event and "y" in event:
            target = _safe_point(float(event["x"]), float(event["y"]), screen, plan.failsafe_px)
            if kind == "mouse.move" or self._pointer is None or _distance(self._pointer, target) > 1:
                self.injector.move(*target)
                self._pointer = target
                self._mark(started)
            if kind == "mouse.move":
                return
        if kind in ("mouse.down", "mouse.up"):
            button = str(event["button"])
            self.injector.button(button, kind == "mouse.down")
            _toggle(self._buttons_down, button, kind == "mouse.down")
        elif kind == "mouse.scroll":
            self.injector.scroll(round(float(event.get("dx", 0))), round(float(event.get("dy", 0))))
        else:
            key = str(event["key"])
            self.injector.key(key, kind == "key.down")
            _toggle(self._keys_down, key, kind == "key.down")
        self._mark(started)

    def _mark(self, started: float) -> None:
        self._last_inject = self.clock()
        if self.first_event_latency is None:
            self.first_event_latency = self._last_inject - started

    def _release_held(self) -> None:
        """Whatever happened, leave no key or button down (most recent first)."""
        while self._keys_down:
            self.injector.key(self._keys_down.pop(), False)
        while self._buttons_down:
            self.injector.button(self._buttons_down.pop(), False)
        self.injector.sync()  # when perform() returns, the server has seen every release


def _validate(events: Sequence[Mapping[str, Any]]) -> None:
    """Refuse a malformed suggestion before doing any of it."""
    for event in events:
        kind = event.get("type")
        problem = None
        if kind not in EVENT_TYPES:
            problem = f"unknown event type {kind!r}"
        elif kind in ("mouse.down", "mouse.up") and event.get("button") not in BUTTONS:
            problem = f"unknown mouse button {event.get('button')!r}"
        elif str(kind).startswith("key.") and not is_valid_key(event.get("key")):
            problem = f"unknown key {event.get('key')!r}"
        elif kind == "mouse.move" and not ("x" in event and "y" in event):
            problem = "mouse.move without x and y"
        if problem is not None:
            raise GhostpilotError(f"cannot perform suggestion: {problem}", "this is a bug in the predictor")


def _toggle(held: list[str], name: str, down: bool) -> None:
    if down and name not in held:
        held.append(name)
    elif not down and name in held:
        held.remove(name)


def _distance(a: tuple[int, int], b: tuple[int, int]) -> float:
    return float(((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5)


def _in_corner(point: tuple[int, int], screen: tuple[int, int], px: int) -> bool:
    x, y = point
    near_x = x <= px or x >= screen[0] - 1 - px
    near_y = y <= px or y >= screen[1] - 1 - px
    return near_x and near_y


def _safe_point(x: float, y: float, screen: tuple[int, int], px: int) -> tuple[int, int]:
    """On screen, and never into a failsafe corner ourselves (that corner is the user's emergency stop)."""
    xi = min(max(round(x), 0), screen[0] - 1)
    yi = min(max(round(y), 0), screen[1] - 1)
    if _in_corner((xi, yi), screen, px):
        xi = px + 1 if xi <= px else screen[0] - 2 - px
    return xi, yi
