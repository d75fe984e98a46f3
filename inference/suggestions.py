"""Turn the model's raw outputs into ghosts: a pointer path that lands on the predicted click, and keys."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from inference.actions import TICK, TICK_HZ
from inference.episodes import BUTTONS, Event
from inference.features import key_of_class
from inference.predictor import Suggestion

MAX_ALTERNATIVES = 2
ALTERNATIVE_MIN_PX = 40.0
MAX_GHOST_KEYS = 8
ROLLOUT_MIN_PROB = 0.3
KEY_INTERVAL = 0.12  # s between ghost keystrokes (only for drawing and replay pacing)


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def min_jerk_path(start: tuple[float, float], end: tuple[float, float], t: float, duration: float) -> list[Event]:
    """mouse.move events along a minimum-jerk trajectory, one per tick (how people move a pointer)."""
    steps = max(int(round(duration * TICK_HZ)), 1)
    events = []
    for i in range(1, steps + 1):
        s = i / steps
        blend = 10 * s**3 - 15 * s**4 + 6 * s**5
        x = start[0] + (end[0] - start[0]) * blend
        y = start[1] + (end[1] - start[1]) * blend
        events.append({"t": t + s * duration, "type": "mouse.move", "x": round(x, 1), "y": round(y, 1)})
    return events


def _click_events(
    start: tuple[float, float], point: tuple[float, float], t: float, duration: float, button: str
) -> list[Event]:
    events = min_jerk_path(start, point, t, duration)
    x, y = round(point[0], 1), round(point[1], 1)
    events.append({"t": t + duration, "type": "mouse.down", "x": x, "y": y, "button": button})
    events.append({"t": t + duration + 0.08, "type": "mouse.up", "x": x, "y": y, "button": button})
    return events


def pointer_suggestions(
    out: dict[str, np.ndarray],
    pointer: tuple[float, float],
    t: float,
    now: float,
    scale: float,
    screen: tuple[int, int],
    resting: bool = False,
) -> list[Suggestion | None]:
    """The primary click and up to MAX_ALTERNATIVES distinct alternatives, each as a path from the pointer.

    Offsets are placed from the real pointer (training measures them from there). The primary point is the
    distance-minimising estimate the metric scores, so no alternative is ever ranked above it: an alternative's
    confidence is capped at the primary's. A resting pointer's movement ends where it is (the model is trained
    on movements under way only)."""
    p_soon = _sigmoid(float(out["click_soon_logit"]))
    p_correct = _sigmoid(float(out["correct_logit"]))
    duration = max(float(np.exp(out["click_log_ticks"])) * TICK + (now - t), TICK)
    button = BUTTONS[int(np.argmax(out["button_logits"]))]

    def place(offset: np.ndarray) -> tuple[float, float]:
        x = float(np.clip(pointer[0] + offset[0] * scale, 0, screen[0] - 1))
        y = float(np.clip(pointer[1] + offset[1] * scale, 0, screen[1] - 1))
        return x, y

    primary = place(np.zeros(2) if resting else out["click_offset"])
    details = {"p_click": p_soon, "p_within_30px": p_correct, "seconds_to_click": duration}
    primary_confidence = p_soon * p_correct
    found: list[Suggestion | None] = [
        Suggestion(
            "pointer", _click_events(pointer, primary, t, duration, button), primary_confidence, primary, details
        )
    ]
    hyp_p = _softmax(out["hyp_logits"])
    taken = [primary]
    for index in np.argsort(-hyp_p) if not resting else []:
        point = place(out["hyp_offsets"][index])
        if all(np.hypot(point[0] - q[0], point[1] - q[1]) >= ALTERNATIVE_MIN_PX for q in taken):
            taken.append(point)
            confidence = min(p_soon * float(hyp_p[index]) * (1 - p_correct), primary_confidence)
            events = _click_events(pointer, point, t, duration, button)
            found.append(Suggestion("pointer", events, confidence, point, {"p_click": p_soon, "alternative": 1.0}))
        if len(taken) > MAX_ALTERNATIVES:
            break
    return found


Rollout = Callable[[dict[str, np.ndarray], str], tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]


def key_suggestion(
    out: dict[str, np.ndarray], inputs: dict[str, np.ndarray], t: float, rollout: Rollout, min_confidence: float
) -> Suggestion | None:
    """Ghost keystrokes: the next key, then more by rolling the model forward while it stays confident."""
    probs = _softmax(out["key_logits"])
    first = int(np.argmax(probs[1:])) + 1
    confidence = float(probs[first])
    key = key_of_class(first)
    if key is None or key == "other":
        return None
    keys, step_inputs = [key], inputs
    if confidence >= min_confidence and confidence >= ROLLOUT_MIN_PROB:
        while len(keys) < MAX_GHOST_KEYS:
            step_inputs, step_out = rollout(step_inputs, keys[-1])
            step_probs = _softmax(step_out["key_logits"])
            best = int(np.argmax(step_probs[1:])) + 1
            next_key = key_of_class(best)
            if next_key is None or next_key == "other" or step_probs[best] < ROLLOUT_MIN_PROB:
                break
            keys.append(next_key)
    events: list[Event] = []
    for i, k in enumerate(keys):
        events.append({"t": t + (i + 1) * KEY_INTERVAL, "type": "key.down", "key": k})
        events.append({"t": t + (i + 1) * KEY_INTERVAL + 0.05, "type": "key.up", "key": k})
    return Suggestion("keys", events, confidence, None, {"p_next_key": confidence})
