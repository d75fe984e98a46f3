"""The background worker that reads the screen's text and embeds it and the goal, off the per-frame path.

The capture loop only drops its newest frame into a one-slot mailbox (`offer_frame`, O(1), no copy); this
thread wakes, checks cheaply whether the screen changed since the last OCR (a strided thumbnail diff), runs
OCR only then (or when a goal is set or a refresh is asked), embeds new strings (cached by string) and
publishes an immutable `ScreenText`. Errors become a one-line `status`, never an exception in the caller.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from inference.goal_features import TextSnapshot, as_screen_texts, snapshot_from
from inference.goals.grounding import Goal, parse_goal, rank_boxes
from inference.goals.ocr import TextBox
from inference.goals.ocr_decode import Box

THUMB_STRIDE = 4  # every 4th pixel in both axes: 1080p -> 270x480, well under a millisecond to compare


class TextReader(Protocol):
    def read(
        self, frame: np.ndarray, previous: Sequence[TextBox] = (), changed: Box | None = None
    ) -> list[TextBox]: ...


class Embedder(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class ScreenText:
    """What is written on screen at `frame_time`, with embeddings; arrays are read-only."""

    frame_time: float  # the capture time the caller gave with the frame
    boxes: tuple[TextBox, ...]
    embeddings: np.ndarray  # (len(boxes), 384), L2-normalised
    goal: Goal | None
    goal_embedding: np.ndarray | None  # (384,) of goal.target (the phrase to find on screen)
    goal_text_embedding: np.ndarray | None  # (384,) of the whole goal sentence
    ocr_ms: float  # how long this snapshot's OCR took
    step_embeddings: np.ndarray | None = None  # (len(goal.steps), 384): "choose Export" -> "Export"
    model_input: TextSnapshot | None = None  # the same, as the goal-conditioned model reads it (words split)

    def ranked(self, step: int = 0) -> list[tuple[TextBox, float]]:
        """The boxes best first for the goal's target (step 0) or its later step `step` (goal.steps[step - 1],
        e.g. the menu item once the menu is open); empty without a goal or such a step."""
        if self.goal is None or not 0 <= step <= len(self.goal.steps):
            return []
        if step == 0:
            return rank_boxes(self.goal, self.boxes, self.embeddings, self.goal_embedding)
        goal = replace(self.goal, target=self.goal.steps[step - 1])
        vector = None if self.step_embeddings is None else self.step_embeddings[step - 1]
        return rank_boxes(goal, self.boxes, self.embeddings, vector)


def thumbnail(frame: np.ndarray) -> np.ndarray:
    """A strided grey sample of the frame: the change check's input (int16 so differences do not wrap)."""
    sample = frame[::THUMB_STRIDE, ::THUMB_STRIDE]
    total = sample[..., 0].astype(np.int16)  # channel by channel: 15x faster than .sum(axis=2) here
    total += sample[..., 1]
    total += sample[..., 2]
    return total


def screen_changed(previous: np.ndarray | None, current: np.ndarray, level: int = 24) -> bool:
    """True when the sizes differ or any sampled pixel's R+G+B moved by more than `level`."""
    if previous is None or previous.shape != current.shape:
        return True
    if np.array_equal(previous, current):  # the usual case, and the cheapest test
        return False
    return bool(np.any(np.abs(current - previous) > level))


def changed_region(previous: np.ndarray, current: np.ndarray, level: int = 24) -> Box | None:
    """The frame-pixel box around every sampled pixel that moved (grown by a stride: the change may lie
    between samples), or None if nothing did. Both thumbnails must have the same shape."""
    moved = np.abs(current - previous) > level
    rows, cols = np.flatnonzero(moved.any(axis=1)), np.flatnonzero(moved.any(axis=0))
    if rows.size == 0:
        return None
    s = THUMB_STRIDE
    return int(cols[0] - 1) * s, int(rows[0] - 1) * s, int(cols[-1] + 2) * s, int(rows[-1] + 2) * s


class ScreenTextWorker:
    """One daemon thread; `offer_frame` and `set_goal` are safe from any thread and never block on models."""

    def __init__(
        self,
        reader: TextReader,
        embedder: Embedder,
        on_update: Callable[[ScreenText], None] | None = None,
        min_interval_s: float = 0.5,
        cache_size: int = 4096,
        only_with_goal: bool = False,
        duty: float = 0.2,
    ) -> None:
        self._reader, self._embedder, self._on_update = reader, embedder, on_update
        self.min_interval_s = min_interval_s  # at most one OCR per interval: the newest frame wins
        # the live copilot reads only while a goal is set: the text tokens are there to ground goals (without
        # one they changed no measured pointer error), and a read costs ~2 s of CPU on a changed 1080p screen
        self.only_with_goal = only_with_goal
        self.duty = duty  # reads use at most this share of one core: after a read, wait duration / duty
        self._last_ocr_s = 0.0
        self._cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._slot: tuple[float, np.ndarray] | None = None  # the newest unprocessed frame only
        self._goal: Goal | None = None
        self._goal_vectors: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._goal_dirty = False
        self._force = False
        self._last_thumb: np.ndarray | None = None
        self._last_frame: tuple[float, np.ndarray] | None = None
        self._last_ocr_at = -1e9
        self._thread: threading.Thread | None = None
        self.latest: ScreenText | None = None
        self.status = "idle"
        self.ocr_runs = 0
        self.frames_skipped = 0  # frames looked at and found unchanged

    def start(self) -> ScreenTextWorker:
        self._thread = threading.Thread(target=self._run, name="screen-text", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to end and wait; an OCR in progress finishes first (~2 s, several times that on a
        busy machine). The wait matters: a process that exits while onnxruntime runs on this thread aborts."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def offer_frame(self, frame_time: float, frame: np.ndarray) -> None:
        """Hand over the newest frame (replaces any unprocessed one). The caller must not mutate it after."""
        with self._lock:
            self._slot = (frame_time, frame)
        self._wake.set()

    def set_goal(self, text: str | None) -> None:
        """A new goal (or None to clear): embedded once, and the current screen is read again at once."""
        goal = parse_goal(text) if text else None  # raises GoalError for bad text, in the caller's thread
        with self._lock:
            self._goal, self._goal_dirty, self._force = goal, True, True
        self._wake.set()

    def refresh(self) -> None:
        """Read the screen again even if it looks unchanged."""
        with self._lock:
            self._force = True
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=self.min_interval_s)
            self._wake.clear()
            if self._stop.is_set():
                break
            spacing = max(self.min_interval_s, self._last_ocr_s / self.duty)
            wait = self._last_ocr_at + spacing - time.monotonic()
            if wait > 0 and not self._force:
                self._stop.wait(wait)  # rate limit; frames arriving meanwhile replace the slot
            try:
                self._step()
            except Exception as exc:  # a model failure must not kill the thread or the copilot
                self.status = f"screen text failed: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"

    def _step(self) -> None:
        with self._lock:
            slot, self._slot = self._slot, None
            force, self._force = self._force, False
            goal, goal_dirty, self._goal_dirty = self._goal, self._goal_dirty, False
        if goal_dirty:
            self._goal_vectors = None if goal is None else self._embed_goal(goal)
        if slot is None:
            if not (force and self._last_frame is not None):
                return
            slot = self._last_frame
        if self.only_with_goal and goal is None:
            self._without_goal(slot, cleared=goal_dirty)
            return
        thumb = thumbnail(slot[1])
        if not force and not screen_changed(self._last_thumb, thumb):
            self.frames_skipped += 1
            return
        started = time.perf_counter()
        latest, previous = self.latest, self._last_thumb
        if force or latest is None or previous is None or previous.shape != thumb.shape:
            boxes = self._reader.read(slot[1])
        else:  # only the changed part of the screen is detected again
            boxes = self._reader.read(slot[1], latest.boxes, changed_region(previous, thumb))
        ocr_ms = (time.perf_counter() - started) * 1000
        self._last_ocr_s = ocr_ms / 1000
        self.ocr_runs += 1
        self._last_ocr_at = time.monotonic()
        snapshot = self._snapshot(slot[0], boxes, goal, ocr_ms)
        # the boxes and the thumbnail they were read from change together, so the next partial read is exact
        self.latest, self._last_thumb, self._last_frame = snapshot, thumb, slot
        self.status = f"{len(boxes)} text lines read in {ocr_ms:.0f} ms"
        if self._on_update is not None:
            self._on_update(snapshot)

    def _without_goal(self, slot: tuple[float, np.ndarray], cleared: bool) -> None:
        """No goal, no reading: keep the frame for the goal that may come; a cleared goal takes its text along."""
        self._last_frame, self._last_thumb = slot, None  # the next read (a goal was set) reads the whole screen
        if cleared and self.latest is not None:
            self.latest = self._snapshot(slot[0], [], None, 0.0)
            if self._on_update is not None:
                self._on_update(self.latest)

    def _embed_goal(self, goal: Goal) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(target phrase, whole sentence, later steps (S, 384)), read-only."""
        vectors = self._embed_cached([goal.target or goal.text, goal.text, *goal.steps])
        vectors.setflags(write=False)
        return vectors[0], vectors[1], vectors[2:]

    def _embed_cached(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, vector in zip(missing, self._embedder.embed(missing), strict=True):
                vector.setflags(write=False)
                self._cache[text] = vector
        out = np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)
        for text in texts:
            self._cache.move_to_end(text)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return out

    def _snapshot(self, frame_time: float, boxes: list[TextBox], goal: Goal | None, ocr_ms: float) -> ScreenText:
        embeddings = self._embed_cached([b.text for b in boxes])
        embeddings.setflags(write=False)
        vectors = self._goal_vectors
        return ScreenText(
            frame_time=frame_time,
            boxes=tuple(boxes),
            embeddings=embeddings,
            goal=goal,
            goal_embedding=None if vectors is None else vectors[0],
            goal_text_embedding=None if vectors is None else vectors[1],
            ocr_ms=round(ocr_ms, 2),
            step_embeddings=None if vectors is None else vectors[2],
            model_input=snapshot_from(
                frame_time,
                as_screen_texts(boxes),
                None if goal is None else goal.text,
                self._embed_cached,
            ),
        )


__all__ = ["Embedder", "ScreenText", "ScreenTextWorker", "TextReader", "changed_region", "screen_changed", "thumbnail"]
