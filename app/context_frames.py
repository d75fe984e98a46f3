"""The screen frames around each shown ghost, for the log and fine-tuning (docs/store.md, docs/learning.md).

Fine-tuning learns what the user did from what the screen looked like: before a ghost (the frames the model's
step saw) and while the user then acted (the frames after it, within the tracker's 3 s correction window).
The loop only hands over references to captured frames (the capture never writes into a frame it gave out);
the store's writer thread reduces each to the model's resolution (a 128 x 64 view of the whole screen and a
64 x 64 full-resolution crop at the pointer, inference/features.prepare_frame), a few KB each. No Qt here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inference.features import FRAME_SLOTS

AFTER_S = (0.5, 1.0, 2.0)  # seconds after a ghost was shown: the frames of what the user did next
STALE_S = 2.0  # a frame fed to the model longer ago than this is not "before" the ghost any more
MAX_PENDING = 8  # ghosts still waiting for their after-frames (ghosts come and go faster than 2 s)


@dataclass(frozen=True)
class NearbyFrame:
    """A captured frame near a ghost: `offset_s` from the ghost's time, the pointer where its crop is taken."""

    offset_s: float
    pointer: tuple[float, float]
    rgb: np.ndarray = field(compare=False)


Sink = Callable[[str, list[NearbyFrame]], None]  # (suggestion id, frames): the logbook
DeniedAt = Callable[[float], bool]  # whether a frame taken at that time may show a private window


@dataclass
class _Pending:
    shown_at: float
    due: list[float]  # offsets not reached yet
    last_t: float | None = None  # the last frame taken for it: one capture frame is never logged twice


class ContextFrameCollector:
    """Called on the loop thread only: `fed` for each frame the model sees, `shown` for each new ghost, `tick`
    on every loop step with the newest captured frame."""

    def __init__(self, sink: Sink, denied_at: DeniedAt) -> None:
        self.sink, self.denied_at = sink, denied_at
        self._fed: deque[tuple[float, np.ndarray, tuple[float, float]]] = deque(maxlen=FRAME_SLOTS)
        self._pending: dict[str, _Pending] = {}

    @classmethod
    def for_parts(cls, parts: Any, denied_at: DeniedAt) -> ContextFrameCollector:
        """A collector that logs to the copilot's logbook (looked up at each call: it is set after the loop is
        built, and it is None when nothing is logged)."""

        def log(suggestion_id: str, frames: list[NearbyFrame]) -> None:
            if parts.logbook is not None:
                parts.logbook.context_frames(suggestion_id, frames)

        return cls(log, denied_at)

    def fed(self, t: float, rgb: np.ndarray, pointer: tuple[float, float] | None) -> None:
        """The model was given this frame (already checked against the privacy guard)."""
        if pointer is not None:
            self._fed.append((t, rgb, pointer))

    def shown(self, suggestion_id: str, shown_at: float) -> None:
        """A ghost appeared: log the frames its prediction was made from, and wait for the ones after it."""
        before = [
            NearbyFrame(t - shown_at, pointer, rgb)
            for t, rgb, pointer in self._fed
            if shown_at - STALE_S <= t <= shown_at and not self.denied_at(t)
        ]
        if before:
            self.sink(suggestion_id, before)
        self._pending[suggestion_id] = _Pending(shown_at, list(AFTER_S))
        while len(self._pending) > MAX_PENDING:
            del self._pending[next(iter(self._pending))]  # the oldest: its window is long over

    def tick(self, frame: Any, pointer: tuple[float, float] | None) -> None:
        """Log the newest frame for every ghost that has reached its next offset (a frame has `t` and `rgb`)."""
        if frame is None or pointer is None or not self._pending:
            return
        t = float(frame.t)
        private = self.denied_at(t)
        for suggestion_id, pending in list(self._pending.items()):
            reached = [offset for offset in pending.due if t >= pending.shown_at + offset]
            if not reached:
                continue
            pending.due = [offset for offset in pending.due if offset not in reached]
            if not private and pending.last_t != t:
                pending.last_t = t
                self.sink(suggestion_id, [NearbyFrame(t - pending.shown_at, pointer, frame.rgb)])
            if not pending.due:
                del self._pending[suggestion_id]

    def forget(self) -> None:
        """Pause, a private window or a stop: nothing captured from now on belongs to an earlier ghost."""
        self._fed.clear()
        self._pending.clear()
