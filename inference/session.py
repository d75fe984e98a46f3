"""A live prediction session over one user's input stream (Predictor API v2), on an ONNX model.

State is bounded: the last CONTEXT_TICKS tick rows, a few clicks and keys for long-term memory and
FRAME_SLOTS prepared frames. Each `suggest` is one model run over ~100 tokens (plus a short rollout while the
user types), so a step stays within a few milliseconds on one CPU core.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from inference import features
from inference.actions import TICK, TickEncoder, button_token, key_token, tick_of
from inference.dataset import IDLE_GAP
from inference.episodes import BUTTONS, Event
from inference.goal_features import TextSnapshot
from inference.goal_session import GoalState
from inference.predictor import DEFAULT_MIN_CONFIDENCE, Suggestion
from inference.suggestions import key_suggestion, pointer_suggestions
from inference.windows import frame_inputs, idle_rows, screen_input


class ModelSession:
    def __init__(self, predictor: Any, width: int, height: int, goal: str | None = None) -> None:
        self.predictor = predictor
        self.width, self.height, self.goal = width, height, goal
        self.context = int(predictor.config["context_ticks"])
        self.use_frames = bool(predictor.config.get("use_frames", True))
        self.encoder: TickEncoder | None = None
        self.history = features.ClickHistory()
        self.featurizer = features.TickFeaturizer(width, height, self.history)
        self.rows: deque[features.TickRow] = deque(maxlen=self.context)
        self.clicks: deque[tuple[float, int, float, float]] = deque(maxlen=features.MEMORY_CLICKS + self.context)
        self.keys: deque[tuple[float, int]] = deque(maxlen=features.MEMORY_KEYS + 4 * self.context)
        self.frames: deque[tuple[float, np.ndarray, np.ndarray]] = deque(maxlen=features.FRAME_SLOTS)
        self.pointer: tuple[float, float] | None = None  # the real pointer, from the latest event
        self.last_t = 0.0
        self.use_goals = bool(predictor.config.get("use_goals", False))
        self.goal_state = GoalState(goal)

    # ----- observing -----
    def observe_event(self, event: Event) -> None:
        t = float(event["t"])
        if self.encoder is None or t - self.last_t > IDLE_GAP:
            self._start_segment(t)
        assert self.encoder is not None
        self._append(self.encoder.close_until(tick_of(t, self.encoder.t0)))
        self._append(self.encoder.push(event))
        self.last_t = max(self.last_t, t)
        if "x" in event:
            self.pointer = (float(event["x"]), float(event["y"]))
        if event["type"] == "mouse.down":
            self.clicks.append((t, button_token(event["button"], True), float(event["x"]), float(event["y"])))
            self.goal_state.clicked((float(event["x"]), float(event["y"])))
        elif event["type"] == "key.down":
            self.keys.append((t, key_token(event["key"], True)))
            self.goal_state.key_typed(str(event["key"]))

    def set_goal(self, goal: str | None) -> None:
        """A new goal (None: no goal); the screen text keeps its embeddings, the goal's arrives with the next
        snapshot made for it (app/screen_text.py)."""
        self.goal = goal
        self.goal_state = GoalState(goal, self.goal_state.snapshot)

    def observe_text(self, snapshot: TextSnapshot) -> None:
        """The latest screen text (OCR) with embeddings, from the worker that runs off the per-frame path."""
        self.goal_state.snapshot = snapshot

    def observe_frame(self, t: float, frame: np.ndarray) -> None:
        if not self.use_frames:
            return
        x, y = self.pointer or (self.width / 2, self.height / 2)
        small, crop = features.prepare_frame(np.ascontiguousarray(frame[..., :3]), x, y)
        self.frames.append((t, small, crop))

    def _start_segment(self, t: float) -> None:
        """After an idle gap, start a fresh tick grid at t, as training cuts episodes into segments."""
        self.encoder = TickEncoder(self.width, self.height, t0=t, start=self.pointer)
        self.featurizer = features.TickFeaturizer(self.width, self.height, self.history)
        if self.pointer is not None:
            self.featurizer.set_idle(*self.pointer)
        self.rows.clear()

    def _append(self, closed: list[tuple[int, ...]]) -> None:
        assert self.encoder is not None
        x, y = self.encoder.position or (0.0, 0.0)
        for tokens in closed:
            self.rows.append(self.featurizer.row(tokens, x, y))

    # ----- predicting -----
    def model_inputs(self, t: float) -> tuple[dict[str, np.ndarray], float, tuple[float, float]]:
        """Inputs for the window ending with the tick that holds t; also that tick's end and the pointer."""
        if self.encoder is None or t - self.last_t > IDLE_GAP:
            self._start_segment(max(t, self.last_t))
        assert self.encoder is not None
        now_tick = tick_of(max(t, self.last_t), self.encoder.t0)
        self._append(self.encoder.close_until(now_tick))
        tokens, position = self.encoder.peek()
        x, y = position or (0.0, 0.0)
        rows = [*list(self.rows)[-(self.context - 1) :], self.featurizer.row(tokens, x, y, commit=False)]
        ids = np.stack([r.ids for r in rows])
        cont = np.stack([r.cont for r in rows])
        if len(rows) < self.context:
            first_x, first_y = cont[0, 0] * self.width, cont[0, 1] * self.height
            pad_ids, pad_cont = idle_rows(self.context - len(rows), first_x, first_y, self.width, self.height)
            ids, cont = np.concatenate([pad_ids, ids]), np.concatenate([pad_cont, cont])
        now = self.encoder.t0 + (now_tick + 1) * TICK
        window_start = now - self.context * TICK
        clicks = [c for c in self.clicks if c[0] < window_start]
        keys = [k for k in self.keys if k[0] < window_start]
        mem_ids, mem_cont = features.memory_arrays(clicks, keys, now, self.width, self.height)
        inputs = {"tick_ids": ids, "tick_cont": cont, "mem_ids": mem_ids, "mem_cont": mem_cont}
        frame_t = np.array([f[0] for f in self.frames])
        globals_ = np.array([f[1] for f in self.frames]) if self.frames else np.zeros((0, 1, 1, 3), np.uint8)
        crops = np.array([f[2] for f in self.frames]) if self.frames else np.zeros((0, 1, 1, 3), np.uint8)
        inputs.update(frame_inputs(frame_t, globals_, crops, window_start, now))
        inputs["screen"] = screen_input(self.width, self.height)
        if self.use_goals:
            inputs.update(self.goal_state.inputs((x, y), self.width, self.height))
        return {k: v[None] for k, v in inputs.items()}, now, (x, y)

    def suggest(self, t: float, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> list[Suggestion]:
        if self.encoder is None or self.pointer is None:
            return []
        inputs, now, _ = self.model_inputs(t)
        out = {k: v[0] for k, v in self.predictor.run(inputs).items()}
        scale = float(max(self.width, self.height))
        resting = inputs["tick_cont"][0, -1, 11] >= features.REST_TICKS / features.REST_CAP
        found = pointer_suggestions(out, self.pointer, t, now, scale, (self.width, self.height), resting)
        found.append(key_suggestion(out, inputs, t, self._rollout, min_confidence))
        if self.use_goals:
            found += self.goal_state.suggestions(out, self.pointer, t, scale, (self.width, self.height))
        shown = [s for s in found if s is not None and s.confidence >= min_confidence]
        return sorted(shown, key=lambda s: -s.confidence)

    def _rollout(self, inputs: dict[str, np.ndarray], key: str) -> tuple[dict[str, np.ndarray], dict]:
        """Append a typed key (down, up, idle) to the window as the user would, and run the model again."""
        ids, cont = inputs["tick_ids"][0], inputs["tick_cont"][0]
        x, y = cont[-1, 0] * self.width, cont[-1, 1] * self.height
        extra_ids, extra_cont = idle_rows(3, x, y, self.width, self.height)
        extra_cont[:, 2 : 2 + len(BUTTONS)] = cont[-1, 2 : 2 + len(BUTTONS)]
        extra_ids[0, 2], extra_ids[1, 2] = key_token(key, True), key_token(key, False)
        new = dict(inputs)
        new["tick_ids"] = np.concatenate([ids, extra_ids])[-self.context :][None]
        new["tick_cont"] = np.concatenate([cont, extra_cont])[-self.context :][None]
        meta = inputs["frame_meta"].copy()
        meta[..., 0] = np.where(meta[..., 0] >= 0, np.maximum(meta[..., 0] - 3, -1), -1)
        new["frame_meta"] = meta
        return new, {k: v[0] for k, v in self.predictor.run(new).items()}
