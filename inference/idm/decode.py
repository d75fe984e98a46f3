"""Per-tick IDM outputs -> episode events with a confidence each (streaming, bounded lookahead).

Two ways to turn per-tick class probabilities into events are implemented and compared in docs/idm.md:
- "argmax": every tick whose most likely class is not "none" becomes an event (independent per tick);
- "peaks" (the default): a tick becomes an event when P(not none) >= threshold and it is the most likely
  event within +-PEAK_RADIUS ticks, so one change seen over two frames (a redraw, a video codec's blend)
  yields one event.
What is invisible on screen is filled in by rule and marked so by a lower confidence: a key's release
KEY_HOLD_TICKS after its press, shift around upper-case glyphs and shifted symbols, a button's release
when no release reaction was seen.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator

import numpy as np

from inference.actions import TICK_HZ
from inference.episodes import Event
from inference.idm.classes import KEY_OFFSET, NONE, PRESS, RELEASE, class_key
from inference.idm.runtime import TickResult
from inference.synthetic.user import needs_shift

PEAK_RADIUS = 2
KEY_HOLD_TICKS = 3  # ~100 ms: a typical key hold (the synthetic user's median is ~90 ms)
CLICK_HOLD_TICKS = 3
RELEASE_WINDOW = 12  # ticks after a press in which a release reaction replaces the inferred release
SPIKE_TICKS = 12  # pointer lookahead: < PEAK_RADIUS + RELEASE_WINDOW + CLICK_HOLD_TICKS (the flush lag)
SPIKE_PX = 30
INFERRED = 0.5  # confidence factor of events inferred by rule rather than seen
MODES = ("peaks", "argmax")


def _t(tick: int, offset: float) -> float:
    return round(tick / TICK_HZ + offset, 4)


class EventDecoder:
    """push(TickResult) -> events whose time is settled; finish() -> the rest. Events come out time-ordered."""

    def __init__(self, mode: str = "peaks", threshold: float = 0.5) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown decoding mode {mode!r}")
        self.mode, self.threshold = mode, threshold
        self.window: deque[TickResult] = deque(maxlen=2 * PEAK_RADIUS + 1)
        self.pending: list[tuple[float, int, Event]] = []  # heap of (t, order, event)
        self.order = 0
        self.last_xy: tuple[int, int] | None = None
        self.inferred_release: tuple[int, Event] | None = None  # (press tick, its inferred release event)
        self.here: tuple[int, int] | None = None  # the pointer at the tick being decided
        self.track: list[list] = []  # [tick, x, y, confidence] not yet emitted (the despike lookahead)

    def _emit(self, event: Event) -> None:
        heapq.heappush(self.pending, (event["t"], self.order, event))
        self.order += 1

    def _flush(self, before: float) -> list[Event]:
        out = []
        while self.pending and self.pending[0][0] < before:
            event = heapq.heappop(self.pending)[2]
            if not event.pop("cancelled", False):
                out.append(event)
        return out

    def push(self, result: TickResult) -> list[Event]:
        self._pointer(result)
        self.window.append(result)
        if len(self.window) > PEAK_RADIUS:
            self._decide(self.window[-PEAK_RADIUS - 1])
        return self._flush(_t(result.tick - PEAK_RADIUS - RELEASE_WINDOW - CLICK_HOLD_TICKS, 0.0))

    def finish(self) -> list[Event]:
        for result in list(self.window)[-PEAK_RADIUS:]:
            self._decide(result)
        self.window.clear()
        while self.track:
            self._emit_move(*self.track.pop(0))
        return self._flush(float("inf"))

    def _pointer(self, r: TickResult) -> None:
        """Buffer SPIKE_TICKS ticks of pointer positions, drop spurious excursions, emit the settled ones."""
        if np.isfinite(r.x):
            self.track.append([r.tick, int(round(r.x)), int(round(r.y)), round(float(r.pointer_confidence), 3)])
            self._despike()
        while self.track and self.track[0][0] <= r.tick - SPIKE_TICKS:
            self._emit_move(*self.track.pop(0))

    def _despike(self) -> None:
        """A jump away that lands back on the pixel it left within SPIKE_TICKS ticks is the tracker briefly
        lost (a typed glyph, a menu taken for the cursor), not a movement: the excursion is flattened."""
        if self.last_xy is None or not self.track:
            return
        ax, ay = self.last_xy

        def distance(entry: list) -> int:
            return max(abs(entry[1] - ax), abs(entry[2] - ay))

        if distance(self.track[0]) <= SPIKE_PX:
            return
        for j, entry in enumerate(self.track):
            if distance(entry) <= SPIKE_PX:
                if distance(entry) <= 2:
                    for k in range(j):
                        self.track[k][1:3] = [ax, ay]
                return

    def _emit_move(self, tick: int, x: int, y: int, conf: float) -> None:
        if (x, y) != self.last_xy:
            self._emit({"t": _t(tick, 0.001), "type": "mouse.move", "x": x, "y": y, "source": "idm",
                        "confidence": conf})  # fmt: skip
            self.last_xy = (x, y)

    def _is_event(self, r: TickResult) -> bool:
        if self.mode == "argmax":
            return int(r.probs.argmax()) != NONE
        p_event = 1.0 - float(r.probs[NONE])
        if p_event < self.threshold:
            return False
        earlier = all(1.0 - float(o.probs[NONE]) < p_event for o in self.window if o.tick < r.tick)
        return earlier and all(1.0 - float(o.probs[NONE]) <= p_event for o in self.window if o.tick > r.tick)

    def _decide(self, r: TickResult) -> None:
        if not self._is_event(r):
            return
        probs = r.probs.copy()
        probs[NONE] = 0.0
        cls = int(probs.argmax())
        conf = round(float(probs[cls]), 3)
        self.here = (int(round(r.x)), int(round(r.y))) if np.isfinite(r.x) else self.here
        if cls == PRESS:
            self._press(r.tick, conf)
        elif cls == RELEASE:
            self._release(r.tick, conf)
        elif cls >= KEY_OFFSET:
            self._key(r.tick, class_key(cls) or "", conf)

    def _position(self) -> tuple[int, int]:
        return self.here or (0, 0)

    def _press(self, tick: int, conf: float) -> None:
        """A press, with its release inferred CLICK_HOLD_TICKS later unless a release reaction replaces it."""
        x, y = self._position()
        self._emit({"t": _t(tick, 0.017), "type": "mouse.down", "x": x, "y": y, "button": "left", "source": "idm",
                    "confidence": conf})  # fmt: skip
        release = {"t": _t(tick + CLICK_HOLD_TICKS, 0.018), "type": "mouse.up", "x": x, "y": y, "button": "left",
                   "source": "idm", "confidence": round(INFERRED * conf, 3)}  # fmt: skip
        self._emit(release)
        self.inferred_release = (tick, release)

    def _release(self, tick: int, conf: float) -> None:
        """A release reaction: it replaces the inferred release of a recent press, or implies an unseen press."""
        x, y = self._position()
        recent = self.inferred_release is not None and tick - self.inferred_release[0] <= RELEASE_WINDOW
        if recent and self.inferred_release is not None:
            self.inferred_release[1]["cancelled"] = True
        else:
            self._emit({"t": _t(max(tick - CLICK_HOLD_TICKS, 0), 0.017), "type": "mouse.down", "x": x, "y": y,
                        "button": "left", "source": "idm", "confidence": round(INFERRED * conf, 3)})  # fmt: skip
        self._emit({"t": _t(tick, 0.018), "type": "mouse.up", "x": x, "y": y, "button": "left", "source": "idm",
                    "confidence": conf})  # fmt: skip
        self.inferred_release = None

    def _key(self, tick: int, key: str, conf: float) -> None:
        inferred = round(INFERRED * conf, 3)
        shifted = len(key) == 1 and needs_shift(key)
        if shifted:
            self._emit(
                {"t": _t(tick, 0.005), "type": "key.down", "key": "shift", "source": "idm", "confidence": inferred}
            )
        self._emit({"t": _t(tick, 0.017), "type": "key.down", "key": key, "source": "idm", "confidence": conf})
        self._emit({"t": _t(tick + KEY_HOLD_TICKS, 0.017), "type": "key.up", "key": key, "source": "idm",
                    "confidence": inferred})  # fmt: skip
        if shifted:
            self._emit({"t": _t(tick + KEY_HOLD_TICKS, 0.02), "type": "key.up", "key": "shift", "source": "idm",
                        "confidence": inferred})  # fmt: skip


def decode_all(results: Iterator[TickResult], mode: str = "peaks", threshold: float = 0.5) -> Iterator[Event]:
    """All events for a stream of tick results, in time order."""
    decoder = EventDecoder(mode, threshold)
    for result in results:
        yield from decoder.push(result)
    yield from decoder.finish()
