"""Model inputs from the token stream: shared by the live session (runtime) and training (dataset).

numpy only. One `TickFeaturizer` turns each closed tick's tokens into a row of fixed-size arrays; the session
keeps the last CONTEXT_TICKS rows, the dataset keeps all of them. Long-term memory (clicks and keys that fell
out of the window) and frames are prepared here too, so training sees exactly what the live model sees.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from inference.actions import (
    BUTTON_START,
    DX_START,
    DY_START,
    KEY_START,
    KEYS,
    MOUSE_BINS,
    NOOP,
    SCROLL_START,
)
from inference.episodes import BUTTONS

EVENT_SLOTS = 4  # non-mouse tokens kept per tick (more are dropped; > 4 in 33 ms is rare)
MEMORY_CLICKS = 8  # long-term memory: the last clicks before the window
MEMORY_KEYS = 16  # and the last key presses before the window
MEMORY_SLOTS = MEMORY_CLICKS + MEMORY_KEYS
FRAME_SLOTS = 2  # most recent frames given to the model
GLOBAL_H, GLOBAL_W = 64, 128  # the whole screen, downscaled (2:1 so the encoder pools evenly)
CROP = 64  # full-resolution crop around the pointer
CANDIDATES = 3  # remembered click locations best aligned with the current motion, per tick
CANDIDATE_FEATURES = 4  # offset from the pointer (2), alignment (cosine), present
HISTORY_CLICKS = 64  # click locations remembered for those candidates
TICK_CONT = 12 + CANDIDATES * CANDIDATE_FEATURES
# x/W, y/H, 3 held buttons, valid, velocity (2), displacement since onset (2), since onset, rest, candidates
REST_TICKS = 8  # a movement starts after this many ticks without motion (0.27 s: the eval's 0.25 s rest)
REST_CAP = 30  # rest length saturates here (1 s): after that every idle tick looks the same
ONSET_CAP = 90  # time since onset saturates at 3 s
MEM_CONT = 4  # x/W, y/H, log(1 + age in s), valid
ZERO_BIN = MOUSE_BINS // 2


@dataclass
class TickRow:
    """One tick as the model sees it."""

    ids: np.ndarray  # (2 + EVENT_SLOTS,) int64: dx bin, dy bin, event tokens (0 = none)
    cont: np.ndarray  # (TICK_CONT,) float32
    clicks: list[tuple[int, float, float]]  # (button token, x, y) of presses in this tick


class ClickHistory:
    """Where the user clicked lately: people click the same controls again and again (in the Balabit logs
    about half of all presses land within 30 px of one of the previous 32), so these are likely targets."""

    def __init__(self) -> None:
        self.points: deque[tuple[float, float]] = deque(maxlen=HISTORY_CLICKS)

    def candidates(self, x: float, y: float, direction: tuple[float, float], scale: float) -> np.ndarray:
        """(CANDIDATES * CANDIDATE_FEATURES,) features of the remembered clicks the motion points at."""
        out = np.zeros((CANDIDATES, CANDIDATE_FEATURES), np.float32)
        norm = float(np.hypot(*direction))
        if norm < 1e-6 or not self.points:
            return out.ravel()
        rel = np.asarray(self.points, np.float64) - (x, y)  # (K, 2)
        dist = np.hypot(rel[:, 0], rel[:, 1])
        cos = (rel @ np.asarray(direction)) / (np.maximum(dist, 1e-6) * norm)
        cos[dist < 8.0] = -1.0  # the pointer is already there: that is "stay", which needs no candidate
        order = np.argsort(-cos, kind="stable")[:CANDIDATES]
        for slot, k in enumerate(order[cos[order] > 0.5]):
            out[slot] = (rel[k, 0] / scale * 5, rel[k, 1] / scale * 5, cos[k], 1.0)
        return out.ravel()


class TickFeaturizer:
    """Turns (tokens, reconstructed pointer) into TickRows, tracking held buttons and pointer kinematics.

    Kinematics are given explicitly (velocity, displacement and time since the movement's onset, rest length)
    because where a pointing movement ends is mostly a function of them; a small model learns faster with them.
    """

    def __init__(self, width: int, height: int, history: ClickHistory | None = None) -> None:
        self.width, self.height, self.scale = width, height, float(max(width, height))
        self.history = history if history is not None else ClickHistory()
        self.held = np.zeros(len(BUTTONS), dtype=np.float32)
        self.prev: tuple[float, float] | None = None
        self.onset = (0.0, 0.0)
        self.rest, self.since_onset = REST_CAP, 0

    def set_idle(self, x: float, y: float) -> None:
        """The state after a long rest at (x, y), as at the start of a training segment."""
        self.prev, self.onset = (x, y), (x, y)
        self.rest, self.since_onset = REST_CAP, 0

    def row(self, tokens: tuple[int, ...], x: float, y: float, commit: bool = True) -> TickRow:
        """The row of a tick; commit=False leaves the state as it was (for a tick still open)."""
        saved = (self.held.copy(), self.prev, self.onset, self.rest, self.since_onset)
        history_before = None if commit else list(self.history.points)
        ids = np.zeros(2 + EVENT_SLOTS, dtype=np.int64)
        ids[0] = ids[1] = ZERO_BIN
        events: list[int] = []
        clicks: list[tuple[int, float, float]] = []
        for token in tokens:
            if DX_START <= token < DY_START:
                ids[0] = token - DX_START
            elif DY_START <= token < BUTTON_START:
                ids[1] = token - DY_START
            elif token != NOOP:
                events.append(token)
                self._track(token, x, y, clicks)
        ids[2 : 2 + min(len(events), EVENT_SLOTS)] = events[:EVENT_SLOTS]
        prev = self.prev if self.prev is not None else (x, y)
        kinematics = self._kinematics(ids[0] != ZERO_BIN or ids[1] != ZERO_BIN, x, y)
        direction = (x - prev[0], y - prev[1]) if (x, y) != prev else (x - self.onset[0], y - self.onset[1])
        candidates = self.history.candidates(x, y, direction, self.scale)
        for _, click_x, click_y in clicks:
            self.history.points.append((click_x, click_y))
        cont = np.array([x / self.width, y / self.height, *self.held, 1.0, *kinematics, *candidates], np.float32)
        if history_before is not None:
            self.held, self.prev, self.onset, self.rest, self.since_onset = saved
            self.history.points.clear()
            self.history.points.extend(history_before)
        return TickRow(ids, cont, clicks)

    def _kinematics(self, moved: bool, x: float, y: float) -> tuple[float, ...]:
        prev = self.prev if self.prev is not None else (x, y)
        if moved:
            if self.rest >= REST_TICKS:
                self.onset, self.since_onset = prev, 0
            self.rest = 0
        else:
            self.rest = min(self.rest + 1, REST_CAP)
        if self.rest >= REST_TICKS:
            self.onset, self.since_onset = (x, y), 0
        else:
            self.since_onset = min(self.since_onset + 1, ONSET_CAP)
        self.prev = (x, y)
        s = self.scale
        return (
            (x - prev[0]) / s * 10, (y - prev[1]) / s * 10,  # per tick, ~1 at 5,800 px/s on 1920 px
            (x - self.onset[0]) / s * 5, (y - self.onset[1]) / s * 5,
            self.since_onset / ONSET_CAP, self.rest / REST_CAP,
        )  # fmt: skip

    def _track(self, token: int, x: float, y: float, clicks: list) -> None:
        if BUTTON_START <= token < SCROLL_START:
            button, up = divmod(token - BUTTON_START, 2)
            self.held[button] = 0.0 if up else 1.0
            if not up:
                clicks.append((token, x, y))


def idle_cont(x: float, y: float, width: int, height: int) -> np.ndarray:
    """The continuous features of a tick long into a rest at (x, y) with no button held."""
    cont = np.zeros(TICK_CONT, dtype=np.float32)
    cont[0], cont[1], cont[5], cont[11] = x / width, y / height, 1.0, 1.0
    return cont


def memory_arrays(
    clicks: list[tuple[float, int, float, float]],
    keys: list[tuple[float, int]],
    now: float,
    width: int,
    height: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Long-term memory slots from (t, token, x, y) clicks and (t, token) keys, most recent last.

    Returns ids (MEMORY_SLOTS,) int64 and cont (MEMORY_SLOTS, MEM_CONT) float32; empty slots are zero.
    """
    ids = np.zeros(MEMORY_SLOTS, dtype=np.int64)
    cont = np.zeros((MEMORY_SLOTS, MEM_CONT), dtype=np.float32)
    for slot, (t, token, x, y) in enumerate(clicks[-MEMORY_CLICKS:]):
        ids[slot] = token
        cont[slot] = (x / width, y / height, np.log1p(max(now - t, 0.0)), 1.0)
    for slot, (t, token) in enumerate(keys[-MEMORY_KEYS:], start=MEMORY_CLICKS):
        ids[slot] = token
        cont[slot] = (0.0, 0.0, np.log1p(max(now - t, 0.0)), 1.0)
    return ids, cont


def prepare_frame(frame: np.ndarray, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
    """An H x W x 3 uint8 screen -> (global view GLOBAL_H x GLOBAL_W x 3, CROP x CROP x 3 crop at the pointer).

    The crop is at full resolution, padded with black past the screen edge.
    """
    from PIL import Image

    height, width = frame.shape[:2]
    # reducing_gap: an integer box reduction first, then bilinear; 4x faster on 1080p (2.6 vs 10 ms), the same
    # function for training and the live session, so the model sees the same pixels either way
    image = Image.fromarray(frame)
    small = np.asarray(image.resize((GLOBAL_W, GLOBAL_H), Image.Resampling.BILINEAR, reducing_gap=3.0))
    crop = np.zeros((CROP, CROP, 3), dtype=np.uint8)
    left, top = int(round(x)) - CROP // 2, int(round(y)) - CROP // 2
    src_l, src_t = max(left, 0), max(top, 0)
    src_r, src_b = min(left + CROP, width), min(top + CROP, height)
    if src_r > src_l and src_b > src_t:
        crop[src_t - top : src_b - top, src_l - left : src_r - left] = frame[src_t:src_b, src_l:src_r, :3]
    return small, crop


def compose_frame(global_view: np.ndarray, crop: np.ndarray, x: float, y: float, width: int, height: int) -> np.ndarray:
    """The inverse of `prepare_frame` as far as it goes: a width x height screen from the global view stretched
    back, with the full-resolution crop pasted where it was taken. `prepare_frame` of the result at (x, y) gives
    the same crop and (up to resampling) the same global view, so a logged context frame trains like a real one.
    """
    from PIL import Image

    screen = np.array(Image.fromarray(global_view).resize((width, height), Image.Resampling.NEAREST))
    left, top = int(round(x)) - CROP // 2, int(round(y)) - CROP // 2
    dst_l, dst_t = max(left, 0), max(top, 0)
    dst_r, dst_b = min(left + CROP, width), min(top + CROP, height)
    if dst_r > dst_l and dst_b > dst_t:
        screen[dst_t:dst_b, dst_l:dst_r] = crop[dst_t - top : dst_b - top, dst_l - left : dst_r - left]
    return screen


def key_class(token: Any) -> Any:
    """Key-down token(s) (an int or an array) -> class index of the next-key head (0 = no key)."""
    return 1 + (token - KEY_START) // 2


def key_of_class(index: int) -> str | None:
    return None if index == 0 else KEYS[index - 1]


N_KEY_CLASSES = 1 + len(KEYS)
